package sql

import (
	"context"
	stdsql "database/sql"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lib/pq"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
)

// withQuery returns bs with the key result's query replaced by query, as
// if the configuration's validation (which refuses most of the queries
// below) had let it through: the tests prove what the layers behind it
// refuse.
func withQuery(bs []collectors.Binding, query string) []collectors.Binding {
	kr := *bs[0].KeyResult
	kr.Query = query
	return []collectors.Binding{{Objective: bs[0].Objective, KeyResult: &kr}}
}

const krPrefix = `source "warehouse": key result growth/activation: `

// pgState is what a query must not change: the rows of the table, the
// relations of the schema and the large objects of the database.
func pgState(t *testing.T, admin *stdsql.DB, schema string) string {
	t.Helper()
	var rows, sum, rels, los int
	err := admin.QueryRow(`select (select count(*) from `+schema+`.weekly_activation),
		(select coalesce(sum(activated), 0) from `+schema+`.weekly_activation),
		(select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1),
		(select count(*) from pg_largeobject_metadata)`, schema).Scan(&rows, &sum, &rels, &los)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join([]string{itoa(rows) + " rows", "activated " + itoa(sum), itoa(rels) + " relations", itoa(los) + " large objects"}, ", ")
}

func itoa(n int) string { return strconv.Itoa(n) }

// attack is a query that tries to do more than read, and what the
// source answers.
type attack struct {
	name, dsn, query string
	// history is the attack as a history_query (with :at in it). Empty:
	// the query followed by "; select :at", which the checks of the text
	// or the database refuse as a whole (err is then that refusal).
	history string
	err     string  // the error after the source's and key result's names
	want    float64 // when the query succeeds (and changes nothing)
}

const (
	pgNotAQuery = `query must be a single SELECT (or WITH, VALUES, TABLE) statement, not `
	pgSeveral   = `query must be a single statement: PostgreSQL refused several (cannot insert multiple commands into a prepared statement)`
)

// historyForm returns the attack as a history_query and the error it
// meets.
func (a attack) historyForm(notAQuery, several string) (string, string) {
	if a.history != "" {
		return a.history, a.err
	}
	if strings.HasPrefix(a.err, notAQuery) {
		return a.query + "; select :at", a.err
	}
	return a.query + "; select :at", several
}

