package sql

import (
	"context"
	stdsql "database/sql"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
)

// historyDoc is sourceDoc with a history_query on the key result.
func historyDoc(settings, query, historyQuery string) string {
	return strings.Replace(sourceDoc(settings, query), "  baseline = 0.31", "  history_query = '''"+historyQuery+"'''\n  baseline = 0.31", 1)
}

func withHistory(bs []collectors.Binding, historyQuery string) []collectors.Binding {
	kr := *bs[0].KeyResult
	kr.HistoryQuery = historyQuery
	return []collectors.Binding{{Objective: bs[0].Objective, KeyResult: &kr}}
}

// history asks src for b's values at the instants at.
func history(t *testing.T, src collectors.Source, b collectors.Binding, at []time.Time) []collectors.Measurement {
	t.Helper()
	hs, ok := src.(collectors.Historian)
	if !ok {
		t.Fatal("a sql source is no collectors.Historian")
	}
	return hs.History(context.Background(), []collectors.HistoryRequest{{Binding: b, At: at}})[0]
}

// dailySignups is the test table of daily sign-ups: one row a day from 40
// days before today to today (UTC), day n holding 100 + n%37.
type dailySignups map[string]int

func newDailySignups(now time.Time) dailySignups {
	d := dailySignups{}
	today := now.UTC().Truncate(24 * time.Hour)
	for i := 0; i <= 40; i++ {
		day := today.AddDate(0, 0, -i)
		d[day.Format(time.DateOnly)] = 100 + int(day.Unix()/86400)%37
	}
	return d
}

// week is the sum of the sign-ups of the seven days before the date of t
// in loc, and whether any of those days has a row: the number both the
// live query and the history query compute.
func (d dailySignups) week(t time.Time, loc *time.Location) (float64, bool) {
	y, m, day := t.In(loc).Date()
	sum, any := 0, false
	for i := 1; i <= 7; i++ {
		if n, ok := d[time.Date(y, m, day-i, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)]; ok {
			sum += n
			any = true
		}
	}
	return float64(sum), any
}

// historyInstants are midnights and noons (UTC) from 60 days ago to
// today, before and through the data, and an instant of the afternoon with
// a fraction of a second.
func historyInstants(now time.Time) []time.Time {
	today := now.UTC().Truncate(24 * time.Hour)
	var at []time.Time
	for i := 60; i >= 1; i-- {
		at = append(at, today.AddDate(0, 0, -i), today.AddDate(0, 0, -i).Add(12*time.Hour))
	}
	return append(at, today.AddDate(0, 0, -1).Add(15*time.Hour+37*time.Minute+12*time.Second+500*time.Millisecond), today)
}

// checkHistory compares the filled-in values with the week of sign-ups
// at each instant, and the live value with the week now.
func checkHistory(t *testing.T, src collectors.Source, bs []collectors.Binding, d dailySignups, loc *time.Location) {
	t.Helper()
	now := time.Now()
	at := historyInstants(now)
	got := history(t, src, bs[0], at)
	values, none := 0, 0
	for i, ts := range at {
		want, ok := d.week(ts, loc)
		m := got[i]
		switch {
		case m.Err != nil:
			t.Errorf("at %s: %v", ts, m.Err)
		case ok && (!m.OK || m.Value != want):
			t.Errorf("at %s: filled in %+v, want %v", ts, m, want)
		case !ok && m.OK:
			t.Errorf("at %s: filled in %v before the data", ts, m.Value)
		case ok:
			values++
		default:
			none++
		}
	}
	if values < 30 || none < 10 {
		t.Errorf("%d instants with a value and %d without, want both", values, none)
	}
	// The live query computes the same number now.
	live, err := measureOnce(t, src, bs)
	if want, _ := d.week(now, loc); err != nil || live != want {
		if after, _ := d.week(time.Now(), loc); live != after {
			t.Errorf("live %v, %v; want %v", live, err, want)
		}
	}
}

