package jira

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// oddIssues are issues at the edges of what the compact forms must keep:
// times that are not whole milliseconds, zero and far-off times, the
// instant at which histories fall on each other, estimates that are not
// integers (or are negative zero), unsorted and repeated sprint lists, a
// summary, labels, board memberships and an unusual key.
func oddIssues() []*Issue {
	sub := d(-3).Add(1234567 * time.Nanosecond)
	return []*Issue{
		{Key: "ODD-1", Project: "odd", Type: "Story", Created: sub, Updated: sub.Add(time.Nanosecond), Resolved: &sub,
			Status: done, Transitions: []Transition{{At: sub, From: toDo, To: inProgress}, {At: sub, From: inProgress, To: done}},
			Sprints: []int{9, 3, 9}, SprintChanges: []SprintChange{{At: sub, From: []int{-1, 1 << 40}, To: []int{9, 3, 9}}},
			Points:       map[string]float64{"sp": 2.5, "other": math.Copysign(0, -1), "big": 1 << 60},
			PointChanges: []PointChange{{At: sub, Field: "sp", From: nil, To: ptr(2.5)}, {At: sub, Field: "gone", From: ptr(-3.0), To: nil}},
			Parent:       "ODD-0", Epic: "EPIC-1", Labels: []string{"b", "a", "b"}, Boards: []int{5, 2}, Summary: "A summary, with ünïcode"},
		{Key: "no-dash", Project: "", Type: "", Created: time.Time{}, Status: Status{Name: "Nameless"}},
		{Key: "ODD-2", Project: "ODD", Type: "bug", Subtask: true, Outside: true, Created: time.Unix(0, math.MaxInt64-5).UTC(),
			Updated: time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC), Status: review},
	}
}

