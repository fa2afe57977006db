package postgres

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/okrd/okrd/internal/dsnredact"
	"github.com/okrd/okrd/internal/testenv"
	"github.com/okrd/okrd/store"
	"github.com/okrd/okrd/store/storetest"
)

// The PostgreSQL tests need a server: OKRD_TEST_POSTGRES_DSN names it, for
// example postgres://postgres@127.0.0.1:5432/test?sslmode=disable. Each test
// gets its own schema, dropped when it ends. Without the variable or the
// server the tests skip, unless OKRD_REQUIRE_INTEGRATION=1 (CI) makes that a
// failure.

func skipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	testenv.Unavailable(t, format, args...)
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// baseDSN returns the test server's DSN and an admin connection to it.
func baseDSN(t testing.TB) (string, *sql.DB) {
	t.Helper()
	dsn := os.Getenv("OKRD_TEST_POSTGRES_DSN")
	if dsn == "" {
		skipOrFail(t, "OKRD_TEST_POSTGRES_DSN is not set; set it to a PostgreSQL server, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable, to run the PostgreSQL tests")
	}
	cfg, err := pq.NewConfig(dsn)
	if err != nil {
		t.Fatalf("OKRD_TEST_POSTGRES_DSN is invalid: %v", dsnredact.Error(err, dsnredact.Secrets(dsn, "")))
	}
	connector, err := pq.NewConnectorConfig(cfg)
	if err != nil {
		t.Fatalf("OKRD_TEST_POSTGRES_DSN is invalid: %v", dsnredact.Error(err, dsnredact.Secrets(dsn, cfg.Password)))
	}
	admin := sql.OpenDB(connector)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		_ = admin.Close()
		skipOrFail(t, "the PostgreSQL server of OKRD_TEST_POSTGRES_DSN (%s) is unreachable: %v", describe(cfg), dsnredact.Error(err, dsnredact.Secrets(dsn, cfg.Password)))
	}
	return dsn, admin
}

// freshSchema creates an empty schema for one test and returns a DSN whose
// connections all use it.
func freshSchema(t testing.TB) (dsn, schema string) {
	t.Helper()
	base, admin := baseDSN(t)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema = "okrd_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		_ = admin.Close()
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
		_ = admin.Close()
	})
	return withSearchPath(t, base, schema), schema
}

// withSearchPath sets search_path in the DSN itself: lib/pq sends unknown
// parameters as run-time parameters at connection start, so every pooled
// connection gets it, which a SET on one connection would not.
func withSearchPath(t testing.TB, dsn, schema string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatalf("OKRD_TEST_POSTGRES_DSN is not a valid URL: %v", dsnredact.Error(err, dsnredact.Secrets(dsn, "")))
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " search_path=" + schema
}

func openSchema(t testing.TB, dsn string) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn, testLogger(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	// Skip once, not in each of the suite's subtests.
	_, admin := baseDSN(t)
	_ = admin.Close()
	storetest.Run(t, func(t *testing.T) store.Store {
		dsn, _ := freshSchema(t)
		return openSchema(t, dsn)
	})
}

func TestEveryConnectionUsesTheTestSchema(t *testing.T) {
	dsn, schema := freshSchema(t)
	s := openSchema(t, dsn)
	ctx := context.Background()
	for i := range 3 {
		conn, err := s.SQL().Connx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var got string
		if err := conn.QueryRowContext(ctx, "SELECT current_schema()").Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != schema {
			t.Fatalf("connection %d uses schema %q, want %q", i, got, schema)
		}
	}
	var tables int
	if err := s.SQL().Get(&tables, "SELECT count(*) FROM pg_tables WHERE schemaname = $1", schema); err != nil {
		t.Fatal(err)
	}
	if tables < 6 {
		t.Fatalf("schema %s holds %d tables, want okrd's five and goose's", schema, tables)
	}
}

func migrationCount(t *testing.T) int {
	t.Helper()
	files, err := fs.Glob(Migrations(), "*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no migrations embedded: %v", err)
	}
	return len(files)
}

