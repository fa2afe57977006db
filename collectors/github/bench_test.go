package github

import (
	"context"
	"fmt"
	"testing"

	"github.com/okrd/okrd/sandbox/githubfake"
	"github.com/okrd/okrd/store/sqlite"
)

// The cost targets of the GitHub source, checked by tests (so that every
// `make test` holds them) and measured by benchmarks (docs/benchmarks.md).

const (
	backfillPRs         = 5000
	backfillDeployments = 1000
	backfillIncidents   = 250
)

// backfillEnv is one repository with 5,000 merged pull requests, 1,000
// deployments and 250 incidents over a year.
func backfillEnv(tb testing.TB) *env {
	e := newEnv(tb)
	e.fake.Update(func(d *githubfake.Data) {
		d.Generate(githubfake.GenOptions{Owner: "acme", Repos: 1, PullRequests: backfillPRs, Deployments: backfillDeployments,
			Incidents: backfillIncidents, Days: 365, Now: testNow, Seed: 42, AllMerged: true})
	})
	e.spec.Repos = []string{"acme/svc-00"}
	return e
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// backfillBound is the target: ceil(PRs/100) + ceil(deployments/100)
// + ceil(incidents/100) + 5 requests.
var backfillBound = ceilDiv(backfillPRs, 100) + ceilDiv(backfillDeployments, 100) + ceilDiv(backfillIncidents, 100) + 5

func TestBackfillCost(t *testing.T) {
	if testing.Short() {
		t.Skip("syncs 5,000 pull requests")
	}
	e := backfillEnv(t)
	e.start()
	e.mustPoll()
	rest, gql := e.requests()
	// 50 pages of pull requests + 10 of deployments (GraphQL); pulls and
	// deployments probes + 3 pages of incidents (REST).
	if rest+gql > backfillBound {
		t.Errorf("backfill took %d requests (%d REST + %d GraphQL), more than the bound %d", rest+gql, rest, gql, backfillBound)
	}
	if rest != 5 || gql != 60 {
		t.Errorf("backfill took %d REST + %d GraphQL requests, want 5 + 60: %v", rest, gql, e.paths())
	}
	if n := countRecords(t, e.st, KindPullRequest); n != backfillPRs {
		t.Errorf("stored %d pull requests, want %d", n, backfillPRs)
	}
	if n := countRecords(t, e.st, KindDeployment); n != backfillDeployments {
		t.Errorf("stored %d deployments, want %d", n, backfillDeployments)
	}
	t.Logf("backfill: %d REST + %d GraphQL requests (bound %d), %d REST + %d GraphQL points",
		rest, gql, backfillBound, e.fake.Used("core"), e.fake.Used("graphql"))
}

// unchangedEnv is 50 repositories, synced once.
func unchangedEnv(tb testing.TB) *env {
	e := newEnv(tb)
	e.fake.Update(func(d *githubfake.Data) {
		d.Generate(githubfake.GenOptions{Owner: "acme", Repos: 50, PullRequests: 60, Deployments: 20, Incidents: 3, Days: 90, Now: testNow, Seed: 9})
	})
	e.spec.Repos = nil
	for i := range 50 {
		e.spec.Repos = append(e.spec.Repos, fmt.Sprintf("acme/svc-%02d", i))
	}
	return e
}

func TestUnchangedPollOf50ReposIsFree(t *testing.T) {
	e := unchangedEnv(t)
	e.start()
	e.mustPoll()
	e.fake.ResetRequests()
	e.mustPoll()
	rest, gql := e.requests()
	if used := e.fake.Used("core") + e.fake.Used("graphql"); used != 0 || gql != 0 {
		t.Errorf("unchanged poll of 50 repositories spent %d points (%d GraphQL requests)", used, gql)
	}
	// Three free conditional requests per repository (pulls, deployments,
	// issues), and one per recent deployment that failed or is still in
	// progress (its statuses): every one a 304.
	for _, r := range e.fake.Requests() {
		if r.Status != 304 {
			t.Errorf("unchanged poll: %s %s -> %d, want 304", r.Method, r.Path, r.Status)
		}
	}
	if rest < 150 {
		t.Errorf("unchanged poll made %d requests, want at least 150", rest)
	}
	t.Logf("unchanged poll of 50 repositories: %d conditional requests, 0 points", rest)
}

func BenchmarkBackfill5000PRs1000Deployments(b *testing.B) {
	e := backfillEnv(b)
	var requests, points int
	for b.Loop() {
		b.StopTimer()
		st, err := sqlite.Open(context.Background(), ":memory:", nil)
		if err != nil {
			b.Fatal(err)
		}
		e.st = st
		e.start()
		e.fake.ResetRequests()
		b.StartTimer()
		if err := e.src.Poll(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		rest, gql := e.requests()
		requests, points = rest+gql, e.fake.Used("core")+e.fake.Used("graphql")
		st.Close()
		e.fake.ResetRateLimits()
		b.StartTimer()
	}
	b.ReportMetric(float64(requests), "requests/op")
	b.ReportMetric(float64(backfillBound), "bound-requests")
	b.ReportMetric(float64(points), "points/op")
}

func BenchmarkUnchangedPoll50Repos(b *testing.B) {
	e := unchangedEnv(b)
	e.start()
	if err := e.src.Poll(context.Background()); err != nil {
		b.Fatal(err)
	}
	e.fake.ResetRequests()
	for b.Loop() {
		if err := e.src.Poll(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(e.fake.Used("core")+e.fake.Used("graphql")), "points")
	rest, gql := e.requests()
	b.ReportMetric(float64(rest+gql)/float64(b.N), "requests/op")
}
