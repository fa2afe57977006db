package promql

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
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

// sourceDoc is a config with one prometheus source (settings are extra
// lines of its table) and one key result bound to it by query.
func sourceDoc(settings, query string) string {
	return `
[sources.metrics]
type = "prometheus"
` + settings + `

[[objectives]]
id = "reliability"
title = "Be reliable"
period = "2026-Q4"

  [[objectives.key_results]]
  id = "availability"
  title = "Checkout availability"
  source = "metrics"
  query = '''` + query + `'''
  baseline = 0.99
  target = 0.999
`
}

type loaded struct {
	src     collectors.Source
	bs      []collectors.Binding
	metrics *collectors.Metrics
	logs    *bytes.Buffer
}

// load parses doc (written into dir, so relative *_file keys resolve
// there) and builds its "metrics" source.
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
	src, err := collectors.New(cfg.Sources["metrics"], collectors.Deps{Metrics: m, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
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

// measure runs the key result's query through Measure (live, as on the
// first poll) and then through Poll, and checks that both agree.
func (l loaded) measure(t *testing.T) (float64, error) {
	t.Helper()
	ctx := context.Background()
	m := l.src.Measure(ctx, l.bs, time.Now())[0]
	pollErr := l.src.Poll(ctx)
	if (m.Err == nil) != (pollErr == nil) {
		t.Fatalf("Measure error %v but Poll error %v", m.Err, pollErr)
	}
	if m.Err != nil {
		if want := `source "metrics": ` + pollErr.Error(); m.Err.Error() != want {
			t.Fatalf("Measure error %q, Poll error %q", m.Err, pollErr)
		}
		return 0, m.Err
	}
	return m.Value, nil
}

// fakeProm is a Prometheus HTTP API that answers /api/v1/query with the
// recorded body for each query, and records what it was asked.
type fakeProm struct {
	*httptest.Server
	mu       sync.Mutex
	requests []*http.Request
	forms    []url.Values
	answers  map[string]answer
}

type answer struct {
	code int
	body string
}

func newFakeProm(t *testing.T, tlsServer bool, answers map[string]answer) *fakeProm {
	f := &fakeProm{answers: answers}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/query" {
			http.NotFound(w, r)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		f.mu.Lock()
		f.requests = append(f.requests, r)
		f.forms = append(f.forms, r.PostForm)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		a, ok := f.answers[r.PostForm.Get("query")]
		if !ok {
			a = answer{400, `{"status":"error","errorType":"bad_data","error":"unexpected query in the fake"}`}
		}
		w.WriteHeader(a.code)
		fmt.Fprint(w, a.body)
	})
	f.Server = httptest.NewUnstartedServer(h)
	// Handshakes the tests expect to fail are not worth a log line.
	f.Config.ErrorLog = log.New(io.Discard, "", 0)
	if tlsServer {
		f.StartTLS()
	} else {
		f.Start()
	}
	t.Cleanup(f.Close)
	return f
}

