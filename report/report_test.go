package report

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/okr"
	"github.com/okrd/okrd/store"
	"github.com/okrd/okrd/store/sqlite"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// now is the report's clock: 45.5 of 2026-Q4's 92 days have passed, so
// expected progress is 45.5/92 = 0.4946 (49%); a week before, on
// 2026-11-08 12:00, it was 38.5/92 = 0.4185 (42%).
var now = time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)

func at(m time.Month, d, h int) time.Time { return time.Date(2026, m, d, h, 0, 0, 0, time.UTC) }

// loadConfig loads testdata/okrd.toml and binds lead-time to a GitHub
// source named gh.
func loadConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.Load("testdata/okrd.toml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Sources = map[string]*config.Source{"gh": {Name: "gh", Type: "github"}}
	lt := cfg.Objective("ship").KeyResult("lead-time")
	lt.Source, lt.Metric = "gh", "lead_time_for_changes"
	return cfg
}

// seed records the history the golden files show. Evaluated now and a
// week before (2026-11-08 12:00):
//
//	nps (31 to 40): 37 now, progress 6/9 = 0.667, gap +0.17: on track;
//	  34 a week before, 3/9 = 0.333, gap 0.333-0.418 = -0.085: on track.
//	  Forecast through the 5 points at Jan 1: 42.5 (progress clamped to 1).
//	tickets (120 to 80): 106 now, 14/40 = 0.35, gap -0.145: at risk;
//	  112 before, 8/40 = 0.2, gap -0.218: off track. Forecast 92.91
//	  (progress 27.09/40 = 0.677, 68%).
//	activation (31% to 40%): 32% now, 0.01/0.09 = 0.111, gap -0.383:
//	  off track; 31.5% before, 0.056, gap -0.363: off track. Expected by
//	  now 0.31 + 0.4946*0.09 = 0.3545 (35.5%); forecast 0.3339 (33.4%,
//	  progress 0.0239/0.09 = 0.266, 27%).
//	lead-time (4 d to 2 d, from gh): 3 d now, 86400/172800 = 0.5, gap
//	  +0.005: on track; 3.5 d before, 0.25, gap -0.168: at risk. Change
//	  259200-302400 = -43200 s = -12 h. The points fall by 2160 s a day;
//	  Jan 1 00:00 is 47.625 days after Nov 14 09:00, so the forecast is
//	  259200 - 102870 = 156330 s = 43.4 h, "43 h" (progress clamped to 1).
//	uptime (99.5% to 100%, stale after 72h): 99.7% on Nov 7 12:00 is 8
//	  days old now (stale, so no data) and 1 day old a week before (inside
//	  the band: on track).
//	grow: progress (0.667+0.35+0.111)/3 = 0.376 (38%), a week before
//	  (0.333+0.2+0.056)/3 = 0.196 (20%): +17.96, "+18 pts"; off track.
//	ship: (0.5+1)/2 = 0.75 (75%), before (0.25+1)/2 = 0.625 (63%):
//	  +12.5, "+13 pts"; on track (the stale value counts for progress
//	  but its no_data status ranks lowest), was at risk.
//	partner-api (2026-Q3, ended Oct 1): 8 at the end, 0.8: missed, score
//	  0.8; on Sep 24 5, 0.5 against 85/92 = 0.924 expected: off track.
func seed(t *testing.T) store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "okrd.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	checkins := []store.Checkin{
		{ObjectiveID: "grow", KeyResultID: "nps", At: at(10, 1, 9), Value: 31, Author: "alice", Note: "baseline survey"},
		{ObjectiveID: "grow", KeyResultID: "nps", At: at(10, 15, 9), Value: 33, Author: "alice"},
		{ObjectiveID: "grow", KeyResultID: "nps", At: at(11, 1, 9), Value: 34, Author: "alice"},
		{ObjectiveID: "grow", KeyResultID: "nps", At: at(11, 10, 9), Value: 36, Author: "alice", Note: "survey of 412 customers"},
		{ObjectiveID: "grow", KeyResultID: "nps", At: at(11, 14, 9), Value: 37, Author: "alice", Note: "in-app survey,\nn=380"},
		{ObjectiveID: "grow", KeyResultID: "tickets", At: at(10, 1, 9), Value: 120, Author: "dan"},
		{ObjectiveID: "grow", KeyResultID: "tickets", At: at(11, 5, 9), Value: 112, Author: "dan"},
		{ObjectiveID: "grow", KeyResultID: "tickets", At: at(11, 12, 9), Value: 106, Author: "dan", Note: "Zendesk export | after the *FAQ* launch <b>"},
		{ObjectiveID: "partner-api", KeyResultID: "partners", At: at(7, 15, 9), Value: 2, Author: "carol"},
		{ObjectiveID: "partner-api", KeyResultID: "partners", At: at(8, 20, 9), Value: 5, Author: "carol"},
		{ObjectiveID: "partner-api", KeyResultID: "partners", At: at(9, 25, 9), Value: 8, Author: "carol", Note: "two more signed, contracts pending"},
		// After the end of 2026-Q3: it never changes that period's result.
		{ObjectiveID: "partner-api", KeyResultID: "partners", At: at(10, 10, 9), Value: 9, Author: "carol", Note: "late signature"},
	}
	for _, c := range checkins {
		if _, err := st.AddCheckin(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	values := []store.Value{
		{ObjectiveID: "grow", KeyResultID: "activation", At: at(10, 2, 9), Value: 0.31, Origin: "source:warehouse"},
		{ObjectiveID: "grow", KeyResultID: "activation", At: at(10, 20, 9), Value: 0.315, Origin: "source:warehouse"},
		{ObjectiveID: "grow", KeyResultID: "activation", At: at(11, 9, 9), Value: 0.32, Origin: "source:warehouse"},
		{ObjectiveID: "ship", KeyResultID: "lead-time", At: at(10, 5, 9), Value: 345600, Origin: "source:gh"},
		{ObjectiveID: "ship", KeyResultID: "lead-time", At: at(10, 25, 9), Value: 302400, Origin: "source:gh"},
		{ObjectiveID: "ship", KeyResultID: "lead-time", At: at(11, 14, 9), Value: 259200, Origin: "source:gh"},
		{ObjectiveID: "ship", KeyResultID: "uptime", At: at(10, 1, 9), Value: 0.999, Origin: "source:probe"},
		{ObjectiveID: "ship", KeyResultID: "uptime", At: at(11, 7, 12), Value: 0.997, Origin: "source:probe"},
	}
	if err := st.AppendValues(ctx, values...); err != nil {
		t.Fatal(err)
	}
	// nps: confidence 9 on Nov 3, 6 on Nov 13: "6/10 (medium), was 9";
	// tickets: 4 on Nov 14, none a week before: "new this week".
	for _, c := range []store.Confidence{
		{ObjectiveID: "grow", KeyResultID: "nps", At: at(11, 3, 9), Value: 9, Author: "alice"},
		{ObjectiveID: "grow", KeyResultID: "nps", At: at(11, 13, 9), Value: 6, Author: "alice", Note: "survey vendor late"},
		{ObjectiveID: "grow", KeyResultID: "tickets", At: at(11, 14, 9), Value: 4, Author: "dan"},
	} {
		if _, err := st.AddConfidence(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report/ -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (run go test ./report/ -update and review the diff):\n%s", path, got)
	}
}

func TestTheReportMatchesTheGoldenFiles(t *testing.T) {
	cfg := loadConfig(t)
	st := seed(t)
	for _, tc := range []struct {
		name, period string
	}{
		{"weekly", ""},
		{"past-period", "2026-q3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Build(context.Background(), Options{Config: cfg, Store: st, Now: now, Period: tc.period})
			if err != nil {
				t.Fatal(err)
			}
			var md, html bytes.Buffer
			if err := r.Markdown(&md); err != nil {
				t.Fatal(err)
			}
			if err := r.HTML(&html); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name+".md", md.Bytes())
			golden(t, tc.name+".html", html.Bytes())
		})
	}
}

