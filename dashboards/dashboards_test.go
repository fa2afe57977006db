package dashboards

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v2"

	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/okr"
)

// parseConfig loads a configuration from text.
func parseConfig(t *testing.T, text string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(text), "test.toml")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestStatusCode(t *testing.T) {
	tests := []struct {
		name   string
		metric string
		by     string
		ms     []m
		want   string
	}{
		{
			name:   "every status contributes its code while it is the current one",
			metric: "okr_objective_status", by: "objective",
			want: `max by (objective) (` +
				`(okr_objective_status{status="no_data"} == 1) * 0 or ` +
				`(okr_objective_status{status="achieved"} == 1) * 1 or ` +
				`(okr_objective_status{status="on_track"} == 1) * 2 or ` +
				`(okr_objective_status{status="at_risk"} == 1) * 3 or ` +
				`(okr_objective_status{status="off_track"} == 1) * 4 or ` +
				`(okr_objective_status{status="missed"} == 1) * 5)`,
		},
		{
			name:   "the matchers of one key result come before the status",
			metric: "okr_key_result_status", by: "objective, key_result",
			ms: []m{eq("objective", "grow"), eq("key_result", "nps")},
			want: `max by (objective, key_result) (` +
				`(okr_key_result_status{objective="grow", key_result="nps", status="no_data"} == 1) * 0 or ` +
				`(okr_key_result_status{objective="grow", key_result="nps", status="achieved"} == 1) * 1 or ` +
				`(okr_key_result_status{objective="grow", key_result="nps", status="on_track"} == 1) * 2 or ` +
				`(okr_key_result_status{objective="grow", key_result="nps", status="at_risk"} == 1) * 3 or ` +
				`(okr_key_result_status{objective="grow", key_result="nps", status="off_track"} == 1) * 4 or ` +
				`(okr_key_result_status{objective="grow", key_result="nps", status="missed"} == 1) * 5)`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := statusCode(tt.metric, tt.by, tt.ms...); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestStatusMappingsCoverEveryStatusOnce(t *testing.T) {
	names, codes := map[okr.Status]int{}, map[int]bool{}
	for _, s := range statuses {
		names[s.name]++
		if codes[s.code] {
			t.Errorf("code %d is used twice", s.code)
		}
		codes[s.code] = true
	}
	for _, s := range okr.Statuses {
		if names[s] != 1 {
			t.Errorf("status %s is mapped %d times, want once", s, names[s])
		}
	}
	if len(statuses) != len(okr.Statuses) {
		t.Errorf("%d statuses mapped, okrd has %d", len(statuses), len(okr.Statuses))
	}
}

// term is a stand-in for a per-key-result figure, so that the expected
// strings show the structure of the weighted mean.
func term(ms ...m) string { return sel("x", ms...) }

func TestWeightedMean(t *testing.T) {
	objectives := func(weights ...string) string {
		// One objective per argument; each argument lists the weights of
		// its key results, "-" for the default.
		var b strings.Builder
		for i, ws := range weights {
			fmt.Fprintf(&b, "[[objectives]]\nid = \"o%d\"\ntitle = \"O\"\nperiod = \"2026-Q4\"\n", i+1)
			for j, w := range strings.Split(ws, ",") {
				fmt.Fprintf(&b, "  [[objectives.key_results]]\n  id = \"k%d\"\n  title = \"K\"\n  baseline = 0\n  target = 1\n", j+1)
				if w != "-" {
					fmt.Fprintf(&b, "  weight = %s\n", w)
				}
			}
		}
		return b.String()
	}
	tests := []struct {
		name    string
		weights []string
		want    string
	}{
		{
			name:    "key results of the default weight make a plain average",
			weights: []string{"-,-"},
			want:    `avg by (objective) (x{objective="o1"})`,
		},
		{
			name:    "objectives with equal weights share one average",
			weights: []string{"2,2", "-"},
			want:    `avg by (objective) (x{objective=~"o1|o2"})`,
		},
		{
			// (3·k1 + 1·k2) / 4
			name:    "unequal weights make a weighted sum over the total",
			weights: []string{"3,1"},
			want:    `sum by (objective) ((x{objective="o1", key_result="k1"}) * 3 or (x{objective="o1", key_result="k2"}) * 1) / 4`,
		},
		{
			// k2 weighs 0: (2·k1 + 0.5·k3) / 2.5
			name:    "a key result of weight 0 is left out of the mean",
			weights: []string{"2,0,0.5"},
			want:    `sum by (objective) ((x{objective="o1", key_result="k1"}) * 2 or (x{objective="o1", key_result="k3"}) * 0.5) / 2.5`,
		},
		{
			name:    "uniform and weighted objectives are joined with or, the average first",
			weights: []string{"1,2", "-", "-,-"},
			want: `(avg by (objective) (x{objective=~"o2|o3"})) or ` +
				`(sum by (objective) ((x{objective="o1", key_result="k1"}) * 1 or (x{objective="o1", key_result="k2"}) * 2) / 3)`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := parseConfig(t, objectives(tt.weights...))
			if got := weightedMean(cfg.Objectives, term); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
	t.Run("without objectives there is nothing to average", func(t *testing.T) {
		if got := weightedMean(nil, term); got != "" {
			t.Errorf("got %q", got)
		}
	})
}

func TestWeightsFollowTheRollUp(t *testing.T) {
	tests := []struct {
		name    string
		weights []float64
		want    []float64
	}{
		{"positive weights stay", []float64{3, 1}, []float64{3, 1}},
		{"a zero weight stays out", []float64{2, 0}, []float64{2, 0}},
		{"all zero: all weigh the same", []float64{0, 0}, []float64{1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &config.Objective{}
			for i, w := range tt.weights {
				kr := &config.KeyResult{ID: fmt.Sprintf("k%d", i)}
				kr.Engine.Weight = w
				o.KeyResults = append(o.KeyResults, kr)
			}
			got := weights(o)
			for i := range tt.want {
				if got[i].weight != tt.want[i] {
					t.Errorf("weights = %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestTrajectoriesReadTheLatestSampleWithinAGridStep(t *testing.T) {
	tests := []struct {
		name string
		step string // [history] step; "" for the default
		want string
	}{
		// A day and an hour: the day daylight saving time ends lasts 25 hours.
		{"the default daily grid", "", `last_over_time(okr_key_result_value{objective="o"}[25h])`},
		{"a daily grid given", `"1d"`, `last_over_time(okr_key_result_value{objective="o"}[25h])`},
		{"a grid of six hours", `"6h"`, `last_over_time(okr_key_result_value{objective="o"}[7h])`},
		{"a grid of twelve hours", `"12h"`, `last_over_time(okr_key_result_value{objective="o"}[13h])`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := "[[objectives]]\nid = \"o\"\ntitle = \"O\"\nperiod = \"2026-Q4\"\n" +
				"  [[objectives.key_results]]\n  id = \"k\"\n  title = \"K\"\n  baseline = 0\n  target = 10\n"
			if tt.step != "" {
				text = "[history]\nstep = " + tt.step + "\n" + text
			}
			cfg := parseConfig(t, text)
			if got := trajectory(cfg).sel("okr_key_result_value", eq("objective", "o")); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
	if got := instant.sel("okr_key_result_value", eq("objective", "o")); got != `okr_key_result_value{objective="o"}` {
		t.Errorf("an instant query reads %s", got)
	}
	if got := promDuration(48 * time.Hour); got != "2d" {
		t.Errorf("48h renders as %s", got)
	}
}

func TestEveryRangeQueryOfTheOKRAndDeliveryDashboardsReadsTrajectories(t *testing.T) {
	// Every selector of a time-series panel, filters included, reads the
	// latest sample within a grid step, so that backfilled daily samples
	// draw a line; the figures now (instant queries) read plain selectors.
	cfg := parseConfig(t, "[[objectives]]\nid = \"o\"\ntitle = \"O\"\nperiod = \"2026-Q4\"\n"+
		"  [[objectives.key_results]]\n  id = \"k\"\n  title = \"K\"\n  baseline = 0\n  target = 10\n"+
		"  [[objectives.key_results]]\n  id = \"b\"\n  title = \"B\"\n  min = 0\n  max = 10\n")
	ds, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	selector := regexp.MustCompile(`(last_over_time\()?\b((okr|okrd_github|okrd_jira)_[a-z_]+)(\{[^}]*\})?(\[[0-9a-z]+\])?`)
	ranges := 0
	for _, q := range queriesOf(t, ds[0], ds[1]) {
		for _, m := range selector.FindAllStringSubmatch(q.Expr, -1) {
			wrapped := m[1] != "" && m[5] == "[25h]"
			if !q.Instant && !wrapped {
				t.Errorf("%s: the range query reads %s without last_over_time(...[25h]):\n%s", q, m[2], q.Expr)
			}
			if q.Instant && m[1] != "" {
				t.Errorf("%s: the instant query reads %s over a range:\n%s", q, m[2], q.Expr)
			}
		}
		if !q.Instant {
			ranges++
		}
	}
	if ranges < 20 {
		t.Fatalf("only %d range queries", ranges)
	}
}

func TestSelectorsQuoteValues(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"a plain value", sel("m", eq("a", "b")), `m{a="b"}`},
		{"quotes and backslashes are escaped", sel("m", eq("a", `say "hi" \o/`)), `m{a="say \"hi\" \\o/"}`},
		{"no matchers, no braces", sel("m"), "m"},
		{"regex alternatives are literal", anyOf("a.b", "c-d"), `a\.b|c-d`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %s, want %s", tt.got, tt.want)
			}
		})
	}
}

func TestKeyResultUnits(t *testing.T) {
	tests := []struct {
		unit, currency, want string
	}{
		{"", "", "short"},
		{"count", "", "short"},
		{"ratio", "", "percentunit"},
		{"percent", "", "percent"},
		{"duration", "", "s"},
		{"currency", "EUR", "currencyEUR"},
		{"currency", "NZD", "suffix: NZD"},
	}
	for _, tt := range tests {
		t.Run(tt.unit+" "+tt.currency, func(t *testing.T) {
			if got := krUnit(&config.KeyResult{Unit: tt.unit, Currency: tt.currency}); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestOverviewCoversThePeriodToDate(t *testing.T) {
	objective := func(id, period string) string {
		return fmt.Sprintf("[[objectives]]\nid = %q\ntitle = \"O\"\n%s\n"+
			"  [[objectives.key_results]]\n  id = \"k\"\n  title = \"K\"\n  baseline = 0\n  target = 1\n", id, period)
	}
	// 15 November 2026, a Sunday, in the fourth calendar quarter.
	at := time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		global     string
		objectives []string
		from       string
		fiscal     int // the dashboard's fiscalYearStartMonth, 0-based
	}{
		{"current quarters: Grafana's fiscal quarter", "", []string{`period = "current-quarter"`, `period = "current-quarter"`}, "now/fQ", 0},
		{"a fiscal year from April", "fiscal_year_start_month = 4\n", []string{`period = "current-quarter"`}, "now/fQ", 3},
		{"a current month", "", []string{`period = "current-month"`}, "now/M", 0},
		{"a current year and quarter: the year", "", []string{`period = "current-quarter"`, `period = "current-year"`}, "now/fy", 0},
		{"current weeks", "", []string{`period = "current-week"`}, "now/w", 0},
		// A week can start in the month before: the earliest start, absolute.
		{"a current week and month: absolute", "", []string{`period = "current-week"`, `period = "current-month"`}, "2026-11-01T00:00:00.000Z", 0},
		// Grafana has no half year.
		{"a current half: absolute", "", []string{`period = "current-half"`}, "2026-07-01T00:00:00.000Z", 0},
		// A fixed period stays where it is, also once it is over.
		{"fixed periods: the earliest start", "", []string{`period = "2026-Q4"`, `period = "2026-11"`}, "2026-10-01T00:00:00.000Z", 0},
		{"a fixed and a relative period: absolute", "", []string{`period = "current-quarter"`, "start = 2026-08-15\nend = 2026-12-31"}, "2026-08-15T00:00:00.000Z", 0},
		// Midnight in Berlin (CEST, UTC+2) is 22:00 UTC the day before.
		{"in the configured time zone", "time_zone = \"Europe/Berlin\"\n", []string{`period = "2026-Q4"`}, "2026-09-30T22:00:00.000Z", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := "[global]\n" + tt.global
			for i, o := range tt.objectives {
				text += objective(fmt.Sprintf("o%d", i), o)
			}
			path := filepath.Join(t.TempDir(), "okrd.toml")
			if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := config.LoadAt(path, at)
			if err != nil {
				t.Fatal(err)
			}
			ds, err := Generate(cfg)
			if err != nil {
				t.Fatal(err)
			}
			var jd struct {
				Time                 struct{ From, To string }
				FiscalYearStartMonth int
				WeekStart            string
			}
			if err := json.Unmarshal(ds[0].JSON, &jd); err != nil {
				t.Fatal(err)
			}
			if jd.Time.From != tt.from || jd.Time.To != "now" {
				t.Errorf("time %s to %s, want %s to now", jd.Time.From, jd.Time.To, tt.from)
			}
			if jd.FiscalYearStartMonth != tt.fiscal || jd.WeekStart != "monday" {
				t.Errorf("fiscal year from month %d (0-based), weeks from %q; want %d and monday", jd.FiscalYearStartMonth, jd.WeekStart, tt.fiscal)
			}
		})
	}
	t.Run("no objectives: the last 90 days", func(t *testing.T) {
		if from, to := timeRange(&config.Config{}); from != "now-90d" || to != "now" {
			t.Errorf("time %s to %s", from, to)
		}
	})
	t.Run("the example's time zone", func(t *testing.T) {
		ds, err := Generate(exampleConfig(t))
		if err != nil {
			t.Fatal(err)
		}
		var jd struct {
			Time     struct{ From, To string }
			Timezone string
		}
		if err := json.Unmarshal(ds[0].JSON, &jd); err != nil {
			t.Fatal(err)
		}
		if jd.Time.From != "now/fQ" || jd.Time.To != "now" || jd.Timezone != "Europe/Berlin" {
			t.Errorf("time %s to %s in %s", jd.Time.From, jd.Time.To, jd.Timezone)
		}
	})
}

func TestObjectiveVariableRegex(t *testing.T) {
	re, err := grafanaRegex(objectiveRegex)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		metric map[string]string
		want   variableOption
	}{
		{"a plain title", map[string]string{"name": "Grow revenue (2026-Q4)", "objective": "grow"},
			variableOption{"Grow revenue (2026-Q4)", "grow"}},
		{"quotes, commas and braces in the title", map[string]string{"name": `Say "hi", {loud} (2026)`, "objective": "say_hi-2"},
			variableOption{`Say "hi", {loud} (2026)`, "say_hi-2"}},
		{"a title that looks like the objective label", map[string]string{"name": `x",objective="y (2026)`, "objective": "z"},
			variableOption{`x",objective="y (2026)`, "z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := queryResultLine(tt.metric, "1", 1763200000.123)
			got := applyRegex(re, []string{line})
			if len(got) != 1 || got[0] != tt.want {
				t.Errorf("%s: options %+v, want %+v", line, got, tt.want)
			}
		})
	}
	if line := queryResultLine(map[string]string{"objective": "o", "name": "N"}, "1", 2); line != `{name="N",objective="o"} 1 2000` {
		t.Errorf("line %s", line)
	}
}

// TestDashboardsAreWellFormed checks what Grafana relies on and what the
// issue asks of every panel, on the dashboards of config.example.toml.
func TestDashboardsAreWellFormed(t *testing.T) {
	cfg := exampleConfig(t)
	ds, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := []string{ds[0].UID, ds[1].UID, ds[2].UID}; strings.Join(got, ",") != "okrd-okr-overview,okrd-delivery,okrd-health" {
		t.Errorf("uids %v", got)
	}
	for _, d := range ds {
		jd := decodeDashboard(t, d)
		t.Run(d.UID, func(t *testing.T) {
			ids := map[int]bool{}
			for _, p := range allPanels(jd) {
				if ids[p.ID] || p.ID == 0 {
					t.Errorf("panel %q: id %d is zero or not unique", p.Title, p.ID)
				}
				ids[p.ID] = true
				if p.Type == "row" {
					continue
				}
				if p.Datasource == nil || p.Datasource.UID != "${datasource}" || p.Datasource.Type != "prometheus" {
					t.Errorf("panel %q does not query the $datasource variable", p.Title)
				}
				if len(p.Targets) == 0 {
					t.Errorf("panel %q has no query", p.Title)
				}
				refs := map[string]bool{}
				for _, tg := range p.Targets {
					if tg.RefID == "" || refs[tg.RefID] {
						t.Errorf("panel %q: refId %q is empty or not unique", p.Title, tg.RefID)
					}
					refs[tg.RefID] = true
					if tg.Instant == tg.Range {
						t.Errorf("panel %q query %s: want exactly one of instant and range", p.Title, tg.RefID)
					}
				}
			}
			// Every panel fits the 24 columns and none overlaps another.
			ps := allPanels(jd)
			for i, p := range ps {
				g := p.GridPos
				if g.W <= 0 || g.H <= 0 || g.X < 0 || g.X+g.W > fullWidth {
					t.Errorf("panel %q: grid position %+v is off the grid", p.Title, g)
				}
				for _, q := range ps[:i] {
					o := q.GridPos
					if g.X < o.X+o.W && o.X < g.X+g.W && g.Y < o.Y+o.H && o.Y < g.Y+g.H {
						t.Errorf("panels %q %+v and %q %+v overlap", q.Title, o, p.Title, g)
					}
				}
			}
			vars := map[string]bool{}
			for _, v := range variablesOf(t, d) {
				vars[v.Name] = true
			}
			if !vars[varDatasource] {
				t.Error("no datasource variable")
			}
			for _, q := range queriesOf(t, d) {
				for _, ref := range varRef.FindAllStringSubmatch(q.Expr, -1) {
					if name := ref[1]; !vars[name] && builtinValues[name] == "" {
						t.Errorf("%s uses $%s, which the dashboard does not define", q, name)
					}
				}
			}
		})
	}

	t.Run("the overview repeats one row by the objective variable", func(t *testing.T) {
		jd := decodeDashboard(t, ds[0])
		var rows []jsonPanel
		for _, p := range jd.Panels {
			if p.Type == "row" {
				rows = append(rows, p)
			}
		}
		if len(rows) != 1 {
			t.Fatalf("%d rows, want 1", len(rows))
		}
		r := rows[0]
		if r.Repeat != varObjective || r.Collapsed || len(r.Panels) != 0 || r.Title != "${objective:text}" {
			t.Errorf("row %q: repeat %q, collapsed %v, %d panels of its own; want repeated by objective, expanded, its panels after it",
				r.Title, r.Repeat, r.Collapsed, len(r.Panels))
		}
		inRow := repeatedRows(jd)[r.Title]
		var titles []string
		for _, p := range inRow {
			titles = append(titles, p.Title)
		}
		if got, want := strings.Join(titles, "|"), "Objective|Status|Progress against expected|Key results|Value now|Key results against expected"; got != want {
			t.Errorf("row panels %s, want %s", got, want)
		}
		for _, q := range queriesOfPanels(jd.UID, inRow) {
			if !strings.Contains(q.Expr, `objective=~"$objective"`) {
				t.Errorf("%s does not select $objective: %s", q, q.Expr)
			}
		}
		for _, v := range jd.Templating.List {
			if v.Name == varObjective && !(v.IncludeAll && v.AllValue == ".*") {
				t.Errorf("the objective variable has includeAll %v, allValue %q", v.IncludeAll, v.AllValue)
			}
		}
	})

	t.Run("a row runs the same queries whatever its number of key results", func(t *testing.T) {
		// One objective of one key result, and one of six, two of them bands.
		text := "[[objectives]]\nid = \"a\"\ntitle = \"A\"\nperiod = \"2026-Q4\"\n" +
			"  [[objectives.key_results]]\n  id = \"k\"\n  title = \"K\"\n  baseline = 0\n  target = 1\n"
		one := parseConfig(t, text)
		text += "[[objectives]]\nid = \"b\"\ntitle = \"B\"\nperiod = \"2026-Q4\"\n"
		for i := range 6 {
			text += fmt.Sprintf("  [[objectives.key_results]]\n  id = \"k%d\"\n  title = \"K%d\"\n", i, i)
			if i < 2 {
				text += "  min = 0\n  max = 1\n"
			} else {
				text += fmt.Sprintf("  baseline = 0\n  target = 1\n  weight = %d\n", i)
			}
		}
		many := parseConfig(t, text)
		count := func(cfg *config.Config) int {
			ds, err := Generate(cfg)
			if err != nil {
				t.Fatal(err)
			}
			jd := decodeDashboard(t, ds[0])
			n := 0
			for _, ps := range repeatedRows(jd) {
				n += len(queriesOfPanels(jd.UID, ps))
			}
			return n
		}
		// Objective: progress, expected, forecast, score; status; progress
		// and expected over time. Key results: the table's info, progress,
		// expected, forecast, status and updated; the values; progress and
		// expected over time. 4 + 1 + 2 + 6 + 1 + 2 = 16.
		if a, b := count(one), count(many); a != 16 || b != 16 {
			t.Errorf("a row runs %d queries for one key result and %d for six, want 16 for both", a, b)
		}
	})

	t.Run("the values are shown in each key result's unit", func(t *testing.T) {
		var jd struct {
			Panels []struct {
				Title       string
				FieldConfig struct {
					Overrides []struct {
						Matcher    struct{ ID, Options string }
						Properties []struct {
							ID    string
							Value any
						}
					}
				}
			}
		}
		if err := json.Unmarshal(ds[0].JSON, &jd); err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, p := range jd.Panels {
			if p.Title != "Value now" {
				continue
			}
			for _, o := range p.FieldConfig.Overrides {
				for _, pr := range o.Properties {
					if o.Matcher.ID == "byName" && pr.ID == "unit" {
						got[o.Matcher.Options], _ = pr.Value.(string)
					}
				}
			}
		}
		// config.example.toml's key results that are not counts.
		want := map[string]string{
			"Checkout completion rate from 62% to 75%":   "percent",
			"Keep checkout p95 latency under 300 ms":     "s",
			"95% of pages acknowledged within 5 minutes": "percentunit",
			"Self-serve ARR from 1.2M to 1.5M EUR":       "currencyEUR",
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("unit overrides %v, want %v", got, want)
		}
	})

	t.Run("every overview query is filtered by team, owner and objective", func(t *testing.T) {
		for _, q := range queriesOf(t, ds[0]) {
			for _, v := range []string{"$team", "$owner", "$objective"} {
				if !strings.Contains(q.Expr, v) {
					t.Errorf("%s does not use %s: %s", q, v, q.Expr)
				}
			}
		}
	})

	t.Run("every delivery query is filtered by source", func(t *testing.T) {
		for _, q := range queriesOf(t, ds[1]) {
			if !strings.Contains(q.Expr, `source=~"$source"`) {
				t.Errorf("%s does not use $source: %s", q, q.Expr)
			}
		}
	})
}

func TestProvisioningExamples(t *testing.T) {
	var ds struct {
		APIVersion  int `yaml:"apiVersion"`
		Datasources []struct {
			Name, Type, UID, URL, Access string
		} `yaml:"datasources"`
	}
	readYAML(t, filepath.Join("provisioning", "datasource.yaml"), &ds)
	if ds.APIVersion != 1 || len(ds.Datasources) != 1 || ds.Datasources[0].Type != "prometheus" || ds.Datasources[0].URL == "" {
		t.Errorf("datasource.yaml: %+v", ds)
	}
	var dp struct {
		APIVersion int `yaml:"apiVersion"`
		Providers  []struct {
			Name, Type, Folder string
			Options            struct{ Path string }
		} `yaml:"providers"`
	}
	readYAML(t, filepath.Join("provisioning", "dashboards.yaml"), &dp)
	if dp.APIVersion != 1 || len(dp.Providers) != 1 || dp.Providers[0].Type != "file" || dp.Providers[0].Options.Path == "" {
		t.Errorf("dashboards.yaml: %+v", dp)
	}
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
