package github

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/okrd/okrd/metrics/quantile"
)

// asOf checks a metric at several instants, with Value at each instant and
// with one History query over them all; each want is computed by hand.
type asOfCase struct {
	name   string
	at     string
	metric string
	repo   string
	want   float64
	ok     bool
}

func checkAsOf(t *testing.T, ix *Index, rule WindowRule, cases []asOfCase) {
	t.Helper()
	var qs []HistoryQuery
	for _, c := range cases {
		qs = append(qs, HistoryQuery{Metric: c.metric, Repo: c.repo, Quantile: 0.5, Window: rule, At: []time.Time{at(c.at)}})
	}
	hist := ix.History(qs)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			now := at(c.at)
			v, ok, err := ix.Value(c.metric, c.repo, rule.At(now), 0.5, now)
			if err != nil {
				t.Fatal(err)
			}
			if v != c.want || ok != c.ok {
				t.Errorf("Value = %v (ok %v), want %v (ok %v)", v, ok, c.want, c.ok)
			}
			if h := hist[i].Points[0]; h.Value != c.want || h.OK != c.ok {
				t.Errorf("History = %v (ok %v), want %v (ok %v)", h.Value, h.OK, c.want, c.ok)
			}
		})
	}
}

func TestARetriedDeploymentAtThreeInstants(t *testing.T) {
	st := func(state, ts string) DeploymentStatus { return DeploymentStatus{State: state, CreatedAt: at(ts)} }
	const repo = "acme/web"
	ix := NewIndex(Data{Repos: []string{repo}, Deployments: []Deployment{
		// Failed at 10:00, succeeded on retry at 11:00.
		StatusDeployment(repo, "D1", []DeploymentStatus{st("in_progress", "2026-02-10T09:55:00Z"), st("failure", "2026-02-10T10:00:00Z"),
			st("success", "2026-02-10T11:00:00Z")}),
		// Failed at 14:00, retried at 14:15 (in progress: not counted
		// until it settles), succeeded at 14:45.
		StatusDeployment(repo, "D2", []DeploymentStatus{st("failure", "2026-02-11T14:00:00Z"), st("in_progress", "2026-02-11T14:15:00Z"),
			st("success", "2026-02-11T14:45:00Z")}),
	}})
	rule := WindowRule{Last: 7 * 24 * time.Hour}
	checkAsOf(t, ix, rule, []asOfCase{
		{"before its first failure nothing is counted", "2026-02-10T09:59:59Z", MetricChangeFailureRate, repo, 0, false},
		{"before its first failure no deployment", "2026-02-10T09:59:59Z", MetricDeploymentCount, repo, 0, true},
		// At 10:30 it is a failed deployment dated 10:00: 1 failed change
		// of 1 deployment, and no success.
		{"at 10:30 it is a failed deployment", "2026-02-10T10:30:00Z", MetricChangeFailureRate, repo, 1, true},
		{"at 10:30 no success yet", "2026-02-10T10:30:00Z", MetricDeploymentCount, repo, 0, true},
		{"at 10:30 the change failure level is low", "2026-02-10T10:30:00Z", MetricLevelChangeFailureRate, repo, float64(LevelLow), true},
		// From 11:00 it is a success dated 11:00, and the failure is gone.
		{"at 11:00 it is a success", "2026-02-10T11:00:00Z", MetricDeploymentCount, repo, 1, true},
		{"at 11:00 it is no failed change", "2026-02-10T11:00:00Z", MetricChangeFailureRate, repo, 0, true},
		// D2 at 14:10: failed (1 of 2 counted deployments, D1 succeeded).
		{"a second failure counts at 14:10", "2026-02-11T14:10:00Z", MetricChangeFailureRate, repo, 0.5, true},
		// At 14:30 its retry is in progress: D2 does not count at all.
		{"a retry in progress is not counted", "2026-02-11T14:30:00Z", MetricChangeFailureRate, repo, 0, true},
		{"a retry in progress is no deployment yet", "2026-02-11T14:30:00Z", MetricDeploymentCount, repo, 1, true},
		{"after the retry succeeded both are successes", "2026-02-11T14:45:00Z", MetricDeploymentCount, repo, 2, true},
		// 2 successes in 7 days: 2/7 a day.
		{"the frequency counts both", "2026-02-12T00:00:00Z", MetricDeploymentFrequency, repo, 2.0 / 7, true},
	})
}

