package dashboards

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/okrd/okrd/internal/testenv"
)

// promtoolPath finds promtool, or skips (fails under
// OKRD_REQUIRE_INTEGRATION=1) without it.
func promtoolPath(t *testing.T) string {
	t.Helper()
	return testenv.Program(t, "promtool", "prometheus")
}

// TestEveryExpressionParses runs every panel expression, and the selector
// of every variable, of the generator's output for config.example.toml
// (which the golden test keeps equal to the committed dashboards) through
// Prometheus's own parser: each one, its variables substituted as Grafana
// would, becomes a recording rule of a rule file that `promtool check
// rules` must accept.
func TestEveryExpressionParses(t *testing.T) {
	promtool := promtoolPath(t)
	ds, err := Generate(exampleConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	qs := queriesOf(t, ds...)
	values := defaultValues(t, ds...)
	if len(qs) == 0 {
		t.Fatal("no queries in the dashboards")
	}
	type rule struct {
		Record string `json:"record"`
		Expr   string `json:"expr"`
	}
	var rules []rule
	names := map[string]panelQuery{}
	for i, q := range qs {
		if strings.TrimSpace(q.Expr) == "" {
			t.Errorf("%s: empty expression", q)
			continue
		}
		expr, err := substitute(q.Expr, values)
		if err != nil {
			t.Errorf("%s: %v", q, err)
			continue
		}
		name := fmt.Sprintf("okrd_dashboard_query_%d", i)
		names[name] = q
		rules = append(rules, rule{Record: name, Expr: expr})
	}
	// A variable's label_values(selector, label) selector and its
	// query_result(expr) expression are expressions too.
	for i, v := range variablesOf(t, ds...) {
		if v.Type != "query" {
			continue
		}
		sel, _, err := variableExpr(v)
		if err != nil {
			t.Error(err)
			continue
		}
		expr, err := substitute(sel, values)
		if err != nil {
			t.Errorf("%s variable %s: %v", v.Dashboard, v.Name, err)
			continue
		}
		name := fmt.Sprintf("okrd_dashboard_variable_%d", i)
		names[name] = panelQuery{Dashboard: v.Dashboard, Panel: "variable " + v.Name, Expr: v.Query}
		rules = append(rules, rule{Record: name, Expr: expr})
	}
	// So is the query of a Prometheus annotation; the overview has the
	// one of the initiatives.
	initiatives := false
	for i, a := range annotationsOf(t, ds...) {
		initiatives = initiatives || strings.Contains(a.Expr, "okr_initiative_done")
		expr, err := substitute(a.Expr, values)
		if err != nil {
			t.Errorf("%s annotation %s: %v", a.Dashboard, a.Name, err)
			continue
		}
		name := fmt.Sprintf("okrd_dashboard_annotation_%d", i)
		names[name] = panelQuery{Dashboard: a.Dashboard, Panel: "annotation " + a.Name, Expr: a.Expr}
		rules = append(rules, rule{Record: name, Expr: expr})
	}
	if !initiatives {
		t.Error("no annotation marks the initiatives' work")
	}
	// A rule file is YAML, and JSON is YAML.
	file := map[string]any{"groups": []any{map[string]any{"name": "dashboards", "rules": rules}}}
	data, err := json.MarshalIndent(file, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "dashboards.rules.yml")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput()
	if err != nil {
		// Point at the panels the messages name.
		msg := string(out)
		for name, q := range names {
			if strings.Contains(msg, `"`+name+`"`) {
				t.Errorf("%s does not parse: %s", q, q.Expr)
			}
		}
		t.Fatalf("promtool check rules: %v\n%s", err, msg)
	}
	if !strings.Contains(string(out), fmt.Sprintf("SUCCESS: %d rules found", len(rules))) {
		t.Fatalf("promtool did not check %d rules:\n%s", len(rules), out)
	}
}

// annotation is a Prometheus annotation query of a dashboard.
type annotation struct {
	Dashboard, Name, Expr string
}

func annotationsOf(t testing.TB, ds ...Dashboard) []annotation {
	t.Helper()
	var out []annotation
	for _, d := range ds {
		var jd struct {
			UID         string `json:"uid"`
			Annotations struct {
				List []struct {
					Name       string `json:"name"`
					Expr       string `json:"expr"`
					Datasource struct {
						Type string `json:"type"`
					} `json:"datasource"`
				} `json:"list"`
			} `json:"annotations"`
		}
		if err := json.Unmarshal(d.JSON, &jd); err != nil {
			t.Fatal(err)
		}
		for _, a := range jd.Annotations.List {
			if a.Datasource.Type == "prometheus" {
				out = append(out, annotation{Dashboard: jd.UID, Name: a.Name, Expr: a.Expr})
			}
		}
	}
	return out
}
