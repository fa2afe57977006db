package dashboards

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/okrd/okrd/app"
	"github.com/okrd/okrd/checkins"
	_ "github.com/okrd/okrd/collectors/all"
	_ "github.com/okrd/okrd/collectors/promql"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/internal/testenv"
	"github.com/okrd/okrd/sandbox/githubfake"
	"github.com/okrd/okrd/sandbox/jirafake"
	"github.com/okrd/okrd/store"
)

// The end-to-end test runs okrd in-process with a configuration that
// exercises every kind of panel (objectives in their period and past it,
// an increase, a band, weighted and unweighted objectives, a stale value, a
// source that answers and one that fails), a real Prometheus scraping it
// every second, and then runs every panel's query, with the variables set
// as Grafana sets them, against that Prometheus: each must return data.
//
// It does so twice. Mid-period (okrd on the real clock) every query but
// the scores must return data: a score exists only once a period is over.
// Then okrd restarts on the same database and address with its clock at
// the end of the current period, and every query, scores included, must
// return data.

const e2eConfig = `
[global]
time_zone = "UTC"
evaluation_interval = "1s"

[storage]
dsn = "{{DIR}}/okrd.db"

# Built-in alerting with a webhook receiver, so that the notification
# series exist (and alerts flow to it at once).
[alerting]
for = "0s"
keep_firing_for = "0s"
default_receiver = "team"

[[alerting.receivers]]
name = "team"
type = "webhook"
url = "{{HOOK}}"

# The delivery sources, against the sandbox's fake Jira and GitHub.
[sources.jira]
type = "jira"
interval = "2s"
url = "{{JIRA}}"
flavor = "cloud"
email = "e2e@example.com"
token = "e2e-jira-token"
projects = ["PAY", "WEB"]

[sources.github]
type = "github"
interval = "2s"
url = "{{GITHUB}}/gh/"
token = "e2e-github-token"
repos = ["acme/svc-00", "acme/svc-01"]

# A team of one repository and one project: its series carry the team label.
[teams.payments]
repositories = ["acme/svc-0[1]"]
jira_projects = ["PAY"]

# A prometheus source that answers: okrd reads a key result from the very
# Prometheus that scrapes it.
[sources.metrics]
type = "prometheus"
interval = "1s"
url = "{{PROM}}"

# A prometheus source whose key result's query is not valid PromQL: the
# first poll only checks the server (it answers), the measurement fails,
# and every later poll fails with a 400.
[sources.broken]
type = "prometheus"
interval = "1s"
url = "{{PROM}}"

[[objectives]]
id = "checkout"
title = "Customers love the new checkout"
owner = "maria"
team = "payments"
start = {{CURRENT_START}}
end = {{CURRENT_END}}

  [[objectives.key_results]]
  id = "nps"
  title = "Raise checkout NPS from 31 to 40"
  baseline = 31
  target = 40
  weight = 2

  [[objectives.key_results]]
  id = "latency"
  title = "Keep checkout p95 latency under 300 ms"
  min = 0
  max = 0.3
  unit = "duration"

  [[objectives.key_results]]
  id = "availability"
  title = "Checkout availability at 99.9%"
  source = "metrics"
  query = "vector(0.997)"
  baseline = 0.99
  target = 0.999
  unit = "ratio"

[[objectives]]
id = "revenue"
title = "Grow self-serve revenue"
owner = "lena"
team = "growth"
start = {{CURRENT_START}}
end = {{CURRENT_END}}

  [[objectives.key_results]]
  id = "arr"
  title = "ARR from 100k to 200k EUR"
  baseline = 100000
  target = 200000
  unit = "currency"
  currency = "EUR"
  stale_after = "1h"

  [[objectives.key_results]]
  id = "upgrades"
  title = "Upgrades per week from 10 to 20"
  source = "broken"
  query = "sum(upgrades"
  baseline = 10
  target = 20

[[objectives]]
id = "last-quarter"
title = "Last quarter's signups"
owner = "maria"
team = "payments"
start = {{PAST_START}}
end = {{PAST_END}}

  [[objectives.key_results]]
  id = "signups"
  title = "Weekly signups from 10 to 20"
  baseline = 10
  target = 20
`

func TestEveryPanelShowsDataFromARealPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prometheus; not in -short mode")
	}
	promBin := prometheusPath(t)
	dir := t.TempDir()
	promAddr := freeAddr(t)
	now := time.Now().UTC()
	day := 24 * time.Hour
	date := func(t time.Time) string { return t.Format(time.DateOnly) }
	jira, github, hook := startFakes(t, now)
	text := strings.NewReplacer(
		"{{DIR}}", filepath.ToSlash(dir),
		"{{JIRA}}", jira, "{{GITHUB}}", github, "{{HOOK}}", hook,
		"{{PROM}}", "http://"+promAddr,
		"{{CURRENT_START}}", date(now.Add(-30*day)),
		"{{CURRENT_END}}", date(now.Add(60*day)),
		"{{PAST_START}}", date(now.Add(-150*day)),
		"{{PAST_END}}", date(now.Add(-60*day)),
	).Replace(e2eConfig)
	cfgPath := filepath.Join(dir, "okrd.toml")
	if err := os.WriteFile(cfgPath, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}

	periodEnd := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).Add(61 * day)
	okrd := startOkrd(t, cfgPath, "127.0.0.1:0", nil, func(a *app.App) { seedHistory(t, a, now) })
	checkinAt := now.Add(-time.Hour)
	if _, err := okrd.app.AddCheckin(context.Background(), checkins.Request{
		ObjectiveID: "checkout", KeyResultID: "nps", Value: 37, At: &checkinAt, Author: "e2e",
	}); err != nil {
		t.Fatal(err)
	}
	prom := startPrometheus(t, promBin, dir, promAddr, okrd.addr)

	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Objective("checkout").Resolved.End; !got.Equal(periodEnd) {
		t.Fatalf("period end = %s, want %s", got, periodEnd)
	}
	ds, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	qs := queriesOf(t, ds...)
	values := defaultValues(t, ds...)

	t.Run("every variable lists values", func(t *testing.T) {
		for _, v := range variablesOf(t, ds...) {
			if v.Type != "query" {
				continue
			}
			listed := prom.variableValues(t, v, values)
			if len(listed) == 0 {
				t.Errorf("%s variable %s lists no values: %s", v.Dashboard, v.Name, v.Query)
			}
		}
	})

	t.Run("mid-period every query but the scores returns data", func(t *testing.T) {
		var want []panelQuery
		for _, q := range qs {
			if !strings.Contains(q.Expr, "_score") {
				want = append(want, q)
			}
		}
		if len(want) == len(qs) || len(want) == 0 {
			t.Fatalf("%d of %d queries are not about scores; the test expects both kinds", len(want), len(qs))
		}
		expectData(t, prom, want, values)
	})

	t.Run("the team and owner filters narrow the objectives", func(t *testing.T) {
		var info panelQuery
		for _, q := range queriesOf(t, ds[0]) {
			if q.Panel == "Objectives" && q.RefID == "info" {
				info = q
			}
		}
		if info.Expr == "" {
			t.Fatal("no info query in the Objectives table")
		}
		tests := []struct {
			name       string
			team       string
			owner      string
			objectives string
		}{
			{"all teams and owners", ".*", ".*", "checkout,last-quarter,revenue"},
			{"one team", "growth", ".*", "revenue"},
			{"one owner", ".*", "maria", "checkout,last-quarter"},
			{"a team and an owner that do not meet", "growth", "maria", ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				vs := map[string]string{}
				for k, v := range values {
					vs[k] = v
				}
				vs[varTeam], vs[varOwner] = tt.team, tt.owner
				expr, err := substitute(info.Expr, vs)
				if err != nil {
					t.Fatal(err)
				}
				// Retried: a scrape that missed its deadline leaves a gap.
				var got string
				deadline := time.Now().Add(20 * time.Second)
				for {
					ids, err := prom.labelOf(expr, "objective")
					if err != nil {
						t.Fatal(err)
					}
					if got = strings.Join(ids, ","); got == tt.objectives || time.Now().After(deadline) {
						break
					}
					time.Sleep(500 * time.Millisecond)
				}
				if got != tt.objectives {
					t.Errorf("objectives = %q, want %q", got, tt.objectives)
				}
			})
		}
	})
	t.Run("the objective variable lists each objective by title and period", func(t *testing.T) {
		var v variableQuery
		for _, x := range variablesOf(t, ds[0]) {
			if x.Name == varObjective {
				v = x
			}
		}
		name := func(id string) string {
			o := cfg.Objective(id)
			return o.Title + " (" + o.Resolved.Name + ")"
		}
		tests := []struct {
			name, team string
			want       []string
		}{
			{"all teams", ".*", []string{"checkout", "last-quarter", "revenue"}},
			{"one team", "growth", []string{"revenue"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				vs := map[string]string{}
				for k, x := range values {
					vs[k] = x
				}
				vs[varTeam] = tt.team
				var want []string
				for _, id := range tt.want {
					want = append(want, name(id)+" = "+id)
				}
				sort.Strings(want)
				var got []string
				deadline := time.Now().Add(20 * time.Second)
				for {
					got = got[:0]
					for _, o := range prom.variableOptions(t, v, vs) {
						got = append(got, o.Text+" = "+o.Value)
					}
					sort.Strings(got)
					if strings.Join(got, "|") == strings.Join(want, "|") || time.Now().After(deadline) {
						break
					}
					time.Sleep(500 * time.Millisecond)
				}
				if strings.Join(got, "|") != strings.Join(want, "|") {
					t.Errorf("options %q, want %q", got, want)
				}
			})
		}
	})

	t.Run("a copy of the repeated row shows its objective's key results only", func(t *testing.T) {
		rows := repeatedRows(decodeDashboard(t, ds[0]))
		if len(rows) != 1 {
			t.Fatalf("%d repeated rows, want 1", len(rows))
		}
		var row []panelQuery
		for _, ps := range rows {
			row = queriesOfPanels(ds[0].UID, ps)
		}
		for _, tt := range []struct {
			objective string
			krs       string
		}{
			{"checkout", "availability,latency,nps"},
			{"revenue", "arr,upgrades"},
		} {
			t.Run(tt.objective, func(t *testing.T) {
				// Grafana sets $objective to one id in each copy.
				vs := map[string]string{}
				for k, x := range values {
					vs[k] = x
				}
				vs[varObjective] = tt.objective
				var want []panelQuery
				for _, q := range row {
					if !strings.Contains(q.Expr, "_score") {
						want = append(want, q)
					}
				}
				expectData(t, prom, want, vs)
				for _, q := range row {
					if !(q.Panel == "Key results" && q.RefID == "info") && !(q.Panel == "Value now" && q.RefID == "value") {
						continue
					}
					expr, err := substitute(q.Expr, vs)
					if err != nil {
						t.Fatal(err)
					}
					var got string
					deadline := time.Now().Add(20 * time.Second)
					for {
						krs, err := prom.labelOf(expr, "key_result")
						if err != nil {
							t.Fatal(err)
						}
						if got = strings.Join(krs, ","); got == tt.krs || time.Now().After(deadline) {
							break
						}
						time.Sleep(500 * time.Millisecond)
					}
					if got != tt.krs {
						t.Errorf("%s: key results %q, want %q", q, got, tt.krs)
					}
				}
			})
		}
	})

	t.Run("the objective figures weigh the key results as okrd does", func(t *testing.T) {
		// The generator renders the roll-up's weights into PromQL; okrd's
		// own objective progress is the same weighted mean of the key
		// results' progress (a key result without a value counting 0).
		progress := func(ms ...m) string {
			return "max by (objective, key_result) (" + sel("okr_key_result_progress_ratio", ms...) + ") or 0 * " + instant.expectedTerm(ms...)
		}
		for _, o := range cfg.Objectives {
			got := prom.value(t, weightedMean([]*config.Objective{o}, progress))
			want := prom.value(t, sel("okr_objective_progress_ratio", eq("objective", o.ID)))
			if math.Abs(got-want) > 1e-9 {
				t.Errorf("objective %s: weighted mean of the key results' progress = %v, okrd's progress = %v", o.ID, got, want)
			}
		}
		// Checkout weighs nps 2, latency 1 and availability 1; latency is a
		// band, whose expected progress is always 1, and the others expect
		// f, the elapsed share of the period: (2f + 1 + f) / 4.
		f := prom.value(t, sel("okr_key_result_expected_progress_ratio", eq("objective", "checkout"), eq("key_result", "nps")))
		if f <= 0 || f >= 1 {
			t.Fatalf("elapsed share of the period = %v, want within (0, 1)", f)
		}
		got := prom.value(t, weightedMean([]*config.Objective{cfg.Objective("checkout")}, instant.expectedTerm))
		if want := (3*f + 1) / 4; math.Abs(got-want) > 1e-9 {
			t.Errorf("checkout's expected progress = %v, want (3·%v + 1) / 4 = %v", got, f, want)
		}
	})

	t.Run("at the period end every query returns data", func(t *testing.T) {
		okrd.stop()
		startOkrd(t, cfgPath, okrd.addr, func() time.Time { return periodEnd }, nil)
		// Wait until Prometheus has scraped the restarted okrd.
		waitFor(t, 30*time.Second, func() (bool, error) {
			n, err := prom.count("okr_objective_score", true)
			return n > 0, err
		})
		expectData(t, prom, qs, values)
	})

	if t.Failed() {
		if d, err := prom.query(`up{job="okrd"} or scrape_duration_seconds{job="okrd"}`, false); err == nil && d != nil {
			t.Logf("okrd's scrapes over the last minute: %+v", d.Result)
		}
		t.Logf("Prometheus log:\n%s", prom.log())
	}
}

