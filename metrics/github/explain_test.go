package github

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/okrd/okrd/metrics/explain"
)

// judge applies the DORA level of key to the value its rows give.
func judge(key string, v float64) float64 {
	switch key {
	case KeyDeploymentFrequency:
		return float64(DeploymentFrequencyLevel(v))
	case KeyLeadTime:
		return float64(LeadTimeLevel(v))
	case KeyChangeFailureRate:
		return float64(ChangeFailureRateLevel(v))
	case KeyTimeToRestore:
		return float64(TimeToRestoreLevel(v))
	}
	return -1
}

// recompute is what a reader of the rows computes: the rule over the
// contributions, and for a level the level of that.
func recompute(t *testing.T, e Explained) (float64, bool) {
	t.Helper()
	tab := e.Table(Links{})
	if len(tab.Rows) != len(e.PullRequests)+len(e.Deployments)+len(e.Incidents) {
		t.Fatalf("%s: the table has %d rows of %d records", e.Metric, len(tab.Rows), len(e.PullRequests)+len(e.Deployments)+len(e.Incidents))
	}
	for _, r := range tab.Rows {
		if len(r.Values) != len(tab.Columns) {
			t.Fatalf("%s: a row has %d values for %d columns", e.Metric, len(r.Values), len(tab.Columns))
		}
	}
	v, ok := tab.Recompute()
	if e.Rule == explain.Level && ok {
		v = judge(e.Of, v)
	}
	return v, ok
}

// Every metric, every scope, window and quantile, at many instants: the
// value recomputed from the listed rows equals the metric's value, and
// the rows are distinct records that satisfy the metric's own selection.
// The list of metrics is Metrics, so a metric added without rows fails.
func TestEveryMetricIsRecomputedFromItsExplanation(t *testing.T) {
	start := time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC)
	const days = 200
	period := WindowRule{Period: true, Start: time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	rules := []WindowRule{{Last: 7 * 24 * time.Hour}, {Last: 28 * 24 * time.Hour}, {Last: 90 * 24 * time.Hour}, period}
	for ci, c := range []struct {
		signal string
		shared bool
	}{{"deployments", false}, {"releases", true}, {"workflow_runs", false}} {
		t.Run(c.signal, func(t *testing.T) {
			w := genWorld(uint64(ci+11), c.signal, c.shared, start, days)
			ix := NewIndex(w.full())
			rng := rand.New(rand.NewPCG(uint64(ci), 3))
			ats := w.instants(rng, start, days, 5)
			// A few instants just after a deployment's status, when a
			// failure a retry replaces later still holds.
			for _, d := range w.deployments[:min(len(w.deployments), 40)] {
				if len(d.statuses) > 1 {
					ats = append(ats, d.statuses[0].CreatedAt.Add(time.Minute))
				}
			}
			withRows := map[string]int{}
			for _, m := range Metrics {
				if m.Name == MetricInvestmentShare {
					continue // by category: TestInvestmentShareIsRecomputedFromItsExplanation
				}
				qs := []float64{DefaultQuantile}
				if m.Distribution {
					qs = []float64{0.5, 0.85, 1}
				}
				for _, repo := range append([]string{""}, w.repos...) {
					for _, rule := range rules {
						for _, q := range qs {
							for _, at := range ats {
								win := rule.At(at)
								want, wantOK, err := ix.Value(m.Name, repo, win, q, at)
								if err != nil {
									t.Fatal(err)
								}
								e, err := ix.Explain(m.Name, repo, win, q, at)
								if err != nil {
									t.Fatal(err)
								}
								if e.Value != want || e.OK != wantOK {
									t.Fatalf("%s of %q at %s: explained value %v (ok %v), value %v (ok %v)", m.Name, repo, at, e.Value, e.OK, want, wantOK)
								}
								got, gotOK := recompute(t, e)
								if gotOK != wantOK || wantOK && got != want {
									t.Fatalf("%s of %q, window %v, q %v, at %s: recomputed from %d rows %v (ok %v), value %v (ok %v)",
										m.Name, repo, win, q, at.Format(time.RFC3339), len(e.PullRequests)+len(e.Deployments)+len(e.Incidents), got, gotOK, want, wantOK)
								}
								checkRows(t, e, repo, win.upTo(at), at)
								if n := len(e.PullRequests) + len(e.Deployments) + len(e.Incidents); n > 0 {
									withRows[m.Name]++
								}
							}
						}
					}
				}
			}
			// Every metric must have been explained by some rows, not
			// only by empty sets.
			for _, m := range Metrics {
				if withRows[m.Name] == 0 && m.Name != MetricInvestmentShare {
					t.Errorf("%s: no explanation with rows", m.Name)
				}
			}
		})
	}
}

