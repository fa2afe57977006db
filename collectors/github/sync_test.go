package github

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
	mg "github.com/okrd/okrd/metrics/github"
	"github.com/okrd/okrd/sandbox/githubfake"
	"github.com/okrd/okrd/store"
)

// value measures one metric over 28 days.
func (e *env) value(metric, scope string) (float64, bool) {
	e.t.Helper()
	m := e.src.Measure(context.Background(), []collectors.Binding{binding(metric, scope, "28d", nil)}, e.clock.now())[0]
	if m.Err != nil {
		e.t.Fatal(m.Err)
	}
	return m.Value, m.OK
}

func (e *env) mustValue(metric, scope string, want float64) {
	e.t.Helper()
	v, ok := e.value(metric, scope)
	if !ok || v != want {
		e.t.Fatalf("%s(%s) = %v (ok %v), want %v", metric, scope, v, ok, want)
	}
}

// paths lists the requests answered since the last reset, as "METHOD
// path -> status".
func (e *env) paths() []string {
	var out []string
	for _, r := range e.fake.Requests() {
		out = append(out, fmt.Sprintf("%s %s -> %d", r.Method, r.Path, r.Status))
	}
	return out
}

func TestUnchangedPollCostsNothingEvenAfterARestart(t *testing.T) {
	e := newEnv(t)
	e.fake.Update(fixture)
	e.spec.Repos = []string{"acme/web", "acme/api"}
	e.start()
	e.mustPoll()
	// D5 is still in progress: its statuses are watched with their ETag.
	e.fake.ResetRequests()
	e.mustPoll()
	for _, r := range e.fake.Requests() {
		if r.Status != 304 || r.Cost != 0 {
			t.Errorf("unchanged poll: %s %s -> %d (cost %d), want a free 304", r.Method, r.Path, r.Status, r.Cost)
		}
	}
	// web: pulls, deployments, D5's statuses, issues; api: pulls,
	// deployments, issues.
	if n := len(e.fake.Requests()); n != 7 {
		t.Errorf("unchanged poll made %d requests, want 7: %v", n, e.paths())
	}
	// A restart keeps the ETags: they are in the stored cursors.
	e.start()
	e.fake.ResetRequests()
	e.mustPoll()
	if used := e.fake.Used("core") + e.fake.Used("graphql"); used != 0 {
		t.Errorf("unchanged poll after a restart spent %d points: %v", used, e.paths())
	}
	e.mustValue("deployment_count", "acme/web", 3)
}

func TestIncrementalPollReadsOnlyWhatChanged(t *testing.T) {
	e := newEnv(t)
	e.fake.Update(fixture)
	e.start()
	e.mustPoll()
	e.mustValue("pr_throughput", "acme/web", 5)

	// A new pull request is merged and deployed, and D5 finishes.
	e.clock.advance(time.Hour)
	e.fake.Update(func(d *githubfake.Data) {
		r := d.Repo("acme/web")
		r.PullRequests = append(r.PullRequests, &githubfake.PullRequest{Number: 10, Author: "bob",
			CreatedAt: tv("2026-02-28T10:00:00Z"), MergedAt: tp("2026-02-28T20:00:00Z"), Additions: 7})
		for _, dep := range r.Deployments {
			if dep.CreatedAt.Equal(tv("2026-02-27T11:59:00Z")) {
				dep.Statuses = append(dep.Statuses, githubfake.DeploymentStatus{State: "success", CreatedAt: tv("2026-02-28T21:00:00Z")})
				dep.UpdatedAt = tv("2026-02-28T21:00:00Z")
			}
		}
	})
	e.fake.ResetRequests()
	e.mustPoll()
	rest, gql := e.requests()
	// pulls probe, one GraphQL page; deployments probe (304), D5's
	// statuses (changed), one GraphQL page down to D5, D5 is no longer
	// pending; issues (304).
	if gql != 2 || rest != 4 {
		t.Errorf("incremental poll: %d REST + %d GraphQL requests, want 4 + 2: %v", rest, gql, e.paths())
	}
	e.mustValue("pr_throughput", "acme/web", 6)
	// D5 succeeded Feb 28 21:00: D2, D4, D5, D6.
	e.mustValue("deployment_count", "acme/web", 4)
	// D5 deploys #10 (Feb 28 21:00 - created Feb 28 10:00 = 39600) and #3,
	// merged Feb 22 and not deployed until now (Feb 28 21:00 - first
	// commit Feb 21 08:00 = 651600), besides 0, 266400 and 532800.
	got := e.src.view.Load().ix.Scope("acme/web").LeadTimes(mg.Last(28*24*time.Hour, e.clock.now()))
	if want := (mg.Distribution{0, 39600, 266400, 532800, 651600}); !slices.Equal(got, want) {
		t.Errorf("lead times = %v, want %v", got, want)
	}
}

