package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/okrd/okrd/internal/retry"
)

// Metrics are the notification series (docs/metrics.md).
type Metrics struct {
	notifications  *prometheus.CounterVec
	failed         *prometheus.CounterVec
	requests       *prometheus.CounterVec
	requestsFailed *prometheus.CounterVec
}

// NewMetrics creates the notification metrics and registers them with reg
// (nil registers nothing, for tests).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "okrd_notifications_total",
			Help: "Notifications attempted, by receiver and integration: one per batch of alerts handed to a receiver, however many requests its retries took.",
		}, []string{"receiver", "integration"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "okrd_notifications_failed_total",
			Help: "Notifications that failed after their last retry, by receiver, integration and the reason of the last attempt.",
		}, []string{"receiver", "integration", "reason"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "okrd_notification_requests_total",
			Help: "Delivery attempts (requests) made to receivers, retries included.",
		}, []string{"receiver", "integration"}),
		requestsFailed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "okrd_notification_requests_failed_total",
			Help: "Delivery attempts that failed, by reason.",
		}, []string{"receiver", "integration", "reason"}),
	}
	if reg != nil {
		reg.MustRegister(m.notifications, m.failed, m.requests, m.requestsFailed)
	}
	return m
}

// Init creates the series of a receiver at 0, so that a rate() over them
// works before the first notification and a dashboard lists every receiver.
func (m *Metrics) Init(receiver, integration string) {
	m.notifications.WithLabelValues(receiver, integration)
	m.requests.WithLabelValues(receiver, integration)
	for _, r := range Reasons {
		m.failed.WithLabelValues(receiver, integration, string(r))
		m.requestsFailed.WithLabelValues(receiver, integration, string(r))
	}
}

// Forget removes the series of a receiver that the configuration no
// longer has.
func (m *Metrics) Forget(receiver string) {
	l := prometheus.Labels{"receiver": receiver}
	m.notifications.DeletePartialMatch(l)
	m.failed.DeletePartialMatch(l)
	m.requests.DeletePartialMatch(l)
	m.requestsFailed.DeletePartialMatch(l)
}

// Integration is one configured receiver with its Notifier.
type Integration struct {
	// Receiver is the receiver's name in the configuration.
	Receiver string
	// Type is the integration: "slack", "webhook" or "alertmanager".
	Type     string
	Notifier Notifier
	// Timeout bounds each attempt; 0 means no bound beyond the context.
	Timeout time.Duration
}

// Backoff bounds of Sender. The first retry waits about InitialBackoff,
// doubling each time up to MaxBackoff.
const (
	DefaultInitialBackoff = time.Second
	DefaultMaxBackoff     = 30 * time.Second
)

// Sender delivers notifications with retries, by okrd's retry policy
// (internal/retry): exponential backoff with jitter, honouring Retry-After,
// never retrying what cannot succeed, and everything bounded by the
// context.
type Sender struct {
	Metrics        *Metrics
	Logger         *slog.Logger
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
	// Rand returns a number in [0, 1) for the jitter; nil means math/rand.
	Rand func() float64
	// Clock runs the waits between attempts; nil means the system clock.
	Clock retry.Clock
}

// NewSender returns a Sender with the default backoff.
func NewSender(m *Metrics, logger *slog.Logger) *Sender {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Sender{Metrics: m, Logger: logger, InitialBackoff: DefaultInitialBackoff, MaxBackoff: DefaultMaxBackoff}
}

// policy is the retry policy of one notification: no bound on the attempts
// or on a receiver's Retry-After but the context, which the dispatcher
// bounds.
func (s *Sender) policy() retry.Policy {
	initial, maxB := s.InitialBackoff, s.MaxBackoff
	if initial <= 0 {
		initial = DefaultInitialBackoff
	}
	if maxB <= 0 {
		maxB = DefaultMaxBackoff
	}
	return retry.Policy{Initial: initial, Max: maxB, Rand: s.Rand, Clock: s.Clock}
}

// Send delivers alerts through integ, retrying until the receiver accepts
// them, a failure cannot be fixed by retrying, or ctx is done. It returns
// nil on success; otherwise the last error, and retryLater tells whether a
// later Send of the same alerts may succeed (the caller keeps them queued) or
// not (the caller drops them).
func (s *Sender) Send(ctx context.Context, integ Integration, alerts []*Alert) (retryLater bool, err error) {
	if len(alerts) == 0 {
		return false, nil
	}
	labels := []string{integ.Receiver, integ.Type}
	if s.Metrics != nil {
		s.Metrics.notifications.WithLabelValues(labels...).Inc()
	}
	logger := s.Logger.With("receiver", integ.Receiver, "integration", integ.Type)
	policy := s.policy()
	policy.OnRetry = func(attempt int, err error, wait time.Duration) {
		logger.Debug("notification failed; retrying", "err", err, "attempt", attempt, "retry_in", wait)
	}
	attempts := 0
	err = policy.Do(ctx, func(ctx context.Context, attempt int) (retry.Verdict, error) {
		attempts = attempt
		again, err := s.attempt(ctx, integ, alerts)
		if s.Metrics != nil {
			s.Metrics.requests.WithLabelValues(labels...).Inc()
		}
		if err == nil {
			return retry.Verdict{}, nil
		}
		if s.Metrics != nil {
			s.Metrics.requestsFailed.WithLabelValues(integ.Receiver, integ.Type, string(ReasonOf(err))).Inc()
		}
		retryLater = again
		var e *Error
		switch {
		case !again || ctx.Err() != nil:
			return retry.GiveUp, err
		case errors.As(err, &e) && e.RetryAfter > 0:
			return retry.After(e.RetryAfter), err
		}
		return retry.Again(), err
	})
	if err == nil {
		logger.Debug("notification sent", "alerts", len(alerts), "attempts", attempts)
		return false, nil
	}
	if le, ok := retry.IsLater(err); ok {
		// The receiver's Retry-After outlasts the context: the caller
		// tries again in a later round.
		err = le.Err
	}
	reason := ReasonOf(err)
	if s.Metrics != nil {
		s.Metrics.failed.WithLabelValues(integ.Receiver, integ.Type, string(reason)).Inc()
	}
	if ctx.Err() != nil && reason == ReasonOther {
		err = fmt.Errorf("%w (%v)", err, ctx.Err())
	}
	// A cancelled context is worth retrying later (shutdown, or the
	// dispatch round's time ran out); a 4xx is not.
	return retryLater || ctx.Err() != nil, err
}

func (s *Sender) attempt(ctx context.Context, integ Integration, alerts []*Alert) (bool, error) {
	if integ.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, integ.Timeout)
		defer cancel()
	}
	return integ.Notifier.Notify(ctx, alerts...)
}
