package jira

import (
	"slices"
	"sort"
	"time"
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
func (m *Model) sprintReportsAt(sprints []*Sprint, t int64) []SprintReport {
	reports := make([]SprintReport, len(sprints))
	listed := make([]map[string]bool, len(sprints))
	for i, s := range sprints {
		reports[i].Sprint = s
		if b, ok := m.boards[s.Board]; ok && b.PointsField != "" {
			reports[i].HasPoints = true
		}
		listed[i] = listedSet(s)
	}
	for fi := range m.facts {
		is := m.facts[fi].is
		if is.Subtask {
			continue
		}
		for i, s := range sprints {
			if s.Start == nil || s.Complete == nil {
				continue
			}
			mf := is.mentionedFrom(s.ID)
			mentioned := mf != never && mf <= t
			if !mentioned && !listed[i][is.Key] {
				continue
			}
			m.addToReport(&reports[i], is, s, mentioned)
		}
	}
	return reports
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

// addToReport counts one issue that was (or may have been) in sprint s.
func (m *Model) addToReport(r *SprintReport, is *Issue, s *Sprint, mentioned bool) {
	field := ""
	if b, ok := m.boards[s.Board]; ok {
		field = b.PointsField
	}
	r.add(m.contribution(is, s, mentioned, field))
}

// contrib is what one issue adds to a sprint report.
type contrib struct {
	committed, added, atEnd, doneAtEnd bool
	// startPoints and endPoints are its estimates at the sprint's start
	// and completion (0 without a points field or an estimate).
	startPoints, endPoints float64
	points                 bool // the board has a points field
}

// contribution works out what an issue adds to sprint s. mentioned says
// whether the issue's Sprint field names the sprint at all; when it does
// not, the issue is named by the closing issue list (see SprintReports).
func (m *Model) contribution(is *Issue, s *Sprint, mentioned bool, field string) contrib {
	start, end := *s.Start, *s.Complete
	in := func(t time.Time) bool {
		if t.Before(is.Created) {
			return false
		}
		if !mentioned {
			return true // named by the closing issue list; see SprintReports
		}
		return slices.Contains(is.sprintsAt(t), s.ID)
	}
	var c contrib
	c.committed = in(start)
	if !c.committed {
		// Joined after the start: created into the sprint, or a Sprint
		// field change that put it in, by the completion.
		if is.Created.After(start) && !is.Created.After(end) && in(is.Created) {
			c.added = true
		}
		for _, ch := range is.SprintChanges {
			if ch.At.After(start) && !ch.At.After(end) && slices.Contains(ch.To, s.ID) {
				c.added = true
				break
			}
		}
	}
	if !c.committed && !c.added {
		return c
	}
	c.atEnd = in(end)
	c.doneAtEnd = c.atEnd && m.code(is.statusAt(end)) == codeDone
	if field != "" {
		c.points = true
		c.endPoints, _ = is.pointsAt(field, end)
		if c.committed {
			c.startPoints, _ = is.pointsAt(field, start)
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
