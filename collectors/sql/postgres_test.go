package sql

import (
	"bytes"
	"context"
	"crypto/rand"
	stdsql "database/sql"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/internal/dsnredact"
	"github.com/okrd/okrd/internal/testenv"
)

// The PostgreSQL tests need a server: OKRD_TEST_POSTGRES_DSN names it, for
// example postgres://postgres@127.0.0.1:5432/test?sslmode=disable. Without
// it they skip, unless OKRD_REQUIRE_INTEGRATION=1 (CI) makes that a failure.

func skipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	testenv.Unavailable(t, format, args...)
}

// pgWarehouse creates a schema with the tables the tests query and a role
// that may read and write them but is no superuser (okrd refuses one), all
// dropped when the test ends, and returns a DSN of the server as that role
// and the schema name. The role may write on purpose: the tests prove that
// the source does not, whatever the query, not merely that a grant is
// missing.
func pgWarehouse(t *testing.T) (dsn, schema string) {
	t.Helper()
	admin, adminDSN := pgAdmin(t)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema = "okrd_sqlsrc_" + hex.EncodeToString(b)
	for _, stmt := range []string{
		`create schema ` + schema,
		`create sequence ` + schema + `.ids`,
		`create table ` + schema + `.weekly_activation (week text primary key, activated int, signed_up int, revenue numeric(12,2), ok boolean, at timestamptz)`,
		`insert into ` + schema + `.weekly_activation values
		 ('2026-W40', 31, 100, 1234.50, true, '2026-10-05T00:00:00Z'),
		 ('2026-W41', 36, 100, 2000.25, true, '2026-10-12T00:00:00Z'),
		 ('2026-W42', 40, 125, 99999.99, false, '2026-10-19T00:00:00Z')`,
		`create role ` + schema + ` login`,
		`grant usage, create on schema ` + schema + ` to ` + schema,
		`grant all on all tables in schema ` + schema + ` to ` + schema,
		`grant all on all sequences in schema ` + schema + ` to ` + schema,
		`grant temporary on database ` + pq.QuoteIdentifier(pgDatabase(t, admin)) + ` to ` + schema,
	} {
		if _, err := admin.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	t.Cleanup(func() {
		_, _ = admin.Exec(`drop schema ` + schema + ` cascade`)
		_, _ = admin.Exec(`drop owned by ` + schema + ` cascade`)
		_, _ = admin.Exec(`drop role ` + schema)
	})
	return pgAs(t, adminDSN, schema), schema
}

// pgAdmin connects to the server of OKRD_TEST_POSTGRES_DSN as given (a
// superuser that creates schemas and roles); the connection is closed when
// the test ends.
func pgAdmin(t *testing.T) (*stdsql.DB, string) {
	t.Helper()
	dsn := os.Getenv("OKRD_TEST_POSTGRES_DSN")
	if dsn == "" {
		skipOrFail(t, "OKRD_TEST_POSTGRES_DSN is not set; set it to a PostgreSQL server, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable, to run the PostgreSQL tests")
	}
	admin, err := stdsql.Open("postgres", dsn)
	if err != nil {
		t.Fatalf("OKRD_TEST_POSTGRES_DSN is invalid: %v", dsnredact.Error(err, dsnredact.Secrets(dsn, "")))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		skipOrFail(t, "the PostgreSQL server of OKRD_TEST_POSTGRES_DSN is unreachable: %v", dsnredact.Error(err, dsnredact.Secrets(dsn, "")))
	}
	// Cleanups run last-in first-out: registered first, this closes the
	// connection after every cleanup that still uses it.
	t.Cleanup(func() { admin.Close() })
	return admin, dsn
}

// pgAs returns dsn with its user replaced by role (the test server trusts
// local connections).
func pgAs(t *testing.T, dsn, role string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		t.Fatalf("OKRD_TEST_POSTGRES_DSN must be a URL (postgres://...) for these tests: %v", dsnredact.Error(err, dsnredact.Secrets(dsn, "")))
	}
	u.User = url.User(role)
	return u.String()
}

