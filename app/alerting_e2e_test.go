package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/okrd/okrd/alerting"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/internal/testenv"
	"github.com/okrd/okrd/report/format"
	"github.com/okrd/okrd/rules"
)

// requireBinary finds one of names on PATH, or skips the test (fails it
// when OKRD_REQUIRE_INTEGRATION=1).
func requireBinary(t *testing.T, pkg string, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	testenv.Unavailable(t, "%s is not installed (apt-get install %s)", names[0], pkg)
	return ""
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// lockedBuffer collects a process's output for the failure message.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startProcess runs a binary until the test ends and waits until url
// answers 200.
func startProcess(t *testing.T, name, readyURL string, bin string, args ...string) *lockedBuffer {
	t.Helper()
	out := &lockedBuffer{}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s output:\n%s", name, out.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(readyURL)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return out
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not become ready at %s within 30s:\n%s", name, readyURL, out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// amAlert is an alert as GET /api/v2/alerts of Alertmanager returns it.
type amAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	GeneratorURL string            `json:"generatorURL"`
	Status       struct {
		State       string   `json:"state"`
		InhibitedBy []string `json:"inhibitedBy"`
	} `json:"status"`
}

// e2eConfig is okrd on the real clock (Prometheus's time() is the real
// time), with a period around today, everything evaluated every second and
// `for` 1s, every condition alerted on, and a runbook for the objective
// that the lead-time key result overrides.
const e2eConfig = `
[global]
time_zone = "UTC"
evaluation_interval = "1s"

[server]
listen_address = "127.0.0.1:0"
external_url = "http://okrd.example.com/"
api_token = "s3cret-token"

[storage]
driver = "sqlite"
dsn = "{{DB}}"

[alerting]
for = "1s"
keep_firing_for = "0s"
conditions = ["off_track", "at_risk", "forecast_miss", "missed", "achieved", "no_data", "stale", "source_down"]
default_receiver = "alertmanager"

[[alerting.receivers]]
name = "alertmanager"
type = "alertmanager"
url = %q

[[objectives]]
id = "grow"
title = "Grow the product"
owner = "alice"
team = "growth"
start = %s
end = %s
runbook_url = "https://wiki.example.com/runbooks/grow"

  [[objectives.key_results]]
  id = "nps"
  title = "NPS from 31 to 40"
  baseline = 31
  target = 40

  [[objectives.key_results]]
  id = "lead-time"
  title = "Lead time for changes from 4 days to 2"
  baseline = 345600
  target = 172800
  unit = "duration"
  runbook_url = "https://wiki.example.com/runbooks/lead-time#steps"
`

// TestAlertsReachARealAlertmanagerByBothPaths runs okrd, a real
// Alertmanager with the inhibit rules okrd ships, and a real Prometheus
// that scrapes okrd and evaluates the rules `okrd rules` generates.
// Check-ins put a lead-time key result off track with a bad forecast (and
// an NPS off track without one). Read back from Alertmanager's API:
//
//   - the off-track alerts arrive from okrd's built-in alerting
//     (origin="okrd") and from the Prometheus rule (origin="prometheus"),
//     active, with the key result's labels, summary, description (value,
//     expected value by now, target and forecast in the unit, as each path
//     prints them), the link to the key result's page and the runbook;
//   - the rule's at-risk and forecast-miss alerts of the same key result
//     are suppressed, inhibited by an off-track alert;
//   - okrd's own at-risk and forecast-miss alerts, which fire, never reach
//     Alertmanager: the built-in alerting withholds them.
func TestAlertsReachARealAlertmanagerByBothPaths(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prometheus and Alertmanager")
	}
	amBin := requireBinary(t, "prometheus-alertmanager", "prometheus-alertmanager", "alertmanager")
	promBin := requireBinary(t, "prometheus", "prometheus")
	dir := t.TempDir()

	amPort := freePort(t)
	amConfig := filepath.Join(dir, "alertmanager.yml")
	inhibit, err := rules.MarshalInhibitRules()
	if err != nil {
		t.Fatal(err)
	}
	amYAML := "route:\n  receiver: blackhole\n  group_wait: 1s\n  group_interval: 1s\nreceivers:\n  - name: blackhole\n" + string(inhibit)
	if err := os.WriteFile(amConfig, []byte(amYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	amURL := fmt.Sprintf("http://127.0.0.1:%d", amPort)
	startProcess(t, "alertmanager", amURL+"/-/ready", amBin,
		"--config.file="+amConfig,
		"--storage.path="+filepath.Join(dir, "am-data"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", amPort),
		"--cluster.listen-address=", // no gossip: one instance, no port to collide
	)

	// A period of 61 days, from 30 days ago to 30 days ahead (inclusive).
	today := time.Now().UTC()
	ta := startApp(t, dir, fmt.Sprintf(e2eConfig, amURL, today.AddDate(0, 0, -30).Format(time.DateOnly),
		today.AddDate(0, 0, 30).Format(time.DateOnly)), nil)

	// The rules, generated from the same configuration.
	cfg, err := config.Load(ta.cfg)
	if err != nil {
		t.Fatal(err)
	}
	rulesYAML, err := rules.Generate(alerting.PolicyOf(cfg)).Marshal(ta.cfg)
	if err != nil {
		t.Fatal(err)
	}
	rulesFile := filepath.Join(dir, "okrd.rules.yml")
	if err := os.WriteFile(rulesFile, rulesYAML, 0o644); err != nil {
		t.Fatal(err)
	}
	promPort := freePort(t)
	promConfig := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(promConfig, []byte(fmt.Sprintf(`
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [%q]
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["127.0.0.1:%d"]
scrape_configs:
  - job_name: okrd
    static_configs:
      - targets: [%q]
`, rulesFile, amPort, ta.Addr())), 0o644); err != nil {
		t.Fatal(err)
	}
	startProcess(t, "prometheus", fmt.Sprintf("http://127.0.0.1:%d/-/ready", promPort), promBin,
		"--config.file="+promConfig,
		"--storage.tsdb.path="+filepath.Join(dir, "prom-data"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", promPort),
	)

	// The period is about half over (expected progress near 0.5). NPS at
	// its baseline has progress 0: off track. The lead time grows from 4.0
	// to 4.4 days over 20 days, away from its target: progress 0, off
	// track, and its trend, 0.02 days a day, ends the period near 5.1 days:
	// forecast to miss.
	ago := func(days int) string { return time.Now().UTC().AddDate(0, 0, -days).Format(time.RFC3339) }
	checkin(t, ta, "grow", "nps", 31, ago(1))
	const day = 86400
	checkin(t, ta, "grow", "lead-time", 4.0*day, ago(25))
	checkin(t, ta, "grow", "lead-time", 4.2*day, ago(15))
	checkin(t, ta, "grow", "lead-time", 4.4*day, ago(5))

	// What must be in Alertmanager, by "origin alertname key_result".
	want := map[string]string{
		"okrd OKRKeyResultOffTrack nps":                 "active",
		"okrd OKRKeyResultOffTrack lead-time":           "active",
		"prometheus OKRKeyResultOffTrack nps":           "active",
		"prometheus OKRKeyResultOffTrack lead-time":     "active",
		"prometheus OKRKeyResultAtRisk nps":             "suppressed",
		"prometheus OKRKeyResultAtRisk lead-time":       "suppressed",
		"prometheus OKRKeyResultForecastMiss lead-time": "suppressed",
	}
	var got map[string]amAlert
	deadline := time.Now().Add(90 * time.Second)
	for {
		got = map[string]amAlert{}
		resp, err := http.Get(amURL + "/api/v2/alerts")
		if err == nil {
			var alerts []amAlert
			err = json.NewDecoder(resp.Body).Decode(&alerts)
			resp.Body.Close()
			if err != nil {
				t.Fatalf("GET /api/v2/alerts: %v", err)
			}
			for _, a := range alerts {
				got[a.Labels["origin"]+" "+a.Labels["alertname"]+" "+a.Labels["key_result"]] = a
			}
		}
		complete := true
		for k, state := range want {
			complete = complete && got[k].Status.State == state
		}
		if complete {
			break
		}
		if time.Now().After(deadline) {
			var have []string
			for k, a := range got {
				have = append(have, k+": "+a.Status.State)
			}
			slices.Sort(have)
			t.Fatalf("within 90s Alertmanager got\n%s\nwant %v", strings.Join(have, "\n"), want)
		}
		time.Sleep(500 * time.Millisecond)
	}

	for _, origin := range []string{"okrd", "prometheus"} {
		for kr, title := range map[string]string{"nps": "NPS from 31 to 40", "lead-time": "Lead time for changes from 4 days to 2"} {
			a := got[origin+" OKRKeyResultOffTrack "+kr]
			for k, want := range map[string]string{"objective": "grow", "key_result": kr, "owner": "alice", "team": "growth", "severity": "critical"} {
				if a.Labels[k] != want {
					t.Errorf("%s %s alert: label %s = %q, want %q (labels %v)", origin, kr, k, a.Labels[k], want, a.Labels)
				}
			}
			page := "http://okrd.example.com/objectives/grow/key_results/" + kr
			runbook := map[string]string{"nps": "https://wiki.example.com/runbooks/grow", "lead-time": "https://wiki.example.com/runbooks/lead-time#steps"}[kr]
			if a.Annotations["summary"] != `Key result "`+title+`" is off track` || a.Annotations["progress"] != "0%" ||
				a.Annotations["dashboard"] != page || a.Annotations["runbook_url"] != runbook {
				t.Errorf("%s %s alert: annotations %v", origin, kr, a.Annotations)
			}
			// Prometheus links its own alerts to its graph of the rule.
			if origin == "okrd" && a.GeneratorURL != page {
				t.Errorf("okrd %s alert: generator URL %q, want %q", kr, a.GeneratorURL, page)
			}
		}
	}

	// The lead time's description in days: the value and the target are
	// exact; the expected value (4 - 2 × the elapsed share, which is within
	// a day of 30 days out of 61) and the forecast (the trend at the period
	// end, 5.10 to 5.12 days) depend on the hour the test runs.
	leadTime := cfg.Objective("grow").KeyResult("lead-time")
	days := func(v float64) string { return regexp.QuoteMeta(format.Value(leadTime, v*day)) }
	okrdDesc := regexp.MustCompile(`^Progress is 0% where (49|50|51)% was expected by now \(-(49|50|51) pts\)\. ` +
		`Value ` + days(4.4) + `, expected by now (` + days(2.98) + `|` + days(3) + `|` + days(3.02) + `), target ` + days(2) +
		`, forecast at period end ` + days(5.1) + `\.$`)
	// Prometheus prints durations with humanizeDuration: 4.4 days is 4d 9h
	// 36m 0s, 3 days give or take 23 minutes is 2d 23h or 3d 0h.
	promDesc := regexp.MustCompile(`^Progress is 0% where (49|50|51)(\.\d+)?% was expected by now \(-(49|50|51)(\.\d+)? pts\)\. ` +
		`Value 4d 9h 36m 0s, expected by now (2d 23h|3d 0h) \d+m \d+s, target 2d 0h 0m 0s, forecast at period end 5d [12]h \d+m \d+s\.$`)
	for origin, re := range map[string]*regexp.Regexp{"okrd": okrdDesc, "prometheus": promDesc} {
		if d := got[origin+" OKRKeyResultOffTrack lead-time"].Annotations["description"]; !re.MatchString(d) {
			t.Errorf("%s lead-time description\n%q\ndoes not match\n%s", origin, d, re)
		}
	}
	for k, a := range got {
		if a.Status.State == "suppressed" && len(a.Status.InhibitedBy) == 0 {
			t.Errorf("%s is suppressed but not inhibited: %+v", k, a.Status)
		}
	}

	// okrd's own at-risk and forecast-miss alerts fire, withheld: they are
	// in no delivery, so Alertmanager cannot have them.
	withheld := map[string]bool{}
	var states []string
	for _, s := range ta.alerts.engine.States() {
		withheld[s.Key] = s.Phase == alerting.Firing && s.Withheld
		states = append(states, fmt.Sprintf("%s %s withheld=%v", s.Key, s.Phase, s.Withheld))
	}
	for _, k := range []string{"at_risk/grow/nps", "at_risk/grow/lead-time", "forecast_miss/grow/lead-time"} {
		if !withheld[k] {
			t.Errorf("%s is not firing and withheld in okrd; its alerts: %v", k, states)
		}
	}
	for k := range got {
		if strings.HasPrefix(k, "okrd OKRKeyResultAtRisk") || strings.HasPrefix(k, "okrd OKRKeyResultForecastMiss") {
			t.Errorf("Alertmanager got %s from okrd's built-in alerting, which withholds it", k)
		}
	}
	if !strings.Contains(string(rulesYAML), "for: 1s") {
		t.Errorf("the generated rules do not use the configured `for`:\n%s", rulesYAML)
	}
}
