package httpjson

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const presetsDoc = "../../docs/sources/http_json.md"

// presets returns the TOML blocks of docs/sources/http_json.md that start
// with "# preset: NAME", by name.
func presets(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile(presetsDoc)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	re := regexp.MustCompile("(?s)```toml\n# preset: ([a-z]+)\n(.*?)```")
	for _, m := range re.FindAllStringSubmatch(string(data), -1) {
		out[m[1]] = m[2]
	}
	return out
}

// withURL points the preset's source at a fake.
func withURL(block, url string) string {
	return regexp.MustCompile(`(?m)^url = "[^"]*"$`).ReplaceAllString(block, `url = "`+url+`"`)
}

// apiError answers like the APIs do when a request is wrong.
func apiError(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	fmt.Fprint(w, body)
}

// Fakes of the four APIs: each checks the request as the real API would
// (method, path, credentials, required parameters) and answers with the
// documented response shape. The numbers of PostHog, Plausible and
// Amplitude are counted over the dates the request asks about, from
// events that happen by the hour (see signups), so that the answer tells
// which dates were asked.

// signups counts the sign-ups of the fakes' product in (from, to]: they
// happen at half past each hour, 3 + (hours since 1970 mod 5) + (days
// since 1970 mod 11) + (days since 1970 mod 1000) / 20 of them, a number
// that grows and that windows of 7 or 28 days starting on different days
// do not share.
func signups(from, to time.Time) int {
	n := 0
	for h := from.Truncate(time.Hour); !h.After(to); h = h.Add(time.Hour) {
		if at := h.Add(30 * time.Minute); at.After(from) && !at.After(to) {
			day := int(h.Unix() / 86400)
			n += 3 + int(h.Unix()/3600%5) + day%11 + day%1000/20
		}
	}
	return n
}

// visitors counts the visitors in (from, to] the same way: 200 + (hours
// since 1970 mod 13) + (days since 1970 mod 17) each hour.
func visitors(from, to time.Time) int {
	n := 0
	for h := from.Truncate(time.Hour); !h.After(to); h = h.Add(time.Hour) {
		if at := h.Add(30 * time.Minute); at.After(from) && !at.After(to) {
			n += 200 + int(h.Unix()/3600%13) + int(h.Unix()/86400%17)
		}
	}
	return n
}

// conversionRate is Plausible's conversion_rate of the sign-up goal in
// (from, to]: a percentage with two decimals.
func conversionRate(from, to time.Time) float64 {
	return math.Round(10000*float64(signups(from, to))/float64(visitors(from, to))) / 100
}

var hogQLWindow = regexp.MustCompile(`timestamp > toDateTime\('([^']+)'\) and timestamp <= toDateTime\('([^']+)'\)`)

