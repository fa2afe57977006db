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
	h.findEpics(qs)
	h.prepareSprints(qs)
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
		case MetricOpenIssues:
			family = "open"
		case MetricWIP, MetricWIPAge, MetricWIPAgeMax:
			family = "wip"
		case MetricEpicProgress:
			field, _ := q.epicField()
			h.epic(q.Epic, field, at, res.Values)
			h.cover(q, at, res.Values)
			continue
		case MetricInvestmentShare:
			h.investmentHistory(q, at, res.Values)
			h.cover(q, at, res.Values)
			continue
		default:
			h.sprint(q, at, res.Values)
			continue
		}
		k := groupKey{family: family, filter: q.Filter.key(), at: atKey(at)}
		if family != "wip" && family != "open" {
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
	case MetricWIP, MetricWIPAge, MetricWIPAgeMax, MetricOpenIssues:
		return nil
	case MetricEpicProgress:
		_, err := q.epicField()
		return err
	case MetricInvestmentShare:
		if !q.Rule.Period && q.Rule.Last <= 0 {
			return errors.New("a history of a windowed metric needs a window: a length or a period")
		}
		_, err := q.investmentCategory()
		return err
	}
	_, err := m.sprintBoards(q.Query)
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
		case MetricThroughput, MetricLeadTime, MetricCycleTime, MetricInflow, MetricInvestmentShare:
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

	// Every issue's done and WIP stretches, flat in model order (fact f
	// has doneOff[f]..doneOff[f+1]), so that the sweeps read memory in
	// order; with the rank of each stretch's lead and cycle time (-1: no
	// cycle time) and WIP base among all of them, and the values in rank
	// order.
	doneOff, wipOff     []int32
	done                []stretch
	wip                 []stretch
	leadRank, cycleRank []int32
	leadSorted          []float64
	cycleSorted         []float64
	wipRank             []int32
	wipSorted           []int64
	doneReady, wipReady bool
	ranked, wipRanked   bool

	sprints map[int]*sprintHistory
	// epics are the children of the epics the queries ask about, found
	// in one pass for all of them.
	epics map[string][]int32

	// Buffers reused by the sweeps.
	scratch [2]events
	trees   [2]fenwick
}

// facts returns the facts a filter matches, in model order. A filter
// with issue types narrows the list of its scope.
func (h *historian) facts(f Filter) []int32 {
	k := f.key()
	if l, ok := h.filters[k]; ok {
		return l
	}
	var l []int32
	if len(f.IssueTypes) > 0 {
		mt := h.m.matcher(f)
		for _, i := range h.facts(Filter{Scope: f.Scope}) {
			if mt.types[h.m.typeLower[h.m.facts[i].typ]] {
				l = append(l, i)
			}
		}
	} else {
		mt := h.m.matcher(f)
		for i := range h.m.facts {
			if mt.match(h.m, &h.m.facts[i]) {
				l = append(l, int32(i))
			}
		}
	}
	h.filters[k] = l
	return l
}

// flatDone lays out every done stretch.
func (h *historian) flatDone() {
	if h.doneReady {
		return
	}
	h.doneReady = true
	facts := h.m.facts
	h.doneOff = make([]int32, len(facts)+1)
	// Most issues have one done stretch at most.
	h.done = make([]stretch, 0, len(facts))
	var v view
	for i := range facts {
		h.m.spans(&facts[i], &v)
		h.done = append(h.done, v.done...)
		h.doneOff[i+1] = int32(len(h.done))
	}
}

