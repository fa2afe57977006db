package config

import (
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Team groups records of the sources into one scope: GitHub repositories
// (names or globs) and Jira projects, boards and components. Every GitHub
// and Jira metric is computed for a team over the union of its records
// (each record once, however many of the team's selectors it matches), as
// for a repository or a project; a key result measures a team with
// scope = "team:NAME". See docs/configuration.md, "[teams]".
type Team struct {
	// Name is the NAME of [teams.NAME] (set by Load): a Prometheus label
	// value and part of the scope "team:NAME".
	Name string `toml:"-"`
	// Repositories are "owner/name" or globs with path.Match semantics
	// ("acme/pay-*", "acme/*"), matched case-insensitively, as GitHub
	// matches names, against the repositories of the team's GitHub
	// sources.
	Repositories []string `toml:"repositories"`
	// JiraProjects are project keys; JiraBoards board ids (the issues a
	// board's filter selects); JiraComponents component names (matched
	// case-insensitively), of the team's Jira sources.
	JiraProjects   []string `toml:"jira_projects"`
	JiraBoards     []int    `toml:"jira_boards"`
	JiraComponents []string `toml:"jira_components"`
	// GitHubSource and JiraSource, when set, name the one github and the
	// one jira source the team's selectors apply to; by default they apply
	// to every source of that type.
	GitHubSource string `toml:"github_source"`
	JiraSource   string `toml:"jira_source"`
}

// TeamScopePrefix begins a key result scope that names a team:
// scope = "team:payments".
const TeamScopePrefix = "team:"

// TeamScope returns the team a key result scope names ("team:NAME"), if
// it names one. It is the one place that reads that syntax, for the
// validation, the sources and explain alike.
func TeamScope(scope string) (name string, ok bool) {
	return strings.CutPrefix(scope, TeamScopePrefix)
}

// HasGitHub reports whether the team selects GitHub records.
func (t *Team) HasGitHub() bool { return len(t.Repositories) > 0 }

// HasJira reports whether the team selects Jira records.
func (t *Team) HasJira() bool {
	return len(t.JiraProjects) > 0 || len(t.JiraBoards) > 0 || len(t.JiraComponents) > 0
}

// AppliesTo reports whether the team selects records of the source: it has
// selectors of the source's type and, when it names a source of that
// type, names this one.
func (t *Team) AppliesTo(src *Source) bool {
	switch src.Type {
	case "github":
		return t.HasGitHub() && (t.GitHubSource == "" || t.GitHubSource == src.Name)
	case "jira":
		return t.HasJira() && (t.JiraSource == "" || t.JiraSource == src.Name)
	}
	return false
}

// MatchRepository reports whether a repository ("owner/name") is one of
// the team's: named, or matching one of its globs, case-insensitively.
func (t *Team) MatchRepository(repo string) bool {
	for _, p := range t.Repositories {
		if MatchRepositoryPattern(p, repo) {
			return true
		}
	}
	return false
}

// MatchRepositoryPattern reports whether a repository matches a team's
// repository entry (a name or a glob), case-insensitively.
func MatchRepositoryPattern(pattern, repo string) bool {
	if strings.EqualFold(pattern, repo) {
		return true
	}
	ok, _ := path.Match(strings.ToLower(pattern), strings.ToLower(repo))
	return ok
}

// TeamsOf returns the teams that select records of a source, by name.
func (c *Config) TeamsOf(src *Source) []*Team {
	var out []*Team
	for _, t := range c.Teams {
		if t.AppliesTo(src) {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

var (
	// teamRepoPart is an owner or a repository name of a team entry, glob
	// characters allowed.
	teamRepoPart = regexp.MustCompile(`^[A-Za-z0-9._*?\[\]!^-]+$`)
	// jiraProjectKey is the syntax of a Jira project key.
	jiraProjectKey = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,254}$`)
)

// teams checks [teams.NAME] and resolves, per source, the teams that
// apply to it (Source.Teams). It runs after sources and before the key
// results, which may name a team in their scope.
func (v *validator) teams() {
	names := make([]string, 0, len(v.cfg.Teams))
	for name := range v.cfg.Teams {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t := v.cfg.Teams[name]
		tp := joinPath("teams", name)
		if t == nil {
			continue
		}
		t.Name = name
		if !idPattern.MatchString(name) {
			v.check(tp, "team name %q must be lower-case letters, digits, '-' and '_', starting with a letter or digit (it becomes the team label of the exported series)", name)
		}
		if !t.HasGitHub() && !t.HasJira() {
			v.check(tp, "selects nothing: set repositories, jira_projects, jira_boards or jira_components")
		}
		seen := map[string]bool{}
		for i, r := range t.Repositories {
			p := indexPath(tp+".repositories", i)
			if err := checkTeamRepository(r); err != nil {
				v.check(p, "%v", err)
			} else if k := strings.ToLower(r); seen[k] {
				v.check(p, "%q is listed twice", r)
			} else {
				seen[k] = true
			}
		}
		seen = map[string]bool{}
		for i, k := range t.JiraProjects {
			p := indexPath(tp+".jira_projects", i)
			switch {
			case !jiraProjectKey.MatchString(k):
				v.check(p, "%q is not a Jira project key (upper-case letters, digits and _, starting with a letter)", k)
			case seen[k]:
				v.check(p, "%q is listed twice", k)
			}
			seen[k] = true
		}
		boards := map[int]bool{}
		for i, b := range t.JiraBoards {
			p := indexPath(tp+".jira_boards", i)
			switch {
			case b <= 0:
				v.check(p, "must be a positive board id, not %d", b)
			case boards[b]:
				v.check(p, "board %d is listed twice", b)
			}
			boards[b] = true
		}
		seen = map[string]bool{}
		for i, c := range t.JiraComponents {
			p := indexPath(tp+".jira_components", i)
			k := strings.ToLower(strings.TrimSpace(c))
			switch {
			case k == "":
				v.check(p, "must not be empty: a component name as Jira shows it")
			case seen[k]:
				v.check(p, "%q is listed twice (component names compare case-insensitively)", c)
			}
			seen[k] = true
		}
		v.teamSource(tp+".github_source", t.GitHubSource, "github", t.HasGitHub(), "repositories")
		v.teamSource(tp+".jira_source", t.JiraSource, "jira", t.HasJira(), "jira_projects, jira_boards or jira_components")
	}
	for name, src := range v.cfg.Sources {
		src.Teams = v.cfg.TeamsOf(src)
		st, ok := lookupSourceType(src.Type)
		if !ok || st.CheckTeam == nil || src.Spec == nil {
			continue
		}
		for _, t := range src.Teams {
			warns, err := st.CheckTeam(src.Spec, t)
			v.report(joinPath("teams", t.Name), err)
			for _, w := range warns {
				v.cfg.Warnings = append(v.cfg.Warnings, fmt.Sprintf("%s: %s (source %q)", joinRel(joinPath("teams", t.Name), w.Field), w.Msg, name))
			}
		}
	}
	sort.Strings(v.cfg.Warnings)
	// Which sources a team applies to must be said somewhere: a team with
	// GitHub selectors but no github source to apply them to is a mistake.
	for _, name := range names {
		t := v.cfg.Teams[name]
		if t == nil {
			continue
		}
		tp := joinPath("teams", name)
		if t.HasGitHub() && t.GitHubSource == "" && !v.hasSourceType("github") {
			v.check(tp+".repositories", "no github source is configured for the team's repositories")
		}
		if t.HasJira() && t.JiraSource == "" && !v.hasSourceType("jira") {
			v.check(tp, "no jira source is configured for the team's jira_projects, jira_boards and jira_components")
		}
	}
}

// teamSource checks a team's github_source or jira_source.
func (v *validator) teamSource(p, name, typ string, selects bool, selectors string) {
	if name == "" {
		return
	}
	src, ok := v.cfg.Sources[name]
	switch {
	case !ok:
		v.check(p, "unknown source %q; %s", name, v.sourcesOfType(typ))
	case src.Type != typ:
		v.check(p, "source %q is a %s source, not a %s source; %s", name, src.Type, typ, v.sourcesOfType(typ))
	case !selects:
		v.check(p, "the team has no %s for this source to select", selectors)
	}
}

func (v *validator) hasSourceType(typ string) bool {
	for _, src := range v.cfg.Sources {
		if src.Type == typ {
			return true
		}
	}
	return false
}

// sourcesOfType lists the sources of a type, for an error.
func (v *validator) sourcesOfType(typ string) string {
	var names []string
	for name, src := range v.cfg.Sources {
		if src.Type == typ {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return "no " + typ + " source is configured"
	}
	sort.Strings(names)
	return typ + " sources: " + strings.Join(names, ", ")
}

// checkTeamRepository checks a team's repository entry: "owner/name",
// either part may be a glob.
func checkTeamRepository(r string) error {
	owner, name, ok := strings.Cut(r, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return fmt.Errorf(`must be "owner/name" or a glob like "owner/pay-*", not %q`, r)
	}
	if !teamRepoPart.MatchString(owner) || !teamRepoPart.MatchString(name) {
		return fmt.Errorf("%q has characters that are in no GitHub name (letters, digits, '-', '_' and '.', and the glob characters * ? [ ])", r)
	}
	if _, err := path.Match(r, ""); err != nil {
		return fmt.Errorf("invalid pattern %q: %v", r, err)
	}
	return nil
}

// teamScope checks a key result scope that names a team: the team exists
// and selects records of the key result's source.
func (v *validator) teamScope(kp string, kr *KeyResult) {
	name, ok := TeamScope(kr.Scope)
	if !ok {
		return
	}
	src := v.cfg.Sources[kr.Source]
	t := v.cfg.Teams[name]
	kr.ScopeTeam = t
	switch {
	case t == nil:
		v.check(kp+".scope", "unknown team %q; %s", name, v.configuredTeams())
	case src == nil:
		// The unknown source is reported on its own.
	case src.Type != "github" && src.Type != "jira":
		v.check(kp+".scope", "a team scope applies to github and jira sources only, not to a %s source", src.Type)
	case !t.AppliesTo(src):
		v.check(kp+".scope", "team %q selects no records of source %q (%s)", name, kr.Source, teamReach(t, src))
	}
}

// teamReach says why a team does not apply to a source.
func teamReach(t *Team, src *Source) string {
	switch {
	case src.Type == "github" && !t.HasGitHub():
		return "it lists no repositories"
	case src.Type == "jira" && !t.HasJira():
		return "it lists no jira_projects, jira_boards or jira_components"
	case src.Type == "github":
		return fmt.Sprintf("its github_source is %q", t.GitHubSource)
	}
	return fmt.Sprintf("its jira_source is %q", t.JiraSource)
}

// configuredTeams lists the team names, for an error.
func (v *validator) configuredTeams() string {
	if len(v.cfg.Teams) == 0 {
		return "no [teams] are configured"
	}
	names := slices.Sorted(maps.Keys(v.cfg.Teams))
	return "configured teams: " + strings.Join(names, ", ")
}
