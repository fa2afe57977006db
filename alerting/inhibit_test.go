package alerting

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/okrd/okrd/notify"
	"github.com/okrd/okrd/okr"
	"github.com/okrd/okrd/store"
)

func firingState(c Condition, objective, keyResult string) *State {
	return &State{Key: Key(c, objective, keyResult), Condition: c, Phase: Firing,
		Labels: map[string]string{notify.LabelObjective: objective, notify.LabelKeyResult: keyResult}}
}

func TestInhibited(t *testing.T) {
	pending := func(s *State) *State { s.Phase = Pending; return s }
	tests := []struct {
		name   string
		states []*State
		want   string // inhibited keys, sorted
	}{
		{"off track inhibits at risk and forecast miss of its key result",
			[]*State{firingState(OffTrack, "o", "k"), firingState(AtRisk, "o", "k"), firingState(ForecastMiss, "o", "k")},
			"at_risk/o/k,forecast_miss/o/k"},
		{"at risk inhibits forecast miss",
			[]*State{firingState(AtRisk, "o", "k"), firingState(ForecastMiss, "o", "k")}, "forecast_miss/o/k"},
		{"a pending alert inhibits nothing",
			[]*State{pending(firingState(OffTrack, "o", "k")), firingState(AtRisk, "o", "k")}, ""},
		{"another key result is not inhibited, even with the same key result id in another objective",
			[]*State{firingState(OffTrack, "o", "k"), firingState(AtRisk, "o", "k2"), firingState(AtRisk, "p", "k")}, ""},
		{"forecast miss inhibits nothing, nor do stale and no data",
			[]*State{firingState(ForecastMiss, "o", "k"), firingState(Stale, "o", "k"), firingState(NoData, "o", "k")}, ""},
		{"off track does not inhibit a disagreement",
			[]*State{firingState(OffTrack, "o", "k"), firingState(ConfidenceDisagrees, "o", "k")}, ""},
		// As in Alertmanager, an alert held back still holds back others.
		{"off track inhibits a confidence drop, which still inhibits a disagreement",
			[]*State{firingState(OffTrack, "o", "k"), firingState(ConfidenceDrop, "o", "k"), firingState(ConfidenceDisagrees, "o", "k")},
			"confidence_disagrees/o/k,confidence_drop/o/k"},
		{"a confidence drop inhibits a disagreement",
			[]*State{firingState(ConfidenceDrop, "o", "k"), firingState(ConfidenceDisagrees, "o", "k")}, "confidence_disagrees/o/k"},
		{"forecast miss and at risk do not inhibit a disagreement",
			[]*State{firingState(AtRisk, "o", "k"), firingState(ForecastMiss, "o", "k"), firingState(ConfidenceDisagrees, "o", "k")},
			"forecast_miss/o/k"},
		{"off track does not inhibit the conditions outside its family",
			[]*State{firingState(OffTrack, "o", "k"), firingState(Stale, "o", "k"), firingState(Missed, "o", "k")}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			states := map[string]*State{}
			for _, s := range tt.states {
				states[s.Key] = s
			}
			states["gone"] = nil
			got := slices.Sorted(maps.Keys(Inhibited(states)))
			if strings.Join(got, ",") != tt.want {
				t.Errorf("inhibited %v, want %q", got, tt.want)
			}
		})
	}
}

// inhibitionFixture is the engine fixture with every condition enabled and
// every alert routed to both receivers; st nil is a new store.
func inhibitionFixture(t *testing.T, st store.Store) *engineFixture {
	t.Helper()
	if st == nil {
		st = openStore(t, t.TempDir())
	}
	f := newFixture(t, st, &recorder{}, &recorder{})
	p := DefaultPolicy()
	for _, c := range Conditions {
		p.Enabled[c] = true
	}
	f.e.Configure(Config{Policy: p, DefaultReceiver: "slack", Receivers: []Receiver{
		{Integration: notify.Integration{Receiver: "slack", Type: "slack", Notifier: f.slack}},
		{Integration: notify.Integration{Receiver: "am", Type: "alertmanager", Notifier: f.am}, Refresh: 5 * time.Minute},
	}, Routes: []Route{{Receiver: "slack", Continue: true}, {Receiver: "am"}}})
	return f
}

func withForecast(r okr.Result, progress float64) okr.Result {
	r.HasForecast, r.ForecastProgress = true, progress
	return r
}

func (f *engineFixture) states() map[string]State {
	out := map[string]State{}
	for _, s := range f.e.States() {
		out[s.Key] = s
	}
	return out
}

