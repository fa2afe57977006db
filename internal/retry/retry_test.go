package retry_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/okrd/okrd/internal/retry"
	"github.com/okrd/okrd/internal/retry/retrytest"
)

var t0 = time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC)

func TestBackoffDoublesWithJitterUpToTheMaximum(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    retry.Policy
		n    int
		rnd  float64
		want time.Duration
	}{
		{"the first retry waits Initial at the top of the jitter", retry.Policy{Initial: time.Second, Max: 8 * time.Second}, 1, 1, time.Second},
		{"the jitter halves the wait at worst", retry.Policy{Initial: time.Second, Max: 8 * time.Second}, 1, 0, 500 * time.Millisecond},
		{"the second retry doubles", retry.Policy{Initial: time.Second, Max: 8 * time.Second}, 2, 1, 2 * time.Second},
		{"the jitter is spread between half and all of the schedule", retry.Policy{Initial: time.Second, Max: 8 * time.Second}, 3, 0.5, 3 * time.Second},
		{"the schedule stops at Max", retry.Policy{Initial: time.Second, Max: 8 * time.Second}, 10, 1, 8 * time.Second},
		{"a source failing for years neither loops long nor overflows", retry.Policy{Initial: 5 * time.Second, Max: time.Hour}, 1 << 30, 1, time.Hour},
		{"a Max below Initial bounds the first wait too", retry.Policy{Initial: 5 * time.Second, Max: time.Second}, 1, 1, time.Second},
		{"the zero policy starts at a second", retry.Policy{}, 1, 1, time.Second},
		{"the zero policy stops at a minute", retry.Policy{}, 20, 1, time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.p.Rand = func() float64 { return tc.rnd }
			if got := tc.p.Backoff(tc.n); got != tc.want {
				t.Errorf("Backoff(%d) = %v, want %v", tc.n, got, tc.want)
			}
		})
	}
}

// script is an operation that fails with the given verdicts in turn, then
// succeeds.
type script struct {
	verdicts []retry.Verdict
	calls    int
}

var errFailed = errors.New("HTTP 503")

func (s *script) op(ctx context.Context, attempt int) (retry.Verdict, error) {
	s.calls++
	if attempt != s.calls {
		return retry.GiveUp, errors.New("attempt numbers out of order")
	}
	if s.calls > len(s.verdicts) {
		return retry.Verdict{}, nil
	}
	return s.verdicts[s.calls-1], errFailed
}

func TestDo(t *testing.T) {
	type result struct {
		calls int
		waits []time.Duration
		until time.Duration // from t0, for a *LaterError; 0: none
		err   bool
	}
	for _, tc := range []struct {
		name     string
		p        retry.Policy
		verdicts []retry.Verdict
		want     result
	}{
		{"a retryable failure is retried after the backoff",
			retry.Policy{Initial: time.Second, Max: 30 * time.Second},
			[]retry.Verdict{retry.Again(), retry.Again()},
			result{calls: 3, waits: []time.Duration{time.Second, 2 * time.Second}}},
		{"an advised wait is waited out",
			retry.Policy{Initial: time.Second, Max: 30 * time.Second},
			[]retry.Verdict{retry.After(7 * time.Second)},
			result{calls: 2, waits: []time.Duration{7 * time.Second}}},
		{"an advised wait shorter than the backoff waits the backoff",
			retry.Policy{Initial: 4 * time.Second, Max: 30 * time.Second},
			[]retry.Verdict{retry.After(time.Second)},
			result{calls: 2, waits: []time.Duration{4 * time.Second}}},
		{"a failure not worth retrying ends at once",
			retry.Policy{},
			[]retry.Verdict{retry.GiveUp},
			result{calls: 1, err: true}},
		{"the attempts bound the tries",
			retry.Policy{Attempts: 3},
			[]retry.Verdict{retry.Again(), retry.Again(), retry.Again(), retry.Again()},
			result{calls: 3, waits: []time.Duration{time.Second, 2 * time.Second}, err: true}},
		{"attempts running out on an advised wait say when to come back",
			retry.Policy{Attempts: 1},
			[]retry.Verdict{retry.After(90 * time.Second)},
			result{calls: 1, until: 90 * time.Second, err: true}},
		{"an advised wait beyond MaxWait is not waited but said",
			retry.Policy{MaxWait: time.Minute},
			[]retry.Verdict{retry.After(time.Hour)},
			result{calls: 1, until: time.Hour, err: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := retrytest.NewAutoClock(t0)
			tc.p.Clock, tc.p.Rand = clk, func() float64 { return 1 }
			s := &script{verdicts: tc.verdicts}
			err := tc.p.Do(context.Background(), s.op)
			got := result{calls: s.calls, waits: clk.Waits(), err: err != nil}
			if le, ok := retry.IsLater(err); ok {
				got.until = le.Until.Sub(t0)
				if !errors.Is(err, errFailed) {
					t.Errorf("the LaterError %v does not wrap the last error", err)
				}
			}
			if got.calls != tc.want.calls || !slices.Equal(got.waits, tc.want.waits) || got.until != tc.want.until || got.err != tc.want.err {
				t.Errorf("got %+v, want %+v (err %v)", got, tc.want, err)
			}
		})
	}
}

