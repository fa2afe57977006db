package github

import (
	"cmp"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sort"
	"time"
)

// WindowRule says which window a value at an instant t is computed over:
// the Last duration before t, or, with Period, from Start to t, or to End
// once t is past it (METRICS.md, window = "period").
type WindowRule struct {
	Last       time.Duration
	Period     bool
	Start, End time.Time
}

// At is the window of the rule for a measurement at t.
func (r WindowRule) At(t time.Time) Window {
	if r.Period {
		end := r.End
		if t.Before(end) {
			end = t
		}
		return Window{From: r.Start, To: end}
	}
	return Last(r.Last, t)
}

// HistoryQuery asks for one metric of one scope (a repository, or "" for
// the whole source) at several instants, each over the window its rule
// gives for that instant.
type HistoryQuery struct {
	Metric   string
	Repo     string
	Quantile float64
	Window   WindowRule
	// At are the instants, ascending (any order is accepted).
	At []time.Time
	// Category is the investment category of investment_share.
	Category string
}

// Point is the value of a metric at one instant; OK is false when it has
// none (an empty set, an unknown scope).
type Point struct {
	Value float64
	OK    bool
}

// HistoryResult holds one Point per instant of a query, or the error that
// concerns the whole query (an unknown metric).
type HistoryResult struct {
	Points []Point
	Err    error
}

// History computes each query at each of its instants: the value at t is
// exactly Value(metric, repo, window.At(t), quantile, t), the metric as the
// records stood at t. Counts and rates read the prefix counts at each
// instant. Distributions are swept: the queries that share a scope, a
// series and a window rule walk the series once in time order, the window
// sliding forward with the instants, and read each quantile from a Fenwick
// tree over the ranks of the series' values, in O(log n) per instant
// instead of a sort of the window.
func (ix *Index) History(qs []HistoryQuery) []HistoryResult {
	out := make([]HistoryResult, len(qs))
	groups := map[sweepKey]*sweepGroup{}
	var order []*sweepGroup
	for i, hq := range qs {
		if hq.Metric == MetricInvestmentShare {
			// Counts per instant: a binary search and the window's pull
			// requests, as InvestmentShare reads them.
			out[i].Points = make([]Point, len(hq.At))
			for j, t := range hq.At {
				v, ok, err := ix.InvestmentShare(hq.Repo, hq.Category, hq.Window.At(t), t)
				if err != nil {
					out[i] = HistoryResult{Err: err}
					break
				}
				out[i].Points[j] = Point{Value: v, OK: ok}
			}
			continue
		}
		m, known := LookupMetric(hq.Metric)
		if !known {
			out[i].Err = fmt.Errorf("unknown metric %q; known: %s", hq.Metric, MetricNames())
			continue
		}
		out[i].Points = make([]Point, len(hq.At))
		s := ix.Scope(hq.Repo)
		if s == nil {
			continue
		}
		q := hq.Quantile
		if !m.Distribution {
			q = DefaultQuantile
		}
		ser, level := distributionSeries(hq.Metric)
		if ser == seriesNone {
			for j, t := range hq.At {
				v, ok := s.value(hq.Metric, hq.Window.At(t).upTo(t), q, t)
				if !ok {
					v = 0
				}
				out[i].Points[j] = Point{Value: v, OK: ok}
			}
			continue
		}
		if level != nil {
			q = 0.5 // levels judge the median
		}
		if !validQuantile(q) {
			continue // no instant has a value, as Value says
		}
		key := sweepKey{scope: s, series: ser, rule: ruleKey(hq.Window)}
		g, ok := groups[key]
		if !ok {
			g = &sweepGroup{key: key, rule: hq.Window}
			groups[key] = g
			order = append(order, g)
		}
		member := int32(len(g.members))
		g.members = append(g.members, sweepMember{query: i, q: q, level: level})
		for j, t := range hq.At {
			g.entries = append(g.entries, sweepEntry{t: t.UnixNano(), at: t, member: member, point: int32(j)})
		}
	}
	cache := map[seriesKey]series{}
	var tree fenwick
	for _, g := range order {
		key := seriesKey{g.key.scope, g.key.series}
		ser, ok := cache[key]
		if !ok {
			ser.times, ser.vals = g.key.scope.series(g.key.series)
			cache[key] = ser
		}
		g.sweep(ser, &tree, out)
	}
	return out
}

