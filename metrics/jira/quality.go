package jira

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// QualityWindow is how far back the data-quality check of done issues
// looks (docs/metrics.md, "Data quality"): the longest exported window.
const QualityWindow = 90 * 24 * time.Hour

// qualityExamples is how many records of each check Quality names.
const qualityExamples = 3

// QualityCount is what one check finds: how many, and a few of them
// (issue keys, or status names), the most recent first where they are
// dated.
type QualityCount struct {
	Count    int
	Examples []string
}

// Quality is what the data-quality checks found over the source's issues
// in scope, as of the export that computed it.
type Quality struct {
	// DoneWithoutStart are the issues done in (now - QualityWindow, now]
	// that have no start time, hence no cycle time.
	DoneWithoutStart QualityCount
	// GuessedStatuses are the statuses (by name, case-insensitively) of
	// the stored issues and their histories whose category Jira did not
	// give (empty, or "undefined": No Category) and that neither
	// start_statuses nor done_statuses name: okrd takes them as to do.
	GuessedStatuses QualityCount
	// UnestimatedSprintIssues are, over the exported closed sprints of
	// the boards that estimate in story points, the issues the sprint
	// figures count (committed or added) without an estimate at the
	// sprint's completion, or, for a committed one, at its start. An issue
	// in two such sprints counts twice.
	UnestimatedSprintIssues QualityCount
}

// latestFacts keeps the positions of the few facts with the latest
// instants, so that only those keys are built.
type latestFacts struct {
	count int
	top   []datedFact // latest first, at most qualityExamples
}

type datedFact struct {
	at  int64
	pos int
}

func (l *latestFacts) add(at int64, pos int) {
	l.count++
	if len(l.top) == qualityExamples && at <= l.top[len(l.top)-1].at {
		return
	}
	i, _ := slices.BinarySearchFunc(l.top, at, func(d datedFact, at int64) int { return cmp.Compare(at, d.at) })
	// Of equal instants, the first one met stays first.
	for i < len(l.top) && l.top[i].at == at {
		i++
	}
	l.top = slices.Insert(l.top, i, datedFact{at, pos})
	if len(l.top) > qualityExamples {
		l.top = l.top[:qualityExamples]
	}
}

func (l *latestFacts) result(m *Model) QualityCount {
	q := QualityCount{Count: l.count}
	for _, d := range l.top {
		q.Examples = append(q.Examples, m.keys.key(d.pos))
	}
	return q
}

// sprintQuality counts, in a pass of sprint reports, the issues without
// an estimate.
type sprintQuality struct {
	count int
	pos   []int // the first few met
}

func (q *sprintQuality) add(pos int) {
	q.count++
	if len(q.pos) < qualityExamples && !slices.Contains(q.pos, pos) {
		q.pos = append(q.pos, pos)
	}
}

// guessedStatuses finds the statuses whose category okrd had to guess;
// the examples are their names as first met, in alphabetical order.
func (m *Model) guessedStatuses() QualityCount {
	names := map[string]string{} // lower case -> as met
	for _, s := range m.statuses.list {
		switch s.Category {
		case CategoryToDo, CategoryInProgress, CategoryDone:
			continue
		}
		name := strings.ToLower(s.Name)
		if m.cats.start[name] || m.cats.done[name] {
			continue
		}
		shown := s.Name
		if shown == "" {
			shown = "status " + s.ID
		}
		if _, ok := names[name]; !ok {
			names[name] = shown
		}
	}
	q := QualityCount{Count: len(names)}
	for _, shown := range names {
		q.Examples = append(q.Examples, shown)
	}
	slices.SortFunc(q.Examples, func(a, b string) int { return cmp.Compare(strings.ToLower(a), strings.ToLower(b)) })
	if len(q.Examples) > qualityExamples {
		q.Examples = q.Examples[:qualityExamples]
	}
	return q
}
