package github

import (
	"slices"

	"github.com/okrd/okrd/metrics/quantile"
)

// Level is a DORA performance level. Its numeric value orders the levels
// (low 1 to elite 4), which is what a key result bound to a dora_level_*
// metric measures.
type Level int

// The DORA performance levels of the 2023 report.
const (
	LevelLow    Level = 1
	LevelMedium Level = 2
	LevelHigh   Level = 3
	LevelElite  Level = 4
)

// Levels lists every level, lowest first.
var Levels = []Level{LevelLow, LevelMedium, LevelHigh, LevelElite}

// String returns "low", "medium", "high" or "elite".
func (l Level) String() string {
	switch l {
	case LevelLow:
		return "low"
	case LevelMedium:
		return "medium"
	case LevelHigh:
		return "high"
	case LevelElite:
		return "elite"
	}
	return "unknown"
}

const (
	day   = 24 * 60 * 60 // seconds
	week  = 7 * day
	month = 30 * day // METRICS.md: a month is 30 days
)

// DeploymentFrequencyLevel judges deployments per day: elite when on demand
// (at least one a day on average), high at least one a week, medium at
// least one a month (30 days), else low.
func DeploymentFrequencyLevel(perDay float64) Level {
	switch {
	case perDay >= 1:
		return LevelElite
	case perDay >= 1.0/7:
		return LevelHigh
	case perDay >= 1.0/30:
		return LevelMedium
	}
	return LevelLow
}

// LeadTimeLevel judges the median lead time for changes in seconds: elite
// under a day, high under a week, medium under a month (30 days), else low.
func LeadTimeLevel(p50 float64) Level {
	switch {
	case p50 < day:
		return LevelElite
	case p50 < week:
		return LevelHigh
	case p50 < month:
		return LevelMedium
	}
	return LevelLow
}

// ChangeFailureRateLevel judges the change failure rate (0..1): elite at
// most 5%, high at most 10%, medium at most 15%, else low.
func ChangeFailureRateLevel(rate float64) Level {
	switch {
	case rate <= 0.05:
		return LevelElite
	case rate <= 0.10:
		return LevelHigh
	case rate <= 0.15:
		return LevelMedium
	}
	return LevelLow
}

// TimeToRestoreLevel judges the median time to restore service in seconds:
// elite under an hour, high under a day, medium under a week, else low.
func TimeToRestoreLevel(p50 float64) Level {
	switch {
	case p50 < 60*60:
		return LevelElite
	case p50 < day:
		return LevelHigh
	case p50 < week:
		return LevelMedium
	}
	return LevelLow
}

// Distribution is a set of values (durations in seconds, sizes in lines)
// sorted ascending, from which quantiles are read.
type Distribution []float64

// newDistribution sorts vals in place and returns them as a Distribution.
func newDistribution(vals []float64) Distribution {
	slices.Sort(vals)
	return Distribution(vals)
}

// Quantile returns the q-quantile (0 <= q <= 1) by linear interpolation
// between the closest ranks (package quantile). An empty distribution has
// no quantile.
func (d Distribution) Quantile(q float64) (float64, bool) { return quantile.Sorted(d, q) }
