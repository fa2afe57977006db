// Package livequery adapts the source types that ask a live system for each
// key result's value (sql, prometheus, http_json) to collectors.Source.
//
// Where the query runs. okrd's scheduler calls Poll, marks the source up or
// down from its error, and calls Measure only after a successful Poll; a
// key result whose Measure fails keeps its last value. For a failing query
// to mark the source down *and* keep the last good value, the queries run
// in Poll: a Source remembers the key results bound to it from the last
// Measure, runs their queries in the next Poll and caches the answers, and
// Measure hands the cached answers out. A failing query therefore fails
// the poll (okrd_source_up 0, the error names the key result), Measure is
// not called and every key result of the source keeps its last value until
// a poll succeeds again.
//
// Before the first Measure a Source knows no key result, so its first Poll
// only checks that the remote side answers (a ping, a trivial query) and
// the first Measure runs the queries itself; a key result added by a
// configuration reload is also queried by Measure until the next Poll. A
// query that fails there is a measurement error (logged, counted by
// okrd_key_result_measure_errors_total, last value kept); the next Poll
// runs it again and marks the source down if it still fails.
//
// When a value was measured. A poll may run for a while after a query
// returned (other queries, slow ones), so each answer carries the instant
// its query returned, read from Options.Now (collectors.Measurement.At),
// and okrd stores the value at that instant, not at the end of the poll.
//
// The past. A Querier that can ask about a past instant (a PromQL range
// query, a SQL query with the instant as a parameter, an HTTP request
// whose template has the instant) implements HistoryQuerier, and Source
// then answers okrd's requests for filled-in history (history.go).
package livequery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
)

// Querier runs the queries of one source.
type Querier interface {
	// Check reports whether the remote side answers at all. It is all a
	// Poll does while no key result is known to be bound to the source.
	Check(ctx context.Context) error
	// Query returns the current value of the key result bound by b. now is
	// the time of the measurement (in the configured time zone). An error
	// that retrying soon cannot fix (a query the server rejects as
	// invalid, a refused credential) is wrapped with collectors.Permanent;
	// a rate limit may be a *collectors.RetryAfterError.
	Query(ctx context.Context, b collectors.Binding, now time.Time) (float64, error)
	// Fingerprint returns everything of kr that decides what Query asks,
	// so that an answer cached for one version of a key result is never
	// reported for another one after a configuration reload.
	Fingerprint(kr *config.KeyResult) string
}

// Options configure a Source.
type Options struct {
	// Name is the source's name, used in errors and as the source label.
	Name string
	// Concurrency bounds how many queries a Poll runs at once. Default 4.
	Concurrency int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives the history queries' debug lines; nil discards
	// them.
	Logger *slog.Logger
}

// outcome is the answer to one key result's query.
type outcome struct {
	fingerprint string
	value       float64
	err         error
	duration    time.Duration
	// at is when the query returned (Options.Now): the instant the value
	// was measured, earlier than the end of the poll that ran it.
	at time.Time
}

// Source is a collectors.Source (and a prometheus.Collector) that runs a
// Querier's queries as the package comment describes.
type Source struct {
	q    Querier
	name string
	conc int
	now  func() time.Time

	logger *slog.Logger

	successDesc  *prometheus.Desc
	durationDesc *prometheus.Desc

	mu       sync.Mutex
	bindings []collectors.Binding // from the last Measure
	fresh    map[string]outcome   // answers of the last Poll, not yet handed out
	last     map[string]outcome   // latest answer per key result, for Collect
}

// New returns a Source running q's queries.
func New(q Querier, opts Options) *Source {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	constLabels := prometheus.Labels{"source": opts.Name}
	return &Source{
		q: q, name: opts.Name, conc: opts.Concurrency, now: opts.Now, logger: opts.Logger,
		successDesc: prometheus.NewDesc("okrd_source_query_success",
			"1 if the key result's query succeeded at its last run, 0 if it failed.",
			[]string{"objective", "key_result"}, constLabels),
		durationDesc: prometheus.NewDesc("okrd_source_query_duration_seconds",
			"Duration of the key result's last query.",
			[]string{"objective", "key_result"}, constLabels),
		last: map[string]outcome{},
	}
}

