package jira

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// never is the instant that never comes: the end of a stretch that has
// not ended, and the start time of an issue that never started.
const never = math.MaxInt64

// Times inside the model are Unix nanoseconds: the timelines below are
// compared and subtracted millions of times per history, and an int64 is
// a quarter of a time.Time. Jira's times are far inside the range of
// int64 nanoseconds (1678 to 2262); a time outside it (a zero time.Time)
// is clamped to the range, so that it still orders before every real one.
var (
	minNanoTime = time.Unix(0, math.MinInt64+1)
	maxNanoTime = time.Unix(0, never-1)
)

func nanos(t time.Time) int64 {
	switch {
	case t.Before(minNanoTime):
		return math.MinInt64 + 1
	case t.After(maxNanoTime):
		return never - 1
	}
	return t.UnixNano()
}

func fromNanos(ns int64) time.Time { return time.Unix(0, ns).UTC() }

// seconds is a duration in seconds, computed as time.Time.Sub and
// Duration.Seconds would: the history and the live value of a metric must
// be the same float64, not merely close.
func seconds(to, from int64) float64 { return time.Duration(to - from).Seconds() }

// stretch is a run [from, until) of instants over which a state of an
// issue holds: for a done stretch, being done with the done time at
// (at <= from); for a WIP stretch, being in progress with the age counted
// from at.
type stretch struct{ from, until, at int64 }

// fact is an issue with its timeline: what the flow metrics need to know
// about it at any instant, derived once when the issue is put into the
// model rather than from the changelog on every computation.
//
// The timeline is what METRICS.md's definitions give when they are
// evaluated with now = t over the issue as it stood at t (its changelog
// up to t, its status the one the changelog gives at t, resolutiondate
// only once it is past): the done time and the state of work in progress
// are piecewise constant in t, changing only at a transition or at the
// resolution date, so a few stretches describe them for every t. Before
// its creation an issue does not exist, so every stretch starts at or
// after it.
//
// A fact is 56 bytes, with no pointer: the times and small integers every
// computation reads, plus blob, the reference of the encoding of the
// stretches and of the rest of the issue in the model's arena (see
// compact.go), which most computations decode only in part.
type fact struct {
	created int64
	// start is the start time (never: none); at an instant t the issue
	// has it when start <= t.
	start int64
	// blob refers to the encoded rest: the stretches first (done, then
	// work in progress, each in order), then the status and the
	// histories.
	blob uint64
	// proj and typ are the project and issue type, numbers into the
	// model's tables of them (as the issue names them; the model maps
	// them to upper-case projects and lower-case types for matching).
	proj, typ uint32
	// boards is the list of boards whose filter selects the issue, and
	// mentions the sorted list of every sprint its Sprint field names now
	// or in a change, as numbers into the model's lists of integers.
	boards, mentions uint32
	// parent and epic are numbers into the model's table of issue keys
	// named as parents and Epic Links (0: none).
	parent, epic uint32
	// comps is the issue's list of components, a number into the model's
	// lists of them (0: none).
	comps uint32
	flags uint8
}

func (x *fact) outside() bool { return x.flags&factOutside != 0 }
func (x *fact) subtask() bool { return x.flags&factSubtask != 0 }

// doneAt returns the done stretch that holds at t, if the issue is done
// then.
func doneAt(done []stretch, t int64) (stretch, bool) {
	for _, s := range done {
		if s.from <= t && t < s.until {
			return s, true
		}
	}
	return stretch{}, false
}

// wipAt returns the time the age of the issue counts from at t, if it is
// work in progress then.
func wipAt(wip []stretch, t int64) (int64, bool) {
	for _, s := range wip {
		if s.from <= t && t < s.until {
			return s.at, true
		}
	}
	return 0, false
}

// cycles reports whether a done stretch has a cycle time: the issue had
// started when the stretch began. Stretches are split at the start time,
// so this holds for the whole stretch or none of it.
func (x *fact) cycles(s stretch) bool { return x.start <= s.from }

// lead and cycle are the lead and cycle time of a done stretch, in
// seconds (clock skew clamps to 0).
func (x *fact) lead(s stretch) float64  { return max(0, seconds(s.at, x.created)) }
func (x *fact) cycle(s stretch) float64 { return max(0, seconds(s.at, x.start)) }

