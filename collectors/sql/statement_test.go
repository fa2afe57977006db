package sql

import "testing"

func TestOnlyASingleQueryPassesTheStatementCheck(t *testing.T) {
	const pgNot = "must be a single SELECT (or WITH, VALUES, TABLE) statement"
	const liteNot = "must be a single SELECT (or WITH, VALUES) statement"
	const reads = ": a sql source only reads"
	const several = `must be a single statement: something follows its ";"`
	for _, tc := range []struct {
		name, driver, query, err string
	}{
		{"a SELECT passes", DriverPostgres, "select 1", ""},
		{"keywords are case-insensitive", DriverPostgres, "  SELECT 1", ""},
		{"a parenthesized SELECT passes", DriverPostgres, "(select 1) union (select 2)", ""},
		{"a CTE passes", DriverPostgres, "with x as (select 1) select * from x", ""},
		{"VALUES passes", DriverPostgres, "values (1)", ""},
		{"TABLE passes", DriverPostgres, "table t", ""},
		{"a trailing semicolon passes", DriverPostgres, "select 1;", ""},
		{"comments before the SELECT pass", DriverPostgres, "-- weekly\n/* activation */ select 1", ""},
		{"a nested comment before the SELECT passes", DriverPostgres, "/* a /* nested */ comment */ select 1", ""},
		{"COMMIT is refused", DriverPostgres, "commit; delete from t", pgNot + ", not COMMIT" + reads},
		{"a comment does not hide a DELETE", DriverPostgres, "/* select */ delete from t", pgNot + ", not DELETE" + reads},
		{"a line comment does not hide a DELETE", DriverPostgres, "-- select\ndelete from t", pgNot + ", not DELETE" + reads},
		{"a nested comment does not hide a DELETE", DriverPostgres, "/* /* */ select */ delete from t", pgNot + ", not DELETE" + reads},
		{"a COPY only lib/pq sees is refused", DriverPostgres, "/* /* */ copy */ select 1; delete from t", pgNot + ", not COPY" + reads},
		{"a comment lib/pq ends early does not hide a COPY", DriverPostgres, "/*/ copy */ select 1; delete from t", pgNot + ", not COPY" + reads},
		{"a comment lib/pq ends early does not hide a COPY from PostgreSQL", DriverPostgres, "/*/ select */ copy t to stdout", pgNot + ", not COPY" + reads},
		{"a parenthesis does not hide a COPY", DriverPostgres, "(copy t to stdout)", pgNot + ", not COPY" + reads},
		{"a form feed does not hide a COPY", DriverPostgres, "\fcopy t to stdout", pgNot + ", not COPY" + reads},
		{"a comment alone is refused", DriverPostgres, "-- select 1", pgNot + reads},
		{"an unterminated comment is refused", DriverPostgres, "/* select 1", pgNot + reads},
		{"a comment nested in PostgreSQL but not in SQLite is read as PostgreSQL does", DriverPostgres, "/* /* */ select 1", pgNot + reads},

		{"a SQLite SELECT passes", DriverSQLite, "select count(*) from t;", ""},
		{"SQLite comments do not nest", DriverSQLite, "/* /* */ select 1", ""},
		{"semicolons in SQLite strings pass", DriverSQLite, "select ';', 'it''s; fine', x'3b' ; -- done", ""},
		{"semicolons in SQLite quoted names pass", DriverSQLite, "select \"a;b\", [c;d], `e;f` from t", ""},
		{"semicolons in SQLite comments pass", DriverSQLite, "select 1 /* ; attach */ -- ; attach", ""},
		{"empty statements after the SELECT pass", DriverSQLite, "select 1;\n;\n", ""},
		{"TABLE is not SQLite", DriverSQLite, "table t", liteNot + ", not TABLE" + reads},
		{"ATTACH is refused", DriverSQLite, "attach 'a.db' as a", liteNot + ", not ATTACH" + reads},
		{"PRAGMA is refused", DriverSQLite, "pragma query_only = 0", liteNot + ", not PRAGMA" + reads},
		{"a second statement is refused", DriverSQLite, "select 1; select 2", several},
		{"a string does not hide a second statement", DriverSQLite, "select 'it''s'; attach 'a.db' as a", several},
		{"a quoted name does not hide a second statement", DriverSQLite, "select [x;y]; attach 'a.db' as a", several},
		{"a comment does not hide a second statement", DriverSQLite, "select 1 /* ; */; attach 'a.db' as a", several},
		{"a second statement after a comment is refused", DriverSQLite, "select 1; -- x\n attach 'a.db' as a", several},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ""
			if err := checkStatement(tc.driver, tc.query); err != nil {
				got = err.Error()
			}
			if got != tc.err {
				t.Fatalf("checkStatement(%q) = %q, want %q", tc.query, got, tc.err)
			}
		})
	}
}

