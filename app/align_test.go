package app

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

const treeConfig = `
[global]
time_zone = "UTC"
evaluation_interval = "1h"

[server]
listen_address = "127.0.0.1:0"
api_token = "s3cret-token"

[storage]
driver = "sqlite"
dsn = "{{DB}}"

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

// expectedNow is the expected progress at fixedNow: 45.5 of 92 days.
const expectedNow = 45.5 / 92

type treeObjective struct {
	ID               string          `json:"id"`
	Parent           *string         `json:"parent"`
	Children         []string        `json:"children"`
	Progress         float64         `json:"progress"`
	ExpectedProgress float64         `json:"expected_progress"`
	Status           string          `json:"status"`
	ChildObjectives  []treeObjective `json:"child_objectives"`
}

func getTree(t *testing.T, ta *testApp) []treeObjective {
	t.Helper()
	r := do(t, "GET", ta.url+"/api/v1/objectives?tree=1", "", "")
	if r.code != 200 {
		t.Fatalf("GET ?tree=1: %d %s", r.code, r.body)
	}
	var out struct{ Objectives []treeObjective }
	if err := json.Unmarshal([]byte(r.body), &out); err != nil {
		t.Fatal(err)
	}
	return out.Objectives
}

func TestAParentRollsUpItsChildrenAndFollowsTheirCheckins(t *testing.T) {
	ta := startApp(t, "", treeConfig, fixedClock)
	checkin(t, ta, "team-a", "a", 50, "2026-11-10T00:00:00Z")
	checkin(t, ta, "team-b", "b", 20, "2026-11-10T00:00:00Z")

	tree := getTree(t, ta)
	if len(tree) != 1 || tree[0].ID != "company" || len(tree[0].ChildObjectives) != 2 {
		t.Fatalf("tree = %+v, want company with two children", tree)
	}
	c := tree[0]
	// (1*0.5 + 3*0.2) / 4 = 0.275 against 0.4946: 22 pts behind, off track.
	if !near(c.Progress, 0.275) || !near(c.ExpectedProgress, expectedNow) || c.Status != "off_track" || c.Parent != nil {
		t.Errorf("company = %+v, want progress 0.275, expected %v, off_track, no parent", c, expectedNow)
	}
	if a := c.ChildObjectives[0]; a.ID != "team-a" || a.Parent == nil || *a.Parent != "company" || !near(a.Progress, 0.5) {
		t.Errorf("first child = %+v, want team-a at 0.5 under company", a)
	}
	if strings.Join(c.Children, ",") != "team-a,team-b" {
		t.Errorf("children ids = %v", c.Children)
	}
	// The page shows the tree: the children indented under the parent,
	// the worse one (team B, 20 of 49%: off track) first, and the
	// parent's reason names it.
	page := do(t, "GET", ta.url+"/", "", "").body
	for _, want := range []string{
		`Off track because it is 22 pts behind: 28% where 49% was expected by now; &#39;Team B&#39; is off track.`,
		`<section class="objective depth depth-1" aria-labelledby="obj-team-b">`,
		`Part of <a href="./objectives/company">Company grows</a>`,
		`Rolls up <a href="./objectives/team-a">Team A</a>, <a href="./objectives/team-b">Team B</a>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if i, j, k := strings.Index(page, `id="obj-company"`), strings.Index(page, `id="obj-team-b"`), strings.Index(page, `id="obj-team-a"`); !(i < j && j < k) {
		t.Errorf("page order company %d, team-b %d, team-a %d: want the parent, then the child off track, then the one on track", i, j, k)
	}

	// A check-in of a child evaluates the parent again: (0.5 + 3*0.45) / 4
	// = 0.4625, 3 pts behind: on track.
	before := ta.Snapshot()
	checkin(t, ta, "team-b", "b", 45, "2026-11-14T00:00:00Z")
	after := ta.Snapshot()
	if after.Objective("team-a") != before.Objective("team-a") {
		t.Error("the sibling without a check-in was evaluated again instead of shared")
	}
	co := after.Objective("company")
	if !near(co.Result.Progress, 0.4625) || co.Result.Status != "on_track" {
		t.Errorf("company after the check-in = %+v, want 0.4625 on_track", co.Result)
	}
	if len(co.Children) != 2 || co.Children[1] != after.Objective("team-b") {
		t.Error("the parent does not hold the new evaluation of its child")
	}
	full := ta.hist.evaluate(ta.Config(), fixedNow, 0)
	if got, want := string(after.AppendText(nil)), string(full.AppendText(nil)); got != want {
		t.Errorf("the snapshot after the check-in differs from a full evaluation:\n%s", diffLines(want, got))
	}

	// The flat list carries parent and children too.
	objs := getObjectives(t, ta, "")
	if len(objs) != 3 {
		t.Fatalf("%d objectives", len(objs))
	}
	if r := do(t, "GET", ta.url+"/api/v1/objectives?tree=yes", "", ""); r.code != http.StatusBadRequest || !strings.Contains(r.body, "tree: ") {
		t.Errorf("tree=yes: %d %s, want 400 naming tree", r.code, r.body)
	}
	// The exposition names the parent.
	m := do(t, "GET", ta.url+"/metrics", "", "")
	if !strings.Contains(m.body, `okr_objective_info{objective="team-b",owner="",parent="company",period="2026-Q4",progress_from="key_results",team="",title="Team B"} 1`) {
		t.Errorf("no parent label in:\n%s", okrPart(t, m.body))
	}
}

type confidenceAnswer struct {
	Confidence struct {
		ID    int64  `json:"id"`
		Value int    `json:"value"`
		Level string `json:"level"`
	} `json:"confidence"`
	KeyResult struct {
		Confidence *struct {
			Value    int    `json:"value"`
			Level    string `json:"level"`
			Previous *int   `json:"previous"`
			WeekHigh int    `json:"week_high"`
			Author   string `json:"author"`
		} `json:"confidence"`
	} `json:"key_result"`
}

func TestConfidenceIsRecordedAloneOrWithACheckinAndExported(t *testing.T) {
	ta := startApp(t, "", treeConfig, fixedClock)
	url := ta.url + "/api/v1/objectives/team-a/key_results/a/confidence"
	r := do(t, "POST", url, "s3cret-token", `{"confidence": "high", "author": "ana", "note": "on plan", "at": "2026-11-12T00:00:00Z"}`)
	if r.code != http.StatusCreated {
		t.Fatalf("POST confidence: %d %s", r.code, r.body)
	}
	var a confidenceAnswer
	if err := json.Unmarshal([]byte(r.body), &a); err != nil {
		t.Fatal(err)
	}
	if a.Confidence.Value != 9 || a.Confidence.Level != "high" || a.KeyResult.Confidence == nil || a.KeyResult.Confidence.Value != 9 {
		t.Errorf("answer = %s, want confidence 9 (high) on the key result", r.body)
	}
	// Confidence is not a value: the key result still has none.
	if objs := getObjectives(t, ta, ""); objs[1].KeyResults[0].Value != nil {
		t.Errorf("a confidence became a value: %+v", objs[1].KeyResults[0])
	}

	// With a check-in: 4, down from 9 within the week.
	body := `{"value": 40, "at": "2026-11-14T00:00:00Z", "confidence": 4, "author": "ana"}`
	r = do(t, "POST", ta.url+"/api/v1/objectives/team-a/key_results/a/checkins", "s3cret-token", body)
	if r.code != http.StatusCreated {
		t.Fatalf("check-in: %d %s", r.code, r.body)
	}
	var ci confidenceAnswer
	_ = json.Unmarshal([]byte(r.body), &ci)
	kc := ci.KeyResult.Confidence
	if kc == nil || kc.Value != 4 || kc.Level != "low" || kc.Previous == nil || *kc.Previous != 9 || kc.WeekHigh != 9 {
		t.Errorf("key result after the check-in = %s, want confidence 4, previous 9, week high 9", r.body)
	}
	page := do(t, "GET", ta.url+"/", "", "").body
	if !strings.Contains(page, `<span class="confidence confidence-low">4/10 low</span> <span class="muted">36 hours ago, down from 9 this week · ana</span>`) {
		i := strings.Index(page, "kr-confidence")
		t.Errorf("the page does not show the confidence next to the status: %.400s", page[max(i, 0):])
	}
	m := do(t, "GET", ta.url+"/metrics", "", "")
	if !strings.Contains(m.body, `okr_key_result_confidence{key_result="a",objective="team-a"} 4`+"\n") {
		t.Errorf("exposition lacks the confidence:\n%s", okrPart(t, m.body))
	}
	if strings.Contains(m.body, `okr_key_result_confidence{key_result="b"`) {
		t.Error("a key result without confidence has a confidence series")
	}
	// The history keeps both, newest first.
	h := do(t, "GET", url, "", "")
	var list struct {
		Confidences []struct {
			Value   int    `json:"value"`
			Checkin *int64 `json:"checkin"`
		} `json:"confidences"`
	}
	if err := json.Unmarshal([]byte(h.body), &list); err != nil || len(list.Confidences) != 2 ||
		list.Confidences[0].Value != 4 || list.Confidences[0].Checkin == nil || list.Confidences[1].Value != 9 || list.Confidences[1].Checkin != nil {
		t.Errorf("GET confidence = %s", h.body)
	}

	for _, tc := range []struct{ body, want string }{
		{`{"confidence": 11}`, `body: \"confidence\": must be a whole number from 1 to 10`},
		{`{"confidence": 7.5}`, `body: \"confidence\": must be a whole number from 1 to 10`},
		{`{"confidence": "sure"}`, `body: \"confidence\": must be a whole number from 1 to 10`},
		{`{"confidence": true}`, `body: \"confidence\": must be a whole number from 1 to 10 or one of \"low\", \"medium\", \"high\", not a JSON boolean`},
		{`{"note": "x"}`, `body: \"confidence\": required`},
		{`{"confidence": 5, "value": 3}`, `body: unknown field \"value\"`},
	} {
		r := do(t, "POST", url, "s3cret-token", tc.body)
		if r.code != http.StatusBadRequest || !strings.Contains(r.body, tc.want) {
			t.Errorf("POST %s: %d %s, want 400 with %s", tc.body, r.code, r.body, tc.want)
		}
	}
	if r := do(t, "POST", url, "", `{"confidence": 5}`); r.code != http.StatusUnauthorized {
		t.Errorf("without the token: %d, want 401", r.code)
	}
	if r := do(t, "POST", ta.url+"/api/v1/objectives/team-a/key_results/nope/confidence", "s3cret-token", `{"confidence": 5}`); r.code != http.StatusNotFound {
		t.Errorf("unknown key result: %d, want 404", r.code)
	}
}
