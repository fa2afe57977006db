package alerting

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/okrd/okrd/notify"
	"github.com/okrd/okrd/okr"
	"github.com/okrd/okrd/store"
	"github.com/okrd/okrd/store/sqlite"
)

// recorder is a Notifier that remembers what it got and fails on demand.
type recorder struct {
	mu      sync.Mutex
	batches [][]notify.Alert
	retry   bool
	err     error
}

func (r *recorder) Notify(_ context.Context, alerts ...*notify.Alert) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.retry, r.err
	}
	var b []notify.Alert
	for _, a := range alerts {
		b = append(b, *a)
	}
	r.batches = append(r.batches, b)
	return false, nil
}

func (r *recorder) fail(retry bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.retry, r.err = retry, err
}

// sent lists "alertname:status" per delivered alert, in order.
func (r *recorder) sent() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, b := range r.batches {
		for _, a := range b {
			out = append(out, a.Name()+":"+a.Status())
		}
	}
	return out
}

func openStore(t testing.TB, dir string) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "okrd.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

type engineFixture struct {
	st    store.Store
	e     *Engine
	slack *recorder
	am    *recorder
	now   time.Time
	reg   *prometheus.Registry
}

// newFixture builds an engine with two receivers: "slack" gets everything
// from the team web, "am" (refreshed every 5m, like Alertmanager) gets
// everything critical.
func newFixture(t *testing.T, st store.Store, slack, am *recorder) *engineFixture {
	t.Helper()
	f := &engineFixture{st: st, slack: slack, am: am, reg: prometheus.NewRegistry()}
	sender := notify.NewSender(notify.NewMetrics(f.reg), nil)
	sender.InitialBackoff, sender.MaxBackoff = time.Millisecond, time.Millisecond
	f.e = NewEngine(st, sender, nil, f.reg, func() time.Time { return f.now })
	f.e.SetDispatchTimeout(50 * time.Millisecond)
	p := DefaultPolicy() // for 1h, keep_firing_for 1h, repeat 24h
	f.e.Configure(Config{
		Policy: p,
		Receivers: []Receiver{
			{Integration: notify.Integration{Receiver: "slack", Type: "slack", Notifier: slack}},
			{Integration: notify.Integration{Receiver: "am", Type: "alertmanager", Notifier: am}, Refresh: 5 * time.Minute},
		},
		Routes: []Route{
			{Receiver: "slack", Teams: []string{"web"}, Continue: true},
			{Receiver: "am", Severities: []Severity{Critical}},
		},
	})
	return f
}

var mid = time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)

// offTrack is grow/nps off track (status off_track; gap -0.3).
var offTrack = okr.Result{HasValue: true, ValueAt: mid, Progress: 0.2, Expected: 0.5, Gap: -0.3, Status: okr.StatusOffTrack}

var onTrack = okr.Result{HasValue: true, ValueAt: mid, Progress: 0.5, Expected: 0.5, Status: okr.StatusOnTrack}

// step processes the key result at minute m and dispatches.
func (f *engineFixture) step(t *testing.T, m int, r okr.Result, dispatch bool) {
	t.Helper()
	f.now = mid.Add(time.Duration(m) * time.Minute)
	if err := f.e.Process(context.Background(), Input{Snapshot: testSnapshot(f.now, r, false)}); err != nil {
		t.Fatal(err)
	}
	if dispatch {
		f.e.Dispatch(context.Background())
	}
}

func persisted(t *testing.T, st store.Store) map[string]store.AlertState {
	t.Helper()
	states, err := st.AlertStates(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]store.AlertState{}
	for _, s := range states {
		out[s.Key] = s
	}
	return out
}

