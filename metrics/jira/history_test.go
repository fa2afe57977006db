package jira

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// historyCase is one query of the as-of tests with its window rule.
type historyCase struct {
	q    Query
	rule WindowRule
}

func (c historyCase) String() string {
	w := fmt.Sprintf("last %v", c.rule.Last)
	if c.rule.Period {
		w = fmt.Sprintf("period %s..%s", c.rule.Start.Format(time.DateOnly), c.rule.End.Format(time.DateOnly))
	}
	return fmt.Sprintf("%s scope=%q types=%v window=%s q=%v by_points=%v epic=%q board=%d sprints=%d",
		c.q.Metric, c.q.Filter.Scope, c.q.Filter.IssueTypes, w, c.q.Quantile, c.q.ByPoints, c.q.Epic, c.q.Board, c.q.Sprints)
}

// historyCases covers every metric computed from records: each flow
// metric over every kind of scope (the whole source, projects in any
// case, a project board, a filter board, unknown ones), issue types and
// windows (7, 28 and 90 days; a period over, one still running), with
// quantiles from 0 to 1; epic progress of every epic by count and by
// points; each sprint metric of both scrum boards by count and by points
// over 1, 3 and 6 sprints; and the queries that are errors. With few,
// only some scopes and types (for the category overrides, which change
// what statuses mean, not what a scope selects).
func historyCases(w *world, few bool) []historyCase {
	var out []historyCase
	scopes := []string{"", "PAY", "web", "board:3", "board:4", "board:99", "NOPE"}
	types := [][]string{nil, {"story"}, {"Bug", "task"}}
	if few {
		scopes, types = []string{"", "board:3"}, [][]string{nil, {"Bug", "task"}}
	}
	rules := []WindowRule{
		LastRule(7 * day), LastRule(28 * day), LastRule(90 * day),
		PeriodRule(w.origin.Add(30*day), w.origin.Add(120*day)),
		PeriodRule(w.origin.Add(150*day), w.origin.Add(240*day)),
	}
	qs := []float64{0, 0.5, 0.85, 0.95, 1, 0.25, 0.1}
	n := 0
	for _, scope := range scopes {
		for _, ty := range types {
			f := Filter{Scope: scope, IssueTypes: ty}
			for _, r := range rules {
				for _, metric := range []string{MetricThroughput, MetricLeadTime, MetricCycleTime, MetricInflow} {
					out = append(out, historyCase{Query{Metric: metric, Filter: f, Quantile: qs[n%len(qs)]}, r})
					n++
				}
			}
			for _, metric := range []string{MetricWIP, MetricWIPAge, MetricWIPAge, MetricWIPAgeMax, MetricOpenIssues} {
				out = append(out, historyCase{Query{Metric: metric, Filter: f, Quantile: qs[n%len(qs)]}, WindowRule{}})
				n++
			}
		}
	}
	for _, is := range w.issues {
		if is.Type == "Epic" {
			out = append(out,
				historyCase{Query{Metric: MetricEpicProgress, Epic: is.Key}, WindowRule{}},
				historyCase{Query{Metric: MetricEpicProgress, Epic: is.Key, ByPoints: true, PointsField: "sp"}, WindowRule{}})
		}
	}
	out = append(out, historyCase{Query{Metric: MetricEpicProgress, Epic: "NOPE-1"}, WindowRule{}})
	for _, field := range []string{"", "sp"} {
		inv := testInvestment(w, field)
		for _, scope := range []string{"", "PAY", "board:3"} {
			for _, r := range rules {
				for _, cat := range inv.Names() {
					out = append(out, historyCase{Query{Metric: MetricInvestmentShare, Filter: Filter{Scope: scope}, Investment: inv, Category: cat}, r})
				}
			}
		}
	}
	sprintMetrics := []string{MetricSprintCommitment, MetricSprintCompleted, MetricSprintAdded, MetricSprintSayDo, MetricVelocity}
	for _, board := range []int{1, 2} {
		for _, metric := range sprintMetrics {
			for _, points := range []bool{false, true} {
				for _, n := range []int{0, 1, 3} {
					out = append(out, historyCase{Query{Metric: metric, Board: board, ByPoints: points, Sprints: n}, WindowRule{}})
				}
			}
		}
	}
	// Errors: a board without points, an unknown board, epic progress by
	// points without a field, a metric that is no metric.
	out = append(out,
		historyCase{Query{Metric: MetricVelocity, Board: 3}, WindowRule{}},
		historyCase{Query{Metric: MetricSprintCommitment, Board: 99}, WindowRule{}},
		historyCase{Query{Metric: MetricEpicProgress, Epic: "PAY-1", ByPoints: true}, WindowRule{}},
		historyCase{Query{Metric: MetricJQLCount}, WindowRule{}},
		historyCase{Query{Metric: MetricInvestmentShare, Category: "bugs"}, LastRule(28 * day)},
		historyCase{Query{Metric: MetricInvestmentShare, Investment: testInvestment(w, ""), Category: "nope"}, LastRule(28 * day)},
	)
	return out
}

