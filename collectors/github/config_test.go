package github

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
)

func validSpec() *Spec {
	s := &Spec{}
	s.Defaults()
	s.Token = "t"
	s.Repos = []string{"acme/web"}
	return s
}

func TestSpecValidate(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := config.Secret(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	tests := []struct {
		name string
		mod  func(s *Spec)
		want []string // "field: message part"; none means valid
	}{
		{"a token and one repository are enough", func(*Spec) {}, nil},
		{"a pattern lists an owner's repositories", func(s *Spec) { s.Repos = []string{"acme/svc-*", "jdoe/*"} }, nil},
		{"no credentials", func(s *Spec) { s.Token = "" }, []string{"token: required"}},
		{"a token and an app at once", func(s *Spec) { s.AppID = 1 }, []string{"token: cannot be combined with GitHub App"}},
		{"an app without installation and key", func(s *Spec) { s.Token, s.AppID = "", 1 },
			[]string{"installation_id: required", "private_key_file: required"}},
		{"an app with a key that is not PEM", func(s *Spec) { s.Token, s.AppID, s.InstallationID, s.PrivateKey = "", 1, 2, "nope" },
			[]string{"private_key_file: the private key is not PEM"}},
		{"a complete app", func(s *Spec) { s.Token, s.AppID, s.InstallationID, s.PrivateKey = "", 1, 2, pemKey }, nil},
		{"no repositories", func(s *Spec) { s.Repos = nil }, []string{"repos: required"}},
		{"a repository without owner", func(s *Spec) { s.Repos = []string{"web"} }, []string{`repos[0]: must be "owner/name"`}},
		{"a pattern in the owner", func(s *Spec) { s.Repos = []string{"ac*/web"} }, []string{"repos[0]: invalid owner"}},
		{"a repository listed twice", func(s *Spec) { s.Repos = []string{"acme/web", "ACME/web"} }, []string{"repos[1]: \"ACME/web\" is listed twice"}},
		{"an unknown deployment signal", func(s *Spec) { s.Deployments = "tags" }, []string{`deployments: must be "deployments", "releases" or "workflow_runs", not "tags"`}},
		{"workflow runs without a workflow", func(s *Spec) { s.Deployments = SignalWorkflowRuns }, []string{"workflow: required"}},
		{"a workflow with another signal", func(s *Spec) { s.Workflow = "deploy.yml" }, []string{"workflow: applies only with"}},
		{"an environment pattern that does not parse", func(s *Spec) { s.Environment = "prod-[" }, []string{"environment: invalid pattern"}},
		{"incidents from a repository and a source", func(s *Spec) { s.IncidentsRepo, s.IncidentsSource = "acme/ops", "jira" },
			[]string{"incidents_source: cannot be combined"}},
		{"incidents from a pattern", func(s *Spec) { s.IncidentsRepo = "acme/*" }, []string{"incidents_repo: must be one repository"}},
		{"no attribution window", func(s *Spec) { s.AttributionWindow = 0 }, []string{"attribution_window: must be positive"}},
		{"a negative reserve", func(s *Spec) { s.RateLimitReserve = -1 }, []string{"rate_limit_reserve: must not be negative"}},
		{"a URL that is not one", func(s *Spec) { s.URL = "github.example.com" }, []string{"url: must be an absolute http(s) URL"}},
		{"a URL with credentials", func(s *Spec) { s.URL = "https://x:y@github.example.com/" }, []string{"url: must not contain credentials"}},
		{"a bad GraphQL URL", func(s *Spec) { s.GraphQLURL = "/graphql" }, []string{"graphql_url: must be an absolute"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := validSpec()
			tc.mod(s)
			err := s.Validate()
			var got []string
			for _, e := range flatten(err) {
				got = append(got, e.Error())
			}
			if len(got) != len(tc.want) {
				t.Fatalf("errors = %q, want %d matching %q", got, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(got[i], w) {
					t.Errorf("error %d = %q, want it to start with %q", i, got[i], w)
				}
			}
		})
	}
}

func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if m, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range m.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

func TestEndpoints(t *testing.T) {
	tests := []struct {
		name, url, graphql string
		rest, gql          string
	}{
		{"github.com", "https://api.github.com", "", "https://api.github.com/", "https://api.github.com/graphql"},
		{"github.com with a slash", "https://api.github.com/", "", "https://api.github.com/", "https://api.github.com/graphql"},
		{"a bare Enterprise Server host", "https://github.example.com", "", "https://github.example.com/api/v3/", "https://github.example.com/api/graphql"},
		{"an Enterprise Server API URL", "https://github.example.com/api/v3", "", "https://github.example.com/api/v3/", "https://github.example.com/api/graphql"},
		{"a proxy path", "https://proxy.example.com/github/", "", "https://proxy.example.com/github/", "https://proxy.example.com/github/graphql"},
		{"an explicit GraphQL URL", "https://github.example.com/api/v3/", "https://gql.example.com/api/graphql", "https://github.example.com/api/v3/", "https://gql.example.com/api/graphql"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rest, gql, err := endpoints(tc.url, tc.graphql)
			if err != nil {
				t.Fatal(err)
			}
			if rest != tc.rest || gql != tc.gql {
				t.Errorf("endpoints(%q) = %q, %q; want %q, %q", tc.url, rest, gql, tc.rest, tc.gql)
			}
		})
	}
}

func TestValidateKeyResult(t *testing.T) {
	spec := validSpec()
	spec.Repos = []string{"acme/web", "acme/svc-*"}
	if err := spec.Validate(); err != nil {
		t.Fatal(err)
	}
	half := 0.5
	tests := []struct {
		name string
		kr   config.KeyResult
		want []string
	}{
		{"a known metric of the whole source", config.KeyResult{Metric: "deployment_frequency"}, nil},
		{"a quantile of a distribution metric", config.KeyResult{Metric: "lead_time_for_changes", Quantile: &half, Scope: "acme/web"}, nil},
		{"a repository matching a pattern", config.KeyResult{Metric: "pr_throughput", Scope: "acme/svc-pay"}, nil},
		{"a DORA level", config.KeyResult{Metric: "dora_level_change_failure_rate"}, nil},
		{"no metric", config.KeyResult{}, []string{"metric: required for a github source; one of: deployment_frequency, deployment_count,"}},
		{"an unknown metric lists the known ones", config.KeyResult{Metric: "velocity"},
			[]string{`metric: unknown github metric "velocity"; known: deployment_frequency, deployment_count, lead_time_for_changes,`}},
		{"a quantile of a count", config.KeyResult{Metric: "deployment_count", Quantile: &half}, []string{"quantile: applies only to distribution metrics"}},
		{"a repository the source does not cover", config.KeyResult{Metric: "open_prs", Scope: "acme/api"}, []string{`scope: "acme/api" is not one of the source's repos`}},
		{"a query", config.KeyResult{Metric: "open_prs", Query: "select 1"}, []string{"query: does not apply"}},
		{"issue types", config.KeyResult{Metric: "open_prs", IssueTypes: []string{"Bug"}}, []string{"issue_types: does not apply"}},
		{"an http_json request", config.KeyResult{Metric: "open_prs", Path: "/x", JSONPath: "$.a"}, []string{"path: does not apply", "json_path: does not apply"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			errs := flatten(validateKeyResult(spec, &tc.kr))
			if len(errs) != len(tc.want) {
				t.Fatalf("errors = %v, want %q", errs, tc.want)
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(errs[i].Error(), w) {
					t.Errorf("error = %q, want it to start with %q", errs[i], w)
				}
				var inv *config.Invalid
				if !errors.As(errs[i], &inv) {
					t.Errorf("error %q is not a field error", errs[i])
				}
			}
		})
	}
}

// specKeys returns every toml key of the spec.
func specKeys() []string {
	var keys []string
	t := reflect.TypeOf(Spec{})
	for i := range t.NumField() {
		if tag := t.Field(i).Tag.Get("toml"); tag != "" && tag != "-" {
			keys = append(keys, tag)
		}
	}
	return keys
}

// exampleGitHub returns the commented-out github parts of
// config.example.toml, uncommented: the source table and the key result.
func exampleGitHub(t *testing.T) (source, keyResult string) {
	t.Helper()
	data, err := os.ReadFile("../../config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	uncomment := func(block string) string {
		var out []string
		for _, line := range strings.Split(block, "\n") {
			line = strings.TrimSpace(line)
			switch {
			case strings.HasPrefix(line, "# # "), line == "#":
				continue // a comment inside the commented-out block
			case strings.HasPrefix(line, "# "):
				out = append(out, strings.TrimPrefix(line, "# "))
			}
		}
		return strings.Join(out, "\n")
	}
	src := regexp.MustCompile(`(?s)# \[sources\.github\]\n.*?\n#\n`).FindString(text)
	kr := regexp.MustCompile(`(?s)  # \[\[objectives\.key_results\]\]\n  # id       = "web-lead-time".*?\n\n`).FindString(text)
	if src == "" || kr == "" {
		t.Fatal("config.example.toml has no commented-out [sources.github] table or github key result")
	}
	return uncomment(src), uncomment(kr)
}

func TestExampleConfigGitHubPartsLoad(t *testing.T) {
	source, kr := exampleGitHub(t)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "secrets"), 0o700)
	os.WriteFile(filepath.Join(dir, "secrets", "github_token"), []byte("ghp_example\n"), 0o600)
	doc := source + "\n\n[[objectives]]\nid = \"o\"\ntitle = \"O\"\nperiod = \"2026-Q4\"\n" + kr + "\n"
	path := filepath.Join(dir, "okrd.toml")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(path)
	if err != nil {
		t.Fatalf("the example's github parts do not load:\n%s\n%v", doc, err)
	}
	spec := c.Sources["github"].Spec.(*Spec)
	if spec.Token.Value() != "ghp_example" || len(spec.Repos) != 3 || spec.restURL != DefaultURL {
		t.Errorf("spec = %+v", spec)
	}
	if kr := c.Objectives[0].KeyResults[0]; kr.Metric != "lead_time_for_changes" || kr.Scope != "acme/web" {
		t.Errorf("key result = %+v", kr)
	}
	// The registered factory builds the source from the loaded table.
	src, err := collectors.New(c.Sources["github"], collectors.Deps{Store: newEnv(t).st})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := src.(*Source); !ok {
		t.Errorf("collectors.New built a %T", src)
	}
}

