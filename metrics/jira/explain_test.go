package jira

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/okrd/okrd/metrics/explain"
)

// Every metric computed from records, over every scope, type filter,
// window, quantile, epic and sprint query of the as-of tests, at many
// instants and under each category override: the value recomputed from
// the listed rows equals the value, exactly. The metrics come from
// Metrics, so a metric added without an explanation fails here.
func TestEveryMetricIsRecomputedFromItsExplanation(t *testing.T) {
	w := genWorld(5, 300)
	rng := rand.New(rand.NewPCG(8, 9))
	ats := w.instantsOf(rng, 6, 8)
	cases := historyCases(w, false)
	covered := map[string]int{}
	for _, cs := range categorySets[:2] {
		m := w.model(cs.c)
		for _, c := range cases {
			for _, at := range ats {
				q := c.q
				if c.rule != (WindowRule{}) {
					q.Window = c.rule.At(at)
				}
				want, wantOK, wantErr := m.Value(q, at)
				e, err := m.Explain(q, at)
				if q.Metric == MetricJQLCount {
					if !errors.Is(err, ErrLive) {
						t.Fatalf("jql_count explained: %v", err)
					}
					covered[q.Metric]++
					continue
				}
				if (err != nil) != (wantErr != nil) {
					t.Fatalf("%s at %s: explain error %v, value error %v", c, at, err, wantErr)
				}
				if err != nil {
					continue
				}
				tab := e.Table(func(k string) string { return "https://jira.example.com/browse/" + k })
				got, gotOK := tab.Recompute()
				if e.Value != want || e.OK != wantOK || gotOK != wantOK || wantOK && got != want {
					t.Fatalf("%s at %s: value %v (ok %v); explained %v (ok %v); recomputed from %d rows %v (ok %v)",
						c, at.Format(time.RFC3339), want, wantOK, e.Value, e.OK, len(tab.Rows), got, gotOK)
				}
				checkIssueRows(t, m, q, e, at)
				if len(tab.Rows) > 0 {
					covered[q.Metric]++
				}
			}
		}
	}
	for _, metric := range Metrics {
		if covered[metric] == 0 {
			t.Errorf("%s: never explained by any row", metric)
		}
	}
}

// checkIssueRows checks the rows against the definitions from the
// issues themselves: listed once (per sprint), in the scope and the
// window, done or in progress as the metric needs, and the quantile's
// rows marked.
func checkIssueRows(t *testing.T, m *Model, q Query, e Explained, at time.Time) {
	t.Helper()
	seen := map[string]bool{}
	for _, r := range e.Issues {
		if seen[r.Key] {
			t.Fatalf("%s: %s listed twice", q.Metric, r.Key)
		}
		seen[r.Key] = true
		if r.Created.After(at) {
			t.Fatalf("%s at %s: %s created later, at %s", q.Metric, at, r.Key, r.Created)
		}
		switch q.Metric {
		case MetricThroughput, MetricLeadTime, MetricCycleTime:
			if !q.Window.Contains(r.Done) {
				t.Fatalf("%s: %s done %s outside %v", q.Metric, r.Key, r.Done, q.Window)
			}
			if q.Metric == MetricCycleTime && (r.Start.IsZero() || r.Start.After(r.Done)) {
				t.Fatalf("cycle time of %s without a start before its done time", r.Key)
			}
		case MetricInflow:
			if !q.Window.Contains(r.Created) {
				t.Fatalf("inflow: %s created %s outside %v", r.Key, r.Created, q.Window)
			}
		case MetricWIP, MetricWIPAge, MetricWIPAgeMax:
			is, _ := m.Issue(r.Key)
			if m.cats.of(statusAtTest(is, at)) != CategoryInProgress {
				t.Fatalf("%s: %s is not in progress at %s", q.Metric, r.Key, at)
			}
		}
	}
	for _, r := range e.SprintIssues {
		k := r.Key + "@" + r.Sprint.Name
		if seen[k] {
			t.Fatalf("%s: %s listed twice", q.Metric, k)
		}
		seen[k] = true
		if r.Committed == r.Added || r.Removed && r.Completed || r.Completed && !r.DoneAtEnd {
			t.Fatalf("%s: an impossible row %+v", q.Metric, r)
		}
		if !slices.Contains(e.Sprints, r.Sprint) {
			t.Fatalf("%s: %s of a sprint not covered", q.Metric, k)
		}
	}
	if e.Rule == explain.Quantile && e.OK {
		n := 0
		for _, r := range e.Issues {
			if r.Mark == explain.AtQuantile {
				n++
			}
		}
		if n < 1 || n > 2 {
			t.Fatalf("%s: %d rows marked at the quantile", q.Metric, n)
		}
	}
}

