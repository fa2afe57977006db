package all_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	_ "github.com/okrd/okrd/collectors/all"
	"github.com/okrd/okrd/config"
)

const teamSources = `
[sources.gh]
type = "github"
token = "t"
repos = ["acme/web", "acme/pay-api", "acme/svc-*"]

[sources.gh2]
type = "github"
token = "t"
repos = ["other/app"]

[sources.jira]
type = "jira"
url = "https://acme.atlassian.net"
email = "a@acme.example"
token = "t"
projects = ["PAY", "WEB"]
boards = [12, 13]
`

const teamObjective = `
[[objectives]]
id = "o"
title = "O"
period = "2026-Q4"
  [[objectives.key_results]]
  id = "k"
  title = "K"
  baseline = 1
  target = 2
`

func teamKR(lines ...string) string {
	return teamObjective + "\n  [[objectives.key_results]]\n  id = \"t\"\n  title = \"T\"\n  baseline = 1\n  target = 2\n  " + strings.Join(lines, "\n  ") + "\n"
}

func errorsOf(t *testing.T, err error) []string {
	t.Helper()
	var errs config.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("error %v is not config.Errors", err)
	}
	var out []string
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}

func TestTeamsResolveToTheirSourcesAndKeyResults(t *testing.T) {
	doc := teamSources + `
[teams.payments]
repositories = ["acme/pay-*", "ACME/web", "nobody/*"]
jira_projects = ["PAY"]
jira_boards = [12]
jira_components = ["Payments"]

[teams.web]
repositories = ["acme/web"]
github_source = "gh"

[teams.tickets]
jira_components = ["Support"]
` + teamKR(`source = "gh"`, `metric = "deployment_frequency"`, `scope = "team:payments"`) + `
  [[objectives.key_results]]
  id = "j"
  title = "J"
  baseline = 1
  target = 2
  source = "jira"
  metric = "velocity"
  scope = "team:payments"
`
	cfg, err := config.Parse([]byte(doc), "okrd.toml")
	if err != nil {
		t.Fatal(err)
	}
	names := func(ts []*config.Team) []string {
		var out []string
		for _, t := range ts {
			out = append(out, t.Name)
		}
		return out
	}
	for src, want := range map[string][]string{"gh": {"payments", "web"}, "gh2": {"payments"}, "jira": {"payments", "tickets"}} {
		if got := names(cfg.Sources[src].Teams); !slices.Equal(got, want) {
			t.Errorf("source %s has the teams %v, want %v", src, got, want)
		}
	}
	kr := cfg.Objectives[0].KeyResults[1]
	if kr.ScopeTeam == nil || kr.ScopeTeam.Name != "payments" {
		t.Fatalf("the key result's team is %+v", kr.ScopeTeam)
	}
	p := cfg.Teams["payments"]
	for repo, want := range map[string]bool{"acme/pay-api": true, "Acme/Pay-Web": true, "acme/web": true, "acme/webs": false, "other/pay-api": false} {
		if got := p.MatchRepository(repo); got != want {
			t.Errorf("payments matches %s: %v, want %v", repo, got, want)
		}
	}
	// nobody/* can match no repository of gh (nor of gh2): a warning,
	// since a glob may match later. acme/pay-* matches none of gh2's.
	want := []string{
		`teams.payments.repositories[0]: "acme/pay-*" matches none of the source's repos (other/app); the team has no records there until it does (source "gh2")`,
		`teams.payments.repositories[1]: "ACME/web" matches none of the source's repos (other/app); the team has no records there until it does (source "gh2")`,
		`teams.payments.repositories[2]: "nobody/*" matches none of the source's repos (acme/web, acme/pay-api, acme/svc-*); the team has no records there until it does (source "gh")`,
		`teams.payments.repositories[2]: "nobody/*" matches none of the source's repos (other/app); the team has no records there until it does (source "gh2")`,
	}
	if !slices.Equal(cfg.Warnings, want) {
		t.Errorf("warnings:\n%s\nwant\n%s", strings.Join(cfg.Warnings, "\n"), strings.Join(want, "\n"))
	}
	// The printed configuration keeps the teams and loads again.
	if _, err := config.Parse([]byte(cfg.String()), "printed.toml"); err != nil || !strings.Contains(cfg.String(), "[teams.payments]") {
		t.Fatalf("the printed configuration: %v\n%s", err, cfg.String())
	}
}

