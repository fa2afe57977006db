package github

import (
	"strings"
	"testing"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/sandbox/githubfake"
)

// The fixture's data-quality findings at 2026-03-01, by hand:
//   - merged pull requests into the default branch without a deployment
//     after them: web #3 (merged Feb 22, after D6 of Feb 20); #4 went into
//     release/1.x, #8 was deployed by D1, api #1 by A1;
//   - incidents not attributed: web #102, opened 9 days after D4, the
//     latest success before it; #101, #103 (D4), #104 (D1) and #105 (D6)
//     are within 7 days of theirs;
//   - deployments without any status: the two added below, of which the
//     one created 30 minutes before now may still get one.
func TestDataQualityOfTheFixture(t *testing.T) {
	e := newEnv(t)
	e.fake.Update(fixture)
	e.fake.Update(func(d *githubfake.Data) {
		web := d.Repo("acme/web")
		web.Deployments = append(web.Deployments,
			&githubfake.Deployment{ID: 9001, Environment: "production", CreatedAt: tv("2026-02-26T10:00:00Z")},
			&githubfake.Deployment{ID: 9002, Environment: "production", CreatedAt: tv("2026-02-28T23:30:00Z")},
			&githubfake.Deployment{ID: 9003, Environment: "staging", CreatedAt: tv("2026-02-26T10:00:00Z")})
	})
	e.spec.Repos = []string{"acme/web", "acme/api"}
	e.start()
	if got := e.src.DataQuality(); got != nil {
		t.Fatalf("data quality before the first poll = %+v", got)
	}
	e.mustPoll()
	want := []collectors.QualityCheck{
		{Check: collectors.CheckUndeployedPullRequests, Count: 1, Examples: []collectors.QualityExample{{ID: "acme/web#3"}}},
		{Check: collectors.CheckStatuslessDeployments, Count: 1, Examples: []collectors.QualityExample{{ID: "acme/web#9001"}}},
		{Check: collectors.CheckUnattributedIncidents, Count: 1, Examples: []collectors.QualityExample{{ID: "acme/web#102"}}},
	}
	got := e.src.DataQuality()
	if len(got) != len(want) {
		t.Fatalf("data quality = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].Check != want[i].Check || got[i].Count != want[i].Count || len(got[i].Examples) != len(want[i].Examples) ||
			len(got[i].Examples) > 0 && got[i].Examples[0] != want[i].Examples[0] {
			t.Errorf("check %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	out := exposition(t, e)
	for _, line := range []string{
		"# HELP okrd_data_quality_findings Records of a source that fail a data-quality check",
		"# TYPE okrd_data_quality_findings gauge\n",
		`okrd_data_quality_findings{check="merged_pull_requests_not_deployed",source="gh"} 1` + "\n",
		`okrd_data_quality_findings{check="deployments_without_status",source="gh"} 1` + "\n",
		`okrd_data_quality_findings{check="incidents_not_attributed",source="gh"} 1` + "\n",
	} {
		if !strings.Contains(out, line) {
			t.Errorf("exposition lacks %q", line)
		}
	}

	// With releases as the deployment signal there are no statuses to
	// check, and no release at all: every merge is undeployed.
	r := newEnv(t)
	r.fake.Update(fixture)
	r.spec.Repos = []string{"acme/web", "acme/api"}
	r.spec.Deployments = SignalReleases
	r.start()
	r.mustPoll()
	got = r.src.DataQuality()
	if len(got) != 2 || got[0].Check != collectors.CheckUndeployedPullRequests || got[1].Check != collectors.CheckUnattributedIncidents {
		t.Fatalf("checks with releases = %+v, want undeployed pull requests and unattributed incidents", got)
	}
	// Merged into the default branch since Dec 1: web #1, #2, #3, #8 (Dec
	// 2), #9 and api #1; every incident is unattributed: #101 to #105.
	if got[0].Count != 6 || got[1].Count != 5 {
		t.Errorf("with releases: %d undeployed pull requests and %d unattributed incidents, want 6 and 5", got[0].Count, got[1].Count)
	}
	if out := exposition(t, r); strings.Contains(out, "deployments_without_status") {
		t.Error("a source with releases exports the deployments_without_status check")
	}
}
