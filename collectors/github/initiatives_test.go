package github

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/sandbox/githubfake"
	"github.com/okrd/okrd/store"
)

// labelled marks the fixture's pull requests for the initiative tests:
// checkout-v2 on web #1, #2, #3 (merged), #5 (open), #7 (closed without
// merging) and api #1; milestone v2.0 on web #1 and #4 (into a release
// branch).
func labelled(d *githubfake.Data) {
	fixture(d)
	for _, r := range []struct {
		repo string
		nums []int
	}{{"acme/web", []int{1, 2, 3, 5, 7}}, {"acme/api", []int{1}}} {
		for _, p := range d.Repo(r.repo).PullRequests {
			for _, n := range r.nums {
				if p.Number == n {
					p.Labels = append(p.Labels, "Checkout-V2")
				}
			}
		}
	}
	for _, p := range d.Repo("acme/web").PullRequests {
		if p.Number == 1 || p.Number == 4 {
			p.Milestone = "v2.0"
		}
	}
}

func ghRequest(in *config.Initiative) collectors.InitiativeRequest {
	in.By, in.Source = "count", "gh"
	if in.GitHubLabel != "" {
		in.Kind = config.InitiativeGitHubLabel
	} else {
		in.Kind = config.InitiativeGitHubMilestone
	}
	if in.ID == "" {
		in.ID = in.Kind
	}
	return collectors.InitiativeRequest{Objective: &config.Objective{ID: "o"}, KeyResult: &config.KeyResult{ID: "k"}, Initiative: in}
}

func ghEvents(evs []collectors.Event) string {
	var out []string
	for _, e := range evs {
		out = append(out, fmt.Sprintf("%s %s %s", e.At.UTC().Format(time.RFC3339), e.Kind, e.Title))
	}
	return strings.Join(out, "; ")
}

func TestLabelAndMilestoneInitiatives(t *testing.T) {
	e := newEnv(t)
	e.fake.Update(labelled)
	e.spec.Repos = []string{"acme/web", "acme/api"}
	e.start()
	e.mustPoll()
	reqs := []collectors.InitiativeRequest{
		ghRequest(&config.Initiative{GitHubLabel: "checkout-v2"}),
		ghRequest(&config.Initiative{GitHubLabel: "checkout-v2", Repositories: []string{"acme/API"}, ID: "api"}),
		ghRequest(&config.Initiative{GitHubMilestone: "v2.0"}),
		ghRequest(&config.Initiative{GitHubLabel: "nothing", ID: "none"}),
	}
	got := e.src.Initiatives(context.Background(), reqs, testNow)
	wants := []struct {
		done, total float64
		deployed    int
		events      string
	}{
		// web #1 shipped by D2, #2 by D4, #3 never deployed; #5 open;
		// #7 abandoned; api #1 shipped by A1.
		{4, 5, 3, strings.Join([]string{
			"2026-02-03T10:00:00Z pr_merged acme/web#1 merged",
			"2026-02-03T12:00:00Z deployment acme/web deployment shipped #1",
			"2026-02-04T12:00:00Z pr_merged acme/web#2 merged",
			"2026-02-10T12:00:00Z deployment acme/web deployment shipped #2",
			"2026-02-17T00:00:00Z pr_merged acme/api#1 merged",
			"2026-02-18T00:00:00Z deployment acme/api deployment shipped #1",
			"2026-02-22T09:00:00Z pr_merged acme/web#3 merged",
		}, "; ")},
		{1, 1, 1, "2026-02-17T00:00:00Z pr_merged acme/api#1 merged; 2026-02-18T00:00:00Z deployment acme/api deployment shipped #1"},
		// #4 went into a release branch: merged, shipped by no deployment.
		{2, 2, 1, strings.Join([]string{
			"2026-02-03T10:00:00Z pr_merged acme/web#1 merged",
			"2026-02-03T12:00:00Z deployment acme/web deployment shipped #1",
			"2026-02-10T00:00:00Z pr_merged acme/web#4 merged",
		}, "; ")},
		{0, 0, 0, ""},
	}
	for i, w := range wants {
		r := got[i]
		if r.Err != "" || r.Done != w.done || r.Total != w.total || r.Deployed != w.deployed || !r.HasDeployed || r.HasValue != (w.total > 0) || ghEvents(r.Events) != w.events {
			t.Errorf("%s: done %v/%v deployed %v err %q events:\n%s\nwant %v/%v deployed %v events:\n%s", reqs[i].Initiative.ID, r.Done, r.Total, r.Deployed, r.Err,
				ghEvents(r.Events), w.done, w.total, w.deployed, w.events)
		}
	}
	// As of Feb 5 only #1 and #2 existed, both merged, only #1 shipped;
	// as of Feb 14 12:00 #7 was open (closed on the 15th).
	if r := e.src.Initiatives(context.Background(), reqs[:1], tv("2026-02-05T00:00:00Z"))[0]; r.Done != 2 || r.Total != 2 || r.Deployed != 1 {
		t.Errorf("as of Feb 5: %v/%v deployed %v, want 2/2 deployed 1", r.Done, r.Total, r.Deployed)
	}
	if r := e.src.Initiatives(context.Background(), reqs[:1], tv("2026-02-14T12:00:00Z"))[0]; r.Done != 2 || r.Total != 3 || r.Deployed != 2 {
		t.Errorf("as of Feb 14: %v/%v deployed %v, want 2/3 deployed 2", r.Done, r.Total, r.Deployed)
	}
}

