package github

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/okrd/okrd/metrics/explain"
)

// Explained is a metric's value with the records it is made of, each
// with its contribution (METRICS.md's definitions, read backwards). The
// rows come from the same selections of the index as the value: the
// window's bounds over the same sorted series, the same outcomes and
// blames as of now, the same open and draft stretches.
type Explained struct {
	Metric   string
	Value    float64
	OK       bool
	Window   Window // the window the value is over (windowed metrics)
	Windowed bool
	Quantile float64 // distribution metrics and the levels judged by a median
	Rule     explain.Rule
	Divisor  float64 // Sum: 1 for a count, the days of the window for a frequency
	Of       string  // Level: the key the level judges
	// Exactly one of these holds the rows.
	PullRequests []PRRow
	Deployments  []DeployRow
	Incidents    []IncidentRow
}

// PRRow is a pull request and what it adds to a value.
type PRRow struct {
	PullRequest PullRequest
	// DeployedBy and DeployedAt are, for lead time, the deployment that
	// deployed it (its ID) and its deploy time.
	DeployedBy string
	DeployedAt time.Time
	// Draft says whether it was a draft at the instant (open pull
	// requests).
	Draft        bool
	Contribution float64
	// Weight is what a row weighs in a ratio (investment_share: 1); 0
	// elsewhere.
	Weight float64
	Mark   explain.Mark
}

// DeployRow is a deployment and what it adds to a value.
type DeployRow struct {
	Deployment Deployment
	// Outcome is its outcome at the instant, At the time it counts at
	// (deploy time, or the failing status of a failure).
	Outcome Outcome
	At      time.Time
	// FailedChange is true for a failed deployment and for a successful
	// one an incident opened by the instant is attributed to (BlamedBy,
	// the first such incident's ID).
	FailedChange bool
	BlamedBy     string
	Contribution float64
	Weight       float64
}

// IncidentRow is an incident and what it adds to a value.
type IncidentRow struct {
	Incident Incident
	// Attributed is the ID of the deployment the incident is attributed
	// to (the latest successful one before it opened, within the
	// attribution window); "" when none.
	Attributed   string
	Contribution float64
	Mark         explain.Mark
}

// ExplainInvestment lists the pull requests behind investment_share of a
// category: those merged in the window as of now, each weighing 1 and
// contributing 1 when it is of the category, so that their ratio is the
// value InvestmentShare gives.
func (ix *Index) ExplainInvestment(repo, category string, w Window, now time.Time) (Explained, error) {
	v, ok, err := ix.InvestmentShare(repo, category, w, now)
	if err != nil {
		return Explained{}, err
	}
	w = w.upTo(now)
	e := Explained{Metric: MetricInvestmentShare, Window: w, Windowed: true, Rule: explain.Ratio, Divisor: 1, Value: v, OK: ok}
	s := ix.Scope(repo)
	if s == nil {
		return e, nil
	}
	ci := -1
	for i, n := range ix.investment.Names() {
		if n == category {
			ci = i
		}
	}
	lo, hi := s.mergedRange(w)
	for _, mp := range s.merged[lo:hi] {
		row := PRRow{PullRequest: ix.data.PullRequests[mp.ref], Weight: 1}
		if int(mp.cat) == ci {
			row.Contribution = 1
		}
		e.PullRequests = append(e.PullRequests, row)
	}
	return e, nil
}

