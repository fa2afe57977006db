// Package storetest owns the conformance suite of store.Store: every
// implementation (store/sqlite, store/postgres) runs the same sentence-named
// tests with exact expectations, so code written against the interface
// behaves the same on either database.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/okrd/okrd/store"
)

// Run runs the conformance suite. open must return a fresh, empty, migrated
// store for each call and arrange for it to be closed (t.Cleanup).
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			tc.run(t, s)
		})
	}
}

// t0 is a fixed instant in the middle of a quarter; tests offset from it.
var t0 = time.Date(2026, 10, 1, 9, 30, 0, 0, time.UTC)

var errBoom = errors.New("boom")

type test struct {
	name string
	run  func(t *testing.T, s store.Store)
}

var tests = []test{
	// Values.
	{"AppendValues with no values is a no-op", testAppendNothing},
	{"values round-trip in UTC at millisecond precision", testValuesRoundTrip},
	{"History returns values oldest first with ties broken by ID", testHistoryOrder},
	{"History bounds are inclusive", testHistoryBoundsInclusive},
	{"zero History bounds are unbounded", testHistoryZeroBounds},
	{"History returns only the requested key result", testHistoryFilters},
	{"History of an unknown key result is empty, not an error", testHistoryUnknown},
	{"ValuesAfter pages through every value in ID order", testValuesAfterPaging},
	{"ValuesAfter with a limit of zero returns every later value", testValuesAfterNoLimit},
	{"AppendValues rejects an invalid value and stores none of the batch", testAppendRejectsInvalid},
	{"a batch of values larger than one statement lands completely and in order", testAppendLargeBatch},
	{"DeleteValues removes only the key result's values of that origin prefix", testDeleteValuesByOrigin},
	{"DeleteValues needs an origin prefix and treats LIKE wildcards literally", testDeleteValuesPrefixRules},
	{"values deleted in a failing Update stay", testDeleteValuesRollsBack},
	{"IDs are not reused after DeleteValues, so tailing readers skip nothing", testDeleteValuesKeepsIDsIncreasing},

	// Check-ins.
	{"AddCheckin stores the check-in and its value together", testAddCheckin},
	{"AddCheckin with a zero time applies to now", testAddCheckinZeroAt},
	{"AddCheckin rejects a check-in without a key result and stores nothing", testAddCheckinInvalid},
	{"Checkins are newest first and honour the limit", testCheckinsOrderLimit},

	// Cursors.
	{"a missing cursor reports ok=false", testCursorMissing},
	{"SetCursor inserts and then replaces a cursor", testCursorReplace},
	{"Cursors lists every scope of one source in scope order", testCursorsList},

	// Update.
	{"Update commits records, cursor and values together", testUpdateCommits},
	{"Update rolls back everything when fn fails midway", testUpdateRollsBack},
	{"Update rolls back and re-panics when fn panics", testUpdatePanics},
	{"a write that fails inside Update is reported and rolls back the rest", testUpdateFailingWrite},
	{"a Tx cannot be used after Update returns", testTxAfterUpdate},

	// Records.
	{"PutRecords inserts and replaces by source, kind and id", testRecordsUpsert},
	{"the last of duplicate records in one call wins", testRecordsDuplicates},
	{"Records iterates in kind and id byte order and filters by kind", testRecordsOrder},
	{"Records iterates past many pages without skipping or repeating", testRecordsManyPages},
	{"an error from the Records callback stops the iteration and is returned", testRecordsCallbackError},
	{"the Records callback may use the store", testRecordsCallbackReentrant},
	{"DeleteRecords removes only the named ids of that source and kind", testRecordsDelete},
	{"CountRecords counts per source and kind", testCountRecords},
	{"record data and times round-trip exactly", testRecordsRoundTrip},

	// Record changes.
	{"RecordChanges lists each put and deletion once, as the record is now", testRecordChanges},
	{"RecordChanges and RecordSeq are per source", testRecordChangesPerSource},
	{"RecordChanges pages with a limit", testRecordChangesPaging},
	{"record changes roll back with their transaction", testRecordChangesRollBack},
	{"a reader following RecordChanges during concurrent writers sees every change once", testRecordChangesTailing},

	// Leadership terms.
	{"NewTerm starts increasing terms and CurrentTerm reads the newest", testTerms},
	{"HoldTerm lets the current term write and fences an older one", testHoldTerm},
	{"alert states written in an Update commit and roll back with it", testAlertStatesInUpdate},

	// Alert states.
	{"PutAlertState inserts and replaces by key and AlertStates lists by key", testAlertStates},
	{"DeleteAlertState removes a state and ignores an absent key", testAlertDelete},
	{"zero alert times stay zero and a zero UpdatedAt becomes now", testAlertZeroTimes},

	// Concurrency and contexts.
	{"concurrent writers all land", testConcurrentWriters},
	{"a reader tailing with ValuesAfter during concurrent writes sees every value once", testTailingReader},
	{"a cancelled context returns an error from every method", testCancelledContext},
	{"a context cancelled during Update's fn commits nothing", testCancelDuringUpdate},
	{"Ping answers", testPing},
}

// ---- helpers

func mustAppend(t *testing.T, s store.Store, vals ...store.Value) {
	t.Helper()
	if err := s.AppendValues(context.Background(), vals...); err != nil {
		t.Fatalf("AppendValues: %v", err)
	}
}

func mustHistory(t *testing.T, s store.Store, obj, kr string, from, to time.Time) []store.Value {
	t.Helper()
	got, err := s.History(context.Background(), obj, kr, from, to)
	if err != nil {
		t.Fatalf("History(%s, %s, %v, %v): %v", obj, kr, from, to, err)
	}
	return got
}

func mustAll(t *testing.T, s store.Store) []store.Value {
	t.Helper()
	got, err := s.ValuesAfter(context.Background(), 0, 0)
	if err != nil {
		t.Fatalf("ValuesAfter(0, 0): %v", err)
	}
	return got
}

