package sql

import (
	"fmt"
	"strings"
)

// A key result's query comes from configuration and is treated as
// hostile: it must be one statement that only reads. The checks here are
// the first of several layers (see docs/sources/sql.md): they refuse, by
// its first keyword, every statement that is not a query (COMMIT, SET,
// COPY, DO, ATTACH, PRAGMA, VACUUM, ...) and, on SQLite, a text holding
// more than one statement. They do not have to understand everything a
// query may contain: what they let through still meets PostgreSQL's
// extended protocol (one statement only) in a read-only transaction, or
// SQLite's authorizer on a read-only connection.

// readKeywords are the statements a query may start with, per driver.
// WITH also starts a writable CTE or a WITH ... DELETE: those reach the
// database and fail there (the read-only transaction, the authorizer).
var readKeywords = map[string][]string{
	DriverPostgres: {"select", "with", "values", "table"},
	DriverSQLite:   {"select", "with", "values"},
}

// checkStatement returns why query may not run on driver, or nil. The
// message completes "query ..." and "query: ...".
func checkStatement(driver, query string) error {
	allowed, ok := readKeywords[driver]
	if !ok {
		// An unknown driver: the source's own validation says so.
		return nil
	}
	if w := leadingWord(query, driver == DriverPostgres); !contains(allowed, w) {
		return &statementError{msg: notAQuery(allowed, w)}
	}
	// lib/pq reads block comments as not nested, PostgreSQL as nested:
	// "/* /* */ copy */ select 1; delete ..." is a SELECT to PostgreSQL
	// but a COPY to lib/pq, which would send all of it as a script.
	if driver == DriverPostgres && pqStartsWithCopy(query) {
		return &statementError{msg: notAQuery(allowed, "copy")}
	}
	if driver == DriverSQLite && !sqliteSingleStatement(query) {
		return &statementError{msg: "must be a single statement: something follows its \";\""}
	}
	return nil
}

// statementError is a query refused before it reached the database.
type statementError struct{ msg string }

func (e *statementError) Error() string { return e.msg }

func notAQuery(allowed []string, word string) string {
	up := make([]string, len(allowed))
	for i, a := range allowed {
		up[i] = strings.ToUpper(a)
	}
	want := fmt.Sprintf("must be a single %s (or %s) statement", up[0], strings.Join(up[1:], ", "))
	if word == "" {
		return want + ": a sql source only reads"
	}
	return fmt.Sprintf("%s, not %s: a sql source only reads", want, strings.ToUpper(word))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// isSpace is the white space of PostgreSQL's and SQLite's scanners.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

// leadingWord returns the first word of query in lower case, skipping
// white space, comments and opening parentheses ("(select 1)"). Block
// comments nest in PostgreSQL and do not in SQLite. It returns "" when no
// word starts the statement (an unterminated comment, a quote, ...).
func leadingWord(query string, nestedComments bool) string {
	i := 0
	for i < len(query) {
		c := query[i]
		switch {
		case isSpace(c) || c == '(':
			i++
		case strings.HasPrefix(query[i:], "--"):
			end := strings.IndexByte(query[i:], '\n')
			if end < 0 {
				return ""
			}
			i += end + 1
		case strings.HasPrefix(query[i:], "/*"):
			end := commentEnd(query, i, nestedComments)
			if end < 0 {
				return ""
			}
			i = end
		default:
			return word(query[i:])
		}
	}
	return ""
}

// commentEnd returns the index just past the block comment that starts at
// query[i], or -1 if it does not end.
func commentEnd(query string, i int, nested bool) int {
	depth := 0
	for j := i; j+1 < len(query); {
		switch {
		case query[j] == '/' && query[j+1] == '*' && (nested || depth == 0):
			depth++
			j += 2
		case query[j] == '*' && query[j+1] == '/':
			depth--
			j += 2
			if depth == 0 {
				return j
			}
		default:
			j++
		}
	}
	return -1
}

// pqStartsWithCopy is lib/pq's pqsql.StartsWithCopy (its comment rules,
// its white space, "copy" as a prefix): lib/pq sends a text for which it
// is true with the simple-query protocol, which runs several statements.
func pqStartsWithCopy(query string) bool {
	if len(query) < 4 {
		return false
	}
	var linecmt, blockcmt bool
	for i := 0; i < len(query); i++ {
		c := query[i]
		if linecmt {
			linecmt = c != '\n'
			continue
		}
		if blockcmt {
			blockcmt = !(c == '/' && query[i-1] == '*')
			continue
		}
		if c == '-' && len(query) > i+1 && query[i+1] == '-' {
			linecmt = true
			continue
		}
		if c == '/' && len(query) > i+1 && query[i+1] == '*' {
			blockcmt = true
			continue
		}
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			continue
		}
		return len(query) > i+3 && strings.EqualFold(query[i:i+4], "copy")
	}
	return false
}

