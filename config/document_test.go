package config

import (
	"errors"
	"math"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// referenceDocument reads a document the way okrd did before parseDocument:
// go-toml's AST parser for syntax errors and lines, then toml.Unmarshal for
// the tree and the errors of meaning. It is quadratic in the size of a
// table, so the tests feed it small documents only.
func referenceDocument(data []byte) (map[string]any, map[string]int, *FieldError) {
	ref := &refIndex{idx: newIndex(data), tables: map[string]int{}}
	var p unstable.Parser
	p.Reset(data)
	current := ""
	for p.NextExpression() {
		expr := p.Expression()
		switch expr.Kind {
		case unstable.KeyValue:
			ref.keyValue(current, expr)
		case unstable.Table:
			current = ref.tableHeader(expr, false)
		case unstable.ArrayTable:
			current = ref.tableHeader(expr, true)
		}
	}
	if err := p.Error(); err != nil {
		var perr *unstable.ParserError
		if !errors.As(err, &perr) {
			return nil, nil, &FieldError{Msg: "syntax error: " + err.Error()}
		}
		return nil, nil, &FieldError{Line: ref.idx.lineOfSlice(&p, perr.Highlight), Msg: "syntax error: " + perr.Message}
	}
	var tree map[string]any
	if err := toml.Unmarshal(data, &tree); err != nil {
		fe := &FieldError{Msg: strings.TrimPrefix(err.Error(), "toml: ")}
		var de *toml.DecodeError
		if errors.As(err, &de) {
			fe.Line, _ = de.Position()
		}
		return nil, nil, fe
	}
	return tree, ref.idx.lines, nil
}

// refIndex is the index as okrd built it before parseDocument, from paths
// and a count of the elements of each array of tables.
type refIndex struct {
	idx    *index
	tables map[string]int
}

func (r *refIndex) keyValue(prefix string, kv *unstable.Node) {
	path, line := prefix, 0
	it := kv.Key()
	for it.Next() {
		k := it.Node()
		line = r.idx.nodeLine(k, line)
		path = joinPath(path, string(k.Data))
		r.idx.set(path, line)
	}
	r.value(path, kv.Value(), line)
}

func (r *refIndex) value(path string, v *unstable.Node, line int) {
	switch v.Kind {
	case unstable.InlineTable:
		it := v.Children()
		for it.Next() {
			if c := it.Node(); c.Kind == unstable.KeyValue {
				r.keyValue(path, c)
			}
		}
	case unstable.Array:
		i := 0
		it := v.Children()
		for it.Next() {
			c := it.Node()
			if c.Kind == unstable.Comment {
				continue
			}
			elem := path + "[" + strconv.Itoa(i) + "]"
			l := r.idx.nodeLine(c, line)
			r.idx.set(elem, l)
			r.value(elem, c, l)
			i++
		}
	}
}

func (r *refIndex) tableHeader(expr *unstable.Node, array bool) string {
	var parts []*unstable.Node
	it := expr.Key()
	for it.Next() {
		parts = append(parts, it.Node())
	}
	path := ""
	for i, k := range parts {
		line := r.idx.nodeLine(k, 0)
		path = joinPath(path, string(k.Data))
		if i == len(parts)-1 && array {
			n := r.tables[path]
			r.tables[path] = n + 1
			r.idx.set(path, line)
			path += "[" + strconv.Itoa(n) + "]"
			r.idx.set(path, line)
			continue
		}
		if n, ok := r.tables[path]; ok && n > 0 {
			path += "[" + strconv.Itoa(n-1) + "]"
		}
		r.idx.set(path, line)
	}
	return path
}

// sameTree is reflect.DeepEqual with NaN equal to NaN, since "nan" reads
// as NaN in both trees.
func sameTree(a, b any) bool {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		return ok && (x == y && math.Signbit(x) == math.Signbit(y) || math.IsNaN(x) && math.IsNaN(y))
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !sameTree(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameTree(x[i], y[i]) {
				return false
			}
		}
		return true
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y) && x.Format(time.RFC3339Nano) == y.Format(time.RFC3339Nano)
	}
	return reflect.DeepEqual(a, b)
}

