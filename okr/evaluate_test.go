package okr

import (
	"math"
	"slices"
	"testing"
	"time"
)

const dayDur = 24 * time.Hour

// start is the start of the test periods; UTC keeps every day 24 hours long.
var start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// day returns start plus d days (fractions allowed).
func day(d float64) time.Time { return start.Add(time.Duration(d * float64(dayDur))) }

var (
	// period10 is a ten-day period: each day is 0.1 of it.
	period10 = Period{Name: "ten days", Start: day(0), End: day(10)}
	// period8 is an eight-day period: each day is 0.125 of it, exact in
	// binary floating point, which keeps status boundaries exact.
	period8 = Period{Name: "eight days", Start: day(0), End: day(8)}

	inc    = KeyResult{Direction: Increase, Baseline: 0, Target: 100, Weight: 1}
	inc200 = KeyResult{Direction: Increase, Baseline: 0, Target: 200, Weight: 1}
	dec    = KeyResult{Direction: Decrease, Baseline: 200, Target: 100, Weight: 1}
	mnt    = KeyResult{Direction: Maintain, Min: 95, Max: 99, Weight: 1}
	// inc8 has progress value/8 and an exact tolerance of 1/8.
	inc8 = KeyResult{Direction: Increase, Baseline: 0, Target: 8, Tolerance: 0.125, Weight: 1}
)

func pts(p ...Point) []Point { return p }

func pt(d, v float64) Point { return Point{At: day(d), Value: v} }

func withTol(kr KeyResult, tol float64) KeyResult { kr.Tolerance = tol; return kr }

func withMilestones(kr KeyResult, ms ...Milestone) KeyResult { kr.Milestones = ms; return kr }

func ms(d, v float64) Milestone { return Milestone{At: day(d), Value: v} }

// near compares floats up to rounding noise in the last bits.
func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9 }

