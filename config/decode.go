package config

import (
	"encoding"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pelletier/go-toml/v2"
	"github.com/prometheus/common/model"
)

// The decoder turns the generic tree that parseDocument produces
// (map[string]any, []any and scalars, as go-toml reads them) into the typed
// structs. It is ours rather than go-toml's typed decoder because go-toml
// stops at the first type mismatch, and a user fixing a config wants every
// unknown key and every wrong type at once, each with its full path and
// line; and because source tables have keys that depend on their `type`.

// collector accumulates errors with their lines and remembers which paths
// failed to decode, so that validation does not report a second, derived
// error (such as "target: required") for a value that was already rejected.
type collector struct {
	file   string
	idx    *index
	errs   Errors
	failed map[string]bool
}

// add records an error at path, located with the position index.
func (c *collector) add(path, msg string) {
	c.errs = append(c.errs, &FieldError{File: c.file, Line: c.idx.line(path), Path: path, Msg: msg})
}

// addf is add with a formatted message.
func (c *collector) addf(path, format string, args ...any) {
	c.add(path, fmt.Sprintf(format, args...))
}

// fail records a decoding error at path and marks the path as failed.
func (c *collector) fail(path, format string, args ...any) {
	c.failed[path] = true
	c.addf(path, format, args...)
}

// check records a validation error at path unless the value at path
// already failed to decode.
func (c *collector) check(path, format string, args ...any) {
	if c.failed[path] {
		return
	}
	c.addf(path, format, args...)
}

// anyFailed reports whether any of the paths failed to decode.
func (c *collector) anyFailed(paths ...string) bool {
	for _, p := range paths {
		if c.failed[p] {
			return true
		}
	}
	return false
}

// decoder holds the state of one decoding pass.
type decoder struct {
	*collector
	lookupEnv func(string) (string, bool)
}

var (
	durationType        = reflect.TypeOf(Duration(0))
	stdDurationType     = reflect.TypeOf(time.Duration(0))
	dateType            = reflect.TypeOf(Date{})
	sourcesType         = reflect.TypeOf(map[string]*Source(nil))
	textUnmarshalerType = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()
)

// decode expands ${ENV} references in raw (when it is a string) and stores
// it into v. It reports whether raw had the right type.
func (d *decoder) decode(path string, raw any, v reflect.Value) bool {
	if s, ok := raw.(string); ok {
		expanded, ok := d.expand(path, s)
		if !ok {
			d.failed[path] = true
			return false
		}
		raw = expanded
	}
	return d.decodeExpanded(path, raw, v)
}

