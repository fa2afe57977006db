package jira

import (
	"time"
)

// Window is a time window: an event at t is in it when From < t <= To.
type Window struct {
	From, To time.Time
}

// LastDays is the window of the d days up to now.
func LastDays(now time.Time, d time.Duration) Window { return Window{From: now.Add(-d), To: now} }

// Contains reports whether t is in the window.
func (w Window) Contains(t time.Time) bool { return t.After(w.From) && !t.After(w.To) }

// Throughput counts the issues whose done time is in the window.
func (m *Model) Throughput(f Filter, w Window) int {
	mt := m.matcher(f)
	n := 0
	for i := range m.facts {
		x := &m.facts[i]
		if !x.done.IsZero() && w.Contains(x.done) && mt.match(x.is) {
			n++
		}
	}
	return n
}

// LeadTimes returns done time - created, in seconds, of the issues done in
// the window (negative values, from clock skew, clamp to 0).
func (m *Model) LeadTimes(f Filter, w Window) []float64 {
	mt := m.matcher(f)
	var out []float64
	for i := range m.facts {
		x := &m.facts[i]
		if !x.done.IsZero() && w.Contains(x.done) && mt.match(x.is) {
			out = append(out, max(0, x.done.Sub(x.is.Created).Seconds()))
		}
	}
	return out
}

// CycleTimes returns done time - start time, in seconds, of the issues done
// in the window that have a start time.
func (m *Model) CycleTimes(f Filter, w Window) []float64 {
	mt := m.matcher(f)
	var out []float64
	for i := range m.facts {
		x := &m.facts[i]
		if !x.done.IsZero() && !x.start.IsZero() && w.Contains(x.done) && mt.match(x.is) {
			out = append(out, max(0, x.done.Sub(x.start).Seconds()))
		}
	}
	return out
}

// WIP counts the issues whose current status is in progress.
func (m *Model) WIP(f Filter) int {
	mt := m.matcher(f)
	n := 0
	for i := range m.facts {
		x := &m.facts[i]
		if x.cat == CategoryInProgress && mt.match(x.is) {
			n++
		}
	}
	return n
}

// WIPAges returns now - start time, in seconds, of the work in progress.
func (m *Model) WIPAges(f Filter, now time.Time) []float64 {
	mt := m.matcher(f)
	var out []float64
	for i := range m.facts {
		x := &m.facts[i]
		if x.cat == CategoryInProgress && mt.match(x.is) {
			start := x.start
			if start.IsZero() {
				// In progress under a category override without a
				// transition into it: the status it was created in.
				start = x.is.Created
			}
			out = append(out, max(0, now.Sub(start).Seconds()))
		}
	}
	return out
}

// Inflow counts the issues created in the window.
func (m *Model) Inflow(f Filter, w Window) int {
	mt := m.matcher(f)
	n := 0
	for i := range m.facts {
		x := &m.facts[i]
		if w.Contains(x.is.Created) && mt.match(x.is) {
			n++
		}
	}
	return n
}

// EpicProgress is done child issues / all child issues of an epic (issues
// whose parent or Epic Link is the epic; sub-tasks are not counted), or,
// with a points field, done points / all points. ok is false when the epic
// has no children (or no points).
func (m *Model) EpicProgress(epic, pointsField string) (ratio float64, ok bool) {
	var done, all float64
	for i := range m.facts {
		x := &m.facts[i]
		is := x.is
		if is.Subtask || (is.Parent != epic && is.Epic != epic) || is.Key == epic {
			continue
		}
		w := 1.0
		if pointsField != "" {
			w = is.Points[pointsField]
		}
		all += w
		if x.cat == CategoryDone {
			done += w
		}
	}
	if all == 0 {
		return 0, false
	}
	return done / all, true
}
