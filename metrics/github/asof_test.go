package github

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// The tests of this file prove METRICS.md's "History: every metric at a
// past instant" for every metric: the value at an instant t of the full
// index (Value with now = t, and History at t) equals a live measurement
// made with the clock at t over the records as they stood at t. The
// records as they stood at t are built here from raw events, by the rules
// docs/metrics.md states, without the index's own arrangement: a pull
// request exists once created, is merged or closed once merged_at or
// closed_at has passed, has the reviews submitted by t and the draft state
// of its last draft change by t; a deployment has the statuses created by
// t; a release counts once published, a workflow run once completed; an
// incident exists once opened and is resolved once closed.

// rawPR is a pull request as GitHub has it, with its whole history.
type rawPR struct {
	repo            string
	number          int
	author          string
	created         time.Time
	merged, closed  time.Time // zero when it is not (closed is a close without merge)
	intoDefault     bool
	firstCommit     time.Time
	reviews         []Review
	draftAtCreation bool
	draftChanges    []time.Time // ascending
	additions       int
	deletions       int
}

type rawDeployment struct {
	repo, id string
	statuses []DeploymentStatus // oldest first
}

type rawRelease struct {
	repo, id          string
	draft, prerelease bool
	published         time.Time
}

type rawRun struct {
	repo, id           string
	status, conclusion string
	updated            time.Time
}

// world is one source's raw history under one deployment signal.
type world struct {
	signal      string // deployments, releases, workflow_runs
	repos       []string
	prs         []rawPR
	deployments []rawDeployment
	releases    []rawRelease
	runs        []rawRun
	incidents   []Incident
	attribution time.Duration
}

// draftAt is the draft state of a pull request at t.
func (p rawPR) draftAt(t time.Time) bool {
	d := p.draftAtCreation
	for _, c := range p.draftChanges {
		if !c.After(t) {
			d = !d
		}
	}
	return d
}

// full is the records as they stand after everything happened, converted
// as the collector converts them.
func (w world) full() Data {
	d := Data{Repos: w.repos, Attribution: w.attribution}
	for _, p := range w.prs {
		pr := PullRequest{Repo: p.repo, Number: p.number, CreatedAt: p.created, IntoDefault: p.intoDefault, FirstCommitAt: p.firstCommit,
			FirstReviewAt: FirstReview(p.author, p.reviews), Additions: p.additions, Deletions: p.deletions,
			Draft: p.draftAt(time.Unix(0, math.MaxInt64)), DraftChanges: p.draftChanges, Labels: testLabels(p.number)}
		switch {
		case !p.merged.IsZero():
			pr.State, pr.MergedAt, pr.ClosedAt = PRMerged, p.merged, p.merged
		case !p.closed.IsZero():
			pr.State, pr.ClosedAt = PRClosed, p.closed
		}
		d.PullRequests = append(d.PullRequests, pr)
	}
	for _, dep := range w.deployments {
		d.Deployments = append(d.Deployments, StatusDeployment(dep.repo, dep.id, dep.statuses))
	}
	for _, r := range w.releases {
		o, at := ReleaseOutcome(r.draft, r.prerelease, r.published)
		d.Deployments = append(d.Deployments, Deployment{Repo: r.repo, ID: r.id, Outcome: o, At: at})
	}
	for _, r := range w.runs {
		o, at := WorkflowRunOutcome(r.status, r.conclusion, r.updated)
		d.Deployments = append(d.Deployments, Deployment{Repo: r.repo, ID: r.id, Outcome: o, At: at})
	}
	d.Incidents = w.incidents
	return d
}

