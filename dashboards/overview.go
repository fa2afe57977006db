package dashboards

import (
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/okr"
)

// overview is the OKR dashboard for leadership: a summary and a table of
// every objective (progress against expected, status, forecast, score),
// then a row per objective of the configuration with its key results
// (value against target, progress against expected, status, and the
// trajectory over the period with the expected line).
func overview(cfg *config.Config) *dashboard.DashboardBuilder {
	objs := cfg.Objectives
	from, to := timeRange(cfg)
	b := newDashboard(OverviewUID, "OKR overview",
		"Objectives and key results measured by okrd: progress against where they should be by now, status, forecast and score.").
		Timezone(timezone(cfg)).Time(from, to).
		// Grafana's fiscal quarters and years (now/fQ) and weeks (now/w)
		// as okrd counts them: fiscal years from the configured month, ISO
		// weeks from Monday.
		FiscalYearStartMonth(uint8(fiscalStart(cfg) - 1)).WeekStart("monday")
	// The filters list the values of both info series: a key result may
	// have its own team and owner.
	infos := re("__name__", "okr_objective_info|okr_key_result_info")
	b = b.
		WithVariable(labelVariable(varTeam, "Team", "Teams of the objectives and key results.",
			sel("", infos), "team")).
		WithVariable(labelVariable(varOwner, "Owner", "Owners of the objectives and key results.",
			sel("", infos, re("team", "$"+varTeam)), "owner")).
		WithVariable(objectiveVariable(sel("", infos, re("team", "$"+varTeam), re("owner", "$"+varOwner))))

	b = b.Annotation(initiativeAnnotation())

	b = summaryPanels(b)
	tr := trajectory(cfg)
	b = b.WithPanel(objectivesTable(objs)).WithPanel(objectiveProgressPanel(tr))
	return objectiveRow(b, tr, objs)
}

// objectiveVariable lists the objectives that have an info series
// matching filter (those of the team and owner chosen), by id, shown as
// "title (period)". Prometheus's label values cannot pair an id with a
// title, so the variable runs a query (query_result) whose series carry
// both, and Grafana's regex takes the shown text and the value from each
// line, which Grafana writes as {name="...",objective="..."} 1 <time>
// (labels in Prometheus's order, sorted by name). The row title of the
// repeated row is that text.
func objectiveVariable(filter string) *dashboard.QueryVariableBuilder {
	info := "topk by (objective) (1, max by (objective, title, period) (okr_objective_info))"
	// label_join(title, " (", period, ")") through two constant labels:
	// label_replace with an empty source and regex sets a constant.
	named := `label_join(label_replace(label_replace(` + info + `, "open", " (", "", ""), "close", ")", "", ""), "name", "", "title", "open", "period", "close")`
	q := "query_result(max by (name, objective) (" + named + ") and on (objective) " + filter + ")"
	return dashboard.NewQueryVariableBuilder(varObjective).Label("Objective").
		Description("Objectives of the teams and owners chosen; each one chosen gets its row.").
		Datasource(datasource).Query(dashboard.StringOrMap{String: ptr(q)}).Definition(q).
		Regex(objectiveRegex).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).Sort(dashboard.VariableSortAlphabeticalCaseInsensitiveAsc).
		Multi(true).IncludeAll(true).AllValue(".*").
		Current(dashboard.VariableOption{
			Selected: ptr(true),
			Text:     dashboard.StringOrArrayOfString{ArrayOfString: []string{"All"}},
			Value:    dashboard.StringOrArrayOfString{ArrayOfString: []string{"$__all"}},
		})
}

// objectiveRegex takes the text (name) and value (objective id) out of a
// line of objectiveVariable's query_result. Ids never hold a quote; the
// text is everything up to the last `",objective="`.
const objectiveRegex = `/\{name="(?<text>.*)",objective="(?<value>[^"]*)"\}/`

// timezone is the dashboard's time zone: the configuration's, so that the
// period boundaries fall on midnight as okrd computes them.
func timezone(cfg *config.Config) string {
	if cfg.Global.TimeZone == "" || cfg.Global.TimeZone == "UTC" {
		return "utc"
	}
	return cfg.Global.TimeZone
}

// fiscalStart is the configured first month of the fiscal year, 1..12.
func fiscalStart(cfg *config.Config) int {
	if m := cfg.Global.FiscalYearStartMonth; m >= 1 && m <= 12 {
		return m
	}
	return 1
}