// key identifies a binding across configuration reloads.
func key(b collectors.Binding) string { return b.Objective.ID + "/" + b.KeyResult.ID }

// Poll runs the query of every key result bound to the source at the last
// Measure, or only checks the remote side when there is none. Any failing
// query fails the poll; the error names each failing key result.
func (s *Source) Poll(ctx context.Context) error {
	s.mu.Lock()
	bs := s.bindings
	s.mu.Unlock()
	if len(bs) == 0 {
		return s.q.Check(ctx)
	}
	now := s.now()
	outs := s.run(ctx, bs, now)
	s.mu.Lock()
	s.fresh = make(map[string]outcome, len(bs))
	for i, b := range bs {
		s.fresh[key(b)] = outs[i]
		s.last[key(b)] = outs[i]
	}
	s.mu.Unlock()
	return pollError(bs, outs)
}

// Measure returns the answers of the Poll that just ran, and runs the
// query itself for a key result that Poll did not know (the first poll,
// or a key result added or changed by a reload). It remembers bs for the
// next Poll.
func (s *Source) Measure(ctx context.Context, bs []collectors.Binding, now time.Time) []collectors.Measurement {
	s.mu.Lock()
	fresh := s.fresh
	s.fresh = nil
	s.bindings = append([]collectors.Binding(nil), bs...)
	current := make(map[string]bool, len(bs))
	for _, b := range bs {
		current[key(b)] = true
	}
	for k := range s.last {
		if !current[k] {
			delete(s.last, k)
		}
	}
	s.mu.Unlock()

	out := make([]collectors.Measurement, len(bs))
	var missing []int
	for i, b := range bs {
		o, ok := fresh[key(b)]
		if !ok || o.fingerprint != s.q.Fingerprint(b.KeyResult) {
			missing = append(missing, i)
			continue
		}
		out[i] = s.measurement(b, o)
	}
	if len(missing) > 0 {
		sub := make([]collectors.Binding, len(missing))
		for j, i := range missing {
			sub[j] = bs[i]
		}
		outs := s.run(ctx, sub, now)
		s.mu.Lock()
		for j, i := range missing {
			s.last[key(bs[i])] = outs[j]
			out[i] = s.measurement(bs[i], outs[j])
		}
		s.mu.Unlock()
	}
	return out
}

// RetainBindings forgets the key results that are no longer in bs, the key
// results a configuration reload left bound to the source: their
// okrd_source_query_* series disappear at once (Measure, which forgets them
// too, runs only after a successful poll, and not at all once no key result
// is bound), and the next Poll no longer runs their queries. A key result
// still bound is queried as bs now defines it; one newly bound is measured
// by Measure as the package comment says.
func (s *Source) RetainBindings(bs []collectors.Binding) {
	current := make(map[string]collectors.Binding, len(bs))
	for _, b := range bs {
		current[key(b)] = b
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var kept []collectors.Binding
	for _, b := range s.bindings {
		if nb, ok := current[key(b)]; ok {
			kept = append(kept, nb)
		}
	}
	s.bindings = kept
	for k := range s.last {
		if _, ok := current[k]; !ok {
			delete(s.last, k)
		}
	}
	for k := range s.fresh {
		if _, ok := current[k]; !ok {
			delete(s.fresh, k)
		}
	}
}

func (s *Source) measurement(b collectors.Binding, o outcome) collectors.Measurement {
	if o.err != nil {
		return collectors.Measurement{Err: fmt.Errorf("source %q: key result %s: %w", s.name, key(b), o.err)}
	}
	return collectors.Measurement{OK: true, Value: o.value, At: o.at}
}

// run queries every binding, at most s.conc at a time, and returns the
// outcomes in the order of bs.
func (s *Source) run(ctx context.Context, bs []collectors.Binding, now time.Time) []outcome {
	outs := make([]outcome, len(bs))
	sem := make(chan struct{}, s.conc)
	var wg sync.WaitGroup
	for i, b := range bs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := ctx.Err(); err != nil {
				outs[i] = outcome{fingerprint: s.q.Fingerprint(b.KeyResult), err: err}
				return
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				outs[i] = outcome{fingerprint: s.q.Fingerprint(b.KeyResult), err: ctx.Err()}
				return
			}
			defer func() { <-sem }()
			start := time.Now()
			v, err := s.q.Query(ctx, b, now)
			outs[i] = outcome{fingerprint: s.q.Fingerprint(b.KeyResult), value: v, err: err, duration: time.Since(start), at: s.now()}
		}()
	}
	wg.Wait()
	return outs
}

