package livequery

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/okrd/okrd/collectors"
)

func TestRetainBindingsForgetsTheKeyResultsAReloadRemoved(t *testing.T) {
	// b's query fails; a reload removes b while the source keeps running.
	f := &fakeQuerier{values: map[string]float64{"a": 1, "c": 3}, errs: map[string]error{"b": errors.New("relation b does not exist")}}
	s := New(f, Options{Name: "warehouse"})
	ctx := context.Background()
	s.Measure(ctx, bindings("a", "b", "c"), time.Now())
	if err := s.Poll(ctx); err == nil {
		t.Fatal("the poll with b's failing query succeeded")
	}
	f.asked()
	if n := testutil.CollectAndCount(s, "okrd_source_query_success"); n != 3 {
		t.Fatalf("%d success series before the reload, want 3", n)
	}

	// The failed poll means no Measure ran; only RetainBindings tells the
	// source that b is gone.
	s.RetainBindings(bindings("a", "c"))
	if n := testutil.CollectAndCount(s, "okrd_source_query_success"); n != 2 {
		t.Errorf("%d success series after the reload, want 2 (b's is left behind)", n)
	}
	if n := testutil.CollectAndCount(s, "okrd_source_query_duration_seconds"); n != 2 {
		t.Errorf("%d duration series after the reload, want 2", n)
	}
	// The next poll no longer runs b's query, so the source is up again.
	if err := s.Poll(ctx); err != nil {
		t.Errorf("poll after the reload: %v", err)
	}
	got := f.asked()
	slices.Sort(got)
	if !slices.Equal(got, []string{"a", "c"}) {
		t.Errorf("the poll after the reload asked %v, want a and c", got)
	}
}

func TestRetainBindingsWithNoKeyResultLeftRemovesEverySeries(t *testing.T) {
	f := &fakeQuerier{values: map[string]float64{"a": 1}}
	s := New(f, Options{Name: "warehouse"})
	s.Measure(context.Background(), bindings("a"), time.Now())
	// The app measures only a source with key results bound to it, so no
	// Measure would ever forget a.
	s.RetainBindings(nil)
	if n := testutil.CollectAndCount(s); n != 0 {
		t.Errorf("%d series left, want none", n)
	}
	if err := s.Poll(context.Background()); err != nil || f.checks != 1 {
		t.Errorf("the poll without key results: err %v, checks %d (want a check)", err, f.checks)
	}
}

// gatedQuerier blocks each query until the test releases it.
type gatedQuerier struct {
	fakeQuerier
	started chan string
	release chan struct{}
}

func (g *gatedQuerier) Query(ctx context.Context, b collectors.Binding, now time.Time) (float64, error) {
	g.started <- b.KeyResult.ID
	<-g.release
	return g.fakeQuerier.Query(ctx, b, now)
}

func TestAPollRunningDuringTheReloadDoesNotBringARemovedSeriesBack(t *testing.T) {
	g := &gatedQuerier{fakeQuerier: fakeQuerier{values: map[string]float64{"a": 1}}, started: make(chan string, 1), release: make(chan struct{})}
	s := New(g, Options{Name: "warehouse", Concurrency: 1})
	close(g.release)
	s.Measure(context.Background(), bindings("a"), time.Now())
	<-g.started
	g.release = make(chan struct{})

	done := make(chan error, 1)
	go func() { done <- s.Poll(context.Background()) }()
	<-g.started // the poll is running a's query
	s.RetainBindings(nil)
	close(g.release)
	<-done
	if n := testutil.CollectAndCount(s); n != 0 {
		t.Errorf("%d series after a poll that started before the reload, want none", n)
	}
}