// prometheusPath finds the Prometheus server binary, or skips (fails under
// OKRD_REQUIRE_INTEGRATION=1) without it.
func prometheusPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("prometheus")
	if err != nil {
		if _, statErr := os.Stat("/usr/bin/prometheus"); statErr == nil {
			return "/usr/bin/prometheus"
		}
		testenv.Unavailable(t, "prometheus not found (install the prometheus package, see scripts/install-test-deps.sh)")
	}
	return p
}

// freeAddr returns a loopback address with a port that was free a moment
// ago, for a server that must be named before it starts.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// startFakes serves the sandbox's fake Jira and GitHub with a few months
// of generated history, and a webhook receiver that accepts everything.
func startFakes(t *testing.T, now time.Time) (jiraURL, githubURL, hookURL string) {
	t.Helper()
	jf := jirafake.New(jirafake.Cloud)
	jf.Email, jf.Token = "e2e@example.com", "e2e-jira-token"
	jf.Generate(jirafake.GenOptions{Projects: []string{"PAY", "WEB"}, Issues: 240, Now: now, Days: 120, Seed: 7})
	js := httptest.NewServer(jf)
	t.Cleanup(js.Close)

	gf := githubfake.New("e2e-github-token")
	gf.Update(func(d *githubfake.Data) {
		d.Generate(githubfake.GenOptions{Owner: "acme", Repos: 2, PullRequests: 80, Deployments: 60, Incidents: 12,
			Days: 120, Now: now.Truncate(time.Second), Seed: 7})
	})
	gs := httptest.NewServer(http.StripPrefix("/gh", gf))
	t.Cleanup(gs.Close)

	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	t.Cleanup(hs.Close)
	return js.URL, gs.URL, hs.URL
}