func isFlowMetric(metric string) bool {
	switch metric {
	case MetricThroughput, MetricLeadTime, MetricCycleTime, MetricInflow, MetricWIP, MetricWIPAge, MetricWIPAgeMax, MetricOpenIssues:
		return true
	}
	return false
}

// same compares two values exactly: counts and quantiles must be the
// same float64, not merely close.
func same(a float64, aok bool, b float64, bok bool) bool {
	if aok != bok {
		return false
	}
	return !aok || a == b || (math.IsNaN(a) && math.IsNaN(b))
}

var categorySets = []struct {
	name string
	c    Categories
}{
	{"Jira's categories", Categories{}},
	{"done statuses", Categories{Done: []string{"Closed", "won't do"}}},
	{"start statuses", Categories{Start: []string{"review"}}},
	{"start and done statuses", Categories{Start: []string{"In Progress"}, Done: []string{"Done"}}},
}

// TestHistoryIsTheLiveMeasurementAtEachInstant is the central property
// of history (METRICS.md, "History: every metric at a past instant"): at
// any instant t, the value History gives and the value Value(q, t) gives
// on the whole model both equal the live measurement made with the clock
// at t over the records as they stood at t. Those records are built by
// the test (asOf: histories cut at t, statuses rolled back, issues
// created later dropped, sprints completed later reopened) and loaded
// into a fresh model; for the flow metrics that model's value must also
// equal the live computation as okrd made it before it knew history
// (liveSet). Over a generated source, at random instants and at the
// exact instants at which events happen, for every metric, scope, issue
// type filter, window, quantile and category override.
func TestHistoryIsTheLiveMeasurementAtEachInstant(t *testing.T) {
	w := genWorld(1, 300)
	rng := rand.New(rand.NewPCG(3, 4))
	at := w.instantsOf(rng, 20, 30)
	for i, cs := range categorySets {
		t.Run(cs.name, func(t *testing.T) { compareAsOf(t, w, cs.c, historyCases(w, i > 0), at) })
	}
}

// TestHistoryOfTheFixturesAtEveryEvent does the same over the hand-built
// fixtures of the other tests (the flow fixture's reopened, re-dated and
// resolution-dated issues, the sprint fixture's commitments, removals,
// carry-overs and issue lists, plus an issue whose Sprint field names a
// sprint only after its close), at every instant at which something
// happens, just before it and just after it.
func TestHistoryOfTheFixturesAtEveryEvent(t *testing.T) {
	w := fixtureWorld()
	at := []time.Time{w.horizon.Add(day)}
	for _, is := range w.issues {
		for _, x := range eventsOf(is) {
			at = append(at, x.Add(-time.Nanosecond), x, x.Add(time.Nanosecond))
		}
	}
	for _, sp := range w.sprints {
		if sp.Complete != nil {
			at = append(at, sp.Complete.Add(-time.Nanosecond), *sp.Complete, sp.Complete.Add(time.Nanosecond))
		}
	}
	sort.Slice(at, func(i, j int) bool { return at[i].Before(at[j]) })
	at = slices.CompactFunc(at, func(a, b time.Time) bool { return a.Equal(b) })
	for i, cs := range categorySets {
		t.Run(cs.name, func(t *testing.T) { compareAsOf(t, w, cs.c, historyCases(w, i > 0), at) })
	}
}

