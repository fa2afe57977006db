// Package okr owns the pure domain of objectives and key results: periods,
// progress, expected progress, gap, status, forecast, objective roll-up and
// score, exactly as docs/okr.md (and METRICS.md "Key results") define them.
// It performs no I/O and never reads the clock: time is always a parameter.
package okr

import "time"

// Status is the evaluated state of a key result or an objective.
type Status string

const (
	StatusNoData   Status = "no_data"
	StatusOnTrack  Status = "on_track"
	StatusAtRisk   Status = "at_risk"
	StatusOffTrack Status = "off_track"
	StatusAchieved Status = "achieved"
	StatusMissed   Status = "missed"
)

// Statuses lists every status in a stable order (used for exposition: one
// series per status).
var Statuses = []Status{StatusAchieved, StatusOnTrack, StatusAtRisk, StatusOffTrack, StatusMissed, StatusNoData}

// Direction says which way a key result moves.
type Direction string

const (
	Increase Direction = "increase" // target > baseline
	Decrease Direction = "decrease" // target < baseline
	Maintain Direction = "maintain" // stay inside [Min, Max]
)

// Period is a half-open interval [Start, End) in absolute time.
type Period struct {
	Name  string // "2026-Q4", or "2026-10-01..2026-12-31" for explicit dates
	Start time.Time
	End   time.Time
}

// Milestone is an intermediate value a key result should reach by a date.
type Milestone struct {
	At    time.Time
	Value float64
}

// Point is one recorded value of a key result.
type Point struct {
	At    time.Time
	Value float64
}

// KeyResult is what the engine needs to know about a key result.
type KeyResult struct {
	Direction  Direction
	Baseline   float64 // Increase/Decrease
	Target     float64 // Increase/Decrease
	Min, Max   float64 // Maintain band, inclusive
	Tolerance  float64 // status tolerance, e.g. 0.1
	Weight     float64 // weight in the objective roll-up, e.g. 1
	Milestones []Milestone
}

// Result is the evaluation of one key result at one instant.
type Result struct {
	HasValue         bool
	Value            float64   // the current value: latest point at or before min(now, period end)
	ValueAt          time.Time // when Value was recorded
	Progress         float64   // 0..1
	Expected         float64   // 0..1
	Gap              float64   // Progress - Expected
	Status           Status
	HasForecast      bool
	Forecast         float64 // forecast value at period end
	ForecastProgress float64 // 0..1
	HasScore         bool    // true once the period has ended and there is a value
	Score            float64 // final progress rounded to one decimal
}

// ObjectiveResult is the roll-up of an objective's key results (and, for
// an objective that rolls up its children, of its child objectives).
type ObjectiveResult struct {
	Progress float64 // weighted mean of key result (and child) progress
	// Expected is the weighted mean of the expected progress of the same
	// parts, Progress's counterpart.
	Expected float64
	// HasValue is true when at least one part has a value.
	HasValue bool
	Status   Status
	HasScore bool
	Score    float64
	// RolledUp is true when the result includes child objectives (RollUp):
	// the status is then Progress against Expected, not the worst status.
	RolledUp bool
}

// Child is a child objective as its parent's roll-up counts it.
type Child struct {
	// Weight is the child's weight, like a key result's (zero, negative
	// or NaN counts as 0).
	Weight float64
	Result ObjectiveResult
}
