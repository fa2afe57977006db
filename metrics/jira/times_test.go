package jira

import (
	"math"
	"testing"
	"time"
)

// TestStartAndDoneTimes checks each case of METRICS.md's start time and
// done time on one issue at a time. Times are days before now; NaN means
// none.
func TestStartAndDoneTimes(t *testing.T) {
	none := math.NaN()
	tests := []struct {
		name        string
		cats        Categories
		is          Issue
		start, done float64
	}{
		{"an issue created in an in-progress status starts at its creation, not at its move to another one",
			Categories{}, Issue{Created: d(-10), Status: review, Transitions: []Transition{tr(-4, inProgress, review)}},
			-10, none},
		{"an issue created in progress without a changelog starts at its creation",
			Categories{}, Issue{Created: d(-5), Status: inProgress}, -5, none},
		{"an issue created in progress, sent back to to-do and restarted starts at its creation",
			Categories{}, Issue{Created: d(-10), Status: inProgress, Transitions: []Transition{tr(-8, inProgress, toDo), tr(-5, toDo, inProgress)}},
			-10, none},
		{"an issue created in to-do starts at its first move into progress",
			Categories{}, Issue{Created: d(-10), Status: review, Transitions: []Transition{tr(-7, toDo, inProgress), tr(-3, inProgress, review)}},
			-7, none},
		{"an issue that goes straight from to-do to done has no start",
			Categories{}, Issue{Created: d(-10), Status: done, Transitions: []Transition{tr(-2, toDo, done)}},
			none, -2},
		{"an issue created in progress and done is done at its move into done",
			Categories{}, Issue{Created: d(-10), Status: done, Transitions: []Transition{tr(-6, inProgress, review), tr(-2, review, done)}},
			-10, -2},
		{"a move between done statuses does not re-date the done time",
			Categories{}, Issue{Created: d(-10), Status: closed, Transitions: []Transition{tr(-8, toDo, inProgress), tr(-6, inProgress, done), tr(-2, done, closed)}},
			-8, -6},
		{"a reopened issue is done at the start of its final stretch in done statuses",
			Categories{}, Issue{Created: d(-20), Status: closed, Transitions: []Transition{
				tr(-15, toDo, inProgress), tr(-10, inProgress, done), tr(-8, done, inProgress), tr(-4, inProgress, done), tr(-1, done, closed)}},
			-15, -4},
		{"a reopened issue now in progress is not done and keeps its first start",
			Categories{}, Issue{Created: d(-20), Status: inProgress, Transitions: []Transition{
				tr(-15, toDo, inProgress), tr(-10, inProgress, done), tr(-3, done, inProgress)}},
			-15, none},
		{"a done issue without a changelog is done at its resolution date",
			Categories{}, Issue{Created: d(-9), Status: done, Resolved: dp(-3)}, none, -3},
		{"a resolution date does not override the changelog",
			Categories{}, Issue{Created: d(-9), Status: done, Resolved: dp(-1), Transitions: []Transition{tr(-3, toDo, done)}},
			none, -3},
		// Under start_statuses = ["Review"], In Progress counts as to do:
		// the issue was created in to do and starts when it enters Review.
		{"start statuses decide whether the creation status was in progress",
			Categories{Start: []string{"Review"}}, Issue{Created: d(-10), Status: review, Transitions: []Transition{tr(-4, inProgress, review)}},
			-4, none},
	}
	at := func(x float64) time.Time {
		if math.IsNaN(x) {
			return time.Time{}
		}
		return d(x)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			is := tt.is
			is.Key, is.Project, is.Type = "PAY-1", "PAY", "Story"
			f := derive(&is, tt.cats.compile())
			if want := at(tt.start); !f.startTime().Equal(want) {
				t.Errorf("start = %v, want %v", f.startTime(), want)
			}
			if want := at(tt.done); !f.doneTime().Equal(want) {
				t.Errorf("done = %v, want %v", f.doneTime(), want)
			}
		})
	}
}

