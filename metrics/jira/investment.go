package jira

import (
	"fmt"
	"strings"
	"time"
)

// MetricInvestmentShare is the share of throughput of one investment
// category (key result `metric = "investment_share"`, `category`).
const MetricInvestmentShare = "investment_share"

// OtherCategory is the category of the work no configured category
// matches.
const OtherCategory = "other"

// Investment is an investment balance: categories of work, each matching
// issue types, labels or epics (names compare case-insensitively). An
// issue counts in the first category that matches it, else in "other".
// Its type, labels and epic are the ones the latest records give (Jira
// keeps their history in the changelog, which okrd does not store): a
// relabelled issue moves to its new category at every instant.
type Investment struct {
	Categories []Category
	// PointsField weighs each issue by its story points at its done time
	// (the estimate it was delivered at); empty counts issues.
	PointsField string
}

// Category is one investment category.
type Category struct {
	Name       string
	IssueTypes []string
	Labels     []string
	Epics      []string
}

// Names returns the categories in order, then "other": the order of the
// shares InvestmentOf returns.
func (inv *Investment) Names() []string {
	out := make([]string, 0, len(inv.Categories)+1)
	for _, c := range inv.Categories {
		out = append(out, c.Name)
	}
	return append(out, OtherCategory)
}

// index returns the position of a category among Names, or -1.
func (inv *Investment) index(name string) int {
	for i, n := range inv.Names() {
		if n == name {
			return i
		}
	}
	return -1
}

// classifier is an Investment compiled against a model's tables: the
// first category of each issue type, label and epic, so that classifying
// an issue compares integers.
type classifier struct {
	m     *Model
	other int
	// byType is the first category listing each lower-case issue type
	// (by number), byRef the first listing each parent or Epic Link key.
	byType []int
	byRef  map[uint32]int
	// byLabel is the first category listing each lower-case label;
	// bySet memoizes it per label set (-1: not computed yet).
	byLabel map[string]int
	bySet   []int
	field   uint32
	hasPts  bool
	points  bool
}

func (m *Model) classifier(inv *Investment) *classifier {
	c := &classifier{m: m, other: len(inv.Categories), byType: make([]int, len(m.lower.strs)), byRef: map[uint32]int{},
		byLabel: map[string]int{}, bySet: make([]int, len(m.labels.sets))}
	for i := range c.byType {
		c.byType[i] = c.other
	}
	for i := range c.bySet {
		c.bySet[i] = -1
	}
	for ci := len(inv.Categories) - 1; ci >= 0; ci-- {
		cat := inv.Categories[ci]
		for _, t := range cat.IssueTypes {
			if id, ok := m.lower.lookup(strings.ToLower(t)); ok {
				c.byType[id] = ci
			}
		}
		for _, l := range cat.Labels {
			c.byLabel[strings.ToLower(l)] = ci
		}
		for _, e := range cat.Epics {
			for id, key := range m.refs.strs {
				if id != 0 && strings.EqualFold(key, e) {
					c.byRef[uint32(id)] = ci
				}
			}
		}
	}
	if inv.PointsField != "" {
		c.points = true
		c.field, c.hasPts = m.fields.lookup(inv.PointsField)
	}
	return c
}

// category returns the category of an issue (its position in Names).
func (c *classifier) category(x *fact) int {
	best := c.byType[c.m.typeLower[x.typ]]
	if x.parent != 0 {
		if ci, ok := c.byRef[x.parent]; ok && ci < best {
			best = ci
		}
	}
	if x.epic != 0 {
		if ci, ok := c.byRef[x.epic]; ok && ci < best {
			best = ci
		}
	}
	if len(c.byLabel) > 0 {
		set := c.m.labelSet(x)
		ci := c.bySet[set]
		if ci < 0 {
			ci = c.other
			for _, l := range c.m.labels.sets[set] {
				if i, ok := c.byLabel[strings.ToLower(l)]; ok && i < ci {
					ci = i
				}
			}
			c.bySet[set] = ci
		}
		best = min(best, ci)
	}
	return best
}

