package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// The document is read in one pass over the AST of go-toml's parser, which
// builds both the generic tree the decoder reads (map[string]any, []any and
// scalars, as toml.Unmarshal would give) and the index of lines.
//
// It does not call toml.Unmarshal: go-toml checks that no key is defined
// twice by scanning every key recorded after the key's table, so a table
// with n keys costs n² comparisons (80,000 keys took 15 s of CPU), and so
// does a file with thousands of [sources.NAME] tables, which all stay
// defined to its end: a configuration of 10,000 key results with a source
// each took 2.4 s, and stalled okrd's start and every reload. The
// definitions are tracked here with a map per table instead. The rules are go-toml's, with its
// messages, so the documents accepted and the values read are the same;
// FuzzDocumentMatchesGoToml holds the two to that.

// maxDepth bounds how deep keys, tables and values may nest. okrd's own
// keys nest four levels at most (objectives[0].key_results[0].milestones[0].date);
// the bound stops a short file of deeply nested keys, which TOML allows,
// from costing seconds and gigabytes in the paths of the index (a 60 KB
// key of 30,000 dotted parts took 4 s and 1 GB).
const maxDepth = 32

// defKind is what a key defines, as go-toml's definition tracker tells them
// apart. The names are those of go-toml's messages.
type defKind uint8

const (
	// defValue is a scalar, an array or an inline table: it cannot be
	// extended.
	defValue defKind = iota + 1
	// defDotted is a table created by a dotted key (a.b = 1 creates a); only
	// other dotted keys extend it.
	defDotted
	// defTable is a table created by a [header], explicitly (by its own
	// header) or as an intermediate part of a longer header.
	defTable
	// defArrayTable is an array of tables created by [[header]].
	defArrayTable
)

func (k defKind) String() string {
	switch k {
	case defValue:
		return "value"
	case defDotted:
		return "kv-table"
	case defTable:
		return "table"
	}
	return "array-table"
}

// def is one defined table. Tables keep the tables they contain by name,
// and their values in the tree's map, so that a lookup costs the same
// however many keys a table has.
type def struct {
	kind     defKind
	explicit bool
	children map[string]*def
	// table is the map the tree stores this table's keys in; for an array
	// of tables, the map of its latest element.
	table map[string]any
	// path is the concrete path of the table in the index
	// ("objectives[1].key_results[0]"), the prefix of its keys' paths.
	path  string
	depth int
	// count is the number of elements of an array of tables.
	count int
}

// valueDef stands for every key that holds a value. Values need no
// definition of their own: nothing may be added to them.
var valueDef = &def{kind: defValue}

// lookup returns the definition of name in d: a table's, valueDef for a
// value, or nil when name is not defined.
func (d *def) lookup(name string) *def {
	if c := d.children[name]; c != nil {
		return c
	}
	if _, ok := d.table[name]; ok {
		return valueDef
	}
	return nil
}

// define records the new table name in d.
func (d *def) define(name string, c *def) {
	if d.children == nil {
		d.children = map[string]*def{}
	}
	d.children[name] = c
}

// docBuilder holds the state of one pass.
type docBuilder struct {
	idx     *index
	root    *def
	current *def
	// err is the first error about the meaning of the document (a key
	// defined twice, a date that does not exist); once set, the rest of
	// the document is only parsed, since a syntax error anywhere is
	// reported before it.
	err *FieldError
	// valueErr is the first value that cannot be converted in the current
	// expression: go-toml checks the definitions of a whole expression
	// before it converts its values, so a definition error wins over it.
	valueErr *FieldError
	// exprLine is the line of the current expression's key, where go-toml
	// reports a definition error.
	exprLine int
}

// parseDocument parses data into the generic tree and the index of lines.
// A syntax error or a definition error is returned as a *FieldError with
// its line; a syntax error anywhere is reported before a definition error.
func parseDocument(data []byte) (map[string]any, *index, *FieldError) {
	idx := newIndex(data)
	root := &def{kind: defTable, explicit: true, table: map[string]any{}}
	b := &docBuilder{idx: idx, root: root, current: root}
	var p unstable.Parser
	p.Reset(data)
	for p.NextExpression() {
		if b.err != nil {
			continue
		}
		expr := p.Expression()
		b.valueErr = nil
		switch expr.Kind {
		case unstable.KeyValue:
			b.exprLine = keyLine(idx, expr)
			b.keyValue(b.current, expr)
		case unstable.Table, unstable.ArrayTable:
			b.exprLine = keyLine(idx, expr)
			b.tableHeader(expr, expr.Kind == unstable.ArrayTable)
		}
		if b.err == nil && b.valueErr != nil {
			b.err = b.valueErr
		}
	}
	if err := p.Error(); err != nil {
		line := 0
		msg := err.Error()
		var perr *unstable.ParserError
		if errors.As(err, &perr) {
			line = idx.lineOfSlice(&p, perr.Highlight)
			msg = perr.Message
		}
		return nil, nil, &FieldError{Line: line, Msg: "syntax error: " + msg}
	}
	if b.err != nil {
		return nil, nil, b.err
	}
	return root.table, idx, nil
}

