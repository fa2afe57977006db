package jira

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/okrd/okrd/metrics/quantile"
)

// This file holds what the as-of tests compare against, written without
// the model's code: a generator of realistic records, the records as they
// stood at an instant t (asOf), and the live computation of the flow
// metrics as okrd made it before it knew about history (live), which
// reads an issue's latest records only.

var (
	triage = Status{ID: "2", Name: "Triage", Category: "undefined"}
	wontDo = Status{ID: "7", Name: "Won't Do", Category: CategoryDone}
)

// world is a generated source: issues, boards and sprints.
type world struct {
	origin  time.Time // the records start here
	horizon time.Time // and end before here
	issues  []*Issue
	boards  []*Board
	sprints []*Sprint
}

// model loads a world into a fresh model, in order.
func (w *world) model(c Categories) *Model {
	m := NewModel(c)
	for _, b := range w.boards {
		m.PutBoard(b)
	}
	for _, s := range w.sprints {
		m.PutSprint(s)
	}
	for _, is := range w.issues {
		m.PutIssue(is)
	}
	return m
}

// genWorld generates n issues over 200 days in projects PAY and WEB
// (plus a few OPS issues from outside the scope), with two scrum boards
// in two-week sprints (board 1 on PAY, board 2 on WEB with closing issue
// lists), a kanban board by filter (3) and a project board over both
// projects (4). Histories: reopens, moves between done statuses, issues
// created in progress or done, transitions at the same instant,
// resolution dates that stay after a reopen, sprint joins before and
// after the start, moves out, carry-overs at the close, issues created
// into a sprint, estimate changes, epics by parent and by Epic Link, and
// sub-tasks.
func genWorld(seed uint64, n int) *world {
	rng := rand.New(rand.NewPCG(seed, seed*7+1))
	origin := time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)
	w := &world{origin: origin, horizon: origin.Add(200 * day)}
	w.boards = []*Board{
		{ID: 1, Name: "PAY", Type: "scrum", Projects: []string{"PAY"}, PointsField: "sp"},
		{ID: 2, Name: "WEB", Type: "scrum", Projects: []string{"web"}, PointsField: "sp"},
		{ID: 3, Name: "Cross-team", Type: "kanban", ByFilter: true},
		{ID: 4, Name: "Both", Type: "kanban", Projects: []string{"PAY", "WEB"}},
	}
	// Sprints: PAY from the origin, WEB a week later; completed a few
	// hours after their end. The ones not completed by the horizon are
	// active (the first) or future.
	type sprintRun struct{ start, complete time.Time }
	runs := map[int]sprintRun{}
	for _, bo := range []struct {
		b   int
		off time.Duration
	}{{1, 0}, {2, 7 * day}} {
		b, off := bo.b, bo.off
		active := false
		for k := range 15 {
			id := b*100 + k
			start := origin.Add(off + time.Duration(k)*14*day)
			end := start.Add(14 * day)
			complete := end.Add(time.Duration(rng.IntN(6)) * time.Hour)
			sp := &Sprint{ID: id, Board: b, Name: fmt.Sprintf("B%d S%d", b, k), State: "closed", Start: ptr(start), End: ptr(end), Complete: ptr(complete)}
			if !complete.Before(w.horizon) {
				sp.Complete = nil
				sp.State = "future"
				if !active {
					sp.State, active = "active", true
				}
			}
			runs[id] = sprintRun{start, complete}
			w.sprints = append(w.sprints, sp)
		}
	}
	sprintAt := func(b int, t time.Time) int {
		for k := range 15 {
			r := runs[b*100+k]
			if t.Before(r.complete) {
				return b*100 + k
			}
		}
		return 0
	}
	var epics, stories []string
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
	randDur := func(maxDays float64) time.Duration { return time.Duration(rng.Float64() * maxDays * float64(day)) }
	for i := range n {
		project := []string{"PAY", "WEB"}[rng.IntN(2)]
		is := &Issue{Key: fmt.Sprintf("%s-%d", project, i+1), Project: project}
		// Whole seconds, and now and then a shared instant, so that
		// events fall on each other and on the instants the tests pick.
		created := origin.Add(randDur(185)).Truncate(time.Second)
		is.Created = created
		switch r := rng.IntN(20); {
		case i < 8 || r == 0 && len(epics) < 12:
			is.Type = "Epic"
			epics = append(epics, is.Key)
		case r < 3 && len(stories) > 0:
			is.Type, is.Subtask, is.Parent = "Sub-task", true, pick(stories)
		case r < 9:
			is.Type = "Bug"
		case r < 11:
			is.Type = "Task"
		default:
			is.Type = "Story"
			stories = append(stories, is.Key)
		}
		if !is.Subtask && is.Type != "Epic" && len(epics) > 0 && rng.IntN(2) == 0 {
			if rng.IntN(3) == 0 {
				is.Epic = pick(epics)
			} else {
				is.Parent = pick(epics)
			}
		}
		if rng.IntN(3) == 0 {
			is.Boards = []int{3}
		}
		if rng.IntN(40) == 0 {
			is.Project, is.Outside = "OPS", true
		}
		// Components, by position (not from rng, whose sequence the other
		// fields keep): teams select issues by them.
		switch {
		case i%5 == 0:
			is.Components = []string{"Payments"}
		case i%7 == 0:
			is.Components = []string{"ledger", "PAYMENTS"}
		case i%11 == 0:
			is.Components = []string{"Ledger"}
		}

		// The status walk.
		status := toDo
		switch r := rng.IntN(40); {
		case r < 4:
			status = triage
		case r < 8:
			status = inProgress
		case r < 10:
			status = review
		case r < 11:
			status = done
		}
		t := created
		var lastDone *time.Time
		if status.Category == CategoryDone {
			lastDone = ptr(created.Add(time.Duration(rng.IntN(5)) * time.Hour))
		}
		for range rng.IntN(7) {
			if rng.IntN(15) != 0 {
				t = t.Add(time.Duration(rng.ExpFloat64() * 3 * float64(day))).Truncate(time.Second)
			}
			if !t.Before(w.horizon) {
				break
			}
			var next Status
			r := rng.IntN(20)
			switch status.Category {
			case CategoryDone:
				next = []Status{closed, closed, wontDo, done, inProgress, inProgress, inProgress, toDo}[r%8]
			case CategoryInProgress:
				next = []Status{review, review, done, done, done, toDo, inProgress, wontDo}[r%8]
			default:
				next = []Status{inProgress, inProgress, inProgress, review, done, wontDo, triage, toDo}[r%8]
			}
			if next == status {
				continue
			}
			is.Transitions = append(is.Transitions, Transition{At: t, From: status, To: next})
			if next.Category == CategoryDone && status.Category != CategoryDone {
				lastDone = ptr(t)
			}
			status = next
		}
		is.Status = status
		switch {
		case status.Category == CategoryDone && rng.IntN(8) != 0:
			is.Resolved = lastDone
		case lastDone != nil && rng.IntN(4) == 0:
			// A resolution date that stayed after a reopen.
			is.Resolved = lastDone
		}

		// Sprint membership, for the issues of the scrum boards' projects.
		board := map[string]int{"PAY": 1, "WEB": 2, "OPS": 1}[is.Project]
		var cur []int
		if rng.IntN(5) < 3 {
			join := created
			if rng.IntN(4) != 0 {
				join = created.Add(randDur(6)).Truncate(time.Second)
			}
			sid := sprintAt(board, join)
			if _, ok := runs[sid+1]; ok && sid != 0 && rng.IntN(2) == 0 {
				// Planned into the next sprint: committed at its start.
				sid++
			}
			if sid != 0 {
				if join.Equal(created) && rng.IntN(2) == 0 {
					// Created into the sprint: no change in the history.
					cur = []int{sid}
				} else {
					is.SprintChanges = append(is.SprintChanges, SprintChange{At: join, To: []int{sid}})
					cur = []int{sid}
				}
				r := runs[sid]
				switch x := rng.IntN(10); {
				case x < 2:
					out := join.Add(randDur(10)).Truncate(time.Second)
					if out.Before(w.horizon) {
						is.SprintChanges = append(is.SprintChanges, SprintChange{At: out, From: cur, To: nil})
						cur = nil
					}
				case x < 7 && r.complete.Before(w.horizon) && statusAtTest(is, r.complete).Category != CategoryDone:
					// Carried over to the next sprint at the close.
					nextID := sid + 1
					to := []int{sid, nextID}
					is.SprintChanges = append(is.SprintChanges, SprintChange{At: r.complete.Add(time.Second), From: cur, To: to})
					cur = to
				}
			}
		}
		is.Sprints = cur

		// Story points: an estimate at creation, changed now and then.
		var pts *float64
		if rng.IntN(10) < 7 {
			pts = ptr(float64([]int{1, 2, 3, 5, 8}[rng.IntN(5)]))
		}
		pt := created
		for range rng.IntN(3) {
			pt = pt.Add(randDur(8)).Truncate(time.Second)
			if !pt.Before(w.horizon) {
				break
			}
			var nv *float64
			if rng.IntN(6) != 0 {
				nv = ptr(float64([]int{1, 2, 3, 5, 8, 13}[rng.IntN(6)]) / []float64{1, 2}[rng.IntN(2)])
			}
			is.PointChanges = append(is.PointChanges, PointChange{At: pt, Field: "sp", From: pts, To: nv})
			pts = nv
		}
		if pts != nil {
			is.Points = map[string]float64{"sp": *pts}
		}
		is.Updated = created
		w.issues = append(w.issues, is)
	}
	// Board 2 lists the issues of its closed sprints at the close (the
	// Sprint field says who was in), plus one issue the Sprint field
	// never names.
	for _, sp := range w.sprints {
		if sp.Board != 2 || sp.Complete == nil {
			continue
		}
		for _, is := range w.issues {
			if slices.Contains(sprintsAtTest(is, *sp.Complete), sp.ID) {
				sp.Issues = append(sp.Issues, is.Key)
			}
		}
		sp.Listed = true
	}
	unnamed := 0
	for _, is := range w.issues {
		if unnamed == 3 || is.Project != "WEB" || is.Subtask || len(is.Sprints) > 0 || len(is.SprintChanges) > 0 {
			continue
		}
		for _, sp := range w.sprints {
			if sp.Board == 2 && sp.Complete != nil && sp.Start.After(is.Created) {
				sp.Issues = append(sp.Issues, is.Key)
				unnamed++
				break
			}
		}
	}
	// Labels, for the investment balance: set without the generator so
	// that the rest of the world stays as it was.
	for i, is := range w.issues {
		switch {
		case i%7 == 0:
			is.Labels = []string{"customer", "Tech-Debt"}
		case i%4 == 0:
			is.Labels = []string{"tech-debt"}
		case i%5 == 0:
			is.Labels = []string{"platform"}
		}
	}
	return w
}