// canonical is an issue as its JSON record says it: what must survive
// any other form.
func canonical(t *testing.T, is *Issue) string {
	t.Helper()
	b, err := json.Marshal(is)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestTheModelGivesBackTheIssuesPut: what the model keeps of an issue
// (interned statuses, lists and strings, encoded histories) rebuilds the
// issue put, field for field, whether it is read alone (Issue) or with
// the others (Each), after others replaced theirs.
func TestTheModelGivesBackTheIssuesPut(t *testing.T) {
	w := genWorld(5, 400)
	issues := append(oddIssues(), w.issues...)
	m := NewModel(Categories{Done: []string{"Closed"}})
	want := map[string]string{}
	var order []string
	for _, is := range issues {
		m.PutIssue(is)
		// Times outside the model's range (1678 to 2262) are kept only to
		// the nearest end of it; only the zero time stays as it is.
		c := *is
		c.Updated = fromNanos(nanos(c.Updated))
		if is.Updated.IsZero() {
			c.Updated = time.Time{}
		}
		want[is.Key] = canonical(t, &c)
		order = append(order, is.Key)
	}
	// Replace some: the last put wins, in the first put's place.
	for _, is := range issues[:3] {
		c := *is
		c.Labels = []string{"replaced"}
		m.PutIssue(&c)
		cc := c
		cc.Updated = fromNanos(nanos(cc.Updated))
		if c.Updated.IsZero() {
			cc.Updated = time.Time{}
		}
		want[c.Key] = canonical(t, &cc)
	}
	if m.Len() != len(issues) {
		t.Fatalf("Len = %d, want %d", m.Len(), len(issues))
	}
	for _, k := range order {
		got, ok := m.Issue(k)
		if !ok {
			t.Fatalf("Issue(%q) not found", k)
		}
		if g := canonical(t, got); g != want[k] {
			t.Errorf("Issue(%q):\n got %s\nwant %s", k, g, want[k])
		}
		if !got.Created.IsZero() && got.Created.Location() != time.UTC {
			t.Errorf("Issue(%q).Created is in %v, want UTC", k, got.Created.Location())
		}
		if !m.Has(k) {
			t.Errorf("Has(%q) = false", k)
		}
	}
	if _, ok := m.Issue("NOPE-1"); ok || m.Has("NOPE-1") {
		t.Error("an issue never put is found")
	}
	i := 0
	m.Each(func(is *Issue) {
		if is.Key != order[i] {
			t.Errorf("Each gives %s at %d, want %s", is.Key, i, order[i])
		}
		if g := canonical(t, is); g != want[is.Key] {
			t.Errorf("Each gives %s as\n%s\nwant %s", is.Key, g, want[is.Key])
		}
		i++
	})
	if i != len(order) {
		t.Errorf("Each gave %d issues, want %d", i, len(order))
	}
	// EachMembership gives the same keys, times, scopes and boards.
	i = 0
	m.EachMembership(func(key string, updated time.Time, outside bool, boards []int) {
		is, _ := m.Issue(order[i])
		if key != is.Key || !updated.Equal(is.Updated) || updated.IsZero() != is.Updated.IsZero() || outside != is.Outside || !slices.Equal(boards, is.Boards) {
			t.Errorf("EachMembership gives %s %v %v %v at %d, want %s %v %v %v", key, updated, outside, boards, i, is.Key, is.Updated, is.Outside, is.Boards)
		}
		i++
	})
	if i != len(order) {
		t.Errorf("EachMembership gave %d issues, want %d", i, len(order))
	}
	// The rebuilt issue is the caller's: changing it changes nothing in
	// the model.
	got, _ := m.Issue("ODD-1")
	got.Sprints[0], got.Boards[0], got.Labels[0] = 77, 77, "changed"
	got.Transitions[0].From.Name = "changed"
	if again, _ := m.Issue("ODD-1"); canonical(t, again) != want["ODD-1"] {
		t.Errorf("changing a rebuilt issue changed the model: %s", canonical(t, again))
	}
}

// TestTheKeyIndexFindsEveryKeyAsItGrows puts more keys than the key
// index's first table holds, so that it grows several times (or once,
// reserved ahead), and finds each by its key.
func TestTheKeyIndexFindsEveryKeyAsItGrows(t *testing.T) {
	const n = 5000
	key := func(i int) string {
		return "K-" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + "-" + strconv.Itoa(i)
	}
	for _, reserved := range []bool{false, true} {
		k := newKeyIndex()
		if reserved {
			k.reserve(n, 10)
		}
		for i := range n {
			if _, ok := k.find(key(i)); ok {
				t.Fatalf("%s found before it was added", key(i))
			}
			if got, found := k.findOrAdd(key(i)); got != i || found {
				t.Fatalf("findOrAdd(%s) = %d, %v; want %d, false", key(i), got, found, i)
			}
		}
		for i := range n {
			if got, ok := k.find(key(i)); !ok || got != i {
				t.Fatalf("find(%s) = %d, %v; want %d", key(i), got, ok, i)
			}
			if k.key(i) != key(i) {
				t.Fatalf("key(%d) = %s, want %s", i, k.key(i), key(i))
			}
			if got, found := k.findOrAdd(key(i)); got != i || !found {
				t.Fatalf("findOrAdd(%s) again = %d, %v; want %d, true", key(i), got, found, i)
			}
		}
		if _, ok := k.find("K-"); ok {
			t.Error("a prefix of keys is found")
		}
		if reserved && len(k.slots) != 8192 {
			t.Errorf("a table reserved for %d keys has %d slots, want 8192", n, len(k.slots))
		}
	}
}

// TestAnIssueRecordRoundTrips: the binary record holds everything the
// JSON record does, for generated issues and the odd ones, and is much
// smaller.
func TestAnIssueRecordRoundTrips(t *testing.T) {
	w := genWorld(6, 300)
	binBytes, jsonBytes := 0, 0
	for _, is := range append(oddIssues(), w.issues...) {
		b, err := is.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		// An issue without components is written as before components
		// were recorded, byte for byte.
		version := RecordVersion1
		if len(is.Components) > 0 {
			version = RecordVersion
		}
		if b[0] != version {
			t.Fatalf("%s: record begins with %d, want the version %d", is.Key, b[0], version)
		}
		var got Issue
		if err := got.UnmarshalBinary(b); err != nil {
			t.Fatalf("%s: %v", is.Key, err)
		}
		want := *is
		want.Updated = fromNanos(nanos(want.Updated))
		if is.Updated.IsZero() {
			want.Updated = time.Time{}
		}
		wantCreated := want.Created
		if c := fromNanos(nanos(wantCreated)); !wantCreated.IsZero() && !c.Equal(wantCreated) {
			want.Created = c
		}
		if g, w := canonical(t, &got), canonical(t, &want); g != w {
			t.Errorf("%s:\n got %s\nwant %s", is.Key, g, w)
		}
		binBytes += len(b)
		jsonBytes += len(canonical(t, is))
	}
	if 3*binBytes > jsonBytes {
		t.Errorf("binary records take %d bytes, JSON %d: want at most a third", binBytes, jsonBytes)
	}
}

// TestMalformedIssueRecordsAreErrors: a record cut short, with a byte
// changed, of another version or with bytes after its end is an error
// that names the problem, never a panic nor a half-filled issue.
func TestMalformedIssueRecordsAreErrors(t *testing.T) {
	good, err := oddIssues()[0].MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"an empty record", nil, "empty issue record"},
		{"another version", append([]byte{RecordVersion + 1}, good[1:]...), "unknown format"},
		{"a JSON record", []byte(`{"key":"PAY-1"}`), "unknown format"},
		{"a record cut short", good[:len(good)/2], "truncated"},
		{"bytes after the end", append(append([]byte{}, good...), 0), "after the end"},
		{"a status out of the table", statusOutOfRange(t), "status 9 of 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var is Issue
			is.Key = "STALE-1"
			err := is.UnmarshalBinary(tt.data)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one saying %q", err, tt.want)
			}
			if is.Key != "" || len(is.Transitions) != 0 {
				t.Errorf("a failed decode left %+v", is)
			}
		})
	}
}

