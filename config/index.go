package config

import (
	"sort"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// index maps every key path present in the document, with array indices
// ("objectives[1].key_results[0].target"), to the line it is written on.
// The decoders of go-toml report positions only for syntax errors, so the
// index is what lets validation errors, which are found long after
// decoding, name a line. parseDocument fills it.
type index struct {
	lines map[string]int
	// lineStarts holds the offset of the first byte of every line.
	lineStarts []int
}

// newIndex returns an empty index for data.
func newIndex(data []byte) *index {
	lineStarts := []int{0}
	for i, c := range data {
		if c == '\n' {
			lineStarts = append(lineStarts, i+1)
		}
	}
	// A configuration has about one key per line; sizing the map for that
	// spares the rehashing of a growing one.
	return &index{lines: make(map[string]int, len(lineStarts)), lineStarts: lineStarts}
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
