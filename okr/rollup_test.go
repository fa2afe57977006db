package okr

import (
	"testing"
	"time"
)

// withExpected is a result with a value, progress, expected progress and status.
func withExpected(progress, expected float64, s Status) Result {
	return Result{HasValue: true, Progress: progress, Expected: expected, Status: s}
}

func TestRollUp(t *testing.T) {
	mid := day(5) // half of period10
	tests := []struct {
		name     string
		krs      []KeyResult
		results  []Result
		children []Child
		now      time.Time
		want     ObjectiveResult
	}{
		{
			// Children only, weights 1 and 3: (1*0.5 + 3*0.2) / 4 = 1.1/4 = 0.275;
			// expected (0.5 + 3*0.5) / 4 = 0.5; gap -0.225 < -0.2: off track.
			name: "children are weighted by their weight and the status is the gap",
			children: []Child{
				{Weight: 1, Result: ObjectiveResult{HasValue: true, Progress: 0.5, Expected: 0.5}},
				{Weight: 3, Result: ObjectiveResult{HasValue: true, Progress: 0.2, Expected: 0.5}},
			},
			want: ObjectiveResult{HasValue: true, Progress: 0.275, Expected: 0.5, Status: StatusOffTrack, RolledUp: true},
		},
		{
			// Own key result weight 2 (progress 0.9, expected 0.5) and one child
			// weight 1 (0.0 of 0.5): (1.8 + 0) / 3 = 0.6; expected (1 + 0.5) / 3 = 0.5.
			// Worst-of would say off track; the roll-up is ahead: on track.
			name:    "key results and children are weighted together",
			krs:     weights(2),
			results: []Result{withExpected(0.9, 0.5, StatusOnTrack)},
			children: []Child{
				{Weight: 1, Result: ObjectiveResult{HasValue: true, Progress: 0, Expected: 0.5, Status: StatusOffTrack}},
			},
			want: ObjectiveResult{HasValue: true, Progress: 0.6, Expected: 0.5, Status: StatusOnTrack, RolledUp: true},
		},
		{
			// (0.5 + 0.3) / 2 = 0.4, expected 0.55: gap -0.15 is between -0.2 and -0.1.
			name:    "a gap between one and two tolerances is at risk",
			krs:     weights(1),
			results: []Result{withExpected(0.5, 0.6, StatusOnTrack)},
			children: []Child{
				{Weight: 1, Result: ObjectiveResult{HasValue: true, Progress: 0.3, Expected: 0.5}},
			},
			want: ObjectiveResult{HasValue: true, Progress: 0.4, Expected: 0.55, Status: StatusAtRisk, RolledUp: true},
		},
		{
			// The child without a value counts 0: (0.6 + 0) / 2 = 0.3; expected (0.3 + 0.3) / 2.
			name: "a child without a value counts as progress 0",
			children: []Child{
				{Weight: 1, Result: ObjectiveResult{HasValue: true, Progress: 0.6, Expected: 0.3}},
				{Weight: 1, Result: ObjectiveResult{Expected: 0.3, Status: StatusNoData}},
			},
			want: ObjectiveResult{HasValue: true, Progress: 0.3, Expected: 0.3, Status: StatusOnTrack, RolledUp: true},
		},
		{
			name: "without any value the roll-up has no data",
			children: []Child{
				{Weight: 1, Result: ObjectiveResult{Expected: 0.5, Status: StatusNoData}},
			},
			want: ObjectiveResult{Expected: 0.5, Status: StatusNoData, RolledUp: true},
		},
		{
			// Weight 0 child does not move the progress: 0.8 / 1.
			name: "a child of weight 0 does not count",
			children: []Child{
				{Weight: 1, Result: ObjectiveResult{HasValue: true, Progress: 0.8, Expected: 0.5}},
				{Weight: 0, Result: ObjectiveResult{HasValue: true, Progress: 0, Expected: 0.5}},
			},
			want: ObjectiveResult{HasValue: true, Progress: 0.8, Expected: 0.5, Status: StatusOnTrack, RolledUp: true},
		},
		{
			// After the end: (1 + 0.4) / 2 = 0.7, missed; scores (10 + 4) tenths / 2 = 7: 0.7.
			name: "after the period the roll-up is missed and scored",
			children: []Child{
				{Weight: 1, Result: ObjectiveResult{HasValue: true, Progress: 1, Expected: 1, HasScore: true, Score: 1}},
				{Weight: 1, Result: ObjectiveResult{HasValue: true, Progress: 0.4, Expected: 1, HasScore: true, Score: 0.4}},
			},
			now:  day(11),
			want: ObjectiveResult{HasValue: true, Progress: 0.7, Expected: 1, Status: StatusMissed, HasScore: true, Score: 0.7, RolledUp: true},
		},
		{
			name: "every part at its target is achieved before the end",
			children: []Child{
				{Weight: 1, Result: ObjectiveResult{HasValue: true, Progress: 1, Expected: 0.5}},
			},
			want: ObjectiveResult{HasValue: true, Progress: 1, Expected: 0.5, Status: StatusAchieved, RolledUp: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := tt.now
			if now.IsZero() {
				now = mid
			}
			got := RollUp(tt.krs, tt.results, tt.children, period10, now, 0.1)
			if !near(got.Progress, tt.want.Progress) || !near(got.Expected, tt.want.Expected) || got.Status != tt.want.Status ||
				got.HasValue != tt.want.HasValue || got.HasScore != tt.want.HasScore || !near(got.Score, tt.want.Score) || !got.RolledUp {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// A company objective with a key result of its own and a department child,
// which rolls up two teams: three levels, each evaluated from the one
// below, as the evaluator does.
func TestRollUpNestedThreeLevels(t *testing.T) {
	now := day(5)
	krs := []KeyResult{{Direction: Increase, Target: 10, Weight: 1}}
	// Team A: one key result at 5 of 10 (expected 0.5) -> 0.5 of 0.5.
	teamA := EvaluateObjective(krs, []Result{Evaluate(krs[0], period10, []Point{{At: day(4), Value: 5}}, now)})
	// Team B: 2 of 10 -> 0.2 of 0.5.
	teamB := EvaluateObjective(krs, []Result{Evaluate(krs[0], period10, []Point{{At: day(4), Value: 2}}, now)})
	if !near(teamA.Progress, 0.5) || !near(teamB.Progress, 0.2) || !near(teamB.Expected, 0.5) {
		t.Fatalf("teams: %+v %+v", teamA, teamB)
	}
	// Department: children only, team B weighs 3: 0.275 of 0.5: off track.
	dept := RollUp(nil, nil, []Child{{Weight: 1, Result: teamA}, {Weight: 3, Result: teamB}}, period10, now, 0.1)
	if !near(dept.Progress, 0.275) || !near(dept.Expected, 0.5) || dept.Status != StatusOffTrack {
		t.Fatalf("department: %+v, want progress 0.275 expected 0.5 off_track", dept)
	}
	// Company: its own key result at 10 of 10 (1.0, expected 0.5) weight 1,
	// the department weight 2: (1 + 2*0.275) / 3 = 1.55/3; expected
	// (0.5 + 2*0.5) / 3 = 0.5; gap +0.0167: on track.
	own := Evaluate(krs[0], period10, []Point{{At: day(4), Value: 10}}, now)
	company := RollUp(krs, []Result{own}, []Child{{Weight: 2, Result: dept}}, period10, now, 0.1)
	if !near(company.Progress, 1.55/3) || !near(company.Expected, 0.5) || company.Status != StatusOnTrack {
		t.Fatalf("company: %+v, want progress %v expected 0.5 on_track", company, 1.55/3)
	}
}

func TestEvaluateObjectiveSetsExpectedAndHasValue(t *testing.T) {
	// (0.4 + 3*0.8) / 4 = 0.7 expected; the result without value still counts.
	got := EvaluateObjective(weights(1, 3), []Result{withExpected(0.2, 0.4, StatusAtRisk), {Expected: 0.8, Status: StatusNoData}})
	if !near(got.Expected, 0.7) || !got.HasValue || got.RolledUp || !near(got.Progress, 0.05) {
		t.Errorf("got %+v, want expected 0.7, progress 0.05, a value, not rolled up", got)
	}
}