// statusOutOfRange is the record of an issue whose transition refers to
// status 9 of a table of one.
func statusOutOfRange(t *testing.T) []byte {
	t.Helper()
	is := &Issue{Key: "PAY-1", Project: "PAY", Type: "Bug", Created: d(-1), Status: toDo,
		Transitions: []Transition{{At: d(-0.5), From: toDo, To: toDo}}}
	b, err := is.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	// The transition's "from" is the second-to-last byte before the
	// sprint lists and the rest, all empty (one zero byte each: sprints,
	// sprint changes, fields, points, point changes, parent, epic,
	// labels, boards).
	i := len(b) - 9 - 2
	if b[i] != 0 || b[i+1] != 0 {
		t.Fatalf("unexpected layout: % x", b)
	}
	b[i] = 9
	return b
}

// FuzzIssueRecord: any bytes decode to an issue or to an error, never a
// panic; an issue decoded encodes to a record that decodes to the same.
func FuzzIssueRecord(f *testing.F) {
	for _, is := range append(oddIssues(), genWorld(7, 20).issues...) {
		b, err := is.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var is Issue
		if err := is.UnmarshalBinary(data); err != nil {
			return
		}
		b, err := is.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var again Issue
		if err := again.UnmarshalBinary(b); err != nil {
			t.Fatalf("a re-encoded record does not decode: %v", err)
		}
		b2, err := again.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if string(b2) != string(b) {
			t.Fatalf("re-encoding changes the record:\n% x\n% x", b, b2)
		}
	})
}

// TestReplacedIssuesLeaveNoWasteBehind puts the same issues again and
// again, as polls do with the issues that change: the arena reclaims the
// encodings they leave behind, so that what it holds stays within a
// bound of what is live, and every issue still reads back as last put.
func TestReplacedIssuesLeaveNoWasteBehind(t *testing.T) {
	w := genWorld(8, 1000)
	m := w.model(Categories{})
	compactions := 0
	for round := range 200 {
		before := len(m.arena.chunks)
		for _, is := range w.issues {
			c := *is
			c.Labels = []string{"round", strconv.Itoa(round)}
			m.PutIssue(&c)
		}
		if len(m.arena.chunks) < before {
			compactions++
		}
	}
	if compactions == 0 {
		t.Error("the arena never compacted")
	}
	held := 0
	for _, c := range m.arena.chunks {
		held += cap(c)
	}
	if limit := 2*m.arena.live + 10*arenaChunk; held > limit {
		t.Errorf("the arena holds %d bytes for %d live, want at most %d", held, m.arena.live, limit)
	}
	for _, is := range w.issues {
		got, _ := m.Issue(is.Key)
		if !slices.Equal(got.Labels, []string{"round", "199"}) || len(got.Transitions) != len(is.Transitions) {
			t.Fatalf("%s after the rounds: labels %v, %d transitions; want [round 199], %d", is.Key, got.Labels, len(got.Transitions), len(is.Transitions))
		}
	}
	if size := unsafe.Sizeof(fact{}); size != 56 {
		t.Errorf("a fact is %d bytes, want 56", size)
	}
}

