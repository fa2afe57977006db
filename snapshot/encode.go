package snapshot

import (
	"bytes"
	"context"
	"io"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// The exposition of a snapshot is not encoded as one piece. Each objective's
// lines are encoded once, family by family, and the objectives are split
// into blocks of consecutive objectives, each of which compresses, once,
// the lines each family has for its objectives as a gzip member. The
// exposition is the families in order, each its header followed by its
// lines in the order of the objectives: the same bytes as AppendText. A
// snapshot derived from another (With) shares the blocks whose objectives
// did not change, with everything they have encoded, and a block it
// rebuilds keeps the text of the objectives that did not change, so an
// update encodes only the objectives it evaluated again and compresses
// only their blocks. A gzipped exposition is a sequence of gzip members,
// which RFC 1952 allows and every gzip reader decodes as one stream.

// blockWeight is the size a block reaches before the next one starts, in
// key results, an objective counting as one more. The smaller it is, the
// less an update compresses again; the larger, the better each member
// compresses. 10,000 key results in objectives of 10 make 43 blocks of
// about 380 KB of text; an update compresses one in about 0.7 ms, and the
// gzipped exposition is 0.73 MB, against 0.61 MB for one gzip stream of
// the whole at the standard library's default level (at 128: 0.5 ms and
// 0.81 MB).
const blockWeight = 256

// A block is a run of consecutive objectives of a snapshot and their
// encodings. It is immutable once encoded and shared between the snapshots
// that hold the same objectives.
type block struct {
	objs []*Objective

	// mu makes each encoding happen once (single flight).
	mu       sync.Mutex
	textDone atomic.Bool
	gzipDone atomic.Bool
	// text[j][fi] is the text of family fi for objs[j], empty when the
	// family has no series for it. A block that replaces another (With)
	// starts with the text of the objectives the two share.
	text [][][]byte
	// family[fi] lists the non-empty text[j][fi] in order, and size[fi]
	// their length.
	family [][][]byte
	size   []int
	// gzip[fi] is family fi for every objective of the block, one gzip
	// member; empty when the family has no series for them.
	gzip [][]byte
}

// kind is an encoding held per block.
type kind int

const (
	kindText     kind = iota // text format 0.0.4
	kindTextGzip             // the same, one gzip member per block and family
	numKinds
)

func (bl *block) done(k kind) bool {
	if k == kindText {
		return bl.textDone.Load()
	}
	return bl.gzipDone.Load()
}

// encode encodes the block in k unless it has been already.
func (bl *block) encode(k kind) {
	if bl.done(k) {
		return
	}
	bl.mu.Lock()
	defer bl.mu.Unlock()
	bl.encodeLocked(k)
}

// tryEncode is encode unless another goroutine is encoding the block, in
// which case it returns false at once.
func (bl *block) tryEncode(k kind) bool {
	if bl.done(k) {
		return true
	}
	if !bl.mu.TryLock() {
		return false
	}
	defer bl.mu.Unlock()
	bl.encodeLocked(k)
	return true
}

func (bl *block) encodeLocked(k kind) {
	if bl.done(k) {
		return
	}
	if !bl.textDone.Load() {
		if bl.text == nil {
			bl.text = make([][][]byte, len(bl.objs))
		}
		for j, o := range bl.objs {
			if bl.text[j] == nil {
				bl.text[j] = textChunks(o)
				objectivesEncoded.Add(1)
			}
		}
		bl.family = make([][][]byte, len(families))
		bl.size = make([]int, len(families))
		for fi := range families {
			for _, t := range bl.text {
				if len(t[fi]) > 0 {
					bl.family[fi] = append(bl.family[fi], t[fi])
					bl.size[fi] += len(t[fi])
				}
			}
		}
		bl.textDone.Store(true)
	}
	if k == kindTextGzip {
		bl.gzip = gzipFamilies(bl.family, bl.size)
		blocksCompressed.Add(1)
		bl.gzipDone.Store(true)
	}
}

// encodedText returns the text the block holds for each of its objectives:
// all of it once encoded, and before that what it took over from the block
// it replaced (nil for the others), so that updates in a row that nothing
// encoded in between keep the text of the objectives they share. It is nil
// when the block is being encoded right now, which is not waited for.
func (bl *block) encodedText() [][][]byte {
	if bl.textDone.Load() {
		return bl.text
	}
	if !bl.mu.TryLock() {
		return nil
	}
	defer bl.mu.Unlock()
	// A later encoding fills in the block's own slice.
	return slices.Clone(bl.text)
}

// objectivesEncoded and blocksCompressed count the work done, for tests.
var objectivesEncoded, blocksCompressed atomic.Int64

// textBytesPerKeyResult remembers how much text a key result took last
// time, so the next objective is written into a buffer of the right size
// at once.
var textBytesPerKeyResult atomic.Int64

// textChunks encodes every family of one objective in the text format into
// one buffer and returns each family's part of it.
func textChunks(o *Objective) [][]byte {
	objs := []*Objective{o}
	n := len(o.KeyResults) + 1
	e := newTextEncoder(make([]byte, 0, int(textBytesPerKeyResult.Load())*n))
	ends := make([]int, len(families))
	for fi := range families {
		e.family(fi, objs)
		ends[fi] = len(e.b)
	}
	b := e.b
	textBytesPerKeyResult.Store(int64(len(b)/n + 1))
	out := make([][]byte, len(families))
	start := 0
	for fi, end := range ends {
		out[fi] = b[start:end:end]
		start = end
	}
	return out
}

// gzipLevel is the compression of the exposition: klauspost/compress's
// fastest level makes members within a tenth of the size of the standard
// library's default level, about five times faster, and half the time of
// its own default level, which is what each update pays for the blocks it
// touched.
const gzipLevel = gzip.BestSpeed

var gzipWriters = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(io.Discard, gzipLevel)
	return zw
}}