func TestEngineFiresRoutesAndPersists(t *testing.T) {
	st := openStore(t, t.TempDir())
	f := newFixture(t, st, &recorder{}, &recorder{})
	f.step(t, 0, offTrack, true)
	if got := f.slack.sent(); len(got) != 0 {
		t.Fatalf("sent before `for` (1h): %v", got)
	}
	if s := persisted(t, st)["off_track/grow/nps"]; s.State != "pending" || !s.Since.Equal(mid) {
		t.Fatalf("pending state not persisted: %+v", s)
	}
	f.step(t, 60, offTrack, false)
	// Decided and queued, not yet sent: the queue is in the store.
	if s := persisted(t, st)["off_track/grow/nps"]; s.State != "firing" || !strings.Contains(string(s.Data), `"outbox"`) {
		t.Fatalf("firing state with its queue not persisted before sending: %+v", s)
	}
	f.e.Dispatch(context.Background())
	// off_track is critical and the key result's team is web: both routes.
	if got := strings.Join(f.slack.sent(), " "); got != "OKRKeyResultOffTrack:firing" {
		t.Errorf("slack got %q", got)
	}
	if got := strings.Join(f.am.sent(), " "); got != "OKRKeyResultOffTrack:firing" {
		t.Errorf("am got %q", got)
	}
	if s := persisted(t, st)["off_track/grow/nps"]; strings.Contains(string(s.Data), `"outbox"`) {
		t.Errorf("delivered notification still queued: %s", s.Data)
	}
	if got := testutil.ToFloat64(f.e.alertsGauge.WithLabelValues("firing")); got != 1 {
		t.Errorf("okrd_alerts{state=firing} = %v, want 1", got)
	}
	if err := testutil.GatherAndCompare(f.reg, strings.NewReader(`
# HELP okrd_notifications_total Notifications attempted, by receiver and integration: one per batch of alerts handed to a receiver, however many requests its retries took.
# TYPE okrd_notifications_total counter
okrd_notifications_total{integration="alertmanager",receiver="am"} 1
okrd_notifications_total{integration="slack",receiver="slack"} 1
`), "okrd_notifications_total"); err != nil {
		t.Error(err)
	}

	// Recovery: on track from 61m, resolved once keep_firing_for (1h) has
	// passed: 120 - 61 < 60m, 121 - 61 >= 60m.
	f.step(t, 61, onTrack, true)
	f.step(t, 120, onTrack, true)
	if got := len(f.slack.sent()); got != 1 {
		t.Errorf("resolved before keep_firing_for: slack got %d notifications", got)
	}
	f.step(t, 121, onTrack, true)
	if got := strings.Join(f.slack.sent(), " "); got != "OKRKeyResultOffTrack:firing OKRKeyResultOffTrack:resolved" {
		t.Errorf("slack got %q", got)
	}
	if len(persisted(t, st)) != 0 {
		t.Errorf("resolved and delivered alert still stored: %v", persisted(t, st))
	}
}

func TestEngineRestartNeitherRepeatsNorLoses(t *testing.T) {
	dir := t.TempDir()
	t.Run("a restart after delivery does not notify again", func(t *testing.T) {
		st := openStore(t, filepath.Join(dir))
		f := newFixture(t, st, &recorder{}, &recorder{})
		f.step(t, 0, offTrack, true)
		f.step(t, 60, offTrack, true)
		if n := len(f.slack.sent()); n != 1 {
			t.Fatalf("first process sent %d", n)
		}
		// A new engine on the same database, as after a restart.
		g := newFixture(t, st, &recorder{}, &recorder{})
		g.step(t, 90, offTrack, true)
		g.step(t, 60*20, offTrack, true)
		if got := g.slack.sent(); len(got) != 0 {
			t.Errorf("after the restart slack got %v, want nothing until the repeat at 24h", got)
		}
		// Fired at 60m; the repeat is due 24h later, at 1500m.
		g.step(t, 1500, offTrack, true)
		if got := strings.Join(g.slack.sent(), " "); got != "OKRKeyResultOffTrack:firing" {
			t.Errorf("repeat after 24h: slack got %q", got)
		}
	})
	t.Run("a crash between deciding and sending loses nothing", func(t *testing.T) {
		st := openStore(t, t.TempDir())
		f := newFixture(t, st, &recorder{}, &recorder{})
		f.step(t, 0, offTrack, false)
		f.step(t, 60, offTrack, false) // decided, persisted, never sent
		g := newFixture(t, st, &recorder{}, &recorder{})
		g.now = mid.Add(61 * time.Minute)
		g.e.Dispatch(context.Background())
		if got := strings.Join(g.slack.sent(), " "); got != "OKRKeyResultOffTrack:firing" {
			t.Errorf("after the crash slack got %q, want the queued firing notice", got)
		}
		g.step(t, 62, offTrack, true)
		if n := len(g.slack.sent()); n != 1 {
			t.Errorf("slack got %d notifications, want exactly 1", n)
		}
	})
}

