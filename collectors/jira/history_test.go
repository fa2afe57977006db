package jira

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/sandbox/jirafake"
	"github.com/okrd/okrd/store"
)

// bindings returns key results as bindings of one objective whose period
// runs from -40 to +50 days.
func bindings(krs ...*config.KeyResult) []collectors.Binding {
	obj := &config.Objective{ID: "o", KeyResults: krs}
	obj.Resolved.Start, obj.Resolved.End = d(-40), d(50)
	out := make([]collectors.Binding, len(krs))
	for i, kr := range krs {
		out[i] = collectors.Binding{Objective: obj, KeyResult: kr}
	}
	return out
}

// historyKeyResults is a mix of key results over the fixture: every kind
// of window, quantiles, issue types, a board scope, epic progress by
// count and by points, and sprint metrics.
func historyKeyResults() []*config.KeyResult {
	return []*config.KeyResult{
		{Metric: "throughput"},
		{Metric: "throughput", Window: "7d", WindowDuration: 7 * day, IssueTypes: []string{"story"}},
		{Metric: "throughput", Window: "28d", WindowDuration: 28 * day, Scope: "board:1"},
		{Metric: "lead_time", Window: config.WindowPeriod, Quantile: q(0.85)},
		{Metric: "cycle_time", Window: "28d", WindowDuration: 28 * day},
		{Metric: "wip"},
		{Metric: "wip_age", Quantile: q(0.5)},
		{Metric: "wip_age_max"},
		{Metric: "inflow", Window: "7d", WindowDuration: 7 * day, IssueTypes: []string{"Bug"}},
		{Metric: "epic_progress", Epic: "PAY-5"},
		{Metric: "epic_progress", Epic: "PAY-5", By: "points"},
		{Metric: "velocity"},
		{Metric: "sprint_say_do_ratio", By: "points"},
		{Metric: "sprint_commitment", Scope: "board:1"},
	}
}

// instantsEvery returns the instants from `from` to `to` every step, and
// the extra ones given, in order.
func instantsEvery(from, to time.Time, step time.Duration, extra ...time.Time) []time.Time {
	var out []time.Time
	for t := from; !t.After(to); t = t.Add(step) {
		out = append(out, t)
	}
	for _, x := range extra {
		i := 0
		for i < len(out) && out[i].Before(x) {
			i++
		}
		if i == len(out) || !out[i].Equal(x) {
			out = append(out[:i], append([]time.Time{x}, out[i:]...)...)
		}
	}
	return out
}

// TestHistoryIsMeasureAtEachInstant: over the records of a real sync from
// the fake, the value History gives at each instant is the one Measure
// gives with its clock at that instant, exactly, for every kind of key
// result; a few of them are checked by hand.
func TestHistoryIsMeasureAtEachInstant(t *testing.T) {
	for _, flavor := range []jirafake.Flavor{jirafake.Cloud, jirafake.DataCenter} {
		t.Run(string(flavor), func(t *testing.T) {
			e := fixtureEnv(t, flavor, nil)
			e.mustPoll()
			bs := bindings(historyKeyResults()...)
			// Every 12 hours over 45 days, plus instants at which the
			// fixture's events happen.
			at := instantsEvery(d(-45), now, 12*time.Hour, d(-10), d(-7), d(-6), d(-6).Add(time.Second), d(-2), d(-3))
			reqs := make([]collectors.HistoryRequest, len(bs))
			for i, b := range bs {
				reqs[i] = collectors.HistoryRequest{Binding: b, At: at}
			}
			e.fake.ResetRequests()
			hist := e.src.History(context.Background(), reqs)
			if got := e.fake.Requests(); len(got) != 0 {
				t.Errorf("History made requests to Jira: %v", got)
			}
			for j, instant := range at {
				live := e.src.Measure(context.Background(), bs, instant)
				for i, b := range bs {
					h, m := hist[i][j], live[i]
					if h.Err != nil || m.Err != nil || h.OK != m.OK || h.Value != m.Value || !h.At.IsZero() {
						t.Errorf("%s %s at %s: History %+v, Measure %+v", b.KeyResult.Metric, b.KeyResult.Window, instant.Format(time.RFC3339), h, m)
					}
				}
			}
			// By hand: velocity has no value until sprint 1 closes at -6,
			// then 5 (PAY-1 done with 5 points); WIP at -11 is PAY-1 and
			// PAY-2, at -8.5 PAY-2 and PAY-3.
			index := func(x time.Time) int {
				for j, a := range at {
					if a.Equal(x) {
						return j
					}
				}
				t.Fatalf("no instant %v", x)
				return 0
			}
			checks := []struct {
				kr   int
				at   time.Time
				want collectors.Measurement
			}{
				{11, d(-7), collectors.Measurement{}},
				{11, d(-6), collectors.Measurement{OK: true, Value: 5}},
				{5, d(-11), collectors.Measurement{OK: true, Value: 2}},
				{5, d(-8.5), collectors.Measurement{OK: true, Value: 2}},
				{0, d(-9), collectors.Measurement{OK: true, Value: 1}},
			}
			for _, c := range checks {
				if got := hist[c.kr][index(c.at)]; got != c.want {
					t.Errorf("%s at %v = %+v, want %+v", bs[c.kr].KeyResult.Metric, c.at, got, c.want)
				}
			}
		})
	}
}

