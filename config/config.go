// Package config owns okrd's configuration file: strict TOML decoding
// (unknown keys are errors), ${ENV} expansion and *_file secrets, defaults,
// validation with a file, line and field path for every problem, and the
// registry through which source types (jira, github, sql, ...) declare
// their own keys. It does no polling and no evaluation; it hands the rest
// of okrd a Config whose derived fields (time zone, resolved periods, the
// okr view of each key result) are ready to use.
//
// A Config is immutable once returned: reloading means loading a new one
// and swapping it in only if it is valid.
package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// Load reads and parses the configuration file at path. An unreadable file
// is returned as the *fs.PathError; invalid content as Errors. Relative
// periods ("current-quarter") are resolved at the current time.
func Load(path string) (*Config, error) {
	return LoadAt(path, time.Now())
}

// LoadAt is Load with relative periods resolved at now: the daemon passes
// its own clock, so that the quarter it evaluates is the quarter it loaded.
func LoadAt(path string, now time.Time) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	return parseAt(data, path, os.LookupEnv, now)
}

// Parse parses a configuration. file names it in errors and locates
// relative *_file paths (against its directory); it may be empty, in which
// case they are relative to the current directory. ${ENV} references are
// resolved from the process environment.
//
// On invalid input it returns a nil Config and Errors with every problem
// found, sorted by line.
func Parse(data []byte, file string) (*Config, error) {
	return parseAt(data, file, os.LookupEnv, time.Now())
}

// parse is Parse with the environment as a parameter, for tests.
func parse(data []byte, file string, lookupEnv func(string) (string, bool)) (*Config, error) {
	return parseAt(data, file, lookupEnv, time.Now())
}

// parseAt is parse with the time relative periods are resolved at.
func parseAt(data []byte, file string, lookupEnv func(string) (string, bool), now time.Time) (*Config, error) {
	// One pass reads the TOML: syntax, keys defined twice and values that
	// do not exist (2026-02-30) are errors before any decoding.
	tree, idx, docErr := parseDocument(data)
	if docErr != nil {
		docErr.File = file
		return nil, Errors{docErr}
	}

	c := &collector{file: file, idx: idx, failed: map[string]bool{}}
	d := &decoder{collector: c, lookupEnv: lookupEnv}
	cfg := &Config{File: file}
	d.decodeExpanded("", tree, reflect.ValueOf(cfg).Elem())

	dir := "."
	if file != "" {
		dir = filepath.Dir(file)
	}
	resolveSecretFiles(c, dir, "server", &cfg.Server)
	resolveSecretFiles(c, dir, "storage", &cfg.Storage)
	resolveSecretFiles(c, dir, "alerting", &cfg.Alerting)
	for name, src := range cfg.Sources {
		if src.Spec != nil {
			resolveSecretFiles(c, dir, joinPath("sources", name), src.Spec)
		}
	}

	validate(c, cfg, now)
	if len(c.errs) > 0 {
		sortErrors(c.errs)
		return nil, c.errs
	}
	return cfg, nil
}

// Objective returns the objective with the given id, or nil.
func (c *Config) Objective(id string) *Objective {
	for _, o := range c.Objectives {
		if o.ID == id {
			return o
		}
	}
	return nil
}

// KeyResult returns the objective's key result with the given id, or nil.
func (o *Objective) KeyResult(id string) *KeyResult {
	for _, kr := range o.KeyResults {
		if kr.ID == id {
			return kr
		}
	}
	return nil
}