// series is a distribution in time order.
type series struct {
	times []int64
	vals  []float64
}

// seriesID names a distribution of a scope.
type seriesID uint8

const (
	seriesNone seriesID = iota
	seriesLead
	seriesRestore
	seriesCycle
	seriesSize
	seriesReview
)

// distributionSeries returns the series a metric reads a quantile of, and
// for a DORA level the judgement of its median; seriesNone for the counts,
// rates and open pull requests.
func distributionSeries(metric string) (seriesID, func(float64) Level) {
	switch metric {
	case MetricLeadTime:
		return seriesLead, nil
	case MetricTimeToRestore:
		return seriesRestore, nil
	case MetricPRCycleTime:
		return seriesCycle, nil
	case MetricPRSize:
		return seriesSize, nil
	case MetricTimeToFirstReview:
		return seriesReview, nil
	case MetricLevelLeadTime:
		return seriesLead, LeadTimeLevel
	case MetricLevelTimeToRestore:
		return seriesRestore, TimeToRestoreLevel
	}
	return seriesNone, nil
}

// series returns the times (ascending) and values of one distribution.
func (s *Scope) series(id seriesID) ([]int64, []float64) {
	var pts []point
	switch id {
	case seriesLead:
		pts = s.lead
	case seriesRestore:
		pts = s.restore
	case seriesReview:
		pts = s.review
	case seriesCycle, seriesSize:
		ts, vs := make([]int64, len(s.merged)), make([]float64, len(s.merged))
		for i, m := range s.merged {
			ts[i], vs[i] = m.t, m.size
			if id == seriesCycle {
				vs[i] = m.cycle
			}
		}
		return ts, vs
	}
	ts, vs := make([]int64, len(pts)), make([]float64, len(pts))
	for i, p := range pts {
		ts[i], vs[i] = p.t, p.v
	}
	return ts, vs
}

// ruleKey makes a window rule comparable (time.Time is not, reliably).
type windowKey struct {
	last       time.Duration
	period     bool
	start, end int64
}

func ruleKey(r WindowRule) windowKey {
	if r.Period {
		return windowKey{period: true, start: r.Start.UnixNano(), end: r.End.UnixNano()}
	}
	return windowKey{last: r.Last}
}

type sweepKey struct {
	scope  *Scope
	series seriesID
	rule   windowKey
}

type seriesKey struct {
	scope  *Scope
	series seriesID
}

// sweepGroup is the queries that share a scope, a series and a window
// rule, with every instant any of them asks for.
type sweepGroup struct {
	key     sweepKey
	rule    WindowRule
	members []sweepMember
	entries []sweepEntry
}

type sweepMember struct {
	query int
	q     float64
	level func(float64) Level
}

// sweepEntry is one instant of one member.
type sweepEntry struct {
	t      int64
	at     time.Time
	member int32
	point  int32
}

// rankedSeries is the part [lo, hi) of a series that a sweep reads, with
// the rank of each value among them (ties broken by time order) and the
// values by rank.
type rankedSeries struct {
	lo     int
	rank   []int32 // of the value at lo+i
	sorted []float64
}

func newRankedSeries(vals []float64, lo, hi int) *rankedSeries {
	type entry struct {
		v float64
		i int32
	}
	es := make([]entry, hi-lo)
	for i := range es {
		es[i] = entry{vals[lo+i], int32(i)}
	}
	slices.SortFunc(es, func(a, b entry) int {
		if c := cmp.Compare(a.v, b.v); c != 0 {
			return c
		}
		return cmp.Compare(a.i, b.i)
	})
	rs := &rankedSeries{lo: lo, rank: make([]int32, len(es)), sorted: make([]float64, len(es))}
	for r, e := range es {
		rs.rank[e.i] = int32(r)
		rs.sorted[r] = e.v
	}
	return rs
}