// fixtureWorld is the flow and sprint fixtures as one source, with the
// boards genWorld's scopes name: 3 selects PAY-2 and WEB-1 by filter, 4
// is a project board over PAY and WEB.
func fixtureWorld() *world {
	w := &world{origin: d(-120), horizon: now}
	w.boards = []*Board{
		{ID: 1, Name: "PAY", Type: "scrum", Projects: []string{"PAY"}, PointsField: "sp"},
		{ID: 3, Name: "Cross-team", Type: "kanban", ByFilter: true},
		{ID: 4, Name: "Both", Type: "kanban", Projects: []string{"pay", "WEB"}},
	}
	for _, is := range flowIssues() {
		if is.Key == "PAY-2" || is.Key == "WEB-1" {
			is.Boards = []int{3}
		}
		w.issues = append(w.issues, is)
	}
	sm := sprintModel()
	for _, id := range []int{9, 10, 11} {
		sp, _ := sm.Sprint(id)
		w.sprints = append(w.sprints, sp)
	}
	for _, k := range []string{"S-1", "S-2", "S-3", "S-4", "S-5", "S-6", "S-7", "S-8", "S-9"} {
		is, _ := sm.Issue(k)
		c := *is
		if k == "S-8" {
			c.Sprints = []int{10, 11}
			c.SprintChanges = []SprintChange{{At: d(-0.5), To: []int{10, 11}}}
		}
		w.issues = append(w.issues, &c)
	}
	return w
}

func eventsOf(is *Issue) []time.Time {
	out := []time.Time{is.Created}
	for _, tr := range is.Transitions {
		out = append(out, tr.At)
	}
	if is.Resolved != nil {
		out = append(out, *is.Resolved)
	}
	for _, c := range is.SprintChanges {
		out = append(out, c.At)
	}
	for _, c := range is.PointChanges {
		out = append(out, c.At)
	}
	return out
}

// compareAsOf checks, at every instant, every case: History and Value on
// the whole model against Value over the records as they stood then, and
// that against the live computation.
func compareAsOf(t *testing.T, w *world, c Categories, cases []historyCase, at []time.Time) {
	t.Helper()
	full := w.model(c)
	hqs := make([]HistoryQuery, len(cases))
	for i, c := range cases {
		hqs[i] = HistoryQuery{Query: c.q, Rule: c.rule, At: at}
	}
	hist := full.History(hqs)
	failures := 0
	for ti, instant := range at {
		past := w.asOf(instant)
		pm := past.model(c)
		ls := newLive(past.issues, c)
		for ci, cs := range cases {
			q := cs.q
			q.Window = cs.rule.At(instant)
			want, wok, werr := pm.Value(q, instant)
			got, gok, gerr := full.Value(q, instant)
			h := hist[ci]
			var hv HistoryValue
			if len(h.Values) == len(at) {
				hv = h.Values[ti]
			}
			bad := ""
			switch {
			case (werr == nil) != (gerr == nil) || (werr == nil) != (h.Err == nil):
				bad = fmt.Sprintf("errors differ: at t %v, whole model %v, history %v", werr, gerr, h.Err)
			case werr != nil:
			case !same(want, wok, got, gok):
				bad = fmt.Sprintf("Value on the whole model = %v, %v; over the records at t %v, %v", got, gok, want, wok)
			case !same(want, wok, hv.Value, hv.OK):
				bad = fmt.Sprintf("History = %v, %v; over the records at t %v, %v", hv.Value, hv.OK, want, wok)
			case isFlowMetric(q.Metric):
				if lv, lok := ls.value(q, instant); !same(want, wok, lv, lok) {
					bad = fmt.Sprintf("over the records at t %v, %v; the live computation %v, %v", want, wok, lv, lok)
				}
			case q.Metric == MetricInvestmentShare:
				if lv, lok := ls.investmentShare(q); !same(want, wok, lv, lok) {
					bad = fmt.Sprintf("over the records at t %v, %v; the live computation %v, %v", want, wok, lv, lok)
				}
			case q.Metric == MetricEpicProgress:
				if lv, lok := ls.epic(q.Epic, q.PointsField); !same(want, wok, lv, lok) {
					bad = fmt.Sprintf("over the records at t %v, %v; the live computation %v, %v", want, wok, lv, lok)
				}
			}
			if bad != "" {
				failures++
				if failures <= 10 {
					t.Errorf("%s at %s: %s", cs, instant.Format(time.RFC3339Nano), bad)
				}
			}
		}
	}
	if failures > 10 {
		t.Errorf("... %d failures in all", failures)
	}
}

