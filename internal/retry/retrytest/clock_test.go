package retrytest

import (
	"slices"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func fired(tm interface{ C() <-chan time.Time }) bool {
	select {
	case <-tm.C():
		return true
	default:
		return false
	}
}

func TestAManualClockFiresTimersWhenTheTimeComes(t *testing.T) {
	c := NewClock(t0)
	a, b := c.NewTimer(time.Second), c.NewTimer(time.Minute)
	if p := c.Pending(); !slices.Equal(p, []time.Duration{time.Second, time.Minute}) {
		t.Fatalf("pending %v", p)
	}
	c.Advance(time.Second)
	if !fired(a) || fired(b) {
		t.Fatal("after 1s only the first timer fires")
	}
	if !b.Stop() || b.Stop() {
		t.Error("Stop reports whether the timer was armed")
	}
	c.Advance(time.Hour)
	if fired(b) {
		t.Error("a stopped timer fired")
	}
	if !c.Now().Equal(t0.Add(time.Hour + time.Second)) {
		t.Errorf("now = %v", c.Now())
	}
}

func TestResetDiscardsAValueNotYetReceived(t *testing.T) {
	c := NewClock(t0)
	tm := c.NewTimer(time.Second)
	c.Advance(time.Second)
	tm.Reset(time.Second)
	if fired(tm) {
		t.Fatal("a stale value was received after Reset")
	}
	c.Advance(time.Second)
	if !fired(tm) {
		t.Fatal("the reset timer did not fire")
	}
	if w := c.Waits(); !slices.Equal(w, []time.Duration{time.Second, time.Second}) {
		t.Errorf("waits %v", w)
	}
}

func TestAnAutoClockMovesOnByEachWait(t *testing.T) {
	c := NewAutoClock(t0)
	tm := c.NewTimer(7 * time.Second)
	if !fired(tm) || !c.Now().Equal(t0.Add(7*time.Second)) {
		t.Fatalf("fired %v, now %v; want fired at +7s", fired(tm), c.Now())
	}
	if len(c.Pending()) != 0 {
		t.Errorf("pending %v", c.Pending())
	}
}

func TestAwaitTimersReturnsOnceTheCodeWaits(t *testing.T) {
	c := NewClock(t0)
	go func() {
		tm := c.NewTimer(5 * time.Second)
		<-tm.C()
		c.NewTimer(10 * time.Second)
	}()
	if p := c.AwaitTimers(t, 1); !slices.Equal(p, []time.Duration{5 * time.Second}) {
		t.Fatalf("first wait %v", p)
	}
	c.Advance(5 * time.Second)
	if p := c.AwaitTimers(t, 1); !slices.Equal(p, []time.Duration{10 * time.Second}) {
		t.Fatalf("second wait %v", p)
	}
}