// decodeExpanded stores raw into v. raw is already expanded if it is a
// string; the strings inside arrays and tables are expanded as each element
// is decoded, with the element's own path.
func (d *decoder) decodeExpanded(path string, raw any, v reflect.Value) bool {
	t := v.Type()
	switch t {
	case durationType, stdDurationType:
		return d.decodeDuration(path, raw, v)
	case dateType:
		return d.decodeDate(path, raw, v)
	case sourcesType:
		return d.decodeSources(path, raw, v)
	}
	if t.Kind() == reflect.Pointer {
		nv := reflect.New(t.Elem())
		if !v.IsNil() {
			nv = v
		}
		if !d.decodeExpanded(path, raw, nv.Elem()) {
			return false
		}
		v.Set(nv)
		return true
	}
	if reflect.PointerTo(t).Implements(textUnmarshalerType) && v.CanAddr() {
		s, ok := raw.(string)
		if !ok {
			return d.mismatch(path, "a string", raw)
		}
		if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
			d.fail(path, "%v", err)
			return false
		}
		return true
	}
	switch t.Kind() {
	case reflect.Interface:
		if t.NumMethod() != 0 {
			d.fail(path, "cannot be decoded into %s", t)
			return false
		}
		if raw != nil {
			v.Set(reflect.ValueOf(d.expandAny(path, raw)))
		}
		return true
	case reflect.String:
		s, ok := raw.(string)
		if !ok {
			return d.mismatch(path, "a string", raw)
		}
		v.SetString(s)
		return true
	case reflect.Bool:
		b, ok := raw.(bool)
		if !ok {
			return d.mismatch(path, "a boolean (true or false)", raw)
		}
		v.SetBool(b)
		return true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, ok := raw.(int64)
		if !ok {
			return d.mismatch(path, "an integer", raw)
		}
		if v.OverflowInt(i) {
			bits := t.Bits()
			d.fail(path, "must be between %d and %d, not %d", -(int64(1) << (bits - 1)), int64(1)<<(bits-1)-1, i)
			return false
		}
		v.SetInt(i)
		return true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		i, ok := raw.(int64)
		if !ok {
			return d.mismatch(path, "a non-negative integer", raw)
		}
		if i < 0 || v.OverflowUint(uint64(i)) {
			d.fail(path, "must be between 0 and %d, not %d", uint64(1)<<t.Bits()-1, i)
			return false
		}
		v.SetUint(uint64(i))
		return true
	case reflect.Float32, reflect.Float64:
		var f float64
		switch n := raw.(type) {
		case float64:
			f = n
		case int64:
			f = float64(n)
		default:
			return d.mismatch(path, "a number", raw)
		}
		if v.OverflowFloat(f) {
			d.fail(path, "%g is out of range", f)
			return false
		}
		v.SetFloat(f)
		return true
	case reflect.Slice, reflect.Array:
		elems, ok := raw.([]any)
		if !ok {
			return d.mismatch(path, "an array", raw)
		}
		if t.Kind() == reflect.Array && len(elems) != t.Len() {
			d.fail(path, "must have exactly %d elements, not %d", t.Len(), len(elems))
			return false
		}
		if t.Kind() == reflect.Slice {
			v.Set(reflect.MakeSlice(t, len(elems), len(elems)))
		}
		for i, e := range elems {
			d.decode(indexPath(path, i), e, v.Index(i))
		}
		return true
	case reflect.Map:
		m, ok := raw.(map[string]any)
		if !ok {
			return d.mismatch(path, "a table", raw)
		}
		if t.Key().Kind() != reflect.String {
			d.fail(path, "cannot be decoded into %s", t)
			return false
		}
		if v.IsNil() {
			v.Set(reflect.MakeMapWithSize(t, len(m)))
		}
		for _, k := range d.sortedKeys(path, m) {
			ev := reflect.New(t.Elem()).Elem()
			if d.decode(k.path, m[k.key], ev) {
				v.SetMapIndex(reflect.ValueOf(k.key).Convert(t.Key()), ev)
			}
		}
		return true
	case reflect.Struct:
		m, ok := raw.(map[string]any)
		if !ok {
			return d.mismatch(path, "a table", raw)
		}
		fields := structFields(t)
		for _, k := range d.sortedKeys(path, m) {
			f, ok := fields.byName[k.key]
			if !ok {
				d.unknownKey(k.path, k.key, fields.names)
				continue
			}
			d.decode(k.path, m[k.key], v.FieldByIndex(f.index))
		}
		return true
	}
	d.fail(path, "cannot be decoded into %s", t)
	return false
}

// decodeDuration accepts a Prometheus duration string.
func (d *decoder) decodeDuration(path string, raw any, v reflect.Value) bool {
	switch r := raw.(type) {
	case string:
		dur, err := model.ParseDuration(r)
		if err != nil {
			d.fail(path, "invalid duration %q: write a number and a unit (ms, s, m, h, d, w, y) like \"30s\", \"5m\" or \"1h30m\"", r)
			return false
		}
		v.SetInt(int64(dur))
		return true
	case int64:
		d.fail(path, "must be a duration string like \"5m\", not an integer (for %d seconds write \"%ds\")", r, r)
		return false
	}
	return d.mismatch(path, "a duration string like \"5m\"", raw)
}

// decodeDate accepts a TOML local date (2026-10-01) or the same as a string.
func (d *decoder) decodeDate(path string, raw any, v reflect.Value) bool {
	switch r := raw.(type) {
	case toml.LocalDate:
		t := r.AsTime(time.UTC)
		v.Set(reflect.ValueOf(DateOf(t)))
		return true
	case string:
		if r == "" {
			// Like every empty string, an empty date means "not set".
			v.Set(reflect.ValueOf(Date{}))
			return true
		}
		date, err := ParseDate(r)
		if err != nil {
			d.fail(path, "must be a date like 2026-10-01, not %q", r)
			return false
		}
		v.Set(reflect.ValueOf(date))
		return true
	case toml.LocalDateTime, time.Time:
		d.fail(path, "must be a date without a time of day, like 2026-10-01")
		return false
	}
	return d.mismatch(path, "a date like 2026-10-01", raw)
}

