package alerting

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/okrd/okrd/notify"
	"github.com/okrd/okrd/store"
)

// Receiver is a configured receiver.
type Receiver struct {
	notify.Integration
	// Refresh, when positive, re-sends every firing alert routed to the
	// receiver this often (Alertmanager expires alerts that are not
	// refreshed). Other receivers only get the firing notice, the repeats
	// and the resolved notice.
	Refresh time.Duration
}

// Config is the engine's configuration.
type Config struct {
	Policy    Policy
	Receivers []Receiver
	Routes    []Route
	// DefaultReceiver gets the alerts no route matches; "" drops them.
	DefaultReceiver string
}

// DefaultDispatchTimeout bounds one delivery to one receiver, retries
// included. What is still undelivered stays queued for the next round.
const DefaultDispatchTimeout = 30 * time.Second

// persistTimeout bounds the writes of one Process or one delivery round.
const persistTimeout = 10 * time.Second

// Engine runs the state machine over every alert, persists the states in
// the store and delivers notifications.
//
// Ordering, so that a crash never loses a notification: Process decides
// the notifications and persists them with the new states, as a queue
// (outbox) per receiver, before anything is sent; Dispatch claims what it
// is about to send (persisted, in one transaction), sends it, and removes
// it from the queue (persisted again) only once the receiver accepted it.
// A crash before the send leaves the notification queued, and the next
// process sends it; a crash after the send but before the removal was
// persisted sends it once more, with the same ID (notify.Alert.ID), by
// which the receiver can tell (at least once, docs/ha.md). A failed send
// stays queued (retried at the next round) unless the receiver refused it
// with a 4xx, which no retry can fix.
//
// On a replicated okrd the store refuses the writes of a process that does
// not lead (store.ErrFenced): such a process cannot claim, so it sends
// nothing, even if it has not noticed yet that another leads.
type Engine struct {
	st     store.Store
	sender *notify.Sender
	logger *slog.Logger
	now    func() time.Time

	alertsGauge *prometheus.GaugeVec
	queuedGauge prometheus.Gauge

	mu              sync.Mutex
	dispatchTimeout time.Duration
	cfg             Config
	receivers       map[string]Receiver
	recs            map[string]*record
	loaded          bool
	refreshed       map[string]map[string]time.Time // alert key → receiver → last delivery

	dispatchMu sync.Mutex // one Dispatch at a time
	kick       chan struct{}
	// claimed holds the IDs of the notifications this engine claimed, to
	// tell a delivery another process started (and may have finished).
	claimed map[string]bool
}

// record is what is persisted per alert key: the state (nil once the alert
// resolved) and the notifications not yet delivered, per receiver.
type record struct {
	State  *State               `json:"state,omitempty"`
	Outbox map[string]*Outgoing `json:"outbox,omitempty"`
	// Seq numbers the queued notifications, so that a delivery removes only
	// what it sent, not a newer notification queued in the meantime.
	Seq uint64 `json:"seq,omitempty"`

	persisted []byte // the Data last written, nil if not in the store
}

// Outgoing is a notification queued for one receiver. Only the newest one
// per alert and receiver is kept: a resolved notice replaces an undelivered
// firing one (it carries the start time too), a repeat replaces a firing
// notice.
type Outgoing struct {
	Seq    uint64       `json:"seq"`
	Kind   Kind         `json:"kind"`
	Alert  notify.Alert `json:"alert"`
	Queued time.Time    `json:"queued"`
	// Claimed is when a delivery of the notification was first started,
	// and Attempts how many were: a notification claimed but still queued
	// may have reached its receiver already.
	Claimed  time.Time `json:"claimed,omitzero"`
	Attempts int       `json:"attempts,omitempty"`
}

