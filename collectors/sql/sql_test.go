package sql

import (
	"context"
	stdsql "database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
)

// sourceDoc is a config with one sql source and one key result bound to it
// by query; settings are extra lines of the source table.
func sourceDoc(settings, query string) string {
	return `
[sources.warehouse]
type = "sql"
` + settings + `

[[objectives]]
id = "growth"
title = "Grow"
period = "2026-Q4"

  [[objectives.key_results]]
  id = "activation"
  title = "Week-1 activation at 40%"
  source = "warehouse"
  query = '''` + query + `'''
  baseline = 0.31
  target = 0.40
`
}

// load parses doc and builds its "warehouse" source.
func load(t *testing.T, doc string) (collectors.Source, []collectors.Binding) {
	t.Helper()
	cfg, err := config.Parse([]byte(doc), filepath.Join(t.TempDir(), "okrd.toml"))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	src, err := collectors.New(cfg.Sources["warehouse"], collectors.Deps{})
	if err != nil {
		t.Fatalf("collectors.New: %v", err)
	}
	t.Cleanup(func() {
		if c, ok := src.(interface{ Close() error }); ok {
			c.Close()
		}
	})
	var bs []collectors.Binding
	for _, o := range cfg.Objectives {
		for _, kr := range o.KeyResults {
			bs = append(bs, collectors.Binding{Objective: o, KeyResult: kr})
		}
	}
	return src, bs
}

// warehouse creates a SQLite file with the tables the tests query.
func warehouse(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "warehouse.db")
	db, err := stdsql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, stmt := range []string{
		`create table weekly_activation (week text primary key, activated integer, signed_up integer)`,
		`insert into weekly_activation values ('2026-W40', 31, 100), ('2026-W41', 36, 100), ('2026-W42', 40, 125)`,
		`create table files (name text, content blob)`,
		`insert into files values ('a', x'00ff')`,
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	return path
}

// measureOnce runs the key result's query through Measure (the first
// measurement, which queries live) and then through Poll (which queries
// the bindings Measure remembered), and checks that both agree.
func measureOnce(t *testing.T, src collectors.Source, bs []collectors.Binding) (float64, error) {
	t.Helper()
	ctx := context.Background()
	m := src.Measure(ctx, bs, time.Now())[0]
	pollErr := src.Poll(ctx)
	if (m.Err == nil) != (pollErr == nil) {
		t.Fatalf("Measure error %v but Poll error %v", m.Err, pollErr)
	}
	if m.Err != nil {
		// Measure names the source and key result; Poll only the key
		// result (the scheduler logs it with the source).
		if want := `source "warehouse": ` + pollErr.Error(); m.Err.Error() != want {
			t.Fatalf("Measure error %q, Poll error %q", m.Err, pollErr)
		}
		return 0, m.Err
	}
	if !m.OK {
		t.Fatalf("measurement without value or error: %+v", m)
	}
	return m.Value, nil
}