func TestDoDoesNotBeginAWaitPastTheDeadline(t *testing.T) {
	clk := retrytest.NewAutoClock(t0)
	p := retry.Policy{Clock: clk}
	// The budget is an hour; the other side asks for two.
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	s := &script{verdicts: []retry.Verdict{retry.After(2 * time.Hour)}}
	err := p.Do(ctx, s.op)
	le, ok := retry.IsLater(err)
	if !ok || !le.Until.Equal(t0.Add(2*time.Hour)) || s.calls != 1 || len(clk.Waits()) != 0 {
		t.Errorf("Do = %v after %d calls and waits %v; want a LaterError at +2h without waiting", err, s.calls, clk.Waits())
	}
}

func TestDoEndsWhenTheContextEndsDuringAWait(t *testing.T) {
	clk := retrytest.NewClock(t0)
	var notified []time.Duration
	p := retry.Policy{Clock: clk, Rand: func() float64 { return 1 }, OnRetry: func(attempt int, err error, wait time.Duration) {
		notified = append(notified, wait)
	}}
	ctx, cancel := context.WithCancel(context.Background())
	s := &script{verdicts: []retry.Verdict{retry.Again(), retry.Again(), retry.Again()}}
	done := make(chan error)
	go func() { done <- p.Do(ctx, s.op) }()
	// Let the first retry happen, then cancel during the second wait.
	if p := clk.AwaitTimers(t, 1); !slices.Equal(p, []time.Duration{time.Second}) {
		t.Fatalf("first wait %v, want 1s", p)
	}
	clk.Advance(time.Second)
	if p := clk.AwaitTimers(t, 1); !slices.Equal(p, []time.Duration{2 * time.Second}) {
		t.Fatalf("second wait %v, want 2s", p)
	}
	cancel()
	if err := <-done; !errors.Is(err, errFailed) {
		t.Errorf("Do = %v, want the last failure", err)
	}
	if s.calls != 2 || !slices.Equal(notified, []time.Duration{time.Second, 2 * time.Second}) {
		t.Errorf("calls %d, notified %v; want 2 calls and both waits notified", s.calls, notified)
	}
}