// Answers recorded from Prometheus 2.42 (/api/v1/query).
var promAnswers = map[string]answer{
	"1":                                    {200, `{"status":"success","data":{"resultType":"scalar","result":[1763208000.123,"1"]}}`},
	"scalar(up)":                           {200, `{"status":"success","data":{"resultType":"scalar","result":[1763208000.123,"0.9991"]}}`},
	`avg_over_time(probe_success[28d])`:    {200, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"instance":"checkout","job":"blackbox"},"value":[1763208000.123,"0.9987"]}]}}`},
	`probe_success{job="nope"}`:            {200, `{"status":"success","data":{"resultType":"vector","result":[]}}`},
	`probe_success`:                        {200, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"probe_success","instance":"checkout","job":"blackbox"},"value":[1763208000.123,"1"]},{"metric":{"__name__":"probe_success","instance":"api","job":"blackbox"},"value":[1763208000.123,"1"]},{"metric":{"__name__":"probe_success","instance":"web","job":"blackbox"},"value":[1763208000.123,"0"]},{"metric":{"__name__":"probe_success","instance":"cdn","job":"blackbox"},"value":[1763208000.123,"1"]}]}}`},
	`probe_success[5m]`:                    {200, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"probe_success","instance":"checkout","job":"blackbox"},"values":[[1763207700,"1"],[1763208000,"1"]]}]}}`},
	`"hello"`:                              {200, `{"status":"success","data":{"resultType":"string","result":[1763208000.123,"hello"]}}`},
	`sum(errors) / sum(requests)`:          {200, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1763208000.123,"NaN"]}]}}`},
	`sum(rate(http_requests_total[5m]`:     {400, `{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:33: parse error: unclosed left parenthesis"}`},
	`sum(slow)`:                            {503, `{"status":"error","errorType":"timeout","error":"query timed out in expression evaluation"}`},
	`a * on() group_left b`:                {422, `{"status":"error","errorType":"execution","error":"found duplicate series for the match group {} on the right hand-side of the operation"}`},
	`count(up) with warnings`:              {200, `{"status":"success","warnings":["PromQL info: metric might not be a counter"],"data":{"resultType":"vector","result":[{"metric":{},"value":[1763208000.123,"7"]}]}}`},
	`sum(rate(checkout_errors_total[1h]))`: {200, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1763208000.123,"0.0125"]}]}}`},
}

func TestQueriesReturnAScalarOrOneSampleOrSayWhyNot(t *testing.T) {
	f := newFakeProm(t, false, promAnswers)
	const prefix = `source "metrics": key result reliability/availability: `
	for _, tc := range []struct {
		name, query string
		want        float64
		err         string
		permanent   bool
	}{
		{name: "a scalar is the value", query: "scalar(up)", want: 0.9991},
		{name: "a vector of one sample is the value", query: "avg_over_time(probe_success[28d])", want: 0.9987},
		{name: "an aggregate without labels is the value", query: "sum(rate(checkout_errors_total[1h]))", want: 0.0125},
		{name: "an empty vector is an error, not a zero", query: `probe_success{job="nope"}`,
			err: "query returned an empty vector: no series matched (check the metric name and labels, or add `or vector(0)` if no data means zero)"},
		{name: "several series are named", query: "probe_success",
			err: `query returned 4 series, want exactly 1 (aggregate them, e.g. with sum(), or select one with labels): probe_success{instance="api", job="blackbox"}, probe_success{instance="cdn", job="blackbox"}, probe_success{instance="checkout", job="blackbox"}, and 1 more`},
		{name: "a range vector is refused", query: "probe_success[5m]", permanent: true,
			err: "query returned a range vector (1 series), want a scalar or an instant vector: remove the [range] selector or wrap it in a function such as rate() or max_over_time()"},
		{name: "a string is refused", query: `"hello"`, permanent: true,
			err: "query returned a string, want a scalar or an instant vector"},
		{name: "NaN is refused", query: "sum(errors) / sum(requests)",
			err: "query returned NaN, want a finite number (a division by zero?)"},
		{name: "a bad query is Prometheus's message", query: "sum(rate(http_requests_total[5m]", permanent: true,
			err: `Prometheus rejected the query: invalid parameter "query": 1:33: parse error: unclosed left parenthesis`},
		{name: "a timeout in Prometheus names query_timeout", query: "sum(slow)",
			err: "query exceeded query_timeout (30s) in Prometheus: query timed out in expression evaluation"},
		{name: "an execution error is Prometheus's message", query: "a * on() group_left b",
			err: "Prometheus could not run the query: found duplicate series for the match group {} on the right hand-side of the operation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := load(t, "", sourceDoc(`url = "`+f.URL+`"`, tc.query))
			got, err := l.measure(t)
			if tc.err == "" {
				if err != nil || got != tc.want {
					t.Fatalf("got %v, %v; want %v", got, err, tc.want)
				}
				return
			}
			if err == nil || err.Error() != prefix+tc.err {
				t.Fatalf("got %v, %v\nwant error %q", got, err, prefix+tc.err)
			}
			if perm := collectors.IsPermanent(l.src.Poll(context.Background())); perm != tc.permanent {
				t.Errorf("poll error permanent = %v, want %v", perm, tc.permanent)
			}
		})
	}
}

func TestTheQueryCarriesItsTimeoutAndIsCounted(t *testing.T) {
	f := newFakeProm(t, false, promAnswers)
	l := load(t, "", sourceDoc(`url = "`+f.URL+`"
