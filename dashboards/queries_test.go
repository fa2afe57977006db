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
	// Regex is the variable's regex, /.../, or "".
	Regex string
	// Default is what Grafana substitutes for the variable when the
	// dashboard opens: the allValue when "All" is the current choice,
	// else the current value(s) as a regex alternation.
	Default string
}

type jsonPanel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Repeat     string `json:"repeat"`
	Collapsed  bool   `json:"collapsed"`
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
			Regex      string `json:"regex"`
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

// repeatedRows maps each row that repeats by a variable to its panels:
// those it holds when collapsed, else those that follow it up to the next
// row, as Grafana reads them.
func repeatedRows(jd jsonDashboard) map[string][]jsonPanel {
	out := map[string][]jsonPanel{}
	var current string
	for _, p := range jd.Panels {
		if p.Type == "row" {
			current = ""
			if p.Repeat != "" {
				current = p.Title
				out[current] = append([]jsonPanel{}, p.Panels...)
			}
			continue
		}
		if current != "" {
			out[current] = append(out[current], p)
		}
	}
	return out
}

// queriesOfPanels lists the queries of the given panels of dashboard uid.
func queriesOfPanels(uid string, ps []jsonPanel) []panelQuery {
	var out []panelQuery
	for _, p := range ps {
		for _, tg := range p.Targets {
			out = append(out, panelQuery{Dashboard: uid, PanelID: p.ID, Panel: p.Title, RefID: tg.RefID, Expr: tg.Expr, Instant: tg.Instant})
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
			out = append(out, variableQuery{Dashboard: jd.UID, Name: v.Name, Type: v.Type, Query: q, Regex: v.Regex, Default: def})
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

// queryResultQuery matches query_result(expr).
var queryResultQuery = regexp.MustCompile(`^query_result\((.+)\)$`)

// variableExpr is the PromQL a query variable runs: the selector of
// label_values(selector, label), with the label, or the expression of
// query_result(expr), with label "".
func variableExpr(v variableQuery) (expr, label string, err error) {
	if sub := labelValuesQuery.FindStringSubmatch(v.Query); sub != nil {
		return sub[1], sub[2], nil
	}
	if sub := queryResultQuery.FindStringSubmatch(v.Query); sub != nil {
		return sub[1], "", nil
	}
	return "", "", fmt.Errorf("%s variable %s: query %q is neither label_values(selector, label) nor query_result(expr)", v.Dashboard, v.Name, v.Query)
}

// grafanaRegex compiles a variable's /regex/ (JavaScript's syntax, whose
// named groups Go's regexp reads too).
func grafanaRegex(s string) (*regexp.Regexp, error) {
	if len(s) < 2 || s[0] != '/' || strings.LastIndex(s, "/") == 0 {
		return nil, fmt.Errorf("regex %q is not /.../", s)
	}
	end := strings.LastIndex(s, "/")
	if flags := s[end+1:]; flags != "" {
		return nil, fmt.Errorf("regex %q: flags %q are not expected", s, flags)
	}
	return regexp.Compile(s[1:end])
}

// queryResultLine is a series of an instant query as Grafana's
// query_result lists it, before the variable's regex: the metric name,
// the labels between braces in Prometheus's order (sorted by name) as
// name="value" joined by commas, the value and the time in milliseconds.
func queryResultLine(metric map[string]string, value string, ts float64) string {
	var names []string
	for k := range metric {
		if k != "__name__" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = k + `="` + metric[k] + `"`
	}
	return fmt.Sprintf("%s{%s} %s %v", metric["__name__"], strings.Join(parts, ","), value, int64(ts*1000))
}

// variableOption is one choice of a variable: what it shows and its value.
type variableOption struct{ Text, Value string }

// applyRegex turns lines into a variable's options as Grafana does with
// named groups: value from the "value" group (else "text"), text from the
// "text" group (else the value). A line that does not match is dropped.
func applyRegex(re *regexp.Regexp, lines []string) []variableOption {
	var out []variableOption
	for _, l := range lines {
		sub := re.FindStringSubmatch(l)
		if sub == nil {
			continue
		}
		var text, value string
		if i := re.SubexpIndex("text"); i > 0 {
			text = sub[i]
		}
		if i := re.SubexpIndex("value"); i > 0 {
			value = sub[i]
		}
		if value == "" {
			value = text
		}
		if text == "" {
			text = value
		}
		out = append(out, variableOption{text, value})
	}
	return out
}