// TestPullRequestsStoredWithoutLabelsAreReadAgain: records and a cursor
// written before okrd read labels are read again once, merged ones too.
func TestPullRequestsStoredWithoutLabelsAreReadAgain(t *testing.T) {
	e := newEnv(t)
	e.fake.Update(labelled)
	e.start()
	e.mustPoll()
	ctx := context.Background()
	// Rewrite what is stored the way an older okrd stored it.
	var recs []store.Record
	if err := e.st.Records(ctx, "gh", KindPullRequest, func(r store.Record) error {
		var p prRecord
		if err := json.Unmarshal(r.Data, &p); err != nil {
			return err
		}
		p.Labels, p.Milestone, p.LabelsTracked = nil, "", false
		r.Data = marshal(&p)
		recs = append(recs, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	scope := cursorScope("acme/web", KindPullRequest)
	cs, err := e.st.Cursors(ctx, "gh")
	if err != nil {
		t.Fatal(err)
	}
	var cur prCursor
	for _, c := range cs {
		if c.Scope == scope {
			if err := json.Unmarshal([]byte(c.Value), &cur); err != nil {
				t.Fatal(err)
			}
		}
	}
	if !cur.Labels || cur.Watermark.IsZero() {
		t.Fatalf("the first sync's cursor = %+v, want one with labels", cur)
	}
	cur.Labels = false
	if err := e.st.Update(ctx, func(tx store.Tx) error {
		if err := tx.PutRecords(ctx, recs...); err != nil {
			return err
		}
		return tx.SetCursor(ctx, "gh", scope, string(marshal(cur)))
	}); err != nil {
		t.Fatal(err)
	}
	e.spec.Investment = historyInvestment()
	e.start()
	// Before the poll (serving the stored records, as a follower does),
	// the merged #1 has no label as stored, and the records cover no
	// instant of investment_share, though they cover pr_throughput.
	if _, err := e.src.Follow(ctx); err != nil {
		t.Fatal(err)
	}
	if h := e.src.History(ctx, historyRequests([]collectors.Binding{binding("pr_throughput", "", "28d", nil)}, []time.Time{testNow}))[0][0]; !h.OK {
		t.Fatalf("pr_throughput from the stored records: %+v, want a value", h)
	}
	b := binding("investment_share", "", "28d", nil)
	b.KeyResult.Category = "bugs"
	if h := e.src.History(ctx, historyRequests([]collectors.Binding{b}, []time.Time{testNow}))[0][0]; h.OK || h.Err != nil {
		t.Errorf("investment_share filled in from records without labels: %+v", h)
	}
	if r := e.src.Initiatives(ctx, []collectors.InitiativeRequest{ghRequest(&config.Initiative{GitHubLabel: "checkout-v2"})}, testNow)[0]; r.Total != 0 {
		t.Fatalf("before the re-read: %+v", r)
	}
	e.mustPoll()
	r := e.src.Initiatives(ctx, []collectors.InitiativeRequest{ghRequest(&config.Initiative{GitHubLabel: "checkout-v2"})}, testNow)[0]
	if r.Done != 3 || r.Total != 4 {
		t.Errorf("after the re-read: %v/%v, want 3/4 (web #1, #2, #3 merged, #5 open)", r.Done, r.Total)
	}
	if h := e.src.History(ctx, historyRequests([]collectors.Binding{b}, []time.Time{testNow}))[0][0]; !h.OK {
		t.Errorf("investment_share after the re-read: %+v, want a value", h)
	}
	if !strings.Contains(e.logs.String(), "reading every pull request again for its labels and milestone") {
		t.Error("the re-read was not logged")
	}
}

func TestInvestmentOfMergedPullRequests(t *testing.T) {
	e := newEnv(t)
	e.fake.Update(func(d *githubfake.Data) {
		fixture(d)
		// In the 28 days to Mar 1: web #1, #2, #3, #4, #9 merged.
		for _, p := range d.Repo("acme/web").PullRequests {
			switch p.Number {
			case 1, 9:
				p.Labels = append(p.Labels, "bug")
			case 2:
				p.Labels = append(p.Labels, "chore", "BUG")
			case 3:
				p.Labels = append(p.Labels, "chore")
			}
		}
	})
	e.spec.Investment = &config.Investment{By: "count", Categories: []*config.InvestmentCategory{
		{Name: "bugs", Labels: []string{"bug"}}, {Name: "maintenance", Labels: []string{"chore"}}}}
	e.start()
	e.mustPoll()
	// bugs: #1, #9 and #2 (bugs comes first); maintenance #3; other #4.
	for _, tc := range []struct {
		cat  string
		want float64
	}{{"bugs", 3.0 / 5}, {"maintenance", 1.0 / 5}, {"other", 1.0 / 5}} {
		b := binding("investment_share", "", "28d", nil)
		b.KeyResult.Category = tc.cat
		if m := e.src.Measure(context.Background(), []collectors.Binding{b}, testNow)[0]; m.Err != nil || !m.OK || m.Value != tc.want {
			t.Errorf("share of %s = %+v, want %v", tc.cat, m, tc.want)
		}
	}
	var got []string
	for _, r := range e.src.Investment() {
		if r.Window == "28d" {
			for _, s := range r.Shares {
				got = append(got, fmt.Sprintf("%s %s %v/%v", r.Scope, s.Category, s.Throughput, r.Total))
			}
		}
	}
	if want := "all bugs 3/5 all maintenance 1/5 all other 1/5 acme/web bugs 3/5 acme/web maintenance 1/5 acme/web other 1/5"; strings.Join(got, " ") != want {
		t.Errorf("investment over 28 days: %s\nwant %s", strings.Join(got, " "), want)
	}
}