// keyLine returns the line of an expression's first key part.
func keyLine(idx *index, expr *unstable.Node) int {
	it := expr.Key()
	if it.Next() {
		return idx.nodeLine(it.Node(), 0)
	}
	return 0
}

// fail records a definition error of the current expression.
func (b *docBuilder) fail(format string, args ...any) {
	if b.err == nil {
		b.err = &FieldError{Line: b.exprLine, Msg: fmt.Sprintf(format, args...)}
	}
}

// tooDeep reports, and records as an error, a nesting deeper than maxDepth.
func (b *docBuilder) tooDeep(depth int) bool {
	if depth <= maxDepth {
		return false
	}
	b.fail("keys and values nest more than %d levels deep", maxDepth)
	return true
}

// tableHeader handles a [table] or [[array table]] header and makes its
// table the current one. An intermediate part that names an array of
// tables refers to its latest element, as TOML nests them.
func (b *docBuilder) tableHeader(expr *unstable.Node, array bool) {
	t := b.root
	it := expr.Key()
	for it.Next() {
		k := it.Node()
		name := string(k.Data)
		line := b.idx.nodeLine(k, 0)
		if b.tooDeep(t.depth + 1) {
			return
		}
		c := t.lookup(name)
		if !it.IsLast() {
			switch {
			case c == nil:
				c = b.newTable(t, name, false)
			case c.kind == defValue:
				b.fail("key %s already exists as a value", name)
				return
			}
			b.idx.set(c.path, line)
			t = c
			continue
		}
		if array {
			switch {
			case c == nil:
			case c.kind != defArrayTable:
				b.fail("key %s already exists as a %s, but should be an array table", name, c.kind)
				return
			}
			b.current = b.newArrayElement(t, name, c, line)
			return
		}
		switch {
		case c == nil:
			c = b.newTable(t, name, true)
		case c.kind == defTable && c.explicit:
			b.fail("table %s already exists", name)
			return
		case c.kind == defTable:
			c.explicit = true
		case c.kind == defDotted:
			b.fail("table %s already exists as defined by a dotted key", name)
			return
		case c.kind == defArrayTable:
			b.fail("table %s already exists as an array of tables", name)
			return
		default:
			b.fail("key %s should be a table, not a %s", name, c.kind)
			return
		}
		b.idx.set(c.path, line)
		b.current = c
	}
}

// newTable defines the table name in t as a header or a part of one names
// it: explicitly for the header's last part, implicitly for the others.
func (b *docBuilder) newTable(t *def, name string, explicit bool) *def {
	c := &def{kind: defTable, explicit: explicit, table: map[string]any{}, path: joinPath(t.path, name), depth: t.depth + 1}
	t.define(name, c)
	t.table[name] = c.table
	return c
}

// newArrayElement appends an element to the array of tables name in t (prev
// is its definition so far, nil for the first element). Each element is a
// new definition, so that its keys can be defined again.
func (b *docBuilder) newArrayElement(t *def, name string, prev *def, line int) *def {
	base := joinPath(t.path, name)
	n := 0
	var elems []any
	if prev != nil {
		n = prev.count
		elems, _ = t.table[name].([]any)
	}
	c := &def{kind: defArrayTable, explicit: true, table: map[string]any{}, path: indexPath(base, n), depth: t.depth + 1, count: n + 1}
	t.define(name, c)
	t.table[name] = append(elems, c.table)
	b.idx.set(base, line)
	b.idx.set(c.path, line)
	return c
}

// keyValue handles a (possibly dotted) key = value in the table t, which is
// the current table or an inline table.
func (b *docBuilder) keyValue(t *def, kv *unstable.Node) {
	line := 0
	it := kv.Key()
	for it.Next() {
		k := it.Node()
		name := string(k.Data)
		line = b.idx.nodeLine(k, line)
		if b.tooDeep(t.depth + 1) {
			return
		}
		c := t.lookup(name)
		if it.IsLast() {
			if c != nil {
				b.fail("key %s is already defined", name)
				return
			}
			path := joinPath(t.path, name)
			b.idx.set(path, line)
			t.table[name] = b.value(path, t.depth+1, kv.Value(), line)
			return
		}
		switch {
		case c == nil:
			c = &def{kind: defDotted, table: map[string]any{}, path: joinPath(t.path, name), depth: t.depth + 1}
			t.define(name, c)
			t.table[name] = c.table
		case c.kind != defDotted:
			b.fail("key %s is already defined", name)
			return
		}
		b.idx.set(c.path, line)
		t = c
	}
}

