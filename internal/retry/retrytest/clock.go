// Package retrytest provides a fake retry.Clock, so that tests of code that
// waits (backoff, Retry-After, poll intervals) neither sleep nor race a
// deadline: time moves only when the test moves it, or, on an auto clock, by
// exactly each wait asked for.
package retrytest

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/okrd/okrd/internal/retry"
)

// Clock is a fake retry.Clock. On a manual clock (NewClock) a timer fires
// when Advance or Set moves the time to its deadline; on an auto clock
// (NewAutoClock) every timer fires as soon as it is started, the time moving
// on by its duration, so a wait returns at once and the time has passed.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	auto    bool
	armed   []*timer
	waits   []time.Duration
	changed chan struct{} // closed and replaced whenever a timer starts or stops
}

// NewClock returns a manual clock at start.
func NewClock(start time.Time) *Clock {
	return &Clock{now: start, changed: make(chan struct{})}
}

// NewAutoClock returns an auto clock at start.
func NewAutoClock(start time.Time) *Clock {
	c := NewClock(start)
	c.auto = true
	return c
}

var _ retry.Clock = (*Clock)(nil)

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t, firing the timers due by then.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
	c.fireDue()
}

// Advance moves the clock on by d, firing the timers due by then.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.fireDue()
}

// Waits returns the duration of every timer started so far (NewTimer and
// Reset), in order.
func (c *Clock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.waits)
}

// Pending returns the time left on each armed timer, in the order they were
// started.
func (c *Clock) Pending() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pending()
}

func (c *Clock) pending() []time.Duration {
	out := make([]time.Duration, len(c.armed))
	for i, t := range c.armed {
		out[i] = t.when.Sub(c.now)
	}
	return out
}

// AwaitTimers blocks until at least n timers are armed and returns the time
// left on each (see Pending): the synchronisation point at which the code
// under test is known to be waiting. It fails the test after a minute, a
// safety net only.
func (c *Clock) AwaitTimers(t testing.TB, n int) []time.Duration {
	t.Helper()
	safety := time.NewTimer(time.Minute)
	defer safety.Stop()
	for {
		c.mu.Lock()
		if len(c.armed) >= n {
			p := c.pending()
			c.mu.Unlock()
			return p
		}
		ch := c.changed
		c.mu.Unlock()
		select {
		case <-ch:
		case <-safety.C:
			t.Fatalf("no %d timers armed within a minute (armed: %v)", n, c.Pending())
			return nil
		}
	}
}

// NewTimer starts a timer.
func (c *Clock) NewTimer(d time.Duration) retry.Timer {
	t := &timer{c: c, ch: make(chan time.Time, 1)}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.start(t, d)
	return t
}

// start arms t for d (c.mu held).
func (c *Clock) start(t *timer, d time.Duration) {
	c.waits = append(c.waits, d)
	t.when = c.now.Add(d)
	c.armed = append(c.armed, t)
	if c.auto && d > 0 {
		c.now = t.when
	}
	c.fireDue()
	c.notify()
}

// stop disarms t and reports whether it was armed (c.mu held).
func (c *Clock) stop(t *timer) bool {
	i := slices.Index(c.armed, t)
	if i < 0 {
		return false
	}
	c.armed = slices.Delete(c.armed, i, i+1)
	c.notify()
	return true
}

// fireDue fires every armed timer whose time has come (c.mu held).
func (c *Clock) fireDue() {
	kept := c.armed[:0]
	fired := false
	for _, t := range c.armed {
		if t.when.After(c.now) {
			kept = append(kept, t)
			continue
		}
		select {
		case t.ch <- t.when:
		default:
		}
		fired = true
	}
	clear(c.armed[len(kept):])
	c.armed = kept
	if fired {
		c.notify()
	}
}

func (c *Clock) notify() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// timer is a fake timer. Like a *time.Timer since Go 1.23, Stop and Reset
// discard a value not yet received, so none is stale.
type timer struct {
	c    *Clock
	ch   chan time.Time
	when time.Time
}

func (t *timer) C() <-chan time.Time { return t.ch }

func (t *timer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	t.drain()
	return t.c.stop(t)
}

func (t *timer) Reset(d time.Duration) bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	t.drain()
	was := t.c.stop(t)
	t.c.start(t, d)
	return was
}

func (t *timer) drain() {
	select {
	case <-t.ch:
	default:
	}
}