func TestTeamErrorsNameTheField(t *testing.T) {
	cases := []struct {
		name string
		doc  string
		want string
	}{
		{"A team name that is no label value.", teamSources + "[teams.Pay]\njira_projects = [\"PAY\"]\n" + teamObjective,
			`teams.Pay: team name "Pay" must be lower-case letters`},
		{"A team that selects nothing.", teamSources + "[teams.pay]\n" + teamObjective,
			`teams.pay: selects nothing: set repositories, jira_projects, jira_boards or jira_components`},
		{"A repository without an owner.", teamSources + "[teams.pay]\nrepositories = [\"web\"]\n" + teamObjective,
			`teams.pay.repositories[0]: must be "owner/name" or a glob like "owner/pay-*", not "web"`},
		{"A malformed glob.", teamSources + "[teams.pay]\nrepositories = [\"acme/[pay\"]\n" + teamObjective,
			`teams.pay.repositories[0]: invalid pattern "acme/[pay"`},
		{"A repository listed twice.", teamSources + "[teams.pay]\nrepositories = [\"acme/web\", \"ACME/WEB\"]\n" + teamObjective,
			`teams.pay.repositories[1]: "ACME/WEB" is listed twice`},
		{"A project that is no key.", teamSources + "[teams.pay]\njira_projects = [\"pay\"]\n" + teamObjective,
			`teams.pay.jira_projects[0]: "pay" is not a Jira project key`},
		{"A board id of 0.", teamSources + "[teams.pay]\njira_boards = [0]\n" + teamObjective,
			`teams.pay.jira_boards[0]: must be a positive board id, not 0`},
		{"An empty component.", teamSources + "[teams.pay]\njira_components = [\" \"]\n" + teamObjective,
			`teams.pay.jira_components[0]: must not be empty`},
		{"A component listed twice in two cases.", teamSources + "[teams.pay]\njira_components = [\"Pay\", \"pay\"]\n" + teamObjective,
			`teams.pay.jira_components[1]: "pay" is listed twice`},
		{"An unknown github_source.", teamSources + "[teams.pay]\nrepositories = [\"acme/web\"]\ngithub_source = \"gitlab\"\n" + teamObjective,
			`teams.pay.github_source: unknown source "gitlab"; github sources: gh, gh2`},
		{"A jira_source that is a github source.", teamSources + "[teams.pay]\njira_projects = [\"PAY\"]\njira_source = \"gh\"\n" + teamObjective,
			`teams.pay.jira_source: source "gh" is a github source, not a jira source; jira sources: jira`},
		{"A github_source without repositories.", teamSources + "[teams.pay]\njira_projects = [\"PAY\"]\ngithub_source = \"gh\"\n" + teamObjective,
			`teams.pay.github_source: the team has no repositories for this source to select`},
		{"Repositories without a github source.", "[teams.pay]\nrepositories = [\"acme/web\"]\n" + teamObjective,
			`teams.pay.repositories: no github source is configured for the team's repositories`},
		{"A key result scope of an unknown team.", teamSources + "[teams.pay]\nrepositories = [\"acme/web\"]\n" + teamKR(`source = "gh"`, `metric = "deployment_count"`, `scope = "team:payments"`),
			`objectives[0].key_results[1].scope: unknown team "payments"; configured teams: pay`},
		{"A team scope with a source the team does not apply to.", teamSources + "[teams.pay]\nrepositories = [\"acme/web\"]\ngithub_source = \"gh\"\n" + teamKR(`source = "gh2"`, `metric = "deployment_count"`, `scope = "team:pay"`),
			`objectives[0].key_results[1].scope: team "pay" selects no records of source "gh2" (its github_source is "gh")`},
		{"A team scope on Jira for a team of repositories only.", teamSources + "[teams.pay]\nrepositories = [\"acme/web\"]\n" + teamKR(`source = "jira"`, `metric = "throughput"`, `scope = "team:pay"`),
			`objectives[0].key_results[1].scope: team "pay" selects no records of source "jira" (it lists no jira_projects, jira_boards or jira_components)`},
		{"A team's sprint metric without boards.", teamSources + "[teams.pay]\njira_projects = [\"PAY\"]\n" + teamKR(`source = "jira"`, `metric = "velocity"`, `scope = "team:pay"`),
			`objectives[0].key_results[1].scope: the sprint metrics of a team come from its jira_boards, and team "pay" lists none`},
		{"An unknown key in a team.", teamSources + "[teams.pay]\nrepos = [\"acme/web\"]\n" + teamObjective,
			`teams.pay.repos: unknown key`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := config.Parse([]byte(c.doc), "okrd.toml")
			if err == nil {
				t.Fatalf("loads; want %s", c.want)
			}
			lines := errorsOf(t, err)
			if !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, c.want) }) {
				t.Fatalf("errors:\n%s\nwant one containing\n%s", strings.Join(lines, "\n"), c.want)
			}
		})
	}
}

func TestJiraSelectorsTheSourceCannotMatchAreWarnings(t *testing.T) {
	doc := teamSources + `
[teams.ops]
jira_projects = ["OPS", "PAY"]
jira_boards = [77, 12]
` + teamObjective
	cfg, err := config.Parse([]byte(doc), "okrd.toml")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`teams.ops.jira_boards[0]: board 77 is not among the source's boards [12 13] (source "jira")`,
		`teams.ops.jira_projects[0]: project "OPS" is not among the source's projects [PAY WEB] (source "jira")`,
	}
	if !slices.Equal(cfg.Warnings, want) {
		t.Errorf("warnings:\n%s\nwant\n%s", strings.Join(cfg.Warnings, "\n"), strings.Join(want, "\n"))
	}
}