func TestSQLiteHistoryQueryIsTheQueryAtEachInstant(t *testing.T) {
	path := filepath.Join(t.TempDir(), "warehouse.db")
	db, err := stdsql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	d := newDailySignups(time.Now())
	if _, err := db.Exec(`create table daily_signups (day text primary key, signups integer)`); err != nil {
		t.Fatal(err)
	}
	for day, n := range d {
		if _, err := db.Exec(`insert into daily_signups values (?, ?)`, day, n); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	src, bs := load(t, historyDoc(`driver = "sqlite"
dsn = "`+path+`"`,
		`select sum(signups) from daily_signups where day >= date('now', '-7 days') and day < date('now')`,
		`select sum(signups) from daily_signups where day >= date(:at, '-7 days') and day < date(:at)`))
	if c, ok := src.(collectors.HistoryCapable); !ok || !c.CanHistory(bs[0]) {
		t.Fatal("a key result with a history_query cannot be filled in")
	}
	checkHistory(t, src, bs, d, time.UTC)

	// :at is the instant as SQLite's date functions read it.
	at := []time.Time{time.Date(2026, 10, 1, 0, 0, 0, 0, time.FixedZone("CEST", 2*3600)), time.Date(2026, 11, 15, 12, 30, 0, 250e6, time.UTC)}
	got := history(t, src, withHistory(bs, `select unixepoch(:at) + (julianday(:at) * 86400000 - cast(julianday(:at) * 86400000 as integer)) * 0 + length(:at) * 1e-3`)[0], at)
	for i, ts := range at {
		text := ts.UTC().Format("2006-01-02 15:04:05")
		if ts.Nanosecond() > 0 {
			text = ts.UTC().Format("2006-01-02 15:04:05.000")
		}
		want := float64(ts.Unix()) + float64(len(text))*1e-3
		if m := got[i]; !m.OK || m.Value != want {
			t.Errorf("at %s: %+v, want %v (:at = %q)", ts, m, want, text)
		}
	}
}

func TestPostgresHistoryQueryIsTheQueryAtEachInstant(t *testing.T) {
	dsn, schema := pgWarehouse(t)
	admin, _ := pgAdmin(t)
	d := newDailySignups(time.Now())
	tbl := schema + ".daily_signups"
	if _, err := admin.Exec(`create table ` + tbl + ` (day date primary key, signups int)`); err != nil {
		t.Fatal(err)
	}
	for day, n := range d {
		if _, err := admin.Exec(`insert into `+tbl+` values ($1, $2)`, day, n); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := admin.Exec(`grant select on ` + tbl + ` to ` + schema); err != nil {
		t.Fatal(err)
	}
	// In the session's time zone, far from UTC, a day starts 13 hours
	// before it does in UTC: current_date and :at::date are dates there.
	auckland, err := time.LoadLocation("Pacific/Auckland")
	if err != nil {
		t.Fatal(err)
	}
	src, bs := load(t, historyDoc(`driver = "postgres"
dsn = "`+dsn+`&timezone=Pacific/Auckland"`,
		`select sum(signups) from `+tbl+` where day >= current_date - 7 and day < current_date`,
		`select sum(signups) from `+tbl+` where day >= :at::date - 7 and day < :at::date`))
	checkHistory(t, src, bs, d, auckland)

	// :at is a timestamptz, whatever the context would make of it.
	at := []time.Time{time.Date(2026, 10, 1, 0, 0, 0, 0, auckland), time.Date(2026, 11, 15, 12, 30, 0, 250e6, time.UTC)}
	got := history(t, src, withHistory(bs, `select extract(epoch from :at)::float8 + (pg_typeof(:at) = 'timestamptz'::regtype)::int * 1e6`)[0], at)
	for i, ts := range at {
		want := float64(ts.UnixMicro())/1e6 + 1e6
		if m := got[i]; !m.OK || m.Value != want {
			t.Errorf("at %s: %+v, want %v", ts, m, want)
		}
	}
}

func TestAHistoryQueryErrorNamesTheInstantAndStopsTheRequest(t *testing.T) {
	path := warehouse(t)
	src, bs := load(t, sourceDoc(`driver = "sqlite"
dsn = "`+path+`"`, `select 1`))
	at := []time.Time{time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 12, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 19, 0, 0, 0, 0, time.UTC)}
	// One row until 2026-10-19, when the query returns two.
	got := history(t, src, withHistory(bs, `select activated from weekly_activation where week = '2026-W40' or (:at >= '2026-10-19' and week = '2026-W41')`)[0], at)
	const want = `source "warehouse": key result growth/activation: history_query at 2026-10-19T00:00:00Z: query returned 2 rows, want exactly 1`
	if !got[0].OK || got[0].Value != 31 || !got[1].OK || got[1].Value != 31 {
		t.Errorf("first instants %+v", got[:2])
	}
	if got[2].OK || got[2].Err == nil || got[2].Err.Error() != want {
		t.Errorf("got %+v\nwant the error %s", got[2], want)
	}
	// A history_query that reached the source without :at is refused
	// before anything is sent, for every instant.
	got = history(t, src, withHistory(bs, `select 1`)[0], at)
	for _, m := range got {
		if m.Err == nil || !strings.HasSuffix(m.Err.Error(), `history_query must use the instant it is asked about, :at (like "where day < date(:at)" on SQLite, "where at < :at" on PostgreSQL), outside strings and comments`) || !collectors.IsPermanent(m.Err) {
			t.Errorf("got %+v", m)
		}
	}
	// Without a history_query the key result is measured live only.
	if src.(collectors.HistoryCapable).CanHistory(bs[0]) {
		t.Error("a key result without history_query can be filled in")
	}
}

func TestHistoryQueryConfigErrorsNameTheField(t *testing.T) {
	const kr = `objectives[0].key_results[0].`
	for _, tc := range []struct {
		name, settings, history string
		want                    string
	}{
		{"a history_query needs :at", `driver = "sqlite"
dsn = "w.db"`, `select count(*) from t`, kr + `history_query: must use the instant it is asked about, :at (like "where day < date(:at)" on SQLite, "where at < :at" on PostgreSQL), outside strings and comments`},
		{"a :at in a string is not the instant", `driver = "postgres"
dsn = "postgres://okrd@db.example.com/warehouse"`, `select count(*) from t where note = ':at'`, kr + `history_query: must use the instant it is asked about, :at (like "where day < date(:at)" on SQLite, "where at < :at" on PostgreSQL), outside strings and comments`},
		{"another bind parameter is refused", `driver = "postgres"
dsn = "postgres://okrd@db.example.com/warehouse"`, `select count(*) from t where at < :at and id = $2`, kr + `history_query: holds the bind parameter $2: the only parameter of a history_query is the instant, :at`},
		{"a history_query that is not a SELECT is refused", `driver = "postgres"
dsn = "postgres://okrd@db.example.com/warehouse"`, `commit; delete from t where at < :at; select 1::float8`, kr + `history_query: must be a single SELECT (or WITH, VALUES, TABLE) statement, not COMMIT: a sql source only reads`},
		{"several SQLite statements are refused", `driver = "sqlite"
dsn = "w.db"`, `select :at; attach database 'a.db' as a`, kr + `history_query: must be a single statement: something follows its ";"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Parse([]byte(historyDoc(tc.settings, `select 1`, tc.history)), "")
			var es config.Errors
			if !errors.As(err, &es) {
				t.Fatalf("got %v, want config.Errors", err)
			}
			if len(es) != 1 || es[0].Path+": "+es[0].Msg != tc.want {
				t.Errorf("errors %v\nwant %s", es, tc.want)
			}
		})
	}
	// A valid one loads.
	cfg, err := config.Parse([]byte(historyDoc(`driver = "sqlite"
dsn = "w.db"`, `select 1`, `select count(*) from t where day < date(:at)`)), "")
	if err != nil || cfg.Objectives[0].KeyResults[0].HistoryQuery != `select count(*) from t where day < date(:at)` {
		t.Fatalf("got %v", err)
	}
}

// The attacks of readonly_test.go, made history_queries: they change
// nothing either, and the next query still runs read-only.
func TestSQLiteHistoryQueriesCannotWriteOrAttachWhateverTheirText(t *testing.T) {
	path := warehouse(t)
	dir := filepath.Dir(path)
	at := []time.Time{time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 6, 0, 0, 0, 0, time.UTC)}
	for _, tc := range sqliteAttacks(dir) {
		t.Run(tc.name, func(t *testing.T) {
			src, bs := load(t, sourceDoc(`driver = "sqlite"
dsn = "`+path+`"
max_open_conns = 1`, `select 1`))
			text, wantErr := tc.historyForm(sqliteNotAQuery, sqliteSeveral)
			got := history(t, src, withHistory(bs, text)[0], at)
			want := krPrefix + "history_query at 2026-10-05T00:00:00Z: " + wantErr
			for i, m := range got {
				if m.OK || m.Err == nil || m.Err.Error() != want {
					t.Errorf("instant %d: %+v\nwant the error %q", i, m, want)
				}
			}
			if files := sqliteFiles(t, dir); !slices.Equal(files, []string{"warehouse.db"}) {
				t.Errorf("files after the query: %v, want only warehouse.db", files)
			}
			if got := sqliteRows(t, path); got != "3 rows, activated 107, 1 files" {
				t.Errorf("the query changed the database: %s", got)
			}
			if got, err := measureOnce(t, src, withQuery(bs, `select count(*) * (select count(*) from weekly_activation) from pragma_database_list`)); err != nil || got != 3 {
				t.Errorf("the next poll: got %v, %v; want 3 (one database, 3 rows)", got, err)
			}
		})
	}
}

func TestPostgresHistoryQueriesCannotWriteWhateverTheirText(t *testing.T) {
	dsn, schema := pgWarehouse(t)
	admin, _ := pgAdmin(t)
	tbl := schema + ".weekly_activation"
	marker := filepath.Join(os.TempDir(), schema+".marker")
	t.Cleanup(func() { os.Remove(marker) })
	before := pgState(t, admin, schema)
	at := []time.Time{time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC)}
	for _, tc := range pgAttacks(dsn, schema, marker) {
		t.Run(tc.name, func(t *testing.T) {
			srcDSN := dsn
			if tc.dsn != "" {
				srcDSN = tc.dsn
			}
			src, bs := load(t, sourceDoc(`driver = "postgres"
dsn = "`+srcDSN+`"
statement_timeout = "1s"
max_open_conns = 1`, `select 1`))
			text, wantErr := tc.historyForm(pgNotAQuery, pgSeveral)
			m := history(t, src, withHistory(bs, text)[0], at)[0]
			if wantErr == "" {
				if !m.OK || m.Value != tc.want {
					t.Errorf("got %+v; want %v", m, tc.want)
				}
			} else if want := krPrefix + "history_query at 2026-10-05T00:00:00Z: " + wantErr; m.OK || m.Err == nil || m.Err.Error() != want {
				t.Errorf("got %+v\nwant the error %q", m, want)
			}
			if after := pgState(t, admin, schema); after != before {
				t.Errorf("the query changed the database: %s, before %s", after, before)
			}
			if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the query reached a shell or wrote a file: %v", err)
			}
			check := withQuery(bs, `select (current_setting('default_transaction_read_only') = 'on'
				and current_setting('transaction_read_only') = 'on'
				and current_setting('statement_timeout') = '1s')::int * count(*) from `+tbl)
			if got, err := measureOnce(t, src, check); err != nil || got != 3 {
				t.Errorf("the next poll: got %v, %v; want 3 (a read-only session, statement_timeout 1s, 3 rows)", got, err)
			}
		})
	}
}
