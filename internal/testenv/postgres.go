package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/okrd/okrd/internal/dsnredact"
)

// PostgresDSNEnv names the PostgreSQL server of the tests, for example
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const PostgresDSNEnv = "OKRD_TEST_POSTGRES_DSN"

// PostgresSchema returns a DSN of the test server whose connections all use
// a fresh schema (search_path set in the DSN itself, so that every pooled
// connection gets it), dropped when the test ends. Without the server the
// test is reported unavailable.
func PostgresSchema(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresDSNEnv)
	if base == "" {
		Unavailable(t, "%s is not set; set it to a PostgreSQL server, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable", PostgresDSNEnv)
	}
	cfg, err := pq.NewConfig(base)
	if err != nil {
		t.Fatalf("%s is invalid: %v", PostgresDSNEnv, dsnredact.Error(err, dsnredact.Secrets(base, "")))
	}
	hide := dsnredact.Secrets(base, cfg.Password)
	connector, err := pq.NewConnectorConfig(cfg)
	if err != nil {
		t.Fatalf("%s is invalid: %v", PostgresDSNEnv, dsnredact.Error(err, hide))
	}
	admin := sql.OpenDB(connector)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		_ = admin.Close()
		Unavailable(t, "the PostgreSQL server of %s is unreachable: %v", PostgresDSNEnv, dsnredact.Error(err, hide))
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "okrd_test_" + hex.EncodeToString(b)
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
	if u, err := url.Parse(base); err == nil && u.Scheme != "" {
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return base + " search_path=" + schema
}
