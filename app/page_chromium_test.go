package app

import (
	"context"
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/okrd/okrd/internal/browsertest"
	"github.com/okrd/okrd/store"
)

// pageConfig has a key result of every kind the page draws differently:
// increase, decrease, a maintain band with a duration unit, a ratio with a
// milestone, one measured by a healthy source and one by a failing source,
// and one over a source that fills its history in from its records.
const pageConfig = `
[global]
time_zone = "UTC"
evaluation_interval = "1h"

[server]
listen_address = "127.0.0.1:0"
api_token = "s3cret-token"

[storage]
dsn = "{{DB}}"

[sources.ci]
type = "fake"
value = 6
interval = "1h"

[sources.billing]
type = "fake"
interval = "1h"

[sources.tracker]
type = "fake-history"
interval = "1h"

[[objectives]]
id = "grow"
title = "Grow the product"
description = "More customers love the product and stay."
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

  [[objectives.key_results]]
  id = "latency"
  title = "p95 latency stays under 300 ms"
  direction = "maintain"
  min = 0
  max = 0.3
  unit = "duration"

  [[objectives.key_results]]
  id = "activation"
  title = "Week-1 activation at 40%"
  baseline = 0.31
  target = 0.40
  unit = "ratio"
  milestones = [{ date = 2026-11-01, value = 0.34 }]

[[objectives]]
id = "ship"
title = "Ship faster"
owner = "bob"
team = "platform"
period = "2026-Q4"

  [[objectives.key_results]]
  id = "deploys"
  title = "Deploys per week"
  source = "ci"
  baseline = 2
  target = 10

  [[objectives.key_results]]
  id = "revenue"
  title = "Self-serve revenue per month"
  source = "billing"
  baseline = 10000
  target = 20000
  unit = "currency"
  currency = "EUR"

  [[objectives.key_results]]
  id = "retention"
  title = "Month-2 retention at 60%"
  baseline = 0.5
  target = 0.6
  unit = "ratio"

  [[objectives.key_results]]
  id = "done"
  title = "Issues done this quarter"
  source = "tracker"
  metric = "m"
  baseline = 270
  target = 380
`

// seedPageHistory records check-ins over the first half of 2026-Q4. With
// the clock at 2026-11-15 12:00 expected progress is 45.5/92 = 0.4946, and:
//   - nps 36: progress (36-31)/9 = 0.5556, gap +0.06: on track;
//   - tickets 110: (110-120)/(80-120) = 0.25, gap -0.245: off track;
//   - latency 0.28 s: inside [0, 0.3]: on track;
//   - activation 0.345: (0.345-0.31)/0.09 = 0.3889; expected through the
//     milestone (Nov 1, progress 0.3333): 0.3333 + 0.6667*14.5/61 = 0.4918,
//     gap -0.103: at risk;
//   - deploys: 6 from source ci, (6-2)/8 = 0.5: on track;
//   - revenue: its source fails, no value: no data;
//   - done: filled in at every midnight from Oct 1 (day 273 of 2026) to
//     Nov 15 (day 318) from tracker's records, and measured live at
//     318.5 now: progress 48.5/110 = 0.44, gap -0.05: on track.
func seedPageHistory(t *testing.T, st store.Store) {
	t.Helper()
	day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 9, 0, 0, 0, time.UTC) }
	type ci struct {
		kr   string
		at   time.Time
		v    float64
		note string
	}
	var cs []ci
	for i, v := range []float64{31, 32, 33, 34, 35, 35, 36} {
		cs = append(cs, ci{"nps", day(10, 1).AddDate(0, 0, 7*i), v, "weekly in-app survey"})
	}
	for i, v := range []float64{120, 118, 116, 113, 112, 111, 110} {
		cs = append(cs, ci{"tickets", day(10, 1).AddDate(0, 0, 7*i), v, "Zendesk weekly export"})
	}
	for i, v := range []float64{0.29, 0.27, 0.31, 0.28, 0.26, 0.28} {
		cs = append(cs, ci{"latency", day(10, 3).AddDate(0, 0, 7*i), v, ""})
	}
	for i, v := range []float64{0.31, 0.318, 0.325, 0.33, 0.336, 0.34, 0.345} {
		cs = append(cs, ci{"activation", day(10, 2).AddDate(0, 0, 7*i), v, "from the warehouse dashboard"})
	}
	cs[len(cs)-1].note = "onboarding checklist shipped <b>on Monday</b>"
	for _, c := range cs {
		if _, err := st.AddCheckin(context.Background(), store.Checkin{ObjectiveID: "grow", KeyResultID: c.kr, At: c.at, Value: c.v, Author: "alice", Note: c.note}); err != nil {
			t.Fatal(err)
		}
	}
}

