package app

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	// The replicas of these tests sync a Jira.
	_ "github.com/okrd/okrd/collectors/jira"
	"github.com/okrd/okrd/internal/testenv"
	"github.com/okrd/okrd/sandbox/jirafake"
)

// Helpers of the tests of several replicas on one PostgreSQL database
// (docs/ha.md): a schema per test, the fakes the replicas talk to, and the
// configuration they share.

// pgDSN returns a DSN whose connections all use a fresh schema of the test
// server, dropped when the test ends (internal/testenv).
func pgDSN(t testing.TB) string {
	t.Helper()
	return testenv.PostgresSchema(t)
}

// haConfig is the configuration the replicas of a test share: a Jira source
// (PAY, pages of 50), a key result measured from it that is off track as
// soon as it has a value (its alert fires at once), a check-in key result,
// a webhook receiver for alerts and one for the weekly report, whose slot
// has just passed.
const haConfig = `
[global]
time_zone = "UTC"
evaluation_interval = "1s"

[server]
listen_address = "127.0.0.1:0"
api_token = "s3cret-token"

[storage]
driver = "postgres"
dsn = "{{DSN}}"

[alerting]
for = "0s"
keep_firing_for = "1h"
repeat_interval = "0s"
conditions = ["off_track"]
default_receiver = "team"

[[alerting.receivers]]
name = "team"
type = "webhook"
url = "{{HOOK}}/alerts"
timeout = "5m"

[[alerting.receivers]]
name = "digest"
type = "webhook"
url = "{{HOOK}}/report"

[report]
receiver = "digest"
weekday = "{{WEEKDAY}}"
time = "{{TIME}}"

[sources.jira]
type = "jira"
interval = "1s"
url = "{{JIRA}}"
flavor = "cloud"
email = "ha@example.com"
token = "ha-jira-token"
projects = ["PAY"]
page_size = 50

[[objectives]]
id = "delivery"
title = "Deliver a lot"
owner = "alice"
team = "platform"
start = {{START}}
end = {{END}}

  [[objectives.key_results]]
  id = "throughput"
  title = "Close a million issues in 28 days"
  source = "jira"
  metric = "throughput"
  window = "28d"
  baseline = 0
  target = 1000000

  [[objectives.key_results]]
  id = "nps"
  title = "NPS from 31 to 40"
  baseline = 31
  target = 40
`

// haFakes are the services outside okrd that the replicas of a test share.
type haFakes struct {
	jira     *jirafake.Server
	jiraSrv  *httptest.Server
	hook     *receiver
	hookSrv  *httptest.Server
	searches *searchGate
}

// startHAFakes starts a fake Jira with a generated project of issues
// (behind a gate on its searches) and a fake webhook receiver.
func startHAFakes(t *testing.T, issues int) *haFakes {
	t.Helper()
	f := &haFakes{jira: jirafake.New(jirafake.Cloud), hook: newReceiver(), searches: &searchGate{open: make(chan struct{})}}
	close(f.searches.open)
	f.jira.Email, f.jira.Token = "ha@example.com", "ha-jira-token"
	f.jira.PageCap = 50
	// Every changelog inline: the test counts the issues of each stored
	// page, and issues whose changelog is truncated wait for one bulk
	// read that the held search would delay (the collector's own tests
	// cover that path's crash safety).
	f.jira.InlineChangelog = 1000
	f.jira.Generate(jirafake.GenOptions{Projects: []string{"PAY"}, Issues: issues, Days: 90, Seed: 15})
	f.jiraSrv = httptest.NewServer(f.searches.wrap(f.jira))
	t.Cleanup(f.jiraSrv.Close)
	f.hookSrv = httptest.NewServer(f.hook)
	t.Cleanup(f.hookSrv.Close)
	t.Cleanup(f.searches.release)
	t.Cleanup(f.hook.release)
	return f
}

