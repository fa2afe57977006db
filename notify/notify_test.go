package notify

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/okrd/okrd/internal/retry/retrytest"
)

// httpNotifier posts to a URL with PostJSON, like the real integrations.
type httpNotifier struct{ url string }

func (n httpNotifier) Notify(ctx context.Context, alerts ...*Alert) (bool, error) {
	return PostJSON(ctx, http.DefaultClient, n.url, RedactURL(n.url), []byte(`[]`), nil)
}

func firing() []*Alert {
	return []*Alert{{Labels: map[string]string{"alertname": "OKRKeyResultOffTrack"}, StartsAt: time.Unix(1e9, 0)}}
}

// server answers with the given statuses in turn (the last one repeats)
// and counts requests.
func server(t *testing.T, statuses []int, header map[string]string, body string) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		code := statuses[min(i, len(statuses)-1)]
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(code)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(s.Close)
	return s, &n
}

// newTestSender is a Sender whose waits run on clk (1 s, doubling up to
// 4 s, the jitter fixed at its top), so that no test sleeps.
func newTestSender(reg prometheus.Registerer, clk *retrytest.Clock) *Sender {
	s := NewSender(NewMetrics(reg), nil)
	s.InitialBackoff, s.MaxBackoff = time.Second, 4*time.Second
	s.Rand = func() float64 { return 1 }
	s.Clock = clk
	return s
}

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

func TestSenderRetryPolicy(t *testing.T) {
	tests := []struct {
		name       string
		statuses   []int
		wantErr    bool
		wantReqs   int64
		wantWaits  []time.Duration
		wantReason Reason
	}{
		{name: "a 5xx is retried until it succeeds, backing off", statuses: []int{503, 500, 502, 200}, wantReqs: 4,
			wantWaits: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}},
		{name: "a 429 is retried", statuses: []int{429, 200}, wantReqs: 2, wantWaits: []time.Duration{time.Second}},
		{name: "a 400 is not retried", statuses: []int{400, 200}, wantErr: true, wantReqs: 1, wantReason: ReasonClientError},
		{name: "a 404 is not retried", statuses: []int{404, 200}, wantErr: true, wantReqs: 1, wantReason: ReasonClientError},
		{name: "a 401 is not retried", statuses: []int{401, 200}, wantErr: true, wantReqs: 1, wantReason: ReasonClientError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, n := server(t, tt.statuses, nil, "boom")
			reg := prometheus.NewPedanticRegistry()
			clk := retrytest.NewAutoClock(t0)
			s := newTestSender(reg, clk)
			retry, err := s.Send(context.Background(), Integration{Receiver: "r", Type: "webhook", Notifier: httpNotifier{srv.URL}}, firing())
			if (err != nil) != tt.wantErr || retry {
				t.Fatalf("Send = (%v, %v), want error %v and no retry", retry, err, tt.wantErr)
			}
			if n.Load() != tt.wantReqs {
				t.Errorf("requests = %d, want %d", n.Load(), tt.wantReqs)
			}
			if !slices.Equal(clk.Waits(), tt.wantWaits) {
				t.Errorf("waits = %v, want %v", clk.Waits(), tt.wantWaits)
			}
			if got := testutil.ToFloat64(s.Metrics.notifications.WithLabelValues("r", "webhook")); got != 1 {
				t.Errorf("okrd_notifications_total = %v, want 1 (one notification, however many requests)", got)
			}
			if got := testutil.ToFloat64(s.Metrics.requests.WithLabelValues("r", "webhook")); got != float64(n.Load()) {
				t.Errorf("okrd_notification_requests_total = %v, want %d", got, n.Load())
			}
			failed := 0.0
			if tt.wantErr {
				failed = 1
				if ReasonOf(err) != tt.wantReason {
					t.Errorf("reason = %s, want %s", ReasonOf(err), tt.wantReason)
				}
				if got := testutil.ToFloat64(s.Metrics.failed.WithLabelValues("r", "webhook", string(tt.wantReason))); got != 1 {
					t.Errorf("okrd_notifications_failed_total{reason=%s} = %v, want 1", tt.wantReason, got)
				}
			}
			if got := testutil.CollectAndCount(s.Metrics.failed); tt.wantErr && got != 1 || !tt.wantErr && got != 0 {
				t.Errorf("failed series = %v, want %v", got, failed)
			}
		})
	}
}

