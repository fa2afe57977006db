package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/okr"
	"github.com/okrd/okrd/snapshot"
	"github.com/okrd/okrd/store"
	"github.com/okrd/okrd/store/sqlite"
)

// pageBackend is a fakeBackend with a store and source health, for the
// page's handlers.
type pageBackend struct {
	*fakeBackend
	st      store.Store
	sources []collectors.Health
}

func (p *pageBackend) Store() store.Store           { return p.st }
func (p *pageBackend) Sources() []collectors.Health { return p.sources }

// memBackend also keeps the history in memory, as the daemon does, with
// the marks of the filled-in values.
type memBackend struct {
	*pageBackend
	points map[string][]okr.Point
	filled map[string][]bool
}

// PointsFilled copies like App.PointsFilled: the points in range, and
// their marks only when one of them was filled in.
func (m *memBackend) PointsFilled(obj, kr string, from, to time.Time) ([]okr.Point, []bool) {
	all, marks := m.points[obj+"/"+kr], m.filled[obj+"/"+kr]
	lo := sort.Search(len(all), func(i int) bool { return !all[i].At.Before(from) })
	hi := sort.Search(len(all), func(i int) bool { return all[i].At.After(to) })
	if hi <= lo {
		return nil, nil
	}
	pts := append([]okr.Point(nil), all[lo:hi]...)
	if slices.Contains(marks[lo:hi], true) {
		return pts, append([]bool(nil), marks[lo:hi]...)
	}
	return pts, nil
}