// config renders haConfig for dsn.
func (f *haFakes) config(dsn string) string {
	now := time.Now().UTC()
	slot := now.Add(-time.Hour)
	date := func(t time.Time) string { return t.Format(time.DateOnly) }
	return strings.NewReplacer(
		"{{DSN}}", dsn, "{{JIRA}}", f.jiraSrv.URL, "{{HOOK}}", f.hookSrv.URL,
		"{{WEEKDAY}}", strings.ToLower(slot.Weekday().String()), "{{TIME}}", slot.Format("15:04"),
		"{{START}}", date(now.Add(-60*24*time.Hour)), "{{END}}", date(now.Add(30*24*time.Hour)),
	).Replace(haConfig)
}

// searchGate lets Jira searches through until it is closed after a number
// of them; then it holds every search until it is released, or its
// client goes away, and tells who waits that one is held.
type searchGate struct {
	mu     sync.Mutex
	after  int // searches let through once closed; -1: open
	n      int
	open   chan struct{}
	held   chan struct{} // closed when the first search is held
	jqls   []string
	closed bool
}

// closeAfter lets n more searches through, then holds the others.
func (g *searchGate) closeAfter(n int) <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n, g.after, g.open, g.held, g.closed = 0, n, make(chan struct{}), make(chan struct{}), true
	return g.held
}

func (g *searchGate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		close(g.open)
		g.closed = false
	}
}

// searchesSince returns the JQL of every search from the i-th on.
func (g *searchGate) searchesSince(i int) []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if i > len(g.jqls) {
		return nil
	}
	return append([]string(nil), g.jqls[i:]...)
}

func (g *searchGate) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.jqls)
}

func (g *searchGate) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/search") {
			g.mu.Lock()
			g.jqls = append(g.jqls, r.URL.Query().Get("jql"))
			wait := (<-chan struct{})(nil)
			if g.closed {
				if g.n >= g.after {
					wait = g.open
					select {
					case <-g.held:
					default:
						close(g.held)
					}
				}
				g.n++
			}
			g.mu.Unlock()
			if wait != nil {
				select {
				case <-wait:
				case <-r.Context().Done():
					return
				}
			}
		}
		h.ServeHTTP(w, r)
	})
}

// delivery is one request a receiver got.
type delivery struct {
	Path        string
	Idempotency string
	IDs         []string
	Statuses    []string
	Kind        string
	// Answered is false for a request whose client went away while it was
	// held.
	Answered bool
}

// receiver is a webhook receiver that records what it gets and can hold
// the first alert delivery until released, as a receiver that stopped
// answering does.
type receiver struct {
	mu        sync.Mutex
	got       []delivery
	holdFirst bool
	open      chan struct{}
	held      chan struct{}
	closed    bool
}

func newReceiver() *receiver {
	r := &receiver{open: make(chan struct{}), held: make(chan struct{})}
	close(r.open)
	return r
}

// holdFirstAlert holds the next alert delivery; the returned channel is
// closed once it arrives.
func (r *receiver) holdFirstAlert() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.holdFirst, r.open, r.held, r.closed = true, make(chan struct{}), make(chan struct{}), true
	return r.held
}

func (r *receiver) release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		close(r.open)
		r.closed = false
	}
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	var p struct {
		Kind   string `json:"kind"`
		Alerts []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"alerts"`
	}
	_ = json.Unmarshal(body, &p)
	d := delivery{Path: req.URL.Path, Idempotency: req.Header.Get("Idempotency-Key"), Kind: p.Kind}
	for _, a := range p.Alerts {
		d.IDs = append(d.IDs, a.ID)
		d.Statuses = append(d.Statuses, a.Status)
	}
	r.mu.Lock()
	hold := r.holdFirst && req.URL.Path == "/alerts"
	if hold {
		r.holdFirst = false
		close(r.held)
	}
	wait := r.open
	i := len(r.got)
	r.got = append(r.got, d)
	r.mu.Unlock()
	if hold {
		select {
		case <-wait:
		case <-req.Context().Done():
			return // the sender is gone: nothing was answered
		}
	}
	r.mu.Lock()
	r.got[i].Answered = true
	r.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// deliveries returns the requests to a path so far.
func (r *receiver) deliveries(path string) []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []delivery
	for _, d := range r.got {
		if d.Path == path {
			out = append(out, d)
		}
	}
	return out
}

// waitUntil polls cond until it holds, failing after a generous safety
// timeout: the tests wait on states they can observe, never on time.
func waitUntil(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
