// Package alertmanager delivers okrd alerts to a Prometheus Alertmanager
// through its API (POST /api/v2/alerts), the way Prometheus itself does: a
// firing alert carries an expiry (endsAt) a few refresh intervals ahead and
// is posted again while it fires, so that Alertmanager resolves it by
// itself if okrd stops; a resolved alert is posted with the time it ended.
package alertmanager

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/okrd/okrd/notify"
)

// Path is the Alertmanager API endpoint alerts are posted to.
const Path = "/api/v2/alerts"

// PostableAlert is one element of the body of POST /api/v2/alerts
// (Alertmanager's OpenAPI "postableAlert").
type PostableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt,omitzero"`
	EndsAt       time.Time         `json:"endsAt,omitzero"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// Config configures a Notifier.
type Config struct {
	// URL is Alertmanager's base URL, e.g. "http://alertmanager:9093" (a
	// path prefix is kept: "http://host/alertmanager").
	URL string
	// Header is added to every request (e.g. an Authorization header for
	// a proxy in front of Alertmanager).
	Header http.Header
	// ExpireAfter is how far ahead of now a firing alert's endsAt is set.
	// It must exceed the interval at which firing alerts are posted again,
	// or Alertmanager resolves them in between.
	ExpireAfter time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Notifier posts to one Alertmanager.
type Notifier struct {
	cfg      Config
	endpoint string
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
	return &Notifier{cfg: cfg, endpoint: strings.TrimRight(cfg.URL, "/") + Path,
		redacted: notify.RedactURL(cfg.URL) + Path, client: client}
}

// Build returns the request body for alerts.
func (n *Notifier) Build(alerts []*notify.Alert) []PostableAlert {
	now := n.cfg.Now()
	out := make([]PostableAlert, 0, len(alerts))
	for _, a := range alerts {
		p := PostableAlert{Labels: a.Labels, Annotations: a.Annotations, StartsAt: a.StartsAt.UTC(), GeneratorURL: a.GeneratorURL}
		if a.Resolved() {
			p.EndsAt = a.EndsAt.UTC()
		} else {
			p.EndsAt = now.Add(n.cfg.ExpireAfter).UTC()
		}
		out = append(out, p)
	}
	return out
}

// Notify posts every alert in one request. Alertmanager answers 200 when
// it accepted them, 400 with a message when one is invalid (not retried),
// and 5xx when it cannot take them now.
func (n *Notifier) Notify(ctx context.Context, alerts ...*notify.Alert) (bool, error) {
	body, err := json.Marshal(n.Build(alerts))
	if err != nil {
		return false, &notify.Error{Reason: notify.ReasonOther, Err: fmt.Errorf("encoding the alerts: %w", err)}
	}
	return notify.PostJSON(ctx, n.client, n.endpoint, n.redacted, body, n.cfg.Header)
}
