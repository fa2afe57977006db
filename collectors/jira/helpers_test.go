package jira

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/internal/retry/retrytest"
	jm "github.com/okrd/okrd/metrics/jira"
	"github.com/okrd/okrd/sandbox/jirafake"
	"github.com/okrd/okrd/store"
	"github.com/okrd/okrd/store/sqlite"
)

const day = 24 * time.Hour

// now is the tests' "now". It is not on a whole hour, and the fake's user
// lives in Los Angeles, so a JQL date written in the wrong time zone
// misses by hours.
var now = time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC)

func d(x float64) time.Time { return now.Add(time.Duration(x * float64(day))) }

func fp(v float64) *float64 { return &v }

const (
	testEmail = "bot@acme.example"
	testToken = "s3cr3t-t0ken-value"
)

// clock is the settable clock shared by the fake, the source and its
// retries: an auto clock, on which a retry's wait passes at once and is
// recorded (Waits), so no test sleeps.
type clock = retrytest.Clock

func newClock(t time.Time) *clock { return retrytest.NewAutoClock(t) }

// fixture builds the small project the tests compute by hand.
//
// Board 1 (scrum, filter "project = PAY", points in the default story
// point field). Sprint 1 ran from -20 to -6 (closed), sprint 2 is active
// since -6.
//
//	PAY-1 Story 3 pts  created -30; sprint 1 at -21; In Progress -15;
//	                   re-estimated to 5 pts at -12; Done -10
//	PAY-2 Story 5 pts  created -25; sprint 1 at -21; In Progress -12;
//	                   In Review -8; carried to sprint 2 at -6 (+1s); Done -2
//	PAY-3 Bug          created -10; sprint 1 at -9 (added); In Progress -9
//	                   (+1h); Done -7
//	PAY-4 Story 2 pts  created -4; In Progress -3
//	PAY-5 Epic         created -40, To Do; parent of PAY-1, PAY-2, PAY-4
//	PAY-6 Task         created -50; In Progress -45; Done -40; then four
//	                   description edits (-39..-36): six histories
//	OPS-1 Incident     created -3; Done -2 (outside the scope: incidents only)
//	OPS-2 Incident     created -1, open
func fixture(flavor jirafake.Flavor, clk *clock) *jirafake.Server {
	f := jirafake.New(flavor)
	f.Email, f.Token = testEmail, testToken
	f.Now = clk.Now
	f.AddProject("PAY", "Payments")
	f.AddProject("OPS", "Operations")
	f.AddBoard(jirafake.Board{ID: 1, Name: "PAY board", Type: "scrum", Project: "PAY", EstimationField: jirafake.FieldStoryPoints}, "project = PAY ORDER BY Rank ASC")
	f.AddSprint(jirafake.Sprint{ID: 1, Board: 1, Name: "PAY Sprint 1", State: "closed", Start: tp(d(-20)), End: tp(d(-6)), CompleteDate: tp(d(-6))})
	f.AddSprint(jirafake.Sprint{ID: 2, Board: 1, Name: "PAY Sprint 2", State: "active", Start: tp(d(-6)), End: tp(d(8))})
	pts := func(v float64) map[string]any { return map[string]any{jirafake.FieldStoryPoints: v} }

	f.AddIssue(&jirafake.Issue{Key: "PAY-5", Project: "PAY", Type: "Epic", Created: d(-40)})
	f.AddIssue(&jirafake.Issue{Key: "PAY-1", Project: "PAY", Type: "Story", Created: d(-30), Parent: "PAY-5", Custom: pts(3)})
	must(f.SetSprints("PAY-1", []int{1}, d(-21)))
	must(f.Transition("PAY-1", jirafake.StatusInProgress, d(-15)))
	must(f.SetPoints("PAY-1", jirafake.FieldStoryPoints, fp(5), d(-12)))
	must(f.Transition("PAY-1", jirafake.StatusDone, d(-10)))

	f.AddIssue(&jirafake.Issue{Key: "PAY-2", Project: "PAY", Type: "Story", Created: d(-25), Parent: "PAY-5", Custom: pts(5)})
	must(f.SetSprints("PAY-2", []int{1}, d(-21)))
	must(f.Transition("PAY-2", jirafake.StatusInProgress, d(-12)))
	must(f.Transition("PAY-2", jirafake.StatusInReview, d(-8)))
	must(f.SetSprints("PAY-2", []int{1, 2}, d(-6).Add(time.Second)))
	must(f.Transition("PAY-2", jirafake.StatusDone, d(-2)))

	f.AddIssue(&jirafake.Issue{Key: "PAY-3", Project: "PAY", Type: "Bug", Created: d(-10)})
	must(f.SetSprints("PAY-3", []int{1}, d(-9)))
	must(f.Transition("PAY-3", jirafake.StatusInProgress, d(-9).Add(time.Hour)))
	must(f.Transition("PAY-3", jirafake.StatusDone, d(-7)))

	f.AddIssue(&jirafake.Issue{Key: "PAY-4", Project: "PAY", Type: "Story", Created: d(-4), Parent: "PAY-5", Custom: pts(2)})
	must(f.Transition("PAY-4", jirafake.StatusInProgress, d(-3)))

	f.AddIssue(&jirafake.Issue{Key: "PAY-6", Project: "PAY", Type: "Task", Created: d(-50)})
	must(f.Transition("PAY-6", jirafake.StatusInProgress, d(-45)))
	must(f.Transition("PAY-6", jirafake.StatusDone, d(-40)))
	for i := range 4 {
		must(f.Touch("PAY-6", d(-39+float64(i))))
	}

	f.AddIssue(&jirafake.Issue{Key: "OPS-1", Project: "OPS", Type: "Incident", Summary: "Checkout down", Created: d(-3)})
	must(f.Transition("OPS-1", jirafake.StatusDone, d(-2)))
	f.AddIssue(&jirafake.Issue{Key: "OPS-2", Project: "OPS", Type: "Incident", Summary: "Slow refunds", Created: d(-1)})
	return f
}

