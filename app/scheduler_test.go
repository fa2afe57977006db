package app

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/internal/retry/retrytest"
)

func TestNextDelay(t *testing.T) {
	now := fixedNow
	half := func() float64 { return 0.5 }
	top := func() float64 { return 1 }
	for _, tc := range []struct {
		name     string
		interval time.Duration
		failures int
		err      error
		rnd      func() float64
		want     time.Duration
	}{
		{"after a success the interval is kept, with jitter of up to 10%", 5 * time.Minute, 0, nil, half, 5 * time.Minute},
		{"the jitter reaches +10% at most", 5 * time.Minute, 0, nil, top, 330 * time.Second},
		{"the first failure retries after 5s at most", 5 * time.Minute, 1, errors.New("503"), top, 5 * time.Second},
		{"the backoff doubles", 5 * time.Minute, 3, errors.New("503"), top, 20 * time.Second},
		{"full jitter halves the delay at worst", 5 * time.Minute, 3, errors.New("503"), func() float64 { return 0 }, 10 * time.Second},
		{"the backoff never exceeds the interval", 5 * time.Minute, 30, errors.New("503"), top, 5 * time.Minute},
		{"a permanent error waits at least ten minutes", time.Minute, 1, collectors.Permanent(errors.New("401")), top, 10 * time.Minute},
		{"a retry-after beyond the backoff is honoured", 5 * time.Minute, 1,
			&collectors.RetryAfterError{Until: now.Add(90 * time.Second), Err: errors.New("429")}, func() float64 { return 0 }, 90 * time.Second},
		{"a rate limit answered with 403 waits its retry-after, not the ten minutes of a permanent error", 5 * time.Minute, 1,
			&collectors.RetryAfterError{Until: now.Add(3 * time.Minute), Err: errors.New(`jira source "jira": rest/api/2/search/jql: HTTP 403`)}, func() float64 { return 0 }, 3 * time.Minute},
		{"a retry-after is jittered by up to a second", 5 * time.Minute, 1,
			&collectors.RetryAfterError{Until: now.Add(90 * time.Second), Err: errors.New("429")}, top, 91 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := nextDelay(tc.interval, tc.failures, tc.err, now, tc.rnd); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func metricValue(t *testing.T, body, series string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

func TestAFailingSourceIsReportedAndDoesNotHoldUpTheOthers(t *testing.T) {
	fakes.reset()
	fakes.setFail("broken", errors.New("HTTP 503 from the API"))
	defer fakes.reset()
	cfg := baseConfig + `
[sources.broken]
type = "fake"
interval = "1h"

[sources.slow]
type = "fake"
interval = "1h"
delay = "3s"
timeout = "1s"

[sources.good]
type = "fake"
interval = "1h"
value = 7

[[objectives]]
id = "measured"
title = "Measured by sources"
period = "2026-Q4"
  [[objectives.key_results]]
  id = "good-kr"
  title = "From the good source"
  source = "good"
  baseline = 0
  target = 10
  [[objectives.key_results]]
  id = "broken-kr"
  title = "From the good source, but the metric fails"
  source = "good"
  metric = "broken"
  baseline = 0
  target = 10
`
	ta := startApp(t, "", cfg, fixedClock)
	waitFor(t, func() bool {
		return fakes.counter("good").Load() >= 1 && fakes.counter("broken").Load() >= 1
	})
	waitFor(t, func() bool {
		body := do(t, "GET", ta.url+"/metrics", "", "").body
		return metricValue(t, body, `okrd_source_up{source="good",type="fake"}`) == "1" &&
			metricValue(t, body, `okrd_source_up{source="broken",type="fake"}`) == "0" &&
			metricValue(t, body, `okr_key_result_value{key_result="good-kr",objective="measured"}`) == "7"
	})
	// The slow source times out after 1s and is down; the good one was
	// measured long before.
	waitFor(t, func() bool {
		body := do(t, "GET", ta.url+"/metrics", "", "").body
		return metricValue(t, body, `okrd_source_polls_total{result="failure",source="slow"}`) == "1"
	})
	for _, h := range ta.Sources() {
		switch h.Name {
		case "broken":
			if h.Up || h.LastError != "HTTP 503 from the API" || h.ConsecutiveFailures < 1 {
				t.Errorf("broken health: %+v", h)
			}
		case "slow":
			if h.Up || !strings.Contains(h.LastError, "poll timed out after 1s") {
				t.Errorf("slow health: %+v", h)
			}
		case "good":
			if !h.Up || h.LastSuccess.IsZero() {
				t.Errorf("good health: %+v", h)
			}
		}
	}
	body := do(t, "GET", ta.url+"/metrics", "", "").body
	if v := metricValue(t, body, `okrd_key_result_measure_errors_total{key_result="broken-kr",objective="measured",source="good"}`); v != "1" {
		t.Errorf("measure errors = %q, want 1", v)
	}
	if v := metricValue(t, body, `okrd_source_records{kind="item",source="good"}`); v != "1" {
		t.Errorf("records = %q, want 1", v)
	}
	// The sources endpoint shows the same.
	r := do(t, "GET", ta.url+"/api/v1/sources", "", "")
	if !strings.Contains(r.body, `"last_error": "HTTP 503 from the API"`) {
		t.Errorf("/api/v1/sources: %s", r.body)
	}
}

// fakePollClock makes the poll loops of the test wait on a manual fake
// clock, which the test moves.
func fakePollClock(t *testing.T) *retrytest.Clock {
	clk := retrytest.NewClock(fixedNow)
	old := pollClock
	pollClock = clk
	// Registered before startApp's, so it runs after okrd stopped.
	t.Cleanup(func() { pollClock = old })
	return clk
}

func noStartJitter(o *Options) { o.NoStartJitter = true }

func TestAFailedSourceIsRetriedWithBackoffAndRecovers(t *testing.T) {
	fakes.reset()
	defer fakes.reset()
	clk := fakePollClock(t)
	fakes.setFail("flaky", errors.New("connection refused"))
	ta := startApp(t, "", baseConfig+`
[sources.flaky]
type = "fake"
interval = "1h"
`, fixedClock, noStartJitter)
	// After each failure the source waits before polling again, twice as
	// long each time: up to 5s, 10s, 20s (the jitter takes up to half).
	for i, most := range []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second} {
		wait := clk.AwaitTimers(t, 1)[0]
		if wait < most/2 || wait > most {
			t.Errorf("wait after failure %d = %v, want between %v and %v", i+1, wait, most/2, most)
		}
		if n := fakes.counter("flaky").Load(); n != int64(i+1) {
			t.Fatalf("%d polls before the wait after failure %d", n, i+1)
		}
		if hs := ta.Sources(); hs[0].Up || hs[0].ConsecutiveFailures != i+1 {
			t.Errorf("health after failure %d: %+v", i+1, hs[0])
		}
		if i == 2 {
			fakes.setFail("flaky", nil)
		}
		clk.Advance(wait)
	}
	// The fourth poll succeeds, and the source is back to its interval.
	wait := clk.AwaitTimers(t, 1)[0]
	if wait < 54*time.Minute || wait > 66*time.Minute {
		t.Errorf("wait after the recovery = %v, want the 1h interval ±10%%", wait)
	}
	if hs := ta.Sources(); !hs[0].Up || hs[0].ConsecutiveFailures != 0 || fakes.counter("flaky").Load() != 4 {
		t.Errorf("after the recovery: %+v, %d polls", hs[0], fakes.counter("flaky").Load())
	}
}

func TestReloadRestartsOnlyChangedSources(t *testing.T) {
	fakes.reset()
	defer fakes.reset()
	clk := fakePollClock(t)
	src := func(b string) string {
		return baseConfig + fmt.Sprintf(`
[sources.a]
type = "fake"
interval = "1h"

[sources.b]
type = "fake"
interval = "1h"
value = %s
`, b)
	}
	ta := startApp(t, "", src("1"), fixedClock, noStartJitter)
	runnerOf := func(name string) *runner {
		ta.runMu.Lock()
		defer ta.runMu.Unlock()
		return ta.runners[name]
	}
	// Both polled once and wait an hour for their next poll.
	clk.AwaitTimers(t, 2)
	a, b := runnerOf("a"), runnerOf("b")
	nextA := a.snapshotHealth().NextPoll
	writeConfig(t, ta.dir, src("2"))
	if err := ta.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	// b changed: a new runner polls it at once and waits again. Reload
	// stopped the old one, so two armed timers mean the new one waits.
	clk.AwaitTimers(t, 2)
	if n := fakes.counter("b").Load(); n != 2 || runnerOf("b") == b {
		t.Errorf("changed source b polled %d times, by a new runner: %v; want 2 by a new one", n, runnerOf("b") != b)
	}
	// a kept its runner and its schedule.
	select {
	case <-a.done:
		t.Error("the runner of the unchanged source a was stopped")
	default:
	}
	if runnerOf("a") != a || !a.snapshotHealth().NextPoll.Equal(nextA) {
		t.Errorf("unchanged source a has a new runner (%v) or schedule (%v, was %v)", runnerOf("a") != a, a.snapshotHealth().NextPoll, nextA)
	}
	if n := fakes.counter("a").Load(); n != 1 {
		t.Errorf("unchanged source a polled %d times, want 1", n)
	}
}

func TestSyncOncePollsEverySourceAndRecordsValues(t *testing.T) {
	fakes.reset()
	defer fakes.reset()
	dir := t.TempDir()
	path := writeConfig(t, dir, baseConfig+`
[sources.a]
type = "fake"
value = 4

[sources.b]
type = "fake"

[[objectives]]
id = "measured"
title = "Measured"
period = "2026-Q4"
  [[objectives.key_results]]
  id = "a-kr"
  title = "From a"
  source = "a"
  baseline = 0
  target = 8
`)
	fakes.setFail("b", errors.New("bad token"))
	logger, _ := testLogger(t)
	a, err := New(context.Background(), Options{ConfigFile: path, Logger: logger, Now: fixedClock})
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	err = a.SyncOnce(context.Background(), func(s string, err error) { seen = append(seen, s) })
	if err == nil || !strings.Contains(err.Error(), `source "b": bad token`) {
		t.Errorf("SyncOnce error = %v", err)
	}
	if len(seen) != 2 {
		t.Errorf("progress callbacks for %v", seen)
	}
	snap := a.Snapshot()
	kr := snap.Objective("measured").KeyResult("a-kr")
	if !kr.Result.HasValue || kr.Result.Value != 4 || kr.Result.Progress != 0.5 {
		t.Errorf("a-kr = %+v", kr.Result)
	}
}

// resyncSource records whether a full re-sync was asked for.
type resyncSource struct {
	fakeSource
	asked bool
}

func (r *resyncSource) Resync() { r.asked = true }

func TestResyncOnceAsksSourcesThatCanForAFullResync(t *testing.T) {
	var made []*resyncSource
	collectors.Register("fake-resync", func(src *config.Source, deps collectors.Deps) (collectors.Source, error) {
		s := &resyncSource{fakeSource: fakeSource{name: src.Name, spec: src.Spec.(*fakeSpec), st: deps.Store}}
		made = append(made, s)
		return s, nil
	})
	config.RegisterSourceType("fake-resync", config.SourceType{NewSpec: func() any { return &fakeSpec{} }})
	for _, full := range []bool{false, true} {
		dir := t.TempDir()
		path := writeConfig(t, dir, baseConfig+"\n[sources.r]\ntype = \"fake-resync\"\n")
		logger, _ := testLogger(t)
		a, err := New(context.Background(), Options{ConfigFile: path, Logger: logger, Now: fixedClock})
		if err != nil {
			t.Fatal(err)
		}
		sync := a.SyncOnce
		if full {
			sync = a.ResyncOnce
		}
		if err := sync(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		if got := made[len(made)-1].asked; got != full {
			t.Errorf("full=%v: Resync asked = %v", full, got)
		}
	}
}
