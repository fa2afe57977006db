package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/okrd/okrd/checkins"
	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/okr"
	"github.com/okrd/okrd/snapshot"
	"github.com/okrd/okrd/store"
)

// fakeBackend serves a fixed snapshot.
type fakeBackend struct {
	cfg  *config.Config
	snap *snapshot.Snapshot
	reg  *prometheus.Registry
}

func (f *fakeBackend) Config() *config.Config         { return f.cfg }
func (f *fakeBackend) Snapshot() *snapshot.Snapshot   { return f.snap }
func (f *fakeBackend) Store() store.Store             { return nil }
func (f *fakeBackend) Ready() bool                    { return f.snap != nil }
func (f *fakeBackend) Reload(context.Context) error   { return nil }
func (f *fakeBackend) Sources() []collectors.Health   { return nil }
func (f *fakeBackend) Registry() *prometheus.Registry { return f.reg }
func (f *fakeBackend) AddConfidence(context.Context, checkins.ConfidenceRequest) (store.Confidence, error) {
	return store.Confidence{}, errors.New("no store")
}
func (f *fakeBackend) AddCheckin(context.Context, checkins.Request) (store.Checkin, error) {
	return store.Checkin{}, nil
}

var benchNow = time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)

// bigSnapshot builds a snapshot of n key results, three per objective, each
// with a value, a forecast and every series okrd exposes.
func bigSnapshot(n int) *snapshot.Snapshot {
	period := okr.Period{Name: "2026-Q4", Start: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := &snapshot.Snapshot{Generation: 1, EvaluatedAt: benchNow}
	var o *snapshot.Objective
	for i := 0; i < n; i++ {
		if i%3 == 0 {
			oc := &config.Objective{ID: fmt.Sprintf("objective-%d", i/3), Title: "Objective title", Owner: "owner", Team: "team", Resolved: period}
			o = &snapshot.Objective{Config: oc, Result: okr.ObjectiveResult{Progress: 0.5, Status: okr.StatusOnTrack}}
			s.Objectives = append(s.Objectives, o)
		}
		kc := &config.KeyResult{ID: fmt.Sprintf("kr-%d", i), Title: "A key result title", Owner: "owner", Team: "team", Unit: "count",
			Engine: okr.KeyResult{Direction: okr.Increase, Baseline: 10, Target: 20, Tolerance: 0.1, Weight: 1}}
		o.Config.KeyResults = append(o.Config.KeyResults, kc)
		o.KeyResults = append(o.KeyResults, &snapshot.KeyResult{Objective: o.Config, Config: kc, Result: okr.Result{
			HasValue: true, Value: 15, ValueAt: benchNow, Progress: 0.5, Expected: 0.49, Gap: 0.01, Status: okr.StatusOnTrack,
			HasForecast: true, Forecast: 21, ForecastProgress: 1,
		}})
	}
	return s
}

func newBench(n int) (*Handler, *fakeBackend) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGauge(prometheus.GaugeOpts{Name: "okrd_config_last_reload_successful", Help: "x"}))
	b := &fakeBackend{cfg: &config.Config{}, snap: bigSnapshot(n), reg: reg}
	return NewHandler(b, slog.New(slog.DiscardHandler)), b
}

func TestScrapeServesTheCachedSnapshotInEveryFormat(t *testing.T) {
	h, _ := newBench(3)
	for _, tc := range []struct {
		name, accept, encoding, wantType string
	}{
		{"plain text", "", "", "text/plain; version=0.0.4"},
		{"gzipped text", "", "gzip", "text/plain; version=0.0.4"},
		{"protobuf", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited", "", "application/vnd.google.protobuf"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Twice: the second answer comes from the cache and must match.
			var bodies []string
			for i := 0; i < 2; i++ {
				req := httptest.NewRequest("GET", "/metrics", nil)
				if tc.accept != "" {
					req.Header.Set("Accept", tc.accept)
				}
				if tc.encoding != "" {
					req.Header.Set("Accept-Encoding", tc.encoding)
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), tc.wantType) {
					t.Fatalf("code %d type %q", rec.Code, rec.Header().Get("Content-Type"))
				}
				if got := rec.Header().Get("Content-Encoding"); got != tc.encoding {
					t.Fatalf("Content-Encoding %q, want %q", got, tc.encoding)
				}
				bodies = append(bodies, rec.Body.String())
			}
			if bodies[0] != bodies[1] || len(bodies[0]) == 0 {
				t.Fatalf("cached scrape differs from the first")
			}
		})
	}
}

func TestNotReadyBeforeTheFirstEvaluation(t *testing.T) {
	b := &fakeBackend{cfg: &config.Config{}, reg: prometheus.NewRegistry()}
	h := NewHandler(b, slog.New(slog.DiscardHandler))
	for path, want := range map[string]int{"/-/ready": 503, "/-/healthy": 200, "/api/v1/objectives": 503, "/": 503} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != want {
			t.Errorf("%s = %d, want %d", path, rec.Code, want)
		}
	}
}

