package githubfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// A small GraphQL engine: enough of the language (one query operation,
// variables, aliases, arguments with every literal kind, nested selection
// sets, inline fragments) to execute the queries a GitHub client sends
// against the subset of GitHub's schema in schema.go, answering with exactly
// the fields selected and GitHub's error shapes for unknown fields and bad
// arguments. A fake that parsed nothing would happily answer queries the
// real API rejects.

// field is one selected field.
type field struct {
	alias, name string
	args        map[string]any // resolved values
	sel         []*field
	// on is the type condition of an inline fragment ("" for a field).
	on   string
	line int
	col  int
}

// key is the response key of a field: its alias or its name.
func (f *field) key() string {
	if f.alias != "" {
		return f.alias
	}
	return f.name
}

// enumValue is an enum literal such as DESC: unquoted in the query.
type enumValue string

// gqlError is one GraphQL error, as GitHub shapes them.
type gqlError struct {
	Type       string         `json:"type,omitempty"`
	Path       []any          `json:"path,omitempty"`
	Extensions map[string]any `json:"extensions,omitempty"`
	Locations  []gqlLocation  `json:"locations,omitempty"`
	Message    string         `json:"message"`
}

type gqlLocation struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

func (e *gqlError) Error() string { return e.Message }

// token kinds of the lexer.
const (
	tokEOF = iota
	tokPunct
	tokName
	tokInt
	tokFloat
	tokString
)

type token struct {
	kind      int
	text      string
	line, col int
}

type lexer struct {
	src       []rune
	pos       int
	line, col int
}

func (l *lexer) next() (token, error) {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == '\n':
			l.pos++
			l.line++
			l.col = 1
		case c == ',' || unicode.IsSpace(c) || c == '\ufeff':
			l.pos++
			l.col++
		case c == '#':
			for l.pos < len(l.src) && l.src[l.pos] != '\n' {
				l.pos++
			}
		default:
			return l.lex()
		}
	}
	return token{kind: tokEOF, line: l.line, col: l.col}, nil
}

func (l *lexer) lex() (token, error) {
	start, line, col := l.pos, l.line, l.col
	c := l.src[l.pos]
	adv := func(n int) { l.pos += n; l.col += n }
	switch {
	case strings.ContainsRune("{}()[]:!$=@|&", c):
		adv(1)
		return token{tokPunct, string(c), line, col}, nil
	case c == '.':
		if l.pos+2 < len(l.src) && l.src[l.pos+1] == '.' && l.src[l.pos+2] == '.' {
			adv(3)
			return token{tokPunct, "...", line, col}, nil
		}
	case c == '_' || unicode.IsLetter(c):
		for l.pos < len(l.src) && (l.src[l.pos] == '_' || unicode.IsLetter(l.src[l.pos]) || unicode.IsDigit(l.src[l.pos])) {
			adv(1)
		}
		return token{tokName, string(l.src[start:l.pos]), line, col}, nil
	case c == '-' || unicode.IsDigit(c):
		adv(1)
		kind := tokInt
		for l.pos < len(l.src) {
			d := l.src[l.pos]
			if unicode.IsDigit(d) {
				adv(1)
				continue
			}
			if d == '.' || d == 'e' || d == 'E' || ((d == '+' || d == '-') && kind == tokFloat) {
				kind = tokFloat
				adv(1)
				continue
			}
			break
		}
		return token{kind, string(l.src[start:l.pos]), line, col}, nil
	case c == '"':
		adv(1)
		var b strings.Builder
		for l.pos < len(l.src) {
			d := l.src[l.pos]
			switch d {
			case '"':
				adv(1)
				return token{tokString, b.String(), line, col}, nil
			case '\\':
				if l.pos+1 >= len(l.src) {
					return token{}, fmt.Errorf("Parse error on line %d: unterminated string", line)
				}
				e := l.src[l.pos+1]
				adv(2)
				switch e {
				case 'n':
					b.WriteRune('\n')
				case 't':
					b.WriteRune('\t')
				case 'u':
					if l.pos+4 <= len(l.src) {
						n, err := strconv.ParseUint(string(l.src[l.pos:l.pos+4]), 16, 32)
						if err == nil {
							b.WriteRune(rune(n))
							adv(4)
						}
					}
				default:
					b.WriteRune(e)
				}
			case '\n':
				return token{}, fmt.Errorf("Parse error on line %d: unterminated string", line)
			default:
				b.WriteRune(d)
				adv(1)
			}
		}
		return token{}, fmt.Errorf("Parse error on line %d: unterminated string", line)
	}
	return token{}, fmt.Errorf("Parse error on %q (%d:%d)", string(c), line, col)
}