// inMemory copies every key result's history out of the store.
func inMemory(t testing.TB, b *pageBackend) *memBackend {
	m := &memBackend{pageBackend: b, points: map[string][]okr.Point{}, filled: map[string][]bool{}}
	vals, err := b.st.ValuesAfter(context.Background(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vals {
		k := v.ObjectiveID + "/" + v.KeyResultID
		m.points[k] = append(m.points[k], okr.Point{At: v.At, Value: v.Value})
		m.filled[k] = append(m.filled[k], strings.HasPrefix(v.Origin, "history:"))
	}
	return m
}

// failingStore fails every read.
type failingStore struct{ store.Store }

func (failingStore) History(context.Context, string, string, time.Time, time.Time) ([]store.Value, error) {
	return nil, errors.New("database is locked")
}

const pageTestConfig = `
[global]
time_zone = "UTC"

[[objectives]]
id = "grow"
title = "Grow <the> product"
owner = "alice"
team = "growth"
period = "2026-Q4"

  [[objectives.key_results]]
  id = "nps"
  title = "NPS from 31 to 40"
  baseline = 31
  target = 40

  [[objectives.key_results]]
  id = "latency"
  title = "p95 latency stays under 300 ms"
  direction = "maintain"
  min = 0
  max = 0.3
  unit = "duration"

  [[objectives.key_results]]
  id = "done"
  title = "Issues done per week"
  baseline = 0
  target = 40

[[objectives]]
id = "ship"
title = "Ship faster"
owner = "bob"
team = "platform"
period = "2026-Q4"

  [[objectives.key_results]]
  id = "deploys"
  title = "Deploys per week"
  baseline = 2
  target = 10
`

// newPageHandler loads pageTestConfig, binds "done" to a Jira source
// named jira, records history and evaluates it at benchNow (2026-11-15
// 12:00, expected progress 45.5/92 = 0.4946) the way the daemon does.
//
// "done" has a history filled in from Jira's records at every midnight
// from Oct 1 to Nov 15 (46 values, d/2 on the d-th day: 0 to 22.5) and
// two live values, 22.2 on Nov 14 10:00 and 22.8 on Nov 15 11:00:
// progress 22.8/40 = 0.57, on track.
func newPageHandler(t testing.TB) (*Handler, *pageBackend) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "okrd.toml")
	if err := os.WriteFile(path, []byte(pageTestConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	// Bound after loading, so that the test needs no jira source type.
	cfg.Sources = map[string]*config.Source{"jira": {Name: "jira", Type: "jira"}}
	cfg.Objective("grow").KeyResult("done").Source = "jira"
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "okrd.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 9, 0, 0, 0, time.UTC) }
	var done []store.Value
	for d := 0; d < 46; d++ {
		done = append(done, store.Value{ObjectiveID: "grow", KeyResultID: "done", At: q4.Start.AddDate(0, 0, d), Value: float64(d) / 2, Origin: "history:jira"})
	}
	done = append(done,
		store.Value{ObjectiveID: "grow", KeyResultID: "done", At: time.Date(2026, 11, 14, 10, 0, 0, 0, time.UTC), Value: 22.2, Origin: "source:jira"},
		store.Value{ObjectiveID: "grow", KeyResultID: "done", At: time.Date(2026, 11, 15, 11, 0, 0, 0, time.UTC), Value: 22.8, Origin: "source:jira"})
	if err := st.AppendValues(ctx, done...); err != nil {
		t.Fatal(err)
	}
	for i, v := range []float64{31, 33, 34, 36} {
		if _, err := st.AddCheckin(ctx, store.Checkin{ObjectiveID: "grow", KeyResultID: "nps", At: day(10, 1).AddDate(0, 0, 14*i), Value: v, Author: "alice", Note: fmt.Sprintf("survey <%d>", i+1)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.AppendValues(ctx, store.Value{ObjectiveID: "grow", KeyResultID: "latency", At: day(11, 14), Value: 0.25, Origin: "source:prom"}); err != nil {
		t.Fatal(err)
	}
	b := &pageBackend{
		fakeBackend: &fakeBackend{cfg: cfg, snap: evaluateForTest(t, cfg, st, benchNow), reg: prometheus.NewRegistry()},
		st:          st,
		sources: []collectors.Health{
			{Name: "prom", Type: "prometheus", Up: true, Polls: 3, LastSuccess: benchNow.Add(-time.Minute)},
			{Name: "jira", Type: "jira", Polls: 2, ConsecutiveFailures: 2, LastError: "HTTP 401: check <the> token"},
		},
	}
	return NewHandler(b, slog.New(slog.DiscardHandler)), b
}

func evaluateForTest(t testing.TB, cfg *config.Config, st store.Store, now time.Time) *snapshot.Snapshot {
	t.Helper()
	s := &snapshot.Snapshot{Generation: 1, EvaluatedAt: now}
	for _, oc := range cfg.Objectives {
		o := &snapshot.Objective{Config: oc}
		var engines []okr.KeyResult
		var results []okr.Result
		for _, kc := range oc.KeyResults {
			vals, err := st.History(context.Background(), oc.ID, kc.ID, time.Time{}, now)
			if err != nil {
				t.Fatal(err)
			}
			pts := make([]okr.Point, len(vals))
			for i, v := range vals {
				pts[i] = okr.Point{At: v.At, Value: v.Value}
			}
			r := okr.Evaluate(kc.Engine, oc.Resolved, pts, now)
			o.KeyResults = append(o.KeyResults, &snapshot.KeyResult{Objective: oc, Config: kc, Result: r, Points: len(pts)})
			engines, results = append(engines, kc.Engine), append(results, r)
		}
		o.Result = okr.EvaluateObjective(engines, results)
		s.Objectives = append(s.Objectives, o)
	}
	return s
}

func get(t *testing.T, h http.Handler, method, path string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestThePagesAnswerWithTheirContent(t *testing.T) {
	h, _ := newPageHandler(t)
	for _, tc := range []struct {
		name, path string
		code       int
		want       []string
		not        []string
	}{
		{
			"the index shows every objective, key result, trend and source", "/", 200,
			[]string{
				// Titles are escaped: "<the>" is text.
				`<h2 id="obj-grow"><a href="./objectives/grow">Grow &lt;the&gt; product</a></h2>`,
				`<a href="./objectives/ship/key_results/deploys">Deploys per week</a>`,
				// nps 36: progress (36-31)/9 = 0.5556, gap +0.06: on track.
				`<td class="num kr-value" data-label="Value">36</td>`,
				`aria-label="Progress 56%, expected by now 49%"`,
				`<span class="status status-on_track">On track</span>`,
				// latency 0.25 s is inside [0, 0.3].
				`<td class="num kr-value" data-label="Value">250 ms</td>`,
				// A band from zero is an upper limit.
				"<td class=\"kr-goal\" data-label=\"Goal\">under 300\u00a0ms</td>",
				`aria-label="Progress 100%: inside the band"`,
				`<span class="status status-no_data">No data</span>`,
				`<svg class="spark" viewBox="0 0 120 28" width="120" height="28" role="img" aria-label="Trend in 2026-Q4: 4 values, from 31 on Oct 1 to 36 on Nov 12.">`,
				// One value is a dot, not a line from the period start.
				`aria-label="One value in 2026-Q4: 250 ms on Nov 14."><rect class="spark-band" x="3" y="3" width="114" height="22"/><circle class="spark-dot"`,
				// Filled-in history is dashed; the text says so.
				`aria-label="Trend in 2026-Q4: 48 values, from 0 on Oct 1 to 22.8 on Nov 15. 46 of them were filled in from Jira records (source jira)."`,
				`<polyline class="spark-filled"`,
				// A key result without a value has no 0% bar but a way
				// to its first value.
				`<td class="progress kr-progress" data-label="Progress"><span class="muted">no value yet</span></td>`,
				`<a href="./objectives/ship/key_results/deploys#record">how to record the first value</a>`,
				`<rect class="spark-band"`,
				`<th scope="row">jira</th><td data-label="Type">jira</td><td data-label="State"><span class="health health-down">Down</span>`,
				`HTTP 401: check &lt;the&gt; token`,
				`<a href="./?team=platform">platform</a>`,
				`<a href="./" aria-current="page">All teams</a>`,
				`<link rel="stylesheet" href="./static/style.css?v=` + staticVersions["style.css"] + `">`,
				// Every status that is not green says why.
				`<p class="reason reason-no_data">No data: no key result has a current value.</p>`,
				`<td class="kr-status" data-label="Status"><span class="status status-no_data">No data</span><span class="reason">No value recorded yet.</span></td>`,
			},
			[]string{"<script", "style=\"", `<p class="reason reason-on_track">`, `status-on_track">On track</span><span class="reason">`},
		},
		{
			"a team filter keeps that team's objectives", "/?team=platform", 200,
			[]string{`<a href="./?team=platform" aria-current="page">platform</a>`, "Ship faster", "1 key result in 1 objective"},
			[]string{"Grow &lt;the&gt; product", `id="sources"`},
		},
		{
			"a filter that matches nothing says so", "/?owner=nobody", 200,
			[]string{"No objectives match this filter."}, nil,
		},
		{
			"an objective page shows that objective", "/objectives/ship", 200,
			[]string{`<h1>Ship faster</h1>`, `<a href="../objectives/ship/key_results/deploys">Deploys per week</a>`, `href="../static/style.css?v=`},
			[]string{"NPS from 31 to 40"},
		},
		{
			"a key result page shows the chart, values and check-ins", "/objectives/grow/key_results/nps", 200,
			[]string{
				`<h1>NPS from 31 to 40</h1>`,
				// Progress 5/9 = 0.556 against 0.4946 expected.
				"<p class=\"reason reason-on_track\">36 where 35.45 was expected by now: 56% of the way, 6\u00a0pts ahead.</p>",
				`<li><a href="../../../objectives/grow">Grow &lt;the&gt; product</a></li>`,
				`<title id="chart-title">History of NPS from 31 to 40 in 2026-Q4</title>`,
				// Expected by now: 31 + 0.4946*9 = 35.45.
				`Expected by now: 35.45, on the way from 31 to 40 by Dec 31.`,
				`<polyline class="chart-expected"`,
				// The origin in words, and as stored.
				`<td>2026-11-12 09:00 UTC</td><td class="num">36</td><td>checked in by alice <span class="muted">(checkin:4)</span></td>`,
				// Every check-in is marked on the chart; the line between
				// them is solid.
				`<polygon class="chart-checkin"`,
				`<polyline class="chart-line"`,
				`<td class="note">survey &lt;4&gt;</td>`,
				`4 values, newest first.`,
				`<dt>Source</dt><dd>manual check-ins</dd>`,
			},
			nil,
		},
		{
			"a key result without values says how to record the first one", "/objectives/ship/key_results/deploys", 200,
			[]string{
				`<p>No value yet: <a href="#record">how the first one is recorded</a>.</p>`,
				`<div class="record" id="record">`,
				`<pre><code>okrd checkin ship/deploys VALUE --note &#34;where the number comes from&#34;</code></pre>`,
				// The API call names the address the page was asked
				// for (httptest's example.com) and says that the write
				// API needs a token first.
				`<pre><code>curl -X POST -H &#34;Authorization: Bearer $OKRD_API_TOKEN&#34; -H &#39;Content-Type: application/json&#39; \` + "\n" +
					`  -d &#39;{&#34;value&#34;: VALUE, &#34;note&#34;: &#34;where the number comes from&#34;}&#39; \` + "\n" +
					`  http://example.com/api/v1/objectives/ship/key_results/deploys/checkins</code></pre>`,
				`(once <code>server.api_token</code> is set in the configuration: without it the write API is off)`,
				`No values recorded in this period yet (<a href="#record">how the first one is recorded</a>).`,
				`No check-ins yet. Record one with <code>okrd checkin ship/deploys VALUE`,
				`<dt>Progress</dt><dd>none without a value; expected by now 49%</dd>`,
			},
			// No value: no progress bar at 0%, no line, no dot.
			[]string{`<polyline class="chart-line"`, `<circle class="chart-dot"`, `class="bar"`, `<span class="num">0%</span>`},
		},
		{
			"a key result with filled-in history draws it apart from the live values", "/objectives/grow/key_results/done", 200,
			[]string{
				// 46 filled-in midnights, then the live values: a dashed
				// run up to the midnight before the first live value,
				// then a solid one (the filled-in midnight of Nov 15
				// between the two live values does not break it).
				`<polyline class="chart-filled" points="`,
				`<polyline class="chart-line" points="`,
				`<li><svg class="swatch" viewBox="0 0 24 10" width="24" height="10" aria-hidden="true"><line class="chart-filled" x1="0" y1="5" x2="24" y2="5"/></svg> filled in from Jira records (source jira)</li>`,
				`recorded values</li>`,
				`48 values from Oct 1 to Nov 15, between 0 and 22.8; the latest is 22.8. 46 of them were filled in from Jira records (source jira); 2 were measured live.`,
				`<td>2026-11-15 11:00 UTC</td><td class="num">22.8</td><td>measured live by source jira <span class="muted">(source:jira)</span></td>`,
				`<td>2026-11-15 00:00 UTC</td><td class="num">22.5</td><td>filled in from Jira records (source jira) <span class="muted">(history:jira)</span></td>`,
				`<dt>Values in the period</dt><dd>48; 46 filled in from Jira records (source jira)</dd>`,
				`<dt>Source</dt><dd>jira (jira)</dd>`,
			},
			// Dots for the live values only; a source key result has
			// no check-ins and no empty state.
			[]string{`<circle class="chart-dot-filled"`, `<polygon class="chart-checkin"`, `id="record"`},
		},
		{
			"an unknown key result lists those that exist", "/objectives/grow/key_results/nope", 404,
			[]string{`<h1>Not found</h1>`, `Objective &#34;grow&#34; has no key result &#34;nope&#34;.`, `<a href="../../../objectives/grow/key_results/latency">p95 latency stays under 300 ms</a>`}, nil,
		},
		{
			"an unknown objective lists those that exist", "/objectives/nope", 404,
			[]string{`There is no objective &#34;nope&#34;.`, `<a href="../objectives/ship">Ship faster</a>`}, nil,
		},
		{
			"an unknown path is an HTML 404", "/nope/deeper", 404,
			[]string{`There is no page at /nope/deeper.`, `<a href="../objectives/grow">`}, nil,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := get(t, h, "GET", tc.path)
			body := rec.Body.String()
			if rec.Code != tc.code {
				t.Fatalf("code %d, want %d\n%s", rec.Code, tc.code, body)
			}
			if got := rec.Header().Get("Content-Type"); got != "text/html; charset=utf-8" {
				t.Errorf("Content-Type %q", got)
			}
			if got := rec.Header().Get("Content-Security-Policy"); got != contentSecurityPolicy {
				t.Errorf("Content-Security-Policy %q", got)
			}
			if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options %q", got)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("the page lacks %s", w)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(body, n) {
					t.Errorf("the page has %s", n)
				}
			}
			if t.Failed() {
				t.Logf("page:\n%s", body)
			}
		})
	}
}

func TestTheIndexDrawsTrendsFromMemoryWhenTheBackendKeepsThem(t *testing.T) {
	_, b := newPageHandler(t)
	mem := inMemory(t, b)
	b.st = failingStore{b.st}
	want := `aria-label="Trend in 2026-Q4: 4 values, from 31 on Oct 1 to 36 on Nov 12."`

	// Without the points in memory, a failing store costs the trends but
	// not the page.
	rec := get(t, NewHandler(b, slog.New(slog.DiscardHandler)), "GET", "/")
	if rec.Code != 200 || strings.Contains(rec.Body.String(), want) || !strings.Contains(rec.Body.String(), "The history could not be read, so the trends are missing") {
		t.Errorf("from the failing store: %d\n%s", rec.Code, rec.Body.String())
	}
	rec = get(t, NewHandler(mem, slog.New(slog.DiscardHandler)), "GET", "/")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), want) || strings.Contains(rec.Body.String(), "could not be read") {
		t.Errorf("from memory: %d\n%s", rec.Code, rec.Body.String())
	}
	// The marks in memory tell the filled-in values apart, as the
	// origins in the store do.
	for _, w := range []string{
		`aria-label="Trend in 2026-Q4: 48 values, from 0 on Oct 1 to 22.8 on Nov 15. 46 of them were filled in from Jira records (source jira)."`,
		`<polyline class="spark-filled"`,
	} {
		if !strings.Contains(rec.Body.String(), w) {
			t.Errorf("from memory, the index lacks %s", w)
		}
	}
}

func TestTheAPIKeepsItsJSON404(t *testing.T) {
	h, _ := newPageHandler(t)
	rec := get(t, h, "GET", "/api/v2/nope")
	if rec.Code != 404 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Errorf("%d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
}

func TestThePageRefusesWrites(t *testing.T) {
	h, _ := newPageHandler(t)
	for _, path := range []string{"/", "/objectives/grow", "/objectives/grow/key_results/nps", "/static/style.css"} {
		if rec := get(t, h, "POST", path); rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET" {
			t.Errorf("POST %s: %d, Allow %q", path, rec.Code, rec.Header().Get("Allow"))
		}
	}
}

func TestStaticFilesAreCachedByVersion(t *testing.T) {
	h, _ := newPageHandler(t)
	v := staticVersions["style.css"]
	for _, tc := range []struct {
		name, path, ifNoneMatch string
		code                    int
		cache                   string
	}{
		{"the current version is immutable", "/static/style.css?v=" + v, "", 200, "public, max-age=31536000, immutable"},
		{"another version is revalidated soon", "/static/style.css?v=old", "", 200, "public, max-age=300"},
		{"a matching ETag is not sent again", "/static/style.css", `"` + v + `"`, 304, "public, max-age=300"},
		{"the icon", "/static/favicon.svg?v=" + staticVersions["favicon.svg"], "", 200, "public, max-age=31536000, immutable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rec *httptest.ResponseRecorder
			if tc.ifNoneMatch != "" {
				rec = get(t, h, "GET", tc.path, "If-None-Match", tc.ifNoneMatch)
			} else {
				rec = get(t, h, "GET", tc.path)
			}
			if rec.Code != tc.code || rec.Header().Get("Cache-Control") != tc.cache || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("%d, Cache-Control %q, nosniff %q", rec.Code, rec.Header().Get("Cache-Control"), rec.Header().Get("X-Content-Type-Options"))
			}
		})
	}
	if rec := get(t, h, "GET", "/static/style.css"); rec.Header().Get("Content-Type") != "text/css; charset=utf-8" || !strings.Contains(rec.Body.String(), ".status-on_track") {
		t.Errorf("style.css: %q", rec.Header().Get("Content-Type"))
	}
	if rec := get(t, h, "GET", "/static/nope.js"); rec.Code != 404 {
		t.Errorf("unknown static file: %d", rec.Code)
	}
}