// asOf is the records as a sync at t would have stored them, converted as
// a live measurement at t sees them.
func (w world) asOf(t time.Time) Data {
	d := Data{Repos: w.repos, Attribution: w.attribution}
	for _, p := range w.prs {
		if p.created.After(t) {
			continue
		}
		var reviews []Review
		for _, r := range p.reviews {
			if !r.SubmittedAt.IsZero() && !r.SubmittedAt.After(t) {
				reviews = append(reviews, r)
			}
		}
		pr := PullRequest{Repo: p.repo, Number: p.number, CreatedAt: p.created, IntoDefault: p.intoDefault, FirstCommitAt: p.firstCommit,
			FirstReviewAt: FirstReview(p.author, reviews), Additions: p.additions, Deletions: p.deletions, Draft: p.draftAt(t),
			Labels: testLabels(p.number)}
		switch {
		case !p.merged.IsZero() && !p.merged.After(t):
			pr.State, pr.MergedAt, pr.ClosedAt = PRMerged, p.merged, p.merged
		case !p.closed.IsZero() && !p.closed.After(t):
			pr.State, pr.ClosedAt = PRClosed, p.closed
		}
		d.PullRequests = append(d.PullRequests, pr)
	}
	for _, dep := range w.deployments {
		var sts []DeploymentStatus
		for _, s := range dep.statuses {
			if !s.CreatedAt.After(t) {
				sts = append(sts, s)
			}
		}
		o, at := DeploymentOutcome(sts)
		d.Deployments = append(d.Deployments, Deployment{Repo: dep.repo, ID: dep.id, Outcome: o, At: at})
	}
	for _, r := range w.releases {
		pub := r.published
		if pub.After(t) {
			pub = time.Time{} // not published yet
		}
		o, at := ReleaseOutcome(r.draft, r.prerelease, pub)
		d.Deployments = append(d.Deployments, Deployment{Repo: r.repo, ID: r.id, Outcome: o, At: at})
	}
	for _, r := range w.runs {
		status, conclusion := r.status, r.conclusion
		if r.updated.After(t) {
			status, conclusion = "in_progress", "" // still running at t
		}
		o, at := WorkflowRunOutcome(status, conclusion, r.updated)
		d.Deployments = append(d.Deployments, Deployment{Repo: r.repo, ID: r.id, Outcome: o, At: at})
	}
	for _, in := range w.incidents {
		if in.OpenedAt.After(t) {
			continue
		}
		if in.ClosedAt.After(t) {
			in.ClosedAt = time.Time{}
		}
		d.Incidents = append(d.Incidents, in)
	}
	return d
}

