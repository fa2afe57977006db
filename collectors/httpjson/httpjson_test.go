package httpjson

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
)

// fixedNow is the measurement time of the tests: 2026-11-15 12:00 UTC,
// 45.5 days into 2026-Q4.
var fixedNow = time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)

// sourceDoc is a config with one http_json source "api" (settings are
// extra lines of its table) and one key result (kr are its binding lines).
func sourceDoc(settings, kr string) string {
	return `
[sources.api]
type = "http_json"
` + settings + `

[[objectives]]
id = "growth"
title = "Grow"
period = "2026-Q4"

  [[objectives.key_results]]
  id = "signups"
  title = "Weekly sign-ups from 100 to 250"
  source = "api"
` + kr + `
  baseline = 100
  target = 250
`
}

type loaded struct {
	src     collectors.Source
	bs      []collectors.Binding
	metrics *collectors.Metrics
	logs    *bytes.Buffer
}

func load(t *testing.T, dir, doc string) loaded {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	cfg, err := config.Parse([]byte(doc), filepath.Join(dir, "okrd.toml"))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	var logs bytes.Buffer
	m := collectors.NewMetrics(prometheus.NewRegistry())
	src, err := collectors.New(cfg.Sources[sourceName(cfg)], collectors.Deps{Metrics: m, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatalf("collectors.New: %v", err)
	}
	var bs []collectors.Binding
	for _, o := range cfg.Objectives {
		for _, kr := range o.KeyResults {
			bs = append(bs, collectors.Binding{Objective: o, KeyResult: kr})
		}
	}
	return loaded{src, bs, m, &logs}
}

// sourceName is the one source of cfg.
func sourceName(cfg *config.Config) string {
	for name := range cfg.Sources {
		return name
	}
	return ""
}

// measure runs the request through Measure at fixedNow, then through Poll,
// and checks that both agree.
func (l loaded) measure(t *testing.T) (float64, error) {
	t.Helper()
	ctx := context.Background()
	m := l.src.Measure(ctx, l.bs, fixedNow)[0]
	pollErr := l.src.Poll(ctx)
	if (m.Err == nil) != (pollErr == nil) {
		t.Fatalf("Measure error %v but Poll error %v", m.Err, pollErr)
	}
	if m.Err != nil {
		return 0, m.Err
	}
	return m.Value, nil
}

// recorder is an API that answers every request with a fixed answer and
// records the requests.
type recorder struct {
	*httptest.Server
	mu     sync.Mutex
	reqs   []*http.Request
	bodies []string
}

func newRecorder(t *testing.T, h http.HandlerFunc) *recorder {
	r := &recorder{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.reqs = append(r.reqs, req)
		r.bodies = append(r.bodies, string(b))
		r.mu.Unlock()
		req.Body = io.NopCloser(bytes.NewReader(b))
		h(w, req)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *recorder) first() (*http.Request, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reqs[0], r.bodies[0]
}

func jsonAnswer(code int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		fmt.Fprint(w, body)
	}
}

func TestGETWithCredentialsAndHeaders(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "api_key"), []byte("key-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("OKRD_TEST_TOKEN", "tok-from-env")
	rec := newRecorder(t, jsonAnswer(200, `{"data": {"signups": {"total": 1234, "by_day": [10, 20]}}}`))
	l := load(t, dir, sourceDoc(`url = "`+rec.URL+`/v1"
bearer_token = "${OKRD_TEST_TOKEN}"
headers = { "X-Team" = "growth" }
secret_headers = [{ name = "X-Api-Key", value_file = "api_key" }]`, `
  path = '/stats?site=example.com&since={{ date "2006-01-02" .WindowStart }}'
  json_path = "$.data.signups.total"`))
	v, err := l.measure(t)
	if err != nil || v != 1234 {
		t.Fatalf("got %v, %v; want 1234", v, err)
	}
	r, body := rec.first()
	// The window is the default 28d: 2026-11-15 minus 28 days is 2026-10-18.
	if r.Method != "GET" || r.URL.Path != "/v1/stats" || r.URL.RawQuery != "site=example.com&since=2026-10-18" || body != "" {
		t.Errorf("request %s %s?%s body %q", r.Method, r.URL.Path, r.URL.RawQuery, body)
	}
	for k, want := range map[string]string{
		"Authorization": "Bearer tok-from-env", "X-Team": "growth", "X-Api-Key": "key-from-file", "Accept": "application/json",
	} {
		if got := r.Header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	if got := testutil.ToFloat64(l.metrics.Requests.WithLabelValues("api", "200")); got != 2 {
		t.Errorf("okrd_source_requests_total{code=200} = %v, want 2", got)
	}
}

func TestPOSTBodyIsATemplateSentAsJSON(t *testing.T) {
	rec := newRecorder(t, jsonAnswer(200, `{"results": [{"metrics": [1069, "2648.5"], "dimensions": []}]}`))
	for _, tc := range []struct {
		name, kr, wantBody string
		want               float64
	}{
		{"the window's dates as ISO days",
			`body = '{"site_id": "example.com", "metrics": ["visitors"], "date_range": ["{{ date "2006-01-02" .WindowStart }}", "{{ date "2006-01-02" .Now }}"]}'
  json_path = "$.results[0].metrics[0]"`,
			`{"site_id": "example.com", "metrics": ["visitors"], "date_range": ["2026-10-18", "2026-11-15"]}`, 1069},
		// window = "period" starts at the period's start, 2026-10-01.
		{"the period's start for window = period, and a number in a string",
			`window = "period"
  body = '{"from": {{ unix .WindowStart }}, "to": {{ unix .PeriodEnd }}, "q": {{ json "say \"hi\"" }}}'
  json_path = "$.results[0].metrics[1]"`,
			`{"from": 1790812800, "to": 1798761600, "q": "say \"hi\""}`, 2648.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec.mu.Lock()
			rec.reqs, rec.bodies = nil, nil
			rec.mu.Unlock()
			l := load(t, "", sourceDoc(`url = "`+rec.URL+`"`, "  path = \"/api/v2/query\"\n  "+tc.kr))
			v, err := l.measure(t)
			if err != nil || v != tc.want {
				t.Fatalf("got %v, %v; want %v", v, err, tc.want)
			}
			r, body := rec.first()
			if r.Method != "POST" || r.URL.Path != "/api/v2/query" || r.Header.Get("Content-Type") != "application/json" || body != tc.wantBody {
				t.Errorf("request %s %s %v\nbody %s\nwant %s", r.Method, r.URL.Path, r.Header, body, tc.wantBody)
			}
		})
	}
}

func TestAnswersThatAreNotANumberSayWhy(t *testing.T) {
	const answer = `{"results": [[1234, null, true, "n/a", {"a": 1}, [1], 1e999, "NaN", " 42.5 "]], "hasMore": false}`
	for _, tc := range []struct {
		name, path string
		want       float64
		err        string
	}{
		{"a number is the value", "$.results[0][0]", 1234, ""},
		{"a wildcard that selects one node is fine", "$.results[*][0]", 1234, ""},
		{"a path that matches nothing names itself", "$.result[0][0]", 0, "json_path $.result[0][0] matches nothing in the answer"},
		{"an index past the end matches nothing", "$.results[0][99]", 0, "json_path $.results[0][99] matches nothing in the answer"},
		{"several matches are counted", "$.results[0][*]", 0, "json_path $.results[0][*] matches 9 values, want exactly 1"},
		{"a string holding a number is the value", "$.results[0][8]", 42.5, ""},
		{"null is not a zero", "$.results[0][1]", 0, "json_path $.results[0][1] is null, want a number"},
		{"a boolean is refused", "$.results[0][2]", 0, "json_path $.results[0][2] is a boolean, want a number"},
		{"a string that is not a number is quoted", "$.results[0][3]", 0, `json_path $.results[0][3] is the string "n/a", which is not a number`},
		{"an object is refused", "$.results[0][4]", 0, "json_path $.results[0][4] is an object, want a number (select one of its members)"},
		{"an array is refused", "$.results[0][5]", 0, "json_path $.results[0][5] is an array, want a number (select one of its elements, e.g. [0])"},
		{"a number too large for a float64 is refused", "$.results[0][6]", 0, "json_path $.results[0][6]: the number 1e999 does not fit a float64"},
		{"NaN is refused", "$.results[0][7]", 0, "json_path $.results[0][7] is NaN, want a finite number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder(t, jsonAnswer(200, answer))
			l := load(t, "", sourceDoc(`url = "`+rec.URL+`"`, `  json_path = "`+tc.path+`"`))
			v, err := l.measure(t)
			if tc.err == "" {
				if err != nil || v != tc.want {
					t.Fatalf("got %v, %v; want %v", v, err, tc.want)
				}
				return
			}
			want := `source "api": key result growth/signups: ` + tc.err
			if err == nil || err.Error() != want {
				t.Fatalf("got %v, %v\nwant %s", v, err, want)
			}
		})
	}
}

