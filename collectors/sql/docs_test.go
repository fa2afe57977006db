package sql

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/collectors/internal/doccheck"
	"github.com/okrd/okrd/config"
)

func TestEveryKeyIsShownAndDocumented(t *testing.T) {
	doccheck.CheckExample(t, "../../config.example.toml", &Spec{})
	doccheck.CheckDocs(t, "../../docs/sources/sql.md", &Spec{})
}

func TestTheExampleSourceLoadsOnceUncommented(t *testing.T) {
	path := warehouse(t)
	t.Setenv("WAREHOUSE_DSN", path)
	block := doccheck.ExampleSource(t, "../../config.example.toml", "warehouse")
	// The example is for PostgreSQL; the test runs it on SQLite.
	if !strings.Contains(block, "\ndriver = \"postgres\"\n") {
		t.Fatalf("the example changed:\n%s", block)
	}
	doc := strings.Replace(block, "\ndriver = \"postgres\"\n", "\ndriver = \"sqlite\"\n", 1) + `
[[objectives]]
id = "growth"
title = "Grow"
period = "2026-Q4"
  [[objectives.key_results]]
  id = "activation"
  title = "Activation"
  source = "warehouse"
  query = "select count(*) from weekly_activation"
  baseline = 1
  target = 5
`
	cfg, err := config.Parse([]byte(doc), filepath.Join(t.TempDir(), "okrd.toml"))
	if err != nil {
		t.Fatalf("the example does not load:\n%s\n%v", doc, err)
	}
	spec := cfg.Sources["warehouse"].Spec.(*Spec)
	if spec.StatementTimeout != DefaultStatementTimeout || spec.MaxOpenConns != 2 || spec.MaxIdleConns != 1 ||
		spec.ConnMaxLifetime != DefaultConnMaxLifetime || cfg.Sources["warehouse"].Interval.String() != "15m" {
		t.Errorf("spec %+v", spec)
	}
	src, err := collectors.New(cfg.Sources["warehouse"], collectors.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	o := cfg.Objectives[0]
	m := src.Measure(context.Background(), []collectors.Binding{{Objective: o, KeyResult: o.KeyResults[0]}}, time.Now())
	if m[0].Err != nil || m[0].Value != 3 {
		t.Errorf("got %+v", m[0])
	}
}

func TestTheExampleKeyResultLoads(t *testing.T) {
	t.Setenv("WAREHOUSE_DSN", "postgres://okrd_reader@warehouse:5432/analytics?sslmode=require")
	doc := doccheck.ExampleSource(t, "../../config.example.toml", "warehouse") +
		doccheck.ExampleKeyResult(t, "../../config.example.toml", "activation")
	cfg, err := config.Parse([]byte(doc), filepath.Join(t.TempDir(), "okrd.toml"))
	if err != nil {
		t.Fatalf("the example does not load:\n%s\n%v", doc, err)
	}
	if kr := cfg.Objectives[0].KeyResults[0]; !strings.Contains(kr.Query, "from analytics.weekly_activation") || kr.StaleAfter.String() != "8d" ||
		!strings.Contains(kr.HistoryQuery, "where week_end <= :at") {
		t.Errorf("key result %+v", kr)
	}
}