func TestTheInstantIsABindParameterOutsideStringsAndComments(t *testing.T) {
	const pg = " (CAST($1 AS pg_catalog.timestamptz))"
	const other = "holds the bind parameter "
	const missing = `must use the instant it is asked about, :at (like "where day < date(:at)" on SQLite, "where at < :at" on PostgreSQL), outside strings and comments`
	for _, tc := range []struct {
		name, driver, query, want, err string
	}{
		{"PostgreSQL gets a timestamptz parameter", DriverPostgres, "select count(*) from t where at < :at", "select count(*) from t where at < " + pg, ""},
		{"every :at is the same parameter", DriverPostgres, "select count(*) from t where at >= :at - interval '7 days' and at < :at",
			"select count(*) from t where at >= " + pg + " - interval '7 days' and at < " + pg, ""},
		{"a cast of :at stays a cast", DriverPostgres, "select :at::date - 1", "select " + pg + "::date - 1", ""},
		{"a name right before :at stays a name", DriverPostgres, "select a[lo:at] from t", "select a[lo" + pg + "] from t", ""},
		{"a cast to a type named at is no parameter", DriverPostgres, "select x::at from t", "", missing},
		{"a longer name is no parameter", DriverPostgres, "select :atx, :at_1 from t", "", missing},
		{"strings keep their text", DriverPostgres, "select ':at', 'it''s :at', E'\\' :at', U&':at' from t where a < :at",
			"select ':at', 'it''s :at', E'\\' :at', U&':at' from t where a < " + pg, ""},
		{"dollar-quoted strings keep their text", DriverPostgres, "select $$ :at $$, $q$ :at $$ :at $q$ where a < :at",
			"select $$ :at $$, $q$ :at $$ :at $q$ where a < " + pg, ""},
		{"a $ in a name is no dollar quote", DriverPostgres, "select a$b$ from t where a < :at", "select a$b$ from t where a < " + pg, ""},
		{"quoted names keep their text", DriverPostgres, `select "x:at" from t where a < :at`, `select "x:at" from t where a < ` + pg, ""},
		{"comments keep their text", DriverPostgres, "select 1 -- :at\n/* /* :at */ :at */ where a < :at", "select 1 -- :at\n/* /* :at */ :at */ where a < " + pg, ""},
		{"a :at only in a string or a comment is missing", DriverPostgres, "select ':at' -- :at", "", missing},
		{"a positional parameter is refused", DriverPostgres, "select count(*) from t where at < :at and id = $1", "", other + "$1: the only parameter of a history_query is the instant, :at"},
		{"a jsonb ? is an operator, not a parameter", DriverPostgres, "select count(*) from t where doc ? 'k' and at < :at", "select count(*) from t where doc ? 'k' and at < " + pg, ""},

		{"SQLite gets its first positional parameter", DriverSQLite, "select sum(n) from d where day >= date(:at, '-7 days') and day < date(:at)",
			"select sum(n) from d where day >= date(?1, '-7 days') and day < date(?1)", ""},
		{"SQLite strings and names keep their text", DriverSQLite, "select ':at', \":at\", [:at], `:at`, x'3a' from t where a < :at",
			"select ':at', \":at\", [:at], `:at`, x'3a' from t where a < ?1", ""},
		{"SQLite comments keep their text", DriverSQLite, "select 1 /* :at */ -- :at\n where a < :at", "select 1 /* :at */ -- :at\n where a < ?1", ""},
		{"SQLite comments do not nest", DriverSQLite, "select 1 /* /* */ where a < :at", "select 1 /* /* */ where a < ?1", ""},
		{"a ? is refused", DriverSQLite, "select count(*) from t where a < :at and b = ?", "", other + "?: the only parameter of a history_query is the instant, :at"},
		{"a numbered ? is refused", DriverSQLite, "select count(*) from t where a < ?1", "", other + "?1: the only parameter of a history_query is the instant, :at"},
		{"another named parameter is refused", DriverSQLite, "select count(*) from t where a < :day", "", other + ":day: the only parameter of a history_query is the instant, :at"},
		{"@at is another parameter", DriverSQLite, "select count(*) from t where a < @at", "", other + "@at: the only parameter of a history_query is the instant, :at"},
		{"$at is another parameter", DriverSQLite, "select count(*) from t where a < $at", "", other + "$at: the only parameter of a history_query is the instant, :at"},
		{"SQLite reads :at::x as one parameter", DriverSQLite, "select count(*) from t where a < :at::x", "", other + ":at::x: the only parameter of a history_query is the instant, :at"},
		{"SQLite reads :at(x) as one parameter", DriverSQLite, "select count(*) from t where a < :at(x)", "", other + ":at(x): the only parameter of a history_query is the instant, :at"},
		{"no instant is refused", DriverSQLite, "select count(*) from t", "", missing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := bindInstant(tc.driver, tc.query)
			errText := ""
			if err != nil {
				errText = err.Error()
			}
			if got != tc.want || errText != tc.err {
				t.Fatalf("bindInstant(%q)\n= %q, %q\nwant %q, %q", tc.query, got, errText, tc.want, tc.err)
			}
		})
	}
}
