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
	MetricOpenIssues       = "open_issues"
	MetricEpicProgress     = "epic_progress"
	MetricJQLCount         = "jql_count"
	MetricSprintCommitment = "sprint_commitment"
	MetricSprintCompleted  = "sprint_completed"
	MetricSprintAdded      = "sprint_added"
	MetricSprintSayDo      = "sprint_say_do_ratio"
	MetricVelocity         = "velocity"
)

// MetricInvestmentShare is in investment.go.

// Metrics lists every metric name, in documentation order.
var Metrics = []string{
	MetricThroughput, MetricLeadTime, MetricCycleTime, MetricWIP, MetricWIPAge, MetricWIPAgeMax,
	MetricInflow, MetricOpenIssues, MetricEpicProgress, MetricJQLCount, MetricSprintCommitment, MetricSprintCompleted,
	MetricSprintAdded, MetricSprintSayDo, MetricVelocity, MetricInvestmentShare,
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
	// Boards, when set, replace Board: the sprint metrics of a team cover
	// the latest closed sprints of each of its boards (Board's order),
	// combined as one board's.
	Boards []int
	// Sprints is how many of the board's latest closed sprints the sprint
	// metrics cover (0 = DefaultSprints).
	Sprints int
	// Investment and Category are the investment balance and the category
	// of investment_share.
	Investment *Investment
	Category   string
}

// Value answers a query at now, over the records as they stood at now
// (METRICS.md, "History: every metric at a past instant"): an issue
// created after now does not exist yet, statuses, done and start times,
// sprint membership and estimates are those the histories give at now,
// and a sprint completed after now is not closed yet. With now after
// every record it is the value of the latest records. ok is false when
// the metric has no value (an empty set, no closed sprint); err says why
// a query cannot be answered at all.
//
// Sprint metrics over several sprints: commitment, completed, added and
// velocity are the mean per sprint; the say/do ratio is the sum of
// completed over the sum of committed (a mean weighted by commitment, so
// that a tiny sprint does not swing it).
func (m *Model) Value(q Query, now time.Time) (v float64, ok bool, err error) {
	qt := q.quantile()
	switch q.Metric {
	case MetricThroughput:
		return float64(m.Throughput(q.Filter, q.Window, now)), true, nil
	case MetricInflow:
		return float64(m.Inflow(q.Filter, q.Window, now)), true, nil
	case MetricWIP:
		return float64(m.WIP(q.Filter, now)), true, nil
	case MetricOpenIssues:
		return float64(m.OpenIssues(q.Filter, now)), true, nil
	case MetricLeadTime:
		v, ok := quantile.Of(m.LeadTimes(q.Filter, q.Window, now), qt)
		return v, ok, nil
	case MetricCycleTime:
		v, ok := quantile.Of(m.CycleTimes(q.Filter, q.Window, now), qt)
		return v, ok, nil
	case MetricWIPAge:
		v, ok := quantile.Of(m.WIPAges(q.Filter, now), qt)
		return v, ok, nil
	case MetricWIPAgeMax:
		v, ok := quantile.Of(m.WIPAges(q.Filter, now), 1)
		return v, ok, nil
	case MetricEpicProgress:
		field, err := q.epicField()
		if err != nil {
			return 0, false, err
		}
		v, ok := m.EpicProgress(q.Epic, field, now)
		return v, ok, nil
	case MetricInvestmentShare:
		ci, err := q.investmentCategory()
		if err != nil {
			return 0, false, err
		}
		per, total := m.InvestmentOf(q.Investment, q.Filter, q.Window, now)
		v, ok := investmentShare(per, total, ci)
		return v, ok, nil
	}
	boards, err := m.sprintBoards(q)
	if err != nil {
		return 0, false, err
	}
	var sprints []*Sprint
	for _, b := range boards {
		sprints = append(sprints, m.closedSprintsAt(b.ID, q.sprints(), nanos(now))...)
	}
	reports := m.sprintReportsAt(sprints, nanos(now))
	v, ok = sprintValue(q, reports)
	return v, ok, nil
}

// boards are the boards of a sprint query: Boards, or Board.
func (q Query) boards() []int {
	if len(q.Boards) > 0 {
		return q.Boards
	}
	return []int{q.Board}
}

// sprintBoards checks a sprint query and returns its boards.
func (m *Model) sprintBoards(q Query) ([]*Board, error) {
	var out []*Board
	for _, id := range q.boards() {
		qb := q
		qb.Board = id
		b, err := m.sprintBoard(qb)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

func (q Query) quantile() float64 {
	if q.Quantile == 0 {
		return DefaultQuantile
	}
	return q.Quantile
}

func (q Query) sprints() int {
	if q.Sprints <= 0 {
		return DefaultSprints
	}
	return q.Sprints
}

// points reports whether a sprint query measures story points.
func (q Query) points() bool { return q.ByPoints || q.Metric == MetricVelocity }

// epicField is the story-point field of an epic progress query ("" by
// count).
func (q Query) epicField() (string, error) {
	if !q.ByPoints {
		return "", nil
	}
	if q.PointsField == "" {
		return "", fmt.Errorf("epic progress by points needs a story-point field: set story_points_field on the source or bind a board that estimates in points")
	}
	return q.PointsField, nil
}

// sprintBoard checks a sprint query and returns its board; it is also
// where a query that is no metric at all ends up.
func (m *Model) sprintBoard(q Query) (*Board, error) {
	if !IsSprintMetric(q.Metric) {
		return nil, fmt.Errorf("unknown Jira metric %q", q.Metric)
	}
	b, found := m.boards[q.Board]
	if !found {
		return nil, fmt.Errorf("board %d is not among the source's boards", q.Board)
	}
	if q.points() && b.PointsField == "" {
		return nil, fmt.Errorf("board %d (%s) does not estimate in story points; set story_points_field on the source or use by = \"count\"", b.ID, b.Name)
	}
	return b, nil
}

// sprintValue combines the reports of the sprints a query covers, latest
// first.
func sprintValue(q Query, reports []SprintReport) (float64, bool) {
	if len(reports) == 0 {
		return 0, false
	}
	points := q.points()
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
			return 0, false
		}
		return num / den, true
	}
	return sum / float64(len(reports)), true
}

func pick(points bool, p float64, n int) float64 {
	if points {
		return p
	}
	return float64(n)
}