// TestHistoryOfASourceWithoutRecords answers every instant of an empty
// model like Value does: counts 0, no quantile.
func TestHistoryOfASourceWithoutRecords(t *testing.T) {
	m := NewModel(Categories{})
	at := []time.Time{d(-2), d(-1), d(0)}
	res := m.History([]HistoryQuery{
		{Query: Query{Metric: MetricThroughput}, Rule: LastRule(7 * day), At: at},
		{Query: Query{Metric: MetricLeadTime}, Rule: LastRule(7 * day), At: at},
		{Query: Query{Metric: MetricWIPAge}, At: at},
		{Query: Query{Metric: MetricInflow}, Rule: PeriodRule(d(-10), d(10)), At: at},
	})
	want := [][]HistoryValue{
		{{0, true}, {0, true}, {0, true}},
		{{}, {}, {}},
		{{}, {}, {}},
		{{0, true}, {0, true}, {0, true}},
	}
	for i := range want {
		if res[i].Err != nil || fmt.Sprint(res[i].Values) != fmt.Sprint(want[i]) {
			t.Errorf("query %d = %v, %v; want %v", i, res[i].Values, res[i].Err, want[i])
		}
	}
}

// TestExportAtAPastInstant checks the exported series at past instants
// against the series of the records as they stood then.
func TestExportAtAPastInstant(t *testing.T) {
	w := genWorld(2, 200)
	rng := rand.New(rand.NewPCG(5, 6))
	for _, cs := range categorySets[:2] {
		full := w.model(cs.c)
		for _, instant := range w.instantsOf(rng, 6, 6) {
			past := w.asOf(instant).model(cs.c)
			if got, want := exportText(t, full, instant), exportText(t, past, instant); got != want {
				t.Errorf("%s: series at %s differ from those of the records at that instant:\n%s", cs.name, instant.Format(time.RFC3339), diffLines(got, want))
			}
		}
	}
}

func exportText(t *testing.T, m *Model, at time.Time) string {
	t.Helper()
	e := NewExporter("jira")
	e.Update(m, at, DefaultExportOptions())
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(e)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	return buf.String()
}

func diffLines(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	inW := map[string]bool{}
	for _, l := range w {
		inW[l] = true
	}
	inG := map[string]bool{}
	for _, l := range g {
		inG[l] = true
	}
	var b strings.Builder
	for _, l := range g {
		if !inW[l] {
			b.WriteString("+ " + l + "\n")
		}
	}
	for _, l := range w {
		if !inG[l] {
			b.WriteString("- " + l + "\n")
		}
	}
	return b.String()
}