func TestAReceiverThatKeepsFailingIsRetriedUntilTheContextEndsAndStaysRetryable(t *testing.T) {
	srv, n := server(t, []int{502}, nil, "boom")
	clk := retrytest.NewClock(t0)
	s := newTestSender(nil, clk)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		retry bool
		err   error
	}
	done := make(chan result, 1)
	go func() {
		retry, err := s.Send(ctx, Integration{Receiver: "r", Type: "webhook", Notifier: httpNotifier{srv.URL}}, firing())
		done <- result{retry, err}
	}()
	// Three failures, each followed by a longer wait; the dispatch round
	// ends during the third.
	for i, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		if p := clk.AwaitTimers(t, 1); !slices.Equal(p, []time.Duration{want}) {
			t.Fatalf("wait %d = %v, want %v", i+1, p, want)
		}
		if i < 2 {
			clk.Advance(want)
		}
	}
	cancel()
	r := <-done
	if r.err == nil || !r.retry || ReasonOf(r.err) != ReasonServerError {
		t.Fatalf("Send = (%v, %v), want a retryable server error", r.retry, r.err)
	}
	if n.Load() != 3 {
		t.Errorf("requests = %d, want 3", n.Load())
	}
	if got := testutil.ToFloat64(s.Metrics.failed.WithLabelValues("r", "webhook", string(ReasonServerError))); got != 1 {
		t.Errorf("okrd_notifications_failed_total{reason=server_error} = %v, want 1", got)
	}
	if got := testutil.ToFloat64(s.Metrics.requestsFailed.WithLabelValues("r", "webhook", string(ReasonServerError))); got != 3 {
		t.Errorf("okrd_notification_requests_failed_total{reason=server_error} = %v, want 3", got)
	}
}

func TestSenderHonoursRetryAfter(t *testing.T) {
	srv, n := server(t, []int{429, 200}, map[string]string{"Retry-After": "30"}, "rate_limited")
	clk := retrytest.NewAutoClock(t0)
	s := newTestSender(nil, clk)
	if _, err := s.Send(context.Background(), Integration{Receiver: "r", Type: "slack", Notifier: httpNotifier{srv.URL}}, firing()); err != nil {
		t.Fatal(err)
	}
	// The backoff alone is 1s; Retry-After asked for 30s.
	if w := clk.Waits(); !slices.Equal(w, []time.Duration{30 * time.Second}) {
		t.Errorf("waits = %v, want the 30s the receiver asked for", w)
	}
	if n.Load() != 2 {
		t.Errorf("requests = %d, want 2", n.Load())
	}
}

func TestSenderGivesUpWhenRetryAfterExceedsTheDeadline(t *testing.T) {
	srv, n := server(t, []int{503}, map[string]string{"Retry-After": "120"}, "")
	clk := retrytest.NewAutoClock(t0)
	s := newTestSender(nil, clk)
	// The budget is a minute, which the test never waits for: the
	// receiver's 120s cannot fit in it, so no wait begins.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	retry, err := s.Send(ctx, Integration{Receiver: "r", Type: "alertmanager", Notifier: httpNotifier{srv.URL}}, firing())
	if err == nil || !retry || ReasonOf(err) != ReasonServerError {
		t.Fatalf("Send = (%v, %v), want a retryable server error", retry, err)
	}
	if len(clk.Waits()) != 0 || n.Load() != 1 {
		t.Errorf("waited %v and made %d requests; a 120s Retry-After cannot fit in a minute's budget", clk.Waits(), n.Load())
	}
}

