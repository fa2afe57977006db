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
	m.eachDone(f, w, now, func(int, *fact, stretch) { n++ })
	return n
}

// LeadTimes returns done time - created, in seconds, of the issues done in
// the window (negative values, from clock skew, clamp to 0).
func (m *Model) LeadTimes(f Filter, w Window, now time.Time) []float64 {
	var out []float64
	m.eachDone(f, w, now, func(_ int, x *fact, s stretch) { out = append(out, x.lead(s)) })
	return out
}

// CycleTimes returns done time - start time, in seconds, of the issues done
// in the window that have a start time.
func (m *Model) CycleTimes(f Filter, w Window, now time.Time) []float64 {
	var out []float64
	m.eachDone(f, w, now, func(_ int, x *fact, s stretch) {
		if x.cycles(s) {
			out = append(out, x.cycle(s))
		}
	})
	return out
}

// eachDone calls fn, in model order, for each issue the filter selects
// whose done time at now is in the window, with its position and its done
// stretch then.
func (m *Model) eachDone(f Filter, w Window, now time.Time, fn func(int, *fact, stretch)) {
	mt, ws, t := m.matcher(f), w.span(), nanos(now)
	var v view
	for i := range m.facts {
		x := &m.facts[i]
		if !mt.match(m, x) {
			continue
		}
		m.spans(x, &v)
		if s, ok := doneAt(v.done, t); ok && ws.contains(s.at) {
			fn(i, x, s)
		}
	}
}

// WIP counts the issues whose status at now is in progress.
func (m *Model) WIP(f Filter, now time.Time) int { return len(m.WIPAges(f, now)) }

// WIPAges returns now - start time, in seconds, of the work in progress.
func (m *Model) WIPAges(f Filter, now time.Time) []float64 {
	var out []float64
	m.eachWIP(f, now, func(_ int, _ *fact, a float64) { out = append(out, a) })
	return out
}

// eachWIP calls fn, in model order, for each issue the filter selects
// that is work in progress at now, with its position and its age then.
func (m *Model) eachWIP(f Filter, now time.Time, fn func(int, *fact, float64)) {
	mt, t := m.matcher(f), nanos(now)
	var v view
	for i := range m.facts {
		x := &m.facts[i]
		if !mt.match(m, x) {
			continue
		}
		m.spans(x, &v)
		if base, ok := wipAt(v.wip, t); ok {
			fn(i, x, age(t, base))
		}
	}
}

// OpenIssues counts the issues created by now whose status at now is not
// in the done category: the backlog and the work in progress together, as
// a search for statusCategory != Done made at now would count them. It
// goes by the status, not by the done time: an issue created in a done
// status is not open, though it has no done time.
func (m *Model) OpenIssues(f Filter, now time.Time) int {
	n := 0
	m.eachOpen(f, now, func(int, *fact, *view) { n++ })
	return n
}

// eachOpen calls fn, in model order, for each issue the filter selects
// that is open at now (see OpenIssues), with its decoded view.
func (m *Model) eachOpen(f Filter, now time.Time, fn func(i int, x *fact, v *view)) {
	mt, t := m.matcher(f), nanos(now)
	var v view
	for i := range m.facts {
		x := &m.facts[i]
		if x.created > t || !mt.match(m, x) {
			continue
		}
		m.decode(x, &v)
		if m.statuses.codes[v.statusAt(t)] != codeDone {
			fn(i, x, &v)
		}
	}
}

// doneStatuses calls fn for each stretch [from, until) of the decoded
// issue's life, from its creation on, in which its status is in the done
// category (the status at t being the one statusAt gives).
func (m *Model) doneStatuses(x *fact, v *view, fn func(from, until int64)) {
	status := v.status
	if len(v.trs) > 0 {
		status = v.trs[0].from
	}
	from := x.created
	for _, tr := range v.trs {
		if tr.at > from {
			if m.statuses.codes[status] == codeDone {
				fn(from, tr.at)
			}
			from = tr.at
		}
		status = tr.to
	}
	if m.statuses.codes[status] == codeDone {
		fn(from, never)
	}
}

// Inflow counts the issues created in the window (and by now).
func (m *Model) Inflow(f Filter, w Window, now time.Time) int {
	n := 0
	m.eachCreated(f, w, now, func(int) { n++ })
	return n
}

// eachCreated calls fn, in model order, with the position of each issue
// the filter selects that was created in the window (and by now).
func (m *Model) eachCreated(f Filter, w Window, now time.Time, fn func(int)) {
	mt, ws, t := m.matcher(f), w.span(), nanos(now)
	for i := range m.facts {
		x := &m.facts[i]
		if x.created <= t && ws.contains(x.created) && mt.match(m, x) {
			fn(i)
		}
	}
}

// EpicProgress is done child issues / all child issues of an epic at now
// (issues created by then whose parent or Epic Link is the epic; sub-tasks
// are not counted), or, with a points field, done points / all points,
// with the status and estimates each child had at now. ok is false when
// the epic has no children (or no points).
func (m *Model) EpicProgress(epic, pointsField string, now time.Time) (ratio float64, ok bool) {
	return m.epicProgressAt(m.epicChildren(epic), pointsField, now)
}

// epicChildren are the positions of an epic's children, in model order.
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
	m.eachChild(children, pointsField, now, func(_ int32, _ *view, w float64, isDone bool) {
		all += w
		if isDone {
			done += w
		}
	})
	return done, all
}

// eachChild calls fn, in the order given, for each of an epic's children
// created by now, with its view decoded, its weight (1, or its points at
// now) and whether it is done at now.
func (m *Model) eachChild(children []int32, pointsField string, now time.Time, fn func(int32, *view, float64, bool)) {
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
		fn(i, &v, w, m.statuses.codes[v.statusAt(t)] == codeDone)
	}
}
