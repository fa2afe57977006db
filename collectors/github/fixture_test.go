package github

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/okr"
	"github.com/okrd/okrd/sandbox/githubfake"
)

// fixture fills the fake with two small repositories whose every metric
// TestFixtureMetricsEndToEnd computes by hand. The test's now is
// 2026-03-01T00:00:00Z: the 28-day window is (Feb 1 00:00, Mar 1 00:00].
func fixture(d *githubfake.Data) {
	st := func(state, at string) githubfake.DeploymentStatus {
		return githubfake.DeploymentStatus{State: state, CreatedAt: tv(at)}
	}
	dep := func(env, created string, sts ...githubfake.DeploymentStatus) *githubfake.Deployment {
		return &githubfake.Deployment{Environment: env, CreatedAt: tv(created), Statuses: sts}
	}
	commit := func(at string) []githubfake.Commit { return []githubfake.Commit{{AuthoredDate: tv(at)}} }
	review := func(author, state, at string) githubfake.Review {
		r := githubfake.Review{Author: author, State: state}
		if at != "" {
			r.SubmittedAt = tp(at)
		}
		return r
	}
	d.AddRepo(&githubfake.Repo{Owner: "acme", Name: "web",
		Deployments: []*githubfake.Deployment{
			dep("production", "2026-01-20T09:45:00Z", st("in_progress", "2026-01-20T09:50:00Z"), st("success", "2026-01-20T10:00:00Z")), // D1
			dep("production", "2026-02-03T11:50:00Z", st("success", "2026-02-03T12:00:00Z")),                                            // D2
			dep("production", "2026-02-05T08:45:00Z", st("in_progress", "2026-02-05T08:50:00Z"), st("failure", "2026-02-05T09:00:00Z")), // D3 failed
			dep("production", "2026-02-10T11:50:00Z", st("success", "2026-02-10T12:00:00Z"), st("inactive", "2026-02-20T12:00:00Z")),    // D4
			dep("production", "2026-02-27T11:59:00Z", st("queued", "2026-02-27T12:00:00Z"), st("in_progress", "2026-02-27T12:01:00Z")),  // D5 in progress
			dep("production", "2026-02-20T11:50:00Z", st("success", "2026-02-20T12:00:00Z")),                                            // D6
			dep("production", "2026-02-21T11:50:00Z", st("pending", "2026-02-21T12:00:00Z"), st("inactive", "2026-02-21T13:00:00Z")),    // D7 never succeeded
			dep("staging", "2026-02-15T11:50:00Z", st("success", "2026-02-15T12:00:00Z")),                                               // not production
		},
		Issues: []*githubfake.Issue{
			{Number: 101, Labels: []string{"incident"}, CreatedAt: tv("2026-02-12T12:00:00Z"), ClosedAt: tp("2026-02-12T15:00:00Z")},
			{Number: 102, Labels: []string{"incident"}, CreatedAt: tv("2026-02-19T12:00:00Z"), ClosedAt: tp("2026-02-20T12:00:00Z")},
			{Number: 103, Labels: []string{"incident", "sev2"}, CreatedAt: tv("2026-02-13T00:00:00Z"), ClosedAt: tp("2026-02-13T00:30:00Z")},
			{Number: 104, Labels: []string{"incident"}, CreatedAt: tv("2026-01-25T00:00:00Z"), ClosedAt: tp("2026-01-26T00:00:00Z")},
			{Number: 105, Labels: []string{"incident"}, CreatedAt: tv("2026-02-27T00:00:00Z")},
			{Number: 106, Labels: []string{"bug"}, CreatedAt: tv("2026-02-14T00:00:00Z")},
		},
		PullRequests: []*githubfake.PullRequest{
			// P1: the author's own comment is the first review; bob's is the first that counts.
			{Number: 1, Author: "alice", CreatedAt: tv("2026-02-01T10:00:00Z"), MergedAt: tp("2026-02-03T10:00:00Z"), Additions: 100, Deletions: 20,
				Commits: append(commit("2026-01-31T10:00:00Z"), githubfake.Commit{AuthoredDate: tv("2026-02-01T09:00:00Z")}),
				Reviews: []githubfake.Review{review("alice", "COMMENTED", "2026-02-01T11:00:00Z"), review("bob", "APPROVED", "2026-02-02T10:00:00Z")}},
			// P2: no commit date known: lead time starts at creation.
			{Number: 2, Author: "alice", CreatedAt: tv("2026-02-04T08:00:00Z"), MergedAt: tp("2026-02-04T12:00:00Z"), Additions: 5, Deletions: 5},
			// P3: merged after the last successful deployment: never deployed.
			// carol's pending review is invisible to okrd's token.
			{Number: 3, Author: "bob", CreatedAt: tv("2026-02-21T09:00:00Z"), MergedAt: tp("2026-02-22T09:00:00Z"), Additions: 300,
				Commits: commit("2026-02-21T08:00:00Z"),
				Reviews: []githubfake.Review{review("carol", "PENDING", ""), review("carol", "APPROVED", "2026-02-21T21:00:00Z")}},
			// P4: into a release branch, and labelled incident (the issues
			// list returns it; it is not an incident).
			{Number: 4, Author: "bob", BaseRef: "release/1.x", Labels: []string{"incident"}, CreatedAt: tv("2026-02-09T12:00:00Z"),
				MergedAt: tp("2026-02-10T00:00:00Z"), UpdatedAt: tv("2026-02-10T00:00:00Z"), Additions: 40, Deletions: 2},
			// P5: an open draft, reviewed.
			{Number: 5, Author: "carol", Draft: true, CreatedAt: tv("2026-02-25T00:00:00Z"),
				Reviews: []githubfake.Review{review("dave", "COMMENTED", "2026-02-26T00:00:00Z")}},
			// P6: the oldest open pull request.
			{Number: 6, Author: "dave", CreatedAt: tv("2026-01-10T00:00:00Z")},
			// P7: closed without merging, reviewed.
			{Number: 7, Author: "dave", CreatedAt: tv("2026-02-14T00:00:00Z"), ClosedAt: tp("2026-02-15T00:00:00Z"),
				Reviews: []githubfake.Review{review("erin", "CHANGES_REQUESTED", "2026-02-14T06:00:00Z")}},
			// P8: merged in December, deployed by D1.
			{Number: 8, Author: "erin", CreatedAt: tv("2025-12-01T00:00:00Z"), MergedAt: tp("2025-12-02T00:00:00Z"), Additions: 1},
			// P9: its commit is dated after its deployment (clock skew).
			{Number: 9, Author: "erin", CreatedAt: tv("2026-02-15T00:00:00Z"), MergedAt: tp("2026-02-20T11:00:00Z"), Additions: 1, Deletions: 1,
				Commits: commit("2026-02-20T13:00:00Z")},
		},
	})
	d.AddRepo(&githubfake.Repo{Owner: "acme", Name: "api",
		Deployments: []*githubfake.Deployment{
			dep("production", "2026-02-17T23:50:00Z", st("success", "2026-02-18T00:00:00Z")), // A1
		},
		PullRequests: []*githubfake.PullRequest{
			{Number: 1, Author: "frank", CreatedAt: tv("2026-02-16T00:00:00Z"), MergedAt: tp("2026-02-17T00:00:00Z"), Additions: 10},
		},
	})
}