func checkResult(t *testing.T, got, want Result) {
	t.Helper()
	if got.HasValue != want.HasValue || got.Status != want.Status ||
		got.HasForecast != want.HasForecast || got.HasScore != want.HasScore ||
		!got.ValueAt.Equal(want.ValueAt) ||
		!near(got.Value, want.Value) || !near(got.Progress, want.Progress) ||
		!near(got.Expected, want.Expected) || !near(got.Gap, want.Gap) ||
		!near(got.Forecast, want.Forecast) || !near(got.ForecastProgress, want.ForecastProgress) ||
		!near(got.Score, want.Score) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

// value is a Result with a current value; the cases fill in the rest.
func value(d, v float64) Result {
	return Result{HasValue: true, Value: v, ValueAt: day(d)}
}

func (r Result) with(progress, expected, gap float64, s Status) Result {
	r.Progress, r.Expected, r.Gap, r.Status = progress, expected, gap, s
	return r
}

func (r Result) forecast(f, fp float64) Result {
	r.HasForecast, r.Forecast, r.ForecastProgress = true, f, fp
	return r
}

func (r Result) score(s float64) Result {
	r.HasScore, r.Score = true, s
	return r
}

func TestEvaluate(t *testing.T) {
	tests := []struct {
		name    string
		kr      KeyResult
		period  Period
		history []Point
		now     time.Time
		want    Result
	}{
		// Progress.
		{
			// progress (50-0)/(100-0) = 0.5; expected 5/10 = 0.5; gap 0.
			name: "an increase key result halfway to target at mid-period is on track",
			kr:   inc, period: period10, history: pts(pt(0, 0), pt(5, 50)), now: day(5),
			want: value(5, 50).with(0.5, 0.5, 0, StatusOnTrack),
		},
		{
			// (150-200)/(100-200) = -50/-100 = 0.5; expected 0.5; gap 0.
			name: "a decrease key result halfway to target has progress 0.5",
			kr:   dec, period: period10, history: pts(pt(5, 150)), now: day(5),
			want: value(5, 150).with(0.5, 0.5, 0, StatusOnTrack),
		},
		{
			// (0-0)/100 = 0; expected 3/10 = 0.3; gap -0.3 < -2*0.1.
			name: "a current value equal to the baseline has progress 0",
			kr:   inc, period: period10, history: pts(pt(3, 0)), now: day(3),
			want: value(3, 0).with(0, 0.3, -0.3, StatusOffTrack),
		},
		{
			// 150/100 = 1.5 clamps to 1; expected 0.4; gap 0.6; progress 1 before the end.
			name: "a value above the target is clamped to progress 1 and achieved before the end",
			kr:   inc, period: period10, history: pts(pt(4, 150)), now: day(4),
			want: value(4, 150).with(1, 0.4, 0.6, StatusAchieved),
		},
		{
			// -20/100 = -0.2 clamps to 0; expected 0.1; gap -0.1 = -tolerance.
			name: "a value below the baseline is clamped to progress 0",
			kr:   inc, period: period10, history: pts(pt(1, -20)), now: day(1),
			want: value(1, -20).with(0, 0.1, -0.1, StatusOnTrack),
		},
		{
			// (80-200)/(100-200) = 1.2 clamps to 1; expected 0.4; gap 0.6.
			name: "a decrease key result below its target is achieved",
			kr:   dec, period: period10, history: pts(pt(4, 80)), now: day(4),
			want: value(4, 80).with(1, 0.4, 0.6, StatusAchieved),
		},
		{
			// (230-200)/(100-200) = -0.3 clamps to 0; expected 0.1; gap -0.1.
			name: "a decrease key result above its baseline has progress 0",
			kr:   dec, period: period10, history: pts(pt(1, 230)), now: day(1),
			want: value(1, 230).with(0, 0.1, -0.1, StatusOnTrack),
		},

		// Status boundaries: expected 4/8 = 0.5, tolerance 0.125, progress value/8.
		{
			// 3/8 = 0.375; gap 0.375-0.5 = -0.125 = -tol.
			name: "a gap of exactly minus the tolerance is on track",
			kr:   inc8, period: period8, history: pts(pt(4, 3)), now: day(4),
			want: value(4, 3).with(0.375, 0.5, -0.125, StatusOnTrack),
		},
		{
			// 2.9921875/8 = 0.3740234375; gap -0.1259765625 < -0.125.
			name: "a gap just below minus the tolerance is at risk",
			kr:   inc8, period: period8, history: pts(pt(4, 2.9921875)), now: day(4),
			want: value(4, 2.9921875).with(0.3740234375, 0.5, -0.1259765625, StatusAtRisk),
		},
		{
			// 2/8 = 0.25; gap -0.25 = -2*tol.
			name: "a gap of exactly minus twice the tolerance is at risk",
			kr:   inc8, period: period8, history: pts(pt(4, 2)), now: day(4),
			want: value(4, 2).with(0.25, 0.5, -0.25, StatusAtRisk),
		},
		{
			// 1.9921875/8 = 0.2490234375; gap -0.2509765625 < -0.25.
			name: "a gap just below minus twice the tolerance is off track",
			kr:   inc8, period: period8, history: pts(pt(4, 1.9921875)), now: day(4),
			want: value(4, 1.9921875).with(0.2490234375, 0.5, -0.2509765625, StatusOffTrack),
		},
		{
			// 2/8 = 0.25; gap -0.25 = -tol with tol 0.25.
			name: "a tolerance of 0.25 keeps a gap of -0.25 on track",
			kr:   withTol(inc8, 0.25), period: period8, history: pts(pt(4, 2)), now: day(4),
			want: value(4, 2).with(0.25, 0.5, -0.25, StatusOnTrack),
		},
		{
			// tol 0 -> 0.1; 3/8 = 0.375; gap -0.125 in [-0.2, -0.1).
			name: "a zero tolerance means the default of 0.1",
			kr:   withTol(inc8, 0), period: period8, history: pts(pt(4, 3)), now: day(4),
			want: value(4, 3).with(0.375, 0.5, -0.125, StatusAtRisk),
		},
		{
			// tol -1 -> 0.1; 1/8 = 0.125; gap -0.375 < -0.2.
			name: "a negative tolerance means the default of 0.1",
			kr:   withTol(inc8, -1), period: period8, history: pts(pt(4, 1)), now: day(4),
			want: value(4, 1).with(0.125, 0.5, -0.375, StatusOffTrack),
		},

		// Before the period starts.
		{
			// 30/100 = 0.3; expected 0 before the start; gap 0.3.
			name: "before the period starts expected progress is 0 and a carried-over value is on track",
			kr:   inc, period: period10, history: pts(pt(-2, 30)), now: day(-1),
			want: value(-2, 30).with(0.3, 0, 0.3, StatusOnTrack),
		},
		{
			// 100/100 = 1 before the start: achieved.
			name: "before the period starts a carried-over value at the target is achieved",
			kr:   inc, period: period10, history: pts(pt(-2, 100)), now: day(-1),
			want: value(-2, 100).with(1, 0, 1, StatusAchieved),
		},
		{
			name: "before the period starts without data the status is no_data",
			kr:   inc, period: period10, history: nil, now: day(-1),
			want: Result{Status: StatusNoData},
		},
		{
			// A value from before the start is still the current value mid-period:
			// 20/100 = 0.2; expected 0.2; gap 0. In-period points: none, no forecast.
			name: "a value recorded before the period start is still the current value",
			kr:   inc, period: period10, history: pts(pt(-5, 20)), now: day(2),
			want: value(-5, 20).with(0.2, 0.2, 0, StatusOnTrack),
		},

		// After the period ends (now day 12, the period ends at day 10).
		{
			// 100/100 = 1; expected 1; score round(10)/10 = 1.
			name: "after the end a key result that reached its target is achieved with score 1",
			kr:   inc, period: period10, history: pts(pt(2, 40), pt(9, 100)), now: day(12),
			want: value(9, 100).with(1, 1, 0, StatusAchieved).score(1),
		},
		{
			// 64/100 = 0.64; gap -0.36; score round(6.4)/10 = 0.6.
			name: "after the end a final progress of 0.64 is missed and scores 0.6",
			kr:   inc, period: period10, history: pts(pt(9, 64)), now: day(12),
			want: value(9, 64).with(0.64, 1, -0.36, StatusMissed).score(0.6),
		},
		{
			// 65/100 = 0.65; score round(6.5)/10 = 0.7.
			name: "a final progress of 0.65 scores 0.7",
			kr:   inc, period: period10, history: pts(pt(9, 65)), now: day(12),
			want: value(9, 65).with(0.65, 1, -0.35, StatusMissed).score(0.7),
		},
		{
			// 25/100 = 0.25; 0.25*10 = 2.5 exactly, rounds up to 3: score 0.3.
			name: "a final progress of 0.25 rounds half up to a score of 0.3",
			kr:   inc, period: period10, history: pts(pt(9, 25)), now: day(12),
			want: value(9, 25).with(0.25, 1, -0.75, StatusMissed).score(0.3),
		},
		{
			// 0/100 = 0; score 0, but there is one.
			name: "a key result still at its baseline at the end scores 0",
			kr:   inc, period: period10, history: pts(pt(9, 0)), now: day(12),
			want: value(9, 0).with(0, 1, -1, StatusMissed).score(0),
		},
		{
			// Day 11 is after the end: the value is 60 from day 9; 0.6; score 0.6.
			name: "a point recorded after the period end does not count",
			kr:   inc, period: period10, history: pts(pt(9, 60), pt(11, 100)), now: day(12),
			want: value(9, 60).with(0.6, 1, -0.4, StatusMissed).score(0.6),
		},
		{
			// Day 10 is the end instant itself: 100 counts; achieved.
			name: "a point recorded exactly at the period end counts",
			kr:   inc, period: period10, history: pts(pt(9, 60), pt(10, 100)), now: day(12),
			want: value(10, 100).with(1, 1, 0, StatusAchieved).score(1),
		},
		{
			// now = End: ended. 90/100 = 0.9; expected 1; missed; score 0.9.
			name: "at exactly the period end the period has ended",
			kr:   inc, period: period10, history: pts(pt(9, 90)), now: day(10),
			want: value(9, 90).with(0.9, 1, -0.1, StatusMissed).score(0.9),
		},
		{
			name: "after the end without data the status is no_data and there is no score",
			kr:   inc, period: period10, history: nil, now: day(12),
			want: Result{Expected: 1, Status: StatusNoData},
		},

		// Maintain: band [95, 99].
		{
			name: "a maintain key result inside its band is on track but not yet achieved",
			kr:   mnt, period: period10, history: pts(pt(3, 97)), now: day(3),
			want: value(3, 97).with(1, 1, 0, StatusOnTrack),
		},
		{
			name: "a maintain key result on the lower edge of its band is inside",
			kr:   mnt, period: period10, history: pts(pt(3, 95)), now: day(3),
			want: value(3, 95).with(1, 1, 0, StatusOnTrack),
		},
		{
			name: "a maintain key result on the upper edge of its band is inside",
			kr:   mnt, period: period10, history: pts(pt(3, 99)), now: day(3),
			want: value(3, 99).with(1, 1, 0, StatusOnTrack),
		},
		{
			// Out of band: progress 0; expected 1; gap -1 < -0.2.
			name: "a maintain key result outside its band is off track at once",
			kr:   mnt, period: period10, history: pts(pt(1, 94.5)), now: day(1),
			want: value(1, 94.5).with(0, 1, -1, StatusOffTrack),
		},
		{
			// Before the start nothing is expected yet: gap 0 - 0 = 0.
			name: "a maintain key result before the period starts expects nothing",
			kr:   mnt, period: period10, history: pts(pt(-2, 90)), now: day(-1),
			want: value(-2, 90).with(0, 0, 0, StatusOnTrack),
		},
		{
			name: "a maintain key result inside its band at the end is achieved with score 1",
			kr:   mnt, period: period10, history: pts(pt(9, 96)), now: day(10),
			want: value(9, 96).with(1, 1, 0, StatusAchieved).score(1),
		},
		{
			name: "a maintain key result outside its band at the end is missed with score 0",
			kr:   mnt, period: period10, history: pts(pt(8, 97), pt(9, 100)), now: day(11),
			want: value(9, 100).with(0, 1, -1, StatusMissed).score(0),
		},
		{
			name: "a maintain key result ignores milestones",
			kr:   withMilestones(mnt, ms(5, 50)), period: period10, history: pts(pt(3, 97)), now: day(3),
			want: value(3, 97).with(1, 1, 0, StatusOnTrack),
		},

		// No data.
		{
			// expected 5/10 = 0.5 even without a value; progress and gap 0.
			name: "without points the status is no_data and expected progress is still computed",
			kr:   inc, period: period10, history: nil, now: day(5),
			want: Result{Expected: 0.5, Status: StatusNoData},
		},
		{
			name: "points recorded after now do not count",
			kr:   inc, period: period10, history: pts(pt(6, 50)), now: day(5),
			want: Result{Expected: 0.5, Status: StatusNoData},
		},

		// Forecast.
		{
			// 20/100 = 0.2; expected 0.2.
			name: "one data point gives no forecast",
			kr:   inc, period: period10, history: pts(pt(1, 20)), now: day(2),
			want: value(1, 20).with(0.2, 0.2, 0, StatusOnTrack),
		},
		{
			name: "two data points give no forecast",
			kr:   inc, period: period10, history: pts(pt(0, 10), pt(2, 20)), now: day(2),
			want: value(2, 20).with(0.2, 0.2, 0, StatusOnTrack),
		},
		{
			// The three points span 12 hours < 24 hours.
			name: "three data points within less than a day give no forecast",
			kr:   inc, period: period10, history: pts(pt(1, 10), pt(1.25, 15), pt(1.5, 20)), now: day(2),
			want: value(1.5, 20).with(0.2, 0.2, 0, StatusOnTrack),
		},
		{
			// x in days: mean 1.5, mean y 15; Sxx = 0.25+0+0.25 = 0.5;
			// Sxy = (-0.5)(-5)+0+(0.5)(5) = 5; slope 10/day;
			// forecast 15 + 10*(10-1.5) = 100; 100/200 = 0.5.
			// progress 20/200 = 0.1; expected 0.2; gap -0.1.
			name: "three data points spanning exactly one day give a forecast",
			kr:   inc200, period: period10, history: pts(pt(1, 10), pt(1.5, 15), pt(2, 20)), now: day(2),
			want: value(2, 20).with(0.1, 0.2, -0.1, StatusOnTrack).forecast(100, 0.5),
		},
		{
			// Slope 10/day through (2, 30): at day 10, 30 + 8*10 = 110; 110/200 = 0.55.
			// progress 30/200 = 0.15; expected 0.2; gap -0.05.
			name: "a forecast on an exact line reaches 110 at the period end",
			kr:   inc200, period: period10, history: pts(pt(0, 10), pt(1, 20), pt(2, 30)), now: day(2),
			want: value(2, 30).with(0.15, 0.2, -0.05, StatusOnTrack).forecast(110, 0.55),
		},
		{
			// mean x 1, mean y 20; Sxx = 1+0+1 = 2; Sxy = (-1)(-10)+0*10+1*0 = 10;
			// slope 5/day; forecast 20 + 5*(10-1) = 65; 65/200 = 0.325.
			// progress 20/200 = 0.1; expected 0.2; gap -0.1.
			name: "a least-squares forecast through scattered points",
			kr:   inc200, period: period10, history: pts(pt(0, 10), pt(1, 30), pt(2, 20)), now: day(2),
			want: value(2, 20).with(0.1, 0.2, -0.1, StatusOnTrack).forecast(65, 0.325),
		},
		{
			// Including (-1, 100) would bend the line; the answer is the exact-line 110.
			name: "points before the period start are left out of the forecast",
			kr:   inc200, period: period10, history: pts(pt(-1, 100), pt(0, 10), pt(1, 20), pt(2, 30)), now: day(2),
			want: value(2, 30).with(0.15, 0.2, -0.05, StatusOnTrack).forecast(110, 0.55),
		},
		{
			name: "points after now are left out of the value and the forecast",
			kr:   inc200, period: period10, history: pts(pt(0, 10), pt(1, 20), pt(2, 30), pt(3, 999)), now: day(2),
			want: value(2, 30).with(0.15, 0.2, -0.05, StatusOnTrack).forecast(110, 0.55),
		},
		{
			// (180-200)/(100-200) = 0.2; expected 0.2; slope -10/day:
			// 180 - 8*10 = 100 at day 10, progress 1.
			name: "a decrease key result forecast to reach its target",
			kr:   dec, period: period10, history: pts(pt(0, 200), pt(1, 190), pt(2, 180)), now: day(2),
			want: value(2, 180).with(0.2, 0.2, 0, StatusOnTrack).forecast(100, 1),
		},
		{
			// Points at days 0, 5, 10 on the line 10/day: forecast at day 10 is 100.
			// Day 11 is after the end and ignored.
			name: "after the end the forecast uses the points up to the end",
			kr:   inc, period: period10, history: pts(pt(0, 0), pt(5, 50), pt(10, 100), pt(11, 0)), now: day(12),
			want: value(10, 100).with(1, 1, 0, StatusAchieved).forecast(100, 1).score(1),
		},
		{
			// Same points as the exact line, shuffled.
			name: "unsorted history is sorted before use",
			kr:   inc200, period: period10, history: pts(pt(2, 30), pt(0, 10), pt(1, 20)), now: day(2),
			want: value(2, 30).with(0.15, 0.2, -0.05, StatusOnTrack).forecast(110, 0.55),
		},
		{
			name: "among points at the same instant the one listed last is current",
			kr:   inc, period: period10, history: pts(pt(1, 10), pt(1, 20)), now: day(2),
			want: value(1, 20).with(0.2, 0.2, 0, StatusOnTrack),
		},
		{
			// Sorting is stable: 20 stays after 10. Expected 1.5/10 = 0.15; gap 0.05.
			name: "among unsorted points at the same instant the one listed last is current",
			kr:   inc, period: period10, history: pts(pt(2, 5), pt(1, 10), pt(1, 20)), now: day(1.5),
			want: value(1, 20).with(0.2, 0.15, 0.05, StatusOnTrack),
		},

		// Milestones (ExpectedProgress covers the curve in detail).
		{
			// Curve (0,0) (2,0.4) (6,0.6) (10,1): at day 4, 0.4 + 0.2*2/4 = 0.5.
			// progress 0.45; gap -0.05.
			name: "milestones set the expected progress",
			kr:   withMilestones(inc, ms(2, 40), ms(6, 60)), period: period10, history: pts(pt(4, 45)), now: day(4),
			want: value(4, 45).with(0.45, 0.5, -0.05, StatusOnTrack),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkResult(t, Evaluate(tt.kr, tt.period, tt.history, tt.now), tt.want)
		})
	}
}

