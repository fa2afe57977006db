package livequery

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
)

// fakeQuerier answers each key result (by id) with a value or an error,
// and counts what it is asked.
type fakeQuerier struct {
	mu      sync.Mutex
	values  map[string]float64
	errs    map[string]error
	checkEr error
	checks  int
	queries []string
	delay   time.Duration

	running, maxRunning atomic.Int32
}

func (f *fakeQuerier) Check(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.checks++
	return f.checkEr
}

func (f *fakeQuerier) Query(ctx context.Context, b collectors.Binding, _ time.Time) (float64, error) {
	n := f.running.Add(1)
	defer f.running.Add(-1)
	for {
		m := f.maxRunning.Load()
		if n <= m || f.maxRunning.CompareAndSwap(m, n) {
			break
		}
	}
	if f.delay > 0 {
		time.Sleep(f.delay)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, b.KeyResult.ID)
	if err := f.errs[b.KeyResult.ID]; err != nil {
		return 0, err
	}
	return f.values[b.KeyResult.ID], nil
}

func (f *fakeQuerier) Fingerprint(kr *config.KeyResult) string { return kr.Query }

func (f *fakeQuerier) asked() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := f.queries
	f.queries = nil
	return q
}

func bindings(ids ...string) []collectors.Binding {
	o := &config.Objective{ID: "grow"}
	var bs []collectors.Binding
	for _, id := range ids {
		bs = append(bs, collectors.Binding{Objective: o, KeyResult: &config.KeyResult{ID: id, Query: "q-" + id}})
	}
	return bs
}

func TestPollChecksUntilMeasureNamesTheKeyResultsThenRunsTheirQueries(t *testing.T) {
	f := &fakeQuerier{values: map[string]float64{"a": 1, "b": 2}}
	s := New(f, Options{Name: "w"})
	ctx := context.Background()
	bs := bindings("a", "b")

	if err := s.Poll(ctx); err != nil || f.checks != 1 || len(f.asked()) != 0 {
		t.Fatalf("first poll: err %v, checks %d", err, f.checks)
	}
	// The first Measure queries live.
	ms := s.Measure(ctx, bs, time.Now())
	if ms[0].Value != 1 || ms[1].Value != 2 || !ms[0].OK || !ms[1].OK {
		t.Fatalf("first measure %+v", ms)
	}
	if got := f.asked(); len(got) != 2 {
		t.Fatalf("first measure asked %v", got)
	}
	// Now the poll runs the queries, and the next Measure hands out its
	// answers without asking again.
	f.mu.Lock()
	f.values["a"] = 10
	f.mu.Unlock()
	if err := s.Poll(ctx); err != nil || f.checks != 1 {
		t.Fatalf("second poll: err %v, checks %d", err, f.checks)
	}
	if got := f.asked(); len(got) != 2 {
		t.Fatalf("second poll asked %v", got)
	}
	ms = s.Measure(ctx, bs, time.Now())
	if ms[0].Value != 10 || ms[1].Value != 2 {
		t.Fatalf("second measure %+v", ms)
	}
	if got := f.asked(); len(got) != 0 {
		t.Errorf("second measure asked %v", got)
	}
	// A poll's answers are handed out once: a Measure without a poll
	// before it asks again.
	ms = s.Measure(ctx, bs, time.Now())
	if got := f.asked(); len(got) != 2 || ms[0].Value != 10 {
		t.Errorf("third measure asked %v, got %+v", got, ms)
	}
}

func TestAReloadedQueryIsAskedAgainNotAnsweredFromTheCache(t *testing.T) {
	f := &fakeQuerier{values: map[string]float64{"a": 1, "b": 2}}
	s := New(f, Options{Name: "w"})
	ctx := context.Background()
	s.Measure(ctx, bindings("a", "b"), time.Now())
	if err := s.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	f.asked()
	// The configuration was reloaded between the poll and the measure: b
	// has a new query and c is new.
	bs := bindings("a", "b", "c")
	bs[1].KeyResult.Query = "changed"
	s.Measure(ctx, bs, time.Now())
	if got := strings.Join(f.asked(), ","); got != "b,c" && got != "c,b" {
		t.Errorf("asked %s, want b and c", got)
	}
}

