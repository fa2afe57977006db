package app

import (
	"context"
	"testing"
	"time"
)

// relativePeriodConfig has one objective for the current quarter, measured
// by check-ins.
const relativePeriodConfig = `
[global]
time_zone = "Europe/Berlin"

[server]
listen_address = "127.0.0.1:0"
api_token = "s3cret-token"

[storage]
driver = "sqlite"
dsn = "{{DB}}"

[[objectives]]
id = "grow"
title = "Grow"
period = "current-quarter"
  [[objectives.key_results]]
  id = "nps"
  title = "NPS from 30 to 40"
  baseline = 30
  target = 40
`

// okrd resolves current-quarter when it loads the configuration, on its own
// clock. Running across the end of the quarter, it keeps the quarter it
// loaded, which ends with its final result; a reload after the end moves
// the objective to the new quarter.
func TestACurrentQuarterObjectiveEndsWithItsQuarterAndMovesOnAtTheNextReload(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	clock := &mutableClock{now: time.Date(2026, 12, 31, 22, 0, 0, 0, berlin)}
	ta := startApp(t, "", relativePeriodConfig, clock.Now)
	checkin(t, ta, "grow", "nps", 39, "2026-12-31T20:00:00Z")

	grow := ta.Snapshot().Objective("grow")
	if p := grow.Config.Resolved; p.Name != "2026-Q4" || !p.End.Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, berlin)) {
		t.Fatalf("loaded on 31 December: period %+v, want 2026-Q4", p)
	}
	if st := grow.KeyResults[0].Result.Status; st != "on_track" {
		t.Fatalf("status %s, want on_track (39 of 30 to 40 on the last evening)", st)
	}

	// New year's morning: the quarter okrd loaded is over, and its result
	// is final (missed: 39 is short of 40).
	clock.Add(10 * time.Hour)
	ta.Evaluate(context.Background())
	grow = ta.Snapshot().Objective("grow")
	if p := grow.Config.Resolved; p.Name != "2026-Q4" {
		t.Errorf("without a reload the period moved to %s", p.Name)
	}
	if st := grow.KeyResults[0].Result.Status; st != "missed" {
		t.Errorf("after the quarter: status %s, want missed", st)
	}

	// A reload resolves current-quarter again: the first quarter of 2027.
	if err := ta.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	grow = ta.Snapshot().Objective("grow")
	if p := grow.Config.Resolved; p.Name != "2027-Q1" || !p.Start.Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, berlin)) ||
		!p.End.Equal(time.Date(2027, 4, 1, 0, 0, 0, 0, berlin)) {
		t.Errorf("after the reload: period %+v, want 2027-Q1 in Berlin", p)
	}
	if st := grow.KeyResults[0].Result.Status; st == "missed" {
		t.Errorf("after the reload the new quarter's key result is %s", st)
	}
}
