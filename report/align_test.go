package report

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/store"
	"github.com/okrd/okrd/store/sqlite"
)

const treeConfig = `
[[objectives]]
id = "company"
title = "Company grows"
period = "2026-Q4"
progress_from = "children"

[[objectives]]
id = "team-a"
title = "Team A"
period = "2026-Q4"
parent = "company"

  [[objectives.key_results]]
  id = "a"
  title = "A from 0 to 100"
  baseline = 0
  target = 100

[[objectives]]
id = "team-b"
title = "Team B"
period = "2026-Q4"
parent = "company"
weight = 3

  [[objectives.key_results]]
  id = "b"
  title = "B from 0 to 100"
  baseline = 0
  target = 100
`

func TestTheReportShowsTheTreeWithChildrenUnderParentsAtRiskFirst(t *testing.T) {
	cfg, err := config.Parse([]byte(treeConfig), "okrd.toml")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "okrd.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	// Now (Nov 15 12:00, 49% expected): A 50 (on track), B 20 (off track).
	// A week before (42%): A 30, B 10.
	if err := st.AppendValues(ctx,
		store.Value{ObjectiveID: "team-a", KeyResultID: "a", At: at(11, 1, 9), Value: 30, Origin: "checkin:1"},
		store.Value{ObjectiveID: "team-a", KeyResultID: "a", At: at(11, 14, 9), Value: 50, Origin: "checkin:2"},
		store.Value{ObjectiveID: "team-b", KeyResultID: "b", At: at(11, 1, 9), Value: 10, Origin: "checkin:3"},
		store.Value{ObjectiveID: "team-b", KeyResultID: "b", At: at(11, 14, 9), Value: 20, Origin: "checkin:4"},
	); err != nil {
		t.Fatal(err)
	}
	r, err := Build(ctx, Options{Config: cfg, Store: st, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	company := r.Objectives[0]
	// (0.5 + 3*0.2) / 4 = 0.275; a week before (0.3 + 3*0.1) / 4 = 0.15.
	if !near(company.Now.Progress, 0.275) || !near(company.Week.Progress, 0.15) || company.Now.Status != "off_track" {
		t.Errorf("company now %+v, week %+v; want 0.275 off track and 0.15", company.Now, company.Week)
	}
	var md strings.Builder
	if err := r.Markdown(&md); err != nil {
		t.Fatal(err)
	}
	text := md.String()
	i, j, k := strings.Index(text, "### Company grows: off track"), strings.Index(text, "### ↳ Team B: off track"), strings.Index(text, "### ↳ Team A: on track")
	if i < 0 || j < 0 || k < 0 || !(i < j && j < k) {
		t.Errorf("headings at %d, %d, %d: want the parent, then the child off track, then the one on track:\n%s", i, j, k, text)
	}
	for _, want := range []string{
		"Off track because it is 22 pts behind: 28% where 49% was expected by now; 'Team B' is off track.",
		"part of Company grows",
		"rolls up Team A, Team B",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the report lacks %q:\n%s", want, text)
		}
	}
	// The parent rolls up without key results of its own: no empty table
	// under it (two tables for the two children, one for delivery at most).
	if parent := text[i:j]; strings.Contains(parent, "| Key result |") {
		t.Errorf("the parent without key results has an empty key result table:\n%s", parent)
	}
	var html strings.Builder
	if err := r.HTML(&html); err != nil {
		t.Fatal(err)
	}
	h := html.String()
	hi := strings.Index(h, "Company grows <span")
	hj := strings.Index(h[hi+1:], "<h3") + hi + 1
	if hi < 0 || hj <= hi || strings.Contains(h[hi:hj], ">Key result</th>") {
		t.Errorf("the HTML report has a key result table under the parent without key results")
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
