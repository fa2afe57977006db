package jira

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"math"
	"slices"
	"sort"
	"strings"
)

// This file holds what the model keeps of an issue, in as few bytes as
// the metrics allow (docs/sources/jira.md, "Memory"): a 64-byte fact
// with what every computation reads (the creation and start times, the
// project, type and board membership as small integers, the sprints the
// issue ever named), and one string with the rest, encoded with the
// primitives of codec.go: its done and in-progress stretches, its
// status, and its histories of status, sprint and story points, in which
// statuses, sprint lists, story-point fields and labels are numbers into
// the model's tables, each distinct value held once. The key lives in a
// key index of its own. The full Issue is rebuilt from these on demand.

// table interns strings: each distinct string is held once, and stands
// for itself as a number. In a newTable, number 0 is the empty string.
type table struct {
	ids  map[string]uint32
	strs []string
}

func newTable() table { return table{ids: map[string]uint32{"": 0}, strs: []string{""}} }

// emptyTable is a table without the empty string: a lookup finds only
// what was interned.
func emptyTable() table { return table{ids: map[string]uint32{}} }

func (t *table) intern(s string) uint32 {
	if id, ok := t.ids[s]; ok {
		return id
	}
	// A copy, so that the table does not keep alive the record the
	// string was read from.
	s = strings.Clone(s)
	id := uint32(len(t.strs))
	t.strs = append(t.strs, s)
	t.ids[s] = id
	return id
}

// internBytes is intern of string(b), which it copies only when new.
func (t *table) internBytes(b []byte) uint32 {
	if id, ok := t.ids[string(b)]; ok {
		return id
	}
	return t.intern(string(b))
}

func (t *table) lookup(s string) (uint32, bool) {
	id, ok := t.ids[s]
	return id, ok
}

// intSets interns lists of integers (sprint ids, board ids): an issue's
// Sprint field takes one of a few values, which many issues share.
// Number 0 is the empty list.
type intSets struct {
	ids     map[string]uint32
	sets    [][]int
	scratch []byte
}

func newIntSets() intSets {
	return intSets{ids: map[string]uint32{string(appendInts(nil, nil)): 0}, sets: [][]int{nil}}
}

func (s *intSets) intern(xs []int) uint32 {
	s.scratch = appendInts(s.scratch[:0], xs)
	if id, ok := s.ids[string(s.scratch)]; ok {
		return id
	}
	id := uint32(len(s.sets))
	s.sets = append(s.sets, slices.Clone(xs))
	s.ids[string(s.scratch)] = id
	return id
}

// internRaw interns xs, whose encoding (appendInts) raw may be: a list
// read from a record is looked up by its bytes without encoding it again.
func (s *intSets) internRaw(raw []byte, xs []int) uint32 {
	if id, ok := s.ids[string(raw)]; ok {
		return id
	}
	return s.intern(xs)
}

func (s *intSets) has(id uint32, x int) bool { return slices.Contains(s.sets[id], x) }

// labelSets interns lists of labels. Number 0 is the empty list.
type labelSets struct {
	ids     map[string]uint32
	sets    [][]string
	scratch []byte
}

func newLabelSets() labelSets {
	return labelSets{ids: map[string]uint32{"": 0}, sets: [][]string{nil}}
}

func (s *labelSets) intern(xs []string) uint32 {
	s.scratch = s.scratch[:0]
	for _, x := range xs {
		s.scratch = appendString(s.scratch, x)
	}
	if id, ok := s.ids[string(s.scratch)]; ok {
		return id
	}
	id := uint32(len(s.sets))
	c := make([]string, len(xs))
	for i, x := range xs {
		c[i] = strings.Clone(x)
	}
	s.sets = append(s.sets, c)
	s.ids[string(s.scratch)] = id
	return id
}

// internRaw interns the labels whose encoding (each by appendString,
// one after the other) raw may be; read says what they are, on a miss.
func (s *labelSets) internRaw(raw []byte, read func() []string) uint32 {
	if id, ok := s.ids[string(raw)]; ok {
		return id
	}
	return s.intern(read())
}

