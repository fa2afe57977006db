package livequery

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
)

// History: the value of a key result at past instants
// (collectors.Historian), for okrd to fill in its history. A Querier that
// can ask the remote side about a past instant implements HistoryQuerier;
// Source.History runs its history queries the way Poll runs the live ones
// (at most Options.Concurrency key results at once, errors naming the
// source and the key result, cancelled with ctx), and never touches what
// Poll, Measure and Collect see: the answers of history queries are not
// cached, and okrd_source_query_success and _duration keep describing the
// live queries. Their requests are counted in okrd_source_requests_total
// like every other request of the source.

// HistoryQuerier is a Querier that can also ask for a key result's value
// at past instants.
type HistoryQuerier interface {
	Querier
	// CanHistory reports whether kr can be asked about a past instant at
	// all. A key result that can only be measured live (a sql key result
	// without history_query, an http_json request that does not depend on
	// the instant) answers false: okrd then keeps only its live history.
	CanHistory(kr *config.KeyResult) bool
	// QueryHistory returns the key result's value at each instant of at
	// (ascending, not after now, in the configured time zone): what Query
	// would have returned at that instant. It returns one Answer per
	// instant; or, with an error, the Answers of the first instants it
	// answered (possibly none), the error standing for all the others.
	// It must return when ctx is done.
	QueryHistory(ctx context.Context, b collectors.Binding, at []time.Time) ([]Answer, error)
}

// Answer is a key result's value at one past instant.
type Answer struct {
	// OK is false when there is no value at that instant: Err says why,
	// or Err is nil (nothing to measure yet).
	OK    bool
	Value float64
	// Err is an error that concerns this instant only. One marked with
	// NoValue means no value at all (OK false, no error), as a live
	// measurement at that instant would have stored none.
	Err error
}

// noValueError marks an answer that holds no value.
type noValueError struct{ err error }

func (e noValueError) Error() string { return e.err.Error() }
func (e noValueError) Unwrap() error { return e.err }

// NoValue marks err as an answer that holds no value: a result without
// data (an empty vector, no row, NULL, NaN) rather than a failed query.
// Live, it is an error like any other (the key result keeps its last
// value); at a past instant it means no value there, not a failure: a
// history query over a period that starts before the data does has
// nothing to say about those first instants.
func NoValue(err error) error {
	if err == nil {
		return nil
	}
	return noValueError{err}
}

// IsNoValue reports whether err was marked with NoValue.
func IsNoValue(err error) bool {
	var nv noValueError
	return errors.As(err, &nv)
}

// CanHistory implements collectors.HistoryCapable.
func (s *Source) CanHistory(b collectors.Binding) bool {
	hq, ok := s.q.(HistoryQuerier)
	return ok && hq.CanHistory(b.KeyResult)
}

// History implements collectors.Historian: it runs the history queries
// of the requests, at most Options.Concurrency at once.
func (s *Source) History(ctx context.Context, reqs []collectors.HistoryRequest) [][]collectors.Measurement {
	out := make([][]collectors.Measurement, len(reqs))
	hq, _ := s.q.(HistoryQuerier)
	sem := make(chan struct{}, s.conc)
	var wg sync.WaitGroup
	for i, r := range reqs {
		out[i] = make([]collectors.Measurement, len(r.At))
		if len(r.At) == 0 {
			continue
		}
		if hq == nil || !hq.CanHistory(r.KeyResult) {
			s.failAll(out[i], 0, r.Binding, errors.New("is measured live only: its value cannot be asked for a past instant"))
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				s.failAll(out[i], 0, r.Binding, ctx.Err())
				return
			}
			defer func() { <-sem }()
			if err := ctx.Err(); err != nil {
				s.failAll(out[i], 0, r.Binding, err)
				return
			}
			start := time.Now()
			answers, err := hq.QueryHistory(ctx, r.Binding, r.At)
			s.record(out[i], r, answers, err, time.Since(start))
		}()
	}
	wg.Wait()
	return out
}

// record turns the answers of one request into its Measurements and logs
// the request.
func (s *Source) record(ms []collectors.Measurement, r collectors.HistoryRequest, answers []Answer, err error, d time.Duration) {
	n := min(len(answers), len(ms))
	values, failed := 0, 0
	for j, a := range answers[:n] {
		switch {
		case a.Err != nil && IsNoValue(a.Err):
		case a.Err != nil:
			ms[j].Err = s.historyError(r.Binding, a.Err)
			failed++
		case a.OK:
			ms[j] = collectors.Measurement{OK: true, Value: a.Value}
			values++
		}
	}
	if err == nil && n < len(ms) {
		err = fmt.Errorf("the source answered %d of %d instants", n, len(ms))
	}
	if err != nil {
		s.failAll(ms, n, r.Binding, err)
		failed += len(ms) - n
	}
	attrs := []any{"objective", r.Objective.ID, "key_result", r.KeyResult.ID, "instants", len(ms),
		"values", values, "duration", d.Round(time.Millisecond).String()}
	if failed > 0 {
		first := err
		for _, m := range ms {
			if m.Err != nil {
				first = m.Err
				break
			}
		}
		s.logger.Debug("a history query failed", append(attrs, "failed", failed, "err", first)...)
		return
	}
	s.logger.Debug("asked the source for past values", attrs...)
}

// failAll sets err on ms[from:].
func (s *Source) failAll(ms []collectors.Measurement, from int, b collectors.Binding, err error) {
	err = s.historyError(b, err)
	for j := from; j < len(ms); j++ {
		ms[j] = collectors.Measurement{Err: err}
	}
}

// historyError names the source and the key result, as a live measurement
// error does.
func (s *Source) historyError(b collectors.Binding, err error) error {
	return fmt.Errorf("source %q: key result %s: %w", s.name, key(b), err)
}
