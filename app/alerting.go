package app

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/okrd/okrd/alerting"
	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/notify"
	"github.com/okrd/okrd/notify/alertmanager"
	"github.com/okrd/okrd/notify/slack"
	"github.com/okrd/okrd/notify/webhook"
	"github.com/okrd/okrd/snapshot"
)

// minAlertmanagerRefresh is the shortest interval at which firing alerts
// are posted to Alertmanager again (Prometheus's resend delay); they are
// given an expiry of four intervals, so that Alertmanager resolves them by
// itself only when okrd has stopped sending.
const minAlertmanagerRefresh = time.Minute

// alerter connects the alerting engine to the app: it builds the
// receivers from the configuration, hands every evaluation to the engine
// and runs the engine's dispatcher while the app runs.
//
// The engine judges snapshots in a goroutine of its own, woken after each
// evaluation, rather than inside evaluate: judging reads the sources'
// health under runMu, and applySources holds runMu while it waits for a
// stopping runner, whose last poll may be evaluating at that moment.
type alerter struct {
	engine  *alerting.Engine
	running atomic.Bool
	wake    chan struct{}
	// judged is the generation of the newest snapshot the engine has
	// judged (for tests).
	judged atomic.Uint64
	// clients are the receivers' HTTP clients, kept across reloads.
	clients receiverClients
}

func newAlerter(a *App, cfg *config.Config) *alerter {
	sender := notify.NewSender(notify.NewMetrics(a.reg), a.logger.With("component", "notify"))
	// Writes go through a.writes(): a graceStore, so that a state decided
	// during shutdown is still recorded, fenced by the leadership term, so
	// that a process that no longer leads records nothing (and, since the
	// engine claims a delivery in the store before sending it, sends
	// nothing).
	engine := alerting.NewEngine(a.writes(), sender,
		a.logger.With("component", "alerting"), a.reg, a.opts.now)
	al := &alerter{engine: engine, wake: make(chan struct{}, 1)}
	engine.Configure(alertingConfig(a, cfg, &al.clients))
	return al
}

// configureAlerting applies a (re)loaded configuration.
func (a *App) configureAlerting(cfg *config.Config) {
	a.alerts.engine.Configure(alertingConfig(a, cfg, &a.alerts.clients))
}

// receiverClients keeps one HTTP client per receiver across reloads, so
// that a reload neither drops connections that are still good nor leaves
// connection pools behind: a receiver whose URL still names the same
// scheme and host keeps its client and its idle connections; the idle
// connections of a receiver that was removed, or now points elsewhere, are
// closed. (A request in flight at that moment finishes; its connection
// then closes after the transport's idle timeout.)
type receiverClients struct {
	mu      sync.Mutex
	clients map[string]*receiverClient
}

type receiverClient struct {
	endpoint  string // scheme://host of the receiver's URL
	client    *http.Client
	transport *http.Transport
}

// endpoint is what a receiver's connections depend on.
func endpoint(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// update returns the client of every receiver of rs, by name, reusing the
// clients of unchanged receivers and closing the idle connections of the
// others.
func (p *receiverClients) update(rs []*config.Receiver) map[string]*http.Client {
	p.mu.Lock()
	defer p.mu.Unlock()
	next := make(map[string]*receiverClient, len(rs))
	out := make(map[string]*http.Client, len(rs))
	for _, r := range rs {
		ep := endpoint(r.URL.Value())
		c, ok := p.clients[r.Name]
		if !ok || c.endpoint != ep {
			t := http.DefaultTransport.(*http.Transport).Clone()
			c = &receiverClient{endpoint: ep, client: &http.Client{Transport: t}, transport: t}
		}
		next[r.Name] = c
		out[r.Name] = c.client
	}
	for name, c := range p.clients {
		if next[name] != c {
			c.transport.CloseIdleConnections()
		}
	}
	p.clients = next
	return out
}

// closeIdle closes every idle connection, at shutdown.
func (p *receiverClients) closeIdle() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.clients {
		c.transport.CloseIdleConnections()
	}
}

// startAlerting judges every new snapshot and runs the dispatcher until
// ctx is done, starting with the newest snapshot, in goroutines counted by
// wg. Alert state advances only in the leading daemon, so that a follower,
// `okrd sync` or a test's Evaluate never notifies anybody.
func (a *App) startAlerting(ctx context.Context, wg *sync.WaitGroup) {
	a.alerts.running.Store(true)
	wg.Add(2)
	go func() {
		defer wg.Done()
		a.alerts.engine.Run(ctx)
		// Run has returned, so no delivery is in flight.
		a.alerts.clients.closeIdle()
	}()
	go func() {
		defer wg.Done()
		for {
			if snap := a.snap.Load(); snap != nil {
				a.judge(ctx, snap)
			}
			select {
			case <-ctx.Done():
				return
			case <-a.alerts.wake:
			}
		}
	}()
}

