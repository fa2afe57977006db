package collectors

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the instrumentation that sources share. The scheduler owns
// the per-poll series (up, duration, last success); a source updates the
// request and rate-limit series through the helpers here.
type Metrics struct {
	Requests           *prometheus.CounterVec
	RateLimitRemaining *prometheus.GaugeVec
	RateLimitLimit     *prometheus.GaugeVec
}

// NewMetrics creates the shared source metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "okrd_source_requests_total",
			Help: "API requests made to a source, by HTTP status code (\"error\" when no response arrived).",
		}, []string{"source", "code"}),
		RateLimitRemaining: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "okrd_source_rate_limit_remaining",
			Help: "Requests (or points) left in the source's current rate-limit window, as last reported by the API.",
		}, []string{"source", "resource"}),
		RateLimitLimit: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "okrd_source_rate_limit_limit",
			Help: "Size of the source's rate-limit window, as last reported by the API.",
		}, []string{"source", "resource"}),
	}
	if reg != nil {
		reg.MustRegister(m.Requests, m.RateLimitRemaining, m.RateLimitLimit)
	}
	return m
}

// Forget deletes every series of a source, once it has stopped because a
// reload removed it or changed its type, so that a dashboard or an alert
// does not keep reading its last values.
func (m *Metrics) Forget(source string) {
	if m == nil {
		return
	}
	l := prometheus.Labels{"source": source}
	m.Requests.DeletePartialMatch(l)
	m.RateLimitRemaining.DeletePartialMatch(l)
	m.RateLimitLimit.DeletePartialMatch(l)
}

// Transport wraps base (http.DefaultTransport when nil) so that every
// request a source makes is counted by status code.
func (m *Metrics) Transport(source string, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if m == nil {
		return base
	}
	return &countingTransport{base: base, source: source, requests: m.Requests}
}

type countingTransport struct {
	base     http.RoundTripper
	source   string
	requests *prometheus.CounterVec
}

func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	code := "error"
	if err == nil {
		code = strconv.Itoa(resp.StatusCode)
	}
	t.requests.WithLabelValues(t.source, code).Inc()
	return resp, err
}