// checkRows checks the rows against the definitions, from the records
// themselves: each is in the scope, in the window by the time the metric
// dates it at, listed once, and the quantile's rows are marked.
func checkRows(t *testing.T, e Explained, repo string, w Window, now time.Time) {
	t.Helper()
	in := func(ts time.Time) bool { return ts.After(w.From) && !ts.After(w.To) }
	inScope := func(r string) bool { return repo == "" || r == repo || r == "" }
	seen := map[string]bool{}
	once := func(id string) {
		if seen[id] {
			t.Fatalf("%s: %s listed twice", e.Metric, id)
		}
		seen[id] = true
	}
	for _, p := range e.PullRequests {
		pr := p.PullRequest
		once(fmt.Sprint(pr.Repo, pr.Number))
		if !inScope(pr.Repo) {
			t.Fatalf("%s of %q lists %s#%d", e.Metric, repo, pr.Repo, pr.Number)
		}
		var ok bool
		switch e.Metric {
		case MetricLeadTime, MetricLevelLeadTime:
			ok = in(p.DeployedAt) && pr.IntoDefault && !p.DeployedAt.Before(pr.MergedAt) && p.DeployedBy != ""
		case MetricPRThroughput, MetricPRCycleTime, MetricPRSize:
			ok = pr.State == PRMerged && in(pr.MergedAt)
		case MetricTimeToFirstReview:
			ok = in(pr.FirstReviewAt)
		case MetricOpenPRs, MetricOldestOpenPRAge:
			ok = !pr.CreatedAt.After(now)
		case MetricOpenDraftPRs:
			ok = p.Draft && !pr.CreatedAt.After(now)
		}
		if !ok {
			t.Fatalf("%s: %s#%d does not belong (%+v)", e.Metric, pr.Repo, pr.Number, p)
		}
	}
	for _, d := range e.Deployments {
		once(d.Deployment.ID + d.At.String())
		if !inScope(d.Deployment.Repo) || !in(d.At) {
			t.Fatalf("%s: deployment %s at %s is outside the scope or the window %v", e.Metric, d.Deployment.ID, d.At, w)
		}
		if d.BlamedBy != "" && !d.FailedChange {
			t.Fatalf("%s: deployment %s blamed by %s but no failed change", e.Metric, d.Deployment.ID, d.BlamedBy)
		}
	}
	for _, r := range e.Incidents {
		once(r.Incident.ID)
		if !in(r.Incident.ClosedAt) || !inScope(r.Incident.Repo) {
			t.Fatalf("%s: incident %s closed %s is outside the scope or the window", e.Metric, r.Incident.ID, r.Incident.ClosedAt)
		}
	}
	if e.Rule == explain.Quantile && e.OK {
		marked := 0
		for _, p := range e.PullRequests {
			if p.Mark == explain.AtQuantile {
				marked++
			}
		}
		for _, r := range e.Incidents {
			if r.Mark == explain.AtQuantile {
				marked++
			}
		}
		if marked < 1 || marked > 2 {
			t.Fatalf("%s: %d rows marked at the quantile", e.Metric, marked)
		}
	}
}

