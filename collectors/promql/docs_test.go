package promql

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/okrd/okrd/collectors/internal/doccheck"
	"github.com/okrd/okrd/config"
)

func TestEveryKeyIsShownAndDocumented(t *testing.T) {
	doccheck.CheckExample(t, "../../config.example.toml", &Spec{})
	doccheck.CheckDocs(t, "../../docs/sources/prometheus.md", &Spec{})
}

func TestTheExampleSourceLoadsOnceUncommented(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "secrets"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "secrets", "prometheus_token"), []byte("tok\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	doc := doccheck.ExampleSource(t, "../../config.example.toml", "metrics") + `
[[objectives]]
id = "reliability"
title = "Be reliable"
period = "2026-Q4"
  [[objectives.key_results]]
  id = "availability"
  title = "Availability"
  source = "metrics"
  query = 'avg_over_time(probe_success{job="blackbox"}[28d])'
  baseline = 0.99
  target = 0.999
`
	cfg, err := config.Parse([]byte(doc), filepath.Join(dir, "okrd.toml"))
	if err != nil {
		t.Fatalf("the example does not load:\n%s\n%v", doc, err)
	}
	spec := cfg.Sources["metrics"].Spec.(*Spec)
	if spec.URL != "https://prometheus.example.com" || spec.QueryTimeout != DefaultQueryTimeout || spec.BearerToken.Value() != "tok" {
		t.Errorf("spec %+v", spec)
	}
	// The secret read from the file prints as its file key only.
	if printed := cfg.String(); strings.Contains(printed, `"tok"`) {
		t.Errorf("the token is printed:\n%s", printed)
	}
}

func TestTheExampleKeyResultLoads(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "secrets"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "secrets", "prometheus_token"), []byte("tok\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	doc := doccheck.ExampleSource(t, "../../config.example.toml", "metrics") +
		doccheck.ExampleKeyResult(t, "../../config.example.toml", "checkout-availability")
	cfg, err := config.Parse([]byte(doc), filepath.Join(dir, "okrd.toml"))
	if err != nil {
		t.Fatalf("the example does not load:\n%s\n%v", doc, err)
	}
	if kr := cfg.Objectives[0].KeyResults[0]; kr.Query != `avg_over_time(probe_success{job="blackbox", instance="checkout"}[28d])` || kr.StaleAfter.String() != "1d" {
		t.Errorf("key result %+v", kr)
	}
}