func TestEveryKeyIsInTheExampleAndTheDocs(t *testing.T) {
	example, err := os.ReadFile("../../config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	src := regexp.MustCompile(`(?s)# \[sources\.github\]\n.*?\n#\n`).FindString(string(example))
	docs, err := os.ReadFile("../../docs/sources/github.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range specKeys() {
		if !regexp.MustCompile(`(?m)^#( #)? ` + regexp.QuoteMeta(k) + `\s*=`).MatchString(src) {
			t.Errorf("config.example.toml's [sources.github] does not show %s", k)
		}
		if !strings.Contains(string(docs), "`"+k+"`") {
			t.Errorf("docs/sources/github.md does not document `%s`", k)
		}
	}
	for _, m := range []string{"deployment_frequency", "oldest_open_pr_age", "dora_level_time_to_restore"} {
		if !strings.Contains(string(docs), "`"+m+"`") {
			t.Errorf("docs/sources/github.md does not document metric `%s`", m)
		}
	}
}

func TestSecretsArePrintedRedacted(t *testing.T) {
	s := validSpec()
	s.Token = testToken
	for _, out := range []string{fmt.Sprintf("%v", s), fmt.Sprintf("%+v", s), fmt.Sprintf("%#v", s)} {
		if strings.Contains(out, testToken) {
			t.Fatalf("printed spec shows the token: %s", out)
		}
	}
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	app := validSpec()
	app.Token, app.AppID, app.InstallationID = "", 1, 2
	app.PrivateKey = config.Secret(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	if err := app.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{fmt.Sprintf("%v", app), fmt.Sprintf("%+v", app), fmt.Sprintf("%#v", app)} {
		if strings.Contains(out, "PRIVATE KEY") || strings.Contains(out, key.D.String()) {
			t.Fatalf("printed spec shows the private key: %s", out)
		}
	}
}