func mustUpdate(t *testing.T, s store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func mustRecords(t *testing.T, s store.Store, source, kind string) []store.Record {
	t.Helper()
	var out []store.Record
	err := s.Records(context.Background(), source, kind, func(r store.Record) error {
		out = append(out, r)
		return nil
	})
	if err != nil {
		t.Fatalf("Records(%s, %s): %v", source, kind, err)
	}
	return out
}

func mustCursor(t *testing.T, s store.Store, source, scope string) (string, bool) {
	t.Helper()
	v, ok, err := s.Cursor(context.Background(), source, scope)
	if err != nil {
		t.Fatalf("Cursor(%s, %s): %v", source, scope, err)
	}
	return v, ok
}

func mustCount(t *testing.T, s store.Store) map[string]map[string]int64 {
	t.Helper()
	got, err := s.CountRecords(context.Background())
	if err != nil {
		t.Fatalf("CountRecords: %v", err)
	}
	return got
}

// point is the part of a Value a test states; IDs are checked separately.
type point struct {
	At     time.Time
	Value  float64
	Origin string
}

func points(vals []store.Value) []point {
	out := make([]point, 0, len(vals))
	for _, v := range vals {
		out = append(out, point{v.At, v.Value, v.Origin})
	}
	return out
}

func checkPoints(t *testing.T, what string, got []store.Value, want []point) {
	t.Helper()
	if g := points(got); !reflect.DeepEqual(g, want) {
		t.Fatalf("%s:\n got  %+v\n want %+v", what, g, want)
	}
}

func checkIncreasingIDs(t *testing.T, vals []store.Value) {
	t.Helper()
	for i, v := range vals {
		if v.ID <= 0 {
			t.Fatalf("value %d has ID %d, want > 0", i, v.ID)
		}
		if i > 0 && v.ID <= vals[i-1].ID {
			t.Fatalf("value %d has ID %d after ID %d, want increasing", i, v.ID, vals[i-1].ID)
		}
	}
}

func kr(obj, kr string, at time.Time, v float64, origin string) store.Value {
	return store.Value{ObjectiveID: obj, KeyResultID: kr, At: at, Value: v, Origin: origin}
}

func rec(source, scope, kind, id, data string) store.Record {
	return store.Record{Source: source, Scope: scope, Kind: kind, ID: id, UpdatedAt: t0, Data: []byte(data)}
}

func recordKeys(recs []store.Record) []string {
	out := make([]string, 0, len(recs))
	for _, r := range recs {
		out = append(out, r.Kind+"/"+r.ID)
	}
	return out
}

// within checks that got was stamped by the store between before and after,
// at millisecond precision, in UTC.
func within(t *testing.T, what string, got, before, after time.Time) {
	t.Helper()
	if got.Location() != time.UTC {
		t.Fatalf("%s is in %v, want UTC", what, got.Location())
	}
	if got.Before(before.Truncate(time.Millisecond)) || got.After(after) || got.Nanosecond()%int(time.Millisecond) != 0 {
		t.Fatalf("%s = %v, want a millisecond time within [%v, %v]", what, got, before, after)
	}
}

// ---- values

func testAppendNothing(t *testing.T, s store.Store) {
	mustAppend(t, s)
	if got := mustAll(t, s); len(got) != 0 {
		t.Fatalf("got %d values, want none", len(got))
	}
}

func testValuesRoundTrip(t *testing.T, s store.Store) {
	paris := time.FixedZone("CEST", 2*60*60)
	in := []store.Value{
		// Nanoseconds are dropped: the store keeps milliseconds.
		kr("o", "k", time.Date(2026, 10, 1, 11, 30, 0, 123_456_789, paris), 0.1+0.2, "source:github"),
		kr("o", "k", time.Date(2026, 10, 1, 9, 30, 1, 999_999_999, time.UTC), -1e300, ""),
		kr("o", "k", time.Date(1969, 12, 31, 23, 59, 59, 1_500_000, time.UTC), 5e-324, "before the epoch"),
		kr("o", "k", time.Date(2026, 10, 1, 9, 30, 2, 0, time.UTC), math.MaxFloat64, "max"),
		kr("o", "k", time.Date(2026, 10, 1, 9, 30, 3, 0, time.UTC), math.Inf(1), "+inf"),
		kr("o", "k", time.Date(2026, 10, 1, 9, 30, 4, 0, time.UTC), math.Inf(-1), "-inf"),
	}
	mustAppend(t, s, in...)
	got := mustAll(t, s)
	want := []point{
		{time.Date(2026, 10, 1, 9, 30, 0, 123_000_000, time.UTC), 0.1 + 0.2, "source:github"},
		{time.Date(2026, 10, 1, 9, 30, 1, 999_000_000, time.UTC), -1e300, ""},
		{time.Date(1969, 12, 31, 23, 59, 59, 1_000_000, time.UTC), 5e-324, "before the epoch"},
		{time.Date(2026, 10, 1, 9, 30, 2, 0, time.UTC), math.MaxFloat64, "max"},
		{time.Date(2026, 10, 1, 9, 30, 3, 0, time.UTC), math.Inf(1), "+inf"},
		{time.Date(2026, 10, 1, 9, 30, 4, 0, time.UTC), math.Inf(-1), "-inf"},
	}
	checkPoints(t, "ValuesAfter(0, 0)", got, want)
	checkIncreasingIDs(t, got)
	for i, v := range got {
		if v.At.Location() != time.UTC {
			t.Errorf("value %d At is in %v, want UTC", i, v.At.Location())
		}
		if v.ObjectiveID != "o" || v.KeyResultID != "k" {
			t.Errorf("value %d is for %s/%s, want o/k", i, v.ObjectiveID, v.KeyResultID)
		}
	}
}

func testHistoryOrder(t *testing.T, s store.Store) {
	mustAppend(t, s,
		kr("o", "k", t0.Add(2*time.Hour), 3, "third"),
		kr("o", "k", t0, 1, "first"),
		kr("o", "k", t0.Add(time.Hour), 2, "second, inserted first"),
		kr("o", "k", t0.Add(time.Hour), 2.5, "second, inserted second"),
	)
	got := mustHistory(t, s, "o", "k", time.Time{}, time.Time{})
	checkPoints(t, "History", got, []point{
		{t0, 1, "first"},
		{t0.Add(time.Hour), 2, "second, inserted first"},
		{t0.Add(time.Hour), 2.5, "second, inserted second"},
		{t0.Add(2 * time.Hour), 3, "third"},
	})
	if got[1].ID >= got[2].ID {
		t.Fatalf("tied values have IDs %d and %d, want increasing", got[1].ID, got[2].ID)
	}
}

func testHistoryBoundsInclusive(t *testing.T, s store.Store) {
	for i := range 5 {
		mustAppend(t, s, kr("o", "k", t0.Add(time.Duration(i)*time.Hour), float64(i), ""))
	}
	got := mustHistory(t, s, "o", "k", t0.Add(time.Hour), t0.Add(3*time.Hour))
	checkPoints(t, "History[1h, 3h]", got, []point{
		{t0.Add(time.Hour), 1, ""},
		{t0.Add(2 * time.Hour), 2, ""},
		{t0.Add(3 * time.Hour), 3, ""},
	})
	got = mustHistory(t, s, "o", "k", t0.Add(2*time.Hour), t0.Add(2*time.Hour))
	checkPoints(t, "History[2h, 2h]", got, []point{{t0.Add(2 * time.Hour), 2, ""}})
	// Bounds are compared at millisecond precision, like the stored times.
	got = mustHistory(t, s, "o", "k", t0.Add(time.Hour+time.Millisecond), t0.Add(2*time.Hour-time.Millisecond))
	checkPoints(t, "History(1h, 2h)", got, []point{})
}

func testHistoryZeroBounds(t *testing.T, s store.Store) {
	early := time.Date(1971, 1, 1, 0, 0, 0, 0, time.UTC)
	late := time.Date(2199, 1, 1, 0, 0, 0, 0, time.UTC)
	mustAppend(t, s, kr("o", "k", early, 1, ""), kr("o", "k", t0, 2, ""), kr("o", "k", late, 3, ""))
	all := []point{{early, 1, ""}, {t0, 2, ""}, {late, 3, ""}}
	checkPoints(t, "History(zero, zero)", mustHistory(t, s, "o", "k", time.Time{}, time.Time{}), all)
	checkPoints(t, "History(zero, t0)", mustHistory(t, s, "o", "k", time.Time{}, t0), all[:2])
	checkPoints(t, "History(t0, zero)", mustHistory(t, s, "o", "k", t0, time.Time{}), all[1:])
}

func testHistoryFilters(t *testing.T, s store.Store) {
	mustAppend(t, s,
		kr("o1", "k1", t0, 1, "wanted"),
		kr("o1", "k2", t0, 2, "other key result"),
		kr("o2", "k1", t0, 3, "same key result id, other objective"),
		kr("o1", "k1", t0.Add(time.Minute), 4, "wanted"),
	)
	checkPoints(t, "History(o1, k1)", mustHistory(t, s, "o1", "k1", time.Time{}, time.Time{}),
		[]point{{t0, 1, "wanted"}, {t0.Add(time.Minute), 4, "wanted"}})
}

func testHistoryUnknown(t *testing.T, s store.Store) {
	mustAppend(t, s, kr("o", "k", t0, 1, ""))
	if got := mustHistory(t, s, "o", "nope", time.Time{}, time.Time{}); len(got) != 0 {
		t.Fatalf("got %+v, want no values", got)
	}
}

func testValuesAfterPaging(t *testing.T, s store.Store) {
	var in []store.Value
	for i := range 25 {
		// Times go backwards so ID order and time order differ.
		in = append(in, kr("o", "k"+strconv.Itoa(i%3), t0.Add(-time.Duration(i)*time.Minute), float64(i), ""))
	}
	mustAppend(t, s, in...)
	var (
		after int64
		seen  []float64
		pages []int
	)
	for {
		page, err := s.ValuesAfter(context.Background(), after, 10)
		if err != nil {
			t.Fatalf("ValuesAfter(%d, 10): %v", after, err)
		}
		pages = append(pages, len(page))
		if len(page) == 0 {
			break
		}
		checkIncreasingIDs(t, page)
		if page[0].ID <= after {
			t.Fatalf("page starts at ID %d, want > %d", page[0].ID, after)
		}
		for _, v := range page {
			seen = append(seen, v.Value)
		}
		after = page[len(page)-1].ID
	}
	if want := []int{10, 10, 5, 0}; !slices.Equal(pages, want) {
		t.Fatalf("page sizes %v, want %v", pages, want)
	}
	for i, v := range seen {
		if v != float64(i) {
			t.Fatalf("values in ID order %v, want insertion order 0..24", seen)
		}
	}
}

func testValuesAfterNoLimit(t *testing.T, s store.Store) {
	for i := range 5 {
		mustAppend(t, s, kr("o", "k", t0, float64(i), ""))
	}
	all := mustAll(t, s)
	got, err := s.ValuesAfter(context.Background(), all[1].ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, all[2:]) {
		t.Fatalf("got %+v, want %+v", got, all[2:])
	}
	got, err = s.ValuesAfter(context.Background(), all[4].ID, -1)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("got %+v after the last ID, want none", got)
	}
}

