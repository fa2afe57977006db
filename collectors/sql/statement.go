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
