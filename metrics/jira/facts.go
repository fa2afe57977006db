package jira

import (
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// fact is an issue with the times the flow metrics need, derived once when
// the issue is put into the model rather than on every computation.
type fact struct {
	is    *Issue
	cat   string    // effective category of the current status
	start time.Time // zero: never started
	done  time.Time // zero: not done
}

// derive computes an issue's start and done times (METRICS.md):
//   - done time: the issue is done when its current status is done; its
//     done time is the start of its final stretch in done statuses (the
//     last transition from a status that is not done into one that is),
//     else resolutiondate. A reopened issue is not done until it is done
//     again, and a move between two done statuses (Done -> Closed) does not
//     move the done time.
//   - start time: the first transition into an in-progress status; an issue
//     created in an in-progress status started at its creation, even when
//     it later moved to another in-progress status (or back to to-do and
//     into progress again). An issue that went straight from to-do to done
//     has none.
func derive(is *Issue, c compiled) fact {
	f := fact{is: is, cat: c.of(is.Status)}
	// The status it was created in comes first: an issue created in
	// progress entered progress at its creation, whatever in-progress
	// statuses it moved through afterwards.
	initial := is.Status
	if len(is.Transitions) > 0 {
		initial = is.Transitions[0].From
	}
	if c.of(initial) == CategoryInProgress {
		f.start = is.Created
	} else {
		for _, tr := range is.Transitions {
			if c.of(tr.To) == CategoryInProgress {
				f.start = tr.At
				break
			}
		}
	}
	if f.cat == CategoryDone {
		for i := len(is.Transitions) - 1; i >= 0; i-- {
			tr := is.Transitions[i]
			if c.of(tr.To) == CategoryDone && c.of(tr.From) != CategoryDone {
				f.done = tr.At
				break
			}
		}
		if f.done.IsZero() && is.Resolved != nil {
			f.done = *is.Resolved
		}
	}
	return f
}

// DoneTime returns an issue's done time under the overrides; ok is false
// when the issue is not done. The issue's histories must be in order
// (Issue.Normalize).
func (c Categories) DoneTime(is *Issue) (time.Time, bool) {
	f := derive(is, c.compile())
	return f.done, !f.done.IsZero()
}

// Model is the in-memory view of one Jira source's records. The source
// loads it from the store once and then puts into it what each poll wrote,
// so that metrics never re-read the store. A Model is not safe for
// concurrent use; the source guards it.
type Model struct {
	cats    compiled
	index   map[string]int // issue key -> position in facts
	facts   []fact
	boards  map[int]*Board
	sprints map[int]*Sprint
}

// NewModel returns an empty model that applies the category overrides.
func NewModel(c Categories) *Model {
	return &Model{cats: c.compile(), index: map[string]int{}, boards: map[int]*Board{}, sprints: map[int]*Sprint{}}
}

// PutIssue adds or replaces an issue (by key).
func (m *Model) PutIssue(is *Issue) {
	is.Normalize()
	f := derive(is, m.cats)
	if i, ok := m.index[is.Key]; ok {
		m.facts[i] = f
		return
	}
	m.index[is.Key] = len(m.facts)
	m.facts = append(m.facts, f)
}

// Issue returns a stored issue by key.
func (m *Model) Issue(key string) (*Issue, bool) {
	i, ok := m.index[key]
	if !ok {
		return nil, false
	}
	return m.facts[i].is, true
}

// Len is the number of issues in the model.
func (m *Model) Len() int { return len(m.facts) }

// PutBoard adds or replaces a board.
func (m *Model) PutBoard(b *Board) { m.boards[b.ID] = b }

// SetBoards replaces every board.
func (m *Model) SetBoards(boards []*Board) {
	m.boards = make(map[int]*Board, len(boards))
	for _, b := range boards {
		m.boards[b.ID] = b
	}
}

// Each calls fn for every issue; fn must not modify the issue (put a
// changed copy with PutIssue instead).
func (m *Model) Each(fn func(*Issue)) {
	for i := range m.facts {
		fn(m.facts[i].is)
	}
}

// Board returns a board by id.
func (m *Model) Board(id int) (*Board, bool) {
	b, ok := m.boards[id]
	return b, ok
}

// Boards returns the boards, by id.
func (m *Model) Boards() []*Board {
	out := make([]*Board, 0, len(m.boards))
	for _, b := range m.boards {
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// PutSprint adds or replaces a sprint.
func (m *Model) PutSprint(s *Sprint) { m.sprints[s.ID] = s }

// Sprint returns a sprint by id.
func (m *Model) Sprint(id int) (*Sprint, bool) {
	s, ok := m.sprints[id]
	return s, ok
}

// Projects returns the projects of the issues in the source's scope, sorted.
func (m *Model) Projects() []string {
	seen := map[string]bool{}
	for i := range m.facts {
		if is := m.facts[i].is; !is.Outside {
			seen[is.Project] = true
		}
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// Filter selects issues: a scope and issue types.
type Filter struct {
	// Scope is "" (the whole source), a project key, or "board:<id>".
	Scope string
	// IssueTypes are issue type names (case-insensitive); empty = all.
	IssueTypes []string
}

// BoardScope returns the scope string of a board.
func BoardScope(id int) string { return "board:" + strconv.Itoa(id) }

// ParseBoardScope returns the board id of a "board:<id>" scope.
func ParseBoardScope(scope string) (int, bool) {
	rest, ok := strings.CutPrefix(scope, "board:")
	if !ok {
		return 0, false
	}
	id, err := strconv.Atoi(rest)
	if err != nil || id <= 0 {
		return 0, false
	}
	return id, true
}

// matcher is a Filter compiled against the model.
type matcher struct {
	all      bool
	project  string
	board    *Board
	noBoard  bool
	projects map[string]bool
	types    map[string]bool
}

func (m *Model) matcher(f Filter) matcher {
	var mt matcher
	switch id, ok := ParseBoardScope(f.Scope); {
	case f.Scope == "":
		mt.all = true
	case ok:
		b, found := m.boards[id]
		if !found {
			mt.noBoard = true
			break
		}
		mt.board = b
		mt.projects = map[string]bool{}
		for _, p := range b.Projects {
			mt.projects[strings.ToUpper(p)] = true
		}
	default:
		mt.project = strings.ToUpper(f.Scope)
	}
	if len(f.IssueTypes) > 0 {
		mt.types = map[string]bool{}
		for _, t := range f.IssueTypes {
			mt.types[strings.ToLower(t)] = true
		}
	}
	return mt
}

func (mt *matcher) match(is *Issue) bool {
	if is.Outside || mt.noBoard {
		return false
	}
	if mt.types != nil && !mt.types[strings.ToLower(is.Type)] {
		return false
	}
	switch {
	case mt.all:
		return true
	case mt.board != nil:
		if mt.board.ByFilter {
			return slices.Contains(is.Boards, mt.board.ID)
		}
		return mt.projects[strings.ToUpper(is.Project)]
	default:
		return strings.ToUpper(is.Project) == mt.project
	}
}