// testInvestment is the investment balance of the as-of tests: bugs by
// type, maintenance by label (also on bugs, which bugs take first), new
// work by an epic and by label.
func testInvestment(w *world, field string) *Investment {
	var epic string
	for _, is := range w.issues {
		if is.Type == "Epic" {
			epic = is.Key
			break
		}
	}
	return &Investment{PointsField: field, Categories: []Category{
		{Name: "bugs", IssueTypes: []string{"bug"}},
		{Name: "maintenance", Labels: []string{"TECH-DEBT"}},
		{Name: "new", Labels: []string{"platform"}, Epics: []string{strings.ToLower(epic)}},
	}}
}

func ptr[T any](v T) *T { return &v }

// statusAtTest is the status an issue had at t by its changelog: the
// "from" of the first transition after t, else its status.
func statusAtTest(is *Issue, t time.Time) Status {
	for _, tr := range is.Transitions {
		if tr.At.After(t) {
			return tr.From
		}
	}
	return is.Status
}

func sprintsAtTest(is *Issue, t time.Time) []int {
	for _, c := range is.SprintChanges {
		if c.At.After(t) {
			return c.From
		}
	}
	return is.Sprints
}

// asOf returns the records as they stood at t (METRICS.md, "History"):
// issues created after t do not exist; each issue's histories end at t,
// its status, Sprint field and estimates are the ones those histories
// give at t (the "from" of the first later change), its resolution date
// counts only once it is past; a sprint completed after t is still
// active (or future) at t, without a completion date or closing issue
// list. What has no history (type, project, parent, labels, boards by
// filter) keeps its value.
func (w *world) asOf(t time.Time) *world {
	out := &world{origin: w.origin, horizon: w.horizon, boards: w.boards}
	for _, is := range w.issues {
		if is.Created.After(t) {
			continue
		}
		c := *is
		c.Transitions = nil
		c.Status = is.Status
		for i, tr := range is.Transitions {
			if tr.At.After(t) {
				c.Status = is.Transitions[i].From
				break
			}
			c.Transitions = append(c.Transitions, tr)
		}
		if is.Resolved != nil && is.Resolved.After(t) {
			c.Resolved = nil
		}
		c.SprintChanges = nil
		c.Sprints = slices.Clone(is.Sprints)
		for i, ch := range is.SprintChanges {
			if ch.At.After(t) {
				c.Sprints = slices.Clone(is.SprintChanges[i].From)
				break
			}
			c.SprintChanges = append(c.SprintChanges, ch)
		}
		c.PointChanges = nil
		c.Points = maps.Clone(is.Points)
		rolled := map[string]bool{}
		for _, ch := range is.PointChanges {
			if !ch.At.After(t) {
				c.PointChanges = append(c.PointChanges, ch)
				continue
			}
			if rolled[ch.Field] {
				continue
			}
			rolled[ch.Field] = true
			if c.Points == nil {
				c.Points = map[string]float64{}
			}
			if ch.From == nil {
				delete(c.Points, ch.Field)
			} else {
				c.Points[ch.Field] = *ch.From
			}
		}
		if c.Updated.After(t) {
			c.Updated = t
		}
		out.issues = append(out.issues, &c)
	}
	for _, sp := range w.sprints {
		c := *sp
		if sp.Complete != nil && sp.Complete.After(t) {
			c.Complete, c.Issues, c.Listed = nil, nil, false
			c.State = "future"
			if sp.Start != nil && !sp.Start.After(t) {
				c.State = "active"
			}
		}
		out.sprints = append(out.sprints, &c)
	}
	return out
}

