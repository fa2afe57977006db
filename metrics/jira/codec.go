package jira

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"
)

// This file holds the compact binary encoding of an issue: the record
// format the Jira source stores (Issue.AppendBinary, UnmarshalBinary),
// and the primitives the model also uses for what it keeps of an issue
// (see compact.go). Numbers are varints; a time is the difference from a
// nearby one (the creation, or the previous entry of a history), in
// milliseconds when it is a whole number of them, as Jira's times are;
// strings are a length and bytes.

// RecordVersion is the first byte of a binary issue record of the latest
// format. A record written as JSON (before okrd stored issues in binary)
// begins with '{', so the first byte tells the formats apart; a later
// format takes the next version. Version 2 adds the components at the
// end; an issue without components is still written in version 1
// (RecordVersion1), byte for byte as before, and both are read.
const RecordVersion byte = 2

// RecordVersion1 is the first byte of a record of the first format: the
// format of an issue without components.
const RecordVersion1 byte = 1

// IsRecord reports whether data is a binary issue record of a version
// this okrd reads.
func IsRecord(data []byte) bool {
	return len(data) > 0 && (data[0] == RecordVersion1 || data[0] == RecordVersion)
}

// Time codes (appendTime): an even code is a difference in whole
// milliseconds; the odd ones stand for a difference in nanoseconds
// (which follows), for the instant that never comes, and for the zero
// time.Time.
const (
	timeNanos uint64 = 1
	timeNever uint64 = 3
	timeZero  uint64 = 5
)

// zeroNanos is the model time of the zero time.Time (see nanos).
var zeroNanos = nanos(time.Time{})

func zigzag(v int64) uint64   { return uint64(v<<1) ^ uint64(v>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

// appendTime appends t (model time, or never) as a difference from ref.
// zero says t is the zero time.Time, which the decoder gives back as such.
// Differences wrap around, so every pair of int64 round-trips.
func appendTime(b []byte, t, ref int64, zero bool) []byte {
	switch {
	case zero:
		return binary.AppendUvarint(b, timeZero)
	case t == never:
		return binary.AppendUvarint(b, timeNever)
	}
	d := int64(uint64(t) - uint64(ref))
	if d%1e6 == 0 {
		return binary.AppendUvarint(b, zigzag(d/1e6)<<1)
	}
	b = binary.AppendUvarint(b, timeNanos)
	return binary.AppendUvarint(b, zigzag(d))
}

// appendFloat appends an optional float64: an integer (most estimates)
// in a byte or two, anything else in its eight bytes.
func appendFloat(b []byte, v float64, ok bool) []byte {
	switch {
	case !ok:
		return binary.AppendUvarint(b, floatNone)
	case v == math.Trunc(v) && math.Abs(v) < 1<<53 && !(v == 0 && math.Signbit(v)):
		return binary.AppendUvarint(b, zigzag(int64(v))<<2)
	}
	b = binary.AppendUvarint(b, floatBits)
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
}

const (
	floatBits uint64 = 1
	floatNone uint64 = 2
)

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendInts(b []byte, xs []int) []byte {
	b = binary.AppendUvarint(b, uint64(len(xs)))
	for _, x := range xs {
		b = binary.AppendVarint(b, int64(x))
	}
	return b
}

// errShort is the error of data that ends in the middle of a value.
var errShort = errors.New("truncated")

// reader reads what the append functions wrote, from bytes (the model's
// encodings) or from a string (a record, copied once, whose strings are
// then parts of that copy). The first error sticks: every later read
// returns zero values, and err says what went wrong.
type reader[T string | []byte] struct {
	s   T
	err error
}

func (r *reader[T]) fail(err error) {
	if r.err == nil {
		r.err = err
	}
	r.s = r.s[:0]
}

func (r *reader[T]) uvarint() uint64 {
	if len(r.s) > 0 && r.s[0] < 0x80 {
		v := uint64(r.s[0])
		r.s = r.s[1:]
		return v
	}
	var x uint64
	var shift uint
	for i := 0; i < len(r.s) && i < binary.MaxVarintLen64; i++ {
		c := r.s[i]
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				break
			}
			r.s = r.s[i+1:]
			return x | uint64(c)<<shift
		}
		x |= uint64(c&0x7f) << shift
		shift += 7
	}
	r.fail(errShort)
	return 0
}

