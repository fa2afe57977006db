// Package quantile owns the one quantile definition of okrd (METRICS.md,
// "Common rules"): linear interpolation between the closest ranks, the same
// as PostgreSQL's percentile_cont and numpy's percentile(method="linear").
// Every metric package reads its quantiles here, so that a Jira cycle time
// and a GitHub lead time of the same values always agree.
package quantile

import (
	"math"
	"slices"
)

// Of returns the q-quantile (0 <= q <= 1) of xs, sorting xs in place. An
// empty set has no quantile (ok is false), never 0; neither has a q outside
// [0, 1] or NaN.
func Of(xs []float64, q float64) (v float64, ok bool) {
	if len(xs) == 0 || !valid(q) {
		return 0, false
	}
	slices.Sort(xs)
	return Sorted(xs, q)
}

// Sorted returns the q-quantile of values already sorted ascending, for
// callers that read several quantiles of one set: with n values the
// quantile sits at rank q*(n-1), between the values at the ranks either
// side. Its answer for unsorted values is meaningless.
func Sorted(sorted []float64, q float64) (v float64, ok bool) {
	n := len(sorted)
	if n == 0 || !valid(q) {
		return 0, false
	}
	pos := q * float64(n-1)
	lo := math.Floor(pos)
	i := int(lo)
	if i >= n-1 {
		return sorted[n-1], true
	}
	return sorted[i] + (pos-lo)*(sorted[i+1]-sorted[i]), true
}

func valid(q float64) bool { return !math.IsNaN(q) && q >= 0 && q <= 1 }
