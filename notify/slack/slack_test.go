package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/okrd/okrd/notify"
)

// fakeSlack behaves like an incoming webhook: it accepts a JSON message on
// POST to its secret path with "ok", and answers like Slack does otherwise.
type fakeSlack struct {
	mu       sync.Mutex
	messages []Message
	status   int    // answer with this status when not 0
	body     string // and this body
}

const hookPath = "/services/T0001/B0001/abcdefSECRETtoken"

func (f *fakeSlack) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "invalid_method", http.StatusMethodNotAllowed)
		return
	}
	if r.URL.Path != hookPath {
		http.Error(w, "no_service", http.StatusNotFound)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	var m Message
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil || (m.Text == "" && len(m.Attachments) == 0) {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.status != 0 {
		w.WriteHeader(f.status)
		io.WriteString(w, f.body)
		return
	}
	f.messages = append(f.messages, m)
	io.WriteString(w, "ok")
}

var started = time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)

func offTrack() *notify.Alert {
	return &notify.Alert{
		Labels: map[string]string{"alertname": "OKRKeyResultOffTrack", "objective": "faster-delivery", "key_result": "lead-time",
			"owner": "payments", "team": "web", "severity": "critical", "origin": "okrd"},
		Annotations: map[string]string{
			"summary": `Key result "Lead time <2 days & falling" is off track`,
			"description": "Progress is 32% where 60% was expected by now (-28 pts). " +
				"Value 3.4 d, expected by now 2.8 d, target 2.0 d, forecast at period end 2.9 d.",
			"progress": "32%", "expected": "60%", "forecast": "55%",
			"dashboard":   "https://okrd.example.com/objectives/faster-delivery/key_results/lead-time",
			"runbook_url": "https://wiki.example.com/runbooks/lead-time?team=payments&step=2",
		},
		StartsAt: started,
	}
}

func TestRenderIsReadable(t *testing.T) {
	a := offTrack()
	got := Render([]*notify.Alert{a})
	want := Message{
		Text: `[FIRING] Key result "Lead time &lt;2 days &amp; falling" is off track`,
		Attachments: []Attachment{{
			Color:     "danger",
			Fallback:  `[FIRING] Key result "Lead time &lt;2 days &amp; falling" is off track`,
			Title:     `[FIRING] Key result "Lead time &lt;2 days &amp; falling" is off track`,
			TitleLink: "https://okrd.example.com/objectives/faster-delivery/key_results/lead-time",
			Text: "Progress is 32% where 60% was expected by now (-28 pts). " +
				"Value 3.4 d, expected by now 2.8 d, target 2.0 d, forecast at period end 2.9 d.\n" +
				"*Progress* 32% (expected 60% by now) · *Forecast* 55% at period end\n" +
				"<https://wiki.example.com/runbooks/lead-time?team=payments&amp;step=2|Runbook>",
			Fields: []Field{
				{Title: "Objective", Value: "faster-delivery", Short: true},
				{Title: "Key result", Value: "lead-time", Short: true},
				{Title: "Owner", Value: "payments", Short: true},
				{Title: "Team", Value: "web", Short: true},
				{Title: "Severity", Value: "critical", Short: true},
			},
			MrkdwnIn: []string{"text"},
			Footer:   "okrd · OKRKeyResultOffTrack",
			Ts:       started.Unix(),
		}},
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("message:\n%s\nwant:\n%s", g, w)
	}

	a.EndsAt = started.Add(90 * time.Minute)
	res := Render([]*notify.Alert{a})
	if res.Attachments[0].Color != "good" || !strings.HasPrefix(res.Text, "[RESOLVED] ") ||
		!strings.HasSuffix(res.Attachments[0].Text, "Resolved at 2026-11-15 13:30 UTC.") {
		t.Errorf("resolved message: %+v", res)
	}
}

func TestARunbookURLThatWouldBreakTheLinkIsShownAsText(t *testing.T) {
	a := offTrack()
	a.Annotations["runbook_url"] = "https://wiki.example.com/a|b"
	if got := Render([]*notify.Alert{a}).Attachments[0].Text; !strings.HasSuffix(got, "\n*Runbook* https://wiki.example.com/a|b") {
		t.Errorf("text = %q", got)
	}
	delete(a.Annotations, "runbook_url")
	if got := Render([]*notify.Alert{a}).Attachments[0].Text; strings.Contains(got, "Runbook") {
		t.Errorf("without a runbook: text = %q", got)
	}
}

func TestRenderSeveralAlerts(t *testing.T) {
	a, b, c := offTrack(), offTrack(), offTrack()
	c.EndsAt = started.Add(time.Hour)
	b.Labels["severity"] = "warning"
	m := Render([]*notify.Alert{a, b, c})
	if m.Text != "[FIRING:2] 3 okrd alerts, 1 resolved" {
		t.Errorf("text = %q", m.Text)
	}
	if cs := []string{m.Attachments[0].Color, m.Attachments[1].Color, m.Attachments[2].Color}; !reflect.DeepEqual(cs, []string{"danger", "warning", "good"}) {
		t.Errorf("colors = %v", cs)
	}
}

func TestNotifyPostsToTheWebhook(t *testing.T) {
	fake := &fakeSlack{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	n := New(srv.URL+hookPath, srv.Client())
	// 25 alerts: one message of 20 and one of 5, none dropped.
	var alerts []*notify.Alert
	for i := range 25 {
		a := offTrack()
		a.Labels["key_result"] = fmt.Sprintf("kr-%d", i)
		alerts = append(alerts, a)
	}
	if retry, err := n.Notify(context.Background(), alerts...); err != nil {
		t.Fatalf("Notify = (%v, %v)", retry, err)
	}
	if len(fake.messages) != 2 || len(fake.messages[0].Attachments) != 20 || len(fake.messages[1].Attachments) != 5 {
		t.Fatalf("messages: %d", len(fake.messages))
	}
	if got := fake.messages[1].Attachments[4].Fields[1].Value; got != "kr-24" {
		t.Errorf("last alert = %s, want kr-24", got)
	}
}

func TestNotifyErrors(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		wantRetry bool
		wantMsg   string
	}{
		{"an archived channel is not retried", http.StatusGone, "channel_is_archived", false, "HTTP 410: channel_is_archived"},
		{"a bad payload is not retried", http.StatusBadRequest, "invalid_payload", false, "HTTP 400: invalid_payload"},
		{"rate limiting is retried", http.StatusTooManyRequests, "rate_limited", true, "HTTP 429"},
		{"a Slack outage is retried", http.StatusInternalServerError, "rollup_error", true, "HTTP 500: rollup_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeSlack{status: tt.status, body: tt.body}
			srv := httptest.NewServer(fake)
			defer srv.Close()
			retry, err := New(srv.URL+hookPath, srv.Client()).Notify(context.Background(), offTrack())
			if err == nil || retry != tt.wantRetry {
				t.Fatalf("Notify = (%v, %v), want retry %v", retry, err, tt.wantRetry)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not say %q", err, tt.wantMsg)
			}
			if strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "T0001") {
				t.Errorf("error leaks the webhook URL: %v", err)
			}
		})
	}
}
