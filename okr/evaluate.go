package okr

import (
	"math"
	"slices"
	"time"
)

// DefaultTolerance is the status tolerance used when a key result's
// Tolerance is zero, negative or NaN.
const DefaultTolerance = 0.1

// epsilon absorbs floating-point noise in comparisons, so that 0.3 - 0.4
// (which is -0.10000000000000003) still counts as a gap of exactly -0.1.
const epsilon = 1e-9

// minForecastPoints and minForecastSpan are the least evidence the forecast
// needs: a line through fewer points, or through points taken within one
// day, says more about noise than about a trend.
const (
	minForecastPoints = 3
	minForecastSpan   = 24 * time.Hour
)

// ProgressOf converts a value into progress in [0, 1].
//
// For increase and decrease key results (any direction other than Maintain)
// it is clamp((value - Baseline) / (Target - Baseline), 0, 1); the same
// formula serves both directions because the sign of Target - Baseline
// carries the direction. If Target equals Baseline (which configuration
// validation rejects) progress is 1 once the value reaches the target in the
// key result's direction and 0 before. For Maintain it is 1 when the value
// lies inside [Min, Max] (bounds included) and 0 otherwise. A NaN value has
// progress 0.
func ProgressOf(kr KeyResult, value float64) float64 {
	if math.IsNaN(value) {
		return 0
	}
	if kr.Direction == Maintain {
		if value >= kr.Min && value <= kr.Max {
			return 1
		}
		return 0
	}
	span := kr.Target - kr.Baseline
	if span == 0 {
		reached := value >= kr.Target
		if kr.Direction == Decrease {
			reached = value <= kr.Target
		}
		if reached {
			return 1
		}
		return 0
	}
	return clamp01((value - kr.Baseline) / span)
}

// ExpectedProgress is the progress a key result should have at t.
//
// Before the period starts it is 0. For Maintain it is 1 from the period
// start on: the value should be inside its band all the time. Otherwise it is
// the elapsed fraction of the period, or, when the key result has milestones
// inside the period, the piecewise-linear curve in progress space through
// (Start, 0), each milestone (At, ProgressOf(Value)) in time order, and
// (End, 1). A milestone exactly at Start or End replaces the implicit point
// there; milestones outside [Start, End] are ignored. At and after End the
// curve holds its last point.
func ExpectedProgress(kr KeyResult, p Period, t time.Time) float64 {
	if t.Before(p.Start) {
		return 0
	}
	if kr.Direction == Maintain {
		return 1
	}
	if len(kr.Milestones) == 0 {
		return p.ElapsedFraction(t)
	}
	if !t.Before(p.End) {
		// The value of the end point: the last milestone at End (in input
		// order, as after a stable sort), or the implicit 1.
		v := 1.0
		for _, m := range kr.Milestones {
			if m.At.Equal(p.End) {
				v = ProgressOf(kr, m.Value)
			}
		}
		return v
	}
	// Find the curve's points on either side of t without sorting or
	// allocating: prev is the latest point at or before t (the last one in
	// input order among equal times), next the earliest point after t (the
	// first one among equal times), which is what a stable sort by At
	// followed by a walk along the curve would give.
	prevAt, prevV := p.Start, 0.0
	nextAt, nextV, nextImplicit := p.End, 1.0, true
	for _, m := range kr.Milestones {
		if m.At.Before(p.Start) || m.At.After(p.End) {
			continue
		}
		if !m.At.After(t) {
			if !m.At.Before(prevAt) {
				prevAt, prevV = m.At, ProgressOf(kr, m.Value)
			}
			continue
		}
		if m.At.Before(nextAt) || (nextImplicit && m.At.Equal(nextAt)) {
			nextAt, nextV, nextImplicit = m.At, ProgressOf(kr, m.Value), false
		}
	}
	// prevAt <= t < nextAt, so the denominator is positive.
	f := seconds(prevAt, t) / seconds(prevAt, nextAt)
	return prevV + (nextV-prevV)*f
}