// String prints the configuration, defaults included, as TOML with every
// secret shown as "<secret>". A secret read from a *_file key is printed
// as that key only, and empty values outside source tables are left out,
// so that the output is short and parses again.
func (c *Config) String() string {
	p := struct {
		Global     Global           `toml:"global"`
		Server     Server           `toml:"server"`
		Storage    Storage          `toml:"storage"`
		Alerting   Alerting         `toml:"alerting"`
		Report     Report           `toml:"report"`
		History    History          `toml:"history"`
		Sources    map[string]any   `toml:"sources,omitempty"`
		Teams      map[string]*Team `toml:"teams,omitempty"`
		Objectives []*Objective     `toml:"objectives"`
	}{
		Global:     c.Global,
		Server:     redactedCopy(reflect.ValueOf(c.Server)).Interface().(Server),
		Storage:    redactedCopy(reflect.ValueOf(c.Storage)).Interface().(Storage),
		Alerting:   redactedCopy(reflect.ValueOf(c.Alerting)).Interface().(Alerting),
		Report:     c.Report,
		History:    c.History,
		Teams:      c.Teams,
		Objectives: c.Objectives,
	}
	hideFileSecrets(reflect.ValueOf(&p.Server).Elem())
	hideFileSecrets(reflect.ValueOf(&p.Storage).Elem())
	for _, r := range p.Alerting.Receivers {
		hideFileSecrets(reflect.ValueOf(r).Elem())
	}
	if len(c.Sources) > 0 {
		p.Sources = make(map[string]any, len(c.Sources))
		for name, src := range c.Sources {
			p.Sources[name] = printableSource(src)
		}
	}
	b, err := toml.Marshal(p)
	if err != nil {
		// Marshalling our own types does not fail; say so rather than
		// print half a config.
		return fmt.Sprintf("# cannot print config: %v\n", err)
	}
	return dropEmpty(string(b))
}

// printableSource builds a struct value holding a source's common keys
// followed by its spec's keys (secrets redacted), so that the printed
// [sources.NAME] table looks the way it is written, in declaration order.
func printableSource(src *Source) any {
	fields := []reflect.StructField{
		{Name: "Type", Type: reflect.TypeOf(""), Tag: `toml:"type"`},
		{Name: "Interval", Type: durationType, Tag: `toml:"interval"`},
		{Name: "Timeout", Type: durationType, Tag: `toml:"timeout"`},
	}
	var specV reflect.Value
	var specFields *fieldSet
	if src.Spec != nil {
		if rv := reflect.ValueOf(src.Spec); rv.Kind() == reflect.Pointer && !rv.IsNil() && rv.Elem().Kind() == reflect.Struct {
			specV = rv.Elem()
			specFields = structFields(specV.Type())
			for i, f := range specFields.list {
				fields = append(fields, reflect.StructField{
					Name: fmt.Sprintf("Spec%d", i),
					Type: f.typ,
					Tag:  reflect.StructTag(fmt.Sprintf("toml:%q", f.name)),
				})
			}
		}
	}
	out := reflect.New(reflect.StructOf(fields)).Elem()
	out.Field(0).SetString(src.Type)
	out.Field(1).Set(reflect.ValueOf(src.Interval))
	out.Field(2).Set(reflect.ValueOf(src.Timeout))
	if specFields != nil {
		for i, f := range specFields.list {
			out.Field(3 + i).Set(redactedCopy(specV.FieldByIndex(f.index)))
		}
		hideFileSecrets(out)
	}
	return out.Interface()
}