// relativeStarts are Grafana's relative times for the start of okrd's
// relative periods, ranked by how much they span: a fiscal quarter holds
// whole calendar months and a fiscal year whole fiscal quarters, so the
// widest of them starts first. Grafana has no half year; a week can
// start in the month before.
var relativeStarts = map[string]struct {
	from string
	rank int
}{
	okr.CurrentMonth:   {"now/M", 1},
	okr.CurrentQuarter: {"now/fQ", 2},
	okr.CurrentYear:    {"now/fy", 3},
}

// timeRange is the overview's default time range: the period to date,
// from the start of the earliest period of the objectives to now. The
// figures now (stats, gauges, tables) are instant queries at the end of
// the time range, so it ends now; the trajectories start at the period
// start. When every objective's period is relative ("current-quarter"),
// the start is Grafana's relative one (now/fQ), so that the dashboard
// moves on with the period, as okrd does; otherwise it is the earliest
// start, an absolute time.
func timeRange(cfg *config.Config) (from, to string) {
	objs := cfg.Objectives
	if len(objs) == 0 {
		return "now-90d", "now"
	}
	relative, weeks, rank := true, 0, 0
	var start time.Time
	for _, o := range objs {
		if start.IsZero() || o.Resolved.Start.Before(start) {
			start = o.Resolved.Start
		}
		if o.Period == okr.CurrentWeek {
			weeks++
			continue
		}
		r, ok := relativeStarts[o.Period]
		if !ok {
			relative = false
			continue
		}
		if r.rank > rank {
			rank, from = r.rank, r.from
		}
	}
	switch {
	case relative && weeks == len(objs):
		return "now/w", "now"
	case relative && weeks == 0:
		return from, "now"
	}
	const grafanaTime = "2006-01-02T15:04:05.000Z"
	return start.UTC().Format(grafanaTime), "now"
}

// summaryPanels are the counts at the top: objectives and key results by
// status, stale key results, and the time left.
func summaryPanels(b *dashboard.DashboardBuilder) *dashboard.DashboardBuilder {
	objByStatus := newStat("Objectives by status", "How many objectives are in each status.", 8, 5).
		TextMode(common.BigValueTextModeValueAndName).Unit("none").
		WithTarget(instantQuery("A", "count by (status) ("+instant.forObjectives("max by (objective, status) (okr_objective_status) == 1")+")", "{{status}}"))
	krByStatus := newStat("Key results by status", "How many key results are in each status.", 8, 5).
		TextMode(common.BigValueTextModeValueAndName).Unit("none").
		WithTarget(instantQuery("A", "count by (status) ("+instant.forKeyResults("max by (objective, key_result, status) (okr_key_result_status) == 1")+")", "{{status}}"))
	for _, s := range statuses {
		objByStatus = objByStatus.OverrideByName(string(s.name), []dashboard.DynamicConfigValue{displayName(s.text), fixedColor(s.color)})
		krByStatus = krByStatus.OverrideByName(string(s.name), []dashboard.DynamicConfigValue{displayName(s.text), fixedColor(s.color)})
	}
	stale := newStat("Stale key results",
		"Key results whose value is older than their stale_after: their status is no_data until a new value arrives.", 4, 5).
		Unit("none").ColorScheme(dashboard.NewFieldColorBuilder().Mode(dashboard.FieldColorModeIdThresholds)).
		Thresholds(thresholds("green", step{1, "orange"})).
		WithTarget(instantQuery("A", "sum("+instant.forKeyResults("max by (objective, key_result) (okr_key_result_stale)")+")", "Stale"))
	left := newStat("Time left in the period",
		"Until the end of the latest period of the objectives shown.", 4, 5).
		Unit("dtdurations").ColorScheme(fixedScheme("text")).
		WithTarget(instantQuery("A", "clamp_min(max("+instant.forObjectives("max by (objective) (okr_objective_period_end_timestamp_seconds)")+") - time(), 0)", "Left"))
	return b.WithPanel(objByStatus).WithPanel(krByStatus).WithPanel(stale).WithPanel(left)
}