// parser is a recursive-descent parser over the lexer's tokens.
type parser struct {
	lex  *lexer
	tok  token
	vars map[string]any // the request's variables
	defs map[string]bool
}

func (p *parser) advance() error {
	t, err := p.lex.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) errorf(format string, args ...any) error {
	return &gqlError{Message: fmt.Sprintf(format, args...), Locations: []gqlLocation{{p.tok.line, p.tok.col}}}
}

func (p *parser) expect(text string) error {
	if p.tok.kind != tokPunct || p.tok.text != text {
		return p.parseError()
	}
	return p.advance()
}

// parseError is GitHub's message for an unexpected token.
func (p *parser) parseError() error {
	return p.errorf("Parse error on %q (%s) at [%d, %d]", p.tok.text, tokenName(p.tok), p.tok.line, p.tok.col)
}

func tokenName(t token) string {
	switch t.kind {
	case tokEOF:
		return "end of query"
	case tokName:
		return "IDENTIFIER"
	case tokInt:
		return "INT"
	case tokFloat:
		return "FLOAT"
	case tokString:
		return "STRING"
	}
	return "punctuation"
}

// parseQuery parses one query operation with its variables.
func parseQuery(src string, vars map[string]any) ([]*field, error) {
	p := &parser{lex: &lexer{src: []rune(src), line: 1, col: 1}, vars: vars, defs: map[string]bool{}}
	if err := p.advance(); err != nil {
		return nil, &gqlError{Message: err.Error()}
	}
	if p.tok.kind == tokName {
		switch p.tok.text {
		case "query":
			if err := p.advance(); err != nil {
				return nil, err
			}
			if p.tok.kind == tokName {
				if err := p.advance(); err != nil { // operation name
					return nil, err
				}
			}
			if p.tok.kind == tokPunct && p.tok.text == "(" {
				if err := p.varDefs(); err != nil {
					return nil, err
				}
			}
		case "mutation", "subscription":
			return nil, p.errorf("this fake serves queries only, not %s", p.tok.text)
		default:
			return nil, p.parseError()
		}
	}
	sel, err := p.selectionSet()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokEOF {
		return nil, p.errorf("this fake serves one operation per document")
	}
	return sel, nil
}

// varDefs parses ($a: Type = default, ...), applying defaults to absent
// variables.
func (p *parser) varDefs() error {
	if err := p.expect("("); err != nil {
		return err
	}
	for !(p.tok.kind == tokPunct && p.tok.text == ")") {
		if err := p.expect("$"); err != nil {
			return err
		}
		if p.tok.kind != tokName {
			return p.parseError()
		}
		name := p.tok.text
		p.defs[name] = true
		if err := p.advance(); err != nil {
			return err
		}
		if err := p.expect(":"); err != nil {
			return err
		}
		nonNull, err := p.typeRef()
		if err != nil {
			return err
		}
		if p.tok.kind == tokPunct && p.tok.text == "=" {
			if err := p.advance(); err != nil {
				return err
			}
			v, err := p.value()
			if err != nil {
				return err
			}
			if _, ok := p.vars[name]; !ok {
				p.vars[name] = v
			}
		}
		if _, ok := p.vars[name]; !ok && nonNull {
			return &gqlError{Message: fmt.Sprintf("Variable $%s of type is required but was not provided", name),
				Extensions: map[string]any{"code": "variableMismatch"}}
		}
	}
	return p.advance()
}

// typeRef parses a type such as [String!]! and reports whether it is
// non-null.
func (p *parser) typeRef() (bool, error) {
	if p.tok.kind == tokPunct && p.tok.text == "[" {
		if err := p.advance(); err != nil {
			return false, err
		}
		if _, err := p.typeRef(); err != nil {
			return false, err
		}
		if err := p.expect("]"); err != nil {
			return false, err
		}
	} else {
		if p.tok.kind != tokName {
			return false, p.parseError()
		}
		if err := p.advance(); err != nil {
			return false, err
		}
	}
	if p.tok.kind == tokPunct && p.tok.text == "!" {
		return true, p.advance()
	}
	return false, nil
}