func TestSQLiteQueriesReturnOneNumberOrSayWhyNot(t *testing.T) {
	path := warehouse(t)
	const prefix = `source "warehouse": key result growth/activation: `
	for _, tc := range []struct {
		name      string
		query     string
		want      float64
		err       string
		permanent bool
	}{
		{name: "an integer count is the value", query: `select count(*) from weekly_activation`, want: 3},
		// 40 / 125 = 0.32
		{name: "a ratio of the latest week is the value", query: `select cast(activated as real) / signed_up from weekly_activation order by week desc limit 1`, want: 0.32},
		{name: "no row is an error, not a zero", query: `select activated from weekly_activation where week = '2027-W01'`,
			err: "query returned no row, want exactly 1"},
		{name: "several rows are counted", query: `select activated from weekly_activation`,
			err: "query returned 3 rows, want exactly 1"},
		{name: "several columns are named", query: `select activated, signed_up from weekly_activation limit 1`,
			err: `query returned 2 columns ("activated", "signed_up"), want exactly 1`, permanent: true},
		{name: "NULL is an error, not a zero", query: `select max(activated) from weekly_activation where week = '2027-W01'`,
			err: `query returned NULL in column "max(activated)", want a number`},
		{name: "text is refused even when it reads as a number", query: `select '42' as n`,
			err: `query returned a text value in column "n", want a number (cast it in the query, e.g. ::numeric or CAST(... AS REAL))`, permanent: true},
		{name: "a blob is refused", query: `select content from files`,
			err: `query returned a BLOB value in column "content", want a number`, permanent: true},
		{name: "infinity is refused", query: `select 1e999 as big`,
			err: `query returned +Inf in column "big", want a finite number`},
		{name: "a syntax error is the database's message", query: `select count(* from weekly_activation`,
			err: `query rejected by SQLite: SQL logic error: near "from": syntax error (1)`, permanent: true},
		{name: "an unknown table is the database's message", query: `select count(*) from signups`,
			err: `query rejected by SQLite: SQL logic error: no such table: signups (1)`, permanent: true},
		{name: "a write is refused", query: `with x as (select 1) delete from weekly_activation returning 1`,
			err: "query tried to do more than read, which a sql source never does: authorization denied: not authorized (23)", permanent: true},
		{name: "a long query stops at the statement timeout",
			query: `with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c`,
			err:   "query exceeded statement_timeout (300ms)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, bs := load(t, sourceDoc(`driver = "sqlite"
dsn = "`+path+`"
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
			// Measure and Poll each ran the query once (plus the Poll
			// just above): a timeout must not take much longer than 3 x 300ms.
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}

	// The refused write changed nothing.
	db, err := stdsql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`select count(*) from weekly_activation`).Scan(&n); err != nil || n != 3 {
		t.Errorf("rows after the write attempt = %d, %v; want 3", n, err)
	}
}

func TestSQLiteSourceNeverCreatesOrWritesTheFile(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.db")
	src, _ := load(t, sourceDoc(`driver = "sqlite"
dsn = "`+missing+`"`, `select 1`))
	// With no key result measured yet, a poll only checks the database.
	err := src.Poll(context.Background())
	if err == nil || !strings.Contains(err.Error(), "cannot reach sqlite "+missing+": unable to open database file") {
		t.Fatalf("poll of a missing file: %v", err)
	}
	if _, statErr := filepath.Glob(missing); statErr != nil {
		t.Fatal(statErr)
	}
	if m, _ := filepath.Glob(missing + "*"); len(m) != 0 {
		t.Errorf("the source created %v", m)
	}
}

