package alerting

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/okrd/okrd/notify"
	"github.com/okrd/okrd/store"
)

// Tests of the delivery claim and of the notification IDs that keep
// notifications exactly once across processes sharing a store (docs/ha.md).

// fenceable is a store whose writes can be refused as a store refuses those
// of a process that no longer leads.
type fenceable struct {
	store.Store
	mu     sync.Mutex
	fenced bool
}

func (f *fenceable) fence() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fenced = true
}

func (f *fenceable) refused() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fenced
}

func (f *fenceable) Update(ctx context.Context, fn func(store.Tx) error) error {
	if f.refused() {
		return store.ErrFenced
	}
	return f.Store.Update(ctx, fn)
}

func (f *fenceable) PutAlertState(ctx context.Context, s store.AlertState) error {
	if f.refused() {
		return store.ErrFenced
	}
	return f.Store.PutAlertState(ctx, s)
}

func (f *fenceable) DeleteAlertState(ctx context.Context, key string) error {
	if f.refused() {
		return store.ErrFenced
	}
	return f.Store.DeleteAlertState(ctx, key)
}

// outbox returns what is queued for a receiver in an alert's stored state.
func outbox(t *testing.T, st store.Store, key, receiver string) *Outgoing {
	t.Helper()
	s, ok := persisted(t, st)[key]
	if !ok {
		return nil
	}
	var rec record
	if err := json.Unmarshal(s.Data, &rec); err != nil {
		t.Fatal(err)
	}
	return rec.Outbox[receiver]
}

// claimChecker is a Notifier that looks, when it is called, at what the
// store holds of the notification it is sending.
type claimChecker struct {
	t      *testing.T
	st     store.Store
	mu     sync.Mutex
	seen   []Outgoing
	ids    []string
	called chan struct{}
}

func (c *claimChecker) Notify(_ context.Context, alerts ...*notify.Alert) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := outbox(c.t, c.st, "off_track/grow/nps", "slack"); p != nil {
		c.seen = append(c.seen, *p)
	}
	for _, a := range alerts {
		c.ids = append(c.ids, a.ID)
	}
	return false, nil
}

func TestADeliveryIsClaimedInTheStoreBeforeItIsSent(t *testing.T) {
	st := openStore(t, t.TempDir())
	checker := &claimChecker{t: t, st: st}
	f := newFixture(t, st, &recorder{}, &recorder{})
	f.e.Configure(Config{Policy: DefaultPolicy(), DefaultReceiver: "slack",
		Receivers: []Receiver{{Integration: notify.Integration{Receiver: "slack", Type: "slack", Notifier: checker}}}})
	f.step(t, 0, offTrack, true)
	f.step(t, 60, offTrack, false)
	queued := outbox(t, st, "off_track/grow/nps", "slack")
	if queued == nil || !queued.Claimed.IsZero() || queued.Attempts != 0 || queued.Alert.ID == "" {
		t.Fatalf("queued notification = %+v, want unclaimed with an ID", queued)
	}
	f.e.Dispatch(context.Background())
	if len(checker.seen) != 1 {
		t.Fatalf("the receiver was called %d times with the notification in the store, want 1", len(checker.seen))
	}
	if got := checker.seen[0]; got.Claimed.IsZero() || got.Attempts != 1 {
		t.Errorf("while it was sent the stored notification was %+v, want claimed, attempt 1", got)
	}
	if len(checker.ids) != 1 || checker.ids[0] != queued.Alert.ID {
		t.Errorf("the receiver got IDs %v, want the queued one %q", checker.ids, queued.Alert.ID)
	}
	if p := outbox(t, st, "off_track/grow/nps", "slack"); p != nil {
		t.Errorf("a delivered notification is still queued: %+v", p)
	}
}

func TestAProcessThatCannotClaimSendsNothing(t *testing.T) {
	base := openStore(t, t.TempDir())
	st := &fenceable{Store: base}
	f := newFixture(t, st, &recorder{}, &recorder{})
	f.step(t, 0, offTrack, true)
	f.step(t, 60, offTrack, false)
	// Another process leads from here on.
	st.fence()
	f.e.Dispatch(context.Background())
	if got := f.slack.sent(); len(got) != 0 {
		t.Errorf("a process whose claim was refused sent %v", got)
	}
	if got := f.am.sent(); len(got) != 0 {
		t.Errorf("a process whose claim was refused sent %v to am", got)
	}
	if p := outbox(t, base, "off_track/grow/nps", "slack"); p == nil || p.Attempts != 0 {
		t.Fatalf("the notification in the store = %+v, want still queued, never attempted", p)
	}
	// The next leader sends it, once.
	g := newFixture(t, base, &recorder{}, &recorder{})
	g.now = f.now
	g.e.Dispatch(context.Background())
	if got := strings.Join(g.slack.sent(), " "); got != "OKRKeyResultOffTrack:firing" {
		t.Errorf("the next leader sent %q, want the queued firing notice", got)
	}
}

func TestAProcessThatCannotClaimSendsNoRefreshEither(t *testing.T) {
	base := openStore(t, t.TempDir())
	st := &fenceable{Store: base}
	f := newFixture(t, st, &recorder{}, &recorder{})
	f.step(t, 0, offTrack, true)
	f.step(t, 60, offTrack, true)
	if n := len(f.am.sent()); n != 1 {
		t.Fatalf("am got %d notifications, want the firing one", n)
	}
	st.fence()
	// A refresh to Alertmanager is due 5 minutes later.
	f.step(t, 66, offTrack, false)
	f.e.Dispatch(context.Background())
	if n := len(f.am.sent()); n != 1 {
		t.Errorf("am got %d notifications after the process lost the leadership, want no refresh", n)
	}
}

