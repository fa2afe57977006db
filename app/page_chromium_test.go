package app

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/okrd/okrd/internal/testenv"
	"github.com/okrd/okrd/store"
)

// chromiumBin is where Debian's chromium package installs the browser.
const chromiumBin = "/usr/bin/chromium"

// pageConfig has a key result of every kind the page draws differently:
// increase, decrease, a maintain band with a duration unit, a ratio with a
// milestone, one measured by a healthy source and one by a failing source.
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
//   - revenue: its source fails, no value: no data.
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
		return polled == 2 && up["ci"] && !up["billing"]
	})
	ta.Evaluate(context.Background())
	return ta
}

// chromium runs headless Chromium on url, writes a screenshot to png and
// returns the DOM after rendering.
func chromium(t *testing.T, url, png string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromiumBin,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--hide-scrollbars", "--user-data-dir="+t.TempDir(), "--window-size=1280,2000",
		"--screenshot="+png, "--dump-dom", url)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", url, err, stderr.String())
	}
	return stdout.String()
}

// checkScreenshot checks that path is a PNG of the window size that is not
// one flat colour (a blank or failed render).
func checkScreenshot(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot %s is not a PNG: %v", path, err)
	}
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 2000 {
		t.Errorf("screenshot is %dx%d, want 1280x2000", b.Dx(), b.Dy())
	}
	if n := distinctColours(img, 50); n < 50 {
		t.Errorf("screenshot %s has only %d colours: the page looks blank", path, n)
	}
	if dir := os.Getenv("OKRD_SCREENSHOT_DIR"); dir != "" {
		b, _ := os.ReadFile(path)
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(path)), b, 0o644); err != nil {
			t.Errorf("keeping the screenshot: %v", err)
		}
	}
}

// distinctColours counts the colours of img, stopping at limit.
func distinctColours(img image.Image, limit int) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
			if len(seen) >= limit {
				return len(seen)
			}
		}
	}
	return len(seen)
}

func requireChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumBin); err != nil {
		testenv.Unavailable(t, "%s not found: install the Debian package chromium (scripts/install-test-deps.sh) to test the page in a browser", chromiumBin)
	}
}

func TestThePageRendersInHeadlessChromium(t *testing.T) {
	requireChromium(t)
	ta := startPageApp(t)
	dir := t.TempDir()

	t.Run("the index shows every objective, status, trend and source", func(t *testing.T) {
		shot := filepath.Join(dir, "index.png")
		dom := chromium(t, ta.url+"/", shot)
		checkScreenshot(t, shot)
		for _, want := range []string{
			`<h2 id="obj-grow"><a href="./objectives/grow">Grow the product</a></h2>`,
			`<h2 id="obj-ship"><a href="./objectives/ship">Ship faster</a></h2>`,
			`<a href="./objectives/grow/key_results/nps">NPS from 31 to 40</a>`,
			// nps 36 on track, tickets 110 off track, activation 34.5% at
			// risk, revenue without a value (see seedPageHistory).
			`<td class="num">36</td>`,
			`<td class="num">110</td>`,
			`<td class="num">34.5%</td>`,
			`<td class="num">280 ms</td>`,
			`<span class="status status-on_track">On track</span>`,
			`<span class="status status-off_track">Off track</span>`,
			`<span class="status status-at_risk">At risk</span>`,
			`<span class="status status-no_data">No data</span>`,
			`aria-label="Progress 56%, expected by now 49%"`,
			`<svg class="spark"`,
			`aria-label="Trend in 2026-Q4: 7 values, from 31 on Oct 1 to 36 on Nov 12."`,
			`<th scope="row">billing</th><td>fake</td><td><span class="health health-down">Down</span>`,
			`HTTP 401 from the billing API: check the token`,
			`<th scope="row">ci</th><td>fake</td><td><span class="health health-up">Up</span>`,
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
		checkScreenshot(t, shot)
		for _, want := range []string{
			`<h1>Week-1 activation at 40%</h1>`,
			`<span class="status status-at_risk">At risk</span>`,
			`<title id="chart-title">History of Week-1 activation at 40% in 2026-Q4</title>`,
			`<polyline class="chart-line"`,
			`<polyline class="chart-expected"`,
			`<circle class="chart-milestone"`,
			`<dt>Milestone</dt><dd>34.0% by 2026-11-01</dd>`,
			`7 values, newest first.`,
			`<td>2026-11-13 09:00 UTC</td><td class="num">34.5%</td><td>checkin:`,
			// The note is text, never markup.
			`<td class="note">onboarding checklist shipped &lt;b&gt;on Monday&lt;/b&gt;</td>`,
			`<td>alice</td>`,
		} {
			if !strings.Contains(dom, want) {
				t.Errorf("the rendered key result page lacks %s", want)
			}
		}
		if t.Failed() {
			t.Logf("DOM:\n%s", dom)
		}
	})
}
