package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/snapshot"
	"github.com/okrd/okrd/store"
	okrweb "github.com/okrd/okrd/web"
)

// App is a running okrd.
type App struct {
	opts    Options
	logger  *slog.Logger
	store   store.Store
	reg     *prometheus.Registry
	metrics *selfMetrics
	srcMet  *collectors.Metrics
	hist    *history
	fill    filler
	alerts  *alerter

	cfg  atomic.Pointer[config.Config]
	snap atomic.Pointer[snapshot.Snapshot]
	gen  atomic.Uint64

	eval  evaluator
	warm  warmer
	hooks atomic.Pointer[evalHooks]

	runMu   sync.Mutex
	runners map[string]*runner
	// role is what the process does now (lead or follow); nil before Run
	// and after it. It belongs to runMu.
	role *role
	wg   sync.WaitGroup

	// term is the leadership term this process leads under, 0 while it
	// follows (fence.go).
	term atomic.Int64
	// ledEvals counts the evaluations that closed taking the lead (tests
	// wait for one before they watch evaluations).
	ledEvals    atomic.Int64
	holder      string
	leaderGauge prometheus.Gauge
	followed    followState
	work        workState
	reports     reportMemo
	reloadMu    sync.Mutex
	ready       atomic.Bool

	listeners []net.Listener
	server    *http.Server
}

// New loads the configuration, opens the store and applies its migrations,
// and builds every source. Nothing runs until Run.
func New(ctx context.Context, opts Options) (*App, error) {
	if opts.ShutdownTimeout == 0 {
		opts.ShutdownTimeout = 15 * time.Second
	}
	a := &App{opts: opts, logger: opts.logger(), runners: map[string]*runner{}}
	a.reg = prometheus.NewRegistry()
	registerRuntime(a.reg)
	a.metrics = newSelfMetrics(a.reg)
	a.srcMet = collectors.NewMetrics(a.reg)
	a.reg.MustRegister(newInitiativeCollector(a))

	cfg, err := config.LoadAt(opts.ConfigFile, opts.now())
	if err != nil {
		a.metrics.reloadOK.Set(0)
		return nil, err
	}
	a.metrics.reloadOK.Set(1)
	a.metrics.reloadTime.Set(float64(time.Now().Unix()))
	a.cfg.Store(cfg)
	a.metrics.configure(cfg)

	lock, err := lockDaemon(cfg.Storage)
	if err != nil {
		return nil, err
	}
	st, err := OpenStore(ctx, cfg.Storage, a.logger)
	if err != nil {
		if lock != nil {
			lock.Close()
		}
		return nil, err
	}
	if lock != nil {
		st = lockedStore{st, lock}
	}
	a.store = st
	a.holder = holderName()
	a.leaderGauge = newLeaderGauge(a.reg)
	a.hist = newHistory(st)
	a.alerts = newAlerter(a, cfg)
	return a, nil
}

// Store returns the app's store (for tests and subcommands).
func (a *App) Store() store.Store { return a.store }

// Config returns the configuration in force.
func (a *App) Config() *config.Config { return a.cfg.Load() }

// Snapshot returns the newest evaluation, nil before the first one.
func (a *App) Snapshot() *snapshot.Snapshot { return a.snap.Load() }

// Ready reports whether the first evaluation has been published.
func (a *App) Ready() bool { return a.ready.Load() }

// Registry is the registry of okrd's own metrics.
func (a *App) Registry() *prometheus.Registry { return a.reg }

// Addr returns the address of the first listener once Run has started it.
func (a *App) Addr() string {
	a.runMu.Lock()
	defer a.runMu.Unlock()
	if len(a.listeners) == 0 {
		return ""
	}
	return a.listeners[0].Addr().String()
}