// TestHistoryBeforeTheRecordsBegin: with history = "20d", the first sync
// read the issues updated since -20 days: an instant before that, or a
// window that reaches before it, has no value; the others are Measure's.
func TestHistoryBeforeTheRecordsBegin(t *testing.T) {
	e := fixtureEnv(t, jirafake.Cloud, func(s *Spec) { s.History = config.Duration(20 * day) })

	// Before a sync has completed, no instant is covered.
	bs := bindings(&config.KeyResult{Metric: "wip"}, &config.KeyResult{Metric: "throughput", Window: "7d", WindowDuration: 7 * day})
	at := []time.Time{d(-30), d(-21), d(-20), d(-19), d(-13), d(-10), now}
	hist := e.src.History(context.Background(), []collectors.HistoryRequest{{Binding: bs[0], At: at}})
	for j, m := range hist[0] {
		if m.OK || m.Err != nil {
			t.Errorf("before the first sync, at %v: %+v, want no value", at[j], m)
		}
	}

	e.mustPoll()
	cur, _, _ := e.st.Cursor(context.Background(), "jira", cursorIssues)
	var cs cursorState
	if err := json.Unmarshal([]byte(cur), &cs); err != nil || !cs.Covers.Equal(d(-20)) {
		t.Fatalf("cursor = %s, want covers = %v", cur, d(-20))
	}
	wantOK := [][]bool{
		{false, false, true, true, true, true, true},
		// A 7-day window starts at or after -20 from -13 on.
		{false, false, false, false, true, true, true},
	}
	check := func(name string) {
		t.Helper()
		reqs := []collectors.HistoryRequest{{Binding: bs[0], At: at}, {Binding: bs[1], At: at}}
		hist := e.src.History(context.Background(), reqs)
		for j, instant := range at {
			live := e.src.Measure(context.Background(), bs, instant)
			for i := range bs {
				h := hist[i][j]
				switch {
				case h.Err != nil || h.OK != wantOK[i][j]:
					t.Errorf("%s: %s at %v = %+v, want OK %v", name, bs[i].KeyResult.Metric, instant, h, wantOK[i][j])
				case h.OK && (h.Value != live[i].Value || !live[i].OK):
					t.Errorf("%s: %s at %v = %+v, Measure %+v", name, bs[i].KeyResult.Metric, instant, h, live[i])
				}
			}
		}
	}
	check("after the first sync")

	// An incremental poll and a forced re-sync an hour later keep the
	// records' start: the re-sync reads from -20 days + 1 hour, the first
	// sync's records reach further.
	e.clk.Set(now.Add(time.Hour))
	e.mustPoll()
	e.src.Resync()
	e.mustPoll()
	cur, _, _ = e.st.Cursor(context.Background(), "jira", cursorIssues)
	if err := json.Unmarshal([]byte(cur), &cs); err != nil || !cs.Covers.Equal(d(-20)) || !cs.LastFull.Equal(now.Add(time.Hour)) {
		t.Fatalf("cursor after a re-sync = %s, want covers %v and last_full %v", cur, d(-20), now.Add(time.Hour))
	}
	check("after a re-sync")

	// A restart reads the start from the cursor.
	e.src = e.newSource()
	check("after a restart")

	// A cursor written before okrd kept the start stands for it with its
	// last full pass minus history: here the re-sync at +1h, so -20 days
	// + 1 hour.
	cs.Covers = time.Time{}
	old, _ := json.Marshal(cs)
	if strings.Contains(string(old), "covers") {
		t.Fatalf("old cursor %s", old)
	}
	if err := e.st.Update(context.Background(), func(tx store.Tx) error {
		return tx.SetCursor(context.Background(), "jira", cursorIssues, string(old))
	}); err != nil {
		t.Fatal(err)
	}
	e.src = e.newSource()
	hist = e.src.History(context.Background(), []collectors.HistoryRequest{{Binding: bs[0], At: []time.Time{d(-20), d(-20).Add(time.Hour)}}})
	if hist[0][0].OK || !hist[0][1].OK {
		t.Errorf("with an old cursor: %+v, want a value from -20 days + 1 hour only", hist[0])
	}
}

