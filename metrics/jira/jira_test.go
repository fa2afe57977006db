package jira

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

const day = 24 * time.Hour

// now is the fixed "now" of every test; UTC keeps every day 24 hours long.
var now = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// d returns now plus x days (x is usually negative).
func d(x float64) time.Time { return now.Add(time.Duration(x * float64(day))) }

func dp(x float64) *time.Time { t := d(x); return &t }

func fp(v float64) *float64 { return &v }

var (
	toDo       = Status{ID: "1", Name: "To Do", Category: CategoryToDo}
	inProgress = Status{ID: "3", Name: "In Progress", Category: CategoryInProgress}
	review     = Status{ID: "4", Name: "Review", Category: CategoryInProgress}
	done       = Status{ID: "5", Name: "Done", Category: CategoryDone}
	closed     = Status{ID: "6", Name: "Closed", Category: CategoryDone}
)

func tr(x float64, from, to Status) Transition { return Transition{At: d(x), From: from, To: to} }

// flowIssues is the flow fixture. Per issue: created, transitions, and the
// figures the tests expect (days before now).
func flowIssues() []*Issue {
	return []*Issue{
		// done -10, start -15: lead 10, cycle 5.
		{Key: "PAY-1", Project: "PAY", Type: "Story", Created: d(-20), Status: done, Parent: "PAY-100", Points: map[string]float64{"sp": 3},
			Transitions: []Transition{tr(-15, toDo, inProgress), tr(-10, inProgress, done)}},
		// Reopened: done at -30, back in progress at -25, done again at
		// -5. Done time -5 (the final stretch), start -35: lead 35, cycle 30.
		{Key: "PAY-2", Project: "PAY", Type: "Bug", Created: d(-40), Status: done,
			Transitions: []Transition{tr(-35, toDo, inProgress), tr(-30, inProgress, done), tr(-25, done, inProgress), tr(-5, inProgress, done)}},
		// Straight from to-do to done at -2: lead 10, no cycle time.
		{Key: "PAY-3", Project: "PAY", Type: "Story", Created: d(-12), Status: done, Epic: "PAY-100", Points: map[string]float64{"sp": 2},
			Transitions: []Transition{tr(-2, toDo, done)}},
		// In progress since -6.
		{Key: "PAY-4", Project: "PAY", Type: "Story", Created: d(-9), Status: inProgress, Parent: "PAY-100", Points: map[string]float64{"sp": 5},
			Transitions: []Transition{tr(-6, toDo, inProgress)}},
		// In review since -1.
		{Key: "PAY-5", Project: "PAY", Type: "Bug", Created: d(-3), Status: review,
			Transitions: []Transition{tr(-1, toDo, review)}},
		// Done exactly 90 days ago: outside the 90-day window (From < t).
		{Key: "PAY-6", Project: "PAY", Type: "Task", Created: d(-100), Status: done,
			Transitions: []Transition{tr(-95, toDo, inProgress), tr(-90, inProgress, done)}},
		// Done with no changelog: resolutiondate -7 (lead 43), no start;
		// exactly 7 days ago, so outside the 7-day window.
		{Key: "PAY-7", Project: "PAY", Type: "Story", Created: d(-50), Status: done, Resolved: dp(-7)},
		// Created exactly 28 days ago: outside the 28-day inflow.
		{Key: "PAY-8", Project: "PAY", Type: "Story", Created: d(-28), Status: toDo},
		// Done -> Closed does not move the done time (-8): lead 22, cycle 12.
		{Key: "PAY-9", Project: "PAY", Type: "Story", Created: d(-30), Status: closed,
			Transitions: []Transition{tr(-20, toDo, inProgress), tr(-8, inProgress, done), tr(-4, done, closed)}},
		// A sub-task of PAY-1: not an epic child.
		{Key: "PAY-10", Project: "PAY", Type: "Sub-task", Subtask: true, Created: d(-60), Status: toDo, Parent: "PAY-1"},
		{Key: "PAY-100", Project: "PAY", Type: "Epic", Created: d(-60), Status: toDo},
		// Another project: lead 4, cycle 3.
		{Key: "WEB-1", Project: "WEB", Type: "Story", Created: d(-5), Status: done,
			Transitions: []Transition{tr(-4, toDo, inProgress), tr(-1, inProgress, done)}},
		// Outside the source's scope (fetched for a sprint): never counted.
		{Key: "OPS-1", Project: "OPS", Type: "Story", Created: d(-5), Status: done, Outside: true,
			Transitions: []Transition{tr(-4, toDo, inProgress), tr(-1, inProgress, done)}},
	}
}