// liveSet computes the flow metrics the way okrd did before history,
// from each issue's latest records only: the done time from the current
// status and the whole changelog, the start time from the whole
// changelog, work in progress from the current status. Over the records
// as they stood at t it is the live measurement a poll at t would have
// made.
type liveSet struct {
	facts []liveFact
	cat   func(Status) string
}

type liveFact struct {
	is          *Issue
	cat         string
	start, done time.Time
}

func newLive(issues []*Issue, c Categories) *liveSet {
	cc := c.compile()
	cat := cc.of
	ls := &liveSet{cat: cat}
	for _, is := range issues {
		f := liveFact{is: is, cat: cat(is.Status)}
		initial := is.Status
		if len(is.Transitions) > 0 {
			initial = is.Transitions[0].From
		}
		if cat(initial) == CategoryInProgress {
			f.start = is.Created
		} else {
			for _, tr := range is.Transitions {
				if cat(tr.To) == CategoryInProgress {
					f.start = tr.At
					break
				}
			}
		}
		if f.cat == CategoryDone {
			for i := len(is.Transitions) - 1; i >= 0; i-- {
				tr := is.Transitions[i]
				if cat(tr.To) == CategoryDone && cat(tr.From) != CategoryDone {
					f.done = tr.At
					break
				}
			}
			if f.done.IsZero() && is.Resolved != nil {
				f.done = *is.Resolved
			}
		}
		ls.facts = append(ls.facts, f)
	}
	return ls
}