// TestHistoryOfLiveMetrics: a JQL count and epic progress over a JQL ask
// Jira about now only: they cannot be filled in, and History says so on
// every instant without asking Jira anything.
func TestHistoryOfLiveMetrics(t *testing.T) {
	e := fixtureEnv(t, jirafake.Cloud, nil)
	e.mustPoll()
	bs := bindings(
		&config.KeyResult{Metric: "jql_count", Query: "project = PAY"},
		&config.KeyResult{Metric: "epic_progress", Query: "project = PAY"},
		&config.KeyResult{Metric: "epic_progress", Epic: "PAY-5"},
	)
	wantCan := []bool{false, false, true}
	for i, b := range bs {
		if got := e.src.CanHistory(b); got != wantCan[i] {
			t.Errorf("CanHistory(%s %q) = %v, want %v", b.KeyResult.Metric, b.KeyResult.Query, got, wantCan[i])
		}
	}
	e.fake.ResetRequests()
	at := []time.Time{d(-2), d(-1)}
	hist := e.src.History(context.Background(), []collectors.HistoryRequest{{Binding: bs[0], At: at}, {Binding: bs[1], At: at}, {Binding: bs[2], At: at}})
	for i := range 2 {
		for j, m := range hist[i] {
			if m.OK || m.Err == nil || !strings.Contains(m.Err.Error(), "no history") || !strings.Contains(m.Err.Error(), `jira source "jira"`) {
				t.Errorf("%s at %v = %+v, want an error saying it has no history", bs[i].KeyResult.Metric, at[j], m)
			}
		}
	}
	if !hist[2][0].OK || !hist[2][1].OK {
		t.Errorf("epic progress of an epic = %+v, want values", hist[2])
	}
	if got := e.fake.Requests(); len(got) != 0 {
		t.Errorf("History asked Jira: %v", got)
	}
}

// TestHistoryErrorsName the source and the metric, as Measure's do.
func TestHistoryErrors(t *testing.T) {
	e := fixtureEnv(t, jirafake.Cloud, nil)
	e.mustPoll()
	bs := bindings(&config.KeyResult{Metric: "velocity", Scope: "board:9"}, &config.KeyResult{Metric: "wip"})
	at := []time.Time{d(-1)}
	hist := e.src.History(context.Background(), []collectors.HistoryRequest{{Binding: bs[0], At: at}, {Binding: bs[1], At: at}})
	live := e.src.Measure(context.Background(), bs, d(-1))
	if hist[0][0].Err == nil || live[0].Err == nil || hist[0][0].Err.Error() != live[0].Err.Error() {
		t.Errorf("History error %v, Measure error %v: want the same", hist[0][0].Err, live[0].Err)
	}
	if hist[1][0].Err != nil || !hist[1][0].OK {
		t.Errorf("the other binding = %+v", hist[1][0])
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	hist = e.src.History(ctx, []collectors.HistoryRequest{{Binding: bs[1], At: at}})
	if hist[0][0].Err != context.Canceled {
		t.Errorf("History with a cancelled context = %+v, want %v", hist[0][0], context.Canceled)
	}
}

// TestHistoryChangesNothingServed runs History while polls run (the race
// detector watches), and checks that the exported series and the
// measurements are the same after it.
func TestHistoryChangesNothingServed(t *testing.T) {
	e := fixtureEnv(t, jirafake.Cloud, nil)
	e.mustPoll()
	bs := bindings(historyKeyResults()...)
	before := exposition(t, e.src)
	measured := fmt.Sprint(e.src.Measure(context.Background(), bs, now))
	at := instantsEvery(d(-30), now, day)
	reqs := make([]collectors.HistoryRequest, len(bs))
	for i, b := range bs {
		reqs[i] = collectors.HistoryRequest{Binding: b, At: at}
	}
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { e.src.History(context.Background(), reqs) })
	}
	for range 2 {
		e.mustPoll()
	}
	wg.Wait()
	if after := exposition(t, e.src); !bytes.Equal(before, after) {
		t.Errorf("the exported series changed:\n%s\nwant\n%s", after, before)
	}
	if after := fmt.Sprint(e.src.Measure(context.Background(), bs, now)); after != measured {
		t.Errorf("measurements changed: %s, want %s", after, measured)
	}
}