// notificationID identifies one notification of an alert to one receiver:
// the alert's key, the receiver, the notification's number in the alert's
// record and when it was queued (the number starts again with each new
// record of the key).
func notificationID(key, receiver string, seq uint64, queued time.Time) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%d\x00%d", key, receiver, seq, queued.UnixNano())
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// NewEngine returns an engine; reg (may be nil) receives its metrics and
// now (nil: time.Now) is the clock of deliveries.
func NewEngine(st store.Store, sender *notify.Sender, logger *slog.Logger, reg prometheus.Registerer, now func() time.Time) *Engine {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	e := &Engine{st: st, sender: sender, logger: logger, now: now,
		recs: map[string]*record{}, refreshed: map[string]map[string]time.Time{}, receivers: map[string]Receiver{},
		kick: make(chan struct{}, 1), claimed: map[string]bool{},
		alertsGauge: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "okrd_alerts",
			Help: "Alerts of the built-in alerting by state (pending: the condition holds but not yet for long enough; firing).",
		}, []string{"state"}),
		queuedGauge: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "okrd_notifications_queued",
			Help: "Notifications decided but not yet accepted by their receiver.",
		}),
	}
	e.alertsGauge.WithLabelValues(string(Pending))
	e.alertsGauge.WithLabelValues(string(Firing))
	if reg != nil {
		reg.MustRegister(e.alertsGauge, e.queuedGauge)
	}
	return e
}

// SetDispatchTimeout bounds each delivery to one receiver, retries
// included (default DefaultDispatchTimeout).
func (e *Engine) SetDispatchTimeout(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.dispatchTimeout = d
}

// Configure replaces the configuration (at start and on reload). Queued
// notifications of receivers that no longer exist are dropped at the next
// dispatch.
func (e *Engine) Configure(cfg Config) {
	e.mu.Lock()
	defer e.mu.Unlock()
	old := e.receivers
	e.cfg = cfg
	e.receivers = make(map[string]Receiver, len(cfg.Receivers))
	for _, r := range cfg.Receivers {
		e.receivers[r.Receiver] = r
		if e.sender != nil && e.sender.Metrics != nil {
			e.sender.Metrics.Init(r.Receiver, r.Type)
		}
	}
	for name, r := range old {
		if nr, ok := e.receivers[name]; (!ok || nr.Type != r.Type) && e.sender != nil && e.sender.Metrics != nil {
			e.sender.Metrics.Forget(name)
			if ok {
				e.sender.Metrics.Init(nr.Receiver, nr.Type)
			}
		}
	}
}

// Active reports whether the configuration has any receiver; without one
// there is nobody to tell and the engine does nothing.
func (e *Engine) Active() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.cfg.Receivers) > 0
}

// load reads the persisted states once.
func (e *Engine) load(ctx context.Context) error {
	if e.loaded {
		return nil
	}
	recs, err := e.read(ctx)
	if err != nil {
		return err
	}
	e.recs = recs
	e.loaded = true
	return nil
}

// read reads every persisted state.
func (e *Engine) read(ctx context.Context) (map[string]*record, error) {
	states, err := e.st.AlertStates(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading alert states: %w", err)
	}
	recs := make(map[string]*record, len(states))
	for _, s := range states {
		if strings.HasPrefix(s.Key, "report:") {
			continue // the weekly report's, in the same table
		}
		rec := &record{}
		if err := json.Unmarshal(s.Data, rec); err != nil {
			// A state this version cannot read is dropped: the alert
			// starts over, which at worst repeats one notification.
			e.logger.Warn("ignoring an unreadable alert state", "alert", s.Key, "err", err)
			rec = &record{}
		}
		rec.persisted = s.Data
		recs[s.Key] = rec
	}
	return recs, nil
}

// Reload reads every alert's state from the store again, in place of what
// the engine holds: a replica that follows another shows the leader's
// alerts (okrd_alerts, okrd_notifications_queued), and one that starts to
// lead continues exactly where the previous leader stopped. When the read
// fails the engine keeps what it holds.
func (e *Engine) Reload(ctx context.Context) error {
	recs, err := e.read(ctx)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.recs, e.loaded = recs, true
	for key := range e.refreshed {
		if _, ok := recs[key]; !ok {
			delete(e.refreshed, key)
		}
	}
	e.updateGauges()
	return nil
}

