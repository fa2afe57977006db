package app

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/okrd/okrd/notify/alertmanager"
	"github.com/okrd/okrd/notify/webhook"
)

// receiverFake records the requests of a webhook or an Alertmanager.
type receiverFake struct {
	mu       sync.Mutex
	bodies   [][]byte
	headers  []http.Header
	paths    []string
	requests int
}

func (f *receiverFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	f.bodies = append(f.bodies, b)
	f.headers = append(f.headers, r.Header.Clone())
	f.paths = append(f.paths, r.URL.Path)
	w.WriteHeader(http.StatusOK)
}

func (f *receiverFake) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests
}

// webhookAlerts returns every alert the webhook received, in order.
func (f *receiverFake) webhookAlerts(t *testing.T) []webhook.Alert {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []webhook.Alert
	for _, b := range f.bodies {
		var p webhook.Payload
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatalf("webhook body is not the payload: %v\n%s", err, b)
		}
		out = append(out, p.Alerts...)
	}
	return out
}

func (f *receiverFake) amAlerts(t *testing.T) []alertmanager.PostableAlert {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []alertmanager.PostableAlert
	for _, b := range f.bodies {
		var as []alertmanager.PostableAlert
		if err := json.Unmarshal(b, &as); err != nil {
			t.Fatalf("Alertmanager body is not a list of alerts: %v\n%s", err, b)
		}
		out = append(out, as...)
	}
	return out
}

const alertingTestConfig = `
[global]
time_zone = "UTC"
evaluation_interval = "1h"

[server]
listen_address = "127.0.0.1:0"
external_url = "https://okrd.example.com/"
api_token = "s3cret-token"

[storage]
driver = "sqlite"
dsn = "{{DB}}"

[sources.alerting-flaky]
type = "fake"
interval = "1h"

[alerting]
for = "2h"
keep_firing_for = "0s"
repeat_interval = "24h"
source_down_after = "0s"
default_receiver = "hook"

[[alerting.receivers]]
name = "hook"
type = "webhook"
url = "{{HOOK}}/okrd"
hmac_secret = "hook-secret"

[[alerting.receivers]]
name = "am"
type = "alertmanager"
url = "{{AM}}"

[[alerting.routes]]
receiver = "hook"
teams = ["growth"]
continue = true

[[alerting.routes]]
receiver = "am"
severities = ["critical"]

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
  runbook_url = "https://wiki.example.com/runbooks/nps"
`

// dispatched waits until the newest snapshot has been judged and the
// notifications decided so far are delivered.
func dispatched(t *testing.T, ta *testApp) {
	t.Helper()
	gen := ta.Snapshot().Generation
	waitFor(t, func() bool { return ta.alerts.judged.Load() >= gen })
	ta.alerts.engine.Dispatch(context.Background())
}

