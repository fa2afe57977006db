// Package jira owns the Jira flow and sprint metrics of METRICS.md ("Jira:
// flow and sprint metrics"): the normalized shape in which the Jira source
// stores issues, boards and sprints, an in-memory Model over them, and pure
// computations of throughput, lead and cycle time, work in progress and its
// age, inflow, epic progress and the per-sprint commitment figures, plus the
// Prometheus collector that exports them. Nothing here does I/O or reads the
// clock: "now" is always a parameter.
package jira

import (
	"slices"
	"strings"
	"time"
)

// Status category keys, as Jira sends them in status.statusCategory.key.
const (
	CategoryToDo       = "new"
	CategoryInProgress = "indeterminate"
	CategoryDone       = "done"
)

// Status is an issue status with the category Jira gave it when it was
// fetched. Overrides by name (Categories) are applied when metrics are
// computed, so that changing them in the configuration needs no re-sync.
type Status struct {
	ID       string `json:"id,omitempty"`
	Name     string `json:"name"`
	Category string `json:"cat,omitempty"`
}

// Transition is one status change from the changelog.
type Transition struct {
	At   time.Time `json:"at"`
	From Status    `json:"from"`
	To   Status    `json:"to"`
}

// SprintChange is one change of the Sprint field: the full set of sprint ids
// before and after, as the changelog records them.
type SprintChange struct {
	At   time.Time `json:"at"`
	From []int     `json:"from,omitempty"`
	To   []int     `json:"to,omitempty"`
}

// PointChange is one change of a story-point field (nil = no estimate).
type PointChange struct {
	At    time.Time `json:"at"`
	Field string    `json:"field"`
	From  *float64  `json:"from"`
	To    *float64  `json:"to"`
}

// Issue is the normalized form in which the Jira source stores an issue
// (record kind "issue", id = the issue key): the fields the metrics need and
// the history of status, sprint and story points, but not the raw API JSON.
type Issue struct {
	Key     string `json:"key"`
	Project string `json:"project"`
	Type    string `json:"type"`
	Subtask bool   `json:"subtask,omitempty"`
	// Summary is kept for incidents only (their title).
	Summary  string     `json:"summary,omitempty"`
	Created  time.Time  `json:"created"`
	Updated  time.Time  `json:"updated"`
	Resolved *time.Time `json:"resolved,omitempty"`
	Status   Status     `json:"status"`
	// Transitions are the status changes, oldest first.
	Transitions []Transition `json:"transitions,omitempty"`
	// Sprints is the current value of the Sprint field (sprint ids).
	Sprints []int `json:"sprints,omitempty"`
	// SprintChanges are the Sprint field changes, oldest first.
	SprintChanges []SprintChange `json:"sprint_changes,omitempty"`
	// Points holds the current value of each story-point field that has one.
	Points map[string]float64 `json:"points,omitempty"`
	// PointChanges are the story-point changes, oldest first.
	PointChanges []PointChange `json:"point_changes,omitempty"`
	// Parent is the parent issue (an epic, or the story of a sub-task);
	// Epic is the Epic Link of Data Center sites.
	Parent string   `json:"parent,omitempty"`
	Epic   string   `json:"epic,omitempty"`
	Labels []string `json:"labels,omitempty"`
	// Components are the names of the issue's components (teams select
	// issues by them).
	Components []string `json:"components,omitempty"`
	// Boards lists the boards whose filter selects the issue, for boards
	// whose filter is not a plain project filter (see Board.ByFilter).
	Boards []int `json:"boards,omitempty"`
	// Outside marks an issue fetched only because a tracked sprint contains
	// it: it is outside the source's scope and counts in sprint figures
	// only.
	Outside bool `json:"outside,omitempty"`
}

// Board is a Jira agile board (record kind "board", id = board id).
type Board struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"` // scrum, kanban, simple
	// Projects are the projects the board's filter selects when that filter
	// is a plain project filter: membership is then the issue's project.
	Projects []string `json:"projects,omitempty"`
	// ByFilter is true when the filter is anything else: membership is then
	// kept per issue (Issue.Boards) from a search by filter.
	ByFilter bool `json:"by_filter,omitempty"`
	FilterID int  `json:"filter_id,omitempty"`
	// PointsField is the story-point field id from the board's estimation
	// configuration (or the configured one); empty when the board does not
	// estimate in points.
	PointsField string `json:"points_field,omitempty"`
}