func TestTheReportEvaluatesNowAndAWeekBefore(t *testing.T) {
	r, err := Build(context.Background(), Options{Config: loadConfig(t), Store: seed(t), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	// The weekly report covers the objectives under way: 2026-Q3 ended
	// more than a week ago and 2027-Q1 has not started.
	var ids []string
	for _, o := range r.Objectives {
		ids = append(ids, o.Config.ID)
	}
	if got := strings.Join(ids, ","); got != "grow,ship" {
		t.Fatalf("objectives %s, want grow,ship", got)
	}
	grow, ship := r.Objectives[0], r.Objectives[1]
	for _, tc := range []struct {
		name      string
		kr        *KeyResult
		now, week okr.Status
		value     float64
		change    string
	}{
		{"nps rose from 34 to 37 and stays on track", grow.KeyResults[0], okr.StatusOnTrack, okr.StatusOnTrack, 37, "+3 (from 34)"},
		{"tickets fell from 112 to 106 and came back to at risk", grow.KeyResults[1], okr.StatusAtRisk, okr.StatusOffTrack, 106, "-6 (from 112)"},
		{"activation crept from 31.5% to 32%", grow.KeyResults[2], okr.StatusOffTrack, okr.StatusOffTrack, 0.32, "+0.5 pts (from 31.5%)"},
		{"lead time fell by 12 hours to 3 days", ship.KeyResults[0], okr.StatusOnTrack, okr.StatusAtRisk, 259200, "-12 h (from 3.5 d)"},
		{"uptime went stale", ship.KeyResults[1], okr.StatusNoData, okr.StatusOnTrack, 0.997, "unchanged"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.kr.Now.Status != tc.now || tc.kr.Week.Status != tc.week {
				t.Errorf("status %s (a week before %s), want %s (%s)", tc.kr.Now.Status, tc.kr.Week.Status, tc.now, tc.week)
			}
			if tc.kr.Now.Value != tc.value {
				t.Errorf("value %v, want %v", tc.kr.Now.Value, tc.value)
			}
			if got := tc.kr.Change(); got != tc.change {
				t.Errorf("change %q, want %q", got, tc.change)
			}
		})
	}
	if got := grow.Headline(); got != "Progress 38% (+18 pts since 2026-11-08); off track." {
		t.Errorf("grow: %q", got)
	}
	if got := ship.Headline(); got != "Progress 75% (+13 pts since 2026-11-08); on track, was at risk a week before." {
		t.Errorf("ship: %q", got)
	}
	// Off track before at risk; stale and valueless key results apart.
	if len(r.AtRisk) != 2 || r.AtRisk[0].Config.ID != "activation" || r.AtRisk[1].Config.ID != "tickets" {
		t.Errorf("at risk: %v", krIDs(r.AtRisk))
	}
	if len(r.NoData) != 1 || r.NoData[0].Config.ID != "uptime" || !r.NoData[0].StaleNow {
		t.Errorf("no data: %v", krIDs(r.NoData))
	}
	if len(r.Delivery.KeyResults) != 1 || r.Delivery.KeyResults[0].Config.ID != "lead-time" {
		t.Errorf("delivery: %v", krIDs(r.Delivery.KeyResults))
	}
	// The week is (Nov 8 12:00, Nov 15 12:00]: three check-ins, newest
	// first; the tickets check-in of Nov 5 is older.
	var cs []string
	for _, c := range r.Checkins {
		cs = append(cs, c.KeyResultID+"@"+c.At.Format("01-02"))
	}
	if got := strings.Join(cs, ","); got != "nps@11-14,tickets@11-12,nps@11-10" {
		t.Errorf("check-ins %s", got)
	}
	if r.StatusChanges != 3 { // tickets, lead-time, uptime
		t.Errorf("status changes %d, want 3", r.StatusChanges)
	}
}

func krIDs(krs []*KeyResult) []string {
	var out []string
	for _, k := range krs {
		out = append(out, k.Objective.Config.ID+"/"+k.Config.ID)
	}
	return out
}

func TestAPastPeriodIsReportedAsItEnded(t *testing.T) {
	r, err := Build(context.Background(), Options{Config: loadConfig(t), Store: seed(t), Now: now, Period: "2026-Q3"})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Objectives) != 1 {
		t.Fatalf("%d objectives, want partner-api only", len(r.Objectives))
	}
	o := r.Objectives[0]
	kr := o.KeyResults[0]
	// The Oct 10 check-in came after the end and does not count.
	if !o.Ended || !o.At.Equal(time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)) || kr.Now.Value != 8 || kr.Now.Status != okr.StatusMissed || kr.Now.Score != 0.8 {
		t.Errorf("ended %v at %v: value %v status %s score %v", o.Ended, o.At, kr.Now.Value, kr.Now.Status, kr.Now.Score)
	}
	if kr.Week.Value != 5 || kr.Week.Status != okr.StatusOffTrack {
		t.Errorf("a week before the end: %v %s, want 5 off_track", kr.Week.Value, kr.Week.Status)
	}
	if len(r.Checkins) != 1 || r.Checkins[0].Note != "two more signed, contracts pending" {
		t.Errorf("check-ins of the last week of the period: %+v", r.Checkins)
	}
}

