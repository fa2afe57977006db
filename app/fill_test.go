package app

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/okr"
	"github.com/okrd/okrd/store"
)

// histSpec configures the "fake-history" source type: a source that can
// measure the past. Its value at t is days(t) = (t - 2026-01-01) in days
// plus Offset (plus 1000 for metric "other", so that a changed binding
// gives other values), so that a test can compute every expected value.
type histSpec struct {
	Offset float64 `toml:"offset"`
	// Covered is the first instant the records reach (empty: always).
	Covered string `toml:"covered"`
}

type histSource struct {
	name string
	spec *histSpec
	now  func() time.Time

	mu sync.Mutex
	// asked counts the instants asked of History, per key result id.
	asked map[string]int
}

// histFail makes History fail for the key results it names.
var histFail = struct {
	sync.Mutex
	m map[string]error
}{m: map[string]error{}}

func setHistFail(kr string, err error) {
	histFail.Lock()
	defer histFail.Unlock()
	if err == nil {
		delete(histFail.m, kr)
	} else {
		histFail.m[kr] = err
	}
}

var histSources = struct {
	sync.Mutex
	m map[string]*histSource
}{m: map[string]*histSource{}}

func histSourceNamed(name string) *histSource {
	histSources.Lock()
	defer histSources.Unlock()
	return histSources.m[name]
}

var histBase = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func histValue(kr *config.KeyResult, offset float64, t time.Time) float64 {
	v := t.Sub(histBase).Hours()/24 + offset
	if kr.Metric == "other" {
		v += 1000
	}
	return v
}

// histEpoch is the history epoch of every fake-history source.
var histEpoch struct {
	sync.Mutex
	v string
}

func (s *histSource) HistoryEpoch() string {
	histEpoch.Lock()
	defer histEpoch.Unlock()
	return histEpoch.v
}

func (s *histSource) Poll(context.Context) error { return nil }

func (s *histSource) Measure(_ context.Context, bs []collectors.Binding, now time.Time) []collectors.Measurement {
	out := make([]collectors.Measurement, len(bs))
	for i, b := range bs {
		out[i] = collectors.Measurement{OK: true, Value: histValue(b.KeyResult, s.spec.Offset, now)}
	}
	return out
}

func (s *histSource) CanHistory(b collectors.Binding) bool { return b.KeyResult.Metric != "live" }

func (s *histSource) History(ctx context.Context, reqs []collectors.HistoryRequest) [][]collectors.Measurement {
	s.mu.Lock()
	defer s.mu.Unlock()
	var covered time.Time
	if s.spec.Covered != "" {
		covered, _ = time.Parse(time.RFC3339, s.spec.Covered)
	}
	out := make([][]collectors.Measurement, len(reqs))
	for i, r := range reqs {
		out[i] = make([]collectors.Measurement, len(r.At))
		s.asked[r.KeyResult.ID] += len(r.At)
		histFail.Lock()
		err := histFail.m[r.KeyResult.ID]
		histFail.Unlock()
		if err != nil {
			for j := range out[i] {
				out[i][j].Err = err
			}
			continue
		}
		for j, t := range r.At {
			if t.After(s.now()) {
				panic(fmt.Sprintf("History asked for %s, after now %s", t, s.now()))
			}
			if t.Before(covered) {
				continue
			}
			out[i][j] = collectors.Measurement{OK: true, Value: histValue(r.KeyResult, s.spec.Offset, t)}
		}
	}
	return out
}

func (s *histSource) askedOf(kr string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.asked[kr]
}

func init() {
	config.RegisterSourceType("fake-history", config.SourceType{NewSpec: func() any { return &histSpec{} }})
	collectors.Register("fake-history", func(src *config.Source, deps collectors.Deps) (collectors.Source, error) {
		s := &histSource{name: src.Name, spec: src.Spec.(*histSpec), now: deps.Now, asked: map[string]int{}}
		histSources.Lock()
		histSources.m[src.Name] = s
		histSources.Unlock()
		return s, nil
	})
}

// fillNow is mid-quarter, in a time zone whose daylight saving time ends
// within the quarter (25 October 2026 in Berlin).
var fillNow = time.Date(2026, 11, 15, 10, 0, 0, 0, time.UTC)