func TestAnIncidentBlamesADeploymentFromItsOpeningOn(t *testing.T) {
	const repo = "acme/web"
	ix := NewIndex(Data{Repos: []string{repo},
		Deployments: []Deployment{{Repo: repo, ID: "D", Outcome: Succeeded, At: at("2026-02-10T12:00:00Z")}},
		Incidents:   []Incident{{ID: "I", Repo: repo, OpenedAt: at("2026-02-12T12:00:00Z"), ClosedAt: at("2026-02-12T15:00:00Z")}},
	})
	rule := WindowRule{Last: 28 * 24 * time.Hour}
	checkAsOf(t, ix, rule, []asOfCase{
		{"before the incident the deployment is no failed change", "2026-02-12T11:59:59Z", MetricChangeFailureRate, repo, 0, true},
		{"from its opening the incident blames it", "2026-02-12T12:00:00Z", MetricChangeFailureRate, repo, 1, true},
		{"and ever after", "2026-03-01T00:00:00Z", MetricChangeFailureRate, repo, 1, true},
		{"an open incident is not resolved", "2026-02-12T14:00:00Z", MetricIncidentsResolved, repo, 0, true},
		{"an open incident has no time to restore", "2026-02-12T14:00:00Z", MetricTimeToRestore, repo, 0, false},
		{"once closed it is resolved", "2026-02-12T15:00:00Z", MetricIncidentsResolved, repo, 1, true},
		{"in 3 hours", "2026-02-12T15:00:00Z", MetricTimeToRestore, repo, 3 * 3600, true},
		// Out of the 28-day window of the deployment, the failed change is
		// gone with it; the incident's closure stays until Mar 12 15:00.
		{"the deployment leaves the window", "2026-03-10T12:00:00Z", MetricChangeFailureRate, repo, 0, false},
		{"the resolution leaves the window later", "2026-03-12T15:00:00Z", MetricIncidentsResolved, repo, 0, true},
	})
}

func TestAPullRequestOpenThenMergedThenDeployed(t *testing.T) {
	const repo = "acme/web"
	ix := NewIndex(Data{Repos: []string{repo},
		PullRequests: []PullRequest{{Repo: repo, Number: 1, State: PRMerged, IntoDefault: true,
			CreatedAt: at("2026-02-01T10:00:00Z"), FirstCommitAt: at("2026-02-01T08:00:00Z"), FirstReviewAt: at("2026-02-01T12:00:00Z"),
			MergedAt: at("2026-02-02T10:00:00Z"), ClosedAt: at("2026-02-02T10:00:00Z"), Additions: 30, Deletions: 12,
			// Opened as a draft, marked ready, then a draft again, then
			// ready for its merge.
			Draft: false, DraftChanges: []time.Time{at("2026-02-01T11:00:00Z"), at("2026-02-01T20:00:00Z"), at("2026-02-02T09:00:00Z")}}},
		Deployments: []Deployment{{Repo: repo, ID: "D", Outcome: Succeeded, At: at("2026-02-03T12:00:00Z")}},
	})
	rule := WindowRule{Last: 7 * 24 * time.Hour}
	checkAsOf(t, ix, rule, []asOfCase{
		{"before its creation it does not exist", "2026-02-01T09:59:59Z", MetricOpenPRs, repo, 0, true},
		{"nor is there an oldest one", "2026-02-01T09:59:59Z", MetricOldestOpenPRAge, repo, 0, false},
		{"from its creation it is open", "2026-02-01T10:00:00Z", MetricOpenPRs, repo, 1, true},
		{"and a draft", "2026-02-01T10:30:00Z", MetricOpenDraftPRs, repo, 1, true},
		{"marked ready at 11:00 it is no draft", "2026-02-01T11:00:00Z", MetricOpenDraftPRs, repo, 0, true},
		{"its age at 11:00 is an hour", "2026-02-01T11:00:00Z", MetricOldestOpenPRAge, repo, 3600, true},
		{"before the first review there is none", "2026-02-01T11:59:59Z", MetricTimeToFirstReview, repo, 0, false},
		{"reviewed after 2 hours", "2026-02-01T12:00:00Z", MetricTimeToFirstReview, repo, 7200, true},
		{"a draft again from 20:00", "2026-02-01T23:00:00Z", MetricOpenDraftPRs, repo, 1, true},
		{"ready again at 09:00", "2026-02-02T09:00:00Z", MetricOpenDraftPRs, repo, 0, true},
		{"open the second before its merge", "2026-02-02T09:59:59Z", MetricOpenPRs, repo, 1, true},
		{"not merged before its merge", "2026-02-02T09:59:59Z", MetricPRThroughput, repo, 0, true},
		{"merged, it is no longer open", "2026-02-02T10:00:00Z", MetricOpenPRs, repo, 0, true},
		{"merged, it counts for throughput", "2026-02-02T10:00:00Z", MetricPRThroughput, repo, 1, true},
		{"its cycle time is a day", "2026-02-02T10:00:00Z", MetricPRCycleTime, repo, 86400, true},
		{"its size is 42 lines", "2026-02-02T10:00:00Z", MetricPRSize, repo, 42, true},
		{"merged but not deployed: no lead time", "2026-02-03T11:59:59Z", MetricLeadTime, repo, 0, false},
		// Deployed Feb 3 12:00, first commit Feb 1 08:00: 52 hours.
		{"deployed, its lead time is 52 hours", "2026-02-03T12:00:00Z", MetricLeadTime, repo, 52 * 3600, true},
		{"52 hours is a high lead time", "2026-02-03T12:00:00Z", MetricLevelLeadTime, repo, float64(LevelHigh), true},
		{"the whole source sees it too", "2026-02-03T12:00:00Z", MetricLeadTime, "", 52 * 3600, true},
	})
}

