package jira

import (
	"context"
	"testing"
	"time"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/sandbox/jirafake"
)

// The issues a Jira source lists for a key result: through the key
// result's own scope, filters and window, with the value Measure gives,
// browse links to the site, and the check that a live JQL count has none.
func TestExplainListsTheIssuesBehindTheValue(t *testing.T) {
	clk := newClock(now)
	e := newEnv(t, fixture(jirafake.Cloud, clk), clk, nil)
	e.mustPoll()
	obj := &config.Objective{ID: "o"}
	obj.Resolved.Start, obj.Resolved.End = d(-10), d(80)
	krs := []*config.KeyResult{
		{ID: "a", Metric: "throughput", Scope: "PAY", WindowDuration: 28 * day},
		{ID: "b", Metric: "cycle_time", Scope: "PAY", WindowDuration: 28 * day, Quantile: fp(0.5)},
		{ID: "c", Metric: "wip", Scope: "PAY"},
		{ID: "d", Metric: "epic_progress", Epic: "PAY-5"},
		{ID: "e", Metric: "sprint_commitment", Scope: "board:1"},
		{ID: "f", Metric: "throughput", Scope: "PAY", WindowDuration: 28 * day, IssueTypes: []string{"Bug"}},
	}
	for _, kr := range krs {
		b := collectors.Binding{Objective: obj, KeyResult: kr}
		m := e.src.Measure(context.Background(), []collectors.Binding{b}, now)[0]
		res, err := e.src.Explain(context.Background(), b, now)
		if err != nil {
			t.Fatalf("%s: %v", kr.Metric, err)
		}
		got, ok := res.Recompute()
		if m.Err != nil || res.Value != m.Value || ok != m.OK || got != m.Value || len(res.Rows) == 0 {
			t.Fatalf("%s: explained %v, recomputed %v (ok %v) from %d rows; measured %v (ok %v, %v)", kr.Metric, res.Value, got, ok, len(res.Rows), m.Value, m.OK, m.Err)
		}
		for _, r := range res.Rows {
			key := r.Values[0]
			if kr.Metric == "sprint_commitment" {
				key = r.Values[2]
			}
			if r.Link != e.srv.URL+"/browse/"+key.(string) {
				t.Fatalf("%s: link %q of %v", kr.Metric, r.Link, key)
			}
		}
		if kr.ID == "f" && (len(res.Rows) != 1 || res.Rows[0].Values[0] != "PAY-3") {
			// Bugs done in the last 28 days: PAY-3 only.
			t.Fatalf("bug throughput rows %+v", res.Rows)
		}
		if kr.ID == "c" {
			// In progress now: PAY-4 (since -3).
			if len(res.Rows) != 1 || res.Rows[0].Values[0] != "PAY-4" || res.Rows[0].Values[2] != "In Progress" {
				t.Fatalf("wip rows %+v", res.Rows)
			}
		}
	}
	// As of 14 days ago: PAY-1 and PAY-2 in progress, PAY-4 not created.
	b := collectors.Binding{Objective: obj, KeyResult: krs[2]}
	res, err := e.src.Explain(context.Background(), b, now.Add(-12*24*time.Hour+time.Hour))
	if err != nil || len(res.Rows) != 2 {
		t.Fatalf("wip 12 days ago: %+v, %v", res.Rows, err)
	}
	_, err = e.src.Explain(context.Background(), collectors.Binding{Objective: obj, KeyResult: &config.KeyResult{ID: "j", Metric: "jql_count", Query: "project = PAY"}}, now)
	if !collectors.IsNoRecords(err) {
		t.Fatalf("jql_count: %v", err)
	}
}