const fillConfig = `
[global]
time_zone = "Europe/Berlin"
[storage]
dsn = "{{DB}}"
[sources.hist]
type = "fake-history"
interval = "1h"
{{SPEC}}
[sources.live]
type = "fake"
value = 7
[[objectives]]
id = "o"
title = "O"
period = "2026-Q4"
  [[objectives.key_results]]
  id = "filled"
  title = "Filled in"
  source = "hist"
  metric = "{{METRIC}}"
  baseline = 0
  target = 400
  [[objectives.key_results]]
  id = "liveonly"
  title = "Measured live only"
  source = "hist"
  metric = "live"
  baseline = 0
  target = 400
  [[objectives.key_results]]
  id = "other-source"
  title = "From a source without history"
  source = "live"
  baseline = 0
  target = 10
`

func fillConfigText(metric, spec string) string {
	r := strings.NewReplacer("{{METRIC}}", metric, "{{SPEC}}", spec)
	return r.Replace(fillConfig)
}

// syncApp runs okrd sync (one poll of every source) in dir at the clock.
func syncApp(t *testing.T, dir, text string, now time.Time, resync bool) *App {
	t.Helper()
	path := writeConfig(t, dir, text)
	logger, _ := testLogger(t)
	a, err := New(context.Background(), Options{ConfigFile: path, Logger: logger, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if resync {
		err = a.ResyncOnce(context.Background(), nil)
	} else {
		err = a.SyncOnce(context.Background(), nil)
	}
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	return a
}

// storedValues opens the database in dir and returns one key result's
// values.
func storedValues(t *testing.T, dir, kr string) []store.Value {
	t.Helper()
	st, err := OpenStore(context.Background(), config.Storage{Driver: "sqlite", DSN: config.Secret(dir + "/okrd.db")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	vals, err := st.History(context.Background(), "o", kr, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return vals
}

func byOrigin(vals []store.Value, prefix string) []store.Value {
	var out []store.Value
	for _, v := range vals {
		if strings.HasPrefix(v.Origin, prefix) {
			out = append(out, v)
		}
	}
	return out
}

// berlinMidnights lists every midnight in Berlin from the first to the
// last date, inclusive, written by hand as UTC instants: UTC+2 until the
// 25th of October, UTC+1 from the 26th.
func berlinMidnights(from, to time.Time) []time.Time {
	var out []time.Time
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		offset := 2 * time.Hour
		if !d.Before(time.Date(2026, 10, 26, 0, 0, 0, 0, time.UTC)) {
			offset = time.Hour
		}
		out = append(out, d.Add(-offset))
	}
	return out
}

func TestTheFirstSyncFillsInThePeriodAtEveryMidnight(t *testing.T) {
	dir := t.TempDir()
	a := syncApp(t, dir, fillConfigText("m", ""), fillNow, false)

	vals := storedValues(t, dir, "filled")
	filled := byOrigin(vals, "history:hist")
	// The period starts at midnight on the 1st of October; the last grid
	// instant is the latest midnight at least 15 minutes before now.
	want := berlinMidnights(time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 15, 0, 0, 0, 0, time.UTC))
	if len(want) != 46 {
		t.Fatalf("the test expects 46 midnights, has %d", len(want))
	}
	var got []time.Time
	for _, v := range filled {
		got = append(got, v.At)
		if w := histValue(&config.KeyResult{Metric: "m"}, 0, v.At); math.Abs(v.Value-w) > 1e-9 {
			t.Errorf("value at %s = %v, want %v", v.At, v.Value, w)
		}
	}
	if !slices.EqualFunc(got, want, time.Time.Equal) {
		t.Errorf("filled-in instants:\n got %v\nwant %v", got, want)
	}
	if live := byOrigin(vals, "source:hist"); len(live) != 1 || !live[0].At.Equal(fillNow) {
		t.Errorf("live values = %v, want the one measured now", live)
	}
	if n := len(storedValues(t, dir, "liveonly")); n != 1 {
		t.Errorf("a key result the source can only measure live has %d values, want only its live one", n)
	}
	if v := storedValues(t, dir, "other-source"); len(v) != 1 || v[0].Origin != "source:live" {
		t.Errorf("a key result of a source without history has %v, want one live value", v)
	}
	if got := metricValue(t, gatherText(t, a), `okrd_history_filled_values_total{source="hist"}`); got != "46" {
		t.Errorf("okrd_history_filled_values_total = %s, want 46", got)
	}
}

func gatherText(t *testing.T, a *App) string {
	t.Helper()
	mfs, err := a.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			b.WriteString(mf.GetName())
			if len(m.GetLabel()) > 0 {
				b.WriteString("{")
				for i, l := range m.GetLabel() {
					if i > 0 {
						b.WriteString(",")
					}
					fmt.Fprintf(&b, "%s=%q", l.GetName(), l.GetValue())
				}
				b.WriteString("}")
			}
			v := m.GetGauge().GetValue() + m.GetCounter().GetValue()
			fmt.Fprintf(&b, " %v\n", v)
		}
	}
	return b.String()
}

func TestFillingInAgainAddsNothingAndLaterPollsAddOnlyNewInstants(t *testing.T) {
	dir := t.TempDir()
	syncApp(t, dir, fillConfigText("m", ""), fillNow, false)
	first := len(byOrigin(storedValues(t, dir, "filled"), "history:"))

	syncApp(t, dir, fillConfigText("m", ""), fillNow, false)
	if src := histSourceNamed("hist"); src.askedOf("filled") != 0 {
		t.Errorf("a second sync at the same time asked History for %d instants, want none", src.askedOf("filled"))
	}
	if n := len(byOrigin(storedValues(t, dir, "filled"), "history:")); n != first {
		t.Errorf("after a second sync there are %d filled-in values, want %d", n, first)
	}

	// Two days later: the two new midnights, and only those.
	syncApp(t, dir, fillConfigText("m", ""), fillNow.Add(48*time.Hour), false)
	if got := histSourceNamed("hist").askedOf("filled"); got != 2 {
		t.Errorf("two days later History was asked for %d instants, want 2", got)
	}
	if n := len(byOrigin(storedValues(t, dir, "filled"), "history:")); n != first+2 {
		t.Errorf("two days later there are %d filled-in values, want %d", n, first+2)
	}
}

func TestAChangedBindingIsFilledInAgainAndLiveValuesStay(t *testing.T) {
	dir := t.TempDir()
	syncApp(t, dir, fillConfigText("m", ""), fillNow, false)
	// A check-in on the key result, as someone may record one.
	st, err := OpenStore(context.Background(), config.Storage{Driver: "sqlite", DSN: config.Secret(dir + "/okrd.db")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.AddCheckin(context.Background(), store.Checkin{ObjectiveID: "o", KeyResultID: "filled", At: fillNow.Add(-time.Hour), Value: 5}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	later := fillNow.Add(time.Hour)
	syncApp(t, dir, fillConfigText("other", ""), later, false)
	vals := storedValues(t, dir, "filled")
	filled := byOrigin(vals, "history:")
	if len(filled) != 46 {
		t.Fatalf("after the binding changed there are %d filled-in values, want the 46 midnights again", len(filled))
	}
	for _, v := range filled {
		if want := histValue(&config.KeyResult{Metric: "other"}, 0, v.At); math.Abs(v.Value-want) > 1e-9 {
			t.Fatalf("value at %s = %v, want %v of the new binding", v.At, v.Value, want)
		}
	}
	if got := len(byOrigin(vals, "source:")); got != 2 {
		t.Errorf("live values = %d, want both live measurements kept", got)
	}
	if got := len(byOrigin(vals, "checkin:")); got != 1 {
		t.Errorf("check-ins = %d, want the check-in kept", got)
	}
}

func TestAResyncFillsInEveryInstantAgain(t *testing.T) {
	dir := t.TempDir()
	syncApp(t, dir, fillConfigText("m", ""), fillNow, false)
	syncApp(t, dir, fillConfigText("m", ""), fillNow, true)
	if got := histSourceNamed("hist").askedOf("filled"); got != 46 {
		t.Errorf("a resync asked History for %d instants, want all 46", got)
	}
	if n := len(byOrigin(storedValues(t, dir, "filled"), "history:")); n != 46 {
		t.Errorf("after a resync there are %d filled-in values, want 46", n)
	}
}

func TestInstantsBeforeTheRecordsBeginAreLeftEmpty(t *testing.T) {
	dir := t.TempDir()
	syncApp(t, dir, fillConfigText("m", `covered = "2026-11-01T00:00:00Z"`), fillNow, false)
	filled := byOrigin(storedValues(t, dir, "filled"), "history:")
	// Midnight of the 2nd of November in Berlin is the first at or after
	// 1 November 00:00 UTC (midnight of the 1st is 23:00 UTC the day before).
	if len(filled) != 14 || !filled[0].At.Equal(time.Date(2026, 11, 1, 23, 0, 0, 0, time.UTC)) {
		t.Errorf("filled-in values start at %v with %d values, want 14 from 2026-11-01T23:00Z", filled[0].At, len(filled))
	}
}

func TestAFilledInValueIsNotAddedWhereALiveOneExists(t *testing.T) {
	dir := t.TempDir()
	// A live value measured exactly at midnight of the 15th in Berlin, an
	// instant of the grid.
	midnight := time.Date(2026, 11, 14, 23, 0, 0, 0, time.UTC)
	st, err := OpenStore(context.Background(), config.Storage{Driver: "sqlite", DSN: config.Secret(dir + "/okrd.db")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AppendValues(context.Background(), store.Value{ObjectiveID: "o", KeyResultID: "filled", At: midnight, Value: 1, Origin: "source:hist"}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	syncApp(t, dir, fillConfigText("m", ""), fillNow, false)
	at := 0
	for _, v := range storedValues(t, dir, "filled") {
		if v.At.Equal(midnight) {
			at++
			if v.Origin != "source:hist" {
				t.Errorf("at the live value's instant there is a value of origin %q", v.Origin)
			}
		}
	}
	if at != 1 {
		t.Errorf("%d values at the live value's instant, want only the live one", at)
	}
	if n := len(byOrigin(storedValues(t, dir, "filled"), "history:")); n != 45 {
		t.Errorf("%d filled-in values, want the 45 other midnights", n)
	}
}

// failingFills makes the next n transactions that write a fill state fail
// at that write, after the values were written, so that the rollback must
// undo them.
type failingFills struct {
	store.Store
	mu sync.Mutex
	n  int
}

type failingFillTx struct {
	store.Tx
	f *failingFills
}

func (t failingFillTx) SetCursor(ctx context.Context, source, scope, value string) error {
	if source == fillCursorSource {
		t.f.mu.Lock()
		fail := t.f.n > 0
		t.f.mu.Unlock()
		if fail {
			return errors.New("disk full")
		}
	}
	return t.Tx.SetCursor(ctx, source, scope, value)
}

func (f *failingFills) Update(ctx context.Context, fn func(store.Tx) error) error {
	err := f.Store.Update(ctx, func(tx store.Tx) error { return fn(failingFillTx{tx, f}) })
	f.mu.Lock()
	if err != nil && f.n > 0 {
		f.n--
	}
	f.mu.Unlock()
	return err
}

func TestAFillThatFailsIsDoneAgainAfterTheNextPoll(t *testing.T) {
	dir := t.TempDir()
	path := writeConfig(t, dir, fillConfigText("m", ""))
	logger, _ := testLogger(t)
	a, err := New(context.Background(), Options{ConfigFile: path, Logger: logger, Now: func() time.Time { return fillNow }})
	if err != nil {
		t.Fatal(err)
	}
	a.store = &failingFills{Store: a.store, n: 1}
	if err := a.SyncOnce(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if n := len(byOrigin(storedValues(t, dir, "filled"), "history:")); n != 0 {
		t.Fatalf("a fill whose transaction failed left %d values", n)
	}
	syncApp(t, dir, fillConfigText("m", ""), fillNow, false)
	if n := len(byOrigin(storedValues(t, dir, "filled"), "history:")); n != 46 {
		t.Errorf("the next sync filled in %d values, want all 46", n)
	}
}

// withSecondKeyResult adds a key result "second" bound to the source
// with history.
func withSecondKeyResult(text, id string) string {
	return strings.Replace(text, `  [[objectives.key_results]]
  id = "liveonly"`, `  [[objectives.key_results]]
  id = "`+id+`"
  title = "Second"
  source = "hist"
  metric = "m"
  baseline = 0
  target = 400
  [[objectives.key_results]]
  id = "liveonly"`, 1)
}

func TestAKeyResultThatFailsToFillIsTriedAgainAndTheOthersAreFilledIn(t *testing.T) {
	dir := t.TempDir()
	text := withSecondKeyResult(fillConfigText("m", ""), "second")
	setHistFail("second", errors.New("board 9 is unknown"))
	t.Cleanup(func() { setHistFail("second", nil) })
	syncApp(t, dir, text, fillNow, false)
	if n := len(byOrigin(storedValues(t, dir, "filled"), "history:")); n != 46 {
		t.Errorf("the key result that could be computed has %d filled-in values, want 46", n)
	}
	if n := len(byOrigin(storedValues(t, dir, "second"), "history:")); n != 0 {
		t.Errorf("the key result that failed has %d filled-in values, want none", n)
	}
	setHistFail("second", nil)
	syncApp(t, dir, text, fillNow, false)
	if n := len(byOrigin(storedValues(t, dir, "second"), "history:")); n != 46 {
		t.Errorf("once it can be computed it has %d filled-in values, want 46", n)
	}
	if got := histSourceNamed("hist").askedOf("filled"); got != 0 {
		t.Errorf("the key result filled in before was asked again for %d instants", got)
	}
}

func TestHistoryIsNotFilledInWhenTurnedOff(t *testing.T) {
	dir := t.TempDir()
	syncApp(t, dir, "[history]\nfill = false\n"+fillConfigText("m", ""), fillNow, false)
	if n := len(byOrigin(storedValues(t, dir, "filled"), "history:")); n != 0 {
		t.Errorf("with fill = false there are %d filled-in values", n)
	}
}

func TestAReloadFillsInAnAddedKeyResultAndClearsOneMovedToCheckins(t *testing.T) {
	dir := t.TempDir()
	ta := startApp(t, dir, fillConfigText("m", ""), func() time.Time { return fillNow })
	waitFor(t, func() bool { return len(ta.Points("o", "filled", time.Time{}, fillNow)) >= 47 })
	// The live source's first poll runs on its own schedule: counted
	// before the reload only once it has happened.
	waitFor(t, func() bool {
		for _, h := range ta.Sources() {
			if h.Name == "live" && h.Polls > 0 {
				return true
			}
		}
		return false
	})
	polls := fakes.counter("live").Load()

	// Add a key result to the source with history, and move "filled" to
	// check-ins.
	text := withSecondKeyResult(fillConfigText("m", ""), "added")
	moved := strings.Replace(text, "  source = \"hist\"\n  metric = \"m\"\n", "", 1)
	if moved == text {
		t.Fatal("the test's config edit did not apply")
	}
	if err := os.WriteFile(ta.cfg, []byte(strings.ReplaceAll(moved, "{{DB}}", dir+"/okrd.db")), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := ta.Reload(context.Background()); err != nil {
		t.Fatalf("reload: %v", err)
	}
	waitFor(t, func() bool { return len(ta.Points("o", "added", time.Time{}, fillNow)) >= 46 })
	if got := len(byOrigin(storedValues(t, dir, "filled"), "history:")); got != 0 {
		t.Errorf("a key result moved to check-ins keeps %d filled-in values", got)
	}
	if got := len(ta.Points("o", "filled", time.Time{}, fillNow)); got != 1 {
		t.Errorf("in memory the key result moved to check-ins has %d values, want its one live value", got)
	}
	if n := fakes.counter("live").Load(); n != polls {
		t.Errorf("the reload made the sources poll again (%d polls, %d before)", n, polls)
	}
}

func TestGridInstants(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	q4 := okr.Period{Start: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}
	q4Berlin := okr.Period{Start: time.Date(2026, 9, 30, 22, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC)}
	utc := func(s string) time.Time {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			panic(err)
		}
		return t
	}
	tests := []struct {
		name    string
		p       okr.Period
		loc     *time.Location
		step    time.Duration
		through time.Time
		want    []time.Time
	}{
		{"daily in UTC starts with the period start", q4, time.UTC, 24 * time.Hour, utc("2026-10-03T12:00:00Z"),
			[]time.Time{utc("2026-10-01T00:00:00Z"), utc("2026-10-02T00:00:00Z"), utc("2026-10-03T00:00:00Z")}},
		{"an instant equal to through is included", q4, time.UTC, 24 * time.Hour, utc("2026-10-02T00:00:00Z"),
			[]time.Time{utc("2026-10-01T00:00:00Z"), utc("2026-10-02T00:00:00Z")}},
		{"nothing before the period starts", q4, time.UTC, 24 * time.Hour, utc("2026-09-30T00:00:00Z"), nil},
		{"daily in Berlin stays on midnight across the end of summer time", q4Berlin, berlin, 24 * time.Hour, utc("2026-10-27T00:00:00Z"),
			[]time.Time{utc("2026-10-24T22:00:00Z"), utc("2026-10-25T23:00:00Z"), utc("2026-10-26T23:00:00Z")}},
		{"every six hours from each midnight", q4, time.UTC, 6 * time.Hour, utc("2026-10-01T13:00:00Z"),
			[]time.Time{utc("2026-10-01T00:00:00Z"), utc("2026-10-01T06:00:00Z"), utc("2026-10-01T12:00:00Z")}},
		{"the period end closes the grid", q4, time.UTC, 24 * time.Hour, utc("2027-03-01T00:00:00Z"), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := gridInstants(tc.p, tc.loc, tc.step, tc.through)
			switch tc.name {
			case "daily in Berlin stays on midnight across the end of summer time":
				got = got[len(got)-3:]
			case "the period end closes the grid":
				if len(got) != 93 || !got[0].Equal(q4.Start) || !got[92].Equal(q4.End) {
					t.Fatalf("got %d instants from %v to %v, want 93 from the start to the end", len(got), got[0], got[len(got)-1])
				}
				for i := 1; i < len(got); i++ {
					if got[i].Sub(got[i-1]) != 24*time.Hour {
						t.Fatalf("instants %v and %v are not a day apart", got[i-1], got[i])
					}
				}
				return
			}
			if !slices.EqualFunc(got, tc.want, time.Time.Equal) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestFilledInPointsAreMarkedInMemory(t *testing.T) {
	dir := t.TempDir()
	ta := startApp(t, dir, fillConfigText("m", ""), func() time.Time { return fillNow })
	waitFor(t, func() bool { return len(ta.Points("o", "filled", time.Time{}, fillNow)) >= 47 })
	pts, filled := ta.PointsFilled("o", "filled", time.Time{}, fillNow)
	if len(filled) != len(pts) {
		t.Fatalf("%d marks for %d points", len(filled), len(pts))
	}
	live := 0
	for i, p := range pts {
		if !filled[i] {
			live++
			if !p.At.Equal(fillNow) {
				t.Errorf("the point at %s is not marked filled in", p.At)
			}
		}
	}
	if live != 1 {
		t.Errorf("%d points are not filled in, want the one live value", live)
	}
	if _, f := ta.PointsFilled("o", "other-source", time.Time{}, fillNow); f != nil {
		t.Errorf("a key result without filled-in values has marks %v", f)
	}
}

func TestANewHistoryEpochFillsInEveryInstantAgain(t *testing.T) {
	dir := t.TempDir()
	syncApp(t, dir, fillConfigText("m", ""), fillNow, false)
	histEpoch.Lock()
	histEpoch.v = "after a re-sync"
	histEpoch.Unlock()
	t.Cleanup(func() {
		histEpoch.Lock()
		histEpoch.v = ""
		histEpoch.Unlock()
	})
	syncApp(t, dir, fillConfigText("m", ""), fillNow, false)
	if got := histSourceNamed("hist").askedOf("filled"); got != 46 {
		t.Errorf("after the source's epoch changed History was asked for %d instants, want all 46", got)
	}
	if n := len(byOrigin(storedValues(t, dir, "filled"), "history:")); n != 46 {
		t.Errorf("there are %d filled-in values, want 46", n)
	}
}
