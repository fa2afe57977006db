package jira

import (
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
// after it. A fact is 64 bytes plus one array of 24 bytes per stretch
// (most issues have one or two).
type fact struct {
	is      *Issue
	created int64
	// start is the start time (never: none); at an instant t the issue
	// has it when start <= t.
	start int64
	// proj and typ are the interned upper-case project and lower-case
	// issue type, so that matching a scope compares integers.
	proj, typ int32
	// spans holds the done stretches, then the WIP stretches, each in
	// order: nDone of the first kind.
	spans []stretch
	nDone int32
}

func (x *fact) done() []stretch { return x.spans[:x.nDone] }
func (x *fact) wip() []stretch  { return x.spans[x.nDone:] }

// doneAt returns the done time the issue has at t, if it is done then.
func (x *fact) doneAt(t int64) (stretch, bool) {
	for _, s := range x.done() {
		if s.from <= t && t < s.until {
			return s, true
		}
	}
	return stretch{}, false
}

// wipAt returns the time the age of the issue counts from at t, if it is
// work in progress then.
func (x *fact) wipAt(t int64) (int64, bool) {
	for _, s := range x.wip() {
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
func derive(is *Issue, c compiled) fact { return deriveWith(is, c.code) }

func deriveWith(is *Issue, cat func(Status) uint8) fact {
	trs := is.Transitions
	n := len(trs)
	// Categories of every from and to, once; most issues have a handful
	// of transitions, which fit on the stack.
	var buf [16]uint8
	cats := buf[:0]
	if 2*n > len(buf) {
		cats = make([]uint8, 0, 2*n)
	}
	for _, tr := range trs {
		cats = append(cats, cat(tr.From), cat(tr.To))
	}
	from := func(i int) uint8 { return cats[2*i] }
	to := func(i int) uint8 { return cats[2*i+1] }
	current := cat(is.Status)

	x := fact{is: is, created: nanos(is.Created), start: never}
	var doneBuf, wipBuf [4]stretch
	b := timeline{x: &x, done: doneBuf[:0], wip: wipBuf[:0]}
	// The status it was created in comes first: an issue created in
	// progress entered progress at its creation, whatever in-progress
	// statuses it moved through afterwards.
	initial := current
	if n > 0 {
		initial = from(0)
	}
	if initial == codeInProgress {
		x.start = x.created
	} else {
		for i := range n {
			if to(i) == codeInProgress {
				x.start = nanos(trs[i].At)
				break
			}
		}
	}
	resolved := int64(never)
	if is.Resolved != nil {
		resolved = nanos(*is.Resolved)
	}

	// Walk the instants at which anything can change (the creation, each
	// transition, the resolution date; the start time is one of these),
	// and record the state that holds from each until the next.
	j := 0                 // transitions at or before t
	lastND := int64(never) // the last transition into done from a status that is not
	t := x.created
	for {
		for j < n && nanos(trs[j].At) <= t {
			if from(j) != codeDone && to(j) == codeDone {
				lastND = nanos(trs[j].At)
			}
			j++
		}
		st := current
		if j < n {
			st = from(j)
		}
		next := int64(never)
		if j < n {
			next = nanos(trs[j].At)
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
				b.addDone(t, next, at)
			}
		case codeInProgress:
			base := x.created
			if x.start <= t {
				base = x.start
			}
			b.addWIP(t, next, base)
		}
		if next == never {
			break
		}
		t = next
	}
	if n := len(b.done) + len(b.wip); n > 0 {
		x.spans = make([]stretch, 0, n)
		x.spans = append(append(x.spans, b.done...), b.wip...)
		x.nDone = int32(len(b.done))
	}
	return x
}

// timeline collects an issue's stretches while derive walks its history.
type timeline struct {
	x         *fact
	done, wip []stretch
}

// addDone appends the stretch [from, until) with done time at, extending
// the previous one when it continues it (unless the start time falls
// between them, which changes whether it has a cycle time).
func (b *timeline) addDone(from, until, at int64) {
	if k := len(b.done) - 1; k >= 0 {
		p := &b.done[k]
		if p.until == from && p.at == at && b.x.cycles(*p) == (b.x.start <= from) {
			p.until = until
			return
		}
	}
	b.done = append(b.done, stretch{from: from, until: until, at: at})
}

func (b *timeline) addWIP(from, until, base int64) {
	if k := len(b.wip) - 1; k >= 0 {
		p := &b.wip[k]
		if p.until == from && p.at == base {
			p.until = until
			return
		}
	}
	b.wip = append(b.wip, stretch{from: from, until: until, at: base})
}

// startTime and doneTime are the start and done time as of the latest
// records (zero: none).
func (x *fact) startTime() time.Time {
	if x.start == never {
		return time.Time{}
	}
	return fromNanos(x.start)
}

func (x *fact) doneTime() time.Time {
	if d := x.done(); len(d) > 0 && d[len(d)-1].until == never {
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
type Model struct {
	cats  compiled
	codes map[Status]uint8 // the category of each status seen, filled by writes
	index map[string]int   // issue key -> position in facts
	facts []fact
	// projects and types intern the upper-case project keys and the
	// lower-case issue types of the issues.
	projects map[string]int32
	types    map[string]int32
	boards   map[int]*Board
	sprints  map[int]*Sprint
}

// NewModel returns an empty model that applies the category overrides.
func NewModel(c Categories) *Model {
	return &Model{cats: c.compile(), codes: map[Status]uint8{}, index: map[string]int{},
		projects: map[string]int32{}, types: map[string]int32{}, boards: map[int]*Board{}, sprints: map[int]*Sprint{}}
}

// code is the category of a status, from the cache when a write has seen
// it (a read never writes the cache).
func (m *Model) code(s Status) uint8 {
	if c, ok := m.codes[s]; ok {
		return c
	}
	return m.cats.code(s)
}

func (m *Model) learn(s Status) uint8 {
	c, ok := m.codes[s]
	if !ok {
		c = m.cats.code(s)
		m.codes[s] = c
	}
	return c
}

func intern(ids map[string]int32, s string) int32 {
	id, ok := ids[s]
	if !ok {
		id = int32(len(ids))
		ids[s] = id
	}
	return id
}

// PutIssue adds or replaces an issue (by key).
func (m *Model) PutIssue(is *Issue) {
	is.Normalize()
	x := deriveWith(is, m.learn)
	x.proj = intern(m.projects, strings.ToUpper(is.Project))
	x.typ = intern(m.types, strings.ToLower(is.Type))
	if i, ok := m.index[is.Key]; ok {
		m.facts[i] = x
		return
	}
	m.index[is.Key] = len(m.facts)
	m.facts = append(m.facts, x)
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
func (m *Model) Projects() []string { return m.projectsAt(never) }

// projectsAt returns the projects of the in-scope issues created by t.
func (m *Model) projectsAt(t int64) []string {
	seen := map[string]bool{}
	for i := range m.facts {
		if x := &m.facts[i]; !x.is.Outside && x.created <= t {
			seen[x.is.Project] = true
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

// matcher is a Filter compiled against the model: interned ids, so that
// a match compares integers.
type matcher struct {
	none     bool // an unknown board, project or type: nothing matches
	all      bool
	project  int32
	board    *Board
	projects []int32
	types    []bool // by type id; nil = every type
}

func (m *Model) matcher(f Filter) matcher {
	var mt matcher
	switch id, ok := ParseBoardScope(f.Scope); {
	case f.Scope == "":
		mt.all = true
	case ok:
		b, found := m.boards[id]
		if !found {
			mt.none = true
			break
		}
		mt.board = b
		for _, p := range b.Projects {
			if pid, ok := m.projects[strings.ToUpper(p)]; ok {
				mt.projects = append(mt.projects, pid)
			}
		}
	default:
		pid, ok := m.projects[strings.ToUpper(f.Scope)]
		mt.project = pid
		mt.none = !ok
	}
	if len(f.IssueTypes) > 0 {
		mt.types = make([]bool, len(m.types))
		for _, t := range f.IssueTypes {
			if id, ok := m.types[strings.ToLower(t)]; ok {
				mt.types[id] = true
			}
		}
	}
	return mt
}

func (mt *matcher) match(x *fact) bool {
	if mt.none || x.is.Outside {
		return false
	}
	if mt.types != nil && !mt.types[x.typ] {
		return false
	}
	switch {
	case mt.all:
		return true
	case mt.board != nil:
		if mt.board.ByFilter {
			return slices.Contains(x.is.Boards, mt.board.ID)
		}
		return slices.Contains(mt.projects, x.proj)
	default:
		return x.proj == mt.project
	}
}