// statusTable interns statuses (id, name and category together, as the
// changelog gave them) with their effective category under the model's
// overrides.
type statusTable struct {
	ids   map[Status]uint32
	list  []Status
	codes []uint8
	// raw finds a status by its encoding in a record (its id, name and
	// category, each by appendString).
	raw map[string]uint32
}

// internRaw interns the status whose record encoding is raw.
func (t *statusTable) internRaw(raw []byte, id, name, category []byte, c compiled) uint32 {
	if n, ok := t.raw[string(raw)]; ok {
		return n
	}
	n := t.intern(Status{ID: string(id), Name: string(name), Category: string(category)}, c)
	t.raw[string(raw)] = n
	return n
}

func (t *statusTable) intern(s Status, c compiled) uint32 {
	if id, ok := t.ids[s]; ok {
		return id
	}
	s = Status{ID: strings.Clone(s.ID), Name: strings.Clone(s.Name), Category: strings.Clone(s.Category)}
	id := uint32(len(t.list))
	t.list = append(t.list, s)
	t.codes = append(t.codes, c.code(s))
	t.ids[s] = id
	return id
}

// keyIndex holds the issue keys, all in one byte slice, and finds an
// issue's position by its key through an open-addressing hash table:
// about 25 bytes per issue where a map[string]int takes 60. A slot holds
// the upper half of the key's hash next to the position; that half also
// picks the slot where a probe starts, so that a probe compares keys only
// when the hashes agree and the table grows without hashing the keys
// again. Keys are never removed (the model has no deletion).
type keyIndex struct {
	seed  maphash.Seed
	buf   []byte
	off   []uint32 // key i is buf[off[i]:off[i+1]]
	slots []uint64 // hash>>32<<32 | position+1; 0 is an empty slot
}

func newKeyIndex() keyIndex { return keyIndex{seed: maphash.MakeSeed(), off: []uint32{0}} }

func (k *keyIndex) len() int { return len(k.off) - 1 }

// key returns key i (a new string).
func (k *keyIndex) key(i int) string { return string(k.buf[k.off[i]:k.off[i+1]]) }

// is reports whether key i is s, without allocating.
func (k *keyIndex) is(i int, s string) bool { return string(k.buf[k.off[i]:k.off[i+1]]) == s }

func (k *keyIndex) find(s string) (int, bool) {
	if len(k.slots) == 0 {
		return 0, false
	}
	h := maphash.String(k.seed, s)
	mask := uint64(len(k.slots) - 1)
	for j := h >> 32 & mask; ; j = (j + 1) & mask {
		e := k.slots[j]
		if e == 0 {
			return 0, false
		}
		if e>>32 == h>>32 && k.is(int(uint32(e)-1), s) {
			return int(uint32(e) - 1), true
		}
	}
}

// findOrAdd returns the position of a key, appending it if it is new.
func (k *keyIndex) findOrAdd(s string) (int, bool) { return findOrAdd(k, s) }

func findOrAdd[T string | []byte](k *keyIndex, s T) (int, bool) {
	if 4*(k.len()+1) > 3*len(k.slots) {
		k.grow(k.len() + 1)
	}
	// The table is at most three quarters full: a probe ends.
	var h uint64
	switch s := any(s).(type) {
	case string:
		h = maphash.String(k.seed, s)
	case []byte:
		h = maphash.Bytes(k.seed, s)
	}
	mask := uint64(len(k.slots) - 1)
	j := h >> 32 & mask
	for ; k.slots[j] != 0; j = (j + 1) & mask {
		if e := k.slots[j]; e>>32 == h>>32 {
			if i := int(uint32(e) - 1); string(k.buf[k.off[i]:k.off[i+1]]) == string(s) {
				return i, true
			}
		}
	}
	i := k.len()
	if uint64(len(k.buf))+uint64(len(s)) > math.MaxUint32 || i >= math.MaxUint32-1 {
		panic("jira: more issue keys than the model can index")
	}
	k.buf = append(k.buf, s...)
	k.off = append(k.off, uint32(len(k.buf)))
	k.slots[j] = h>>32<<32 | uint64(i+1)
	return i, false
}

