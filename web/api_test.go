package web

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/okrd/okrd/checkins"
	// The prometheus source type, for a key result that takes no check-in.
	_ "github.com/okrd/okrd/collectors/promql"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/store"
	"github.com/okrd/okrd/store/sqlite"
)

// checkinTestConfig has a manual key result of every unit that bounds its
// values, and one that a source measures.
const checkinTestConfig = `
[server]
api_token = "s3cret-token"

[sources.prom]
type = "prometheus"
url = "http://prometheus.invalid:9090"

[[objectives]]
id = "grow"
title = "Grow the product"
period = "2026-Q4"

  [[objectives.key_results]]
  id = "nps"
  title = "NPS from 31 to 40"
  baseline = 31
  target = 40

  [[objectives.key_results]]
  id = "activation"
  title = "Activation from 30% to 40%"
  baseline = 0.3
  target = 0.4
  unit = "ratio"

  [[objectives.key_results]]
  id = "uptime"
  title = "Uptime from 99 to 99.9 percent"
  baseline = 99
  target = 99.9
  unit = "percent"

  [[objectives.key_results]]
  id = "onboarding"
  title = "Onboarding time from 2 days to 1"
  baseline = 172800
  target = 86400
  unit = "duration"

  [[objectives.key_results]]
  id = "latency"
  title = "p95 latency"
  source = "prom"
  query = "1"
  baseline = 1
  target = 0.5
  unit = "duration"
`

// checkinBackend records check-ins the way the daemon does: through
// checkins.Record into a real SQLite store, at a fixed clock (benchNow,
// 2026-11-15T12:00:00Z).
type checkinBackend struct {
	*fakeBackend
	st store.Store
}

func (c *checkinBackend) Store() store.Store { return c.st }
func (c *checkinBackend) AddCheckin(ctx context.Context, req checkins.Request) (store.Checkin, error) {
	return checkins.Record(ctx, c.cfg, c.st, req, benchNow)
}

func (c *checkinBackend) AddConfidence(ctx context.Context, req checkins.ConfidenceRequest) (store.Confidence, error) {
	return checkins.RecordConfidence(ctx, c.cfg, c.st, req, benchNow)
}