// TestCreatedInProgressCountsFromCreation checks the cycle time and WIP age
// of issues created directly in an in-progress status that later moved to
// another one: both count from the creation.
func TestCreatedInProgressCountsFromCreation(t *testing.T) {
	m := NewModel(Categories{})
	// Created in In Progress at -10, in Review since -4: in progress for
	// 10 days, not 4.
	m.PutIssue(&Issue{Key: "PAY-1", Project: "PAY", Type: "Story", Created: d(-10), Status: review,
		Transitions: []Transition{tr(-4, inProgress, review)}})
	// Created in In Progress at -12, in Review at -6, done at -2: cycle
	// time 12 - 2 = 10 days, not 6 - 2 = 4.
	m.PutIssue(&Issue{Key: "PAY-2", Project: "PAY", Type: "Story", Created: d(-12), Status: done,
		Transitions: []Transition{tr(-6, inProgress, review), tr(-2, review, done)}})
	w28 := LastDays(now, 28*day)
	tests := []struct {
		name string
		q    Query
		days float64
	}{
		{"cycle time", Query{Metric: MetricCycleTime, Window: w28}, 10},
		{"lead time", Query{Metric: MetricLeadTime, Window: w28}, 10},
		{"WIP age", Query{Metric: MetricWIPAge}, 10},
		{"oldest WIP", Query{Metric: MetricWIPAgeMax}, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := m.Value(tt.q, now)
			if err != nil || !ok {
				t.Fatalf("Value = %v, %v, %v", got, ok, err)
			}
			if !near(got, tt.days*day.Seconds()) {
				t.Errorf("%s = %v days, want %v", tt.name, got/day.Seconds(), tt.days)
			}
		})
	}
}

// TestSprintRemovedVersusCompleted checks METRICS.md's reading of a
// sprint's completion: completed means in the sprint and done at its
// completeDate; a committed issue that left before the completion is
// removed even if it was done while in the sprint.
func TestSprintRemovedVersusCompleted(t *testing.T) {
	m := NewModel(Categories{})
	m.PutBoard(&Board{ID: 1, Name: "PAY", Type: "scrum", Projects: []string{"PAY"}, PointsField: "sp"})
	m.PutSprint(&Sprint{ID: 20, Board: 1, Name: "Sprint 20", State: "closed", Start: dp(-14), End: dp(-1), Complete: dp(-1)})
	in := []int{20}
	sc := func(x float64, from, to []int) SprintChange { return SprintChange{At: d(x), From: from, To: to} }
	sp := func(v float64) map[string]float64 { return map[string]float64{"sp": v} }
	for _, is := range []*Issue{
		// Committed, done at -5 inside the sprint, moved out at -3:
		// removed, not completed.
		{Key: "S-1", Project: "PAY", Type: "Story", Created: d(-20), Status: done, Points: sp(1),
			SprintChanges: []SprintChange{sc(-20, nil, in), sc(-3, in, nil)}, Transitions: []Transition{tr(-5, toDo, done)}},
		// Committed, still in the sprint at its completion, done only
		// after it (-0.5): neither completed nor removed.
		{Key: "S-2", Project: "PAY", Type: "Story", Created: d(-20), Status: done, Points: sp(2), Sprints: in,
			SprintChanges: []SprintChange{sc(-20, nil, in)}, Transitions: []Transition{tr(-0.5, toDo, done)}},
		// Committed, done at -2, reopened after the completion (-0.5):
		// completed, because it was done at the completion.
		{Key: "S-3", Project: "PAY", Type: "Story", Created: d(-20), Status: inProgress, Points: sp(3), Sprints: in,
			SprintChanges: []SprintChange{sc(-20, nil, in)}, Transitions: []Transition{tr(-2, toDo, done), tr(-0.5, done, inProgress)}},
		// Added at -7, done at -3, moved out at -2: added, but not
		// completed and no velocity.
		{Key: "S-4", Project: "PAY", Type: "Story", Created: d(-20), Status: done, Points: sp(5),
			SprintChanges: []SprintChange{sc(-7, nil, in), sc(-2, in, nil)}, Transitions: []Transition{tr(-3, toDo, done)}},
	} {
		m.PutIssue(is)
	}
	sprint, _ := m.Sprint(20)
	got := m.SprintReports([]*Sprint{sprint})[0]
	// Committed S-1, S-2, S-3 (1 + 2 + 3 points); completed S-3 (3);
	// removed S-1; added S-4 (5 points at the completion).
	want := SprintReport{Sprint: sprint, Committed: 3, Completed: 1, Added: 1, Removed: 1, HasPoints: true,
		CommittedPoints: 6, CompletedPoints: 3, AddedPoints: 5, Velocity: 3}
	if got != want {
		t.Errorf("report =\n%+v\nwant\n%+v", got, want)
	}
}
