package dashboards

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/okrd/okrd/alerting"
	"github.com/okrd/okrd/app"
	"github.com/okrd/okrd/checkins"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/internal/testenv"
	"github.com/okrd/okrd/rules"
)

// The replicas test runs the configuration of the end-to-end test twice on
// PostgreSQL: once as one okrd, scraped by one Prometheus, and once as
// three replicas of one database (docs/ha.md), scraped by another. Both
// Prometheus servers load the rules `okrd rules` generates. Every panel's
// query and the alerts the rules raise must then give the same answer on
// both: the same series, and for the OKR figures the same values; three
// replicas must not show a figure three times nor raise an alert three
// times.

// perProcess are the panels that show each okrd process, by design: they
// differ between one okrd and three.
var perProcess = map[string]bool{"Replicas": true, "Memory": true}

// startPrometheusWithRules runs Prometheus on addr, scraping targets every
// second as job okrd and evaluating rulesPath every second.
func startPrometheusWithRules(t *testing.T, bin, dir, addr string, targets []string, rulesPath string) *promServer {
	t.Helper()
	quoted := make([]string, len(targets))
	for i, tg := range targets {
		quoted[i] = strconv.Quote(tg)
	}
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: [%q]
scrape_configs:
  - job_name: okrd
    static_configs:
      - targets: [%s]
`, rulesPath, strings.Join(quoted, ", "))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &promServer{base: "http://" + addr, out: &lockedBuffer{}}
	cmd := exec.Command(bin, "--config.file="+cfgPath, "--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("log of the Prometheus at %s:\n%s", addr, p.log())
		}
	})
	p.exited = exited
	return p
}

// waitReady waits until Prometheus answers /-/ready with 200: until then
// it refuses connections or answers 503, and queries fail.
func (p *promServer) waitReady(t *testing.T) {
	t.Helper()
	if !waitFor(t, time.Minute, func() (bool, error) {
		select {
		case <-p.exited:
			return false, fmt.Errorf("prometheus exited:\n%s", p.log())
		default:
		}
		resp, err := http.Get(p.base + "/-/ready")
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	}) {
		t.Fatalf("prometheus at %s not ready within a minute:\n%s", p.base, p.log())
	}
}

// waitScraped waits until Prometheus scrapes n okrd targets.
func (p *promServer) waitScraped(t *testing.T, n int) {
	t.Helper()
	waitFor(t, 30*time.Second, func() (bool, error) {
		select {
		case <-p.exited:
			return false, fmt.Errorf("prometheus exited:\n%s", p.log())
		default:
		}
		got, err := p.count(`up{job="okrd"} == 1`, true)
		return got == n, err
	})
}

// answer is a query's result as a comparable text: one line per series,
// its labels and, unless labelsOnly, its value rounded to 6 significant
// digits (replicas evaluate a few seconds apart, and time moves the
// expected progress in the 7th).
func (p *promServer) answer(t *testing.T, expr string, labelsOnly bool) string {
	t.Helper()
	d, err := p.query(expr, true)
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	if d == nil {
		return ""
	}
	if d.ResultType == "scalar" {
		return "scalar"
	}
	var lines []string
	for _, r := range d.Result {
		names := make([]string, 0, len(r.Metric))
		for k := range r.Metric {
			names = append(names, k)
		}
		sort.Strings(names)
		var b strings.Builder
		b.WriteString("series ")
		for _, k := range names {
			fmt.Fprintf(&b, "%s=%q ", k, r.Metric[k])
		}
		if !labelsOnly {
			str, _ := r.Value[1].(string)
			v, _ := strconv.ParseFloat(str, 64)
			if v != 0 && !math.IsNaN(v) && !math.IsInf(v, 0) {
				v = roundSig(v, 6)
			}
			fmt.Fprintf(&b, "= %v", v)
		}
		lines = append(lines, b.String())
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func roundSig(v float64, digits int) float64 {
	f, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', digits, 64), 64)
	return f
}

func TestOneOkrdAndThreeReplicasGiveTheSameAnswers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two Prometheus servers and four okrd; not in -short mode")
	}
	promBin := prometheusPath(t)
	now := time.Now().UTC()
	day := 24 * time.Hour
	date := func(t time.Time) string { return t.Format(time.DateOnly) }
	jira, github, hook := startFakes(t, now)
	one, three := testenv.PostgresSchema(t), testenv.PostgresSchema(t)
	prom1, prom3 := freeAddr(t), freeAddr(t)
	render := func(dsn string) string {
		text := strings.NewReplacer(
			"{{JIRA}}", jira, "{{GITHUB}}", github, "{{HOOK}}", hook,
			// The prometheus sources ask the first server, whose answer
			// (a constant vector) is the same for both set-ups.
			"{{PROM}}", "http://"+prom1,
			"{{CURRENT_START}}", date(now.Add(-30*day)),
			"{{CURRENT_END}}", date(now.Add(60*day)),
			"{{PAST_START}}", date(now.Add(-150*day)),
			"{{PAST_END}}", date(now.Add(-60*day)),
		).Replace(e2eConfig)
		return strings.Replace(text, "[storage]\ndsn = \"{{DIR}}/okrd.db\"", "[storage]\ndriver = \"postgres\"\ndsn = "+strconv.Quote(dsn), 1)
	}
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cfgOne, cfgThree := write("one.toml", render(one)), write("three.toml", render(three))
	cfg, err := config.Load(cfgOne)
	if err != nil {
		t.Fatal(err)
	}
	rulesYAML, err := rules.Generate(alerting.PolicyOf(cfg)).Marshal("")
	if err != nil {
		t.Fatal(err)
	}
	rulesPath := write("rules.yml", string(rulesYAML))

	// The same history and check-in in both databases.
	checkinAt := now.Add(-time.Hour)
	seed := func(a *app.App) {
		seedHistory(t, a, now)
		if _, err := checkins.Record(context.Background(), a.Config(), a.Store(), checkins.Request{
			ObjectiveID: "checkout", KeyResultID: "nps", Value: 37, At: &checkinAt, Author: "e2e",
		}, now); err != nil {
			t.Fatal(err)
		}
	}
	// Prometheus first: the prometheus sources of both set-ups ask the
	// first one from their first poll on.
	singleAddr := freeAddr(t)
	targets := []string{freeAddr(t), freeAddr(t), freeAddr(t)}
	p1 := startPrometheusWithRules(t, promBin, filepath.Join(dir, "p1"), prom1, []string{singleAddr}, rulesPath)
	p3 := startPrometheusWithRules(t, promBin, filepath.Join(dir, "p3"), prom3, targets, rulesPath)
	p1.waitReady(t)
	p3.waitReady(t)
	startOkrd(t, cfgOne, singleAddr, nil, seed)
	for i, addr := range targets {
		before := seed
		if i > 0 {
			before = nil
		}
		startOkrd(t, cfgThree, addr, nil, before)
	}
	p1.waitScraped(t, 1)
	p3.waitScraped(t, 3)
	// A scrape that misses its 1 s deadline on a loaded machine leaves a
	// replica out of an instant query for a moment: wait for all three.
	if !waitFor(t, 2*time.Minute, func() (bool, error) {
		n, err := p3.count("okrd_leader", true)
		return n == 3, err
	}) {
		n, _ := p3.count("okrd_leader", true)
		t.Fatalf("%d replicas scraped, want 3", n)
	}

	ds, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	values := defaultValues(t, ds...)
	qs := queriesOf(t, ds...)

	// Both set-ups must have settled: every source synced by its leader
	// and followed by the replicas, alerts raised.
	settled := []string{
		"sum(okrd_leader)",
		`count by (source) (okrd_source_up)`,
		"max by (source) (okrd_jira_wip)",
		"max by (source) (okrd_github_open_pull_requests)",
		`ALERTS{alertstate="firing"}`,
	}
	for _, q := range settled {
		start := time.Now()
		if !waitFor(t, 2*time.Minute, func() (bool, error) {
			a, b := p1.answer(t, q, q != "sum(okrd_leader)"), p3.answer(t, q, q != "sum(okrd_leader)")
			return a != "" && a == b, nil
		}) {
			t.Fatalf("%s never agreed:\none okrd:\n%s\nthree replicas:\n%s", q, p1.answer(t, q, true), p3.answer(t, q, true))
		}
		t.Logf("%s agreed after %s", q, time.Since(start).Round(time.Millisecond))
	}

	t.Run("the rules raise the same alerts, once each", func(t *testing.T) {
		q := `ALERTS{alertstate="firing"}`
		a := waitFor(t, time.Minute, func() (string, error) {
			a, b := p1.answer(t, q, true), p3.answer(t, q, true)
			if a != b {
				return "", nil
			}
			return a, nil
		})
		if a == "" {
			t.Fatalf("one okrd's alerts:\n%s\nthree replicas' alerts:\n%s", p1.answer(t, q, true), p3.answer(t, q, true))
		}
		if strings.Contains(a, "instance=") {
			t.Errorf("an alert carries the replica's instance:\n%s", a)
		}
		t.Logf("alerts of both set-ups:\n%s", a)
	})

	t.Run("every panel shows the same series, and the OKR figures the same values", func(t *testing.T) {
		for _, q := range qs {
			if perProcess[q.Panel] {
				continue
			}
			expr, err := substitute(q.Expr, values)
			if err != nil {
				t.Fatal(err)
			}
			// The OKR figures come from the store and must agree; the
			// health and delivery figures (rates, durations, ages) differ
			// with the moment of each poll, their series must not.
			labelsOnly := q.Dashboard != "okrd-okr-overview" || strings.Contains(expr, "time()")
			var a, b string
			deadline := time.Now().Add(30 * time.Second)
			for {
				a, b = p1.answer(t, expr, labelsOnly), p3.answer(t, expr, labelsOnly)
				if a == b || time.Now().After(deadline) {
					break
				}
				time.Sleep(500 * time.Millisecond)
			}
			if a != b {
				t.Errorf("%s differs:\n%s\none okrd:\n%s\nthree replicas:\n%s", q, expr, a, b)
			}
		}
	})
}