// pgAttacks are the attacks on a PostgreSQL source over schema, whose
// server would create marker if a query reached a shell.
func pgAttacks(dsn, schema, marker string) []attack {
	tbl := schema + ".weekly_activation"
	const notAQuery = pgNotAQuery
	const several = pgSeveral
	const wrote = `query tried to write, which a sql source never does (the transaction is read-only): `
	const timedOut = `query exceeded statement_timeout (1s): canceling statement due to statement timeout`
	return []attack{
		// Statements that are not a query never reach the server.
		{name: "a COMMIT that ends the read-only transaction is refused", query: `commit; delete from ` + tbl + `; select 1::float8`,
			err: notAQuery + `COMMIT: a sql source only reads`},
		{name: "SET TRANSACTION READ WRITE is refused", query: `set transaction read write; delete from ` + tbl + `; select 1::float8`,
			err: notAQuery + `SET: a sql source only reads`},
		{name: "SET SESSION CHARACTERISTICS is refused", query: `set session characteristics as transaction read write`,
			err: notAQuery + `SET: a sql source only reads`},
		{name: "SET default_transaction_read_only is refused", query: `set default_transaction_read_only = off`,
			err: notAQuery + `SET: a sql source only reads`},
		{name: "RESET default_transaction_read_only is refused", query: `reset default_transaction_read_only`,
			err: notAQuery + `RESET: a sql source only reads`},
		{name: "comments before a COMMIT do not hide it", query: "/* weekly */ -- report\n  commit; delete from " + tbl,
			err: notAQuery + `COMMIT: a sql source only reads`},
		{name: "COPY TO PROGRAM is refused", query: `copy (select 1) to program 'touch ` + marker + `'`,
			err: notAQuery + `COPY: a sql source only reads`},
		{name: "a COPY that only lib/pq sees behind a nested comment is refused", query: `/* /* */ copy */ select 1; commit; set transaction read write; delete from ` + tbl,
			err: notAQuery + `COPY: a sql source only reads`},
		{name: "a DO block is refused", query: `do $$ begin delete from ` + tbl + `; end $$`,
			err: notAQuery + `DO: a sql source only reads`},
		{name: "CREATE TEMP TABLE is refused", query: `create temp table x as select 1`,
			err: notAQuery + `CREATE: a sql source only reads`},
		{name: "VACUUM is refused", query: `vacuum ` + tbl,
			err: notAQuery + `VACUUM: a sql source only reads`},
		{name: "EXPLAIN ANALYZE, which runs its statement, is refused", query: `explain analyze delete from ` + tbl,
			err: notAQuery + `EXPLAIN: a sql source only reads`},

		// Several statements behind a SELECT: the extended protocol takes one.
		{name: "a DELETE after a SELECT is refused by the extended protocol", query: `select 1; delete from ` + tbl + `; select 1::float8`,
			err: several},
		{name: "a COMMIT after the value is refused", query: `select 1::float8; commit`,
			err: several},
		{name: "a semicolon in a string does not hide the next statement", query: `select length(';')::float8; commit; delete from ` + tbl,
			err: several},
		{name: "a semicolon in a dollar-quoted string does not hide the next statement", query: `select length($$;$$)::float8; commit; delete from ` + tbl,
			err: several},
		{name: "a semicolon in a comment does not hide the next statement", query: `select 1::float8 /* ; */ ; commit; delete from ` + tbl,
			err: several},
		{name: "binary_parameters in the DSN does not change the protocol", dsn: dsn + "&binary_parameters=yes", query: `select 1; delete from ` + tbl + `; select 1::float8`,
			err: several},

		// One statement that writes: the read-only transaction refuses it.
		// PostgreSQL names the statement (a SELECT), not its CTE.
		{name: "a writable CTE is refused by the read-only transaction", query: `with gone as (delete from ` + tbl + ` returning 1) select count(*) from gone`,
			history: `with gone as (delete from ` + tbl + ` where :at is not null returning 1) select count(*) from gone`,
			err:     wrote + `cannot execute SELECT in a read-only transaction`},
		{name: "WITH ... DELETE is refused by the read-only transaction", query: `with x as (select 1) delete from ` + tbl,
			history: `with x as (select :at) delete from ` + tbl,
			err:     wrote + `cannot execute DELETE in a read-only transaction`},
		{name: "SELECT INTO is refused by the read-only transaction", query: `select 1 as n into ` + schema + `.copied`,
			history: `select :at as n into ` + schema + `.copied`,
			err:     wrote + `cannot execute SELECT INTO in a read-only transaction`},
		{name: "SELECT FOR UPDATE is refused by the read-only transaction", query: `select count(*) from (select 1 from ` + tbl + ` for update) locked`,
			history: `select count(*) from (select 1 from ` + tbl + ` where :at is not null for update) locked`,
			err:     wrote + `cannot execute SELECT FOR UPDATE in a read-only transaction`},
		{name: "a transaction cannot be made read-write from inside the query", query: `select length(set_config('transaction_read_only', 'off', true))`,
			history: `select length(set_config('transaction_read_only', 'off', true)) where :at is not null`,
			err:     `query failed: transaction read-write mode must be set before any query [SQLSTATE 25001]`},
		{name: "a role the source's role cannot become is refused", query: `select length(set_config('role', 'postgres', true))`,
			history: `select length(set_config('role', 'postgres', true)) where :at is not null`,
			err:     `query rejected by PostgreSQL: permission denied to set role "postgres" [SQLSTATE 42501]`},
		{name: "lo_import, which writes a large object, is refused", query: `select lo_import('/etc/hostname')::int8`,
			history: `select lo_import('/etc/hostname')::int8 where :at is not null`,
			err:     `query rejected by PostgreSQL: permission denied for function lo_import [SQLSTATE 42501]`},
		{name: "lo_export, which writes a file on the server, is refused", query: `select lo_export(0, '` + marker + `')`,
			history: `select lo_export(0, '` + marker + `') where :at is not null`,
			err:     `query rejected by PostgreSQL: permission denied for function lo_export [SQLSTATE 42501]`},

		// Settings a query changes end with its transaction.
		{name: "a session setting made read-write ends with the transaction", query: `select length(set_config('default_transaction_read_only', 'off', false))`,
			history: `select length(set_config('default_transaction_read_only', 'off', false)) where :at is not null`, want: 3},
		{name: "a session statement timeout removed ends with the transaction", query: `select length(set_config('statement_timeout', '0', false))`,
			history: `select length(set_config('statement_timeout', '0', false)) where :at is not null`, want: 1},

		// The statement timeout stops a query, even one that turns it off.
		{name: "pg_sleep beyond the statement timeout is cancelled", query: `select 1::float8 from pg_sleep(30)`,
			history: `select 1::float8 from pg_sleep(30) where :at is not null`, err: timedOut},
		{name: "a query that turns the statement timeout off is still cancelled",
			query:   `select case when set_config('statement_timeout', '0', true) = '0' then (select 1::float8 from pg_sleep(30)) end`,
			history: `select case when set_config('statement_timeout', '0', true) = '0' and :at is not null then (select 1::float8 from pg_sleep(30)) end`,
			err:     timedOut},
	}
}

