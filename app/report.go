package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/notify"
	"github.com/okrd/okrd/notify/webhook"
	"github.com/okrd/okrd/report"
	"github.com/okrd/okrd/store"
)

// reportStateKey is where the last weekly report sent is remembered (in the
// alert-state table), so that a restart does not send it again.
const reportStateKey = "report:weekly"

// reportCheckInterval is how often the schedule is looked at. A minute is
// precise enough for a weekly report and costs nothing.
var reportCheckInterval = time.Minute

// reportGrace is how late a report may still go out: one missed while okrd
// was down is sent when it starts, unless it is older than this.
const reportGrace = 24 * time.Hour

// lastReportSlot returns the latest scheduled time at or before now: the
// configured weekday and time of day, in the configured time zone.
func lastReportSlot(now time.Time, loc *time.Location, day time.Weekday, clock time.Duration) time.Time {
	local := now.In(loc)
	back := (int(local.Weekday()) - int(day) + 7) % 7
	y, m, d := local.AddDate(0, 0, -back).Date()
	h, mi := int(clock/time.Hour), int(clock%time.Hour/time.Minute)
	slot := time.Date(y, m, d, h, mi, 0, 0, loc)
	if slot.After(now) {
		y, m, d = slot.AddDate(0, 0, -7).Date()
		slot = time.Date(y, m, d, h, mi, 0, 0, loc)
	}
	return slot
}

// runReports sends the weekly report when it is due, until ctx is done.
func (a *App) runReports(ctx context.Context) {
	t := time.NewTicker(reportCheckInterval)
	defer t.Stop()
	for {
		if err := a.sendDueReport(ctx); err != nil && ctx.Err() == nil {
			a.logger.Warn("weekly report not sent; retrying at the next check", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// The report's row in the alert-state table (reportStateKey): state
// "sending" with Since at the slot once a delivery of that slot's report
// was claimed, "sent" with LastSent at the slot once the receiver
// accepted it. The claim is written, through the fenced store, before the
// report is posted: only the leader can write it (docs/ha.md), so two
// replicas never both send; a process that dies between the post and the
// "sent" leaves the claim, and the next leader sends the report again (at
// least once: a webhook receiver recognises the copy by its
// Idempotency-Key).
const (
	reportSending = "sending"
	reportSent    = "sent"
)

// reportMemo remembers, in the leading process, the slot whose report it
// sent, so that a failure to record it does not make it send it again.
type reportMemo struct {
	mu   sync.Mutex
	sent time.Time
}

// sendDueReport sends the report of the latest slot if it has not been
// sent and is not older than reportGrace.
func (a *App) sendDueReport(ctx context.Context) error {
	cfg := a.cfg.Load()
	rc := cfg.Report
	if rc.Receiver == "" {
		return nil
	}
	now := a.opts.now()
	slot := lastReportSlot(now, cfg.Global.Location, rc.Day, rc.Clock)
	if now.Sub(slot) > reportGrace {
		return nil
	}
	a.reports.mu.Lock()
	defer a.reports.mu.Unlock()
	if a.reports.sent.Equal(slot) {
		return nil
	}
	states, err := a.store.AlertStates(ctx)
	if err != nil {
		return err
	}
	var prev store.AlertState
	for _, s := range states {
		if s.Key == reportStateKey {
			prev = s
		}
	}
	if !prev.LastSent.Before(slot) {
		return nil // this week's report is out
	}
	var recv *config.Receiver
	for _, r := range cfg.Alerting.Receivers {
		if r.Name == rc.Receiver {
			recv = r
		}
	}
	if recv == nil {
		return fmt.Errorf("report.receiver %q is not defined", rc.Receiver)
	}
	rep, err := report.Build(ctx, report.Options{Config: cfg, Store: a.store, Now: now})
	if err != nil {
		return err
	}
	var text bytes.Buffer
	if rc.Format == "html" {
		err = rep.HTML(&text)
	} else {
		err = rep.Markdown(&text)
	}
	if err != nil {
		return err
	}
	if prev.State == reportSending && prev.Since.Equal(slot) {
		a.logger.Info("sending the weekly report whose delivery was started before (by this process or another okrd); if that one got through, the receiver gets it twice",
			"slot", slot.Format(time.RFC3339))
	}
	claim := store.AlertState{Key: reportStateKey, State: reportSending, Since: slot, LastSent: prev.LastSent, UpdatedAt: now}
	if err := a.writes().PutAlertState(ctx, claim); err != nil {
		return fmt.Errorf("claiming the report of %s: %w", slot.Format(time.RFC3339), err)
	}
	if err := postReport(ctx, recv, rc.Format, slot, text.String()); err != nil {
		a.metrics.reportsFailed.Inc()
		return fmt.Errorf("receiver %q: %w", recv.Name, err)
	}
	a.reports.sent = slot
	a.metrics.reportsSent.Inc()
	a.logger.Info("weekly report sent", "receiver", recv.Name, "slot", slot.Format(time.RFC3339))
	return a.writes().PutAlertState(ctx, store.AlertState{
		Key: reportStateKey, State: reportSent, Since: slot, LastSent: slot, UpdatedAt: now,
	})
}

// reportID identifies the report of a slot: a report sent again carries
// the same Idempotency-Key.
func reportID(slot time.Time) string {
	return reportStateKey + ":" + slot.UTC().Format(time.RFC3339)
}

// slackTextLimit keeps a report within what one Slack message holds.
const slackTextLimit = 39000

// ReportPayload is the JSON a webhook receiver gets with the weekly report
// (docs/report.md).
type ReportPayload struct {
	Kind        string    `json:"kind"` // "okrd.report"
	Format      string    `json:"format"`
	ScheduledAt time.Time `json:"scheduled_at"`
	Report      string    `json:"report"`
}

func postReport(ctx context.Context, r *config.Receiver, format string, slot time.Time, text string) error {
	timeout := time.Duration(r.Timeout)
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	client := &http.Client{Timeout: timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	header := http.Header{}
	var body []byte
	var err error
	switch r.Type {
	case "slack":
		if len(text) > slackTextLimit {
			text = text[:slackTextLimit] + "\n…(cut; run `okrd report` for the whole report)"
		}
		body, err = json.Marshal(map[string]string{"text": text})
	case "webhook":
		for k, v := range r.Headers {
			header.Set(k, v.Value())
		}
		header.Set(notify.IdempotencyHeader, reportID(slot))
		body, err = json.Marshal(ReportPayload{Kind: "okrd.report", Format: format, ScheduledAt: slot.UTC(), Report: text})
		if err == nil && r.HMACSecret.Value() != "" {
			header.Set(webhook.SignatureHeader, webhook.Sign([]byte(r.HMACSecret.Value()), body))
		}
	default:
		return errors.New("the report goes to a slack or webhook receiver, not " + r.Type)
	}
	if err != nil {
		return err
	}
	_, err = notify.PostJSON(ctx, client, r.URL.Value(), notify.RedactURL(r.URL.Value()), body, header)
	return err
}