func (ls *liveSet) value(q Query, now time.Time) (float64, bool) {
	typeOK := func(is *Issue) bool {
		if len(q.Filter.IssueTypes) == 0 {
			return true
		}
		for _, t := range q.Filter.IssueTypes {
			if strings.EqualFold(t, is.Type) {
				return true
			}
		}
		return false
	}
	var xs []float64
	n := 0
	for _, f := range ls.facts {
		if f.is.Outside || !typeOK(f.is) || !liveScope(f.is, q.Filter.Scope) {
			continue
		}
		doneIn := !f.done.IsZero() && q.Window.Contains(f.done)
		switch q.Metric {
		case MetricThroughput:
			if doneIn {
				n++
			}
		case MetricLeadTime:
			if doneIn {
				xs = append(xs, max(0, f.done.Sub(f.is.Created).Seconds()))
			}
		case MetricCycleTime:
			if doneIn && !f.start.IsZero() {
				xs = append(xs, max(0, f.done.Sub(f.start).Seconds()))
			}
		case MetricWIP:
			if f.cat == CategoryInProgress {
				n++
			}
		case MetricWIPAge, MetricWIPAgeMax:
			if f.cat == CategoryInProgress {
				start := f.start
				if start.IsZero() {
					start = f.is.Created
				}
				xs = append(xs, max(0, now.Sub(start).Seconds()))
			}
		case MetricInflow:
			if q.Window.Contains(f.is.Created) {
				n++
			}
		case MetricOpenIssues:
			if f.cat != CategoryDone {
				n++
			}
		}
	}
	switch q.Metric {
	case MetricThroughput, MetricWIP, MetricInflow, MetricOpenIssues:
		return float64(n), true
	case MetricWIPAgeMax:
		return quantile.Of(xs, 1)
	}
	qt := q.Quantile
	if qt == 0 {
		qt = DefaultQuantile
	}
	return quantile.Of(xs, qt)
}