// appendGzip appends p compressed as one gzip member.
func appendGzip(dst *bytes.Buffer, p []byte) error {
	zw := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(zw)
	zw.Reset(dst)
	if _, err := zw.Write(p); err != nil {
		return err
	}
	return zw.Close()
}

// gzipFamilies compresses the text of each family, as one gzip member
// (none when there is no text).
func gzipFamilies(family [][][]byte, size []int) [][]byte {
	total := 0
	for _, n := range size {
		total += n
	}
	var buf bytes.Buffer
	buf.Grow(total/12 + 64*len(families))
	ends := make([]int, len(families))
	zw := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(zw)
	for fi, pieces := range family {
		if len(pieces) > 0 {
			// Writing into a bytes.Buffer does not fail.
			zw.Reset(&buf)
			for _, p := range pieces {
				_, _ = zw.Write(p)
			}
			_ = zw.Close()
		}
		ends[fi] = buf.Len()
	}
	b := buf.Bytes()
	out := make([][]byte, len(families))
	start := 0
	for fi, end := range ends {
		out[fi] = b[start:end:end]
		start = end
	}
	return out
}

// gzipHeaders holds each family's text header as a gzip member.
var gzipHeaders = func() [][]byte {
	out := make([][]byte, len(families))
	for fi, h := range textHeaders {
		var buf bytes.Buffer
		_ = appendGzip(&buf, h)
		out[fi] = buf.Bytes()
	}
	return out
}()

// split partitions objs into blocks of about blockWeight and returns them
// with the index of each block's first objective.
func split(objs []*Objective) (blocks []*block, starts []int) {
	w, start := 0, 0
	for i, o := range objs {
		w += 1 + len(o.KeyResults)
		if w >= blockWeight || i == len(objs)-1 {
			blocks = append(blocks, &block{objs: slices.Clone(objs[start : i+1])})
			starts = append(starts, start)
			start, w = i+1, 0
		}
	}
	return blocks, starts
}

