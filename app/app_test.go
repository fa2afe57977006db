package app

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/okrd/okrd/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fixedNow is the clock of most tests: 45.5 days into 2026-Q4
// (2026-10-01 to 2027-01-01, 92 days), so expected progress is
// 45.5/92 = 0.4945652173913043.
var fixedNow = time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)

const baseConfig = `
[global]
time_zone = "UTC"
evaluation_interval = "1h"

[server]
listen_address = "127.0.0.1:0"
api_token = "s3cret-token"

[storage]
driver = "sqlite"
dsn = "{{DB}}"

[[objectives]]
id = "grow"
title = "Grow the product"
owner = "alice"
team = "growth"
period = "2026-Q4"

  [[objectives.key_results]]
  id = "nps"
  title = "NPS from 31 to 40"
  baseline = 31
  target = 40

  [[objectives.key_results]]
  id = "tickets"
  title = "Support tickets per week from 120 to 80"
  baseline = 120
  target = 80
  weight = 3

  [[objectives.key_results]]
  id = "latency"
  title = "p95 latency stays under 300 ms"
  direction = "maintain"
  min = 0
  max = 0.3
  unit = "duration"

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

type testApp struct {
	*App
	url    string
	dir    string
	cfg    string
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

// writeConfig writes a config into dir, with {{DB}} replaced by a database
// file in dir.
func writeConfig(t *testing.T, dir, text string) string {
	t.Helper()
	path := filepath.Join(dir, "okrd.toml")
	text = strings.ReplaceAll(text, "{{DB}}", filepath.ToSlash(filepath.Join(dir, "okrd.db")))
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func testLogger(t *testing.T) (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(slog.NewTextHandler(&lockedWriter{w: &buf}, &slog.HandlerOptions{Level: slog.LevelDebug})), &buf
}

// startApp runs okrd from a config text in a fresh directory (or in dir
// when given, to test restarts) until the test ends.
func startApp(t *testing.T, dir, text string, now func() time.Time, opts ...func(*Options)) *testApp {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	path := writeConfig(t, dir, text)
	logger, _ := testLogger(t)
	o := Options{ConfigFile: path, Logger: logger, Now: now, ShutdownTimeout: 5 * time.Second}
	for _, f := range opts {
		f(&o)
	}
	a, err := New(context.Background(), o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := a.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ta := &testApp{App: a, url: "http://" + a.Addr(), dir: dir, cfg: path, cancel: cancel, done: make(chan error, 1)}
	go func() { ta.done <- a.Run(ctx) }()
	waitFor(t, func() bool { return a.Ready() })
	t.Cleanup(ta.stop)
	return ta
}

func (ta *testApp) stop() {
	ta.once.Do(func() {
		ta.cancel()
		select {
		case <-ta.done:
		case <-time.After(10 * time.Second):
			panic("okrd did not stop within 10s")
		}
	})
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func fixedClock() time.Time { return fixedNow }

type response struct {
	code int
	body string
	hdr  http.Header
}

func do(t *testing.T, method, url, token, body string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, string(b), resp.Header}
}

func checkin(t *testing.T, ta *testApp, obj, kr string, value float64, at string) {
	t.Helper()
	body := fmt.Sprintf(`{"value": %v, "at": %q, "author": "alice", "note": "weekly number"}`, value, at)
	r := do(t, "POST", ta.url+"/api/v1/objectives/"+obj+"/key_results/"+kr+"/checkins", "s3cret-token", body)
	if r.code != http.StatusCreated {
		t.Fatalf("check-in %s/%s = %v: %d %s", obj, kr, value, r.code, r.body)
	}
}

// seed records the check-ins the golden files were computed from.
func seed(t *testing.T, ta *testApp) {
	checkin(t, ta, "grow", "nps", 31, "2026-10-01T00:00:00Z")
	checkin(t, ta, "grow", "nps", 33, "2026-10-15T00:00:00Z")
	checkin(t, ta, "grow", "nps", 35, "2026-11-01T00:00:00Z")
	checkin(t, ta, "grow", "nps", 36, "2026-11-15T00:00:00Z")
	checkin(t, ta, "grow", "tickets", 110, "2026-11-10T00:00:00Z")
	checkin(t, ta, "grow", "latency", 0.42, "2026-11-14T00:00:00Z")
}

type apiKR struct {
	ID               string   `json:"id"`
	Value            *float64 `json:"value"`
	Progress         *float64 `json:"progress"`
	ExpectedProgress float64  `json:"expected_progress"`
	Gap              *float64 `json:"gap"`
	Status           string   `json:"status"`
	Forecast         *struct {
		Value    float64 `json:"value"`
		Progress float64 `json:"progress"`
	} `json:"forecast"`
	Points int `json:"points_in_period"`
}

type apiObjective struct {
	ID         string  `json:"id"`
	Progress   float64 `json:"progress"`
	Status     string  `json:"status"`
	KeyResults []apiKR `json:"key_results"`
}

func getObjectives(t *testing.T, ta *testApp, query string) []apiObjective {
	t.Helper()
	r := do(t, "GET", ta.url+"/api/v1/objectives"+query, "", "")
	if r.code != 200 {
		t.Fatalf("GET /api/v1/objectives: %d %s", r.code, r.body)
	}
	var out struct{ Objectives []apiObjective }
	if err := json.Unmarshal([]byte(r.body), &out); err != nil {
		t.Fatal(err)
	}
	return out.Objectives
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestAPIEvaluatesCheckinsAsMetricsDefines(t *testing.T) {
	ta := startApp(t, "", baseConfig, fixedClock)
	seed(t, ta)
	objs := getObjectives(t, ta, "")
	if len(objs) != 2 {
		t.Fatalf("got %d objectives, want 2", len(objs))
	}
	grow := objs[0]
	byID := map[string]apiKR{}
	for _, kr := range grow.KeyResults {
		byID[kr.ID] = kr
	}
	expected := 45.5 / 92 // elapsed fraction of 2026-Q4 at 2026-11-15T12:00Z

	nps := byID["nps"]
	// progress = (36-31)/(40-31) = 5/9; gap = 5/9 - 45.5/92 = 0.0610 >= -0.1: on track.
	if nps.Value == nil || *nps.Value != 36 || !near(*nps.Progress, 5.0/9) || !near(nps.ExpectedProgress, expected) || nps.Status != "on_track" {
		t.Errorf("nps = %+v", nps)
	}
	// Forecast: least squares through (0d,31) (14d,33) (31d,35) (45d,36):
	// mean x = 22.5, mean y = 33.75; Sxy = (-22.5)(-2.75)+(-8.5)(-0.75)+(8.5)(1.25)+(22.5)(2.25)
	// = 61.875+6.375+10.625+50.625 = 129.5; Sxx = 506.25+72.25+72.25+506.25 = 1157;
	// slope = 129.5/1157 per day; at day 92: 33.75 + (92-22.5)*129.5/1157.
	wantForecast := 33.75 + (92-22.5)*129.5/1157
	if nps.Forecast == nil || math.Abs(nps.Forecast.Value-wantForecast) > 1e-6 {
		t.Errorf("nps forecast = %+v, want value %v", nps.Forecast, wantForecast)
	}
	if nps.Points != 4 {
		t.Errorf("nps points = %d, want 4", nps.Points)
	}

	tickets := byID["tickets"]
	// Decrease: progress = (110-120)/(80-120) = 0.25; gap = 0.25-0.4946 = -0.2446 < -0.2: off track.
	if !near(*tickets.Progress, 0.25) || tickets.Status != "off_track" || tickets.Forecast != nil {
		t.Errorf("tickets = %+v", tickets)
	}
	latency := byID["latency"]
	// Maintain: 0.42 s is outside [0, 0.3]: progress 0, expected 1, off track.
	if !near(*latency.Progress, 0) || latency.Status != "off_track" {
		t.Errorf("latency = %+v", latency)
	}
	// Objective: weighted mean (1*5/9 + 3*0.25 + 1*0) / 5 = 0.26111; worst status off_track.
	if !near(grow.Progress, (5.0/9+0.75)/5) || grow.Status != "off_track" {
		t.Errorf("grow = progress %v status %s", grow.Progress, grow.Status)
	}
	ship := objs[1]
	if ship.Status != "no_data" || ship.KeyResults[0].Value != nil || ship.KeyResults[0].Progress != nil {
		t.Errorf("ship without data = %+v", ship)
	}

	// Filters by team and owner.
	if got := getObjectives(t, ta, "?team=platform"); len(got) != 1 || got[0].ID != "ship" {
		t.Errorf("team filter: %+v", got)
	}
	if got := getObjectives(t, ta, "?owner=alice"); len(got) != 1 || got[0].ID != "grow" {
		t.Errorf("owner filter: %+v", got)
	}
}

func TestHistoryAndCheckinListEndpoints(t *testing.T) {
	ta := startApp(t, "", baseConfig, fixedClock)
	seed(t, ta)
	r := do(t, "GET", ta.url+"/api/v1/objectives/grow/key_results/nps/history", "", "")
	var h struct {
		Values []struct {
			At     time.Time
			Value  float64
			Origin string
		}
	}
	if r.code != 200 || json.Unmarshal([]byte(r.body), &h) != nil {
		t.Fatalf("history: %d %s", r.code, r.body)
	}
	var got []float64
	for _, v := range h.Values {
		got = append(got, v.Value)
		if !strings.HasPrefix(v.Origin, "checkin:") {
			t.Errorf("origin = %q, want checkin:<id>", v.Origin)
		}
	}
	if fmt.Sprint(got) != "[31 33 35 36]" {
		t.Errorf("history values = %v", got)
	}
	r = do(t, "GET", ta.url+"/api/v1/objectives/grow/key_results/nps/history?from=2026-10-10&to=2026-11-02T00:00:00Z", "", "")
	if !strings.Contains(r.body, `"value": 33`) || strings.Contains(r.body, `"value": 31`) || strings.Contains(r.body, `"value": 36`) {
		t.Errorf("bounded history: %s", r.body)
	}
	r = do(t, "GET", ta.url+"/api/v1/objectives/grow/key_results/nps/history?from=yesterday", "", "")
	if r.code != 400 || !strings.Contains(r.body, `"error": "from: \"yesterday\" is not an RFC 3339 time`) {
		t.Errorf("bad from: %d %s", r.code, r.body)
	}
	r = do(t, "GET", ta.url+"/api/v1/objectives/grow/key_results/nps/checkins?limit=2", "", "")
	var cs struct {
		Checkins []struct {
			Value  float64
			Author string
			Note   string
		}
	}
	if r.code != 200 || json.Unmarshal([]byte(r.body), &cs) != nil || len(cs.Checkins) != 2 ||
		cs.Checkins[0].Value != 36 || cs.Checkins[1].Value != 35 || cs.Checkins[0].Author != "alice" || cs.Checkins[0].Note != "weekly number" {
		t.Errorf("checkins: %d %s", r.code, r.body)
	}
}

