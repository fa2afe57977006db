package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/okrd/okrd/app"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/internal/browsertest"
	"github.com/okrd/okrd/okr"
	"github.com/okrd/okrd/report"
	"github.com/okrd/okrd/report/format"
	"github.com/okrd/okrd/sandbox/demo"
)

// goDuration matches what time.Duration.String prints ("1h0m0s", "4.2s",
// "58m18.9s", "250ms"): no person should read one.
var goDuration = regexp.MustCompile(`\b\d+(\.\d+)?(h\d+m|m\d+(\.\d+)?s|s\b|ms\b|µs\b)`)

// visibleText is the text of an HTML document without its markup.
func visibleText(doc string) string {
	doc = regexp.MustCompile(`(?s)<(script|style|title|desc)\b.*?</(script|style|title|desc)>`).ReplaceAllString(doc, " ")
	doc = regexp.MustCompile(`(?s)<[^>]*>`).ReplaceAllString(doc, " ")
	return html.UnescapeString(doc)
}

// startedDemo runs `okrd demo` on a free port until every source has
// polled and every key result has a value.
func startedDemo(t *testing.T) *demo.Sandbox {
	t.Helper()
	s, err := demo.Start(context.Background(), demo.Options{Dir: t.TempDir(), ListenAddress: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("closing the demo: %v", err)
		}
	})
	// The condition is what the test waits for; the deadline is a safety
	// net on a loaded machine.
	deadline := time.Now().Add(120 * time.Second)
	for {
		var objs struct {
			Objectives []struct {
				KeyResults []struct {
					Value *float64 `json:"value"`
				} `json:"key_results"`
			} `json:"objectives"`
		}
		var srcs struct {
			Sources []struct {
				Up    bool `json:"up"`
				Polls int  `json:"polls"`
			} `json:"sources"`
		}
		ready := getJSON(t, s.URL+"/api/v1/objectives", &objs) && getJSON(t, s.URL+"/api/v1/sources", &srcs) && len(srcs.Sources) > 0
		for _, src := range srcs.Sources {
			ready = ready && src.Up && src.Polls > 0
		}
		for _, o := range objs.Objectives {
			for _, kr := range o.KeyResults {
				ready = ready && kr.Value != nil
			}
		}
		if ready {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatal("the demo's sources did not all poll, or a key result has no value, within 2 minutes")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func getJSON(t *testing.T, url string, v any) bool {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(v) == nil
}

var (
	statusCell = regexp.MustCompile(`(?s)<td class="kr-status"[^>]*>(.*?)</td>`)
	objHead    = regexp.MustCompile(`(?s)<div class="objective-head">.*?<span class="status status-([a-z_]+)">.*?</div>\s*(<p class="reason[^"]*">([^<]*)</p>)?`)
	statusOf   = regexp.MustCompile(`status-([a-z_]+)`)
	reasonSpan = regexp.MustCompile(`<span class="reason">([^<]+)</span>`)
)

func green(s string) bool { return s == "on_track" || s == "achieved" }

// The demo as a leadership viewer sees it, in the browser: the page, a key
// result page and the weekly report read in people's units, never as a Go
// duration, and every status that is not green has its reason beside it.
func TestTheDemoReadsForPeopleInTheBrowser(t *testing.T) {
	browsertest.Require(t)
	s := startedDemo(t)
	dir := t.TempDir()
	win := browsertest.Window{Width: 1280, Height: 2600}

	nonGreen := 0
	t.Run("the index", func(t *testing.T) {
		shot := filepath.Join(dir, "demo-index.png")
		dom := browsertest.Render(t, s.URL+"/", shot, win)
		browsertest.CheckScreenshot(t, shot, win)
		if m := goDuration.FindString(visibleText(dom)); m != "" {
			t.Errorf("the index shows the Go duration %q", m)
		}
		cells := statusCell.FindAllStringSubmatch(dom, -1)
		if len(cells) != 15 {
			t.Fatalf("%d key result statuses, want the demo's 15", len(cells))
		}
		for _, c := range cells {
			st := statusOf.FindStringSubmatch(c[1])[1]
			if green(st) {
				continue
			}
			nonGreen++
			if r := reasonSpan.FindStringSubmatch(c[1]); r == nil || strings.TrimSpace(r[1]) == "" {
				t.Errorf("a key result %s has no reason beside it: %s", st, c[1])
			}
		}
		heads := objHead.FindAllStringSubmatch(dom, -1)
		if len(heads) != 5 {
			t.Fatalf("%d objectives, want the demo's 5", len(heads))
		}
		for _, h := range heads {
			if !green(h[1]) && !strings.Contains(h[3], " because ") && !strings.HasPrefix(h[3], "No data:") {
				t.Errorf("an objective %s has no reason beside it: %q", h[1], h[0])
			}
		}
		if nonGreen == 0 {
			t.Error("every key result of the demo is green: the test shows nothing")
		}
	})

	t.Run("a key result page", func(t *testing.T) {
		shot := filepath.Join(dir, "demo-keyresult.png")
		dom := browsertest.Render(t, s.URL+"/objectives/ship-faster/key_results/time-to-restore", shot, win)
		browsertest.CheckScreenshot(t, shot, win)
		if m := goDuration.FindString(visibleText(dom)); m != "" {
			t.Errorf("the key result page shows the Go duration %q", m)
		}
		if !regexp.MustCompile(`<p class="reason reason-[a-z_]+">[^<]+</p>`).MatchString(dom) {
			t.Error("the key result page has no reason under its status")
		}
		// Every tick of the y axis is in the same unit.
		units := map[string]bool{}
		for _, m := range regexp.MustCompile(`<text class="axis-label" x="[\d.]+" y="[\d.]+" text-anchor="end">[-\d.]+ ?([^<]*)</text>`).FindAllStringSubmatch(dom, -1) {
			units[m[1]] = true
		}
		if len(units) != 1 {
			t.Errorf("the y axis has the units %v, want one", units)
		}
	})

	t.Run("the index and a key result page on a phone", func(t *testing.T) {
		for _, pg := range []struct {
			name, path, selector string
			statuses             int
		}{
			{"index", "/", "td.kr-status .status, .objective-head .status", 15 + 5},
			{"keyresult", "/objectives/ship-faster/key_results/time-to-restore", ".objective-head .status", 1},
		} {
			shot := filepath.Join(dir, "demo-"+pg.name+"-phone.png")
			l := browsertest.Measure(t, s.URL+pg.path, pg.selector, shot, browsertest.Phone)
			browsertest.CheckScreenshot(t, shot, browsertest.Phone)
			browsertest.CheckFits(t, l, browsertest.Phone)
			browsertest.CheckOnScreen(t, l, pg.statuses, "statuses")
		}
	})

	t.Run("the weekly report", func(t *testing.T) {
		cfg, err := config.Load(s.ConfigFile)
		if err != nil {
			t.Fatal(err)
		}
		st, err := app.OpenStore(context.Background(), cfg.Storage, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		r, err := report.Build(context.Background(), report.Options{Config: cfg, Store: st, Now: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := r.HTML(&buf); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "demo-report.html")
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		shot := filepath.Join(dir, "demo-report.png")
		rwin := browsertest.Window{Width: 800, Height: 5200}
		dom := browsertest.Render(t, "file://"+path, shot, rwin)
		browsertest.CheckScreenshot(t, shot, rwin)
		text := visibleText(dom)
		if m := goDuration.FindString(text); m != "" {
			t.Errorf("the report shows the Go duration %q", m)
		}
		for _, o := range r.Objectives {
			if !green(string(o.Now.Status)) && !strings.Contains(text, format.Sentence(o.Reason())) {
				t.Errorf("the report lacks the reason of %s: %q", o.Config.ID, o.Reason())
			}
			for _, k := range o.KeyResults {
				if k.Now.Status != okr.StatusOnTrack && k.Now.Status != okr.StatusAchieved && !strings.Contains(text, k.Why()) {
					t.Errorf("the report lacks the reason of %s: %q", k.Config.ID, k.Why())
				}
			}
		}
	})
}

// The check above must catch what the page used to show.
func TestAGoDurationIsRecognisedInText(t *testing.T) {
	for _, s := range []string{"from 4.0 h to 1h0m0s", "1h58m18.9s was expected", "forecast 17m45.7s (100%)", "4.2s", "250ms"} {
		if !goDuration.MatchString(s) {
			t.Errorf("%q is not recognised as a Go duration", s)
		}
	}
	for _, s := range []string{"from 4 h to 1 h", "1 h 58 min", "250 ms", "45 s", "2026-Q4", "2.6 d", "0.89 per day", "12,500 EUR"} {
		if goDuration.MatchString(s) {
			t.Errorf("%q is taken for a Go duration", s)
		}
	}
}