// Sprint is a sprint of a board (record kind "sprint", id = sprint id).
type Sprint struct {
	ID       int        `json:"id"`
	Board    int        `json:"board"`
	Name     string     `json:"name"`
	State    string     `json:"state"` // future, active, closed
	Start    *time.Time `json:"start,omitempty"`
	End      *time.Time `json:"end,omitempty"`
	Complete *time.Time `json:"complete,omitempty"`
	Goal     string     `json:"goal,omitempty"`
	// Issues are the keys the sprint's issue list returned once it closed
	// (Listed): the issues still in it at the end, done or not.
	Issues []string `json:"issues,omitempty"`
	Listed bool     `json:"listed,omitempty"`
}

// Categories overrides Jira's status categories by status name, for
// workflows whose categories do not say when work starts or is done. When
// Done is set, exactly the listed statuses are done and any other status of
// the done category counts as in progress; when Start is set, exactly the
// listed statuses are in progress and any other status of the in-progress
// category counts as to do. Names compare case-insensitively.
type Categories struct {
	Start []string
	Done  []string
}

// compiled is Categories ready for lookups.
type compiled struct {
	start, done map[string]bool
}

func (c Categories) compile() compiled {
	set := func(names []string) map[string]bool {
		if len(names) == 0 {
			return nil
		}
		m := make(map[string]bool, len(names))
		for _, n := range names {
			m[strings.ToLower(strings.TrimSpace(n))] = true
		}
		return m
	}
	return compiled{start: set(c.Start), done: set(c.Done)}
}

// Category codes: the effective categories as small integers, which the
// timelines compare.
const (
	codeToDo uint8 = iota
	codeInProgress
	codeDone
)

var codeNames = [...]string{codeToDo: CategoryToDo, codeInProgress: CategoryInProgress, codeDone: CategoryDone}

// of returns the effective category of a status.
func (c compiled) of(s Status) string { return codeNames[c.code(s)] }

// code returns the effective category of a status as a code.
func (c compiled) code(s Status) uint8 {
	name := strings.ToLower(s.Name)
	if c.done != nil && c.done[name] {
		return codeDone
	}
	if c.start != nil && c.start[name] {
		return codeInProgress
	}
	cat := s.Category
	if cat == CategoryDone && c.done != nil {
		cat = CategoryInProgress
	}
	if cat == CategoryInProgress && c.start != nil {
		cat = CategoryToDo
	}
	switch cat {
	case CategoryInProgress:
		return codeInProgress
	case CategoryDone:
		return codeDone
	}
	// "undefined" (No Category) and unknown statuses are not started.
	return codeToDo
}

// Of returns the effective category of a status under the overrides.
func (c Categories) Of(s Status) string { return c.compile().of(s) }

// Normalize sorts the histories oldest first (the search API inlines them
// newest first), so that the lookups above can rely on the order.
// Histories already in order, as stored records are, are only checked.
func (is *Issue) Normalize() {
	if !inOrder(len(is.Transitions), func(i int) time.Time { return is.Transitions[i].At }) {
		slices.SortStableFunc(is.Transitions, func(a, b Transition) int { return a.At.Compare(b.At) })
	}
	if !inOrder(len(is.SprintChanges), func(i int) time.Time { return is.SprintChanges[i].At }) {
		slices.SortStableFunc(is.SprintChanges, func(a, b SprintChange) int { return a.At.Compare(b.At) })
	}
	if !inOrder(len(is.PointChanges), func(i int) time.Time { return is.PointChanges[i].At }) {
		slices.SortStableFunc(is.PointChanges, func(a, b PointChange) int { return a.At.Compare(b.At) })
	}
}

func inOrder(n int, at func(int) time.Time) bool {
	for i := 1; i < n; i++ {
		if at(i).Before(at(i - 1)) {
			return false
		}
	}
	return true
}
