package config

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

// twoObjectives is a valid document with two objectives of one key result
// each; the cases below cut it short the way an interrupted save does.
const twoObjectives = `[global]
time_zone = "Europe/Berlin"

[[objectives]]
id = "grow"
title = "Grow"
period = "2026-Q4"

  [[objectives.key_results]]
  id = "nps"
  title = "NPS"
  baseline = 31
  target = 40

[[objectives]]
id = "ship"
title = "Ship"
period = "2026-Q4"

  [[objectives.key_results]]
  id = "lead-time"
  title = "Lead time"
  baseline = 10
  target = 5
`

// cutAfter returns twoObjectives up to and including the first occurrence
// of s.
func cutAfter(t *testing.T, s string) string {
	t.Helper()
	i := strings.Index(twoObjectives, s)
	if i < 0 {
		t.Fatalf("%q is not in the document", s)
	}
	return twoObjectives[:i+len(s)]
}

func TestLoadRefusesAConfigurationThatDefinesNothing(t *testing.T) {
	noObjectives := "okrd.toml: objectives: at least one objective is required (an [[objectives]] table with a [[objectives.key_results]] table)"
	noSettings := "okrd.toml: the file has no settings (it is empty or holds only comments); a configuration needs at least one [[objectives]] table with a [[objectives.key_results]] table"
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"An empty file is refused.", "", []string{noSettings}},
		{"A file of blank lines is refused.", "\n  \n\t\n", []string{noSettings}},
		{"A file of comments only is refused.", "# okrd configuration\n# objectives follow\n", []string{noSettings}},
		{"A file with settings but no objective is refused.", "[global]\ntime_zone = \"UTC\"\n[server]\nlisten_address = \":9184\"\n", []string{noObjectives}},
		{"An objectives array in the wrong table is refused, and so is the missing one.", "[global]\ntime_zone = \"UTC\"\nobjectives = []\n", []string{
			noObjectives,
			"okrd.toml:3: global.objectives: unknown key",
		}},
		{"An empty top-level objectives array is refused at its line.", "objectives = []\n", []string{
			"okrd.toml:1: objectives: at least one objective is required (an [[objectives]] table with a [[objectives.key_results]] table)",
		}},
		{"A file cut before its first objective is refused.", cutAfter(t, "time_zone = \"Europe/Berlin\"\n"), []string{noObjectives}},
		{"A file cut after an objective's header is refused.", cutAfter(t, "[[objectives]]\n"), []string{
			"okrd.toml:4: objectives[0].id: required",
			"okrd.toml:4: objectives[0].title: required",
			"okrd.toml:4: objectives[0].period: required: set period (like \"2026-Q4\") or both start and end",
			"okrd.toml:4: objectives[0].key_results: at least one key result is required",
		}},
		{"A file cut before an objective's key results is refused.", cutAfter(t, "period = \"2026-Q4\"\n"), []string{
			"okrd.toml:4: objectives[0].key_results: at least one key result is required",
		}},
		{"A file cut inside a key result is refused.", cutAfter(t, "baseline = 31\n"), []string{
			"okrd.toml:9: objectives[0].key_results[0].target: required (with baseline; or set min and max to maintain a band)",
		}},
		{"A file cut inside a table header is a syntax error.", cutAfter(t, "[[objec"), []string{
			"okrd.toml:4: syntax error: expected ']]' to close array table name",
		}},
		{"A file cut inside a string is a syntax error.", cutAfter(t, "title = \"Gr"), []string{
			"okrd.toml:6: syntax error: unterminated basic string",
		}},
		{"A file cut after the second objective's header is refused.", cutAfter(t, "id = \"ship\"\n"), []string{
			"okrd.toml:15: objectives[1].title: required",
			"okrd.toml:15: objectives[1].period: required: set period (like \"2026-Q4\") or both start and end",
			"okrd.toml:15: objectives[1].key_results: at least one key result is required",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := writeFile(t, t.TempDir(), "okrd.toml", tt.doc)
			c, err := Load(p)
			if c != nil {
				t.Fatalf("Load accepted the document:\n%s", c)
			}
			want := make([]string, len(tt.want))
			for i, w := range tt.want {
				want[i] = strings.Replace(w, "okrd.toml", p, 1)
			}
			if got := errorLines(t, err); !reflect.DeepEqual(got, want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// TestEveryPrefixOfTheExampleIsRefusedOrComplete cuts the example
// configuration after every line, as a save interrupted at any point
// leaves it, and checks that no prefix is accepted as a configuration
// without objectives or with an objective without key results: each prefix
// is either refused with errors that name the file, or keeps every
// objective it holds complete.
func TestEveryPrefixOfTheExampleIsRefusedOrComplete(t *testing.T) {
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	accepted := 0
	for end := 0; end <= len(data); end++ {
		if end < len(data) && (end == 0 || data[end-1] != '\n') {
			continue
		}
		c, err := parse(data[:end], examplePath, envOf(nil))
		if err != nil {
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("cut at byte %d: error %T %v, want Errors", end, err, err)
			}
			for _, e := range errs {
				if e.File != examplePath {
					t.Fatalf("cut at byte %d: error does not name the file: %v", end, e)
				}
			}
			continue
		}
		accepted++
		if len(c.Objectives) == 0 {
			t.Fatalf("cut at byte %d (line %d): accepted without objectives", end, bytes.Count(data[:end], []byte("\n")))
		}
		for _, o := range c.Objectives {
			if len(o.KeyResults) == 0 {
				t.Fatalf("cut at byte %d: objective %q accepted without key results", end, o.ID)
			}
		}
	}
	if accepted == 0 {
		t.Fatal("no prefix was accepted, not even the whole file")
	}
}