func tp(t time.Time) *time.Time { return &t }

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// env is one source under test against a fake.
type env struct {
	t    testing.TB
	fake *jirafake.Server
	srv  *httptest.Server
	st   store.Store
	src  *Source
	// teams are the teams of the source newSource builds.
	teams []*config.Team
	clk   *clock
	reg   *prometheus.Registry
	met   *collectors.Metrics
	logs  *bytes.Buffer
	spec  *Spec
	base  http.RoundTripper
	// quiet keeps no request URLs and no log lines (benchmarks, whose
	// heap must not grow with what the test harness keeps).
	quiet bool
	mu    sync.Mutex
	urls  []string
	// onRequest, when set, sees each request before the fake answers it.
	onRequest func(*http.Request)
}

// newEnv starts the fake and builds a source for it with a fresh store.
func newEnv(t testing.TB, fake *jirafake.Server, clk *clock, mod func(*Spec)) *env {
	t.Helper()
	e := &env{t: t, fake: fake, clk: clk, reg: prometheus.NewRegistry(), logs: &bytes.Buffer{}}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		if !e.quiet {
			e.urls = append(e.urls, r.URL.RequestURI())
		}
		hook := e.onRequest
		e.mu.Unlock()
		if hook != nil {
			hook(r)
		}
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(e.srv.Close)
	st, err := sqlite.Open(context.Background(), ":memory:", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	e.st = st
	e.met = collectors.NewMetrics(e.reg)
	spec := &Spec{}
	spec.Defaults()
	spec.URL = e.srv.URL
	spec.Token = testToken
	spec.Projects = []string{"PAY"}
	if fake.Flavor == jirafake.Cloud {
		spec.Email = testEmail
	}
	if mod != nil {
		mod(spec)
	}
	e.spec = spec
	e.src = e.newSource()
	return e
}

// newSource builds a source over the env's store (a "restart").
func (e *env) newSource() *Source {
	e.t.Helper()
	if err := e.spec.Validate(); err != nil {
		e.t.Fatalf("spec: %v", err)
	}
	var w io.Writer = e.logs
	if e.quiet {
		w = io.Discard
	}
	logger := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	src, err := New(&config.Source{Name: "jira", Type: "jira", Spec: e.spec, Timeout: config.Duration(time.Minute), Teams: e.teams},
		collectors.Deps{Store: e.st, Logger: logger, Metrics: e.met, Now: e.clk.Now}, e.base)
	if err != nil {
		e.t.Fatal(err)
	}
	src.now = e.clk.Now
	src.c.clock = e.clk
	src.c.rnd = func() float64 { return 1 }
	return src
}

func (e *env) poll() error {
	e.t.Helper()
	return e.src.Poll(context.Background())
}

func (e *env) mustPoll() {
	e.t.Helper()
	if err := e.poll(); err != nil {
		e.t.Fatalf("poll: %v", err)
	}
}

// requestURLs returns and forgets the request URLs seen so far.
func (e *env) requestURLs() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := e.urls
	e.urls = nil
	return out
}