// pollError summarizes the failed queries of a poll in one line. The poll
// error is permanent only when every failure is (a rejected query must not
// slow down the retries of a transient one), and carries the latest
// Retry-After any query was given.
func pollError(bs []collectors.Binding, outs []outcome) error {
	var msgs []string
	allPermanent := true
	var retry *collectors.RetryAfterError
	for i, o := range outs {
		if o.err == nil {
			continue
		}
		msgs = append(msgs, fmt.Sprintf("key result %s: %v", key(bs[i]), o.err))
		if !collectors.IsPermanent(o.err) {
			allPermanent = false
		}
		var ra *collectors.RetryAfterError
		if errors.As(o.err, &ra) && (retry == nil || ra.Until.After(retry.Until)) {
			retry = ra
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	msg := strings.Join(msgs, "; ")
	if len(msgs) > 1 {
		msg = fmt.Sprintf("%d of %d key results failed: %s", len(msgs), len(outs), msg)
	}
	err := errors.New(msg)
	switch {
	case retry != nil:
		return &collectors.RetryAfterError{Until: retry.Until, Err: err}
	case allPermanent:
		return collectors.Permanent(err)
	}
	return err
}

// Describe implements prometheus.Collector.
func (s *Source) Describe(ch chan<- *prometheus.Desc) {
	ch <- s.successDesc
	ch <- s.durationDesc
}

// Collect implements prometheus.Collector. It only reads the outcomes of
// the queries already run, of the key results bound to the source (a poll
// that was running when RetainBindings unbound one may still have recorded
// its outcome).
func (s *Source) Collect(ch chan<- prometheus.Metric) {
	s.mu.Lock()
	bound := make(map[string]bool, len(s.bindings))
	for _, b := range s.bindings {
		bound[key(b)] = true
	}
	keys := make([]string, 0, len(s.last))
	for k := range s.last {
		if bound[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	outs := make([]outcome, len(keys))
	for i, k := range keys {
		outs[i] = s.last[k]
	}
	s.mu.Unlock()
	for i, k := range keys {
		obj, kr, _ := strings.Cut(k, "/")
		ok := 0.0
		if outs[i].err == nil {
			ok = 1
		}
		ch <- prometheus.MustNewConstMetric(s.successDesc, prometheus.GaugeValue, ok, obj, kr)
		ch <- prometheus.MustNewConstMetric(s.durationDesc, prometheus.GaugeValue, outs[i].duration.Seconds(), obj, kr)
	}
}

// BindingKeys returns the keys of kr that bind it to a source's data and
// are set, in a fixed order, so that a source type can refuse the ones it
// does not use ("metric: does not apply to a sql source").
func BindingKeys(kr *config.KeyResult) []string {
	set := []struct {
		key string
		on  bool
	}{
		{"metric", kr.Metric != ""},
		{"query", kr.Query != ""},
		{"quantile", kr.Quantile != nil},
		{"scope", kr.Scope != ""},
		{"issue_types", len(kr.IssueTypes) > 0},
		{"by", kr.By != ""},
		{"epic", kr.Epic != ""},
		{"sprints", kr.Sprints != 0},
		{"path", kr.Path != ""},
		{"method", kr.Method != ""},
		{"body", kr.Body != ""},
		{"json_path", kr.JSONPath != ""},
	}
	var out []string
	for _, s := range set {
		if s.on {
			out = append(out, s.key)
		}
	}
	return out
}