// startPageApp runs okrd with pageConfig and the seeded history, and
// waits until both sources have been polled.
func startPageApp(t *testing.T) *testApp {
	t.Helper()
	fakes.setFail("billing", errors.New("HTTP 401 from the billing API: check the token"))
	t.Cleanup(func() { fakes.setFail("billing", nil) })
	ta := startApp(t, "", pageConfig, fixedClock)
	seedPageHistory(t, ta.Store())
	waitFor(t, func() bool {
		up := map[string]bool{}
		polled := 0
		for _, h := range ta.Sources() {
			up[h.Name] = h.Up
			if h.Polls > 0 {
				polled++
			}
		}
		return polled == 3 && up["ci"] && !up["billing"]
	})
	// The 46 midnights filled in and the live value.
	waitFor(t, func() bool { return len(ta.Points("ship", "done", time.Time{}, fixedNow)) >= 47 })
	ta.Evaluate(context.Background())
	return ta
}

// chromium renders url at the desktop size, checks its screenshot and
// returns the DOM.
func chromium(t *testing.T, url, shot string) string {
	t.Helper()
	dom := browsertest.Render(t, url, shot, browsertest.Desktop)
	browsertest.CheckScreenshot(t, shot, browsertest.Desktop)
	return dom
}

func TestThePageRendersInHeadlessChromium(t *testing.T) {
	browsertest.Require(t)
	ta := startPageApp(t)
	dir := t.TempDir()

	t.Run("the index shows every objective, status, trend and source", func(t *testing.T) {
		shot := filepath.Join(dir, "index.png")
		dom := chromium(t, ta.url+"/", shot)
		for _, want := range []string{
			`<h2 id="obj-grow"><a href="./objectives/grow">Grow the product</a></h2>`,
			`<h2 id="obj-ship"><a href="./objectives/ship">Ship faster</a></h2>`,
			`<a href="./objectives/grow/key_results/nps">NPS from 31 to 40</a>`,
			// nps 36 on track, tickets 110 off track, activation 34.5% at
			// risk, revenue without a value (see seedPageHistory).
			`<td class="num kr-value" data-label="Value">36</td>`,
			`<td class="num kr-value" data-label="Value">110</td>`,
			`<td class="num kr-value" data-label="Value">34.5%</td>`,
			`<td class="num kr-value" data-label="Value">280 ms</td>`,
			// Chromium writes the no-break spaces that keep a number
			// with its unit as &nbsp;.
			`<td class="kr-goal" data-label="Goal">under 300&nbsp;ms</td>`,
			// Every status that is not green says why: the objective's
			// names the key result behind it, a key result's the gap
			// (tickets: 100.22 expected, 120 - 0.4946*40; activation:
			// 35.4% expected through the milestone, 0.31 + 0.4918*0.09).
			`<p class="reason reason-off_track">Off track because 'Support tickets per week from 120 to 80' is off track.</p>`,
			`<span class="reason">110 where 100.22 was expected by now: 25% of the way, 24&nbsp;pts behind.</span>`,
			`<span class="reason">34.5% where 35.4% was expected by now: 39% of the way, 10&nbsp;pts behind.</span>`,
			`<span class="status status-no_data">No data</span><span class="reason">No value recorded yet.</span>`,
			// A band's forecast says whether it lands inside, not "(100%)".
			`<span class="muted">(inside the band)</span>`,
			`<span class="status status-on_track">On track</span>`,
			`<span class="status status-off_track">Off track</span>`,
			`<span class="status status-at_risk">At risk</span>`,
			`<span class="status status-no_data">No data</span>`,
			`aria-label="Progress 56%, expected by now 49%"`,
			`<svg class="spark"`,
			`aria-label="Trend in 2026-Q4: 7 values, from 31 on Oct 1 to 36 on Nov 12."`,
			`<th scope="row">billing</th><td data-label="Type">fake</td><td data-label="State"><span class="health health-down">Down</span>`,
			`HTTP 401 from the billing API: check the token`,
			`<th scope="row">ci</th><td data-label="Type">fake</td><td data-label="State"><span class="health health-up">Up</span>`,
			// The filled-in history is drawn apart and said in words.
			`aria-label="Trend in 2026-Q4: 47 values, from 273 on Oct 1 to 318.5 on Nov 15. 46 of them were filled in from fake-history records (source tracker)."`,
			`<polyline class="spark-filled"`,
			// One value is a dot; no value is no 0% bar.
			`<td class="progress kr-progress" data-label="Progress"><span class="muted">no value yet</span></td>`,
			`<a href="./objectives/ship/key_results/retention#record">how to record the first value</a>`,
			`aria-label="One value in 2026-Q4: 6 on Nov 15."`,
			`<a class="skip" href="#main">Skip to the content</a>`,
		} {
			if !strings.Contains(dom, want) {
				t.Errorf("the rendered index lacks %s", want)
			}
		}
		if t.Failed() {
			t.Logf("DOM:\n%s", dom)
		}
	})

	t.Run("a key result page shows its chart, values and check-ins", func(t *testing.T) {
		shot := filepath.Join(dir, "keyresult.png")
		dom := chromium(t, ta.url+"/objectives/grow/key_results/activation", shot)
		for _, want := range []string{
			`<h1>Week-1 activation at 40%</h1>`,
			`<span class="status status-at_risk">At risk</span>`,
			`<title id="chart-title">History of Week-1 activation at 40% in 2026-Q4</title>`,
			`<polyline class="chart-line"`,
			`<polyline class="chart-expected"`,
			`<circle class="chart-milestone"`,
			`<dt>Milestone</dt><dd>34.0% by 2026-11-01</dd>`,
			`7 values, newest first.`,
			`<td>2026-11-13 09:00 UTC</td><td class="num">34.5%</td><td>checked in by alice <span class="muted">(checkin:`,
			`<polygon class="chart-checkin"`,
			// The note is text, never markup.
			`<td class="note">onboarding checklist shipped &lt;b&gt;on Monday&lt;/b&gt;</td>`,
			`<td>alice</td>`,
			// What makes this number: the check-ins, the latest first.
			`<h2 id="explain-heading">What makes this number</h2>`,
			`<p>The value is the value of the latest check-in at or before the instant.</p>`,
			`<tr><td data-label="at">2026-11-13 09:00 UTC</td><td data-label="author">alice</td><td data-label="note">onboarding checklist shipped &lt;b&gt;on Monday&lt;/b&gt;</td><td data-label="value">34.5%</td>`,
		} {
			if !strings.Contains(dom, want) {
				t.Errorf("the rendered key result page lacks %s", want)
			}
		}
		if t.Failed() {
			t.Logf("DOM:\n%s", dom)
		}
	})

	t.Run("a key result page draws the filled-in history apart from the live value", func(t *testing.T) {
		shot := filepath.Join(dir, "keyresult-filled.png")
		dom := chromium(t, ta.url+"/objectives/ship/key_results/done", shot)
		for _, want := range []string{
			`<h1>Issues done this quarter</h1>`,
			`<polyline class="chart-filled" points="`,
			`<line class="chart-forecast"`,
			`filled in from fake-history records (source tracker)</li>`,
			`47 values from Oct 1 to Nov 15, between 273 and 318.5; the latest is 318.5. 46 of them were filled in from fake-history records (source tracker); 1 was measured live.`,
			`<dt>Forecast at period end</dt><dd>365 (86% progress)</dd>`,
			`<td>2026-11-15 12:00 UTC</td><td class="num">318.5</td><td>measured live by source tracker <span class="muted">(source:tracker)</span></td>`,
			`<td>2026-11-15 00:00 UTC</td><td class="num">318</td><td>filled in from fake-history records (source tracker) <span class="muted">(history:tracker)</span></td>`,
		} {
			if !strings.Contains(dom, want) {
				t.Errorf("the rendered key result page lacks %s", want)
			}
		}
		// The dashed filled-in line is drawn in its own colour, which the
		// screenshot holds.
		if !browsertest.HasColour(decodePNG(t, shot), 0x5b, 0x7f, 0xb5) {
			t.Errorf("the screenshot has no pixel of the filled-in line's colour #5b7fb5")
		}
		if t.Failed() {
			t.Logf("DOM:\n%s", dom)
		}
	})

	t.Run("a key result page without a value says how to record the first one", func(t *testing.T) {
		shot := filepath.Join(dir, "keyresult-empty.png")
		dom := chromium(t, ta.url+"/objectives/ship/key_results/retention", shot)
		for _, want := range []string{
			`<p>No value yet: <a href="#record">how the first one is recorded</a>.</p>`,
			`<pre><code>okrd checkin ship/retention VALUE --note "where the number comes from"</code></pre>`,
			`  ` + ta.url + `/api/v1/objectives/ship/key_results/retention/checkins</code></pre>`,
			`<dt>Progress</dt><dd>none without a value; expected by now 49%</dd>`,
		} {
			if !strings.Contains(dom, want) {
				t.Errorf("the rendered key result page lacks %s", want)
			}
		}
		if strings.Contains(dom, `class="bar"`) {
			t.Error("a key result without a value has a progress bar")
		}
		if t.Failed() {
			t.Logf("DOM:\n%s", dom)
		}
	})

	t.Run("a key result page without a value names the source that will measure it", func(t *testing.T) {
		dom := chromium(t, ta.url+"/objectives/ship/key_results/revenue", filepath.Join(dir, "keyresult-source.png"))
		for _, want := range []string{
			`<p>No value yet: <a href="#record">how the first one is recorded</a>.</p>`,
			`This key result is measured by source <strong>billing</strong> (fake), which is down: <span class="error">HTTP 401 from the billing API: check the token</span>.`,
		} {
			if !strings.Contains(dom, want) {
				t.Errorf("the rendered key result page lacks %s", want)
			}
		}
		if strings.Contains(dom, `class="bar"`) {
			t.Error("a key result without a value has a progress bar")
		}
		if t.Failed() {
			t.Logf("DOM:\n%s", dom)
		}
	})
}