func (r *reader[T]) varint() int64 { return unzigzag(r.uvarint()) }

// count reads a number of entries, each at least one byte long, so that
// a corrupt count cannot make a decoder allocate more than the data.
func (r *reader[T]) count() int {
	n := r.uvarint()
	if n > uint64(len(r.s)) {
		r.fail(fmt.Errorf("%w: a count of %d entries in %d bytes", errShort, n, len(r.s)))
		return 0
	}
	return int(n)
}

// time reads a time written by appendTime against ref; zero reports the
// zero time.Time (whose model time is zeroNanos).
func (r *reader[T]) time(ref int64) (t int64, zero bool) {
	u := r.uvarint()
	if u&1 == 0 {
		return int64(uint64(ref) + uint64(unzigzag(u>>1)*1e6)), false
	}
	switch u {
	case timeNanos:
		return int64(uint64(ref) + uint64(unzigzag(r.uvarint()))), false
	case timeNever:
		return never, false
	case timeZero:
		return zeroNanos, true
	}
	r.fail(fmt.Errorf("unknown time code %d", u))
	return 0, false
}

func (r *reader[T]) float() (float64, bool) {
	u := r.uvarint()
	switch {
	case u&3 == 0:
		return float64(unzigzag(u >> 2)), true
	case u == floatNone:
		return 0, false
	case u == floatBits:
		if len(r.s) < 8 {
			r.fail(errShort)
			return 0, false
		}
		var bits uint64
		for i := range 8 {
			bits |= uint64(r.s[i]) << (8 * i)
		}
		v := math.Float64frombits(bits)
		r.s = r.s[8:]
		return v, true
	}
	r.fail(fmt.Errorf("unknown number code %d", u))
	return 0, false
}

// bytes reads a string's bytes, without copying them.
func (r *reader[T]) bytes() T {
	n := r.uvarint()
	if n > uint64(len(r.s)) {
		r.fail(errShort)
		return r.s[:0]
	}
	b := r.s[:n]
	r.s = r.s[n:]
	return b
}

// intsInto reads a list of integers, appending them to dst, and returns
// its encoding as well.
func (r *reader[T]) intsInto(dst []int) ([]int, T) {
	start := r.s
	for range r.count() {
		dst = append(dst, int(r.varint()))
	}
	return dst, start[:len(start)-len(r.s)]
}

func (r *reader[T]) string() string {
	n := r.uvarint()
	if n > uint64(len(r.s)) {
		r.fail(errShort)
		return ""
	}
	s := string(r.s[:n])
	r.s = r.s[n:]
	return s
}

func (r *reader[T]) ints() []int {
	n := r.count()
	if n == 0 {
		return nil
	}
	out := make([]int, n)
	for i := range out {
		out[i] = int(r.varint())
	}
	return out
}

// Record flags.
const (
	recSubtask = 1 << iota
	recOutside
	recResolved
)

func timeOf(t time.Time) (int64, bool) { return nanos(t), t.IsZero() }

func toTime(ns int64, zero bool) time.Time {
	if zero {
		return time.Time{}
	}
	return fromNanos(ns)
}

