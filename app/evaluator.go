package app

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/okr"
	"github.com/okrd/okrd/report/format"
	"github.com/okrd/okrd/snapshot"
	"github.com/okrd/okrd/store"
)

type krKey struct{ objective, keyResult string }

// history keeps every key result's values in memory, sorted by time, and
// follows the store incrementally (by value ID), so an evaluation costs no
// database query beyond reading the values added since the previous one.
// Values written by another process (okrd checkin, a second okrd on the
// same PostgreSQL) are picked up the same way. A key result whose filled-in
// history was replaced (store.Tx.DeleteValues) is read again whole by
// reset, since tailing by ID cannot see a deletion.
type history struct {
	st store.Store

	mu     sync.Mutex
	lastID int64
	points map[krKey][]okr.Point
	// filled marks, in step with points, the values filled in from a
	// source's records (origin history:SOURCE) rather than measured live
	// or checked in; a key result with no filled-in value has no entry.
	filled map[krKey][]bool
	// floor holds, for a key result read again by reset, the largest ID
	// that read saw: refresh skips its values up to that ID, which the
	// reset already holds.
	floor map[krKey]int64
}

func newHistory(st store.Store) *history {
	return &history{st: st, points: map[krKey][]okr.Point{}, filled: map[krKey][]bool{}, floor: map[krKey]int64{}}
}

// filledOrigin is the origin prefix of values filled in from records,
// the one the page, the API and the report recognise.
const filledOrigin = format.OriginFilled

func isFilled(origin string) bool { return strings.HasPrefix(origin, filledOrigin) }

// refresh reads the values added since the last refresh.
func (h *history) refresh(ctx context.Context) error {
	const batch = 10000
	h.mu.Lock()
	defer h.mu.Unlock()
	for {
		vals, err := h.st.ValuesAfter(ctx, h.lastID, batch)
		if err != nil {
			return fmt.Errorf("reading key result history: %w", err)
		}
		for _, v := range vals {
			h.lastID = v.ID
			k := krKey{v.ObjectiveID, v.KeyResultID}
			if f, ok := h.floor[k]; ok {
				if v.ID <= f {
					continue
				}
				delete(h.floor, k)
			}
			h.insert(k, okr.Point{At: v.At, Value: v.Value}, isFilled(v.Origin))
		}
		if len(vals) < batch {
			return nil
		}
	}
}

// insert adds one value to a key result's series; h.mu is held.
func (h *history) insert(k krKey, p okr.Point, filled bool) {
	pts := h.points[k]
	marks, marked := h.filled[k]
	if filled && !marked {
		marks = make([]bool, len(pts), cap(pts))
		marked = true
	}
	i := len(pts)
	if i > 0 && p.At.Before(pts[i-1].At) {
		i = sort.Search(len(pts), func(j int) bool { return pts[j].At.After(p.At) })
	}
	h.points[k] = slices.Insert(pts, i, p)
	if marked {
		h.filled[k] = slices.Insert(marks, i, filled)
	}
}

// reset reads one key result's values again from the store, after its
// filled-in values were replaced.
func (h *history) reset(ctx context.Context, k krKey) error {
	// The read happens under the lock: a refresh in between could
	// otherwise add to the old series a value this read does not see.
	h.mu.Lock()
	defer h.mu.Unlock()
	vals, err := h.st.History(ctx, k.objective, k.keyResult, time.Time{}, time.Time{})
	if err != nil {
		return fmt.Errorf("reading the history of %s/%s: %w", k.objective, k.keyResult, err)
	}
	delete(h.points, k)
	delete(h.filled, k)
	var maxID int64
	for _, v := range vals {
		h.insert(k, okr.Point{At: v.At, Value: v.Value}, isFilled(v.Origin))
		maxID = max(maxID, v.ID)
	}
	if maxID > h.lastID {
		h.floor[k] = maxID
	} else {
		delete(h.floor, k)
	}
	return nil
}

// hasLivePointAt reports whether a key result has a value that is not filled
// in at exactly t (a live measurement or a check-in), where a filled-in
// value must not be added.
func (h *history) hasLivePointAt(k krKey, t time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	pts := h.points[k]
	marks := h.filled[k]
	i := sort.Search(len(pts), func(j int) bool { return !pts[j].At.Before(t) })
	for ; i < len(pts) && pts[i].At.Equal(t); i++ {
		if marks == nil || !marks[i] {
			return true
		}
	}
	return false
}

// latest returns the newest value of a key result at or before t.
func (h *history) latest(k krKey) (okr.Point, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	pts := h.points[k]
	if len(pts) == 0 {
		return okr.Point{}, false
	}
	return pts[len(pts)-1], true
}

// evaluate evaluates every key result of cfg at now into a snapshot.
func (h *history) evaluate(cfg *config.Config, now time.Time, gen uint64) *snapshot.Snapshot {
	h.mu.Lock()
	defer h.mu.Unlock()
	snap := &snapshot.Snapshot{Generation: gen, EvaluatedAt: now, Objectives: make([]*snapshot.Objective, 0, len(cfg.Objectives))}
	for _, oc := range cfg.Objectives {
		o := &snapshot.Objective{Config: oc, KeyResults: make([]*snapshot.KeyResult, 0, len(oc.KeyResults))}
		engines := make([]okr.KeyResult, 0, len(oc.KeyResults))
		results := make([]okr.Result, 0, len(oc.KeyResults))
		for _, kc := range oc.KeyResults {
			pts := h.points[krKey{oc.ID, kc.ID}]
			r := okr.Evaluate(kc.Engine, oc.Resolved, pts, now)
			kr := &snapshot.KeyResult{Objective: oc, Config: kc, Result: r, Points: countInPeriod(pts, oc.Resolved, now)}
			if r.HasValue && kc.StaleAfter > 0 && now.Sub(r.ValueAt) > time.Duration(kc.StaleAfter) {
				// A stale value is shown but not trusted: the status says
				// that the data is missing rather than judging old numbers.
				kr.Stale = true
				kr.Result.Status = okr.StatusNoData
			}
			o.KeyResults = append(o.KeyResults, kr)
			engines = append(engines, kc.Engine)
			results = append(results, kr.Result)
		}
		o.Result = okr.EvaluateObjective(engines, results)
		snap.Objectives = append(snap.Objectives, o)
	}
	return snap
}

func countInPeriod(pts []okr.Point, p okr.Period, now time.Time) int {
	end := p.End
	if now.Before(end) {
		end = now
	}
	lo := sort.Search(len(pts), func(i int) bool { return !pts[i].At.Before(p.Start) })
	hi := sort.Search(len(pts), func(i int) bool { return pts[i].At.After(end) })
	if hi < lo {
		return 0
	}
	return hi - lo
}