// Listen opens the HTTP listeners. Run calls it when the caller has not, so
// a test can listen on 127.0.0.1:0 and learn the port before Run.
func (a *App) Listen() error {
	a.runMu.Lock()
	defer a.runMu.Unlock()
	if len(a.listeners) > 0 {
		return nil
	}
	addrs := a.opts.ListenAddresses
	if len(addrs) == 0 {
		addrs = []string{a.cfg.Load().Server.ListenAddress}
	}
	for _, addr := range addrs {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			for _, o := range a.listeners {
				o.Close()
			}
			a.listeners = nil
			return fmt.Errorf("listening on %s: %w", addr, err)
		}
		a.listeners = append(a.listeners, l)
	}
	return nil
}

// Run serves HTTP and evaluates on a timer until ctx is cancelled, leading
// (polling every source, alerting, reporting) whenever this process holds
// the leadership of its database and following the leader otherwise
// (leader.go), then shuts down: in-flight requests and store writes finish
// (bounded by Options.ShutdownTimeout) and the store is closed.
func (a *App) Run(ctx context.Context) error {
	defer a.store.Close()
	if err := a.Listen(); err != nil {
		return err
	}
	// The fill states are read before the history, so that a replacement
	// by another process in between is noticed (follow.go).
	if err := a.baselineFills(ctx); err != nil {
		return err
	}
	if err := a.hist.refresh(ctx); err != nil {
		return err
	}
	a.evaluate(ctx)

	handler := okrweb.NewHandler(a, a.logger.With("component", "web"), okrweb.WithLifecycle(a.opts.EnableLifecycle))
	a.server = okrweb.NewServer(handler, a.cfg.Load().Server, a.logger)
	webCfg := a.opts.WebConfigFile
	flags := &web.FlagConfig{WebConfigFile: &webCfg, WebListenAddresses: &[]string{}, WebSystemdSocket: new(bool)}
	serveErr := make(chan error, len(a.listeners))
	for _, l := range a.listeners {
		a.logger.Info("listening", "address", l.Addr().String(), "web_config_file", webCfg)
		go func() {
			if err := web.Serve(l, a.server, flags, a.logger.With("component", "web")); err != nil && !errors.Is(err, http.ErrServerClosed) {
				serveErr <- fmt.Errorf("serving HTTP on %s: %w", l.Addr(), err)
			}
		}()
	}

	roleCtx, cancelRole := context.WithCancel(ctx)
	defer cancelRole()
	// Every replica serves /metrics: the warmer runs whatever the role.
	a.startWarmer(roleCtx)
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		a.runLeadership(roleCtx)
	}()

	var runErr error
	ticker := time.NewTicker(time.Duration(a.cfg.Load().Global.EvaluationInterval))
	defer ticker.Stop()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case err := <-serveErr:
			runErr = err
			break loop
		case <-ticker.C:
			a.evaluate(ctx)
			ticker.Reset(time.Duration(a.cfg.Load().Global.EvaluationInterval))
		}
	}

	a.logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.opts.ShutdownTimeout)
	defer cancel()
	if err := a.server.Shutdown(shutdownCtx); err != nil {
		a.logger.Warn("HTTP shutdown did not finish in time", "err", err)
		// Connections still open (a client's spare keep-alive connection
		// that never sent a request counts as busy for five seconds) would
		// otherwise outlive okrd.
		_ = a.server.Close()
	}
	cancelRole()
	a.wg.Wait()
	a.eval.stop()
	return runErr
}

// applySources starts, restarts or stops the source runners to match cfg.
// A source whose configuration did not change keeps running undisturbed.
func (a *App) applySources(cfg *config.Config) {
	a.runMu.Lock()
	defer a.runMu.Unlock()
	ro := a.role
	if ro == nil {
		return
	}
	for name, r := range a.runners {
		if nc, ok := cfg.Sources[name]; ok && sameSource(r.cfg, nc) {
			continue
		}
		r.cancel()
		<-r.done
		if c, ok := r.src.(prometheus.Collector); ok {
			a.reg.Unregister(c)
		}
		if nc, ok := cfg.Sources[name]; !ok || nc.Type != r.cfg.Type {
			a.forgetSource(name)
		}
		delete(a.runners, name)
		a.logger.Info("source stopped", "source", name)
	}
	names := make([]string, 0, len(cfg.Sources))
	for name := range cfg.Sources {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, running := a.runners[name]; running {
			continue
		}
		a.startRunner(ro, cfg.Sources[name], nil, collectors.Health{})
	}
}

