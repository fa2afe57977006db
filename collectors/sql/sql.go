// Package sql owns the "sql" source type: key results whose values come
// from a query against a SQL warehouse, PostgreSQL (lib/pq) or SQLite.
//
// A query comes from configuration and is treated as hostile: it must be
// one statement that only reads, and several layers see to it (see
// statement.go and docs/sources/sql.md). PostgreSQL: the text must start
// as a query; it is prepared, so it goes through the extended protocol,
// which takes one statement; in a session started read-only with the
// statement timeout; in its own BEGIN READ ONLY transaction, always rolled
// back, with the timeout set again locally; as a role that cannot write
// past a read-only transaction (no superuser). SQLite: the text must be
// one query; the file is opened read-only (mode=ro, query_only) and an
// authorizer lets a connection do nothing but read (no ATTACH, no pragma
// that sets, no write, no transaction).
//
// Each query must return exactly one row with one numeric column. Every
// other answer (no row, several rows, several columns, NULL, text, a
// boolean, a date, NaN) is an error with its own message, never a zero.
// The DSN's password appears in no log line and no error. The queries run
// in Poll (see collectors/internal/livequery), so a failing query marks
// the source down and keeps the last good value. A key result's optional
// history_query, which takes the instant as the bind parameter :at,
// fills in its past values (statement.go, bindInstant).
package sql

import (
	"context"
	stdsql "database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"
	"modernc.org/sqlite"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/collectors/internal/livequery"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/internal/dsnredact"
)

func init() {
	config.RegisterSourceType("sql", config.SourceType{
		NewSpec:           func() any { return &Spec{} },
		ValidateKeyResult: validateKeyResult,
		KeyResultKeys:     []string{"history_query"},
	})
	collectors.Register("sql", func(src *config.Source, deps collectors.Deps) (collectors.Source, error) {
		q, err := Open(src.Name, src.Spec.(*Spec), deps.Logger)
		if err != nil {
			return nil, err
		}
		return livequery.New(q, livequery.Options{Name: src.Name, Concurrency: q.spec.MaxOpenConns, Now: deps.Now, Logger: deps.Logger}), nil
	})
}

// Querier runs key result queries against one database, and their
// history queries. It implements livequery.HistoryQuerier.
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
		pgSessionSettings(&cfg, q.timeout)
		connector, err := pq.NewConnectorConfig(cfg)
		if err != nil {
			return nil, fmt.Errorf("source %q: invalid PostgreSQL DSN: %w", name, dsnredact.Error(err, q.hide))
		}
		q.db = stdsql.OpenDB(connector)
	case DriverSQLite:
		q.db = stdsql.OpenDB(sqliteConnector{dsn: sqliteReadOnlyDSN(spec.DSN.Value())})
	default:
		return nil, fmt.Errorf("source %q: unknown driver %q", name, spec.Driver)
	}
	q.db.SetMaxOpenConns(spec.MaxOpenConns)
	q.db.SetMaxIdleConns(spec.MaxIdleConns)
	q.db.SetConnMaxLifetime(spec.ConnMaxLifetime.Duration())
	return q, nil
}

// pgSessionSettings makes every session of the pool read-only by default,
// with the statement timeout, from its start: they are startup parameters,
// which the session applies after the DSN's own options, so that a DSN's
// "default_transaction_read_only=off" or "options=-c ..." cannot undo them.
// A query cannot undo them either: a SET it makes ends with its
// transaction, which is always rolled back.
func pgSessionSettings(cfg *pq.Config, timeout time.Duration) {
	settings := map[string]string{
		"default_transaction_read_only": "on",
		"statement_timeout":             strconv.FormatInt(timeout.Milliseconds(), 10),
	}
	rt := make(map[string]string, len(cfg.Runtime)+len(settings))
	for k, v := range cfg.Runtime {
		// Setting names are case-insensitive: drop the DSN's spelling, or
		// the server would get both in no particular order.
		if _, ours := settings[strings.ToLower(k)]; !ours {
			rt[k] = v
		}
	}
	for k, v := range settings {
		rt[k] = v
	}
	cfg.Runtime = rt
}

// sqliteReadOnlyDSN turns a SQLite file name (or file: URI) into a URI
// that opens the file read-only and refuses writes on the connection too:
// mode=ro makes SQLite open the file read-only (and fail rather than
// create a missing one; SQLite lets a later mode only narrow an earlier
// one, so a DSN's own mode=rwc cannot widen it), query_only rejects any
// statement that would change a database, busy_timeout waits for a
// writer's lock instead of failing at once.
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