func TestNetworkErrorsAreRetriedAndDoNotLeakTheURL(t *testing.T) {
	// A port nobody listens on: connection refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	secretURL := "http://" + addr + "/services/T000/B000/XXXXSECRETXXXX?token=abc"
	retry, err := httpNotifier{secretURL}.Notify(context.Background(), firing()...)
	if err == nil || !retry {
		t.Fatalf("Notify = (%v, %v), want a retryable error", retry, err)
	}
	if ReasonOf(err) != ReasonNetwork {
		t.Errorf("reason = %s, want network", ReasonOf(err))
	}
	if strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "token") {
		t.Errorf("error leaks the URL: %v", err)
	}
	if !strings.Contains(err.Error(), "http://"+addr) {
		t.Errorf("error should name the host: %v", err)
	}
}

func TestTimeoutsAreRetryable(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	clk := retrytest.NewClock(t0)
	s := newTestSender(nil, clk)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		retry bool
		err   error
	}
	done := make(chan result, 1)
	go func() {
		// The receiver never answers, so the attempt always times out;
		// the timeout's length only sets how long that takes.
		retry, err := s.Send(ctx, Integration{Receiver: "r", Type: "webhook", Notifier: httpNotifier{srv.URL}, Timeout: 20 * time.Millisecond}, firing())
		done <- result{retry, err}
	}()
	// A timed-out attempt is retried: the Sender waits for the backoff,
	// and the round ends there.
	clk.AwaitTimers(t, 1)
	cancel()
	r := <-done
	if r.err == nil || !r.retry || ReasonOf(r.err) != ReasonTimeout {
		t.Fatalf("Send = (%v, %v, reason %s), want a retryable timeout", r.retry, r.err, ReasonOf(r.err))
	}
}

func TestBackoffDoublesWithJitterUpToTheMaximum(t *testing.T) {
	s := &Sender{InitialBackoff: time.Second, MaxBackoff: 8 * time.Second}
	for _, tt := range []struct {
		attempt int
		rnd     float64
		want    time.Duration
	}{
		{1, 1, time.Second},            // 1s × (0.5 + 0.5)
		{1, 0, 500 * time.Millisecond}, // 1s × 0.5
		{2, 1, 2 * time.Second},
		{3, 0.5, 3 * time.Second}, // 4s × 0.75
		{4, 1, 8 * time.Second},
		{10, 1, 8 * time.Second}, // capped
	} {
		s.Rand = func() float64 { return tt.rnd }
		if got := s.policy().Backoff(tt.attempt); got != tt.want {
			t.Errorf("backoff(%d) with rand %v = %s, want %s", tt.attempt, tt.rnd, got, tt.want)
		}
	}
	// A Sender built without bounds backs off by the defaults.
	zero := &Sender{Rand: func() float64 { return 1 }}
	if got := zero.policy().Backoff(1); got != DefaultInitialBackoff {
		t.Errorf("default first backoff = %s, want %s", got, DefaultInitialBackoff)
	}
	if got := zero.policy().Backoff(20); got != DefaultMaxBackoff {
		t.Errorf("default longest backoff = %s, want %s", got, DefaultMaxBackoff)
	}
}

func TestReasonOf(t *testing.T) {
	if got := ReasonOf(context.DeadlineExceeded); got != ReasonTimeout {
		t.Errorf("deadline: %s", got)
	}
	if got := ReasonOf(errors.New("x")); got != ReasonOther {
		t.Errorf("plain error: %s", got)
	}
	if got := ReasonOf(&Error{Reason: ReasonRateLimited, Err: errors.New("429")}); got != ReasonRateLimited {
		t.Errorf("*Error: %s", got)
	}
}

func TestFingerprintDependsOnLabelsOnly(t *testing.T) {
	a := &Alert{Labels: map[string]string{"alertname": "A", "objective": "o"}, Annotations: map[string]string{"x": "1"}}
	b := &Alert{Labels: map[string]string{"objective": "o", "alertname": "A"}, Annotations: map[string]string{"x": "2"}, EndsAt: time.Now()}
	c := &Alert{Labels: map[string]string{"alertname": "A", "objective": "p"}}
	if a.Fingerprint() != b.Fingerprint() || a.Fingerprint() == c.Fingerprint() || len(a.Fingerprint()) != 16 {
		t.Errorf("fingerprints %s %s %s", a.Fingerprint(), b.Fingerprint(), c.Fingerprint())
	}
}