func pgDatabase(t *testing.T, admin *stdsql.DB) string {
	t.Helper()
	var db string
	if err := admin.QueryRow(`select current_database()`).Scan(&db); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestPostgresQueriesReturnOneNumberOrSayWhyNot(t *testing.T) {
	dsn, schema := pgWarehouse(t)
	tbl := schema + ".weekly_activation"
	const prefix = `source "warehouse": key result growth/activation: `
	for _, tc := range []struct {
		name, query string
		want        float64
		err         string
		permanent   bool
	}{
		{name: "a bigint count is the value", query: `select count(*) from ` + tbl, want: 3},
		// 40 / 125 = 0.32
		{name: "a float8 ratio is the value", query: `select activated::float8 / signed_up from ` + tbl + ` order by week desc limit 1`, want: 0.32},
		// 1234.50 + 2000.25 + 99999.99 = 103234.74, returned by lib/pq as the text "103234.74".
		{name: "a numeric sum is parsed from its text form", query: `select sum(revenue) from ` + tbl, want: 103234.74},
		{name: "an int4 is the value", query: `select activated from ` + tbl + ` where week = '2026-W41'`, want: 36},
		{name: "no row is an error, not a zero", query: `select activated from ` + tbl + ` where week = '2027-W01'`,
			err: "query returned no row, want exactly 1"},
		{name: "several rows are counted", query: `select activated from ` + tbl,
			err: "query returned 3 rows, want exactly 1"},
		{name: "more than a hundred rows are not all read", query: `select generate_series(1, 1000)`,
			err: "query returned 100 or more rows, want exactly 1"},
		{name: "several columns are named", query: `select activated, signed_up from ` + tbl + ` limit 1`,
			err: `query returned 2 columns ("activated", "signed_up"), want exactly 1`, permanent: true},
		{name: "NULL is an error, not a zero", query: `select max(activated) from ` + tbl + ` where week = '2027-W01'`,
			err: `query returned NULL in column "max", want a number`},
		{name: "text is refused even when it reads as a number", query: `select '42'::text as n`,
			err: `query returned a TEXT value in column "n", want a number (cast it in the query, e.g. ::numeric or CAST(... AS REAL))`, permanent: true},
		{name: "a boolean is refused", query: `select ok from ` + tbl + ` where week = '2026-W42'`,
			err: `query returned a boolean in column "ok", want a number (e.g. CASE WHEN ... THEN 1 ELSE 0 END)`, permanent: true},
		{name: "a timestamp is refused", query: `select max(at) from ` + tbl,
			err: `query returned a TIMESTAMPTZ value in column "max", want a number (e.g. extract(epoch from ...))`, permanent: true},
		{name: "money text is refused", query: `select 12.5::money as m`,
			err: `query returned a MONEY value in column "m", want a number`, permanent: true},
		{name: "NaN is refused", query: `select 'NaN'::float8 as r`,
			err: `query returned NaN in column "r", want a finite number`},
		{name: "a numeric NaN is refused", query: `select 'NaN'::numeric as r`,
			err: `query returned NaN in column "r", want a finite number`},
		{name: "a syntax error is PostgreSQL's message", query: `select count(* from ` + tbl,
			err: `query rejected by PostgreSQL: syntax error at or near "from" [SQLSTATE 42601]`, permanent: true},
		{name: "an unknown table is PostgreSQL's message", query: `select count(*) from ` + schema + `.signups`,
			err: `query rejected by PostgreSQL: relation "` + schema + `.signups" does not exist [SQLSTATE 42P01]`, permanent: true},
		{name: "a write is refused by the read-only transaction", query: `with x as (select 1) delete from ` + tbl + ` returning 1`,
			err: "query tried to write, which a sql source never does (the transaction is read-only): cannot execute DELETE in a read-only transaction", permanent: true},
		{name: "a function that writes is refused too", query: `select nextval('` + schema + `.ids')`,
			err: "query tried to write, which a sql source never does (the transaction is read-only): cannot execute nextval() in a read-only transaction", permanent: true},
		{name: "a long query stops at the statement timeout", query: `select 1 from pg_sleep(5)`,
			err: "query exceeded statement_timeout (300ms): canceling statement due to statement timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, bs := load(t, sourceDoc(`driver = "postgres"
dsn = "`+dsn+`"
statement_timeout = "300ms"`, tc.query))
			start := time.Now()
			got, err := measureOnce(t, src, bs)
			if tc.err == "" {
				if err != nil || got != tc.want {
					t.Fatalf("got %v, %v; want %v", got, err, tc.want)
				}
				return
			}
			if err == nil || err.Error() != prefix+tc.err {
				t.Fatalf("got %v, %v\nwant error %q", got, err, prefix+tc.err)
			}
			if perm := collectors.IsPermanent(src.Poll(context.Background())); perm != tc.permanent {
				t.Errorf("poll error permanent = %v, want %v", perm, tc.permanent)
			}
			if d := time.Since(start); d > 4*time.Second {
				t.Errorf("took %v: the statement timeout did not stop the query", d)
			}
		})
	}

	// The refused write changed nothing.
	db, _ := stdsql.Open("postgres", dsn)
	defer db.Close()
	var n int
	if err := db.QueryRow(`select count(*) from ` + tbl).Scan(&n); err != nil || n != 3 {
		t.Errorf("rows after the write attempt = %d, %v; want 3", n, err)
	}
}

func TestPostgresTransactionIsReadOnlyWithTheStatementTimeout(t *testing.T) {
	dsn, _ := pgWarehouse(t)
	// What the query sees of its own transaction: read-only, and the
	// statement timeout of the config (300ms), local to the transaction.
	src, bs := load(t, sourceDoc(`driver = "postgres"
dsn = "`+dsn+`"
statement_timeout = "300ms"
max_open_conns = 1`, `select (current_setting('transaction_read_only') = 'on' and current_setting('statement_timeout') = '300ms')::int`))
	got, err := measureOnce(t, src, bs)
	if err != nil || got != 1 {
		t.Fatalf("read-only with statement_timeout 300ms: got %v, %v; want 1", got, err)
	}
	// Without statement_timeout in the config, the default (30s).
	src2, bs2 := load(t, sourceDoc(`driver = "postgres"
dsn = "`+dsn+`"
max_open_conns = 1`, `select extract(epoch from current_setting('statement_timeout')::interval)`))
	if got, err := measureOnce(t, src2, bs2); err != nil || got != 30 {
		t.Fatalf("default statement timeout: got %v, %v; want 30 (s)", got, err)
	}
}

// pgWithPassword returns the test server's DSN with a password added, and
// the password.
func pgWithPassword(t *testing.T, dsn string) (string, string) {
	const pw = "hunter2-Sup3r$ecret"
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("OKRD_TEST_POSTGRES_DSN must be a URL for this test: %v", dsnredact.Error(err, dsnredact.Secrets(dsn, "")))
	}
	user := "postgres"
	if u.User != nil {
		user = u.User.Username()
	}
	u.User = url.UserPassword(user, pw)
	return u.String(), pw
}

func TestPasswordNeverAppearsInErrorsOrLogs(t *testing.T) {
	dsn, _ := pgWarehouse(t)
	withPW, pw := pgWithPassword(t, dsn)
	// A port where nothing listens: the connection is refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadPort := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dead := fmt.Sprintf("postgres://okrd:%s@127.0.0.1:%d/warehouse?sslmode=disable&connect_timeout=2", url.QueryEscape(pw), deadPort)
	kv := fmt.Sprintf("host=127.0.0.1 port=%d user=okrd password='%s' dbname=warehouse sslmode=disable connect_timeout=2", deadPort, pw)

	for _, tc := range []struct{ name, dsn string }{
		{"a URL DSN to a server that refuses the connection", dead},
		{"a key=value DSN to a server that refuses the connection", kv},
		// The test server may trust local connections and ignore the
		// password, or reject it; either way it must not be printed.
		{"a URL DSN with a password to the test server", withPW + "&connect_timeout=2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			cfgDoc := sourceDoc(`driver = "postgres"
dsn = "`+strings.ReplaceAll(tc.dsn, `'`, `\u0027`)+`"
statement_timeout = "2s"`, `select count(*) from nowhere`)
			src, bs := load(t, cfgDoc)
			logger := slog.New(slog.NewTextHandler(&logs, nil))
			ctx := context.Background()
			pollErr := src.Poll(ctx)
			m := src.Measure(ctx, bs, time.Now())
			pollErr2 := src.Poll(ctx)
			logger.Error("poll failed", "err", pollErr, "err2", pollErr2, "measure", m[0].Err)
			if pollErr2 == nil || m[0].Err == nil {
				t.Fatalf("expected errors, got poll %v, measure %v", pollErr2, m[0].Err)
			}
			for _, leak := range []string{pw, url.QueryEscape(pw), url.PathEscape(pw)} {
				for _, text := range []string{fmt.Sprint(pollErr), pollErr2.Error(), m[0].Err.Error(), logs.String()} {
					if strings.Contains(text, leak) {
						t.Errorf("the password leaked: %s", text)
					}
				}
			}
			t.Logf("poll: %v\nmeasure: %v", pollErr2, m[0].Err)
		})
	}
}

func TestAMissingDatabaseIsPermanent(t *testing.T) {
	dsn, _ := pgWarehouse(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("OKRD_TEST_POSTGRES_DSN must be a URL for this test: %v", dsnredact.Error(err, dsnredact.Secrets(dsn, "")))
	}
	u.Path = "/okrd_no_such_database"
	src, _ := load(t, sourceDoc(`driver = "postgres"
dsn = "`+u.String()+`"`, `select 1`))
	// Before any key result is measured, a poll is a ping.
	err = src.Poll(context.Background())
	if err == nil || !strings.Contains(err.Error(), `database "okrd_no_such_database" does not exist`) {
		t.Fatalf("got %v", err)
	}
	if pe := pq.As(err); pe == nil || pe.Code != "3D000" {
		t.Errorf("want the pq error 3D000 to be kept, got %v", err)
	}
	if !collectors.IsPermanent(err) {
		t.Errorf("a missing database must be permanent: %v", err)
	}
}
