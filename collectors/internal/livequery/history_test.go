package livequery

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
)

// historyQuerier is a fakeQuerier that also answers about the past: the
// value at an instant is its Unix day number, unless the key result's id
// says otherwise (see QueryHistory).
type historyQuerier struct {
	fakeQuerier
	// entered receives a key result's id when its history query starts,
	// and release lets it finish, when set.
	entered chan string
	release chan struct{}
	running atomic.Int32
	most    atomic.Int32
	asked   atomic.Int32
}

func (h *historyQuerier) CanHistory(kr *config.KeyResult) bool { return kr.ID != "live-only" }

func (h *historyQuerier) QueryHistory(ctx context.Context, b collectors.Binding, at []time.Time) ([]Answer, error) {
	h.asked.Add(1)
	n := h.running.Add(1)
	defer h.running.Add(-1)
	for m := h.most.Load(); n > m && !h.most.CompareAndSwap(m, n); m = h.most.Load() {
	}
	if h.entered != nil {
		select {
		case h.entered <- b.KeyResult.ID:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		select {
		case <-h.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	var out []Answer
	for i, t := range at {
		day := float64(t.Unix() / 86400)
		switch b.KeyResult.ID {
		case "gap":
			// No value on every other instant.
			if i%2 == 1 {
				out = append(out, Answer{Err: NoValue(errors.New("query returned no row, want exactly 1"))})
				continue
			}
		case "bad-instant":
			if i == 1 {
				out = append(out, Answer{Err: fmt.Errorf("query returned 2 series at %s", t.UTC().Format(time.RFC3339))})
				continue
			}
		case "fails-half-way":
			if i == 2 {
				return out, errors.New("connection reset")
			}
		case "short":
			if i == 1 {
				return out, nil
			}
		}
		out = append(out, Answer{OK: true, Value: day})
	}
	return out, nil
}

func days(n int) []time.Time {
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	out := make([]time.Time, n)
	for i := range out {
		out[i] = start.AddDate(0, 0, i)
	}
	return out
}

func requests(at []time.Time, ids ...string) []collectors.HistoryRequest {
	var out []collectors.HistoryRequest
	for _, b := range bindings(ids...) {
		out = append(out, collectors.HistoryRequest{Binding: b, At: at})
	}
	return out
}

func TestHistoryAnswersEachInstantOrSaysWhyNot(t *testing.T) {
	h := &historyQuerier{}
	s := New(h, Options{Name: "w"})
	at := days(4)
	first := float64(at[0].Unix() / 86400)
	res := s.History(context.Background(), requests(at, "ok", "gap", "bad-instant", "fails-half-way", "short", "live-only"))
	type want struct {
		ok  bool
		v   float64
		err string
	}
	const prefix = `source "w": key result grow/`
	for _, tc := range []struct {
		name string
		i    int
		want []want
	}{
		{"every instant answered is a value", 0, []want{{true, first, ""}, {true, first + 1, ""}, {true, first + 2, ""}, {true, first + 3, ""}}},
		{"an answer without data is no value, not an error", 1, []want{{true, first, ""}, {}, {true, first + 2, ""}, {}}},
		{"an error at one instant stays at that instant and names the source and key result", 2, []want{{true, first, ""},
			{err: prefix + "bad-instant: query returned 2 series at 2026-10-02T00:00:00Z"}, {true, first + 2, ""}, {true, first + 3, ""}}},
		{"an error half way stands for every instant not answered", 3, []want{{true, first, ""}, {true, first + 1, ""},
			{err: prefix + "fails-half-way: connection reset"}, {err: prefix + "fails-half-way: connection reset"}}},
		{"a short answer is an error for the instants left out", 4, []want{{true, first, ""},
			{err: prefix + "short: the source answered 1 of 4 instants"}, {err: prefix + "short: the source answered 1 of 4 instants"},
			{err: prefix + "short: the source answered 1 of 4 instants"}}},
		{"a key result that is measured live only is refused", 5, []want{
			{err: prefix + "live-only: is measured live only: its value cannot be asked for a past instant"},
			{err: prefix + "live-only: is measured live only: its value cannot be asked for a past instant"},
			{err: prefix + "live-only: is measured live only: its value cannot be asked for a past instant"},
			{err: prefix + "live-only: is measured live only: its value cannot be asked for a past instant"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := res[tc.i]
			if len(got) != len(tc.want) {
				t.Fatalf("%d measurements, want %d", len(got), len(tc.want))
			}
			for j, w := range tc.want {
				m := got[j]
				errText := ""
				if m.Err != nil {
					errText = m.Err.Error()
				}
				if m.OK != w.ok || m.Value != w.v || errText != w.err || !m.At.IsZero() {
					t.Errorf("instant %d: %+v, want %+v", j, m, w)
				}
			}
		})
	}
	if n := h.asked.Load(); n != 5 {
		t.Errorf("%d history queries ran, want 5 (none for the live-only key result)", n)
	}
}

func TestCanHistoryAsksTheQuerier(t *testing.T) {
	s := New(&historyQuerier{}, Options{Name: "w"})
	bs := bindings("ok", "live-only")
	if !s.CanHistory(bs[0]) || s.CanHistory(bs[1]) {
		t.Errorf("CanHistory = %v, %v; want true, false", s.CanHistory(bs[0]), s.CanHistory(bs[1]))
	}
	// A Querier without history can fill in nothing.
	plain := New(&fakeQuerier{}, Options{Name: "w"})
	if plain.CanHistory(bs[0]) {
		t.Error("a Querier without QueryHistory can fill in")
	}
	res := plain.History(context.Background(), requests(days(2), "ok"))
	if m := res[0][1]; m.OK || m.Err == nil || !strings.Contains(m.Err.Error(), "is measured live only") {
		t.Errorf("got %+v", m)
	}
}

// With Concurrency 2, a third history query starts only once one of the
// first two finished: every time the test lets one finish, no other one
// may have started in between.
func TestHistoryQueriesRunWithinTheConcurrencyBound(t *testing.T) {
	h := &historyQuerier{entered: make(chan string), release: make(chan struct{})}
	s := New(h, Options{Name: "w", Concurrency: 2})
	done := make(chan [][]collectors.Measurement)
	go func() { done <- s.History(context.Background(), requests(days(3), "a", "b", "c", "d", "e", "f")) }()
	<-h.entered
	<-h.entered
	for started := 2; started < 6; started++ {
		// Give a query that should not start the chance to: it would be
		// counted in h.most before it blocks on h.entered.
		for range 100 {
			runtime.Gosched()
		}
		select {
		case id := <-h.entered:
			t.Fatalf("%s started while two were running", id)
		case h.release <- struct{}{}:
		}
		<-h.entered
	}
	h.release <- struct{}{}
	h.release <- struct{}{}
	res := <-done
	if got := h.most.Load(); got != 2 {
		t.Errorf("at most %d history queries ran at once, want 2", got)
	}
	for i, r := range res {
		if !r[2].OK {
			t.Errorf("request %d: %+v", i, r)
		}
	}
}

func TestACancelledHistoryReportsTheContextOnWhatItDidNotAnswer(t *testing.T) {
	h := &historyQuerier{entered: make(chan string), release: make(chan struct{})}
	s := New(h, Options{Name: "w", Concurrency: 1})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan [][]collectors.Measurement)
	go func() { done <- s.History(ctx, requests(days(3), "a", "b")) }()
	// One query runs; cancelling stops it and the one waiting for its turn.
	<-h.entered
	cancel()
	res := <-done
	for i, r := range res {
		for j, m := range r {
			if m.OK || !errors.Is(m.Err, context.Canceled) || !strings.HasPrefix(m.Err.Error(), `source "w": key result grow/`) {
				t.Errorf("request %d instant %d: %+v", i, j, m)
			}
		}
	}
	if n := h.asked.Load(); n != 1 {
		t.Errorf("%d queries started, want 1", n)
	}
}

// History changes nothing that Poll, Measure and Collect see.
func TestHistoryLeavesTheLiveAnswersAlone(t *testing.T) {
	h := &historyQuerier{fakeQuerier: fakeQuerier{values: map[string]float64{"a": 7}}}
	s := New(h, Options{Name: "w"})
	ctx := context.Background()
	bs := bindings("a")
	s.Measure(ctx, bs, time.Now())
	if err := s.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	h.fakeQuerier.asked()
	res := s.History(ctx, requests(days(5), "a", "b"))
	if !res[1][4].OK {
		t.Fatalf("history %+v", res)
	}
	// Measure hands out the poll's answer, as if History had not run.
	if m := s.Measure(ctx, bs, time.Now()); m[0].Value != 7 {
		t.Errorf("measure after history %+v", m)
	}
	if got := h.fakeQuerier.asked(); len(got) != 0 {
		t.Errorf("the live queries ran again: %v", got)
	}
	// Collect shows the bound key result's live query only.
	if n := testutil.CollectAndCount(s, "okrd_source_query_success"); n != 1 {
		t.Errorf("%d okrd_source_query_success series, want 1", n)
	}
}

func TestNoValueIsAnErrorThatSaysSo(t *testing.T) {
	err := NoValue(errors.New("query returned NULL"))
	wrapped := fmt.Errorf("history_query at 2026-10-01T00:00:00Z: %w", err)
	if !IsNoValue(wrapped) || wrapped.Error() != "history_query at 2026-10-01T00:00:00Z: query returned NULL" {
		t.Errorf("got %v (IsNoValue %v)", wrapped, IsNoValue(wrapped))
	}
	if IsNoValue(errors.New("x")) || NoValue(nil) != nil {
		t.Error("only a marked error is no value")
	}
}