// genWorld makes a realistic, deliberately awkward history: times on whole
// seconds (as GitHub's), so that events share instants; retried and
// repeated failures, inactive deployments, same-second statuses; draft
// pull requests marked ready and converted back; reviews by the author and
// pending ones; incidents of repositories or of the whole source.
func genWorld(seed uint64, signal string, shared bool, start time.Time, days int) world {
	rng := rand.New(rand.NewPCG(seed, 99))
	span := time.Duration(days) * 24 * time.Hour
	at := func() time.Time { return start.Add(time.Duration(rng.Int64N(int64(span)))).Truncate(time.Second) }
	dur := func(max time.Duration) time.Duration {
		return time.Duration(rng.Int64N(int64(max))).Truncate(time.Second)
	}
	people := []string{"ann", "ben", "cat", "dan"}
	w := world{signal: signal, repos: []string{"acme/web", "acme/api", "acme/ops"}, attribution: time.Duration(3+rng.IntN(5)) * 24 * time.Hour}
	for i := range 420 {
		repo := w.repos[rng.IntN(3)]
		p := rawPR{repo: repo, number: i + 1, author: people[rng.IntN(4)], created: at(), intoDefault: rng.IntN(8) > 0,
			additions: rng.IntN(400), deletions: rng.IntN(150)}
		if rng.IntN(5) > 0 {
			p.firstCommit = p.created.Add(-dur(72 * time.Hour))
			if rng.IntN(20) == 0 {
				p.firstCommit = p.created.Add(dur(48 * time.Hour)) // clock skew: after the deploy, sometimes
			}
		}
		end := time.Time{}
		switch x := rng.IntN(10); {
		case x < 7:
			p.merged = p.created.Add(dur(10 * 24 * time.Hour))
			if rng.IntN(30) == 0 {
				p.merged = p.created // merged the second it was opened
			}
			end = p.merged
		case x < 8:
			p.closed = p.created.Add(dur(20 * 24 * time.Hour))
			end = p.closed
		}
		life := end.Sub(p.created)
		if end.IsZero() {
			life = start.Add(span).Sub(p.created)
		}
		if rng.IntN(4) == 0 {
			p.draftAtCreation = true
		}
		if life > 0 && rng.IntN(3) == 0 {
			for range 1 + rng.IntN(3) {
				p.draftChanges = append(p.draftChanges, p.created.Add(time.Duration(rng.Int64N(int64(life)+1)).Truncate(time.Second)))
			}
			slices.SortFunc(p.draftChanges, func(a, b time.Time) int { return a.Compare(b) })
		}
		for range rng.IntN(4) {
			r := Review{Author: people[rng.IntN(4)], State: []string{"APPROVED", "COMMENTED", "CHANGES_REQUESTED", "DISMISSED", "PENDING"}[rng.IntN(5)]}
			if r.State != "PENDING" {
				r.SubmittedAt = p.created.Add(dur(5 * 24 * time.Hour))
			}
			p.reviews = append(p.reviews, r)
		}
		w.prs = append(w.prs, p)
	}
	for i := range 160 {
		repo := w.repos[rng.IntN(3)]
		id := fmt.Sprint(i)
		t := at()
		switch signal {
		case "deployments":
			st := func(state string, t time.Time) DeploymentStatus { return DeploymentStatus{State: state, CreatedAt: t} }
			sts := []DeploymentStatus{st("queued", t)}
			t = t.Add(dur(3 * time.Minute))
			sts = append(sts, st("in_progress", t))
			t = t.Add(dur(20 * time.Minute))
			switch x := rng.IntN(20); {
			case x < 11:
				sts = append(sts, st("success", t))
				if rng.IntN(3) == 0 {
					sts = append(sts, st("inactive", t.Add(dur(5*24*time.Hour))))
				}
			case x < 13:
				sts = append(sts, st("failure", t))
			case x < 14:
				sts = append(sts, st("error", t), st("failure", t.Add(dur(time.Hour)))) // dated anew
			case x < 16:
				// Failed, then retried: a success after an hour or so.
				sts = append(sts, st("failure", t), st("in_progress", t.Add(time.Hour)), st("success", t.Add(time.Hour+dur(time.Hour))))
			case x < 17:
				// Failed, then a success in the same second as the failure.
				sts = append(sts, st("failure", t), st("success", t))
			case x < 18:
				sts = append(sts, st("failure", t), st("inactive", t.Add(dur(48*time.Hour))))
			case x < 19:
				// Failed and retried straight into a success, with no
				// status in between.
				sts = append(sts, st("failure", t), st("success", t.Add(dur(3*time.Hour))))
			default:
				// still in progress
			}
			w.deployments = append(w.deployments, rawDeployment{repo: repo, id: id, statuses: sts})
		case "releases":
			r := rawRelease{repo: repo, id: id, published: t}
			switch rng.IntN(10) {
			case 0:
				r.draft, r.published = true, time.Time{}
			case 1:
				r.prerelease = true
			}
			w.releases = append(w.releases, r)
		case "workflow_runs":
			r := rawRun{repo: repo, id: id, status: "completed", updated: t.Add(dur(30 * time.Minute))}
			switch x := rng.IntN(20); {
			case x < 13:
				r.conclusion = "success"
			case x < 15:
				r.conclusion = "failure"
			case x < 16:
				r.conclusion = "timed_out"
			case x < 17:
				r.conclusion = "cancelled"
			case x < 18:
				r.conclusion = "startup_failure"
			default:
				r.status = "in_progress"
			}
			w.runs = append(w.runs, r)
		}
	}
	for i := range 60 {
		in := Incident{ID: fmt.Sprint("inc-", i), OpenedAt: at()}
		if !shared || rng.IntN(4) == 0 {
			in.Repo = w.repos[rng.IntN(3)]
		}
		if rng.IntN(8) > 0 {
			in.ClosedAt = in.OpenedAt.Add(dur(3 * 24 * time.Hour))
		}
		w.incidents = append(w.incidents, in)
	}
	if signal == "deployments" && len(w.deployments) > 0 {
		// An incident opened the very second a deployment succeeded: it
		// blames the one before (strictly before its opening).
		for _, s := range w.deployments[0].statuses {
			if s.State == "success" {
				w.incidents = append(w.incidents, Incident{ID: "same-second", Repo: w.deployments[0].repo, OpenedAt: s.CreatedAt})
			}
		}
	}
	return w
}

