package github

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/okrd/okrd/sandbox/githubfake"
)

// followedSeries renders what a source exports, as a scrape of it would.
func followedSeries(t *testing.T, src *Source) string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(src); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

func mustFollow(t *testing.T, src *Source) bool {
	t.Helper()
	changed, err := src.Follow(context.Background())
	if err != nil {
		t.Fatalf("Follow: %v", err)
	}
	return changed
}

func TestAFollowerExportsWhatThePollingSourceExports(t *testing.T) {
	e := newEnv(t)
	e.fake.Update(fixture)
	e.spec.Repos = []string{"acme/web", "acme/api"}
	follower := e.start()
	leader := e.start()
	e.mustPoll()
	e.fake.ResetRequests()
	if !mustFollow(t, follower) {
		t.Fatal("Follow after the leader's first sync reports no change")
	}
	if n := len(e.fake.Requests()); n != 0 {
		t.Errorf("following made %d requests to GitHub, want none", n)
	}
	want := followedSeries(t, leader)
	if !strings.Contains(want, "okrd_github_") {
		t.Fatalf("the polling source exports no okrd_github_ series:\n%s", want)
	}
	if got := followedSeries(t, follower); got != want {
		t.Fatalf("the follower exports\n%s\nthe polling source\n%s", got, want)
	}

	// A pull request merged later reaches the follower.
	e.clock.advance(time.Hour)
	e.fake.Update(func(d *githubfake.Data) {
		r := d.Repo("acme/web")
		r.PullRequests = append(r.PullRequests, &githubfake.PullRequest{Number: 10, Author: "bob",
			CreatedAt: tv("2026-02-28T10:00:00Z"), MergedAt: tp("2026-02-28T20:00:00Z"), Additions: 7})
	})
	e.mustPoll()
	if !mustFollow(t, follower) {
		t.Fatal("Follow after a change reports no change")
	}
	if got, want := followedSeries(t, follower), followedSeries(t, leader); got != want {
		t.Fatalf("after the change the follower exports\n%s\nthe polling source\n%s", got, want)
	}
	e.src = follower
	e.mustValue("pr_throughput", "acme/web", 6)
	if mustFollow(t, follower) {
		t.Error("Follow without a new change reports a change")
	}
}

func TestAFollowerFindsTheRepositoriesOfAPatternInTheStoredListing(t *testing.T) {
	e := newEnv(t)
	e.fake.Update(func(d *githubfake.Data) {
		for _, name := range []string{"svc-a", "svc-b", "web"} {
			d.AddRepo(&githubfake.Repo{Owner: "acme", Name: name, CreatedAt: testNow.Add(-time.Hour)})
		}
	})
	e.spec.Repos = []string{"acme/svc-*", "acme/web"}
	follower := e.start()
	e.start()
	e.mustPoll()
	mustFollow(t, follower)
	if want := []string{"acme/svc-a", "acme/svc-b", "acme/web"}; !slices.Equal(follower.repos, want) {
		t.Errorf("the follower's repositories = %v, want %v", follower.repos, want)
	}
}

func TestAFollowerThatStartsToPollContinuesFromTheCursors(t *testing.T) {
	e := newEnv(t)
	e.fake.Update(fixture)
	e.spec.Repos = []string{"acme/web", "acme/api"}
	follower := e.start()
	e.start()
	e.mustPoll()
	mustFollow(t, follower)
	e.src = follower
	e.fake.ResetRequests()
	e.mustPoll()
	// As an unchanged poll after a restart: every request a free 304.
	if used := e.fake.Used("core") + e.fake.Used("graphql"); used != 0 {
		t.Errorf("the follower's first poll spent %d points: %v", used, e.paths())
	}
}