// value converts the value at path, at depth, written on line.
func (b *docBuilder) value(path string, depth int, v *unstable.Node, line int) any {
	switch v.Kind {
	case unstable.InlineTable:
		// An inline table is a value: its keys are checked against each
		// other here, and nothing outside it may add to it.
		d := &def{kind: defValue, table: map[string]any{}, path: path, depth: depth}
		it := v.Children()
		for it.Next() {
			if c := it.Node(); c.Kind == unstable.KeyValue {
				b.keyValue(d, c)
			}
		}
		return d.table
	case unstable.Array:
		var elems []any
		it := v.Children()
		for it.Next() {
			c := it.Node()
			if c.Kind == unstable.Comment {
				continue
			}
			if b.tooDeep(depth + 1) {
				return nil
			}
			elem := indexPath(path, len(elems))
			l := b.idx.nodeLine(c, line)
			b.idx.set(elem, l)
			elems = append(elems, b.value(elem, depth+1, c, l))
		}
		if elems == nil {
			elems = []any{}
		}
		return elems
	}
	x, err := scalar(v)
	if err != nil {
		// The value is dropped; the error ends the parse anyway.
		if b.valueErr == nil {
			b.valueErr = &FieldError{Line: b.idx.nodeLine(v, line), Msg: err.Error()}
		}
		return nil
	}
	return x
}

// scalar converts a scalar node to the Go value toml.Unmarshal gives it in
// a map[string]any, with go-toml's checks and messages.
func scalar(v *unstable.Node) (any, error) {
	switch v.Kind {
	case unstable.String:
		return string(v.Data), nil
	case unstable.Bool:
		return v.Data[0] == 't', nil
	case unstable.Integer:
		return parseInteger(v.Data)
	case unstable.Float:
		return parseFloat(v.Data)
	case unstable.LocalDate:
		var d toml.LocalDate
		if err := d.UnmarshalText(v.Data); err != nil {
			return nil, parserMessage(err)
		}
		return d, nil
	case unstable.LocalTime:
		var t toml.LocalTime
		if err := t.UnmarshalText(v.Data); err != nil {
			return nil, parserMessage(err)
		}
		return t, nil
	case unstable.LocalDateTime:
		var dt toml.LocalDateTime
		if err := dt.UnmarshalText(v.Data); err != nil {
			return nil, parserMessage(err)
		}
		return dt, nil
	case unstable.DateTime:
		// go-toml does not export its parser of date-times with an offset;
		// decoding the value alone keeps its rules exactly. Such values are
		// rare (okrd's dates are local dates), so the small detour costs
		// nothing that matters.
		var m map[string]any
		if err := toml.Unmarshal(append([]byte("v = "), v.Data...), &m); err != nil {
			return nil, errors.New(strings.TrimPrefix(err.Error(), "toml: "))
		}
		return m["v"], nil
	}
	return nil, fmt.Errorf("unsupported value kind %s", v.Kind)
}

// parserMessage returns err with only its message, the way the tree's
// errors read (go-toml's ParserError carries a highlight, not a position).
func parserMessage(err error) error {
	if err == nil {
		return nil
	}
	var perr *unstable.ParserError
	if errors.As(err, &perr) {
		return errors.New(perr.Message)
	}
	return err
}

// parseInteger converts an integer token, which the parser has checked to
// be a decimal number with an optional sign or a 0x, 0o or 0b number,
// with underscores only between digits.
func parseInteger(b []byte) (int64, error) {
	s := strings.ReplaceAll(string(b), "_", "")
	base, name := 10, "decimal"
	if len(s) > 2 && s[0] == '0' {
		switch s[1] {
		case 'x':
			base, name = 16, "hexadecimal"
		case 'o':
			base, name = 8, "octal"
		case 'b':
			base, name = 2, "binary"
		}
		if base != 10 {
			s = s[2:]
		}
	}
	i, err := strconv.ParseInt(s, base, 64)
	if err != nil {
		return 0, fmt.Errorf("%s number is too large to fit in a 64-bit signed integer", name)
	}
	return i, nil
}

// parseFloat converts a float token, which the parser has checked to be a
// TOML float (or inf or nan with an optional sign).
func parseFloat(b []byte) (float64, error) {
	s := string(b)
	switch strings.TrimLeft(s, "+-") {
	case "inf":
		if s[0] == '-' {
			return math.Inf(-1), nil
		}
		return math.Inf(1), nil
	case "nan":
		return math.NaN(), nil
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
	if err != nil {
		return 0, fmt.Errorf("unable to parse float: %w", err)
	}
	return f, nil
}
