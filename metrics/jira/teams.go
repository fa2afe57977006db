package jira

import (
	"sort"
	"strings"
)

// Team is a scope over the issues of several projects, boards and
// components: an issue is the team's when its project is one of the
// team's, one of the team's boards selects it, or it has one of the
// team's components. Each issue counts once, however many of these it
// matches. The team's sprint figures are those of its boards' sprints.
type Team struct {
	Name     string
	Projects []string // project keys
	Boards   []int
	// Components are component names, compared case-insensitively.
	Components []string
}

// TeamScope returns the scope string of a team: "team:NAME". A project key
// has no ':' and a board scope begins with "board:", so it cannot clash.
func TeamScope(name string) string { return "team:" + name }

// ParseTeamScope returns the team name of a "team:NAME" scope.
func ParseTeamScope(scope string) (string, bool) { return strings.CutPrefix(scope, "team:") }

// SetTeams replaces the teams whose scopes the model computes. It costs
// nothing per issue: which issues a team selects is worked out when a
// computation reads them, once per list of components and boards and per
// project met (see teamMatcher), so a team follows the boards' changes.
func (m *Model) SetTeams(teams []Team) {
	m.teams = make(map[string]*Team, len(teams))
	for i := range teams {
		t := teams[i]
		m.teams[t.Name] = &t
	}
}

// Teams returns the model's teams, by name.
func (m *Model) Teams() []*Team {
	out := make([]*Team, 0, len(m.teams))
	for _, t := range m.teams {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// TeamList returns the model's teams as SetTeams takes them, by name.
func (m *Model) TeamList() []Team {
	out := make([]Team, 0, len(m.teams))
	for _, t := range m.Teams() {
		out = append(out, *t)
	}
	return out
}

// Team returns a team by name.
func (m *Model) Team(name string) (*Team, bool) {
	t, ok := m.teams[name]
	return t, ok
}

// teamMatcher decides whether an issue is a team's from the numbers of
// its fact: its upper-case project, its list of boards by filter and its
// list of components. The answer for a list is worked out the first time
// it is met and remembered, so that matching a million issues compares a
// few integers each.
type teamMatcher struct {
	projects []bool // by upper-case project: the team's, or selected by one of its boards by project
	boards   []int  // the team's boards whose filter is not a plain project filter
	comps    map[string]bool
	// byBoards and byComps remember, per list, whether it matches (0:
	// not worked out yet, 1: no, 2: yes).
	byBoards, byComps []uint8
}

func (m *Model) teamMatcher(t *Team) *teamMatcher {
	tm := &teamMatcher{projects: make([]bool, len(m.upper.strs)), comps: map[string]bool{},
		byBoards: make([]uint8, len(m.sets.sets)), byComps: make([]uint8, len(m.comps.sets))}
	mark := func(p string) {
		if u, ok := m.upper.lookup(strings.ToUpper(p)); ok {
			tm.projects[u] = true
		}
	}
	for _, p := range t.Projects {
		mark(p)
	}
	for _, id := range t.Boards {
		b, ok := m.boards[id]
		switch {
		case !ok:
			// A board the source does not track (yet) selects nothing.
		case b.ByFilter:
			tm.boards = append(tm.boards, id)
		default:
			for _, p := range b.Projects {
				mark(p)
			}
		}
	}
	for _, c := range t.Components {
		tm.comps[strings.ToLower(strings.TrimSpace(c))] = true
	}
	return tm
}

// match reports whether the issue is the team's (whatever its type, and
// also when it is outside the source's scope: callers skip those).
func (tm *teamMatcher) match(m *Model, x *fact) bool {
	if tm.projects[m.projUpper[x.proj]] {
		return true
	}
	if len(tm.boards) > 0 {
		switch tm.byBoards[x.boards] {
		case 0:
			tm.byBoards[x.boards] = 1
			for _, id := range tm.boards {
				if m.sets.has(x.boards, id) {
					tm.byBoards[x.boards] = 2
					break
				}
			}
			if tm.byBoards[x.boards] == 2 {
				return true
			}
		case 2:
			return true
		}
	}
	if len(tm.comps) > 0 && x.comps != 0 {
		if tm.byComps[x.comps] == 0 {
			tm.byComps[x.comps] = 1
			for _, c := range m.comps.sets[x.comps] {
				if tm.comps[strings.ToLower(strings.TrimSpace(c))] {
					tm.byComps[x.comps] = 2
					break
				}
			}
		}
		return tm.byComps[x.comps] == 2
	}
	return false
}
