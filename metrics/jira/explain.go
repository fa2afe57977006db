package jira

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/okrd/okrd/metrics/explain"
)

// ErrLive is the answer of Explain for a metric that is asked of Jira
// live (a JQL count): no stored record makes it.
var ErrLive = errors.New("the value is a live count of a JQL query, asked of Jira at each poll: no stored records make it, so there are none to list")

// Explained is a metric's value with the issues it is made of, each with
// its contribution. The issues are those the value's own selection picks
// (eachDone, eachWIP, eachCreated, eachChild, the sprint reports'
// contributions), so the two cannot disagree.
type Explained struct {
	Metric   string
	Value    float64
	OK       bool
	Window   Window // the window of a windowed metric
	Windowed bool
	Quantile float64
	Rule     explain.Rule
	Divisor  float64 // Sum: 1 for a count, the number of sprints for a mean per sprint
	// Points says whether a sprint or epic figure is in story points.
	Points bool
	// Exactly one of these holds the rows.
	Issues       []IssueRow
	SprintIssues []SprintIssueRow
	// Sprints are the closed sprints a sprint metric covers, latest first.
	Sprints []*Sprint
}

// IssueRow is an issue and what it adds to a flow metric or an epic's
// progress, as it stood at the instant.
type IssueRow struct {
	Key, Project, Type string
	Created            time.Time
	// Start and Done are its start and done time (zero: none at the
	// instant); Status its status then.
	Start, Done time.Time
	Status      string
	// Contribution is 1 for a count, the duration in seconds for a lead
	// or cycle time or an age, and for an epic's progress the child's
	// weight when it is done (0 when not); Weight its weight (1, or its
	// story points).
	Contribution, Weight float64
	Mark                 explain.Mark
}

// SprintIssueRow is what an issue adds to one closed sprint's report.
type SprintIssueRow struct {
	Sprint    *Sprint
	Key, Type string
	// Committed: in the sprint at its start; Added: joined after it;
	// Removed: committed and no longer in it at completion; Completed:
	// committed, still in it and done at completion.
	Committed, Added, Removed, Completed bool
	// DoneAtEnd: in the sprint and done at completion (committed or
	// added), what velocity counts.
	DoneAtEnd bool
	// StartPoints and EndPoints are its estimates at the start and the
	// completion (0 without one).
	StartPoints, EndPoints float64
	Contribution, Weight   float64
}

