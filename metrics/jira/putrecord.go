package jira

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// PutRecord puts the issue of a binary record (Issue.AppendBinary) into
// the model, as PutIssue of the decoded issue would, but straight from
// the bytes: without building the Issue, and finding the strings, lists
// and statuses it names in the model's tables by their bytes, so that a
// load allocates next to nothing per issue. A malformed record is the
// error UnmarshalBinary gives, and changes nothing.
func (m *Model) PutRecord(data []byte) error {
	p := &m.parse
	if err := p.read(data); err != nil {
		// The decoder's own error, for the same message.
		var is Issue
		if uerr := is.UnmarshalBinary(data); uerr != nil {
			return uerr
		}
		return err
	}
	if !p.inOrder {
		// Histories out of order are rare (a record written from an
		// issue that was not normalized): PutIssue sorts them.
		var is Issue
		if err := is.UnmarshalBinary(data); err != nil {
			return err
		}
		m.PutIssue(&is)
		return nil
	}

	v := &m.wv
	v.reset()
	x := fact{created: p.created, flags: p.flags}
	x.proj = m.projects.internBytes(p.project)
	if int(x.proj) == len(m.projUpper) {
		m.projUpper = append(m.projUpper, m.upper.intern(strings.ToUpper(m.projects.strs[x.proj])))
	}
	x.typ = m.types.internBytes(p.typ)
	if int(x.typ) == len(m.typeLower) {
		m.typeLower = append(m.typeLower, m.lower.intern(strings.ToLower(m.types.strs[x.typ])))
	}
	x.boards = m.sets.internRaw(p.boards.raw, p.ints[p.boards.from:p.boards.to])
	x.comps = m.comps.internRaw(p.comps, p.readComponents)
	x.parent = m.refs.internBytes(p.parent)
	x.epic = m.refs.internBytes(p.epic)

	v.updated, v.updatedZero = p.updated, p.updatedZero
	v.hasResolved, v.resolved, v.resolvedZero = p.hasResolved, p.resolved, p.resolvedZero
	ids := m.sbuf[:0]
	for _, s := range p.statuses {
		ids = append(ids, m.statuses.internRaw(s.raw, s.id, s.name, s.category, m.cats))
	}
	m.sbuf = ids
	v.status = ids[0]
	for _, t := range p.trs {
		v.trs = append(v.trs, ctr{at: t.at, zero: t.zero, from: ids[t.from], to: ids[t.to]})
	}
	list := func(l rawInts) uint32 { return m.sets.internRaw(l.raw, p.ints[l.from:l.to]) }
	v.sprints = list(p.sprints)
	mentions := append(m.ibuf[:0], p.ints[p.sprints.from:p.sprints.to]...)
	for _, c := range p.scs {
		v.scs = append(v.scs, csc{at: c.at, zero: c.zero, from: list(c.from), to: list(c.to)})
		mentions = append(append(mentions, p.ints[c.from.from:c.from.to]...), p.ints[c.to.from:c.to.to]...)
	}
	slices.Sort(mentions)
	mentions = slices.Compact(mentions)
	x.mentions = m.sets.intern(mentions)
	m.ibuf = mentions

	fields := m.fbuf[:0]
	for _, f := range p.fields {
		fields = append(fields, m.fields.internBytes(f))
	}
	m.fbuf = fields
	// As a map would: one value per field, the last; in field order.
	for _, pt := range p.points {
		f := fields[pt.field]
		if k := slices.IndexFunc(v.pts, func(c cpt) bool { return c.field == f }); k >= 0 {
			v.pts[k].v = pt.v
			continue
		}
		v.pts = append(v.pts, cpt{field: f, v: pt.v})
	}
	if len(v.pts) > 1 {
		slices.SortFunc(v.pts, func(a, b cpt) int { return strings.Compare(m.fields.strs[a.field], m.fields.strs[b.field]) })
	}
	for _, c := range p.pcs {
		c.field = fields[c.field]
		v.pcs = append(v.pcs, c)
	}
	v.labels = m.labels.internRaw(p.labels, p.readLabels)
	v.summary = string(p.summary)

	i, _ := findOrAdd(&m.keys, p.key)
	m.commit(i, &x, v)
	return nil
}

// recordParse is a binary record read into parts of its bytes, before
// anything is interned: what PutRecord needs, checked whole first.
type recordParse struct {
	key, project, typ, summary, parent, epic []byte
	flags                                    uint8
	created                                  int64
	updated, resolved                        int64
	updatedZero, hasResolved, resolvedZero   bool
	statuses                                 []rawStatus
	trs                                      []rawTr
	ints                                     []int // every list, one after the other
	sprints, boards                          rawInts
	scs                                      []rawSC
	fields                                   [][]byte
	points                                   []rawPoint
	pcs                                      []cpc // field: position in fields
	labels                                   []byte
	nLabels                                  int
	comps                                    []byte
	nComps                                   int
	// inOrder is false when a history is not in time order.
	inOrder bool
}

type rawStatus struct{ raw, id, name, category []byte }

type rawTr struct {
	at       int64
	zero     bool
	from, to int
}