// sameModel fails the test where two models differ in what they keep of
// their issues: the times and flags of the facts, the rebuilt issues
// and, when exact, the facts and encodings byte for byte (which holds
// when both models interned the same values in the same order).
func sameModel(t *testing.T, a, b *Model, exact bool) {
	t.Helper()
	if a.Len() != b.Len() {
		t.Fatalf("%d issues against %d", a.Len(), b.Len())
	}
	for i := range a.facts {
		x, y := a.facts[i], b.facts[i]
		bx, by := a.arena.get(x.blob), b.arena.get(y.blob)
		x.blob, y.blob = 0, 0
		if exact && (x != y || string(bx) != string(by)) {
			t.Fatalf("issue %d (%s) differs:\n%+v % x\n%+v % x", i, a.keys.key(i), x, bx, y, by)
		}
		if x.created != y.created || x.start != y.start || x.flags != y.flags || a.keys.key(i) != b.keys.key(i) {
			t.Fatalf("issue %d (%s) differs:\n%+v\n%+v", i, a.keys.key(i), x, y)
		}
		ra, _ := a.issue(i).MarshalBinary()
		rb, _ := b.issue(i).MarshalBinary()
		if string(ra) != string(rb) {
			t.Fatalf("issue %d rebuilt differs:\n%+v\n%+v", i, a.issue(i), b.issue(i))
		}
	}
}

// TestPutRecordIsPutIssueOfTheDecodedIssue: putting a record straight
// from its bytes keeps exactly what putting the decoded issue keeps,
// for generated and odd issues, histories out of order, and issues put
// again; a malformed record is the decoder's error and changes nothing.
func TestPutRecordIsPutIssueOfTheDecodedIssue(t *testing.T) {
	issues := append(oddIssues(), genWorld(9, 400).issues...)
	// A record whose histories are not in order.
	shuffled := *issues[len(issues)-1]
	shuffled.Key = "SHUFFLED-1"
	shuffled.Transitions = []Transition{{At: d(-1), From: inProgress, To: done}, {At: d(-2), From: toDo, To: inProgress}}
	issues = append(issues, &shuffled, issues[5], issues[7])
	a, b := NewModel(Categories{Done: []string{"closed"}}), NewModel(Categories{Done: []string{"closed"}})
	for _, is := range issues {
		data, err := is.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var dec Issue
		if err := dec.UnmarshalBinary(data); err != nil {
			t.Fatal(err)
		}
		a.PutIssue(&dec)
		if err := b.PutRecord(data); err != nil {
			t.Fatalf("PutRecord(%s): %v", is.Key, err)
		}
	}
	sameModel(t, a, b, true)

	good, _ := issues[0].MarshalBinary()
	for _, data := range [][]byte{nil, good[:len(good)-3], append(append([]byte{}, good...), 7), {RecordVersion + 1}} {
		var dec Issue
		want := dec.UnmarshalBinary(data)
		err := b.PutRecord(data)
		if err == nil || want == nil || err.Error() != want.Error() {
			t.Errorf("PutRecord(% x) = %v, want %v", data, err, want)
		}
	}
	sameModel(t, a, b, true)
}

// FuzzPutRecord: PutRecord accepts exactly the records UnmarshalBinary
// does, and keeps what PutIssue keeps of the decoded issue.
func FuzzPutRecord(f *testing.F) {
	for _, is := range append(oddIssues(), genWorld(10, 20).issues...) {
		b, err := is.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, b := NewModel(Categories{}), NewModel(Categories{})
		var dec Issue
		errA := dec.UnmarshalBinary(data)
		errB := b.PutRecord(data)
		if (errA == nil) != (errB == nil) {
			t.Fatalf("UnmarshalBinary: %v; PutRecord: %v", errA, errB)
		}
		if errA != nil {
			if b.Len() != 0 {
				t.Fatal("a failed PutRecord put an issue")
			}
			return
		}
		a.PutIssue(&dec)
		sameModel(t, a, b, false)
	})
}