func TestBuiltInAlertingEndToEndWithFakeReceivers(t *testing.T) {
	hook, am := &receiverFake{}, &receiverFake{}
	hookSrv, amSrv := httptest.NewServer(hook), httptest.NewServer(am)
	defer hookSrv.Close()
	defer amSrv.Close()
	cfg := strings.NewReplacer("{{HOOK}}", hookSrv.URL, "{{AM}}", amSrv.URL).Replace(alertingTestConfig)
	fakes.setFail("alerting-flaky", errors.New("HTTP 503 from the fake API"))
	defer fakes.setFail("alerting-flaky", nil)

	clock := &mutableClock{now: fixedNow}
	dir := t.TempDir()
	ta := startApp(t, dir, cfg, clock.Now)
	// The failing source is down as soon as it has been polled once
	// (source_down_after 0s): its alert goes to the default receiver.
	waitFor(t, func() bool { return fakes.counter("alerting-flaky").Load() > 0 })
	waitFor(t, func() bool {
		for _, h := range ta.Sources() {
			if h.Name == "alerting-flaky" && h.Polls > 0 {
				return true
			}
		}
		return false
	})

	// nps at its baseline 45.5 days into the quarter: progress 0 against
	// 0.4946 expected, gap < -2 × 0.1: off track, pending for 2h.
	checkin(t, ta, "grow", "nps", 31, "2026-11-15T11:00:00Z")
	dispatched(t, ta)
	for _, a := range hook.webhookAlerts(t) {
		if a.Labels["alertname"] == "OKRKeyResultOffTrack" {
			t.Fatalf("off track notified before `for` (2h): %+v", a)
		}
	}

	clock.Add(2 * time.Hour)
	ta.Evaluate(context.Background())
	dispatched(t, ta)

	var off *webhook.Alert
	var down *webhook.Alert
	for _, a := range hook.webhookAlerts(t) {
		switch a.Labels["alertname"] {
		case "OKRKeyResultOffTrack":
			off = &a
		case "OKRSourceDown":
			down = &a
		}
	}
	if off == nil || down == nil {
		t.Fatalf("webhook got %+v, want the off-track and the source-down alerts", hook.webhookAlerts(t))
	}
	wantLabels := map[string]string{"alertname": "OKRKeyResultOffTrack", "objective": "grow", "key_result": "nps",
		"owner": "alice", "team": "growth", "severity": "critical", "origin": "okrd"}
	if !equalMaps(off.Labels, wantLabels) {
		t.Errorf("labels = %v, want %v", off.Labels, wantLabels)
	}
	// Expected progress at 2026-11-15 14:00: (45.5 days + 2h) / 92 days =
	// 1094h / 2208h = 0.495471 → "50%", and 31 + 0.495471 × 9 = 35.46 is
	// expected by now.
	wantAnn := map[string]string{
		"title": "NPS from 31 to 40", "summary": `Key result "NPS from 31 to 40" is off track`,
		"description": "Progress is 0% where 50% was expected by now (-50 pts). Value 31, expected by now 35.46, target 40.",
		"status":      "off_track", "progress": "0%", "expected": "50%",
		"dashboard":   "https://okrd.example.com/objectives/grow/key_results/nps",
		"runbook_url": "https://wiki.example.com/runbooks/nps",
	}
	if !equalMaps(off.Annotations, wantAnn) {
		t.Errorf("annotations = %v, want %v", off.Annotations, wantAnn)
	}
	if off.Status != "firing" || !off.StartsAt.Equal(fixedNow.Add(2*time.Hour)) {
		t.Errorf("status %s, startsAt %s", off.Status, off.StartsAt)
	}
	if down.Labels["source"] != "alerting-flaky" || down.Labels["type"] != "fake" || down.Labels["severity"] != "warning" {
		t.Errorf("source-down labels = %v", down.Labels)
	}
	hook.mu.Lock()
	for i, b := range hook.bodies {
		if sig := hook.headers[i].Get(webhook.SignatureHeader); !hmac.Equal([]byte(sig), []byte(webhook.Sign([]byte("hook-secret"), b))) {
			t.Errorf("request %d: signature %q does not verify", i, sig)
		}
		if hook.paths[i] != "/okrd" {
			t.Errorf("request %d went to %s", i, hook.paths[i])
		}
	}
	hook.mu.Unlock()

	// Alertmanager gets the critical alert (the second route, reached
	// through continue), with an expiry 4 × max(1m, evaluation_interval 1h)
	// ahead.
	ams := am.amAlerts(t)
	if len(ams) != 1 || ams[0].Labels["alertname"] != "OKRKeyResultOffTrack" ||
		!ams[0].EndsAt.Equal(fixedNow.Add(2*time.Hour+4*time.Hour)) || !equalMaps(ams[0].Annotations, wantAnn) {
		t.Fatalf("Alertmanager got %+v", ams)
	}

	metrics := do(t, "GET", ta.url+"/metrics", "", "").body
	for _, want := range []string{
		`okrd_notifications_total{integration="webhook",receiver="hook"}`,
		`okrd_notifications_total{integration="alertmanager",receiver="am"} 1`,
		`okrd_notifications_failed_total{integration="webhook",reason="server_error",receiver="hook"} 0`,
		`okrd_alerts{state="firing"} 2`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// A restart an hour later: the alerts are neither lost nor repeated.
	sentBefore := hook.count()
	ta.stop()
	clock.Add(time.Hour)
	ta2 := startApp(t, dir, cfg, clock.Now)
	ta2.Evaluate(context.Background())
	dispatched(t, ta2)
	if n := hook.count(); n != sentBefore {
		t.Errorf("the restart sent %d more webhook requests: %v", n-sentBefore, hook.webhookAlerts(t)[sentBefore:])
	}
	if states := ta2.alerts.engine.States(); len(states) != 2 {
		t.Errorf("states after the restart = %+v, want both alerts", states)
	}

	// Back on track (36: progress 5/9 = 0.56 > expected 0.50): resolved at
	// once (keep_firing_for 0s), to both receivers.
	checkin(t, ta2, "grow", "nps", 36, "2026-11-15T14:30:00Z")
	dispatched(t, ta2)
	alerts := hook.webhookAlerts(t)
	last := alerts[len(alerts)-1]
	if last.Labels["alertname"] != "OKRKeyResultOffTrack" || last.Status != "resolved" || !last.EndsAt.Equal(fixedNow.Add(3*time.Hour)) {
		t.Errorf("last webhook alert = %+v, want the resolved off-track alert", last)
	}
	ams = am.amAlerts(t)
	if lastAM := ams[len(ams)-1]; !lastAM.EndsAt.Equal(fixedNow.Add(3 * time.Hour)) {
		t.Errorf("Alertmanager's last alert = %+v, want endsAt = the resolve time", lastAM)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

func TestAlertingNeverLogsSecrets(t *testing.T) {
	// Every receiver fails, so that okrd logs the failures, which name the
	// receivers' hosts but never their tokens.
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/services/") {
			http.Error(w, "channel_not_found", http.StatusNotFound)
			return
		}
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
	}))
	defer failing.Close()
	cfg := strings.NewReplacer("{{URL}}", failing.URL).Replace(`
[global]
evaluation_interval = "1h"
[server]
listen_address = "127.0.0.1:0"
api_token = "s3cret-token"
[storage]
dsn = "{{DB}}"
[alerting]
for = "0s"
# Only off_track: nothing fires before the test has shortened the
# delivery time limit.
conditions = ["off_track"]
default_receiver = "hook"
[[alerting.receivers]]
name = "hook"
type = "webhook"
url = "{{URL}}/hook?token=URLSECRET"
hmac_secret = "HMACSECRET"
headers = { Authorization = "Bearer HEADERSECRET" }
timeout = "1s"
[[alerting.receivers]]
name = "slack"
type = "slack"
url = "{{URL}}/services/T0/B0/SLACKSECRET"
[[alerting.routes]]
receiver = "slack"
continue = true
[[alerting.routes]]
receiver = "hook"
[[objectives]]
id = "grow"
title = "Grow"
period = "2026-Q4"
  [[objectives.key_results]]
  id = "nps"
  title = "NPS"
  baseline = 31
  target = 40
`)
	logger, buf := testLogger(t)
	ta := startApp(t, "", cfg, fixedClock, func(o *Options) { o.Logger = logger })
	ta.alerts.engine.SetDispatchTimeout(300 * time.Millisecond)
	checkin(t, ta, "grow", "nps", 31, "2026-11-15T11:00:00Z")
	dispatched(t, ta)
	ta.stop()
	logs := buf.String()
	for _, secret := range []string{"URLSECRET", "HMACSECRET", "HEADERSECRET", "SLACKSECRET", "T0/B0"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log contains %s:\n%s", secret, logs)
		}
	}
	for _, want := range []string{"receiver refused the notification", "channel_not_found", "notification not delivered", "HTTP 503"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %q:\n%s", want, logs)
		}
	}
}