// investmentShare is the share of a category from the latest records:
// the issues done in the window, each in the first category that lists
// its type, a label or its parent or Epic Link, weighed by its story
// points when it was done.
func (ls *liveSet) investmentShare(q Query) (float64, bool) {
	inv := q.Investment
	var per, total float64
	for _, f := range ls.facts {
		is := f.is
		if is.Outside || !liveScope(is, q.Filter.Scope) || f.done.IsZero() || !q.Window.Contains(f.done) {
			continue
		}
		cat := OtherCategory
	find:
		for _, c := range inv.Categories {
			for _, t := range c.IssueTypes {
				if strings.EqualFold(t, is.Type) {
					cat = c.Name
					break find
				}
			}
			for _, l := range c.Labels {
				for _, x := range is.Labels {
					if strings.EqualFold(l, x) {
						cat = c.Name
						break find
					}
				}
			}
			for _, e := range c.Epics {
				if (is.Parent != "" && strings.EqualFold(e, is.Parent)) || (is.Epic != "" && strings.EqualFold(e, is.Epic)) {
					cat = c.Name
					break find
				}
			}
		}
		w := 1.0
		if inv.PointsField != "" {
			w = pointsAtTest(is, inv.PointsField, f.done)
		}
		total += w
		if cat == q.Category {
			per += w
		}
	}
	if total == 0 {
		return 0, false
	}
	return per / total, true
}

// pointsAtTest is an issue's estimate in a field at t by its changelog.
func pointsAtTest(is *Issue, field string, t time.Time) float64 {
	for _, c := range is.PointChanges {
		if c.Field == field && c.At.After(t) {
			if c.From == nil {
				return 0
			}
			return *c.From
		}
	}
	return is.Points[field]
}

// epic is epic progress from the latest records.
func (ls *liveSet) epic(epic, field string) (float64, bool) {
	var done, all float64
	for _, f := range ls.facts {
		is := f.is
		if is.Subtask || (is.Parent != epic && is.Epic != epic) || is.Key == epic {
			continue
		}
		w := 1.0
		if field != "" {
			w = is.Points[field]
		}
		all += w
		if f.cat == CategoryDone {
			done += w
		}
	}
	if all == 0 {
		return 0, false
	}
	return done / all, true
}

// liveScope is the scope of genWorld's boards: 3 selects by the issue's
// board list, 4 both projects.
func liveScope(is *Issue, scope string) bool {
	switch scope {
	case "":
		return true
	case "board:3":
		return slices.Contains(is.Boards, 3)
	case "board:4":
		return strings.EqualFold(is.Project, "PAY") || strings.EqualFold(is.Project, "WEB")
	case "board:1":
		return strings.EqualFold(is.Project, "PAY")
	case "board:2":
		return strings.EqualFold(is.Project, "WEB")
	}
	if strings.HasPrefix(scope, "board:") {
		return false
	}
	return strings.EqualFold(is.Project, scope)
}

// instantsOf picks the instants the as-of tests measure at: random ones
// over the records and around them, plus the exact instants at which
// something happens (a creation, a transition, a resolution, a sprint
// change or completion), where an off-by-one in "at or before t" shows.
func (w *world) instantsOf(rng *rand.Rand, random, exact int) []time.Time {
	var events []time.Time
	for _, is := range w.issues {
		events = append(events, is.Created)
		for _, tr := range is.Transitions {
			events = append(events, tr.At)
		}
		if is.Resolved != nil {
			events = append(events, *is.Resolved)
		}
		for _, c := range is.SprintChanges {
			events = append(events, c.At)
		}
		for _, c := range is.PointChanges {
			events = append(events, c.At)
		}
	}
	for _, sp := range w.sprints {
		if sp.Complete != nil {
			events = append(events, *sp.Complete, sp.Complete.Add(-time.Nanosecond))
		}
	}
	var out []time.Time
	for range random {
		out = append(out, w.origin.Add(-10*day+time.Duration(rng.Float64()*float64(215*day))))
	}
	for range exact {
		out = append(out, events[rng.IntN(len(events))])
	}
	out = append(out, w.horizon.Add(day))
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return slices.CompactFunc(out, func(a, b time.Time) bool { return a.Equal(b) })
}