func TestHTTPErrorsSayWhatToFix(t *testing.T) {
	t.Setenv("OKRD_TEST_TOKEN", "tok-123-secret")
	for _, tc := range []struct {
		name       string
		handler    http.HandlerFunc
		err        string
		permanent  bool
		retryAfter bool
	}{
		{"401 names the credentials", jsonAnswer(401, `{"type": "authentication_error", "code": "authentication_failed", "detail": "Incorrect authentication credentials."}`),
			`GET /stats: HTTP 401 Unauthorized (check bearer_token, basic_auth or secret_headers): {"type": "authentication_error", "code": "authentication_failed", "detail": "Incorrect authentication credentials."}`, true, false},
		{"404 is the API's message", jsonAnswer(404, `{"detail": "Not found."}`),
			`GET /stats: HTTP 404 Not Found: {"detail": "Not found."}`, true, false},
		{"an echoed token is masked", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "bad header "+r.Header.Get("Authorization"), http.StatusBadRequest)
		}, `GET /stats: HTTP 400 Bad Request: bad header Bearer <secret>`, true, false},
		{"5xx is retried", jsonAnswer(502, `<html>Bad gateway</html>`),
			`GET /stats: HTTP 502 Bad Gateway: <html>Bad gateway</html>`, false, false},
		{"429 carries Retry-After", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(http.StatusTooManyRequests)
		}, `GET /stats: HTTP 429 Too Many Requests (rate limited)`, false, true},
		{"a redirect is not followed", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://other.example.com/stats/?token=abc", http.StatusMovedPermanently)
		}, `GET /stats: HTTP 301 Moved Permanently: redirects are not followed (credentials would follow them); set url or path to the final address https://other.example.com/stats/`, true, false},
		{"HTML is not JSON", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, "<!doctype html><title>Log in</title>")
		}, `GET /stats: the answer is not JSON (HTTP 200, Content-Type text/html; charset=utf-8, 36 bytes): invalid character '<' looking for beginning of value (at byte 1)`, false, false},
		{"an empty body is not JSON", func(w http.ResponseWriter, _ *http.Request) {},
			`GET /stats: the answer is not JSON (HTTP 200, Content-Type none, 0 bytes): the body is empty`, false, false},
		{"two JSON values are not one", jsonAnswer(200, `{"a": 1} {"a": 2}`),
			`GET /stats: the answer is not JSON (HTTP 200, Content-Type application/json, 17 bytes): unexpected data after the JSON value`, false, false},
		{"a slow API hits request_timeout", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(3 * time.Second):
			}
		}, `GET /stats: no answer within request_timeout (200ms)`, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder(t, tc.handler)
			l := load(t, "", sourceDoc(`url = "`+rec.URL+`"
request_timeout = "200ms"
bearer_token = "${OKRD_TEST_TOKEN}"`, `  path = "/stats"
  json_path = "$.a"`))
			_, err := l.measure(t)
			want := `source "api": key result growth/signups: ` + tc.err
			if err == nil || err.Error() != want && !(tc.retryAfter && strings.HasPrefix(err.Error(), want+" (retry after ")) {
				t.Fatalf("got  %v\nwant %s", err, want)
			}
			pollErr := l.src.Poll(context.Background())
			if collectors.IsPermanent(pollErr) != tc.permanent {
				t.Errorf("permanent = %v, want %v", collectors.IsPermanent(pollErr), tc.permanent)
			}
			var ra *collectors.RetryAfterError
			if got := errors.As(pollErr, &ra); got != tc.retryAfter {
				t.Errorf("retry-after = %v, want %v", got, tc.retryAfter)
			} else if got {
				if d := time.Until(ra.Until); d < 100*time.Second || d > 121*time.Second {
					t.Errorf("retry after %v, want about 120s", d)
				}
			}
			if strings.Contains(err.Error(), "tok-123-secret") || strings.Contains(l.logs.String(), "tok-123-secret") {
				t.Error("the token leaked")
			}
		})
	}
}

