package app

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/okrd/okrd/notify/webhook"
)

func TestLastReportSlot(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	at := func(s string, loc *time.Location) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	for _, tc := range []struct {
		name string
		now  time.Time
		loc  *time.Location
		day  time.Weekday
		want time.Time
	}{
		// 2026-11-16 is a Monday.
		{"on the day after the time, the slot is today", at("2026-11-16 10:00", time.UTC), time.UTC, time.Monday, at("2026-11-16 09:00", time.UTC)},
		{"on the day before the time, the slot is a week earlier", at("2026-11-16 08:59", time.UTC), time.UTC, time.Monday, at("2026-11-09 09:00", time.UTC)},
		{"exactly at the time, the slot is now", at("2026-11-16 09:00", time.UTC), time.UTC, time.Monday, at("2026-11-16 09:00", time.UTC)},
		{"later in the week, the slot is the last monday", at("2026-11-19 18:00", time.UTC), time.UTC, time.Monday, at("2026-11-16 09:00", time.UTC)},
		{"the time of day is local", at("2026-11-16 08:30", time.UTC), berlin, time.Monday, at("2026-11-16 09:00", berlin)},
		{"across the DST change the local time holds", at("2026-03-30 12:00", berlin), berlin, time.Monday, at("2026-03-30 09:00", berlin)},
		{"a week after a DST change it holds too", at("2026-03-29 12:00", berlin), berlin, time.Monday, at("2026-03-23 09:00", berlin)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := lastReportSlot(tc.now, tc.loc, tc.day, 9*time.Hour); !got.Equal(tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// reportHook records the reports a webhook receiver gets (alerts are
// ignored).
type reportHook struct {
	mu      sync.Mutex
	reports []ReportPayload
	sigOK   []bool
}

func (h *reportHook) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var p ReportPayload
	if json.Unmarshal(body, &p) == nil && p.Kind == "okrd.report" {
		h.mu.Lock()
		h.reports = append(h.reports, p)
		h.sigOK = append(h.sigOK, r.Header.Get(webhook.SignatureHeader) == webhook.Sign([]byte("hook-secret"), body))
		h.mu.Unlock()
	}
	w.WriteHeader(http.StatusOK)
}

func (h *reportHook) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.reports)
}

func reportConfig(url, weekday string) string {
	return baseConfig + `
[alerting]
default_receiver = "hook"
[[alerting.receivers]]
name = "hook"
type = "webhook"
url = "` + url + `"
hmac_secret = "hook-secret"

[report]
receiver = "hook"
weekday = "` + weekday + `"
time = "09:00"
`
}

func TestTheWeeklyReportIsSentOnceEvenAcrossARestart(t *testing.T) {
	hook := &reportHook{}
	srv := httptest.NewServer(http.HandlerFunc(hook.serve))
	defer srv.Close()
	dir := t.TempDir()
	// fixedNow is Sunday 2026-11-15 12:00 UTC: Sunday's 09:00 report is
	// three hours late, so it goes out at start.
	cfg := reportConfig(srv.URL, "sunday")
	ta := startApp(t, dir, cfg, fixedClock)
	seed(t, ta)
	waitFor(t, func() bool { return hook.count() == 1 })
	ta.stop()
	tb := startApp(t, dir, cfg, fixedClock)
	// The restarted okrd checks the schedule at start, as the first check
	// of its report loop does; that check must find the report sent. It
	// runs here explicitly so that the test knows it happened.
	if err := tb.sendDueReport(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := hook.count(); n != 1 {
		t.Fatalf("%d reports sent, want 1 (a restart must not send it again)", n)
	}
	tb.stop()
	if n := hook.count(); n != 1 {
		t.Fatalf("%d reports sent by the time okrd stopped, want 1", n)
	}
	p := hook.reports[0]
	if !hook.sigOK[0] {
		t.Error("the report's HMAC signature does not match its body")
	}
	if p.Format != "markdown" || !p.ScheduledAt.Equal(time.Date(2026, 11, 15, 9, 0, 0, 0, time.UTC)) ||
		!strings.Contains(p.Report, "Grow the product") || !strings.Contains(p.Report, "NPS from 31 to 40") {
		t.Errorf("payload = %+v", p)
	}
}

func TestAReportMoreThanADayLateIsNotSent(t *testing.T) {
	hook := &reportHook{}
	srv := httptest.NewServer(http.HandlerFunc(hook.serve))
	defer srv.Close()
	// Monday's report (2026-11-09 09:00) is six days old on Sunday.
	ta := startApp(t, "", reportConfig(srv.URL, "monday"), fixedClock)
	if err := ta.sendDueReport(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := hook.count(); n != 0 {
		t.Fatalf("%d reports sent, want 0", n)
	}
}