// redactedCopy returns a copy of v in which every non-empty Secret reads
// "<secret>". Encoders cannot be trusted with the redaction: go-toml, for
// one, ignores MarshalText on types whose kind is string. Parts of v that
// cannot hold a Secret are shared, not copied.
func redactedCopy(v reflect.Value) reflect.Value {
	t := v.Type()
	if t == secretType {
		out := reflect.New(t).Elem()
		if v.String() != "" {
			out.SetString(redacted)
		}
		return out
	}
	if !mayHoldSecret(t) {
		return v
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return v
		}
		if t.Kind() == reflect.Pointer {
			out := reflect.New(t.Elem())
			out.Elem().Set(redactedCopy(v.Elem()))
			return out
		}
		out := reflect.New(t).Elem()
		out.Set(redactedCopy(v.Elem()))
		return out
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeSlice(t, v.Len(), v.Len())
		for i := 0; i < v.Len(); i++ {
			out.Index(i).Set(redactedCopy(v.Index(i)))
		}
		return out
	case reflect.Array:
		out := reflect.New(t).Elem()
		for i := 0; i < v.Len(); i++ {
			out.Index(i).Set(redactedCopy(v.Index(i)))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeMapWithSize(t, v.Len())
		it := v.MapRange()
		for it.Next() {
			out.SetMapIndex(it.Key(), redactedCopy(it.Value()))
		}
		return out
	case reflect.Struct:
		out := reflect.New(t).Elem()
		out.Set(v)
		redactFields(out, v)
		return out
	}
	return v
}

// redactFields replaces the exported fields of the struct out, a copy of
// v, with redacted copies, looking into embedded structs even when their
// type is unexported (their fields are still keys of the table).
func redactFields(out, v reflect.Value) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		switch {
		case f.IsExported():
			out.Field(i).Set(redactedCopy(v.Field(i)))
		case f.Anonymous && f.Type.Kind() == reflect.Struct:
			redactFields(out.Field(i), v.Field(i))
		}
	}
}

var secretHolders sync.Map // reflect.Type -> bool

// mayHoldSecret reports whether a value of type t can contain a Secret in
// an exported position (interfaces can hold anything). Only final answers
// are cached, so that a concurrent caller can never see a provisional "no"
// and print a secret.
func mayHoldSecret(t reflect.Type) bool {
	if b, ok := secretHolders.Load(t); ok {
		return b.(bool)
	}
	holds := holdsSecret(t, map[reflect.Type]bool{})
	secretHolders.Store(t, holds)
	return holds
}

// holdsSecret computes mayHoldSecret; visiting ends the recursion through
// self-referencing types, whose other fields decide the answer.
func holdsSecret(t reflect.Type, visiting map[reflect.Type]bool) bool {
	if visiting[t] {
		return false
	}
	visiting[t] = true
	defer delete(visiting, t)
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.String:
		return t == secretType
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		return holdsSecret(t.Elem(), visiting)
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if (f.IsExported() || f.Anonymous) && holdsSecret(f.Type, visiting) {
				return true
			}
		}
	}
	return false
}

// hideFileSecrets blanks each Secret field whose X_file sibling is set, in
// v and the structs it contains; v must be a copy made by redactedCopy.
func hideFileSecrets(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			hideFileSecrets(v.Elem())
		}
		return
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			hideFileSecrets(v.Index(i))
		}
		return
	case reflect.Struct:
	default:
		return
	}
	if !mayHoldSecret(v.Type()) {
		return
	}
	fields := structFields(v.Type())
	for _, f := range fields.list {
		fv := v.FieldByIndex(f.index)
		if f.typ != secretType {
			hideFileSecrets(fv)
			continue
		}
		if ff, ok := fields.byName[f.name+"_file"]; ok && ff.typ.Kind() == reflect.String && v.FieldByIndex(ff.index).String() != "" {
			fv.SetString("")
		}
	}
}

// dropEmpty removes the lines that set a key to an empty string or an empty
// array, which mean the same as an absent key for okrd's own tables. Source
// tables are kept whole: a source type's Defaults may give an empty value a
// meaning. go-toml writes one key-value per line (strings with newlines are
// escaped), so a line filter is exact.
func dropEmpty(s string) string {
	lines := strings.SplitAfter(s, "\n")
	out := lines[:0]
	inSource := false
	for _, line := range lines {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "[") {
			inSource = strings.HasPrefix(t, "[sources.")
		}
		if !inSource && (strings.HasSuffix(t, " = ''") || strings.HasSuffix(t, " = []")) {
			continue
		}
		out = append(out, line)
	}
	return strings.Join(out, "")
}
