package okr

import (
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkEvaluate10kKeyResults measures one full evaluation pass of a large
// installation: 10,000 key results with 1,000 recorded points each (every
// history distinct, as a store would return them, sorted by time), then the
// roll-up of objectives of three key results each. One op is one full pass.
func BenchmarkEvaluate10kKeyResults(b *testing.B) {
	const (
		nKR     = 10_000
		nPoints = 1_000
	)
	p, err := ParsePeriod("2026-Q1", time.UTC, time.January)
	if err != nil {
		b.Fatal(err)
	}
	now := p.Start.Add(60 * dayDur) // two thirds into the quarter
	rng := rand.New(rand.NewPCG(1, 2))

	krs := make([]KeyResult, nKR)
	histories := make([][]Point, nKR)
	for i := range krs {
		switch i % 3 {
		case 0:
			krs[i] = KeyResult{Direction: Increase, Baseline: 0, Target: 1000, Weight: 1}
		case 1:
			krs[i] = KeyResult{Direction: Decrease, Baseline: 500, Target: 100, Weight: 2}
		default:
			krs[i] = KeyResult{Direction: Maintain, Min: 95, Max: 99.9, Weight: 1}
		}
		if i%5 == 0 {
			krs[i].Milestones = []Milestone{
				{At: p.Start.Add(30 * dayDur), Value: krs[i].Baseline + 0.3*(krs[i].Target-krs[i].Baseline)},
				{At: p.Start.Add(60 * dayDur), Value: krs[i].Baseline + 0.7*(krs[i].Target-krs[i].Baseline)},
			}
		}
		// 1,000 points from ten days before the start to ten days after
		// now, so that some predate the period and some are in the future.
		h := make([]Point, nPoints)
		first := p.Start.Add(-10 * dayDur)
		step := (80 * dayDur) / nPoints
		for j := range h {
			h[j] = Point{At: first.Add(time.Duration(j) * step), Value: 100 + float64(j)*0.5 + rng.Float64()*10}
		}
		histories[i] = h
	}
	results := make([]Result, nKR)
	objectives := make([]ObjectiveResult, (nKR+2)/3)

	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for i := range krs {
			results[i] = Evaluate(krs[i], p, histories[i], now)
		}
		for g := range objectives {
			lo, hi := 3*g, min(3*g+3, nKR)
			objectives[g] = EvaluateObjective(krs[lo:hi], results[lo:hi])
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/nKR, "ns/keyresult")
	if !results[0].HasForecast || results[0].Status == StatusNoData {
		b.Fatalf("unexpected result %+v", results[0])
	}
}

// BenchmarkEvaluateUnsortedHistory shows the cost of the copy-and-sort path
// for one key result with a 1,000-point history in reverse order.
func BenchmarkEvaluateUnsortedHistory(b *testing.B) {
	h := make([]Point, 1000)
	for j := range h {
		h[j] = Point{At: day(float64(len(h)-j) / 100), Value: float64(j)}
	}
	b.ReportAllocs()
	for b.Loop() {
		Evaluate(inc, period10, h, day(5))
	}
}