// sqliteReader is the SQLite driver of sql sources: its own instance, so
// that its connection hook reaches only their connections, not okrd's
// store. The hook runs after every DSN parameter of a new connection: it
// sets query_only again (a DSN's _query_only=0 or _pragma=query_only(0)
// would otherwise win) and installs the authorizer, which SQLite consults
// for every statement the connection compiles.
var sqliteReader = func() *sqlite.Driver {
	d := &sqlite.Driver{}
	d.RegisterConnectionHook(func(c sqlite.ExecQuerierContext, _ string) error {
		if _, err := c.ExecContext(context.Background(), "PRAGMA query_only = 1", nil); err != nil {
			return err
		}
		r, ok := c.(sqlite.AuthorizerRegisterer)
		if !ok {
			return errors.New("the SQLite driver offers no authorizer")
		}
		return r.RegisterAuthorizer(sqliteAuthorize)
	})
	return d
}()

// sqliteConnector opens connections with sqliteReader.
type sqliteConnector struct{ dsn string }

func (c sqliteConnector) Connect(ctx context.Context) (driver.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return sqliteReader.Open(c.dsn)
}

func (c sqliteConnector) Driver() driver.Driver { return sqliteReader }

// sqliteIntrospection are the pragmas a query may read whatever their
// argument, which names a table, an index or nothing (as table-valued
// functions: select * from pragma_table_info('t')). sqliteReadablePragmas
// may only be read, without an argument (with one, most of them set).
var (
	sqliteIntrospection = map[string]bool{
		"table_info": true, "table_xinfo": true, "table_list": true, "index_list": true,
		"index_info": true, "index_xinfo": true, "foreign_key_list": true, "database_list": true,
		"collation_list": true, "function_list": true, "module_list": true, "pragma_list": true,
		"compile_options": true,
	}
	sqliteReadablePragmas = map[string]bool{
		"page_count": true, "page_size": true, "freelist_count": true, "data_version": true,
		"user_version": true, "application_id": true, "schema_version": true, "encoding": true,
		"query_only": true,
	}
)

// sqliteAuthorize lets a connection read and nothing else: SELECT, reading
// columns, recursive CTEs, functions (but load_extension), reading
// pragmas. Everything else is denied: writes, DDL, ATTACH and DETACH
// (which VACUUM INTO uses too), transactions and savepoints, ANALYZE,
// REINDEX, virtual tables, pragmas that set.
func sqliteAuthorize(action sqlite.AuthorizerActionCode, arg1, arg2, _, _ string) sqlite.AuthorizerReturnCode {
	switch action {
	case sqlite.AuthSelect, sqlite.AuthRead, sqlite.AuthRecursive:
		return sqlite.AuthorizerOK
	case sqlite.AuthFunction:
		if strings.EqualFold(arg2, "load_extension") {
			return sqlite.AuthorizerDeny
		}
		return sqlite.AuthorizerOK
	case sqlite.AuthPragma:
		name := strings.ToLower(arg1)
		if sqliteIntrospection[name] || sqliteReadablePragmas[name] && arg2 == "" {
			return sqlite.AuthorizerOK
		}
	}
	return sqlite.AuthorizerDeny
}

// Close closes the connection pool.
func (q *Querier) Close() error { return q.db.Close() }