// instants picks the instants to check: random ones, the instants of
// events themselves and the second before each (where a state changes).
func (w world) instants(rng *rand.Rand, start time.Time, days int, n int) []time.Time {
	var out []time.Time
	span := int64(time.Duration(days) * 24 * time.Hour)
	for range n {
		out = append(out, start.Add(time.Duration(rng.Int64N(span))))
	}
	var events []time.Time
	for _, d := range w.deployments {
		for _, s := range d.statuses {
			events = append(events, s.CreatedAt)
		}
	}
	for _, p := range w.prs {
		events = append(events, p.created, p.merged, p.closed)
		events = append(events, p.draftChanges...)
	}
	for _, in := range w.incidents {
		events = append(events, in.OpenedAt, in.ClosedAt)
	}
	for _, r := range w.runs {
		events = append(events, r.updated)
	}
	for _, r := range w.releases {
		events = append(events, r.published)
	}
	for range n {
		e := events[rng.IntN(len(events))]
		if e.IsZero() {
			continue
		}
		out = append(out, e, e.Add(-time.Second))
		// The instants at which the event sits on a window's lower
		// edge, where it has just left the window.
		for _, d := range []int{7, 28, 90} {
			out = append(out, e.Add(time.Duration(d)*24*time.Hour))
		}
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return slices.Compact(out)
}

// testLabels are a pull request's labels in the as-of tests, from its
// number: bugs, maintenance (in any case), both, or none.
func testLabels(n int) []string {
	switch n % 6 {
	case 0:
		return []string{"bug"}
	case 1:
		return []string{"Tech-Debt", "ui"}
	case 2:
		return []string{"tech-debt", "BUG"}
	}
	return nil
}

var testInvestment = &Investment{Categories: []Category{{Name: "bugs", Labels: []string{"bug"}}, {Name: "maintenance", Labels: []string{"tech-debt", "chore"}}}}

// TestInvestmentShareAsOfAnInstant checks the investment balance the same
// way, against a count over the raw pull requests merged in the window.
func TestInvestmentShareAsOfAnInstant(t *testing.T) {
	start := time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC)
	w := genWorld(1, "deployments", false, start, 200)
	full := w.full()
	full.Investment = testInvestment
	ix := NewIndex(full)
	rng := rand.New(rand.NewPCG(9, 7))
	ats := w.instants(rng, start.Add(-5*24*time.Hour), 210, 40)
	rules := []WindowRule{{Last: 7 * 24 * time.Hour}, {Last: 28 * 24 * time.Hour}, {Period: true, Start: start.Add(30 * 24 * time.Hour), End: start.Add(120 * 24 * time.Hour)}}
	var qs []HistoryQuery
	for _, repo := range append([]string{""}, w.repos...) {
		for _, rule := range rules {
			for _, cat := range testInvestment.Names() {
				qs = append(qs, HistoryQuery{Metric: MetricInvestmentShare, Repo: repo, Category: cat, Window: rule, At: ats})
			}
		}
	}
	hist := ix.History(qs)
	values := 0
	for qi, hq := range qs {
		if hist[qi].Err != nil {
			t.Fatal(hist[qi].Err)
		}
		for i, at := range ats {
			win := hq.Window.At(at)
			past := w.asOf(at)
			past.Investment = testInvestment
			want, wantOK, err := NewIndex(past).InvestmentShare(hq.Repo, hq.Category, win, at)
			if err != nil {
				t.Fatal(err)
			}
			// Counted from the raw pull requests.
			n, total := 0, 0
			for _, p := range w.prs {
				if p.merged.IsZero() || p.merged.After(at) || !(p.merged.After(win.From) && !p.merged.After(win.To)) || (hq.Repo != "" && !strings.EqualFold(p.repo, hq.Repo)) {
					continue
				}
				total++
				cat := map[int]string{0: "bugs", 1: "maintenance", 2: "bugs"}[p.number%6] // bugs is the first category
				if cat == "" {
					cat = "other"
				}
				if cat == hq.Category {
					n++
				}
			}
			oracleOK := total > 0
			oracle := 0.0
			if oracleOK {
				oracle = float64(n) / float64(total)
			}
			h := hist[qi].Points[i]
			if h.Value != want || h.OK != wantOK || want != oracle || wantOK != oracleOK {
				t.Fatalf("share of %s in %q at %s over %+v: history %v (%v), live over the records then %v (%v), counted %v (%v)",
					hq.Category, hq.Repo, at.Format(time.RFC3339), hq.Window, h.Value, h.OK, want, wantOK, oracle, oracleOK)
			}
			if wantOK && want > 0 && want < 1 {
				values++
			}
		}
	}
	if values < len(qs)*len(ats)/4 {
		t.Errorf("only %d of %d checks had a share strictly between 0 and 1", values, len(qs)*len(ats))
	}
	if _, _, err := ix.InvestmentShare("", "ops", Last(28*24*time.Hour, start.Add(100*24*time.Hour)), start.Add(100*24*time.Hour)); err == nil {
		t.Error("an unknown category is no error")
	}
	if _, _, err := NewIndex(w.full()).InvestmentShare("", "bugs", Last(28*24*time.Hour, start), start); err == nil {
		t.Error("a share without categories is no error")
	}
}