// valuesAt returns Value(q, t) at each instant, with the window of the
// rule, next to History's answer.
func valuesAt(t *testing.T, m *Model, q Query, rule WindowRule, at []time.Time) (values, hist []HistoryValue) {
	t.Helper()
	res := m.History([]HistoryQuery{{Query: q, Rule: rule, At: at}})[0]
	if res.Err != nil {
		t.Fatalf("History(%v): %v", q.Metric, res.Err)
	}
	for _, instant := range at {
		qq := q
		qq.Window = rule.At(instant)
		v, ok, err := m.Value(qq, instant)
		if err != nil {
			t.Fatalf("Value(%v, %v): %v", q.Metric, instant, err)
		}
		values = append(values, HistoryValue{v, ok})
	}
	return values, res.Values
}

// TestAReopenedIssueAtThreeInstants follows one issue through its life:
// created at -40, in progress at -35, done at -30, reopened at -25, done
// again at -5. Its done time is the start of its stretch in done as of
// each instant, and in between it is work in progress again.
func TestAReopenedIssueAtThreeInstants(t *testing.T) {
	m := NewModel(Categories{})
	m.PutIssue(&Issue{Key: "PAY-2", Project: "PAY", Type: "Bug", Created: d(-40), Status: done,
		Transitions: []Transition{tr(-35, toDo, inProgress), tr(-30, inProgress, done), tr(-25, done, inProgress), tr(-5, inProgress, done)}})
	days := func(x float64) HistoryValue { return HistoryValue{x * day.Seconds(), true} }
	count := func(n float64) HistoryValue { return HistoryValue{n, true} }
	none := HistoryValue{}
	justBefore := d(-30).Add(-time.Nanosecond)
	at := []time.Time{justBefore, d(-30), d(-28), d(-20), d(0)}
	tests := []struct {
		name string
		q    Query
		rule WindowRule
		want []HistoryValue
	}{
		// Done at -30 from -30 on (in (t-7d, t] at -30 and -28), not
		// done at -20 although it was done 10 days before, done at -5
		// now.
		{"throughput over 7 days", Query{Metric: MetricThroughput}, LastRule(7 * day),
			[]HistoryValue{count(0), count(1), count(1), count(0), count(1)}},
		{"throughput over 28 days", Query{Metric: MetricThroughput}, LastRule(28 * day),
			[]HistoryValue{count(0), count(1), count(1), count(0), count(1)}},
		// Lead time 10 days (done -30, created -40), then 35 (done -5).
		{"lead time", Query{Metric: MetricLeadTime}, LastRule(28 * day),
			[]HistoryValue{none, days(10), days(10), none, days(35)}},
		// Cycle time 5 days (start -35), then 30.
		{"cycle time", Query{Metric: MetricCycleTime}, LastRule(28 * day),
			[]HistoryValue{none, days(5), days(5), none, days(30)}},
		{"work in progress", Query{Metric: MetricWIP}, WindowRule{},
			[]HistoryValue{count(1), count(0), count(0), count(1), count(0)}},
		// In progress since -35: just under 5 days old just before -30,
		// 15 days at -20.
		{"WIP age", Query{Metric: MetricWIPAge}, WindowRule{},
			[]HistoryValue{{justBefore.Sub(d(-35)).Seconds(), true}, none, none, days(15), none}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			values, hist := valuesAt(t, m, tt.q, tt.rule, at)
			if fmt.Sprint(values) != fmt.Sprint(tt.want) {
				t.Errorf("Value at each instant = %v, want %v", values, tt.want)
			}
			if fmt.Sprint(hist) != fmt.Sprint(tt.want) {
				t.Errorf("History = %v, want %v", hist, tt.want)
			}
		})
	}
}

