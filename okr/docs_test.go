package okr

import (
	"testing"
	"time"
)

// TestDocsExamples checks the worked examples of docs/okr.md, so that the
// user-facing definition and the engine cannot drift apart.
func TestDocsExamples(t *testing.T) {
	q4, err := ParsePeriod("2026-Q4", time.UTC, time.January)
	if err != nil {
		t.Fatal(err)
	}
	date := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

	t.Run("the periods table with a July fiscal year", func(t *testing.T) {
		for name, want := range map[string][2]time.Time{
			"2026":    {date(2025, 7, 1), date(2026, 7, 1)},
			"2026-H1": {date(2025, 7, 1), date(2026, 1, 1)},
			"2026-H2": {date(2026, 1, 1), date(2026, 7, 1)},
			"2026-Q1": {date(2025, 7, 1), date(2025, 10, 1)},
			"2026-Q2": {date(2025, 10, 1), date(2026, 1, 1)},
			"2026-Q3": {date(2026, 1, 1), date(2026, 4, 1)},
			"2026-Q4": {date(2026, 4, 1), date(2026, 7, 1)},
		} {
			p, err := ParsePeriod(name, time.UTC, time.July)
			if err != nil || !p.Start.Equal(want[0]) || !p.End.Equal(want[1]) {
				t.Errorf("%s: got [%s, %s) %v, want [%s, %s)", name, p.Start, p.End, err, want[0], want[1])
			}
		}
	})

	t.Run("the progress examples", func(t *testing.T) {
		latency := KeyResult{Direction: Decrease, Baseline: 400, Target: 250}
		for _, c := range []struct {
			kr        KeyResult
			value, to float64
		}{
			{KeyResult{Direction: Increase, Baseline: 20, Target: 60}, 50, 0.75},
			{latency, 310, 0.6},
			{latency, 240, 1},
			{latency, 420, 0},
			{KeyResult{Direction: Maintain, Min: 99.5, Max: 100}, 99.5, 1},
			{KeyResult{Direction: Maintain, Min: 99.5, Max: 100}, 99.7, 1},
			{KeyResult{Direction: Maintain, Min: 99.5, Max: 100}, 99.4, 0},
		} {
			if got := ProgressOf(c.kr, c.value); !near(got, c.to) {
				t.Errorf("%+v at %v: got %v, want %v", c.kr, c.value, got, c.to)
			}
		}
	})

	t.Run("the expected progress examples", func(t *testing.T) {
		if got := ExpectedProgress(inc, q4, date(2026, 11, 16)); !near(got, 0.5) {
			t.Errorf("linear: got %v, want 0.5", got)
		}
		kr := KeyResult{Direction: Increase, Target: 100, Milestones: []Milestone{
			{At: date(2026, 11, 1), Value: 20}, {At: date(2026, 12, 1), Value: 80},
		}}
		for at, want := range map[time.Time]float64{
			date(2026, 10, 16): 0.2 * 15 / 31,
			date(2026, 11, 1):  0.2,
			date(2026, 11, 16): 0.5,
			date(2026, 12, 16): 0.8 + 0.2*15/31,
			date(2027, 1, 1):   1,
		} {
			if got := ExpectedProgress(kr, q4, at); !near(got, want) {
				t.Errorf("milestones at %s: got %v, want %v", at, got, want)
			}
		}
	})

	t.Run("the status table", func(t *testing.T) {
		// period10 at day 5 expects 0.5; inc has progress value/100.
		for v, want := range map[float64]Status{
			45: StatusOnTrack, 40: StatusOnTrack, 35: StatusAtRisk, 30: StatusAtRisk, 25: StatusOffTrack, 100: StatusAchieved,
		} {
			if got := Evaluate(inc, period10, pts(pt(5, v)), day(5)).Status; got != want {
				t.Errorf("progress %v: got %s, want %s", v/100, got, want)
			}
		}
	})

	t.Run("the forecast example", func(t *testing.T) {
		r := Evaluate(inc200, period10, pts(pt(0, 10), pt(1, 30), pt(2, 20)), day(2))
		if !r.HasForecast || !near(r.Forecast, 65) || !near(r.ForecastProgress, 0.325) {
			t.Errorf("got %+v, want forecast 65 (0.325)", r)
		}
	})

	t.Run("the score table", func(t *testing.T) {
		for v, want := range map[float64]float64{100: 1, 92: 0.9, 65: 0.7, 64: 0.6, 25: 0.3, 0: 0} {
			if r := Evaluate(inc, period10, pts(pt(9, v)), day(10)); !r.HasScore || !near(r.Score, want) {
				t.Errorf("progress %v: got %+v, want score %v", v/100, r, want)
			}
		}
	})

	t.Run("the objective example", func(t *testing.T) {
		krs := weights(2, 1, 1)
		got := EvaluateObjective(krs, []Result{res(0.5, StatusOnTrack), res(0.9, StatusOnTrack), res(0.3, StatusAtRisk)})
		if !near(got.Progress, 0.55) || got.Status != StatusAtRisk || got.HasScore {
			t.Errorf("running: got %+v, want 0.55 at_risk", got)
		}
		got = EvaluateObjective(krs, []Result{res(0.5, StatusOnTrack), res(0.9, StatusOnTrack), noData})
		if !near(got.Progress, 0.475) || got.Status != StatusOnTrack {
			t.Errorf("with no data: got %+v, want 0.475 on_track", got)
		}
		got = EvaluateObjective(krs, []Result{scored(0.5, StatusMissed, 0.5), scored(0.9, StatusMissed, 0.9), scored(0.3, StatusMissed, 0.3)})
		if !got.HasScore || !near(got.Score, 0.6) {
			t.Errorf("at the end: got %+v, want score 0.6", got)
		}
	})

	t.Run("the complete example", func(t *testing.T) {
		kr := KeyResult{Direction: Decrease, Baseline: 400, Target: 250, Tolerance: 0.1, Weight: 1}
		h := []Point{{date(2026, 10, 2), 390}, {date(2026, 10, 9), 370}, {date(2026, 11, 15), 330}}
		// Forecast: slope -1420/1118 per day from (18, 1090/3); at day 92.
		f := 1090.0/3 - 1420.0/1118*(92-18)
		want := value(0, 330).with(70.0/150, 0.5, 70.0/150-0.5, StatusOnTrack).forecast(f, (400-f)/150)
		want.ValueAt = date(2026, 11, 15)
		checkResult(t, Evaluate(kr, q4, h, date(2026, 11, 16)), want)

		h = append(h, Point{date(2026, 12, 28), 262})
		r := Evaluate(kr, q4, h, date(2027, 1, 1))
		if r.Status != StatusMissed || !near(r.Progress, 0.92) || !r.HasScore || !near(r.Score, 0.9) {
			t.Errorf("at the end: got %+v, want missed 0.92 score 0.9", r)
		}
	})
}
