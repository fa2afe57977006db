package dashboards

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// schemaConfig has what the example lacks: objectives of different
// periods, a band, weights and a key result with its own team.
const schemaConfig = `
[[objectives]]
id = "grow"
title = "Grow"
period = "2026-Q4"
team = "growth"

  [[objectives.key_results]]
  id = "arr"
  title = "ARR"
  baseline = 1
  target = 2
  unit = "currency"
  currency = "EUR"
  weight = 3

  [[objectives.key_results]]
  id = "latency"
  title = "Latency"
  min = 0
  max = 0.3
  unit = "duration"
  team = "platform"

[[objectives]]
id = "year"
title = "A year"
period = "2026"

  [[objectives.key_results]]
  id = "nps"
  title = "NPS"
  baseline = 31
  target = 40
`

// TestDashboardsFollowGrafanasSchema decodes every generated dashboard
// (those of the example and of a second configuration, and the committed
// files) with the SDK's strict decoder, generated from Grafana's dashboard
// schema, which rejects a missing or null required field and a value of
// the wrong type; and walks every panel, those of rows included, for what
// Grafana needs of each: a unique id, a place on the 24 columns, a
// fieldConfig and options, the data source variable, a footer reducer list
// on tables, and a repeat variable that exists and takes several values.
func TestDashboardsFollowGrafanasSchema(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	sets := map[string][]Dashboard{}
	for name, cfg := range map[string]func() []Dashboard{
		"config.example.toml": func() []Dashboard {
			ds, err := Generate(exampleConfig(t))
			if err != nil {
				t.Fatal(err)
			}
			return ds
		},
		"second configuration": func() []Dashboard {
			ds, err := Generate(parseConfig(t, schemaConfig))
			if err != nil {
				t.Fatal(err)
			}
			return ds
		},
		"committed files": func() []Dashboard {
			var ds []Dashboard
			for _, f := range []string{OverviewUID, DeliveryUID, HealthUID} {
				data, err := os.ReadFile(f + ".json")
				if err != nil {
					t.Fatal(err)
				}
				ds = append(ds, Dashboard{UID: f, File: f + ".json", JSON: data})
			}
			return ds
		},
	} {
		sets[name] = cfg()
	}
	for name, ds := range sets {
		for _, d := range ds {
			t.Run(name+"/"+d.UID, func(t *testing.T) {
				for _, problem := range schemaProblems(d.JSON) {
					t.Error(problem)
				}
			})
		}
	}
}

// schemaProblems lists what is wrong with a dashboard's JSON model.
func schemaProblems(data []byte) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	var strict dashboard.Dashboard
	if err := strict.UnmarshalJSONStrict(data); failed(err) {
		add("strict decoding: %v", err)
	} else if err := strict.Validate(); failed(err) {
		add("validation: %v", err)
	}

	var d map[string]any
	if err := json.Unmarshal(data, &d); err != nil {
		return append(problems, err.Error())
	}
	variables := map[string]map[string]any{}
	templating, _ := d["templating"].(map[string]any)
	list, _ := templating["list"].([]any)
	for _, v := range list {
		v, _ := v.(map[string]any)
		name, _ := v["name"].(string)
		variables[name] = v
	}
	ds, ok := variables[varDatasource]
	if !ok || ds["type"] != "datasource" {
		add("no datasource variable")
	}

	ids := map[float64]string{}
	top, _ := d["panels"].([]any)
	var walk func(where string, panels []any)
	walk = func(where string, panels []any) {
		for i, p := range panels {
			p, ok := p.(map[string]any)
			if !ok {
				add("%s panel %d is not an object", where, i)
				continue
			}
			title, _ := p["title"].(string)
			name := fmt.Sprintf("%spanel %q", where, title)
			typ, _ := p["type"].(string)
			if typ == "" {
				add("%s has no type", name)
			}
			id, _ := p["id"].(float64)
			if id <= 0 || id != float64(int64(id)) {
				add("%s: id %v is not a positive integer", name, p["id"])
			} else if other, dup := ids[id]; dup {
				add("%s: id %v is also %s's", name, id, other)
			} else {
				ids[id] = name
			}
			g, _ := p["gridPos"].(map[string]any)
			x, xok := g["x"].(float64)
			y, yok := g["y"].(float64)
			w, _ := g["w"].(float64)
			h, _ := g["h"].(float64)
			if !xok || !yok || x < 0 || y < 0 || w < 1 || h < 1 || x+w > fullWidth {
				add("%s: gridPos %v is not within the %d columns", name, p["gridPos"], fullWidth)
			}
			if typ == "row" {
				if repeat, _ := p["repeat"].(string); repeat != "" {
					v, ok := variables[repeat]
					if !ok {
						add("%s repeats by $%s, which is not a variable", name, repeat)
					} else if v["multi"] != true && v["includeAll"] != true {
						add("%s repeats by $%s, which takes a single value", name, repeat)
					}
				}
				inner, _ := p["panels"].([]any)
				if p["collapsed"] != true && len(inner) > 0 {
					add("%s is expanded but holds panels, which Grafana drops", name)
				}
				walk(name+" > ", inner)
				continue
			}
			fc, ok := p["fieldConfig"].(map[string]any)
			if !ok {
				add("%s has no fieldConfig", name)
			} else {
				if _, ok := fc["defaults"].(map[string]any); !ok {
					add("%s: fieldConfig has no defaults", name)
				}
				if _, ok := fc["overrides"].([]any); !ok {
					add("%s: fieldConfig.overrides is not a list", name)
				}
			}
			options, ok := p["options"].(map[string]any)
			if !ok {
				add("%s has no options", name)
			}
			if typ == "table" {
				if footer, ok := options["footer"].(map[string]any); ok {
					if r, ok := footer["reducer"].([]any); !ok {
						add("%s: options.footer.reducer is %v, not a list", name, footer["reducer"])
					} else {
						for _, x := range r {
							if _, ok := x.(string); !ok {
								add("%s: options.footer.reducer holds %v", name, x)
							}
						}
					}
				}
			}
			if !isDatasourceVariable(p["datasource"]) {
				add("%s does not query the $%s variable: %v", name, varDatasource, p["datasource"])
			}
			targets, _ := p["targets"].([]any)
			if len(targets) == 0 {
				add("%s has no query", name)
			}
			for _, tg := range targets {
				tg, _ := tg.(map[string]any)
				if !isDatasourceVariable(tg["datasource"]) {
					add("%s query %v does not query the $%s variable", name, tg["refId"], varDatasource)
				}
				if expr, _ := tg["expr"].(string); strings.TrimSpace(expr) == "" {
					add("%s query %v has no expression", name, tg["refId"])
				}
			}
			if repeat, _ := p["repeat"].(string); repeat != "" {
				if _, ok := variables[repeat]; !ok {
					add("%s repeats by $%s, which is not a variable", name, repeat)
				}
			}
		}
	}
	walk("", top)
	return problems
}

