package httpjson

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/okrd/okrd/collectors"
)

// history asks l's source for its key result's values at the instants at.
func (l loaded) history(t *testing.T, at []time.Time) []collectors.Measurement {
	t.Helper()
	hs, ok := l.src.(collectors.Historian)
	if !ok {
		t.Fatal("an http_json source is no collectors.Historian")
	}
	return hs.History(context.Background(), []collectors.HistoryRequest{{Binding: l.bs[0], At: at}})[0]
}

func (l loaded) canHistory() bool {
	return l.src.(collectors.HistoryCapable).CanHistory(l.bs[0])
}

// q4Midnights are the period start and the midnights (UTC) of 2026-Q4 up
// to fixedNow.
func q4Midnights() []time.Time {
	var at []time.Time
	for d := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC); d.Before(fixedNow); d = d.AddDate(0, 0, 1) {
		at = append(at, d)
	}
	return at
}

// The presets whose request takes the window's dates fill in: at every
// instant, the value is what a live request with the clock at that
// instant gets, and that is the API's number over the window ending then.
func TestPresetsThatTakeDatesFillInTheirHistory(t *testing.T) {
	t.Setenv("POSTHOG_PERSONAL_API_KEY", "phx_test_personal_key")
	t.Setenv("PLAUSIBLE_API_KEY", "plausible-test-key")
	t.Setenv("MIXPANEL_SERVICE_ACCOUNT_SECRET", "mp-test-secret")
	t.Setenv("AMPLITUDE_API_KEY", "amp-api-key")
	t.Setenv("AMPLITUDE_SECRET_KEY", "amp-secret-key")
	blocks := presets(t)
	day := 24 * time.Hour
	for _, tc := range []struct {
		preset string
		fake   func(w http.ResponseWriter, r *http.Request)
		// at is the API's number over the window of the key result at t.
		at func(t time.Time) float64
	}{
		{"posthog", posthogFake, func(t time.Time) float64 { return float64(signups(t.AddDate(0, 0, -7), t)) }},
		{"plausible", plausibleFake, func(t time.Time) float64 { return conversionRate(t.AddDate(0, 0, -28), t) }},
		// The 28 whole days before t's day.
		{"amplitude", amplitudeFake, func(t time.Time) float64 {
			end := t.Truncate(day)
			return float64(signups(end.AddDate(0, 0, -28), end))
		}},
	} {
		t.Run(tc.preset, func(t *testing.T) {
			rec := newRecorder(t, tc.fake)
			block := withURL(blocks[tc.preset], rec.URL)
			l := load(t, "", block)
			if !l.canHistory() {
				t.Fatal("the preset cannot be filled in")
			}
			at := q4Midnights()
			got := l.history(t, at)
			if n := len(rec.reqs); n != len(at) {
				t.Errorf("%d requests for %d instants", n, len(at))
			}
			distinct := map[float64]bool{}
			for i, ts := range at {
				// A live measurement with the clock at ts, by a source
				// that has not measured before.
				live := load(t, "", block).src.Measure(context.Background(), l.bs, ts)[0]
				want := tc.at(ts)
				if m := got[i]; !m.OK || m.Value != want || !live.OK || live.Value != want {
					t.Errorf("at %s: filled in %+v, live %+v, want %v", ts, m, live, want)
				}
				distinct[want] = true
			}
			if len(distinct) < 10 {
				t.Errorf("only %d distinct values over %d instants: the fake does not tell the windows apart", len(distinct), len(at))
			}
		})
	}
}

// Mixpanel's saved report holds its own date range: its request is the
// same at every instant, so the key result has live history only.
func TestARequestThatDoesNotDependOnTheInstantIsLiveOnly(t *testing.T) {
	t.Setenv("MIXPANEL_SERVICE_ACCOUNT_SECRET", "mp-test-secret")
	rec := newRecorder(t, mixpanelFake)
	l := load(t, "", withURL(presets(t)["mixpanel"], rec.URL))
	if l.canHistory() {
		t.Fatal("the Mixpanel preset can be filled in")
	}
	for _, m := range l.history(t, q4Midnights()[:3]) {
		if m.OK || m.Err == nil || !strings.HasSuffix(m.Err.Error(), "key result engagement/signups-28d: is measured live only: its value cannot be asked for a past instant") {
			t.Errorf("got %+v", m)
		}
	}
	if len(rec.reqs) != 0 {
		t.Errorf("%d requests sent", len(rec.reqs))
	}
	// A request whose path depends on the period only is live only too.
	l = load(t, "", sourceDoc(`url = "`+rec.URL+`"`, `  path = '/stats?from={{ date "2006-01-02" .PeriodStart }}'
  json_path = "$.value"`))
	if l.canHistory() {
		t.Error("a request over the period only can be filled in")
	}
}

func TestAHistoryRequestErrorNamesTheInstantAndANullIsNoValue(t *testing.T) {
	n := 0
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		n++
		switch {
		case n == 2:
			jsonAnswer(200, `{"value": null}`)(w, r)
		case n == 3:
			jsonAnswer(500, `{"error": "overloaded"}`)(w, r)
		default:
			jsonAnswer(200, `{"value": 7}`)(w, r)
		}
	})
	l := load(t, "", sourceDoc(`url = "`+rec.URL+`"`, `  path = '/stats?to={{ unix .Now }}'
  json_path = "$.value"`))
	at := q4Midnights()[:4]
	got := l.history(t, at)
	if !got[0].OK || got[0].Value != 7 {
		t.Errorf("first %+v", got[0])
	}
	if got[1].OK || got[1].Err != nil {
		t.Errorf("a null is no value, got %+v", got[1])
	}
	const want = `source "api": key result growth/signups: at 2026-10-03T00:00:00Z: GET /stats: HTTP 500 Internal Server Error: {"error": "overloaded"}`
	for _, m := range got[2:] {
		if m.OK || m.Err == nil || m.Err.Error() != want {
			t.Errorf("got %+v\nwant the error %s", m, want)
		}
	}
	if n != 3 {
		t.Errorf("%d requests, want 3 (none after the error)", n)
	}
	if q := rec.reqs[0].URL.Query().Get("to"); q != "1790812800" {
		t.Errorf("the first request asked to=%s, want the Unix time of 2026-10-01T00:00:00Z", q)
	}
}
