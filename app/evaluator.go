package app

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/okr"
	"github.com/okrd/okrd/snapshot"
	"github.com/okrd/okrd/store"
)

type krKey struct{ objective, keyResult string }

// history keeps every key result's values in memory, sorted by time, and
// follows the store incrementally (by value ID), so an evaluation costs no
// database query beyond reading the values added since the previous one.
// Values written by another process (okrd checkin, a second okrd on the
// same PostgreSQL) are picked up the same way.
type history struct {
	st store.Store

	mu     sync.Mutex
	lastID int64
	points map[krKey][]okr.Point
}

func newHistory(st store.Store) *history {
	return &history{st: st, points: map[krKey][]okr.Point{}}
}

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
			k := krKey{v.ObjectiveID, v.KeyResultID}
			h.points[k] = insertPoint(h.points[k], okr.Point{At: v.At, Value: v.Value})
			h.lastID = v.ID
		}
		if len(vals) < batch {
			return nil
		}
	}
}

// insertPoint adds p keeping pts sorted by time; values usually arrive in
// time order, so this is an append.
func insertPoint(pts []okr.Point, p okr.Point) []okr.Point {
	n := len(pts)
	if n == 0 || !p.At.Before(pts[n-1].At) {
		return append(pts, p)
	}
	i := sort.Search(n, func(i int) bool { return pts[i].At.After(p.At) })
	pts = append(pts, okr.Point{})
	copy(pts[i+1:], pts[i:])
	pts[i] = p
	return pts
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
