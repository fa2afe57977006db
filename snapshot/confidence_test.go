package snapshot

import (
	"testing"
	"time"

	"github.com/okrd/okrd/store"
)

func TestConfidenceAt(t *testing.T) {
	day := 24 * time.Hour
	t0 := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	given := func(kv ...int) []store.Confidence {
		var out []store.Confidence
		for i := 0; i+1 < len(kv); i += 2 {
			out = append(out, store.Confidence{At: t0.Add(time.Duration(kv[i]) * day), Value: kv[i+1]})
		}
		return out
	}
	for _, tc := range []struct {
		name                      string
		given                     []store.Confidence
		now                       time.Duration
		nilWant                   bool
		value, previous, weekHigh int
	}{
		{name: "none yet", given: given(5, 8), now: 4 * day, nilWant: true},
		{name: "only one", given: given(0, 8), now: 3 * day, value: 8, weekHigh: 8},
		// 9 on day 0, 5 on day 3: evaluated on day 5, 9 was in effect
		// during the week.
		{name: "drop within the week", given: given(0, 9, 3, 5), now: 5 * day, value: 5, previous: 9, weekHigh: 9},
		// 4 given at day 7 exactly is the one in effect a week before day
		// 14: 9 no longer counts.
		{name: "replaced a week ago", given: given(0, 9, 7, 4), now: 14 * day, value: 4, previous: 9, weekHigh: 4},
		// 4 given an hour after day 7: 9 was in effect a week before day
		// 14 and counts; an hour later it no longer does.
		{name: "in effect a week ago", given: append(given(0, 9), store.Confidence{At: t0.Add(7*day + time.Hour), Value: 4}),
			now: 14 * day, value: 4, previous: 9, weekHigh: 9},
		{name: "a week and an hour ago", given: append(given(0, 9), store.Confidence{At: t0.Add(7*day + time.Hour), Value: 4}),
			now: 14*day + time.Hour, value: 4, previous: 9, weekHigh: 4},
		// The current confidence was given before the week began: the one
		// before it was not in effect in the week, whatever its value.
		{name: "unchanged for over a week", given: given(0, 9, 2, 4), now: 20 * day, value: 4, previous: 9, weekHigh: 4},
		// 10 on day 0, 6 on day 5, 8 on day 10, 3 on day 12; on day 14
		// the one in effect a week before (day 7) is 6, then 8 and 3.
		{name: "several in the week", given: given(0, 10, 5, 6, 10, 8, 12, 3), now: 14 * day, value: 3, previous: 8, weekHigh: 8},
		// A confidence given after now is not in effect yet.
		{name: "future one ignored", given: given(0, 7, 9, 2), now: 8 * day, value: 7, weekHigh: 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ConfidenceAt(tc.given, t0.Add(tc.now))
			if tc.nilWant {
				if c != nil {
					t.Fatalf("got %+v, want none", c)
				}
				return
			}
			if c == nil {
				t.Fatal("got none")
			}
			if c.Value != tc.value || c.Previous != tc.previous || c.WeekHigh != tc.weekHigh {
				t.Errorf("value %d, previous %d, week's high %d; want %d, %d, %d", c.Value, c.Previous, c.WeekHigh, tc.value, tc.previous, tc.weekHigh)
			}
		})
	}
}
