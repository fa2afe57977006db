package config

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
)

// SourceType describes how a kind of source (jira, github, sql, ...) is
// configured. Collector packages register one in an init function, the way
// database/sql drivers do, so that config needs no import of them and a
// [sources.NAME] table is decoded and validated with the keys its type
// knows.
type SourceType struct {
	// NewSpec returns a new pointer to the struct (with toml tags) that holds
	// the type-specific keys of a source. The loader decodes those keys into
	// it strictly, after calling its Defaults method if it has one, then
	// resolves `X_file` keys into their Secret field `X`, then calls its
	// Validate method if it has one. Required.
	NewSpec func() any
	// ValidateKeyResult checks a key result bound to a source of this type
	// (for example that metric names a metric the type computes). spec is
	// the source's decoded spec. Errors made with FieldErrorf name a field of
	// the key result ("metric"); several may be joined with errors.Join.
	// Optional.
	ValidateKeyResult func(spec any, kr *KeyResult) error
	// KeyResultKeys are the keys of [[objectives.key_results]] that only
	// this type reads (sql: history_query), for ValidateKeyResult to
	// check. On a key result bound to a source of another type, or on a
	// manual key result, such a key is an error naming the types that read
	// it, rather than a setting silently ignored. Optional.
	KeyResultKeys []string
	// InitiativeKinds are the initiative kinds (InitiativeJiraEpic, ...)
	// that a source of this type tracks: an initiative of such a kind may
	// name the source, and names it by default when it is the only one.
	// Optional.
	InitiativeKinds []string
	// ValidateInitiative checks an initiative tracked by a source of this
	// type; spec is the source's decoded spec. Errors made with
	// FieldErrorf name a key of the initiative ("repositories[0]").
	// Optional.
	ValidateInitiative func(spec any, in *Initiative) error
	// CheckTeam checks a team's selectors of this type against the
	// source's spec, when the team applies to the source. Errors made with
	// FieldErrorf name a field of the team ("repositories[0]"); warnings
	// are what may still be right later (a glob that matches none of the
	// repositories listed now) and are printed by okrd check. Optional.
	CheckTeam func(spec any, t *Team) (warnings []Invalid, err error)
}

// specDefaulter is implemented by specs that have default values; Defaults
// is called before decoding so that keys present in the file override them.
type specDefaulter interface{ Defaults() }

// specValidator is implemented by specs that can check themselves. Errors
// made with FieldErrorf are reported at sources.NAME.<field>.
type specValidator interface{ Validate() error }

// commonSourceKeys are the keys of every source table, decoded into Source
// itself; a source type's spec must not reuse them.
var commonSourceKeys = []string{"type", "interval", "timeout"}

var registry = struct {
	sync.RWMutex
	types map[string]SourceType
}{types: map[string]SourceType{}}

// RegisterSourceType makes a source type available to [sources.NAME]
// tables with `type = typ`. It panics when typ is empty or already
// registered, or when t.NewSpec is nil, does not return a pointer to a
// struct, or its struct reuses a common key (type, interval, timeout):
// those are programming errors that must fail at start-up.
func RegisterSourceType(typ string, t SourceType) {
	if typ == "" {
		panic("config: RegisterSourceType with an empty type")
	}
	if t.NewSpec == nil {
		panic(fmt.Sprintf("config: RegisterSourceType(%q) without NewSpec", typ))
	}
	spec := t.NewSpec()
	rv := reflect.ValueOf(spec)
	if spec == nil || rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("config: RegisterSourceType(%q): NewSpec must return a non-nil pointer to a struct, got %T", typ, spec))
	}
	fields := structFields(rv.Elem().Type())
	for _, k := range commonSourceKeys {
		if _, ok := fields.byName[k]; ok {
			panic(fmt.Sprintf("config: RegisterSourceType(%q): spec %T must not define the common key %q", typ, spec, k))
		}
	}
	for _, k := range t.KeyResultKeys {
		if _, ok := keyResultField(k); !ok {
			panic(fmt.Sprintf("config: RegisterSourceType(%q): KeyResultKeys names %q, which is no key of a key result", typ, k))
		}
	}
	for _, k := range t.InitiativeKinds {
		if !slices.Contains(InitiativeKinds, k) {
			panic(fmt.Sprintf("config: RegisterSourceType(%q): InitiativeKinds names %q, which is no initiative kind", typ, k))
		}
	}
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.types[typ]; dup {
		panic(fmt.Sprintf("config: RegisterSourceType called twice for type %q", typ))
	}
	registry.types[typ] = t
}

// RegisteredSourceTypes returns the registered source types, sorted.
func RegisteredSourceTypes() []string {
	registry.RLock()
	defer registry.RUnlock()
	types := make([]string, 0, len(registry.types))
	for typ := range registry.types {
		types = append(types, typ)
	}
	sort.Strings(types)
	return types
}

// keyResultKeyTypes returns, for every key that a source type registered
// in KeyResultKeys, the types that read it, sorted.
func keyResultKeyTypes() map[string][]string {
	registry.RLock()
	defer registry.RUnlock()
	out := map[string][]string{}
	for typ, t := range registry.types {
		for _, k := range t.KeyResultKeys {
			out[k] = append(out[k], typ)
		}
	}
	for _, types := range out {
		sort.Strings(types)
	}
	return out
}

// keyResultField returns the index of the KeyResult field decoded from
// the key name.
func keyResultField(name string) (int, bool) {
	t := reflect.TypeOf(KeyResult{})
	for i := 0; i < t.NumField(); i++ {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("toml"), ","); tag == name && name != "-" {
			return i, true
		}
	}
	return 0, false
}

// keyResultKeySet reports whether kr sets the key name (to anything but
// its zero value).
func keyResultKeySet(kr *KeyResult, name string) bool {
	i, ok := keyResultField(name)
	return ok && !reflect.ValueOf(kr).Elem().Field(i).IsZero()
}

// lookupSourceType returns the registered source type typ.
func lookupSourceType(typ string) (SourceType, bool) {
	registry.RLock()
	defer registry.RUnlock()
	t, ok := registry.types[typ]
	return t, ok
}