// reserve makes room for n keys in all, of about size bytes each.
func (k *keyIndex) reserve(n, size int) {
	if more := n - k.len(); more > 0 {
		k.off = slices.Grow(k.off, more)
		k.buf = slices.Grow(k.buf, more*size)
	}
	if 4*n > 3*len(k.slots) {
		k.grow(n)
	}
}

// grow makes the table big enough for n keys (at least 1,024 slots, at
// most three quarters full) and places every key again.
func (k *keyIndex) grow(n int) {
	size := max(1024, len(k.slots))
	for 4*n > 3*size {
		size *= 2
	}
	old := k.slots
	k.slots = make([]uint64, size)
	mask := uint64(size - 1)
	for _, e := range old {
		if e == 0 {
			continue
		}
		j := e >> 32 & mask
		for k.slots[j] != 0 {
			j = (j + 1) & mask
		}
		k.slots[j] = e
	}
}

// arena holds the encoded parts of the issues, one after the other in
// chunks that never move, each preceded by its length. A fact refers to
// its encoding by chunk and offset, so that facts hold no pointer: the
// garbage collector neither scans the facts nor counts a million small
// objects. An issue put again leaves its old encoding behind as waste,
// which compact reclaims once it outweighs what is live.
type arena struct {
	chunks      [][]byte
	live, waste int
}

// arenaChunk is the size of a chunk (an encoding longer than that gets a
// chunk of its own).
const arenaChunk = 1 << 20

// put appends an encoding and returns its reference.
func (a *arena) put(b []byte) uint64 {
	n := len(b) + uvarintLen(uint64(len(b)))
	c := len(a.chunks) - 1
	if c < 0 || cap(a.chunks[c])-len(a.chunks[c]) < n {
		if len(a.chunks) >= math.MaxUint32 {
			panic("jira: more issue data than the model can hold")
		}
		a.chunks = append(a.chunks, make([]byte, 0, max(arenaChunk, n)))
		c++
	}
	off := len(a.chunks[c])
	a.chunks[c] = appendUvarints(a.chunks[c], uint64(len(b)))
	a.chunks[c] = append(a.chunks[c], b...)
	a.live += n
	return uint64(c)<<32 | uint64(off)
}

// get returns the encoding a reference refers to (not a copy).
func (a *arena) get(ref uint64) []byte {
	r := reader[[]byte]{s: a.chunks[ref>>32][uint32(ref):]}
	n := r.uvarint()
	return r.s[:n:n]
}

// free counts an encoding that is no longer referred to.
func (a *arena) free(ref uint64) {
	n := len(a.get(ref))
	n += uvarintLen(uint64(n))
	a.live -= n
	a.waste += n
}

// wasteful reports whether compacting is worth it: the waste outweighs
// what is live, and is more than a few chunks.
func (a *arena) wasteful() bool { return a.waste > a.live && a.waste > 8*arenaChunk }

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// Fact flags.
const (
	factSubtask uint8 = 1 << iota
	factOutside
	// factCreatedZero marks an issue whose Created is the zero time, so
	// that the rebuilt issue has it too.
	factCreatedZero
)

// ctr is a transition, its statuses interned.
type ctr struct {
	at       int64
	from, to uint32
	zero     bool // At is the zero time
}

// csc is a Sprint field change, its lists interned.
type csc struct {
	at       int64
	from, to uint32
	zero     bool
}

// cpt is the current value of a story-point field.
type cpt struct {
	field uint32
	v     float64
}

// cpc is a story-point change.
type cpc struct {
	at           int64
	field        uint32
	from, to     float64
	fromOK, toOK bool
	zero         bool
}

// view is an issue's encoded part, decoded. A computation that needs it
// decodes it into a view of its own (reads never share one), reusing
// the view's slices from one issue to the next.
type view struct {
	done, wip []stretch

	updated      int64
	updatedZero  bool
	hasResolved  bool
	resolvedZero bool
	resolved     int64

	status  uint32
	sprints uint32 // int set
	labels  uint32 // label set
	trs     []ctr
	scs     []csc
	pts     []cpt
	pcs     []cpc
	summary string
}