// age is the WIP age at t of an issue whose age counts from base.
func age(t, base int64) float64 { return max(0, seconds(t, base)) }

// derive computes an issue's timeline (METRICS.md, and its "History"
// section for the instants):
//   - done time at t: the issue is done at t when its status at t is
//     done; its done time is then the start of its final stretch in done
//     statuses up to t (the last transition up to t from a status that is
//     not done into one that is), else its resolutiondate if that is not
//     after t. A reopened issue is not done until it is done again, and a
//     move between two done statuses (Done -> Closed) does not move the
//     done time.
//   - start time: the first transition into an in-progress status; an
//     issue created in an in-progress status started at its creation,
//     even when it later moved to another in-progress status (or back to
//     to-do and into progress again). An issue that went straight from
//     to-do to done has none. At t the issue has it when it is not after
//     t.
//   - work in progress at t: the status at t is in progress; its age
//     counts from the start time, or from the creation when it has none
//     by t (in progress under a category override without a transition
//     into it).
//
// The status at t is the "from" of the first transition after t, or the
// current status when there is none.
func derive(is *Issue, c compiled) timeline {
	trs := make([]catTr, len(is.Transitions))
	for i, tr := range is.Transitions {
		trs[i] = catTr{at: nanos(tr.At), from: c.code(tr.From), to: c.code(tr.To)}
	}
	resolved := int64(never)
	if is.Resolved != nil {
		resolved = nanos(*is.Resolved)
	}
	return deriveTimeline(nanos(is.Created), resolved, c.code(is.Status), trs, nil, nil)
}

// catTr is a transition with the effective categories of its statuses.
type catTr struct {
	at       int64
	from, to uint8
}

// timeline is an issue's start time and stretches (see derive).
type timeline struct {
	created, start int64
	done, wip      []stretch
}

// deriveTimeline is derive over an issue's creation, resolution date
// (never: none), current category and transitions in order; the
// stretches are appended to done and wip.
func deriveTimeline(created, resolved int64, current uint8, trs []catTr, done, wip []stretch) timeline {
	n := len(trs)
	tl := timeline{created: created, start: never, done: done, wip: wip}
	// The status it was created in comes first: an issue created in
	// progress entered progress at its creation, whatever in-progress
	// statuses it moved through afterwards.
	initial := current
	if n > 0 {
		initial = trs[0].from
	}
	if initial == codeInProgress {
		tl.start = created
	} else {
		for _, tr := range trs {
			if tr.to == codeInProgress {
				tl.start = tr.at
				break
			}
		}
	}

	// Walk the instants at which anything can change (the creation, each
	// transition, the resolution date; the start time is one of these),
	// and record the state that holds from each until the next.
	j := 0                 // transitions at or before t
	lastND := int64(never) // the last transition into done from a status that is not
	t := created
	for {
		for j < n && trs[j].at <= t {
			if trs[j].from != codeDone && trs[j].to == codeDone {
				lastND = trs[j].at
			}
			j++
		}
		st := current
		next := int64(never)
		if j < n {
			st = trs[j].from
			next = trs[j].at
		}
		if resolved > t && resolved < next {
			next = resolved
		}
		switch st {
		case codeDone:
			at := lastND
			if at == never && resolved <= t {
				at = resolved
			}
			if at != never {
				tl.addDone(t, next, at)
			}
		case codeInProgress:
			base := created
			if tl.start <= t {
				base = tl.start
			}
			tl.addWIP(t, next, base)
		}
		if next == never {
			break
		}
		t = next
	}
	return tl
}

// addDone appends the stretch [from, until) with done time at, extending
// the previous one when it continues it (unless the start time falls
// between them, which changes whether it has a cycle time).
func (tl *timeline) addDone(from, until, at int64) {
	if k := len(tl.done) - 1; k >= 0 {
		p := &tl.done[k]
		if p.until == from && p.at == at && (tl.start <= p.from) == (tl.start <= from) {
			p.until = until
			return
		}
	}
	tl.done = append(tl.done, stretch{from: from, until: until, at: at})
}

func (tl *timeline) addWIP(from, until, base int64) {
	if k := len(tl.wip) - 1; k >= 0 {
		p := &tl.wip[k]
		if p.until == from && p.at == base {
			p.until = until
			return
		}
	}
	tl.wip = append(tl.wip, stretch{from: from, until: until, at: base})
}