// word returns the word that starts s, in lower case.
func word(s string) string {
	n := 0
	for n < len(s) && isWordByte(s[n]) {
		n++
	}
	return strings.ToLower(s[:n])
}

// sqliteSingleStatement reports whether query holds at most one SQLite
// statement: after the first ";" outside strings, quoted identifiers and
// comments, only white space, comments and further ";" may follow. The
// token rules are SQLite's: '...' and "..." and `...` with doubled quotes,
// [...] without escapes, -- to the end of the line, /* */ not nested (an
// unterminated one runs to the end).
func sqliteSingleStatement(query string) bool {
	ended := false
	for i := 0; i < len(query); {
		c := query[i]
		switch {
		case isSpace(c) || c == ';':
			if c == ';' {
				ended = true
			}
			i++
			continue
		case strings.HasPrefix(query[i:], "--"):
			end := strings.IndexByte(query[i:], '\n')
			if end < 0 {
				return true
			}
			i += end + 1
			continue
		case strings.HasPrefix(query[i:], "/*"):
			end := strings.Index(query[i+2:], "*/")
			if end < 0 {
				return true
			}
			i += 2 + end + 2
			continue
		}
		if ended {
			return false
		}
		switch c {
		case '\'', '"', '`':
			i = quotedEnd(query, i, c)
		case '[':
			end := strings.IndexByte(query[i:], ']')
			if end < 0 {
				return true
			}
			i += end + 1
		default:
			i++
		}
	}
	return true
}

// quotedEnd returns the index just past the quoted token that starts at
// query[i] with quote q (a doubled quote stands for itself), or len(query)
// if it does not end.
func quotedEnd(query string, i int, q byte) int {
	for j := i + 1; j < len(query); j++ {
		if query[j] != q {
			continue
		}
		if j+1 < len(query) && query[j+1] == q {
			j++
			continue
		}
		return j + 1
	}
	return len(query)
}

// The instant of a history_query. A history_query names the instant it is
// asked about as :at, which is sent as a bind parameter: every :at outside
// strings, quoted names and comments becomes the statement's one
// positional parameter ($1 on PostgreSQL, where it is cast to timestamptz;
// ?1 on SQLite), and the instant is bound to it, never written into the
// text. The text sent is then checked and run exactly like a query: the
// replacement adds no quote, comment or semicolon, so it cannot change
// where a string, a comment or a statement ends.

// instantParam is how a history_query names the instant.
const instantParam = ":at"

// pgInstant replaces :at on PostgreSQL. The cast makes the parameter a
// timestamptz wherever it stands (PostgreSQL would otherwise infer its
// type from the context), schema-qualified so that no type of the search
// path can stand in for it; the leading space keeps it a token of its own.
const pgInstant = " (CAST($1 AS pg_catalog.timestamptz))"

// sqliteInstant replaces :at on SQLite.
const sqliteInstant = "?1"

// bindInstant returns the text of a history_query as it is sent to
// driver: every :at replaced by the positional parameter of the instant.
// It refuses a text without :at, and one with another bind parameter
// ($1, ?, :name, @name), which nothing would fill. The message completes
// "history_query ...".
func bindInstant(driver, query string) (string, error) {
	var b strings.Builder
	found := false
	last := 0
	err := scanParams(driver, query, func(start, end int) error {
		if query[start:end] != instantParam {
			return &statementError{msg: fmt.Sprintf("holds the bind parameter %s: the only parameter of a history_query is the instant, :at", query[start:end])}
		}
		found = true
		b.WriteString(query[last:start])
		if driver == DriverPostgres {
			b.WriteString(pgInstant)
		} else {
			b.WriteString(sqliteInstant)
		}
		last = end
		return nil
	})
	if err != nil {
		return "", err
	}
	if !found {
		return "", &statementError{msg: "must use the instant it is asked about, :at (like \"where day < date(:at)\" on SQLite, \"where at < :at\" on PostgreSQL), outside strings and comments"}
	}
	b.WriteString(query[last:])
	return b.String(), nil
}

// isIdentByte reports whether c continues a name or a number in
// PostgreSQL's and SQLite's scanners ($ included, bytes of UTF-8
// sequences too).
func isIdentByte(c byte) bool {
	return isWordByte(c) || c >= '0' && c <= '9' || c == '$' || c >= 0x80
}