query_timeout = "12s"`, "count(up) with warnings"))
	if v, err := l.measure(t); err != nil || v != 7 {
		t.Fatalf("got %v, %v", v, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r, form := f.requests[0], f.forms[0]
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" ||
		form.Get("query") != "count(up) with warnings" || form.Get("timeout") != "12s" || form.Get("time") != "" {
		t.Errorf("request %s %v form %v", r.Method, r.Header, form)
	}
	if ua := r.Header.Get("User-Agent"); !strings.HasPrefix(ua, "okrd/") {
		t.Errorf("User-Agent %q", ua)
	}
	// Measure and Poll each made one request.
	if got := testutil.ToFloat64(l.metrics.Requests.WithLabelValues("metrics", "200")); got != 2 {
		t.Errorf("okrd_source_requests_total{code=200} = %v, want 2", got)
	}
	if !strings.Contains(l.logs.String(), `msg="Prometheus answered with warnings" source=metrics query="count(up) with warnings" warnings="PromQL info: metric might not be a counter"`) {
		t.Errorf("warnings not logged: %s", l.logs)
	}
}

func TestCredentialsAreSentAndRefusalsArePermanent(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte("tok-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("OKRD_TEST_PROM_PASSWORD", "pw-from-env")
	var mu sync.Mutex
	var seen []http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Clone())
		mu.Unlock()
		user, pw, basic := r.BasicAuth()
		ok := r.Header.Get("Authorization") == "Bearer tok-from-file" ||
			basic && user == "okrd" && pw == "pw-from-env"
		if r.Header.Get("X-Scope-OrgID") != "" && r.Header.Get("X-Scope-OrgID") != "payments" {
			ok = false
		}
		if !ok {
			// Like a reverse proxy in front of Prometheus.
			w.Header().Set("WWW-Authenticate", `Basic realm="prometheus"`)
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, `{"status":"success","data":{"resultType":"scalar","result":[1763208000,"0.5"]}}`)
	}))
	defer srv.Close()

	for _, tc := range []struct {
		name, settings string
		check          func(h http.Header) bool
		err            string
	}{
		{"a bearer token read from a file is sent", `bearer_token_file = "token"`,
			func(h http.Header) bool { return h.Get("Authorization") == "Bearer tok-from-file" }, ""},
		{"basic auth with a password from the environment is sent", `basic_auth = { username = "okrd", password = "${OKRD_TEST_PROM_PASSWORD}" }`,
			func(h http.Header) bool { return strings.HasPrefix(h.Get("Authorization"), "Basic ") }, ""},
		{"headers and secret headers are sent", `bearer_token_file = "token"
headers = { "X-Scope-OrgID" = "payments" }
secret_headers = [{ name = "X-Api-Key", value = "${OKRD_TEST_PROM_PASSWORD}" }]`,
			func(h http.Header) bool {
				return h.Get("X-Scope-OrgID") == "payments" && h.Get("X-Api-Key") == "pw-from-env"
			}, ""},
		{"a wrong password is refused for good", `basic_auth = { username = "okrd", password = "wrong" }`, nil,
			"Prometheus refused the credentials (HTTP 401): check bearer_token, basic_auth or secret_headers"},
		{"no credentials are refused for good", ``, nil,
			"Prometheus refused the credentials (HTTP 401): check bearer_token, basic_auth or secret_headers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			seen = nil
			mu.Unlock()
			l := load(t, dir, sourceDoc(`url = "`+srv.URL+`"
`+tc.settings, "scalar(up)"))
			v, err := l.measure(t)
			if tc.err == "" {
				if err != nil || v != 0.5 {
					t.Fatalf("got %v, %v", v, err)
				}
				mu.Lock()
				defer mu.Unlock()
				for _, h := range seen {
					if !tc.check(h) {
						t.Errorf("request headers %v", h)
					}
				}
				return
			}
			if err == nil || !strings.HasSuffix(err.Error(), tc.err) {
				t.Fatalf("got %v, want %q", err, tc.err)
			}
			if !collectors.IsPermanent(l.src.Poll(context.Background())) {
				t.Error("a refused credential must be permanent")
			}
			if strings.Contains(err.Error(), "pw-from-env") || strings.Contains(l.logs.String(), "pw-from-env") {
				t.Error("the password leaked")
			}
		})
	}
}

func TestTLSWithAPrivateCA(t *testing.T) {
	f := newFakeProm(t, true, promAnswers)
	dir := t.TempDir()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.Certificate().Raw})
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), ca, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "other.pem"), []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	// httptest's certificate is for 127.0.0.1 and example.com.
	for _, tc := range []struct{ name, settings, err string }{
		{"the server's CA from a file verifies it", `tls = { ca_file = "ca.pem" }`, ""},
		{"server_name checks another name in the certificate", `tls = { ca_file = "ca.pem", server_name = "example.com" }`, ""},
		{"insecure_skip_verify skips the check", `tls = { insecure_skip_verify = true }`, ""},
		{"without the CA the certificate is refused", ``, "x509: certificate signed by unknown authority"},
		{"a name not in the certificate is refused", `tls = { ca_file = "ca.pem", server_name = "prometheus.internal" }`,
			"x509: certificate is valid for example.com, *.example.com, not prometheus.internal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := load(t, dir, sourceDoc(`url = "`+f.URL+`"
`+tc.settings, "scalar(up)"))
			v, err := l.measure(t)
			if tc.err == "" {
				if err != nil || v != 0.9991 {
					t.Fatalf("got %v, %v", v, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("got %v, want an error containing %q", err, tc.err)
			}
		})
	}
	// A file that holds no certificate is a config error, with its line.
	_, err := config.Parse([]byte(sourceDoc(`url = "`+f.URL+`"
