package storetest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/okrd/okrd/store"
)

func init() {
	tests = append(tests,
		test{"AddConfidence stores a confidence with its time, author and note, apart from the values", testAddConfidence},
		test{"AddConfidence rejects a confidence outside 1 to 10 or without a key result", testAddConfidenceInvalid},
		test{"Confidences are newest first, honour the limit and keep the whole history", testConfidencesOrder},
		test{"a check-in with a confidence stores both in one transaction", testCheckinWithConfidence},
		test{"ConfidencesAfter pages in ID order, and a tailing reader sees every confidence once", testConfidencesAfter},
	)
}

func testAddConfidence(t *testing.T, s store.Store) {
	ctx := context.Background()
	before := time.Now().Add(-time.Second)
	c, err := s.AddConfidence(ctx, store.Confidence{ObjectiveID: "o", KeyResultID: "k",
		At: t0.Add(1500 * time.Microsecond), Value: 7, Author: "maria", Note: "vendor slipped a week"})
	if err != nil {
		t.Fatal(err)
	}
	if c.ID == 0 {
		t.Error("ID not set")
	}
	within(t, "CreatedAt", c.CreatedAt, before, time.Now().Add(time.Second))
	got, err := s.Confidences(ctx, "o", "k", 0)
	if err != nil {
		t.Fatal(err)
	}
	want := store.Confidence{ID: c.ID, ObjectiveID: "o", KeyResultID: "k", At: t0.Add(time.Millisecond), Value: 7,
		Author: "maria", Note: "vendor slipped a week", CreatedAt: c.CreatedAt}
	if len(got) != 1 || got[0] != want {
		t.Errorf("Confidences = %+v, want [%+v]", got, want)
	}
	// A confidence is not a value of the key result.
	if vals := mustAll(t, s); len(vals) != 0 {
		t.Errorf("a confidence wrote values: %+v", vals)
	}
	// A zero time means now.
	z, err := s.AddConfidence(ctx, store.Confidence{ObjectiveID: "o", KeyResultID: "k", Value: 3})
	if err != nil {
		t.Fatal(err)
	}
	if !z.At.Equal(z.CreatedAt) {
		t.Errorf("zero At became %v, want CreatedAt %v", z.At, z.CreatedAt)
	}
}

func testAddConfidenceInvalid(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, c := range []store.Confidence{
		{ObjectiveID: "o", KeyResultID: "k", Value: 0},
		{ObjectiveID: "o", KeyResultID: "k", Value: 11},
		{ObjectiveID: "o", KeyResultID: "k", Value: -3},
		{ObjectiveID: "", KeyResultID: "k", Value: 5},
		{ObjectiveID: "o", KeyResultID: "", Value: 5},
	} {
		if _, err := s.AddConfidence(ctx, c); err == nil {
			t.Errorf("AddConfidence(%+v) succeeded", c)
		}
	}
	if _, err := s.AddCheckin(ctx, store.Checkin{ObjectiveID: "o", KeyResultID: "k", At: t0, Value: 1, Confidence: 12}); err == nil {
		t.Error("AddCheckin with confidence 12 succeeded")
	}
	got, err := s.ConfidencesAfter(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 || len(mustAll(t, s)) != 0 {
		t.Errorf("an invalid confidence stored something: %+v", got)
	}
}

func testConfidencesOrder(t *testing.T, s store.Store) {
	ctx := context.Background()
	add := func(kr string, at time.Time, v int) store.Confidence {
		t.Helper()
		c, err := s.AddConfidence(ctx, store.Confidence{ObjectiveID: "o", KeyResultID: kr, At: at, Value: v})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	mid := add("k", t0.Add(24*time.Hour), 6)
	old := add("k", t0, 9)
	newest := add("k", t0.Add(48*time.Hour), 4)
	tie := add("k", t0.Add(48*time.Hour), 5)
	add("other", t0.Add(72*time.Hour), 1)
	ids := func(cs []store.Confidence) []int64 {
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
		{2, []int64{tie.ID, newest.ID}},
		{10, []int64{tie.ID, newest.ID, mid.ID, old.ID}},
	} {
		got, err := s.Confidences(ctx, "o", "k", tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids(got), tc.want) {
			t.Errorf("Confidences(limit %d) IDs = %v, want %v", tc.limit, ids(got), tc.want)
		}
	}
	if got, err := s.Confidences(ctx, "o", "none", 0); err != nil || got == nil || len(got) != 0 {
		t.Errorf("Confidences of an unknown key result = %v, %v; want empty, nil", got, err)
	}
}

func testCheckinWithConfidence(t *testing.T, s store.Store) {
	ctx := context.Background()
	c, err := s.AddCheckin(ctx, store.Checkin{ObjectiveID: "o", KeyResultID: "k", At: t0, Value: 41, Author: "lena", Note: "survey", Confidence: 8})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Confidences(ctx, "o", "k", 0)
	if err != nil {
		t.Fatal(err)
	}
	want := store.Confidence{ID: got[0].ID, ObjectiveID: "o", KeyResultID: "k", At: t0, Value: 8, Author: "lena", Note: "survey",
		CreatedAt: c.CreatedAt, CheckinID: c.ID}
	if len(got) != 1 || got[0] != want {
		t.Errorf("Confidences = %+v, want [%+v]", got, want)
	}
	if vals := mustAll(t, s); len(vals) != 1 || vals[0].Value != 41 {
		t.Errorf("values = %+v, want the check-in's 41 only", vals)
	}
	// Without a confidence, a check-in stores none.
	if _, err := s.AddCheckin(ctx, store.Checkin{ObjectiveID: "o", KeyResultID: "k", At: t0.Add(time.Hour), Value: 42}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Confidences(ctx, "o", "k", 0); len(got) != 1 {
		t.Errorf("a check-in without confidence added one: %+v", got)
	}
}

func testConfidencesAfter(t *testing.T, s store.Store) {
	ctx := context.Background()
	const writers, each = 4, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				var err error
				if i%2 == 0 {
					_, err = s.AddConfidence(ctx, store.Confidence{ObjectiveID: "o", KeyResultID: "k", At: t0, Value: 1 + (w+i)%10})
				} else {
					_, err = s.AddCheckin(ctx, store.Checkin{ObjectiveID: "o", KeyResultID: "k", At: t0, Value: 1, Confidence: 1 + i%10})
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	// Tail while the writers write: every confidence is seen once, in
	// increasing ID order.
	seen := map[int64]bool{}
	var last int64
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	finished := false
	for !finished {
		select {
		case <-done:
			finished = true
		default:
		}
		page, err := s.ConfidencesAfter(ctx, last, 3)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page {
			if c.ID <= last || seen[c.ID] {
				t.Fatalf("ConfidencesAfter(%d) returned id %d again or out of order", last, c.ID)
			}
			seen[c.ID] = true
			last = c.ID
		}
		if finished {
			// Drain what the last writes committed.
			for {
				page, err := s.ConfidencesAfter(ctx, last, 0)
				if err != nil {
					t.Fatal(err)
				}
				if len(page) == 0 {
					break
				}
				for _, c := range page {
					seen[c.ID] = true
					last = c.ID
				}
			}
		}
	}
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(seen) != writers*each {
		t.Errorf("a tailing reader saw %d confidences, want %d", len(seen), writers*each)
	}
}