func TestWriteAPIIsOffWithoutAToken(t *testing.T) {
	b := &fakeBackend{cfg: &config.Config{}, snap: bigSnapshot(3), reg: prometheus.NewRegistry()}
	h := NewHandler(b, slog.New(slog.DiscardHandler))
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/api/v1/objectives/objective-0/key_results/kr-0/checkins", strings.NewReader(`{"value":1}`))
	req.Header.Set("Authorization", "Bearer ")
	h.ServeHTTP(rec, req)
	if rec.Code != 403 || !strings.Contains(rec.Body.String(), "the write API is disabled: set server.api_token") {
		t.Errorf("%d %s", rec.Code, rec.Body.String())
	}
}

func TestAcceptsGzip(t *testing.T) {
	for in, want := range map[string]bool{"": false, "gzip": true, "deflate, gzip;q=0.5": true, "gzip;q=0": false, "br": false, "GZIP": true} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept-Encoding", in)
		if got := acceptsGzip(r); got != want {
			t.Errorf("%q: %v, want %v", in, got, want)
		}
	}
}

// BenchmarkScrape10kKeyResults measures a /metrics scrape of 10,000 key
// results once the snapshot's exposition is cached (every scrape after the
// first of each evaluation).
func BenchmarkScrape10kKeyResults(b *testing.B) {
	for _, enc := range []string{"identity", "gzip"} {
		b.Run(enc, func(b *testing.B) {
			h, _ := newBench(10000)
			req := httptest.NewRequest("GET", "/metrics", nil)
			req.Header.Set("Accept-Encoding", enc)
			h.ServeHTTP(httptest.NewRecorder(), req) // fills the cache
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				rec := &discardWriter{h: http.Header{}}
				h.ServeHTTP(rec, req)
			}
		})
	}
}

// BenchmarkEncodeSnapshot10kKeyResults measures the once-per-evaluation cost
// of encoding a fresh snapshot of 10,000 key results, which okrd pays in the
// background right after each evaluation, not in a scrape.
func BenchmarkEncodeSnapshot10kKeyResults(b *testing.B) {
	for _, gz := range []bool{false, true} {
		b.Run(fmt.Sprintf("gzip=%v", gz), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				s := bigSnapshot(10000)
				b.StartTimer()
				if _, err := s.Exposition(expfmt.NewFormat(expfmt.TypeTextPlain), gz); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

type discardWriter struct {
	h    http.Header
	code int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return io.Discard.Write(p) }
func (d *discardWriter) WriteHeader(code int)        { d.code = code }

// reloadBackend counts reloads.
type reloadBackend struct {
	*fakeBackend
	reloads int
}

func (r *reloadBackend) Reload(context.Context) error { r.reloads++; return nil }

func TestReloadIsOffUnlessLifecycleIsEnabledOrTheAPITokenIsSent(t *testing.T) {
	withToken := &config.Config{Server: config.Server{APIToken: "s3cret-token"}}
	for _, tc := range []struct {
		name      string
		cfg       *config.Config
		lifecycle bool
		method    string
		auth      string
		code      int
		msg       string
	}{
		{"Without the flag a reload is refused as in Prometheus.", withToken, false, "POST", "", 403,
			"Lifecycle API is not enabled: start okrd with --web.enable-lifecycle, or send server.api_token as a bearer token (SIGHUP reloads in any case)"},
		{"Without the flag PUT is refused too.", withToken, false, "PUT", "", 403, "Lifecycle API is not enabled"},
		{"Basic credentials are not the API token.", withToken, false, "POST", "Basic czNjcmV0LXRva2Vu", 403, "Lifecycle API is not enabled"},
		{"Without a configured token no bearer token enables it.", &config.Config{}, false, "POST", "Bearer anything", 403, "Lifecycle API is not enabled"},
		{"A wrong API token is unauthorized.", withToken, false, "POST", "Bearer nope", 401, "missing or wrong bearer token"},
		{"The API token enables a reload without the flag.", withToken, false, "POST", "Bearer s3cret-token", 200, ""},
		{"The API token's scheme is case-insensitive.", withToken, false, "PUT", "bearer s3cret-token", 200, ""},
		{"With the flag anyone may reload.", &config.Config{}, true, "POST", "", 200, ""},
		{"With the flag GET is still not a reload.", &config.Config{}, true, "GET", "", 405, "method GET not allowed; use POST or PUT"},
		{"Without the flag GET is not a reload either.", withToken, false, "GET", "Bearer s3cret-token", 405, "method GET not allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &reloadBackend{fakeBackend: &fakeBackend{cfg: tc.cfg, reg: prometheus.NewRegistry()}}
			h := NewHandler(b, slog.New(slog.DiscardHandler), WithLifecycle(tc.lifecycle))
			req := httptest.NewRequest(tc.method, "/-/reload", nil)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.code || !strings.Contains(rec.Body.String(), tc.msg) {
				t.Errorf("got %d %s, want %d with %q", rec.Code, rec.Body.String(), tc.code, tc.msg)
			}
			if want := map[bool]int{true: 1, false: 0}[tc.code == 200]; b.reloads != want {
				t.Errorf("%d reloads, want %d", b.reloads, want)
			}
		})
	}
}