// The fixture by hand: the rows behind web's lead time, change failure
// rate and the open pull requests, with what each contributes.
func TestExplainByHand(t *testing.T) {
	now := at("2026-03-01T00:00:00Z")
	ix := NewIndex(fixture())
	w28 := Last(28*24*time.Hour, now)

	e, err := ix.Explain(MetricLeadTime, "acme/web", w28, 0.5, now)
	if err != nil {
		t.Fatal(err)
	}
	// P1 by D2: 266400 s; P2 by D4 (D3 failed): 532800 s; P9 by D6: 0.
	type lead struct {
		number int
		by     string
		v      float64
		mark   explain.Mark
	}
	var got []lead
	for _, p := range e.PullRequests {
		got = append(got, lead{p.PullRequest.Number, p.DeployedBy, p.Contribution, p.Mark})
	}
	slices.SortFunc(got, func(a, b lead) int { return a.number - b.number })
	want := []lead{{1, "D2", 266400, explain.AtQuantile}, {2, "D4", 532800, explain.Neighbour}, {9, "D6", 0, explain.Neighbour}}
	if !slices.Equal(got, want) {
		t.Fatalf("lead time rows %+v, want %+v", got, want)
	}
	if e.Value != 266400 || e.Rule != explain.Quantile || e.Quantile != 0.5 {
		t.Fatalf("lead time %v by %s at %v", e.Value, e.Rule, e.Quantile)
	}

	e, err = ix.Explain(MetricChangeFailureRate, "acme/web", w28, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	// D2 ok, D3 failed, D4 blamed by web#1 (the first to open), D6 blamed
	// by OPS-1: 3 of 4.
	blame := map[string]string{}
	failed := 0
	for _, d := range e.Deployments {
		blame[d.Deployment.ID] = d.BlamedBy
		if d.FailedChange {
			failed++
		}
	}
	if len(e.Deployments) != 4 || failed != 3 || blame["D4"] != "web#1" || blame["D6"] != "OPS-1" || blame["D2"] != "" {
		t.Fatalf("change failure rows %+v", e.Deployments)
	}
	if e.Rule != explain.Ratio || e.Value != 0.75 {
		t.Fatalf("change failure rate %v by %s", e.Value, e.Rule)
	}

	e, err = ix.Explain(MetricTimeToRestore, "acme/web", w28, 0.5, now)
	if err != nil {
		t.Fatal(err)
	}
	attributed := map[string]string{}
	for _, r := range e.Incidents {
		attributed[r.Incident.ID] = r.Attributed
	}
	// web#1 and web#3 blame D4; web#2 opened 9 days after D4: none;
	// OPS-1 (whole source) blames D6.
	if attributed["web#1"] != "D4" || attributed["web#3"] != "D4" || attributed["web#2"] != "" || attributed["OPS-1"] != "D6" {
		t.Fatalf("attributions %v", attributed)
	}

	e, err = ix.Explain(MetricOldestOpenPRAge, "acme/web", w28, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	// P5 (draft, Feb 25) and P6 (Jan 10): the oldest is P6, 50 days.
	if len(e.PullRequests) != 2 || e.Rule != explain.Max || e.Value != 50*24*3600 {
		t.Fatalf("open rows %+v, value %v by %s", e.PullRequests, e.Value, e.Rule)
	}
	for _, p := range e.PullRequests {
		if (p.PullRequest.Number == 6) != (p.Mark == explain.AtQuantile) || (p.PullRequest.Number == 5) != p.Draft {
			t.Fatalf("open row %+v", p)
		}
	}

	tab := e.Table(Links{PullRequest: func(repo string, n int) string { return fmt.Sprintf("https://github.com/%s/pull/%d", repo, n) }})
	if tab.Rows[0].Link == "" || tab.Columns[len(tab.Columns)-1].Kind != explain.Duration {
		t.Fatalf("table %+v", tab)
	}

	if _, err := ix.Explain("nope", "", w28, 0, now); err == nil {
		t.Fatal("an unknown metric is explained")
	}
	e, err = ix.Explain(MetricOpenPRs, "acme/none", w28, 0, now)
	if err != nil || e.OK || len(e.PullRequests) != 0 {
		t.Fatalf("an unknown repository: %+v, %v", e, err)
	}
}

// investment_share of each category, every scope and window, at many
// instants: the ratio of the listed pull requests equals the value.
func TestInvestmentShareIsRecomputedFromItsExplanation(t *testing.T) {
	start := time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC)
	w := genWorld(1, "deployments", false, start, 200)
	full := w.full()
	full.Investment = testInvestment
	ix := NewIndex(full)
	rng := rand.New(rand.NewPCG(9, 8))
	ats := w.instants(rng, start, 200, 10)
	rules := []WindowRule{{Last: 7 * 24 * time.Hour}, {Last: 28 * 24 * time.Hour}, {Period: true, Start: start.Add(30 * 24 * time.Hour), End: start.Add(120 * 24 * time.Hour)}}
	between := 0
	for _, repo := range append([]string{""}, w.repos...) {
		for _, rule := range rules {
			for _, cat := range append(testInvestment.Names(), "other") {
				for _, at := range ats {
					win := rule.At(at)
					want, wantOK, err := ix.InvestmentShare(repo, cat, win, at)
					if err != nil {
						t.Fatal(err)
					}
					e, err := ix.ExplainInvestment(repo, cat, win, at)
					if err != nil {
						t.Fatal(err)
					}
					got, gotOK := recompute(t, e)
					if got != want || gotOK != wantOK || e.Value != want {
						t.Fatalf("%s of %q at %s: recomputed %v (ok %v), explained %v, value %v (ok %v)", cat, repo, at, got, gotOK, e.Value, want, wantOK)
					}
					if want > 0 && want < 1 {
						between++
					}
				}
			}
		}
	}
	if between < 20 {
		t.Errorf("only %d shares strictly between 0 and 1: the test lost its point", between)
	}
	if _, err := ix.ExplainInvestment("", "nope", rules[0].At(ats[0]), ats[0]); err == nil {
		t.Error("an unknown category explained without an error")
	}
}
