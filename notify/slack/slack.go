// Package slack delivers okrd alerts to a Slack incoming webhook as a
// readable message: per alert, what happened to which key result and the
// numbers behind it, its progress against the progress expected by now, its
// forecast, who owns it, a link to the key result's page and to its
// runbook.
package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/okrd/okrd/notify"
)

// maxAttachments is how many alerts go into one message. Slack truncates
// long messages; more alerts are sent as further messages rather than
// dropped.
const maxAttachments = 20

// Notifier posts to one Slack incoming webhook.
type Notifier struct {
	url      string
	redacted string
	client   *http.Client
}

// New returns a Notifier for the incoming-webhook URL (a credential: it is
// never printed). client nil means http.DefaultClient.
func New(webhookURL string, client *http.Client) *Notifier {
	if client == nil {
		client = http.DefaultClient
	}
	return &Notifier{url: webhookURL, redacted: notify.RedactURL(webhookURL) + "/<secret>", client: client}
}

// Message is the JSON body of an incoming-webhook post.
type Message struct {
	// Text is the notification text (and what clients without attachment
	// support show).
	Text        string       `json:"text"`
	Attachments []Attachment `json:"attachments,omitempty"`
}

// Attachment renders one alert.
type Attachment struct {
	Color     string   `json:"color,omitempty"`
	Fallback  string   `json:"fallback"`
	Title     string   `json:"title"`
	TitleLink string   `json:"title_link,omitempty"`
	Text      string   `json:"text,omitempty"`
	Fields    []Field  `json:"fields,omitempty"`
	MrkdwnIn  []string `json:"mrkdwn_in,omitempty"`
	Footer    string   `json:"footer,omitempty"`
	Ts        int64    `json:"ts,omitempty"`
}

// Field is a short labelled value under an attachment.
type Field struct {
	Title string `json:"title"`
	Value string `json:"value"`
	Short bool   `json:"short"`
}

// Notify posts the alerts, maxAttachments per message.
func (n *Notifier) Notify(ctx context.Context, alerts ...*notify.Alert) (bool, error) {
	for start := 0; start < len(alerts); start += maxAttachments {
		end := min(start+maxAttachments, len(alerts))
		body, err := json.Marshal(Render(alerts[start:end]))
		if err != nil {
			return false, &notify.Error{Reason: notify.ReasonOther, Err: fmt.Errorf("encoding the Slack message: %w", err)}
		}
		// Slack answers 200 "ok"; errors are 4xx with a word such as
		// "invalid_payload" or "channel_not_found", 429 with Retry-After
		// when rate limited, and 5xx when it is in trouble.
		if retry, err := notify.PostJSON(ctx, n.client, n.url, n.redacted, body, nil); err != nil {
			return retry, err
		}
	}
	return false, nil
}

// Render builds the message for alerts.
func Render(alerts []*notify.Alert) Message {
	var m Message
	firing := 0
	for _, a := range alerts {
		if !a.Resolved() {
			firing++
		}
		m.Attachments = append(m.Attachments, attachment(a))
	}
	switch {
	case len(alerts) == 1:
		m.Text = escape(headline(alerts[0]))
	case firing == 0:
		m.Text = fmt.Sprintf("[RESOLVED] %d okrd alerts resolved", len(alerts))
	default:
		m.Text = fmt.Sprintf("[FIRING:%d] %d okrd alerts", firing, len(alerts))
		if resolved := len(alerts) - firing; resolved > 0 {
			m.Text += fmt.Sprintf(", %d resolved", resolved)
		}
	}
	return m
}

// headline is "[FIRING] <summary>" or "[RESOLVED] <summary>".
func headline(a *notify.Alert) string {
	summary := a.Annotations[notify.AnnotationSummary]
	if summary == "" {
		summary = a.Name()
	}
	return "[" + strings.ToUpper(a.Status()) + "] " + summary
}

func attachment(a *notify.Alert) Attachment {
	at := Attachment{
		Color:     color(a),
		Title:     escape(headline(a)),
		Fallback:  escape(headline(a)),
		TitleLink: a.Annotations[notify.AnnotationDashboard],
		MrkdwnIn:  []string{"text"},
		Footer:    "okrd · " + escape(a.Name()),
	}
	var text []string
	if d := a.Annotations[notify.AnnotationDescription]; d != "" {
		text = append(text, escape(d))
	}
	// The numbers a reader wants at a glance: where the key result is,
	// where it should be by now, and where it is heading.
	var nums []string
	if p := a.Annotations[notify.AnnotationProgress]; p != "" {
		s := "*Progress* " + escape(p)
		if e := a.Annotations[notify.AnnotationExpected]; e != "" {
			s += " (expected " + escape(e) + " by now)"
		}
		nums = append(nums, s)
	}
	if f := a.Annotations[notify.AnnotationForecast]; f != "" {
		nums = append(nums, "*Forecast* "+escape(f)+" at period end")
	}
	if len(nums) > 0 {
		text = append(text, strings.Join(nums, " · "))
	}
	if u := a.Annotations[notify.AnnotationRunbookURL]; u != "" {
		text = append(text, runbookLink(u))
	}
	if a.Resolved() {
		text = append(text, "Resolved at "+a.EndsAt.UTC().Format("2006-01-02 15:04 MST")+".")
	}
	at.Text = strings.Join(text, "\n")
	for _, f := range []struct{ title, label string }{
		{"Objective", notify.LabelObjective},
		{"Key result", notify.LabelKeyResult},
		{"Source", notify.LabelSource},
		{"Owner", notify.LabelOwner},
		{"Team", notify.LabelTeam},
		{"Severity", notify.LabelSeverity},
	} {
		if v := a.Labels[f.label]; v != "" {
			at.Fields = append(at.Fields, Field{Title: f.title, Value: escape(v), Short: true})
		}
	}
	if !a.StartsAt.IsZero() {
		at.Ts = a.StartsAt.Unix()
	}
	return at
}

// runbookLink is a Slack link to the runbook. A URL with a character that
// ends Slack's link markup (a |, or a space) is shown as text instead,
// which Slack still makes clickable up to that character.
func runbookLink(u string) string {
	if strings.ContainsAny(u, "| \t\n") {
		return "*Runbook* " + escape(u)
	}
	return "<" + escape(u) + "|Runbook>"
}

// color is green for a resolved alert, and by severity for a firing one.
func color(a *notify.Alert) string {
	if a.Resolved() {
		return "good"
	}
	switch a.Labels[notify.LabelSeverity] {
	case "critical":
		return "danger"
	case "warning":
		return "warning"
	default:
		return "#439FE0"
	}
}

// escape applies Slack's message escaping: &, < and > are control
// characters in its markup.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