func posthogFake(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer phx_test_personal_key" {
		apiError(w, 401, `{"type": "authentication_error", "code": "authentication_failed", "detail": "Personal API key found in request Authorization header is invalid.", "attr": null}`)
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/api/projects/12345/query/" {
		apiError(w, 404, `{"type": "invalid_request", "code": "not_found", "detail": "Not found.", "attr": null}`)
		return
	}
	var req struct {
		Query struct{ Kind, Query string }
	}
	if r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&req) != nil || req.Query.Kind != "HogQLQuery" ||
		!strings.HasPrefix(req.Query.Query, "select count() from events where event = 'user signed up'") {
		apiError(w, 400, `{"type": "validation_error", "code": "invalid_input", "detail": "Invalid query kind", "attr": "query"}`)
		return
	}
	// The fake reads the window the preset writes; HogQL's
	// toDateTime reads any ISO 8601 instant.
	m := hogQLWindow.FindStringSubmatch(req.Query.Query)
	var from, to time.Time
	var errF, errT error
	if m != nil {
		from, errF = time.Parse(time.RFC3339, m[1])
		to, errT = time.Parse(time.RFC3339, m[2])
	}
	if m == nil || errF != nil || errT != nil {
		apiError(w, 400, `{"type": "validation_error", "code": "invalid_input", "detail": "Unable to parse the query's dates", "attr": "query"}`)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"cache_key": "cache_6c9a1f", "cache_target_age": null, "clickhouse": "SELECT count() AS `+"`count()`"+` FROM events WHERE ...", "columns": ["count()"], "error": null, "explain": null, "hasMore": false, "hogql": %q, "is_cached": false, "last_refresh": "2026-11-15T12:00:00.123456Z", "limit": 100, "metadata": null, "modifiers": {"personsOnEventsMode": "person_id_override_properties_joined"}, "next_allowed_client_refresh": "2026-11-15T12:01:00Z", "offset": 0, "query": %q, "query_status": null, "results": [[%d]], "timezone": "UTC", "timings": [{"k": "./query", "t": 0.084}], "types": [["count()", "UInt64"]]}`,
		req.Query.Query, req.Query.Query, signups(from, to))
}

func plausibleFake(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer plausible-test-key" {
		apiError(w, 401, `{"error": "Invalid API key or site ID. Please make sure you're using a valid API key with access to the site you've requested."}`)
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/api/v2/query" {
		apiError(w, 404, `{"error": "Not found"}`)
		return
	}
	var q struct {
		SiteID    string          `json:"site_id"`
		Metrics   []string        `json:"metrics"`
		DateRange json.RawMessage `json:"date_range"`
		Filters   [][]any         `json:"filters"`
	}
	if err := json.NewDecoder(r.Body).Decode(&q); err != nil || q.SiteID == "" || len(q.Metrics) == 0 || len(q.DateRange) == 0 {
		apiError(w, 400, `{"error": "#/date_range: Required property date_range was not present."}`)
		return
	}
	if q.Metrics[0] != "conversion_rate" || len(q.Filters) != 1 || q.Filters[0][1] != "event:goal" {
		apiError(w, 400, `{"error": "Metric `+"`conversion_rate`"+` can only be queried with event:goal filters or dimensions."}`)
		return
	}
	// A range of two ISO 8601 instants, as the preset asks.
	var rng [2]string
	var from, to time.Time
	err := json.Unmarshal(q.DateRange, &rng)
	if err == nil {
		if from, err = time.Parse(time.RFC3339, rng[0]); err == nil {
			to, err = time.Parse(time.RFC3339, rng[1])
		}
	}
	if err != nil || !from.Before(to) {
		apiError(w, 400, `{"error": "#/date_range: Invalid date range `+string(q.DateRange)+`"}`)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	fmt.Fprintf(w, `{"results": [{"metrics": [%v], "dimensions": []}], "meta": {}, "query": {"site_id": "example.com", "metrics": ["conversion_rate"], "date_range": %s, "filters": [["is", "event:goal", ["Signup"]]], "dimensions": [], "order_by": [["conversion_rate", "desc"]], "include": {}, "pagination": {"limit": 10000, "offset": 0}}}`,
		conversionRate(from, to), q.DateRange)
}

// fakeMu guards the state the fakes share with the tests.
var fakeMu sync.Mutex

// mixpanelSeries is the "series" of the saved report the fake serves.
var mixpanelSeries = `{"Signed up": {"2026-10-18T00:00:00+00:00": 2210}}`

func setMixpanelSeries(s string) (restore func()) {
	fakeMu.Lock()
	defer fakeMu.Unlock()
	old := mixpanelSeries
	mixpanelSeries = s
	return func() { setMixpanelSeries(old) }
}

func mixpanelFake(w http.ResponseWriter, r *http.Request) {
	user, pw, ok := r.BasicAuth()
	if !ok || user != "okrd.1a2b3c.mp-service-account" || pw != "mp-test-secret" {
		apiError(w, 401, `{"error": "Unauthorized", "status": "error"}`)
		return
	}
	q := r.URL.Query()
	if r.Method != http.MethodGet || r.URL.Path != "/api/query/insights" {
		apiError(w, 404, `{"error": "not found", "status": "error"}`)
		return
	}
	if _, err := strconv.Atoi(q.Get("project_id")); err != nil {
		apiError(w, 400, `{"error": "project_id is required when authenticating with a service account", "status": "error"}`)
		return
	}
	if q.Get("bookmark_id") != "89012345" {
		apiError(w, 400, `{"error": "bookmark_id: invalid or missing report", "status": "error"}`)
		return
	}
	fakeMu.Lock()
	series := mixpanelSeries
	fakeMu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, `{"computed_at": "2026-11-15T11:59:12.352000+00:00", "date_range": {"from_date": "2026-10-18T00:00:00+00:00", "to_date": "2026-11-15T23:59:59.999000+00:00"}, "headers": ["$event"], "series": `+series+`}`)
}

// amplitudeRanges records the start and end dates the fake was asked.
var amplitudeRanges []string

func amplitudeFake(w http.ResponseWriter, r *http.Request) {
	user, pw, ok := r.BasicAuth()
	if !ok || user != "amp-api-key" || pw != "amp-secret-key" {
		http.Error(w, "Invalid Api-Key", http.StatusUnauthorized)
		return
	}
	if r.Method != http.MethodGet || r.URL.Path != "/api/2/events/segmentation" {
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query()
	var e struct {
		EventType string `json:"event_type"`
	}
	start, errS := time.Parse("20060102", q.Get("start"))
	end, errE := time.Parse("20060102", q.Get("end"))
	if json.Unmarshal([]byte(q.Get("e")), &e) != nil || e.EventType != "Checkout Completed" || errS != nil || errE != nil ||
		end.Before(start) || q.Get("m") != "uniques" || q.Get("i") != "1" {
		http.Error(w, "Bad request: invalid parameters e, start or end", http.StatusBadRequest)
		return
	}
	fakeMu.Lock()
	amplitudeRanges = append(amplitudeRanges, q.Get("start")+"-"+q.Get("end"))
	fakeMu.Unlock()
	// Both dates are included: the buyers from the start of start to the
	// end of end (in UTC, the test project's time zone).
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"data": {"series": [[120, 135, 128]], "seriesLabels": [0], "seriesCollapsed": [[{"setId": "", "value": %d}]], "xValues": ["2026-10-18", "2026-10-19", "2026-10-20"]}, "timeComputed": 1763208000000, "wasCached": false, "cacheFreshness": "FRESH", "novaRuntime": 412, "novaRequestDuration": 520, "novaCost": 1, "throttleTime": 0, "minSampleRate": 1, "backend": "novaV2"}`,
		signups(start, end.AddDate(0, 0, 1)))
}

