package github

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/internal/retry/retrytest"
	"github.com/okrd/okrd/sandbox/githubfake"
	"github.com/okrd/okrd/store"
	"github.com/okrd/okrd/store/sqlite"
)

const testToken = "ghp_TESTtoken0000000000000000000000000000"

// clock is the time shared by the fake and the source: an auto clock, on
// which every wait the source asks for passes at once (recorded in Waits)
// and moves the time on for the fake and the source alike.
type clock struct{ *retrytest.Clock }

func (c *clock) now() time.Time { return c.Now() }

func (c *clock) advance(d time.Duration) { c.Advance(d) }

// env is one test's fake GitHub, store and source.
type env struct {
	t       testing.TB
	clock   *clock
	fake    *githubfake.Server
	srv     *httptest.Server
	st      store.Store
	metrics *collectors.Metrics
	reg     *prometheus.Registry
	logs    *bytes.Buffer
	spec    *Spec
	teams   []*config.Team
	src     *Source
}

// testNow is the fixed time of most tests: 2026-03-01T00:00:00Z.
var testNow = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// newEnv starts a fake GitHub (served below /gh/, as api.github.com is
// below its root) and a store; configure adjusts the spec before the
// source is built by start.
func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{t: t, clock: &clock{retrytest.NewAutoClock(testNow)}, logs: &bytes.Buffer{}}
	e.fake = githubfake.New(testToken)
	e.fake.Now = e.clock.now
	e.srv = httptest.NewServer(http.StripPrefix("/gh", e.fake))
	t.Cleanup(e.srv.Close)
	st, err := sqlite.Open(context.Background(), ":memory:", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.st = st
	e.spec = &Spec{}
	e.spec.Defaults()
	e.spec.URL = e.srv.URL + "/gh/"
	e.spec.Token = testToken
	e.spec.Repos = []string{"acme/web"}
	return e
}

// start builds the source (again: a restart keeps the store).
func (e *env) start() *Source {
	e.t.Helper()
	if err := e.spec.Validate(); err != nil {
		e.t.Fatal(err)
	}
	e.reg = prometheus.NewRegistry()
	e.metrics = collectors.NewMetrics(e.reg)
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	src, err := newSource(&config.Source{Name: "gh", Type: "github", Spec: e.spec, Teams: e.teams},
		collectors.Deps{Store: e.st, Metrics: e.metrics, Logger: logger},
		options{clock: e.clock, retryBase: time.Millisecond})
	if err != nil {
		e.t.Fatal(err)
	}
	e.src = src
	return src
}

// sleeps returns every wait the source asked for so far.
func (e *env) sleeps() []time.Duration { return e.clock.Waits() }

func (e *env) poll() error {
	e.t.Helper()
	return e.src.Poll(context.Background())
}

func (e *env) mustPoll() {
	e.t.Helper()
	if err := e.poll(); err != nil {
		for _, r := range e.fake.Requests() {
			e.t.Logf("%s %s -> %d", r.Method, r.Path, r.Status)
		}
		e.t.Fatalf("poll: %v", err)
	}
}

// requests counts the fake's answered requests by resource.
func (e *env) requests() (rest, graphql int) {
	for _, r := range e.fake.Requests() {
		if r.Path == "/graphql" {
			graphql++
		} else {
			rest++
		}
	}
	return rest, graphql
}

func tp(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &t
}

func tv(s string) time.Time { return *tp(s) }
