package config

import (
	"reflect"
	"strings"
	"testing"
)

// objective is an objective table with one key result; extra lines go
// after the id.
func objective(id string, extra ...string) string {
	return "\n[[objectives]]\nid = \"" + id + "\"\ntitle = \"" + strings.ToUpper(id) + "\"\nperiod = \"2026-Q4\"\n" +
		strings.Join(extra, "\n") + "\n  [[objectives.key_results]]\n  id = \"k\"\n  title = \"K\"\n  baseline = 0\n  target = 10\n"
}

// bare is an objective table without key results.
func bare(id string, extra ...string) string {
	return "\n[[objectives]]\nid = \"" + id + "\"\ntitle = \"" + strings.ToUpper(id) + "\"\nperiod = \"2026-Q4\"\n" + strings.Join(extra, "\n") + "\n"
}

func TestAlignmentErrorsNameTheObjectiveAndTheField(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{
			name: "an unknown parent is rejected with the objectives that exist",
			doc:  objective("a") + objective("b", `parent = "nope"`),
			want: []string{`okrd.toml:17: objectives[1].parent: unknown objective "nope" (objectives: a, b)`},
		},
		{
			name: "an objective that is its own parent is rejected",
			doc:  objective("a", `parent = "a"`),
			want: []string{`okrd.toml:6: objectives[0].parent: an objective cannot be its own parent: a -> a`},
		},
		{
			name: "a cycle of three is reported once with its path, from its first objective in the file",
			doc: objective("x") + objective("b", `parent = "c"`) + objective("a", `parent = "b"`) +
				objective("c", `parent = "a"`),
			want: []string{`okrd.toml:17: objectives[1].parent: objectives form a cycle of parents: b -> c -> a -> b`},
		},
		{
			name: "a cycle of two above a valid child is reported once",
			doc:  objective("a", `parent = "b"`) + objective("b", `parent = "a"`) + objective("c", `parent = "a"`),
			want: []string{`okrd.toml:6: objectives[0].parent: objectives form a cycle of parents: a -> b -> a`},
		},
		{
			name: "progress_from children without children is rejected",
			doc:  objective("a", `progress_from = "children"`),
			want: []string{`okrd.toml:6: objectives[0].progress_from: "children" needs child objectives, but no objective names "a" as its parent`},
		},
		{
			name: "an unknown progress_from is rejected",
			doc:  objective("a", `progress_from = "kids"`),
			want: []string{`okrd.toml:6: objectives[0].progress_from: unknown value "kids" (one of key_results, children)`},
		},
		{
			name: "a negative objective weight is rejected",
			doc:  objective("a") + objective("b", `parent = "a"`, `weight = -1`),
			want: []string{`okrd.toml:18: objectives[1].weight: must be a number of at least 0, not -1`},
		},
		{
			name: "an objective tolerance of 1 is rejected",
			doc:  objective("a", `tolerance = 1`),
			want: []string{`okrd.toml:6: objectives[0].tolerance: must be between 0 and 1 (exclusive), like 0.1, not 1`},
		},
		{
			name: "an objective without key results that does not roll up children is rejected",
			doc:  bare("a") + objective("b", `parent = "a"`),
			want: []string{`okrd.toml:2: objectives[0].key_results: at least one key result is required (or progress_from = "children", since other objectives name "a" as their parent)`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse([]byte(tt.doc), "okrd.toml", envOf(nil))
			if got := errorLines(t, err); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestAlignmentResolvesChildrenAndDepth(t *testing.T) {
	doc := bare("company", `progress_from = "children"`) +
		objective("dept", `parent = "company"`, `weight = 2`) +
		objective("team-a", `parent = "dept"`) +
		objective("team-b", `parent = "dept"`) +
		objective("other")
	cfg, err := parse([]byte(doc), "okrd.toml", envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	ids := func(os []*Objective) []string {
		var out []string
		for _, o := range os {
			out = append(out, o.ID)
		}
		return out
	}
	c, d, other := cfg.Objective("company"), cfg.Objective("dept"), cfg.Objective("other")
	if got := ids(c.Children); !reflect.DeepEqual(got, []string{"dept"}) {
		t.Errorf("company children = %v", got)
	}
	if got := ids(d.Children); !reflect.DeepEqual(got, []string{"team-a", "team-b"}) {
		t.Errorf("dept children = %v", got)
	}
	if len(other.Children) != 0 || other.Depth != 0 || other.ProgressFrom != ProgressFromKeyResults || *other.Weight != 1 {
		t.Errorf("other: children %v depth %d progress_from %q weight %v", ids(other.Children), other.Depth, other.ProgressFrom, *other.Weight)
	}
	if c.Depth != 0 || d.Depth != 1 || cfg.Objective("team-b").Depth != 2 {
		t.Errorf("depths %d %d %d, want 0 1 2", c.Depth, d.Depth, cfg.Objective("team-b").Depth)
	}
	if !c.RollsUp() || d.RollsUp() {
		t.Errorf("RollsUp: company %v dept %v, want true false", c.RollsUp(), d.RollsUp())
	}
	if *d.Weight != 2 || *c.Tolerance != 0.1 {
		t.Errorf("dept weight %v, company tolerance %v", *d.Weight, *c.Tolerance)
	}
	// The derived fields are not printed back.
	if s := cfg.String(); strings.Contains(s, "children = ") || strings.Contains(s, "depth") {
		t.Errorf("String prints derived fields:\n%s", s)
	}
}
