package jira

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/sandbox/jirafake"
)

func qualityCheck(checks []collectors.QualityCheck, name string) (collectors.QualityCheck, bool) {
	for _, c := range checks {
		if c.Check == name {
			return c, true
		}
	}
	return collectors.QualityCheck{}, false
}

func TestIssuesSkippedBeforeHistoryAreCountedAtTheFullSync(t *testing.T) {
	for _, flavor := range []jirafake.Flavor{jirafake.Cloud, jirafake.DataCenter} {
		t.Run(string(flavor), func(t *testing.T) {
			// With 20 days of history the full pass leaves out PAY-6
			// (done, last updated -36); PAY-4 (in progress) and PAY-5 (an epic to
			// do, last updated -40), not done, are read however old.
			e := fixtureEnv(t, flavor, func(s *Spec) { s.History = config.Duration(20 * 24 * time.Hour) })
			e.mustPoll()
			if n := e.countRecords(KindIssue); n != 5 {
				t.Fatalf("stored %d issues, want 5", n)
			}
			c, ok := qualityCheck(e.src.DataQuality(), collectors.CheckSkippedBeforeHistory)
			if !ok || c.Count != 1 {
				t.Errorf("skipped check = %+v (found %v), want a count of 1", c, ok)
			}
			exp := string(exposition(t, e.src))
			if !strings.Contains(exp, `okrd_data_quality_findings{check="issues_skipped_before_history",source="jira"} 1`) {
				t.Errorf("the exposition lacks the skipped count:\n%s", exp)
			}

			// A restart keeps the count (it is in the cursor), and an
			// incremental poll does not count again.
			e.src = e.newSource()
			e.fake.ResetRequests()
			e.clk.Set(now.Add(10 * time.Minute))
			e.mustPoll()
			if c, ok := qualityCheck(e.src.DataQuality(), collectors.CheckSkippedBeforeHistory); !ok || c.Count != 1 {
				t.Errorf("after a restart the skipped check = %+v (found %v), want a count of 1", c, ok)
			}
			if got := e.fake.Requests(); got["approximate-count"] != 0 || got["search"] > 1 {
				t.Errorf("an incremental poll counted again: %v", got)
			}
		})
	}
}

func TestAFailedCountOfSkippedIssuesLeavesTheCheckUnknown(t *testing.T) {
	e := fixtureEnv(t, jirafake.Cloud, nil)
	e.quiet = true
	e.src = e.newSource()
	e.fake.FailNext(1, jirafake.Fault{Status: 400, Route: "approximate-count"})
	if err := e.src.Poll(context.Background()); err != nil {
		t.Fatalf("poll = %v, want success: the count is not part of the sync", err)
	}
	checks := e.src.DataQuality()
	if c, ok := qualityCheck(checks, collectors.CheckSkippedBeforeHistory); ok {
		t.Errorf("skipped check = %+v, want none while the count is unknown", c)
	}
	// The other checks are there, 0 or not.
	for _, name := range []string{collectors.CheckDoneWithoutStart, collectors.CheckGuessedStatuses, collectors.CheckUnestimatedSprintIssue} {
		if _, ok := qualityCheck(checks, name); !ok {
			t.Errorf("check %s missing from %+v", name, checks)
		}
	}
	// PAY-3, a bug added to sprint 1, has no story points; its example
	// links to the issue.
	c, _ := qualityCheck(checks, collectors.CheckUnestimatedSprintIssue)
	if c.Count != 1 || len(c.Examples) != 1 || c.Examples[0].ID != "PAY-3" || !strings.HasSuffix(c.Examples[0].URL, "/browse/PAY-3") {
		t.Errorf("unestimated sprint issues = %+v, want PAY-3 with a link", c)
	}
}
