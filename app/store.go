package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/store"
	"github.com/okrd/okrd/store/postgres"
	"github.com/okrd/okrd/store/sqlite"
)

// OpenStore opens the configured database and applies its migrations.
func OpenStore(ctx context.Context, s config.Storage, logger *slog.Logger) (store.Store, error) {
	switch s.Driver {
	case "", "sqlite":
		st, err := sqlite.Open(ctx, s.DSN.Value(), logger)
		if err != nil {
			return nil, fmt.Errorf("storage: opening SQLite database %q: %w", s.DSN.Value(), err)
		}
		return st, nil
	case "postgres":
		st, err := postgres.Open(ctx, s.DSN.Value(), logger)
		if err != nil {
			// The DSN may hold a password: it is not repeated here.
			return nil, fmt.Errorf("storage: opening PostgreSQL database: %w", err)
		}
		return st, nil
	default:
		return nil, fmt.Errorf("storage.driver: unknown driver %q (want sqlite or postgres)", s.Driver)
	}
}

// lockDaemon takes the daemon lock of a SQLite database (store/sqlite
// DaemonLock): one okrd daemon per file. PostgreSQL needs none; its
// processes elect a leader instead (docs/ha.md).
func lockDaemon(s config.Storage) (io.Closer, error) {
	if s.Driver != "" && s.Driver != "sqlite" {
		return nil, nil
	}
	l, err := sqlite.LockDaemon(s.DSN.Value())
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	if l == nil {
		return nil, nil
	}
	return l, nil
}

// lockedStore is a store whose Close also releases the daemon lock.
type lockedStore struct {
	store.Store
	lock io.Closer
}

func (l lockedStore) Close() error {
	err := l.Store.Close()
	l.lock.Close()
	return err
}

// graceStore lets writes that have started finish when okrd shuts down: a
// poll cancelled by SIGTERM must not abandon a transaction half way through
// sending it, so writes run on a context that ignores the caller's
// cancellation but is bounded by the shutdown timeout. (A transaction is
// atomic either way; this only saves the work already fetched.)
type graceStore struct {
	store.Store
	grace time.Duration
}

func (g graceStore) ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), g.grace)
}

func (g graceStore) AppendValues(ctx context.Context, vals ...store.Value) error {
	c, cancel := g.ctx(ctx)
	defer cancel()
	return g.Store.AppendValues(c, vals...)
}

func (g graceStore) AddCheckin(ctx context.Context, ci store.Checkin) (store.Checkin, error) {
	c, cancel := g.ctx(ctx)
	defer cancel()
	return g.Store.AddCheckin(c, ci)
}

func (g graceStore) AddConfidence(ctx context.Context, c store.Confidence) (store.Confidence, error) {
	cc, cancel := g.ctx(ctx)
	defer cancel()
	return g.Store.AddConfidence(cc, c)
}

func (g graceStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	if ctx.Err() != nil {
		// Do not start new work once shutdown has begun.
		return ctx.Err()
	}
	c, cancel := g.ctx(ctx)
	defer cancel()
	return g.Store.Update(c, func(tx store.Tx) error { return fn(graceTx{tx, c}) })
}

func (g graceStore) PutAlertState(ctx context.Context, s store.AlertState) error {
	c, cancel := g.ctx(ctx)
	defer cancel()
	return g.Store.PutAlertState(c, s)
}

func (g graceStore) DeleteAlertState(ctx context.Context, key string) error {
	c, cancel := g.ctx(ctx)
	defer cancel()
	return g.Store.DeleteAlertState(c, key)
}

type graceTx struct {
	tx  store.Tx
	ctx context.Context
}

func (t graceTx) PutRecords(_ context.Context, recs ...store.Record) error {
	return t.tx.PutRecords(t.ctx, recs...)
}

func (t graceTx) DeleteRecords(_ context.Context, source, kind string, ids ...string) error {
	return t.tx.DeleteRecords(t.ctx, source, kind, ids...)
}

func (t graceTx) SetCursor(_ context.Context, source, scope, value string) error {
	return t.tx.SetCursor(t.ctx, source, scope, value)
}

func (t graceTx) AppendValues(_ context.Context, vals ...store.Value) error {
	return t.tx.AppendValues(t.ctx, vals...)
}

func (t graceTx) DeleteValues(_ context.Context, objectiveID, keyResultID, originPrefix string) (int64, error) {
	return t.tx.DeleteValues(t.ctx, objectiveID, keyResultID, originPrefix)
}

func (t graceTx) PutAlertState(_ context.Context, s store.AlertState) error {
	return t.tx.PutAlertState(t.ctx, s)
}

func (t graceTx) DeleteAlertState(_ context.Context, key string) error {
	return t.tx.DeleteAlertState(t.ctx, key)
}

func (t graceTx) HoldTerm(_ context.Context, term int64) error {
	return t.tx.HoldTerm(t.ctx, term)
}