func TestANotificationSentAgainAfterACrashKeepsItsID(t *testing.T) {
	st := openStore(t, t.TempDir())
	first := &recorder{}
	f := newFixture(t, st, first, &recorder{})
	f.step(t, 0, offTrack, true)
	f.step(t, 60, offTrack, false)
	// The first process claims and delivers, then dies before it records
	// the delivery: the claim stays in the store.
	crashing := &fenceable{Store: st}
	f.e.st = &crashAfterSend{fenceable: crashing}
	f.e.Dispatch(context.Background())
	if n := len(first.sent()); n != 1 {
		t.Fatalf("the first process sent %d, want 1", n)
	}
	p := outbox(t, st, "off_track/grow/nps", "slack")
	if p == nil || p.Attempts != 1 {
		t.Fatalf("after the crash the store holds %+v, want the claimed notification", p)
	}
	second := &recorder{}
	g := newFixture(t, st, second, &recorder{})
	g.now = f.now
	g.e.Dispatch(context.Background())
	if n := len(second.sent()); n != 1 {
		t.Fatalf("the next process sent %d, want the claimed notification once more", n)
	}
	if a, b := first.batches[0][0].ID, second.batches[0][0].ID; a == "" || a != b {
		t.Errorf("IDs %q and %q: a notification sent again must keep its ID", a, b)
	}
	if p := outbox(t, st, "off_track/grow/nps", "slack"); p != nil {
		t.Errorf("still queued after the second delivery: %+v", p)
	}
}

// crashAfterSend lets the claim through and refuses every later write, as
// when the process dies between the delivery and its record.
type crashAfterSend struct {
	*fenceable
	claims int
}

func (c *crashAfterSend) Update(ctx context.Context, fn func(store.Tx) error) error {
	c.claims++
	if c.claims > 1 {
		c.fence()
	}
	return c.fenceable.Update(ctx, fn)
}

func (c *crashAfterSend) PutAlertState(ctx context.Context, s store.AlertState) error {
	c.fence()
	return c.fenceable.PutAlertState(ctx, s)
}

func (c *crashAfterSend) DeleteAlertState(ctx context.Context, key string) error {
	c.fence()
	return c.fenceable.DeleteAlertState(ctx, key)
}

func TestEveryNotificationHasItsOwnID(t *testing.T) {
	st := openStore(t, t.TempDir())
	f := newFixture(t, st, &recorder{}, &recorder{})
	f.step(t, 0, offTrack, true)
	f.step(t, 60, offTrack, true)  // firing, to slack and am
	f.step(t, 61, onTrack, true)   // clears
	f.step(t, 121, onTrack, true)  // resolved, to both
	f.step(t, 200, offTrack, true) // pending again
	f.step(t, 260, offTrack, true) // firing again: a new record, numbered from 1 again
	ids := map[string]string{}
	for name, r := range map[string]*recorder{"slack": f.slack, "am": f.am} {
		for i, b := range r.batches {
			for _, a := range b {
				if a.ID == "" {
					continue // a refresh
				}
				what := name + " " + a.Status() + " #" + string(rune('0'+i))
				if prev, dup := ids[a.ID]; dup {
					t.Errorf("%s has the ID of %s", what, prev)
				}
				ids[a.ID] = what
			}
		}
	}
	if len(ids) != 6 {
		t.Errorf("%d distinct IDs (%v), want 6: firing, resolved and firing again, to two receivers", len(ids), ids)
	}
}

func TestReloadShowsTheStoredAlertsOfAnotherProcess(t *testing.T) {
	st := openStore(t, t.TempDir())
	leader := newFixture(t, st, &recorder{}, &recorder{})
	follower := newFixture(t, st, &recorder{}, &recorder{})
	if err := follower.e.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	leader.step(t, 0, offTrack, true)
	leader.step(t, 60, offTrack, false)
	if err := follower.e.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(follower.e.alertsGauge.WithLabelValues("firing")); got != 1 {
		t.Errorf("the follower's okrd_alerts{state=firing} = %v, want the leader's 1", got)
	}
	if got := follower.e.Queued(); got != 2 {
		t.Errorf("the follower shows %d queued notifications, want the leader's 2", got)
	}
	if states := follower.e.States(); len(states) != 1 || states[0].Phase != Firing {
		t.Errorf("the follower's states = %+v, want the firing alert", states)
	}
	if sent := follower.slack.sent(); len(sent) != 0 {
		t.Errorf("reloading sent %v", sent)
	}
	// A read that fails keeps what the engine holds.
	broken := &failingReads{Store: st}
	follower.e.st = broken
	if err := follower.e.Reload(context.Background()); err == nil {
		t.Fatal("Reload over a failing store: no error")
	}
	if got := follower.e.Queued(); got != 2 {
		t.Errorf("after a failed reload the follower shows %d queued, want 2 still", got)
	}
}

type failingReads struct{ store.Store }

func (failingReads) AlertStates(context.Context) ([]store.AlertState, error) {
	return nil, errors.New("connection refused")
}

func TestTheReportsStateIsNotAnAlert(t *testing.T) {
	st := openStore(t, t.TempDir())
	if err := st.PutAlertState(context.Background(), store.AlertState{Key: "report:weekly", State: "sent", Since: mid, LastSent: mid}); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, st, &recorder{}, &recorder{})
	recs, err := f.e.read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := recs["report:weekly"]; ok {
		t.Error("the engine reads the weekly report's state as an alert (and warns that it cannot)")
	}
	f.step(t, 0, onTrack, true)
	if _, ok := persisted(t, st)["report:weekly"]; !ok {
		t.Error("the engine removed the weekly report's state")
	}
}