// checkSameAsReference fails the test unless parseDocument reads data as
// referenceDocument does: the same error with the same line, or the same
// tree and the same lines.
func checkSameAsReference(t *testing.T, data []byte) {
	t.Helper()
	tree, idx, err := parseDocument(data)
	if err != nil && strings.Contains(err.Msg, "levels deep") {
		return // The depth limit is okrd's own; go-toml has none.
	}
	refTree, refLines, refErr := referenceDocument(data)
	switch {
	case err != nil && refErr != nil:
		if *err != *refErr {
			t.Fatalf("error %+v, go-toml says %+v, for:\n%s", *err, *refErr, data)
		}
	case err != nil:
		t.Fatalf("error %+v, go-toml accepts:\n%s", *err, data)
	case refErr != nil:
		t.Fatalf("accepted, go-toml says %+v, for:\n%s", *refErr, data)
	default:
		if !sameTree(tree, refTree) {
			t.Fatalf("tree %#v, go-toml reads %#v, for:\n%s", tree, refTree, data)
		}
		if !reflect.DeepEqual(idx.lines, refLines) {
			t.Fatalf("lines %v, before %v, for:\n%s", idx.lines, refLines, data)
		}
	}
}

// documentCases are the corners of TOML where a reader must decide whether
// a key is defined twice, and the values a reader must convert.
var documentCases = []struct {
	name string
	doc  string
}{
	{"A key defined twice is an error.", "a = 1\na = 2\n"},
	{"A quoted key is the same key as the bare one.", "a = 1\n\"a\" = 2\n"},
	{"A table defined twice is an error.", "[a]\nx = 1\n[a]\ny = 2\n"},
	{"A table may be defined after its sub-table.", "[a.b]\nx = 1\n[a]\ny = 2\n"},
	{"A table defined after its sub-table may not be defined again.", "[a.b]\n[a]\n[a]\n"},
	{"A key that is a value cannot become a table.", "a = 1\n[a]\n"},
	{"A key that is a value cannot become a table's parent.", "a = 1\n[a.b]\n"},
	{"A value cannot become an array of tables.", "a = [1]\n[[a]]\n"},
	{"An array of tables cannot become a table.", "[[a]]\n[a]\n"},
	{"A table cannot become an array of tables.", "[a]\n[[a]]\n"},
	{"A table made by a sub-table's header cannot become an array of tables.", "[a.b]\n[[a]]\n"},
	{"Arrays of tables start each element afresh.", "[[a]]\nx = 1\n[[a]]\nx = 2\n[[a.b]]\ny = 1\n[[a.b]]\ny = 2\n[[a]]\n[a.c]\nz = 3\n"},
	{"A sub-table of an array of tables is defined once per element.", "[[a]]\n[a.c]\n[[a]]\n[a.c]\n"},
	{"A sub-table of an array of tables cannot be defined twice in one element.", "[[a]]\n[a.c]\n[a.c]\n"},
	{"Dotted keys create tables that dotted keys extend.", "a.b.c = 1\na.b.d = 2\na.e = 3\n"},
	{"A dotted key cannot extend a value.", "a.b = 1\na.b.c = 2\n"},
	{"A table made by dotted keys cannot be defined by a header.", "[x]\na.b = 1\n[x.a]\n"},
	{"A table made by dotted keys can have sub-tables.", "[x]\na.b = 1\n[x.a.c]\nd = 2\n"},
	{"A dotted key cannot extend a table defined by a header.", "[a.b.c]\nz = 9\n[a]\nb.c.t = 1\n"},
	{"A dotted key cannot extend a table made by a header.", "[a.b.c]\n[a]\nb.d = 1\n"},
	{"A dotted key cannot extend an array of tables.", "[[tab.arr]]\n[tab]\narr.val1 = 1\n"},
	{"A dotted key at the top cannot extend a table made later by a header.", "a.b = 1\n[a]\n"},
	{"Inline tables cannot be extended by a dotted key.", "a = {b = 1}\na.c = 2\n"},
	{"Inline tables cannot be extended by a header.", "a = {b = 1}\n[a]\n"},
	{"Inline tables cannot receive a sub-table.", "a = {b = 1}\n[a.c]\n"},
	{"Keys inside an inline table are checked.", "a = {b = 1, b = 2}\n"},
	{"Dotted keys inside an inline table are checked.", "a = {b.c = 1, b.d = 2, e = {f = 1}}\nx = {b = 1, b.c = 2}\n"},
	{"Inline tables in arrays are checked one by one.", "a = [{b = 1}, {b = 2}, {c = {d = 1, d = 2}}]\n"},
	{"Tables inside a static array cannot be extended.", "a = [{ b = 1 }]\n[a.c]\nfoo = 1\n"},
	{"A definition error wins over a bad value after it in the same line.", "a = {b = 2026-02-30, b = 1}\n"},
	{"A bad value wins over a definition error on a later line.", "a = 2026-02-30\na = 1\n"},
	{"Integers of every base are read.", "a = 0x_dead_BEEF\nb = 0o755\nc = 0b1010\nd = -1_000\ne = +7\nf = 9223372036854775807\ng = -9223372036854775808\n"},
	{"A decimal integer too large is an error.", "a = 9223372036854775808\n"},
	{"A hexadecimal integer too large is an error.", "a = 0x8000000000000000\n"},
	{"An octal integer too large is an error.", "a = 0o1000000000000000000000\n"},
	{"A binary integer too large is an error.", "a = 0b1" + strings.Repeat("0", 63) + "\n"},
	{"Floats of every form are read.", "a = 1.5\nb = -0.0\nc = 1e10\nd = 6.626e-34\ne = 1_000.000_1\nf = inf\ng = -inf\nh = nan\ni = +nan\nj = -nan\nk = 3.141592653589793238462643383279\nl = 1E+22\nm = 5e-324\n"},
	{"A float too large is an error.", "a = 1e999\n"},
	{"Local dates, times and date-times are read.", "a = 2026-10-01\nb = 07:32:00\nc = 07:32\nd = 00:32:00.999999999\ne = 2026-10-01T07:32:00\nf = 2026-10-01 07:32:00.5\n"},
	{"Date-times with an offset are read.", "a = 1979-05-27T07:32:00Z\nb = 1979-05-27T00:32:00.999999-07:00\nc = 1979-05-27 07:32:00+01:30\nd = 1979-05-27t07:32:00z\n"},
	{"A date that does not exist is an error.", "a = 2026-02-30\n"},
	{"A leap day in a leap year is a date.", "a = 2024-02-29\nb = 2000-02-29\n"},
	{"A leap day in another year is an error.", "a = 1900-02-29\n"},
	{"A time with hour 24 is an error.", "a = 24:00:00\n"},
	{"A date-time with a bad offset is an error.", "a = 1979-05-27T07:32:00+25:00\n"},
	{"A date-time with a bad time is an error.", "a = 1979-05-27T07:61:00Z\n"},
	{"A local date-time with extra characters is an error.", "a = 1979-05-27T07:32:00.5.5\n"},
	{"Strings of every form are read.", "a = \"tab\\tnew\\nquote\\\"u\\u00e9U\\U0001F600\"\nb = 'C:\\path'\nc = \"\"\"\nline\\\n  joined\"\"\"\nd = '''\nraw\n'''\n"},
	{"Quoted keys with dots and spaces are single keys.", "\"a.b\" = 1\n'c d' = 2\n\"\" = 3\n[\"x.y\".z]\nw = 4\n"},
	{"Comments inside arrays are skipped.", "a = [\n  1, # one\n  # nothing\n  2,\n]\n"},
	{"Arrays mix every type.", "a = [1, 'x', 2026-10-01, [2, [3]], {b = 4}, true, 1.5]\n"},
	{"An empty array and an empty inline table are values.", "a = []\nb = {}\n[c]\n"},
	{"Keys are kept at the line of their first mention.", "[a.b.c]\nx = 1\n[a]\ny = 2\n[[d]]\n[[d]]\n[d.e]\nf = [\n1,\n2]\n"},
	{"Nested arrays of tables number within the latest parent.", okObjective + okObjective},
	{"A key after an error in another table is not reached.", "[a]\nx = 1\nx = 2\n[b]\ny = 2026-02-30\n"},
	{"A syntax error after a definition error is reported first.", "a = 1\na = 2\nb = \n"},
	{"An empty document is an empty table.", ""},
	{"A document of comments is an empty table.", "# a\n\n# b\n"},
}