tls = { ca_file = "other.pem" }`, "up")), filepath.Join(dir, "okrd.toml"))
	if err == nil || !strings.Contains(err.Error(), "okrd.toml:5: sources.metrics.tls.ca_file: holds no PEM certificate") {
		t.Errorf("got %v", err)
	}
}

func TestTheFirstPollChecksTheServerAndLaterPollsRunTheQueries(t *testing.T) {
	f := newFakeProm(t, false, promAnswers)
	l := load(t, "", sourceDoc(`url = "`+f.URL+`"`, "scalar(up)"))
	ctx := context.Background()
	queries := func() []string {
		f.mu.Lock()
		defer f.mu.Unlock()
		var q []string
		for _, form := range f.forms {
			q = append(q, form.Get("query"))
		}
		f.forms = nil
		return q
	}
	if err := l.src.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if got := queries(); len(got) != 1 || got[0] != "1" {
		t.Errorf("first poll asked %q, want the check query \"1\"", got)
	}
	if m := l.src.Measure(ctx, l.bs, time.Now()); m[0].Value != 0.9991 {
		t.Fatalf("first measure %+v", m)
	}
	if got := queries(); len(got) != 1 || got[0] != "scalar(up)" {
		t.Errorf("first measure asked %q", got)
	}
	if err := l.src.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if got := queries(); len(got) != 1 || got[0] != "scalar(up)" {
		t.Errorf("second poll asked %q", got)
	}
	// Measure after a poll hands out what the poll got, asking nothing.
	if m := l.src.Measure(ctx, l.bs, time.Now()); m[0].Value != 0.9991 {
		t.Fatalf("second measure %+v", m)
	}
	if got := queries(); len(got) != 0 {
		t.Errorf("second measure asked %q", got)
	}
}

func TestServerErrorsSayWhatToFix(t *testing.T) {
	for _, tc := range []struct {
		name      string
		handler   http.HandlerFunc
		err       string
		permanent bool
	}{
		{"a URL that is not a Prometheus API", http.NotFound,
			"Prometheus answered 404 Not Found: url must be the server's base URL, without /api/v1", true},
		{"a redirect is not followed", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://login.example.com/", http.StatusFound)
		}, "Prometheus answered a redirect (HTTP 302), which is not followed: set url to the final address", true},
		{"a gateway error is retried", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "upstream down", http.StatusBadGateway)
		}, "Prometheus: server_error: server error: 502", false},
		{"an HTML page is not an API answer", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, "<html>sign in</html>")
		}, "not a Prometheus API answer: ", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			l := load(t, "", sourceDoc(`url = "`+srv.URL+`"`, "up"))
			err := l.src.Poll(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.err) || collectors.IsPermanent(err) != tc.permanent {
				t.Fatalf("got %v (permanent %v), want %q (permanent %v)", err, collectors.IsPermanent(err), tc.err, tc.permanent)
			}
		})
	}
}

func TestConfigErrorsNameTheField(t *testing.T) {
	for _, tc := range []struct {
		name, settings, query string
		want                  []string
	}{
		{"url is required", ``, `up`, []string{`sources.metrics.url: required`}},
		{"url must be the base URL", `url = "http://prom:9090/api/v1/query"`, `up`,
			[]string{`sources.metrics.url: must be the server's base URL, without /api/v1`}},
		{"credentials do not belong in the URL", `url = "http://okrd:pw@prom:9090"`, `up`,
			[]string{`sources.metrics.url: must not contain credentials; use basic_auth`}},
		{"bearer token and basic auth exclude each other", `url = "http://prom:9090"
bearer_token = "t"
basic_auth = { username = "u", password = "p" }`, `up`,
			[]string{`sources.metrics.bearer_token: cannot be combined with basic_auth: set one of them`}},
		{"basic auth needs a username", `url = "http://prom:9090"
basic_auth = { password = "p" }`, `up`, []string{`sources.metrics.basic_auth.username: required`}},
		{"a client certificate needs its key", `url = "https://prom:9090"
tls = { cert = "x" }`, `up`, []string{`sources.metrics.tls.key: required with tls.cert (or set key_file)`}},
		{"the Authorization header is not a plain header", `url = "http://prom:9090"
headers = { Authorization = "Bearer abc" }`, `up`,
			[]string{`sources.metrics.headers.Authorization: header Authorization cannot be set here: use bearer_token, basic_auth or secret_headers for credentials`}},
		{"a key result needs a query", `url = "http://prom:9090"`, ` `,
			[]string{`objectives[0].key_results[0].query: required for a prometheus source: a PromQL expression returning a scalar or one series`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Parse([]byte(sourceDoc(tc.settings, tc.query)), "")
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