// startTime and doneTime are the start and done time as of the latest
// records (zero: none).
func (tl *timeline) startTime() time.Time {
	if tl.start == never {
		return time.Time{}
	}
	return fromNanos(tl.start)
}

func (tl *timeline) doneTime() time.Time {
	if d := tl.done; len(d) > 0 && d[len(d)-1].until == never {
		return fromNanos(d[len(d)-1].at)
	}
	return time.Time{}
}

// DoneTime returns an issue's done time under the overrides, as of its
// latest records; ok is false when the issue is not done. The issue's
// histories must be in order (Issue.Normalize).
func (c Categories) DoneTime(is *Issue) (time.Time, bool) {
	x := derive(is, c.compile())
	t := x.doneTime()
	return t, !t.IsZero()
}

// Model is the in-memory view of one Jira source's records. The source
// loads it from the store once and then puts into it what each poll wrote,
// so that metrics never re-read the store. A Model is not safe for
// concurrent use; the source guards it. Its reads (Value, History, the
// exporter's Update) change nothing, so any number of them may run
// together while no write does.
//
// It keeps each issue compactly (compact.go): a fact per issue, in the
// order the issues were first put, its key in keys at the same position.
type Model struct {
	cats  compiled
	facts []fact
	keys  keyIndex
	// projects and types are the project keys and issue types as the
	// issues name them; upper and lower the upper-case project keys and
	// lower-case types that scopes and filters match, projUpper and
	// typeLower the one of each.
	projects, types, upper, lower table
	projUpper, typeLower          []uint32
	// refs are the keys named as parents and Epic Links, fields the
	// story-point fields.
	refs, fields table
	arena        arena
	statuses     statusTable
	sets         intSets
	labels       labelSets
	comps        labelSets
	boards       map[int]*Board
	// teams are the teams whose scopes the model computes, by name.
	teams   map[string]*Team
	sprints map[int]*Sprint

	// Buffers of the writes.
	wv    view
	enc   []byte
	cbuf  []catTr
	ibuf  []int
	sbuf  []uint32
	fbuf  []uint32
	parse recordParse
}

// NewModel returns an empty model that applies the category overrides.
func NewModel(c Categories) *Model {
	return &Model{cats: c.compile(), keys: newKeyIndex(),
		projects: emptyTable(), types: emptyTable(), upper: emptyTable(), lower: emptyTable(), refs: newTable(), fields: newTable(),
		statuses: statusTable{ids: map[Status]uint32{}, raw: map[string]uint32{}}, sets: newIntSets(), labels: newLabelSets(), comps: newLabelSets(),
		boards: map[int]*Board{}, sprints: map[int]*Sprint{}}
}

// PutIssue adds or replaces an issue (by key). It sorts the issue's
// histories (Normalize) and keeps nothing of it: the model holds its own
// compact copy.
func (m *Model) PutIssue(is *Issue) {
	is.Normalize()
	i, _ := m.keys.findOrAdd(is.Key)
	m.put(i, is)
}

// Grow makes room for n more issues, so that a load whose size is known
// neither copies the model as it grows nor leaves room unused.
func (m *Model) Grow(n int) {
	if n <= 0 {
		return
	}
	m.facts = slices.Grow(m.facts, n)
	// Jira keys are about ten bytes long.
	m.keys.reserve(m.keys.len()+n, 10)
}

// Issue returns a stored issue by key, rebuilt from what the model keeps:
// the same as the issue put, with its times in UTC. It is the caller's
// to change (put it back with PutIssue to store the change).
func (m *Model) Issue(key string) (*Issue, bool) {
	i, ok := m.keys.find(key)
	if !ok {
		return nil, false
	}
	return m.issue(i), true
}