func TestDocumentReadsAsGoTomlDoes(t *testing.T) {
	for _, tt := range documentCases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkSameAsReference(t, []byte(tt.doc))
		})
	}
}

func TestDocumentErrorsHaveTheirLine(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want FieldError
	}{
		{"A key defined twice is reported where it is defined again.", "a = 1\n\nb.c = 1\nb.c = 2\n", FieldError{Line: 4, Msg: "key c is already defined"}},
		{"A table defined twice is reported at the second header.", "[a]\n[b]\n[a]\n", FieldError{Line: 3, Msg: "table a already exists"}},
		{"A value that is not a date is reported on its line.", "a = [\n  2026-01-01,\n  2026-02-30,\n]\n", FieldError{Line: 3, Msg: "impossible date"}},
		{"A nesting deeper than okrd reads is refused.", strings.Repeat("a.", maxDepth) + "a = 1\n", FieldError{Line: 1, Msg: "keys and values nest more than 32 levels deep"}},
		{"A header nesting deeper than okrd reads is refused.", "x = 1\n[" + strings.Repeat("a.", maxDepth) + "a]\n", FieldError{Line: 2, Msg: "keys and values nest more than 32 levels deep"}},
		{"Arrays nesting deeper than okrd reads are refused.", "a = " + strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1) + "\n", FieldError{Line: 1, Msg: "keys and values nest more than 32 levels deep"}},
		{"Inline tables nesting deeper than okrd reads are refused.", "a = " + strings.Repeat("{b = ", maxDepth) + "1" + strings.Repeat("}", maxDepth) + "\n", FieldError{Line: 1, Msg: "keys and values nest more than 32 levels deep"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := parseDocument([]byte(tt.doc))
			if err == nil || *err != tt.want {
				t.Fatalf("error %+v, want %+v", err, tt.want)
			}
		})
	}
}

