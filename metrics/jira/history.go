package jira

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"time"
)

// WindowRule says how the window of a windowed metric (throughput, lead
// and cycle time, inflow) moves with the instant, as a key result's
// `window` does: the last Last before t, (t - Last, t]; or, with Period,
// from the period start to t or to the period end once it is over,
// (Start, min(t, End)].
type WindowRule struct {
	Period     bool
	Start, End time.Time
	Last       time.Duration
}

// LastRule is the rule of the window of the d days up to each instant.
func LastRule(d time.Duration) WindowRule { return WindowRule{Last: d} }

// PeriodRule is the rule of a period window.
func PeriodRule(start, end time.Time) WindowRule {
	return WindowRule{Period: true, Start: start, End: end}
}

// At returns the window at t.
func (r WindowRule) At(t time.Time) Window {
	if r.Period {
		end := t
		if r.End.Before(end) {
			end = r.End
		}
		return Window{From: r.Start, To: end}
	}
	return LastDays(t, r.Last)
}

func (r WindowRule) key() string {
	if r.Period {
		return "p" + strconv.FormatInt(nanos(r.Start), 10) + "-" + strconv.FormatInt(nanos(r.End), 10)
	}
	return "l" + strconv.FormatInt(int64(r.Last), 10)
}

// HistoryQuery asks for one metric at several past instants: the query's
// Window is ignored, Rule gives the window at each instant.
type HistoryQuery struct {
	Query
	Rule WindowRule
	// At are the instants, ascending.
	At []time.Time
	// Since is the first instant the records cover (zero: they cover
	// everything). An instant whose value depends on an earlier event has
	// no value (OK false): an instant before Since; for a windowed
	// metric, also one whose window starts before Since; for the sprint
	// metrics, also one whose sprints started before Since.
	Since time.Time
}

// HistoryValue is a metric's value at one instant; OK is false when there
// is none (as for Value).
type HistoryValue struct {
	Value float64
	OK    bool
}

// HistoryResult answers one HistoryQuery: one value per instant, or Err
// for a query that cannot be answered at all (the error Value gives).
type HistoryResult struct {
	Values []HistoryValue
	Err    error
}

// History answers each query at each of its instants t with the value
// Value(q, t) gives (the query's Window being Rule.At(t)): the value over
// the records as they stood at t. It computes every instant in one sweep
// over the records instead of once per instant: queries that share a
// scope, issue types, window rule and instants share one sweep, in which
// each issue's stretches (done, in progress, created in the window) are
// placed once among the instants and then entered and left as the sweep
// moves on, counts as running sums and quantiles from a Fenwick tree
// over the ranks of the values, so that a quantile reads the same two
// order statistics and does the same arithmetic as metrics/quantile.
func (m *Model) History(qs []HistoryQuery) []HistoryResult {
	h := &historian{m: m, filters: map[string][]int32{}}
	out := make([]HistoryResult, len(qs))
	type groupKey struct{ family, filter, rule, at string }
	groups := map[groupKey]*group{}
	var order []*group
	for qi := range qs {
		q := &qs[qi]
		res := &out[qi]
		at, err := instants(q.At)
		if err == nil {
			err = m.checkHistory(q)
		}
		if err != nil {
			res.Err = err
			res.Values = make([]HistoryValue, len(q.At))
			continue
		}
		res.Values = make([]HistoryValue, len(at))
		var family string
		switch q.Metric {
		case MetricThroughput, MetricLeadTime, MetricCycleTime:
			family = "done"
		case MetricInflow:
			family = "inflow"
		case MetricWIP, MetricWIPAge, MetricWIPAgeMax:
			family = "wip"
		case MetricEpicProgress:
			field, _ := q.epicField()
			h.epic(q.Epic, field, at, res.Values)
			h.cover(q, at, res.Values)
			continue
		default:
			h.sprint(q, at, res.Values)
			continue
		}
		k := groupKey{family: family, filter: q.Filter.key(), at: atKey(at)}
		if family != "wip" {
			k.rule = q.Rule.key()
		}
		g := groups[k]
		if g == nil {
			g = &group{family: family, filter: q.Filter, rule: q.Rule, at: at}
			groups[k] = g
			order = append(order, g)
		}
		g.members = append(g.members, member{q: q, values: res.Values})
	}
	for _, g := range order {
		h.sweep(g)
		for _, mb := range g.members {
			h.cover(mb.q, g.at, mb.values)
		}
	}
	return out
}