// expectData runs each query until it returns data, for at most a minute
// (series appear as okrd polls, fails and is scraped), and reports the
// ones that never did.
func expectData(t *testing.T, prom *promServer, qs []panelQuery, values map[string]string) {
	t.Helper()
	pending := map[int]string{}
	for i, q := range qs {
		expr, err := substitute(q.Expr, values)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		pending[i] = expr
	}
	deadline := time.Now().Add(time.Minute)
	for len(pending) > 0 && time.Now().Before(deadline) {
		for i, expr := range pending {
			n, err := prom.count(expr, qs[i].Instant)
			if err != nil {
				t.Fatalf("%s: %v\n%s", qs[i], err, expr)
			}
			if n > 0 {
				delete(pending, i)
			}
		}
		if len(pending) > 0 {
			time.Sleep(time.Second)
		}
	}
	for i, q := range qs {
		if expr, ok := pending[i]; ok {
			t.Errorf("%s returned no data: %s", q, expr)
		}
	}
	t.Logf("%d queries returned data", len(qs)-len(pending))
}

// runningOkrd is okrd running in-process.
type runningOkrd struct {
	app  *app.App
	addr string
	stop func()
}

// startOkrd runs okrd in-process on addr with the clock now (nil: the real
// one) and returns it once it is ready. before runs between New and Run,
// when the store is open and nothing reads it yet.
func startOkrd(t *testing.T, cfgPath, addr string, now func() time.Time, before func(*app.App)) runningOkrd {
	t.Helper()
	a, err := app.New(context.Background(), app.Options{
		ConfigFile: cfgPath, ListenAddresses: []string{addr}, Now: now, ShutdownTimeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if before != nil {
		before(a)
	}
	if err := a.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("okrd stopped with %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Error("okrd did not stop within 10s")
			}
		})
	}
	t.Cleanup(stop)
	waitFor(t, 10*time.Second, func() (bool, error) { return a.Ready(), nil })
	return runningOkrd{app: a, addr: a.Addr(), stop: stop}
}

