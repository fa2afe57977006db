package jira

import (
	"slices"
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

// span is a window in model time.
type span struct{ from, to int64 }

func (w Window) span() span { return span{from: nanos(w.From), to: nanos(w.To)} }

func (s span) contains(t int64) bool { return s.from < t && t <= s.to }

// The flow metrics below are evaluated as of now (METRICS.md, "History"):
// over the issues created by now, with the done time, start time and
// status each had at now. With now after every record they are the
// figures of the latest records.

// Throughput counts the issues whose done time at now is in the window.
func (m *Model) Throughput(f Filter, w Window, now time.Time) int {
	n := 0
	m.eachDone(f, w, now, func(*fact, stretch) { n++ })
	return n
}

// LeadTimes returns done time - created, in seconds, of the issues done in
// the window (negative values, from clock skew, clamp to 0).
func (m *Model) LeadTimes(f Filter, w Window, now time.Time) []float64 {
	var out []float64
	m.eachDone(f, w, now, func(x *fact, s stretch) { out = append(out, x.lead(s)) })
	return out
}

// CycleTimes returns done time - start time, in seconds, of the issues done
// in the window that have a start time.
func (m *Model) CycleTimes(f Filter, w Window, now time.Time) []float64 {
	var out []float64
	m.eachDone(f, w, now, func(x *fact, s stretch) {
		if x.cycles(s) {
			out = append(out, x.cycle(s))
		}
	})
	return out
}

// eachDone calls fn, in model order, for each issue the filter selects
// whose done time at now is in the window, with its done stretch then.
func (m *Model) eachDone(f Filter, w Window, now time.Time, fn func(*fact, stretch)) {
	mt, ws, t := m.matcher(f), w.span(), nanos(now)
	var v view
	for i := range m.facts {
		x := &m.facts[i]
		if !mt.match(m, x) {
			continue
		}
		m.spans(x, &v)
		if s, ok := doneAt(v.done, t); ok && ws.contains(s.at) {
			fn(x, s)
		}
	}
}

// WIP counts the issues whose status at now is in progress.
func (m *Model) WIP(f Filter, now time.Time) int { return len(m.WIPAges(f, now)) }

// WIPAges returns now - start time, in seconds, of the work in progress.
func (m *Model) WIPAges(f Filter, now time.Time) []float64 {
	mt, t := m.matcher(f), nanos(now)
	var out []float64
	var v view
	for i := range m.facts {
		x := &m.facts[i]
		if !mt.match(m, x) {
			continue
		}
		m.spans(x, &v)
		if base, ok := wipAt(v.wip, t); ok {
			out = append(out, age(t, base))
		}
	}
	return out
}

// Inflow counts the issues created in the window (and by now).
func (m *Model) Inflow(f Filter, w Window, now time.Time) int {
	mt, ws, t := m.matcher(f), w.span(), nanos(now)
	n := 0
	for i := range m.facts {
		x := &m.facts[i]
		if x.created <= t && ws.contains(x.created) && mt.match(m, x) {
			n++
		}
	}
	return n
}

// EpicProgress is done child issues / all child issues of an epic at now
// (issues created by then whose parent or Epic Link is the epic; sub-tasks
// are not counted), or, with a points field, done points / all points,
// with the status and estimates each child had at now. ok is false when
// the epic has no children (or no points).
func (m *Model) EpicProgress(epic, pointsField string, now time.Time) (ratio float64, ok bool) {
	return m.epicProgressAt(m.epicChildren(epic), pointsField, now)
}

// isChild reports whether the issue at position i is a child of the
// epic, whose number among the parents and Epic Links is ref.
func (m *Model) isChild(i int, ref uint32, epic string) bool {
	x := &m.facts[i]
	return !x.subtask() && (x.parent == ref || x.epic == ref) && !m.keys.is(i, epic)
}

// epicProgressAt is EpicProgress over the given children, in model order.
func (m *Model) epicProgressAt(children []int32, pointsField string, now time.Time) (float64, bool) {
	done, all := m.epicCountsAt(children, pointsField, now)
	if all == 0 {
		return 0, false
	}
	return done / all, true
}

// EpicCounts returns what EpicProgress divides: the done and all child
// issues of an epic at now, or their story points with a points field.
func (m *Model) EpicCounts(epic, pointsField string, now time.Time) (done, all float64) {
	return m.epicCountsAt(m.epicChildren(epic), pointsField, now)
}

// epicChildren returns the positions of an epic's children, in model
// order.
func (m *Model) epicChildren(epic string) []int32 {
	var children []int32
	if ref, ok := m.refs.lookup(epic); ok {
		for i := range m.facts {
			if m.isChild(i, ref, epic) {
				children = append(children, int32(i))
			}
		}
	}
	return children
}

// DoneIssue is an issue done at an instant, with its done time then.
type DoneIssue struct {
	Key    string
	DoneAt time.Time
}

// EpicDone returns the children of an epic that are done at now, with
// their done times, in model order.
func (m *Model) EpicDone(epic string, now time.Time) []DoneIssue {
	return m.doneAmong(m.epicChildren(epic), now)
}

// DoneAmong returns those of the given issues that the model holds and
// that are done at now, with their done times, in model order.
func (m *Model) DoneAmong(keys []string, now time.Time) []DoneIssue {
	var pos []int32
	for _, k := range keys {
		if i, ok := m.keys.find(k); ok {
			pos = append(pos, int32(i))
		}
	}
	slices.Sort(pos)
	pos = slices.Compact(pos)
	return m.doneAmong(pos, now)
}

func (m *Model) doneAmong(pos []int32, now time.Time) []DoneIssue {
	t := nanos(now)
	var out []DoneIssue
	var v view
	for _, i := range pos {
		x := &m.facts[i]
		if x.created > t {
			continue
		}
		m.spans(x, &v)
		if s, ok := doneAt(v.done, t); ok {
			out = append(out, DoneIssue{Key: m.keys.key(int(i)), DoneAt: fromNanos(s.at)})
		}
	}
	return out
}

// epicCountsAt is EpicCounts over the given children, in model order.
func (m *Model) epicCountsAt(children []int32, pointsField string, now time.Time) (done, all float64) {
	t := nanos(now)
	field, hasField := m.fields.lookup(pointsField)
	var v view
	for _, i := range children {
		x := &m.facts[i]
		if x.created > t {
			continue
		}
		m.decode(x, &v)
		w := 1.0
		if pointsField != "" {
			w = 0
			if hasField {
				w, _ = v.pointsAt(field, t)
			}
		}
		all += w
		if m.statuses.codes[v.statusAt(t)] == codeDone {
			done += w
		}
	}
	return done, all
}