func (v *view) reset() {
	*v = view{done: v.done[:0], wip: v.wip[:0], trs: v.trs[:0], scs: v.scs[:0], pts: v.pts[:0], pcs: v.pcs[:0]}
}

// encode appends the encoded part of an issue created at created.
func (v *view) encode(b []byte, created int64) []byte {
	b = appendSpans(b, v.done, created)
	b = appendSpans(b, v.wip, created)
	b = appendTime(b, v.updated, created, v.updatedZero)
	if v.hasResolved {
		b = append(b, 1)
		b = appendTime(b, v.resolved, created, v.resolvedZero)
	} else {
		b = append(b, 0)
	}
	b = appendUvarints(b, uint64(v.status), uint64(v.sprints), uint64(v.labels), uint64(len(v.trs)))
	prev := created
	for _, t := range v.trs {
		b = appendTime(b, t.at, prev, t.zero)
		prev = t.at
		b = appendUvarints(b, uint64(t.from), uint64(t.to))
	}
	b = appendUvarints(b, uint64(len(v.scs)))
	prev = created
	for _, c := range v.scs {
		b = appendTime(b, c.at, prev, c.zero)
		prev = c.at
		b = appendUvarints(b, uint64(c.from), uint64(c.to))
	}
	b = appendUvarints(b, uint64(len(v.pts)))
	for _, p := range v.pts {
		b = appendUvarints(b, uint64(p.field))
		b = appendFloat(b, p.v, true)
	}
	b = appendUvarints(b, uint64(len(v.pcs)))
	prev = created
	for _, c := range v.pcs {
		b = appendTime(b, c.at, prev, c.zero)
		prev = c.at
		b = appendUvarints(b, uint64(c.field))
		b = appendFloat(b, c.from, c.fromOK)
		b = appendFloat(b, c.to, c.toOK)
	}
	return appendString(b, v.summary)
}

func appendUvarints(b []byte, xs ...uint64) []byte {
	for _, x := range xs {
		for x >= 0x80 {
			b = append(b, byte(x)|0x80)
			x >>= 7
		}
		b = append(b, byte(x))
	}
	return b
}

// appendSpans appends stretches: each from as a difference from the
// previous one's (the first's from the creation), until from from, at
// from the creation.
func appendSpans(b []byte, ss []stretch, created int64) []byte {
	b = appendUvarints(b, uint64(len(ss)))
	prev := created
	for _, s := range ss {
		b = appendTime(b, s.from, prev, false)
		b = appendTime(b, s.until, s.from, false)
		b = appendTime(b, s.at, created, false)
		prev = s.from
	}
	return b
}

// readSpans reads what appendSpans wrote. It is the innermost loop of
// every computation over all issues, so it reads the bytes by position
// rather than through the reader's methods.
func readSpans(r *reader[[]byte], ss []stretch, created int64) []stretch {
	b, i := r.s, 0
	n, i, ok := uvarintAt(b, i)
	if !ok || n > uint64(len(b)) {
		r.fail(errShort)
		return ss
	}
	prev := created
	for range n {
		var from, until, at int64
		if from, i, ok = timeAt(b, i, prev); ok {
			if until, i, ok = timeAt(b, i, from); ok {
				at, i, ok = timeAt(b, i, created)
			}
		}
		if !ok {
			r.fail(errShort)
			return ss
		}
		ss = append(ss, stretch{from: from, until: until, at: at})
		prev = from
	}
	r.s = b[i:]
	return ss
}

// uvarintAt reads a uvarint at b[i:], returning the position after it.
func uvarintAt(b []byte, i int) (uint64, int, bool) {
	if i < len(b) && b[i] < 0x80 {
		return uint64(b[i]), i + 1, true
	}
	var x uint64
	var shift uint
	for k := 0; i < len(b) && k < binary.MaxVarintLen64; k++ {
		c := b[i]
		i++
		if c < 0x80 {
			if k == binary.MaxVarintLen64-1 && c > 1 {
				return 0, i, false
			}
			return x | uint64(c)<<shift, i, true
		}
		x |= uint64(c&0x7f) << shift
		shift += 7
	}
	return 0, i, false
}

