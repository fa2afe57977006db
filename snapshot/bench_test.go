package snapshot

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/okr"
)

// cpuTime is the CPU time the process has used: unlike the wall time, the
// load of a shared machine does not inflate it.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// scaleSnapshot is a snapshot of 1,000 objectives of 10 key results, each
// with a value and a forecast, as the app's scale benchmarks configure.
func scaleSnapshot() *Snapshot {
	period := okr.Period{Name: "2026-Q4", Start: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}
	now := time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)
	s := &Snapshot{Generation: 1, EvaluatedAt: now}
	for i := range 1000 {
		oc := &config.Objective{ID: fmt.Sprintf("objective-%d", i), Title: fmt.Sprintf("Objective number %d", i), Owner: "owner", Team: "team", Resolved: period}
		o := &Objective{Config: oc, Result: okr.ObjectiveResult{Progress: 0.5, Status: okr.StatusOnTrack}}
		for k := range 10 {
			kc := &config.KeyResult{ID: fmt.Sprintf("kr-%d", k), Title: fmt.Sprintf("Key result %d of objective %d", k, i), Unit: "count",
				Engine: okr.KeyResult{Direction: okr.Increase, Baseline: 10, Target: 100, Tolerance: 0.1, Weight: 1}}
			oc.KeyResults = append(oc.KeyResults, kc)
			o.KeyResults = append(o.KeyResults, &KeyResult{Objective: oc, Config: kc, Points: 6, Result: okr.Result{
				HasValue: true, Value: 40 + float64(k), ValueAt: now, Progress: 0.31, Expected: 0.4945652173913043, Gap: -0.18, Status: okr.StatusAtRisk,
				HasForecast: true, Forecast: 71.25, ForecastProgress: 0.68}})
		}
		s.Objectives = append(s.Objectives, o)
	}
	return s
}

// BenchmarkUpdate10kKeyResults measures what a check-in costs the
// exposition at 10,000 key results: a snapshot with one objective
// evaluated again, encoded (plain and gzipped) from the one before.
func BenchmarkUpdate10kKeyResults(b *testing.B) {
	s := scaleSnapshot()
	s.Warm(context.Background())
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; b.Loop(); i++ {
		o := s.Objectives[(i*7919)%len(s.Objectives)]
		s = s.With(uint64(i+2), s.EvaluatedAt, map[int]*Objective{(i * 7919) % len(s.Objectives): reevaluated(o, float64(i))})
		if !s.Warm(context.Background()) {
			b.Fatal("Warm did not finish")
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
}

// BenchmarkEncode10kKeyResults measures encoding a snapshot none of whose
// objectives were encoded before (after a full evaluation whose results
// all changed), plain and gzipped.
func BenchmarkEncode10kKeyResults(b *testing.B) {
	b.ReportAllocs()
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		s := scaleSnapshot()
		c := cpuTime()
		b.StartTimer()
		s.Warm(context.Background())
		b.StopTimer()
		cpu += cpuTime() - c
		e, _ := s.Exposition(textFormat, true)
		b.ReportMetric(float64(e.Len()), "gzip-bytes")
		b.StartTimer()
	}
	b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
}
