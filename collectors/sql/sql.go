// Package sql owns the "sql" source type: key results whose values come
// from a query against a SQL warehouse, PostgreSQL (lib/pq) or SQLite.
//
// Each key result's query runs read-only (PostgreSQL: BEGIN READ ONLY with
// SET LOCAL statement_timeout; SQLite: a connection opened with mode=ro and
// query_only, bounded by a context deadline) and must return exactly one
// row with one numeric column. Every other answer (no row, several rows,
// several columns, NULL, text, a boolean, a date, NaN) is an error with its
// own message, never a zero. The DSN's password appears in no log line and
// no error. The queries run in Poll (see collectors/internal/livequery), so
// a failing query marks the source down and keeps the last good value.
package sql

import (
	"context"
	stdsql "database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"

	// The pure-Go SQLite driver registers itself as "sqlite".
	_ "modernc.org/sqlite"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/collectors/internal/livequery"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/internal/dsnredact"
)

func init() {
	config.RegisterSourceType("sql", config.SourceType{
		NewSpec:           func() any { return &Spec{} },
		ValidateKeyResult: validateKeyResult,
	})
	collectors.Register("sql", func(src *config.Source, deps collectors.Deps) (collectors.Source, error) {
		q, err := Open(src.Name, src.Spec.(*Spec), deps.Logger)
		if err != nil {
			return nil, err
		}
		return livequery.New(q, livequery.Options{Name: src.Name, Concurrency: q.spec.MaxOpenConns, Now: deps.Now}), nil
	})
}

// Querier runs key result queries against one database. It implements
// livequery.Querier.
type Querier struct {
	name    string
	spec    *Spec
	db      *stdsql.DB
	hide    []string // forms of the DSN's password to mask in errors
	timeout time.Duration
	logger  *slog.Logger
}

// Open builds the connection pool of a sql source. Nothing is dialed yet:
// a database that is down makes the first poll fail, not the start.
func Open(name string, spec *Spec, logger *slog.Logger) (*Querier, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	q := &Querier{name: name, spec: spec, timeout: spec.StatementTimeout.Duration(), logger: logger}
	switch spec.Driver {
	case DriverPostgres:
		dsn := spec.DSN.Value()
		cfg, err := pq.NewConfig(dsn)
		if err != nil {
			return nil, fmt.Errorf("source %q: invalid PostgreSQL DSN: %w", name, dsnredact.Error(err, dsnredact.Secrets(dsn, "")))
		}
		q.hide = dsnredact.Secrets(dsn, cfg.Password)
		connector, err := pq.NewConnectorConfig(cfg)
		if err != nil {
			return nil, fmt.Errorf("source %q: invalid PostgreSQL DSN: %w", name, dsnredact.Error(err, q.hide))
		}
		q.db = stdsql.OpenDB(connector)
	case DriverSQLite:
		db, err := stdsql.Open("sqlite", sqliteReadOnlyDSN(spec.DSN.Value()))
		if err != nil {
			return nil, fmt.Errorf("source %q: %w", name, err)
		}
		q.db = db
	default:
		return nil, fmt.Errorf("source %q: unknown driver %q", name, spec.Driver)
	}
	q.db.SetMaxOpenConns(spec.MaxOpenConns)
	q.db.SetMaxIdleConns(spec.MaxIdleConns)
	q.db.SetConnMaxLifetime(spec.ConnMaxLifetime.Duration())
	return q, nil
}

// sqliteReadOnlyDSN turns a SQLite file name (or file: URI) into a URI
// that opens the file read-only and refuses writes on the connection too:
// mode=ro makes SQLite open the file read-only (and fail rather than
// create a missing one), query_only rejects any statement that would
// change a database, busy_timeout waits for a writer's lock instead of
// failing at once.
func sqliteReadOnlyDSN(dsn string) string {
	params := "mode=ro&_pragma=query_only(1)&_pragma=busy_timeout(5000)"
	if strings.HasPrefix(dsn, "file:") {
		if strings.Contains(dsn, "?") {
			return dsn + "&" + params
		}
		return dsn + "?" + params
	}
	// A plain path: escape what a URI would read as syntax.
	p := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(dsn)
	return "file:" + p + "?" + params
}