// Evaluate evaluates a key result over period p at the instant now from its
// recorded history, which may be in any order. docs/okr.md is the
// user-facing definition of every field; in short:
//
//   - Only points recorded at or before min(now, p.End) count. The current
//     value is the latest of them, even if it predates p.Start.
//   - Progress = ProgressOf(current value); Expected = ExpectedProgress at
//     min(now, p.End); Gap = Progress - Expected.
//   - Status: no_data without a value; after the end achieved (progress 1)
//     or missed; before it achieved once progress reaches 1 (never for
//     Maintain), else on_track, at_risk or off_track by the gap against the
//     tolerance.
//   - Forecast: the least-squares line through the points inside the period
//     (at least 3, spanning at least a day), evaluated at p.End.
//   - Score: once the period has ended, progress rounded to one decimal.
//
// Evaluate does not modify history and allocates only when history is not
// sorted by At.
func Evaluate(kr KeyResult, p Period, history []Point, now time.Time) Result {
	t := now
	if t.After(p.End) {
		t = p.End
	}
	ended := p.Ended(now)

	pts := history
	if !sortedByAt(pts) {
		pts = slices.Clone(history)
		slices.SortStableFunc(pts, func(a, b Point) int { return a.At.Compare(b.At) })
	}

	var r Result
	r.Expected = ExpectedProgress(kr, p, t)

	// n is the number of points at or before t; the current value is the
	// last of them (the last recorded, among equal times).
	n := upperBound(pts, t)
	if n == 0 {
		r.Status = StatusNoData
		return r
	}
	cur := pts[n-1]
	r.HasValue = true
	r.Value = cur.Value
	r.ValueAt = cur.At
	r.Progress = ProgressOf(kr, cur.Value)
	r.Gap = r.Progress - r.Expected
	r.Status = status(kr, r.Progress, r.Gap, ended)

	if ended {
		r.HasScore = true
		r.Score = roundTenth(r.Progress)
	}

	// The forecast uses the points inside the period: pts[lo:n].
	lo := lowerBound(pts[:n], p.Start)
	if f, ok := forecast(pts[lo:n], p); ok {
		r.HasForecast = true
		r.Forecast = f
		r.ForecastProgress = ProgressOf(kr, f)
	}
	return r
}

// status applies the status rules to a key result that has a value.
func status(kr KeyResult, progress, gap float64, ended bool) Status {
	reached := progress >= 1-epsilon
	if ended {
		if reached {
			return StatusAchieved
		}
		return StatusMissed
	}
	if reached && kr.Direction != Maintain {
		return StatusAchieved
	}
	tol := kr.Tolerance
	if !(tol > 0) { // also catches NaN
		tol = DefaultTolerance
	}
	switch {
	case gap >= -tol-epsilon:
		return StatusOnTrack
	case gap >= -2*tol-epsilon:
		return StatusAtRisk
	default:
		return StatusOffTrack
	}
}

