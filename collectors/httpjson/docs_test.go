package httpjson

import (
	"path/filepath"
	"testing"

	"github.com/okrd/okrd/collectors/internal/doccheck"
	"github.com/okrd/okrd/config"
)

func TestEveryKeyIsShownAndDocumented(t *testing.T) {
	doccheck.CheckExample(t, "../../config.example.toml", &Spec{})
	doccheck.CheckDocs(t, "../../docs/sources/http_json.md", &Spec{})
	doccheck.CheckDocs(t, "../../docs/sources/http_json.md", &struct {
		Path     string `toml:"path"`
		Method   string `toml:"method"`
		Body     string `toml:"body"`
		JSONPath string `toml:"json_path"`
	}{})
}

func TestTheExampleSourceLoadsOnceUncommented(t *testing.T) {
	t.Setenv("POSTHOG_PERSONAL_API_KEY", "phx_example")
	doc := doccheck.ExampleSource(t, "../../config.example.toml", "posthog") + `
[[objectives]]
id = "growth"
title = "Grow"
period = "2026-Q4"
  [[objectives.key_results]]
  id = "upgrades"
  title = "Upgrades"
  source = "posthog"
  path = "/api/projects/12345/query/"
  body = '{"query": {"kind": "HogQLQuery", "query": "select count() from events"}}'
  json_path = "$.results[0][0]"
  baseline = 40
  target = 70
`
	cfg, err := config.Parse([]byte(doc), filepath.Join(t.TempDir(), "okrd.toml"))
	if err != nil {
		t.Fatalf("the example does not load:\n%s\n%v", doc, err)
	}
	spec := cfg.Sources["posthog"].Spec.(*Spec)
	if spec.URL != "https://eu.posthog.com" || spec.Method != "GET" || spec.RequestTimeout != DefaultRequestTimeout || spec.BearerToken.Value() != "phx_example" {
		t.Errorf("spec %+v", spec)
	}
}

func TestTheExampleKeyResultLoads(t *testing.T) {
	t.Setenv("POSTHOG_PERSONAL_API_KEY", "phx_example")
	doc := doccheck.ExampleSource(t, "../../config.example.toml", "posthog") +
		doccheck.ExampleKeyResult(t, "../../config.example.toml", "upgrades")
	cfg, err := config.Parse([]byte(doc), filepath.Join(t.TempDir(), "okrd.toml"))
	if err != nil {
		t.Fatalf("the example does not load:\n%s\n%v", doc, err)
	}
	if kr := cfg.Objectives[0].KeyResults[0]; kr.Path != "/api/projects/12345/query/" || kr.JSONPath != "$.results[0][0]" {
		t.Errorf("key result %+v", kr)
	}
}
