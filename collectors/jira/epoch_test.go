package jira

import (
	"testing"
	"time"

	"github.com/okrd/okrd/sandbox/jirafake"
)

func TestTheHistoryEpochChangesWithAFullPassOnly(t *testing.T) {
	e := fixtureEnv(t, jirafake.Cloud, nil)
	before := e.src.HistoryEpoch()
	e.mustPoll()
	first := e.src.HistoryEpoch()
	if first == before {
		t.Fatalf("the first full sync left the epoch at %q", first)
	}
	e.clk.Advance(time.Hour)
	e.mustPoll()
	if got := e.src.HistoryEpoch(); got != first {
		t.Errorf("an incremental poll changed the epoch from %q to %q", first, got)
	}
	e.clk.Advance(time.Hour)
	e.src.Resync()
	e.mustPoll()
	if got := e.src.HistoryEpoch(); got == first {
		t.Errorf("a completed re-sync left the epoch at %q", got)
	}
}
