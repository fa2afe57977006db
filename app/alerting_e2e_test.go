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
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/okrd/okrd/alerting"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/internal/testenv"
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
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	Status      struct {
		State string `json:"state"`
	} `json:"status"`
}

// TestAlertsReachARealAlertmanagerByBothPaths runs okrd, a real
// Alertmanager and a real Prometheus that scrapes okrd and evaluates the
// rules `okrd rules` generates. A key result pushed off track by a
// check-in must reach Alertmanager twice: from okrd's built-in alerting
// (origin="okrd") and from the Prometheus rule (origin="prometheus"), with
// the same alertname and key-result labels.
func TestAlertsReachARealAlertmanagerByBothPaths(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prometheus and Alertmanager")
	}
	amBin := requireBinary(t, "prometheus-alertmanager", "prometheus-alertmanager", "alertmanager")
	promBin := requireBinary(t, "prometheus", "prometheus")
	dir := t.TempDir()

	amPort := freePort(t)
	amConfig := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(amConfig, []byte("route:\n  receiver: blackhole\n  group_wait: 1s\n  group_interval: 1s\nreceivers:\n  - name: blackhole\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	amURL := fmt.Sprintf("http://127.0.0.1:%d", amPort)
	startProcess(t, "alertmanager", amURL+"/-/ready", amBin,
		"--config.file="+amConfig,
		"--storage.path="+filepath.Join(dir, "am-data"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", amPort),
		"--cluster.listen-address=", // no gossip: one instance, no port to collide
	)

	// okrd on the real clock (Prometheus's time() is the real time), with a
	// period around today, everything evaluated every second and `for` 1s.
	today := time.Now().UTC()
	okrdConfig := fmt.Sprintf(`
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
conditions = ["off_track"]
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

  [[objectives.key_results]]
  id = "nps"
  title = "NPS from 31 to 40"
  baseline = 31
  target = 40
`, amURL, today.AddDate(0, 0, -30).Format(time.DateOnly), today.AddDate(0, 0, 30).Format(time.DateOnly))
	ta := startApp(t, dir, okrdConfig, nil)

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

	// The period is half over (expected progress 0.5); a check-in at the
	// baseline (progress 0) puts the key result off track.
	checkin(t, ta, "grow", "nps", 31, time.Now().UTC().Add(-time.Minute).Format(time.RFC3339))

	byOrigin := map[string]amAlert{}
	deadline := time.Now().Add(60 * time.Second)
	for len(byOrigin) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("within 60s Alertmanager got %v; want OKRKeyResultOffTrack from origin okrd and from origin prometheus", byOrigin)
		}
		time.Sleep(500 * time.Millisecond)
		resp, err := http.Get(amURL + "/api/v2/alerts")
		if err != nil {
			continue
		}
		var alerts []amAlert
		err = json.NewDecoder(resp.Body).Decode(&alerts)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("GET /api/v2/alerts: %v", err)
		}
		for _, a := range alerts {
			if a.Labels["alertname"] == "OKRKeyResultOffTrack" && a.Status.State == "active" {
				byOrigin[a.Labels["origin"]] = a
			}
		}
	}
	for origin, a := range byOrigin {
		for k, want := range map[string]string{"objective": "grow", "key_result": "nps", "owner": "alice", "team": "growth", "severity": "critical"} {
			if a.Labels[k] != want {
				t.Errorf("%s alert: label %s = %q, want %q (labels %v)", origin, k, a.Labels[k], want, a.Labels)
			}
		}
		if a.Annotations["summary"] != `Key result "NPS from 31 to 40" is off track` || a.Annotations["progress"] != "0%" ||
			a.Annotations["dashboard"] != "http://okrd.example.com/#obj-grow" {
			t.Errorf("%s alert: annotations %v", origin, a.Annotations)
		}
	}
	if _, ok := byOrigin["okrd"]; !ok {
		t.Error("no alert from okrd's built-in alerting")
	}
	if _, ok := byOrigin["prometheus"]; !ok {
		t.Error("no alert from the generated Prometheus rule")
	}
	if !strings.Contains(string(rulesYAML), "for: 1s") {
		t.Errorf("the generated rules do not use the configured `for`:\n%s", rulesYAML)
	}
}