func TestMergedPullRequestIsWrittenOnce(t *testing.T) {
	e := newEnv(t)
	e.fake.Update(fixture)
	e.start()
	e.mustPoll()
	rec := func(id string) store.Record {
		var out store.Record
		e.st.Records(context.Background(), "gh", KindPullRequest, func(r store.Record) error {
			if r.ID == id {
				out = r
			}
			return nil
		})
		return out
	}
	before := rec("acme/web#1")
	// A comment on the merged #1 and on the open #6 bumps updated_at.
	e.fake.Update(func(d *githubfake.Data) {
		for _, p := range d.Repo("acme/web").PullRequests {
			if p.Number == 1 || p.Number == 6 {
				p.UpdatedAt = tv("2026-02-28T23:00:00Z")
			}
		}
	})
	e.mustPoll()
	after := rec("acme/web#1")
	if !after.UpdatedAt.Equal(before.UpdatedAt) || string(after.Data) != string(before.Data) {
		t.Errorf("merged #1 was written again: %s -> %s", before.Data, after.Data)
	}
	if got := rec("acme/web#6").UpdatedAt; !got.Equal(tv("2026-02-28T23:00:00Z")) {
		t.Errorf("open #6 not updated: updated_at %v", got)
	}
}

func TestRateLimitedBackfillResumesWhereItStopped(t *testing.T) {
	e := newEnv(t)
	e.fake.Limits = map[string]int{"graphql": 6, "core": 5000}
	e.fake.Update(func(d *githubfake.Data) {
		d.Generate(githubfake.GenOptions{Owner: "acme", Repos: 1, PullRequests: 250, Deployments: 5, Now: testNow, Days: 90, Seed: 7})
	})
	e.spec.Repos = []string{"acme/svc-00"}
	e.spec.RateLimitReserve = 0
	e.start()
	// Each page of 100 pull requests costs 3 points (the page, and 100
	// each of commits, timelines and labels): two pages spend the whole
	// budget of 6, and the third waits for the reset.
	err := e.poll()
	var ra *collectors.RetryAfterError
	if !errorsAs(err, &ra) {
		t.Fatalf("poll = %v, want a RetryAfterError", err)
	}
	if _, gql := e.requests(); gql != 2 {
		t.Fatalf("GraphQL requests before the limit = %d, want 2: %v", gql, e.paths())
	}
	if n := countRecords(t, e.st, KindPullRequest); n != 200 {
		t.Fatalf("stored %d pull requests before the limit, want 200", n)
	}
	if want := time.Unix(testNow.Add(time.Hour).Unix(), 0).Add(time.Second); !ra.Until.Equal(want) {
		t.Errorf("retry after %v, want the reset %v", ra.Until, want)
	}
	// The next poll before the reset sends nothing.
	e.fake.ResetRequests()
	if err := e.poll(); !errorsAs(err, &ra) {
		t.Fatalf("poll before the reset = %v, want a RetryAfterError", err)
	}
	if _, gql := e.requests(); gql != 0 {
		t.Errorf("GraphQL requests before the reset: %v", e.paths())
	}
	// After the reset the sync goes on from the third page.
	e.clock.advance(time.Hour + 2*time.Second)
	e.fake.ResetRequests()
	e.mustPoll()
	var pages int
	for _, r := range e.fake.Requests() {
		if r.Path == "/graphql" {
			pages++
		}
	}
	// The last pull request page, then one deployments page.
	if pages != 2 {
		t.Errorf("GraphQL requests after the reset = %d, want 2: %v", pages, e.paths())
	}
	if n := countRecords(t, e.st, KindPullRequest); n != 250 {
		t.Errorf("stored %d pull requests, want 250", n)
	}
}