// timeAt is reader.time at b[i:] (the stretches hold no zero time).
func timeAt(b []byte, i int, ref int64) (int64, int, bool) {
	u, i, ok := uvarintAt(b, i)
	switch {
	case !ok:
		return 0, i, false
	case u&1 == 0:
		return int64(uint64(ref) + uint64(unzigzag(u>>1)*1e6)), i, true
	case u == timeNanos:
		d, i, ok := uvarintAt(b, i)
		return int64(uint64(ref) + uint64(unzigzag(d))), i, ok
	case u == timeNever:
		return never, i, true
	}
	return 0, i, false
}

// spans decodes a fact's stretches only, into the view.
func (m *Model) spans(x *fact, v *view) {
	r := reader[[]byte]{s: m.arena.get(x.blob)}
	v.done = readSpans(&r, v.done[:0], x.created)
	v.wip = readSpans(&r, v.wip[:0], x.created)
	if r.err != nil {
		panic(fmt.Sprintf("jira: the model's encoding of an issue is corrupt: %v", r.err))
	}
}

// decode decodes all of a fact's encoded part into the view.
func (m *Model) decode(x *fact, v *view) {
	v.reset()
	r := reader[[]byte]{s: m.arena.get(x.blob)}
	created := x.created
	v.done = readSpans(&r, v.done, created)
	v.wip = readSpans(&r, v.wip, created)
	v.updated, v.updatedZero = r.time(created)
	if r.uvarint() == 1 {
		v.hasResolved = true
		v.resolved, v.resolvedZero = r.time(created)
	}
	v.status, v.sprints, v.labels = uint32(r.uvarint()), uint32(r.uvarint()), uint32(r.uvarint())
	prev := created
	for range r.count() {
		t, zero := r.time(prev)
		prev = t
		v.trs = append(v.trs, ctr{at: t, zero: zero, from: uint32(r.uvarint()), to: uint32(r.uvarint())})
	}
	prev = created
	for range r.count() {
		t, zero := r.time(prev)
		prev = t
		v.scs = append(v.scs, csc{at: t, zero: zero, from: uint32(r.uvarint()), to: uint32(r.uvarint())})
	}
	for range r.count() {
		f := uint32(r.uvarint())
		val, _ := r.float()
		v.pts = append(v.pts, cpt{field: f, v: val})
	}
	prev = created
	for range r.count() {
		t, zero := r.time(prev)
		prev = t
		c := cpc{at: t, zero: zero, field: uint32(r.uvarint())}
		c.from, c.fromOK = r.float()
		c.to, c.toOK = r.float()
		v.pcs = append(v.pcs, c)
	}
	v.summary = r.string()
	if r.err != nil {
		panic(fmt.Sprintf("jira: the model's encoding of an issue is corrupt: %v", r.err))
	}
}

// statusAt returns the status the issue had at t: the "from" of the
// first transition after t, else the current one.
func (v *view) statusAt(t int64) uint32 {
	for _, tr := range v.trs {
		if tr.at > t {
			return tr.from
		}
	}
	return v.status
}

// sprintsAt returns the Sprint field value at t.
func (v *view) sprintsAt(t int64) uint32 {
	for _, c := range v.scs {
		if c.at > t {
			return c.from
		}
	}
	return v.sprints
}

// pointsAt returns the value of a story-point field at t.
func (v *view) pointsAt(field uint32, t int64) (float64, bool) {
	for _, c := range v.pcs {
		if c.field == field && c.at > t {
			return c.from, c.fromOK
		}
	}
	for _, p := range v.pts {
		if p.field == field {
			return p.v, true
		}
	}
	return 0, false
}

// mentionedFrom returns the earliest instant t at which the issue as it
// stood at t mentions the sprint: its Sprint field at t, or a change of
// it up to t, names the sprint. Once the issue mentions a sprint it does
// at every later instant (the change that removes it names it too).
// math.MinInt64 means at every instant, never at none.
func (v *view) mentionedFrom(sets *intSets, id int) int64 {
	ch := v.scs
	if len(ch) == 0 {
		if sets.has(v.sprints, id) {
			return math.MinInt64
		}
		return never
	}
	if sets.has(ch[0].from, id) {
		return math.MinInt64
	}
	for k, c := range ch {
		// From this change until the next one the field holds the next
		// change's "from" (or the current value after the last change).
		next := v.sprints
		if k+1 < len(ch) {
			next = ch[k+1].from
		}
		if sets.has(c.from, id) || sets.has(c.to, id) || sets.has(next, id) {
			return c.at
		}
	}
	return never
}

