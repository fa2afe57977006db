package sql

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/okrd/okrd/collectors/internal/livequery"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/internal/dsnredact"
)

// Defaults, named so that the documentation and the code cannot disagree.
const (
	DefaultStatementTimeout = config.Duration(30 * time.Second)
	DefaultMaxOpenConns     = 2
	DefaultMaxIdleConns     = 1
	DefaultConnMaxLifetime  = config.Duration(30 * time.Minute)
)

// Drivers a sql source may use.
const (
	DriverPostgres = "postgres"
	DriverSQLite   = "sqlite"
)

// Spec is the configuration of a [sources.NAME] table with type = "sql".
type Spec struct {
	// Driver is "postgres" (lib/pq) or "sqlite".
	Driver string `toml:"driver"`
	// DSN: postgres, a URL or key=value string (see lib/pq); sqlite, a file
	// path, opened read-only. Exclusive with DSNFile.
	DSN     config.Secret `toml:"dsn"`
	DSNFile string        `toml:"dsn_file"`
	// StatementTimeout bounds each key result's query.
	StatementTimeout config.Duration `toml:"statement_timeout"`
	// MaxOpenConns bounds the connections to the database; it is also how
	// many queries a poll runs at once.
	MaxOpenConns int `toml:"max_open_conns"`
	// MaxIdleConns is how many connections are kept open between polls.
	MaxIdleConns int `toml:"max_idle_conns"`
	// ConnMaxLifetime recycles connections, so that a pool behind a proxy
	// or a failover reaches the new primary.
	ConnMaxLifetime config.Duration `toml:"conn_max_lifetime"`
}

// Defaults implements the loader's defaulter.
func (s *Spec) Defaults() {
	s.StatementTimeout = DefaultStatementTimeout
	s.MaxOpenConns = DefaultMaxOpenConns
	s.MaxIdleConns = DefaultMaxIdleConns
	s.ConnMaxLifetime = DefaultConnMaxLifetime
}

// Validate implements the loader's validator. No message contains the DSN.
func (s *Spec) Validate() error {
	var errs []error
	switch s.Driver {
	case DriverPostgres, DriverSQLite:
	case "":
		errs = append(errs, config.FieldErrorf("driver", "required: \"postgres\" or \"sqlite\""))
	default:
		errs = append(errs, config.FieldErrorf("driver", "must be \"postgres\" or \"sqlite\", not %q", s.Driver))
	}
	switch {
	case s.DSN == "" && s.DSNFile == "":
		errs = append(errs, config.FieldErrorf("dsn", "required (or set dsn_file)"))
	case s.DSN == "":
		// dsn_file could not be read; the loader said so.
	case s.Driver == DriverPostgres:
		if _, err := pq.NewConfig(s.DSN.Value()); err != nil {
			errs = append(errs, config.FieldErrorf(dsnField(s), "not a valid PostgreSQL DSN: %v", dsnredact.Error(err, dsnredact.Secrets(s.DSN.Value(), ""))))
		}
	case s.Driver == DriverSQLite:
		if p := s.DSN.Value(); p == ":memory:" || strings.Contains(p, "mode=memory") {
			errs = append(errs, config.FieldErrorf(dsnField(s), "must name a database file: an in-memory database is empty"))
		} else if sqlitePragmaScript(p) {
			errs = append(errs, config.FieldErrorf(dsnField(s), "a _pragma parameter must hold one PRAGMA: the driver runs the text after a \";\" too (ATTACH, ...)"))
		}
	}
	if s.StatementTimeout < config.Duration(time.Millisecond) {
		errs = append(errs, config.FieldErrorf("statement_timeout", "must be at least 1ms, not %s", s.StatementTimeout))
	}
	if s.MaxOpenConns < 1 {
		errs = append(errs, config.FieldErrorf("max_open_conns", "must be at least 1, not %d", s.MaxOpenConns))
	}
	if s.MaxIdleConns < 0 || s.MaxIdleConns > s.MaxOpenConns && s.MaxOpenConns >= 1 {
		errs = append(errs, config.FieldErrorf("max_idle_conns", "must be between 0 and max_open_conns (%d), not %d", s.MaxOpenConns, s.MaxIdleConns))
	}
	if s.ConnMaxLifetime < 0 {
		errs = append(errs, config.FieldErrorf("conn_max_lifetime", "must not be negative"))
	}
	return errors.Join(errs...)
}

// sqlitePragmaScript reports whether a SQLite file: URI has a _pragma
// parameter holding more than one statement: modernc.org/sqlite runs each
// _pragma value as SQL text when it opens a connection, before the
// source's authorizer is installed. A plain path has no parameters (okrd
// escapes its "?").
func sqlitePragmaScript(dsn string) bool {
	_, query, ok := strings.Cut(dsn, "?")
	if !ok || !strings.HasPrefix(dsn, "file:") {
		return false
	}
	values, err := url.ParseQuery(query)
	if err != nil {
		// The driver refuses a query it cannot parse when it connects.
		return false
	}
	for _, v := range values["_pragma"] {
		if !sqliteSingleStatement(v) {
			return true
		}
	}
	return false
}

func dsnField(s *Spec) string {
	if s.DSNFile != "" {
		return "dsn_file"
	}
	return "dsn"
}

// validateKeyResult checks a key result bound to a sql source: it needs a
// query that is one statement that only reads, an optional history_query
// that is one too and uses :at, and none of the keys of other source
// types.
func validateKeyResult(spec any, kr *config.KeyResult) error {
	var errs []error
	s, _ := spec.(*Spec)
	switch {
	case strings.TrimSpace(kr.Query) == "":
		errs = append(errs, config.FieldErrorf("query", "required for a sql source: a SELECT returning one row with one numeric column"))
	case s != nil:
		if err := checkStatement(s.Driver, kr.Query); err != nil {
			errs = append(errs, config.FieldErrorf("query", "%v", err))
		}
	}
	if kr.HistoryQuery != "" && s != nil {
		if err := checkHistoryQuery(s.Driver, kr.HistoryQuery); err != nil {
			errs = append(errs, config.FieldErrorf("history_query", "%v", err))
		}
	}
	for _, k := range livequery.BindingKeys(kr) {
		if k != "query" {
			errs = append(errs, config.FieldErrorf(k, "does not apply to a sql source (its value comes from query)"))
		}
	}
	return errors.Join(errs...)
}

// checkHistoryQuery returns why a history_query may not run on driver:
// the checks of a query, on its text as written and as sent, and those of
// its bind parameter (bindInstant).
func checkHistoryQuery(driver, query string) error {
	if _, ok := readKeywords[driver]; !ok {
		return nil
	}
	if err := checkStatement(driver, query); err != nil {
		return err
	}
	sent, err := bindInstant(driver, query)
	if err != nil {
		return err
	}
	return checkStatement(driver, sent)
}

// describe names a DSN's database for messages, without credentials.
func describe(s *Spec) string {
	if s.Driver == DriverSQLite {
		return fmt.Sprintf("sqlite %s", strings.TrimPrefix(s.DSN.Value(), "file:"))
	}
	cfg, err := pq.NewConfig(s.DSN.Value())
	if err != nil {
		return "postgres"
	}
	host := cfg.Host
	if host == "" {
		host = "localhost"
	}
	return fmt.Sprintf("postgres %s:%d/%s", host, cfg.Port, cfg.Database)
}
