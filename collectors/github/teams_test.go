package github

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
	mg "github.com/okrd/okrd/metrics/github"
)

// A team of a glob that matches every repository measures what the whole
// source does, and a team of one repository what that repository does:
// every metric, every window, live and as of the past, and in the
// exported series, where the team's carry the team label and no repo.
func TestATeamMeasuresTheUnionOfItsRepositories(t *testing.T) {
	e := newEnv(t)
	e.fake.Update(historyData)
	e.spec.Repos = []string{"acme/svc-00", "acme/svc-01"}
	e.teams = []*config.Team{
		{Name: "all", Repositories: []string{"ACME/svc-*"}},
		{Name: "one", Repositories: []string{"acme/svc-01", "acme/nothing-*"}},
		{Name: "none", Repositories: []string{"other/*"}},
	}
	e.start()
	e.mustPoll()

	var team, same []collectors.Binding
	for _, m := range mg.Metrics {
		if m.Name == mg.MetricInvestmentShare {
			continue // needs the source's investment categories, which this source has none of
		}
		for _, w := range []string{"7d", "28d", "90d", "period"} {
			for scope, equal := range map[string]string{"team:all": "", "team:one": "acme/svc-01"} {
				team = append(team, binding(m.Name, scope, w, nil))
				same = append(same, binding(m.Name, equal, w, nil))
				if m.Distribution {
					team = append(team, binding(m.Name, scope, w, q(0.85)))
					same = append(same, binding(m.Name, equal, w, q(0.85)))
				}
			}
		}
	}
	var ats []time.Time
	for at := tv("2025-11-01T00:00:00Z"); !at.After(testNow); at = at.Add(24 * time.Hour) {
		ats = append(ats, at)
	}
	th := e.src.History(context.Background(), historyRequests(team, ats))
	sh := e.src.History(context.Background(), historyRequests(same, ats))
	values := 0
	for j, at := range ats {
		tm, sm := e.src.Measure(context.Background(), team, at), e.src.Measure(context.Background(), same, at)
		for i := range team {
			if tm[i].Err != nil || th[i][j].Err != nil {
				t.Fatalf("%s: %v %v", describe(team[i]), tm[i].Err, th[i][j].Err)
			}
			if tm[i] != sm[i] || th[i][j] != sh[i][j] || th[i][j] != tm[i] {
				t.Fatalf("%s at %v: measured %+v, history %+v; its repositories' %+v, history %+v",
					describe(team[i]), at, tm[i], th[i][j], sm[i], sh[i][j])
			}
			if tm[i].OK && tm[i].Value != 0 {
				values++
			}
		}
	}
	if values < len(team)*len(ats)/3 {
		t.Fatalf("only %d of %d values are other than 0", values, len(team)*len(ats))
	}

	out := exposition(t, e)
	// The team's series are the repository's, with team instead of repo.
	for _, line := range strings.Split(out, "\n") {
		if !strings.Contains(line, `repo="acme/svc-01"`) || strings.Contains(line, "okrd_github_team_repository") {
			continue
		}
		want := strings.Replace(strings.Replace(line, `repo="acme/svc-01"`, `repo=""`, 1), `team=""`, `team="one"`, 1)
		if !strings.Contains(out, want+"\n") {
			t.Errorf("exposition lacks %s (from %s)", want, line)
		}
	}
	for _, line := range []string{
		`okrd_github_team_repository{repo="acme/svc-00",source="gh",team="all"} 1`,
		`okrd_github_team_repository{repo="acme/svc-01",source="gh",team="all"} 1`,
		`okrd_github_team_repository{repo="acme/svc-01",source="gh",team="one"} 1`,
		// A team none of whose entries matches has its series, at 0.
		`okrd_github_deployments{repo="",source="gh",team="none",window="90d"} 0`,
		`okrd_github_open_pull_requests{repo="",source="gh",team="none"} 0`,
	} {
		if !strings.Contains(out, line+"\n") {
			t.Errorf("exposition lacks %s", line)
		}
	}
	if strings.Contains(out, `team_repository{repo="acme/svc-00",source="gh",team="one"}`) {
		t.Error("acme/svc-00 is listed for a team that does not name it")
	}
	if logs := e.logs.String(); strings.Count(logs, "match none of the source's repositories") != 1 || !strings.Contains(logs, "team=none") {
		t.Errorf("want one warning about team none, logs:\n%s", logs)
	}

	// The scope of a key result, resolved as explain shows it.
	for scope, want := range map[string]collectors.ResolvedScope{
		"":            {Kind: collectors.ScopeSource, Repositories: []string{"acme/svc-00", "acme/svc-01"}},
		"acme/SVC-00": {Kind: collectors.ScopeRepository, Name: "acme/svc-00", Repositories: []string{"acme/svc-00"}},
		"team:one":    {Kind: collectors.ScopeTeam, Name: "one", Repositories: []string{"acme/svc-01"}},
		"team:none":   {Kind: collectors.ScopeTeam, Name: "none"},
	} {
		got, err := e.src.ResolveScope(scope)
		if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("scope %q resolves to %+v (%v), want %+v", scope, got, err, want)
		}
	}
	for _, scope := range []string{"team:nobody", "acme/other"} {
		if _, err := e.src.ResolveScope(scope); err == nil {
			t.Errorf("scope %q resolves", scope)
		}
	}
}

// A team's history is covered once every one of its repositories' first
// sync has finished: not while one of them has not.
func TestATeamsHistoryWaitsForEveryRepositorysFirstSync(t *testing.T) {
	e := newEnv(t)
	e.fake.Update(historyData)
	e.spec.Repos = []string{"acme/svc-00", "acme/svc-01"}
	e.teams = []*config.Team{{Name: "svc", Repositories: []string{"acme/svc-*"}}, {Name: "zero", Repositories: []string{"acme/svc-00"}}}
	e.start()
	e.mustPoll()
	// Forget that svc-01's pull requests were synced: its first sync is
	// then unfinished.
	e.src.pollMu.Lock()
	delete(e.src.cursors, cursorScope("acme/svc-01", KindPullRequest))
	e.src.publish()
	e.src.pollMu.Unlock()
	ats := []time.Time{tv("2026-02-01T00:00:00Z"), testNow}
	bs := []collectors.Binding{binding(mg.MetricDeploymentCount, "team:svc", "28d", nil), binding(mg.MetricDeploymentCount, "team:zero", "28d", nil)}
	h := e.src.History(context.Background(), historyRequests(bs, ats))
	for j := range ats {
		if h[0][j].OK {
			t.Errorf("team svc has a value at %v while one of its repositories is not synced", ats[j])
		}
		if !h[1][j].OK {
			t.Errorf("team zero has no value at %v, though its one repository is synced", ats[j])
		}
	}
	if !slices.Equal(e.src.view.Load().ix.TeamRepos("svc"), []string{"acme/svc-00", "acme/svc-01"}) {
		t.Fatal("team svc lost a repository")
	}
}