func testAppendRejectsInvalid(t *testing.T, s store.Store) {
	good := kr("o", "k", t0, 1, "")
	for _, tc := range []struct {
		name string
		bad  store.Value
	}{
		{"no objective", kr("", "k", t0, 1, "")},
		{"no key result", kr("o", "", t0, 1, "")},
		{"no time", kr("o", "k", time.Time{}, 1, "")},
		{"NaN", kr("o", "k", t0, math.NaN(), "")},
	} {
		if err := s.AppendValues(context.Background(), good, good, tc.bad); err == nil {
			t.Errorf("AppendValues with a value with %s: no error", tc.name)
		}
		err := s.Update(context.Background(), func(tx store.Tx) error {
			return tx.AppendValues(context.Background(), good, tc.bad)
		})
		if err == nil {
			t.Errorf("Tx.AppendValues with a value with %s: no error", tc.name)
		}
	}
	if got := mustAll(t, s); len(got) != 0 {
		t.Fatalf("got %d values stored, want none", len(got))
	}
}

func testAppendLargeBatch(t *testing.T, s store.Store) {
	const n = 2345
	in := make([]store.Value, n)
	for i := range in {
		in[i] = kr("o", "k", t0.Add(time.Duration(i)*time.Second), float64(i), "bulk")
	}
	mustAppend(t, s, in...)
	got := mustAll(t, s)
	if len(got) != n {
		t.Fatalf("got %d values, want %d", len(got), n)
	}
	checkIncreasingIDs(t, got)
	for i, v := range got {
		if v.Value != float64(i) || !v.At.Equal(in[i].At) {
			t.Fatalf("value %d = %+v, want value %d at %v", i, v, i, in[i].At)
		}
	}
}

// ---- check-ins

func testAddCheckin(t *testing.T, s store.Store) {
	before := time.Now()
	c, err := s.AddCheckin(context.Background(), store.Checkin{
		ObjectiveID: "o", KeyResultID: "nps",
		At:    time.Date(2026, 10, 15, 12, 0, 0, 500_600_700, time.FixedZone("EST", -5*60*60)),
		Value: 42.5, Author: "ana@example.com", Note: "Survey of 312 customers.",
	})
	after := time.Now()
	if err != nil {
		t.Fatalf("AddCheckin: %v", err)
	}
	if c.ID <= 0 {
		t.Fatalf("ID = %d, want > 0", c.ID)
	}
	within(t, "CreatedAt", c.CreatedAt, before, after)
	wantAt := time.Date(2026, 10, 15, 17, 0, 0, 500_000_000, time.UTC)
	want := store.Checkin{ID: c.ID, ObjectiveID: "o", KeyResultID: "nps", At: wantAt, Value: 42.5,
		Author: "ana@example.com", Note: "Survey of 312 customers.", CreatedAt: c.CreatedAt}
	if c != want {
		t.Fatalf("AddCheckin returned\n %+v\nwant\n %+v", c, want)
	}
	got, err := s.Checkins(context.Background(), "o", "nps", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("Checkins = %+v, want [%+v]", got, want)
	}
	checkPoints(t, "History", mustHistory(t, s, "o", "nps", time.Time{}, time.Time{}),
		[]point{{wantAt, 42.5, "checkin:" + strconv.FormatInt(c.ID, 10)}})
}

func testAddCheckinZeroAt(t *testing.T, s store.Store) {
	before := time.Now()
	c, err := s.AddCheckin(context.Background(), store.Checkin{ObjectiveID: "o", KeyResultID: "k", Value: 1})
	after := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	within(t, "At", c.At, before, after)
	if !c.At.Equal(c.CreatedAt) {
		t.Fatalf("At = %v, want CreatedAt %v", c.At, c.CreatedAt)
	}
}