// Explain lists the records behind the value of a metric for a scope (a
// repository, "" for the whole source) over w, as the records stood at
// now, with the same arguments and the same value as Value. A scope the
// index does not know has no value and no rows.
func (ix *Index) Explain(metric, repo string, w Window, q float64, now time.Time) (Explained, error) {
	m, known := LookupMetric(metric)
	if !known {
		return Explained{}, fmt.Errorf("unknown metric %q; known: %s", metric, MetricNames())
	}
	if !m.Distribution {
		q = DefaultQuantile
	}
	w = w.upTo(now)
	e := Explained{Metric: metric, Window: w, Windowed: m.Windowed, Rule: explain.Sum, Divisor: 1}
	if m.Distribution {
		e.Rule, e.Quantile = explain.Quantile, q
	}
	s := ix.Scope(repo)
	if s == nil {
		return e, nil
	}
	e.Value, e.OK = s.value(metric, w, q, now)
	if !e.OK {
		e.Value = 0
	}
	key := metric
	if k, ok := levelKeys[metric]; ok {
		key = k
		e.Rule, e.Of = explain.Level, k
		if k == KeyLeadTime || k == KeyTimeToRestore {
			e.Quantile = 0.5
		}
	}
	t := now.UnixNano()
	switch key {
	case MetricDeploymentFrequency, MetricDeploymentCount:
		if key == MetricDeploymentFrequency {
			e.Divisor = w.Days()
		}
		for _, d := range ix.deployRows(s, w, t) {
			if d.Outcome == Succeeded {
				d.Contribution = 1
				e.Deployments = append(e.Deployments, d)
			}
		}
	case MetricChangeFailureRate:
		if e.Rule != explain.Level {
			e.Rule = explain.Ratio
		}
		for _, d := range ix.deployRows(s, w, t) {
			d.Weight = 1
			if d.FailedChange {
				d.Contribution = 1
			}
			e.Deployments = append(e.Deployments, d)
		}
	case MetricLeadTime:
		for _, p := range pointsIn(s.lead, w) {
			pr := ix.data.PullRequests[p.ref]
			row := PRRow{PullRequest: pr, DeployedAt: time.Unix(0, p.t).UTC(), Contribution: p.v}
			row.DeployedBy = ix.deployedBy(pr, p.t)
			e.PullRequests = append(e.PullRequests, row)
		}
	case MetricTimeToRestore, MetricIncidentsResolved:
		for _, p := range pointsIn(s.restore, w) {
			in := ix.data.Incidents[p.ref]
			row := IncidentRow{Incident: in, Contribution: p.v, Attributed: ix.attributed(in)}
			if key == MetricIncidentsResolved {
				row.Contribution = 1
			}
			e.Incidents = append(e.Incidents, row)
		}
	case MetricPRThroughput, MetricPRCycleTime, MetricPRSize:
		lo, hi := s.mergedRange(w)
		for _, mp := range s.merged[lo:hi] {
			row := PRRow{PullRequest: ix.data.PullRequests[mp.ref], Contribution: 1}
			switch key {
			case MetricPRCycleTime:
				row.Contribution = mp.cycle
			case MetricPRSize:
				row.Contribution = mp.size
			}
			e.PullRequests = append(e.PullRequests, row)
		}
	case MetricTimeToFirstReview:
		for _, p := range pointsIn(s.review, w) {
			e.PullRequests = append(e.PullRequests, PRRow{PullRequest: ix.data.PullRequests[p.ref], Contribution: p.v})
		}
	case MetricOpenPRs, MetricOpenDraftPRs, MetricOldestOpenPRAge:
		var stretches []openSpan
		for _, ref := range s.prs {
			pr := ix.data.PullRequests[ref]
			life := openSpan{created: pr.CreatedAt.UnixNano(), end: openEnd(pr)}
			if !(life.created <= t && t < life.end) {
				continue
			}
			draft := false
			stretches = draftStretches(stretches[:0], pr, life)
			for _, st := range stretches {
				if st.created <= t && t < st.end {
					draft = true
				}
			}
			row := PRRow{PullRequest: pr, Draft: draft, Contribution: 1}
			switch key {
			case MetricOpenDraftPRs:
				if !draft {
					continue
				}
			case MetricOldestOpenPRAge:
				row.Contribution = seconds(now.Sub(time.Unix(0, life.created)))
			}
			e.PullRequests = append(e.PullRequests, row)
		}
		if key == MetricOldestOpenPRAge {
			e.Rule = explain.Max
		}
	}
	switch {
	case e.Rule == explain.Max:
		e.mark(1)
	case e.Rule == explain.Quantile, e.Rule == explain.Level && e.Quantile > 0:
		e.mark(e.Quantile)
	}
	return e, nil
}

// mark marks the rows a quantile reads and their neighbours.
func (e *Explained) mark(q float64) {
	switch {
	case len(e.PullRequests) > 0:
		vals := make([]float64, len(e.PullRequests))
		for i, r := range e.PullRequests {
			vals[i] = r.Contribution
		}
		for i, mk := range explain.MarkQuantile(vals, q) {
			e.PullRequests[i].Mark = mk
		}
	case len(e.Incidents) > 0:
		vals := make([]float64, len(e.Incidents))
		for i, r := range e.Incidents {
			vals[i] = r.Contribution
		}
		for i, mk := range explain.MarkQuantile(vals, q) {
			e.Incidents[i].Mark = mk
		}
	}
}