// startRunner adds the runner of a source for the role, building the
// source unless src is given (a follower's source that starts to lead).
// A leading runner polls; a following one only holds the source, which
// the follower loop keeps up to date, and the health the leader stored.
// Only the sources that can follow are built for a follower: the others
// have nothing to serve until this process leads. health, when it is a
// stored health (Polls > 0), carries over, so that a source the previous
// leader had polled is not in its first sync again. a.runMu is held.
func (a *App) startRunner(ro *role, sc *config.Source, src collectors.Source, health collectors.Health) {
	name := sc.Name
	logger := a.logger.With("source", name)
	if src == nil {
		var err error
		src, err = collectors.New(sc, collectors.Deps{Store: a.writes(), Logger: a.logger, Metrics: a.srcMet, Now: a.opts.now})
		if err != nil {
			logger.Error("source cannot start", "err", err)
			a.metrics.sourceCannotStart(name, sc.Type)
			return
		}
		if _, ok := src.(follower); !ok && !ro.leading {
			src = nil
		}
		// A source that exposes delivery series is a prometheus.Collector
		// reading what its last poll (or follow) computed.
		if c, ok := src.(prometheus.Collector); ok {
			if err := a.reg.Register(c); err != nil {
				logger.Error("source metrics cannot be registered", "err", err)
			}
		}
	}
	health.Name, health.Type = name, sc.Type
	done := make(chan struct{})
	r := &runner{cfg: sc, src: src, logger: logger, cancel: func() {}, done: done, refill: make(chan struct{}, 1), health: health}
	a.runners[name] = r
	if !ro.leading {
		close(done)
		return
	}
	if health.Polls == 0 {
		a.metrics.sourceStarting(name, sc.Type)
	}
	ctx, cancel := context.WithCancel(ro.ctx)
	r.cancel = cancel
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		a.runSource(ctx, r)
	}()
	logger.Info("source started", "type", sc.Type, "interval", time.Duration(sc.Interval).String())
}

// requestRefill asks every running source that can fill in history to
// check, between its polls, whether a key result needs it (after a reload:
// one added, or one whose binding changed). A source whose runner a
// reload restarted fills in after its first poll anyway.
func (a *App) requestRefill() {
	a.runMu.Lock()
	defer a.runMu.Unlock()
	for _, r := range a.runners {
		if _, ok := r.src.(collectors.Historian); !ok {
			continue
		}
		select {
		case r.refill <- struct{}{}:
		default: // one is pending already
		}
	}
}