// Close closes the connection pool.
func (q *Querier) Close() error { return q.db.Close() }

// Check pings the database.
func (q *Querier) Check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, q.timeout)
	defer cancel()
	if err := q.db.PingContext(ctx); err != nil {
		err = fmt.Errorf("cannot reach %s: %w", describe(q.spec), err)
		// A refused login or a missing database does not fix itself.
		if pe := pq.As(err); pe != nil && (pe.Code.Class() == "28" || pe.Code == "3D000") {
			err = collectors.Permanent(err)
		}
		return q.sanitize(err)
	}
	return nil
}

// Fingerprint is the query text.
func (q *Querier) Fingerprint(kr *config.KeyResult) string { return kr.Query }

// Query runs the key result's query in a read-only transaction.
func (q *Querier) Query(ctx context.Context, b collectors.Binding, _ time.Time) (float64, error) {
	v, err := q.query(ctx, b.KeyResult.Query)
	return v, q.sanitize(err)
}

// query runs one statement and checks the shape of its answer.
func (q *Querier) query(ctx context.Context, query string) (float64, error) {
	// The client-side deadline is a little longer than the server's
	// statement timeout, so that PostgreSQL's own, clearer error wins when
	// both fire; it still bounds a network that hangs.
	deadline := q.timeout
	if q.spec.Driver == DriverPostgres {
		deadline += 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	tx, err := q.db.BeginTx(ctx, &stdsql.TxOptions{ReadOnly: q.spec.Driver == DriverPostgres})
	if err != nil {
		return 0, q.timeoutOr(ctx, fmt.Errorf("cannot start a read-only transaction on %s: %w", describe(q.spec), err))
	}
	// Nothing is ever committed: the transaction only reads.
	defer func() { _ = tx.Rollback() }()
	if q.spec.Driver == DriverPostgres {
		// SET takes no bind parameters; the value is an integer we format.
		if _, err := tx.ExecContext(ctx, "SET LOCAL statement_timeout = "+strconv.FormatInt(q.timeout.Milliseconds(), 10)); err != nil {
			return 0, q.timeoutOr(ctx, fmt.Errorf("cannot set the statement timeout: %w", err))
		}
	}
	rows, err := tx.QueryContext(ctx, query)
	if err != nil {
		return 0, q.classify(ctx, err)
	}
	defer rows.Close()
	cols, err := rows.ColumnTypes()
	if err != nil {
		return 0, q.classify(ctx, err)
	}
	if len(cols) != 1 {
		names := make([]string, len(cols))
		for i, c := range cols {
			names[i] = strconv.Quote(c.Name())
		}
		return 0, collectors.Permanent(fmt.Errorf("query returned %d columns (%s), want exactly 1", len(cols), strings.Join(names, ", ")))
	}
	col := cols[0]
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return 0, q.classify(ctx, err)
		}
		return 0, errors.New("query returned no row, want exactly 1")
	}
	var raw any
	if err := rows.Scan(&raw); err != nil {
		return 0, q.classify(ctx, err)
	}
	if rows.Next() {
		// Count a few more rows for the message, without reading a huge
		// result to the end.
		n := 2
		for n < 100 && rows.Next() {
			n++
		}
		more := ""
		if n == 100 && rows.Next() {
			more = " or more"
		}
		return 0, fmt.Errorf("query returned %d%s rows, want exactly 1", n, more)
	}
	if err := rows.Err(); err != nil {
		return 0, q.classify(ctx, err)
	}
	return number(raw, col)
}

