package app

import (
	"context"
	"sync/atomic"

	"github.com/okrd/okrd/store"
)

// writes returns the store as the leading parts write to it: fenced by the
// term, and a graceStore, so that a write that has started finishes
// during a shutdown.
func (a *App) writes() store.Store {
	return graceStore{fenced{a.store, &a.term}, a.opts.ShutdownTimeout}
}

// fenced is the store as the parts that only the leader runs write to it
// (docs/ha.md): the sources, the measurements, the filled-in history, the
// alert states and the weekly report's claim. Every write runs in a
// transaction that first holds the process's leadership term
// (store.Tx.HoldTerm), so a process that no longer leads writes nothing,
// even one that was paused and has not yet noticed: its transaction fails
// with store.ErrFenced as soon as a newer term has begun. While the
// process follows, term is 0 and every write is refused at once. Reads,
// and check-ins (which any replica takes), pass through.
type fenced struct {
	store.Store
	term *atomic.Int64
}

func (f fenced) Update(ctx context.Context, fn func(store.Tx) error) error {
	term := f.term.Load()
	if term == 0 {
		return store.ErrFenced
	}
	return f.Store.Update(ctx, func(tx store.Tx) error {
		if err := tx.HoldTerm(ctx, term); err != nil {
			return err
		}
		return fn(tx)
	})
}

func (f fenced) AppendValues(ctx context.Context, vals ...store.Value) error {
	if len(vals) == 0 {
		return nil
	}
	return f.Update(ctx, func(tx store.Tx) error { return tx.AppendValues(ctx, vals...) })
}

func (f fenced) PutAlertState(ctx context.Context, s store.AlertState) error {
	return f.Update(ctx, func(tx store.Tx) error { return tx.PutAlertState(ctx, s) })
}

func (f fenced) DeleteAlertState(ctx context.Context, key string) error {
	return f.Update(ctx, func(tx store.Tx) error { return tx.DeleteAlertState(ctx, key) })
}