// forecast fits value = a + b*x by least squares, x being seconds since
// p.Start, and evaluates it at p.End. pts must be sorted by At. The sums are
// taken around the means (two passes), which keeps them accurate when the
// times are large and the values close together.
func forecast(pts []Point, p Period) (float64, bool) {
	if len(pts) < minForecastPoints || pts[len(pts)-1].At.Sub(pts[0].At) < minForecastSpan {
		return 0, false
	}
	s0, ns0 := p.Start.Unix(), p.Start.Nanosecond()
	x := func(at time.Time) float64 {
		return float64(at.Unix()-s0) + float64(at.Nanosecond()-ns0)*1e-9
	}
	var sx, sy float64
	for i := range pts {
		sx += x(pts[i].At)
		sy += pts[i].Value
	}
	nf := float64(len(pts))
	mx, my := sx/nf, sy/nf
	var sxx, sxy float64
	for i := range pts {
		dx := x(pts[i].At) - mx
		sxx += dx * dx
		sxy += dx * (pts[i].Value - my)
	}
	if sxx == 0 {
		return 0, false
	}
	f := my + sxy/sxx*(x(p.End)-mx)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// EvaluateObjective rolls up an objective's key results; krs[i] pairs with
// results[i] (if the lengths differ, only the first min(len) pairs count).
//
// Weights come from krs[i].Weight; a weight that is zero, negative or NaN
// counts as 0, and if every weight is 0 all key results weigh the same.
// Progress is the weighted mean of key result progress, a result without a
// value counting as progress 0; Expected the weighted mean of their expected
// progress. Status is the worst status among results with a value (see
// Severity); it is no_data only when no result has a value. HasScore is
// true when at least one result has a score and every result with a value
// has one; Score is then the weighted mean of the scores (results without a
// value count 0), rounded to one decimal.
func EvaluateObjective(krs []KeyResult, results []Result) ObjectiveResult {
	n := min(len(krs), len(results))
	ps := make([]part, n)
	for i := range n {
		ps[i] = krPart(krs[i], results[i])
	}
	o := combine(ps)
	o.Status = StatusNoData
	for i := range n {
		if results[i].HasValue {
			o.Status = Worst(o.Status, results[i].Status)
		}
	}
	return o
}

// RollUp evaluates an objective whose progress comes from its key results
// and its child objectives together (progress_from = "children",
// docs/okr.md "Alignment"): each child counts like one key result of the
// child's weight, with its own progress and expected progress (evaluated
// in the child's period). Progress, Expected and the score are the
// weighted means of EvaluateObjective over all the parts; a child without
// any value counts as progress 0, like a key result without one.
//
// The status compares the progress with the expected progress, as a key
// result's does, with tolerance (DefaultTolerance when not positive) in p
// at now: no_data when no part has a value; once p has ended achieved
// (progress 1) or missed; before, achieved once progress reaches 1, else
// on_track, at_risk or off_track by the gap.
func RollUp(krs []KeyResult, results []Result, children []Child, p Period, now time.Time, tolerance float64) ObjectiveResult {
	n := min(len(krs), len(results))
	ps := make([]part, 0, n+len(children))
	for i := range n {
		ps = append(ps, krPart(krs[i], results[i]))
	}
	for _, c := range children {
		w := 0.0
		if c.Weight > 0 {
			w = c.Weight
		}
		r := c.Result
		ps = append(ps, part{weight: w, hasValue: r.HasValue, progress: r.Progress, expected: r.Expected,
			hasScore: r.HasScore, score: r.Score})
	}
	o := combine(ps)
	o.RolledUp = true
	o.Status = StatusNoData
	if o.HasValue {
		o.Status = status(KeyResult{Direction: Increase, Tolerance: tolerance}, o.Progress, o.Progress-o.Expected, p.Ended(now))
	}
	return o
}

// part is one key result or child objective of a roll-up.
type part struct {
	weight             float64
	hasValue           bool
	progress, expected float64
	hasScore           bool
	score              float64
}

func krPart(kr KeyResult, r Result) part {
	return part{weight: weight(kr), hasValue: r.HasValue, progress: r.Progress, expected: r.Expected,
		hasScore: r.HasScore, score: r.Score}
}

// combine takes the weighted means of parts (everything but the status).
func combine(ps []part) ObjectiveResult {
	var total float64
	for _, p := range ps {
		total += p.weight
	}
	equal := total == 0
	if equal {
		total = float64(len(ps))
	}
	var o ObjectiveResult
	if len(ps) == 0 {
		return o
	}
	var progress, expected, tenths float64
	scored, unscored := 0, 0
	for _, p := range ps {
		w := 1.0
		if !equal {
			w = p.weight
		}
		expected += w * p.expected
		if !p.hasValue {
			continue
		}
		o.HasValue = true
		progress += w * p.progress
		if p.hasScore {
			scored++
			// Scores are multiples of 0.1; summing whole tenths keeps
			// 0.7 and 0.6 from averaging to 0.6499999999999999.
			tenths += w * math.Round(p.score*10)
		} else {
			unscored++
		}
	}
	o.Progress = progress / total
	o.Expected = expected / total
	if scored > 0 && unscored == 0 {
		o.HasScore = true
		o.Score = math.Floor(tenths/total+0.5+epsilon) / 10
	}
	return o
}

func weight(kr KeyResult) float64 {
	if kr.Weight > 0 {
		return kr.Weight
	}
	return 0
}

// Severity orders statuses from best to worst for the objective roll-up:
// no_data 0, achieved 1, on_track 2, at_risk 3, off_track 4, missed 5.
// no_data ranks lowest so that any status backed by data outranks it. An
// unknown status has severity -1.
func Severity(s Status) int {
	switch s {
	case StatusNoData:
		return 0
	case StatusAchieved:
		return 1
	case StatusOnTrack:
		return 2
	case StatusAtRisk:
		return 3
	case StatusOffTrack:
		return 4
	case StatusMissed:
		return 5
	}
	return -1
}

// Worst returns the status with the highest Severity, or no_data when
// statuses is empty or holds no known status.
func Worst(statuses ...Status) Status {
	w := StatusNoData
	for _, s := range statuses {
		if Severity(s) > Severity(w) {
			w = s
		}
	}
	return w
}

// roundTenth rounds a progress in [0, 1] to one decimal, ties upwards. The
// epsilon makes a progress that is meant to be 0.65 but computes as
// 0.6499999999999999 round like 0.65.
func roundTenth(x float64) float64 {
	return math.Floor(x*10+0.5+epsilon) / 10
}

func clamp01(x float64) float64 {
	switch {
	case x > 1:
		return 1
	case x >= 0:
		return x
	default: // negative or NaN
		return 0
	}
}

func sortedByAt(pts []Point) bool {
	for i := 1; i < len(pts); i++ {
		if pts[i].At.Before(pts[i-1].At) {
			return false
		}
	}
	return true
}

// upperBound returns the number of points (sorted by At) at or before t.
func upperBound(pts []Point, t time.Time) int {
	lo, hi := 0, len(pts)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if pts[m].At.After(t) {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

// lowerBound returns the index of the first point (sorted by At) at or after t.
func lowerBound(pts []Point, t time.Time) int {
	lo, hi := 0, len(pts)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if pts[m].At.Before(t) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}
