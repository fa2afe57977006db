// Package notify owns the delivery of alert notifications: the Alert every
// receiver integration is given, the Notifier interface the integrations
// (notify/slack, notify/webhook, notify/alertmanager) implement, the
// classification of delivery failures, and the retry loop with its
// metrics. What to send, and when, is decided by the alerting package; this
// package only gets it there.
package notify

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// Label and annotation names that okrd's alerts carry and that the
// integrations read to render a message. The generated Prometheus rules use
// the same names, so both alerting paths look alike in Alertmanager.
const (
	LabelAlertName = "alertname"
	LabelObjective = "objective"
	LabelKeyResult = "key_result"
	LabelOwner     = "owner"
	LabelTeam      = "team"
	LabelSeverity  = "severity"
	LabelSource    = "source"
	LabelType      = "type"
	// LabelOrigin tells which path raised an alert: "okrd" for the built-in
	// alerting, "prometheus" for the generated rules.
	LabelOrigin = "origin"

	AnnotationSummary     = "summary"
	AnnotationDescription = "description"
	AnnotationDashboard   = "dashboard"
	AnnotationTitle       = "title"
	AnnotationStatus      = "status"
	AnnotationProgress    = "progress"
	AnnotationExpected    = "expected"
	AnnotationForecast    = "forecast"
	// AnnotationRunbookURL links to what to do about the alert, under the
	// name Prometheus alerting rules use for it.
	AnnotationRunbookURL = "runbook_url"
)

// Alert is one alert as a receiver gets it: the shape Alertmanager uses, so
// that the three integrations differ only in how they render it.
type Alert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	// StartsAt is when the alert started firing.
	StartsAt time.Time `json:"startsAt"`
	// EndsAt is zero while the alert fires and the time it resolved once it
	// has. (The Alertmanager integration fills in a firing alert's expiry
	// itself.)
	EndsAt time.Time `json:"endsAt,omitzero"`
	// GeneratorURL links to where the alert can be inspected.
	GeneratorURL string `json:"generatorURL,omitempty"`
	// ID identifies this notification of the alert (one firing, repeat
	// or resolved notice to one receiver): a notification sent again,
	// after a crash or a failover between its delivery and its record,
	// carries the same ID, so that a receiver can drop the copy. Empty for
	// the refreshes of firing alerts to Alertmanager, which dedupes by
	// labels.
	ID string `json:"id,omitempty"`
}

// IdempotencyHeader is the request header that carries the IDs of the
// notifications a request delivers (Alert.ID, comma-separated, in the
// order of the payload): a request sent again carries the same value.
const IdempotencyHeader = "Idempotency-Key"

// IdempotencyKey returns the IdempotencyHeader value of a delivery of
// alerts, "" when none has an ID.
func IdempotencyKey(alerts []*Alert) string {
	ids := make([]string, 0, len(alerts))
	for _, a := range alerts {
		if a.ID != "" {
			ids = append(ids, a.ID)
		}
	}
	return strings.Join(ids, ",")
}

// Resolved reports whether the alert has ended.
func (a *Alert) Resolved() bool { return !a.EndsAt.IsZero() }

// Name is the alert's alertname label.
func (a *Alert) Name() string { return a.Labels[LabelAlertName] }

// Status is "firing" or "resolved".
func (a *Alert) Status() string {
	if a.Resolved() {
		return "resolved"
	}
	return "firing"
}

// Fingerprint identifies the alert by its labels, computed the way
// Alertmanager computes it, so that a webhook consumer can correlate the
// firing and the resolved notification of one alert.
func (a *Alert) Fingerprint() string {
	ls := make(model.LabelSet, len(a.Labels))
	for k, v := range a.Labels {
		ls[model.LabelName(k)] = model.LabelValue(v)
	}
	return ls.Fingerprint().String()
}

// SortedLabelNames returns the alert's label names in order, for stable
// rendering.
func (a *Alert) SortedLabelNames() []string {
	names := make([]string, 0, len(a.Labels))
	for k := range a.Labels {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// Notifier delivers alerts to one receiver.
//
// Notify sends the given alerts (at least one) in one delivery, which may
// take several requests (Slack sends a message per group of alerts). It
// returns nil when the receiver accepted them. Otherwise retry reports
// whether trying again later may succeed (a 5xx, a 429 or a network error)
// or not (any other 4xx: the request itself is wrong), and err says why in
// words that never contain a secret (a webhook URL's token, an HMAC key).
// Notify must return when ctx is done. Errors should be *Error so that the
// failure is counted under its reason.
type Notifier interface {
	Notify(ctx context.Context, alerts ...*Alert) (retry bool, err error)
}

// Reason classifies a failed delivery in okrd_notifications_failed_total.
type Reason string

// Failure reasons.
const (
	ReasonClientError Reason = "client_error" // a 4xx other than 429: not retried
	ReasonServerError Reason = "server_error" // a 5xx
	ReasonRateLimited Reason = "rate_limited" // a 429
	ReasonNetwork     Reason = "network"      // no response: refused, reset, DNS
	ReasonTimeout     Reason = "timeout"      // no response in time
	ReasonOther       Reason = "other"        // anything else (a payload that cannot be built)
)

// Reasons lists every reason, so that the failure series exist at 0 from
// the start.
var Reasons = []Reason{ReasonClientError, ReasonServerError, ReasonRateLimited, ReasonNetwork, ReasonTimeout, ReasonOther}

// Error is a failed delivery attempt.
type Error struct {
	Reason Reason
	// StatusCode is the HTTP status, 0 when no response arrived.
	StatusCode int
	// RetryAfter is how long the receiver asked to be left alone (from a
	// Retry-After header); 0 when it did not say.
	RetryAfter time.Duration
	Err        error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// ReasonOf classifies err: the Reason of an *Error in its chain, timeout for
// an expired context, other for anything else.
func ReasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return ReasonTimeout
	}
	return ReasonOther
}

// RedactURL returns the part of a receiver URL that may be printed: the
// scheme and host. A Slack incoming-webhook URL is a credential in its path,
// and any URL may carry a password or a token in its user info or query.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "<url>"
	}
	return u.Scheme + "://" + u.Host
}

// requestError turns the error of http.Client.Do into an *Error that does
// not repeat the URL (*url.Error prints it whole, token included).
func requestError(method, redacted string, err error) *Error {
	cause := err
	var ue *url.Error
	if errors.As(err, &ue) {
		cause = ue.Err
	}
	reason := ReasonNetwork
	var te interface{ Timeout() bool }
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &te) && te.Timeout()) {
		reason = ReasonTimeout
	}
	return &Error{Reason: reason, Err: fmt.Errorf("%s %s: %s", method, redacted, scrub(cause.Error(), 300))}
}

// scrub shortens s to at most n bytes and replaces control characters, so
// that a receiver's error body prints as one readable log field.
func scrub(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		s = s[:n] + "…"
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