// Explain lists the issues behind the value of q at now, with the same
// arguments and the same value as Value. A JQL count has no records
// (ErrLive).
func (m *Model) Explain(q Query, now time.Time) (Explained, error) {
	if q.Metric == MetricJQLCount {
		return Explained{}, ErrLive
	}
	v, ok, err := m.Value(q, now)
	if err != nil {
		return Explained{}, err
	}
	e := Explained{Metric: q.Metric, Value: v, OK: ok, Rule: explain.Sum, Divisor: 1}
	if !ok {
		e.Value = 0
	}
	t := nanos(now)
	var dv view
	issue := func(i int, x *fact) IssueRow {
		m.decode(x, &dv)
		r := IssueRow{Key: m.keys.key(i), Project: m.projects.strs[x.proj], Type: m.types.strs[x.typ],
			Created: fromNanos(x.created), Status: m.statuses.list[dv.statusAt(t)].Name, Weight: 1}
		if x.start != never && x.start <= t {
			r.Start = fromNanos(x.start)
		}
		return r
	}
	switch q.Metric {
	case MetricThroughput, MetricLeadTime, MetricCycleTime:
		e.Window, e.Windowed = q.Window, true
		m.eachDone(q.Filter, q.Window, now, func(i int, x *fact, s stretch) {
			r := issue(i, x)
			r.Done = fromNanos(s.at)
			switch q.Metric {
			case MetricThroughput:
				r.Contribution = 1
			case MetricLeadTime:
				r.Contribution = x.lead(s)
			case MetricCycleTime:
				if !x.cycles(s) {
					return
				}
				r.Contribution = x.cycle(s)
			}
			e.Issues = append(e.Issues, r)
		})
	case MetricInflow:
		e.Window, e.Windowed = q.Window, true
		m.eachCreated(q.Filter, q.Window, now, func(i int) {
			r := issue(i, &m.facts[i])
			r.Contribution = 1
			e.Issues = append(e.Issues, r)
		})
	case MetricWIP, MetricWIPAge, MetricWIPAgeMax:
		m.eachWIP(q.Filter, now, func(i int, x *fact, age float64) {
			r := issue(i, x)
			r.Contribution = 1
			if q.Metric != MetricWIP {
				r.Contribution = age
			}
			e.Issues = append(e.Issues, r)
		})
	case MetricInvestmentShare:
		ci, err := q.investmentCategory()
		if err != nil {
			return Explained{}, err
		}
		e.Window, e.Windowed, e.Rule, e.Points = q.Window, true, explain.Ratio, q.Investment.PointsField != ""
		c := m.classifier(q.Investment)
		var wv view
		m.eachDone(q.Filter, q.Window, now, func(i int, x *fact, s stretch) {
			r := issue(i, x)
			r.Done = fromNanos(s.at)
			r.Weight = c.weight(x, s.at, &wv)
			if c.category(x) == ci {
				r.Contribution = r.Weight
			}
			e.Issues = append(e.Issues, r)
		})
	case MetricOpenIssues:
		m.eachOpen(q.Filter, now, func(i int, x *fact, _ *view) {
			r := issue(i, x)
			r.Contribution = 1
			e.Issues = append(e.Issues, r)
		})
	case MetricEpicProgress:
		field, _ := q.epicField() // Value checked it
		e.Rule, e.Points = explain.Ratio, field != ""
		m.eachChild(m.epicChildren(q.Epic), field, now, func(i int32, v *view, w float64, done bool) {
			x := &m.facts[i]
			r := IssueRow{Key: m.keys.key(int(i)), Project: m.projects.strs[x.proj], Type: m.types.strs[x.typ],
				Created: fromNanos(x.created), Status: m.statuses.list[v.statusAt(t)].Name, Weight: w}
			if x.start != never && x.start <= t {
				r.Start = fromNanos(x.start)
			}
			if done {
				r.Contribution = w
				if s, ok := doneAt(v.done, t); ok {
					r.Done = fromNanos(s.at)
				}
			}
			e.Issues = append(e.Issues, r)
		})
	default:
		b, err := m.sprintBoard(q)
		if err != nil {
			return Explained{}, err
		}
		e.Points = q.points()
		e.Sprints = m.closedSprintsAt(b.ID, q.sprints(), t)
		e.Divisor = float64(len(e.Sprints))
		if q.Metric == MetricSprintSayDo {
			e.Rule = explain.Ratio
		}
		sprints := e.Sprints
		m.eachSprintContribution(sprints, t, nil, func(ri, fi int, c contrib) {
			r := SprintIssueRow{Sprint: sprints[ri], Key: m.keys.key(fi), Type: m.types.strs[m.facts[fi].typ],
				Committed: c.committed, Added: !c.committed && c.added, Removed: c.committed && !c.atEnd,
				Completed: c.committed && c.doneAtEnd, DoneAtEnd: c.doneAtEnd, StartPoints: c.startPoints, EndPoints: c.endPoints}
			count := func(yes bool, points float64) float64 {
				switch {
				case !yes:
					return 0
				case e.Points:
					return points
				}
				return 1
			}
			switch q.Metric {
			case MetricSprintCommitment:
				r.Contribution = count(r.Committed, r.StartPoints)
			case MetricSprintCompleted:
				r.Contribution = count(r.Completed, r.EndPoints)
			case MetricSprintAdded:
				r.Contribution = count(r.Added, r.EndPoints)
			case MetricVelocity:
				r.Contribution = count(r.DoneAtEnd, r.EndPoints)
			case MetricSprintSayDo:
				r.Contribution = count(r.Completed, r.EndPoints)
				r.Weight = count(r.Committed, r.StartPoints)
			}
			e.SprintIssues = append(e.SprintIssues, r)
		})
	}
	switch q.Metric {
	case MetricLeadTime, MetricCycleTime, MetricWIPAge:
		e.Rule, e.Quantile = explain.Quantile, q.quantile()
		e.mark(e.Quantile)
	case MetricWIPAgeMax:
		e.Rule = explain.Max
		e.mark(1)
	}
	return e, nil
}

func (e *Explained) mark(q float64) {
	vals := make([]float64, len(e.Issues))
	for i, r := range e.Issues {
		vals[i] = r.Contribution
	}
	for i, mk := range explain.MarkQuantile(vals, q) {
		e.Issues[i].Mark = mk
	}
}

var units = map[string]string{
	MetricThroughput: "count", MetricLeadTime: "seconds", MetricCycleTime: "seconds", MetricWIP: "count",
	MetricWIPAge: "seconds", MetricWIPAgeMax: "seconds", MetricInflow: "count", MetricEpicProgress: "ratio",
	MetricSprintCommitment: "issues per sprint", MetricSprintCompleted: "issues per sprint", MetricSprintAdded: "issues per sprint",
	MetricSprintSayDo: "ratio", MetricVelocity: "points per sprint",
}

var contributionTitles = map[string]string{
	MetricLeadTime: "lead time", MetricCycleTime: "cycle time", MetricWIPAge: "age", MetricWIPAgeMax: "age",
}

