// Package retry owns okrd's one retry policy, which the Jira and GitHub
// clients, the notifiers and the poll scheduler share: exponential backoff
// with jitter and bounds (the schedule is cenkalti/backoff's), the reading of
// Retry-After and of the rate-limit reset headers, which HTTP answers are
// worth retrying, and waits that end with the context and run on a Clock that
// tests replace, so that no test has to sleep.
package retry

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// Policy is how an operation is retried. The zero value retries without
// bound (only the context ends it) after one second, doubling up to a
// minute.
type Policy struct {
	// Initial is the first backoff, before jitter; 0 means one second.
	Initial time.Duration
	// Max caps the backoff, before jitter, the first one included.
	// 0 means a minute.
	Max time.Duration
	// Attempts bounds the tries, the first one included; 0 leaves only the
	// context to end them.
	Attempts int
	// MaxWait is the longest wait asked for by the other side (Retry-After,
	// a rate-limit reset) that Do waits out; a longer one ends Do with a
	// *LaterError, so that the caller can come back then without holding a
	// goroutine. 0 means no bound but the context.
	MaxWait time.Duration
	// Rand returns a number in [0, 1) for the jitter; nil means
	// math/rand/v2. Tests fix it.
	Rand func() float64
	// Clock runs the waits; nil means the system clock.
	Clock Clock
	// OnRetry, when set, is called before each wait with the attempt that
	// failed (1 = the first try), its error and the wait.
	OnRetry func(attempt int, err error, wait time.Duration)
}

const (
	defaultInitial = time.Second
	defaultMax     = time.Minute
)

// Backoff returns the wait before retry number n (1 = the first retry):
// Initial doubled n-1 times, capped at Max, with jitter in [d/2, d] so that
// clients failing together spread out while never waiting less than half
// the schedule.
func (p Policy) Backoff(n int) time.Duration {
	d := p.schedule(n)
	rnd := p.Rand
	if rnd == nil {
		rnd = rand.Float64
	}
	return d/2 + time.Duration(float64(d-d/2)*rnd())
}

// schedule is the un-jittered backoff before retry n. cenkalti/backoff's
// ExponentialBackOff computes it (growth and cap, guarded against overflow);
// its own randomization is off because its random source cannot be fixed in
// tests, so Backoff adds the jitter.
func (p Policy) schedule(n int) time.Duration {
	initial, maxB := p.Initial, p.Max
	if initial <= 0 {
		initial = defaultInitial
	}
	if maxB <= 0 {
		maxB = defaultMax
	}
	initial = min(initial, maxB)
	b := &backoff.ExponentialBackOff{InitialInterval: initial, Multiplier: 2, MaxInterval: maxB}
	b.Reset()
	d := b.NextBackOff()
	// Once at the cap the schedule stays there, so a source failing for
	// days does not loop over every failure.
	for i := 1; i < n && d < maxB; i++ {
		d = b.NextBackOff()
	}
	return d
}

// Verdict is what a failed attempt allows.
type Verdict struct {
	// Retry is false when trying again cannot succeed soon (a rejected
	// credential, a bad request): Do gives up at once.
	Retry bool
	// After is the wait the other side asked for, when Advised.
	After   time.Duration
	Advised bool
}

// GiveUp is the verdict of an attempt not worth retrying.
var GiveUp = Verdict{}

// Again is the verdict of an attempt worth retrying after the backoff.
func Again() Verdict { return Verdict{Retry: true} }

// After is the verdict of an attempt worth retrying once the wait the other
// side asked for has passed (never sooner than the backoff).
func After(d time.Duration) Verdict { return Verdict{Retry: true, After: max(d, 0), Advised: true} }

// LaterError is Do giving up on an answer that said when to come back: the
// wait was longer than MaxWait or than the context's deadline allows, or the
// attempts ran out. Until is that time.
type LaterError struct {
	Until time.Time
	Err   error
}

func (e *LaterError) Error() string {
	return fmt.Sprintf("%v (retry after %s)", e.Err, e.Until.UTC().Format(time.RFC3339))
}

func (e *LaterError) Unwrap() error { return e.Err }

// Do calls op until it succeeds, its verdict says not to retry, the
// attempts run out or ctx ends, waiting between attempts for the backoff or,
// when longer, the wait the other side asked for. op gets the attempt number
// (1 = the first try). Do returns nil or op's last error; when it gives up on
// an advised wait, that error is wrapped in a *LaterError. A wait that would
// outlast ctx's deadline is not begun.
func (p Policy) Do(ctx context.Context, op func(ctx context.Context, attempt int) (Verdict, error)) error {
	clock := p.Clock
	if clock == nil {
		clock = System
	}
	for attempt := 1; ; attempt++ {
		v, err := op(ctx, attempt)
		if err == nil {
			return nil
		}
		if !v.Retry {
			return err
		}
		later := func() error {
			if v.Advised {
				return &LaterError{Until: clock.Now().Add(v.After), Err: err}
			}
			return err
		}
		if p.Attempts > 0 && attempt >= p.Attempts {
			return later()
		}
		if v.Advised && p.MaxWait > 0 && v.After > p.MaxWait {
			return later()
		}
		wait := p.Backoff(attempt)
		if v.Advised {
			wait = max(wait, v.After)
		}
		// The deadline is on the system clock whatever clock runs the
		// waits: context.WithTimeout set it so.
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return later()
		}
		if p.OnRetry != nil {
			p.OnRetry(attempt, err, wait)
		}
		if Wait(ctx, clock, wait) != nil {
			return later()
		}
	}
}

// Wait waits for d on clock, or until ctx is done, whichever comes first; it
// returns ctx's error in the second case.
func Wait(ctx context.Context, clock Clock, d time.Duration) error {
	if err := ctx.Err(); err != nil || d <= 0 {
		return err
	}
	if clock == nil {
		clock = System
	}
	t := clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C():
		// A fake clock may have fired the timer when ctx was done too:
		// the context wins, as it would have on the system clock.
		return ctx.Err()
	}
}

// IsLater reports whether err is a *LaterError and returns it.
func IsLater(err error) (*LaterError, bool) {
	var le *LaterError
	ok := errors.As(err, &le)
	return le, ok
}