func appliedVersions(t *testing.T, s *Store) []int64 {
	t.Helper()
	var versions []int64
	err := s.SQL().Select(&versions, "SELECT version_id FROM goose_db_version WHERE version_id > 0 AND is_applied ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	return versions
}

func TestMigrationsAreIdempotent(t *testing.T) {
	dsn, _ := freshSchema(t)
	for i := range 3 {
		s, err := Open(context.Background(), dsn, testLogger(t))
		if err != nil {
			t.Fatalf("Open #%d: %v", i+1, err)
		}
		if got := appliedVersions(t, s); len(got) != migrationCount(t) {
			t.Fatalf("after Open #%d goose recorded versions %v, want each of the %d migrations once", i+1, got, migrationCount(t))
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestInstancesStartingTogetherMigrateOnce(t *testing.T) {
	dsn, _ := freshSchema(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			s, err := Open(context.Background(), dsn, testLogger(t))
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open #%d: %v", i, err)
		}
	}
	s := openSchema(t, dsn)
	if got := appliedVersions(t, s); len(got) != migrationCount(t) {
		t.Fatalf("goose recorded versions %v, want each migration once", got)
	}
}

func TestHistoryUsesTheIndexWithoutSorting(t *testing.T) {
	dsn, _ := freshSchema(t)
	s := openSchema(t, dsn)
	ctx := context.Background()
	conn, err := s.SQL().Connx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// The table is nearly empty, where a sequential scan is cheapest; what
	// matters is that an index can serve both the filter and the order.
	if _, err := conn.ExecContext(ctx, "SET enable_seqscan = off"); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.QueryContext(ctx, "EXPLAIN "+s.HistorySQL(), "o", "k", 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, line)
	}
	text := strings.Join(plan, "\n")
	if !strings.Contains(text, "kr_values_kr_at") || strings.Contains(text, "Sort") {
		t.Fatalf("History's plan does not use kr_values_kr_at for both filter and order:\n%s", text)
	}
}

func TestErrorsNeverContainThePassword(t *testing.T) {
	const secret = "s3cretpw"
	for _, tc := range []struct{ name, dsn string }{
		{"a URL to a closed port", "postgres://user:s3cretpw@127.0.0.1:1/x?sslmode=disable&connect_timeout=2"},
		{"a URL that does not parse", "postgres://user:s3cretpw@127.0.0.1:notaport/x"},
		{"a URL with a percent-encoded password", "postgres://user:s3cretpw%25@127.0.0.1:bad/x"},
		{"a URL with a bad parameter", "postgres://user:s3cretpw@127.0.0.1:1/x?sslmode=sometimes"},
		{"a key=value string to a closed port", "host=127.0.0.1 port=1 user=user password=s3cretpw dbname=x sslmode=disable"},
		{"a key=value string with a quoted password", "host=127.0.0.1 port=1 password='s3cretpw and more' sslmode=disable"},
		{"a key=value string that does not parse", "host=127.0.0.1 password=s3cretpw 'broken"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			s, err := Open(ctx, tc.dsn, logger)
			if err == nil {
				_ = s.Close()
				t.Fatal("Open: no error")
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("the error contains the password: %v", err)
			}
			if strings.Contains(logs.String(), secret) {
				t.Fatalf("a log line contains the password: %s", logs.String())
			}
			t.Logf("error: %v", err)
		})
	}
}

func TestAnAuthenticationFailureDoesNotContainThePassword(t *testing.T) {
	base, admin := baseDSN(t)
	_ = admin.Close()
	cfg, err := pq.NewConfig(base)
	if err != nil {
		t.Fatal(err)
	}
	cfg.User, cfg.Password = "okrd_no_such_user", "s3cretpw"
	u := url.URL{Scheme: "postgres", User: url.UserPassword(cfg.User, cfg.Password),
		Host: describeHost(cfg), Path: "/" + cfg.Database, RawQuery: "sslmode=disable"}
	_, err = Open(context.Background(), u.String(), nil)
	if err == nil {
		t.Fatal("Open as an unknown user: no error")
	}
	if strings.Contains(err.Error(), "s3cretpw") {
		t.Fatalf("the error contains the password: %v", err)
	}
	t.Logf("error: %v", err)
}

func describeHost(cfg pq.Config) string {
	host := cfg.Host
	if host == "" {
		host = "localhost"
	}
	return fmt.Sprintf("%s:%d", host, cfg.Port)
}
