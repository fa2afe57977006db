package jira

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/sandbox/jirafake"
)

func initiativeRequest(in *config.Initiative) collectors.InitiativeRequest {
	if in.By == "" {
		in.By = "count"
	}
	in.Source = "jira"
	switch {
	case in.JiraEpic != "":
		in.Kind = config.InitiativeJiraEpic
	default:
		in.Kind = config.InitiativeJQL
	}
	if in.ID == "" {
		in.ID = in.Kind
	}
	return collectors.InitiativeRequest{Objective: &config.Objective{ID: "o"}, KeyResult: &config.KeyResult{ID: "k"}, Initiative: in}
}

func eventList(evs []collectors.Event) string {
	var b []string
	for _, e := range evs {
		b = append(b, fmt.Sprintf("%s %s %s", e.At.UTC().Format(time.RFC3339), e.Kind, e.Ref))
	}
	return strings.Join(b, "; ")
}

// The fixture's epic PAY-5 has PAY-1 (done -10; 5 points when done, 5
// now), PAY-2 (done -2, 5 points) and PAY-4 (in progress, 2 points).
func TestEpicAndJQLInitiatives(t *testing.T) {
	e := fixtureEnv(t, jirafake.Cloud, func(s *Spec) { s.StoryPointsField = jirafake.FieldStoryPoints })
	e.mustPoll()
	e.requestURLs()
	reqs := []collectors.InitiativeRequest{
		initiativeRequest(&config.Initiative{JiraEpic: "PAY-5"}),
		initiativeRequest(&config.Initiative{JiraEpic: "PAY-5", By: "points", ID: "pts"}),
		initiativeRequest(&config.Initiative{JQL: "project = PAY AND type = Bug"}),
		initiativeRequest(&config.Initiative{JQL: "project = PAY AND parent = PAY-5", By: "points", ID: "jql-pts"}),
		initiativeRequest(&config.Initiative{JiraEpic: "PAY-99", ID: "none"}),
	}
	got := e.src.Initiatives(context.Background(), reqs, e.clk.Now())
	type want struct {
		done, total float64
		has         bool
		events      string
	}
	ev := func(x float64, key string) string {
		return fmt.Sprintf("%s issue_done %s", d(x).UTC().Format(time.RFC3339), key)
	}
	wants := []want{
		{2, 3, true, ev(-10, "PAY-1") + "; " + ev(-2, "PAY-2")},
		{10, 12, true, ev(-10, "PAY-1") + "; " + ev(-2, "PAY-2")},
		{1, 1, true, ev(-7, "PAY-3")},
		{10, 12, true, ev(-10, "PAY-1") + "; " + ev(-2, "PAY-2")},
		{0, 0, false, ""},
	}
	for i, w := range wants {
		r := got[i]
		if r.Err != "" || r.Done != w.done || r.Total != w.total || r.HasValue != w.has || eventList(r.Events) != w.events {
			t.Errorf("%s: done %v total %v has %v err %q events %q; want %v %v %v, %q", reqs[i].Initiative.ID, r.Done, r.Total, r.HasValue, r.Err, eventList(r.Events), w.done, w.total, w.has, w.events)
		}
		if r.Objective != "o" || r.KeyResult != "k" || r.Source != "jira" {
			t.Errorf("%s: report names %s/%s from %s", reqs[i].Initiative.ID, r.Objective, r.KeyResult, r.Source)
		}
	}
	// Only the JQL initiatives searched: two searches of one to two pages
	// (the fake's pages hold two issues).
	searches := 0
	for _, u := range e.requestURLs() {
		if strings.Contains(u, "/search") {
			searches++
		}
	}
	if searches != 3 {
		t.Errorf("%d search requests, want 3 (one page of PAY-3, two pages of the epic's three issues)", searches)
	}
}

func TestAJQLInitiativeThatMatchesTooMuchSaysSo(t *testing.T) {
	clk := newClock(now)
	f := fixture(jirafake.Cloud, clk)
	for i := range MaxInitiativeIssues + 1 {
		f.AddIssue(&jirafake.Issue{Key: fmt.Sprintf("PAY-%d", 100+i), Project: "PAY", Type: "Task", Created: d(-1)})
	}
	e := newEnv(t, f, clk, nil)
	got := e.src.Initiatives(context.Background(), []collectors.InitiativeRequest{initiativeRequest(&config.Initiative{JQL: "project = PAY"})}, e.clk.Now())
	if r := got[0]; r.HasValue || !strings.Contains(r.Err, `jira source "jira": the JQL matches more than 2000 issues`) {
		t.Errorf("report = %+v", r)
	}
}

// The fixture's done issues by -0: PAY-1 Story (-10), PAY-2 Story (-2),
// PAY-3 Bug (-7), PAY-6 Task (-40). PAY-2 gets the tech-debt label.
func TestInvestmentShareKeyResultAndSeries(t *testing.T) {
	e := fixtureEnv(t, jirafake.Cloud, func(s *Spec) {
		s.Investment = &config.Investment{By: "count", Categories: []*config.InvestmentCategory{
			{Name: "bugs", IssueTypes: []string{"bug"}},
			{Name: "maintenance", Labels: []string{"tech-debt"}},
		}}
	})
	must(e.fake.SetLabels("PAY-2", []string{"tech-debt"}, d(-1)))
	e.mustPoll()
	for _, tc := range []struct {
		category, window string
		want             float64
		ok               bool
	}{
		{"bugs", "28d", 1.0 / 3, true},
		{"maintenance", "28d", 1.0 / 3, true},
		{"other", "28d", 1.0 / 3, true},
		{"other", "90d", 2.0 / 4, true},
		{"bugs", "7d", 0, true}, // PAY-2 only: maintenance
	} {
		kr := &config.KeyResult{ID: "k", Source: "jira", Metric: "investment_share", Category: tc.category, Window: tc.window}
		kr.WindowDuration, _ = parseDays(tc.window)
		m := e.value(kr)
		if m.Err != nil || m.OK != tc.ok || m.Value != tc.want {
			t.Errorf("share of %s over %s = %+v, want %v", tc.category, tc.window, m, tc.want)
		}
	}
	reps := e.src.Investment()
	var all []string
	for _, r := range reps {
		if r.Scope == "all" && r.Window == "28d" {
			for _, s := range r.Shares {
				all = append(all, fmt.Sprintf("%s=%v/%v", s.Category, s.Throughput, r.Total))
			}
		}
	}
	if got := strings.Join(all, " "); got != "bugs=1/3 maintenance=1/3 other=1/3" {
		t.Errorf("investment of the whole source over 28 days: %s", got)
	}
}

func parseDays(w string) (time.Duration, error) {
	var n int
	_, err := fmt.Sscanf(w, "%dd", &n)
	return time.Duration(n) * day, err
}