// objectivesTable lists every objective that passes the filters, one row
// each, by joining instant queries on the objective label.
func objectivesTable(objs []*config.Objective) *table.PanelBuilder {
	h := uint32(4 + len(objs))
	if h < 6 {
		h = 6
	}
	t := newTable("Objectives",
		"Progress is the weighted mean of the key results' progress; expected is where it should be by now; "+
			"forecast is where the key results' trends land at the period end; the score is the final grade once the period is over.",
		fullWidth, h).
		WithTarget(tableQuery("info", "max by (objective, title, team, owner, period) ("+instant.objectiveFilter()+")")).
		WithTarget(tableQuery("progress", instant.forObjectives("max by (objective) (okr_objective_progress_ratio)"))).
		WithTarget(tableQuery("status", instant.forObjectives(statusCode("okr_objective_status", "objective"))))
	if e := weightedMean(objs, instant.expectedTerm); e != "" {
		t = t.WithTarget(tableQuery("expected", instant.forObjectives(e)))
	}
	if f := weightedMean(objs, instant.forecastTerm); f != "" {
		t = t.WithTarget(tableQuery("forecast", instant.forObjectives(f)))
	}
	t = t.WithTarget(tableQuery("score", instant.forObjectives("max by (objective) (okr_objective_score)")))

	columns := []string{"title", "team", "owner", "period", "Value #progress", "Value #expected", "Value #status", "Value #forecast", "Value #score", "objective"}
	index := map[string]any{}
	for i, c := range columns {
		index[c] = i
	}
	t = t.Transformations([]dashboard.DataTransformerConfig{
		{Id: "merge", Options: map[string]any{}},
		{Id: "organize", Options: map[string]any{
			"excludeByName": map[string]any{"Time": true, "Value #info": true},
			"indexByName":   index,
			"renameByName": map[string]any{
				"title": "Objective", "team": "Team", "owner": "Owner", "period": "Period",
				"Value #progress": "Progress", "Value #expected": "Expected", "Value #status": "Status",
				"Value #forecast": "Forecast", "Value #score": "Score", "objective": "Id",
			},
		}},
	}).SortBy([]cog.Builder[common.TableSortByFieldState]{
		common.NewTableSortByFieldStateBuilder().DisplayName("Status").Desc(true),
	})
	// ratio returns a new slice each time: the overrides keep theirs.
	ratio := func(more ...dashboard.DynamicConfigValue) []dashboard.DynamicConfigValue {
		return append([]dashboard.DynamicConfigValue{unit("percentunit"), prop("min", 0), prop("max", 1)}, more...)
	}
	t = t.OverrideByName("Progress", ratio(cellType("gauge"), fixedColor("blue"))).
		OverrideByName("Expected", ratio(cellType("auto"))).
		OverrideByName("Forecast", ratio(cellType("auto"))).
		OverrideByName("Status", []dashboard.DynamicConfigValue{mappingsProp(statusMappings()), cellType("color-text")}).
		OverrideByName("Score", []dashboard.DynamicConfigValue{
			prop("decimals", 1), cellType("color-text"),
			thresholdsProp(thresholdsConfig("red", step{0.4, "orange"}, step{0.7, "green"})),
			prop("color", map[string]any{"mode": "thresholds"}),
		})
	return t
}

// objectiveProgressPanel draws every objective's progress, named by title.
// The title comes from one info series per objective (topk): over the
// trajectory's window an objective whose title changed has two, which
// would break the join.
func objectiveProgressPanel(tr reader) *timeseries.PanelBuilder {
	return newTimeseries("Objective progress", "Each objective's progress over time.", fullWidth, 8).
		Unit("percentunit").Min(0).Max(1).
		WithTarget(rangeQuery("A",
			"max by (objective) ("+tr.sel("okr_objective_progress_ratio")+") * on (objective) group_left (title) topk by (objective) (1, max by (objective, title) ("+tr.objectiveFilter()+"))",
			"{{title}}"))
}