func TestAFailingQueryFailsThePollNamingTheKeyResult(t *testing.T) {
	perm := collectors.Permanent(errors.New("query rejected"))
	until := time.Date(2026, 11, 15, 12, 5, 0, 0, time.UTC)
	for _, tc := range []struct {
		name       string
		errs       map[string]error
		want       string
		permanent  bool
		retryUntil time.Time
	}{
		{"one failure is the error", map[string]error{"b": errors.New("query returned 2 rows, want exactly 1")},
			"key result grow/b: query returned 2 rows, want exactly 1", false, time.Time{}},
		{"several failures are counted", map[string]error{"a": perm, "c": errors.New("timeout")},
			"2 of 3 key results failed: key result grow/a: query rejected; key result grow/c: timeout", false, time.Time{}},
		{"all failures permanent make the poll permanent", map[string]error{"a": perm, "b": perm},
			"2 of 3 key results failed: key result grow/a: query rejected; key result grow/b: query rejected", true, time.Time{}},
		{"a rate limit carries its retry time", map[string]error{"a": &collectors.RetryAfterError{Until: until, Err: errors.New("HTTP 429")}, "b": perm},
			"2 of 3 key results failed: key result grow/a: HTTP 429 (retry after 2026-11-15T12:05:00Z); key result grow/b: query rejected", false, until},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeQuerier{values: map[string]float64{"a": 1, "b": 2, "c": 3}, errs: tc.errs}
			s := New(f, Options{Name: "w"})
			ctx := context.Background()
			s.Measure(ctx, bindings("a", "b", "c"), time.Now())
			err := s.Poll(ctx)
			var ra *collectors.RetryAfterError
			retry := errors.As(err, &ra)
			msg := ""
			if err != nil {
				msg = err.Error()
				if retry {
					msg = ra.Err.Error()
				}
			}
			if msg != tc.want || collectors.IsPermanent(err) != tc.permanent || retry != !tc.retryUntil.IsZero() || retry && !ra.Until.Equal(tc.retryUntil) {
				t.Fatalf("got %v (permanent %v)\nwant %s (permanent %v, retry %v)", err, collectors.IsPermanent(err), tc.want, tc.permanent, tc.retryUntil)
			}
		})
	}
}

func TestMeasureErrorsNameTheSourceAndKeyResult(t *testing.T) {
	f := &fakeQuerier{values: map[string]float64{"a": 1}, errs: map[string]error{"b": errors.New("query returned no row, want exactly 1")}}
	s := New(f, Options{Name: "warehouse"})
	ms := s.Measure(context.Background(), bindings("a", "b"), time.Now())
	if !ms[0].OK || ms[0].Value != 1 || ms[1].OK ||
		ms[1].Err.Error() != `source "warehouse": key result grow/b: query returned no row, want exactly 1` {
		t.Fatalf("got %+v", ms)
	}
}

func TestQueriesRunConcurrentlyWithinTheBound(t *testing.T) {
	f := &fakeQuerier{values: map[string]float64{}, delay: 20 * time.Millisecond}
	s := New(f, Options{Name: "w", Concurrency: 2})
	s.Measure(context.Background(), bindings("a", "b", "c", "d", "e", "f"), time.Now())
	if got := f.maxRunning.Load(); got != 2 {
		t.Errorf("at most %d queries ran at once, want 2", got)
	}
}

func TestACancelledPollReportsTheContext(t *testing.T) {
	f := &fakeQuerier{values: map[string]float64{}, delay: 10 * time.Millisecond}
	s := New(f, Options{Name: "w", Concurrency: 1})
	s.Measure(context.Background(), bindings("a", "b", "c"), time.Now())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.Poll(ctx)
	if err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Fatalf("got %v", err)
	}
}

