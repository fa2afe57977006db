// Package webhook delivers okrd alerts to any HTTP endpoint as a documented
// JSON payload (docs/alerting.md), optionally signed with an HMAC-SHA256
// header so that the receiver can tell the request came from okrd.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/okrd/okrd/notify"
)

// Version is the payload format's version; it changes only when a field
// changes meaning or disappears.
const Version = "1"

// SignatureHeader carries "sha256=" followed by the lowercase hex
// HMAC-SHA256 of the request body under the receiver's secret (the scheme
// GitHub webhooks use, so existing verification code applies).
const SignatureHeader = "X-Okrd-Signature-256"

// Payload is the JSON body okrd posts. Its field names follow
// Alertmanager's webhook payload, so consumers written for one read the
// other.
type Payload struct {
	Version  string `json:"version"`
	Receiver string `json:"receiver"`
	// Status is "firing" if any alert in the payload fires, else "resolved".
	Status string  `json:"status"`
	Alerts []Alert `json:"alerts"`
	// ExternalURL is okrd's server.external_url, when set.
	ExternalURL string `json:"externalURL,omitempty"`
	// Timestamp is when okrd built the payload; together with the
	// signature a receiver can refuse replayed requests.
	Timestamp time.Time `json:"timestamp"`
}

// Alert is one alert in the payload.
type Alert struct {
	Status      string            `json:"status"` // "firing" or "resolved"
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	// EndsAt is present once the alert has resolved.
	EndsAt       time.Time `json:"endsAt,omitzero"`
	GeneratorURL string    `json:"generatorURL,omitempty"`
	// Fingerprint identifies the alert by its labels (as Alertmanager
	// computes it): the firing and the resolved notification share it.
	Fingerprint string `json:"fingerprint"`
	// ID identifies this notification of the alert: one sent again (after
	// a crash or a failover of okrd between its delivery and its record)
	// has the same ID, so that a receiver drops the copy.
	ID string `json:"id,omitempty"`
}

// Config configures a Notifier.
type Config struct {
	// Receiver is the receiver's name, sent in the payload.
	Receiver string
	// URL is the endpoint; it may carry a token and is never printed.
	URL string
	// Secret, when not empty, signs every request (SignatureHeader).
	Secret []byte
	// Header is added to every request (authorization, routing keys).
	Header http.Header
	// ExternalURL is okrd's external URL, sent in the payload.
	ExternalURL string
	// Now is the clock for Timestamp; nil means time.Now.
	Now func() time.Time
}

// Notifier posts to one webhook endpoint.
type Notifier struct {
	cfg      Config
	redacted string
	client   *http.Client
}

// New returns a Notifier; client nil means http.DefaultClient.
func New(cfg Config, client *http.Client) *Notifier {
	if client == nil {
		client = http.DefaultClient
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Notifier{cfg: cfg, redacted: notify.RedactURL(cfg.URL), client: client}
}

// Build returns the payload for alerts.
func (n *Notifier) Build(alerts []*notify.Alert) Payload {
	p := Payload{Version: Version, Receiver: n.cfg.Receiver, Status: "resolved", ExternalURL: n.cfg.ExternalURL,
		Timestamp: n.cfg.Now().UTC(), Alerts: make([]Alert, 0, len(alerts))}
	for _, a := range alerts {
		if !a.Resolved() {
			p.Status = "firing"
		}
		p.Alerts = append(p.Alerts, Alert{
			Status: a.Status(), Labels: nonNil(a.Labels), Annotations: nonNil(a.Annotations),
			StartsAt: a.StartsAt.UTC(), EndsAt: a.EndsAt.UTC(), GeneratorURL: a.GeneratorURL, Fingerprint: a.Fingerprint(),
			ID: a.ID,
		})
	}
	return p
}

// Sign returns the SignatureHeader value of body under secret.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Notify posts one payload with every alert.
func (n *Notifier) Notify(ctx context.Context, alerts ...*notify.Alert) (bool, error) {
	body, err := json.Marshal(n.Build(alerts))
	if err != nil {
		return false, &notify.Error{Reason: notify.ReasonOther, Err: fmt.Errorf("encoding the webhook payload: %w", err)}
	}
	h := n.cfg.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	if len(n.cfg.Secret) > 0 {
		h.Set(SignatureHeader, Sign(n.cfg.Secret, body))
	}
	if key := notify.IdempotencyKey(alerts); key != "" {
		h.Set(notify.IdempotencyHeader, key)
	}
	return notify.PostJSON(ctx, n.client, n.cfg.URL, n.redacted, body, h)
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
