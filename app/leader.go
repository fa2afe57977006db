package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/okrd/okrd/store"
)

// Leadership (docs/ha.md). Any number of okrd processes can share one
// PostgreSQL database; exactly one of them leads: it polls the sources,
// measures the key results, fills in their history, runs the built-in
// alerting and sends the notifications and the weekly report. The others
// follow it: they serve /metrics, the API and the page from the store,
// which they read incrementally (follow.go), and take check-ins. On SQLite
// the process always leads; a file lock keeps a second daemon away.
//
// A process leads under a term (store.NewTerm). Everything the leading
// parts write goes through a.writes(), which holds that term in the write's
// transaction, so that a process that lost the leadership writes nothing
// more, even before it notices.

// leaderRetry is how long a process waits before campaigning again after
// starting a term failed.
var leaderRetry = 2 * time.Second

// role is what the process does for now: lead or follow. Its context ends,
// and its goroutines stop, when the role does.
type role struct {
	leading bool
	term    store.Term
	ctx     context.Context
	cancel  context.CancelFunc
	// wg holds the role's goroutines other than the source runners
	// (alerting, the report, the follower loop).
	wg sync.WaitGroup
}

// holderName names this process in the leadership table and the logs.
func holderName() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	return fmt.Sprintf("%s:%d", host, os.Getpid())
}

func newLeaderGauge(reg prometheus.Registerer) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "okrd_leader",
		Help: "1 while this okrd leads (polls the sources, fills in history, alerts and sends the report), 0 while it follows the leader of its PostgreSQL database (docs/ha.md).",
	})
	reg.MustRegister(g)
	return g
}

// Leading reports whether this process leads now.
func (a *App) Leading() bool { return a.term.Load() != 0 }

// runLeadership follows until this process wins the leadership, leads until
// it loses it, and starts over, until ctx is done.
func (a *App) runLeadership(ctx context.Context) {
	el, elects := a.store.(store.Elector)
	if elects {
		a.follow(ctx, "")
	}
	for ctx.Err() == nil {
		var lease store.Lease
		if elects {
			l, err := el.Campaign(ctx)
			if err != nil {
				break // ctx is done
			}
			lease = l
		}
		term, err := a.store.NewTerm(ctx, a.holder)
		if err != nil {
			if lease != nil {
				lease.Release()
			}
			if ctx.Err() != nil {
				break
			}
			a.logger.Error("cannot start a leadership term; trying again", "err", err, "retry_in", leaderRetry.String())
			if !sleepCtx(ctx, leaderRetry) {
				break
			}
			continue
		}
		a.lead(ctx, term)
		var lost <-chan struct{}
		if lease != nil {
			lost = lease.Lost()
		}
		select {
		case <-ctx.Done():
		case <-lost:
			// Writes stop at once: another process may lead already.
			a.term.Store(0)
			a.follow(ctx, "the leadership was lost")
		}
		if lease != nil {
			lease.Release()
		}
		if !elects {
			break
		}
	}
	a.stopRole(false)
}

// lead starts the leading parts under term: the sources, caught up with
// what the previous leader stored, start polling where it stopped; the
// alerting continues from the stored alert states; the report goes out
// once.
func (a *App) lead(ctx context.Context, term store.Term) {
	a.reloadMu.Lock()
	defer a.reloadMu.Unlock()
	a.stopRole(false)
	// Everything the previous terms wrote has committed (NewTerm waited
	// for it): the followed state is caught up once more, so that no
	// source starts from a stale cursor and the alerting from a stale
	// state.
	a.followOnce(ctx)
	a.fill.mu.Lock()
	a.fill.loaded = false
	a.fill.mu.Unlock()
	if err := a.alerts.engine.Reload(ctx); err != nil {
		a.logger.Warn("cannot read the alert states; the alerting reads them at its first evaluation", "err", err)
	}

	a.term.Store(term.Number)
	a.leaderGauge.Set(1)
	ro := a.newRole(ctx, true, term)
	a.runMu.Lock()
	a.role = ro
	runners := a.runners
	a.runners = map[string]*runner{}
	names := make([]string, 0, len(runners))
	for name := range runners {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		r := runners[name]
		a.startRunner(ro, r.cfg, r.src, r.snapshotHealth())
	}
	a.runMu.Unlock()
	// Sources the configuration has but that were not followed.
	a.applySources(a.cfg.Load())
	a.logger.Info("leading: polling the sources, filling in history, alerting and reporting", "term", term.Number, "holder", term.Holder)

	if err := a.clearUnfillable(ctx); err != nil {
		a.logger.Warn("cannot check the filled-in history of key results", "err", err)
	}
	a.startAlerting(ro.ctx, &ro.wg)
	ro.wg.Go(func() { a.runReports(ro.ctx) })
	a.evaluate(ctx)
	a.ledEvals.Add(1)
}