func TestCheckinAPIRejectsBadRequestsWithAClearError(t *testing.T) {
	ta := startApp(t, "", baseConfig, fixedClock)
	url := ta.url + "/api/v1/objectives/grow/key_results/nps/checkins"
	for _, tc := range []struct {
		name, url, token, body string
		code                   int
		msg                    string
	}{
		{"no token is refused", url, "", `{"value": 1}`, 401, "missing or wrong bearer token"},
		{"a wrong token is refused", url, "nope", `{"value": 1}`, 401, "missing or wrong bearer token"},
		{"an empty body says what to send", url, "s3cret-token", ``, 400, `body: empty; want a JSON object such as {\"value\": 42}`},
		{"malformed JSON says where", url, "s3cret-token", `{"value": }`, 400, "body: invalid JSON at byte 11"},
		{"a string value names the field", url, "s3cret-token", `{"value": "high"}`, 400, `body: \"value\": must be a number, not a JSON string`},
		{"a missing value is not zero", url, "s3cret-token", `{"note": "x"}`, 400, `body: \"value\": required (a number`},
		{"an unknown field is an error", url, "s3cret-token", `{"value": 1, "vlaue": 2}`, 400, `body: unknown field \"vlaue\"`},
		{"trailing data is an error", url, "s3cret-token", `{"value": 1} {"value": 2}`, 400, "body: unexpected data after the JSON object"},
		{"a bad time names the field", url, "s3cret-token", `{"value": 1, "at": "soon"}`, 400, `body: \"at\": \"soon\" is not an RFC 3339 time`},
		{"a time in the future is refused", url, "s3cret-token", `{"value": 1, "at": "2026-12-01T00:00:00Z"}`, 400, `body: \"at\": 2026-12-01T00:00:00Z is more than a day in the future`},
		{"the zero time is not taken as now", url, "s3cret-token", `{"value": 1, "at": "0001-01-01T00:00:00Z"}`, 400, `body: \"at\": 0001-01-01T00:00:00Z is the zero time`},
		{"an unknown objective lists the ids", ta.url + "/api/v1/objectives/nope/key_results/nps/checkins", "s3cret-token", `{"value": 1}`, 404, `objective \"nope\" does not exist (objectives: grow, ship)`},
		{"an unknown key result lists the ids", ta.url + "/api/v1/objectives/grow/key_results/nope/checkins", "s3cret-token", `{"value": 1}`, 404, `key result \"nope\" does not exist in objective \"grow\" (key results: latency, nps, tickets)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, "POST", tc.url, tc.token, tc.body)
			if r.code != tc.code || !strings.Contains(r.body, tc.msg) {
				t.Errorf("got %d %s\nwant %d containing %q", r.code, r.body, tc.code, tc.msg)
			}
			if !strings.HasPrefix(r.hdr.Get("Content-Type"), "application/json") {
				t.Errorf("content type %q", r.hdr.Get("Content-Type"))
			}
		})
	}
	// Nothing of the rejected requests was stored.
	if cs, err := ta.Store().Checkins(context.Background(), "grow", "nps", 0); err != nil || len(cs) != 0 {
		t.Errorf("rejected check-ins were stored: %v %v", cs, err)
	}
}

func TestAPIErrorsAreJSON(t *testing.T) {
	ta := startApp(t, "", baseConfig, fixedClock)
	for _, tc := range []struct {
		method, path string
		code         int
		msg          string
	}{
		{"GET", "/api/v1/nothing", 404, "no API endpoint at /api/v1/nothing"},
		{"GET", "/api/v1/objectives/nope", 404, `objective \"nope\" does not exist (objectives: grow, ship)`},
		{"GET", "/api/v1/objectives/grow/key_results/nope", 404, `key result \"nope\" does not exist`},
		{"DELETE", "/api/v1/objectives", 405, "method DELETE not allowed; use GET"},
		{"GET", "/api/v1/objectives/grow/key_results/nps/checkins?limit=0", 400, `limit: \"0\" is not a whole number from 1 to 10000`},
	} {
		r := do(t, tc.method, ta.url+tc.path, "", "")
		if r.code != tc.code || !strings.Contains(r.body, `"error": "`+tc.msg) {
			t.Errorf("%s %s = %d %s, want %d %q", tc.method, tc.path, r.code, r.body, tc.code, tc.msg)
		}
	}
}

func TestCheckinsSurviveARestart(t *testing.T) {
	dir := t.TempDir()
	ta := startApp(t, dir, baseConfig, fixedClock)
	checkin(t, ta, "grow", "nps", 37, "2026-11-14T00:00:00Z")
	ta.stop()
	tb := startApp(t, dir, baseConfig, fixedClock)
	objs := getObjectives(t, tb, "")
	if v := objs[0].KeyResults[0].Value; v == nil || *v != 37 {
		t.Fatalf("after restart nps value = %v, want 37", v)
	}
}

func TestCheckinWrittenByAnotherProcessIsPickedUp(t *testing.T) {
	ta := startApp(t, "", baseConfig, fixedClock)
	// okrd checkin writes straight into the store, not through the API.
	other, err := OpenStore(context.Background(), ta.Config().Storage, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.AddCheckin(context.Background(), storeCheckin("grow", "nps", 38)); err != nil {
		t.Fatal(err)
	}
	ta.Evaluate(context.Background())
	if v := getObjectives(t, ta, "")[0].KeyResults[0].Value; v == nil || *v != 38 {
		t.Fatalf("value = %v, want 38", v)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	ta := startApp(t, "", baseConfig, fixedClock)
	if r := do(t, "GET", ta.url+"/-/healthy", "", ""); r.code != 200 {
		t.Errorf("healthy: %d", r.code)
	}
	if r := do(t, "GET", ta.url+"/-/ready", "", ""); r.code != 200 {
		t.Errorf("ready: %d", r.code)
	}
	if r := do(t, "GET", ta.url+"/", "", ""); r.code != 200 || !strings.Contains(r.body, "Grow the product") || !strings.Contains(r.body, "NPS from 31 to 40") {
		t.Errorf("page: %d %s", r.code, r.body)
	}
}

func TestReloadKeepsTheRunningConfigWhenTheNewOneIsBad(t *testing.T) {
	ta := startApp(t, "", baseConfig, fixedClock, func(o *Options) { o.EnableLifecycle = true })
	metric := func() string {
		r := do(t, "GET", ta.url+"/metrics", "", "")
		m := regexp.MustCompile(`(?m)^okrd_config_last_reload_successful (\S+)$`).FindStringSubmatch(r.body)
		if m == nil {
			t.Fatalf("no okrd_config_last_reload_successful in /metrics")
		}
		return m[1]
	}
	if got := metric(); got != "1" {
		t.Fatalf("initial reload metric %s", got)
	}
	// A broken file: the reload fails, says why, and nothing changes.
	writeConfig(t, ta.dir, baseConfig+"\n[[objectives]]\nid = \"grow\"\n")
	r := do(t, "POST", ta.url+"/-/reload", "", "")
	if r.code != 500 || !strings.Contains(r.body, "reload failed, the running configuration is kept") {
		t.Errorf("bad reload: %d %s", r.code, r.body)
	}
	if got := metric(); got != "0" {
		t.Errorf("after a bad reload the metric is %s, want 0", got)
	}
	if n := len(getObjectives(t, ta, "")); n != 2 {
		t.Errorf("objectives after a bad reload = %d, want 2", n)
	}
	// A good file with one more objective.
	writeConfig(t, ta.dir, baseConfig+`
[[objectives]]
id = "learn"
title = "Learn"
period = "2026-Q4"
  [[objectives.key_results]]
  id = "interviews"
  title = "Customer interviews"
  baseline = 0
  target = 20
`)
	if r := do(t, "POST", ta.url+"/-/reload", "", ""); r.code != 200 {
		t.Errorf("good reload: %d %s", r.code, r.body)
	}
	if got := metric(); got != "1" {
		t.Errorf("after a good reload the metric is %s, want 1", got)
	}
	if n := len(getObjectives(t, ta, "")); n != 3 {
		t.Errorf("objectives after reload = %d, want 3", n)
	}
	if r := do(t, "GET", ta.url+"/-/reload", "", ""); r.code != 405 {
		t.Errorf("GET /-/reload = %d, want 405", r.code)
	}
}

// okrLines returns the okr_* lines of an exposition, sorted within each
// family as printed.
func okrLines(body string) string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, "okr_") || strings.HasPrefix(l, "# HELP okr_") || strings.HasPrefix(l, "# TYPE okr_") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n") + "\n"
}

func TestMetricsGolden(t *testing.T) {
	ta := startApp(t, "", baseConfig, fixedClock)
	seed(t, ta)
	r := do(t, "GET", ta.url+"/metrics", "", "")
	if r.code != 200 {
		t.Fatalf("/metrics: %d", r.code)
	}
	got := okrLines(r.body)
	golden := filepath.Join("testdata", "metrics.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("/metrics differs from %s (run go test ./app -run TestMetricsGolden -update and review the diff):\n%s", golden, diffLines(string(want), got))
	}
}

func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	ws, gs := map[string]bool{}, map[string]bool{}
	for _, l := range w {
		ws[l] = true
	}
	for _, l := range g {
		gs[l] = true
	}
	var out []string
	for _, l := range w {
		if !gs[l] {
			out = append(out, "- "+l)
		}
	}
	for _, l := range g {
		if !ws[l] {
			out = append(out, "+ "+l)
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

func TestMetricsPassPromtool(t *testing.T) {
	promtool := testenv.Program(t, "promtool", "prometheus")
	ta := startApp(t, "", baseConfig+`
[sources.flaky]
type = "fake"
interval = "1h"
`, fixedClock)
	seed(t, ta)
	r := do(t, "GET", ta.url+"/metrics", "", "")
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(r.body)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

func TestMetricsAreGzippedAndNegotiated(t *testing.T) {
	ta := startApp(t, "", baseConfig, fixedClock)
	seed(t, ta)
	plain := do(t, "GET", ta.url+"/metrics", "", "")
	// Go's client asks for gzip and decompresses transparently, including
	// the two gzip members okrd writes.
	if !strings.Contains(plain.body, `okr_key_result_value{key_result="nps",objective="grow"} 36`) {
		t.Fatalf("decompressed exposition lacks the nps value:\n%s", okrLines(plain.body))
	}
	if !strings.Contains(plain.body, "okrd_config_last_reload_successful 1") {
		t.Fatal("decompressed exposition lacks okrd's own series")
	}
	req, _ := http.NewRequest("GET", ta.url+"/metrics", nil)
	req.Header.Set("Accept", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/vnd.google.protobuf") {
		t.Errorf("protobuf negotiation gave %q", ct)
	}
}

func TestPointsReturnsACopyOfTheHistoryInRange(t *testing.T) {
	ta := startApp(t, "", baseConfig, fixedClock)
	seed(t, ta)
	from := time.Date(2026, 10, 10, 0, 0, 0, 0, time.UTC)
	to := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	pts := ta.Points("grow", "nps", from, to)
	// The nps check-ins are 31 (10-01), 33 (10-15), 35 (11-01), 36 (11-15):
	// 10-15 and 11-01 fall in [10-10, 11-01].
	if len(pts) != 2 || pts[0].Value != 33 || pts[1].Value != 35 {
		t.Fatalf("points = %+v", pts)
	}
	pts[0].Value = 999
	if again := ta.Points("grow", "nps", from, to); again[0].Value != 33 {
		t.Error("Points returned the history itself, not a copy")
	}
	if none := ta.Points("grow", "nope", from, to); none != nil {
		t.Errorf("unknown key result: %+v", none)
	}
}
