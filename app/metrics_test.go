package app

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/okrd/okrd/alerting"
	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
)

// The "gated" source type: each poll blocks until the test releases it
// with the poll's outcome, so that a test can look at okrd while a poll
// (a long first backfill) is running.
type gate struct {
	started chan struct{} // one value per poll that started
	release chan error    // the outcome of the running poll
}

var gates = struct {
	sync.Mutex
	m map[string]*gate
}{m: map[string]*gate{}}

// gateOf returns the gate of a source, created on first use.
func gateOf(source string) *gate {
	gates.Lock()
	defer gates.Unlock()
	g, ok := gates.m[source]
	if !ok {
		g = &gate{started: make(chan struct{}, 16), release: make(chan error)}
		gates.m[source] = g
	}
	return g
}

func resetGates(t *testing.T) {
	gates.Lock()
	gates.m = map[string]*gate{}
	gates.Unlock()
	t.Cleanup(func() {
		gates.Lock()
		gates.m = map[string]*gate{}
		gates.Unlock()
	})
}

// waitStarted waits until a poll of the source has started.
func waitStarted(t *testing.T, source string) {
	t.Helper()
	select {
	case <-gateOf(source).started:
	case <-time.After(10 * time.Second):
		t.Fatalf("no poll of %s started within 10s", source)
	}
}

type gatedSource struct{ name string }

func (s *gatedSource) Poll(ctx context.Context) error {
	g := gateOf(s.name)
	g.started <- struct{}{}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case err := <-g.release:
		return err
	}
}

func (s *gatedSource) Measure(_ context.Context, bs []collectors.Binding, _ time.Time) []collectors.Measurement {
	out := make([]collectors.Measurement, len(bs))
	for i := range out {
		out[i] = collectors.Measurement{OK: true, Value: 1}
	}
	return out
}

type gatedSpec struct{}

func init() {
	config.RegisterSourceType("gated", config.SourceType{NewSpec: func() any { return &gatedSpec{} }})
	collectors.Register("gated", func(src *config.Source, _ collectors.Deps) (collectors.Source, error) {
		return &gatedSource{name: src.Name}, nil
	})
}

