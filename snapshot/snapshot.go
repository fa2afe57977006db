// Package snapshot owns the immutable, in-memory result of one evaluation of
// every objective and key result, and the Prometheus collector that exposes
// it. A scrape reads the newest snapshot only: it never waits on a database
// or an external API.
package snapshot

import (
	"sort"
	"sync"
	"time"

	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/okr"
	"github.com/okrd/okrd/store"
)

// Snapshot is the result of one evaluation. It is never modified once
// published; readers share it freely. A snapshot derived from an earlier one
// (With) shares the objectives that were not evaluated again, and their
// encoded exposition.
type Snapshot struct {
	// Generation increases with every published snapshot.
	Generation uint64
	// EvaluatedAt is the clock value of the evaluation that made the
	// snapshot. In a snapshot derived by With, the objectives it shares
	// with the earlier snapshot were evaluated at that one's EvaluatedAt.
	EvaluatedAt time.Time
	Objectives  []*Objective

	// parts guards the split into blocks of a snapshot not made by With.
	parts  sync.Once
	blocks []*block
	starts []int
	exps   [numKinds]expositionCache
	other  struct {
		mu sync.Mutex
		m  map[string]*Exposition
	}
}

// Objective is one evaluated objective.
type Objective struct {
	Config     *config.Objective
	Result     okr.ObjectiveResult
	KeyResults []*KeyResult
	// Children are the evaluated child objectives (Config.Children), in
	// the same snapshot: an objective is evaluated again whenever one of
	// its children is, so that they never go out of step.
	Children []*Objective
}

// KeyResult is one evaluated key result.
type KeyResult struct {
	Objective *config.Objective
	Config    *config.KeyResult
	Result    okr.Result
	// Stale is true when the latest value is older than the key result's
	// stale_after; the status is then no_data.
	Stale bool
	// Points is the number of values recorded within the period so far.
	Points int
	// Confidence is the owner's latest confidence that the key result will
	// land, nil when none was ever given.
	Confidence *Confidence
}

// Confidence is the confidence in effect at the evaluation.
type Confidence struct {
	Value        int // 1..10
	At           time.Time
	Author, Note string
	// Previous is the confidence given before this one, 0 without one.
	Previous int
	// WeekHigh is the highest confidence in effect during the week up to
	// the evaluation: the one in effect a week before and every one given
	// since. WeekHigh - Value is how far confidence dropped in the week.
	WeekHigh int
}

// ConfidenceWeek is the span of a confidence's week's high: the seven days
// before the evaluation. The generated Prometheus rules read the same span
// (max_over_time over okr_key_result_confidence), so that both alerting
// paths judge a drop alike.
const ConfidenceWeek = 7 * 24 * time.Hour

// ConfidenceAt is the confidence in effect at now among given, the
// confidences of one key result sorted by the time they were given; nil
// when none was given by now. Its week's high counts the confidence in
// effect ConfidenceWeek before now and every one given since.
func ConfidenceAt(given []store.Confidence, now time.Time) *Confidence {
	n := sort.Search(len(given), func(j int) bool { return given[j].At.After(now) })
	if n == 0 {
		return nil
	}
	cur := given[n-1]
	c := &Confidence{Value: cur.Value, At: cur.At, Author: cur.Author, Note: cur.Note, WeekHigh: cur.Value}
	if n > 1 {
		c.Previous = given[n-2].Value
	}
	if !cur.At.After(now.Add(-ConfidenceWeek)) {
		return c // in effect since before the week began
	}
	weekAgo := now.Add(-ConfidenceWeek)
	for i := n - 2; i >= 0; i-- {
		c.WeekHigh = max(c.WeekHigh, given[i].Value)
		if !given[i].At.After(weekAgo) {
			break // the one in effect a week ago is the last to count
		}
	}
	return c
}

// Objective returns the objective with the given id, or nil.
func (s *Snapshot) Objective(id string) *Objective {
	if s == nil {
		return nil
	}
	for _, o := range s.Objectives {
		if o.Config.ID == id {
			return o
		}
	}
	return nil
}

// KeyResult returns the key result with the given id, or nil.
func (o *Objective) KeyResult(id string) *KeyResult {
	for _, kr := range o.KeyResults {
		if kr.Config.ID == id {
			return kr
		}
	}
	return nil
}
