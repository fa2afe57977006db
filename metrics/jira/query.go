package jira

import (
	"fmt"
	"time"

	"github.com/okrd/okrd/metrics/quantile"
)

// Metric names a key result may bind to (key result `metric`).
const (
	MetricThroughput       = "throughput"
	MetricLeadTime         = "lead_time"
	MetricCycleTime        = "cycle_time"
	MetricWIP              = "wip"
	MetricWIPAge           = "wip_age"
	MetricWIPAgeMax        = "wip_age_max"
	MetricInflow           = "inflow"
	MetricEpicProgress     = "epic_progress"
	MetricJQLCount         = "jql_count"
	MetricSprintCommitment = "sprint_commitment"
	MetricSprintCompleted  = "sprint_completed"
	MetricSprintAdded      = "sprint_added"
	MetricSprintSayDo      = "sprint_say_do_ratio"
	MetricVelocity         = "velocity"
)

// Metrics lists every metric name, in documentation order.
var Metrics = []string{
	MetricThroughput, MetricLeadTime, MetricCycleTime, MetricWIP, MetricWIPAge, MetricWIPAgeMax,
	MetricInflow, MetricEpicProgress, MetricJQLCount, MetricSprintCommitment, MetricSprintCompleted,
	MetricSprintAdded, MetricSprintSayDo, MetricVelocity,
}

// IsSprintMetric reports whether a metric is computed per closed sprint.
func IsSprintMetric(metric string) bool {
	switch metric {
	case MetricSprintCommitment, MetricSprintCompleted, MetricSprintAdded, MetricSprintSayDo, MetricVelocity:
		return true
	}
	return false
}

// IsQuantileMetric reports whether a metric is a quantile of durations.
func IsQuantileMetric(metric string) bool {
	switch metric {
	case MetricLeadTime, MetricCycleTime, MetricWIPAge:
		return true
	}
	return false
}

// DefaultQuantile is the quantile of duration metrics when none is given.
const DefaultQuantile = 0.5

// DefaultSprints is how many closed sprints sprint metrics cover.
const DefaultSprints = 6

// Query is one key result's question to the model.
type Query struct {
	Metric string
	Filter Filter
	// Window bounds the events of windowed metrics (throughput, lead and
	// cycle time, inflow).
	Window Window
	// Quantile for lead_time, cycle_time and wip_age (0 = DefaultQuantile).
	Quantile float64
	// ByPoints measures epic progress and sprint figures in story points.
	ByPoints bool
	// Epic is the epic key of epic_progress.
	Epic string
	// PointsField is the story-point field of epic_progress by points.
	PointsField string
	// Board is the board of sprint metrics.
	Board int
	// Sprints is how many of the board's latest closed sprints the sprint
	// metrics cover (0 = DefaultSprints).
	Sprints int
}

// Value answers a query at now. ok is false when the metric has no value
// (an empty set, no closed sprint); err says why a query cannot be
// answered at all.
//
// Sprint metrics over several sprints: commitment, completed, added and
// velocity are the mean per sprint; the say/do ratio is the sum of
// completed over the sum of committed (a mean weighted by commitment, so
// that a tiny sprint does not swing it).
func (m *Model) Value(q Query, now time.Time) (v float64, ok bool, err error) {
	qt := q.Quantile
	if qt == 0 {
		qt = DefaultQuantile
	}
	switch q.Metric {
	case MetricThroughput:
		return float64(m.Throughput(q.Filter, q.Window)), true, nil
	case MetricInflow:
		return float64(m.Inflow(q.Filter, q.Window)), true, nil
	case MetricWIP:
		return float64(m.WIP(q.Filter)), true, nil
	case MetricLeadTime:
		v, ok := quantile.Of(m.LeadTimes(q.Filter, q.Window), qt)
		return v, ok, nil
	case MetricCycleTime:
		v, ok := quantile.Of(m.CycleTimes(q.Filter, q.Window), qt)
		return v, ok, nil
	case MetricWIPAge:
		v, ok := quantile.Of(m.WIPAges(q.Filter, now), qt)
		return v, ok, nil
	case MetricWIPAgeMax:
		v, ok := quantile.Of(m.WIPAges(q.Filter, now), 1)
		return v, ok, nil
	case MetricEpicProgress:
		field := ""
		if q.ByPoints {
			if q.PointsField == "" {
				return 0, false, fmt.Errorf("epic progress by points needs a story-point field: set story_points_field on the source or bind a board that estimates in points")
			}
			field = q.PointsField
		}
		v, ok := m.EpicProgress(q.Epic, field)
		return v, ok, nil
	}
	if !IsSprintMetric(q.Metric) {
		return 0, false, fmt.Errorf("unknown Jira metric %q", q.Metric)
	}
	b, found := m.boards[q.Board]
	if !found {
		return 0, false, fmt.Errorf("board %d is not among the source's boards", q.Board)
	}
	points := q.ByPoints || q.Metric == MetricVelocity
	if points && b.PointsField == "" {
		return 0, false, fmt.Errorf("board %d (%s) does not estimate in story points; set story_points_field on the source or use by = \"count\"", b.ID, b.Name)
	}
	n := q.Sprints
	if n <= 0 {
		n = DefaultSprints
	}
	reports := m.SprintReports(m.ClosedSprints(b.ID, n))
	if len(reports) == 0 {
		return 0, false, nil
	}
	var sum, num, den float64
	for _, r := range reports {
		switch q.Metric {
		case MetricSprintCommitment:
			sum += pick(points, r.CommittedPoints, r.Committed)
		case MetricSprintCompleted:
			sum += pick(points, r.CompletedPoints, r.Completed)
		case MetricSprintAdded:
			sum += pick(points, r.AddedPoints, r.Added)
		case MetricVelocity:
			sum += r.Velocity
		case MetricSprintSayDo:
			num += pick(points, r.CompletedPoints, r.Completed)
			den += pick(points, r.CommittedPoints, r.Committed)
		}
	}
	if q.Metric == MetricSprintSayDo {
		if den == 0 {
			return 0, false, nil
		}
		return num / den, true, nil
	}
	return sum / float64(len(reports)), true, nil
}

func pick(points bool, p float64, n int) float64 {
	if points {
		return p
	}
	return float64(n)
}