func TestNestingUpToTheLimitIsRead(t *testing.T) {
	// Each key, table and array element is one level: a.a...a is maxDepth
	// levels, and so are b.b...b with c inside, and x with its nested arrays.
	doc := strings.Repeat("a.", maxDepth-1) + "a = 1\n" +
		"x = " + strings.Repeat("[", maxDepth-1) + strings.Repeat("]", maxDepth-1) + "\n" +
		"[" + strings.Repeat("b.", maxDepth-2) + "b]\nc = 2\n"
	checkSameAsReference(t, []byte(doc))
	if _, _, err := parseDocument([]byte(doc)); err != nil {
		t.Fatalf("refused: %v", err)
	}
}

// FuzzDocumentMatchesGoToml holds parseDocument to go-toml's reading of
// every input: the same syntax and definition errors on the same lines,
// or the same tree and the same lines of every key.
func FuzzDocumentMatchesGoToml(f *testing.F) {
	if data, err := os.ReadFile(examplePath); err == nil {
		f.Add(data)
	}
	for _, tt := range documentCases {
		f.Add([]byte(tt.doc))
	}
	for _, tt := range decodingCases {
		f.Add([]byte(tt.doc))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 64<<10 {
			return // The reference is quadratic; large inputs only slow the search.
		}
		checkSameAsReference(t, data)
	})
}
