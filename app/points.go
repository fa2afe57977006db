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
	h := a.hist
	h.mu.Lock()
	defer h.mu.Unlock()
	pts := h.points[krKey{objectiveID, keyResultID}]
	lo := sort.Search(len(pts), func(i int) bool { return !pts[i].At.Before(from) })
	hi := sort.Search(len(pts), func(i int) bool { return pts[i].At.After(to) })
	if hi <= lo {
		return nil
	}
	return append([]okr.Point(nil), pts[lo:hi]...)
}