// AppendBinary appends the issue's binary record (version RecordVersion)
// to b. It holds everything the JSON form holds, in about a quarter of
// the bytes: the statuses and story-point fields an issue names are
// listed once and referred to by position, times are differences from
// the previous one. Times come back in UTC, as the source stores them.
func (is *Issue) AppendBinary(b []byte) ([]byte, error) {
	version := RecordVersion1
	if len(is.Components) > 0 {
		version = RecordVersion
	}
	b = append(b, version)
	b = appendString(b, is.Key)
	b = appendString(b, is.Project)
	b = appendString(b, is.Type)
	var flags uint64
	if is.Subtask {
		flags |= recSubtask
	}
	if is.Outside {
		flags |= recOutside
	}
	if is.Resolved != nil {
		flags |= recResolved
	}
	b = binary.AppendUvarint(b, flags)
	b = appendString(b, is.Summary)
	created, zero := timeOf(is.Created)
	b = appendTime(b, created, 0, zero)
	t, zero := timeOf(is.Updated)
	b = appendTime(b, t, created, zero)
	if is.Resolved != nil {
		t, zero := timeOf(*is.Resolved)
		b = appendTime(b, t, created, zero)
	}

	// The statuses, each once, in the order they first appear.
	statuses := []Status{is.Status}
	index := func(s Status) int {
		if i := slices.Index(statuses, s); i >= 0 {
			return i
		}
		statuses = append(statuses, s)
		return len(statuses) - 1
	}
	trs := make([][2]int, len(is.Transitions))
	for i, tr := range is.Transitions {
		trs[i] = [2]int{index(tr.From), index(tr.To)}
	}
	b = binary.AppendUvarint(b, uint64(len(statuses)))
	for _, s := range statuses {
		b = appendString(b, s.ID)
		b = appendString(b, s.Name)
		b = appendString(b, s.Category)
	}
	b = binary.AppendUvarint(b, uint64(len(is.Transitions)))
	prev := created
	for i, tr := range is.Transitions {
		t, zero := timeOf(tr.At)
		b = appendTime(b, t, prev, zero)
		prev = t
		b = binary.AppendUvarint(b, uint64(trs[i][0]))
		b = binary.AppendUvarint(b, uint64(trs[i][1]))
	}

	b = appendInts(b, is.Sprints)
	b = binary.AppendUvarint(b, uint64(len(is.SprintChanges)))
	prev = created
	for _, c := range is.SprintChanges {
		t, zero := timeOf(c.At)
		b = appendTime(b, t, prev, zero)
		prev = t
		b = appendInts(b, c.From)
		b = appendInts(b, c.To)
	}

	// The story-point fields, each once: the current values' (sorted,
	// so that the same issue always gives the same bytes), then any
	// other a change names.
	fields := make([]string, 0, len(is.Points))
	for f := range is.Points {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	current := len(fields)
	for _, c := range is.PointChanges {
		if !slices.Contains(fields, c.Field) {
			fields = append(fields, c.Field)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(fields)))
	for _, f := range fields {
		b = appendString(b, f)
	}
	b = binary.AppendUvarint(b, uint64(current))
	for i, f := range fields[:current] {
		b = binary.AppendUvarint(b, uint64(i))
		b = appendFloat(b, is.Points[f], true)
	}
	b = binary.AppendUvarint(b, uint64(len(is.PointChanges)))
	prev = created
	for _, c := range is.PointChanges {
		t, zero := timeOf(c.At)
		b = appendTime(b, t, prev, zero)
		prev = t
		b = binary.AppendUvarint(b, uint64(slices.Index(fields, c.Field)))
		b = appendOptional(b, c.From)
		b = appendOptional(b, c.To)
	}

	b = appendString(b, is.Parent)
	b = appendString(b, is.Epic)
	b = binary.AppendUvarint(b, uint64(len(is.Labels)))
	for _, l := range is.Labels {
		b = appendString(b, l)
	}
	b = appendInts(b, is.Boards)
	if version == RecordVersion {
		b = binary.AppendUvarint(b, uint64(len(is.Components)))
		for _, c := range is.Components {
			b = appendString(b, c)
		}
	}
	return b, nil
}

// MarshalBinary returns the issue's binary record (see AppendBinary).
func (is *Issue) MarshalBinary() ([]byte, error) { return is.AppendBinary(make([]byte, 0, 256)) }

func appendOptional(b []byte, v *float64) []byte {
	if v == nil {
		return appendFloat(b, 0, false)
	}
	return appendFloat(b, *v, true)
}

// UnmarshalBinary reads a binary record written by AppendBinary into the
// issue, replacing all of it. Malformed data is an error, never a panic.
func (is *Issue) UnmarshalBinary(data []byte) error {
	*is = Issue{}
	if len(data) == 0 {
		return errors.New("empty issue record")
	}
	if !IsRecord(data) {
		return fmt.Errorf("issue record of unknown format %d", data[0])
	}
	// One copy of the record, of which every string is a part.
	r := &reader[string]{s: string(data[1:])}
	is.Key = r.string()
	is.Project = r.string()
	is.Type = r.string()
	flags := r.uvarint()
	is.Subtask = flags&recSubtask != 0
	is.Outside = flags&recOutside != 0
	is.Summary = r.string()
	created, zero := r.time(0)
	is.Created = toTime(created, zero)
	is.Updated = toTime(r.time(created))
	if flags&recResolved != 0 {
		t := toTime(r.time(created))
		is.Resolved = &t
	}

	statuses := make([]Status, r.count())
	for i := range statuses {
		statuses[i] = Status{ID: r.string(), Name: r.string(), Category: r.string()}
	}
	status := func() Status {
		i := r.uvarint()
		if i >= uint64(len(statuses)) {
			r.fail(fmt.Errorf("status %d of %d", i, len(statuses)))
			return Status{}
		}
		return statuses[i]
	}
	if len(statuses) == 0 {
		r.fail(errors.New("no status"))
	} else {
		is.Status = statuses[0]
	}
	if n := r.count(); n > 0 {
		is.Transitions = make([]Transition, n)
		prev := created
		for i := range is.Transitions {
			t, zero := r.time(prev)
			prev = t
			tr := &is.Transitions[i]
			tr.At = toTime(t, zero)
			tr.From = status()
			tr.To = status()
		}
	}

	is.Sprints = r.ints()
	if n := r.count(); n > 0 {
		is.SprintChanges = make([]SprintChange, n)
		prev := created
		for i := range is.SprintChanges {
			t, zero := r.time(prev)
			prev = t
			c := &is.SprintChanges[i]
			c.At = toTime(t, zero)
			c.From = r.ints()
			c.To = r.ints()
		}
	}

	fields := make([]string, r.count())
	for i := range fields {
		fields[i] = r.string()
	}
	field := func() string {
		i := r.uvarint()
		if i >= uint64(len(fields)) {
			r.fail(fmt.Errorf("story-point field %d of %d", i, len(fields)))
			return ""
		}
		return fields[i]
	}
	if n := r.count(); n > 0 {
		is.Points = make(map[string]float64, n)
		for range n {
			f := field()
			v, ok := r.float()
			if !ok && r.err == nil {
				r.fail(errors.New("a story-point value without a number"))
			}
			is.Points[f] = v
		}
	}
	if n := r.count(); n > 0 {
		is.PointChanges = make([]PointChange, n)
		prev := created
		for i := range is.PointChanges {
			t, zero := r.time(prev)
			prev = t
			c := &is.PointChanges[i]
			c.At = toTime(t, zero)
			c.Field = field()
			c.From = optional(r.float())
			c.To = optional(r.float())
		}
	}

	is.Parent = r.string()
	is.Epic = r.string()
	if n := r.count(); n > 0 {
		is.Labels = make([]string, n)
		for i := range is.Labels {
			is.Labels[i] = r.string()
		}
	}
	is.Boards = r.ints()
	if data[0] == RecordVersion {
		if n := r.count(); n > 0 {
			is.Components = make([]string, n)
			for i := range is.Components {
				is.Components[i] = r.string()
			}
		}
	}
	if r.err == nil && len(r.s) > 0 {
		r.fail(fmt.Errorf("%d bytes after the end", len(r.s)))
	}
	if r.err != nil {
		key := is.Key
		*is = Issue{}
		if key != "" {
			return fmt.Errorf("issue record %q: %w", key, r.err)
		}
		return fmt.Errorf("issue record: %w", r.err)
	}
	return nil
}

func optional(v float64, ok bool) *float64 {
	if !ok {
		return nil
	}
	return &v
}