// TestAResolutionDateCountsOnceItIsPast: an issue created done without a
// changelog is done at its resolution date, and not before it.
func TestAResolutionDateCountsOnceItIsPast(t *testing.T) {
	m := NewModel(Categories{})
	m.PutIssue(&Issue{Key: "PAY-7", Project: "PAY", Type: "Story", Created: d(-9), Status: done, Resolved: dp(-3)})
	values, hist := valuesAt(t, m, Query{Metric: MetricThroughput}, LastRule(28*day), []time.Time{d(-5), d(-3), d(0)})
	want := "[{0 true} {1 true} {1 true}]"
	if fmt.Sprint(values) != want || fmt.Sprint(hist) != want {
		t.Errorf("throughput = %v (history %v), want %v", values, hist, want)
	}
}

// TestASprintBeforeAndAfterItsCompletion: sprint 10 of the sprint
// fixture completed at -1 and sprint 9 at -14. Before -14 no sprint is
// closed; from -14 sprint 9 (velocity 4) is the latest; from -1 the
// latest are 10 (velocity 6) and 9.
func TestASprintBeforeAndAfterItsCompletion(t *testing.T) {
	m := sprintModel()
	at := []time.Time{d(-15), d(-14), d(-2), d(-1).Add(-time.Nanosecond), d(-1), d(0)}
	tests := []struct {
		name string
		q    Query
		want string
	}{
		{"velocity over the latest sprints", Query{Metric: MetricVelocity, Board: 1}, "[{0 false} {4 true} {4 true} {4 true} {5 true} {5 true}]"},
		{"velocity of the latest sprint", Query{Metric: MetricVelocity, Board: 1, Sprints: 1}, "[{0 false} {4 true} {4 true} {4 true} {6 true} {6 true}]"},
		// Committed 1 in sprint 9, 5 in sprint 10: mean 3.
		{"commitment", Query{Metric: MetricSprintCommitment, Board: 1}, "[{0 false} {1 true} {1 true} {1 true} {3 true} {3 true}]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			values, hist := valuesAt(t, m, tt.q, WindowRule{}, at)
			if fmt.Sprint(values) != tt.want || fmt.Sprint(hist) != tt.want {
				t.Errorf("values = %v, history = %v; want %v", values, hist, tt.want)
			}
		})
	}
}

// TestAClosingIssueListSpeaksOnlyWhileTheSprintFieldIsSilent: S-8 is in
// sprint 10's closing issue list without any Sprint field data, so it
// counts as in the sprint since its creation (committed and completed).
// A Sprint field change at -0.5 that names the sprint (an edit after the
// close) makes the field speak for it from then on: it was not in the
// sprint at its start, so from -0.5 it is no longer committed.
func TestAClosingIssueListSpeaksOnlyWhileTheSprintFieldIsSilent(t *testing.T) {
	m := sprintModel()
	is, _ := m.Issue("S-8")
	c := *is
	c.Sprints = []int{10, 11}
	c.SprintChanges = []SprintChange{{At: d(-0.5), To: []int{10, 11}}}
	m.PutIssue(&c)
	at := []time.Time{d(-1), d(-0.75), d(-0.5), d(0)}
	// Sprint 10: committed S-1, S-2, S-4, S-7, S-8, then without S-8.
	for _, tt := range []struct {
		metric, want string
	}{
		{MetricSprintCommitment, "[{5 true} {5 true} {4 true} {4 true}]"},
		{MetricSprintCompleted, "[{3 true} {3 true} {2 true} {2 true}]"},
	} {
		values, hist := valuesAt(t, m, Query{Metric: tt.metric, Board: 1, Sprints: 1}, WindowRule{}, at)
		if fmt.Sprint(values) != tt.want || fmt.Sprint(hist) != tt.want {
			t.Errorf("%s: values = %v, history = %v; want %v", tt.metric, values, hist, tt.want)
		}
	}
}