// put turns an issue into its fact and encoding, interning what it
// names, and stores them at position i (a new issue when i is the
// number of issues).
func (m *Model) put(i int, is *Issue) {
	v := &m.wv
	v.reset()
	created, createdZero := timeOf(is.Created)
	x := fact{created: created}
	if createdZero {
		x.flags |= factCreatedZero
	}
	if is.Subtask {
		x.flags |= factSubtask
	}
	if is.Outside {
		x.flags |= factOutside
	}
	x.proj = m.projects.intern(is.Project)
	if int(x.proj) == len(m.projUpper) {
		m.projUpper = append(m.projUpper, m.upper.intern(strings.ToUpper(is.Project)))
	}
	x.typ = m.types.intern(is.Type)
	if int(x.typ) == len(m.typeLower) {
		m.typeLower = append(m.typeLower, m.lower.intern(strings.ToLower(is.Type)))
	}
	x.boards = m.sets.intern(is.Boards)
	x.comps = m.comps.intern(is.Components)
	x.parent = m.refs.intern(is.Parent)
	x.epic = m.refs.intern(is.Epic)

	v.updated, v.updatedZero = timeOf(is.Updated)
	if is.Resolved != nil {
		v.hasResolved = true
		v.resolved, v.resolvedZero = timeOf(*is.Resolved)
	}
	// An issue names the same few statuses and sprint lists again and
	// again (a change's "to" is the next one's "from"): each is looked up
	// in the tables once.
	var seenStatus [8]struct {
		s  Status
		id uint32
	}
	nStatus := 0
	status := func(s Status) uint32 {
		for _, e := range seenStatus[:nStatus] {
			if e.s == s {
				return e.id
			}
		}
		id := m.statuses.intern(s, m.cats)
		if nStatus < len(seenStatus) {
			seenStatus[nStatus].s, seenStatus[nStatus].id = s, id
			nStatus++
		}
		return id
	}
	var seenList [8]struct {
		l  []int
		id uint32
	}
	nList := 0
	list := func(l []int) uint32 {
		for _, e := range seenList[:nList] {
			if slices.Equal(e.l, l) {
				return e.id
			}
		}
		id := m.sets.intern(l)
		if nList < len(seenList) {
			seenList[nList].l, seenList[nList].id = l, id
			nList++
		}
		return id
	}
	v.status = status(is.Status)
	for _, tr := range is.Transitions {
		t, zero := timeOf(tr.At)
		v.trs = append(v.trs, ctr{at: t, zero: zero, from: status(tr.From), to: status(tr.To)})
	}
	v.sprints = list(is.Sprints)
	mentions := append(m.ibuf[:0], is.Sprints...)
	for _, c := range is.SprintChanges {
		t, zero := timeOf(c.At)
		v.scs = append(v.scs, csc{at: t, zero: zero, from: list(c.From), to: list(c.To)})
		mentions = append(append(mentions, c.From...), c.To...)
	}
	slices.Sort(mentions)
	mentions = slices.Compact(mentions)
	x.mentions = list(mentions)
	m.ibuf = mentions
	if len(is.Points) == 1 {
		for f, p := range is.Points {
			v.pts = append(v.pts, cpt{field: m.fields.intern(f), v: p})
		}
	} else if len(is.Points) > 1 {
		fields := make([]string, 0, len(is.Points))
		for f := range is.Points {
			fields = append(fields, f)
		}
		sort.Strings(fields)
		for _, f := range fields {
			v.pts = append(v.pts, cpt{field: m.fields.intern(f), v: is.Points[f]})
		}
	}
	for _, c := range is.PointChanges {
		t, zero := timeOf(c.At)
		p := cpc{at: t, zero: zero, field: m.fields.intern(c.Field)}
		if c.From != nil {
			p.from, p.fromOK = *c.From, true
		}
		if c.To != nil {
			p.to, p.toOK = *c.To, true
		}
		v.pcs = append(v.pcs, p)
	}
	v.labels = m.labels.intern(is.Labels)
	v.summary = is.Summary
	m.commit(i, &x, v)
}

