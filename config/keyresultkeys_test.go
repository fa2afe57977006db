package config

import (
	"strings"
	"testing"
)

func TestAKeyResultKeyOfOneSourceTypeIsRefusedElsewhere(t *testing.T) {
	registerForTest(t, "reader", SourceType{
		NewSpec:       func() any { return &struct{}{} },
		KeyResultKeys: []string{"history_query"},
	})
	for _, tc := range []struct {
		name, doc string
		want      []string
	}{
		{"the type that reads it accepts it", "[sources.r]\ntype = \"reader\"\n" +
			krDoc(`source = "r"`, `history_query = "select 1 where :at is not null"`, `baseline = 1`, `target = 2`), nil},
		{"another type refuses it", fakeSource +
			krDoc(`source = "s"`, `metric = "throughput"`, `history_query = "select 1 where :at is not null"`, `baseline = 1`, `target = 2`),
			[]string{`okrd.toml:13: objectives[0].key_results[0].history_query: applies only to a key result bound to a reader source, not to a fake source`}},
		{"a manual key result refuses it", krDoc(`history_query = "select 1 where :at is not null"`, `baseline = 1`, `target = 2`),
			[]string{`okrd.toml:8: objectives[0].key_results[0].history_query: applies only to a key result with a source (without one, values come from manual check-ins)`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc), "okrd.toml")
			if got := errorLines(t, err); strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestRegisteringAKeyResultKeyThatDoesNotExistPanics(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), `KeyResultKeys names "histroy_query", which is no key of a key result`) {
			t.Errorf("recovered %v", r)
		}
	}()
	RegisterSourceType("misspelled", SourceType{NewSpec: func() any { return &struct{}{} }, KeyResultKeys: []string{"histroy_query"}})
}