func testAddCheckinInvalid(t *testing.T, s store.Store) {
	for _, c := range []store.Checkin{
		{ObjectiveID: "o", At: t0, Value: 1},
		{KeyResultID: "k", At: t0, Value: 1},
		{ObjectiveID: "o", KeyResultID: "k", At: t0, Value: math.NaN()},
	} {
		if _, err := s.AddCheckin(context.Background(), c); err == nil {
			t.Errorf("AddCheckin(%+v): no error", c)
		}
	}
	if got := mustAll(t, s); len(got) != 0 {
		t.Fatalf("got values %+v, want none", got)
	}
	for _, key := range [][2]string{{"o", ""}, {"", "k"}, {"o", "k"}} {
		got, err := s.Checkins(context.Background(), key[0], key[1], 0)
		if err != nil || len(got) != 0 {
			t.Fatalf("Checkins(%q, %q) = %+v, %v; want none", key[0], key[1], got, err)
		}
	}
}

func testCheckinsOrderLimit(t *testing.T, s store.Store) {
	add := func(kr string, at time.Time, v float64) store.Checkin {
		t.Helper()
		c, err := s.AddCheckin(context.Background(), store.Checkin{ObjectiveID: "o", KeyResultID: kr, At: at, Value: v})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// Inserted out of time order, with a tie on At.
	mid := add("k", t0.Add(24*time.Hour), 2)
	old := add("k", t0, 1)
	newest := add("k", t0.Add(48*time.Hour), 3)
	tie := add("k", t0.Add(48*time.Hour), 4)
	add("other", t0.Add(72*time.Hour), 9)

	ids := func(cs []store.Checkin) []int64 {
		out := []int64{}
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	for _, tc := range []struct {
		limit int
		want  []int64
	}{
		{0, []int64{tie.ID, newest.ID, mid.ID, old.ID}},
		{-1, []int64{tie.ID, newest.ID, mid.ID, old.ID}},
		{2, []int64{tie.ID, newest.ID}},
		{10, []int64{tie.ID, newest.ID, mid.ID, old.ID}},
	} {
		got, err := s.Checkins(context.Background(), "o", "k", tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids(got), tc.want) {
			t.Errorf("Checkins(limit %d) IDs = %v, want %v", tc.limit, ids(got), tc.want)
		}
	}
}

// ---- cursors

func testCursorMissing(t *testing.T, s store.Store) {
	mustUpdate(t, s, func(tx store.Tx) error { return tx.SetCursor(context.Background(), "jira", "PAY", "1") })
	for _, key := range [][2]string{{"jira", "WEB"}, {"github", "PAY"}, {"", ""}} {
		if v, ok := mustCursor(t, s, key[0], key[1]); ok || v != "" {
			t.Errorf("Cursor(%q, %q) = %q, %v; want \"\", false", key[0], key[1], v, ok)
		}
	}
}

func testCursorReplace(t *testing.T, s store.Store) {
	before := time.Now()
	mustUpdate(t, s, func(tx store.Tx) error {
		return tx.SetCursor(context.Background(), "github", "acme/web", "2026-10-01T09:30:00Z")
	})
	mustUpdate(t, s, func(tx store.Tx) error {
		return tx.SetCursor(context.Background(), "github", "", "source-wide")
	})
	if v, ok := mustCursor(t, s, "github", "acme/web"); !ok || v != "2026-10-01T09:30:00Z" {
		t.Fatalf("Cursor = %q, %v; want the first value", v, ok)
	}
	if v, ok := mustCursor(t, s, "github", ""); !ok || v != "source-wide" {
		t.Fatalf("Cursor with an empty scope = %q, %v; want source-wide", v, ok)
	}
	mustUpdate(t, s, func(tx store.Tx) error {
		return tx.SetCursor(context.Background(), "github", "acme/web", "page=2")
	})
	after := time.Now()
	if v, ok := mustCursor(t, s, "github", "acme/web"); !ok || v != "page=2" {
		t.Fatalf("Cursor = %q, %v; want the replaced value", v, ok)
	}
	cs, err := s.Cursors(context.Background(), "github")
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 {
		t.Fatalf("Cursors = %+v, want 2 (a replace adds no row)", cs)
	}
	for _, c := range cs {
		within(t, "UpdatedAt", c.UpdatedAt, before, after)
	}
	if err := s.Update(context.Background(), func(tx store.Tx) error {
		return tx.SetCursor(context.Background(), "", "x", "y")
	}); err == nil {
		t.Fatal("SetCursor without a source: no error")
	}
}

func testCursorsList(t *testing.T, s store.Store) {
	mustUpdate(t, s, func(tx store.Tx) error {
		for _, c := range [][3]string{{"jira", "WEB", "3"}, {"jira", "PAY", "1"}, {"github", "acme/api", "x"}, {"jira", "OPS", "2"}} {
			if err := tx.SetCursor(context.Background(), c[0], c[1], c[2]); err != nil {
				return err
			}
		}
		return nil
	})
	cs, err := s.Cursors(context.Background(), "jira")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cs {
		if c.Source != "jira" {
			t.Errorf("cursor of source %q listed for jira", c.Source)
		}
		got = append(got, c.Scope+"="+c.Value)
	}
	if want := []string{"OPS=2", "PAY=1", "WEB=3"}; !slices.Equal(got, want) {
		t.Fatalf("Cursors(jira) = %v, want %v", got, want)
	}
	none, err := s.Cursors(context.Background(), "prometheus")
	if err != nil || len(none) != 0 {
		t.Fatalf("Cursors(prometheus) = %+v, %v; want none", none, err)
	}
}

// ---- Update

func testUpdateCommits(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustUpdate(t, s, func(tx store.Tx) error {
		if err := tx.PutRecords(ctx, rec("jira", "PAY", "issue", "PAY-1", `{"a":1}`), rec("jira", "PAY", "issue", "PAY-2", `{"a":2}`)); err != nil {
			return err
		}
		if err := tx.AppendValues(ctx, kr("o", "k", t0, 7, "source:jira")); err != nil {
			return err
		}
		return tx.SetCursor(ctx, "jira", "PAY", "c1")
	})
	if got := recordKeys(mustRecords(t, s, "jira", "")); !slices.Equal(got, []string{"issue/PAY-1", "issue/PAY-2"}) {
		t.Fatalf("records = %v", got)
	}
	if v, ok := mustCursor(t, s, "jira", "PAY"); !ok || v != "c1" {
		t.Fatalf("cursor = %q, %v; want c1", v, ok)
	}
	checkPoints(t, "values", mustAll(t, s), []point{{t0, 7, "source:jira"}})
}

// seedSync writes a committed sync state the rollback tests must keep.
func seedSync(t *testing.T, s store.Store) {
	t.Helper()
	ctx := context.Background()
	mustUpdate(t, s, func(tx store.Tx) error {
		if err := tx.PutRecords(ctx, rec("jira", "PAY", "issue", "PAY-1", "v1")); err != nil {
			return err
		}
		if err := tx.AppendValues(ctx, kr("o", "k", t0, 1, "seed")); err != nil {
			return err
		}
		return tx.SetCursor(ctx, "jira", "PAY", "v1")
	})
}

// checkSeed asserts that the store holds exactly what seedSync wrote.
func checkSeed(t *testing.T, s store.Store) {
	t.Helper()
	recs := mustRecords(t, s, "jira", "")
	if len(recs) != 1 || recs[0].ID != "PAY-1" || string(recs[0].Data) != "v1" {
		t.Fatalf("records = %+v, want only PAY-1 with data v1", recs)
	}
	if v, ok := mustCursor(t, s, "jira", "PAY"); !ok || v != "v1" {
		t.Fatalf("cursor = %q, %v; want the previous cursor v1", v, ok)
	}
	if v, ok := mustCursor(t, s, "jira", "WEB"); ok {
		t.Fatalf("cursor jira/WEB = %q, want none", v)
	}
	checkPoints(t, "values", mustAll(t, s), []point{{t0, 1, "seed"}})
	if got, want := mustCount(t, s), map[string]map[string]int64{"jira": {"issue": 1}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("CountRecords = %v, want %v", got, want)
	}
}

// halfSync writes a new sync state through tx, the way a poll does.
func halfSync(ctx context.Context, tx store.Tx) error {
	if err := tx.PutRecords(ctx, rec("jira", "PAY", "issue", "PAY-1", "v2"), rec("jira", "PAY", "issue", "PAY-2", "new")); err != nil {
		return err
	}
	if err := tx.DeleteRecords(ctx, "jira", "issue", "PAY-1"); err != nil {
		return err
	}
	if err := tx.PutRecords(ctx, rec("jira", "WEB", "sprint", "9", "new")); err != nil {
		return err
	}
	if err := tx.SetCursor(ctx, "jira", "PAY", "v2"); err != nil {
		return err
	}
	if err := tx.SetCursor(ctx, "jira", "WEB", "w1"); err != nil {
		return err
	}
	return tx.AppendValues(ctx, kr("o", "k", t0.Add(time.Hour), 2, "half"))
}

func testUpdateRollsBack(t *testing.T, s store.Store) {
	seedSync(t, s)
	err := s.Update(context.Background(), func(tx store.Tx) error {
		if err := halfSync(context.Background(), tx); err != nil {
			return err
		}
		return fmt.Errorf("page 3 of 5: %w", errBoom)
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Update returned %v, want fn's error", err)
	}
	checkSeed(t, s)
}

func testUpdatePanics(t *testing.T, s store.Store) {
	seedSync(t, s)
	func() {
		defer func() {
			if p := recover(); p != errBoom {
				t.Fatalf("recovered %v, want fn's panic value re-raised", p)
			}
		}()
		_ = s.Update(context.Background(), func(tx store.Tx) error {
			if err := halfSync(context.Background(), tx); err != nil {
				return err
			}
			panic(errBoom)
		})
		t.Fatal("Update returned after fn panicked")
	}()
	checkSeed(t, s)
	// The store is still usable: the connection and the write turn were
	// released during the panic.
	done := make(chan error, 1)
	go func() {
		done <- s.Update(context.Background(), func(tx store.Tx) error {
			return tx.SetCursor(context.Background(), "jira", "PAY", "v3")
		})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Update after a panic: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Update after a panic did not return: the write turn or connection leaked")
	}
	if v, _ := mustCursor(t, s, "jira", "PAY"); v != "v3" {
		t.Fatalf("cursor = %q, want v3", v)
	}
}

func testUpdateFailingWrite(t *testing.T, s store.Store) {
	seedSync(t, s)
	err := s.Update(context.Background(), func(tx store.Tx) error {
		if err := halfSync(context.Background(), tx); err != nil {
			return err
		}
		// A record without an id is refused by the store.
		return tx.PutRecords(context.Background(), store.Record{Source: "jira", Kind: "issue"})
	})
	if err == nil {
		t.Fatal("Update with an invalid record: no error")
	}
	checkSeed(t, s)
}

func testTxAfterUpdate(t *testing.T, s store.Store) {
	var leaked store.Tx
	mustUpdate(t, s, func(tx store.Tx) error { leaked = tx; return nil })
	if err := leaked.SetCursor(context.Background(), "jira", "PAY", "late"); err == nil {
		t.Fatal("SetCursor on a finished Tx: no error")
	}
	if _, ok := mustCursor(t, s, "jira", "PAY"); ok {
		t.Fatal("a write through a finished Tx was stored")
	}
}

// ---- records

func testRecordsUpsert(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustUpdate(t, s, func(tx store.Tx) error {
		return tx.PutRecords(ctx, rec("github", "acme/web", "pull", "1", "first"), rec("github", "acme/web", "pull", "2", "x"))
	})
	later := t0.Add(time.Hour)
	mustUpdate(t, s, func(tx store.Tx) error {
		return tx.PutRecords(ctx, store.Record{Source: "github", Scope: "acme/api", Kind: "pull", ID: "1", UpdatedAt: later, Data: []byte("second")})
	})
	got := mustRecords(t, s, "github", "pull")
	want := []store.Record{
		{Source: "github", Scope: "acme/api", Kind: "pull", ID: "1", UpdatedAt: later, Data: []byte("second")},
		rec("github", "acme/web", "pull", "2", "x"),
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("records =\n %+v\nwant\n %+v", got, want)
	}
	if c := mustCount(t, s); c["github"]["pull"] != 2 {
		t.Fatalf("CountRecords = %v, want 2 pulls", c)
	}
	for _, bad := range []store.Record{{Kind: "k", ID: "1"}, {Source: "s", ID: "1"}, {Source: "s", Kind: "k"}} {
		if err := s.Update(ctx, func(tx store.Tx) error { return tx.PutRecords(ctx, bad) }); err == nil {
			t.Errorf("PutRecords(%+v): no error", bad)
		}
	}
}

func testRecordsDuplicates(t *testing.T, s store.Store) {
	mustUpdate(t, s, func(tx store.Tx) error {
		return tx.PutRecords(context.Background(),
			rec("jira", "PAY", "issue", "PAY-1", "first"),
			rec("jira", "PAY", "issue", "PAY-2", "only"),
			rec("jira", "PAY", "issue", "PAY-1", "last"),
		)
	})
	got := mustRecords(t, s, "jira", "issue")
	if len(got) != 2 || string(got[0].Data) != "last" || string(got[1].Data) != "only" {
		t.Fatalf("records = %+v, want PAY-1=last and PAY-2=only", got)
	}
}

func testRecordsOrder(t *testing.T, s store.Store) {
	var in []store.Record
	for _, kind := range []string{"pull", "deployment", "issue"} {
		for _, id := range []string{"b", "B", "a_1", "a-1", "a", "ä", "10", "9"} {
			in = append(in, rec("src", "", kind, id, kind+id))
		}
	}
	in = append(in, rec("other", "", "issue", "0", ""))
	mustUpdate(t, s, func(tx store.Tx) error { return tx.PutRecords(context.Background(), in...) })
	// Byte order, as a sync cursor compares: digits, upper case, lower
	// case, then multi-byte UTF-8.
	ids := []string{"10", "9", "B", "a", "a-1", "a_1", "b", "ä"}
	var want []string
	for _, kind := range []string{"deployment", "issue", "pull"} {
		for _, id := range ids {
			want = append(want, kind+"/"+id)
		}
	}
	if got := recordKeys(mustRecords(t, s, "src", "")); !slices.Equal(got, want) {
		t.Fatalf("Records(src, all) =\n %v\nwant\n %v", got, want)
	}
	if got := recordKeys(mustRecords(t, s, "src", "issue")); !slices.Equal(got, want[8:16]) {
		t.Fatalf("Records(src, issue) = %v, want %v", got, want[8:16])
	}
	if got := mustRecords(t, s, "src", "none"); len(got) != 0 {
		t.Fatalf("Records(src, none) = %v, want none", got)
	}
	if got := mustRecords(t, s, "nosource", ""); len(got) != 0 {
		t.Fatalf("Records(nosource) = %v, want none", got)
	}
}

func testRecordsManyPages(t *testing.T, s store.Store) {
	var in []store.Record
	var want []string
	for _, kind := range []string{"issue", "pr"} {
		n := map[string]int{"issue": 1234, "pr": 600}[kind]
		for i := range n {
			id := fmt.Sprintf("%05d", i)
			in = append(in, rec("src", "", kind, id, id))
			want = append(want, kind+"/"+id)
		}
	}
	// Shuffle deterministically so insertion order is not iteration order.
	slices.Reverse(in)
	mustUpdate(t, s, func(tx store.Tx) error { return tx.PutRecords(context.Background(), in...) })
	if got := recordKeys(mustRecords(t, s, "src", "")); !slices.Equal(got, want) {
		t.Fatalf("Records(src, all) returned %d records, want %d in order", len(got), len(want))
	}
	if got := recordKeys(mustRecords(t, s, "src", "issue")); !slices.Equal(got, want[:1234]) {
		t.Fatalf("Records(src, issue) returned %d records, want 1234 in order", len(got))
	}
}

func testRecordsCallbackError(t *testing.T, s store.Store) {
	var in []store.Record
	for i := range 10 {
		in = append(in, rec("src", "", "k", strconv.Itoa(i), ""))
	}
	mustUpdate(t, s, func(tx store.Tx) error { return tx.PutRecords(context.Background(), in...) })
	calls := 0
	err := s.Records(context.Background(), "src", "", func(store.Record) error {
		calls++
		if calls == 3 {
			return errBoom
		}
		return nil
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Records returned %v, want the callback's error", err)
	}
	if calls != 3 {
		t.Fatalf("callback ran %d times, want 3", calls)
	}
}

func testRecordsCallbackReentrant(t *testing.T, s store.Store) {
	mustUpdate(t, s, func(tx store.Tx) error {
		return tx.PutRecords(context.Background(), rec("src", "", "k", "1", ""), rec("src", "", "k", "2", ""))
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var seen []string
	err := s.Records(ctx, "src", "k", func(r store.Record) error {
		seen = append(seen, r.ID)
		// A consumer that derives values while iterating writes them
		// from inside the callback.
		return s.AppendValues(ctx, kr("o", "k", t0, 1, "record:"+r.ID))
	})
	if err != nil {
		t.Fatalf("Records with a writing callback: %v", err)
	}
	if !slices.Equal(seen, []string{"1", "2"}) || len(mustAll(t, s)) != 2 {
		t.Fatalf("seen %v and %d values, want 2 of each", seen, len(mustAll(t, s)))
	}
}

func testRecordsDelete(t *testing.T, s store.Store) {
	var in []store.Record
	var del []string
	for i := range 700 {
		id := fmt.Sprintf("%04d", i)
		in = append(in, rec("jira", "", "issue", id, ""))
		if i%7 != 0 {
			del = append(del, id)
		}
	}
	in = append(in, rec("jira", "", "sprint", "0001", ""), rec("github", "", "issue", "0001", ""))
	mustUpdate(t, s, func(tx store.Tx) error { return tx.PutRecords(context.Background(), in...) })
	mustUpdate(t, s, func(tx store.Tx) error {
		if err := tx.DeleteRecords(context.Background(), "jira", "issue", append(del, "absent")...); err != nil {
			return err
		}
		return tx.DeleteRecords(context.Background(), "jira", "issue")
	})
	want := map[string]map[string]int64{"jira": {"issue": 100, "sprint": 1}, "github": {"issue": 1}}
	if got := mustCount(t, s); !reflect.DeepEqual(got, want) {
		t.Fatalf("CountRecords = %v, want %v", got, want)
	}
	for _, r := range mustRecords(t, s, "jira", "issue") {
		if n, _ := strconv.Atoi(r.ID); n%7 != 0 {
			t.Fatalf("record %s survived its deletion", r.ID)
		}
	}
}

func testCountRecords(t *testing.T, s store.Store) {
	if got := mustCount(t, s); got == nil || len(got) != 0 {
		t.Fatalf("CountRecords on an empty store = %#v, want an empty map", got)
	}
	mustUpdate(t, s, func(tx store.Tx) error {
		return tx.PutRecords(context.Background(),
			rec("jira", "PAY", "issue", "1", ""), rec("jira", "WEB", "issue", "2", ""),
			rec("jira", "PAY", "sprint", "1", ""), rec("github", "acme/web", "pull", "1", ""))
	})
	want := map[string]map[string]int64{"jira": {"issue": 2, "sprint": 1}, "github": {"pull": 1}}
	if got := mustCount(t, s); !reflect.DeepEqual(got, want) {
		t.Fatalf("CountRecords = %v, want %v", got, want)
	}
}

func testRecordsRoundTrip(t *testing.T, s store.Store) {
	binary := []byte{0, 1, 0xfe, 0xff, '{', '"', '\\', '\n'}
	in := []store.Record{
		{Source: "s", Kind: "k", ID: "binary", UpdatedAt: time.Date(2026, 1, 2, 3, 4, 5, 678_900_000, time.Local), Data: binary},
		{Source: "s", Kind: "k", ID: "empty", Data: []byte{}},
		{Source: "s", Kind: "k", ID: "json", Scope: "acme/web", Data: []byte(`{"key": "PAY-1", "fields": {"summary": "Émoji 🚀"}}`)},
		{Source: "s", Kind: "k", ID: "nil"},
	}
	mustUpdate(t, s, func(tx store.Tx) error { return tx.PutRecords(context.Background(), in...) })
	got := mustRecords(t, s, "s", "k")
	want := []store.Record{
		{Source: "s", Kind: "k", ID: "binary", UpdatedAt: time.Date(2026, 1, 2, 3, 4, 5, 678_000_000, time.Local).UTC(), Data: binary},
		{Source: "s", Kind: "k", ID: "empty"},
		in[2],
		{Source: "s", Kind: "k", ID: "nil"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("records =\n %+v\nwant\n %+v", got, want)
	}
	if !bytes.Equal(got[0].Data, binary) {
		t.Fatal("binary data changed")
	}
}

// ---- alert states

func testAlertStates(t *testing.T, s store.Store) {
	ctx := context.Background()
	b := store.AlertState{Key: "b", State: "firing", Since: t0, LastSent: t0.Add(time.Minute), UpdatedAt: t0.Add(2 * time.Minute), Data: []byte(`{"ts":"1"}`)}
	a := store.AlertState{Key: "a", State: "pending", Since: t0, UpdatedAt: t0}
	for _, st := range []store.AlertState{b, a} {
		if err := s.PutAlertState(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	a2 := store.AlertState{Key: "a", State: "firing", Since: t0.Add(time.Hour), LastSent: t0.Add(time.Hour + 123*time.Millisecond), UpdatedAt: t0.Add(time.Hour), Data: []byte("x")}
	if err := s.PutAlertState(ctx, a2); err != nil {
		t.Fatal(err)
	}
	got, err := s.AlertStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []store.AlertState{a2, b}; !reflect.DeepEqual(got, want) {
		t.Fatalf("AlertStates =\n %+v\nwant\n %+v", got, want)
	}
	if err := s.PutAlertState(ctx, store.AlertState{State: "firing"}); err == nil {
		t.Fatal("PutAlertState without a key: no error")
	}
}

func testAlertDelete(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, k := range []string{"a", "b"} {
		if err := s.PutAlertState(ctx, store.AlertState{Key: k, State: "firing", UpdatedAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteAlertState(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAlertState(ctx, "absent"); err != nil {
		t.Fatalf("DeleteAlertState of an absent key: %v", err)
	}
	got, err := s.AlertStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Key != "b" {
		t.Fatalf("AlertStates = %+v, want only b", got)
	}
}

func testAlertZeroTimes(t *testing.T, s store.Store) {
	before := time.Now()
	if err := s.PutAlertState(context.Background(), store.AlertState{Key: "k", State: "resolved"}); err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	got, err := s.AlertStates(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !got[0].Since.IsZero() || !got[0].LastSent.IsZero() || got[0].Data != nil {
		t.Fatalf("AlertStates = %+v, want zero Since, LastSent and nil Data", got)
	}
	within(t, "UpdatedAt", got[0].UpdatedAt, before, after)
}

// ---- concurrency and contexts

func testConcurrentWriters(t *testing.T, s store.Store) {
	const writers, rounds, per = 8, 20, 5
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for r := range rounds {
				var vals []store.Value
				for i := range per {
					vals = append(vals, kr("o", "k", t0, float64(w*1000+r*10+i), fmt.Sprintf("w%d", w)))
				}
				if err := s.AppendValues(ctx, vals...); err != nil {
					errs <- err
					return
				}
				err := s.Update(ctx, func(tx store.Tx) error {
					id := fmt.Sprintf("w%d-r%d", w, r)
					if err := tx.PutRecords(ctx, rec("src", "", "k", id, id)); err != nil {
						return err
					}
					return tx.SetCursor(ctx, "src", fmt.Sprintf("w%d", w), strconv.Itoa(r))
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("a concurrent writer failed: %v", err)
	}
	all := mustAll(t, s)
	if len(all) != writers*rounds*per {
		t.Fatalf("got %d values, want %d", len(all), writers*rounds*per)
	}
	checkIncreasingIDs(t, all)
	seen := map[float64]bool{}
	for _, v := range all {
		seen[v.Value] = true
	}
	if len(seen) != writers*rounds*per {
		t.Fatalf("got %d distinct values, want %d", len(seen), writers*rounds*per)
	}
	if got := mustCount(t, s)["src"]["k"]; got != writers*rounds {
		t.Fatalf("got %d records, want %d", got, writers*rounds)
	}
	cs, err := s.Cursors(ctx, "src")
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != writers {
		t.Fatalf("got %d cursors, want %d", len(cs), writers)
	}
	for _, c := range cs {
		if c.Value != strconv.Itoa(rounds-1) {
			t.Fatalf("cursor %s = %s, want the last round %d", c.Scope, c.Value, rounds-1)
		}
	}
}

func testTailingReader(t *testing.T, s store.Store) {
	const writers, rounds, per = 4, 40, 3
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, writers+1)
	for w := range writers {
		wg.Go(func() {
			for r := range rounds {
				var vals []store.Value
				for i := range per {
					vals = append(vals, kr("o", "k", t0, float64(w*1000+r*10+i), ""))
				}
				var err error
				if r%2 == 0 {
					err = s.AppendValues(ctx, vals...)
				} else {
					err = s.Update(ctx, func(tx store.Tx) error { return tx.AppendValues(ctx, vals...) })
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	writing := make(chan struct{})
	go func() { wg.Wait(); close(writing) }()

	var (
		after int64
		seen  []store.Value
	)
	tail := func() {
		for {
			page, err := s.ValuesAfter(ctx, after, 7)
			if err != nil {
				t.Fatalf("ValuesAfter: %v", err)
			}
			if len(page) == 0 {
				return
			}
			seen = append(seen, page...)
			after = page[len(page)-1].ID
		}
	}
	for done := false; !done; {
		select {
		case <-writing:
			done = true
		default:
		}
		tail()
	}
	tail()
	close(errs)
	for err := range errs {
		t.Fatalf("a writer failed: %v", err)
	}
	all := mustAll(t, s)
	if len(all) != writers*rounds*per {
		t.Fatalf("stored %d values, want %d", len(all), writers*rounds*per)
	}
	if len(seen) != len(all) {
		var missed []int64
		got := map[int64]bool{}
		for _, v := range seen {
			got[v.ID] = true
		}
		for _, v := range all {
			if !got[v.ID] {
				missed = append(missed, v.ID)
			}
		}
		t.Fatalf("the tailing reader saw %d of %d values; it skipped IDs %v that committed after a higher ID", len(seen), len(all), missed)
	}
	checkIncreasingIDs(t, seen)
}

func testCancelledContext(t *testing.T, s store.Store) {
	seedSync(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	called := false
	checks := map[string]error{
		"AppendValues": s.AppendValues(ctx, kr("o", "k", t0, 1, "")),
		"Update": s.Update(ctx, func(store.Tx) error {
			called = true
			return nil
		}),
		"PutAlertState":    s.PutAlertState(ctx, store.AlertState{Key: "k", State: "firing"}),
		"DeleteAlertState": s.DeleteAlertState(ctx, "k"),
		"Records": s.Records(ctx, "jira", "", func(store.Record) error {
			called = true
			return nil
		}),
		"Ping": s.Ping(ctx),
	}
	_, err := s.History(ctx, "o", "k", time.Time{}, time.Time{})
	checks["History"] = err
	_, err = s.ValuesAfter(ctx, 0, 10)
	checks["ValuesAfter"] = err
	_, err = s.AddCheckin(ctx, store.Checkin{ObjectiveID: "o", KeyResultID: "k", At: t0, Value: 1})
	checks["AddCheckin"] = err
	_, err = s.Checkins(ctx, "o", "k", 0)
	checks["Checkins"] = err
	_, _, err = s.Cursor(ctx, "jira", "PAY")
	checks["Cursor"] = err
	_, err = s.Cursors(ctx, "jira")
	checks["Cursors"] = err
	_, err = s.CountRecords(ctx)
	checks["CountRecords"] = err
	_, err = s.AlertStates(ctx)
	checks["AlertStates"] = err
	_, err = s.RecordChanges(ctx, "jira", 0, 0)
	checks["RecordChanges"] = err
	_, err = s.RecordSeq(ctx, "jira")
	checks["RecordSeq"] = err
	_, err = s.NewTerm(ctx, "test")
	checks["NewTerm"] = err
	_, err = s.CurrentTerm(ctx)
	checks["CurrentTerm"] = err

	names := make([]string, 0, len(checks))
	for name := range checks {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := checks[name]; !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context returned %v, want context.Canceled", name, err)
		}
	}
	if called {
		t.Error("a callback ran under a cancelled context")
	}
	checkSeed(t, s)
}

func testCancelDuringUpdate(t *testing.T, s store.Store) {
	seedSync(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := halfSync(ctx, tx); err != nil {
			return err
		}
		cancel()
		// fn ignores the cancellation; the commit must still not happen.
		return nil
	})
	if err == nil {
		t.Fatal("Update whose context was cancelled before commit returned no error")
	}
	checkSeed(t, s)
}

func testPing(t *testing.T, s store.Store) {
	if err := s.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// ---- DeleteValues

func origins(vals []store.Value) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = v.Origin
	}
	return out
}

func testDeleteValuesByOrigin(t *testing.T, s store.Store) {
	mustAppend(t, s,
		store.Value{ObjectiveID: "o", KeyResultID: "k", At: t0, Value: 1, Origin: "history:jira"},
		store.Value{ObjectiveID: "o", KeyResultID: "k", At: t0.Add(time.Hour), Value: 2, Origin: "source:jira"},
		store.Value{ObjectiveID: "o", KeyResultID: "k", At: t0.Add(2 * time.Hour), Value: 3, Origin: "checkin:7"},
		store.Value{ObjectiveID: "o", KeyResultID: "k", At: t0.Add(3 * time.Hour), Value: 4, Origin: "history:github"},
		store.Value{ObjectiveID: "o", KeyResultID: "other", At: t0, Value: 5, Origin: "history:jira"},
		store.Value{ObjectiveID: "p", KeyResultID: "k", At: t0, Value: 6, Origin: "history:jira"},
	)
	var n int64
	mustUpdate(t, s, func(tx store.Tx) error {
		var err error
		n, err = tx.DeleteValues(context.Background(), "o", "k", "history:")
		return err
	})
	if n != 2 {
		t.Errorf("DeleteValues removed %d values, want 2", n)
	}
	if got, want := origins(mustHistory(t, s, "o", "k", time.Time{}, time.Time{})), []string{"source:jira", "checkin:7"}; !slices.Equal(got, want) {
		t.Errorf("o/k keeps %q, want %q", got, want)
	}
	if got := mustHistory(t, s, "o", "other", time.Time{}, time.Time{}); len(got) != 1 {
		t.Errorf("another key result lost values: %v", got)
	}
	if got := mustHistory(t, s, "p", "k", time.Time{}, time.Time{}); len(got) != 1 {
		t.Errorf("another objective lost values: %v", got)
	}
}

func testDeleteValuesPrefixRules(t *testing.T, s store.Store) {
	mustAppend(t, s,
		store.Value{ObjectiveID: "o", KeyResultID: "k", At: t0, Value: 1, Origin: "history:jira"},
		store.Value{ObjectiveID: "o", KeyResultID: "k", At: t0.Add(time.Hour), Value: 2, Origin: "historyXjira"},
		store.Value{ObjectiveID: "o", KeyResultID: "k", At: t0.Add(2 * time.Hour), Value: 3, Origin: "history_jira"},
	)
	err := s.Update(context.Background(), func(tx store.Tx) error {
		_, err := tx.DeleteValues(context.Background(), "o", "k", "")
		return err
	})
	if err == nil {
		t.Error("DeleteValues with an empty prefix succeeded, want an error")
	}
	var n int64
	mustUpdate(t, s, func(tx store.Tx) error {
		var err error
		n, err = tx.DeleteValues(context.Background(), "o", "k", "history_")
		return err
	})
	if n != 1 {
		t.Errorf("prefix \"history_\" removed %d values, want only the one with that exact prefix", n)
	}
	if got, want := origins(mustHistory(t, s, "o", "k", time.Time{}, time.Time{})), []string{"history:jira", "historyXjira"}; !slices.Equal(got, want) {
		t.Errorf("kept %q, want %q", got, want)
	}
}

func testDeleteValuesRollsBack(t *testing.T, s store.Store) {
	mustAppend(t, s, store.Value{ObjectiveID: "o", KeyResultID: "k", At: t0, Value: 1, Origin: "history:jira"})
	err := s.Update(context.Background(), func(tx store.Tx) error {
		if _, err := tx.DeleteValues(context.Background(), "o", "k", "history:"); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Update = %v, want errBoom", err)
	}
	if got := mustHistory(t, s, "o", "k", time.Time{}, time.Time{}); len(got) != 1 {
		t.Errorf("after a rolled back delete the key result has %d values, want 1", len(got))
	}
}

func testDeleteValuesKeepsIDsIncreasing(t *testing.T, s store.Store) {
	mustAppend(t, s,
		store.Value{ObjectiveID: "o", KeyResultID: "k", At: t0, Value: 1, Origin: "history:jira"},
		store.Value{ObjectiveID: "o", KeyResultID: "k", At: t0.Add(time.Hour), Value: 2, Origin: "history:jira"},
	)
	before := mustAll(t, s)
	last := before[len(before)-1].ID
	mustUpdate(t, s, func(tx store.Tx) error {
		if _, err := tx.DeleteValues(context.Background(), "o", "k", "history:"); err != nil {
			return err
		}
		return tx.AppendValues(context.Background(), store.Value{ObjectiveID: "o", KeyResultID: "k", At: t0, Value: 9, Origin: "history:jira"})
	})
	after, err := s.ValuesAfter(context.Background(), last, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != 1 || after[0].Value != 9 || after[0].ID <= last {
		t.Errorf("ValuesAfter(%d) = %+v, want the one new value with a larger ID", last, after)
	}
}