// number converts the single value of the answer, refusing anything that
// is not a finite number.
func number(raw any, col *stdsql.ColumnType) (float64, error) {
	name := strconv.Quote(col.Name())
	typ := col.DatabaseTypeName()
	var v float64
	switch x := raw.(type) {
	case nil:
		return 0, fmt.Errorf("query returned NULL in column %s, want a number", name)
	case int64:
		v = float64(x)
	case float64:
		v = x
	case []byte:
		// lib/pq returns NUMERIC (and DECIMAL) as its text form.
		if typ != "NUMERIC" && typ != "DECIMAL" {
			return 0, collectors.Permanent(fmt.Errorf("query returned a %s value in column %s, want a number", typeName(typ, "binary"), name))
		}
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return 0, fmt.Errorf("query returned the NUMERIC %q in column %s, which is not a float64", string(x), name)
		}
		v = f
	case string:
		// Text is refused even when it reads as a number: a query that
		// returns text is a query whose type nobody checked.
		return 0, collectors.Permanent(fmt.Errorf("query returned a %s value in column %s, want a number (cast it in the query, e.g. ::numeric or CAST(... AS REAL))", typeName(typ, "text"), name))
	case bool:
		return 0, collectors.Permanent(fmt.Errorf("query returned a boolean in column %s, want a number (e.g. CASE WHEN ... THEN 1 ELSE 0 END)", name))
	case time.Time:
		return 0, collectors.Permanent(fmt.Errorf("query returned a %s value in column %s, want a number (e.g. extract(epoch from ...))", typeName(typ, "time"), name))
	default:
		return 0, collectors.Permanent(fmt.Errorf("query returned a %T in column %s, want a number", raw, name))
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("query returned %v in column %s, want a finite number", v, name)
	}
	return v, nil
}

func typeName(dbType, fallback string) string {
	if dbType == "" {
		return fallback
	}
	return dbType
}

// classify turns a query error into one that says what happened: the
// statement timeout, a write refused by the read-only transaction, or the
// database's message. Errors in the query itself (syntax, unknown table,
// permissions) are permanent.
func (q *Querier) classify(ctx context.Context, err error) error {
	var pe *pq.Error
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "57014": // query_canceled, raised by statement_timeout
			return fmt.Errorf("query exceeded statement_timeout (%s): %s", q.spec.StatementTimeout, pe.Message)
		case pe.Code == "25006": // read_only_sql_transaction
			return collectors.Permanent(fmt.Errorf("query tried to write, which a sql source never does (the transaction is read-only): %s", pe.Message))
		case pe.Code.Class() == "42": // syntax error or access rule violation
			return collectors.Permanent(fmt.Errorf("query rejected by PostgreSQL: %s", pgMessage(pe)))
		}
		return fmt.Errorf("query failed: %s", pgMessage(pe))
	}
	if q.spec.Driver == DriverSQLite {
		msg := err.Error()
		switch {
		case strings.Contains(msg, "attempt to write a readonly database") || strings.Contains(msg, "SQLITE_READONLY"):
			return collectors.Permanent(fmt.Errorf("query tried to write, which a sql source never does (the database is opened read-only): %v", err))
		case strings.Contains(msg, "syntax error") || strings.Contains(msg, "no such table") || strings.Contains(msg, "no such column") || strings.Contains(msg, "no such function"):
			return collectors.Permanent(fmt.Errorf("query rejected by SQLite: %v", err))
		}
	}
	return q.timeoutOr(ctx, fmt.Errorf("query failed: %w", err))
}

// timeoutOr reports a client-side deadline as the statement timeout.
func (q *Querier) timeoutOr(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("query exceeded statement_timeout (%s)", q.spec.StatementTimeout)
	}
	return err
}

func pgMessage(pe *pq.Error) string {
	msg := pe.Message
	if pe.Detail != "" {
		msg += " (" + pe.Detail + ")"
	}
	if pe.Hint != "" {
		msg += "; hint: " + pe.Hint
	}
	return msg + " [SQLSTATE " + string(pe.Code) + "]"
}

// sanitize masks the DSN's password in err, keeping its permanence.
func (q *Querier) sanitize(err error) error {
	if err == nil || len(q.hide) == 0 {
		return err
	}
	red := dsnredact.Error(err, q.hide)
	if red == err {
		return err
	}
	if collectors.IsPermanent(err) {
		return collectors.Permanent(red)
	}
	return red
}