func TestEngineFailedDeliveries(t *testing.T) {
	t.Run("a retryable failure keeps the notification queued for the next round", func(t *testing.T) {
		st := openStore(t, t.TempDir())
		f := newFixture(t, st, &recorder{}, &recorder{})
		f.slack.fail(true, &notify.Error{Reason: notify.ReasonServerError, Err: errors.New("HTTP 503")})
		f.step(t, 0, offTrack, true)
		f.step(t, 60, offTrack, true)
		if f.e.Queued() != 1 {
			t.Fatalf("queued = %d, want the slack notification", f.e.Queued())
		}
		f.slack.fail(false, nil)
		f.step(t, 61, offTrack, true)
		if got := strings.Join(f.slack.sent(), " "); got != "OKRKeyResultOffTrack:firing" {
			t.Errorf("slack got %q", got)
		}
		if f.e.Queued() != 0 {
			t.Errorf("queued = %d after delivery", f.e.Queued())
		}
		if got := metricValue(t, f.reg, "okrd_notifications_failed_total", "receiver", "slack", "reason", "server_error"); got != 1 {
			t.Errorf("okrd_notifications_failed_total{reason=server_error} = %v, want 1", got)
		}
	})
	t.Run("a refused notification (4xx) is dropped", func(t *testing.T) {
		st := openStore(t, t.TempDir())
		f := newFixture(t, st, &recorder{}, &recorder{})
		f.slack.fail(false, &notify.Error{Reason: notify.ReasonClientError, Err: errors.New("HTTP 404: channel_not_found")})
		f.step(t, 0, offTrack, true)
		f.step(t, 60, offTrack, true)
		if f.e.Queued() != 0 {
			t.Errorf("queued = %d, want the refused notification dropped", f.e.Queued())
		}
	})
	t.Run("a resolved notice replaces an undelivered firing notice", func(t *testing.T) {
		st := openStore(t, t.TempDir())
		f := newFixture(t, st, &recorder{}, &recorder{})
		f.slack.fail(true, errors.New("connection refused"))
		f.step(t, 0, offTrack, true)
		f.step(t, 60, offTrack, true)
		f.step(t, 61, onTrack, true)
		f.step(t, 121, onTrack, true) // resolved, still undeliverable
		f.slack.fail(false, nil)
		f.e.Dispatch(context.Background())
		if got := strings.Join(f.slack.sent(), " "); got != "OKRKeyResultOffTrack:resolved" {
			t.Errorf("slack got %q, want only the resolved notice", got)
		}
		if len(persisted(t, st)) != 0 {
			t.Errorf("state left behind: %v", persisted(t, st))
		}
	})
}

func TestEngineRefreshesAlertmanager(t *testing.T) {
	st := openStore(t, t.TempDir())
	f := newFixture(t, st, &recorder{}, &recorder{})
	f.step(t, 0, offTrack, true)
	f.step(t, 60, offTrack, true) // fired: both get it
	f.step(t, 62, offTrack, true) // 2m < 5m: no refresh
	f.step(t, 65, offTrack, true) // 5m: refresh to am only
	f.step(t, 70, offTrack, true) // 5m again
	if got := strings.Join(f.am.sent(), " "); got != "OKRKeyResultOffTrack:firing OKRKeyResultOffTrack:firing OKRKeyResultOffTrack:firing" {
		t.Errorf("am got %q, want the firing notice and 2 refreshes", got)
	}
	if got := len(f.slack.sent()); got != 1 {
		t.Errorf("slack got %d notifications, want 1 (no refreshes)", got)
	}
}

func TestEngineReconfiguration(t *testing.T) {
	st := openStore(t, t.TempDir())
	f := newFixture(t, st, &recorder{}, &recorder{})
	f.slack.fail(true, errors.New("connection refused"))
	f.step(t, 0, offTrack, true)
	f.step(t, 60, offTrack, true)
	// Reload without the slack receiver: its queue is dropped.
	f.e.Configure(Config{Policy: DefaultPolicy(), Receivers: []Receiver{
		{Integration: notify.Integration{Receiver: "am", Type: "alertmanager", Notifier: f.am}},
	}, DefaultReceiver: "am"})
	f.e.Dispatch(context.Background())
	if f.e.Queued() != 0 {
		t.Errorf("queued = %d, want the removed receiver's notification dropped", f.e.Queued())
	}
	// A new alert with no route goes to the default receiver.
	f.step(t, 61, okr.Result{Expected: 0.5, Status: okr.StatusNoData}, true)
	f.step(t, 121, okr.Result{Expected: 0.5, Status: okr.StatusNoData}, true)
	if got := strings.Join(f.am.sent(), " "); !strings.Contains(got, "OKRKeyResultNoData:firing") {
		t.Errorf("am got %q, want the no-data alert through the default receiver", got)
	}
}

// metricValue reads one series from reg: the first of name whose labels
// include the given pairs.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, kv ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(kv); i += 2 {
				found := false
				for _, l := range m.GetLabel() {
					if l.GetName() == kv[i] && l.GetValue() == kv[i+1] {
						found = true
					}
				}
				if !found {
					continue next
				}
			}
			if m.Counter != nil {
				return m.Counter.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("no series %s%v", name, kv)
	return 0
}