func TestPresetsFromTheDocsRunAgainstTheRealShapes(t *testing.T) {
	t.Setenv("POSTHOG_PERSONAL_API_KEY", "phx_test_personal_key")
	t.Setenv("PLAUSIBLE_API_KEY", "plausible-test-key")
	t.Setenv("MIXPANEL_SERVICE_ACCOUNT_SECRET", "mp-test-secret")
	t.Setenv("AMPLITUDE_API_KEY", "amp-api-key")
	t.Setenv("AMPLITUDE_SECRET_KEY", "amp-secret-key")
	blocks := presets(t)
	fakeMu.Lock()
	amplitudeRanges = nil
	fakeMu.Unlock()
	// Each preset asks about the window of its key result at fixedNow,
	// 2026-11-15 12:00 UTC: PostHog the 7 days before, Plausible the 28
	// days before, Amplitude the 28 whole days from 2026-10-18 to
	// 2026-11-14. Mixpanel's saved report holds its own dates.
	for _, tc := range []struct {
		preset string
		fake   http.HandlerFunc
		want   float64
	}{
		{"posthog", posthogFake, float64(signups(fixedNow.AddDate(0, 0, -7), fixedNow))},
		{"plausible", plausibleFake, conversionRate(fixedNow.AddDate(0, 0, -28), fixedNow)},
		{"mixpanel", mixpanelFake, 2210},
		{"amplitude", amplitudeFake, float64(signups(time.Date(2026, 10, 18, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 15, 0, 0, 0, 0, time.UTC)))},
	} {
		t.Run(tc.preset, func(t *testing.T) {
			block, ok := blocks[tc.preset]
			if !ok {
				t.Fatalf("%s has no toml block starting with \"# preset: %s\"", presetsDoc, tc.preset)
			}
			rec := newRecorder(t, tc.fake)
			l := load(t, "", withURL(block, rec.URL))
			v, err := l.measure(t)
			if err != nil || v != tc.want {
				t.Fatalf("got %v, %v; want %v", v, err, tc.want)
			}
		})
	}
	// Measure ran at fixedNow (2026-11-15): a 28-day window starts on
	// 2026-10-18, and the last whole day is 2026-11-14. The poll ran at
	// the real time, with the same 28 days.
	fakeMu.Lock()
	defer fakeMu.Unlock()
	if len(amplitudeRanges) != 2 || amplitudeRanges[0] != "20261018-20261114" {
		t.Fatalf("amplitude ranges %v", amplitudeRanges)
	}
	s, _ := time.Parse("20060102", amplitudeRanges[1][:8])
	e, _ := time.Parse("20060102", amplitudeRanges[1][9:])
	if e.Sub(s) != 27*24*time.Hour {
		t.Errorf("the poll asked %s, not 28 whole days", amplitudeRanges[1])
	}
}