func TestPostgresQueriesCannotWriteWhateverTheirText(t *testing.T) {
	dsn, schema := pgWarehouse(t)
	admin, _ := pgAdmin(t)
	tbl := schema + ".weekly_activation"
	// A file the server would create if a query reached a shell.
	marker := filepath.Join(os.TempDir(), schema+".marker")
	t.Cleanup(func() { os.Remove(marker) })
	before := pgState(t, admin, schema)
	if !strings.HasPrefix(before, "3 rows, activated 107, 3 relations, ") {
		t.Fatalf("unexpected start state %s", before)
	}
	for _, tc := range pgAttacks(dsn, schema, marker) {
		t.Run(tc.name, func(t *testing.T) {
			srcDSN := dsn
			if tc.dsn != "" {
				srcDSN = tc.dsn
			}
			// One connection: every poll below reuses the session the
			// attack ran in, unless the driver discarded it.
			src, bs := load(t, sourceDoc(`driver = "postgres"
dsn = "`+srcDSN+`"
statement_timeout = "1s"
max_open_conns = 1`, `select 1`))
			got, err := measureOnce(t, src, withQuery(bs, tc.query))
			if tc.err == "" {
				if err != nil || got != tc.want {
					t.Errorf("got %v, %v; want %v", got, err, tc.want)
				}
			} else if err == nil || err.Error() != krPrefix+tc.err {
				t.Errorf("got %v, %v\nwant error %q", got, err, krPrefix+tc.err)
			}
			if after := pgState(t, admin, schema); after != before {
				t.Errorf("the query changed the database: %s, before %s", after, before)
			}
			if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the query reached a shell or wrote a file: %v", err)
			}
			// The next poll works, in a session that is still read-only
			// with the configured statement timeout.
			check := withQuery(bs, `select (current_setting('default_transaction_read_only') = 'on'
				and current_setting('transaction_read_only') = 'on'
				and current_setting('statement_timeout') = '1s')::int * count(*) from `+tbl)
			if got, err := measureOnce(t, src, check); err != nil || got != 3 {
				t.Errorf("the next poll: got %v, %v; want 3 (a read-only session, statement_timeout 1s, 3 rows)", got, err)
			}
		})
	}
}

func TestPostgresSessionIsReadOnlyWithTheStatementTimeoutWhateverTheDSNSays(t *testing.T) {
	dsn, _ := pgWarehouse(t)
	// A DSN may carry settings of its own, as parameters or as options:
	// the source's win.
	src, bs := load(t, sourceDoc(`driver = "postgres"
dsn = "`+dsn+`&default_transaction_read_only=off&statement_timeout=0&options=-c%20default_transaction_read_only%3Doff%20-c%20statement_timeout%3D0"
statement_timeout = "1500ms"
max_open_conns = 1`, `select 1`))
	// reset_val is the value the session started with, which the
	// transaction's own statement timeout does not show.
	got, err := measureOnce(t, src, withQuery(bs, `select count(*) from pg_settings
		where name = 'default_transaction_read_only' and reset_val = 'on'
		   or name = 'statement_timeout' and reset_val = '1500'`))
	if err != nil || got != 2 {
		t.Fatalf("got %v, %v; want 2 (the session started with default_transaction_read_only on, statement_timeout 1500 ms)", got, err)
	}
}

