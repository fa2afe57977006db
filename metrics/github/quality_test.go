package github

import (
	"slices"
	"testing"
	"time"
)

func TestQualityChecks(t *testing.T) {
	now := at("2026-03-01T00:00:00Z")
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	const day = 24 * time.Hour
	success := func(repo, id string, when time.Time) Deployment {
		return StatusDeployment(repo, id, []DeploymentStatus{{State: "success", CreatedAt: when}})
	}
	merged := func(repo string, n int, when time.Time, intoDefault bool) PullRequest {
		return PullRequest{Repo: repo, Number: n, State: PRMerged, CreatedAt: when.Add(-time.Hour), MergedAt: when, IntoDefault: intoDefault}
	}
	statusless := func(id string, created time.Time) Deployment {
		d := StatusDeployment("acme/a", id, nil)
		d.CreatedAt = created
		return d
	}
	pending := StatusDeployment("acme/a", "acme/a#104", []DeploymentStatus{{State: "pending", CreatedAt: ago(3 * day)}})
	pending.CreatedAt = ago(3 * day)
	data := Data{
		Repos: []string{"acme/a", "acme/b"},
		PullRequests: []PullRequest{
			merged("acme/a", 1, ago(20*day), true),      // deployed by the deployment 10 days ago
			merged("acme/a", 2, ago(5*day), true),       // after the last deployment: counted
			merged("acme/a", 3, ago(5*day), false),      // into another branch: not counted
			merged("acme/a", 4, ago(2*time.Hour), true), // within the grace: not counted
			merged("acme/b", 6, ago(100*day), true),     // before the window: not counted
			merged("acme/b", 7, ago(30*day), true),      // a repository without deployments: counted
			merged("acme/b", 10, ago(day), true),        // exactly at the end of the grace: counted
			{Repo: "acme/b", Number: 8, State: PROpen, CreatedAt: ago(3 * day)},
			{Repo: "acme/b", Number: 9, State: PRClosed, CreatedAt: ago(3 * day), ClosedAt: ago(2 * day)},
			// Merged at the very instant of a deployment: deployed by it
			// (at or after the merge).
			merged("acme/a", 11, ago(10*day), true),
		},
		Deployments: []Deployment{
			success("acme/a", "acme/a#1", ago(10*day)),
			statusless("acme/a#101", ago(3*day)),                        // counted
			statusless("acme/a#102", ago(30*time.Minute)),               // may still get one: not counted
			statusless("acme/a#103", ago(91*day)),                       // before the window
			pending,                                                     // has a status
			{Repo: "acme/a", ID: "acme/a#105", CreatedAt: ago(2 * day)}, // a release or run: not a GitHub deployment
		},
		Incidents: []Incident{
			{ID: "acme/a#i1", Repo: "acme/a", OpenedAt: ago(8 * day)},  // 2 days after the deployment: attributed
			{ID: "acme/a#i2", Repo: "acme/a", OpenedAt: ago(day)},      // 9 days after: beyond the window
			{ID: "acme/b#i3", Repo: "acme/b", OpenedAt: ago(2 * day)},  // no deployment in its repository
			{ID: "central#i4", OpenedAt: ago(4 * day)},                 // of the whole source: any repository's deployment
			{ID: "acme/a#i5", Repo: "acme/a", OpenedAt: ago(10 * day)}, // at the deployment's instant: none strictly before
			{ID: "acme/a#i6", Repo: "acme/a", OpenedAt: ago(200 * day)},
			{ID: "acme/a#i7", Repo: "acme/a", OpenedAt: ago(3 * day), ClosedAt: ago(2 * day)}, // exactly 7 days after: attributed
		},
	}
	q := NewIndex(data).Quality(now)
	check := func(name string, got QualityCount, count int, examples ...string) {
		t.Helper()
		if got.Count != count || !slices.Equal(got.Examples, examples) {
			t.Errorf("%s = %d %v, want %d %v", name, got.Count, got.Examples, count, examples)
		}
	}
	check("undeployed pull requests", q.UndeployedPRs, 3, "acme/b#10", "acme/a#2", "acme/b#7")
	check("deployments without status", q.StatuslessDeployments, 1, "acme/a#101")
	check("incidents not attributed", q.UnattributedIncidents, 3, "acme/a#i2", "acme/b#i3", "acme/a#i5")

	// A longer attribution window attributes the incident 9 days after
	// the deployment.
	data.Attribution = 10 * day
	q = NewIndex(data).Quality(now)
	check("incidents not attributed with a 10-day window", q.UnattributedIncidents, 2, "acme/b#i3", "acme/a#i5")

	// Nothing to find: every count is 0, with no examples.
	q = NewIndex(Data{Repos: []string{"acme/a"}}).Quality(now)
	check("undeployed pull requests of no records", q.UndeployedPRs, 0)
	check("deployments without status of no records", q.StatuslessDeployments, 0)
	check("incidents not attributed of no records", q.UnattributedIncidents, 0)
}