func TestConfigErrorsNameTheField(t *testing.T) {
	for _, tc := range []struct {
		name, settings, kr string
		want               []string
	}{
		{"json_path is required", `url = "https://api.example.com"`, ``,
			[]string{`objectives[0].key_results[0].json_path: required for an http_json source: the JSONPath of the number in the answer, like "$.results[0][0]"`}},
		{"json_path must be RFC 9535", `url = "https://api.example.com"`, `  json_path = "results.0.0"`,
			[]string{`objectives[0].key_results[0].json_path: not an RFC 9535 JSONPath: jsonpath: unexpected identifier at position 1`}},
		{"a GET has no body", `url = "https://api.example.com"`, `  method = "GET"
  body = "{}"
  json_path = "$.a"`,
			[]string{`objectives[0].key_results[0].body: needs method "POST" (a GET request has no body)`}},
		{"only GET and POST", `url = "https://api.example.com"
method = "DELETE"`, `  method = "PUT"
  json_path = "$.a"`, []string{
			`sources.api.method: must be "GET" or "POST", not "DELETE"`,
			`objectives[0].key_results[0].method: must be "GET" or "POST", not "PUT"`,
		}},
		{"path is appended to the url", `url = "https://api.example.com"`, `  path = "stats"
  json_path = "$.a"`,
			[]string{`objectives[0].key_results[0].path: must start with "/" or "?": it is appended to the source's url`}},
		{"a template must parse", `url = "https://api.example.com"`, `  path = "/s?d={{ date .Now"
  json_path = "$.a"`,
			[]string{`objectives[0].key_results[0].path: not a valid template: path:1: unclosed action`}},
		{"a template must run", `url = "https://api.example.com"`, `  path = "/s?d={{ .Today }}"
  json_path = "$.a"`,
			[]string{`objectives[0].key_results[0].path: template failed: path:1:8: executing "path" at <.Today>: can't evaluate field Today in type httpjson.templateData`}},
		{"a JSON body must be JSON", `url = "https://api.example.com"`, `  body = "{'site_id': 'x'}"
  json_path = "$.a"`,
			[]string{`objectives[0].key_results[0].body: is not valid JSON: invalid character '\'' looking for beginning of object key string (at byte 2)`}},
		{"keys of other source types are refused", `url = "https://api.example.com"`, `  query = "select 1"
  json_path = "$.a"`,
			[]string{`objectives[0].key_results[0].query: does not apply to an http_json source (its value comes from path, method, body and json_path)`}},
		{"url is required", ``, `  json_path = "$.a"`, []string{`sources.api.url: required`}},
		{"a Content-Length header is refused", `url = "https://api.example.com"
headers = { "content-length" = "3" }`, `  json_path = "$.a"`,
			[]string{`sources.api.headers.content-length: header Content-Length cannot be set here: it is computed from the body`}},
		{"a secret header needs a value", `url = "https://api.example.com"
secret_headers = [{ name = "X-Api-Key" }]`, `  json_path = "$.a"`,
			[]string{`sources.api.secret_headers[0].value: required (or set value_file)`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Parse([]byte(sourceDoc(tc.settings, tc.kr)), "")
			var es config.Errors
			if !errors.As(err, &es) {
				t.Fatalf("got %v, want config.Errors", err)
			}
			var got []string
			for _, e := range es {
				got = append(got, e.Path+": "+e.Msg)
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestAnotherContentTypeSkipsTheJSONCheck(t *testing.T) {
	rec := newRecorder(t, jsonAnswer(200, `{"count": 7}`))
	l := load(t, "", sourceDoc(`url = "`+rec.URL+`"
headers = { "Content-Type" = "application/x-www-form-urlencoded" }`, `  body = 'q=signups&since={{ date "20060102" .WindowStart }}'
  json_path = "$.count"`))
	if v, err := l.measure(t); err != nil || v != 7 {
		t.Fatalf("got %v, %v", v, err)
	}
	r, body := rec.first()
	if r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || body != "q=signups&since=20261018" {
		t.Errorf("content type %q body %q", r.Header.Get("Content-Type"), body)
	}
}