func TestStatusDeploymentKeepsTheFailuresARetryReplaced(t *testing.T) {
	st := func(state, ts string) DeploymentStatus { return DeploymentStatus{State: state, CreatedAt: at(ts)} }
	tests := []struct {
		name     string
		statuses []DeploymentStatus
		want     Outcome
		wantAt   string
		past     []PastOutcome
	}{
		{"a plain success has no past", []DeploymentStatus{st("in_progress", "2026-02-01T10:00:00Z"), st("success", "2026-02-01T10:05:00Z")},
			Succeeded, "2026-02-01T10:05:00Z", nil},
		{"a failure retried into a success was failed until the success",
			[]DeploymentStatus{st("failure", "2026-02-01T10:00:00Z"), st("success", "2026-02-01T11:00:00Z")},
			Succeeded, "2026-02-01T11:00:00Z", []PastOutcome{{At: at("2026-02-01T10:00:00Z"), Until: at("2026-02-01T11:00:00Z")}}},
		{"a failure retried was failed until the retry started",
			[]DeploymentStatus{st("failure", "2026-02-01T10:00:00Z"), st("in_progress", "2026-02-01T10:20:00Z"), st("success", "2026-02-01T11:00:00Z")},
			Succeeded, "2026-02-01T11:00:00Z", []PastOutcome{{At: at("2026-02-01T10:00:00Z"), Until: at("2026-02-01T10:20:00Z")}}},
		{"a second failure dates it anew",
			[]DeploymentStatus{st("error", "2026-02-01T10:00:00Z"), st("failure", "2026-02-01T10:30:00Z")},
			Failed, "2026-02-01T10:30:00Z", []PastOutcome{{At: at("2026-02-01T10:00:00Z"), Until: at("2026-02-01T10:30:00Z")}}},
		{"a failure marked inactive is no longer counted",
			[]DeploymentStatus{st("failure", "2026-02-01T10:00:00Z"), st("inactive", "2026-02-02T10:00:00Z")},
			Ignored, "", []PastOutcome{{At: at("2026-02-01T10:00:00Z"), Until: at("2026-02-02T10:00:00Z")}}},
		{"a failure and a success in the same second never were a failure",
			[]DeploymentStatus{st("failure", "2026-02-01T10:00:00Z"), st("success", "2026-02-01T10:00:00Z")},
			Succeeded, "2026-02-01T10:00:00Z", nil},
		{"statuses out of order are read in time order",
			[]DeploymentStatus{st("success", "2026-02-01T11:00:00Z"), st("failure", "2026-02-01T10:00:00Z")},
			Succeeded, "2026-02-01T11:00:00Z", []PastOutcome{{At: at("2026-02-01T10:00:00Z"), Until: at("2026-02-01T11:00:00Z")}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := StatusDeployment("a/b", "1", tc.statuses)
			if d.Outcome != tc.want || (tc.wantAt == "") != d.At.IsZero() || tc.wantAt != "" && !d.At.Equal(at(tc.wantAt)) {
				t.Fatalf("outcome %v at %v, want %v at %s", d.Outcome, d.At, tc.want, tc.wantAt)
			}
			if !slices.EqualFunc(d.Past, tc.past, func(a, b PastOutcome) bool { return a.At.Equal(b.At) && a.Until.Equal(b.Until) }) {
				t.Fatalf("past = %v, want %v", d.Past, tc.past)
			}
		})
	}
}