// TestHistoryBeforeTheRecordsBegin: with Since, an instant whose value
// would read events before it has no value: an instant before it, a
// windowed metric whose window starts before it, sprints that started
// before it.
func TestHistoryBeforeTheRecordsBegin(t *testing.T) {
	m := flowModel(Categories{})
	since := d(-20)
	at := []time.Time{d(-21), d(-20), d(-14), d(-13), d(0)}
	tests := []struct {
		name string
		q    Query
		rule WindowRule
		want []bool
	}{
		{"work in progress from the first instant covered", Query{Metric: MetricWIP}, WindowRule{}, []bool{false, true, true, true, true}},
		{"a 7-day window once it starts after the first instant", Query{Metric: MetricThroughput}, LastRule(7 * day), []bool{false, false, false, true, true}},
		{"a period that started before the first instant", Query{Metric: MetricInflow}, PeriodRule(d(-25), d(10)), []bool{false, false, false, false, false}},
		{"a period that starts at the first instant", Query{Metric: MetricInflow}, PeriodRule(d(-20), d(10)), []bool{false, true, true, true, true}},
		{"epic progress", Query{Metric: MetricEpicProgress, Epic: "PAY-100"}, WindowRule{}, []bool{false, true, true, true, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := m.History([]HistoryQuery{{Query: tt.q, Rule: tt.rule, At: at, Since: since}})[0]
			all := m.History([]HistoryQuery{{Query: tt.q, Rule: tt.rule, At: at}})[0]
			if res.Err != nil {
				t.Fatal(res.Err)
			}
			for i, v := range res.Values {
				switch {
				case v.OK != tt.want[i]:
					t.Errorf("at %v: OK = %v, want %v", at[i], v.OK, tt.want[i])
				case v.OK && v != all.Values[i]:
					t.Errorf("at %v: %v, without Since %v", at[i], v, all.Values[i])
				}
			}
		})
	}

	s := sprintModel()
	for _, tt := range []struct {
		name    string
		sprints int
		want    string
	}{
		// Sprint 9 started at -28, before -20; sprint 10 at -14.
		{"sprints that started before the first instant", 0, "[{0 false} {0 false}]"},
		{"the latest sprint started after it", 1, "[{6 true} {6 true}]"},
	} {
		res := s.History([]HistoryQuery{{Query: Query{Metric: MetricVelocity, Board: 1, Sprints: tt.sprints}, At: []time.Time{d(-1), d(0)}, Since: since}})[0]
		if res.Err != nil || fmt.Sprint(res.Values) != tt.want {
			t.Errorf("%s: %v, %v; want %v", tt.name, res.Values, res.Err, tt.want)
		}
	}
}

func TestHistoryErrors(t *testing.T) {
	m := sprintModel()
	at := []time.Time{d(-2), d(-1)}
	tests := []struct {
		name string
		q    HistoryQuery
		want string
	}{
		{"instants out of order", HistoryQuery{Query: Query{Metric: MetricWIP}, At: []time.Time{d(-1), d(-2)}}, "ascending"},
		{"a windowed metric without a window", HistoryQuery{Query: Query{Metric: MetricThroughput}, At: at}, "window"},
		{"an unknown board", HistoryQuery{Query: Query{Metric: MetricVelocity, Board: 42}, At: at}, "board 42"},
		{"a board without points", HistoryQuery{Query: Query{Metric: MetricVelocity, Board: 2}, At: at}, "story points"},
		{"a metric measured live", HistoryQuery{Query: Query{Metric: MetricJQLCount}, At: at}, "jql_count"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := m.History([]HistoryQuery{tt.q, {Query: Query{Metric: MetricWIP}, At: at}})
			if res[0].Err == nil || !strings.Contains(res[0].Err.Error(), tt.want) {
				t.Errorf("error = %v, want one about %q", res[0].Err, tt.want)
			}
			if len(res[0].Values) != len(tt.q.At) {
				t.Errorf("%d values for %d instants", len(res[0].Values), len(tt.q.At))
			}
			if res[1].Err != nil || len(res[1].Values) != len(at) {
				t.Errorf("the other query = %v, %v", res[1].Values, res[1].Err)
			}
		})
	}
}
