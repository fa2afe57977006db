//go:build unix

package app

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/okr"
)

// BenchmarkBackfill10000KeyResults92Instants writes the okr_* series of
// 10,000 key results (2,500 objectives of four) at the 92 daily instants
// of a quarter, each key result with a filled-in value at every instant,
// as okrd backfill does after reading the store. It reports the live heap
// at its peak (after a collection, at the end of each chunk, when one
// chunk is held) against the heap the history alone takes, and the size
// of the output.
func BenchmarkBackfill10000KeyResults92Instants(b *testing.B) {
	const objectives, perObjective = 2500, 4
	loc := time.UTC
	p := okr.Period{Name: "2026-Q4", Start: time.Date(2026, 10, 1, 0, 0, 0, 0, loc), End: time.Date(2027, 1, 1, 0, 0, 0, 0, loc)}
	cfg := &config.Config{}
	cfg.Global.Location = loc
	cfg.History.Step = config.DefaultHistoryStep
	h := newHistory(nil)
	instants := gridInstants(p, loc, 24*time.Hour, p.End.Add(-time.Second))
	for i := 0; i < objectives; i++ {
		o := &config.Objective{ID: fmt.Sprintf("objective-%04d", i), Title: "Objective", Owner: "owner", Team: "team", Resolved: p}
		for j := 0; j < perObjective; j++ {
			kr := &config.KeyResult{ID: fmt.Sprintf("key-result-%d", j), Title: "A key result", Source: "github", Unit: "count",
				Engine: okr.KeyResult{Direction: okr.Increase, Baseline: 0, Target: 100, Tolerance: 0.1}}
			o.KeyResults = append(o.KeyResults, kr)
			for n, t := range instants {
				h.insert(krKey{o.ID, kr.ID}, okr.Point{At: t, Value: float64(n + i%7 + j)}, true)
			}
		}
		cfg.Objectives = append(cfg.Objectives, o)
	}
	a := &App{hist: h}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak uint64
	backfillProbe = func() {
		runtime.GC()
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapAlloc)
	}
	defer func() { backfillProbe = nil }()
	if len(instants) != 92 {
		b.Fatalf("%d instants", len(instants))
	}
	var size, spooled int64
	var series, samples int
	cpu0 := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		sp, err := newSpool(b.TempDir(), "okrd.om")
		if err != nil {
			b.Fatal(err)
		}
		if err := a.backfillOKR(context.Background(), sp, cfg, instants, []BackfillLabel{{"job", "okrd"}, {"instance", "okrd.example.com:9100"}}); err != nil {
			b.Fatal(err)
		}
		// The output is written to a file, as okrd backfill writes it.
		f, err := os.Create(filepath.Join(b.TempDir(), "okrd.om"))
		if err != nil {
			b.Fatal(err)
		}
		bw := bufio.NewWriterSize(f, 1<<20)
		cw := &countingWriter{w: bw}
		if err := sp.assemble(cw); err != nil {
			b.Fatal(err)
		}
		if err := bw.Flush(); err != nil {
			b.Fatal(err)
		}
		f.Close()
		os.Remove(f.Name())
		sp.remove()
		size, spooled = cw.n, sp.size
		series, samples = 0, 0
		for _, f := range sp.fams {
			series += f.series
			samples += f.samples
		}
	}
	// CPU time as well as the wall clock: on a busy machine the wall clock
	// says more about the neighbours.
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(base)/(1<<20), "history-MiB")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(peak-base)/(1<<20), "backfill-MiB")
	b.ReportMetric(float64(size)/(1<<20), "output-MiB")
	b.ReportMetric(float64(spooled)/(1<<20), "spool-MiB")
	b.ReportMetric(float64(series), "series")
	b.ReportMetric(float64(samples), "samples")
}
