package collectors

// Scope kinds of a ResolvedScope.
const (
	ScopeSource     = "source"     // the whole source (no scope)
	ScopeRepository = "repository" // a GitHub repository
	ScopeProject    = "project"    // a Jira project
	ScopeBoard      = "board"      // a Jira board
	ScopeTeam       = "team"       // a [teams.NAME] table
)

// ScopeResolver is a Source that can say what a key result's scope
// selects among its records, as they stood at its last poll: which
// repositories a team's globs matched, which Jira projects, boards and
// components it groups. It is the one place where a scope string is
// resolved for showing (explain, the API), and it resolves it as Measure
// and History do.
type ScopeResolver interface {
	// ResolveScope resolves a key result's scope ("" for the whole
	// source). An error says the scope names nothing of the source (an
	// unknown repository, board or team).
	ResolveScope(scope string) (ResolvedScope, error)
}

// ResolvedScope is what a scope selects.
type ResolvedScope struct {
	// Kind is one of the Scope* constants; Name the repository, project,
	// board ("board:<id>") or team name ("" for the whole source).
	Kind string `json:"kind"`
	Name string `json:"name,omitempty"`
	// Repositories are the GitHub repositories of the scope (a team's:
	// its entries, globs resolved against the source's repositories).
	Repositories []string `json:"repositories,omitempty"`
	// Projects, Boards and Components are the Jira selectors of the
	// scope: an issue is in it when it is in one of the projects, one of
	// the boards selects it, or it has one of the components (each issue
	// once).
	Projects   []string `json:"projects,omitempty"`
	Boards     []int    `json:"boards,omitempty"`
	Components []string `json:"components,omitempty"`
}