// A key result that goes off track with a bad forecast holds off_track,
// at_risk and forecast_miss at once; only the worst is notified, and the
// others follow as it clears.
func TestEngineNotifiesOnlyTheWorstConditionOfAKeyResult(t *testing.T) {
	f := inhibitionFixture(t, nil)
	bad := withForecast(offTrack, 0.4) // gap -0.3, forecast 0.4 < 0.9
	atRisk := withForecast(okr.Result{HasValue: true, ValueAt: mid, Progress: 0.35, Expected: 0.5,
		Gap: -0.15, Status: okr.StatusAtRisk}, 0.7) // gap -0.15, still forecast to miss
	recovering := withForecast(onTrack, 0.8) // on track, forecast still short of 0.9
	done := withForecast(onTrack, 1)

	f.step(t, 0, bad, true)
	f.step(t, 60, bad, true) // all three fire together after `for`
	if got := strings.Join(f.slack.sent(), " "); got != "OKRKeyResultOffTrack:firing" {
		t.Fatalf("slack got %q, want only the off-track alert", got)
	}
	if got := strings.Join(f.am.sent(), " "); got != "OKRKeyResultOffTrack:firing" {
		t.Fatalf("alertmanager got %q, want only the off-track alert", got)
	}
	st := f.states()
	for _, k := range []string{"at_risk/grow/nps", "forecast_miss/grow/nps"} {
		if s := st[k]; s.Phase != Firing || !s.Withheld {
			t.Errorf("%s = %+v, want firing and withheld", k, s)
		}
	}
	if s := st["off_track/grow/nps"]; s.Withheld {
		t.Errorf("the off-track alert is withheld")
	}
	// Withheld alerts are neither refreshed to Alertmanager nor repeated.
	f.step(t, 70, bad, true)
	f.step(t, 60+24*60, bad, true)
	if got := strings.Join(f.am.sent(), " "); strings.Contains(got, "AtRisk") || strings.Contains(got, "ForecastMiss") {
		t.Errorf("alertmanager got %q: a withheld alert was refreshed", got)
	}
	if got := strings.Join(f.slack.sent(), " "); got != "OKRKeyResultOffTrack:firing OKRKeyResultOffTrack:firing" {
		t.Errorf("slack got %q, want the off-track alert and its repeat after 24h", got)
	}

	// Back to at risk: off_track resolves after keep_firing_for (1h); at
	// that evaluation at_risk, which still fires, is announced, and
	// forecast_miss stays withheld behind it.
	f.slack.batches, f.am.batches = nil, nil
	start := 60 + 24*60 + 1
	f.step(t, start, atRisk, true)
	f.step(t, start+60, atRisk, true)
	if got := strings.Join(f.slack.sent(), " "); got != "OKRKeyResultAtRisk:firing OKRKeyResultOffTrack:resolved" {
		t.Errorf("slack got %q, want off track resolved and at risk announced", got)
	}
	if s := f.states()["at_risk/grow/nps"]; s.Withheld || !s.FiredAt.Equal(mid.Add(60*time.Minute)) {
		t.Errorf("at_risk = %+v, want announced with its own start time", s)
	}

	// On track, still forecast to miss: at_risk resolves an hour later and
	// forecast_miss is announced.
	f.slack.batches = nil
	f.step(t, start+61, recovering, true)
	f.step(t, start+121, recovering, true)
	if got := strings.Join(f.slack.sent(), " "); got != "OKRKeyResultAtRisk:resolved OKRKeyResultForecastMiss:firing" {
		t.Errorf("slack got %q, want at risk resolved and the forecast miss announced", got)
	}
	f.slack.batches = nil
	f.step(t, start+122, done, true)
	f.step(t, start+182, done, true)
	if got := strings.Join(f.slack.sent(), " "); got != "OKRKeyResultForecastMiss:resolved" {
		t.Errorf("slack got %q, want the forecast miss resolved", got)
	}
}

func TestAWithheldAlertThatResolvesEndsSilently(t *testing.T) {
	f := inhibitionFixture(t, nil)
	f.step(t, 0, withForecast(offTrack, 0.4), true)
	f.step(t, 60, withForecast(offTrack, 0.4), true)
	// The forecast recovers while the key result stays off track: the
	// withheld forecast miss resolves without a word.
	f.step(t, 61, withForecast(offTrack, 0.95), true)
	f.step(t, 121, withForecast(offTrack, 0.95), true)
	if got := strings.Join(f.slack.sent(), " "); got != "OKRKeyResultOffTrack:firing" {
		t.Errorf("slack got %q, want the off-track alert only", got)
	}
	if _, ok := f.states()["forecast_miss/grow/nps"]; ok {
		t.Errorf("the forecast miss is still active: %+v", f.states())
	}
}

func TestAnAnnouncedAlertResolvesEvenWhileInhibited(t *testing.T) {
	f := inhibitionFixture(t, nil)
	// The forecast misses first (on track now), and is announced; then the
	// key result falls off track and the forecast recovers while it is.
	f.step(t, 0, withForecast(onTrack, 0.5), true)
	f.step(t, 60, withForecast(onTrack, 0.5), true)
	f.step(t, 61, withForecast(offTrack, 0.5), true)
	f.step(t, 121, withForecast(offTrack, 0.5), true)
	f.step(t, 122, withForecast(offTrack, 0.95), true)
	f.step(t, 182, withForecast(offTrack, 0.95), true)
	want := "OKRKeyResultForecastMiss:firing OKRKeyResultOffTrack:firing OKRKeyResultForecastMiss:resolved"
	if got := strings.Join(f.slack.sent(), " "); got != want {
		t.Errorf("slack got %q, want %q", got, want)
	}
}

func TestAWithheldAlertSurvivesARestart(t *testing.T) {
	st := openStore(t, t.TempDir())
	f := inhibitionFixture(t, st)
	f.step(t, 0, withForecast(offTrack, 0.4), true)
	f.step(t, 60, withForecast(offTrack, 0.4), true)
	// A new engine on the same database, as after a restart. The key result
	// is now only forecast to miss: off track resolves (it was announced)
	// and the forecast miss, withheld so far, is announced.
	g := inhibitionFixture(t, st)
	g.step(t, 61, withForecast(onTrack, 0.4), true)
	g.step(t, 121, withForecast(onTrack, 0.4), true)
	if got := strings.Join(g.slack.sent(), " "); got != "OKRKeyResultForecastMiss:firing OKRKeyResultOffTrack:resolved" {
		t.Errorf("after the restart slack got %q", got)
	}
}
