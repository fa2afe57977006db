package jira

import (
	"slices"
	"sort"
)

// SprintReport holds the commitment figures of one closed sprint, as
// METRICS.md defines them. Points figures are valid only when HasPoints
// (the board estimates in a story-point field).
type SprintReport struct {
	Sprint *Sprint

	// Committed counts the issues in the sprint at its start.
	Committed int
	// Completed counts the committed issues still in the sprint and done
	// at its completion.
	Completed int
	// Added counts the issues that joined after the start (and by the
	// completion), whether or not they stayed.
	Added int
	// Removed counts the committed issues no longer in the sprint at its
	// completion (Jira's "punted" issues).
	Removed int

	HasPoints bool
	// CommittedPoints uses the estimates as of the start; the others the
	// estimates at completion. Unestimated issues count 0 points.
	CommittedPoints float64
	CompletedPoints float64
	AddedPoints     float64
	// Velocity is the points completed in the sprint, committed or added.
	Velocity float64
}

// SayDo is completed / committed issues; ok is false without commitment.
func (r SprintReport) SayDo() (float64, bool) {
	if r.Committed == 0 {
		return 0, false
	}
	return float64(r.Completed) / float64(r.Committed), true
}

// SayDoPoints is completed / committed points.
func (r SprintReport) SayDoPoints() (float64, bool) {
	if !r.HasPoints || r.CommittedPoints == 0 {
		return 0, false
	}
	return r.CompletedPoints / r.CommittedPoints, true
}

// ClosedSprints returns the latest n closed sprints of a board (n <= 0:
// all), latest first by completion date.
func (m *Model) ClosedSprints(board, n int) []*Sprint { return m.closedSprintsAt(board, n, never) }

// closedSprintsAt returns the latest n sprints of a board closed by t: a
// sprint completed after t was still active at t.
func (m *Model) closedSprintsAt(board, n int, t int64) []*Sprint {
	var out []*Sprint
	for _, s := range m.sprints {
		if s.Board == board && closedSprint(s) && nanos(*s.Complete) <= t {
			out = append(out, s)
		}
	}
	sortSprints(out)
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}

// closedSprint reports whether a sprint is closed with the dates its report
// needs (at some instant: see closedSprintsAt).
func closedSprint(s *Sprint) bool { return s.State == "closed" && s.Start != nil && s.Complete != nil }

// sortSprints orders sprints latest first by completion date, then by id.
func sortSprints(ss []*Sprint) {
	sort.Slice(ss, func(i, j int) bool {
		if !ss[i].Complete.Equal(*ss[j].Complete) {
			return ss[i].Complete.After(*ss[j].Complete)
		}
		return ss[i].ID > ss[j].ID
	})
}

// SprintReports computes the reports of the given closed sprints in one
// pass over the issues, in the order given, from the latest records.
//
// Membership at a time t comes from the Sprint field's current value and
// its changelog; an issue created into the sprint joined at its creation. An
// issue that the sprint's closing issue list names but whose Sprint field
// history never mentions the sprint (a site whose Sprint field okrd could
// not find) is taken to have been in the sprint since its creation.
// Sub-tasks are left out, as in Jira's sprint report.
func (m *Model) SprintReports(sprints []*Sprint) []SprintReport {
	return m.sprintReportsAt(sprints, never-1)
}

// sprintReportsAt computes the reports as of t, over the issues as they
// stood at t. A report reads the issues' histories only up to the
// sprint's completion, which is not after t, except for one thing: whether
// an issue's Sprint field mentions the sprint at all as of t, which
// decides whether the closing issue list speaks for it.
//
// One pass over the issues serves every report: an issue is looked at
// only for the sprints it ever named (its fact's list, checked against
// each distinct list once) and those whose closing list names it.
func (m *Model) sprintReportsAt(sprints []*Sprint, t int64) []SprintReport {
	return m.eachSprintContribution(sprints, t, nil, nil)
}

// sprintReportsQuality is sprintReportsAt that also counts into q, when
// it is not nil, the issues a report counts without an estimate.
func (m *Model) sprintReportsQuality(sprints []*Sprint, t int64, q *sprintQuality) []SprintReport {
	return m.eachSprintContribution(sprints, t, q, nil)
}

