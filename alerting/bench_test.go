package alerting

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/notify"
	"github.com/okrd/okrd/okr"
	"github.com/okrd/okrd/snapshot"
)

// bigSnapshot has 100 objectives of 5 key results (500, a large
// organisation's OKRs), a fifth of them off track and forecast to miss.
func bigSnapshot(now time.Time) *snapshot.Snapshot {
	s := &snapshot.Snapshot{EvaluatedAt: now}
	for i := range 100 {
		oc := &config.Objective{ID: fmt.Sprintf("obj-%d", i), Title: "Objective", Owner: "owner", Team: fmt.Sprintf("team-%d", i%7), Resolved: quarter}
		o := &snapshot.Objective{Config: oc}
		for j := range 5 {
			kc := &config.KeyResult{ID: fmt.Sprintf("kr-%d", j), Title: "Key result", Owner: "owner", Team: oc.Team, Engine: okr.KeyResult{Tolerance: 0.1}}
			r := okr.Result{HasValue: true, ValueAt: now, Progress: 0.5, Expected: 0.5, Status: okr.StatusOnTrack, HasForecast: true, ForecastProgress: 0.95}
			if j == 0 {
				r = okr.Result{HasValue: true, ValueAt: now, Progress: 0.1, Expected: 0.5, Gap: -0.4, Status: okr.StatusOffTrack, HasForecast: true, ForecastProgress: 0.3}
			}
			o.KeyResults = append(o.KeyResults, &snapshot.KeyResult{Objective: oc, Config: kc, Result: r})
		}
		s.Objectives = append(s.Objectives, o)
	}
	return s
}

// BenchmarkProcess measures what the built-in alerting adds to every
// evaluation in the steady state: 500 key results, 200 alerts firing,
// nothing changing (so nothing is written or sent).
func BenchmarkProcess(b *testing.B) {
	st := openStore(b, b.TempDir())
	e := NewEngine(st, notify.NewSender(nil, nil), nil, nil, nil)
	p := DefaultPolicy()
	p.For = 0
	e.Configure(Config{Policy: p, Receivers: []Receiver{{Integration: notify.Integration{Receiver: "r", Type: "webhook", Notifier: &recorder{}}}},
		DefaultReceiver: "r"})
	now := time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)
	in := Input{Snapshot: bigSnapshot(now), Sources: []collectors.Health{{Name: "jira", Type: "jira", Up: true, Polls: 1}}}
	ctx := context.Background()
	if err := e.Process(ctx, in); err != nil {
		b.Fatal(err)
	}
	e.Dispatch(ctx)
	if n := len(e.States()); n != 200 {
		b.Fatalf("%d alerts, want 200 (100 off track, 100 forecast to miss)", n)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := e.Process(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}
