package demo

import (
	"fmt"
	"net/url"
	"testing"
	"time"
)

type apiHistory struct {
	Values []struct {
		At     time.Time `json:"at"`
		Value  float64   `json:"value"`
		Origin string    `json:"origin"`
	} `json:"values"`
}

// After the first poll, the two analytics key results have a value at the
// period's start and at every midnight (UTC, the demo's time zone) of the
// quarter so far: the warehouse's from its history_query, Plausible's from
// requests for the window that ended at each instant.
func TestDemoFillsInTheAnalyticsKeyResultsForTheQuarterSoFar(t *testing.T) {
	t.Parallel()
	before := time.Now()
	s := startDemo(t, nil)
	// okrd fills in up to its first poll, less the last 15 minutes (which
	// it leaves for a later fill): every grid instant up to before - 15m.
	horizon := before.Add(-15 * time.Minute)
	want := []time.Time{s.Period.Start}
	for d := s.Period.Start.Add(day); !d.After(horizon); d = d.Add(day) {
		want = append(want, d)
	}
	for _, kr := range []struct{ id, source string }{{"activation", "warehouse"}, {"conversion", "plausible"}} {
		t.Run(kr.id, func(t *testing.T) {
			u := s.URL + "/api/v1/objectives/checkout-conversion/key_results/" + kr.id + "/history?from=" +
				url.QueryEscape(s.Period.Start.Format(time.RFC3339))
			var h apiHistory
			deadline := time.Now().Add(60 * time.Second)
			for {
				h = apiHistory{}
				getJSON(t, u, &h)
				if missing := missingInstants(h, want, "history:"+kr.source); len(missing) == 0 {
					break
				} else if time.Now().After(deadline) {
					t.Fatalf("after 60s, no filled-in value at %d of %d instants, the first %v; history %+v", len(missing), len(want), missing[0], h.Values)
				}
				time.Sleep(100 * time.Millisecond)
			}
			at := map[time.Time]float64{}
			for _, v := range h.Values {
				at[v.At.UTC()] = v.Value
			}
			first, last := at[want[0].UTC()], at[want[len(want)-1].UTC()]
			t.Logf("%s: %d instants filled in, from %v at %s to %v at %s", kr.id, len(want), first, want[0].Format(time.DateOnly), last, want[len(want)-1].Format(time.DateOnly))
			// Both rose through the quarter, as designed.
			if len(want) > 7 && !(last > first) {
				t.Errorf("%s went from %v to %v over the quarter so far", kr.id, first, last)
			}
		})
	}
}

// missingInstants returns the instants of want at which h has no value
// of the given origin.
func missingInstants(h apiHistory, want []time.Time, origin string) []string {
	have := map[time.Time]bool{}
	for _, v := range h.Values {
		if v.Origin == origin {
			have[v.At.UTC()] = true
		}
	}
	var missing []string
	for _, w := range want {
		if !have[w.UTC()] {
			missing = append(missing, fmt.Sprint(w.Format(time.RFC3339)))
		}
	}
	return missing
}