func newCheckinHandler(t *testing.T) (*Handler, *checkinBackend) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "okrd.toml")
	if err := os.WriteFile(path, []byte(checkinTestConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "okrd.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	b := &checkinBackend{fakeBackend: &fakeBackend{cfg: cfg, reg: prometheus.NewRegistry()}, st: st}
	return NewHandler(b, slog.New(slog.DiscardHandler)), b
}

// storedCheckins counts the check-ins of every key result of grow.
func storedCheckins(t *testing.T, b *checkinBackend) int {
	t.Helper()
	n := 0
	for _, kr := range []string{"nps", "activation", "uptime", "onboarding", "latency"} {
		cs, err := b.st.Checkins(context.Background(), "grow", kr, 0)
		if err != nil {
			t.Fatal(err)
		}
		n += len(cs)
	}
	return n
}

func postCheckin(h http.Handler, kr, auth, contentType, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", "/api/v1/objectives/grow/key_results/"+kr+"/checkins", strings.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// errorOf returns the message of a JSON error answer.
func errorOf(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var e struct{ Error string }
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == "" {
		t.Fatalf("not a JSON error (%v): %s", err, rec.Body.String())
	}
	return e.Error
}

// goTypeName matches what encoding/json puts in its errors about Go types
// ("web.checkinBody", "float64", "Go struct field").
var goTypeName = regexp.MustCompile(`\bweb\.|\bfloat64\b|\bstring\b into|Go (value|struct)|json: `)

func TestInvalidCheckinsAreRefusedNamingTheFieldAndNothingIsStored(t *testing.T) {
	h, b := newCheckinHandler(t)
	const auth = "Bearer s3cret-token"
	for _, tc := range []struct {
		name, kr, body string
		code           int
		msg            string
	}{
		// The time: a real instant, not more than a day ahead of now (2026-11-15T12:00:00Z).
		{"The zero time is not taken as now.", "nps", `{"value": 36, "at": "0001-01-01T00:00:00Z"}`, 400,
			`body: "at": 0001-01-01T00:00:00Z is the zero time, not a real instant; leave it out to record the value as of now`},
		{"A time before 1970 is refused.", "nps", `{"value": 36, "at": "1969-12-31T23:59:59Z"}`, 400,
			`body: "at": 1969-12-31T23:59:59Z is before 1970-01-01T00:00:00Z`},
		{"A time more than a day ahead is refused.", "nps", `{"value": 36, "at": "2026-11-16T12:00:01Z"}`, 400,
			`body: "at": 2026-11-16T12:00:01Z is more than a day in the future (now is 2026-11-15T12:00:00Z)`},
		{"A time that is not a time names the field.", "nps", `{"value": 36, "at": "soon"}`, 400,
			`body: "at": "soon" is not an RFC 3339 time (2026-11-25T10:00:00Z) or a date (2026-11-25)`},
		{"A time given as a number names the field.", "nps", `{"value": 36, "at": 1763208000}`, 400,
			`body: "at": must be a string such as "2026-11-25T10:00:00Z" or "2026-11-25", not a JSON number`},

		// The value: a finite number within its unit's range.
		{"A ratio above 1 is refused.", "activation", `{"value": 35}`, 400,
			`body: "value": must be between 0 and 1 for a key result with unit "ratio" (write 40% as 0.4), not 35`},
		{"A negative ratio is refused.", "activation", `{"value": -0.1}`, 400,
			`body: "value": must be between 0 and 1 for a key result with unit "ratio"`},
		{"A percentage above 100 is refused.", "uptime", `{"value": 100.5}`, 400,
			`body: "value": must be between 0 and 100 for a key result with unit "percent", not 100.5`},
		{"A negative percentage is refused.", "uptime", `{"value": -1}`, 400,
			`body: "value": must be between 0 and 100 for a key result with unit "percent", not -1`},
		{"A negative duration is refused.", "onboarding", `{"value": -60}`, 400,
			`body: "value": must not be negative for a key result with unit "duration" (seconds), not -60`},
		{"A value too large for a number is refused.", "nps", `{"value": 1e999}`, 400,
			`body: "value": must be a finite number, not 1e999`},
		{"A string value names the field and the JSON type.", "nps", `{"value": "36"}`, 400,
			`body: "value": must be a number, not a JSON string`},
		{"A boolean value names the field and the JSON type.", "nps", `{"value": true}`, 400,
			`body: "value": must be a number, not a JSON boolean`},
		{"A missing value is not zero.", "nps", `{"note": "x"}`, 400,
			`body: "value": required (a number, such as {"value": 42})`},
		{"A null value is a missing value.", "nps", `{"value": null}`, 400,
			`body: "value": required`},
		{"A note that is not a string names the field.", "nps", `{"value": 36, "note": {"text": "x"}}`, 400,
			`body: "note": must be a string, not a JSON object`},
		{"An author that is not a string names the field.", "nps", `{"value": 36, "author": ["ana"]}`, 400,
			`body: "author": must be a string, not a JSON array`},
		{"A note longer than 4000 bytes names the field.", "nps", `{"value": 36, "note": "` + strings.Repeat("n", 4001) + `"}`, 400,
			`body: "note": longer than 4000 bytes`},
		{"An author longer than 200 bytes names the field.", "nps", `{"value": 36, "author": "` + strings.Repeat("a", 201) + `"}`, 400,
			`body: "author": longer than 200 bytes`},

		// The shape of the body.
		{"An unknown field is named.", "nps", `{"value": 36, "vlaue": 37}`, 400,
			`body: unknown field "vlaue" (the fields are value, at, author, note, confidence)`},
		{"A field given twice is refused.", "nps", `{"value": 36, "value": 37}`, 400,
			`body: "value": given twice`},
		{"A second object after the first is refused.", "nps", `{"value": 36} {"value": 37}`, 400,
			"body: unexpected data after the JSON object"},
		{"A stray closing brace is refused.", "nps", `{"value": 36}}`, 400,
			"body: unexpected data after the JSON object"},
		{"Text after the object is refused.", "nps", `{"value": 36} thanks`, 400,
			"body: unexpected data after the JSON object"},
		{"An array is not an object, and no Go type is named.", "nps", `[{"value": 36}]`, 400,
			`body: must be a JSON object such as {"value": 42}, not an array`},
		{"A bare number is not an object.", "nps", `36`, 400,
			`body: must be a JSON object such as {"value": 42}, not a number`},
		{"A bare string is not an object.", "nps", `"36"`, 400,
			`body: must be a JSON object such as {"value": 42}, not a string`},
		{"An empty body says what to send.", "nps", ``, 400,
			`body: empty; want a JSON object such as {"value": 42}`},
		{"A truncated object is refused.", "nps", `{"value": 36`, 400,
			"body: invalid JSON: the body ends before the JSON value does"},
		{"Malformed JSON says where.", "nps", `{"value": }`, 400,
			"body: invalid JSON at byte 11: invalid character '}' looking for beginning of value"},

		// What cannot take a check-in.
		{"A key result measured by a source takes no check-in.", "latency", `{"value": 0.4}`, 409,
			`grow/latency is measured by source "prom"`},
		{"An unknown key result lists the ids.", "nope", `{"value": 1}`, 404,
			`key result "nope" does not exist in objective "grow" (key results: activation, latency, nps, onboarding, uptime)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := postCheckin(h, tc.kr, auth, "application/json", tc.body)
			msg := errorOf(t, rec)
			if rec.Code != tc.code || !strings.Contains(msg, tc.msg) {
				t.Errorf("got %d %q\nwant %d with %q", rec.Code, msg, tc.code, tc.msg)
			}
			if m := goTypeName.FindString(msg); m != "" {
				t.Errorf("the error names a Go type (%q): %s", m, msg)
			}
		})
	}
	if n := storedCheckins(t, b); n != 0 {
		t.Errorf("%d rejected check-ins were stored", n)
	}
}

func TestValidCheckinsAtTheEdgesAreStored(t *testing.T) {
	h, b := newCheckinHandler(t)
	for _, tc := range []struct {
		name, kr, auth, contentType, body string
		wantAt                            string
	}{
		{"A time exactly a day ahead is accepted.", "nps", "Bearer s3cret-token", "application/json",
			`{"value": 36, "at": "2026-11-16T12:00:00Z"}`, "2026-11-16T12:00:00Z"},
		{"The first second of 1970 is accepted.", "nps", "Bearer s3cret-token", "application/json",
			`{"value": 36, "at": "1970-01-01T00:00:00Z"}`, "1970-01-01T00:00:00Z"},
		{"A missing time is now.", "activation", "Bearer s3cret-token", "application/json",
			`{"value": 1}`, "2026-11-15T12:00:00Z"},
		{"A null time is now.", "activation", "Bearer s3cret-token", "application/json",
			`{"value": 0, "at": null, "note": null}`, "2026-11-15T12:00:00Z"},
		{"A percentage of 100 is accepted.", "uptime", "Bearer s3cret-token", "application/json; charset=utf-8",
			`{"value": 100}`, "2026-11-15T12:00:00Z"},
		{"The auth scheme is case-insensitive (RFC 7235).", "onboarding", "bearer s3cret-token", "application/json",
			`{"value": 0}`, "2026-11-15T12:00:00Z"},
		{"The auth scheme may be upper case and followed by several spaces.", "onboarding", "BEARER   s3cret-token", "",
			`{"value": 90000}`, "2026-11-15T12:00:00Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := postCheckin(h, tc.kr, tc.auth, tc.contentType, tc.body)
			if rec.Code != 201 || !strings.Contains(rec.Body.String(), `"at": "`+tc.wantAt+`"`) {
				t.Errorf("got %d %s, want 201 at %s", rec.Code, rec.Body.String(), tc.wantAt)
			}
		})
	}
	if n := storedCheckins(t, b); n != 7 {
		t.Errorf("%d check-ins stored, want 7", n)
	}
}

func TestCheckinAuthorizationIsRefusedWithoutTheRightBearerToken(t *testing.T) {
	h, b := newCheckinHandler(t)
	for _, tc := range []struct{ name, auth string }{
		{"No header is refused.", ""},
		{"A wrong token is refused.", "Bearer nope"},
		{"The scheme without a token is refused.", "Bearer"},
		{"The token without the scheme is refused.", "s3cret-token"},
		{"Basic auth is not a bearer token.", "Basic czNjcmV0LXRva2Vu"},
		{"A token with a suffix is refused.", "Bearer s3cret-token2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := postCheckin(h, "nps", tc.auth, "application/json", `{"value": 36}`)
			if rec.Code != 401 || !strings.Contains(rec.Body.String(), "missing or wrong bearer token") ||
				rec.Header().Get("WWW-Authenticate") != `Bearer realm="okrd"` {
				t.Errorf("got %d %s %v", rec.Code, rec.Body.String(), rec.Header())
			}
		})
	}
	if n := storedCheckins(t, b); n != 0 {
		t.Errorf("%d unauthorized check-ins were stored", n)
	}
}

func TestACheckinBodyOverTheLimitGets413AndNothingIsStored(t *testing.T) {
	h, b := newCheckinHandler(t)
	// A valid check-in but for its size: a note of 70,000 bytes.
	body := `{"value": 36, "note": "` + strings.Repeat("x", 70_000) + `"}`
	want := `body: larger than 65536 bytes; a check-in is a small JSON object (a note has at most 4000 bytes)`
	for _, tc := range []struct {
		name    string
		chunked bool
	}{
		{"A body announced by Content-Length is refused before it is read.", false},
		{"A chunked body is refused once it passes the limit.", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "/api/v1/objectives/grow/key_results/nps/checkins", strings.NewReader(body))
			if tc.chunked {
				req.ContentLength = -1
			}
			req.Header.Set("Authorization", "Bearer s3cret-token")
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 413 || !strings.Contains(rec.Body.String(), want) {
				t.Errorf("got %d %s", rec.Code, rec.Body.String())
			}
		})
	}
	if n := storedCheckins(t, b); n != 0 {
		t.Errorf("%d oversized check-ins were stored", n)
	}
}

func TestACheckinBodyThatIsNotJSONGets415(t *testing.T) {
	h, b := newCheckinHandler(t)
	rec := postCheckin(h, "nps", "Bearer s3cret-token", "text/plain", `{"value": 36}`)
	if rec.Code != 415 || !strings.Contains(rec.Body.String(), "Content-Type must be application/json") {
		t.Errorf("got %d %s", rec.Code, rec.Body.String())
	}
	if n := storedCheckins(t, b); n != 0 {
		t.Errorf("%d check-ins were stored", n)
	}
}

// FuzzCheckinBody feeds arbitrary bodies to the decoder: it must not panic,
// and an error must never name a Go type.
func FuzzCheckinBody(f *testing.F) {
	for _, s := range []string{`{"value": 1}`, `{"value": 1, "at": "2026-11-01", "author": "a", "note": "n"}`, `[1]`,
		`{"value": "x"}`, `{"value": 1}}`, `{"at": 5}`, `null`, `{"value": 1e999}`, `{"value":1,"value":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		_, err := decodeCheckin(body, time.UTC)
		if err != nil {
			if m := goTypeName.FindString(err.Error()); m != "" {
				t.Errorf("%q: the error names a Go type (%q): %v", body, m, err)
			}
		}
	})
}

func TestTheHistoryEndpointSaysWhatKindEachValueIs(t *testing.T) {
	h, _ := newPageHandler(t)
	type value struct {
		At     time.Time `json:"at"`
		Value  float64   `json:"value"`
		Origin string    `json:"origin"`
		Kind   string    `json:"kind"`
	}
	read := func(path string) []value {
		t.Helper()
		rec := get(t, h, "GET", path)
		var out struct {
			Values []value `json:"values"`
		}
		if rec.Code != 200 {
			t.Fatalf("%s: %d %s", path, rec.Code, rec.Body.String())
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return out.Values
	}
	// "done" (newPageHandler): 46 values filled in from Jira's records,
	// then two live ones; the filled-in midnight of Nov 15 lies between.
	done := read("/api/v1/objectives/grow/key_results/done/history")
	kinds := map[string]int{}
	for _, v := range done {
		kinds[v.Kind]++
		if want := map[string]string{"history:jira": "filled", "source:jira": "live"}[v.Origin]; v.Kind != want {
			t.Errorf("value at %s of origin %q has kind %q, want %q", v.At, v.Origin, v.Kind, want)
		}
	}
	if kinds["filled"] != 46 || kinds["live"] != 2 || len(done) != 48 {
		t.Errorf("kinds %v of %d values, want 46 filled and 2 live", kinds, len(done))
	}
	first, last := done[0], done[len(done)-1]
	if want := (value{q4.Start, 0, "history:jira", "filled"}); first != want {
		t.Errorf("first value %+v, want %+v", first, want)
	}
	if want := (value{time.Date(2026, 11, 15, 11, 0, 0, 0, time.UTC), 22.8, "source:jira", "live"}); last != want {
		t.Errorf("last value %+v, want %+v", last, want)
	}
	for _, v := range read("/api/v1/objectives/grow/key_results/nps/history") {
		if v.Kind != "checkin" || !strings.HasPrefix(v.Origin, "checkin:") {
			t.Errorf("nps value %+v, want a check-in", v)
		}
	}
}
