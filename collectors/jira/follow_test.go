package jira

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/sandbox/jirafake"
	"github.com/okrd/okrd/store"
)

func follow(t *testing.T, src *Source) bool {
	t.Helper()
	changed, err := src.Follow(context.Background())
	if err != nil {
		t.Fatalf("Follow: %v", err)
	}
	return changed
}

func TestAFollowerExportsWhatThePollingSourceExports(t *testing.T) {
	e := fixtureEnv(t, jirafake.Cloud, nil)
	leader := e.src
	follower := e.newSource()
	e.fake.ResetRequests()
	follow(t, follower) // nothing stored yet
	e.mustPoll()
	if !follow(t, follower) {
		t.Fatal("Follow after the leader's first sync reports no change")
	}
	want := string(exposition(t, leader))
	if !strings.Contains(want, "okrd_jira_") {
		t.Fatalf("the polling source exports no okrd_jira_ series:\n%s", want)
	}
	if got := string(exposition(t, follower)); got != want {
		t.Fatalf("the follower exports\n%s\nthe polling source\n%s", got, want)
	}
	throughput := &config.KeyResult{Metric: "throughput", WindowDuration: 28 * day}
	e.src = follower
	if got := e.value(throughput); !got.OK || got.Value != 3 {
		t.Errorf("the follower measures throughput %+v, want 3", got)
	}
	if n := len(e.fake.Requests()); n == 0 {
		t.Fatal("the fake saw no request of the leader")
	}

	// A change the leader syncs reaches the follower, and only the
	// change is read.
	e.src = leader
	e.clk.Set(now.Add(time.Hour))
	must(e.fake.Transition("PAY-4", jirafake.StatusDone, now.Add(30*time.Minute)))
	e.mustPoll()
	before, _ := e.st.RecordSeq(context.Background(), "jira")
	if !follow(t, follower) {
		t.Fatal("Follow after a change reports no change")
	}
	if follower.followed != before {
		t.Errorf("the follower read up to change %d, want %d", follower.followed, before)
	}
	if got, want := string(exposition(t, follower)), string(exposition(t, leader)); got != want {
		t.Fatalf("after the change the follower exports\n%s\nthe polling source\n%s", got, want)
	}
	if follow(t, follower) {
		t.Error("Follow without a new change reports a change")
	}
	e.src = follower
	if got := e.value(throughput); got.Value != 4 {
		t.Errorf("the follower measures throughput %v after PAY-4 was done, want 4", got.Value)
	}
}

func TestAFollowerThatStartsToPollContinuesFromTheCursors(t *testing.T) {
	e := fixtureEnv(t, jirafake.Cloud, nil)
	e.mustPoll()
	follower := e.newSource()
	follow(t, follower)
	e.src = follower
	e.clk.Set(now.Add(time.Hour))
	e.requestURLs()
	e.mustPoll()
	searched := false
	for _, u := range e.requestURLs() {
		if !strings.Contains(u, "/search") {
			continue
		}
		searched = true
		v, _ := url.ParseRequestURI(u)
		if jql := v.Query().Get("jql"); strings.Contains(jql, "statusCategory") {
			t.Errorf("the follower's first poll runs a full pass: %s", jql)
		}
	}
	if !searched {
		t.Fatal("the follower's first poll searched nothing")
	}
}

func TestAFollowerDropsABoardTheLeaderDeleted(t *testing.T) {
	e := fixtureEnv(t, jirafake.Cloud, nil)
	e.mustPoll()
	follower := e.newSource()
	follow(t, follower)
	if _, ok := follower.model.Board(1); !ok {
		t.Fatal("the follower has no board 1 after the leader's sync")
	}
	ctx := context.Background()
	if err := e.st.Update(ctx, func(tx store.Tx) error { return tx.DeleteRecords(ctx, "jira", KindBoard, "1") }); err != nil {
		t.Fatal(err)
	}
	if !follow(t, follower) {
		t.Fatal("Follow after a deletion reports no change")
	}
	if _, ok := follower.model.Board(1); ok {
		t.Error("the follower still has the deleted board 1")
	}
}