func TestPostgresRefusesARoleThatCanWriteDespiteAReadOnlyTransaction(t *testing.T) {
	dsn, schema := pgWarehouse(t)
	admin, adminDSN := pgAdmin(t)
	var adminRole string
	if err := admin.QueryRow(`select current_user`).Scan(&adminRole); err != nil {
		t.Fatal(err)
	}
	member, replicator, exporter := schema+"_member", schema+"_repl", schema+"_export"
	for _, stmt := range []string{
		`create role ` + member + ` login in role ` + pq.QuoteIdentifier(adminRole),
		`create role ` + replicator + ` login replication`,
		`create role ` + exporter + ` login`,
		`grant execute on function lo_export(oid, text) to ` + exporter,
	} {
		if _, err := admin.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	t.Cleanup(func() {
		for _, r := range []string{member, replicator, exporter} {
			_, _ = admin.Exec(`drop owned by ` + r)
			_, _ = admin.Exec(`drop role ` + r)
		}
	})
	// A large object the superuser could write into a file on the server.
	var lo int64
	if err := admin.QueryRow(`select lo_from_bytea(0, 'written by a query')`).Scan(&lo); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = admin.Exec(`select lo_unlink($1)`, lo) })
	marker := filepath.Join(os.TempDir(), schema+".lo")
	t.Cleanup(func() { os.Remove(marker) })

	const advice = `; a read-only transaction does not stop such a role from writing on the server (lo_export, replication slots): connect as a role that may only read`
	for _, tc := range []struct{ name, dsn, err string }{
		{"a superuser is refused", adminDSN,
			`refusing to query as role "` + adminRole + `": it is a superuser` + advice},
		{"a role that can become a superuser is refused", pgAs(t, dsn, member),
			`refusing to query as role "` + member + `": it can become the superuser "` + adminRole + `"` + advice},
		{"a replication role is refused", pgAs(t, dsn, replicator),
			`refusing to query as role "` + replicator + `": it has REPLICATION` + advice},
		{"a role that may run lo_export is refused", pgAs(t, dsn, exporter),
			`refusing to query as role "` + exporter + `": it may run lo_export()` + advice},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, bs := load(t, sourceDoc(`driver = "postgres"
dsn = "`+tc.dsn+`"
max_open_conns = 1`, `select 1`))
			// The first poll, before any key result is known, checks the
			// role too.
			err := src.Poll(context.Background())
			if err == nil || err.Error() != tc.err || !collectors.IsPermanent(err) {
				t.Errorf("first poll: %v\nwant the permanent error %q", err, tc.err)
			}
			_, err = measureOnce(t, src, withQuery(bs, `select lo_export(`+itoa(int(lo))+`, '`+marker+`')::float8`))
			if err == nil || err.Error() != krPrefix+tc.err {
				t.Errorf("got %v\nwant %q", err, krPrefix+tc.err)
			}
			if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the query wrote a file on the server: %v", err)
			}
		})
	}
}

// sqliteFiles lists the files of dir.
func sqliteFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}

func sqliteRows(t *testing.T, path string) string {
	t.Helper()
	db, err := stdsql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n, sum, files int
	if err := db.QueryRow(`select (select count(*) from weekly_activation), (select sum(activated) from weekly_activation), (select count(*) from files)`).Scan(&n, &sum, &files); err != nil {
		t.Fatal(err)
	}
	return itoa(n) + " rows, activated " + itoa(sum) + ", " + itoa(files) + " files"
}

const (
	sqliteNotAQuery = `query must be a single SELECT (or WITH, VALUES) statement, not `
	sqliteSeveral   = `query must be a single statement: something follows its ";"`
)