// rawInts is a list of integers: ints[from:to], encoded as raw.
type rawInts struct {
	raw      []byte
	from, to int
}

type rawSC struct {
	at       int64
	zero     bool
	from, to rawInts
}

type rawPoint struct {
	field int
	v     float64
}

// clampNanos is what a model time becomes through a time.Time: nanos
// keeps it within the range it can tell apart.
func clampNanos(t int64) int64 { return min(max(t, math.MinInt64+1), never-1) }

func (p *recordParse) read(data []byte) error {
	*p = recordParse{statuses: p.statuses[:0], trs: p.trs[:0], ints: p.ints[:0], scs: p.scs[:0],
		fields: p.fields[:0], points: p.points[:0], pcs: p.pcs[:0], inOrder: true}
	if !IsRecord(data) {
		return errors.New("not a binary issue record")
	}
	r := &reader[[]byte]{s: data[1:]}
	p.key, p.project, p.typ = r.bytes(), r.bytes(), r.bytes()
	flags := r.uvarint()
	if flags&recSubtask != 0 {
		p.flags |= factSubtask
	}
	if flags&recOutside != 0 {
		p.flags |= factOutside
	}
	p.summary = r.bytes()
	// Differences are taken from the times as written, before clamping.
	created, zero := r.time(0)
	p.created = clampNanos(created)
	if zero {
		p.flags |= factCreatedZero
	}
	u, uz := r.time(created)
	p.updated, p.updatedZero = clampNanos(u), uz
	if flags&recResolved != 0 {
		t, z := r.time(created)
		p.hasResolved, p.resolved, p.resolvedZero = true, clampNanos(t), z
	}

	n := r.count()
	for range n {
		start := r.s
		id, name, category := r.bytes(), r.bytes(), r.bytes()
		p.statuses = append(p.statuses, rawStatus{raw: start[:len(start)-len(r.s)], id: id, name: name, category: category})
	}
	if n == 0 && r.err == nil {
		r.fail(errors.New("no status"))
	}
	index := func(limit int) int {
		i := r.uvarint()
		if i >= uint64(limit) {
			r.fail(fmt.Errorf("index %d of %d", i, limit))
			return 0
		}
		return int(i)
	}
	// Times are clamped as through a time.Time (the zero time first of
	// all), and checked to be in the order Normalize would leave them.
	var last int64
	order := func(t int64, zero bool) int64 {
		ct := clampNanos(t)
		key := ct
		if zero {
			key = math.MinInt64
		}
		p.inOrder = p.inOrder && key >= last
		last = key
		return ct
	}
	prev := created
	last = math.MinInt64
	for range r.count() {
		t, zero := r.time(prev)
		prev = t
		ct := order(t, zero)
		p.trs = append(p.trs, rawTr{at: ct, zero: zero, from: index(n), to: index(n)})
	}
	list := func() rawInts {
		from := len(p.ints)
		var raw []byte
		p.ints, raw = r.intsInto(p.ints)
		return rawInts{raw: raw, from: from, to: len(p.ints)}
	}
	p.sprints = list()
	prev, last = created, math.MinInt64
	for range r.count() {
		t, zero := r.time(prev)
		prev = t
		ct := order(t, zero)
		c := rawSC{at: ct, zero: zero}
		c.from = list()
		c.to = list()
		p.scs = append(p.scs, c)
	}
	nf := r.count()
	for range nf {
		p.fields = append(p.fields, r.bytes())
	}
	for range r.count() {
		f := index(nf)
		v, ok := r.float()
		if !ok && r.err == nil {
			r.fail(errors.New("a story-point value without a number"))
		}
		p.points = append(p.points, rawPoint{field: f, v: v})
	}
	prev, last = created, math.MinInt64
	for range r.count() {
		t, zero := r.time(prev)
		prev = t
		ct := order(t, zero)
		c := cpc{at: ct, zero: zero, field: uint32(index(nf))}
		c.from, c.fromOK = r.float()
		c.to, c.toOK = r.float()
		p.pcs = append(p.pcs, c)
	}
	p.parent, p.epic = r.bytes(), r.bytes()
	p.nLabels = r.count()
	start := r.s
	for range p.nLabels {
		r.bytes()
	}
	p.labels = start[:len(start)-len(r.s)]
	p.boards = list()
	if data[0] == RecordVersion {
		p.nComps = r.count()
		start := r.s
		for range p.nComps {
			r.bytes()
		}
		p.comps = start[:len(start)-len(r.s)]
	}
	if r.err == nil && len(r.s) > 0 {
		r.fail(fmt.Errorf("%d bytes after the end", len(r.s)))
	}
	return r.err
}

// readComponents returns the components of a record read.
func (p *recordParse) readComponents() []string {
	if p.nComps == 0 {
		return nil
	}
	r := reader[[]byte]{s: p.comps}
	out := make([]string, p.nComps)
	for i := range out {
		out[i] = r.string()
	}
	return out
}

// readLabels returns the labels of a record read.
func (p *recordParse) readLabels() []string {
	if p.nLabels == 0 {
		return nil
	}
	r := reader[[]byte]{s: p.labels}
	out := make([]string, p.nLabels)
	for i := range out {
		out[i] = r.string()
	}
	return out
}