// seedHistory gives every key result the history a quarter would have by
// now: values over three weeks (so that each has a forecast) recorded as
// check-ins for the manual key results and as measured values for those
// of a source; ARR's newest value is older than its stale_after. Last
// quarter's signups end within that quarter, which gives it a score.
func seedHistory(t *testing.T, a *app.App, now time.Time) {
	t.Helper()
	ctx := context.Background()
	st := a.Store()
	day := 24 * time.Hour
	pastStart := now.Add(-150 * day)
	for _, c := range []store.Checkin{
		{ObjectiveID: "checkout", KeyResultID: "nps", Value: 33, At: now.Add(-20 * day)},
		{ObjectiveID: "checkout", KeyResultID: "nps", Value: 35, At: now.Add(-10 * day)},
		{ObjectiveID: "checkout", KeyResultID: "nps", Value: 36, At: now.Add(-1 * day)},
		{ObjectiveID: "checkout", KeyResultID: "latency", Value: 0.28, At: now.Add(-20 * day)},
		{ObjectiveID: "checkout", KeyResultID: "latency", Value: 0.26, At: now.Add(-10 * day)},
		{ObjectiveID: "checkout", KeyResultID: "latency", Value: 0.25, At: now.Add(-2 * time.Hour)},
		{ObjectiveID: "revenue", KeyResultID: "arr", Value: 120000, At: now.Add(-20 * day)},
		{ObjectiveID: "revenue", KeyResultID: "arr", Value: 135000, At: now.Add(-10 * day)},
		{ObjectiveID: "revenue", KeyResultID: "arr", Value: 150000, At: now.Add(-2 * day)},
		{ObjectiveID: "last-quarter", KeyResultID: "signups", Value: 12, At: pastStart.Add(10 * day)},
		{ObjectiveID: "last-quarter", KeyResultID: "signups", Value: 15, At: pastStart.Add(40 * day)},
		{ObjectiveID: "last-quarter", KeyResultID: "signups", Value: 18, At: pastStart.Add(80 * day)},
	} {
		c.Author = "e2e"
		if _, err := st.AddCheckin(ctx, c); err != nil {
			t.Fatalf("check-in %s/%s: %v", c.ObjectiveID, c.KeyResultID, err)
		}
	}
	var vals []store.Value
	for i, v := range []float64{0.993, 0.995, 0.996} {
		vals = append(vals, store.Value{ObjectiveID: "checkout", KeyResultID: "availability", Value: v,
			At: now.Add(-time.Duration(20-9*i) * day), Origin: "source:metrics"})
	}
	for i, v := range []float64{11, 12, 14} {
		vals = append(vals, store.Value{ObjectiveID: "revenue", KeyResultID: "upgrades", Value: v,
			At: now.Add(-time.Duration(20-9*i) * day), Origin: "source:broken"})
	}
	if err := st.AppendValues(ctx, vals...); err != nil {
		t.Fatal(err)
	}
}

