package jirafake

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"time"
)

// GenOptions shapes a generated data set.
type GenOptions struct {
	// Projects are the project keys (default ["PAY"]); issues are spread
	// over them evenly, each with one scrum board estimating in story
	// points and a filter on its project.
	Projects []string
	// Kanban makes the boards of the last Kanban projects kanban boards,
	// without sprints (their issues join none).
	Kanban int
	// Issues is the total number of issues.
	Issues int
	// Now is the end of the history (default: the fake's clock).
	Now time.Time
	// Days is how far back issues are created (default 180).
	Days int
	// SprintDays is the sprint length (default 14).
	SprintDays int
	// LongHistoryEvery gives every n-th issue more changelog entries than
	// a search inlines, so clients must fetch the rest (default 50; a
	// negative value disables it).
	LongHistoryEvery int
	// Seed makes the data set reproducible.
	Seed uint64
}

// Generate fills the fake with a realistic data set: per project a scrum
// board with two-week sprints (closed, one active, one future), epics,
// stories, bugs and tasks that move through To Do, In Progress, In Review
// and Done (some reopened), join sprints, are carried over when unfinished
// and are sometimes re-estimated. The same options give the same data.
func (s *Server) Generate(o GenOptions) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	if len(o.Projects) == 0 {
		o.Projects = []string{"PAY"}
	}
	if o.Now.IsZero() {
		o.Now = s.now()
	}
	if o.Days <= 0 {
		o.Days = 180
	}
	if o.SprintDays <= 0 {
		o.SprintDays = 14
	}
	if o.LongHistoryEvery == 0 {
		o.LongHistoryEvery = 50
	}
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))
	day := 24 * time.Hour
	now := o.Now
	origin := now.Add(-time.Duration(o.Days) * day).Truncate(day)
	sprintLen := time.Duration(o.SprintDays) * day

	type projectState struct {
		key     string
		board   int
		sprints []*Sprint
		next    int
		epics   []string
	}
	projects := make([]*projectState, len(o.Projects))
	for pi, key := range o.Projects {
		if _, ok := s.projects[key]; !ok {
			s.nextID++
			s.projects[key] = Project{ID: fmt.Sprint(s.nextID), Key: key, Name: key + " team"}
		}
		ps := &projectState{key: key, board: 100 + pi}
		s.nextID++
		filter := s.nextID
		s.filters[filter] = "project = " + key + " ORDER BY Rank ASC"
		if pi >= len(o.Projects)-o.Kanban {
			s.boards[ps.board] = &Board{ID: ps.board, Name: key + " board", Type: "kanban", Project: key, FilterID: filter}
			projects[pi] = ps
			continue
		}
		s.boards[ps.board] = &Board{ID: ps.board, Name: key + " board", Type: "scrum", Project: key, FilterID: filter, EstimationField: FieldStoryPoints}
		for k := 0; ; k++ {
			start := origin.Add(time.Duration(k) * sprintLen)
			if start.After(now.Add(sprintLen)) {
				break
			}
			end := start.Add(sprintLen)
			sp := &Sprint{ID: (pi+1)*1000 + k, Board: ps.board, Name: fmt.Sprintf("%s Sprint %d", key, k+1)}
			switch {
			case !end.After(now):
				st, en, done := start, end, end.Add(time.Hour)
				if done.After(now) {
					done = now
				}
				sp.State, sp.Start, sp.End, sp.CompleteDate = "closed", &st, &en, &done
			case !start.After(now):
				st, en := start, end
				sp.State, sp.Start, sp.End = "active", &st, &en
			default:
				sp.State = "future"
			}
			s.sprints[sp.ID] = sp
			ps.sprints = append(ps.sprints, sp)
		}
		projects[pi] = ps
	}
	sprintAt := func(ps *projectState, t time.Time) int {
		for i, sp := range ps.sprints {
			if sp.Start != nil && !t.Before(*sp.Start) && t.Before(*sp.End) {
				return i
			}
		}
		return -1
	}
	points := []float64{1, 2, 3, 5, 8}
	status := func(id string) StatusDef { return s.statuses[id] }

	for i := 0; i < o.Issues; i++ {
		ps := projects[i%len(projects)]
		ps.next++
		created := origin.Add(time.Duration(rng.Float64() * float64(now.Sub(origin))))
		is := &Issue{Key: fmt.Sprintf("%s-%d", ps.key, ps.next), Project: ps.key, Created: created, Status: StatusToDo}
		switch r := rng.Float64(); {
		case i%40 == 0:
			is.Type = "Epic"
		case r < 0.6:
			is.Type = "Story"
		case r < 0.85:
			is.Type = "Bug"
		default:
			is.Type = "Task"
		}
		is.Summary = fmt.Sprintf("%s %d of %s", is.Type, ps.next, ps.key)
		if is.Type != "Epic" && len(ps.epics) > 0 && rng.Float64() < 0.5 {
			epic := ps.epics[len(ps.epics)-1-rng.IntN(min(3, len(ps.epics)))]
			if s.Flavor == Cloud {
				is.Parent = epic
			} else {
				is.EpicLink = epic
			}
		}
		if is.Type == "Story" || is.Type == "Task" {
			if rng.Float64() < 0.9 {
				is.Custom = map[string]any{FieldStoryPoints: points[rng.IntN(len(points))]}
			}
		}
		s.addIssue(is)
		if is.Type == "Epic" {
			ps.epics = append(ps.epics, is.Key)
		}

		// The issue's life as timed events, applied in time order.
		type event struct {
			at    time.Time
			apply func(at time.Time)
		}
		var evs []event
		add := func(at time.Time, f func(time.Time)) {
			if !at.After(now) && at.After(created) {
				evs = append(evs, event{at, f})
			}
		}
		jitter := func(minDays, maxDays float64) time.Duration {
			return time.Duration((minDays + rng.Float64()*(maxDays-minDays)) * float64(day))
		}
		var doneAt time.Time
		if is.Type != "Epic" && rng.Float64() < 0.85 {
			t1 := created.Add(jitter(0.1, 6))
			add(t1, func(at time.Time) { s.transition(is, status(is.Status), status(StatusInProgress), at) })
			t2 := t1.Add(jitter(0.5, 5))
			if rng.Float64() < 0.7 {
				add(t2, func(at time.Time) { s.transition(is, status(is.Status), status(StatusInReview), at) })
			}
			t3 := t2.Add(jitter(0.3, 4))
			add(t3, func(at time.Time) { s.transition(is, status(is.Status), status(StatusDone), at) })
			doneAt = t3
			if rng.Float64() < 0.05 {
				t4 := t3.Add(jitter(0.5, 3))
				add(t4, func(at time.Time) { s.transition(is, status(is.Status), status(StatusInProgress), at) })
				t5 := t4.Add(jitter(0.5, 3))
				add(t5, func(at time.Time) { s.transition(is, status(is.Status), status(StatusDone), at) })
				doneAt = t5
			}
		}
		if is.Type != "Epic" && rng.Float64() < 0.8 {
			// Planned into the sprint running when the work starts (or
			// the one after creation), a day before it starts when the
			// issue existed by then.
			si := sprintAt(ps, created.Add(day))
			if si >= 0 && si+1 < len(ps.sprints) && ps.sprints[si+1].Start != nil && rng.Float64() < 0.5 {
				si++
			}
			if si >= 0 {
				sp := ps.sprints[si]
				join := sp.Start.Add(-day)
				if join.Before(created) {
					join = created.Add(time.Hour)
				}
				ids := []int{sp.ID}
				add(join, func(at time.Time) { s.setSprints(is, ids, at) })
				// Unfinished at the close: carried over to the next sprint.
				if sp.CompleteDate != nil && (doneAt.IsZero() || doneAt.After(*sp.CompleteDate)) && si+1 < len(ps.sprints) {
					carried := []int{sp.ID, ps.sprints[si+1].ID}
					add(sp.CompleteDate.Add(time.Second), func(at time.Time) { s.setSprints(is, carried, at) })
				}
			}
		}
		if is.Custom != nil && rng.Float64() < 0.1 {
			v := points[rng.IntN(len(points))]
			add(created.Add(jitter(0.05, 1)), func(at time.Time) { s.setPoints(is, FieldStoryPoints, &v, at) })
		}
		if o.LongHistoryEvery > 0 && i%o.LongHistoryEvery == 1 {
			// A busy issue: more edits than a search inlines.
			for k := range s.inlineLimit() + 5 {
				add(created.Add(time.Duration(k+1)*time.Hour), func(at time.Time) {
					s.record(is, at, Item{Field: "description", FieldType: "jira", FieldID: "description", FromString: "v", ToString: "v+1"})
				})
			}
		}
		sort.SliceStable(evs, func(a, b int) bool { return evs[a].at.Before(evs[b].at) })
		for _, e := range evs {
			e.apply(e.at)
		}
	}
	s.changed()
}
