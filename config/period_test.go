package config

import (
	"testing"
	"time"

	"github.com/okrd/okrd/okr"
)

// currentQuarterName is the name current-quarter resolves to today in UTC
// with a calendar fiscal year, for messages that show it.
func currentQuarterName() string {
	p, err := okr.ResolvePeriod(okr.CurrentQuarter, time.Now(), time.UTC, time.January)
	if err != nil {
		panic(err)
	}
	return p.Name
}

// relativeDoc is a configuration whose one objective has a relative period.
const relativeDoc = `
[global]
time_zone = "Europe/Berlin"
fiscal_year_start_month = 7

[[objectives]]
id = "o"
title = "O"
period = "current-quarter"
  [[objectives.key_results]]
  id = "k"
  title = "K"
  baseline = 1
  target = 2
`

func TestARelativePeriodIsResolvedWhenTheConfigurationIsLoaded(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		now        time.Time
		wantName   string
		start, end time.Time
	}{
		{"in August with a July fiscal year it is the first fiscal quarter",
			time.Date(2026, 8, 14, 10, 0, 0, 0, berlin), "2027-Q1",
			time.Date(2026, 7, 1, 0, 0, 0, 0, berlin), time.Date(2026, 10, 1, 0, 0, 0, 0, berlin)},
		// 22:30 UTC on 30 September is already 1 October in Berlin.
		{"the quarter is the one of global.time_zone",
			time.Date(2026, 9, 30, 22, 30, 0, 0, time.UTC), "2027-Q2",
			time.Date(2026, 10, 1, 0, 0, 0, 0, berlin), time.Date(2027, 1, 1, 0, 0, 0, 0, berlin)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseAt([]byte(relativeDoc), "okrd.toml", envOf(nil), tc.now)
			if err != nil {
				t.Fatal(err)
			}
			o := c.Objectives[0]
			if o.Period != "current-quarter" {
				t.Errorf("period = %q: the file's spelling is kept", o.Period)
			}
			if p := o.Resolved; p.Name != tc.wantName || !p.Start.Equal(tc.start) || !p.End.Equal(tc.end) {
				t.Errorf("resolved to %s [%s, %s), want %s [%s, %s)", p.Name, p.Start, p.End, tc.wantName, tc.start, tc.end)
			}
		})
	}
}

// A loaded configuration keeps the quarter it was loaded in: a daemon that
// runs across the boundary shows the ended quarter (its final result) until
// it loads the file again, which resolves the period anew.
func TestALoadedRelativePeriodStaysUntilTheConfigurationIsLoadedAgain(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	lastHour := time.Date(2026, 9, 30, 23, 10, 0, 0, berlin)
	loaded, err := parseAt([]byte(relativeDoc), "okrd.toml", envOf(nil), lastHour)
	if err != nil {
		t.Fatal(err)
	}
	old := loaded.Objectives[0].Resolved
	nextMorning := lastHour.Add(8 * time.Hour)
	if !old.Ended(nextMorning) || old.Name != "2027-Q1" {
		t.Fatalf("loaded at %s: %+v, want 2027-Q1 ended by %s", lastHour, old, nextMorning)
	}
	reloaded, err := parseAt([]byte(relativeDoc), "okrd.toml", envOf(nil), nextMorning)
	if err != nil {
		t.Fatal(err)
	}
	if p := reloaded.Objectives[0].Resolved; p.Name != "2027-Q2" || !p.Start.Equal(old.End) {
		t.Errorf("reloaded after the boundary: %+v, want 2027-Q2 starting at %s", p, old.End)
	}
	if loaded.Objectives[0].Resolved != old {
		t.Errorf("the first configuration changed: %+v", loaded.Objectives[0].Resolved)
	}
}