// objectiveRow is the row of an objective, repeated by the objective
// variable: Grafana draws one copy of the row per objective chosen (every
// objective the filters leave for "All"), with $objective set to that
// objective's id, so choosing objectives hides the other rows instead of
// leaving them empty. The row's panels are the same in every copy, so each
// query covers whichever objective $objective names and returns all its
// key results at once: a row runs the same handful of queries whatever
// the number of key results. The figures now read with instant, the
// trajectories with tr.
//
// The row is not collapsed: its panels follow it in the dashboard's panel
// list (a collapsed row would hold them in its own), and Grafana repeats
// every panel between it and the next row.
func objectiveRow(b *dashboard.DashboardBuilder, tr reader, objs []*config.Objective) *dashboard.DashboardBuilder {
	if len(objs) == 0 {
		return b
	}
	b = b.WithRow(dashboard.NewRowBuilder("${" + varObjective + ":text}").Repeat(varObjective))
	// Every selector of the row also matches $objective, so that
	// Prometheus reads the series of that objective only.
	this := re("objective", "$"+varObjective)
	narrow := func(term krTerm) krTerm {
		return func(ms ...m) string { return term(append(ms, this)...) }
	}

	progressOf := func(r reader) string {
		return r.forObjectives("max by (objective) (" + r.sel("okr_objective_progress_ratio", this) + ")")
	}
	expectedOf := func(r reader) string { return r.forObjectives(weightedMean(objs, narrow(r.expectedTerm))) }
	progress, expected := progressOf(instant), expectedOf(instant)
	forecast := instant.forObjectives(weightedMean(objs, narrow(instant.forecastTerm)))
	score := instant.forObjectives("max by (objective) (" + sel("okr_objective_score", this) + ")")

	numbers := newStat("Objective",
		"Progress is the weighted mean of the key results' progress; expected is where it should be by now; "+
			"the forecast is where the key results' trends land at the period end; the score is the final grade once the period is over.", 9, 5).
		TextMode(common.BigValueTextModeValueAndName).Unit("percentunit").Decimals(0).
		ColorScheme(fixedScheme("text")).
		WithTarget(instantQuery("progress", progress, "Progress")).
		WithTarget(instantQuery("expected", expected, "Expected by now")).
		WithTarget(instantQuery("forecast", forecast, "Forecast at period end")).
		WithTarget(instantQuery("score", score, "Score")).
		OverrideByName("Progress", []dashboard.DynamicConfigValue{fixedColor("blue")}).
		OverrideByName("Score", []dashboard.DynamicConfigValue{unit("none"), prop("decimals", 1)})
	st := newStat("Status", "The worst status of the objective's key results that have data.", 3, 5).
		Mappings(statusMappings()).ColorScheme(fixedScheme("text")).
		WithTarget(instantQuery("A", instant.forObjectives(statusCode("okr_objective_status", "objective", this)), "Status"))
	trend := newTimeseries("Progress against expected", "The objective's progress and where it should have been at each moment.", 12, 5).
		Unit("percentunit").Min(0).Max(1).
		WithTarget(rangeQuery("progress", progressOf(tr), "Progress")).
		WithTarget(rangeQuery("expected", expectedOf(tr), "Expected")).
		OverrideByName("Progress", []dashboard.DynamicConfigValue{fixedColor("blue")}).
		OverrideByName("Expected", []dashboard.DynamicConfigValue{fixedColor("text"), dashed()})
	b = b.WithPanel(numbers).WithPanel(st).WithPanel(trend)

	// The key results: a table and the values now, as high as the
	// objective with the most key results needs (every copy of the row
	// has the same layout), then their trajectories.
	most := 0
	for _, o := range objs {
		most = max(most, len(o.KeyResults))
	}
	h := uint32(max(7, 3+most))
	return b.WithPanel(keyResultsTable(h, this)).
		WithPanel(keyResultValues(objs, h, this)).
		WithPanel(keyResultTrajectories(tr, this))
}

// krMax is metric for the key results matching ms, deduplicated.
func (r reader) krMax(metric string, ms ...m) string {
	return "max by (objective, key_result) (" + r.sel(metric, ms...) + ")"
}

// krTitles is one series per key result that passes the filters, with its
// title. It is a single series per key result (topk): over a trajectory's
// window a key result whose title changed has two info series, which
// would break a join.
func (r reader) krTitles() string {
	return "topk by (objective, key_result) (1, max by (objective, key_result, title) (" + r.keyResultFilter() + "))"
}

// named joins the key results' titles onto expr (labelled objective,
// key_result), which keeps only the key results that pass the filters.
func (r reader) named(expr string) string {
	return expr + " * on (objective, key_result) group_left (title) " + r.krTitles()
}

