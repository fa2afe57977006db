package app

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/okrd/okrd/alerting"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/report"
	"github.com/okrd/okrd/store"
)

// What okrd does with a key result's filled-in history beyond storing it
// (docs/history.md): the forecast, the page, the API, the report and the
// built-in alerting, each tested through a running okrd whose source
// fills history in (the "fake-history" source of fill_test.go: its value
// at t is the number of days since 2026-01-01).

// downstreamConfig has one key result over a source whose records reach
// 90 days back, configured on the day okrd starts (fillNow, 2026-11-15
// 10:00 UTC, 45.42 days into 2026-Q4).
const downstreamConfig = `
[global]
time_zone = "UTC"
evaluation_interval = "1h"
[server]
listen_address = "127.0.0.1:0"
[storage]
dsn = "{{DB}}"
[sources.jira]
type = "fake-history"
interval = "1h"
covered = "2026-08-17T10:00:00Z"
[[objectives]]
id = "ship"
title = "Ship faster"
period = "2026-Q4"
  [[objectives.key_results]]
  id = "done"
  title = "Issues done"
  source = "jira"
  metric = "m"
  baseline = 270
  target = 380
`

// openApp builds okrd from the configuration syncApp left in dir, without
// running it, as `okrd report` does.
func openApp(t *testing.T, dir string, now time.Time) *App {
	t.Helper()
	logger, _ := testLogger(t)
	a, err := New(context.Background(), Options{ConfigFile: dir + "/okrd.toml", Logger: logger, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { a.Store().Close() })
	return a
}

// filledIn waits until a key result has its 46 filled-in midnights (Oct 1
// to Nov 15 in UTC) and the live value of the first poll, and evaluates.
func filledIn(t *testing.T, ta *testApp, objective, kr string, want int) {
	t.Helper()
	waitFor(t, func() bool { return len(ta.Points(objective, kr, time.Time{}, fillNow)) >= want })
	ta.Evaluate(context.Background())
}

func TestAKeyResultConfiguredTodayHasAForecastAndAWholePeriodTrendRightAfterTheFirstSync(t *testing.T) {
	ta := startApp(t, "", downstreamConfig, func() time.Time { return fillNow })
	filledIn(t, ta, "ship", "done", 47)

	// The values lie on a line (one a day), so the least-squares forecast
	// at the period end (2027-01-01, day 365) is 365: progress
	// (365-270)/110 = 0.8636.
	kr := ta.Snapshot().Objective("ship").KeyResult("done")
	if !kr.Result.HasForecast || math.Abs(kr.Result.Forecast-365) > 1e-6 {
		t.Fatalf("forecast right after the first sync: %v %v, want 365", kr.Result.HasForecast, kr.Result.Forecast)
	}
	if kr.Points != 47 {
		t.Errorf("%d values in the period, want 46 filled in and the live one", kr.Points)
	}

	// Nov 15 10:00 is day 318.4167.
	index := do(t, "GET", ta.url+"/", "", "").body
	for _, want := range []string{
		`aria-label="Trend in 2026-Q4: 47 values, from 273 on Oct 1 to 318.42 on Nov 15. 46 of them were filled in from fake-history records (source jira)."`,
		`<polyline class="spark-filled"`,
		`<td class="num kr-forecast" data-label="Forecast">365 <span class="muted">(86%)</span></td>`,
	} {
		if !strings.Contains(index, want) {
			t.Errorf("the index lacks %s", want)
		}
	}
	page := do(t, "GET", ta.url+"/objectives/ship/key_results/done", "", "").body
	for _, want := range []string{
		`<polyline class="chart-filled"`,
		`<line class="chart-forecast"`,
		`<dt>Forecast at period end</dt><dd>365 (86% progress)</dd>`,
		`filled in from fake-history records (source jira)</li>`,
		`<td>2026-11-15 00:00 UTC</td><td class="num">318</td><td>filled in from fake-history records (source jira) <span class="muted">(history:jira)</span></td>`,
		`<td>2026-11-15 10:00 UTC</td><td class="num">318.42</td><td>measured live by source jira <span class="muted">(source:jira)</span></td>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the key result page lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("index:\n%s\nkey result page:\n%s", index, page)
	}

	var h struct {
		Values []struct {
			Origin string `json:"origin"`
			Kind   string `json:"kind"`
		} `json:"values"`
	}
	r := do(t, "GET", ta.url+"/api/v1/objectives/ship/key_results/done/history", "", "")
	if err := json.Unmarshal([]byte(r.body), &h); err != nil {
		t.Fatalf("history: %v\n%s", err, r.body)
	}
	kinds := map[string]int{}
	for _, v := range h.Values {
		kinds[v.Origin+" "+v.Kind]++
	}
	if len(kinds) != 2 || kinds["history:jira filled"] != 46 || kinds["source:jira live"] != 1 {
		t.Errorf("the history endpoint has %v, want 46 filled in and 1 live", kinds)
	}
}

func TestTheReportAfterTheFirstSyncComparesWithTheFilledInWeekBefore(t *testing.T) {
	dir := t.TempDir()
	syncApp(t, dir, downstreamConfig, fillNow, false)
	a := openApp(t, dir, fillNow)
	r, err := report.Build(context.Background(), report.Options{Config: a.Config(), Store: a.Store(), Now: fillNow})
	if err != nil {
		t.Fatal(err)
	}
	// A week before Nov 15 10:00 the last value is the one filled in at
	// midnight on Nov 8, day 311: 318.42 - 311 = +7.42.
	kr := r.Objectives[0].KeyResults[0]
	if got := kr.Change(); got != "+7.42 (from 311)" {
		t.Errorf("change in the week %q, want +7.42 (from 311)", got)
	}
	var md bytes.Buffer
	if err := r.Markdown(&md); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"first value", "was no data"} {
		if strings.Contains(md.String(), bad) {
			t.Errorf("the report says %q:\n%s", bad, md.String())
		}
	}
	if !strings.Contains(md.String(), "the values compared with are filled in from the records of jira") {
		t.Errorf("the report does not say where the week before comes from:\n%s", md.String())
	}
}

// alertingHistoryConfig has two key results over a source that fills in
// their history, with a webhook that gets every alert. The values rise by
// one a day from 273 on Oct 1; now (fillNow) they are at 318.42, 45.42
// days in (expected progress 0.4937):
//
//   - recovered (293 to 339): progress (x-20)/46 at x days in, gap
//     (x-40)/92: off track (gap < -0.2) for the first 21 days, at risk
//     until day 30.8, on track since (now +0.059). Its forecast, 365, is
//     past the target: nothing to tell.
//   - behind (273 to 673): progress x/400, gap -0.0084·x: off track since
//     day 24, three weeks of filled-in past, and now (gap -0.38); forecast
//     progress (365-273)/400 = 0.23.
const alertingHistoryConfig = `
[global]
time_zone = "UTC"
evaluation_interval = "1h"
[server]
listen_address = "127.0.0.1:0"
[storage]
dsn = "{{DB}}"
[sources.alerting-history]
type = "fake-history"
interval = "1h"
[alerting]
for = "2h"
keep_firing_for = "0s"
repeat_interval = "24h"
default_receiver = "hook"
[[alerting.receivers]]
name = "hook"
type = "webhook"
url = "{{HOOK}}/okrd"
[[objectives]]
id = "o"
title = "O"
period = "2026-Q4"
  [[objectives.key_results]]
  id = "recovered"
  title = "Recovered"
  source = "alerting-history"
  metric = "m"
  baseline = 293
  target = 339
  [[objectives.key_results]]
  id = "behind"
  title = "Behind"
  source = "alerting-history"
  metric = "m"
  baseline = 273
  target = 673
`

func TestFilledInHistoryNeverNotifiesAboutThePast(t *testing.T) {
	hook := &receiverFake{}
	srv := httptest.NewServer(hook)
	defer srv.Close()
	clock := &mutableClock{now: fillNow}
	ta := startApp(t, "", strings.ReplaceAll(alertingHistoryConfig, "{{HOOK}}", srv.URL), clock.Now)
	filledIn(t, ta, "o", "behind", 47)
	filledIn(t, ta, "o", "recovered", 47)
	if st := ta.Snapshot().Objective("o").KeyResult("behind").Result.Status; st != "off_track" {
		t.Fatalf("behind is %s, want off_track (the test's arithmetic is wrong)", st)
	}
	if st := ta.Snapshot().Objective("o").KeyResult("recovered").Result.Status; st != "on_track" {
		t.Fatalf("recovered is %s, want on_track (the test's arithmetic is wrong)", st)
	}
	dispatched(t, ta)
	if n := hook.count(); n != 0 {
		t.Fatalf("right after filling in the history okrd notified %v", hook.webhookAlerts(t))
	}

	// Three weeks of filled-in off-track past do not count towards `for`:
	// an hour after okrd first saw it off track, nothing yet.
	clock.Add(time.Hour)
	ta.Evaluate(context.Background())
	dispatched(t, ta)
	if n := hook.count(); n != 0 {
		t.Fatalf("an hour after the start okrd notified %v; `for` is 2h from the first evaluation", hook.webhookAlerts(t))
	}

	// Two hours after it first saw them, the conditions that hold now fire,
	// starting then; the key result that recovered in its past says nothing.
	clock.Add(time.Hour)
	ta.Evaluate(context.Background())
	dispatched(t, ta)
	got := map[string]time.Time{}
	for _, a := range hook.webhookAlerts(t) {
		got[a.Labels["key_result"]+" "+a.Labels["alertname"]+" "+a.Status] = a.StartsAt
	}
	// behind is forecast to miss too: that alert fires at the same time
	// and is withheld behind the off-track one (docs/alerting.md, "One
	// notification per key result").
	want := []string{"behind OKRKeyResultOffTrack firing"}
	if len(got) != len(want) {
		t.Errorf("alerts %v, want %v", got, want)
	}
	for _, w := range want {
		if at, ok := got[w]; !ok || !at.Equal(fillNow.Add(2*time.Hour)) {
			t.Errorf("alert %q starts at %v (sent %v), want %v", w, at, ok, fillNow.Add(2*time.Hour))
		}
	}
	fired := map[string]time.Time{}
	for _, s := range ta.alerts.engine.States() {
		if s.Phase == alerting.Firing {
			fired[s.Key] = s.FiredAt
		}
	}
	for _, key := range []string{"off_track/o/behind", "forecast_miss/o/behind"} {
		if at, ok := fired[key]; !ok || !at.Equal(fillNow.Add(2*time.Hour)) {
			t.Errorf("%s fired at %v (firing %v), want %v", key, at, ok, fillNow.Add(2*time.Hour))
		}
	}
}

// pastPeriodConfig has two key results of a period that ended two days
// before okrd starts (2026-Q3, now 2026-10-03 10:00): one over a source
// that fills its whole history in, never measured while the period ran
// (its value at the end, day 273, is progress (273-181)/219 = 0.42:
// missed), and one checked in during the period (missed as well).
const pastPeriodConfig = `
[global]
time_zone = "UTC"
evaluation_interval = "1h"
[server]
listen_address = "127.0.0.1:0"
[storage]
dsn = "{{DB}}"
[sources.past-history]
type = "fake-history"
interval = "1h"
[alerting]
default_receiver = "hook"
[[alerting.receivers]]
name = "hook"
type = "webhook"
url = "{{HOOK}}/okrd"
[[objectives]]
id = "q3"
title = "Last quarter"
period = "2026-Q3"
  [[objectives.key_results]]
  id = "filled"
  title = "Filled in"
  source = "past-history"
  metric = "m"
  baseline = 181
  target = 400
  [[objectives.key_results]]
  id = "checked"
  title = "Checked in"
  baseline = 0
  target = 10
`

func TestAPeriodThatEndedBeforeOkrdMeasuredItRaisesNoMissedAlert(t *testing.T) {
	hook := &receiverFake{}
	srv := httptest.NewServer(hook)
	defer srv.Close()
	now := time.Date(2026, 10, 3, 10, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	// The check-in was recorded while the period ran.
	st, err := OpenStore(context.Background(), config.Storage{Driver: "sqlite", DSN: config.Secret(dir + "/okrd.db")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.AddCheckin(context.Background(), store.Checkin{ObjectiveID: "q3", KeyResultID: "checked", At: time.Date(2026, 9, 20, 9, 0, 0, 0, time.UTC), Value: 4, Author: "carol"}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	ta := startApp(t, dir, strings.ReplaceAll(pastPeriodConfig, "{{HOOK}}", srv.URL), func() time.Time { return now })
	// Jul 1 to Sep 30 and the period end: 93 filled-in values.
	waitFor(t, func() bool { return len(ta.Points("q3", "filled", time.Time{}, now)) >= 93 })
	ta.Evaluate(context.Background())
	if st := ta.Snapshot().Objective("q3").KeyResult("filled").Result.Status; st != "missed" {
		t.Fatalf("filled is %s, want missed (the test's arithmetic is wrong)", st)
	}
	dispatched(t, ta)
	var got []string
	for _, a := range hook.webhookAlerts(t) {
		got = append(got, a.Labels["key_result"]+" "+a.Labels["alertname"])
	}
	// The key result checked in while the period ran is news; the one
	// whose period okrd only reconstructed is not.
	if strings.Join(got, ",") != "checked OKRKeyResultMissed" {
		t.Errorf("alerts %v, want only the missed alert of the key result measured while the period ran", got)
	}
}

func TestAlertingAsksWhetherAKeyResultWasOnlyFilledIn(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 10, 3, 10, 0, 0, 0, time.UTC)
	syncApp(t, dir, strings.ReplaceAll(pastPeriodConfig, "{{HOOK}}", "http://127.0.0.1:1"), now, false)
	a := openApp(t, dir, now)
	if err := a.hist.refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	snap := a.hist.evaluate(a.Config(), now, 1)
	o := snap.Objective("q3")
	if !a.filledInOnly(o.KeyResult("filled")) {
		t.Error("a key result whose values in its period are all filled in is not reported as such")
	}
	if a.filledInOnly(o.KeyResult("checked")) {
		t.Error("a key result without a value in its period is reported as filled in only")
	}
	// A live value inside the period makes it measured.
	if err := a.Store().AppendValues(context.Background(), store.Value{ObjectiveID: "q3", KeyResultID: "filled",
		At: time.Date(2026, 9, 30, 12, 0, 0, 0, time.UTC), Value: 272.5, Origin: "source:past-history"}); err != nil {
		t.Fatal(err)
	}
	if err := a.hist.refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if a.filledInOnly(o.KeyResult("filled")) {
		t.Error("a key result with a live value in its period is reported as filled in only")
	}
}
