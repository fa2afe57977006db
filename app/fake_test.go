package app

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/store"
)

// fakeSpec is the configuration of the "fake" source type the tests
// register: a source whose behaviour each test controls.
type fakeSpec struct {
	Value float64         `toml:"value"`
	Delay config.Duration `toml:"delay"`
	// WritePause pauses inside the write transaction, between the records
	// and the cursor, to test a shutdown that arrives mid-write.
	WritePause config.Duration `toml:"write_pause"`
}

// fakeControl lets a test change what a fake source does at run time.
type fakeControl struct {
	mu      sync.Mutex
	fail    map[string]error
	value   map[string]float64
	polls   map[string]*atomic.Int64
	started map[string]chan struct{}
}

var fakes = &fakeControl{fail: map[string]error{}, value: map[string]float64{}, polls: map[string]*atomic.Int64{}, started: map[string]chan struct{}{}}

func (f *fakeControl) setFail(source string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail[source] = err
}

func (f *fakeControl) setValue(source string, v float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.value[source] = v
}

func (f *fakeControl) counter(source string) *atomic.Int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.polls[source]
	if !ok {
		c = &atomic.Int64{}
		f.polls[source] = c
	}
	return c
}

func (f *fakeControl) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = map[string]error{}
	f.value = map[string]float64{}
	f.polls = map[string]*atomic.Int64{}
}

type fakeSource struct {
	name string
	spec *fakeSpec
	st   store.Store
}

func (s *fakeSource) Poll(ctx context.Context) error {
	fakes.counter(s.name).Add(1)
	fakes.mu.Lock()
	err := fakes.fail[s.name]
	fakes.mu.Unlock()
	if d := time.Duration(s.spec.Delay); d > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
		}
	}
	if err != nil {
		return err
	}
	// A poll writes a record and its cursor together, as real sources do.
	return s.st.Update(ctx, func(tx store.Tx) error {
		n := fakes.counter(s.name).Load()
		if err := tx.PutRecords(ctx, store.Record{Source: s.name, Scope: "all", Kind: "item", ID: "1", UpdatedAt: time.Now(), Data: []byte(`{}`)}); err != nil {
			return err
		}
		if p := time.Duration(s.spec.WritePause); p > 0 {
			fakes.mu.Lock()
			ch := fakes.started[s.name]
			fakes.mu.Unlock()
			if ch != nil {
				close(ch)
			}
			time.Sleep(p)
		}
		return tx.SetCursor(ctx, s.name, "all", time.Unix(n, 0).UTC().Format(time.RFC3339))
	})
}

func (s *fakeSource) Measure(ctx context.Context, bs []collectors.Binding, now time.Time) []collectors.Measurement {
	fakes.mu.Lock()
	v, ok := fakes.value[s.name]
	fakes.mu.Unlock()
	if !ok {
		v = s.spec.Value
	}
	out := make([]collectors.Measurement, len(bs))
	for i, b := range bs {
		if b.KeyResult.Metric == "broken" {
			out[i] = collectors.Measurement{Err: errors.New("metric broken cannot be computed")}
			continue
		}
		out[i] = collectors.Measurement{OK: true, Value: v}
	}
	return out
}

func init() {
	config.RegisterSourceType("fake", config.SourceType{NewSpec: func() any { return &fakeSpec{} }})
	collectors.Register("fake", func(src *config.Source, deps collectors.Deps) (collectors.Source, error) {
		return &fakeSource{name: src.Name, spec: src.Spec.(*fakeSpec), st: deps.Store}, nil
	})
}
