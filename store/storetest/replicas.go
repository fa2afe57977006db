package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/okrd/okrd/store"
)

// The parts of the store that several okrd processes sharing one database
// rely on (docs/ha.md): record changes and leadership terms.

func mustChanges(t *testing.T, s store.Store, source string, after int64, limit int) []store.RecordChange {
	t.Helper()
	got, err := s.RecordChanges(context.Background(), source, after, limit)
	if err != nil {
		t.Fatalf("RecordChanges(%s, %d, %d): %v", source, after, limit, err)
	}
	return got
}

func mustSeq(t *testing.T, s store.Store, source string) int64 {
	t.Helper()
	n, err := s.RecordSeq(context.Background(), source)
	if err != nil {
		t.Fatalf("RecordSeq(%s): %v", source, err)
	}
	return n
}

// change is the part of a RecordChange a test states.
type change struct {
	Seq     int64
	Kind    string
	ID      string
	Deleted bool
	Data    string
}

func changes(cs []store.RecordChange) []change {
	out := make([]change, 0, len(cs))
	for _, c := range cs {
		out = append(out, change{c.Seq, c.Kind, c.ID, c.Deleted, string(c.Data)})
	}
	return out
}

func putRecs(t *testing.T, s store.Store, recs ...store.Record) {
	t.Helper()
	mustUpdate(t, s, func(tx store.Tx) error { return tx.PutRecords(context.Background(), recs...) })
}

func testRecordChanges(t *testing.T, s store.Store) {
	ctx := context.Background()
	if got := mustChanges(t, s, "jira", 0, 0); len(got) != 0 || got == nil {
		t.Fatalf("RecordChanges of a source without records = %#v, want an empty slice", got)
	}
	if n := mustSeq(t, s, "jira"); n != 0 {
		t.Fatalf("RecordSeq of a source without records = %d, want 0", n)
	}
	putRecs(t, s, rec("jira", "S", "issue", "A", "a1"), rec("jira", "S", "issue", "B", "b1"), rec("jira", "S", "board", "1", "x"))
	want := []change{{1, "issue", "A", false, "a1"}, {2, "issue", "B", false, "b1"}, {3, "board", "1", false, "x"}}
	if got := changes(mustChanges(t, s, "jira", 0, 0)); !reflect.DeepEqual(got, want) {
		t.Fatalf("changes after the first put:\n got  %+v\n want %+v", got, want)
	}
	// A second write of A moves it to the end; a deletion of the board is
	// listed as one, without data.
	putRecs(t, s, rec("jira", "S", "issue", "A", "a2"))
	mustUpdate(t, s, func(tx store.Tx) error { return tx.DeleteRecords(ctx, "jira", "board", "1") })
	want = []change{{2, "issue", "B", false, "b1"}, {4, "issue", "A", false, "a2"}, {5, "board", "1", true, ""}}
	got := mustChanges(t, s, "jira", 0, 0)
	if g := changes(got); !reflect.DeepEqual(g, want) {
		t.Fatalf("changes after a re-put and a deletion:\n got  %+v\n want %+v", g, want)
	}
	if got[1].Source != "jira" || got[1].Scope != "S" || !got[1].UpdatedAt.Equal(t0) {
		t.Errorf("a change reads back as %+v, want the record's source, scope and time", got[1].Record)
	}
	if g := changes(mustChanges(t, s, "jira", 4, 0)); !reflect.DeepEqual(g, want[2:]) {
		t.Errorf("changes after 4 = %+v, want only the deletion", g)
	}
	if n := mustSeq(t, s, "jira"); n != 5 {
		t.Errorf("RecordSeq = %d, want 5", n)
	}
	// A record put again after its deletion is listed as put.
	putRecs(t, s, rec("jira", "S", "board", "1", "y"))
	if g := changes(mustChanges(t, s, "jira", 5, 0)); !reflect.DeepEqual(g, []change{{6, "board", "1", false, "y"}}) {
		t.Errorf("changes after a record came back = %+v", g)
	}
}