// checkHistory returns the error Value gives for a query that cannot be
// answered at all, plus the rule's own.
func (m *Model) checkHistory(q *HistoryQuery) error {
	switch q.Metric {
	case MetricThroughput, MetricLeadTime, MetricCycleTime, MetricInflow:
		if !q.Rule.Period && q.Rule.Last <= 0 {
			return errors.New("a history of a windowed metric needs a window: a length or a period")
		}
		return nil
	case MetricWIP, MetricWIPAge, MetricWIPAgeMax:
		return nil
	case MetricEpicProgress:
		_, err := q.epicField()
		return err
	}
	_, err := m.sprintBoard(q.Query)
	return err
}

func instants(at []time.Time) ([]int64, error) {
	out := make([]int64, len(at))
	for i, t := range at {
		out[i] = nanos(t)
		if i > 0 && out[i] < out[i-1] {
			return nil, fmt.Errorf("history instants must be ascending: %s comes after %s", t.UTC().Format(time.RFC3339Nano), at[i-1].UTC().Format(time.RFC3339Nano))
		}
	}
	return out, nil
}

func atKey(at []int64) string {
	var b strings.Builder
	b.Grow(8 * len(at))
	for _, t := range at {
		var buf [8]byte
		for i := range buf {
			buf[i] = byte(uint64(t) >> (8 * i))
		}
		b.Write(buf[:])
	}
	return b.String()
}

// cover clears the values at instants the records do not cover (see
// HistoryQuery.Since). The sprint metrics clear theirs when computed.
func (h *historian) cover(q *HistoryQuery, at []int64, values []HistoryValue) {
	if q.Since.IsZero() {
		return
	}
	since := nanos(q.Since)
	for i, t := range at {
		from := t
		switch q.Metric {
		case MetricThroughput, MetricLeadTime, MetricCycleTime, MetricInflow:
			from = min(from, nanos(q.Rule.At(fromNanos(t)).From))
		}
		if from < since {
			values[i] = HistoryValue{}
		}
	}
}

// group is the queries that one sweep answers.
type group struct {
	family  string // done, inflow or wip
	filter  Filter
	rule    WindowRule
	at      []int64
	members []member
}

type member struct {
	q      *HistoryQuery
	values []HistoryValue
}

// historian is the state of one History call: what it derived from the
// model once for all its groups.
type historian struct {
	m       *Model
	filters map[string][]int32 // filter key -> matching facts, in order

	// Ranks of every done stretch's lead and cycle time and every WIP
	// stretch's base among all of them (by value), with the values in
	// rank order; stretch i of fact f is number off[f] + i.
	doneOff, wipOff       []int32
	leadRank, cycleRank   []int32
	leadSorted, cycleSort []float64
	wipRank               []int32
	wipSorted             []int64
	ranked, wipRanked     bool

	sprints map[int]*sprintHistory
	epics   map[string][]int32
}

// facts returns the facts a filter matches, in model order.
func (h *historian) facts(f Filter) []int32 {
	k := f.key()
	if l, ok := h.filters[k]; ok {
		return l
	}
	mt := h.m.matcher(f)
	var l []int32
	for i := range h.m.facts {
		if mt.match(&h.m.facts[i]) {
			l = append(l, int32(i))
		}
	}
	h.filters[k] = l
	return l
}

// rankDone ranks the lead and cycle times of every done stretch.
func (h *historian) rankDone() {
	if h.ranked {
		return
	}
	h.ranked = true
	facts := h.m.facts
	h.doneOff = make([]int32, len(facts)+1)
	for i := range facts {
		h.doneOff[i+1] = h.doneOff[i] + int32(len(facts[i].done))
	}
	n := int(h.doneOff[len(facts)])
	type rv struct {
		v float64
		i int32
	}
	leads := make([]rv, 0, n)
	cycles := make([]rv, 0, n)
	for fi := range facts {
		x := &facts[fi]
		for si, s := range x.done {
			id := h.doneOff[fi] + int32(si)
			leads = append(leads, rv{x.lead(s), id})
			if x.cycles(s) {
				cycles = append(cycles, rv{x.cycle(s), id})
			}
		}
	}
	byValue := func(a, b rv) int {
		switch {
		case a.v < b.v:
			return -1
		case a.v > b.v:
			return 1
		}
		return int(a.i) - int(b.i)
	}
	rank := func(vs []rv) ([]int32, []float64) {
		slices.SortFunc(vs, byValue)
		ranks := make([]int32, n)
		for i := range ranks {
			ranks[i] = -1
		}
		sorted := make([]float64, len(vs))
		for r, x := range vs {
			ranks[x.i] = int32(r)
			sorted[r] = x.v
		}
		return ranks, sorted
	}
	h.leadRank, h.leadSorted = rank(leads)
	h.cycleRank, h.cycleSort = rank(cycles)
}