// weight is what a done issue adds to its category: 1, or its story
// points at its done time (0 without an estimate then).
func (c *classifier) weight(x *fact, doneAt int64, v *view) float64 {
	if !c.points {
		return 1
	}
	if !c.hasPts {
		return 0
	}
	c.m.decode(x, v)
	p, _ := v.pointsAt(c.field, doneAt)
	return p
}

// labelSet reads the number of an issue's label set from its encoding,
// without decoding the rest.
func (m *Model) labelSet(x *fact) uint32 {
	r := reader[[]byte]{s: m.arena.get(x.blob)}
	var scratch [4]stretch
	readSpans(&r, scratch[:0], x.created)
	readSpans(&r, scratch[:0], x.created)
	r.time(x.created)
	if r.uvarint() == 1 {
		r.time(x.created)
	}
	r.uvarint() // status
	r.uvarint() // sprints
	set := uint32(r.uvarint())
	if r.err != nil {
		panic(fmt.Sprintf("jira: the model's encoding of an issue is corrupt: %v", r.err))
	}
	return set
}

// InvestmentOf returns the throughput of each category (in the order of
// Names) over the issues the filter selects whose done time at now is in
// the window, by count or by story points, and the total. Sums run in
// model order, as every other figure of the model does, so that a value
// filled in for an instant equals the one measured then.
func (m *Model) InvestmentOf(inv *Investment, f Filter, w Window, now time.Time) (per []float64, total float64) {
	c := m.classifier(inv)
	per = make([]float64, c.other+1)
	var v view
	m.eachDone(f, w, now, func(_ int, x *fact, s stretch) {
		wt := c.weight(x, s.at, &v)
		per[c.category(x)] += wt
		total += wt
	})
	return per, total
}

// investmentShare is the share of throughput of a category, from the
// figures InvestmentOf returns; no value without throughput.
func investmentShare(per []float64, total float64, ci int) (float64, bool) {
	if total <= 0 {
		return 0, false
	}
	return per[ci] / total, true
}

// investmentQuery checks an investment_share query and returns the
// position of its category.
func (q Query) investmentCategory() (int, error) {
	if q.Investment == nil || len(q.Investment.Categories) == 0 {
		return 0, fmt.Errorf("investment_share needs the source's investment categories: configure [sources.NAME.investment]")
	}
	ci := q.Investment.index(q.Category)
	if ci < 0 {
		return 0, fmt.Errorf("unknown investment category %q (categories: %s)", q.Category, strings.Join(q.Investment.Names(), ", "))
	}
	return ci, nil
}

// investmentHistory answers investment_share at each instant: at t, the
// done stretches that hold at t with their done time in the window at t.
// The candidates (done within the instants' reach) are gathered once in
// model order, and each instant sums over them in that order, as
// InvestmentOf does at that instant.
func (h *historian) investmentHistory(q *HistoryQuery, at []int64, values []HistoryValue) {
	ci, err := q.investmentCategory()
	if err != nil || len(at) == 0 {
		return
	}
	m := h.m
	c := m.classifier(q.Investment)
	type cand struct {
		from, until, at int64
		cat             int
		w               float64
	}
	var cands []cand
	var v view
	first, final := at[0], at[len(at)-1]
	ps, pe := nanos(q.Rule.Start), nanos(q.Rule.End)
	last := int64(q.Rule.Last)
	h.flatDone()
	for _, fi := range h.facts(q.Filter) {
		x := &m.facts[fi]
		for id := h.doneOff[fi]; id < h.doneOff[fi+1]; id++ {
			s := h.done[id]
			end := s.until
			if q.Rule.Period {
				if s.at <= ps || s.at > pe {
					continue
				}
			} else {
				end = min(end, addSat(s.at, last))
			}
			if end <= first || s.from > final {
				continue
			}
			cands = append(cands, cand{from: s.from, until: end, at: s.at, cat: c.category(x), w: c.weight(x, s.at, &v)})
		}
	}
	for i, t := range at {
		w := q.Rule.At(fromNanos(t)).span()
		per, total := 0.0, 0.0
		for _, cd := range cands {
			if cd.from <= t && t < cd.until && w.contains(cd.at) {
				total += cd.w
				if cd.cat == ci {
					per += cd.w
				}
			}
		}
		if total > 0 {
			values[i] = HistoryValue{Value: per / total, OK: true}
		}
	}
}