func testRecordChangesPerSource(t *testing.T, s store.Store) {
	putRecs(t, s, rec("jira", "S", "issue", "A", "a"), rec("github", "S", "pr", "1", "p"), rec("jira", "S", "issue", "B", "b"))
	if g := changes(mustChanges(t, s, "github", 0, 0)); !reflect.DeepEqual(g, []change{{1, "pr", "1", false, "p"}}) {
		t.Errorf("changes of github = %+v, want only its pull request, numbered 1", g)
	}
	if g := changes(mustChanges(t, s, "jira", 0, 0)); !reflect.DeepEqual(g, []change{{1, "issue", "A", false, "a"}, {2, "issue", "B", false, "b"}}) {
		t.Errorf("changes of jira = %+v, want its two issues numbered 1 and 2", g)
	}
	if a, b := mustSeq(t, s, "jira"), mustSeq(t, s, "github"); a != 2 || b != 1 {
		t.Errorf("RecordSeq = jira %d, github %d; want 2 and 1", a, b)
	}
}

func testRecordChangesPaging(t *testing.T, s store.Store) {
	var recs []store.Record
	for i := range 1203 {
		recs = append(recs, rec("jira", "S", "issue", fmt.Sprintf("I-%04d", i), "d"))
	}
	putRecs(t, s, recs...)
	var (
		after int64
		seen  int
	)
	for {
		page := mustChanges(t, s, "jira", after, 500)
		if len(page) == 0 {
			break
		}
		for i, c := range page {
			if c.Seq != after+int64(i)+1 {
				t.Fatalf("change %d of a page after %d has Seq %d, want %d", i, after, c.Seq, after+int64(i)+1)
			}
			if want := fmt.Sprintf("I-%04d", c.Seq-1); c.ID != want {
				t.Fatalf("change %d is %s, want %s (the records numbered in their order)", c.Seq, c.ID, want)
			}
		}
		seen += len(page)
		after = page[len(page)-1].Seq
	}
	if seen != len(recs) {
		t.Fatalf("paged through %d changes, want %d", seen, len(recs))
	}
}

func testRecordChangesRollBack(t *testing.T, s store.Store) {
	ctx := context.Background()
	putRecs(t, s, rec("jira", "S", "issue", "A", "a"))
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.PutRecords(ctx, rec("jira", "S", "issue", "B", "b")); err != nil {
			return err
		}
		if err := tx.DeleteRecords(ctx, "jira", "issue", "A"); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Update = %v, want errBoom", err)
	}
	if g := changes(mustChanges(t, s, "jira", 0, 0)); !reflect.DeepEqual(g, []change{{1, "issue", "A", false, "a"}}) {
		t.Errorf("changes after a rolled back Update = %+v, want only the first put", g)
	}
	if n := mustSeq(t, s, "jira"); n != 1 {
		t.Errorf("RecordSeq after a rolled back Update = %d, want 1", n)
	}
	putRecs(t, s, rec("jira", "S", "issue", "C", "c"))
	if g := changes(mustChanges(t, s, "jira", 1, 0)); !reflect.DeepEqual(g, []change{{2, "issue", "C", false, "c"}}) {
		t.Errorf("the next put = %+v, want number 2 (no gap)", g)
	}
}

