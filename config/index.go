package config

import (
	"errors"
	"sort"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// index maps every key path present in the document, with array indices
// ("objectives[1].key_results[0].target"), to the line it is written on.
// The decoders of go-toml report positions only for syntax errors, so the
// index is what lets validation errors, which are found long after
// decoding, name a line.
type index struct {
	lines map[string]int
	// tables counts the elements of each array of tables, by its concrete
	// path, so that "[[objectives.key_results]]" is numbered within the
	// latest objective.
	tables map[string]int
	// lineStarts holds the offset of the first byte of every line.
	lineStarts []int
}

// buildIndex parses data with go-toml's AST parser. It returns a syntax
// error as a *FieldError with its line.
func buildIndex(data []byte) (*index, *FieldError) {
	idx := &index{lines: map[string]int{}, tables: map[string]int{}, lineStarts: []int{0}}
	for i, c := range data {
		if c == '\n' {
			idx.lineStarts = append(idx.lineStarts, i+1)
		}
	}
	var p unstable.Parser
	p.Reset(data)
	current := ""
	for p.NextExpression() {
		expr := p.Expression()
		switch expr.Kind {
		case unstable.KeyValue:
			idx.keyValue(&p, current, expr)
		case unstable.Table:
			current = idx.tableHeader(&p, expr, false)
		case unstable.ArrayTable:
			current = idx.tableHeader(&p, expr, true)
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
		return nil, &FieldError{Line: line, Msg: "syntax error: " + msg}
	}
	return idx, nil
}

// lineAt returns the 1-based line of a byte offset.
func (idx *index) lineAt(offset int) int {
	return sort.Search(len(idx.lineStarts), func(i int) bool { return idx.lineStarts[i] > offset })
}

// lineOfSlice returns the line of a highlight, which go-toml guarantees to
// be a subslice of the document (or empty at its end).
func (idx *index) lineOfSlice(p *unstable.Parser, b []byte) int {
	data := p.Data()
	offset := cap(data) - cap(b)
	if offset < 0 || offset > len(data) {
		return 0
	}
	return idx.lineAt(offset)
}

// nodeLine returns the line of a node with a raw range, or fallback for
// nodes without one (arrays).
func (idx *index) nodeLine(n *unstable.Node, fallback int) int {
	if n.Raw.Length == 0 {
		return fallback
	}
	return idx.lineAt(int(n.Raw.Offset))
}

// set records the line of a path unless it is already known: the first
// mention of a table is where a reader looks for it.
func (idx *index) set(path string, line int) {
	if _, ok := idx.lines[path]; !ok {
		idx.lines[path] = line
	}
}

// keyValue records a key-value expression (possibly dotted) under the
// table path prefix, and everything inside its value.
func (idx *index) keyValue(p *unstable.Parser, prefix string, kv *unstable.Node) {
	path := prefix
	line := 0
	it := kv.Key()
	for it.Next() {
		k := it.Node()
		line = idx.nodeLine(k, line)
		path = joinPath(path, string(k.Data))
		idx.set(path, line)
	}
	idx.value(p, path, kv.Value(), line)
}

// value records the elements of arrays and the keys of inline tables.
func (idx *index) value(p *unstable.Parser, path string, v *unstable.Node, line int) {
	switch v.Kind {
	case unstable.InlineTable:
		it := v.Children()
		for it.Next() {
			if c := it.Node(); c.Kind == unstable.KeyValue {
				idx.keyValue(p, path, c)
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
			l := idx.nodeLine(c, line)
			idx.set(elem, l)
			idx.value(p, elem, c, l)
			i++
		}
	}
}

// tableHeader resolves a [table] or [[array table]] header to its concrete
// path, numbering arrays of tables the way TOML does: a header's parts
// that name an array of tables refer to its latest element.
func (idx *index) tableHeader(p *unstable.Parser, expr *unstable.Node, array bool) string {
	var parts []*unstable.Node
	it := expr.Key()
	for it.Next() {
		parts = append(parts, it.Node())
	}
	path := ""
	for i, k := range parts {
		line := idx.nodeLine(k, 0)
		path = joinPath(path, string(k.Data))
		last := i == len(parts)-1
		if last && array {
			n := idx.tables[path]
			idx.tables[path] = n + 1
			idx.set(path, line)
			path += "[" + strconv.Itoa(n) + "]"
			idx.set(path, line)
			continue
		}
		if n, ok := idx.tables[path]; ok && n > 0 {
			path += "[" + strconv.Itoa(n-1) + "]"
		}
		idx.set(path, line)
	}
	return path
}

// line returns the line of path, or of its nearest ancestor present in the
// document (a missing key is reported at the table that lacks it), or 0.
func (idx *index) line(path string) int {
	for path != "" {
		if l, ok := idx.lines[path]; ok {
			return l
		}
		path = parentPath(path)
	}
	return 0
}

// has reports whether path is written in the document, which tells an
// explicit zero ("weight = 0") from an absent key.
func (idx *index) has(path string) bool {
	_, ok := idx.lines[path]
	return ok
}

// parentPath strips the last ".key" or "[i]" from a path.
func parentPath(path string) string {
	if strings.HasSuffix(path, "]") {
		if i := strings.LastIndexByte(path, '['); i >= 0 {
			return path[:i]
		}
		return ""
	}
	// Quoted keys may contain dots; find the last separator outside quotes.
	inQuote := false
	last := -1
	for i := 0; i < len(path); i++ {
		switch path[i] {
		case '\\':
			if inQuote {
				i++
			}
		case '"':
			inQuote = !inQuote
		case '.':
			if !inQuote {
				last = i
			}
		}
	}
	if last < 0 {
		return ""
	}
	return path[:last]
}

// joinPath appends a key to a path, quoting keys that are not bare TOML
// keys so that the path stays unambiguous.
func joinPath(path, key string) string {
	k := formatKey(key)
	if path == "" {
		return k
	}
	return path + "." + k
}

// indexPath appends an array index to a path.
func indexPath(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// formatKey quotes a key unless it is a non-empty bare key.
func formatKey(key string) string {
	if key == "" {
		return `""`
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return strconv.Quote(key)
		}
	}
	return key
}
