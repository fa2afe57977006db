package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"
)

func TestSecretPrintsRedactedEverywhere(t *testing.T) {
	s := Secret("hunter2")
	for _, format := range []string{"%s", "%v", "%+v", "%#v", "%q", "%x", "%X", "%d", "%10s"} {
		if got := fmt.Sprintf(format, s); strings.Contains(got, "hunter2") || !strings.Contains(got, "<secret>") {
			t.Errorf("Sprintf(%q) = %q", format, got)
		}
	}
	type holder struct {
		Token Secret
	}
	for _, format := range []string{"%v", "%+v", "%#v"} {
		if got := fmt.Sprintf(format, holder{s}); strings.Contains(got, "hunter2") {
			t.Errorf("Sprintf(%q, struct) = %q", format, got)
		}
	}
	if s.String() != "<secret>" || s.Value() != "hunter2" {
		t.Errorf("String() = %q, Value() = %q", s.String(), s.Value())
	}
	if b, _ := s.MarshalText(); string(b) != "<secret>" {
		t.Errorf("MarshalText = %q", b)
	}
	b, _ := json.Marshal(holder{s})
	var back map[string]string
	if err := json.Unmarshal(b, &back); err != nil || back["Token"] != "<secret>" {
		t.Errorf("json = %s", b)
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("loaded", "token", s)
	if strings.Contains(buf.String(), "hunter2") || !strings.Contains(buf.String(), "token=<secret>") {
		t.Errorf("slog = %q", buf.String())
	}
}

func TestAnEmptySecretPrintsEmpty(t *testing.T) {
	var s Secret
	if got := fmt.Sprintf("%v|%s|%q", s, s, s); got != `||""` {
		t.Errorf("got %q", got)
	}
}

func TestDurationText(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		out  string
	}{
		{"30s", 30 * time.Second, "30s"},
		{"5m", 5 * time.Minute, "5m"},
		{"1h30m", 90 * time.Minute, "1h30m"},
		{"7d", 7 * 24 * time.Hour, "1w"},
		{"1w", 7 * 24 * time.Hour, "1w"},
		{"0", 0, "0s"},
	}
	for _, tt := range tests {
		var d Duration
		if err := d.UnmarshalText([]byte(tt.in)); err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if d.Duration() != tt.want {
			t.Errorf("%q = %v, want %v", tt.in, d.Duration(), tt.want)
		}
		if b, _ := d.MarshalText(); string(b) != tt.out {
			t.Errorf("%q marshals to %q, want %q", tt.in, b, tt.out)
		}
	}
	var d Duration
	for _, bad := range []string{"", "5 minutes", "-1m", "1.5h"} {
		if err := d.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestDate(t *testing.T) {
	d, err := ParseDate("2026-10-01")
	if err != nil {
		t.Fatal(err)
	}
	if d != (Date{2026, time.October, 1}) || d.String() != "2026-10-01" || d.IsZero() {
		t.Errorf("date = %+v", d)
	}
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	if got := d.Time(tokyo).Format(time.RFC3339); got != "2026-10-01T00:00:00+09:00" {
		t.Errorf("Time(Tokyo) = %s", got)
	}
	if !(Date{2026, 9, 30}).Before(d) || d.Before(d) || d.Before(Date{2026, 9, 30}) {
		t.Error("Before is wrong")
	}
	for _, bad := range []string{"2026-02-30", "2026-10-1", "01.10.2026", "2026-10-01T00:00:00Z"} {
		if _, err := ParseDate(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	var z Date
	if err := z.UnmarshalText(nil); err != nil || !z.IsZero() || z.String() != "" {
		t.Errorf("zero date: %v %+v", err, z)
	}
}

func TestFieldErrorFormats(t *testing.T) {
	tests := []struct {
		err  FieldError
		want string
	}{
		{FieldError{"okrd.toml", 12, "objectives[0].key_results[1].target", "must differ from baseline"}, "okrd.toml:12: objectives[0].key_results[1].target: must differ from baseline"},
		{FieldError{"okrd.toml", 0, "storage.dsn", "required"}, "okrd.toml: storage.dsn: required"},
		{FieldError{"okrd.toml", 3, "", "syntax error: x"}, "okrd.toml:3: syntax error: x"},
		{FieldError{"", 3, "a", "b"}, "line 3: a: b"},
		{FieldError{"", 0, "a", "b"}, "a: b"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
	errs := Errors{&tests[0].err, &tests[1].err}
	if got := errs.Error(); got != tests[0].want+"\n"+tests[1].want {
		t.Errorf("Errors = %q", got)
	}
	var fe *FieldError
	if !errors.As(error(errs), &fe) || fe.Line != 12 {
		t.Errorf("errors.As(Errors, *FieldError) = %v", fe)
	}
}

func TestFieldErrorfAndJoinedValidationErrors(t *testing.T) {
	err := errors.Join(FieldErrorf("projects[1]", "bad %q", "x"), FieldErrorf("url", "required"), errors.New("plain"))
	got := flattenErrors(err)
	if len(got) != 3 || got[0].Error() != `projects[1]: bad "x"` || got[1].Error() != "url: required" || got[2].Error() != "plain" {
		t.Errorf("flatten = %v", got)
	}
	var inv *Invalid
	if !errors.As(got[0], &inv) || inv.Field != "projects[1]" || inv.Msg != `bad "x"` {
		t.Errorf("Invalid = %+v", inv)
	}
	if flattenErrors(nil) != nil {
		t.Error("flatten(nil) != nil")
	}
}

func TestRegisterSourceTypeRejectsProgrammingErrors(t *testing.T) {
	type withType struct {
		Type string `toml:"type"`
	}
	tests := []struct {
		name string
		typ  string
		st   SourceType
	}{
		{"An empty type name panics.", "", SourceType{NewSpec: func() any { return &fakeSpec{} }}},
		{"A missing NewSpec panics.", "x1", SourceType{}},
		{"A spec that is not a pointer to a struct panics.", "x2", SourceType{NewSpec: func() any { return fakeSpec{} }}},
		{"A nil spec panics.", "x3", SourceType{NewSpec: func() any { return nil }}},
		{"A spec that redefines a common key panics.", "x4", SourceType{NewSpec: func() any { return &withType{} }}},
		{"Registering a type twice panics.", "fake", SourceType{NewSpec: func() any { return &fakeSpec{} }}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			RegisterSourceType(tt.typ, tt.st)
		})
	}
	if got := RegisteredSourceTypes(); len(got) != 1 || got[0] != "fake" {
		t.Errorf("registered = %v", got)
	}
}

func TestRegisteredSourceTypesAreSortedAndUsable(t *testing.T) {
	registerForTest(t, "aardvark", SourceType{NewSpec: func() any {
		return &struct {
			Zoo string `toml:"zoo"`
		}{}
	}})
	if got := RegisteredSourceTypes(); strings.Join(got, ",") != "aardvark,fake" {
		t.Errorf("registered = %v", got)
	}
	c, err := parse([]byte("[sources.a]\ntype = \"aardvark\"\nzoo = \"berlin\"\n"+okObjective), "okrd.toml", envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(c.String(), "zoo = 'berlin'") {
		t.Errorf("printed config lacks the spec:\n%s", c)
	}
}

func TestLoadResolvesRelativeSecretFilesAgainstTheConfigDirectory(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "conf/token", "abc\n")
	path := writeFile(t, dir, "conf/okrd.toml", "[server]\napi_token_file = \"token\"\n"+okObjective)
	// Run from elsewhere, so that only the config directory can explain success.
	t.Chdir(t.TempDir())
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.APIToken.Value() != "abc" || c.File != path {
		t.Errorf("token = %q, file = %q", c.Server.APIToken.Value(), c.File)
	}
	if _, err := os.Stat("token"); err == nil {
		t.Fatal("test is meaningless: a token file exists in the working directory")
	}
}