// decodeSources decodes the [sources.NAME] tables. Each table's keys are
// the common ones (type, interval, timeout) plus those of the spec struct
// its type registered, so the type is read first and the rest of the table
// is decoded strictly against the combination.
func (d *decoder) decodeSources(path string, raw any, v reflect.Value) bool {
	m, ok := raw.(map[string]any)
	if !ok {
		return d.mismatch(path, "a table of sources", raw)
	}
	sources := make(map[string]*Source, len(m))
	commonFields := structFields(reflect.TypeOf(Source{}))
	for _, nk := range d.sortedKeys(path, m) {
		name, sp := nk.key, nk.path
		tbl, ok := m[name].(map[string]any)
		if !ok {
			d.mismatch(sp, "a table", m[name])
			continue
		}
		src := &Source{Name: name}
		sv := reflect.ValueOf(src).Elem()
		sources[name] = src
		if !idPattern.MatchString(name) {
			d.addf(sp, "source name must match %s (it becomes a Prometheus label value)", idPattern)
		}
		for _, k := range commonSourceKeys {
			if r, ok := tbl[k]; ok {
				d.decode(joinPath(sp, k), r, sv.FieldByIndex(commonFields.byName[k].index))
			}
		}
		typePath := joinPath(sp, "type")
		if d.failed[typePath] {
			continue
		}
		if src.Type == "" {
			d.fail(typePath, "required; %s", registeredTypesHint())
			continue
		}
		st, ok := lookupSourceType(src.Type)
		if !ok {
			d.fail(typePath, "unknown source type %q; %s", src.Type, registeredTypesHint())
			continue
		}
		spec := st.NewSpec()
		if def, ok := spec.(specDefaulter); ok {
			def.Defaults()
		}
		specV := reflect.ValueOf(spec).Elem()
		specFields := structFields(specV.Type())
		for _, k := range d.sortedKeys(sp, tbl) {
			if _, common := commonFields.byName[k.key]; common {
				continue
			}
			f, ok := specFields.byName[k.key]
			if !ok {
				known := append(append([]string(nil), commonSourceKeys...), specFields.names...)
				d.unknownKey(k.path, k.key, known)
				continue
			}
			d.decode(k.path, tbl[k.key], specV.FieldByIndex(f.index))
		}
		src.Spec = spec
	}
	v.Set(reflect.ValueOf(sources))
	return true
}

// registeredTypesHint lists the source types a `type` may name.
func registeredTypesHint() string {
	types := RegisteredSourceTypes()
	if len(types) == 0 {
		return "no source types are registered in this build (key results without a source take manual check-ins)"
	}
	return "registered types: " + strings.Join(types, ", ")
}

// mismatch reports a value of the wrong TOML type. The value itself is not
// printed: it may be a secret in the wrong place.
func (d *decoder) mismatch(path, want string, raw any) bool {
	d.fail(path, "must be %s, not %s", want, tomlTypeName(raw))
	return false
}

// unknownKey reports a key the schema does not have, suggesting the
// closest known key when there is a plausible one.
func (d *decoder) unknownKey(path, key string, known []string) {
	if s := suggest(key, known); s != "" {
		d.fail(path, "unknown key, did you mean %q?", s)
		// The key is most likely the suggested one misspelt: do not also
		// report the suggested key as missing.
		d.failed[joinPath(parentPath(path), s)] = true
		return
	}
	d.fail(path, "unknown key")
}

// tableKey is a key of a table with its path.
type tableKey struct {
	key, path string
	line      int
}

// sortedKeys returns the keys of a table, with their paths, in the order
// they are written, so that errors come out in file order. Each key's line
// is looked up once, not once per comparison: a table may hold thousands
// of sources.
func (d *decoder) sortedKeys(path string, m map[string]any) []tableKey {
	keys := make([]tableKey, 0, len(m))
	for k := range m {
		kp := joinPath(path, k)
		keys = append(keys, tableKey{key: k, path: kp, line: d.idx.line(kp)})
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].line != keys[j].line {
			return keys[i].line < keys[j].line
		}
		return keys[i].key < keys[j].key
	})
	return keys
}