// binding makes a key result binding with the window given.
func binding(metric, scope, window string, q *float64) collectors.Binding {
	kr := &config.KeyResult{ID: "kr", Metric: metric, Scope: scope, Window: window, Quantile: q}
	if window != config.WindowPeriod {
		d := map[string]time.Duration{"7d": 7 * 24 * time.Hour, "28d": 28 * 24 * time.Hour, "90d": 90 * 24 * time.Hour}[window]
		kr.WindowDuration = d
	}
	obj := &config.Objective{ID: "o", Resolved: okr.Period{Name: "2026-Q1",
		Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)}}
	return collectors.Binding{Objective: obj, KeyResult: kr}
}

func q(v float64) *float64 { return &v }

func TestFixtureMetricsEndToEnd(t *testing.T) {
	e := newEnv(t)
	e.fake.Update(fixture)
	e.spec.Repos = []string{"acme/web", "acme/api"}
	e.start()
	e.mustPoll()

	type want struct {
		v  float64
		ok bool
	}
	some := func(v float64) want { return want{v, true} }
	tests := []struct {
		name string
		b    collectors.Binding
		want want
	}{
		// web, 28 days: D2, D4, D6 succeeded; D3 failed; D5 (in progress),
		// D7 (inactive, never succeeded) and the staging deployment do not
		// count; D1 is older.
		{"web deploys 3 times", binding("deployment_count", "acme/web", "28d", nil), some(3)},
		{"web deploys 3/28 a day", binding("deployment_frequency", "acme/web", "28d", nil), some(3.0 / 28)},
		// Failed changes: D3 (failed); D4, blamed by #101 (2 days after it)
		// and #103, counted once; D6, blamed by #105 (still open, opened
		// 6.5 days after D6). #102 opened 9 days after D4, the latest
		// deployment before it: outside the 7-day attribution window.
		// 3 failed changes / 4 deployments.
		{"web change failure rate", binding("change_failure_rate", "acme/web", "28d", nil), some(0.75)},
		// Whole source: A1 adds a success: 3 / 5.
		{"source change failure rate", binding("change_failure_rate", "", "28d", nil), some(0.6)},
		// Lead times (deploy - first commit): P1 D2 Feb 3 12:00 - Jan 31
		// 10:00 = 266400; P2 D4 Feb 10 12:00 (D3 failed) - created Feb 4
		// 08:00 = 532800; P9 D6 Feb 20 12:00 - Feb 20 13:00 < 0 -> 0. P3 is
		// not deployed, P4 went into release/1.x.
		{"web median lead time", binding("lead_time_for_changes", "acme/web", "28d", nil), some(266400)},
		// p85: 266400 + 0.7 * 266400.
		{"web p85 lead time", binding("lead_time_for_changes", "acme/web", "28d", q(0.85)), some(452880)},
		// api: A1 Feb 18 00:00 - created Feb 16 00:00.
		{"api lead time", binding("lead_time_for_changes", "acme/api", "28d", nil), some(172800)},
		// Restore: #103 1800, #101 10800, #102 86400 (closed in window).
		{"web median time to restore", binding("time_to_restore", "acme/web", "28d", nil), some(10800)},
		// p95: 10800 + 0.9 * (86400 - 10800).
		{"web p95 time to restore", binding("time_to_restore", "acme/web", "28d", q(0.95)), some(78840)},
		{"api has no incident", binding("time_to_restore", "acme/api", "28d", nil), want{}},
		// Resolved: #101, #102, #103 in 28 days; #104 (closed Jan 26)
		// is in the period too; #105 is open.
		{"web resolved 3 incidents", binding("incidents_resolved", "acme/web", "28d", nil), some(3)},
		{"web resolved 4 incidents in the period", binding("incidents_resolved", "acme/web", "period", nil), some(4)},
		{"no incident resolved in 7 days is 0", binding("incidents_resolved", "acme/web", "7d", nil), some(0)},
		{"api resolved no incident: 0", binding("incidents_resolved", "acme/api", "28d", nil), some(0)},
		// Merged in window into any branch: P1, P2, P3, P4, P9.
		{"web throughput", binding("pr_throughput", "acme/web", "28d", nil), some(5)},
		{"source throughput", binding("pr_throughput", "", "28d", nil), some(6)},
		// Cycle: 14400, 43200, 86400, 172800, 471600.
		{"web median cycle time", binding("pr_cycle_time", "acme/web", "28d", nil), some(86400)},
		// Sizes: 2, 10, 42, 120, 300.
		{"web median size", binding("pr_size", "acme/web", "28d", nil), some(42)},
		// First reviews: P7 21600, P3 43200, P1 86400 (bob's, not alice's
		// own), P5 86400.
		{"web median time to first review", binding("time_to_first_review", "acme/web", "28d", nil), some(64800)},
		{"web open pull requests", binding("open_prs", "acme/web", "28d", nil), some(2)},
		// P5 is a draft (isDraft), P6 is not.
		{"web open draft pull requests", binding("open_draft_prs", "acme/web", "28d", nil), some(1)},
		{"source open draft pull requests", binding("open_draft_prs", "", "28d", nil), some(1)},
		{"api open draft pull requests", binding("open_draft_prs", "acme/api", "28d", nil), some(0)},
		// P6: Jan 10 to Mar 1 = 50 days.
		{"web oldest open pull request", binding("oldest_open_pr_age", "acme/web", "28d", nil), some(50 * 86400)},
		// 90 days add D1 (succeeded, blamed by #104): 4 + 1 deployments, 4
		// failed changes.
		{"web change failure rate over 90 days", binding("change_failure_rate", "acme/web", "90d", nil), some(0.8)},
		// The period (2026-Q1, Jan 1 to now) holds D1 too, and 59 days.
		{"web deployment frequency over the period", binding("deployment_frequency", "acme/web", "period", nil), some(4.0 / 59)},
		{"web deployment frequency level is medium", binding("dora_level_deployment_frequency", "acme/web", "28d", nil), some(2)},
		{"web lead time level is high", binding("dora_level_lead_time_for_changes", "acme/web", "28d", nil), some(3)},
		{"web change failure level is low", binding("dora_level_change_failure_rate", "acme/web", "28d", nil), some(1)},
		{"web time to restore level is high", binding("dora_level_time_to_restore", "acme/web", "28d", nil), some(3)},
		{"a repository the source does not have has no value", binding("deployment_count", "acme/other", "28d", nil), want{}},
	}
	bs := make([]collectors.Binding, len(tests))
	for i, tc := range tests {
		bs[i] = tc.b
	}
	ms := e.src.Measure(context.Background(), bs, testNow)
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := ms[i]
			if m.Err != nil {
				t.Fatal(m.Err)
			}
			if m.OK != tc.want.ok || math.Abs(m.Value-tc.want.v) > 1e-6 {
				t.Fatalf("%s = %v (ok %v), want %v (ok %v)", tc.b.KeyResult.Metric, m.Value, m.OK, tc.want.v, tc.want.ok)
			}
		})
	}
}
