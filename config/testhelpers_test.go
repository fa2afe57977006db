package config

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// fakeSpec is the configuration of the "fake" source type that the tests
// register, shaped like a real one: a URL, a list, a secret with its _file
// twin, a defaulted key and a nested table.
type fakeSpec struct {
	URL       string   `toml:"url"`
	Projects  []string `toml:"projects"`
	Token     Secret   `toml:"token"`
	TokenFile string   `toml:"token_file"`
	Flavor    string   `toml:"flavor"`
	PageSize  int      `toml:"page_size"`
	Backoff   Duration `toml:"backoff"`
	Options   struct {
		Retries uint8 `toml:"retries"`
	} `toml:"options"`
}

func (s *fakeSpec) Defaults() {
	s.Flavor = "cloud"
	s.PageSize = 50
}

func (s *fakeSpec) Validate() error {
	var errs []error
	if s.URL == "" {
		errs = append(errs, FieldErrorf("url", "required"))
	}
	for i, p := range s.Projects {
		if p != strings.ToUpper(p) {
			errs = append(errs, FieldErrorf(fmt.Sprintf("projects[%d]", i), "must be an upper-case project key, not %q", p))
		}
	}
	if s.Flavor != "cloud" && s.Flavor != "server" {
		errs = append(errs, FieldErrorf("flavor", "must be \"cloud\" or \"server\", not %q", s.Flavor))
	}
	if s.PageSize > 100 {
		errs = append(errs, errors.New("page_size above 100 is refused by the fake API"))
	}
	return errors.Join(errs...)
}

func validateFakeKeyResult(spec any, kr *KeyResult) error {
	if _, ok := spec.(*fakeSpec); !ok {
		return fmt.Errorf("spec is %T", spec)
	}
	switch kr.Metric {
	case "throughput", "lead_time":
		return nil
	case "":
		return FieldErrorf("metric", "required for a fake source")
	}
	return FieldErrorf("metric", "unknown metric %q for a fake source; known: lead_time, throughput", kr.Metric)
}

func init() {
	RegisterSourceType("fake", SourceType{
		NewSpec:           func() any { return &fakeSpec{} },
		ValidateKeyResult: validateFakeKeyResult,
	})
}

// registerForTest registers a source type for the duration of one test.
func registerForTest(t *testing.T, typ string, st SourceType) {
	t.Helper()
	RegisterSourceType(typ, st)
	t.Cleanup(func() {
		registry.Lock()
		delete(registry.types, typ)
		registry.Unlock()
	})
}

// envOf returns an environment lookup backed by a map, so that tests need
// not touch the process environment and can run in parallel.
func envOf(env map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
}

// errorLines returns the lines of an error returned by Parse, or nil.
func errorLines(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("error is %T, want Errors: %v", err, err)
	}
	if len(errs) == 0 {
		t.Fatalf("Parse returned an empty Errors")
	}
	lines := make([]string, len(errs))
	for i, e := range errs {
		lines[i] = e.Error()
	}
	return lines
}

// okObjective is a valid objective, appended to documents that test other
// sections.
const okObjective = `
[[objectives]]
id = "o"
title = "O"
period = "2026-Q4"
  [[objectives.key_results]]
  id = "k"
  title = "K"
  baseline = 1
  target = 2
`

// krDoc returns a document whose only key result starts with id and title
// on lines 6 and 7; the given lines follow from line 8.
func krDoc(lines ...string) string {
	return "[[objectives]]\nid = \"o\"\ntitle = \"O\"\nperiod = \"2026-Q4\"\n" +
		"[[objectives.key_results]]\nid = \"k\"\ntitle = \"K\"\n" + strings.Join(lines, "\n") + "\n"
}

// objDoc returns a document whose only objective has the given lines from
// line 2, followed by a valid key result.
func objDoc(lines ...string) string {
	return "[[objectives]]\n" + strings.Join(lines, "\n") +
		"\n[[objectives.key_results]]\nid = \"k\"\ntitle = \"K\"\nbaseline = 1\ntarget = 2\n"
}

// fakeSourceDoc returns a document with a valid fake source [sources.s]
// whose lines 2-3 are type and url, followed by the given lines from line 4,
// and a key result bound to it.
func fakeSourceDoc(lines ...string) string {
	return "[sources.s]\ntype = \"fake\"\nurl = \"https://fake.example\"\n" + strings.Join(lines, "\n") + "\n" +
		"[[objectives]]\nid = \"o\"\ntitle = \"O\"\nperiod = \"2026-Q4\"\n" +
		"[[objectives.key_results]]\nid = \"k\"\ntitle = \"K\"\nsource = \"s\"\nmetric = \"throughput\"\nbaseline = 1\ntarget = 2\n"
}