// eachSprintContribution computes the reports as sprintReportsAt does,
// counts into q (unless nil) the issues a report counts without an
// estimate, and calls fn (unless nil) with every contribution it counts:
// the report's number, the issue's position and what it adds.
func (m *Model) eachSprintContribution(sprints []*Sprint, t int64, q *sprintQuality, fn func(report, issue int, c contrib)) []SprintReport {
	reports := make([]SprintReport, len(sprints))
	fields := make([]sprintField, len(sprints))
	byID := map[int][]int{}
	listed := map[int32][]int{} // issue position -> reports whose closing list names it
	for i, s := range sprints {
		reports[i].Sprint = s
		if b, ok := m.boards[s.Board]; ok && b.PointsField != "" {
			reports[i].HasPoints = true
		}
		fields[i] = m.sprintField(s)
		if s.Start == nil || s.Complete == nil {
			continue
		}
		byID[s.ID] = append(byID[s.ID], i)
		for _, k := range s.Issues {
			if p, ok := m.keys.find(k); ok && !slices.Contains(listed[int32(p)], i) {
				listed[int32(p)] = append(listed[int32(p)], i)
			}
		}
	}
	// The reports each list of sprints names, worked out once per list.
	named := make([][]int, len(m.sets.sets))
	seen := make([]bool, len(m.sets.sets))
	var v view
	var cands []int
	for fi := range m.facts {
		x := &m.facts[fi]
		if x.subtask() {
			continue
		}
		if !seen[x.mentions] {
			seen[x.mentions] = true
			for _, id := range m.sets.sets[x.mentions] {
				named[x.mentions] = append(named[x.mentions], byID[id]...)
			}
		}
		cands = append(cands[:0], named[x.mentions]...)
		for _, i := range listed[int32(fi)] {
			if !slices.Contains(cands, i) {
				cands = append(cands, i)
			}
		}
		if len(cands) == 0 {
			continue
		}
		m.decode(x, &v)
		for _, i := range cands {
			s := sprints[i]
			mf := v.mentionedFrom(&m.sets, s.ID)
			mentioned := mf != never && mf <= t
			if !mentioned && !slices.Contains(listed[int32(fi)], i) {
				continue
			}
			c := m.contribution(x, &v, s, mentioned, fields[i])
			reports[i].add(c)
			if q != nil && c.unestimated {
				q.add(fi)
			}
			if fn != nil && (c.committed || c.added) {
				fn(i, fi, c)
			}
		}
	}
	return reports
}

// sprintField is the story-point field of a sprint's board, as a number
// into the model's fields (ok false: none, or one no issue has).
type sprintField struct {
	id     uint32
	ok, is bool // is: the board has a field at all
}

func (m *Model) sprintField(s *Sprint) sprintField {
	b, ok := m.boards[s.Board]
	if !ok || b.PointsField == "" {
		return sprintField{}
	}
	id, ok := m.fields.lookup(b.PointsField)
	return sprintField{id: id, ok: ok, is: true}
}

func listedSet(s *Sprint) map[string]bool {
	if len(s.Issues) == 0 {
		return nil
	}
	set := make(map[string]bool, len(s.Issues))
	for _, k := range s.Issues {
		set[k] = true
	}
	return set
}

// contrib is what one issue adds to a sprint report.
type contrib struct {
	committed, added, atEnd, doneAtEnd bool
	// startPoints and endPoints are its estimates at the sprint's start
	// and completion (0 without a points field or an estimate).
	startPoints, endPoints float64
	points                 bool // the board has a points field
	// unestimated is set, on a board with a points field, for an issue
	// the report counts without an estimate at the completion (or, if
	// committed, at the start).
	unestimated bool
}

// contribution works out what an issue (its fact, and its view decoded)
// adds to sprint s. mentioned says whether the issue's Sprint field names
// the sprint at all; when it does not, the issue is named by the closing
// issue list (see SprintReports).
func (m *Model) contribution(x *fact, v *view, s *Sprint, mentioned bool, field sprintField) contrib {
	start, end := nanos(*s.Start), nanos(*s.Complete)
	in := func(t int64) bool {
		if t < x.created {
			return false
		}
		if !mentioned {
			return true // named by the closing issue list; see SprintReports
		}
		return m.sets.has(v.sprintsAt(t), s.ID)
	}
	var c contrib
	c.committed = in(start)
	if !c.committed {
		// Joined after the start: created into the sprint, or a Sprint
		// field change that put it in, by the completion.
		if x.created > start && x.created <= end && in(x.created) {
			c.added = true
		}
		for _, ch := range v.scs {
			if ch.at > start && ch.at <= end && m.sets.has(ch.to, s.ID) {
				c.added = true
				break
			}
		}
	}
	if !c.committed && !c.added {
		return c
	}
	c.atEnd = in(end)
	c.doneAtEnd = c.atEnd && m.statuses.codes[v.statusAt(end)] == codeDone
	if field.is {
		c.points = true
		c.unestimated = true
		if field.ok {
			var endOK, startOK bool
			c.endPoints, endOK = v.pointsAt(field.id, end)
			startOK = true
			if c.committed {
				c.startPoints, startOK = v.pointsAt(field.id, start)
			}
			c.unestimated = !endOK || !startOK
		}
	}
	return c
}

// add counts a contribution into the report.
func (r *SprintReport) add(c contrib) {
	if !c.committed && !c.added {
		return
	}
	if c.committed {
		r.Committed++
		if c.points {
			r.CommittedPoints += c.startPoints
		}
		if c.doneAtEnd {
			r.Completed++
			r.CompletedPoints += c.endPoints
		}
		if !c.atEnd {
			r.Removed++
		}
	} else {
		r.Added++
		r.AddedPoints += c.endPoints
	}
	if c.doneAtEnd {
		r.Velocity += c.endPoints
	}
}
