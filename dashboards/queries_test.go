package dashboards

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// This file reads the queries back out of generated dashboard JSON, so
// that the tests check exactly what Grafana would run.

// panelQuery is one query of one panel.
type panelQuery struct {
	Dashboard string // uid
	PanelID   int
	Panel     string // title
	RefID     string
	Expr      string
	Instant   bool
}

func (q panelQuery) String() string {
	return fmt.Sprintf("%s panel %d %q query %s", q.Dashboard, q.PanelID, q.Panel, q.RefID)
}

// variableQuery is a template variable's query.
type variableQuery struct {
	Dashboard string
	Name      string
	Type      string
	Query     string
	// Default is what Grafana substitutes for the variable when the
	// dashboard opens: the allValue when "All" is the current choice,
	// else the current value(s) as a regex alternation.
	Default string
}

type jsonPanel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	Targets []struct {
		RefID   string `json:"refId"`
		Expr    string `json:"expr"`
		Instant bool   `json:"instant"`
		Range   bool   `json:"range"`
	} `json:"targets"`
	Panels  []jsonPanel `json:"panels"`
	GridPos struct {
		X, Y, W, H int
	} `json:"gridPos"`
}

type jsonDashboard struct {
	UID        string      `json:"uid"`
	Title      string      `json:"title"`
	Panels     []jsonPanel `json:"panels"`
	Templating struct {
		List []struct {
			Name       string `json:"name"`
			Type       string `json:"type"`
			Query      any    `json:"query"`
			IncludeAll bool   `json:"includeAll"`
			AllValue   string `json:"allValue"`
			Current    struct {
				Value any `json:"value"`
			} `json:"current"`
		} `json:"list"`
	} `json:"templating"`
}

func decodeDashboard(t testing.TB, d Dashboard) jsonDashboard {
	t.Helper()
	var jd jsonDashboard
	if err := json.Unmarshal(d.JSON, &jd); err != nil {
		t.Fatalf("%s: %v", d.File, err)
	}
	return jd
}

// allPanels flattens rows (a collapsed row holds its panels).
func allPanels(jd jsonDashboard) []jsonPanel {
	var out []jsonPanel
	for _, p := range jd.Panels {
		out = append(out, p)
		out = append(out, p.Panels...)
	}
	return out
}

func queriesOf(t testing.TB, ds ...Dashboard) []panelQuery {
	t.Helper()
	var out []panelQuery
	for _, d := range ds {
		jd := decodeDashboard(t, d)
		for _, p := range allPanels(jd) {
			for _, tg := range p.Targets {
				out = append(out, panelQuery{Dashboard: jd.UID, PanelID: p.ID, Panel: p.Title, RefID: tg.RefID, Expr: tg.Expr, Instant: tg.Instant})
			}
		}
	}
	return out
}

func variablesOf(t testing.TB, ds ...Dashboard) []variableQuery {
	t.Helper()
	var out []variableQuery
	for _, d := range ds {
		jd := decodeDashboard(t, d)
		for _, v := range jd.Templating.List {
			q, _ := v.Query.(string)
			var current []string
			switch c := v.Current.Value.(type) {
			case string:
				current = []string{c}
			case []any:
				for _, x := range c {
					s, _ := x.(string)
					current = append(current, s)
				}
			}
			def := strings.Join(current, "|")
			if v.IncludeAll && def == "$__all" {
				def = v.AllValue
			}
			out = append(out, variableQuery{Dashboard: jd.UID, Name: v.Name, Type: v.Type, Query: q, Default: def})
		}
	}
	return out
}

var varRef = regexp.MustCompile(`\$\{?(\w+)\}?`)

// substitute replaces Grafana's variables in expr with values, as Grafana
// does before it sends the query; a variable without a value is an error.
func substitute(expr string, values map[string]string) (string, error) {
	var missing []string
	out := varRef.ReplaceAllStringFunc(expr, func(ref string) string {
		name := varRef.FindStringSubmatch(ref)[1]
		v, ok := values[name]
		if !ok {
			missing = append(missing, name)
			return ref
		}
		return v
	})
	if len(missing) > 0 {
		sort.Strings(missing)
		return "", fmt.Errorf("no value for variable(s) %s", strings.Join(missing, ", "))
	}
	return out, nil
}

// builtinValues are Grafana's own variables, as it would set them for a
// short time range on a Prometheus scraped every second.
var builtinValues = map[string]string{"__rate_interval": "1m", "__range": "5m", "__interval": "15s"}

// defaultValues is what Grafana substitutes for every variable of the
// dashboards when they open: the built-in ones and each variable's
// default; the datasource variable is not part of any expression.
func defaultValues(t testing.TB, ds ...Dashboard) map[string]string {
	t.Helper()
	values := map[string]string{}
	for k, v := range builtinValues {
		values[k] = v
	}
	for _, v := range variablesOf(t, ds...) {
		if v.Type == "datasource" {
			continue
		}
		if v.Default == "" {
			t.Fatalf("%s variable %s has no default value", v.Dashboard, v.Name)
		}
		if prev, ok := values[v.Name]; ok && prev != v.Default {
			t.Fatalf("variable %s defaults to %q in one dashboard and %q in another", v.Name, prev, v.Default)
		}
		values[v.Name] = v.Default
	}
	return values
}

// labelValuesQuery matches label_values(selector, label).
var labelValuesQuery = regexp.MustCompile(`^label_values\((.+),\s*(\w+)\)$`)