// countRecords returns the stored records of a kind.
func (e *env) countRecords(kind string) int {
	e.t.Helper()
	n := 0
	if err := e.st.Records(context.Background(), "jira", kind, func(store.Record) error { n++; return nil }); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// value measures one key result.
func (e *env) value(kr *config.KeyResult) collectors.Measurement {
	e.t.Helper()
	obj := &config.Objective{ID: "o", KeyResults: []*config.KeyResult{kr}}
	obj.Resolved.Start, obj.Resolved.End = d(-10), d(80)
	return e.src.Measure(context.Background(), []collectors.Binding{{Objective: obj, KeyResult: kr}}, e.clk.Now())[0]
}

func (e *env) issue(key string) *jm.Issue {
	e.t.Helper()
	e.src.mu.RLock()
	defer e.src.mu.RUnlock()
	is, ok := e.src.model.Issue(key)
	if !ok {
		e.t.Fatalf("issue %s is not in the model", key)
	}
	return is
}

// flaky fails the next requests to a path without any answer, as a reset
// connection does.
type flaky struct {
	mu   sync.Mutex
	fail int
	path string
}

func (f *flaky) RoundTrip(r *http.Request) (*http.Response, error) {
	f.mu.Lock()
	fail := f.fail > 0 && strings.HasSuffix(r.URL.Path, f.path)
	if fail {
		f.fail--
	}
	f.mu.Unlock()
	if fail {
		return nil, errors.New("connection reset by peer")
	}
	return http.DefaultTransport.RoundTrip(r)
}

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	_ = c.Write(&m)
	return m.GetCounter().GetValue()
}

func gaugeValue(g prometheus.Gauge) float64 {
	var m dto.Metric
	_ = g.Write(&m)
	return m.GetGauge().GetValue()
}

// heapAfterGC is the live heap after a full collection.
func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// hookedStore calls afterPage after each transaction that stored a page
// of a scope (its cursor), with the scope and how many pages of that
// scope it has stored, and beforePage before such a transaction (from
// within it, so the page is being stored).
type hookedStore struct {
	store.Store
	mu         sync.Mutex
	pages      map[string]int
	beforePage func(scope string, n int)
	afterPage  func(scope string, n int)
}

func hook(e *env) *hookedStore {
	h := &hookedStore{Store: e.st, pages: map[string]int{}}
	e.st = h
	e.src = e.newSource()
	return h
}

type hookedTx struct {
	store.Tx
	h      *hookedStore
	scopes []string
}

func (t *hookedTx) SetCursor(ctx context.Context, source, scope, value string) error {
	if scope != cursorSite {
		t.scopes = append(t.scopes, scope)
		t.h.mu.Lock()
		n := t.h.pages[scope] + 1
		before := t.h.beforePage
		t.h.mu.Unlock()
		if before != nil {
			before(scope, n)
		}
	}
	return t.Tx.SetCursor(ctx, source, scope, value)
}

func (h *hookedStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	var tx *hookedTx
	err := h.Store.Update(ctx, func(inner store.Tx) error {
		tx = &hookedTx{Tx: inner, h: h}
		return fn(tx)
	})
	if err != nil {
		return err
	}
	for _, scope := range tx.scopes {
		h.mu.Lock()
		h.pages[scope]++
		n := h.pages[scope]
		after := h.afterPage
		h.mu.Unlock()
		if after != nil {
			after(scope, n)
		}
	}
	return nil
}
