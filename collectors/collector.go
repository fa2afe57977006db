// Package collectors owns the Source interface that every data source kind
// implements (one folder per kind below this one), the registry that turns a
// [sources.NAME] table into a running Source, and the instrumentation that
// every source shares: requests by status code and rate-limit budget.
package collectors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/okr"
	"github.com/okrd/okrd/store"
)

// Source is one configured data source.
//
// Poll performs one incremental sync: it fetches what changed since the
// cursors it stored and writes records and cursors together through
// Store.Update, so that a poll that fails half way loses nothing and counts
// nothing twice. It must return when ctx is done. A returned error marks the
// source down; wrap it with Permanent for errors that retrying soon cannot
// fix (bad credentials) and return a *RetryAfterError when the remote side
// said when to come back.
//
// Measure computes the current value of every given key result bound to this
// source, from stored records or by querying the source live. It returns one
// Measurement per binding, in order.
type Source interface {
	Poll(ctx context.Context) error
	Measure(ctx context.Context, bindings []Binding, now time.Time) []Measurement
}

// Binding is a key result bound to a source.
type Binding struct {
	Objective *config.Objective
	KeyResult *config.KeyResult
}

// Period is the period of the binding's objective.
func (b Binding) Period() okr.Period { return b.Objective.Resolved }

// Measurement is the value of one key result, or why there is none.
type Measurement struct {
	// OK is false when there is no value (Err says why, or the metric has
	// no value for an empty set, which is not an error).
	OK    bool
	Value float64
	Err   error
	// At is the instant a value asked of the remote side live (a JQL
	// count, an analytics query) was measured: when its query returned,
	// read from Deps.Now. okrd stores the value at that instant rather
	// than at the time passed to Measure, which for an answer of the poll
	// is later by the rest of the poll. Zero means the time passed to
	// Measure, as for every value computed from stored records.
	At time.Time
}

// Historian is a Source that can also measure key results at past
// instants, from the records it holds or by asking the remote side for a
// past instant (METRICS.md, "History: every metric at a past instant").
//
// History measures each request's binding at each of its instants, which
// are ascending and not after the time of the call. The value at an
// instant t is the one a live Measure at t would have given over the
// records as they stood at t: events after t do not exist yet, statuses
// are the ones the changelogs give at t. It returns one slice per request
// with one Measurement per instant. An instant that the source cannot
// answer, because its records do not reach back that far, has OK false
// and no error; an error that concerns a whole request (an unknown board,
// a metric that is measured live only) is set on every one of its
// Measurements. At is left zero: each value applies to its instant.
//
// History must not change what Poll, Measure or Collect see, and must
// return when ctx is done (with ctx.Err() on the Measurements it did not
// compute).
type Historian interface {
	History(ctx context.Context, reqs []HistoryRequest) [][]Measurement
}

// HistoryRequest asks for one binding's values at past instants.
type HistoryRequest struct {
	Binding
	// At are the instants, ascending.
	At []time.Time
}

// HistoryCapable reports whether a binding of a Historian can be filled in
// at all; a Source whose bindings are only sometimes answerable (a jira
// jql_count is live only, a sql key result needs a history_query)
// implements it. Without it, every binding of a Historian is capable.
type HistoryCapable interface {
	CanHistory(b Binding) bool
}

// Deps are what a source gets from okrd when it is built.
type Deps struct {
	Store   store.Store
	Logger  *slog.Logger
	Metrics *Metrics
	// Now is okrd's clock (New sets time.Now when it is nil), the one
	// that gives the time passed to Measure. A source stamps its live
	// measurements (Measurement.At) with it, so that both are on one clock
	// also when a test or the demo pins it.
	Now func() time.Time
}

// Factory builds a Source from its configuration.
type Factory func(src *config.Source, deps Deps) (Source, error)

var (
	mu        sync.RWMutex
	factories = map[string]Factory{}
)

// Register makes a source type available under typ. It is called from the
// init function of the package implementing the type, next to
// config.RegisterSourceType.
func Register(typ string, f Factory) {
	mu.Lock()
	defer mu.Unlock()
	factories[typ] = f
}

// Types returns the registered source types, sorted.
func Types() []string {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]string, 0, len(factories))
	for t := range factories {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// New builds the Source for a configured source.
func New(src *config.Source, deps Deps) (Source, error) {
	mu.RLock()
	f, ok := factories[src.Type]
	mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("source %q: no collector for type %q", src.Name, src.Type)
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	deps.Logger = deps.Logger.With("source", src.Name)
	if deps.Now == nil {
		deps.Now = time.Now
	}
	return f(src, deps)
}

// permanentError marks an error that retrying soon cannot fix.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent marks err as one that retrying soon cannot fix, such as a
// rejected credential or an unknown project: the scheduler then retries only
// slowly and says so in the log.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

// RetryAfterError says that the remote side asked to be left alone until
// Until (a rate limit).
type RetryAfterError struct {
	Until time.Time
	Err   error
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("%v (retry after %s)", e.Err, e.Until.UTC().Format(time.RFC3339))
}

func (e *RetryAfterError) Unwrap() error { return e.Err }

// Health is what okrd knows about one source's polling, as shown by the API
// and the web page.
type Health struct {
	Name                string    `json:"name"`
	Type                string    `json:"type"`
	Up                  bool      `json:"up"`
	Polls               int64     `json:"polls"`
	LastPoll            time.Time `json:"last_poll,omitzero"`
	LastSuccess         time.Time `json:"last_success,omitzero"`
	LastDuration        float64   `json:"last_duration_seconds"`
	LastError           string    `json:"last_error,omitempty"`
	ConsecutiveFailures int       `json:"consecutive_failures"`
	NextPoll            time.Time `json:"next_poll,omitzero"`
	// DataQuality is what the source's data-quality checks found at its
	// last poll (a QualityReporter's; none for other sources).
	DataQuality []QualityCheck `json:"data_quality,omitempty"`
}

// A Source may also implement prometheus.Collector to expose its delivery
// series (DORA keys, flow metrics): okrd registers it while the source runs.
// Its Collect must only read values computed by the last Poll, never call an
// API or the database, so that a scrape stays cheap.

// SeriesHistorian is a Source whose delivery series (the ones its Collect
// sends) are also defined at past instants, so that okrd backfill can hand
// them to Prometheus for every instant of the history grid
// (docs/history.md).
//
// CollectAt sends on ch the series that Collect would have sent at t: the
// same descriptors, the same label sets and the values computed with
// now = t over the records as they stood at t, under the contract of
// Historian (METRICS.md, "History: every metric at a past instant"):
// events after t do not exist yet, statuses, work in progress and open
// pull requests are the ones the changelogs give at t, a sprint counts
// only once completed by t, and a window ends at t. A series whose value
// does not exist at t (a quantile of an empty set, a figure before the
// records reach back that far) is left out, as Collect leaves it out.
// Series that are only measured live (a JQL count) are left out too.
//
// It answers from the records in the store: the process that calls it
// (okrd backfill) builds the source without polling it, so a source reads
// what it needs from the store on the first call and must not write to it.
// Calls come from one goroutine with ascending t, none after the time of
// the call. CollectAt must not change what Poll, Measure or Collect see,
// and returns ctx.Err() when ctx is done; an error means the series at t
// are unknown (nothing sent for t counts).
type SeriesHistorian interface {
	prometheus.Collector
	CollectAt(ctx context.Context, t time.Time, ch chan<- prometheus.Metric) error
}