// wakeAlerting wakes the alerting goroutine after an evaluation. It never
// blocks: several evaluations in a row are judged once, from the newest.
func (a *App) wakeAlerting() {
	if a.alerts == nil || !a.alerts.running.Load() {
		return
	}
	select {
	case a.alerts.wake <- struct{}{}:
	default:
	}
}

// judge hands one snapshot to the engine.
func (a *App) judge(ctx context.Context, snap *snapshot.Snapshot) {
	defer a.alerts.judged.Store(snap.Generation)
	if !a.alerts.engine.Active() {
		return
	}
	in := alerting.Input{Snapshot: snap, Sources: a.sourcesForAlerting(a.cfg.Load()), FilledInOnly: a.filledInOnly}
	if err := a.alerts.engine.Process(ctx, in); err != nil && ctx.Err() == nil {
		a.logger.Error("alerting: cannot record alert state; notifications may repeat after a restart", "err", err)
	}
}

// filledInOnly reports whether every value of a key result in its period
// was filled in from its source's records: okrd never measured it while
// the period ran (it was configured after the period, or okrd was down
// throughout). A key result without a value in its period is not.
func (a *App) filledInOnly(kr *snapshot.KeyResult) bool {
	p := kr.Objective.Resolved
	_, filled := a.PointsFilled(kr.Objective.ID, kr.Config.ID, p.Start, p.End)
	if filled == nil {
		return false
	}
	for _, f := range filled {
		if !f {
			return false
		}
	}
	return true
}

// sourcesForAlerting returns the health of every configured source. A
// source without a runner (being restarted by a reload, or refused at
// start, which the log and okrd_source_up report) counts as not polled yet:
// its alert state is left alone.
func (a *App) sourcesForAlerting(cfg *config.Config) []collectors.Health {
	running := map[string]collectors.Health{}
	for _, h := range a.Sources() {
		running[h.Name] = h
	}
	out := make([]collectors.Health, 0, len(cfg.Sources))
	for name, sc := range cfg.Sources {
		h, ok := running[name]
		if !ok {
			h = collectors.Health{Name: name, Type: sc.Type}
		}
		out = append(out, h)
	}
	return out
}

// alertingConfig turns the [alerting] section into the engine's
// configuration, building one notifier per receiver with its client from
// clients.
func alertingConfig(a *App, cfg *config.Config, clients *receiverClients) alerting.Config {
	ac := cfg.Alerting
	out := alerting.Config{Policy: alerting.PolicyOf(cfg), DefaultReceiver: ac.DefaultReceiver}
	refresh := max(minAlertmanagerRefresh, time.Duration(cfg.Global.EvaluationInterval))
	httpClients := clients.update(ac.Receivers)
	for _, r := range ac.Receivers {
		client := httpClients[r.Name]
		header := http.Header{}
		for k, v := range r.Headers {
			header.Set(k, v.Value())
		}
		rc := alerting.Receiver{Integration: notify.Integration{Receiver: r.Name, Type: r.Type, Timeout: time.Duration(r.Timeout)}}
		switch r.Type {
		case "slack":
			rc.Notifier = slack.New(r.URL.Value(), client)
		case "webhook":
			rc.Notifier = webhook.New(webhook.Config{Receiver: r.Name, URL: r.URL.Value(), Secret: []byte(r.HMACSecret.Value()),
				Header: header, ExternalURL: cfg.Server.ExternalURL, Now: a.opts.now}, client)
		case "alertmanager":
			rc.Notifier = alertmanager.New(alertmanager.Config{URL: r.URL.Value(), Header: header,
				ExpireAfter: 4 * refresh, Now: a.opts.now}, client)
			rc.Refresh = refresh
		default:
			continue // refused by config validation
		}
		out.Receivers = append(out.Receivers, rc)
	}
	for _, r := range ac.Routes {
		rt := alerting.Route{Receiver: r.Receiver, Objectives: r.Objectives, Owners: r.Owners, Teams: r.Teams, Continue: r.Continue}
		for _, s := range r.Severities {
			rt.Severities = append(rt.Severities, alerting.Severity(s))
		}
		for _, c := range r.Conditions {
			rt.Conditions = append(rt.Conditions, alerting.Condition(c))
		}
		out.Routes = append(out.Routes, rt)
	}
	return out
}