// commit completes an issue's fact and encoding from what put (or
// PutRecord) filled in, and stores them at position i.
func (m *Model) commit(i int, x *fact, v *view) {
	// The timeline, from the effective categories of the statuses.
	codes := m.statuses.codes
	m.cbuf = m.cbuf[:0]
	for _, tr := range v.trs {
		m.cbuf = append(m.cbuf, catTr{at: tr.at, from: codes[tr.from], to: codes[tr.to]})
	}
	resolved := int64(never)
	if v.hasResolved {
		resolved = v.resolved
	}
	tl := deriveTimeline(x.created, resolved, codes[v.status], m.cbuf, v.done[:0], v.wip[:0])
	x.start = tl.start
	v.done, v.wip = tl.done, tl.wip

	m.enc = v.encode(m.enc[:0], x.created)
	if i == len(m.facts) {
		x.blob = m.arena.put(m.enc)
		m.facts = append(m.facts, *x)
		return
	}
	m.arena.free(m.facts[i].blob)
	x.blob = m.arena.put(m.enc)
	m.facts[i] = *x
	if m.arena.wasteful() {
		m.compact()
	}
}

// compact moves the live encodings into a new arena, leaving behind the
// space of those that issues replaced since.
func (m *Model) compact() {
	old := m.arena
	m.arena = arena{}
	for i := range m.facts {
		x := &m.facts[i]
		x.blob = m.arena.put(old.get(x.blob))
	}
}

// issue rebuilds the issue at position i.
func (m *Model) issue(i int) *Issue {
	x := &m.facts[i]
	var v view
	m.decode(x, &v)
	is := &Issue{
		Key:     m.keys.key(i),
		Project: m.projects.strs[x.proj],
		Type:    m.types.strs[x.typ],
		Subtask: x.flags&factSubtask != 0,
		Outside: x.flags&factOutside != 0,
		Summary: strings.Clone(v.summary),
		Created: toTime(x.created, x.flags&factCreatedZero != 0),
		Updated: toTime(v.updated, v.updatedZero),
		Status:  m.statuses.list[v.status],
		Sprints: slices.Clone(m.sets.sets[v.sprints]),
		Parent:  m.refs.strs[x.parent],
		Epic:    m.refs.strs[x.epic],
		Labels:  slices.Clone(m.labels.sets[v.labels]),
		Boards:  slices.Clone(m.sets.sets[x.boards]),
	}
	if c := m.comps.sets[x.comps]; len(c) > 0 {
		is.Components = slices.Clone(c)
	}
	if v.hasResolved {
		t := toTime(v.resolved, v.resolvedZero)
		is.Resolved = &t
	}
	if len(v.trs) > 0 {
		is.Transitions = make([]Transition, len(v.trs))
		for k, tr := range v.trs {
			is.Transitions[k] = Transition{At: toTime(tr.at, tr.zero), From: m.statuses.list[tr.from], To: m.statuses.list[tr.to]}
		}
	}
	if len(v.scs) > 0 {
		is.SprintChanges = make([]SprintChange, len(v.scs))
		for k, c := range v.scs {
			is.SprintChanges[k] = SprintChange{At: toTime(c.at, c.zero), From: slices.Clone(m.sets.sets[c.from]), To: slices.Clone(m.sets.sets[c.to])}
		}
	}
	if len(v.pts) > 0 {
		is.Points = make(map[string]float64, len(v.pts))
		for _, p := range v.pts {
			is.Points[m.fields.strs[p.field]] = p.v
		}
	}
	if len(v.pcs) > 0 {
		is.PointChanges = make([]PointChange, len(v.pcs))
		for k, c := range v.pcs {
			is.PointChanges[k] = PointChange{At: toTime(c.at, c.zero), Field: m.fields.strs[c.field], From: optional(c.from, c.fromOK), To: optional(c.to, c.toOK)}
		}
	}
	return is
}