func TestEveryMetricAsOfAnInstantIsTheLiveMeasurementOverTheRecordsThen(t *testing.T) {
	start := time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC)
	const days = 200
	period := WindowRule{Period: true, Start: time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	rules := map[string]WindowRule{"7d": {Last: 7 * 24 * time.Hour}, "28d": {Last: 28 * 24 * time.Hour}, "90d": {Last: 90 * 24 * time.Hour}, "period": period}
	quantiles := []float64{0.5, 0, 0.85, 0.95, 1}
	cases := []struct {
		signal string
		shared bool
	}{
		{"deployments", false}, {"deployments", true}, {"releases", false}, {"workflow_runs", true},
	}
	for ci, c := range cases {
		t.Run(fmt.Sprintf("%s, shared incidents %v", c.signal, c.shared), func(t *testing.T) {
			w := genWorld(uint64(ci+1), c.signal, c.shared, start, days)
			full := NewIndex(w.full())
			rng := rand.New(rand.NewPCG(uint64(ci), 7))
			ats := w.instants(rng, start.Add(-5*24*time.Hour), days+10, 60)
			ats = append(ats, period.Start, period.End, period.End.Add(time.Second))
			slices.SortFunc(ats, func(a, b time.Time) int { return a.Compare(b) })
			ats = slices.Compact(ats)
			// The live index of each instant, built once.
			live := make([]*Index, len(ats))
			for i, at := range ats {
				live[i] = NewIndex(w.asOf(at))
			}
			var qs []HistoryQuery
			for _, m := range Metrics {
				if m.Name == MetricInvestmentShare {
					continue // by category, below
				}
				qsOf := []float64{DefaultQuantile}
				if m.Distribution {
					qsOf = quantiles
				}
				for _, repo := range append([]string{""}, w.repos...) {
					for _, rule := range rules {
						for _, q := range qsOf {
							qs = append(qs, HistoryQuery{Metric: m.Name, Repo: repo, Quantile: q, Window: rule, At: ats})
						}
					}
				}
			}
			hist := full.History(qs)
			checked, values := 0, 0
			for qi, hq := range qs {
				if hist[qi].Err != nil {
					t.Fatalf("%s: %v", hq.Metric, hist[qi].Err)
				}
				for i, at := range ats {
					win := hq.Window.At(at)
					want, wantOK, err := live[i].Value(hq.Metric, hq.Repo, win, hq.Quantile, at)
					if err != nil {
						t.Fatal(err)
					}
					got, gotOK, _ := full.Value(hq.Metric, hq.Repo, win, hq.Quantile, at)
					h := hist[qi].Points[i]
					if got != want || gotOK != wantOK || h.Value != want || h.OK != wantOK {
						t.Fatalf("%s of %q, window %+v, q %v, at %s: live over the records then %v (ok %v); as of the full index %v (ok %v); history %v (ok %v)",
							hq.Metric, hq.Repo, hq.Window, hq.Quantile, at.Format(time.RFC3339), want, wantOK, got, gotOK, h.Value, h.OK)
					}
					checked++
					if wantOK {
						values++
					}
					if o, ok := w.openOracle(hq.Metric, hq.Repo, at); ok && (o.v != want || o.ok != wantOK) {
						t.Fatalf("%s of %q at %s: %v (ok %v), but counted from the raw pull requests %v (ok %v)",
							hq.Metric, hq.Repo, at.Format(time.RFC3339), want, wantOK, o.v, o.ok)
					}
				}
			}
			// The check must not pass by comparing nothing with nothing.
			if values < checked/2 {
				t.Fatalf("only %d of %d checks had a value", values, checked)
			}
			t.Logf("%d instants, %d queries: %d values compared", len(ats), len(qs), checked)
		})
	}
}

