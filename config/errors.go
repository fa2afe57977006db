package config

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// FieldError is one problem in a configuration file, located by file, line
// and field path, so that `okrd check` can print every problem in a form
// editors and CI logs turn into links.
type FieldError struct {
	File string // the file name as given to Load or Parse
	Line int    // 1-based; 0 when the problem has no position in the file
	Path string // the field path, e.g. "objectives[0].key_results[1].target"
	Msg  string // what is wrong, never containing a secret value
}

// Error formats the error as "file:line: path: message", leaving out the
// parts that are unknown.
func (e *FieldError) Error() string {
	var b strings.Builder
	switch {
	case e.File != "" && e.Line > 0:
		b.WriteString(e.File + ":" + strconv.Itoa(e.Line) + ": ")
	case e.File != "":
		b.WriteString(e.File + ": ")
	case e.Line > 0:
		b.WriteString("line " + strconv.Itoa(e.Line) + ": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in a configuration file, sorted by line.
// Load and Parse return it (never an empty one) when the input is invalid, so
// that a user fixes all problems in one round instead of one per run.
type Errors []*FieldError

// Error prints one problem per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes the individual problems to errors.As and errors.Is.
func (es Errors) Unwrap() []error {
	errs := make([]error, len(es))
	for i, e := range es {
		errs[i] = e
	}
	return errs
}

// sortErrors orders errors by line, keeping the order in which they were
// found for errors on the same line (the decoder finds them in file order).
func sortErrors(es Errors) {
	sort.SliceStable(es, func(i, j int) bool { return es[i].Line < es[j].Line })
}

// Invalid is a validation error of one field, relative to the table being
// validated: a source type's Validate reports Field "projects[1]" and the
// loader reports it at "sources.NAME.projects[1]" with its line.
type Invalid struct {
	Field string // relative field path, e.g. "url" or "projects[1]"; may be empty
	Msg   string
}

// Error formats the error as "field: message".
func (e *Invalid) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

// FieldErrorf returns an *Invalid for the field (relative to the table being
// validated) with a formatted message. Source types use it in Validate and
// ValidateKeyResult; several may be combined with errors.Join.
func FieldErrorf(field, format string, args ...any) error {
	return &Invalid{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// flattenErrors splits errors combined with errors.Join (or any error with
// Unwrap() []error) into their leaves, so that each one is reported at its
// own field.
func flattenErrors(err error) []error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*Invalid); ok {
		return []error{err}
	}
	if m, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range m.Unwrap() {
			out = append(out, flattenErrors(e)...)
		}
		return out
	}
	return []error{err}
}
