package app

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/okrd/okrd/collectors"
)

// SyncOnce polls every source once, all at the same time and each bounded by
// its own timeout, then measures the key results and evaluates. done is
// called as each source finishes (for a progress display). The error joins
// the failures of every source that failed; the others are still recorded.
func (a *App) SyncOnce(ctx context.Context, done func(source string, err error)) error {
	return a.syncOnce(ctx, false, done)
}

// Resyncer is implemented by sources that can read their whole history
// again (the jira source). A full re-sync upserts over what is stored and
// moves the cursor only at the end, so nothing being served disappears.
type Resyncer interface {
	Resync()
}

// ResyncOnce is SyncOnce with a full re-sync of every source that supports
// one.
func (a *App) ResyncOnce(ctx context.Context, done func(source string, err error)) error {
	return a.syncOnce(ctx, true, done)
}

func (a *App) syncOnce(ctx context.Context, resync bool, done func(source string, err error)) error {
	defer a.store.Close()
	// A sync writes what a leader writes (docs/ha.md): on a database that
	// other processes share it leads for its duration, and is refused
	// while another leads.
	endTerm, err := a.leadOnce(ctx)
	if err != nil {
		return err
	}
	defer endTerm()
	if err := a.hist.refresh(ctx); err != nil {
		return err
	}
	cfg := a.cfg.Load()
	names := make([]string, 0, len(cfg.Sources))
	for name := range cfg.Sources {
		names = append(names, name)
	}
	sort.Strings(names)

	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, name := range names {
		sc := cfg.Sources[name]
		logger := a.logger.With("source", name)
		src, err := collectors.New(sc, collectors.Deps{Store: a.writes(), Logger: a.logger, Metrics: a.srcMet, Now: a.opts.now})
		if err != nil {
			errs = append(errs, err)
			if done != nil {
				done(name, err)
			}
			continue
		}
		if rs, ok := src.(Resyncer); ok && resync {
			logger.Info("full re-sync requested")
			rs.Resync()
		}
		r := &runner{cfg: sc, src: src, logger: logger, done: make(chan struct{}), fillFull: resync}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := a.pollOnce(ctx, r)
			if err != nil {
				err = fmt.Errorf("source %q: %w", name, err)
			}
			mu.Lock()
			if err != nil {
				errs = append(errs, err)
			}
			if done != nil {
				done(name, err)
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	a.evaluate(ctx)
	return errors.Join(errs...)
}

// SourceNames returns the configured source names, sorted.
func (a *App) SourceNames() []string {
	cfg := a.cfg.Load()
	names := make([]string, 0, len(cfg.Sources))
	for name := range cfg.Sources {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}
