package app

import (
	"sort"
	"time"

	"github.com/okrd/okrd/okr"
)

// Points returns a copy of a key result's in-memory history with
// from <= At <= to, oldest first. The web page draws its sparklines from it
// instead of querying the store once per key result. It copies because the
// history's slices change in place when a value arrives out of order.
func (a *App) Points(objectiveID, keyResultID string, from, to time.Time) []okr.Point {
	pts, _ := a.PointsFilled(objectiveID, keyResultID, from, to)
	return pts
}

// PointsFilled is Points with, for each point, whether it was filled in
// from a source's records (docs/history.md) rather than measured live or
// checked in; filled is nil when none of them was.
func (a *App) PointsFilled(objectiveID, keyResultID string, from, to time.Time) (pts []okr.Point, filled []bool) {
	h := a.hist
	h.mu.Lock()
	defer h.mu.Unlock()
	k := krKey{objectiveID, keyResultID}
	all := h.points[k]
	lo := sort.Search(len(all), func(i int) bool { return !all[i].At.Before(from) })
	hi := sort.Search(len(all), func(i int) bool { return all[i].At.After(to) })
	if hi <= lo {
		return nil, nil
	}
	pts = append([]okr.Point(nil), all[lo:hi]...)
	if marks := h.filled[k]; marks != nil {
		for _, m := range marks[lo:hi] {
			if m {
				filled = append([]bool(nil), marks[lo:hi]...)
				break
			}
		}
	}
	return pts, filled
}