// deployRows are the deployments counted in w as they stood at t (Unix
// nanoseconds): the same bounds, outcomes and blames as DeploymentsAt.
func (ix *Index) deployRows(s *Scope, w Window, t int64) []DeployRow {
	var out []DeployRow
	lo, hi := bounds(len(s.deploys), func(i int) int64 { return s.deploys[i].t }, w)
	for _, d := range s.deploys[lo:hi] {
		row := DeployRow{Deployment: ix.data.Deployments[d.ref], Outcome: d.outcome, At: time.Unix(0, d.t).UTC()}
		switch {
		case d.outcome == Failed:
			row.FailedChange = true
		case d.blamedAt <= t:
			row.FailedChange = true
			row.BlamedBy = ix.data.Incidents[d.blamer].ID
		}
		out = append(out, row)
	}
	// A failed outcome that a later status replaced, still holding at t.
	plo, phi := bounds(len(s.past), func(i int) int64 { return s.past[i].t }, w)
	for _, p := range s.past[plo:phi] {
		if p.until > t {
			out = append(out, DeployRow{Deployment: ix.data.Deployments[p.ref], Outcome: Failed, At: time.Unix(0, p.t).UTC(), FailedChange: true})
		}
	}
	return out
}

// deployedBy is the ID of the successful deployment of a pull request's
// repository whose deploy time is at (the first at or after its merge).
func (ix *Index) deployedBy(pr PullRequest, at int64) string {
	s := ix.Scope(pr.Repo)
	if s == nil {
		return ""
	}
	i := sort.Search(len(s.deploys), func(i int) bool { return s.deploys[i].t >= at })
	for ; i < len(s.deploys) && s.deploys[i].t == at; i++ {
		if s.deploys[i].outcome == Succeeded {
			return ix.data.Deployments[s.deploys[i].ref].ID
		}
	}
	return ""
}

// attributed is the ID of the deployment an incident is attributed to:
// the latest successful deployment strictly before it opened, of its
// repository (of any repository for an incident of the whole source),
// within the attribution window.
func (ix *Index) attributed(in Incident) string {
	s := ix.Scope(in.Repo)
	if s == nil {
		return ""
	}
	opened := in.OpenedAt.UnixNano()
	i := sort.Search(len(s.deploys), func(i int) bool { return s.deploys[i].t >= opened })
	for i--; i >= 0; i-- {
		d := s.deploys[i]
		if d.outcome != Succeeded {
			continue
		}
		if opened-d.t <= s.attribution {
			return ix.data.Deployments[d.ref].ID
		}
		break
	}
	return ""
}

// Links make the addresses of records on GitHub; a nil func gives none.
type Links struct {
	PullRequest func(repo string, number int) string
	Deployment  func(d Deployment) string
}

// metricUnits are the units of the contributions.
var contributionTitles = map[string]string{
	MetricLeadTime: "lead time", MetricTimeToRestore: "time to restore", MetricPRCycleTime: "cycle time",
	MetricPRSize: "size (lines)", MetricTimeToFirstReview: "time to first review", MetricOldestOpenPRAge: "age",
}