// partition returns the snapshot's blocks, splitting its objectives on
// first use when the snapshot was not derived by With.
func (s *Snapshot) partition() []*block {
	s.parts.Do(func() {
		if s.blocks == nil {
			s.blocks, s.starts = split(s.Objectives)
		}
	})
	return s.blocks
}

// With returns the snapshot of generation gen evaluated at at that holds
// the objectives of s, with the one at index i replaced by changed[i]. It
// shares with s every block none of whose objectives changed, and what
// they have encoded; s is not modified. The objectives replaced must be
// the same objectives of the same configuration, evaluated again.
func (s *Snapshot) With(gen uint64, at time.Time, changed map[int]*Objective) *Snapshot {
	blocks := s.partition()
	n := &Snapshot{Generation: gen, EvaluatedAt: at, Objectives: slices.Clone(s.Objectives),
		blocks: slices.Clone(blocks), starts: s.starts}
	touched := map[int]bool{}
	for i, o := range changed {
		if i < 0 || i >= len(n.Objectives) {
			panic("snapshot: With: objective index out of range")
		}
		if n.Objectives[i] == o {
			continue
		}
		n.Objectives[i] = o
		touched[sort.SearchInts(s.starts, i+1)-1] = true
	}
	for bi := range touched {
		old := blocks[bi]
		lo := s.starts[bi]
		nb := &block{objs: slices.Clone(n.Objectives[lo : lo+len(old.objs)])}
		// The objectives that did not change keep their text.
		if text := old.encodedText(); text != nil {
			nb.text = make([][][]byte, len(nb.objs))
			for j, o := range nb.objs {
				if o == old.objs[j] {
					nb.text[j] = text[j]
				}
			}
		}
		n.blocks[bi] = nb
	}
	n.parts.Do(func() {})
	return n
}

// Exposition is an encoded exposition of a snapshot's okr_* series. It is
// held as the pieces it is made of, most of them shared with the
// expositions of other snapshots, and never modified.
type Exposition struct {
	// groups are lists of pieces, written in order.
	groups [][][]byte
	size   int
}

// Len is the size of the exposition in bytes.
func (e *Exposition) Len() int { return e.size }