func TestSQLiteDSNsAreOpenedReadOnly(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"warehouse.db", "file:warehouse.db?mode=ro&_pragma=query_only(1)&_pragma=busy_timeout(5000)"},
		{"/data/a?b#c%d.db", "file:/data/a%3fb%23c%25d.db?mode=ro&_pragma=query_only(1)&_pragma=busy_timeout(5000)"},
		{"file:/data/w.db", "file:/data/w.db?mode=ro&_pragma=query_only(1)&_pragma=busy_timeout(5000)"},
		{"file:/data/w.db?cache=shared", "file:/data/w.db?cache=shared&mode=ro&_pragma=query_only(1)&_pragma=busy_timeout(5000)"},
	} {
		if got := sqliteReadOnlyDSN(tc.in); got != tc.want {
			t.Errorf("sqliteReadOnlyDSN(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestPoolLimitsComeFromTheConfig(t *testing.T) {
	cfg, err := config.Parse([]byte(sourceDoc(`driver = "sqlite"
dsn = "`+warehouse(t)+`"
max_open_conns = 3
max_idle_conns = 2
conn_max_lifetime = "10m"`, `select 1`)), "okrd.toml")
	if err != nil {
		t.Fatal(err)
	}
	spec := cfg.Sources["warehouse"].Spec.(*Spec)
	q, err := Open("warehouse", spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if got := q.db.Stats().MaxOpenConnections; got != 3 {
		t.Errorf("MaxOpenConnections = %d, want 3", got)
	}
	if spec.MaxIdleConns != 2 || spec.ConnMaxLifetime.Duration() != 10*time.Minute || spec.StatementTimeout != DefaultStatementTimeout {
		t.Errorf("spec = %+v", spec)
	}
}

func TestConfigErrorsNameTheField(t *testing.T) {
	for _, tc := range []struct {
		name, settings, query string
		want                  []string
	}{
		{"driver and dsn are required", ``, `select 1`, []string{
			`sources.warehouse.driver: required: "postgres" or "sqlite"`,
			`sources.warehouse.dsn: required (or set dsn_file)`,
		}},
		{"an unknown driver is named", `driver = "mysql"
dsn = "x"`, `select 1`, []string{`sources.warehouse.driver: must be "postgres" or "sqlite", not "mysql"`}},
		{"an in-memory SQLite database is refused", `driver = "sqlite"
dsn = ":memory:"`, `select 1`, []string{`sources.warehouse.dsn: must name a database file: an in-memory database is empty`}},
		{"pool limits must make sense", `driver = "sqlite"
dsn = "w.db"
max_open_conns = 0
max_idle_conns = -1
statement_timeout = "0s"`, `select 1`, []string{
			// In the order of the lines.
			`sources.warehouse.max_open_conns: must be at least 1, not 0`,
			`sources.warehouse.max_idle_conns: must be between 0 and max_open_conns (0), not -1`,
			`sources.warehouse.statement_timeout: must be at least 1ms, not 0s`,
		}},
		{"idle connections cannot exceed open ones", `driver = "sqlite"
dsn = "w.db"
max_open_conns = 2
max_idle_conns = 3`, `select 1`, []string{`sources.warehouse.max_idle_conns: must be between 0 and max_open_conns (2), not 3`}},
		{"a key result needs a query", `driver = "sqlite"
dsn = "w.db"`, ` `, []string{`objectives[0].key_results[0].query: required for a sql source: a SELECT returning one row with one numeric column`}},
		{"a PostgreSQL query that is not a SELECT is refused", `driver = "postgres"
dsn = "postgres://okrd@db.example.com/warehouse"`, `commit; delete from t; select 1::float8`, []string{
			`objectives[0].key_results[0].query: must be a single SELECT (or WITH, VALUES, TABLE) statement, not COMMIT: a sql source only reads`,
		}},
		{"a SQLite query that is not a SELECT is refused", `driver = "sqlite"
dsn = "w.db"`, `attach database 'a.db' as a`, []string{
			`objectives[0].key_results[0].query: must be a single SELECT (or WITH, VALUES) statement, not ATTACH: a sql source only reads`,
		}},
		{"several SQLite statements are refused", `driver = "sqlite"
dsn = "w.db"`, `select 1; attach database 'a.db' as a`, []string{
			`objectives[0].key_results[0].query: must be a single statement: something follows its ";"`,
		}},
		{"a SQLite DSN whose _pragma runs more than a PRAGMA is refused", `driver = "sqlite"
dsn = "file:w.db?_pragma=busy_timeout(100)&_pragma=foreign_keys(1)%3BATTACH%20'a.db'%20AS%20a"`, `select 1`, []string{
			`sources.warehouse.dsn: a _pragma parameter must hold one PRAGMA: the driver runs the text after a ";" too (ATTACH, ...)`,
		}},
		{"a bad PostgreSQL DSN hides its password", `driver = "postgres"
dsn = "postgres://okrd:hunter2-pw@db.example.com:notaport/warehouse"`, `select 1`, []string{
			`sources.warehouse.dsn: not a valid PostgreSQL DSN: parse "postgres://okrd:<secret>@db.example.com:notaport/warehouse": invalid port ":notaport" after host`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Parse([]byte(sourceDoc(tc.settings, tc.query)), "")
			var es config.Errors
			if !errors.As(err, &es) {
				t.Fatalf("got %v, want config.Errors", err)
			}
			var got []string
			for _, e := range es {
				got = append(got, e.Path+": "+e.Msg)
				if strings.Contains(e.Msg, "hunter2") {
					t.Errorf("error leaks the password: %s", e.Msg)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestKeyResultKeysOfOtherSourceTypesAreRefused(t *testing.T) {
	doc := strings.Replace(sourceDoc(`driver = "sqlite"
dsn = "w.db"`, `select 1`), "baseline = 0.31", "metric = \"throughput\"\n  baseline = 0.31", 1)
	_, err := config.Parse([]byte(doc), "")
	if err == nil || !strings.Contains(err.Error(), "objectives[0].key_results[0].metric: does not apply to a sql source (its value comes from query)") {
		t.Fatalf("got %v", err)
	}
}