func errorsAs(err error, target **collectors.RetryAfterError) bool {
	if err == nil {
		return false
	}
	ra, ok := unwrapRetryAfter(err)
	if ok {
		*target = ra
	}
	return ok
}

func unwrapRetryAfter(err error) (*collectors.RetryAfterError, bool) {
	for err != nil {
		if ra, ok := err.(*collectors.RetryAfterError); ok {
			return ra, true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return nil, false
		}
		err = u.Unwrap()
	}
	return nil, false
}

func countRecords(t *testing.T, st store.Store, kind string) int {
	t.Helper()
	counts, err := st.CountRecords(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return int(counts["gh"][kind])
}

func TestRESTListsArePagedByLinkHeaders(t *testing.T) {
	e := newEnv(t)
	e.fake.Update(func(d *githubfake.Data) {
		d.Generate(githubfake.GenOptions{Owner: "acme", Repos: 1, PullRequests: 3, Deployments: 230, Incidents: 250, Now: testNow, Days: 300, Seed: 3})
	})
	e.spec.Repos = []string{"acme/svc-00"}
	e.spec.Deployments = SignalReleases
	e.start()
	e.mustPoll()
	var issuePages, releasePages []string
	for _, r := range e.fake.Requests() {
		switch {
		case strings.HasPrefix(r.Path, "/repos/acme/svc-00/issues"):
			issuePages = append(issuePages, r.Path)
		case strings.HasPrefix(r.Path, "/repos/acme/svc-00/releases"):
			releasePages = append(releasePages, r.Path)
		}
	}
	// 250 incidents: pages 1 to 3 of 100, each on the original path.
	if len(issuePages) != 3 || !strings.Contains(issuePages[2], "page=3") {
		t.Errorf("issue pages = %v, want 3", issuePages)
	}
	if n := countRecords(t, e.st, collectors.IncidentKind); n != 250 {
		t.Errorf("stored %d incidents, want 250", n)
	}
	var rels int
	e.fake.Update(func(d *githubfake.Data) { rels = len(d.Repo("acme/svc-00").Releases) })
	if want := (rels + 99) / 100; len(releasePages) != want || countRecords(t, e.st, KindRelease) != rels {
		t.Errorf("release pages = %d for %d releases (stored %d), want %d", len(releasePages), rels, countRecords(t, e.st, KindRelease), want)
	}
	v, _ := e.value("deployment_count", "")
	if v == 0 {
		t.Error("no release counted as a deployment")
	}
}

func TestReleasesAsTheDeploymentSignal(t *testing.T) {
	e := newEnv(t)
	e.fake.Update(func(d *githubfake.Data) {
		d.AddRepo(&githubfake.Repo{Owner: "acme", Name: "web",
			PullRequests: []*githubfake.PullRequest{{Number: 1, Author: "a", CreatedAt: tv("2026-02-10T00:00:00Z"), MergedAt: tp("2026-02-10T12:00:00Z")}},
			Releases: []*githubfake.Release{
				{TagName: "v1", CreatedAt: tv("2026-02-11T00:00:00Z"), PublishedAt: tp("2026-02-11T06:00:00Z")},
				{TagName: "v2-rc1", Prerelease: true, CreatedAt: tv("2026-02-12T00:00:00Z"), PublishedAt: tp("2026-02-12T00:00:00Z")},
				{TagName: "v2", Draft: true, CreatedAt: tv("2026-02-13T00:00:00Z")},
				{TagName: "v0", CreatedAt: tv("2026-01-01T00:00:00Z"), PublishedAt: tp("2026-01-01T00:00:00Z")},
			}})
	})
	e.spec.Deployments = SignalReleases
	e.start()
	e.mustPoll()
	// v1 only: v2-rc1 is a prerelease, v2 a draft, v0 older than 28 days.
	e.mustValue("deployment_count", "acme/web", 1)
	// #1: v1 published Feb 11 06:00 - created Feb 10 00:00 = 30 hours.
	e.mustValue("lead_time_for_changes", "acme/web", 30*3600)
	// Publishing the draft changes the first page: it is read again.
	e.fake.Update(func(d *githubfake.Data) {
		for _, r := range d.Repo("acme/web").Releases {
			if r.TagName == "v2" {
				r.Draft, r.PublishedAt = false, tp("2026-02-14T00:00:00Z")
			}
		}
	})
	e.mustPoll()
	e.mustValue("deployment_count", "acme/web", 2)
	e.fake.ResetRequests()
	e.mustPoll()
	if used := e.fake.Used("core"); used != 0 {
		t.Errorf("unchanged poll spent %d points: %v", used, e.paths())
	}
}

func TestWorkflowRunsAsTheDeploymentSignal(t *testing.T) {
	e := newEnv(t)
	run := func(branch, status, conclusion, created, updated string) *githubfake.WorkflowRun {
		return &githubfake.WorkflowRun{HeadBranch: branch, Status: status, Conclusion: conclusion, CreatedAt: tv(created), UpdatedAt: tv(updated)}
	}
	e.fake.Update(func(d *githubfake.Data) {
		d.AddRepo(&githubfake.Repo{Owner: "acme", Name: "web",
			PullRequests: []*githubfake.PullRequest{{Number: 1, Author: "a", CreatedAt: tv("2026-02-10T00:00:00Z"), MergedAt: tp("2026-02-10T12:00:00Z")}},
			Workflows: []*githubfake.Workflow{
				{Name: "Deploy", Path: ".github/workflows/deploy.yml", Runs: []*githubfake.WorkflowRun{
					run("main", "completed", "success", "2026-02-11T00:00:00Z", "2026-02-11T00:20:00Z"),
					run("main", "completed", "failure", "2026-02-12T00:00:00Z", "2026-02-12T00:05:00Z"),
					run("main", "completed", "timed_out", "2026-02-12T06:00:00Z", "2026-02-12T07:00:00Z"),
					run("main", "completed", "cancelled", "2026-02-13T00:00:00Z", "2026-02-13T00:01:00Z"),
					run("feature-x", "completed", "success", "2026-02-14T00:00:00Z", "2026-02-14T00:10:00Z"),
					run("main", "in_progress", "", "2026-02-28T23:00:00Z", "2026-02-28T23:01:00Z"),
				}},
				{Name: "CI", Path: ".github/workflows/ci.yml", Runs: []*githubfake.WorkflowRun{
					run("main", "completed", "success", "2026-02-15T00:00:00Z", "2026-02-15T00:10:00Z"),
				}},
			}})
	})
	e.spec.Deployments = SignalWorkflowRuns
	e.spec.Workflow = "deploy.yml"
	e.start()
	e.mustPoll()
	// Success Feb 11 on main; failures Feb 12 (failure, timed_out);
	// cancelled ignored; the feature branch, the in-progress run and CI
	// do not count.
	e.mustValue("deployment_count", "acme/web", 1)
	e.mustValue("change_failure_rate", "acme/web", 2.0/3)
	// #1: Feb 11 00:20 - Feb 10 00:00 = 24h20m.
	e.mustValue("lead_time_for_changes", "acme/web", 24*3600+20*60)
	// The run in progress completes: the first page changes.
	e.fake.Update(func(d *githubfake.Data) {
		for _, r := range d.Repo("acme/web").Workflows[0].Runs {
			if r.Status == "in_progress" {
				r.Status, r.Conclusion, r.UpdatedAt = "completed", "success", tv("2026-02-28T23:30:00Z")
			}
		}
	})
	e.mustPoll()
	e.mustValue("deployment_count", "acme/web", 2)
	if n := countRecords(t, e.st, KindWorkflowRun); n != 5 {
		t.Errorf("stored %d runs, want the 5 on main", n)
	}
}

func TestEnvironmentPattern(t *testing.T) {
	e := newEnv(t)
	st := func(state, at string) githubfake.DeploymentStatus {
		return githubfake.DeploymentStatus{State: state, CreatedAt: tv(at)}
	}
	e.fake.Update(func(d *githubfake.Data) {
		d.AddRepo(&githubfake.Repo{Owner: "acme", Name: "web", Deployments: []*githubfake.Deployment{
			{Environment: "prod-eu", CreatedAt: tv("2026-02-10T00:00:00Z"), Statuses: []githubfake.DeploymentStatus{st("success", "2026-02-10T00:10:00Z")}},
			{Environment: "prod-us", CreatedAt: tv("2026-02-11T00:00:00Z"), Statuses: []githubfake.DeploymentStatus{st("error", "2026-02-11T00:10:00Z")}},
			{Environment: "staging", CreatedAt: tv("2026-02-12T00:00:00Z"), Statuses: []githubfake.DeploymentStatus{st("success", "2026-02-12T00:10:00Z")}},
		}})
	})
	e.spec.Environment = "prod-*"
	e.start()
	e.mustPoll()
	e.mustValue("deployment_count", "acme/web", 1)
	e.mustValue("change_failure_rate", "acme/web", 0.5)
	// The pattern cannot be a GraphQL filter: the probe lists every
	// environment.
	for _, p := range e.paths() {
		if strings.Contains(p, "environment=") {
			t.Errorf("request filtered by environment with a pattern: %s", p)
		}
	}
}

func TestReposByPattern(t *testing.T) {
	e := newEnv(t)
	e.fake.Update(func(d *githubfake.Data) {
		for i, name := range []string{"svc-a", "svc-b", "web", "svc-fork", "svc-old"} {
			d.AddRepo(&githubfake.Repo{Owner: "acme", Name: name, Fork: name == "svc-fork", Archived: name == "svc-old",
				CreatedAt: testNow.Add(-time.Duration(i) * time.Hour)})
		}
		// 120 more repositories: the listing has two pages.
		for i := range 120 {
			d.AddRepo(&githubfake.Repo{Owner: "acme", Name: fmt.Sprintf("lib-%03d", i), CreatedAt: testNow.Add(-time.Duration(i+10) * time.Hour)})
		}
		d.AddUser("jdoe")
		d.AddRepo(&githubfake.Repo{Owner: "jdoe", Name: "svc-z"})
	})
	e.spec.Repos = []string{"acme/svc-*", "jdoe/*"}
	e.start()
	e.mustPoll()
	if want := []string{"acme/svc-a", "acme/svc-b", "jdoe/svc-z"}; !slices.Equal(e.src.repos, want) {
		t.Errorf("repos = %v, want %v", e.src.repos, want)
	}
	var listing []string
	for _, p := range e.paths() {
		if strings.Contains(p, "/repos?") {
			listing = append(listing, p)
		}
	}
	// acme: 2 pages; jdoe: /orgs 404, then /users.
	if len(listing) != 4 || !strings.Contains(listing[2], "/orgs/jdoe/repos") || !strings.Contains(listing[2], "404") {
		t.Errorf("listing requests = %v", listing)
	}
	e.fake.ResetRequests()
	e.mustPoll()
	if used := e.fake.Used("core"); used != 0 {
		t.Errorf("unchanged listing spent %d points: %v", used, e.paths())
	}
	// A new matching repository is found by the next poll.
	e.fake.Update(func(d *githubfake.Data) {
		d.AddRepo(&githubfake.Repo{Owner: "acme", Name: "svc-c", CreatedAt: testNow})
	})
	e.mustPoll()
	if !slices.Contains(e.src.repos, "acme/svc-c") {
		t.Errorf("repos = %v, want acme/svc-c among them", e.src.repos)
	}
}

func TestIncidentsFromOneRepository(t *testing.T) {
	e := newEnv(t)
	e.fake.Update(fixture)
	e.fake.Update(func(d *githubfake.Data) {
		// The fixture's incidents move to acme/ops.
		web := d.Repo("acme/web")
		d.AddRepo(&githubfake.Repo{Owner: "acme", Name: "ops", Issues: web.Issues})
		web.Issues = nil
	})
	e.spec.Repos = []string{"acme/web", "acme/api"}
	e.spec.IncidentsRepo = "acme/ops"
	e.start()
	e.mustPoll()
	// An incident of the whole source blames the latest deployment of any
	// repository: #101 and #103 blame D4, #105 D6 (A1 on Feb 18 is older
	// than D6); #102's latest deployment before it is A1 (Feb 18 00:00,
	// 1.5 days): blamed too. web: D3, D4, D6 of 4; api: A1 of 1.
	e.mustValue("change_failure_rate", "acme/web", 0.75)
	e.mustValue("change_failure_rate", "acme/api", 1)
	e.mustValue("change_failure_rate", "", 0.8)
	// Every repository is restored with the service: api's median is
	// web's (1800, 10800, 86400).
	e.mustValue("time_to_restore", "acme/api", 10800)
	for _, p := range e.paths() {
		if strings.Contains(p, "/repos/acme/web/issues") {
			t.Errorf("incidents read from a repository other than incidents_repo: %s", p)
		}
	}
}

func TestIncidentsFromAJiraSource(t *testing.T) {
	e := newEnv(t)
	e.fake.Update(fixture)
	e.spec.Repos = []string{"acme/web", "acme/api"}
	e.spec.IncidentsSource = "jira"
	// The Jira source keeps its incidents in the shared shape.
	in := collectors.Incident{ID: "OPS-1", Title: "Checkout down", Scope: "OPS",
		OpenedAt: tv("2026-02-18T06:00:00Z"), ClosedAt: tp("2026-02-18T07:00:00Z")}
	data, _ := json.Marshal(in)
	err := e.st.Update(context.Background(), func(tx store.Tx) error {
		return tx.PutRecords(context.Background(), store.Record{Source: "jira", Scope: "OPS", Kind: collectors.IncidentKind, ID: "OPS-1", Data: data})
	})
	if err != nil {
		t.Fatal(err)
	}
	e.start()
	e.mustPoll()
	// OPS-1 opened 6 hours after A1, the latest deployment of any
	// repository: api's change failure rate is 1/1, web's only D3.
	e.mustValue("change_failure_rate", "acme/api", 1)
	e.mustValue("change_failure_rate", "acme/web", 0.25)
	e.mustValue("time_to_restore", "acme/web", 3600)
	for _, p := range e.paths() {
		if strings.Contains(p, "/issues") {
			t.Errorf("GitHub issues read although incidents come from Jira: %s", p)
		}
	}
}

func TestGitHubEnterpriseServer(t *testing.T) {
	e := newEnv(t)
	ghes := githubfake.New(testToken)
	ghes.Enterprise, ghes.NoRateLimits = true, true
	ghes.Now = e.clock.now
	ghes.Update(fixture)
	srv := httptest.NewServer(ghes)
	defer srv.Close()
	// A bare host: okrd completes it to /api/v3/ and /api/graphql.
	e.spec.URL = srv.URL
	e.start()
	if e.spec.restURL != srv.URL+"/api/v3/" || e.spec.graphqlURL != srv.URL+"/api/graphql" {
		t.Fatalf("endpoints = %s, %s", e.spec.restURL, e.spec.graphqlURL)
	}
	e.mustPoll()
	e.mustValue("deployment_count", "acme/web", 3)
	var graphql bool
	for _, r := range ghes.Requests() {
		graphql = graphql || r.Path == "/graphql"
		if r.Status >= 400 {
			t.Errorf("%s %s -> %d", r.Method, r.Path, r.Status)
		}
	}
	if !graphql {
		t.Error("no GraphQL request reached /api/graphql")
	}
}

func TestGitHubAppInstallationAuth(t *testing.T) {
	e := newEnv(t)
	e.fake.Update(fixture)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	e.fake.AddApp(4242, &key.PublicKey, 77)
	e.spec.Token = ""
	e.spec.AppID, e.spec.InstallationID = 4242, 77
	e.spec.PrivateKey = config.Secret(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	e.start()
	e.mustPoll()
	e.mustPoll()
	var tokens int
	for _, r := range e.fake.Requests() {
		if r.Path == "/app/installations/77/access_tokens" {
			tokens++
		}
	}
	if tokens != 1 {
		t.Errorf("installation token requested %d times over two polls, want once", tokens)
	}
	e.mustValue("deployment_count", "acme/web", 3)

	// A wrong installation is a permanent error naming the source.
	e.spec.InstallationID = 78
	e.start()
	err = e.poll()
	if !collectors.IsPermanent(err) || !strings.Contains(err.Error(), `github source "gh"`) {
		t.Errorf("poll with an unknown installation = %v, want a permanent error naming the source", err)
	}
}

func TestAStuckDeploymentIsWatchedOnlyForTheLookback(t *testing.T) {
	e := newEnv(t)
	e.fake.Update(fixture)
	e.start()
	e.mustPoll()
	statusProbes := func() int {
		n := 0
		for _, r := range e.fake.Requests() {
			if strings.HasSuffix(strings.Split(r.Path, "?")[0], "/statuses") {
				n++
			}
		}
		return n
	}
	// D5 (created Feb 27 11:59, in progress) is watched...
	e.fake.ResetRequests()
	e.mustPoll()
	if n := statusProbes(); n != 1 {
		t.Fatalf("statuses probes = %d, want 1 for D5: %v", n, e.paths())
	}
	// ... until 72 hours after its creation; dropping it costs nothing.
	e.clock.advance(60 * time.Hour)
	e.fake.ResetRequests()
	e.mustPoll()
	_, gql := e.requests()
	if n := statusProbes(); n != 0 || gql != 0 || e.fake.Used("core") != 0 {
		t.Errorf("after the lookback: %d statuses probes, %d GraphQL requests, %d points: %v", n, gql, e.fake.Used("core"), e.paths())
	}
	var cur deployCursor
	e.src.cursor(cursorScope("acme/web", KindDeployment), &cur)
	if len(cur.Pending) != 0 {
		t.Errorf("pending after the lookback = %v", cur.Pending)
	}
}

func TestADraftMarkedReadyLeavesTheDraftCount(t *testing.T) {
	e := newEnv(t)
	e.fake.Update(fixture)
	e.start()
	e.mustPoll()
	e.mustValue("open_draft_prs", "acme/web", 1)

	// P5 is marked ready for review, which updates it.
	e.clock.advance(time.Hour)
	e.fake.Update(func(d *githubfake.Data) {
		for _, p := range d.Repo("acme/web").PullRequests {
			if p.Number == 5 {
				p.SetDraft(false, tv("2026-02-28T23:00:00Z"))
			}
		}
	})
	e.mustPoll()
	e.mustValue("open_draft_prs", "acme/web", 0)
	// It is still open.
	e.mustValue("open_prs", "acme/web", 2)
	// Its timeline says when it stopped being a draft.
	ms := e.src.History(context.Background(), []collectors.HistoryRequest{{Binding: binding("open_draft_prs", "acme/web", "28d", nil),
		At: []time.Time{tv("2026-02-28T22:59:59Z"), tv("2026-02-28T23:00:00Z")}}})[0]
	if !ms[0].OK || ms[0].Value != 1 || !ms[1].OK || ms[1].Value != 0 {
		t.Errorf("open drafts before and after it was marked ready = %+v", ms)
	}
}