// WriteTo writes the exposition to w.
func (e *Exposition) WriteTo(w io.Writer) (int64, error) {
	var n int64
	for _, g := range e.groups {
		for _, p := range g {
			m, err := w.Write(p)
			n += int64(m)
			if err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// Bytes returns the exposition as one new slice.
func (e *Exposition) Bytes() []byte {
	b := make([]byte, 0, e.size)
	for _, g := range e.groups {
		for _, p := range g {
			b = append(b, p...)
		}
	}
	return b
}

func oneExposition(b []byte) *Exposition {
	return &Exposition{groups: [][][]byte{{b}}, size: len(b)}
}

// expositionCache holds a snapshot's exposition in one kind.
type expositionCache struct {
	mu sync.Mutex
	e  atomic.Pointer[Exposition]
}

// Exposition returns the okr_* series of the snapshot encoded in format
// (without any OpenMetrics "# EOF" trailer, so it can follow other
// families), gzip-compressed when gz is true. Each is computed once per
// snapshot, however many scrapes ask for it at once. In the text format
// (what Prometheus asks for) it reuses what the blocks shared with earlier
// snapshots encoded, and concurrent callers encode different blocks in
// parallel; other formats (protobuf) go through client_golang's encoder,
// slower, but only asked for by clients that insist on them.
func (s *Snapshot) Exposition(format expfmt.Format, gz bool) (*Exposition, error) {
	if format.FormatType() == expfmt.TypeTextPlain {
		// Every okr_* name and label is valid under every escaping scheme,
		// so all text variants share one encoding.
		k := kindText
		if gz {
			k = kindTextGzip
		}
		return s.exposition(k), nil
	}
	return s.otherExposition(format, gz)
}

// exposition returns the exposition in k, encoding the blocks that are not
// encoded yet.
func (s *Snapshot) exposition(k kind) *Exposition {
	c := &s.exps[k]
	if e := c.e.Load(); e != nil {
		return e
	}
	blocks := s.partition()
	// Blocks that another scrape or the warmer is encoding are left for
	// last, so that each goroutine works on a different block meanwhile.
	var busy []*block
	for _, bl := range blocks {
		if !bl.tryEncode(k) {
			busy = append(busy, bl)
		}
	}
	for _, bl := range busy {
		bl.encode(k)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.e.Load(); e != nil {
		return e
	}
	e := assemble(blocks, k)
	c.e.Store(e)
	return e
}

// assemble lists the pieces of an exposition in kind k from encoded blocks.
func assemble(blocks []*block, k kind) *Exposition {
	e := &Exposition{groups: make([][][]byte, 0, len(families)*(len(blocks)+1))}
	for fi := range families {
		header := len(e.groups)
		size := e.size
		if k == kindText {
			e.groups = append(e.groups, textHeaders[fi:fi+1])
			e.size += len(textHeaders[fi])
			for _, bl := range blocks {
				if len(bl.family[fi]) > 0 {
					e.groups = append(e.groups, bl.family[fi])
					e.size += bl.size[fi]
				}
			}
		} else {
			e.groups = append(e.groups, gzipHeaders[fi:fi+1])
			e.size += len(gzipHeaders[fi])
			for _, bl := range blocks {
				if len(bl.gzip[fi]) > 0 {
					e.groups = append(e.groups, bl.gzip[fi:fi+1])
					e.size += len(bl.gzip[fi])
				}
			}
		}
		if len(e.groups) == header+1 {
			// A family without series is left out, header included.
			e.groups, e.size = e.groups[:header], size
		}
	}
	return e
}

// Warm encodes the snapshot in the text format, plain and gzipped (what
// Prometheus and most scrapers ask for), so that no scrape pays for it.
// Blocks shared with an earlier snapshot that was warmed are encoded
// already. Warm gives up between two blocks once ctx is done, when a newer
// snapshot has replaced this one: the blocks it encoded stay with the
// snapshots that share them, the rest of the work is never done. It
// reports whether it finished.
func (s *Snapshot) Warm(ctx context.Context) bool {
	for _, bl := range s.partition() {
		if ctx.Err() != nil {
			return false
		}
		bl.encode(kindTextGzip)
	}
	if ctx.Err() != nil {
		return false
	}
	s.exposition(kindText)
	s.exposition(kindTextGzip)
	return true
}

// otherExposition encodes the snapshot with client_golang, once per format.
func (s *Snapshot) otherExposition(format expfmt.Format, gz bool) (*Exposition, error) {
	key := string(format)
	if gz {
		key += ";gzip"
	}
	s.other.mu.Lock()
	defer s.other.mu.Unlock()
	if e, ok := s.other.m[key]; ok {
		return e, nil
	}
	if s.other.m == nil {
		s.other.m = map[string]*Exposition{}
	}
	plain, ok := s.other.m[string(format)]
	if !ok {
		reg := prometheus.NewPedanticRegistry()
		if err := reg.Register(Collector{Snapshot: s}); err != nil {
			return nil, err
		}
		mfs, err := reg.Gather()
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		enc := expfmt.NewEncoder(&buf, format)
		for _, mf := range mfs {
			if err := enc.Encode(mf); err != nil {
				return nil, err
			}
		}
		plain = oneExposition(buf.Bytes())
		s.other.m[string(format)] = plain
	}
	if !gz {
		return plain, nil
	}
	var buf bytes.Buffer
	if err := appendGzip(&buf, plain.Bytes()); err != nil {
		return nil, err
	}
	e := oneExposition(buf.Bytes())
	s.other.m[key] = e
	return e, nil
}