// scanParams calls param with the bounds of every bind parameter of query
// outside strings, quoted names and comments, by the token rules of
// driver: on PostgreSQL, $1 and :at (the history_query's own notation; a
// "::" cast is no parameter); on SQLite, ?, ?NNN, :name, @name, $name and
// #name as SQLite reads them.
func scanParams(driver, query string, param func(start, end int) error) error {
	pg := driver == DriverPostgres
	for i := 0; i < len(query); {
		c := query[i]
		switch {
		case strings.HasPrefix(query[i:], "--"):
			end := strings.IndexByte(query[i:], '\n')
			if end < 0 {
				return nil
			}
			i += end + 1
		case strings.HasPrefix(query[i:], "/*"):
			if pg {
				end := commentEnd(query, i, true)
				if end < 0 {
					return nil
				}
				i = end
			} else {
				end := strings.Index(query[i+2:], "*/")
				if end < 0 {
					return nil
				}
				i += 2 + end + 2
			}
		case c == '\'':
			if pg && i > 0 && (query[i-1] == 'e' || query[i-1] == 'E') && (i < 2 || !isIdentByte(query[i-2])) {
				i = escapeStringEnd(query, i)
			} else {
				i = quotedEnd(query, i, '\'')
			}
		case c == '"' || c == '`' && !pg:
			i = quotedEnd(query, i, c)
		case c == '[' && !pg:
			end := strings.IndexByte(query[i:], ']')
			if end < 0 {
				return nil
			}
			i += end + 1
		case isIdentByte(c) && c != '$':
			// A name, a keyword or a number, with the $ it may contain.
			for i < len(query) && isIdentByte(query[i]) {
				i++
			}
		case pg && c == '$':
			if j := i + 1; j < len(query) && query[j] >= '0' && query[j] <= '9' {
				for j < len(query) && query[j] >= '0' && query[j] <= '9' {
					j++
				}
				if err := param(i, j); err != nil {
					return err
				}
				i = j
				continue
			}
			if tag, ok := dollarTag(query[i:]); ok {
				end := strings.Index(query[i+len(tag):], tag)
				if end < 0 {
					return nil
				}
				i += len(tag) + end + len(tag)
				continue
			}
			i++
		case pg && c == ':':
			switch {
			case strings.HasPrefix(query[i:], "::"):
				i += 2
			case strings.HasPrefix(query[i:], instantParam) && (i+len(instantParam) == len(query) || !isIdentByte(query[i+len(instantParam)])):
				if err := param(i, i+len(instantParam)); err != nil {
					return err
				}
				i += len(instantParam)
			default:
				i++
			}
		case !pg && c == '?':
			j := i + 1
			for j < len(query) && query[j] >= '0' && query[j] <= '9' {
				j++
			}
			if err := param(i, j); err != nil {
				return err
			}
			i = j
		case !pg && (c == ':' || c == '@' || c == '$' || c == '#'):
			j := sqliteVariableEnd(query, i)
			if j == i+1 {
				// A sigil without a name: no parameter (SQLite refuses it).
				i++
				continue
			}
			if err := param(i, j); err != nil {
				return err
			}
			i = j
		default:
			i++
		}
	}
	return nil
}

// sqliteVariableEnd returns the end of the SQLite variable that starts at
// query[i] with ':', '@', '$' or '#': its name of identifier characters,
// in which "::" and a "(...)" suffix are part of it, as in SQLite's
// tokenizer (for Tcl variables).
func sqliteVariableEnd(query string, i int) int {
	j, n := i+1, 0
	for j < len(query) {
		c := query[j]
		switch {
		case isIdentByte(c):
			n++
			j++
		case c == '(' && n > 0:
			end := strings.IndexByte(query[j:], ')')
			if end < 0 {
				return len(query)
			}
			return j + end + 1
		case c == ':' && j+1 < len(query) && query[j+1] == ':':
			j += 2
		default:
			return j
		}
	}
	return j
}

// escapeStringEnd returns the index just past the PostgreSQL escape string
// (E'...') whose quote is at query[i]: a backslash escapes the next byte,
// a doubled quote stands for itself.
func escapeStringEnd(query string, i int) int {
	for j := i + 1; j < len(query); j++ {
		switch query[j] {
		case '\\':
			j++
		case '\'':
			if j+1 < len(query) && query[j+1] == '\'' {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(query)
}

// dollarTag returns the opening tag of a PostgreSQL dollar-quoted string
// at the start of s ("$$" or "$name$"), if there is one.
func dollarTag(s string) (string, bool) {
	for j := 1; j < len(s); j++ {
		c := s[j]
		switch {
		case c == '$':
			return s[:j+1], true
		case isWordByte(c) || c >= 0x80 || j > 1 && c >= '0' && c <= '9':
		default:
			return "", false
		}
	}
	return "", false
}