// sweep answers every entry of the group in time order. The window of the
// rule only moves forward as the instant does (both its ends ascend), so
// each value of the series enters and leaves the tree at most once; only
// the values some window of the group holds are ranked.
func (g *sweepGroup) sweep(ser series, tree *fenwick, out []HistoryResult) {
	slices.SortStableFunc(g.entries, func(a, b sweepEntry) int { return cmp.Compare(a.t, b.t) })
	if len(g.entries) == 0 {
		return
	}
	n := len(ser.times)
	upTo := func(t int64) int { return sort.Search(n, func(i int) bool { return ser.times[i] > t }) }
	first := g.rule.At(g.entries[0].at).upTo(g.entries[0].at)
	last := g.entries[len(g.entries)-1].at
	lo, hi := upTo(first.From.UnixNano()), upTo(g.rule.At(last).upTo(last).To.UnixNano())
	rs := newRankedSeries(ser.vals, lo, max(lo, hi))
	tree.reset(len(rs.rank))
	// The window holds the values at [lo, hi) when lo < hi.
	hi = lo
	for _, e := range g.entries {
		w := g.rule.At(e.at).upTo(e.at)
		from, to := w.From.UnixNano(), w.To.UnixNano()
		for hi < n && ser.times[hi] <= to {
			if hi >= lo {
				tree.add(int(rs.rank[hi-rs.lo]), 1)
			}
			hi++
		}
		for lo < n && ser.times[lo] <= from {
			if lo < hi {
				tree.add(int(rs.rank[lo-rs.lo]), -1)
			}
			lo++
		}
		m := g.members[e.member]
		v, ok := sortedQuantile(max(hi-lo, 0), m.q, func(k int) float64 { return rs.sorted[tree.kth(k)] })
		if ok && m.level != nil {
			v = float64(m.level(v))
		}
		out[m.query].Points[e.point] = Point{Value: v, OK: ok}
	}
}

// sortedQuantile is quantile.Sorted over n sorted values read by kth, with
// the same arithmetic, so that a swept quantile equals the one Value
// computes from the sorted window to the last bit.
func sortedQuantile(n int, q float64, kth func(int) float64) (float64, bool) {
	if n == 0 || !validQuantile(q) {
		return 0, false
	}
	pos := q * float64(n-1)
	lo := math.Floor(pos)
	i := int(lo)
	if i >= n-1 {
		return kth(n - 1), true
	}
	a, b := kth(i), kth(i+1)
	return a + (pos-lo)*(b-a), true
}

func validQuantile(q float64) bool { return !math.IsNaN(q) && q >= 0 && q <= 1 }

// fenwick counts values by rank: add and the k-th smallest in O(log n).
type fenwick struct {
	tree []int32 // 1-based
	n    int
	top  int // the highest power of two <= n
}

func (f *fenwick) reset(n int) {
	if cap(f.tree) < n+1 {
		f.tree = make([]int32, n+1)
	}
	f.tree = f.tree[:n+1]
	clear(f.tree)
	f.n = n
	f.top = 0
	if n > 0 {
		f.top = 1 << (bits.Len(uint(n)) - 1)
	}
}

func (f *fenwick) add(rank int, d int32) {
	for i := rank + 1; i <= f.n; i += i & -i {
		f.tree[i] += d
	}
}

// kth returns the rank of the k-th smallest value held (k from 0).
func (f *fenwick) kth(k int) int {
	pos := 0
	for step := f.top; step > 0; step >>= 1 {
		if next := pos + step; next <= f.n && int(f.tree[next]) <= k {
			pos = next
			k -= int(f.tree[next])
		}
	}
	return pos
}
