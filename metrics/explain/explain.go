// Package explain owns the shape in which okrd lists the records behind a
// key result's value ("explain"): each record with its contribution, the
// rule that combines the contributions into the value, and the rows a
// quantile reads. The metric packages (metrics/github, metrics/jira)
// select the records with the same code that computes the value; this
// package only says how the contributions add up, so that anyone can
// recompute the value from the listed rows.
package explain

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/okrd/okrd/metrics/quantile"
)

// Rule is how the contributions of the rows make the value.
type Rule string

// The rules.
const (
	// Quantile: the Quantile of the rows' contributions, by linear
	// interpolation between the closest ranks (metrics/quantile).
	Quantile Rule = "quantile"
	// Max: the largest contribution.
	Max Rule = "max"
	// Sum: the sum of the contributions divided by Divisor (1 for a
	// count, the days of the window for a frequency, the number of
	// sprints for a mean per sprint).
	Sum Rule = "sum"
	// Ratio: the sum of the contributions divided by the sum of the
	// weights (a change failure rate, a say/do ratio, an epic's progress).
	Ratio Rule = "ratio"
	// Level: a DORA level (1 low to 4 elite) judged from the value that
	// the rows give by the rule of the key behind it (Of).
	Level Rule = "level"
	// Latest: the value of the latest row, the first (manual check-ins,
	// newest first).
	Latest Rule = "latest"
)

// Mark tells the rows a quantile reads from the others.
type Mark string

// The marks.
const (
	// AtQuantile marks the one or two rows whose values the quantile
	// interpolates between (one when the rank is a whole number).
	AtQuantile Mark = "quantile"
	// Neighbour marks the rows next to those, by value.
	Neighbour Mark = "neighbour"
)

// QuantileRanks returns the ranks (0-based, in ascending order of value)
// that the q-quantile of n values reads: lo and hi, equal when the rank
// q*(n-1) is a whole number. ok is false when there is no quantile (no
// values, q outside [0, 1]). It is the rank of quantile.Sorted.
func QuantileRanks(n int, q float64) (lo, hi int, ok bool) {
	if n == 0 || math.IsNaN(q) || q < 0 || q > 1 {
		return 0, 0, false
	}
	pos := q * float64(n-1)
	lo = int(math.Floor(pos))
	if lo >= n-1 {
		return n - 1, n - 1, true
	}
	if pos > float64(lo) {
		return lo, lo + 1, true
	}
	return lo, lo, true
}

// MarkQuantile returns, for each of the values (in any order), the mark
// of the q-quantile: AtQuantile for the values it reads, Neighbour for
// the value just below and just above them (by value; ties keep the
// order given), "" for the others.
func MarkQuantile(values []float64, q float64) []Mark {
	marks := make([]Mark, len(values))
	lo, hi, ok := QuantileRanks(len(values), q)
	if !ok {
		return marks
	}
	order := make([]int, len(values))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(values[a], values[b]) })
	for r := lo; r <= hi; r++ {
		marks[order[r]] = AtQuantile
	}
	if lo > 0 {
		marks[order[lo-1]] = Neighbour
	}
	if hi+1 < len(order) {
		marks[order[hi+1]] = Neighbour
	}
	return marks
}

// Recompute combines contributions (and weights, for Ratio) by a rule:
// what a reader of the rows would compute. For Level it returns the
// value of the key behind the level, which the caller judges. ok is false
// when the rule gives no value (no rows for a quantile or a maximum, no
// weight for a ratio, no divisor for a sum).
func Recompute(rule Rule, q, divisor float64, contributions, weights []float64) (float64, bool) {
	switch rule {
	case Quantile:
		return quantile.Of(slices.Clone(contributions), q)
	case Max:
		if len(contributions) == 0 {
			return 0, false
		}
		return slices.Max(contributions), true
	case Sum:
		if divisor <= 0 {
			return 0, false
		}
		var s float64
		for _, c := range contributions {
			s += c
		}
		return s / divisor, true
	case Ratio:
		var num, den float64
		for i, c := range contributions {
			num += c
			den += weights[i]
		}
		if den == 0 {
			return 0, false
		}
		return num / den, true
	case Latest:
		// The rows are newest first.
		if len(contributions) == 0 {
			return 0, false
		}
		return contributions[0], true
	}
	return 0, false
}

