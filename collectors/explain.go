package collectors

import (
	"context"
	"errors"
	"time"

	"github.com/okrd/okrd/metrics/explain"
)

// Explainer is a Source that can list the records behind a key result's
// value (okrd explain, GET .../explain): each record with its
// contribution, as the records stood at at, under the same as-of rules as
// History. It answers from what the source holds (its last poll, or the
// store when it has not polled in this process) and asks no API: explain
// is on demand, and costs nothing to the poll or the evaluation.
//
// A key result whose value no stored record makes (a live JQL count)
// gets an error that IsNoRecords recognizes.
type Explainer interface {
	Explain(ctx context.Context, b Binding, at time.Time) (explain.Explanation, error)
}

// noRecordsError says that a value is made of no stored records.
type noRecordsError struct{ err error }

func (e noRecordsError) Error() string { return e.err.Error() }
func (e noRecordsError) Unwrap() error { return e.err }

// NoRecords marks err as the answer of Explain for a key result whose
// value is not made of stored records.
func NoRecords(err error) error { return noRecordsError{err} }

// IsNoRecords reports whether err was marked with NoRecords.
func IsNoRecords(err error) bool {
	var n noRecordsError
	return errors.As(err, &n)
}