// testRecordChangesTailing writes the records of one source from several
// goroutines while a reader follows the changes; the reader must end with
// every record's last version, having seen the change numbers in order.
func testRecordChangesTailing(t *testing.T, s store.Store) {
	const writers, rounds = 4, 30
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for r := range rounds {
				// Each writer rewrites its own two records and a shared
				// one, so that keys move to the end of the sequence.
				recs := []store.Record{
					rec("jira", "S", "issue", fmt.Sprintf("W%d-a", w), fmt.Sprint(r)),
					rec("jira", "S", "issue", fmt.Sprintf("W%d-b", w), fmt.Sprint(r)),
					rec("jira", "S", "issue", "shared", fmt.Sprintf("%d-%d", w, r)),
				}
				if err := s.Update(ctx, func(tx store.Tx) error { return tx.PutRecords(ctx, recs...) }); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	writing := make(chan struct{})
	go func() { wg.Wait(); close(writing) }()
	var after int64
	view := map[string]string{}
	tail := func() {
		for {
			page, err := s.RecordChanges(ctx, "jira", after, 7)
			if err != nil {
				t.Fatalf("RecordChanges: %v", err)
			}
			if len(page) == 0 {
				return
			}
			for _, c := range page {
				if c.Seq <= after {
					t.Fatalf("change %d after %d: not increasing", c.Seq, after)
				}
				after = c.Seq
				view[c.ID] = string(c.Data)
			}
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
	want := map[string]string{}
	for _, r := range mustRecords(t, s, "jira", "") {
		want[r.ID] = string(r.Data)
	}
	if !reflect.DeepEqual(view, want) {
		t.Fatalf("the follower's view differs from the stored records:\n got  %v\n want %v", view, want)
	}
	if n := mustSeq(t, s, "jira"); n != writers*rounds*3 {
		t.Errorf("RecordSeq = %d, want %d (one per write)", n, writers*rounds*3)
	}
}

func testTerms(t *testing.T, s store.Store) {
	ctx := context.Background()
	cur, err := s.CurrentTerm(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cur.Number != 0 || cur.Holder != "" || !cur.Started.IsZero() {
		t.Fatalf("the term of a new store = %+v, want zero", cur)
	}
	before := time.Now().Add(-time.Second)
	a, err := s.NewTerm(ctx, "host-a:1")
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.NewTerm(ctx, "host-b:2")
	if err != nil {
		t.Fatal(err)
	}
	if a.Number != 1 || a.Holder != "host-a:1" || b.Number != 2 || b.Holder != "host-b:2" {
		t.Fatalf("terms = %+v, %+v; want 1 held by host-a:1 and 2 by host-b:2", a, b)
	}
	if a.Started.Before(before) || b.Started.Before(a.Started) {
		t.Errorf("term start times = %v, %v; want now, in order", a.Started, b.Started)
	}
	cur, err = s.CurrentTerm(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cur != b {
		t.Errorf("CurrentTerm = %+v, want %+v", cur, b)
	}
}

func testHoldTerm(t *testing.T, s store.Store) {
	ctx := context.Background()
	one, err := s.NewTerm(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	write := func(term int64, id string) error {
		return s.Update(ctx, func(tx store.Tx) error {
			if err := tx.HoldTerm(ctx, term); err != nil {
				return err
			}
			if err := tx.PutRecords(ctx, rec("jira", "S", "issue", id, "d")); err != nil {
				return err
			}
			return tx.AppendValues(ctx, kr("o", id, t0, 1, ""))
		})
	}
	if err := write(one.Number, "A"); err != nil {
		t.Fatalf("a write under the current term: %v", err)
	}
	two, err := s.NewTerm(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	err = write(one.Number, "B")
	if !errors.Is(err, store.ErrFenced) {
		t.Fatalf("a write under the older term = %v, want ErrFenced", err)
	}
	if err := write(0, "C"); !errors.Is(err, store.ErrFenced) {
		t.Errorf("a write under no term = %v, want ErrFenced", err)
	}
	if err := write(two.Number, "D"); err != nil {
		t.Fatalf("a write under the new term: %v", err)
	}
	var ids []string
	for _, r := range mustRecords(t, s, "jira", "") {
		ids = append(ids, r.ID)
	}
	if !reflect.DeepEqual(ids, []string{"A", "D"}) {
		t.Errorf("records = %v, want only those of the terms that held (A, D)", ids)
	}
	if vals := mustAll(t, s); len(vals) != 2 {
		t.Errorf("%d values, want 2 (the fenced writes wrote none)", len(vals))
	}
}

func testAlertStatesInUpdate(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := store.AlertState{Key: "a", State: "firing", Since: t0, UpdatedAt: t0, Data: []byte("1")}
	b := store.AlertState{Key: "b", State: "pending", Since: t0, UpdatedAt: t0}
	mustUpdate(t, s, func(tx store.Tx) error {
		if err := tx.PutAlertState(ctx, a); err != nil {
			return err
		}
		return tx.PutAlertState(ctx, b)
	})
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.DeleteAlertState(ctx, "a"); err != nil {
			return err
		}
		if err := tx.PutAlertState(ctx, store.AlertState{Key: "c", State: "firing", UpdatedAt: t0}); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Update = %v, want errBoom", err)
	}
	got, err := s.AlertStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []store.AlertState{a, b}; !reflect.DeepEqual(got, want) {
		t.Fatalf("alert states after a rolled back Update =\n %+v\nwant\n %+v", got, want)
	}
	mustUpdate(t, s, func(tx store.Tx) error { return tx.DeleteAlertState(ctx, "a") })
	got, err = s.AlertStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []store.AlertState{b}; !reflect.DeepEqual(got, want) {
		t.Fatalf("alert states after a deletion in an Update = %+v, want %+v", got, want)
	}
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.PutAlertState(ctx, store.AlertState{State: "x"}) }); err == nil {
		t.Error("PutAlertState without a key in an Update: no error")
	}
}