// seriesValue returns the value of one series in an exposition, "" when
// the series is absent.
func seriesValue(body, series string) string {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

func scrape(t *testing.T, ta *testApp) string {
	t.Helper()
	r := do(t, "GET", ta.url+"/metrics", "", "")
	if r.code != 200 {
		t.Fatalf("GET /metrics: %d %s", r.code, r.body)
	}
	return r.body
}

// sourceDown is the built-in alerting's observation of a source's
// source_down condition: nil when it does not hold.
func sourceDown(ta *testApp, source string) *alerting.Observation {
	p := alerting.DefaultPolicy()
	obs := alerting.Observe(alerting.Input{Sources: ta.sourcesForAlerting(ta.Config())}, &p)
	return obs[alerting.Key(alerting.SourceDown, source)]
}

func TestTheFirstSyncIsExportedAndIsNotAnOutage(t *testing.T) {
	resetGates(t)
	cfg := func(interval string) string {
		return baseConfig + `
[sources.backfill]
type = "gated"
interval = "` + interval + `"

[sources.flaky]
type = "gated"
interval = "1h"
`
	}
	ta := startApp(t, "", cfg("1h"), fixedClock)
	waitStarted(t, "backfill")
	waitStarted(t, "flaky")

	// Both first polls are running: not up, first sync in progress, which
	// the built-in alerting calls unknown.
	body := scrape(t, ta)
	for _, src := range []string{"backfill", "flaky"} {
		if v := seriesValue(body, `okrd_source_up{source="`+src+`",type="gated"}`); v != "0" {
			t.Errorf("%s: okrd_source_up = %q during the first poll, want 0", src, v)
		}
		if v := seriesValue(body, `okrd_source_initial_sync_in_progress{source="`+src+`"}`); v != "1" {
			t.Errorf("%s: okrd_source_initial_sync_in_progress = %q during the first poll, want 1", src, v)
		}
		if obs := sourceDown(ta, src); obs == nil || !obs.Unknown {
			t.Errorf("%s: built-in source_down during the first poll = %+v, want unknown", src, obs)
		}
	}

	// backfill's first poll succeeds, flaky's fails: the first sync is
	// over for both, and flaky is down for both alerting paths.
	gateOf("backfill").release <- nil
	gateOf("flaky").release <- errors.New("HTTP 503 from the API")
	waitFor(t, func() bool {
		body := scrape(t, ta)
		return seriesValue(body, `okrd_source_up{source="backfill",type="gated"}`) == "1" &&
			seriesValue(body, `okrd_source_initial_sync_in_progress{source="backfill"}`) == "0" &&
			seriesValue(body, `okrd_source_polls_total{result="failure",source="flaky"}`) == "1"
	})
	body = scrape(t, ta)
	if v := seriesValue(body, `okrd_source_up{source="flaky",type="gated"}`); v != "0" {
		t.Errorf("flaky: okrd_source_up = %q after a failed poll, want 0", v)
	}
	if v := seriesValue(body, `okrd_source_initial_sync_in_progress{source="flaky"}`); v != "0" {
		t.Errorf("flaky: okrd_source_initial_sync_in_progress = %q after its first poll failed, want 0", v)
	}
	if obs := sourceDown(ta, "flaky"); obs == nil || obs.Unknown {
		t.Errorf("flaky: built-in source_down after a failed poll = %+v, want it to hold", obs)
	}
	if obs := sourceDown(ta, "backfill"); obs != nil {
		t.Errorf("backfill: built-in source_down after a successful poll = %+v, want nil", obs)
	}

	// A reload that changes backfill restarts it: a new first sync.
	writeConfig(t, ta.dir, cfg("2h"))
	if err := ta.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitStarted(t, "backfill")
	body = scrape(t, ta)
	if v := seriesValue(body, `okrd_source_initial_sync_in_progress{source="backfill"}`); v != "1" {
		t.Errorf("backfill: okrd_source_initial_sync_in_progress = %q after its restart, want 1", v)
	}
	if obs := sourceDown(ta, "backfill"); obs == nil || !obs.Unknown {
		t.Errorf("backfill: built-in source_down after its restart = %+v, want unknown", obs)
	}
}

const seriesConfig = `
[sources.keep]
type = "fake"
interval = "1h"
value = 3

{{GONE}}
[sources.morph]
type = "fake"
interval = "1h"

[sources.warehouse]
type = "sql"
interval = "1h"
driver = "sqlite"
dsn = "{{WAREHOUSE}}"

[[objectives]]
id = "measured"
title = "Measured by sources"
period = "2026-Q4"
  [[objectives.key_results]]
  id = "keep-kr"
  title = "Stays"
  source = "keep"
  baseline = 0
  target = 10
{{REMOVED}}
  [[objectives.key_results]]
  id = "q2-kr"
  title = "Queried, stays"
  source = "warehouse"
  query = "select 2.0"
  baseline = 0
  target = 10
`

const goneSource = `
[sources.gone]
type = "fake"
interval = "1h"
`

const removedKeyResults = `
  [[objectives.key_results]]
  id = "broken-kr"
  title = "Its measurement fails"
  source = "keep"
  metric = "broken"
  baseline = 0
  target = 10
  [[objectives.key_results]]
  id = "gone-kr"
  title = "From the source that goes"
  source = "gone"
  baseline = 0
  target = 10
  [[objectives.key_results]]
  id = "q-kr"
  title = "Queried, goes"
  source = "warehouse"
  query = "select 1.0"
  baseline = 0
  target = 10
`

func TestReloadDeletesTheSeriesOfRemovedSourcesAndKeyResults(t *testing.T) {
	fakes.reset()
	defer fakes.reset()
	resetGates(t)
	dir := t.TempDir()
	warehouse := filepath.Join(dir, "warehouse.db")
	db, err := sql.Open("sqlite", warehouse)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`create table t (x integer)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	text := func(gone, removed, extra string) string {
		s := strings.ReplaceAll(seriesConfig, "{{WAREHOUSE}}", filepath.ToSlash(warehouse))
		s = strings.ReplaceAll(s, "{{GONE}}", gone)
		return baseConfig + strings.ReplaceAll(s, "{{REMOVED}}", removed) + extra
	}

	ta := startApp(t, dir, text(goneSource, removedKeyResults, ""), fixedClock)
	waitFor(t, func() bool {
		body := scrape(t, ta)
		return seriesValue(body, `okrd_key_result_measure_errors_total{key_result="broken-kr",objective="measured",source="keep"}`) == "1" &&
			seriesValue(body, `okrd_source_up{source="gone",type="fake"}`) == "1" &&
			seriesValue(body, `okrd_source_up{source="morph",type="fake"}`) == "1" &&
			seriesValue(body, `okrd_source_query_success{key_result="q-kr",objective="measured",source="warehouse"}`) == "1" &&
			seriesValue(body, `okrd_source_query_success{key_result="q2-kr",objective="measured",source="warehouse"}`) == "1"
	})
	// The shared source series, as an HTTP source would have set them.
	ta.srcMet.Requests.WithLabelValues("gone", "200").Inc()
	ta.srcMet.RateLimitRemaining.WithLabelValues("gone", "core").Set(4999)
	ta.srcMet.RateLimitLimit.WithLabelValues("gone", "core").Set(5000)
	body := scrape(t, ta)
	for _, want := range []string{`source="gone"`, `key_result="gone-kr"`, `key_result="broken-kr"`, `key_result="q-kr"`,
		`okrd_source_up{source="morph",type="fake"}`, `okrd_source_requests_total{code="200",source="gone"}`,
		`okrd_source_records{kind="item",source="gone"}`} {
		if !strings.Contains(body, want) {
			t.Fatalf("before the reload, /metrics has no %s", want)
		}
	}

	// The reload removes gone and three key results, makes morph a gated
	// source, and adds fresh, whose poll counts the stored records again
	// (gone's stay in the store).
	writeConfig(t, dir, strings.Replace(text("", "", `
[sources.fresh]
type = "fake"
interval = "1h"
`), "[sources.morph]\ntype = \"fake\"", "[sources.morph]\ntype = \"gated\"", 1))
	if err := ta.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitStarted(t, "morph")
	waitFor(t, func() bool {
		return seriesValue(scrape(t, ta), `okrd_source_records{kind="item",source="fresh"}`) == "1"
	})
	body = scrape(t, ta)
	for _, line := range strings.Split(body, "\n") {
		for _, gone := range []string{`source="gone"`, `key_result="gone-kr"`, `key_result="broken-kr"`, `key_result="q-kr"`,
			`okrd_source_up{source="morph",type="fake"}`} {
			if strings.Contains(line, gone) {
				t.Errorf("after the reload, /metrics still has %s", line)
			}
		}
	}
	for series, want := range map[string]string{
		`okrd_source_up{source="morph",type="gated"}`:                                                   "0",
		`okrd_source_initial_sync_in_progress{source="morph"}`:                                          "1",
		`okrd_source_polls_total{result="failure",source="morph"}`:                                      "0",
		`okrd_source_up{source="keep",type="fake"}`:                                                     "1",
		`okrd_source_query_success{key_result="q2-kr",objective="measured",source="warehouse"}`:         "1",
		`okrd_key_result_measure_errors_total{key_result="keep-kr",objective="measured",source="keep"}`: "0",
	} {
		if got := seriesValue(body, series); got != want {
			t.Errorf("after the reload, %s = %q, want %s", series, got, want)
		}
	}
}

func TestFailureCountersExistAtZeroFromTheStart(t *testing.T) {
	resetGates(t)
	// Gated sources never finish a poll in this test: whatever the series
	// say, nothing has failed yet.
	ta := startApp(t, "", baseConfig+`
[sources.jira]
type = "gated"
interval = "1h"

[[objectives]]
id = "measured"
title = "Measured by sources"
period = "2026-Q4"
  [[objectives.key_results]]
  id = "bugs"
  title = "Open bugs"
  source = "jira"
  baseline = 40
  target = 10

[alerting]
default_receiver = "hook"

[[alerting.receivers]]
name = "hook"
type = "webhook"
url = "http://127.0.0.1:9/hook"
`, fixedClock)
	body := scrape(t, ta)
	for _, series := range []string{
		`okrd_source_polls_total{result="failure",source="jira"}`,
		`okrd_source_polls_total{result="success",source="jira"}`,
		`okrd_key_result_measure_errors_total{key_result="bugs",objective="measured",source="jira"}`,
		`okrd_notifications_failed_total{integration="webhook",reason="server_error",receiver="hook"}`,
		`okrd_notification_requests_failed_total{integration="webhook",reason="network",receiver="hook"}`,
		`okrd_reports_failed_total`,
	} {
		if got := seriesValue(body, series); got != "0" {
			t.Errorf("%s = %q at the start, want 0", series, got)
		}
	}
}