func TestEvaluateLeavesHistoryAlone(t *testing.T) {
	t.Run("evaluating an unsorted history does not reorder the caller's slice", func(t *testing.T) {
		h := pts(pt(2, 30), pt(0, 10), pt(1, 20))
		orig := slices.Clone(h)
		Evaluate(inc200, period10, h, day(2))
		if !slices.Equal(h, orig) {
			t.Errorf("history changed: %v, want %v", h, orig)
		}
	})
	t.Run("evaluating a sorted history does not allocate", func(t *testing.T) {
		h := pts(pt(0, 10), pt(1, 20), pt(2, 30), pt(3, 40))
		kr := withMilestones(inc200, ms(5, 100))
		allocs := testing.AllocsPerRun(100, func() { Evaluate(kr, period10, h, day(3)) })
		if allocs != 0 {
			t.Errorf("got %v allocations, want 0", allocs)
		}
	})
}

func TestExpectedProgress(t *testing.T) {
	two := withMilestones(inc, ms(2, 40), ms(6, 60)) // curve (0,0) (2,0.4) (6,0.6) (10,1)
	tests := []struct {
		name string
		kr   KeyResult
		at   time.Time
		want float64
	}{
		{"without milestones expected progress is the elapsed fraction", inc, day(2.5), 0.25}, // 2.5/10
		{"before the period starts expected progress is 0", two, day(-1), 0},                  // rule
		{"at the period start expected progress is 0", two, day(0), 0},                        // implicit (Start, 0)
		{"before the first milestone the curve rises from 0 to it", two, day(1), 0.2},         // 0 + 0.4*1/2
		{"at a milestone expected progress is the milestone's progress", two, day(2), 0.4},    // 40/100
		{"between milestones the curve is linear", two, day(4), 0.5},                          // 0.4 + 0.2*2/4
		{"after the last milestone the curve rises to 1 at the end", two, day(8), 0.8},        // 0.6 + 0.4*2/4
		{"at the period end expected progress is 1", two, day(10), 1},                         // implicit (End, 1)
		{"after the period end expected progress stays 1", two, day(12), 1},                   // holds
		{"unsorted milestones are taken in time order", withMilestones(inc, ms(6, 60), ms(2, 40)), day(4), 0.5},
		{"a milestone at the start replaces the implicit 0", withMilestones(inc, ms(0, 20)), day(0), 0.2},
		{"after a milestone at the start the curve rises from it", withMilestones(inc, ms(0, 20)), day(5), 0.6},     // 0.2 + 0.8*5/10
		{"a milestone at the end replaces the implicit 1 on the way", withMilestones(inc, ms(10, 80)), day(5), 0.4}, // 0 + 0.8*5/10
		{"a milestone at the end replaces the implicit 1 at the end", withMilestones(inc, ms(10, 80)), day(10), 0.8},
		{"a milestone at the end replaces the implicit 1 after the end", withMilestones(inc, ms(10, 80)), day(12), 0.8},
		{"milestones outside the period are ignored", withMilestones(inc, ms(-2, 50), ms(12, 10)), day(5), 0.5},
		{"a decrease key result's milestone converts to progress", withMilestones(dec, ms(5, 180)), day(5), 0.2}, // (180-200)/(100-200)
		{"after a decrease milestone the curve rises to 1", withMilestones(dec, ms(5, 180)), day(7.5), 0.6},      // 0.2 + 0.8*2.5/5
		{"a milestone beyond the target counts as progress 1", withMilestones(inc, ms(5, 150)), day(2.5), 0.5},   // 0 + 1*2.5/5
		{"after a milestone beyond the target the curve stays at 1", withMilestones(inc, ms(5, 150)), day(7), 1}, // 1 + 0*2/5
		{"a milestone below the baseline counts as progress 0", withMilestones(inc, ms(5, -50)), day(7.5), 0.5},  // 0 + 1*2.5/5
		{"a maintain key result expects 1 from the period start", mnt, day(0), 1},
		{"a maintain key result expects 0 before the period starts", mnt, day(-0.5), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ExpectedProgress(tt.kr, period10, tt.at); !near(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestProgressOf(t *testing.T) {
	tests := []struct {
		name  string
		kr    KeyResult
		value float64
		want  float64
	}{
		{"an increase key result halfway to target has progress 0.5", inc, 50, 0.5},
		{"progress is measured from the baseline", KeyResult{Direction: Increase, Baseline: 20, Target: 40}, 25, 0.25}, // 5/20
		{"a value at the baseline has progress 0", inc, 0, 0},
		{"a value at the target has progress 1", inc, 100, 1},
		{"a value above the target is clamped to 1", inc, 130, 1},
		{"a value below the baseline is clamped to 0", inc, -10, 0},
		{"an infinite value is clamped to 1", inc, math.Inf(1), 1},
		{"a NaN value has progress 0", inc, math.NaN(), 0},
		{"a decrease key result halfway to target has progress 0.5", dec, 150, 0.5},           // -50/-100
		{"a decrease key result three quarters of the way has progress 0.75", dec, 125, 0.75}, // -75/-100
		{"a decrease key result below its target is clamped to 1", dec, 80, 1},
		{"a decrease key result above its baseline is clamped to 0", dec, 230, 0},
		{"a key result without a direction follows baseline and target", KeyResult{Baseline: 100, Target: 0}, 25, 0.75}, // -75/-100
		{"a maintain value inside the band has progress 1", mnt, 97, 1},
		{"a maintain value on the lower edge has progress 1", mnt, 95, 1},
		{"a maintain value on the upper edge has progress 1", mnt, 99, 1},
		{"a maintain value just below the band has progress 0", mnt, 94.99, 0},
		{"a maintain value just above the band has progress 0", mnt, 99.01, 0},
		{"a maintain NaN value has progress 0", mnt, math.NaN(), 0},
		{"an increase with target equal to baseline is done at the target", KeyResult{Direction: Increase, Baseline: 5, Target: 5}, 5, 1},
		{"an increase with target equal to baseline is not done below it", KeyResult{Direction: Increase, Baseline: 5, Target: 5}, 4, 0},
		{"a decrease with target equal to baseline is done at the target", KeyResult{Direction: Decrease, Baseline: 5, Target: 5}, 5, 1},
		{"a decrease with target equal to baseline is not done above it", KeyResult{Direction: Decrease, Baseline: 5, Target: 5}, 6, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ProgressOf(tt.kr, tt.value); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
