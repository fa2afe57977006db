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