type oracleValue struct {
	v  float64
	ok bool
}

// openOracle counts the open pull requests at t straight from the raw
// ones, for the metrics taken at an instant rather than over a window.
func (w world) openOracle(metric, repo string, t time.Time) (oracleValue, bool) {
	if metric != MetricOpenPRs && metric != MetricOpenDraftPRs && metric != MetricOldestOpenPRAge {
		return oracleValue{}, false
	}
	open, drafts := 0, 0
	var oldest time.Time
	for _, p := range w.prs {
		if repo != "" && p.repo != repo || p.created.After(t) ||
			!p.merged.IsZero() && !p.merged.After(t) || !p.closed.IsZero() && !p.closed.After(t) {
			continue
		}
		open++
		if p.draftAt(t) {
			drafts++
		}
		if oldest.IsZero() || p.created.Before(oldest) {
			oldest = p.created
		}
	}
	switch metric {
	case MetricOpenPRs:
		return oracleValue{float64(open), true}, true
	case MetricOpenDraftPRs:
		return oracleValue{float64(drafts), true}, true
	}
	if open == 0 {
		return oracleValue{}, true
	}
	return oracleValue{t.Sub(oldest).Seconds(), true}, true
}

// TestTheRecordsAsOfTheLastInstantAreTheRecords checks the test's own
// reconstruction: after everything happened, the records as they stood are
// the full records, so the comparison above compares like with like.
func TestTheRecordsAsOfTheLastInstantAreTheRecords(t *testing.T) {
	start := time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC)
	for _, signal := range []string{"deployments", "releases", "workflow_runs"} {
		w := genWorld(5, signal, false, start, 200)
		end := start.Add(400 * 24 * time.Hour)
		a, b := NewIndex(w.full()), NewIndex(w.asOf(end))
		for _, m := range Metrics {
			for _, repo := range []string{"", "acme/web"} {
				win := Last(90*24*time.Hour, start.Add(150*24*time.Hour))
				x, xok, _ := a.Value(m.Name, repo, win, 0.85, end)
				y, yok, _ := b.Value(m.Name, repo, win, 0.85, end)
				if x != y || xok != yok {
					t.Errorf("%s %s of %q: full %v (%v), as of the end %v (%v)", signal, m.Name, repo, x, xok, y, yok)
				}
			}
		}
	}
}