// Table turns the rows into the shape the API, the page and okrd explain
// show; link gives an issue's address ("" for none).
func (e *Explained) Table(link func(key string) string) explain.Explanation {
	out := explain.Explanation{Metric: e.Metric, Value: e.Value, HasValue: e.OK, Unit: units[e.Metric], Rule: e.Rule,
		Quantile: e.Quantile, Divisor: e.Divisor}
	if e.Points && IsSprintMetric(e.Metric) && e.Metric != MetricSprintSayDo {
		out.Unit = "points per sprint"
	}
	if e.Windowed {
		out.Window = &explain.Window{From: e.Window.From.UTC(), To: e.Window.To.UTC()}
	}
	mk := func(key string) string {
		if link == nil {
			return ""
		}
		return link(key)
	}
	if IsSprintMetric(e.Metric) {
		out.Columns = []explain.Column{
			{Key: "sprint", Title: "sprint", Kind: explain.Text},
			{Key: "sprint_completed", Title: "sprint completed", Kind: explain.Time},
			{Key: "key", Title: "issue", Kind: explain.Text},
			{Key: "type", Title: "type", Kind: explain.Text},
			{Key: "committed", Title: "committed", Kind: explain.Bool},
			{Key: "added", Title: "added", Kind: explain.Bool},
			{Key: "removed", Title: "removed", Kind: explain.Bool},
			{Key: "completed", Title: "completed", Kind: explain.Bool},
			{Key: "start_points", Title: "points at start", Kind: explain.Number},
			{Key: "end_points", Title: "points at completion", Kind: explain.Number},
			{Key: "value", Title: "counts", Kind: explain.Number},
		}
		for _, r := range e.SprintIssues {
			var done time.Time
			if r.Sprint.Complete != nil {
				done = r.Sprint.Complete.UTC()
			}
			out.Rows = append(out.Rows, explain.Row{Values: []any{r.Sprint.Name, done, r.Key, r.Type, r.Committed, r.Added, r.Removed, r.Completed,
				r.StartPoints, r.EndPoints, r.Contribution}, Link: mk(r.Key), Contribution: r.Contribution, Weight: r.Weight, At: done})
		}
		out.How = e.how()
		return out
	}
	out.Columns = []explain.Column{
		{Key: "key", Title: "issue", Kind: explain.Text},
		{Key: "type", Title: "type", Kind: explain.Text},
		{Key: "status", Title: "status", Kind: explain.Text},
		{Key: "created", Title: "created", Kind: explain.Time},
		{Key: "start", Title: "start", Kind: explain.Time},
		{Key: "done", Title: "done", Kind: explain.Time},
	}
	kind, title := explain.Number, "counts"
	if t, ok := contributionTitles[e.Metric]; ok {
		kind, title = explain.Duration, t
	}
	if e.Metric == MetricEpicProgress {
		out.Columns = append(out.Columns, explain.Column{Key: "weight", Title: "weight", Kind: explain.Number})
		title = "done weight"
	}
	out.Columns = append(out.Columns, explain.Column{Key: "value", Title: title, Kind: kind})
	for _, r := range e.Issues {
		vals := []any{r.Key, r.Type, r.Status, r.Created, r.Start, r.Done}
		if e.Metric == MetricEpicProgress {
			vals = append(vals, r.Weight)
		}
		at := r.Done
		if at.IsZero() {
			at = r.Created
		}
		out.Rows = append(out.Rows, explain.Row{Values: append(vals, r.Contribution), Link: mk(r.Key), Contribution: r.Contribution,
			Weight: r.Weight, Mark: r.Mark, At: at})
	}
	out.How = e.how()
	return out
}

func (e *Explained) how() string {
	n := len(e.Issues) + len(e.SprintIssues)
	switch e.Rule {
	case explain.Quantile:
		return fmt.Sprintf("the p%s of the rows' values (%d issues; linear interpolation between the closest ranks, the marked rows are the ones it reads)",
			strconv.FormatFloat(e.Quantile*100, 'f', -1, 64), n)
	case explain.Max:
		return fmt.Sprintf("the largest of the rows' ages (%d issues in progress)", n)
	case explain.Ratio:
		if e.Metric == MetricSprintSayDo {
			return fmt.Sprintf("completed over committed, summed over the %d sprints' rows", len(e.Sprints))
		}
		return fmt.Sprintf("the done children's weight over all %d children's weight", n)
	}
	if IsSprintMetric(e.Metric) {
		return fmt.Sprintf("the sum of the rows' counts divided by the %d sprints (a mean per sprint)", len(e.Sprints))
	}
	return fmt.Sprintf("the number of rows (%d)", n)
}