func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// At a desktop's width and at a phone's, nothing on the page sticks out
// sideways, and every status is on the first screen width: a phone shows
// each key result as a card, its status first.
func TestThePageFitsADesktopAndAPhone(t *testing.T) {
	browsertest.Require(t)
	ta := startPageApp(t)
	dir := t.TempDir()
	for _, w := range []struct {
		name string
		win  browsertest.Window
	}{{"desktop", browsertest.Desktop}, {"phone", browsertest.Phone}} {
		for _, pg := range []struct {
			name, path, selector string
			statuses             int
		}{
			{"index", "/", "td.kr-status .status, .objective-head .status", 8 + 2},
			{"keyresult", "/objectives/grow/key_results/activation", ".objective-head .status", 1},
			{"keyresult-filled", "/objectives/ship/key_results/done", ".objective-head .status", 1},
			{"keyresult-empty", "/objectives/ship/key_results/retention", ".objective-head .status", 1},
		} {
			t.Run(pg.name+" on a "+w.name, func(t *testing.T) {
				shot := filepath.Join(dir, pg.name+"-"+w.name+".png")
				l := browsertest.Measure(t, ta.url+pg.path, pg.selector, shot, w.win)
				browsertest.CheckScreenshot(t, shot, w.win)
				browsertest.CheckFits(t, l, w.win)
				browsertest.CheckOnScreen(t, l, pg.statuses, "statuses")
			})
		}
	}
}