// follow stops the leading parts, if any, and starts following: the
// sources are built again from the store, and the follower loop keeps
// what this process serves up to date. reason says why it no longer leads
// ("" when it never did).
func (a *App) follow(ctx context.Context, reason string) {
	a.reloadMu.Lock()
	defer a.reloadMu.Unlock()
	wasLeading := a.stopRole(true)
	a.term.Store(0)
	a.leaderGauge.Set(0)
	ro := a.newRole(ctx, false, store.Term{})
	a.runMu.Lock()
	a.role = ro
	a.runMu.Unlock()
	// Fresh sources: a source that led holds what it wrote, and from
	// here on it follows the records from the store's change numbers.
	a.applySources(a.cfg.Load())
	ro.wg.Go(func() { a.followLoop(ro.ctx) })
	switch {
	case wasLeading != nil:
		a.logger.Warn("stepped down: following the leader of the database", "reason", reason, "term", wasLeading.term.Number)
	default:
		holder := "nobody yet"
		if t, err := a.store.CurrentTerm(ctx); err == nil && t.Holder != "" {
			holder = t.Holder
		}
		a.logger.Info("following: another okrd may lead this database; serving what it stores", "last_leader", holder)
	}
}

func (a *App) newRole(ctx context.Context, leading bool, term store.Term) *role {
	rctx, cancel := context.WithCancel(ctx)
	return &role{leading: leading, term: term, ctx: rctx, cancel: cancel}
}

// stopRole ends the current role: its goroutines and its source runners
// stop (a leading runner finishes the write it is in). With discard the
// sources are dropped too; otherwise their runners stay, stopped, for the
// next role to start again. It returns the role that ended, nil if none.
// a.reloadMu is held (or the process is shutting down).
func (a *App) stopRole(discard bool) *role {
	a.runMu.Lock()
	ro := a.role
	a.role = nil
	runners := a.runners
	a.runMu.Unlock()
	if ro == nil {
		return nil
	}
	ro.cancel()
	for _, r := range runners {
		r.cancel()
		<-r.done
	}
	ro.wg.Wait()
	if ro.leading {
		a.alerts.running.Store(false)
	}
	if discard {
		a.runMu.Lock()
		for name, r := range a.runners {
			if c, ok := r.src.(prometheus.Collector); ok {
				a.reg.Unregister(c)
			}
			delete(a.runners, name)
		}
		a.runMu.Unlock()
	}
	return ro
}

// LeadOnce makes this process lead for one job (okrd sync): on a store
// shared with other processes it refuses when one of them leads. The
// returned function ends the term's leadership.
func (a *App) leadOnce(ctx context.Context) (func(), error) {
	release := func() {}
	if el, ok := a.store.(store.Elector); ok {
		// One attempt is enough: a leader holds the lock for as long as
		// it runs.
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		lease, err := el.Campaign(cctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			holder := "another okrd"
			if t, terr := a.store.CurrentTerm(ctx); terr == nil && t.Holder != "" {
				holder = "okrd " + t.Holder
			}
			return nil, fmt.Errorf("%s leads this database and polls its sources; okrd sync would poll them a second time, so it is refused (stop the daemons first, or let the leader poll)", holder)
		}
		release = lease.Release
	}
	term, err := a.store.NewTerm(ctx, a.holder)
	if err != nil {
		release()
		return nil, err
	}
	a.term.Store(term.Number)
	return func() {
		a.term.Store(0)
		release()
	}, nil
}

// sleepCtx waits d or until ctx is done; it reports whether d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// isFenced reports whether err is a write refused because this process
// does not lead (any more).
func isFenced(err error) bool { return errors.Is(err, store.ErrFenced) }
