// Package sqlstore owns the SQL implementation of store.Store that the SQLite
// and PostgreSQL stores share: every query is written once, with "?"
// placeholders rebound for the dialect, and the few behaviours that differ
// between the databases are switches on Dialect. It also runs the embedded
// goose migrations each dialect ships.
package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"

	"github.com/okrd/okrd/store"
)

// Dialect describes what differs between the databases the SQL code runs on.
type Dialect struct {
	// Name names the database in log lines ("sqlite", "postgres").
	Name string
	// BindType is the sqlx placeholder style the driver expects
	// (sqlx.QUESTION or sqlx.DOLLAR); queries are written with "?" and
	// rebound once when the store is built.
	BindType int
	// LockValues, if not empty, is executed inside a write transaction
	// before its first insert into kr_values. PostgreSQL hands out identity
	// values at insert time, not at commit time, so two concurrent
	// transactions can commit IDs out of order and a reader tailing with
	// ValuesAfter would skip the one that commits last; taking a
	// self-conflicting table lock makes ID order equal commit order.
	// SQLite needs nothing because it only ever has one writer.
	LockValues string
	// SerializeWrites makes this process run one write transaction at a
	// time. SQLite allows one writer per database; queueing writers in Go
	// lets them wait fairly and honour their context instead of polling the
	// file lock until busy_timeout expires. Other processes are still
	// coordinated by SQLite's own lock and busy_timeout.
	SerializeWrites bool
	// TermLock, if not empty, is appended to the statement with which a
	// transaction checks the leadership term (Tx.HoldTerm). PostgreSQL
	// needs " FOR SHARE", so that a new term's UPDATE of the row waits
	// for the transactions of the old term and none of them commits
	// after it; SQLite's single writer orders them anyway.
	TermLock string
}

// batchRows is the number of rows sent in one multi-row INSERT. At six
// parameters per row it stays far below SQLite's 32766 and PostgreSQL's
// 65535 parameter limits while cutting round trips by a factor of 500.
const batchRows = 500

// DB implements store.Store over a database/sql pool.
type DB struct {
	db      *sqlx.DB
	dialect Dialect
	logger  *slog.Logger
	// writeSem holds one token per running write transaction when the
	// dialect serializes writes; it is a channel rather than a mutex so a
	// waiting writer can give up when its context ends.
	writeSem chan struct{}
	q        queries
	now      func() time.Time
}

var _ store.Store = (*DB)(nil)

// New returns a store over db, which must already be migrated. The logger may
// be nil.
func New(db *sqlx.DB, d Dialect, logger *slog.Logger) *DB {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &DB{
		db:      db,
		dialect: d,
		logger:  logger,
		q:       buildQueries(d.BindType, d.TermLock),
		now:     time.Now,
	}
	if d.SerializeWrites {
		s.writeSem = make(chan struct{}, 1)
	}
	return s
}

// SQL returns the underlying pool, for the dialect wrappers and their tests.
func (s *DB) SQL() *sqlx.DB { return s.db }

// Ping checks that the database answers.
func (s *DB) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s: %w", s.dialect.Name, err)
	}
	return nil
}

// Close releases the pool. Calls on the store after Close fail.
func (s *DB) Close() error {
	return s.db.Close()
}

// Migrate applies every pending migration found at the root of fsys, in
// version order, each in its own transaction. It uses a goose Provider so no
// goose global state is touched; opts can add a locker so concurrent
// instances do not migrate at the same time.
func Migrate(ctx context.Context, db *sqlx.DB, dialect goose.Dialect, fsys fs.FS, logger *slog.Logger, opts ...goose.ProviderOption) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	opts = append([]goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}, opts...)
	p, err := goose.NewProvider(dialect, db.DB, fsys, opts...)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	results, err := p.Up(ctx)
	var partial *goose.PartialError
	if errors.As(err, &partial) {
		results = partial.Applied
	}
	for _, r := range results {
		logger.Info("applied database migration", "version", r.Source.Version,
			"file", r.Source.Path, "duration", r.Duration)
	}
	if err != nil {
		if partial != nil && partial.Failed != nil {
			return fmt.Errorf("migration %s failed: %w", partial.Failed.Source.Path, partial.Err)
		}
		return fmt.Errorf("migrations: %w", err)
	}
	return nil
}

// PendingMigrations reports whether fsys holds migrations the database has
// not applied yet.
func PendingMigrations(ctx context.Context, db *sqlx.DB, dialect goose.Dialect, fsys fs.FS) (bool, error) {
	p, err := goose.NewProvider(dialect, db.DB, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return false, fmt.Errorf("migrations: %w", err)
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return false, fmt.Errorf("migrations: %w", err)
	}
	return pending, nil
}

// HistorySQL returns the statement History runs, so the dialect packages can
// test that their schema gives it an index scan without a sort.
func (s *DB) HistorySQL() string { return s.q.history }