// Check checks that the database answers: on PostgreSQL by opening the
// read-only transaction a query runs in (which checks the role too), on
// SQLite with a ping.
func (q *Querier) Check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, q.timeout)
	defer cancel()
	var err error
	if q.spec.Driver == DriverPostgres {
		var tx *stdsql.Tx
		if tx, err = q.pgBegin(ctx); err == nil {
			err = tx.Rollback()
		}
	} else {
		err = q.db.PingContext(ctx)
	}
	if err != nil {
		var re *roleError
		if errors.As(err, &re) {
			return collectors.Permanent(re)
		}
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

// Query runs the key result's query: on PostgreSQL in a read-only
// transaction, on SQLite on a read-only connection.
func (q *Querier) Query(ctx context.Context, b collectors.Binding, _ time.Time) (float64, error) {
	v, err := q.query(ctx, b.KeyResult.Query)
	return v, q.sanitize(err)
}

// CanHistory reports whether kr has a history_query.
func (q *Querier) CanHistory(kr *config.KeyResult) bool {
	return strings.TrimSpace(kr.HistoryQuery) != ""
}

// QueryHistory runs the key result's history_query once per instant, with
// the instant bound to :at (see bindInstant and instantArg), each run as a
// query is (read-only, statement_timeout). An answer without a value (no
// row, NULL, NaN) is no value at that instant; any other error stops the
// request.
func (q *Querier) QueryHistory(ctx context.Context, b collectors.Binding, at []time.Time) ([]livequery.Answer, error) {
	text, err := bindInstant(q.spec.Driver, b.KeyResult.HistoryQuery)
	if err != nil {
		return nil, collectors.Permanent(fmt.Errorf("history_query %v", err))
	}
	out := make([]livequery.Answer, 0, len(at))
	for _, t := range at {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		v, err := q.query(ctx, text, q.instantArg(t))
		if err = q.sanitize(err); err != nil {
			err = fmt.Errorf("history_query at %s: %w", t.Format(time.RFC3339), err)
			if !livequery.IsNoValue(err) {
				return out, err
			}
			out = append(out, livequery.Answer{Err: err})
			continue
		}
		out = append(out, livequery.Answer{OK: true, Value: v})
	}
	return out, nil
}

// sqliteInstantLayout is how an instant is bound on SQLite: the form of
// datetime('now'), in UTC, which SQLite's date and time functions read
// (date(:at), datetime(:at, '-7 days'), unixepoch(:at)) and which
// compares as text with timestamps stored the same way.
const sqliteInstantLayout = "2006-01-02 15:04:05"

// instantArg is the value bound to :at: on PostgreSQL the instant itself
// (a timestamptz), on SQLite its text in UTC, with milliseconds (cut, not
// rounded, as SQLite keeps them) when it has a fraction of a second.
func (q *Querier) instantArg(t time.Time) any {
	if q.spec.Driver == DriverPostgres {
		return t
	}
	t = t.UTC()
	if t.Nanosecond() != 0 {
		return t.Format(sqliteInstantLayout + ".000")
	}
	return t.Format(sqliteInstantLayout)
}

// query runs one statement, with args bound to its parameters, and checks
// the shape of its answer.
func (q *Querier) query(ctx context.Context, query string, args ...any) (float64, error) {
	// The configuration refused such a query already; this is the same
	// check, for a query that reached the source another way.
	if err := checkStatement(q.spec.Driver, query); err != nil {
		return 0, collectors.Permanent(fmt.Errorf("query %v", err))
	}
	// The client-side deadline is a little longer than the server's
	// statement timeout, so that PostgreSQL's own, clearer error wins when
	// both fire; it still bounds a network that hangs.
	deadline := q.timeout
	if q.spec.Driver == DriverPostgres {
		deadline += 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	if q.spec.Driver == DriverSQLite {
		// A single SELECT reads one consistent snapshot on its own; a
		// transaction is one more thing the authorizer would have to allow.
		return q.read(ctx, q.db, query, args...)
	}
	tx, err := q.pgBegin(ctx)
	if err != nil {
		var re *roleError
		if errors.As(err, &re) {
			return 0, collectors.Permanent(re)
		}
		return 0, q.timeoutOr(ctx, fmt.Errorf("cannot start a read-only transaction on %s: %w", describe(q.spec), err))
	}
	// Nothing is ever committed: the transaction only reads, and what a
	// query set in it (set_config) ends with it.
	defer func() { _ = tx.Rollback() }()
	return q.read(ctx, tx, query, args...)
}

// preparer is a *sql.DB or a *sql.Tx.
type preparer interface {
	PrepareContext(ctx context.Context, query string) (*stdsql.Stmt, error)
}

// read prepares query and reads its answer. On PostgreSQL preparing is
// what makes it one statement: lib/pq prepares with the extended protocol,
// whose Parse message PostgreSQL refuses with several statements (a query
// without arguments would otherwise go through the simple-query protocol,
// which runs them all), and binds args to the prepared statement.
func (q *Querier) read(ctx context.Context, p preparer, query string, args ...any) (float64, error) {
	stmt, err := p.PrepareContext(ctx, query)
	if err != nil {
		return 0, q.classify(ctx, err)
	}
	defer stmt.Close()
	rows, err := stmt.QueryContext(ctx, args...)
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
		return 0, livequery.NoValue(errors.New("query returned no row, want exactly 1"))
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

// pgSetup is the first statement of every transaction of a PostgreSQL
// source. It sets the statement timeout for the transaction (again: a
// pooler such as PgBouncer may not pass on the session's startup
// parameters) and reads what the role could do past a read-only
// transaction. Being a query, it also takes the transaction's first
// snapshot, after which PostgreSQL no longer lets the transaction become
// read-write. %d is the timeout in milliseconds.
const pgSetup = `select pg_catalog.set_config('statement_timeout', '%d', true),
	current_user::text,
	array(select rolname::text from pg_catalog.pg_roles
	      where rolsuper and pg_catalog.pg_has_role(current_user, oid, 'MEMBER') order by 1),
	array(select rolname::text from pg_catalog.pg_roles
	      where rolreplication and pg_catalog.pg_has_role(current_user, oid, 'MEMBER') order by 1),
	array(select rolname::text from pg_catalog.pg_roles
	      where rolname in ('pg_write_server_files', 'pg_execute_server_program')
	        and pg_catalog.pg_has_role(current_user, oid, 'MEMBER') order by 1),
	coalesce(pg_catalog.has_function_privilege(
	      pg_catalog.to_regprocedure('pg_catalog.lo_export(oid, text)')::oid, 'EXECUTE'), false)`

// pgBegin opens the read-only transaction a query runs in and runs
// pgSetup in it. It refuses, with a *roleError, a role that can write on
// the server despite a read-only transaction: a superuser (lo_export
// writes any file the server may write, replication slots outlive the
// transaction), a role with REPLICATION, a member of the roles that may
// write server files or run programs, or one that may run lo_export; or a
// role that can SET ROLE to one of those (set_config('role', ...) works
// inside a query).
func (q *Querier) pgBegin(ctx context.Context) (*stdsql.Tx, error) {
	tx, err := q.db.BeginTx(ctx, &stdsql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	var (
		timeout, user          string
		supers, repls, writers []string
		loExport               bool
	)
	err = tx.QueryRowContext(ctx, fmt.Sprintf(pgSetup, q.timeout.Milliseconds())).
		Scan(&timeout, &user, pq.Array(&supers), pq.Array(&repls), pq.Array(&writers), &loExport)
	if err != nil {
		_ = tx.Rollback()
		return nil, fmt.Errorf("cannot set the statement timeout and check the role: %w", err)
	}
	if re := newRoleError(user, supers, repls, writers, loExport); re != nil {
		_ = tx.Rollback()
		return nil, re
	}
	return tx, nil
}

// roleError refuses a PostgreSQL role that could write despite a
// read-only transaction.
type roleError struct {
	role    string
	reasons []string
}

func newRoleError(user string, supers, repls, writers []string, loExport bool) *roleError {
	var reasons []string
	switch {
	case slices.Contains(supers, user):
		// A superuser may do everything listed below too.
		return &roleError{role: user, reasons: []string{"it is a superuser"}}
	case len(supers) > 0:
		return &roleError{role: user, reasons: []string{"it can become the superuser " + quoteList(supers)}}
	}
	switch {
	case slices.Contains(repls, user):
		reasons = append(reasons, "it has REPLICATION")
	case len(repls) > 0:
		reasons = append(reasons, "it can become "+quoteList(repls)+", which has REPLICATION")
	}
	if len(writers) > 0 {
		reasons = append(reasons, "it is a member of "+strings.Join(writers, " and "))
	}
	if loExport {
		reasons = append(reasons, "it may run lo_export()")
	}
	if len(reasons) == 0 {
		return nil
	}
	return &roleError{role: user, reasons: reasons}
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

func (e *roleError) Error() string {
	return fmt.Sprintf("refusing to query as role %q: %s; a read-only transaction does not stop such a role from writing on the server (lo_export, replication slots): connect as a role that may only read",
		e.role, strings.Join(e.reasons, ", "))
}

// number converts the single value of the answer, refusing anything that
// is not a finite number.
func number(raw any, col *stdsql.ColumnType) (float64, error) {
	name := strconv.Quote(col.Name())
	typ := col.DatabaseTypeName()
	var v float64
	switch x := raw.(type) {
	case nil:
		return 0, livequery.NoValue(fmt.Errorf("query returned NULL in column %s, want a number", name))
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
		return 0, livequery.NoValue(fmt.Errorf("query returned %v in column %s, want a finite number", v, name))
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
		case pe.Code == "42601" && strings.Contains(pe.Message, "multiple commands"):
			// The extended protocol's refusal of several statements.
			return collectors.Permanent(fmt.Errorf("query must be a single statement: PostgreSQL refused several (%s)", pe.Message))
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
		case strings.Contains(msg, "not authorized"):
			// The authorizer's refusal (SQLITE_AUTH).
			return collectors.Permanent(fmt.Errorf("query tried to do more than read, which a sql source never does: %v", err))
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
	if livequery.IsNoValue(err) {
		red = livequery.NoValue(red)
	}
	if collectors.IsPermanent(err) {
		return collectors.Permanent(red)
	}
	return red
}
