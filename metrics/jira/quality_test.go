package jira

import (
	"slices"
	"testing"
)

func checkQuality(t *testing.T, name string, got QualityCount, count int, examples ...string) {
	t.Helper()
	if got.Count != count || !slices.Equal(got.Examples, examples) {
		t.Errorf("%s = %d %v, want %d %v", name, got.Count, got.Examples, count, examples)
	}
}

func exportQuality(t *testing.T, m *Model) Quality {
	t.Helper()
	e := NewExporter("jira")
	if e.Quality() != nil {
		t.Fatal("an exporter before its first update has data-quality results")
	}
	e.Update(m, now, DefaultExportOptions())
	return *e.Quality()
}

func TestQualityDoneWithoutStart(t *testing.T) {
	// Done in the last 90 days without a start: PAY-3 (straight from to
	// do to done, -2) and PAY-7 (a resolution date only, -7). PAY-6 was
	// done exactly 90 days ago, outside the window; OPS-1 is outside the
	// scope.
	q := exportQuality(t, flowModel(Categories{}))
	checkQuality(t, "done without start", q.DoneWithoutStart, 2, "PAY-3", "PAY-7")

	// Only Review starts work, and no issue done went through it: every
	// issue done in the window lacks a start, the latest named first.
	q = exportQuality(t, flowModel(Categories{Start: []string{"Review"}}))
	checkQuality(t, "done without start under start_statuses", q.DoneWithoutStart, 6, "WEB-1", "PAY-3", "PAY-2")
}

func TestQualityGuessedStatuses(t *testing.T) {
	triage := Status{ID: "20", Name: "Triage"}                          // a status the site no longer lists
	blocked := Status{ID: "21", Name: "Blocked", Category: "undefined"} // No Category
	parked := Status{ID: "22", Name: "Parked", Category: "undefined"}   // named in done_statuses
	triage2 := Status{ID: "23", Name: "TRIAGE", Category: "undefined"}  // the same name again
	m := NewModel(Categories{Done: []string{"parked", "Done"}})
	m.PutIssue(&Issue{Key: "A-1", Project: "A", Type: "Story", Created: d(-10), Status: blocked,
		Transitions: []Transition{tr(-8, triage, blocked)}})
	m.PutIssue(&Issue{Key: "A-2", Project: "A", Type: "Story", Created: d(-10), Status: parked,
		Transitions: []Transition{tr(-8, triage2, parked)}})
	m.PutIssue(&Issue{Key: "A-3", Project: "A", Type: "Story", Created: d(-10), Status: done})
	q := exportQuality(t, m)
	checkQuality(t, "guessed statuses", q.GuessedStatuses, 2, "Blocked", "Triage")

	q = exportQuality(t, flowModel(Categories{}))
	checkQuality(t, "guessed statuses when Jira gave every category", q.GuessedStatuses, 0)
}

func TestQualityUnestimatedSprintIssues(t *testing.T) {
	// Sprint 10 counts S-5 (added, never estimated) and S-8 (named by
	// the issue list, never estimated); sprint 9's only issue has 4
	// points; sprint 11 is still active.
	m := sprintModel()
	q := exportQuality(t, m)
	checkQuality(t, "unestimated sprint issues", q.UnestimatedSprintIssues, 2, "S-5", "S-8")

	sc := func(x float64, from, to []int) SprintChange { return SprintChange{At: d(x), From: from, To: to} }
	// Committed at -20 without an estimate, estimated at -10: it had
	// none at the start, when the committed points are taken.
	m.PutIssue(&Issue{Key: "S-10", Project: "PAY", Type: "Story", Created: d(-25), Status: inProgress, Sprints: []int{10},
		SprintChanges: []SprintChange{sc(-20, nil, []int{10})}, Points: map[string]float64{"sp": 3},
		PointChanges: []PointChange{{At: d(-10), Field: "sp", From: nil, To: fp(3)}}})
	// Estimated when committed and cleared before the completion.
	m.PutIssue(&Issue{Key: "S-11", Project: "PAY", Type: "Story", Created: d(-25), Status: inProgress, Sprints: []int{10},
		SprintChanges: []SprintChange{sc(-20, nil, []int{10})},
		PointChanges:  []PointChange{{At: d(-21), Field: "sp", From: nil, To: fp(2)}, {At: d(-5), Field: "sp", From: fp(2), To: nil}}})
	// Added to sprint 9 after its start and estimated only after its
	// completion.
	m.PutIssue(&Issue{Key: "S-12", Project: "PAY", Type: "Story", Created: d(-25), Status: inProgress, Sprints: []int{9},
		SprintChanges: []SprintChange{sc(-20, nil, []int{9})}, Points: map[string]float64{"sp": 1},
		PointChanges: []PointChange{{At: d(-12), Field: "sp", From: nil, To: fp(1)}}})
	// Estimated at the start and unchanged: fine.
	m.PutIssue(&Issue{Key: "S-13", Project: "PAY", Type: "Story", Created: d(-25), Status: inProgress, Sprints: []int{10},
		SprintChanges: []SprintChange{sc(-20, nil, []int{10})}, Points: map[string]float64{"sp": 5}})
	q = exportQuality(t, m)
	checkQuality(t, "unestimated sprint issues", q.UnestimatedSprintIssues, 5, "S-5", "S-8", "S-10")

	// A board that does not estimate in points has nothing to estimate.
	m = sprintModel()
	b, _ := m.Board(1)
	nb := *b
	nb.PointsField = ""
	m.PutBoard(&nb)
	q = exportQuality(t, m)
	checkQuality(t, "unestimated sprint issues of a board without points", q.UnestimatedSprintIssues, 0)
}