// failed tells an error from the SDK's empty list of errors, which its
// decoder returns when all is well.
func failed(err error) bool {
	if errs, ok := err.(cog.BuildErrors); ok {
		return len(errs) > 0
	}
	return err != nil
}

func isDatasourceVariable(v any) bool {
	ds, _ := v.(map[string]any)
	return ds["type"] == "prometheus" && ds["uid"] == "${"+varDatasource+"}"
}

// TestSchemaProblemsAreFound makes sure the schema test can fail: each
// broken model must be reported, for the reason given.
func TestSchemaProblemsAreFound(t *testing.T) {
	ds, err := Generate(exampleConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	if p := schemaProblems(ds[2].JSON); len(p) > 0 {
		t.Fatalf("the health dashboard has problems before it is broken: %v", p)
	}
	tests := []struct {
		name   string
		break_ func(d map[string]any)
		want   string
	}{
		{"a null footer reducer, to the strict decoder", func(d map[string]any) {
			firstOfType(d, "table")["options"].(map[string]any)["footer"].(map[string]any)["reducer"] = nil
		}, "reducer: required field is null"},
		{"a null footer reducer", func(d map[string]any) {
			firstOfType(d, "table")["options"].(map[string]any)["footer"].(map[string]any)["reducer"] = nil
		}, "options.footer.reducer is <nil>, not a list"},
		{"a panel without fieldConfig", func(d map[string]any) {
			delete(firstOfType(d, "stat"), "fieldConfig")
		}, "has no fieldConfig"},
		{"a fixed data source", func(d map[string]any) {
			firstOfType(d, "stat")["datasource"] = map[string]any{"type": "prometheus", "uid": "P1809F7CD0C75ACF3"}
		}, "does not query the $datasource variable"},
		{"two panels of one id", func(d map[string]any) {
			ps := d["panels"].([]any)
			ps[1].(map[string]any)["id"] = ps[0].(map[string]any)["id"]
		}, "is also"},
		{"a panel past the 24th column", func(d map[string]any) {
			firstOfType(d, "stat")["gridPos"].(map[string]any)["x"] = 20.0
			firstOfType(d, "stat")["gridPos"].(map[string]any)["w"] = 8.0
		}, "is not within the 24 columns"},
		{"a row repeated by a missing variable", func(d map[string]any) {
			firstOfType(d, "row")["repeat"] = "nothing"
		}, "repeats by $nothing, which is not a variable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d map[string]any
			if err := json.Unmarshal(ds[2].JSON, &d); err != nil {
				t.Fatal(err)
			}
			tt.break_(d)
			data, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			problems := schemaProblems(data)
			found := false
			for _, p := range problems {
				if strings.Contains(p, tt.want) {
					found = true
				}
			}
			if !found {
				t.Errorf("want a problem with %q, got %v", tt.want, problems)
			}
		})
	}
}

// firstOfType is the first top-level panel of a type.
func firstOfType(d map[string]any, typ string) map[string]any {
	for _, p := range d["panels"].([]any) {
		if p := p.(map[string]any); p["type"] == typ {
			return p
		}
	}
	panic("no " + typ + " panel")
}