func TestWait(t *testing.T) {
	t.Run("a wait ends when the clock reaches its end", func(t *testing.T) {
		clk := retrytest.NewClock(t0)
		done := make(chan error)
		go func() { done <- retry.Wait(context.Background(), clk, time.Minute) }()
		clk.AwaitTimers(t, 1)
		clk.Advance(59 * time.Second)
		select {
		case err := <-done:
			t.Fatalf("Wait returned %v a second early", err)
		default:
		}
		clk.Advance(time.Second)
		if err := <-done; err != nil {
			t.Errorf("Wait = %v", err)
		}
	})
	t.Run("a wait ends with the context", func(t *testing.T) {
		clk := retrytest.NewClock(t0)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- retry.Wait(ctx, clk, time.Hour) }()
		clk.AwaitTimers(t, 1)
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Wait = %v, want context.Canceled", err)
		}
		if p := clk.Pending(); len(p) != 0 {
			t.Errorf("the timer is still armed: %v", p)
		}
	})
	t.Run("a done context wins over a timer that fired", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := retry.Wait(ctx, retrytest.NewAutoClock(t0), time.Second); !errors.Is(err, context.Canceled) {
			t.Errorf("Wait = %v, want context.Canceled", err)
		}
	})
}

func TestParseRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"30", 30 * time.Second, true},
		{" 30 ", 30 * time.Second, true},
		{"0", 0, true},
		{"-5", 0, false},
		{"Sun, 01 Mar 2026 12:31:30 GMT", 90 * time.Second, true},
		{"Sun, 01 Mar 2026 12:00:00 GMT", 0, true}, // in the past: now
		{"soon", 0, false},
		{"99999999999999", 24 * time.Hour, true}, // capped, no overflow
	} {
		got, ok := retry.ParseRetryAfter(tc.in, t0)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseResets(t *testing.T) {
	for _, tc := range []struct {
		name  string
		parse func(string) (time.Time, bool)
		in    string
		want  time.Time
		ok    bool
	}{
		{"Jira's reset is an ISO time to the minute", retry.ParseResetISO, "2026-03-01T12:45Z", t0.Add(15 * time.Minute), true},
		{"an ISO reset may carry an offset", retry.ParseResetISO, "2026-03-01T13:45+01:00", t0.Add(15 * time.Minute), true},
		{"an ISO reset may carry seconds", retry.ParseResetISO, "2026-03-01T12:45:30Z", t0.Add(15*time.Minute + 30*time.Second), true},
		{"an epoch reset is not Jira's format", retry.ParseResetISO, "1772368200", time.Time{}, false},
		{"GitHub's reset is epoch seconds", retry.ParseResetEpoch, "1772368200", time.Unix(1772368200, 0), true},
		{"an ISO time is not GitHub's format", retry.ParseResetEpoch, "2026-03-01T12:45Z", time.Time{}, false},
		{"an absent reset is none", retry.ParseResetEpoch, "", time.Time{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.parse(tc.in)
			if !got.Equal(tc.want) || ok != tc.ok {
				t.Errorf("parse(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	ra := http.Header{"Retry-After": {"20"}}
	for _, tc := range []struct {
		name   string
		status int
		h      http.Header
		want   retry.Verdict
	}{
		{"a 429 is retried after the backoff", 429, http.Header{}, retry.Again()},
		{"a 429 with Retry-After is retried after it", 429, ra, retry.After(20 * time.Second)},
		{"a 503 is retried", 503, http.Header{}, retry.Again()},
		{"a 503 with Retry-After is retried after it", 503, ra, retry.After(20 * time.Second)},
		{"a 500 with Retry-After is retried after it", 500, ra, retry.After(20 * time.Second)},
		{"a 501 is not retried", 501, ra, retry.GiveUp},
		{"a 403 with Retry-After is a rate limit", 403, ra, retry.After(20 * time.Second)},
		{"a 403 without Retry-After is a refusal", 403, http.Header{}, retry.GiveUp},
		{"a 403 with a malformed Retry-After is a refusal", 403, http.Header{"Retry-After": {"later"}}, retry.GiveUp},
		{"a 401 is not retried even with Retry-After", 401, ra, retry.GiveUp},
		{"a 400 is not retried", 400, http.Header{}, retry.GiveUp},
		{"a 404 is not retried", 404, http.Header{}, retry.GiveUp},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := retry.Classify(tc.status, tc.h, t0); got != tc.want {
				t.Errorf("Classify(%d) = %+v, want %+v", tc.status, got, tc.want)
			}
		})
	}
}
