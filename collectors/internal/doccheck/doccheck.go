// Package doccheck holds test helpers that keep a source type's
// documentation honest: every key of its spec appears in
// config.example.toml and in its docs page, and the commented example in
// config.example.toml loads once uncommented. Only tests import it.
package doccheck

import (
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// Keys returns the TOML keys of a spec struct and of the tables inside it,
// flattening untagged embedded structs as the configuration loader does.
func Keys(spec any) []string {
	seen := map[string]bool{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return
		}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			if f.Anonymous && name == "" {
				walk(f.Type)
				continue
			}
			if name == "" {
				name = f.Name
			}
			seen[name] = true
			walk(f.Type)
		}
	}
	walk(reflect.TypeOf(spec))
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// CheckExample fails t for every key of spec that config.example.toml
// (at path) does not show as `key =`, commented out or not.
func CheckExample(t *testing.T, path string, spec any) {
	t.Helper()
	text := read(t, path)
	for _, k := range Keys(spec) {
		re := regexp.MustCompile(`(?m)(^|[\s{,#])` + regexp.QuoteMeta(k) + `\s*=`)
		if !re.MatchString(text) {
			t.Errorf("%s does not show the key %s", path, k)
		}
	}
}

// CheckDocs fails t for every key of spec that the docs page (at path)
// does not mention as `key`.
func CheckDocs(t *testing.T, path string, spec any) {
	t.Helper()
	text := read(t, path)
	for _, k := range Keys(spec) {
		if !strings.Contains(text, "`"+k+"`") && !regexp.MustCompile("`[^`]*\\b"+regexp.QuoteMeta(k)+"\\b[^`]*`").MatchString(text) {
			t.Errorf("%s does not document the key %s", path, k)
		}
	}
}

// ExampleSource returns the commented-out table [sources.NAME] of
// config.example.toml, uncommented: from its header to the first line
// that is only "#". Lines that stay comments ("# # ...") stay comments.
func ExampleSource(t *testing.T, path, name string) string {
	t.Helper()
	var out []string
	in := false
	for _, line := range strings.Split(read(t, path), "\n") {
		if line == "# [sources."+name+"]" {
			in = true
		}
		if !in {
			continue
		}
		if line == "#" || !strings.HasPrefix(line, "# ") {
			break
		}
		out = append(out, strings.TrimPrefix(line, "# "))
	}
	if len(out) == 0 {
		t.Fatalf("%s has no commented-out [sources.%s] table", path, name)
	}
	return strings.Join(out, "\n") + "\n"
}

// ExampleKeyResult returns the commented-out key result with the given id
// of config.example.toml, uncommented, under a minimal objective, so that
// it can be parsed together with ExampleSource.
func ExampleKeyResult(t *testing.T, path, id string) string {
	t.Helper()
	lines := strings.Split(read(t, path), "\n")
	idLine := regexp.MustCompile(`^id\s*=\s*"` + regexp.QuoteMeta(id) + `"$`)
	for i, line := range lines {
		if line != "  # [[objectives.key_results]]" {
			continue
		}
		var block []string
		for _, l := range lines[i:] {
			if !strings.HasPrefix(l, "  # ") {
				break
			}
			block = append(block, strings.TrimPrefix(l, "  # "))
		}
		if len(block) > 1 && idLine.MatchString(block[1]) {
			return "[[objectives]]\nid = \"example\"\ntitle = \"Example\"\nperiod = \"2026-Q4\"\n" + strings.Join(block, "\n") + "\n"
		}
	}
	t.Fatalf("%s has no commented-out key result %q", path, id)
	return ""
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
