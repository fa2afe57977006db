package okr

import "testing"

// res is a result with a value, a progress and a status; scored adds a score.
func res(progress float64, s Status) Result {
	return Result{HasValue: true, Progress: progress, Status: s}
}

func scored(progress float64, s Status, score float64) Result {
	r := res(progress, s)
	r.HasScore, r.Score = true, score
	return r
}

var noData = Result{Status: StatusNoData}

func weights(ws ...float64) []KeyResult {
	krs := make([]KeyResult, len(ws))
	for i, w := range ws {
		krs[i] = KeyResult{Direction: Increase, Target: 1, Weight: w}
	}
	return krs
}

func TestEvaluateObjective(t *testing.T) {
	tests := []struct {
		name    string
		krs     []KeyResult
		results []Result
		want    ObjectiveResult
	}{
		{
			// (0.5 + 1) / 2 = 0.75; worst of on_track and achieved is on_track.
			name:    "equal weights average the progress",
			krs:     weights(1, 1),
			results: []Result{res(0.5, StatusOnTrack), res(1, StatusAchieved)},
			want:    ObjectiveResult{Progress: 0.75, Status: StatusOnTrack},
		},
		{
			// (3*0.5 + 1*1) / 4 = 2.5/4 = 0.625.
			name:    "weights 3 and 1 weigh the progress",
			krs:     weights(3, 1),
			results: []Result{res(0.5, StatusOnTrack), res(1, StatusAchieved)},
			want:    ObjectiveResult{Progress: 0.625, Status: StatusOnTrack},
		},
		{
			// (1*0.5 + 0*1) / 1 = 0.5; the zero-weight result still counts for status.
			name:    "a key result with weight 0 does not move the progress",
			krs:     weights(1, 0),
			results: []Result{res(0.5, StatusOnTrack), res(1, StatusAtRisk)},
			want:    ObjectiveResult{Progress: 0.5, Status: StatusAtRisk},
		},
		{
			// -2 counts as 0: (1*0.25 + 0*1) / 1 = 0.25.
			name:    "a negative weight counts as 0",
			krs:     weights(1, -2),
			results: []Result{res(0.25, StatusOnTrack), res(1, StatusAchieved)},
			want:    ObjectiveResult{Progress: 0.25, Status: StatusOnTrack},
		},
		{
			// All zero -> equal: (0.25 + 0.75) / 2 = 0.5.
			name:    "when every weight is 0 the key results weigh the same",
			krs:     weights(0, 0),
			results: []Result{res(0.25, StatusOnTrack), res(0.75, StatusOnTrack)},
			want:    ObjectiveResult{Progress: 0.5, Status: StatusOnTrack},
		},
		{
			// (0.8 + 0) / 2 = 0.4; status from the result with data only.
			name:    "a key result without data counts as progress 0 and does not set the status",
			krs:     weights(1, 1),
			results: []Result{res(0.8, StatusOnTrack), noData},
			want:    ObjectiveResult{Progress: 0.4, Status: StatusOnTrack},
		},
		{
			// (0.75 + 0) / 2 = 0.375, even if a caller left a stale progress on it.
			name:    "a key result without data counts as progress 0 whatever its progress field says",
			krs:     weights(1, 1),
			results: []Result{res(0.75, StatusOnTrack), {Progress: 0.9, Status: StatusNoData}},
			want:    ObjectiveResult{Progress: 0.375, Status: StatusOnTrack},
		},
		{
			// (1 + 0.75 + 0.5 + 0.25) / 4 = 0.625.
			name:    "the objective status is the worst key result status",
			krs:     weights(1, 1, 1, 1),
			results: []Result{res(1, StatusAchieved), res(0.75, StatusOnTrack), res(0.5, StatusAtRisk), res(0.25, StatusOffTrack)},
			want:    ObjectiveResult{Progress: 0.625, Status: StatusOffTrack},
		},
		{
			// (1 + 0.5) / 2 = 0.75; scores (10 + 5) tenths / 2 = 7.5 -> 8: 0.8.
			name:    "missed is worse than achieved and the mean score rounds half up",
			krs:     weights(1, 1),
			results: []Result{scored(1, StatusAchieved, 1), scored(0.5, StatusMissed, 0.5)},
			want:    ObjectiveResult{Progress: 0.75, Status: StatusMissed, HasScore: true, Score: 0.8},
		},
		{
			name:    "when every key result lacks data the objective has no data",
			krs:     weights(1, 1),
			results: []Result{noData, noData},
			want:    ObjectiveResult{Progress: 0, Status: StatusNoData},
		},
		{
			name: "an objective without key results has no data",
			want: ObjectiveResult{Status: StatusNoData},
		},
		{
			// Progress (0.7 + 0.6) / 2 = 0.65; scores (7 + 6) tenths / 2 = 6.5 -> 7: 0.7
			// (summing 0.7 + 0.6 as floats would give 0.6499999999999999 and 0.6).
			name:    "a mean score of exactly 0.65 rounds to 0.7",
			krs:     weights(1, 1),
			results: []Result{scored(0.7, StatusMissed, 0.7), scored(0.6, StatusMissed, 0.6)},
			want:    ObjectiveResult{Progress: 0.65, Status: StatusMissed, HasScore: true, Score: 0.7},
		},
		{
			// (1*10 + 3*4) tenths / 4 = 22/4 = 5.5 -> 6: 0.6. Progress (1 + 1.2) / 4 = 0.55.
			name:    "the score is a weighted mean of the key result scores",
			krs:     weights(1, 3),
			results: []Result{scored(1, StatusAchieved, 1), scored(0.4, StatusMissed, 0.4)},
			want:    ObjectiveResult{Progress: 0.55, Status: StatusMissed, HasScore: true, Score: 0.6},
		},
		{
			// Score (8 + 0) tenths / 2 = 4: 0.4; progress (0.8 + 0) / 2 = 0.4.
			name:    "a key result without data counts 0 in the score",
			krs:     weights(1, 1),
			results: []Result{scored(0.8, StatusMissed, 0.8), noData},
			want:    ObjectiveResult{Progress: 0.4, Status: StatusMissed, HasScore: true, Score: 0.4},
		},
		{
			// (1 + 0.5) / 2 = 0.75; no score until the second one has one.
			name:    "there is no score while a key result with data has none",
			krs:     weights(1, 1),
			results: []Result{scored(1, StatusAchieved, 1), res(0.5, StatusOnTrack)},
			want:    ObjectiveResult{Progress: 0.75, Status: StatusOnTrack},
		},
		{
			// Only the first two pairs: (0.5 + 0.25) / 2 = 0.375; the missed third is ignored.
			name:    "results beyond the key results are ignored",
			krs:     weights(1, 1),
			results: []Result{res(0.5, StatusOnTrack), res(0.25, StatusAtRisk), res(0, StatusMissed)},
			want:    ObjectiveResult{Progress: 0.375, Status: StatusAtRisk},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := EvaluateObjective(tt.krs, tt.results)
			if !near(got.Progress, tt.want.Progress) || got.Status != tt.want.Status ||
				got.HasScore != tt.want.HasScore || !near(got.Score, tt.want.Score) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestEvaluateObjectiveFromEvaluate(t *testing.T) {
	t.Run("an objective of evaluated key results at the period end scores their weighted mean", func(t *testing.T) {
		krs := []KeyResult{inc, dec, mnt}
		krs[0].Weight = 2
		results := []Result{
			Evaluate(krs[0], period10, pts(pt(9, 45)), day(10)),  // 0.45, missed, score round(4.5) = 0.5
			Evaluate(krs[1], period10, pts(pt(9, 100)), day(10)), // 1, achieved, score 1
			Evaluate(krs[2], period10, pts(pt(9, 97)), day(10)),  // in band: 1, achieved, score 1
		}
		// Progress (2*0.45 + 1 + 1) / 4 = 2.9/4 = 0.725.
		// Score (2*5 + 10 + 10) tenths / 4 = 7.5 -> 8: 0.8.
		want := ObjectiveResult{Progress: 0.725, Status: StatusMissed, HasScore: true, Score: 0.8}
		got := EvaluateObjective(krs, results)
		if !near(got.Progress, want.Progress) || got.Status != want.Status || got.HasScore != want.HasScore || !near(got.Score, want.Score) {
			t.Errorf("got %+v, want %+v", got, want)
		}
	})
}

func TestSeverityAndWorst(t *testing.T) {
	t.Run("severity orders statuses from no_data to missed", func(t *testing.T) {
		order := []Status{StatusNoData, StatusAchieved, StatusOnTrack, StatusAtRisk, StatusOffTrack, StatusMissed}
		for i, s := range order {
			if got := Severity(s); got != i {
				t.Errorf("Severity(%s) = %d, want %d", s, got, i)
			}
		}
	})
	t.Run("an unknown status has severity -1", func(t *testing.T) {
		if got := Severity("bogus"); got != -1 {
			t.Errorf("got %d, want -1", got)
		}
	})
	tests := []struct {
		name string
		in   []Status
		want Status
	}{
		{"the worst of nothing is no_data", nil, StatusNoData},
		{"any status with data is worse than no_data", []Status{StatusNoData, StatusAchieved, StatusNoData}, StatusAchieved},
		{"at_risk is worse than on_track", []Status{StatusOnTrack, StatusAtRisk, StatusOnTrack}, StatusAtRisk},
		{"missed is the worst status", []Status{StatusOffTrack, StatusMissed, StatusAchieved}, StatusMissed},
		{"an unknown status never wins", []Status{"bogus", StatusOnTrack}, StatusOnTrack},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Worst(tt.in...); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
	t.Run("Statuses lists every status exactly once", func(t *testing.T) {
		seen := map[Status]bool{}
		for _, s := range Statuses {
			if Severity(s) < 0 || seen[s] {
				t.Errorf("unexpected or duplicate status %q", s)
			}
			seen[s] = true
		}
		if len(seen) != 6 {
			t.Errorf("got %d statuses, want 6", len(seen))
		}
	})
}
