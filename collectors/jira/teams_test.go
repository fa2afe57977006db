package jira

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/sandbox/jirafake"
)

// A team of project PAY and of PAY's board selects every PAY issue twice
// and counts each once: its series are project PAY's, with the team label
// instead of the scope. A team of a component selects the issues that
// have it, read from Jira's components field; its sprint figures are its
// boards'.
func TestATeamsSeriesAndKeyResults(t *testing.T) {
	e := fixtureEnv(t, jirafake.Cloud, nil)
	e.teams = []*config.Team{
		{Name: "pay", JiraProjects: []string{"PAY"}, JiraBoards: []int{1}},
		{Name: "ledger", JiraComponents: []string{"LEDGER"}},
	}
	must(e.fake.SetComponents("PAY-1", []string{"Ledger", "Web"}, d(-1)))
	must(e.fake.SetComponents("PAY-2", []string{"ledger"}, d(-1)))
	must(e.fake.SetComponents("PAY-3", []string{"Web"}, d(-1)))
	e.src = e.newSource()
	e.mustPoll()
	if c := e.issue("PAY-1").Components; fmt.Sprint(c) != "[Ledger Web]" {
		t.Fatalf("PAY-1 has the components %v", c)
	}
	out := exposition(t, e.src)
	n := 0
	for _, line := range bytes.Split(out, []byte("\n")) {
		l := string(line)
		if !strings.Contains(l, `scope="PAY"`) {
			continue
		}
		want := strings.Replace(strings.Replace(l, `scope="PAY"`, `scope=""`, 1), `team=""`, `team="pay"`, 1)
		if !bytes.Contains(out, []byte(want+"\n")) {
			t.Errorf("exposition lacks %s (from %s)", want, l)
		}
		n++
	}
	if n < 20 {
		t.Fatalf("only %d series of project PAY", n)
	}
	for _, line := range []string{
		`okrd_jira_team_board{board="1",source="jira",team="pay"} 1`,
		`okrd_jira_inflow{issue_type="all",scope="",source="jira",team="ledger",window="90d"} 2`,
	} {
		if !bytes.Contains(out, []byte(line+"\n")) {
			t.Errorf("exposition lacks %s", line)
		}
	}

	for _, c := range []struct {
		kr   *config.KeyResult
		same *config.KeyResult
	}{
		{&config.KeyResult{Metric: "velocity", Scope: "team:pay"}, &config.KeyResult{Metric: "velocity", Scope: "board:1"}},
		{&config.KeyResult{Metric: "sprint_say_do_ratio", Scope: "team:pay"}, &config.KeyResult{Metric: "sprint_say_do_ratio", Scope: "board:1"}},
		{&config.KeyResult{Metric: "throughput", Scope: "team:pay", WindowDuration: 28 * day}, &config.KeyResult{Metric: "throughput", Scope: "PAY", WindowDuration: 28 * day}},
		{&config.KeyResult{Metric: "wip", Scope: "team:pay"}, &config.KeyResult{Metric: "wip", Scope: "PAY"}},
	} {
		got, want := e.value(c.kr), e.value(c.same)
		if got.Err != nil || !want.OK || got != want {
			t.Errorf("%s of %s: %+v, want %s's %+v", c.kr.Metric, c.kr.Scope, got, c.same.Scope, want)
		}
	}
	if m := e.value(&config.KeyResult{Metric: "inflow", Scope: "team:ledger", WindowDuration: 90 * day}); !m.OK || m.Value != 2 {
		t.Errorf("inflow of team ledger: %+v, want 2 (PAY-1 and PAY-2)", m)
	}
	if m := e.value(&config.KeyResult{Metric: "velocity", Scope: "team:ledger"}); m.Err == nil || !strings.Contains(m.Err.Error(), "jira_boards") {
		t.Errorf("sprint metric of a team without boards: %+v", m)
	}

	for scope, want := range map[string]collectors.ResolvedScope{
		"":            {Kind: collectors.ScopeSource, Projects: []string{"PAY"}},
		"PAY":         {Kind: collectors.ScopeProject, Name: "PAY", Projects: []string{"PAY"}},
		"board:1":     {Kind: collectors.ScopeBoard, Name: "board:1", Boards: []int{1}},
		"team:pay":    {Kind: collectors.ScopeTeam, Name: "pay", Projects: []string{"PAY"}, Boards: []int{1}},
		"team:ledger": {Kind: collectors.ScopeTeam, Name: "ledger", Components: []string{"LEDGER"}},
	} {
		got, err := e.src.ResolveScope(scope)
		if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("scope %q resolves to %+v (%v), want %+v", scope, got, err, want)
		}
	}
	for _, scope := range []string{"team:nobody", "board:77"} {
		if _, err := e.src.ResolveScope(scope); err == nil {
			t.Errorf("scope %q resolves", scope)
		}
	}
}