// Process judges every condition from in, steps every alert, queues the
// notifications for their receivers and persists the result; it then wakes
// the dispatcher (Run). It never sends anything itself, so that a slow
// receiver does not hold up an evaluation.
func (e *Engine) Process(ctx context.Context, in Input) error {
	if in.Snapshot == nil {
		return nil
	}
	// The caller's context may be an HTTP request's (a check-in): what was
	// decided is written even if the caller goes away, within a bound.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), persistTimeout)
	defer cancel()
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.load(ctx); err != nil {
		return err
	}
	now := in.Snapshot.EvaluatedAt
	obs := Observe(in, &e.cfg.Policy)
	keys := make([]string, 0, len(obs)+len(e.recs))
	for k := range obs {
		keys = append(keys, k)
	}
	for k := range e.recs {
		if _, ok := obs[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	// Every alert steps first; which ones are inhibited depends on what
	// fires after this evaluation, so that alerts that start firing together
	// announce only the worst of them.
	type stepped struct {
		prev, next *State
		n          *Notification
	}
	steps := make(map[string]stepped, len(keys))
	after := make(map[string]*State, len(keys))
	for _, key := range keys {
		var prev *State
		if rec := e.recs[key]; rec != nil {
			prev = rec.State
		}
		next, n := Step(prev, obs[key], now, &e.cfg.Policy)
		steps[key] = stepped{prev, next, n}
		after[key] = next
	}
	inhibited := Inhibited(after)
	var errs []error
	for _, key := range keys {
		st := steps[key]
		n := inhibit(st.prev, st.next, st.n, inhibited[key], now)
		rec := e.recs[key]
		if rec == nil {
			if st.next == nil && n == nil {
				continue
			}
			rec = &record{}
			e.recs[key] = rec
		}
		rec.State = st.next
		if n != nil {
			e.queue(rec, n, now)
		}
		if err := e.save(ctx, key, rec, now); err != nil {
			errs = append(errs, err)
		}
	}
	e.updateGauges()
	select {
	case e.kick <- struct{}{}:
	default:
	}
	if len(errs) > 0 {
		return fmt.Errorf("persisting alert state: %w (and %d more)", errs[0], len(errs)-1)
	}
	return nil
}

// queue routes a notification and queues it for each receiver.
func (e *Engine) queue(rec *record, n *Notification, now time.Time) {
	st := rec.State
	c := Condition("")
	if st != nil {
		c = st.Condition
	} else if prev, ok := conditionOfKey(n.Key); ok {
		c = prev
	}
	rcvs := Receivers(e.cfg.Routes, e.cfg.DefaultReceiver, c, n.Alert.Labels)
	e.logger.Info("alert "+string(n.Kind), "alert", n.Key, "alertname", n.Alert.Name(), "receivers", rcvs)
	if len(rcvs) == 0 {
		if n.Kind == Fire {
			e.logger.Warn("no route matches the alert and there is no alerting.default_receiver; nobody is told",
				"alert", n.Key)
		}
		return
	}
	if rec.Outbox == nil {
		rec.Outbox = map[string]*Outgoing{}
	}
	for _, r := range rcvs {
		rec.Seq++
		a := n.Alert
		a.ID = notificationID(n.Key, r, rec.Seq, now)
		rec.Outbox[r] = &Outgoing{Seq: rec.Seq, Kind: n.Kind, Alert: a, Queued: now}
	}
}

// conditionOfKey reads the condition back from an alert key.
func conditionOfKey(key string) (Condition, bool) {
	for i := range len(key) {
		if key[i] == '/' {
			c, err := ParseCondition(key[:i])
			return c, err == nil
		}
	}
	return "", false
}

// save persists rec if it changed, or deletes it once it holds nothing.
func (e *Engine) save(ctx context.Context, key string, rec *record, now time.Time) error {
	if rec.State == nil && len(rec.Outbox) == 0 {
		if rec.persisted != nil {
			if err := e.st.DeleteAlertState(ctx, key); err != nil {
				// Kept in memory, so that the next round deletes it again.
				return fmt.Errorf("alert %s: %w", key, err)
			}
		}
		delete(e.recs, key)
		delete(e.refreshed, key)
		return nil
	}
	as, err := stateOf(key, rec, now)
	if err != nil {
		return err
	}
	if bytes.Equal(as.Data, rec.persisted) {
		return nil
	}
	if err := e.st.PutAlertState(ctx, as); err != nil {
		return fmt.Errorf("alert %s: %w", key, err)
	}
	rec.persisted = as.Data
	return nil
}

// stateOf is what is persisted of rec.
func stateOf(key string, rec *record, now time.Time) (store.AlertState, error) {
	data, err := json.Marshal(rec)
	if err != nil {
		return store.AlertState{}, fmt.Errorf("alert %s: %w", key, err)
	}
	as := store.AlertState{Key: key, State: "resolved", UpdatedAt: now, Data: data}
	if rec.State != nil {
		as.State, as.Since, as.LastSent = string(rec.State.Phase), rec.State.ActiveSince, rec.State.LastSent
	}
	return as, nil
}

// claim records, in one transaction, that the queued notifications of
// items are being delivered, before anything is sent: when the store
// refuses (on a replicated okrd: this process no longer leads) nothing may
// be sent. A round of refreshes only claims nothing but asks all the same.
// e.mu is held.
func (e *Engine) claim(ctx context.Context, items map[string][]item, now time.Time) error {
	touched := map[string]bool{}
	for _, rcv := range slices.Sorted(maps.Keys(items)) {
		for _, it := range items[rcv] {
			if it.seq == 0 {
				continue // a refresh is not queued
			}
			rec := e.recs[it.key]
			p := rec.Outbox[rcv]
			if p.Alert.ID == "" {
				// Queued by a version that did not number them.
				p.Alert.ID = notificationID(it.key, rcv, p.Seq, p.Queued)
			}
			if p.Attempts > 0 && !e.claimed[p.Alert.ID] {
				e.logger.Info("sending a notification whose delivery another okrd process started; if that one reached the receiver, the receiver gets it twice with the same id",
					"alert", it.key, "receiver", rcv, "id", p.Alert.ID, "claimed", p.Claimed)
			}
			if p.Claimed.IsZero() {
				p.Claimed = now
			}
			p.Attempts++
			e.claimed[p.Alert.ID] = true
			touched[it.key] = true
		}
	}
	keys := slices.Sorted(maps.Keys(touched))
	states := make([]store.AlertState, 0, len(keys))
	for _, key := range keys {
		as, err := stateOf(key, e.recs[key], now)
		if err != nil {
			return err
		}
		states = append(states, as)
	}
	err := e.st.Update(ctx, func(tx store.Tx) error {
		for _, as := range states {
			if err := tx.PutAlertState(ctx, as); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i, key := range keys {
		e.recs[key].persisted = states[i].Data
	}
	return nil
}

func (e *Engine) updateGauges() {
	var pending, firing, queued int
	for _, rec := range e.recs {
		if rec.State != nil {
			switch rec.State.Phase {
			case Pending:
				pending++
			case Firing:
				firing++
			}
		}
		queued += len(rec.Outbox)
	}
	e.alertsGauge.WithLabelValues(string(Pending)).Set(float64(pending))
	e.alertsGauge.WithLabelValues(string(Firing)).Set(float64(firing))
	e.queuedGauge.Set(float64(queued))
}

// Run delivers notifications each time Process queued some, until ctx is
// done. What is still queued then stays persisted for the next start.
func (e *Engine) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-e.kick:
			e.Dispatch(ctx)
		}
	}
}

// item is one alert of a delivery.
type item struct {
	key string
	seq uint64 // 0 for a refresh, which is not queued
}

// Dispatch sends every queued notification, and the refreshes that are
// due, one delivery per receiver (receivers in parallel), and records what
// was delivered.
func (e *Engine) Dispatch(ctx context.Context) {
	e.dispatchMu.Lock()
	defer e.dispatchMu.Unlock()
	now := e.now()

	e.mu.Lock()
	if err := e.load(ctx); err != nil {
		e.mu.Unlock()
		e.logger.Error("cannot deliver alerts", "err", err)
		return
	}
	batches := map[string][]*notify.Alert{}
	items := map[string][]item{}
	touched := map[string]bool{} // records whose outbox changed
	keys := slices.Sorted(maps.Keys(e.recs))
	for _, key := range keys {
		rec := e.recs[key]
		for _, rcv := range slices.Sorted(maps.Keys(rec.Outbox)) {
			p := rec.Outbox[rcv]
			if _, ok := e.receivers[rcv]; !ok {
				e.logger.Warn("dropping a notification for a receiver that is no longer configured", "alert", key, "receiver", rcv)
				delete(rec.Outbox, rcv)
				touched[key] = true
				continue
			}
			a := p.Alert
			batches[rcv] = append(batches[rcv], &a)
			items[rcv] = append(items[rcv], item{key, p.Seq})
		}
	}
	for _, key := range keys {
		rec := e.recs[key]
		// A withheld alert was never announced: refreshing it would
		// announce it.
		if rec.State == nil || rec.State.Phase != Firing || rec.State.Withheld {
			continue
		}
		for _, rcv := range Receivers(e.cfg.Routes, e.cfg.DefaultReceiver, rec.State.Condition, rec.State.Labels) {
			r, ok := e.receivers[rcv]
			if !ok || r.Refresh <= 0 || rec.Outbox[rcv] != nil || now.Sub(e.refreshed[key][rcv]) < r.Refresh {
				continue
			}
			a := rec.State.alert(time.Time{})
			batches[rcv] = append(batches[rcv], &a)
			items[rcv] = append(items[rcv], item{key, 0})
		}
	}
	receivers := make(map[string]Receiver, len(batches))
	for rcv := range batches {
		receivers[rcv] = e.receivers[rcv]
	}
	timeout := e.dispatchTimeout
	if len(batches) > 0 {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), persistTimeout)
		err := e.claim(cctx, items, now)
		cancel()
		if err != nil {
			e.mu.Unlock()
			if errors.Is(err, store.ErrFenced) {
				e.logger.Info("not sending notifications: this process does not lead", "err", err)
			} else {
				e.logger.Error("cannot claim the notifications in the store; they stay queued and are not sent this round", "err", err)
			}
			return
		}
	}
	e.mu.Unlock()

	if timeout <= 0 {
		timeout = DefaultDispatchTimeout
	}
	type result struct {
		retry bool
		err   error
	}
	results := make(map[string]result, len(batches))
	var wg sync.WaitGroup
	var rmu sync.Mutex
	for rcv, alerts := range batches {
		wg.Go(func() {
			sctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			retry, err := e.sender.Send(sctx, receivers[rcv].Integration, alerts)
			rmu.Lock()
			results[rcv] = result{retry, err}
			rmu.Unlock()
		})
	}
	wg.Wait()

	// The removals are persisted even when ctx was cancelled (shutdown):
	// forgetting that a notification went out would send it again.
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), persistTimeout)
	defer cancel()
	e.mu.Lock()
	defer e.mu.Unlock()
	for rcv, its := range items {
		res := results[rcv]
		switch {
		case res.err == nil:
		case res.retry:
			e.logger.Warn("notification not delivered; it stays queued and is retried at the next evaluation",
				"receiver", rcv, "integration", receivers[rcv].Type, "alerts", len(its), "err", res.err)
			continue
		default:
			e.logger.Error("receiver refused the notification; it is dropped (check the receiver's configuration)",
				"receiver", rcv, "integration", receivers[rcv].Type, "alerts", len(its), "err", res.err)
		}
		for _, it := range its {
			rec := e.recs[it.key]
			if rec == nil {
				continue
			}
			if res.err == nil {
				if e.refreshed[it.key] == nil {
					e.refreshed[it.key] = map[string]time.Time{}
				}
				e.refreshed[it.key][rcv] = now
			}
			if p := rec.Outbox[rcv]; it.seq != 0 && p != nil && p.Seq == it.seq {
				delete(rec.Outbox, rcv)
				touched[it.key] = true
			}
		}
	}
	for _, key := range slices.Sorted(maps.Keys(touched)) {
		if rec := e.recs[key]; rec != nil {
			if err := e.save(pctx, key, rec, now); err != nil {
				e.logger.Error("cannot record a delivered notification; it may be sent again after a restart", "err", err)
			}
		}
	}
	e.updateGauges()
}

// States returns a copy of every alert's state, sorted by key (for the API
// and tests).
func (e *Engine) States() []State {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []State
	for _, key := range slices.Sorted(maps.Keys(e.recs)) {
		if s := e.recs[key].State; s != nil {
			out = append(out, *s)
		}
	}
	return out
}

// Queued returns how many notifications wait for delivery.
func (e *Engine) Queued() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, rec := range e.recs {
		n += len(rec.Outbox)
	}
	return n
}