// sqliteAttacks are the attacks on a SQLite source whose file is in dir.
func sqliteAttacks(dir string) []attack {
	other := filepath.Join(dir, "other.db")
	const notAQuery = sqliteNotAQuery
	const several = sqliteSeveral
	const refused = `query tried to do more than read, which a sql source never does: `
	return []attack{
		{name: "ATTACH, which creates a file, is refused", query: `attach database '` + other + `' as a`,
			err: notAQuery + `ATTACH: a sql source only reads`},
		{name: "ATTACH after a SELECT is refused", query: `select 1; attach database '` + other + `' as a`, err: several},
		{name: "a semicolon in a string does not hide the next statement", query: `select ';'; attach database '` + other + `' as a`, err: several},
		{name: "a semicolon in a comment does not hide the next statement", query: `select 1 /* ; */ ; attach database '` + other + `' as a`, err: several},
		{name: "a semicolon in a quoted name does not hide the next statement", query: `select "a;b", [c;d], ` + "`e;f`" + ` from x; attach database '` + other + `' as a`, err: several},
		{name: "a COMMIT after the value is refused", query: `select count(*) from weekly_activation; commit`, err: several},
		{name: "DETACH is refused", query: `detach database main`, err: notAQuery + `DETACH: a sql source only reads`},
		{name: "PRAGMA query_only = 0 is refused", query: `pragma query_only = 0`, err: notAQuery + `PRAGMA: a sql source only reads`},
		{name: "VACUUM INTO, which creates a file, is refused", query: `vacuum into '` + other + `'`, err: notAQuery + `VACUUM: a sql source only reads`},
		{name: "BEGIN is refused", query: `begin immediate`, err: notAQuery + `BEGIN: a sql source only reads`},
		{name: "a DELETE is refused", query: `delete from weekly_activation returning 1`, err: notAQuery + `DELETE: a sql source only reads`},
		{name: "WITH ... DELETE is refused by the connection", query: `with x as (select 1) delete from weekly_activation returning 1`,
			history: `with x as (select :at) delete from weekly_activation returning 1`,
			err:     refused + `authorization denied: not authorized (23)`},
		{name: "WITH ... INSERT is refused by the connection", query: `with x as (select 1) insert into files values ('b', x'00') returning 1`,
			history: `with x as (select :at) insert into files values ('b', x'00') returning 1`,
			err:     refused + `authorization denied: not authorized (23)`},
		{name: "load_extension is refused by the connection", query: `select load_extension('` + filepath.Join(dir, "evil") + `')`,
			history: `select load_extension(:at)`,
			err:     refused + `SQL logic error: not authorized to use function: load_extension (1)`},
	}
}

func TestSQLiteQueriesCannotWriteOrAttachWhateverTheirText(t *testing.T) {
	path := warehouse(t)
	dir := filepath.Dir(path)
	for _, tc := range sqliteAttacks(dir) {
		t.Run(tc.name, func(t *testing.T) {
			src, bs := load(t, sourceDoc(`driver = "sqlite"
dsn = "`+path+`"
max_open_conns = 1`, `select 1`))
			_, err := measureOnce(t, src, withQuery(bs, tc.query))
			if err == nil || err.Error() != krPrefix+tc.err {
				t.Errorf("got %v\nwant error %q", err, krPrefix+tc.err)
			}
			if files := sqliteFiles(t, dir); !slices.Equal(files, []string{"warehouse.db"}) {
				t.Errorf("files after the query: %v, want only warehouse.db", files)
			}
			if got := sqliteRows(t, path); got != "3 rows, activated 107, 1 files" {
				t.Errorf("the query changed the database: %s", got)
			}
			// The next poll works on the same connection, with nothing
			// attached.
			if got, err := measureOnce(t, src, withQuery(bs, `select count(*) * (select count(*) from weekly_activation) from pragma_database_list`)); err != nil || got != 3 {
				t.Errorf("the next poll: got %v, %v; want 3 (one database, 3 rows)", got, err)
			}
		})
	}
}