func TestABadPeriodIsAnError(t *testing.T) {
	cfg := loadConfig(t)
	st := seed(t)
	for _, tc := range []struct{ period, want string }{
		{"2026-Q5", `--period: period "2026-Q5": quarter must be 1..4`},
		{"2025-Q4", "no objective has the period 2025-Q4 (the objectives' periods: 2026-Q4, 2026-Q3, 2027-Q1)"},
	} {
		_, err := Build(context.Background(), Options{Config: cfg, Store: st, Now: now, Period: tc.period})
		if err == nil || err.Error() != tc.want {
			t.Errorf("period %s: error %v, want %s", tc.period, err, tc.want)
		}
	}
}

func TestEscapeKeepsTextFromBecomingMarkdown(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"NPS from 31 to 40", "NPS from 31 to 40"},
		{"a | b", `a \| b`},
		{"*bold* and _it_", `\*bold\* and \_it\_`},
		{"[link](http://x)", `\[link\](http://x)`},
		{"<script>", `\<script\>`},
		{"`code`", "\\`code\\`"},
		{`back\slash`, `back\\slash`},
	} {
		if got := Escape(tc.in); got != tc.want {
			t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// seedLeadTime records lead-time's history as okrd leaves it for a key
// result configured on the report's last day: a value filled in from the
// GitHub records at every midnight (UTC) of the period up to through,
// 345600 - 2000 s per day, and one live value at live.
func seedLeadTime(t *testing.T, through, live time.Time, liveValue float64, filled bool) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "okrd.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var vals []store.Value
	for d := 0; filled && !at(10, 1+d, 0).After(through); d++ {
		vals = append(vals, store.Value{ObjectiveID: "ship", KeyResultID: "lead-time", At: at(10, 1+d, 0), Value: 345600 - 2000*float64(d), Origin: "history:gh"})
	}
	vals = append(vals, store.Value{ObjectiveID: "ship", KeyResultID: "lead-time", At: live, Value: liveValue, Origin: "source:gh"})
	if err := st.AppendValues(context.Background(), vals...); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestWithFilledInHistoryTheChangeComparesWithTheValueAWeekBefore(t *testing.T) {
	for _, tc := range []struct {
		name     string
		now      time.Time
		liveAt   time.Time
		live     float64
		filled   bool
		change   string
		headline string
		sources  []string
	}{
		// A week before Nov 15 12:00, the last value is the one filled in
		// at midnight on Nov 8 (day 38): 345600 - 76000 = 269600 s (3.1
		// d); now 255000 s: -14600 s = -4 h 3 min. Progress now (345600 -
		// 255000)/172800 = 0.524; a week before 0.4398 (44%), against
		// 0.4185 expected: on track both times. The ship objective also
		// has uptime, without values: (0.524 + 0)/2 = 0.26 now, (0.4398 +
		// 0)/2 = 0.22 before.
		{"mid-period the change is against the value filled in a week before",
			now, at(11, 15, 11), 255000, true, "-4 h 3 min (from 3.1 d)", "Progress 26% (+4 pts since 2026-11-08)", []string{"gh"}},
		{"without the filled-in history the same key result reads first value",
			now, at(11, 15, 11), 255000, false, "first value", "Progress 26% (+26 pts since 2026-11-08)", nil},
		// Two and a half days into the period there is no week before: the
		// change is against the value at the period start, 345600 s (4
		// d); now 330000 s: -15600 s = -4 h 20 min. Progress 15600/172800 =
		// 0.09, so the objective's is 0.045 (5%), from 0.
		{"in the period's first week the change is against the period start",
			at(10, 3, 12), at(10, 3, 11), 330000, true, "-4 h 20 min (from 4 d)", "Progress 5% (+5 pts since the period start on 2026-10-01)", []string{"gh"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := seedLeadTime(t, tc.now, tc.liveAt, tc.live, tc.filled)
			r, err := Build(context.Background(), Options{Config: loadConfig(t), Store: st, Now: tc.now})
			if err != nil {
				t.Fatal(err)
			}
			var ship *Objective
			for _, o := range r.Objectives {
				if o.Config.ID == "ship" {
					ship = o
				}
			}
			lt := ship.KeyResults[0]
			if got := lt.Change(); got != tc.change {
				t.Errorf("change %q, want %q", got, tc.change)
			}
			if got := ship.Headline(); !strings.HasPrefix(got, tc.headline) {
				t.Errorf("headline %q, want it to start with %q", got, tc.headline)
			}
			if lt.WeekFilled != tc.filled || !slices.Equal(r.FilledSources, tc.sources) {
				t.Errorf("week value filled in %v from %v, want %v from %v", lt.WeekFilled, r.FilledSources, tc.filled, tc.sources)
			}
			var md, html bytes.Buffer
			if err := r.Markdown(&md); err != nil {
				t.Fatal(err)
			}
			if err := r.HTML(&html); err != nil {
				t.Fatal(err)
			}
			note := "Where okrd was not measuring yet, the values compared with are filled in from the records of gh."
			if strings.Contains(md.String(), note) != strings.Contains(html.String(), note) {
				t.Errorf("the Markdown and the HTML disagree about %q", note)
			}
			if tc.filled {
				for _, bad := range []string{"first value", "(was no data)"} {
					if strings.Contains(md.String(), bad) {
						t.Errorf("the report says %q:\n%s", bad, md.String())
					}
				}
				if !strings.Contains(md.String(), note) {
					t.Errorf("the report does not say where the values compared with come from:\n%s", md.String())
				}
			} else if strings.Contains(md.String(), note) {
				t.Errorf("without filled-in values the report says %q", note)
			}
		})
	}
}

func TestWhatNeedsAttentionComesFirst(t *testing.T) {
	r, err := Build(context.Background(), Options{Config: loadConfig(t), Store: seed(t), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	// Off track before at risk before no data; the objectives and their
	// key results worst first, configuration order among equals.
	if got := strings.Join(krIDs(r.Attention()), ","); got != "grow/activation,grow/tickets,ship/uptime" {
		t.Errorf("attention: %s", got)
	}
	var obs []string
	for _, o := range r.ObjectivesByStatus() {
		obs = append(obs, o.Config.ID+":"+strings.Join(krIDs(o.ByStatus()), ","))
	}
	if got := strings.Join(obs, " "); got != "grow:grow/activation,grow/tickets,grow/nps ship:ship/lead-time,ship/uptime" {
		t.Errorf("objectives: %s", got)
	}
	var md bytes.Buffer
	if err := r.Markdown(&md); err != nil {
		t.Fatal(err)
	}
	if a, o := strings.Index(md.String(), "## Needs attention"), strings.Index(md.String(), "## Objectives"); a < 0 || a > o {
		t.Errorf("what needs attention is not before the objectives:\n%s", md.String())
	}
}

func TestEveryStatusHasItsReason(t *testing.T) {
	r, err := Build(context.Background(), Options{Config: loadConfig(t), Store: seed(t), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	grow, ship := r.Objectives[0], r.Objectives[1]
	for _, tc := range []struct{ name, got, want string }{
		// activation: expected 0.31 + 0.4946*0.09 = 35.5%, progress
		// 0.111, gap -0.383.
		{"an off-track key result", grow.KeyResults[2].Why(), "32.0% where 35.5% was expected by now: 11% of the way, 38 pts behind"},
		{"an objective off track because of one key result", grow.Reason(), "off track because 'Week-1 activation at 40%' is off track"},
		{"a stale key result", ship.KeyResults[1].Why(), "the latest value, 99.7% on 2026-11-07, is older than 3 d (stale_after), so it no longer counts"},
		{"an objective whose key result has no data", ship.Reason(), "on track: every key result with a current value is on track; 'Checkout availability' has no data and does not count"},
		{"a key result at risk, with its forecast", grow.KeyResults[1].Risk(),
			"106 where 100.22 was expected by now: 35% of the way, 14 pts behind; the trend forecasts 92.91 by 2026-12-31 (68% of the way)."},
	} {
		if tc.got != tc.want {
			t.Errorf("%s:\n  %q, want\n  %q", tc.name, tc.got, tc.want)
		}
	}
}

func TestWhatChangedComesFromTheHistory(t *testing.T) {
	r, err := Build(context.Background(), Options{Config: loadConfig(t), Store: seed(t), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range r.Changes() {
		got = append(got, c.Title()+": "+c.Text())
	}
	// Worse first (uptime went stale), then better, the worst new status
	// first: tickets at risk, then the on-track ones.
	want := []string{
		"Checkout availability: no data, was on track a week before; the latest value, 99.7% on 2026-11-07, is older than 3 d (stale_after), so it no longer counts",
		"Support tickets | per week: at risk, was off track a week before; -6 (from 112); 106 where 100.22 was expected by now: 35% of the way, 14 pts behind",
		"Ship faster: on track, was at risk a week before",
		"Lead time for changes under 2 days: on track, was at risk a week before; -12 h (from 3.5 d)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("changes:\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestTheLatestNoteIsTheCommentary(t *testing.T) {
	r, err := Build(context.Background(), Options{Config: loadConfig(t), Store: seed(t), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	grow := r.Objectives[0]
	// nps: the newest check-in with a note; the one of Nov 14 has it.
	if c := grow.KeyResults[0].Comment; c == nil || c.Note != "in-app survey,\nn=380" {
		t.Errorf("nps commentary %+v", c)
	}
	// activation has no check-ins: no commentary.
	if c := grow.KeyResults[2].Comment; c != nil {
		t.Errorf("activation commentary %+v", c)
	}
	// 2026-Q3 ended on Oct 1: the note of Oct 10 came after it.
	past, err := Build(context.Background(), Options{Config: loadConfig(t), Store: seed(t), Now: now, Period: "2026-Q3"})
	if err != nil {
		t.Fatal(err)
	}
	if c := past.Objectives[0].KeyResults[0].Comment; c == nil || c.Note != "two more signed, contracts pending" {
		t.Errorf("partners commentary %+v", c)
	}
}

func TestABandsForecastSaysWhetherItLandsInside(t *testing.T) {
	cfg := loadConfig(t)
	ob := &Objective{Config: cfg.Objective("ship")}
	uptime := cfg.Objective("ship").KeyResult("uptime")
	for _, tc := range []struct {
		r    okr.Result
		want string
	}{
		{okr.Result{HasValue: true, Value: 0.992, HasForecast: true, Forecast: 0.99, ForecastProgress: 0}, "99.0% (outside the band)"},
		{okr.Result{HasValue: true, Value: 0.992, HasForecast: true, Forecast: 0.997, ForecastProgress: 1}, "99.7% (inside the band)"},
	} {
		k := &KeyResult{Objective: ob, Config: uptime, Now: tc.r}
		if got := k.Forecast(); got != tc.want {
			t.Errorf("forecast %q, want %q", got, tc.want)
		}
	}
}
