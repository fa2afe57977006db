package github

import (
	"testing"
	"time"

	"github.com/okrd/okrd/sandbox/githubfake"
)

func TestTheHistoryEpochChangesWhenAFirstSyncFinishes(t *testing.T) {
	e := newEnv(t)
	e.fake.Limits = map[string]int{"graphql": 6, "core": 5000}
	e.fake.Update(func(d *githubfake.Data) {
		d.Generate(githubfake.GenOptions{Owner: "acme", Repos: 1, PullRequests: 250, Deployments: 5, Now: testNow, Days: 90, Seed: 7})
	})
	e.spec.Repos = []string{"acme/svc-00"}
	e.spec.RateLimitReserve = 0
	e.start()
	if err := e.poll(); err == nil {
		t.Fatal("the first poll was not rate limited")
	}
	during := e.src.HistoryEpoch()
	e.clock.advance(time.Hour + 2*time.Second)
	e.mustPoll()
	after := e.src.HistoryEpoch()
	if after == during {
		t.Fatalf("the first sync finishing left the epoch at %q", after)
	}
	e.clock.advance(time.Hour)
	e.mustPoll()
	if got := e.src.HistoryEpoch(); got != after {
		t.Errorf("an incremental poll changed the epoch from %q to %q", after, got)
	}
}