func TestSweptQuantilesEqualTheQuantilesOfTheSortedWindow(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		n := 1 + rng.IntN(40)
		vals := make([]float64, n)
		for i := range vals {
			// Few distinct values, so that ties are common, and some
			// fractions.
			vals[i] = float64(rng.IntN(12)) * 1.37
		}
		// Rank a part of the values, and hold a part of that part.
		from := rng.IntN(n)
		rs := newRankedSeries(vals, from, n)
		var f fenwick
		f.reset(n - from)
		lo := from + rng.IntN(n-from)
		hi := lo + rng.IntN(n-lo+1)
		for i := lo; i < hi; i++ {
			f.add(int(rs.rank[i-from]), 1)
		}
		window := slices.Clone(vals[lo:hi])
		slices.Sort(window)
		for _, q := range []float64{0, 0.1, 0.5, 0.85, 0.95, 0.99, 1, 1.5, -0.1} {
			want, wantOK := quantile.Sorted(window, q)
			got, ok := sortedQuantile(hi-lo, q, func(k int) float64 { return rs.sorted[f.kth(k)] })
			if got != want || ok != wantOK {
				t.Fatalf("q %v of %v: swept %v (ok %v), sorted %v (ok %v)", q, window, got, ok, want, wantOK)
			}
		}
	}
}

func TestHistoryOfAnUnknownMetricOrScope(t *testing.T) {
	ix := NewIndex(Data{Repos: []string{"acme/web"}})
	ats := []time.Time{at("2026-02-01T00:00:00Z"), at("2026-02-02T00:00:00Z")}
	res := ix.History([]HistoryQuery{
		{Metric: "velocity", At: ats},
		{Metric: MetricDeploymentCount, Repo: "acme/none", Window: WindowRule{Last: 24 * time.Hour}, At: ats},
		{Metric: MetricDeploymentCount, Repo: "ACME/Web", Window: WindowRule{Last: 24 * time.Hour}, At: ats},
		{Metric: MetricPRCycleTime, Quantile: 1.5, Window: WindowRule{Last: 24 * time.Hour}, At: ats},
	})
	if res[0].Err == nil || !strings.Contains(res[0].Err.Error(), `unknown metric "velocity"`) {
		t.Errorf("unknown metric: err = %v", res[0].Err)
	}
	for i, want := range []bool{false, true, false} {
		r := res[i+1]
		if r.Err != nil || len(r.Points) != len(ats) {
			t.Fatalf("query %d: %+v", i+1, r)
		}
		for _, p := range r.Points {
			if p.OK != want {
				t.Errorf("query %d: point %+v, want ok %v", i+1, p, want)
			}
		}
	}
}

func TestHistoryAnswersInstantsInAnyOrder(t *testing.T) {
	const repo = "acme/web"
	var prs []PullRequest
	for i := range 10 {
		created := at("2026-02-01T00:00:00Z").Add(time.Duration(i) * 24 * time.Hour)
		prs = append(prs, PullRequest{Repo: repo, Number: i, State: PRMerged, CreatedAt: created, MergedAt: created.Add(time.Duration(i+1) * time.Hour)})
	}
	ix := NewIndex(Data{Repos: []string{repo}, PullRequests: prs})
	ats := []time.Time{at("2026-02-09T00:00:00Z"), at("2026-02-03T00:00:00Z"), at("2026-02-06T00:00:00Z"), at("2026-02-03T00:00:00Z")}
	rule := WindowRule{Last: 3 * 24 * time.Hour}
	res := ix.History([]HistoryQuery{{Metric: MetricPRCycleTime, Repo: repo, Quantile: 0.5, Window: rule, At: ats}})
	for i, a := range ats {
		v, ok, _ := ix.Value(MetricPRCycleTime, repo, rule.At(a), 0.5, a)
		if p := res[0].Points[i]; p.Value != v || p.OK != ok || !ok {
			t.Errorf("at %v: history %+v, value %v (ok %v)", a, p, v, ok)
		}
	}
}