func TestPresetsReportAWrongCredentialOrReportShape(t *testing.T) {
	blocks := presets(t)
	t.Setenv("POSTHOG_PERSONAL_API_KEY", "phx_revoked")
	t.Setenv("MIXPANEL_SERVICE_ACCOUNT_SECRET", "mp-test-secret")
	t.Run("a revoked PostHog key", func(t *testing.T) {
		rec := newRecorder(t, posthogFake)
		l := load(t, "", withURL(blocks["posthog"], rec.URL))
		_, err := l.measure(t)
		want := `source "posthog": key result activation/weekly-signups: POST /api/projects/12345/query/: HTTP 401 Unauthorized (check bearer_token, basic_auth or secret_headers): {"type": "authentication_error", "code": "authentication_failed", "detail": "Personal API key found in request Authorization header is invalid.", "attr": null}`
		if err == nil || err.Error() != want {
			t.Fatalf("got  %v\nwant %s", err, want)
		}
	})
	t.Run("a Mixpanel report with one value per day", func(t *testing.T) {
		defer setMixpanelSeries(`{"Signed up": {"2026-11-13T00:00:00+00:00": 70, "2026-11-14T00:00:00+00:00": 81, "2026-11-15T00:00:00+00:00": 77}}`)()
		rec := newRecorder(t, mixpanelFake)
		l := load(t, "", withURL(blocks["mixpanel"], rec.URL))
		_, err := l.measure(t)
		want := `source "mixpanel": key result engagement/signups-28d: json_path $.series['Signed up'].* matches 3 values, want exactly 1`
		if err == nil || err.Error() != want {
			t.Fatalf("got  %v\nwant %s", err, want)
		}
	})
	t.Run("a Mixpanel single-number report keyed otherwise", func(t *testing.T) {
		defer setMixpanelSeries(`{"Signed up": {"all": 2210}}`)()
		rec := newRecorder(t, mixpanelFake)
		l := load(t, "", withURL(blocks["mixpanel"], rec.URL))
		if v, err := l.measure(t); err != nil || v != 2210 {
			t.Fatalf("got %v, %v", v, err)
		}
	})
}