func TestRootOfLinksBackFromAnyDepth(t *testing.T) {
	for in, want := range map[string]string{
		"/":                              "./",
		"/nope":                          "./",
		"/objectives/grow":               "../",
		"/objectives/grow/key_results/x": "../../../",
		"/a/b/":                          "../../",
	} {
		if got := rootOf(in); got != want {
			t.Errorf("rootOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestQuantitiesDoNotBreakFromTheirUnits(t *testing.T) {
	const nb = "\u00a0"
	for _, tc := range []struct{ in, want string }{
		{"from 4 d to 2 d", "from 4" + nb + "d to 2" + nb + "d"},
		{"2 h 54 min where 1 h 58 min was expected", "2" + nb + "h" + nb + "54" + nb + "min where 1" + nb + "h" + nb + "58" + nb + "min was expected"},
		{"from 0.5 to 1 per day", "from 0.5 to 1" + nb + "per" + nb + "day"},
		{"12,500 EUR, 31 pts behind", "12,500" + nb + "EUR, 31" + nb + "pts behind"},
		{"between 2 and 4 per 1,000 orders", "between 2 and 4 per 1,000 orders"},
	} {
		if got := glue(tc.in); got != tc.want {
			t.Errorf("glue(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// The colours of style.css, checked against WCAG 2.2: 4.5:1 for text
// (1.4.3) and 3:1 for the parts of graphics that carry meaning (1.4.11).
func TestColoursMeetWCAGContrast(t *testing.T) {
	css, err := staticFS.ReadFile("static/style.css")
	if err != nil {
		t.Fatal(err)
	}
	rules := parseCSS(string(css))
	colour := func(selector, prop string) string {
		c, ok := rules[selector][prop]
		if !ok {
			t.Fatalf("style.css has no %s { %s }", selector, prop)
		}
		return c
	}
	const white = "#ffffff"
	type pair struct {
		name    string
		fg, bg  string
		minimum float64
	}
	pairs := []pair{
		{"body text", colour("body", "color"), colour("body", "background"), 4.5},
		{"links", colour("a", "color"), white, 4.5},
		{"muted text", colour(".muted", "color"), white, 4.5},
		{"muted text on a table header", colour(".muted", "color"), colour("thead th", "background"), 4.5},
		{"table headers", colour("thead th", "color"), colour("thead th", "background"), 4.5},
		{"links on the site header", colour("a", "color"), colour("header.site", "background"), 4.5},
		{"warnings", colour(".warning", "color"), colour(".warning", "background"), 4.5},
		{"source up", colour(".health-up", "color"), white, 4.5},
		{"source down", colour(".health-down", "color"), white, 4.5},
		{"focus outline", colour(":focus-visible", "outline"), white, 3},
		{"axis labels", colour(".axis-label", "fill"), white, 4.5},
		{"expected mark on the track", colour(".bar-mark", "fill"), colour(".bar-track", "fill"), 3},
		{"sparkline on the page", colour(".spark-line", "stroke"), white, 3},
		{"sparkline in a band", colour(".spark-line", "stroke"), colour(".spark-band", "fill"), 3},
		{"expected path", colour(".spark-expected", "stroke"), white, 3},
		{"chart line", colour(".chart-line", "stroke"), white, 3},
		{"chart line in a band", colour(".chart-line", "stroke"), colour(".chart-band", "fill"), 3},
		{"chart expected path", colour(".chart-expected", "stroke"), white, 3},
		{"chart forecast", colour(".chart-forecast", "stroke"), white, 3},
		{"filled-in sparkline", colour(".spark-filled", "stroke"), white, 3},
		{"filled-in sparkline in a band", colour(".spark-filled", "stroke"), colour(".spark-band", "fill"), 3},
		{"filled-in latest value on the sparkline", colour(".spark-dot-filled", "stroke"), white, 3},
		{"filled-in chart line", colour(".chart-filled", "stroke"), white, 3},
		{"filled-in chart line in a band", colour(".chart-filled", "stroke"), colour(".chart-band", "fill"), 3},
		{"filled-in dot", colour(".chart-dot-filled", "stroke"), white, 3},
		{"check-in marker", colour(".chart-checkin", "stroke"), white, 3},
		{"check-in marker in a band", colour(".chart-checkin", "stroke"), colour(".chart-band", "fill"), 3},
		{"text of the empty state", colour("body", "color"), colour(".record", "background"), 4.5},
		{"muted text of the empty state", colour(".muted", "color"), colour(".record", "background"), 4.5},
		{"links in the empty state", colour("a", "color"), colour(".record", "background"), 4.5},
		{"commands in the empty state", colour("code", "color"), colour(".record pre code", "background"), 4.5},
		{"the reason beside a status", colour(".reason", "color"), white, 4.5},
		{"the rule beside a reason", colour(".reason", "border-left"), white, 3},
	}
	for _, s := range okr.Statuses {
		sel := ".status-" + string(s)
		pairs = append(pairs,
			pair{"status " + string(s), colour(sel, "color"), colour(sel, "background"), 4.5},
			pair{"bar of " + string(s) + " on the track", colour(".fill-"+string(s), "fill"), colour(".bar-track", "fill"), 3},
			pair{"bar of " + string(s) + " on the page", colour(".fill-"+string(s), "fill"), white, 3},
			pair{"expected mark's halo on the bar of " + string(s), colour(".bar-halo", "fill"), colour(".fill-"+string(s), "fill"), 3},
			pair{"the rule beside the reason of " + string(s), colour(".reason-"+string(s), "border-left-color"), white, 3},
		)
	}
	for _, p := range pairs {
		if got := contrast(p.fg, p.bg); got < p.minimum {
			t.Errorf("%s: %s on %s has contrast %.2f, want at least %.1f", p.name, p.fg, p.bg, got, p.minimum)
		}
	}
}

func TestContrastMatchesTheWCAGFormula(t *testing.T) {
	// Black on white is (1.05)/(0.05) = 21; #767676 on white is the
	// well-known 4.54.
	for _, tc := range []struct {
		fg, bg string
		want   float64
	}{
		{"#000000", "#ffffff", 21},
		{"#ffffff", "#ffffff", 1},
		{"#767676", "#ffffff", 4.54},
	} {
		if got := contrast(tc.fg, tc.bg); math.Abs(got-tc.want) > 0.005 {
			t.Errorf("contrast(%s, %s) = %.3f, want %.2f", tc.fg, tc.bg, got, tc.want)
		}
	}
}

var (
	cssRule   = regexp.MustCompile(`([^{}]+)\{([^}]*)\}`)
	cssColour = regexp.MustCompile(`#[0-9a-fA-F]{6}\b`)
)

// parseCSS maps each selector of a flat stylesheet to the first hex colour
// of each of its properties (a selector list gives each selector the
// properties; later rules add to earlier ones).
func parseCSS(css string) map[string]map[string]string {
	css = regexp.MustCompile(`(?s)/\*.*?\*/`).ReplaceAllString(css, "")
	out := map[string]map[string]string{}
	for _, m := range cssRule.FindAllStringSubmatch(css, -1) {
		for _, sel := range strings.Split(m[1], ",") {
			sel = strings.TrimSpace(sel)
			if strings.HasPrefix(sel, "@") {
				continue
			}
			if out[sel] == nil {
				out[sel] = map[string]string{}
			}
			for _, decl := range strings.Split(m[2], ";") {
				prop, val, ok := strings.Cut(decl, ":")
				if !ok {
					continue
				}
				if c := cssColour.FindString(val); c != "" {
					out[sel][strings.TrimSpace(prop)] = strings.ToLower(c)
				}
			}
		}
	}
	return out
}

// contrast is the WCAG contrast ratio of two #rrggbb colours.
func contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// luminance is the WCAG relative luminance of a #rrggbb colour.
func luminance(hex string) float64 {
	ch := func(i int) float64 {
		v, _ := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		c := float64(v) / 255
		if c <= 0.04045 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	return 0.2126*ch(0) + 0.7152*ch(1) + 0.0722*ch(2)
}

// newBigPageHandler builds a page of nObj objectives with three key
// results each, every key result with perKR values spread over the first
// half of 2026-Q4 (as a source polled every few hours would leave).
func newBigPageBackend(b *testing.B, nObj, perKR int) *pageBackend {
	b.Helper()
	dir := b.TempDir()
	var cfgText strings.Builder
	cfgText.WriteString("[global]\ntime_zone = \"UTC\"\n")
	for o := 0; o < nObj; o++ {
		fmt.Fprintf(&cfgText, "[[objectives]]\nid = \"o%d\"\ntitle = \"Objective %d\"\nteam = \"t%d\"\nperiod = \"2026-Q4\"\n", o, o, o%5)
		for k := 0; k < 3; k++ {
			fmt.Fprintf(&cfgText, "  [[objectives.key_results]]\n  id = \"k%d\"\n  title = \"Key result %d\"\n  baseline = 0\n  target = 100\n", k, k)
		}
	}
	path := filepath.Join(dir, "okrd.toml")
	if err := os.WriteFile(path, []byte(cfgText.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "okrd.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	step := benchNow.Sub(q4.Start) / time.Duration(perKR)
	for o := 0; o < nObj; o++ {
		var vals []store.Value
		for k := 0; k < 3; k++ {
			for i := 0; i < perKR; i++ {
				vals = append(vals, store.Value{ObjectiveID: fmt.Sprintf("o%d", o), KeyResultID: fmt.Sprintf("k%d", k),
					At: q4.Start.Add(time.Duration(i) * step), Value: float64(i) * 50 / float64(perKR), Origin: "source:bench"})
			}
		}
		if err := st.AppendValues(ctx, vals...); err != nil {
			b.Fatal(err)
		}
	}
	return &pageBackend{fakeBackend: &fakeBackend{cfg: cfg, snap: evaluateForTest(b, cfg, st, benchNow), reg: prometheus.NewRegistry()}, st: st}
}

// BenchmarkIndexPage renders the index of 300 key results with 500 values
// each, downsampled to 60 points a sparkline: with one history query per
// key result, and with the history in memory (PointsReader).
func BenchmarkIndexPage(b *testing.B) {
	pb := newBigPageBackend(b, 100, 500)
	for _, tc := range []struct {
		name string
		b    Backend
	}{{"store", pb}, {"memory", inMemory(b, pb)}} {
		b.Run(tc.name, func(b *testing.B) {
			h := NewHandler(tc.b, slog.New(slog.DiscardHandler))
			req := httptest.NewRequest("GET", "/", nil)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatal(rec.Code)
				}
			}
		})
	}
}

// BenchmarkKeyResultPage renders one key result page with 5,000 values in
// the period (a source polled hourly for seven weeks), downsampled to 360
// points in the chart and 200 rows in the table.
func BenchmarkKeyResultPage(b *testing.B) {
	h := NewHandler(newBigPageBackend(b, 1, 5000), slog.New(slog.DiscardHandler))
	req := httptest.NewRequest("GET", "/objectives/o0/key_results/k0", nil)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}

func TestTheCurlCommandQuotesAnAddressTheShellWouldReadOtherwise(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"a plain URL stays as it is", "http://127.0.0.1:9184/api/v1/objectives/grow/key_results/nps/checkins", "http://127.0.0.1:9184/api/v1/objectives/grow/key_results/nps/checkins"},
		{"a query string is quoted", "https://okrd.example.com/a?b=1&c=2", "'https://okrd.example.com/a?b=1&c=2'"},
		{"a host header with a command is quoted", "http://x;rm -rf ~/", "'http://x;rm -rf ~/'"},
		{"a single quote cannot end the quoting", "http://x'$(id)'", `'http://x'\''$(id)'\'''`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := shellQuote(tc.in); got != tc.want {
				t.Errorf("shellQuote(%q) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

func TestTheSourcesSectionShowsDataQuality(t *testing.T) {
	h, b := newPageHandler(t)
	b.sources = []collectors.Health{
		{Name: "github", Type: "github", Up: true, Polls: 1, DataQuality: []collectors.QualityCheck{
			{Check: collectors.CheckUndeployedPullRequests, Count: 0},
			{Check: collectors.CheckStatuslessDeployments, Count: 5, Examples: []collectors.QualityExample{{ID: "acme/web#12"}, {ID: "acme/web#<9>"}}},
			{Check: collectors.CheckUnattributedIncidents, Count: 0},
		}},
		{Name: "jira", Type: "jira", Up: true, Polls: 1, DataQuality: []collectors.QualityCheck{
			{Check: collectors.CheckDoneWithoutStart, Count: 0},
			{Check: collectors.CheckGuessedStatuses, Count: 0},
		}},
		{Name: "prom", Type: "prometheus", Up: true, Polls: 1},
	}
	body := get(t, h, "GET", "/").Body.String()
	info := collectors.QualityChecks[collectors.CheckStatuslessDeployments]
	for _, want := range []string{
		`<h3 id="data-quality">Data quality</h3>`,
		`<section class="quality" aria-label="Data quality of source github">`,
		// The count, what it means and how to fix it; the examples, the
		// rest counted; ids are text.
		"<li><strong>Deployments without any status: 5.</strong> " + info.Meaning + " " + info.Fix +
			` <span class="muted">For example:</span> <code>acme/web#12</code>, <code>acme/web#&lt;9&gt;</code> and 3 more.</li>`,
		// A source whose checks find nothing says so.
		`<section class="quality" aria-label="Data quality of source jira">` + "\n<h4>jira</h4>\n<p>Every check passes.</p>",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	for _, not := range []string{
		// Checks that found nothing are not listed, and a source without
		// checks has no block.
		collectors.QualityChecks[collectors.CheckUndeployedPullRequests].Title,
		collectors.QualityChecks[collectors.CheckDoneWithoutStart].Title,
		`aria-label="Data quality of source prom"`,
	} {
		if strings.Contains(body, not) {
			t.Errorf("the page shows %q", not)
		}
	}
	if !strings.Contains(info.Meaning, "cannot tell whether") || !strings.Contains(info.Fix, "deployment status") {
		t.Errorf("the sentences of deployments_without_status say %q %q", info.Meaning, info.Fix)
	}

	// Without any source that checks, there is no data-quality block.
	b.sources = b.sources[2:]
	if body := get(t, h, "GET", "/").Body.String(); strings.Contains(body, `id="data-quality"`) {
		t.Error("a page without checked sources has a data-quality block")
	}
}

func TestEveryQualityCheckHasItsSentences(t *testing.T) {
	for _, name := range []string{collectors.CheckUndeployedPullRequests, collectors.CheckStatuslessDeployments, collectors.CheckUnattributedIncidents,
		collectors.CheckDoneWithoutStart, collectors.CheckGuessedStatuses, collectors.CheckUnestimatedSprintIssue, collectors.CheckSkippedBeforeHistory} {
		info, ok := collectors.QualityChecks[name]
		if !ok || info.Title == "" || !strings.HasSuffix(info.Meaning, ".") || !strings.HasSuffix(info.Fix, ".") {
			t.Errorf("check %s: %+v, want a title and two sentences", name, info)
		}
	}
	if len(collectors.QualityChecks) != 7 {
		t.Errorf("%d checks described, want 7", len(collectors.QualityChecks))
	}
}