// keyResultsTable lists the key results of the objective, one line each:
// progress against expected, forecast, status and when the value was last
// measured; each column is one query over all of them.
func keyResultsTable(h uint32, this m) *table.PanelBuilder {
	one := func(metric string) string { return instant.forKeyResults(instant.krMax(metric, this)) }
	t := newTable("Key results",
		"Progress from baseline to target (for a band: 1 inside, 0 outside); expected is where it should be by now; "+
			"the forecast is the progress the value's trend gives at the period end (once the key result has three values over a day).",
		16, h).
		WithTarget(tableQuery("info", "max by (objective, key_result, title, owner) ("+instant.keyResultFilter()+")")).
		WithTarget(tableQuery("progress", one("okr_key_result_progress_ratio"))).
		WithTarget(tableQuery("expected", one("okr_key_result_expected_progress_ratio"))).
		WithTarget(tableQuery("forecast", one("okr_key_result_forecast_progress_ratio"))).
		WithTarget(tableQuery("status", instant.forKeyResults(statusCode("okr_key_result_status", "objective, key_result", this)))).
		WithTarget(tableQuery("updated", instant.forKeyResults(instant.krMax("okr_key_result_last_updated_timestamp_seconds", this)+" * 1000")))

	columns := []string{"title", "owner", "Value #progress", "Value #expected", "Value #forecast", "Value #status", "Value #updated", "key_result"}
	index := map[string]any{}
	for i, c := range columns {
		index[c] = i
	}
	t = t.Transformations([]dashboard.DataTransformerConfig{
		{Id: "merge", Options: map[string]any{}},
		{Id: "organize", Options: map[string]any{
			"excludeByName": map[string]any{"Time": true, "Value #info": true, "objective": true},
			"indexByName":   index,
			"renameByName": map[string]any{
				"title": "Key result", "owner": "Owner",
				"Value #progress": "Progress", "Value #expected": "Expected", "Value #forecast": "Forecast",
				"Value #status": "Status", "Value #updated": "Updated", "key_result": "Id",
			},
		}},
	}).SortBy([]cog.Builder[common.TableSortByFieldState]{
		common.NewTableSortByFieldStateBuilder().DisplayName("Status").Desc(true),
	})
	ratio := func(more ...dashboard.DynamicConfigValue) []dashboard.DynamicConfigValue {
		return append([]dashboard.DynamicConfigValue{unit("percentunit"), prop("min", 0), prop("max", 1)}, more...)
	}
	return t.OverrideByName("Progress", ratio(cellType("gauge"), fixedColor("blue"))).
		OverrideByName("Expected", ratio(cellType("auto"))).
		OverrideByName("Forecast", ratio(cellType("auto"))).
		OverrideByName("Status", []dashboard.DynamicConfigValue{mappingsProp(statusMappings()), cellType("color-text")}).
		OverrideByName("Updated", []dashboard.DynamicConfigValue{unit("dateTimeFromNow")})
}

// keyResultValues shows each key result's value now, named by its title,
// in its unit: one query for all of them, and an override per title with
// the unit the configuration gives it. A title that two key results of
// different units share keeps the plain number.
func keyResultValues(objs []*config.Objective, h uint32, this m) *stat.PanelBuilder {
	s := newStat("Value now", "Each key result's current value, in its unit; the table beside it says how far it has come.", 8, h).
		TextMode(common.BigValueTextModeValueAndName).ColorScheme(fixedScheme("blue")).
		WithTarget(instantQuery("value", instant.named(instant.krMax("okr_key_result_value", this)), "{{title}}"))
	units := map[string]string{}
	var titles []string
	for _, o := range objs {
		for _, kr := range o.KeyResults {
			u := krUnit(kr)
			prev, seen := units[kr.Title]
			switch {
			case !seen:
				units[kr.Title] = u
				titles = append(titles, kr.Title)
			case prev != u:
				units[kr.Title] = "short"
			}
		}
	}
	for _, t := range titles {
		if u := units[t]; u != "short" {
			s = s.OverrideByName(t, []dashboard.DynamicConfigValue{unit(u)})
		}
	}
	return s
}

// keyResultTrajectories draws each key result's progress over the period
// against its expected progress (the straight line from 0 at the period
// start to 1 at its end, or the line through the milestones; 1 for a band).
// Progress is the common scale of key results of different units, so that
// one pair of queries draws all of them.
func keyResultTrajectories(tr reader, this m) *timeseries.PanelBuilder {
	return newTimeseries("Key results against expected",
		"Each key result's progress (solid) and where it should have been at each moment (dashed).", fullWidth, 8).
		Unit("percentunit").Min(0).Max(1).
		WithTarget(rangeQuery("progress", tr.named(tr.krMax("okr_key_result_progress_ratio", this)), "{{title}}")).
		WithTarget(rangeQuery("expected", tr.named(tr.krMax("okr_key_result_expected_progress_ratio", this)), "{{title}}: expected")).
		OverrideByQuery("expected", []dashboard.DynamicConfigValue{fixedColor("text"), dashed(), prop("custom.lineWidth", 1)})
}
