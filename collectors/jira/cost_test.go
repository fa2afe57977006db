package jira

import (
	"context"
	"testing"
	"time"

	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/sandbox/jirafake"
)

// generatedEnv is a source over a generated project of n issues.
func generatedEnv(tb testing.TB, flavor jirafake.Flavor, n int) *env {
	clk := newClock(now)
	f := jirafake.New(flavor)
	f.Email, f.Token = testEmail, testToken
	f.Now = clk.Now
	f.Generate(jirafake.GenOptions{Projects: []string{"PAY"}, Issues: n, Now: now, Seed: 42})
	return newEnv(tb, f, clk, func(s *Spec) { s.History = config.Duration(200 * 24 * time.Hour) })
}

// checkSyncCost checks the API cost of a full sync and of an idle poll.
func checkSyncCost(tb testing.TB, e *env, n int) {
	tb.Helper()
	search := "search/jql"
	if e.fake.Flavor == jirafake.DataCenter {
		search = "search"
	}
	got := e.fake.Requests()
	// At most ceil(N/100) searches; the truncated changelogs in bulk on
	// Cloud (a request per 1000 of them, and one more each time they
	// held the cursor back by holdIssues issues), one read each on Data
	// Center; and the agile calls: the board, its configuration and
	// filter, its sprints (no issue lists: a project board of a synced
	// project).
	maxSearches := (n + 99) / 100
	if e.fake.Flavor == jirafake.DataCenter {
		maxSearches++ // the count of the issues older than history
	}
	if got[search] > maxSearches {
		tb.Errorf("full sync: %d searches for %d issues, want at most %d", got[search], n, maxSearches)
	}
	truncated := e.fake.TruncatedChangelogs()
	if e.fake.Flavor == jirafake.Cloud {
		maxBulk := (truncated+bulkMaxIssues-1)/bulkMaxIssues + (n+holdIssues-1)/holdIssues
		if got["changelog"] != 0 || got["changelog/bulkfetch"] < 1 || got["changelog/bulkfetch"] > maxBulk {
			tb.Errorf("full sync: %d changelog reads and %d bulkfetches for %d truncated changelogs, want none and 1 to %d",
				got["changelog"], got["changelog/bulkfetch"], truncated, maxBulk)
		}
	} else if got["changelog"] != truncated {
		tb.Errorf("full sync: %d changelog reads, want %d (one per truncated issue)", got["changelog"], truncated)
	}
	if got["agile/board"] != 1 || got["agile/board/configuration"] != 1 || got["filter"] != 1 || got["agile/board/sprint"] != 1 || got["agile/sprint/issue"] != 0 {
		tb.Errorf("full sync agile calls = %v", got)
	}
	e.fake.ResetRequests()
	e.clk.Set(now.Add(10 * time.Minute))
	if err := e.src.Poll(context.Background()); err != nil {
		tb.Fatal(err)
	}
	if got := e.fake.Requests(); got[search] != 1 || got["changelog"] != 0 || got["changelog/bulkfetch"] != 0 {
		tb.Errorf("idle poll requests = %v, want one search and no changelog", got)
	}
}

func TestSyncCost(t *testing.T) {
	for _, flavor := range []jirafake.Flavor{jirafake.Cloud, jirafake.DataCenter} {
		t.Run(string(flavor), func(t *testing.T) {
			const n = 1500
			e := generatedEnv(t, flavor, n)
			e.mustPoll()
			if got := e.countRecords(KindIssue); got != n {
				t.Errorf("stored %d issues, want %d", got, n)
			}
			checkSyncCost(t, e, n)
		})
	}
}