// Table turns the rows into the shape the API, the page and okrd explain
// show, with links from l.
func (e *Explained) Table(l Links) explain.Explanation {
	m, _ := LookupMetric(e.Metric)
	out := explain.Explanation{Metric: e.Metric, Value: e.Value, HasValue: e.OK, Unit: m.Unit, Rule: e.Rule,
		Quantile: e.Quantile, Divisor: e.Divisor, Of: e.Of}
	if e.Windowed {
		out.Window = &explain.Window{From: e.Window.From.UTC(), To: e.Window.To.UTC()}
	}
	if e.Rule != explain.Quantile && e.Rule != explain.Level {
		out.Quantile = 0
	}
	contrib := contributionTitles[e.Metric]
	if contrib == "" {
		contrib = contributionTitles[e.Of]
	}
	durationish := e.Metric != MetricPRSize && contrib != ""
	switch {
	case len(e.Deployments) > 0 || strings.Contains(e.Metric, "deployment") || strings.HasSuffix(e.Metric, "change_failure_rate"):
		out.Columns = []explain.Column{
			{Key: "repository", Title: "repository", Kind: explain.Text},
			{Key: "deployment", Title: "deployment", Kind: explain.Text},
			{Key: "ref", Title: "ref", Kind: explain.Text},
			{Key: "environment", Title: "environment", Kind: explain.Text},
			{Key: "status", Title: "status", Kind: explain.Text},
			{Key: "at", Title: "time", Kind: explain.Time},
			{Key: "failed_change", Title: "failed change", Kind: explain.Bool},
			{Key: "incident", Title: "caused incident", Kind: explain.Text},
		}
		for _, d := range e.Deployments {
			row := explain.Row{Values: []any{d.Deployment.Repo, d.Deployment.ID, d.Deployment.Ref, d.Deployment.Environment,
				d.Outcome.String(), d.At, d.FailedChange, d.BlamedBy}, Contribution: d.Contribution, Weight: d.Weight, At: d.At}
			if l.Deployment != nil {
				row.Link = l.Deployment(d.Deployment)
			}
			out.Rows = append(out.Rows, row)
		}
	case len(e.Incidents) > 0 || e.Metric == MetricTimeToRestore || e.Metric == MetricIncidentsResolved || e.Of == KeyTimeToRestore:
		out.Columns = []explain.Column{
			{Key: "repository", Title: "repository", Kind: explain.Text},
			{Key: "incident", Title: "incident", Kind: explain.Text},
			{Key: "title", Title: "title", Kind: explain.Text},
			{Key: "opened", Title: "opened", Kind: explain.Time},
			{Key: "closed", Title: "closed", Kind: explain.Time},
			{Key: "attributed_deployment", Title: "attributed deployment", Kind: explain.Text},
		}
		for _, in := range e.Incidents {
			out.Rows = append(out.Rows, explain.Row{Values: []any{in.Incident.Repo, in.Incident.ID, in.Incident.Title, in.Incident.OpenedAt.UTC(),
				in.Incident.ClosedAt.UTC(), in.Attributed}, Link: safeLink(in.Incident.URL), Contribution: in.Contribution, Mark: in.Mark, At: in.Incident.ClosedAt})
		}
	default:
		out.Columns = []explain.Column{
			{Key: "repository", Title: "repository", Kind: explain.Text},
			{Key: "number", Title: "number", Kind: explain.Number},
			{Key: "title", Title: "title", Kind: explain.Text},
			{Key: "created", Title: "created", Kind: explain.Time},
			{Key: "first_commit", Title: "first commit", Kind: explain.Time},
			{Key: "merged", Title: "merged", Kind: explain.Time},
			{Key: "first_review", Title: "first review", Kind: explain.Time},
			{Key: "deployed_by", Title: "deployed by", Kind: explain.Text},
			{Key: "deployed", Title: "deployed", Kind: explain.Time},
			{Key: "draft", Title: "draft", Kind: explain.Bool},
		}
		for _, p := range e.PullRequests {
			pr := p.PullRequest
			row := explain.Row{Values: []any{pr.Repo, pr.Number, pr.Title, pr.CreatedAt.UTC(), pr.FirstCommitAt.UTC(), pr.MergedAt.UTC(),
				pr.FirstReviewAt.UTC(), p.DeployedBy, p.DeployedAt, p.Draft}, Contribution: p.Contribution, Weight: p.Weight, Mark: p.Mark}
			row.At = pr.MergedAt
			if row.At.IsZero() {
				row.At = pr.CreatedAt
			}
			if l.PullRequest != nil {
				row.Link = l.PullRequest(pr.Repo, pr.Number)
			}
			out.Rows = append(out.Rows, row)
		}
	}
	if contrib != "" {
		kind := explain.Duration
		if !durationish {
			kind = explain.Number
		}
		out.Columns = append(out.Columns, explain.Column{Key: "value", Title: contrib, Kind: kind})
		for i := range out.Rows {
			out.Rows[i].Values = append(out.Rows[i].Values, out.Rows[i].Contribution)
		}
	}
	out.How = e.how()
	return out
}

// how says in a sentence how the rows make the value.
func (e *Explained) how() string {
	window := ""
	if e.Windowed {
		window = " in the window"
	}
	n := len(e.PullRequests) + len(e.Deployments) + len(e.Incidents)
	switch e.Rule {
	case explain.Quantile:
		return fmt.Sprintf("the %s quantile of the rows' values (%d rows; linear interpolation between the closest ranks, the marked rows are the ones it reads)", qName(e.Quantile), n)
	case explain.Max:
		return fmt.Sprintf("the largest of the rows' values (%d open pull requests)", n)
	case explain.Ratio:
		return fmt.Sprintf("failed changes / counted deployments%s: the rows whose failed change is true over all %d rows", window, n)
	case explain.Level:
		return fmt.Sprintf("the DORA level (1 low to 4 elite) of the %s that these rows give", strings.ReplaceAll(e.Of, "_", " "))
	}
	if e.Divisor != 1 {
		return fmt.Sprintf("the number of rows (%d) divided by the %s days of the window", n, strconv.FormatFloat(e.Divisor, 'f', -1, 64))
	}
	return fmt.Sprintf("the number of rows (%d)", n)
}

func qName(q float64) string { return "p" + strconv.FormatFloat(q*100, 'f', -1, 64) }

// safeLink keeps http(s) addresses only, so that a stored value cannot
// become a javascript: link on the page.
func safeLink(u string) string {
	if strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") {
		return u
	}
	return ""
}