func TestCollectExportsTheLastOutcomeOfEachKeyResult(t *testing.T) {
	f := &fakeQuerier{values: map[string]float64{"a": 1}, errs: map[string]error{"b": errors.New("boom")}}
	s := New(f, Options{Name: "warehouse"})
	s.Measure(context.Background(), bindings("a", "b"), time.Now())
	reg := prometheus.NewRegistry()
	reg.MustRegister(s)
	// A second source's collector registers beside it: the source label is
	// constant per collector, so their descriptors differ.
	reg.MustRegister(New(f, Options{Name: "other"}))
	want := `
# HELP okrd_source_query_success 1 if the key result's query succeeded at its last run, 0 if it failed.
# TYPE okrd_source_query_success gauge
okrd_source_query_success{key_result="a",objective="grow",source="warehouse"} 1
okrd_source_query_success{key_result="b",objective="grow",source="warehouse"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "okrd_source_query_success"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(s, "okrd_source_query_duration_seconds"); n != 2 {
		t.Errorf("%d duration series, want 2", n)
	}
	// A key result removed from the configuration disappears.
	s.Measure(context.Background(), bindings("a"), time.Now())
	if n := testutil.CollectAndCount(s, "okrd_source_query_success"); n != 1 {
		t.Errorf("%d success series after the reload, want 1", n)
	}
}

func TestBindingKeysListsWhatIsSet(t *testing.T) {
	q := 0.5
	kr := &config.KeyResult{Metric: "m", Query: "q", Quantile: &q, Path: "/p", JSONPath: "$.a", Sprints: 3}
	if got := strings.Join(BindingKeys(kr), ","); got != "metric,query,quantile,sprints,path,json_path" {
		t.Errorf("got %s", got)
	}
	if got := BindingKeys(&config.KeyResult{}); len(got) != 0 {
		t.Errorf("empty key result: %v", got)
	}
}

// steppingQuerier moves a test clock to the instant each key result's
// query returns, as if each query took until then.
type steppingQuerier struct {
	mu      sync.Mutex
	now     time.Time
	returns map[string]time.Time
}

func (q *steppingQuerier) clock() time.Time {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.now
}

func (q *steppingQuerier) set(t time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.now = t
}

func (q *steppingQuerier) Check(context.Context) error { return nil }

func (q *steppingQuerier) Query(_ context.Context, b collectors.Binding, _ time.Time) (float64, error) {
	q.set(q.returns[b.KeyResult.ID])
	return 1, nil
}

func (q *steppingQuerier) Fingerprint(kr *config.KeyResult) string { return kr.Query }

func TestEachAnswerIsStampedWithTheInstantItsQueryReturned(t *testing.T) {
	t0 := time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)
	q := &steppingQuerier{now: t0, returns: map[string]time.Time{"a": t0.Add(3 * time.Second), "b": t0.Add(7 * time.Second)}}
	// One query at a time, so that each stamp reads the clock its own
	// query set.
	s := New(q, Options{Name: "w", Concurrency: 1, Now: q.clock})
	ctx := context.Background()
	bs := bindings("a", "b")
	check := func(when string, ms []collectors.Measurement) {
		t.Helper()
		for i, id := range []string{"a", "b"} {
			if want := q.returns[id]; !ms[i].OK || !ms[i].At.Equal(want) {
				t.Errorf("%s: %s measured at %v (ok %v), want %v", when, id, ms[i].At, ms[i].OK, want)
			}
		}
	}

	// The first Measure runs the queries itself: each value is stamped
	// when its query returned, not with the time Measure was given.
	check("first measure", s.Measure(ctx, bs, t0))

	// The poll runs them: they return 3 and 7 seconds into the poll, the
	// poll ends a minute later and Measure is called then.
	q.returns = map[string]time.Time{"a": t0.Add(time.Hour + 3*time.Second), "b": t0.Add(time.Hour + 7*time.Second)}
	if err := s.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	end := t0.Add(time.Hour + time.Minute)
	q.set(end)
	check("after the poll", s.Measure(ctx, bs, end))
}