// rankDone ranks the lead and cycle times of every done stretch.
func (h *historian) rankDone() {
	if h.ranked {
		return
	}
	h.ranked = true
	h.flatDone()
	facts := h.m.facts
	n := len(h.done)
	type rv struct {
		v float64
		i int32
	}
	leads := make([]rv, 0, n)
	cycles := make([]rv, 0, n)
	for fi := range facts {
		x := &facts[fi]
		for id := h.doneOff[fi]; id < h.doneOff[fi+1]; id++ {
			s := h.done[id]
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
	h.cycleRank, h.cycleSorted = rank(cycles)
}

// flatWIP lays out every WIP stretch.
func (h *historian) flatWIP() {
	if h.wipReady {
		return
	}
	h.wipReady = true
	facts := h.m.facts
	h.wipOff = make([]int32, len(facts)+1)
	h.wip = make([]stretch, 0, len(facts)/2)
	var v view
	for i := range facts {
		h.m.spans(&facts[i], &v)
		h.wip = append(h.wip, v.wip...)
		h.wipOff[i+1] = int32(len(h.wip))
	}
}

// rankWIP ranks the base (start) of every WIP stretch.
func (h *historian) rankWIP() {
	if h.wipRanked {
		return
	}
	h.wipRanked = true
	h.flatWIP()
	n := len(h.wip)
	type rb struct {
		b int64
		i int32
	}
	bases := make([]rb, n)
	for i, s := range h.wip {
		bases[i] = rb{s.at, int32(i)}
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
// leaves at i1. Its buffers are reused from one sweep to the next.
type events struct {
	idx  []int32 // instant index, one per event
	rank []int32 // rank, negated and minus 1 for a leave

	start, sorted, pos []int32
}

func (e *events) reset() {
	e.idx, e.rank = e.idx[:0], e.rank[:0]
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
// instants) and returns, for each instant i, its events
// ranks[start[i]:start[i+1]].
func (e *events) byInstant(k int) (start []int32, ranks []int32) {
	e.start = resize(e.start, k+1)
	clear(e.start)
	for _, i := range e.idx {
		e.start[i+1]++
	}
	for i := range k {
		e.start[i+1] += e.start[i]
	}
	e.sorted = resize(e.sorted, len(e.rank))
	e.pos = resize(e.pos, k)
	copy(e.pos, e.start[:k])
	for j, i := range e.idx {
		e.sorted[e.pos[i]] = e.rank[j]
		e.pos[i]++
	}
	return e.start, e.sorted
}

// resize returns a slice of length n, reusing xs when it is large enough.
func resize[T any](xs []T, n int) []T {
	if cap(xs) < n {
		return make([]T, n)
	}
	return xs[:n]
}

// fenwick counts the ranks present in a multiset, for order statistics.
type fenwick struct {
	t    []int32
	step int // the largest power of two <= len(t)-1
}

// reset empties the tree and sizes it for ranks below n.
func (f *fenwick) reset(n int) *fenwick {
	f.t = resize(f.t, n+1)
	clear(f.t)
	f.step = 0
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
	case "open":
		h.sweepOpen(g)
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
	// Every stretch that has a cycle time has a cycle rank; ranking is
	// skipped when no quantile is asked, and then cycles come from the
	// start times.
	h.flatDone()
	if needLead || needCycle {
		h.rankDone()
	}
	count := make([]int, k+1)
	cycleCount := make([]int, k+1)
	leads, cycles := &h.scratch[0], &h.scratch[1]
	leads.reset()
	cycles.reset()
	ps, pe := nanos(g.rule.Start), nanos(g.rule.End)
	last := int64(g.rule.Last)
	first, final := at[0], at[k-1]
	for _, fi := range h.facts(g.filter) {
		for id := h.doneOff[fi]; id < h.doneOff[fi+1]; id++ {
			s := &h.done[id]
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
			if needLead {
				leads.add(i0, i1, h.leadRank[id], k)
			}
			if needCycle {
				if r := h.cycleRank[id]; r >= 0 {
					cycleCount[i0]++
					cycleCount[i1]--
					cycles.add(i0, i1, r, k)
				}
			}
		}
	}
	var leadTree, cycleTree *fenwick
	var leadStart, leadEv, cycleStart, cycleEv []int32
	if needLead {
		leadTree = h.trees[0].reset(len(h.leadSorted))
		leadStart, leadEv = leads.byInstant(k)
	}
	if needCycle {
		cycleTree = h.trees[1].reset(len(h.cycleSorted))
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
				v, ok = orderQuantile(nc, mb.q.quantile(), func(j int) float64 { return h.cycleSorted[cycleTree.kth(j)] })
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
	h.flatWIP()
	if needAge {
		h.rankWIP()
	}
	count := make([]int, k+1)
	bases := &h.scratch[0]
	bases.reset()
	first, final := at[0], at[k-1]
	for _, fi := range h.facts(g.filter) {
		for id := h.wipOff[fi]; id < h.wipOff[fi+1]; id++ {
			s := &h.wip[id]
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
				bases.add(i0, i1, h.wipRank[id], k)
			}
		}
	}
	var tree *fenwick
	var start, evs []int32
	if needAge {
		tree = h.trees[0].reset(len(h.wipSorted))
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

// sweepOpen answers open_issues: an issue created at c counts at t when
// c <= t and t is in none of the stretches in which its status is done.
func (h *historian) sweepOpen(g *group) {
	at, k := g.at, len(g.at)
	if k == 0 {
		return
	}
	count := make([]int, k+1)
	var v view
	for _, fi := range h.facts(g.filter) {
		x := &h.m.facts[fi]
		count[firstAtOrAfter(at, x.created)]++
		h.m.decode(x, &v)
		h.m.doneStatuses(x, &v, func(from, until int64) {
			count[firstAtOrAfter(at, from)]--
			count[firstAtOrAfter(at, until)]++
		})
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
	children := h.epics[epic]
	for i, t := range at {
		v, ok := h.m.epicProgressAt(children, field, fromNanos(t))
		values[i] = HistoryValue{Value: v, OK: ok}
	}
}

// findEpics finds the children of the epics of the queries, in one pass.
func (h *historian) findEpics(qs []HistoryQuery) {
	h.epics = map[string][]int32{}
	refs := map[uint32][]string{} // an epic's number among the parents -> its keys
	for _, q := range qs {
		if q.Metric != MetricEpicProgress {
			continue
		}
		if _, ok := h.epics[q.Epic]; ok {
			continue
		}
		h.epics[q.Epic] = nil
		if ref, ok := h.m.refs.lookup(q.Epic); ok {
			refs[ref] = append(refs[ref], q.Epic)
		}
	}
	if len(refs) == 0 {
		return
	}
	for i := range h.m.facts {
		x := &h.m.facts[i]
		if x.subtask() {
			continue
		}
		for _, ref := range [2]uint32{x.parent, x.epic} {
			for _, e := range refs[ref] {
				if h.m.isChild(i, ref, e) {
					if l := h.epics[e]; len(l) == 0 || l[len(l)-1] != int32(i) {
						h.epics[e] = append(l, int32(i))
					}
				}
			}
		}
	}
}

// sprintHistory is a closed sprint's report at every instant from its
// completion on. The report reads the histories only up to the
// completion, except for whether an issue mentions the sprint at all as
// of the instant (sprintReportsAt): that changes at a few instants (an
// issue listed at the close whose Sprint field names the sprint only
// later), which split the time after the completion into segments with
// one report each. Each candidate issue's contribution is worked out once
// for either answer, and a segment's report adds them up in model order,
// as sprintReportsAt does.
type sprintHistory struct {
	s        *Sprint
	complete int64
	field    sprintField
	listed   map[int32]bool // positions of the issues the closing list names
	cands    []int32        // the issues that can count, in model order
	mf       []int64        // when each starts to mention the sprint
	base     []contrib      // what each adds as of the completion
	later    []contrib      // and once it mentions the sprint, for those that start after it
	breaks   []int64        // the instants after the completion where a report changes
	reports  []*SprintReport
}

// prepareSprints finds the closed sprints of the boards the queries ask
// about, their candidate issues and the report of each from its
// completion on (the first segment), in one pass over the issues in
// model order: each sprint's report sums its issues in the order
// sprintReportsAt does, so the points figures are the same float64.
func (h *historian) prepareSprints(qs []HistoryQuery) {
	h.sprints = map[int]*sprintHistory{}
	boards := map[int]bool{}
	for _, q := range qs {
		if IsSprintMetric(q.Metric) {
			for _, b := range q.boards() {
				boards[b] = true
			}
		}
	}
	// The issues that closing issue lists name, by position.
	listedIn := map[int32][]int{}
	for _, s := range h.m.sprints {
		if boards[s.Board] && closedSprint(s) {
			sh := &sprintHistory{s: s, complete: nanos(*s.Complete), field: h.m.sprintField(s), listed: map[int32]bool{}}
			for _, k := range s.Issues {
				if p, ok := h.m.keys.find(k); ok && !sh.listed[int32(p)] {
					sh.listed[int32(p)] = true
					listedIn[int32(p)] = append(listedIn[int32(p)], s.ID)
				}
			}
			h.sprints[s.ID] = sh
		}
	}
	if len(h.sprints) == 0 {
		return
	}
	// The sprints each list of sprints names, worked out once per list.
	named := make([][]int, len(h.m.sets.sets))
	seen := make([]bool, len(h.m.sets.sets))
	var ids []int
	var v view
	for fi := range h.m.facts {
		x := &h.m.facts[fi]
		if x.subtask() {
			continue
		}
		if !seen[x.mentions] {
			seen[x.mentions] = true
			for _, id := range h.m.sets.sets[x.mentions] {
				if h.sprints[id] != nil {
					named[x.mentions] = append(named[x.mentions], id)
				}
			}
		}
		ids = append(ids[:0], named[x.mentions]...)
		for _, id := range listedIn[int32(fi)] {
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			continue
		}
		h.m.decode(x, &v)
		// In the order sprintReportsAt visits the sprints of an issue
		// does not matter: each sprint has its own report.
		for _, id := range ids {
			sh := h.sprints[id]
			mf := v.mentionedFrom(&h.m.sets, id)
			var base, later contrib
			if mentioned := mf != never && mf <= sh.complete; mentioned || sh.listed[int32(fi)] {
				base = h.m.contribution(x, &v, sh.s, mentioned, sh.field)
			}
			if mf != never && mf > sh.complete {
				sh.breaks = append(sh.breaks, mf)
				later = h.m.contribution(x, &v, sh.s, true, sh.field)
			}
			sh.cands = append(sh.cands, int32(fi))
			sh.mf = append(sh.mf, mf)
			sh.base = append(sh.base, base)
			sh.later = append(sh.later, later)
		}
	}
	for _, sh := range h.sprints {
		slices.Sort(sh.breaks)
		sh.breaks = slices.Compact(sh.breaks)
		sh.reports = make([]*SprintReport, len(sh.breaks)+1)
	}
}

// sprintsOf returns the closed sprints of a board with their histories,
// latest first.
func (h *historian) sprintsOf(board int) []*sprintHistory {
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
	// In the segment, an issue mentions the sprint exactly when it does
	// at the segment's start.
	at := sh.complete
	if seg > 0 {
		at = sh.breaks[seg-1]
	}
	r := SprintReport{Sprint: sh.s, HasPoints: sh.field.is}
	for i := range sh.cands {
		if mf := sh.mf[i]; mf != never && mf > sh.complete && mf <= at {
			r.add(sh.later[i])
		} else {
			r.add(sh.base[i])
		}
	}
	sh.reports[seg] = &r
	return r
}

// sprint answers a sprint metric: at each instant, the board's latest
// sprints closed by then, each with its report at that instant.
func (h *historian) sprint(q *HistoryQuery, at []int64, values []HistoryValue) {
	var all [][]*sprintHistory
	for _, b := range q.boards() {
		all = append(all, h.sprintsOf(b))
	}
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
		for _, board := range all {
			taken := 0
			for _, sh := range board {
				if sh.complete > t {
					continue
				}
				if nanos(*sh.s.Start) < since {
					covered = false
				}
				reports = append(reports, h.reportAt(sh, t))
				if taken++; taken == n {
					break
				}
			}
		}
		if !covered {
			continue
		}
		v, ok := sprintValue(q.Query, reports)
		values[i] = HistoryValue{Value: v, OK: ok}
	}
}