func flowModel(c Categories) *Model {
	m := NewModel(c)
	for _, is := range flowIssues() {
		m.PutIssue(is)
	}
	m.PutBoard(&Board{ID: 7, Name: "PAY board", Type: "kanban", Projects: []string{"pay"}})
	m.PutBoard(&Board{ID: 8, Name: "Cross-team", Type: "kanban", ByFilter: true})
	// Board 8 selects PAY-2 and WEB-1 by filter.
	for _, k := range []string{"PAY-2", "WEB-1"} {
		is, _ := m.Issue(k)
		is.Boards = []int{8}
		m.PutIssue(is)
	}
	return m
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-6 }

func TestFlowMetrics(t *testing.T) {
	m := flowModel(Categories{})
	w28 := LastDays(now, 28*day)
	w7 := LastDays(now, 7*day)
	w90 := LastDays(now, 90*day)
	days := func(x float64) float64 { return x * day.Seconds() }
	tests := []struct {
		name string
		q    Query
		want float64
		ok   bool
	}{
		// Done in (now-28d, now]: PAY-1, PAY-2, PAY-3, PAY-7, PAY-9, WEB-1.
		{"throughput over 28 days counts every project", Query{Metric: MetricThroughput, Window: w28}, 6, true},
		// PAY-6 was done exactly 90 days ago, which is not in the window.
		{"throughput over 90 days excludes the lower bound", Query{Metric: MetricThroughput, Window: w90}, 6, true},
		// PAY-2 (-5), PAY-3 (-2), WEB-1 (-1); PAY-7 (-7) is on the bound.
		{"throughput over 7 days", Query{Metric: MetricThroughput, Window: w7}, 3, true},
		{"throughput of one project", Query{Metric: MetricThroughput, Window: w28, Filter: Filter{Scope: "PAY"}}, 5, true},
		{"throughput of stories in one project", Query{Metric: MetricThroughput, Window: w28, Filter: Filter{Scope: "pay", IssueTypes: []string{"story"}}}, 4, true},
		{"throughput of bugs", Query{Metric: MetricThroughput, Window: w28, Filter: Filter{IssueTypes: []string{"Bug"}}}, 1, true},
		// Board 7 is a project board of PAY.
		{"throughput of a project board", Query{Metric: MetricThroughput, Window: w28, Filter: Filter{Scope: "board:7"}}, 5, true},
		// Board 8 selects PAY-2 and WEB-1 by its filter.
		{"throughput of a filter board", Query{Metric: MetricThroughput, Window: w28, Filter: Filter{Scope: "board:8"}}, 2, true},
		{"an unknown board selects nothing", Query{Metric: MetricThroughput, Window: w28, Filter: Filter{Scope: "board:99"}}, 0, true},
		// Lead times in days: 4, 10, 10, 22, 35, 43; rank 0.5*5 = 2.5:
		// 10 + 0.5*(22-10) = 16.
		{"median lead time", Query{Metric: MetricLeadTime, Window: w28}, days(16), true},
		// rank 0.85*5 = 4.25: 35 + 0.25*(43-35) = 37.
		{"p85 lead time", Query{Metric: MetricLeadTime, Window: w28, Quantile: 0.85}, days(37), true},
		// rank 0.95*5 = 4.75: 35 + 0.75*8 = 41.
		{"p95 lead time", Query{Metric: MetricLeadTime, Window: w28, Quantile: 0.95}, days(41), true},
		// Cycle times in days: 3 (WEB-1), 5 (PAY-1), 12 (PAY-9), 30
		// (PAY-2); PAY-3 and PAY-7 never started. rank 1.5: 5 + 0.5*7.
		{"median cycle time leaves out issues that never started", Query{Metric: MetricCycleTime, Window: w28}, days(8.5), true},
		// rank 0.85*3 = 2.55: 12 + 0.55*18 = 21.9.
		{"p85 cycle time", Query{Metric: MetricCycleTime, Window: w28, Quantile: 0.85}, days(21.9), true},
		{"cycle time of an empty set has no value", Query{Metric: MetricCycleTime, Window: w28, Filter: Filter{IssueTypes: []string{"Task"}}}, 0, false},
		{"work in progress", Query{Metric: MetricWIP}, 2, true},
		{"work in progress of another project", Query{Metric: MetricWIP, Filter: Filter{Scope: "WEB"}}, 0, true},
		// Ages 1 (PAY-5) and 6 (PAY-4) days: median 3.5, max 6.
		{"median WIP age", Query{Metric: MetricWIPAge}, days(3.5), true},
		{"oldest WIP", Query{Metric: MetricWIPAgeMax}, days(6), true},
		// Created in (now-28d, now]: PAY-1, PAY-3, PAY-4, PAY-5, WEB-1;
		// PAY-8 on the bound.
		{"inflow over 28 days", Query{Metric: MetricInflow, Window: w28}, 5, true},
		{"bug inflow", Query{Metric: MetricInflow, Window: w28, Filter: Filter{IssueTypes: []string{"bug"}}}, 1, true},
		// Children of PAY-100: PAY-1 (done, 3), PAY-3 (Epic Link, done,
		// 2), PAY-4 (5); the sub-task PAY-10 is not one. 2/3 by count,
		// (3+2)/(3+2+5) by points.
		{"epic progress by count", Query{Metric: MetricEpicProgress, Epic: "PAY-100"}, 2.0 / 3, true},
		{"epic progress by points", Query{Metric: MetricEpicProgress, Epic: "PAY-100", ByPoints: true, PointsField: "sp"}, 0.5, true},
		{"an epic without children has no progress", Query{Metric: MetricEpicProgress, Epic: "PAY-404"}, 0, false},
		{"a period window counts from its start", Query{Metric: MetricThroughput, Window: Window{From: d(-9), To: d(-3)}}, 3, true}, // PAY-2, PAY-7, PAY-9
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := m.Value(tt.q, now)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tt.ok || !near(got, tt.want) {
				t.Errorf("Value = %v, %v; want %v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestCategoryOverrides(t *testing.T) {
	// Only "Closed" is done: "Done" now counts as in progress, so PAY-1,
	// PAY-2, PAY-3 and WEB-1 (current status Done) are work in progress,
	// and PAY-9 is done when it entered Closed (-4), not Done (-8).
	m := flowModel(Categories{Done: []string{"closed"}})
	w28 := LastDays(now, 28*day)
	// PAY-9 only (PAY-7's status is Done: not done any more).
	if got, _, _ := m.Value(Query{Metric: MetricThroughput, Window: w28}, now); got != 1 {
		t.Errorf("throughput = %v, want 1", got)
	}
	// PAY-9: created -30, entered Closed from Done (in progress now) at -4:
	// lead 26 days.
	if got, _, _ := m.Value(Query{Metric: MetricLeadTime, Window: w28}, now); !near(got, 26*day.Seconds()) {
		t.Errorf("lead time = %v days, want 26", got/day.Seconds())
	}
	// PAY-1, PAY-2, PAY-3, PAY-4, PAY-5, PAY-6, PAY-7, WEB-1.
	if got, _, _ := m.Value(Query{Metric: MetricWIP}, now); got != 8 {
		t.Errorf("wip = %v, want 8", got)
	}

	// Only "Review" starts work: In Progress counts as to do.
	m = flowModel(Categories{Start: []string{"Review"}})
	// PAY-5 is the only work in progress.
	if got, _, _ := m.Value(Query{Metric: MetricWIP}, now); got != 1 {
		t.Errorf("wip with start statuses = %v, want 1", got)
	}
	// No issue done in the window went through Review: no cycle time.
	if _, ok, _ := m.Value(Query{Metric: MetricCycleTime, Window: w28}, now); ok {
		t.Error("cycle time without any started issue must have no value")
	}
}

// sprintModel is the sprint fixture: board 1 estimates in "sp"; sprint 10
// ran from -14 to -1, sprint 9 from -28 to -14, sprint 11 is active.
func sprintModel() *Model {
	m := NewModel(Categories{})
	m.PutBoard(&Board{ID: 1, Name: "PAY", Type: "scrum", Projects: []string{"PAY"}, PointsField: "sp"})
	m.PutBoard(&Board{ID: 2, Name: "Kanban", Type: "kanban", Projects: []string{"PAY"}})
	m.PutSprint(&Sprint{ID: 9, Board: 1, Name: "Sprint 9", State: "closed", Start: dp(-28), End: dp(-14), Complete: dp(-14)})
	m.PutSprint(&Sprint{ID: 10, Board: 1, Name: "Sprint 10", State: "closed", Start: dp(-14), End: dp(-1), Complete: dp(-1),
		Issues: []string{"S-1", "S-2", "S-3", "S-5", "S-7", "S-8"}, Listed: true})
	m.PutSprint(&Sprint{ID: 11, Board: 1, Name: "Sprint 11", State: "active", Start: dp(-1), End: dp(13)})
	sc := func(x float64, from, to []int) SprintChange { return SprintChange{At: d(x), From: from, To: to} }
	issues := []*Issue{
		// Committed (joined -20), done -5: completed, 3 points.
		{Key: "S-1", Project: "PAY", Type: "Story", Created: d(-25), Status: done, Sprints: []int{10},
			SprintChanges: []SprintChange{sc(-20, nil, []int{10})}, Points: map[string]float64{"sp": 3},
			Transitions: []Transition{tr(-5, toDo, done)}},
		// Created into the sprint before it started; re-estimated 5 -> 8
		// at -10; not done, carried over to sprint 11 just after the close.
		{Key: "S-2", Project: "PAY", Type: "Story", Created: d(-30), Status: inProgress, Sprints: []int{10, 11},
			SprintChanges: []SprintChange{{At: d(-1).Add(time.Second), From: []int{10}, To: []int{10, 11}}},
			Points:        map[string]float64{"sp": 8}, PointChanges: []PointChange{{At: d(-10), Field: "sp", From: fp(5), To: fp(8)}},
			Transitions: []Transition{tr(-12, toDo, inProgress)}},
		// Added at -7, done -3: 2 points.
		{Key: "S-3", Project: "PAY", Type: "Story", Created: d(-9), Status: done, Sprints: []int{10},
			SprintChanges: []SprintChange{sc(-7, nil, []int{10})}, Points: map[string]float64{"sp": 2},
			Transitions: []Transition{tr(-3, toDo, done)}},
		// Committed (-16), removed -8, done -6 elsewhere: removed, not completed.
		{Key: "S-4", Project: "PAY", Type: "Story", Created: d(-18), Status: done,
			SprintChanges: []SprintChange{sc(-16, nil, []int{10}), sc(-8, []int{10}, nil)}, Points: map[string]float64{"sp": 1},
			Transitions: []Transition{tr(-6, toDo, done)}},
		// Created into the running sprint at -4, unestimated, done -2: added.
		{Key: "S-5", Project: "PAY", Type: "Bug", Created: d(-4), Status: done, Sprints: []int{10},
			Transitions: []Transition{tr(-2, toDo, done)}},
		// A sub-task: left out.
		{Key: "S-6", Project: "PAY", Type: "Sub-task", Subtask: true, Created: d(-20), Status: done, Sprints: []int{10},
			Transitions: []Transition{tr(-5, toDo, done)}},
		// Another project's issue in the sprint (outside the source's
		// scope): committed (-15), done -9, 1 point.
		{Key: "S-7", Project: "OPS", Type: "Story", Created: d(-20), Status: done, Outside: true, Sprints: []int{10},
			SprintChanges: []SprintChange{sc(-15, nil, []int{10})}, Points: map[string]float64{"sp": 1},
			Transitions: []Transition{tr(-9, toDo, done)}},
		// Named by the sprint's issue list only (no Sprint field data):
		// in the sprint since its creation, done -12, unestimated.
		{Key: "S-8", Project: "PAY", Type: "Story", Created: d(-20), Status: done,
			Transitions: []Transition{tr(-12, toDo, done)}},
		// Sprint 9: committed (-30), 4 points, done -20.
		{Key: "S-9", Project: "PAY", Type: "Story", Created: d(-31), Status: done, Sprints: []int{9},
			SprintChanges: []SprintChange{sc(-30, nil, []int{9})}, Points: map[string]float64{"sp": 4},
			Transitions: []Transition{tr(-20, toDo, done)}},
	}
	for _, is := range issues {
		m.PutIssue(is)
	}
	return m
}

func TestSprintReport(t *testing.T) {
	m := sprintModel()
	latest := m.ClosedSprints(1, 0)
	if len(latest) != 2 || latest[0].ID != 10 || latest[1].ID != 9 {
		t.Fatalf("closed sprints = %v, want 10 then 9", latest)
	}
	r := m.SprintReports(latest[:1])[0]
	// Committed: S-1, S-2, S-4, S-7, S-8. Completed: S-1, S-7, S-8.
	// Added: S-3, S-5. Removed: S-4.
	// Committed points at the start: 3 + 5 + 1 + 1 + 0 = 10.
	// Completed points: 3 + 1 + 0 = 4. Added points: 2 + 0 = 2.
	// Velocity: 4 + 2 (S-3) + 0 (S-5) = 6.
	want := SprintReport{Sprint: latest[0], Committed: 5, Completed: 3, Added: 2, Removed: 1, HasPoints: true,
		CommittedPoints: 10, CompletedPoints: 4, AddedPoints: 2, Velocity: 6}
	if r != want {
		t.Errorf("report =\n%+v\nwant\n%+v", r, want)
	}
	if v, ok := r.SayDo(); !ok || !near(v, 0.6) {
		t.Errorf("say/do = %v, want 3/5", v)
	}
	if v, ok := r.SayDoPoints(); !ok || !near(v, 0.4) {
		t.Errorf("say/do by points = %v, want 4/10", v)
	}
}

func TestSprintMetrics(t *testing.T) {
	m := sprintModel()
	tests := []struct {
		name string
		q    Query
		want float64
		ok   bool
	}{
		// Sprint 10: velocity 6; sprint 9: 4. Mean (6+4)/2.
		{"velocity is the mean over the latest sprints", Query{Metric: MetricVelocity, Board: 1}, 5, true},
		{"velocity of the latest sprint", Query{Metric: MetricVelocity, Board: 1, Sprints: 1}, 6, true},
		// Committed 5 and 1: mean 3.
		{"commitment by count", Query{Metric: MetricSprintCommitment, Board: 1}, 3, true},
		// 10 and 4 points: mean 7.
		{"commitment by points", Query{Metric: MetricSprintCommitment, Board: 1, ByPoints: true}, 7, true},
		// Completed 3 and 1: mean 2.
		{"completed by count", Query{Metric: MetricSprintCompleted, Board: 1}, 2, true},
		{"added by count", Query{Metric: MetricSprintAdded, Board: 1}, 1, true},
		// (3+1) / (5+1).
		{"say/do over sprints is the ratio of sums", Query{Metric: MetricSprintSayDo, Board: 1}, 4.0 / 6, true},
		// (4+4) / (10+4).
		{"say/do by points", Query{Metric: MetricSprintSayDo, Board: 1, ByPoints: true}, 8.0 / 14, true},
		{"a board without closed sprints has no value", Query{Metric: MetricSprintCommitment, Board: 2}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := m.Value(tt.q, now)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tt.ok || !near(got, tt.want) {
				t.Errorf("Value = %v, %v; want %v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}

	errs := []struct {
		name string
		q    Query
	}{
		{"velocity of a board without points", Query{Metric: MetricVelocity, Board: 2}},
		{"an unknown board", Query{Metric: MetricVelocity, Board: 42}},
		{"an unknown metric", Query{Metric: "happiness"}},
		{"epic progress by points without a field", Query{Metric: MetricEpicProgress, Epic: "X-1", ByPoints: true}},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := m.Value(tt.q, now); err == nil {
				t.Error("want an error")
			}
		})
	}
}

func TestExportLeavesEmptySetsOut(t *testing.T) {
	// Only to-do issues: counts are 0, but no quantile or age series
	// exists (an empty set has no value, never 0).
	m := NewModel(Categories{})
	m.PutIssue(&Issue{Key: "PAY-1", Project: "PAY", Type: "Story", Created: d(-3), Status: toDo})
	e := NewExporter("jira")
	e.Update(m, now, DefaultExportOptions())
	// Per scope (all, PAY): throughput and inflow for Story and all in 3
	// windows (2*3 each), and wip: 2*(6+6+1) = 26 series.
	if got := e.Len(); got != 26 {
		t.Errorf("series = %d, want 26", got)
	}
	ch := make(chan prometheus.Metric, 100)
	e.Collect(ch)
	close(ch)
	for metric := range ch {
		if d := metric.Desc().String(); strings.Contains(d, "_time_seconds") || strings.Contains(d, "wip_age") {
			t.Errorf("an empty set is exported: %s", d)
		}
	}
}

// investmentIssues: five issues done in the last 28 days and one before.
func investmentIssues() []*Issue {
	doneAt := func(x float64) []Transition { return []Transition{tr(x, toDo, done)} }
	return []*Issue{
		{Key: "PAY-1", Project: "PAY", Type: "Bug", Created: d(-30), Status: done, Points: map[string]float64{"sp": 3}, Transitions: doneAt(-1)},
		{Key: "PAY-2", Project: "PAY", Type: "Story", Labels: []string{"Tech-Debt"}, Created: d(-30), Status: done, Points: map[string]float64{"sp": 5}, Transitions: doneAt(-2)},
		{Key: "PAY-3", Project: "PAY", Type: "Story", Parent: "PAY-100", Created: d(-30), Status: done,
			// Estimated 8 when it was done; re-estimated afterwards.
			Points: map[string]float64{"sp": 13}, PointChanges: []PointChange{{At: d(-1), Field: "sp", From: fp(8), To: fp(13)}}, Transitions: doneAt(-3)},
		{Key: "WEB-4", Project: "WEB", Type: "Story", Created: d(-30), Status: done, Transitions: doneAt(-4)},
		// A bug with a maintenance label: bugs comes first.
		{Key: "WEB-5", Project: "WEB", Type: "bug", Labels: []string{"tech-debt"}, Created: d(-30), Status: done, Points: map[string]float64{"sp": 2}, Transitions: doneAt(-5)},
		{Key: "PAY-6", Project: "PAY", Type: "Bug", Created: d(-60), Status: done, Transitions: doneAt(-40)},
		{Key: "PAY-7", Project: "PAY", Type: "Bug", Created: d(-10), Status: inProgress, Transitions: []Transition{tr(-5, toDo, inProgress)}},
		{Key: "PAY-100", Project: "PAY", Type: "Epic", Created: d(-60), Status: toDo},
	}
}

func investmentCategories(field string) *Investment {
	return &Investment{PointsField: field, Categories: []Category{
		{Name: "bugs", IssueTypes: []string{"Bug"}},
		{Name: "maintenance", Labels: []string{"tech-debt"}},
		{Name: "new", Epics: []string{"PAY-100"}},
	}}
}

func TestInvestmentSharesByHand(t *testing.T) {
	m := NewModel(Categories{})
	for _, is := range investmentIssues() {
		m.PutIssue(is)
	}
	for _, tc := range []struct {
		name      string
		field     string
		scope     string
		wantPer   []float64 // bugs, maintenance, new, other
		wantTotal float64
	}{
		// PAY-1 and WEB-5 are bugs, PAY-2 maintenance, PAY-3 new, WEB-4
		// other; PAY-6 was done before the window, PAY-7 is not done.
		{"by count", "", "", []float64{2, 1, 1, 1}, 5},
		// 3 + 2 bug points, 5, the 8 PAY-3 had when done, WEB-4 has none.
		{"by points", "sp", "", []float64{5, 5, 8, 0}, 18},
		{"by count in one project", "", "WEB", []float64{1, 0, 0, 1}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := investmentCategories(tc.field)
			per, total := m.InvestmentOf(inv, Filter{Scope: tc.scope}, LastDays(now, 28*day), now)
			if total != tc.wantTotal || fmt.Sprint(per) != fmt.Sprint(tc.wantPer) {
				t.Fatalf("InvestmentOf = %v, %v; want %v, %v", per, total, tc.wantPer, tc.wantTotal)
			}
			for ci, name := range inv.Names() {
				v, ok, err := m.Value(Query{Metric: MetricInvestmentShare, Filter: Filter{Scope: tc.scope}, Window: LastDays(now, 28*day),
					Investment: inv, Category: name}, now)
				if err != nil || !ok || v != tc.wantPer[ci]/tc.wantTotal {
					t.Errorf("share of %s = %v, %v, %v; want %v", name, v, ok, err, tc.wantPer[ci]/tc.wantTotal)
				}
			}
		})
	}
	// A week ago only WEB-5 (done -5) was done within the 7 days before.
	if v, ok, _ := m.Value(Query{Metric: MetricInvestmentShare, Window: LastDays(d(-4.5), 7*day), Investment: investmentCategories(""), Category: "bugs"}, d(-4.5)); !ok || v != 1 {
		t.Errorf("share of bugs 4.5 days ago = %v, %v; want 1", v, ok)
	}
	// No throughput: no value, not 0.
	if _, ok, err := m.Value(Query{Metric: MetricInvestmentShare, Window: LastDays(d(-100), 7*day), Investment: investmentCategories(""), Category: "bugs"}, d(-100)); ok || err != nil {
		t.Errorf("share without throughput: ok %v, err %v; want no value", ok, err)
	}
	if _, _, err := m.Value(Query{Metric: MetricInvestmentShare, Window: LastDays(now, 7*day), Investment: investmentCategories(""), Category: "ops"}, now); err == nil ||
		!strings.Contains(err.Error(), `unknown investment category "ops" (categories: bugs, maintenance, new, other)`) {
		t.Errorf("unknown category: %v", err)
	}
	e := NewExporter("jira")
	opts := DefaultExportOptions()
	opts.Investment = investmentCategories("")
	e.Update(m, now, opts)
	got := gatherExport(t, e)
	for _, want := range []string{
		`okrd_jira_investment_share_ratio{category="bugs",scope="all",source="jira",team="",window="28d"} 0.4`,
		`okrd_jira_investment_share_ratio{category="other",scope="WEB",source="jira",team="",window="28d"} 0.5`,
		`okrd_jira_investment_throughput{category="maintenance",scope="PAY",source="jira",team="",window="7d"} 1`,
		`okrd_jira_investment_throughput{category="bugs",scope="all",source="jira",team="",window="90d"} 3`,
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("export lacks %s", want)
		}
	}
}

func TestEpicCountsAndDoneChildren(t *testing.T) {
	m := flowModel(Categories{})
	// PAY-100's children: PAY-1 (done -10, 3 points), PAY-3 (done -2 by
	// Epic Link, 2 points), PAY-4 (in progress, 5 points); PAY-10 is a
	// sub-task.
	if done, all := m.EpicCounts("PAY-100", "", now); done != 2 || all != 3 {
		t.Errorf("EpicCounts by count = %v/%v, want 2/3", done, all)
	}
	if done, all := m.EpicCounts("PAY-100", "sp", now); done != 5 || all != 10 {
		t.Errorf("EpicCounts by points = %v/%v, want 5/10", done, all)
	}
	got := fmt.Sprint(m.EpicDone("PAY-100", d(-5)))
	if want := fmt.Sprint([]DoneIssue{{Key: "PAY-1", DoneAt: d(-10).UTC()}}); got != want {
		t.Errorf("EpicDone 5 days ago = %s, want %s", got, want)
	}
	got = fmt.Sprint(m.DoneAmong([]string{"WEB-1", "PAY-4", "NOPE-1", "PAY-9", "WEB-1"}, now))
	if want := fmt.Sprint([]DoneIssue{{Key: "PAY-9", DoneAt: d(-8).UTC()}, {Key: "WEB-1", DoneAt: d(-1).UTC()}}); got != want {
		t.Errorf("DoneAmong = %s, want %s", got, want)
	}
}
