package github

import (
	"context"
	"strings"
	"testing"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/metrics/explain"
	mg "github.com/okrd/okrd/metrics/github"
	"github.com/okrd/okrd/sandbox/githubfake"
)

// The rows a source lists for a key result, after a poll and from the
// store in a process that has not polled (okrd explain): the value is
// the one Measure gives, it is recomputed from the rows, and each row
// links to GitHub.
func TestExplainAfterAPollAndFromTheStore(t *testing.T) {
	e := newEnv(t)
	e.fake.Update(func(d *githubfake.Data) {
		fixture(d)
		d.Repo("acme/web").PullRequests[0].Title = "Checkout: one-click pay"
	})
	e.spec.Repos = []string{"acme/web", "acme/api"}
	e.start()
	e.mustPoll()
	bs := []collectors.Binding{
		binding("lead_time_for_changes", "acme/web", "28d", q(0.5)),
		binding("change_failure_rate", "acme/web", "28d", nil),
		binding("time_to_restore", "", "28d", q(0.85)),
		binding("pr_throughput", "", "90d", nil),
		binding("open_prs", "acme/web", "28d", nil),
		binding("dora_level_lead_time_for_changes", "acme/web", "90d", nil),
	}
	ms := e.src.Measure(context.Background(), bs, testNow)
	offline := e.start() // a fresh source over the same store: it has not polled
	for _, src := range []*Source{e.src, offline} {
		for i, b := range bs {
			res, err := src.Explain(context.Background(), b, testNow)
			if err != nil {
				t.Fatalf("%s: %v", b.KeyResult.Metric, err)
			}
			got, ok := res.Recompute()
			if res.Rule == explain.Level {
				got = float64(mg.LeadTimeLevel(got)) // the level of the median
			}
			if res.Value != ms[i].Value || res.HasValue != ms[i].OK || ok != ms[i].OK || got != ms[i].Value {
				t.Fatalf("%s: explained %v (ok %v), recomputed %v (ok %v), measured %v (ok %v)", b.KeyResult.Metric, res.Value, res.HasValue, got, ok, ms[i].Value, ms[i].OK)
			}
			if len(res.Rows) == 0 {
				t.Fatalf("%s: no rows", b.KeyResult.Metric)
			}
			for _, r := range res.Rows {
				// The fake serves its API below /gh/ of its host, which is
				// where its web pages would be, as on GitHub Enterprise.
				// An incident links to its html_url as GitHub gave it.
				if !strings.HasPrefix(r.Link, e.srv.URL+"/acme/") && !(b.KeyResult.Metric == "time_to_restore" && strings.HasPrefix(r.Link, "https://github.com/acme/")) {
					t.Fatalf("%s: row link %q", b.KeyResult.Metric, r.Link)
				}
			}
		}
	}
	// Lead time of web: P1 (D2), P2 (D4), P9 (D6), with P1's title and
	// its pull request's address.
	res, err := e.src.Explain(context.Background(), bs[0], testNow)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range res.Rows {
		if r.Values[1] == 1 {
			found = true
			if r.Values[2] != "Checkout: one-click pay" || r.Link != e.srv.URL+"/acme/web/pull/1" || r.Contribution != 266400 {
				t.Fatalf("P1's row %+v", r)
			}
		}
	}
	if !found || len(res.Rows) != 3 {
		t.Fatalf("lead time rows %+v", res.Rows)
	}
}

func TestWebAddressesOfTheRecords(t *testing.T) {
	for _, c := range []struct{ api, signal, want string }{
		{"https://api.github.com/", SignalDeployments, "https://github.com/acme/web/deployments/production"},
		{"https://ghe.example.com/api/v3/", SignalReleases, "https://ghe.example.com/acme/web/releases/tag/v1.2%2Frc"},
		{"https://ghe.example.com/api/v3/", SignalWorkflowRuns, "https://ghe.example.com/acme/web/actions/runs/77"},
	} {
		s := &Source{spec: &Spec{restURL: c.api, Deployments: c.signal}}
		l := s.links()
		got := l.Deployment(mg.Deployment{Repo: "acme/web", ID: "acme/web#77", Ref: "v1.2/rc", Environment: "production"})
		if got != c.want {
			t.Errorf("%s %s: %q, want %q", c.api, c.signal, got, c.want)
		}
		if pr := l.PullRequest("acme/web", 5); !strings.HasSuffix(pr, "/acme/web/pull/5") || !strings.HasPrefix(c.want, strings.TrimSuffix(pr, "/acme/web/pull/5")) {
			t.Errorf("%s: pull request %q", c.api, pr)
		}
	}
}