func (p *parser) selectionSet() ([]*field, error) {
	if err := p.expect("{"); err != nil {
		return nil, err
	}
	var out []*field
	for !(p.tok.kind == tokPunct && p.tok.text == "}") {
		if p.tok.kind == tokEOF {
			return nil, p.errorf("Parse error on end of query: unclosed selection set")
		}
		f, err := p.selection()
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		return nil, p.errorf("Parse error: empty selection set")
	}
	return out, p.advance()
}

func (p *parser) selection() (*field, error) {
	f := &field{line: p.tok.line, col: p.tok.col}
	if p.tok.kind == tokPunct && p.tok.text == "..." {
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind != tokName || p.tok.text != "on" {
			return nil, p.errorf("this fake supports inline fragments (... on Type) only")
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind != tokName {
			return nil, p.parseError()
		}
		f.on = p.tok.text
		if err := p.advance(); err != nil {
			return nil, err
		}
		sel, err := p.selectionSet()
		f.sel = sel
		return f, err
	}
	if p.tok.kind != tokName {
		return nil, p.parseError()
	}
	f.name = p.tok.text
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind == tokPunct && p.tok.text == ":" {
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind != tokName {
			return nil, p.parseError()
		}
		f.alias, f.name = f.name, p.tok.text
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	if p.tok.kind == tokPunct && p.tok.text == "(" {
		args, err := p.arguments()
		if err != nil {
			return nil, err
		}
		f.args = args
	}
	if p.tok.kind == tokPunct && p.tok.text == "{" {
		sel, err := p.selectionSet()
		if err != nil {
			return nil, err
		}
		f.sel = sel
	}
	return f, nil
}

func (p *parser) arguments() (map[string]any, error) {
	if err := p.expect("("); err != nil {
		return nil, err
	}
	args := map[string]any{}
	for !(p.tok.kind == tokPunct && p.tok.text == ")") {
		if p.tok.kind != tokName {
			return nil, p.parseError()
		}
		name := p.tok.text
		if err := p.advance(); err != nil {
			return nil, err
		}
		if err := p.expect(":"); err != nil {
			return nil, err
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		args[name] = v
	}
	return args, p.advance()
}

func (p *parser) value() (any, error) {
	t := p.tok
	switch {
	case t.kind == tokPunct && t.text == "$":
		if err := p.advance(); err != nil {
			return nil, err
		}
		name := p.tok.text
		if !p.defs[name] {
			return nil, &gqlError{Message: fmt.Sprintf("Variable $%s is used by anonymous query but not declared", name),
				Extensions: map[string]any{"code": "variableNotDefined", "variableName": name}}
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		return normalizeVar(p.vars[name]), nil
	case t.kind == tokInt:
		n, err := strconv.ParseInt(t.text, 10, 64)
		if err != nil {
			return nil, p.errorf("bad integer %s", t.text)
		}
		return int(n), p.advance()
	case t.kind == tokFloat:
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return nil, p.errorf("bad float %s", t.text)
		}
		return f, p.advance()
	case t.kind == tokString:
		return t.text, p.advance()
	case t.kind == tokName:
		var v any
		switch t.text {
		case "true":
			v = true
		case "false":
			v = false
		case "null":
			v = nil
		default:
			v = enumValue(t.text)
		}
		return v, p.advance()
	case t.kind == tokPunct && t.text == "[":
		if err := p.advance(); err != nil {
			return nil, err
		}
		list := []any{}
		for !(p.tok.kind == tokPunct && p.tok.text == "]") {
			if p.tok.kind == tokEOF {
				return nil, p.parseError()
			}
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		return list, p.advance()
	case t.kind == tokPunct && t.text == "{":
		if err := p.advance(); err != nil {
			return nil, err
		}
		obj := map[string]any{}
		for !(p.tok.kind == tokPunct && p.tok.text == "}") {
			if p.tok.kind != tokName {
				return nil, p.parseError()
			}
			name := p.tok.text
			if err := p.advance(); err != nil {
				return nil, err
			}
			if err := p.expect(":"); err != nil {
				return nil, err
			}
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			obj[name] = v
		}
		return obj, p.advance()
	}
	return nil, p.errorf("Parse error on %q (%s) at [%d, %d]", t.text, tokenName(t), t.line, t.col)
}

// normalizeVar turns a JSON-decoded variable into the engine's value
// kinds: numbers become int when whole, strings stay strings (an enum passed
// as a variable arrives as a string, which args treat alike).
func normalizeVar(v any) any {
	switch x := v.(type) {
	case float64:
		if x == float64(int(x)) {
			return int(x)
		}
		return x
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return int(n)
		}
		f, _ := x.Float64()
		return f
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalizeVar(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalizeVar(e)
		}
		return out
	}
	return v
}

// object is a GraphQL object the executor can select fields of.
type object interface {
	typeName() string
	// resolve returns the value of a field: a scalar (string, int, bool,
	// float64, nil), an object, or a []object.
	resolve(name string, args map[string]any) (any, error)
}

// orderedMap marshals its keys in insertion order, as GraphQL responses
// list fields in selection order.
type orderedMap struct {
	keys []string
	vals map[string]any
}

func (m *orderedMap) set(k string, v any) {
	if m.vals == nil {
		m.vals = map[string]any{}
	}
	if _, ok := m.vals[k]; !ok {
		m.keys = append(m.keys, k)
	}
	m.vals[k] = v
}

func (m *orderedMap) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range m.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(m.vals[k])
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// execute selects sel on obj, collecting errors with their paths; a field
// that fails is null in the data, as GraphQL specifies.
func execute(obj object, sel []*field, path []any, errs *[]*gqlError) *orderedMap {
	out := &orderedMap{}
	for _, f := range sel {
		if f.on != "" {
			if f.on == obj.typeName() {
				sub := execute(obj, f.sel, path, errs)
				for _, k := range sub.keys {
					out.set(k, sub.vals[k])
				}
			}
			continue
		}
		fp := append(append([]any{}, path...), f.key())
		if f.name == "__typename" {
			out.set(f.key(), obj.typeName())
			continue
		}
		v, err := obj.resolve(f.name, f.args)
		if err != nil {
			ge, ok := err.(*gqlError)
			if !ok {
				ge = &gqlError{Message: err.Error()}
			}
			if ge.Path == nil {
				ge.Path = fp
			}
			if ge.Locations == nil {
				ge.Locations = []gqlLocation{{f.line, f.col}}
			}
			*errs = append(*errs, ge)
			out.set(f.key(), nil)
			continue
		}
		out.set(f.key(), render(v, f, fp, errs))
	}
	return out
}

func render(v any, f *field, path []any, errs *[]*gqlError) any {
	switch x := v.(type) {
	case object:
		if len(f.sel) == 0 {
			*errs = append(*errs, &gqlError{Path: path, Locations: []gqlLocation{{f.line, f.col}},
				Extensions: map[string]any{"code": "selectionMismatch", "nodeName": "field '" + f.name + "'", "typeName": x.typeName()},
				Message:    fmt.Sprintf("Field must have selections (field '%s' returns %s but has no selections. Did you mean '%s { ... }'?)", f.name, x.typeName(), f.name)})
			return nil
		}
		return execute(x, f.sel, path, errs)
	case []object:
		out := make([]any, len(x))
		for i, o := range x {
			out[i] = render(o, f, append(append([]any{}, path...), i), errs)
		}
		return out
	}
	if len(f.sel) > 0 && v != nil {
		*errs = append(*errs, &gqlError{Path: path, Locations: []gqlLocation{{f.line, f.col}},
			Extensions: map[string]any{"code": "selectionMismatch"},
			Message:    fmt.Sprintf("Selections can't be made on scalars (field '%s')", f.name)})
		return nil
	}
	return v
}

// undefinedField is GitHub's error for a field the schema does not have.
func undefinedField(typ, name string) error {
	return &gqlError{
		Extensions: map[string]any{"code": "undefinedField", "typeName": typ, "fieldName": name},
		Message:    fmt.Sprintf("Field '%s' doesn't exist on type '%s'", name, typ),
	}
}

// argument helpers: GraphQL arguments arrive as int, string, enumValue,
// bool, []any or map[string]any.

func argInt(args map[string]any, name string) (int, bool) {
	switch v := args[name].(type) {
	case int:
		return v, true
	case float64:
		return int(v), true
	}
	return 0, false
}

func argString(args map[string]any, name string) (string, bool) {
	switch v := args[name].(type) {
	case string:
		return v, true
	case enumValue:
		return string(v), true
	}
	return "", false
}

func argStrings(args map[string]any, name string) ([]string, bool) {
	list, ok := args[name].([]any)
	if !ok {
		if s, ok := argString(args, name); ok {
			return []string{s}, true // GraphQL coerces a single value into a list
		}
		return nil, false
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		switch s := e.(type) {
		case string:
			out = append(out, s)
		case enumValue:
			out = append(out, string(s))
		}
	}
	return out, true
}

func argObject(args map[string]any, name string) map[string]any {
	m, _ := args[name].(map[string]any)
	return m
}