// Has reports whether the model holds an issue, without rebuilding it.
func (m *Model) Has(key string) bool {
	_, ok := m.keys.find(key)
	return ok
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

// Each calls fn for every issue, in the order they were first put, each
// rebuilt as Issue returns it.
func (m *Model) Each(fn func(*Issue)) {
	for i := range m.facts {
		fn(m.issue(i))
	}
}

// EachMembership calls fn for every issue, in the order Each gives them,
// with what a sync of board memberships reads (the key, when the issue
// was updated, whether it is outside the scope, the boards that select
// it by filter), without rebuilding the issue: over a large model it
// costs a small part of Each. boards is the model's and must not be
// changed.
func (m *Model) EachMembership(fn func(key string, updated time.Time, outside bool, boards []int)) {
	var v view
	for i := range m.facts {
		x := &m.facts[i]
		r := reader[[]byte]{s: m.arena.get(x.blob)}
		v.done = readSpans(&r, v.done[:0], x.created)
		v.wip = readSpans(&r, v.wip[:0], x.created)
		updated := toTime(r.time(x.created))
		if r.err != nil {
			panic(fmt.Sprintf("jira: the model's encoding of an issue is corrupt: %v", r.err))
		}
		fn(m.keys.key(i), updated, x.outside(), m.sets.sets[x.boards])
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
func (m *Model) Projects() []string { return m.projectsAt(never) }

// projectsAt returns the projects of the in-scope issues created by t.
func (m *Model) projectsAt(t int64) []string {
	seen := make([]bool, len(m.projects.strs))
	for i := range m.facts {
		if x := &m.facts[i]; !x.outside() && x.created <= t {
			seen[x.proj] = true
		}
	}
	return m.projectNames(seen)
}

// projectNames returns the projects marked seen (by number), sorted.
func (m *Model) projectNames(seen []bool) []string {
	var out []string
	for id, ok := range seen {
		if ok {
			out = append(out, m.projects.strs[id])
		}
	}
	sort.Strings(out)
	return out
}

// Filter selects issues: a scope and issue types.
type Filter struct {
	// Scope is "" (the whole source), a project key, "board:<id>", or
	// "team:NAME" (a team of the model, SetTeams).
	Scope string
	// IssueTypes are issue type names (case-insensitive); empty = all.
	IssueTypes []string
}

// key identifies the filter's selection, for grouping queries.
func (f Filter) key() string {
	types := make([]string, len(f.IssueTypes))
	for i, t := range f.IssueTypes {
		types[i] = strings.ToLower(t)
	}
	sort.Strings(types)
	return strings.ToUpper(f.Scope) + "\x00" + strings.Join(types, "\x00")
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

// matcher is a Filter compiled against the model: numbers from its
// tables, so that a match compares integers.
type matcher struct {
	none     bool // an unknown board, project or type: nothing matches
	all      bool
	project  uint32 // upper-case project
	board    *Board
	projects []uint32 // upper-case projects
	types    []bool   // by lower-case type; nil = every type
	sets     *intSets
	team     *teamMatcher
}

func (m *Model) matcher(f Filter) matcher {
	mt := matcher{sets: &m.sets}
	team, isTeam := ParseTeamScope(f.Scope)
	switch id, ok := ParseBoardScope(f.Scope); {
	case f.Scope == "":
		mt.all = true
	case isTeam:
		t, found := m.teams[team]
		if !found {
			mt.none = true
			break
		}
		mt.team = m.teamMatcher(t)
	case ok:
		b, found := m.boards[id]
		if !found {
			mt.none = true
			break
		}
		mt.board = b
		for _, p := range b.Projects {
			if pid, ok := m.upper.lookup(strings.ToUpper(p)); ok {
				mt.projects = append(mt.projects, pid)
			}
		}
	default:
		pid, ok := m.upper.lookup(strings.ToUpper(f.Scope))
		mt.project = pid
		mt.none = !ok
	}
	if len(f.IssueTypes) > 0 {
		mt.types = make([]bool, len(m.lower.strs))
		for _, t := range f.IssueTypes {
			if id, ok := m.lower.lookup(strings.ToLower(t)); ok {
				mt.types[id] = true
			}
		}
	}
	return mt
}

func (mt *matcher) match(m *Model, x *fact) bool {
	if mt.none || x.outside() {
		return false
	}
	if mt.types != nil && !mt.types[m.typeLower[x.typ]] {
		return false
	}
	switch {
	case mt.all:
		return true
	case mt.team != nil:
		return mt.team.match(m, x)
	case mt.board != nil:
		if mt.board.ByFilter {
			return mt.sets.has(x.boards, mt.board.ID)
		}
		return slices.Contains(mt.projects, m.projUpper[x.proj])
	default:
		return m.projUpper[x.proj] == mt.project
	}
}