// rankWIP ranks the base (start) of every WIP stretch.
func (h *historian) rankWIP() {
	if h.wipRanked {
		return
	}
	h.wipRanked = true
	facts := h.m.facts
	h.wipOff = make([]int32, len(facts)+1)
	for i := range facts {
		h.wipOff[i+1] = h.wipOff[i] + int32(len(facts[i].wip))
	}
	n := int(h.wipOff[len(facts)])
	type rb struct {
		b int64
		i int32
	}
	bases := make([]rb, 0, n)
	for fi := range facts {
		for si, s := range facts[fi].wip {
			bases = append(bases, rb{s.base, h.wipOff[fi] + int32(si)})
		}
	}
	slices.SortFunc(bases, func(a, b rb) int {
		switch {
		case a.b < b.b:
			return -1
		case a.b > b.b:
			return 1
		}
		return int(a.i) - int(b.i)
	})
	h.wipRank = make([]int32, n)
	h.wipSorted = make([]int64, n)
	for r, x := range bases {
		h.wipRank[x.i] = int32(r)
		h.wipSorted[r] = x.b
	}
}

// firstAtOrAfter returns the index of the first instant at or after t.
func firstAtOrAfter(at []int64, t int64) int {
	lo, hi := 0, len(at)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if at[mid] < t {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// addSat is a + b for b >= 0, saturating at never.
func addSat(a, b int64) int64 {
	if a > never-b {
		return never
	}
	return a + b
}

// events collects, per instant, the ranks that enter and leave a
// multiset: a stretch present at the instants at[i0:i1] enters at i0 and
// leaves at i1.
type events struct {
	idx  []int32 // instant index, one per event
	rank []int32 // rank, negated and minus 1 for a leave
}

func (e *events) add(i0, i1 int, rank int32, k int) {
	e.idx = append(e.idx, int32(i0))
	e.rank = append(e.rank, rank)
	if i1 < k {
		e.idx = append(e.idx, int32(i1))
		e.rank = append(e.rank, -rank-1)
	}
}

// byInstant sorts the events by instant (a counting sort over the k
// instants) and returns, for each instant, its events.
func (e *events) byInstant(k int) (start []int32, ranks []int32) {
	start = make([]int32, k+1)
	for _, i := range e.idx {
		start[i+1]++
	}
	for i := range k {
		start[i+1] += start[i]
	}
	ranks = make([]int32, len(e.rank))
	pos := slices.Clone(start[:k])
	for j, i := range e.idx {
		ranks[pos[i]] = e.rank[j]
		pos[i]++
	}
	return start, ranks
}

// fenwick counts the ranks present in a multiset, for order statistics.
type fenwick struct {
	t    []int32
	step int // the largest power of two <= len(t)-1
}

func newFenwick(n int) *fenwick {
	f := &fenwick{t: make([]int32, n+1)}
	if n > 0 {
		f.step = 1 << (bits.Len(uint(n)) - 1)
	}
	return f
}

func (f *fenwick) add(rank int32, d int32) {
	for i := int(rank) + 1; i < len(f.t); i += i & -i {
		f.t[i] += d
	}
}

// apply enters or leaves an event's rank.
func (f *fenwick) apply(ev int32) {
	if ev >= 0 {
		f.add(ev, 1)
	} else {
		f.add(-ev-1, -1)
	}
}

// kth returns the rank of the k-th smallest present rank (k from 0).
func (f *fenwick) kth(k int) int {
	pos, rem := 0, int32(k+1)
	for step := f.step; step > 0; step >>= 1 {
		if next := pos + step; next < len(f.t) && f.t[next] < rem {
			pos = next
			rem -= f.t[next]
		}
	}
	return pos
}

// orderQuantile is metrics/quantile.Sorted over a multiset of n values
// whose j-th smallest is at(j): the same two order statistics and the
// same arithmetic, so the same float64.
func orderQuantile(n int, q float64, at func(j int) float64) (float64, bool) {
	if n == 0 || math.IsNaN(q) || q < 0 || q > 1 {
		return 0, false
	}
	pos := q * float64(n-1)
	lo := math.Floor(pos)
	i := int(lo)
	if i >= n-1 {
		return at(n - 1), true
	}
	a, b := at(i), at(i+1)
	return a + (pos-lo)*(b-a), true
}

// sweep answers a group's queries at each of its instants.
func (h *historian) sweep(g *group) {
	switch g.family {
	case "done":
		h.sweepDone(g)
	case "wip":
		h.sweepWIP(g)
	case "inflow":
		h.sweepInflow(g)
	}
}

// sweepDone answers throughput, lead time and cycle time. At instant t a
// done stretch [from, until) with done time at counts when t is in it
// and at is in the window at t: for the last D, when t < at + D; for a
// period, when at is in (start, end] (at <= t holds in every stretch).
func (h *historian) sweepDone(g *group) {
	at, k := g.at, len(g.at)
	if k == 0 {
		return
	}
	var needLead, needCycle bool
	for _, mb := range g.members {
		needLead = needLead || mb.q.Metric == MetricLeadTime
		needCycle = needCycle || mb.q.Metric == MetricCycleTime
	}
	if needLead || needCycle {
		h.rankDone()
	}
	count := make([]int, k+1)
	cycleCount := make([]int, k+1)
	var leads, cycles events
	ps, pe := nanos(g.rule.Start), nanos(g.rule.End)
	last := int64(g.rule.Last)
	first, final := at[0], at[k-1]
	for _, fi := range h.facts(g.filter) {
		x := &h.m.facts[fi]
		for si, s := range x.done {
			end := s.until
			if g.rule.Period {
				if s.at <= ps || s.at > pe {
					continue
				}
			} else {
				end = min(end, addSat(s.at, last))
			}
			if end <= first || s.from > final {
				continue
			}
			i0, i1 := firstAtOrAfter(at, s.from), firstAtOrAfter(at, end)
			if i0 >= i1 {
				continue
			}
			count[i0]++
			count[i1]--
			id := 0
			if needLead || needCycle {
				id = int(h.doneOff[fi]) + si
			}
			if needLead {
				leads.add(i0, i1, h.leadRank[id], k)
			}
			if x.cycles(s) {
				cycleCount[i0]++
				cycleCount[i1]--
				if needCycle {
					cycles.add(i0, i1, h.cycleRank[id], k)
				}
			}
		}
	}
	var leadTree, cycleTree *fenwick
	var leadStart, leadEv, cycleStart, cycleEv []int32
	if needLead {
		leadTree = newFenwick(len(h.leadSorted))
		leadStart, leadEv = leads.byInstant(k)
	}
	if needCycle {
		cycleTree = newFenwick(len(h.cycleSort))
		cycleStart, cycleEv = cycles.byInstant(k)
	}
	n, nc := 0, 0
	for i := range k {
		n += count[i]
		nc += cycleCount[i]
		if needLead {
			for _, ev := range leadEv[leadStart[i]:leadStart[i+1]] {
				leadTree.apply(ev)
			}
		}
		if needCycle {
			for _, ev := range cycleEv[cycleStart[i]:cycleStart[i+1]] {
				cycleTree.apply(ev)
			}
		}
		for _, mb := range g.members {
			var v float64
			ok := true
			switch mb.q.Metric {
			case MetricThroughput:
				v = float64(n)
			case MetricLeadTime:
				v, ok = orderQuantile(n, mb.q.quantile(), func(j int) float64 { return h.leadSorted[leadTree.kth(j)] })
			case MetricCycleTime:
				v, ok = orderQuantile(nc, mb.q.quantile(), func(j int) float64 { return h.cycleSort[cycleTree.kth(j)] })
			}
			mb.values[i] = HistoryValue{Value: v, OK: ok}
		}
	}
}

// sweepWIP answers wip, wip_age and wip_age_max. The ages at t are
// t - base, so their j-th smallest is t minus the j-th largest base.
func (h *historian) sweepWIP(g *group) {
	at, k := g.at, len(g.at)
	if k == 0 {
		return
	}
	needAge := false
	for _, mb := range g.members {
		needAge = needAge || mb.q.Metric != MetricWIP
	}
	if needAge {
		h.rankWIP()
	}
	count := make([]int, k+1)
	var bases events
	first, final := at[0], at[k-1]
	for _, fi := range h.facts(g.filter) {
		x := &h.m.facts[fi]
		for si, s := range x.wip {
			if s.until <= first || s.from > final {
				continue
			}
			i0, i1 := firstAtOrAfter(at, s.from), firstAtOrAfter(at, s.until)
			if i0 >= i1 {
				continue
			}
			count[i0]++
			count[i1]--
			if needAge {
				bases.add(i0, i1, h.wipRank[int(h.wipOff[fi])+si], k)
			}
		}
	}
	var tree *fenwick
	var start, evs []int32
	if needAge {
		tree = newFenwick(len(h.wipSorted))
		start, evs = bases.byInstant(k)
	}
	n := 0
	for i, t := range at {
		n += count[i]
		if needAge {
			for _, ev := range evs[start[i]:start[i+1]] {
				tree.apply(ev)
			}
		}
		ageAt := func(j int) float64 { return age(t, h.wipSorted[tree.kth(n-1-j)]) }
		for _, mb := range g.members {
			var v float64
			ok := true
			switch mb.q.Metric {
			case MetricWIP:
				v = float64(n)
			case MetricWIPAge:
				v, ok = orderQuantile(n, mb.q.quantile(), ageAt)
			case MetricWIPAgeMax:
				v, ok = orderQuantile(n, 1, ageAt)
			}
			mb.values[i] = HistoryValue{Value: v, OK: ok}
		}
	}
}

// sweepInflow answers inflow: an issue created at c counts at t when c is
// in the window at t and not after t: for the last D, when c <= t < c + D;
// for a period, when c is in (start, end] and c <= t.
func (h *historian) sweepInflow(g *group) {
	at, k := g.at, len(g.at)
	if k == 0 {
		return
	}
	count := make([]int, k+1)
	ps, pe := nanos(g.rule.Start), nanos(g.rule.End)
	last := int64(g.rule.Last)
	for _, fi := range h.facts(g.filter) {
		c := h.m.facts[fi].created
		end := int64(never)
		if g.rule.Period {
			if c <= ps || c > pe {
				continue
			}
		} else {
			end = addSat(c, last)
		}
		i0, i1 := firstAtOrAfter(at, c), firstAtOrAfter(at, end)
		count[i0]++
		count[i1]--
	}
	n := 0
	for i := range k {
		n += count[i]
		for _, mb := range g.members {
			mb.values[i] = HistoryValue{Value: float64(n), OK: true}
		}
	}
}

// epic answers epic progress: the children of an epic are few, so each
// instant reads their status and estimate at it.
func (h *historian) epic(epic, field string, at []int64, values []HistoryValue) {
	if h.epics == nil {
		h.epics = map[string][]int32{}
	}
	children, ok := h.epics[epic]
	if !ok {
		for i := range h.m.facts {
			if isChild(h.m.facts[i].is, epic) {
				children = append(children, int32(i))
			}
		}
		h.epics[epic] = children
	}
	for i, t := range at {
		v, ok := h.m.epicProgressAt(children, field, fromNanos(t))
		values[i] = HistoryValue{Value: v, OK: ok}
	}
}

// sprintHistory is a closed sprint's report at every instant from its
// completion on. The report reads the histories only up to the
// completion, except for whether an issue mentions the sprint at all as
// of the instant (sprintReportsAt): that changes at a few instants (an
// issue listed at the close whose Sprint field names the sprint only
// later), which split the time after the completion into segments with
// one report each.
type sprintHistory struct {
	s        *Sprint
	complete int64
	cands    []int32 // the issues that can count, in model order
	mf       []int64 // when each starts to mention the sprint
	listed   map[string]bool
	breaks   []int64 // the instants after the completion where a report changes
	reports  []*SprintReport
}

// sprintsOf returns the closed sprints of a board with their histories,
// latest first.
func (h *historian) sprintsOf(board int) []*sprintHistory {
	if h.sprints == nil {
		h.sprints = map[int]*sprintHistory{}
		// Every closed sprint of every board, with its candidate issues,
		// in one pass over the issues.
		for _, s := range h.m.sprints {
			if closedSprint(s) {
				h.sprints[s.ID] = &sprintHistory{s: s, complete: nanos(*s.Complete), listed: listedSet(s)}
			}
		}
		for fi := range h.m.facts {
			is := h.m.facts[fi].is
			if is.Subtask {
				continue
			}
			note := func(id int) {
				if sh := h.sprints[id]; sh != nil {
					if n := len(sh.cands); n == 0 || sh.cands[n-1] != int32(fi) {
						sh.cands = append(sh.cands, int32(fi))
					}
				}
			}
			for _, id := range is.Sprints {
				note(id)
			}
			for _, c := range is.SprintChanges {
				for _, id := range c.From {
					note(id)
				}
				for _, id := range c.To {
					note(id)
				}
			}
		}
		for _, sh := range h.sprints {
			for _, k := range sh.s.Issues {
				if fi, ok := h.m.index[k]; ok && !h.m.facts[fi].is.Subtask {
					sh.cands = append(sh.cands, int32(fi))
				}
			}
			slices.Sort(sh.cands)
			sh.cands = slices.Compact(sh.cands)
			sh.mf = make([]int64, len(sh.cands))
			for i, fi := range sh.cands {
				mf := h.m.facts[fi].is.mentionedFrom(sh.s.ID)
				sh.mf[i] = mf
				if mf != never && mf > sh.complete {
					sh.breaks = append(sh.breaks, mf)
				}
			}
			slices.Sort(sh.breaks)
			sh.breaks = slices.Compact(sh.breaks)
			sh.reports = make([]*SprintReport, len(sh.breaks)+1)
		}
	}
	var out []*sprintHistory
	for _, sh := range h.sprints {
		if sh.s.Board == board {
			out = append(out, sh)
		}
	}
	slices.SortFunc(out, func(a, b *sprintHistory) int {
		switch {
		case a.complete != b.complete:
			if a.complete > b.complete {
				return -1
			}
			return 1
		case a.s.ID > b.s.ID:
			return -1
		case a.s.ID < b.s.ID:
			return 1
		}
		return 0
	})
	return out
}

// reportAt returns the sprint's report at t (not before its completion).
func (h *historian) reportAt(sh *sprintHistory, t int64) SprintReport {
	seg := 0
	for seg < len(sh.breaks) && sh.breaks[seg] <= t {
		seg++
	}
	if r := sh.reports[seg]; r != nil {
		return *r
	}
	// The instant that stands for the segment: in it, an issue mentions
	// the sprint exactly when it does at the segment's start.
	at := sh.complete
	if seg > 0 {
		at = sh.breaks[seg-1]
	}
	r := SprintReport{Sprint: sh.s}
	if b, ok := h.m.boards[sh.s.Board]; ok && b.PointsField != "" {
		r.HasPoints = true
	}
	for i, fi := range sh.cands {
		is := h.m.facts[fi].is
		mentioned := sh.mf[i] != never && sh.mf[i] <= at
		if !mentioned && !sh.listed[is.Key] {
			continue
		}
		h.m.addToReport(&r, is, sh.s, mentioned)
	}
	sh.reports[seg] = &r
	return r
}

// sprint answers a sprint metric: at each instant, the board's latest
// sprints closed by then, each with its report at that instant.
func (h *historian) sprint(q *HistoryQuery, at []int64, values []HistoryValue) {
	all := h.sprintsOf(q.Board)
	n := q.sprints()
	since := int64(math.MinInt64)
	if !q.Since.IsZero() {
		since = nanos(q.Since)
	}
	reports := make([]SprintReport, 0, n)
	for i, t := range at {
		values[i] = HistoryValue{}
		if t < since {
			continue
		}
		reports = reports[:0]
		covered := true
		for _, sh := range all {
			if sh.complete > t {
				continue
			}
			if nanos(*sh.s.Start) < since {
				covered = false
			}
			reports = append(reports, h.reportAt(sh, t))
			if len(reports) == n {
				break
			}
		}
		if !covered {
			continue
		}
		v, ok := sprintValue(q.Query, reports)
		values[i] = HistoryValue{Value: v, OK: ok}
	}
}