// Kind is what the values of a column are, which says how to show them.
type Kind string

// The kinds of columns.
const (
	Text     Kind = "text"     // a string
	Link     Kind = "link"     // a URL (a string)
	Time     Kind = "time"     // a time.Time (zero: none)
	Duration Kind = "duration" // seconds (a float64)
	Number   Kind = "number"   // a float64 or an int
	Value    Kind = "value"    // a float64 in the key result's unit (a check-in's value)
	Bool     Kind = "bool"     // a bool
)

// Column is one column of the rows.
type Column struct {
	Key   string `json:"key"`
	Title string `json:"title"`
	Kind  Kind   `json:"kind"`
}

// Row is one record: its values in the order of the columns, its
// contribution to the value and, for Ratio, its weight.
type Row struct {
	Values []any
	// Link is where the record is on GitHub or Jira ("" when unknown).
	Link         string
	Contribution float64
	Weight       float64
	Mark         Mark
	// At orders rows of equal contribution, newest first.
	At time.Time
}

// Window is the window of the value, (From, To].
type Window struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Explanation is a value with the records it is made of.
type Explanation struct {
	Metric   string
	Value    float64
	HasValue bool
	// Unit is the unit of the value and of the contributions of a
	// quantile, a maximum or a sum: seconds, count, lines, points,
	// deployments per day, ratio, level.
	Unit string
	// Window is nil for a metric taken at an instant (work in progress,
	// open pull requests) or over closed sprints.
	Window   *Window
	Rule     Rule
	Quantile float64 // Quantile rule (and Level of a quantile)
	Divisor  float64 // Sum rule
	// Of is, for the Level rule, the metric whose value the level judges
	// (lead time and time to restore are judged by their median).
	Of string
	// How says in a sentence how the rows make the value.
	How     string
	Columns []Column
	Rows    []Row
	// Note says what the rows do not show (records older than the stored
	// ones, a live figure); "" when nothing.
	Note string
}

// Recompute combines the explanation's rows by its rule (for Level, the
// value of the key behind it).
func (e *Explanation) Recompute() (float64, bool) {
	cs := make([]float64, len(e.Rows))
	ws := make([]float64, len(e.Rows))
	for i, r := range e.Rows {
		cs[i], ws[i] = r.Contribution, r.Weight
	}
	rule := e.Rule
	if rule == Level {
		rule = Quantile
		switch e.Of {
		case "deployment_frequency":
			rule = Sum
		case "change_failure_rate":
			rule = Ratio
		}
	}
	return Recompute(rule, e.Quantile, e.Divisor, cs, ws)
}

// Sort orders the rows by contribution, largest first (the rows a
// quantile reads keep their marks), ties newest first.
func (e *Explanation) Sort() {
	if e.Rule == Latest {
		slices.SortStableFunc(e.Rows, func(a, b Row) int { return b.At.Compare(a.At) })
		return
	}
	slices.SortStableFunc(e.Rows, func(a, b Row) int {
		if c := cmp.Compare(b.Contribution, a.Contribution); c != 0 {
			return c
		}
		return b.At.Compare(a.At)
	})
}

// Result is a key result's value at an instant with the records it is
// made of, as okrd explain and GET .../explain give it.
type Result struct {
	Objective, KeyResult, Source, SourceType string
	At                                       time.Time
	Explanation
	// Message says why there are no rows when the value is not made of
	// records (a live query, an analytics source); "" otherwise.
	Message string
}

// NotFoundError is the error for an objective or key result that does
// not exist.
type NotFoundError struct{ Msg string }

func (e *NotFoundError) Error() string { return e.Msg }

// ParamError is the error for a bad parameter (at), which the API
// answers with 400.
type ParamError struct{ Param, Msg string }

func (e *ParamError) Error() string { return e.Param + ": " + e.Msg }
