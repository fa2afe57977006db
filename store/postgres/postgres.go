// Package postgres owns okrd's PostgreSQL store, for shared and highly
// available set-ups: it opens a lib/pq pool from a DSN, applies the embedded
// migrations under an advisory lock so several okrd instances can start at
// once, and keeps the DSN's password out of every error it returns. The
// queries live in store/internal/sqlstore, shared with store/sqlite.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/okrd/okrd/internal/dsnredact"
	"github.com/okrd/okrd/store"
	"github.com/okrd/okrd/store/internal/sqlstore"
)

//go:embed migrations/*.sql
var embedded embed.FS

// Migrations returns the PostgreSQL schema migrations, in goose format.
func Migrations() fs.FS {
	sub, err := fs.Sub(embedded, "migrations")
	if err != nil {
		// The directory is embedded at build time, so this cannot happen.
		panic(err)
	}
	return sub
}

// migrationLockID is the session advisory lock held while migrating: the
// ASCII bytes of "okrd", so it does not collide with goose's default id used
// by other applications sharing the database.
const migrationLockID = 0x6f6b7264

// Store is a store.Store backed by a PostgreSQL database.
type Store struct {
	*sqlstore.DB
	connector *pq.Connector
	hide      []string
	logger    *slog.Logger

	// The election's pool and bounds (leader.go).
	electMu           sync.Mutex
	lockDB            *sql.DB
	election          ElectionOptions
	warnNoIdleTimeout sync.Once
}

// idleInTransactionTimeout ends the session of a transaction left open by
// a process that is cut off from the database, which would otherwise keep
// its locks, and with them the next leader's first write (docs/ha.md),
// until the server's TCP keepalives give up on it. okrd's own transactions
// never wait on anything but the database. A DSN that sets
// idle_in_transaction_session_timeout keeps its value.
const idleInTransactionTimeout = "20s"

var _ store.Store = (*Store)(nil)

// Open connects to the PostgreSQL database named by dsn (a postgres:// URL
// or a key=value string, see lib/pq; PG* environment variables fill in what
// it leaves out) and applies pending migrations to the first schema of the
// search_path. Errors never contain the DSN's password. The logger may be
// nil.
func Open(ctx context.Context, dsn string, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("db", "postgres")
	cfg, err := pq.NewConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: invalid DSN: %w", dsnredact.Error(err, dsnredact.Secrets(dsn, "")))
	}
	hide := dsnredact.Secrets(dsn, cfg.Password)
	if _, set := cfg.Runtime["idle_in_transaction_session_timeout"]; !set {
		cfg = cfg.Clone()
		if cfg.Runtime == nil {
			cfg.Runtime = map[string]string{}
		}
		cfg.Runtime["idle_in_transaction_session_timeout"] = idleInTransactionTimeout
	}
	connector, err := pq.NewConnectorConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: invalid DSN: %w", dsnredact.Error(err, hide))
	}
	db := sqlx.NewDb(sql.OpenDB(connector), "postgres")
	// A handful of connections covers okrd's collectors, evaluator and
	// API; recycling them lets a pool behind a proxy or a failover move to
	// the new primary instead of holding dead sockets forever.
	db.SetMaxOpenConns(10)
	db.SetMaxIdleConns(5)
	db.SetConnMaxLifetime(30 * time.Minute)
	db.SetConnMaxIdleTime(5 * time.Minute)

	s := &Store{DB: sqlstore.New(db, sqlstore.Dialect{
		Name:       "postgres",
		BindType:   sqlx.DOLLAR,
		LockValues: "LOCK TABLE kr_values IN EXCLUSIVE MODE",
		TermLock:   " FOR SHARE",
	}, logger), connector: connector, hide: hide, logger: logger, election: DefaultElectionOptions}
	if err := s.init(ctx, logger); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("postgres: open %s: %w", describe(cfg), dsnredact.Error(err, hide))
	}
	logger.Debug("opened the database", "server", describe(cfg))
	return s, nil
}

func (s *Store) init(ctx context.Context, logger *slog.Logger) error {
	if err := s.SQL().PingContext(ctx); err != nil {
		return err
	}
	locker, err := lock.NewPostgresSessionLocker(
		lock.WithLockID(migrationLockID),
		// Poll every second for up to five minutes: another instance
		// holding the lock is applying the same migrations.
		lock.WithLockTimeout(1, 300),
	)
	if err != nil {
		return err
	}
	return sqlstore.Migrate(ctx, s.SQL(), goose.DialectPostgres, Migrations(), logger,
		goose.WithSessionLocker(locker))
}

// Close releases the leadership lock's pool, if a campaign opened one, and
// the store's pool.
func (s *Store) Close() error {
	s.electMu.Lock()
	lockDB := s.lockDB
	s.lockDB = nil
	s.electMu.Unlock()
	if lockDB != nil {
		_ = lockDB.Close()
	}
	return s.DB.Close()
}

// describe names the server and database of cfg for messages, without the
// user's credentials.
func describe(cfg pq.Config) string {
	host := cfg.Host
	if host == "" {
		host = "localhost"
	}
	return fmt.Sprintf("%s:%d/%s", host, cfg.Port, cfg.Database)
}