// promServer is a running Prometheus server.
type promServer struct {
	base string
	out  *lockedBuffer
	// exited is closed when the process ends (replicas_test.go).
	exited chan struct{}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (p *promServer) log() string {
	p.out.mu.Lock()
	defer p.out.mu.Unlock()
	return p.out.buf.String()
}

// startPrometheus runs Prometheus on addr, scraping okrd every second, and
// waits until it has scraped okrd's OKR series.
func startPrometheus(t *testing.T, bin, dir, addr, target string) *promServer {
	t.Helper()
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: okrd
    static_configs:
      - targets: [%q]
`, target)
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &promServer{base: "http://" + addr, out: &lockedBuffer{}}
	cmd := exec.Command(bin,
		"--config.file="+cfgPath,
		"--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+addr,
		"--log.level=warn",
	)
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Error("prometheus did not exit within 10s of SIGKILL")
		}
	})
	waitFor(t, 30*time.Second, func() (bool, error) {
		select {
		case <-exited:
			return false, fmt.Errorf("prometheus exited:\n%s", p.log())
		default:
		}
		n, err := p.count("okr_objective_info", true)
		return n > 0, err
	})
	return p
}

// waitFor polls f until it returns a true or non-empty result, an error,
// or the timeout, and returns its last result.
func waitFor[T any](t *testing.T, timeout time.Duration, f func() (T, error)) T {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		v, err := f()
		if err != nil {
			t.Fatal(err)
		}
		if !isZero(v) || time.Now().After(deadline) {
			return v
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func isZero(v any) bool {
	switch x := v.(type) {
	case bool:
		return !x
	case []string:
		return len(x) == 0
	}
	return v == nil
}

type apiResponse struct {
	Status    string          `json:"status"`
	Error     string          `json:"error"`
	ErrorType string          `json:"errorType"`
	Data      json.RawMessage `json:"data"`
}

// get calls the HTTP API; a connection error before Prometheus listens,
// or its 503 before it is ready, is an empty answer, not a failure.
func (p *promServer) get(path string, params url.Values) (json.RawMessage, error) {
	resp, err := http.Get(p.base + path + "?" + params.Encode())
	if err != nil {
		if strings.Contains(err.Error(), "connection refused") {
			return nil, nil
		}
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusServiceUnavailable {
		// Prometheus answers 503 until its storage is ready.
		return nil, nil
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var r apiResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("%s: %s: %s", path, resp.Status, body)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("%s: %s: %s", path, r.ErrorType, r.Error)
	}
	return r.Data, nil
}

type queryData struct {
	ResultType string `json:"resultType"`
	Result     []struct {
		Metric map[string]string `json:"metric"`
		Value  [2]any            `json:"value"`
		Values [][2]any          `json:"values"`
	} `json:"result"`
}

func (p *promServer) query(expr string, instant bool) (*queryData, error) {
	params := url.Values{"query": {expr}}
	path := "/api/v1/query"
	if !instant {
		// What a time-series panel asks for: a range, here the last minute.
		end := time.Now()
		params.Set("start", fmt.Sprint(end.Add(-time.Minute).Unix()))
		params.Set("end", fmt.Sprint(end.Unix()))
		params.Set("step", "2")
		path = "/api/v1/query_range"
	}
	raw, err := p.get(path, params)
	if err != nil || raw == nil {
		return nil, err
	}
	var d queryData
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// count returns the number of series (or 1 for a scalar) a query returns.
func (p *promServer) count(expr string, instant bool) (int, error) {
	d, err := p.query(expr, instant)
	if err != nil || d == nil {
		return 0, err
	}
	if d.ResultType == "scalar" {
		return 1, nil
	}
	return len(d.Result), nil
}

// value returns the value of an instant query that must return exactly
// one series.
func (p *promServer) value(t *testing.T, expr string) float64 {
	t.Helper()
	// Retried: a scrape that missed its deadline leaves a gap.
	var d *queryData
	deadline := time.Now().Add(20 * time.Second)
	for {
		var err error
		if d, err = p.query(expr, true); err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		if (d != nil && len(d.Result) == 1) || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if d == nil || len(d.Result) != 1 {
		t.Fatalf("%s: want one series, got %+v", expr, d)
	}
	str, _ := d.Result[0].Value[1].(string)
	v, err := strconv.ParseFloat(str, 64)
	if err != nil {
		t.Fatalf("%s: value %v: %v", expr, d.Result[0].Value, err)
	}
	return v
}

// labelOf returns the sorted values of label in an instant query's result.
func (p *promServer) labelOf(expr, label string) ([]string, error) {
	d, err := p.query(expr, true)
	if err != nil || d == nil {
		return nil, err
	}
	var out []string
	for _, r := range d.Result {
		out = append(out, r.Metric[label])
	}
	sort.Strings(out)
	return out, nil
}

// variableValues lists the values of a query variable as Grafana would,
// waiting until there are some (series appear as okrd is scraped).
func (p *promServer) variableValues(t *testing.T, v variableQuery, values map[string]string) []string {
	t.Helper()
	expr, label, err := variableExpr(v)
	if err != nil {
		t.Fatal(err)
	}
	if label != "" {
		selector, err := substitute(expr, values)
		if err != nil {
			t.Fatalf("%s variable %s: %v", v.Dashboard, v.Name, err)
		}
		return waitFor(t, 30*time.Second, func() ([]string, error) { return p.labelValues(label, selector) })
	}
	return waitFor(t, 30*time.Second, func() ([]string, error) {
		var out []string
		for _, o := range p.variableOptions(t, v, values) {
			out = append(out, o.Value)
		}
		return out, nil
	})
}

// variableOptions runs a query_result variable's query once and turns its
// lines into options with the variable's regex, as Grafana does. A line
// the regex does not match fails the test: Grafana would drop it.
func (p *promServer) variableOptions(t *testing.T, v variableQuery, values map[string]string) []variableOption {
	t.Helper()
	expr, label, err := variableExpr(v)
	if err != nil || label != "" {
		t.Fatalf("%s variable %s is not a query_result: %v", v.Dashboard, v.Name, err)
	}
	expr, err = substitute(expr, values)
	if err != nil {
		t.Fatalf("%s variable %s: %v", v.Dashboard, v.Name, err)
	}
	re, err := grafanaRegex(v.Regex)
	if err != nil {
		t.Fatalf("%s variable %s: %v", v.Dashboard, v.Name, err)
	}
	d, err := p.query(expr, true)
	if err != nil {
		t.Fatalf("%s variable %s: %v", v.Dashboard, v.Name, err)
	}
	if d == nil {
		return nil
	}
	var lines []string
	for _, r := range d.Result {
		ts, _ := r.Value[0].(float64)
		val, _ := r.Value[1].(string)
		lines = append(lines, queryResultLine(r.Metric, val, ts))
	}
	options := applyRegex(re, lines)
	if len(options) != len(lines) {
		t.Errorf("%s variable %s: the regex %s keeps %d of the lines %q", v.Dashboard, v.Name, v.Regex, len(options), lines)
	}
	return options
}

func (p *promServer) labelValues(label, selector string) ([]string, error) {
	raw, err := p.get("/api/v1/label/"+label+"/values", url.Values{"match[]": {selector}})
	if err != nil || raw == nil {
		return nil, err
	}
	var vs []string
	return vs, json.Unmarshal(raw, &vs)
}