// By hand: a sprint with a committed issue completed, one removed and
// one added, and the lead times of three issues.
func TestExplainByHand(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	todo := Status{Name: "To Do", Category: CategoryToDo}
	prog := Status{Name: "In Progress", Category: CategoryInProgress}
	done := Status{Name: "Done", Category: CategoryDone}
	m := NewModel(Categories{})
	m.PutBoard(&Board{ID: 1, Name: "B", Type: "scrum", Projects: []string{"P"}, PointsField: "sp"})
	m.PutSprint(&Sprint{ID: 10, Board: 1, Name: "S1", State: "closed", Start: ptr(h(0)), End: ptr(h(100)), Complete: ptr(h(100))})
	pts := func(v float64) map[string]float64 { return map[string]float64{"sp": v} }
	// P-1: committed (3 points), done at h(50): completed. Lead 50 h
	// (created at h(0)).
	m.PutIssue(&Issue{Key: "P-1", Project: "P", Type: "Story", Created: h(0), Status: done, Sprints: []int{10}, Points: pts(3),
		Transitions: []Transition{{At: h(10), From: todo, To: prog}, {At: h(50), From: prog, To: done}}})
	// P-2: committed (5), moved out at h(20): removed. Created an hour
	// before the sprint.
	m.PutIssue(&Issue{Key: "P-2", Project: "P", Type: "Story", Created: h(-1), Status: todo, Points: pts(5),
		SprintChanges: []SprintChange{{At: h(20), From: []int{10}}}})
	// P-3: added at h(30) (2 points), done at h(60). Lead 60 h.
	m.PutIssue(&Issue{Key: "P-3", Project: "P", Type: "Bug", Created: h(0), Status: done, Sprints: []int{10}, Points: pts(2),
		SprintChanges: []SprintChange{{At: h(30), To: []int{10}}},
		Transitions:   []Transition{{At: h(40), From: todo, To: prog}, {At: h(60), From: prog, To: done}}})
	// P-4: done at h(90), straight from to do: lead 90 h, no cycle time.
	m.PutIssue(&Issue{Key: "P-4", Project: "P", Type: "Task", Created: h(0), Status: done,
		Transitions: []Transition{{At: h(90), From: todo, To: done}}})
	now := h(200)

	e, err := m.Explain(Query{Metric: MetricSprintSayDo, Board: 1}, now)
	if err != nil {
		t.Fatal(err)
	}
	// Committed P-1 and P-2, completed P-1: 1/2.
	byKey := map[string]SprintIssueRow{}
	for _, r := range e.SprintIssues {
		byKey[r.Key] = r
	}
	if e.Value != 0.5 || len(e.SprintIssues) != 3 || !byKey["P-1"].Completed || !byKey["P-2"].Removed || !byKey["P-3"].Added ||
		byKey["P-3"].Weight != 0 || byKey["P-2"].Weight != 1 || byKey["P-1"].Contribution != 1 {
		t.Fatalf("say/do %v from %+v", e.Value, e.SprintIssues)
	}
	// Velocity: P-1 (3) and P-3 (2) done at completion = 5 points.
	e, err = m.Explain(Query{Metric: MetricVelocity, Board: 1}, now)
	if err != nil || e.Value != 5 || e.Divisor != 1 {
		t.Fatalf("velocity %+v, %v", e, err)
	}
	// Lead times 50, 60, 90 h: p50 60 h, read from P-3, with P-1 and P-4
	// its neighbours.
	e, err = m.Explain(Query{Metric: MetricLeadTime, Window: Window{From: h(0), To: now}}, now)
	if err != nil || e.Value != 60*3600 {
		t.Fatalf("lead time %+v, %v", e, err)
	}
	marks := map[string]explain.Mark{}
	for _, r := range e.Issues {
		marks[r.Key] = r.Mark
	}
	if marks["P-3"] != explain.AtQuantile || marks["P-1"] != explain.Neighbour || marks["P-4"] != explain.Neighbour {
		t.Fatalf("marks %v", marks)
	}
	// Cycle time: P-1 40 h, P-3 20 h; P-4 never started.
	e, err = m.Explain(Query{Metric: MetricCycleTime, Window: Window{From: h(0), To: now}}, now)
	if err != nil || len(e.Issues) != 2 || e.Value != 30*3600 {
		t.Fatalf("cycle time %+v, %v", e, err)
	}
	tab := e.Table(func(k string) string { return "https://jira.example.com/browse/" + k })
	if tab.Rows[0].Link != "https://jira.example.com/browse/"+e.Issues[0].Key || tab.Columns[len(tab.Columns)-1].Kind != explain.Duration {
		t.Fatalf("table %+v", tab)
	}
	// WIP at h(45): P-1 (since h(10)) and P-3 (since h(40)).
	e, err = m.Explain(Query{Metric: MetricWIPAgeMax}, h(45))
	if err != nil || len(e.Issues) != 2 || e.Value != 35*3600 || e.Issues[0].Status != "In Progress" {
		t.Fatalf("wip age max %+v, %v", e, err)
	}
	if _, err := m.Explain(Query{Metric: MetricJQLCount}, now); !errors.Is(err, ErrLive) {
		t.Fatalf("jql_count: %v", err)
	}
}