// TestSQLiteConnectionsRefuseWhatIsNotAQueryWhateverTheStatement runs
// statements on the source's connections directly, past the checks of the
// query text: the connection itself refuses them.
func TestSQLiteConnectionsRefuseWhatIsNotAQueryWhateverTheStatement(t *testing.T) {
	path := warehouse(t)
	dir := filepath.Dir(path)
	other := filepath.Join(dir, "other.db")
	spec := &Spec{}
	spec.Defaults()
	spec.Driver, spec.DSN, spec.MaxOpenConns = DriverSQLite, config.Secret(path), 1
	q, err := Open("warehouse", spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	ctx := context.Background()
	for _, stmt := range []string{
		`attach database '` + other + `' as a`,
		`select 1; attach database '` + other + `' as b`,
		`vacuum into '` + other + `'`,
		`vacuum`,
		`pragma query_only = 0`,
		`pragma journal_mode = wal`,
		`pragma writable_schema = on`,
		`begin immediate`,
		`savepoint s`,
		`create temp table t (x)`,
		`create table t (x)`,
		`insert into weekly_activation values ('2027-W01', 1, 1)`,
		`update weekly_activation set activated = 0`,
		`delete from weekly_activation`,
		`drop table files`,
		`analyze`,
		`reindex`,
		`select load_extension('` + filepath.Join(dir, "evil") + `')`,
	} {
		if _, err := q.db.ExecContext(ctx, stmt); err == nil {
			t.Errorf("%s: no error", stmt)
		}
	}
	if files := sqliteFiles(t, dir); !slices.Equal(files, []string{"warehouse.db"}) {
		t.Errorf("files: %v, want only warehouse.db", files)
	}
	if got := sqliteRows(t, path); got != "3 rows, activated 107, 1 files" {
		t.Errorf("the database changed: %s", got)
	}
	// The one connection is still read-only, with nothing attached.
	var dbs, queryOnly int
	if err := q.db.QueryRowContext(ctx, `select (select count(*) from pragma_database_list), (select query_only from pragma_query_only)`).Scan(&dbs, &queryOnly); err != nil || dbs != 1 || queryOnly != 1 {
		t.Errorf("databases %d, query_only %d, %v; want 1 and 1", dbs, queryOnly, err)
	}
}

func TestSQLiteDSNSettingsDoNotMakeTheConnectionWritable(t *testing.T) {
	path := warehouse(t)
	for _, tc := range []struct{ name, dsn string }{
		{"mode=rwc", "file:" + path + "?mode=rwc"},
		{"_query_only=0", "file:" + path + "?_query_only=0"},
		{"_pragma=query_only(0)", "file:" + path + "?_pragma=query_only(0)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, bs := load(t, sourceDoc(`driver = "sqlite"
dsn = "`+tc.dsn+`"
max_open_conns = 1`, `select 1`))
			_, err := measureOnce(t, src, withQuery(bs, `with x as (select 1) delete from weekly_activation returning 1`))
			if err == nil || !strings.Contains(err.Error(), "query tried to do more than read") {
				t.Errorf("got %v", err)
			}
			if got, err := measureOnce(t, src, withQuery(bs, `select query_only from pragma_query_only`)); err != nil || got != 1 {
				t.Errorf("query_only: %v, %v; want 1", got, err)
			}
			if got := sqliteRows(t, path); got != "3 rows, activated 107, 1 files" {
				t.Errorf("the database changed: %s", got)
			}
		})
	}
}

func TestSQLitePragmasThatOnlyReadAreValues(t *testing.T) {
	path := warehouse(t)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		query string
		want  float64
	}{
		// The example of docs/sources/sql.md: the size of the file.
		{`select page_count * page_size from pragma_page_count(), pragma_page_size()`, float64(fi.Size())},
		{`select count(*) from pragma_table_info('weekly_activation')`, 3},
		{`select count(*) from pragma_index_list('weekly_activation')`, 1},
	} {
		src, bs := load(t, sourceDoc(`driver = "sqlite"
dsn = "`+path+`"`, tc.query))
		if got, err := measureOnce(t, src, bs); err != nil || got != tc.want {
			t.Errorf("%s: got %v, %v; want %v", tc.query, got, err, tc.want)
		}
	}
}
