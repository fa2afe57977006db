// Package sqlite owns okrd's default store: a single SQLite file opened with
// the pure-Go modernc.org/sqlite driver (no cgo), in WAL mode so a CLI can
// read and write while the daemon runs, with the schema migrated on open.
// The queries themselves live in store/internal/sqlstore, shared with
// store/postgres.
package sqlite

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"

	// The driver registers itself as "sqlite".
	_ "modernc.org/sqlite"

	"github.com/okrd/okrd/store"
	"github.com/okrd/okrd/store/internal/sqlstore"
)

//go:embed migrations/*.sql
var embedded embed.FS

// Migrations returns the SQLite schema migrations, in goose format.
func Migrations() fs.FS {
	sub, err := fs.Sub(embedded, "migrations")
	if err != nil {
		// The directory is embedded at build time, so this cannot happen.
		panic(err)
	}
	return sub
}

// BusyTimeout is how long a write waits for another connection or process
// holding the database's single write lock before it fails with
// SQLITE_BUSY. It covers a CLI check-in arriving during a daemon sync.
const BusyTimeout = 5 * time.Second

// pragmas are applied by the driver to every new pooled connection, because
// busy_timeout, foreign_keys and synchronous are per-connection settings.
// journal_mode=WAL is persistent in the file but harmless to repeat.
// synchronous=NORMAL is durable across application crashes in WAL mode and
// only risks the last commits on a power loss, for far fewer fsyncs.
// temp_store=MEMORY keeps the statement journal of a multi-row INSERT in
// memory instead of a temporary file, which profiling showed to be a quarter
// of the time of a batch append.
// _txlock=immediate makes every write transaction BEGIN IMMEDIATE, taking the
// write lock up front (and waiting busy_timeout for it) instead of failing
// with SQLITE_BUSY when a read transaction later upgrades to a write.
var pragmas = []string{
	fmt.Sprintf("_pragma=busy_timeout(%d)", BusyTimeout.Milliseconds()),
	"_pragma=journal_mode(WAL)",
	"_pragma=foreign_keys(1)",
	"_pragma=synchronous(NORMAL)",
	"_pragma=temp_store(MEMORY)",
	"_txlock=immediate",
}

// Store is a store.Store backed by one SQLite database.
type Store struct {
	*sqlstore.DB
	path   string
	logger *slog.Logger
}

var _ store.Store = (*Store)(nil)

// Open opens (creating it and its directory if needed) the SQLite database
// at path and applies pending migrations. path is a file name, a "file:" URI,
// or ":memory:" for a private in-memory database (tests only: it lives as
// long as the Store and is not shared with other processes). The logger may
// be nil.
func Open(ctx context.Context, path string, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("db", "sqlite")
	dsn, memory, err := buildDSN(path)
	if err != nil {
		return nil, err
	}
	if !memory && !strings.HasPrefix(path, "file:") {
		if dir := filepath.Dir(path); dir != "." {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("sqlite: create the directory of %s: %w", path, err)
			}
		}
	}
	db, err := sqlx.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if memory {
		// Every connection to ":memory:" is a separate, empty database, so
		// the pool must hold exactly one connection and never close it.
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		db.SetConnMaxIdleTime(0)
		db.SetConnMaxLifetime(0)
	} else {
		// Readers run in parallel under WAL; writers queue in sqlstore.
		db.SetMaxOpenConns(8)
		db.SetMaxIdleConns(8)
	}
	s := &Store{
		DB: sqlstore.New(db, sqlstore.Dialect{
			Name:            "sqlite",
			BindType:        sqlx.QUESTION,
			SerializeWrites: true,
		}, logger),
		path:   path,
		logger: logger,
	}
	if err := s.init(ctx, memory); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return s, nil
}

func (s *Store) init(ctx context.Context, memory bool) error {
	if err := s.SQL().PingContext(ctx); err != nil {
		return err
	}
	if !memory {
		var mode string
		if err := s.SQL().QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
			return err
		}
		if !strings.EqualFold(mode, "wal") {
			// WAL needs shared memory, which some network file systems
			// lack; okrd still works, but a concurrent CLI will wait.
			s.logger.Warn("the database is not in WAL mode, so readers and the writer block each other; put it on a local file system",
				"path", s.path, "journal_mode", mode)
		}
	}
	return s.migrate(ctx)
}

// migrate applies pending migrations. SQLite has no advisory locks, so two
// processes opening a new or older database at the same moment can both try
// to apply a migration; the loser's transaction fails and rolls back, and a
// second look finds nothing pending.
func (s *Store) migrate(ctx context.Context) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if err = sqlstore.Migrate(ctx, s.SQL(), goose.DialectSQLite3, Migrations(), s.logger); err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return err
		}
		pending, perr := sqlstore.PendingMigrations(ctx, s.SQL(), goose.DialectSQLite3, Migrations())
		if perr == nil && !pending {
			s.logger.Debug("another process applied the migrations first", "err", err)
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

// Backup writes a consistent, compacted copy of the database to path with
// VACUUM INTO, while other connections keep reading and writing. path must
// not exist yet.
func (s *Store) Backup(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("sqlite: backup to %s: %w", path, fs.ErrExist)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("sqlite: backup to %s: %w", path, err)
	}
	if _, err := s.SQL().ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		return fmt.Errorf("sqlite: backup to %s: %w", path, err)
	}
	return nil
}

// Close lets SQLite refresh its query planner statistics, as its
// documentation recommends for long-lived connections, and closes the
// database.
func (s *Store) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := s.SQL().ExecContext(ctx, "PRAGMA optimize"); err != nil {
		s.logger.Debug("PRAGMA optimize failed before close", "err", err)
	}
	return s.DB.Close()
}

// buildDSN turns a path into a modernc.org/sqlite DSN with okrd's pragmas.
// A plain path becomes a "file:" URI with '%', '?' and '#' escaped, so any
// file name works; a "file:" URI is kept with the pragmas appended.
func buildDSN(path string) (dsn string, memory bool, err error) {
	if path == "" {
		return "", false, errors.New("sqlite: the database path is empty")
	}
	params := strings.Join(pragmas, "&")
	if strings.HasPrefix(path, "file:") {
		memory = strings.HasPrefix(path, "file::memory:") || strings.Contains(path, "mode=memory")
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		return path + sep + params, memory, nil
	}
	if path == ":memory:" {
		return "file::memory:?" + params, true, nil
	}
	escaped := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	return "file:" + escaped + "?" + params, false, nil
}