// Sources returns the health of every source, sorted by name.
func (a *App) Sources() []collectors.Health {
	a.runMu.Lock()
	defer a.runMu.Unlock()
	out := make([]collectors.Health, 0, len(a.runners))
	for _, r := range a.runners {
		h := r.snapshotHealth()
		if q, ok := r.src.(collectors.QualityReporter); ok {
			h.DataQuality = q.DataQuality()
		}
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// evaluate evaluates every key result and publishes the snapshot, and
// returns once it is published (or ctx is done). Calls that arrive while
// an evaluation runs share the next one.
func (a *App) evaluate(ctx context.Context) {
	if ctx.Err() != nil {
		return
	}
	select {
	case <-a.requestEvaluation(ctx, true):
	case <-ctx.Done():
	}
}

// Evaluate runs one evaluation now (for subcommands and tests).
func (a *App) Evaluate(ctx context.Context) { a.evaluate(ctx) }

// valueRefresh is how long an unchanged measurement is not written again:
// a source polled every five minutes would otherwise add 288 identical
// points a day to every key result's history.
const valueRefresh = time.Hour

// measure asks a source for the values of the key results bound to it and
// records the ones that changed. A value measured live is recorded at the
// instant it was measured (Measurement.At), any other at now.
func (a *App) measure(ctx context.Context, r *runner, now time.Time) error {
	cfg := a.cfg.Load()
	var bindings []collectors.Binding
	for _, o := range cfg.Objectives {
		for _, kr := range o.KeyResults {
			if kr.Source == r.cfg.Name {
				bindings = append(bindings, collectors.Binding{Objective: o, KeyResult: kr})
			}
		}
	}
	if len(bindings) == 0 {
		return nil
	}
	ms := r.src.Measure(ctx, bindings, now)
	var vals []store.Value
	for i, m := range ms {
		if i >= len(bindings) {
			break
		}
		b := bindings[i]
		if m.Err != nil {
			a.metrics.measureError(b.Objective.ID, b.KeyResult.ID, r.cfg.Name)
			r.logger.Warn("cannot measure key result; keeping its last value",
				"objective", b.Objective.ID, "key_result", b.KeyResult.ID, "err", m.Err)
			continue
		}
		if !m.OK {
			continue
		}
		at := now
		if !m.At.IsZero() {
			at = m.At
		}
		if last, ok := a.hist.latest(krKey{b.Objective.ID, b.KeyResult.ID}); ok && last.Value == m.Value && at.Sub(last.At) < valueRefresh {
			continue
		}
		vals = append(vals, store.Value{ObjectiveID: b.Objective.ID, KeyResultID: b.KeyResult.ID, At: at, Value: m.Value, Origin: "source:" + r.cfg.Name})
	}
	if len(vals) == 0 {
		return nil
	}
	return a.writes().AppendValues(ctx, vals...)
}

func (a *App) updateRecordCounts(ctx context.Context) {
	counts, err := a.store.CountRecords(ctx)
	if err != nil {
		a.logger.Warn("cannot count stored records", "err", err)
		return
	}
	for src, kinds := range counts {
		for kind, n := range kinds {
			a.metrics.setRecords(src, kind, n)
		}
	}
}

// Reload reads the configuration file again. A configuration that does not
// load leaves the running one in force; either way the outcome is exported
// as okrd_config_last_reload_successful.
func (a *App) Reload(ctx context.Context) error {
	a.reloadMu.Lock()
	defer a.reloadMu.Unlock()
	cfg, err := config.LoadAt(a.opts.ConfigFile, a.opts.now())
	if err != nil {
		a.metrics.reloadOK.Set(0)
		a.logger.Error("configuration reload failed; keeping the running configuration", "err", err)
		return err
	}
	old := a.cfg.Load()
	if old.Storage.Driver != cfg.Storage.Driver || old.Storage.DSN.Value() != cfg.Storage.DSN.Value() {
		a.logger.Warn("storage settings changed; they take effect after a restart")
	}
	if old.Server.ListenAddress != cfg.Server.ListenAddress {
		a.logger.Warn("server.listen_address changed; it takes effect after a restart")
	}
	if o, n := old.Server, cfg.Server; o.ReadTimeout != n.ReadTimeout || o.WriteTimeout != n.WriteTimeout || o.IdleTimeout != n.IdleTimeout {
		a.logger.Warn("server timeouts changed; they take effect after a restart")
	}
	a.cfg.Store(cfg)
	a.configureAlerting(cfg)
	a.metrics.reloadOK.Set(1)
	a.metrics.reloadTime.Set(float64(time.Now().Unix()))
	a.metrics.configure(cfg)
	a.applySources(cfg)
	a.retainBindings(cfg)
	if a.Leading() {
		if err := a.clearUnfillable(ctx); err != nil {
			a.logger.Warn("cannot check the filled-in history of key results", "err", err)
		}
		a.requestRefill()
	}
	a.evaluate(ctx)
	a.logger.Info("configuration reloaded", "file", a.opts.ConfigFile, "objectives", len(cfg.Objectives), "sources", len(cfg.Sources))
	return nil
}