// envNamePattern is the syntax of a variable name inside ${...}.
var envNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// expand replaces ${NAME} with the value of the environment variable NAME
// and $$ with $. A $ followed by anything else is kept as it is, so that
// SQL placeholders like $1 need no escaping. Every unset variable is
// reported (by name, never by value).
func (d *decoder) expand(path, s string) (string, bool) {
	if !strings.Contains(s, "$") {
		return s, true
	}
	var b strings.Builder
	ok := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '$' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				d.addf(path, "unterminated \"${\" (write \"$$\" for a literal \"$\")")
				return "", false
			}
			name := s[i+2 : i+2+end]
			i += 2 + end
			if !envNamePattern.MatchString(name) {
				d.addf(path, "invalid environment variable name %q in \"${...}\" (write \"$$\" for a literal \"$\")", name)
				ok = false
				continue
			}
			val, set := d.lookupEnv(name)
			if !set {
				d.addf(path, "environment variable %s is not set", name)
				ok = false
				continue
			}
			b.WriteString(val)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), ok
}

// expandAny expands the strings inside a generic value (for spec fields of
// type any).
func (d *decoder) expandAny(path string, raw any) any {
	switch r := raw.(type) {
	case string:
		s, _ := d.expand(path, r)
		return s
	case []any:
		out := make([]any, len(r))
		for i, e := range r {
			out[i] = d.expandAny(indexPath(path, i), e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(r))
		for k, e := range r {
			out[k] = d.expandAny(joinPath(path, k), e)
		}
		return out
	}
	return raw
}

// tomlTypeName names the TOML type of a decoded value for messages.
func tomlTypeName(raw any) string {
	switch raw.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case toml.LocalDate:
		return "a date"
	case toml.LocalTime:
		return "a time"
	case toml.LocalDateTime, time.Time:
		return "a date-time"
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	}
	return fmt.Sprintf("%T", raw)
}

// fieldInfo is one decodable field of a struct.
type fieldInfo struct {
	name  string
	index []int
	typ   reflect.Type
}

// fieldSet is the decodable fields of a struct type, by TOML key and in
// declaration order.
type fieldSet struct {
	list   []fieldInfo
	byName map[string]fieldInfo
	names  []string
}

var fieldCache sync.Map // reflect.Type -> *fieldSet

// structFields returns the TOML keys of a struct type the way go-toml
// reads them: the tag name, or the Go field name when untagged; "-"
// skipped; untagged embedded structs flattened.
func structFields(t reflect.Type) *fieldSet {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.(*fieldSet)
	}
	fs := &fieldSet{byName: map[string]fieldInfo{}}
	var walk func(t reflect.Type, prefix []int)
	walk = func(t reflect.Type, prefix []int) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			idx := append(append([]int(nil), prefix...), i)
			tag := f.Tag.Get("toml")
			name, _, _ := strings.Cut(tag, ",")
			if name == "-" {
				continue
			}
			if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
				walk(f.Type, idx)
				continue
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if _, dup := fs.byName[name]; dup {
				continue
			}
			fi := fieldInfo{name: name, index: idx, typ: f.Type}
			fs.list = append(fs.list, fi)
			fs.byName[name] = fi
			fs.names = append(fs.names, name)
		}
	}
	walk(t, nil)
	actual, _ := fieldCache.LoadOrStore(t, fs)
	return actual.(*fieldSet)
}

// suggest returns the known key closest to key, if it is close enough to
// be a likely typo.
func suggest(key string, known []string) string {
	best, bestDist := "", -1
	for _, k := range known {
		dist := editDistance(strings.ToLower(key), strings.ToLower(k))
		if bestDist < 0 || dist < bestDist {
			best, bestDist = k, dist
		}
	}
	limit := 1
	switch {
	case len(key) >= 10:
		limit = 3
	case len(key) >= 5:
		limit = 2
	}
	if bestDist < 0 || bestDist > limit {
		return ""
	}
	return best
}

// editDistance is the optimal string alignment distance: insertions,
// deletions, substitutions and transpositions of adjacent bytes each cost 1.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		// Keys that long are not typos of ours; avoid quadratic work.
		if a == b {
			return 0
		}
		return 1 << 20
	}
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
