package github

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/okrd/okrd/internal/retry"
)

// Rate-limit handling lives in one http.RoundTripper below go-github and
// the GraphQL client, so that every answer, REST or GraphQL, is read the
// same way:
//
//   - the x-ratelimit-* headers of every answer update the budget of its
//     resource (core or graphql) and the exported gauges;
//   - before a request, a budget at or below the reserve blocks until its
//     reset, and the last tenth above the reserve is spread evenly over the
//     time left, so okrd slows down before the budget runs out instead of
//     hitting the wall;
//   - a primary limit (403 or 429 with x-ratelimit-remaining 0) blocks the
//     resource until x-ratelimit-reset; a secondary limit (the secondary
//     rate limit message, or a Retry-After) blocks it for Retry-After
//     seconds, or until the reset when the budget is spent, or else for at
//     least a minute, doubling on each consecutive one;
//   - a 5xx that carries Retry-After (GitHub says how long it will be
//     unavailable) blocks the resource for Retry-After seconds.
//
// A blocked request is never sent: the transport returns a
// *rateLimitedError saying until when, which the client (by okrd's retry
// policy, internal/retry) waits out when it is short and otherwise turns
// into a collectors.RetryAfterError, so that the scheduler comes back then
// without holding a goroutine. Handling this
// below go-github also means go-github never sees a rate-limit answer: v60
// maps only 403s to its typed errors (a 429 comes back as a plain
// ErrorResponse) and remembers them inside its Client.

// rateLimitedError says that a resource may not be used until Until.
type rateLimitedError struct {
	Resource  string
	Until     time.Time
	Secondary bool
	// Reserve is true when okrd itself holds back to keep the reserve
	// (no request was refused by GitHub).
	Reserve bool
	// Unavailable is a 5xx with Retry-After: no rate limit, but GitHub
	// said when to come back all the same.
	Unavailable bool
	Status      int
	Message     string
}

func (e *rateLimitedError) Error() string {
	when := e.Until.UTC().Format(time.RFC3339)
	switch {
	case e.Reserve:
		return fmt.Sprintf("GitHub %s budget is down to the configured reserve; waiting for its reset at %s", e.Resource, when)
	case e.Unavailable:
		return fmt.Sprintf("GitHub unavailable (%d %s); asked to come back at %s", e.Status, e.Message, when)
	case e.Secondary:
		return fmt.Sprintf("GitHub secondary rate limit (%d %s); backing off until %s", e.Status, e.Message, when)
	}
	return fmt.Sprintf("GitHub primary rate limit of the %s budget exhausted (%d); waiting for its reset at %s", e.Resource, e.Status, when)
}

// budget is what okrd knows of one resource's rate-limit window.
type budget struct {
	known     bool
	limit     int
	remaining int
	reset     time.Time
	blocked   time.Time // no request before this
	blockedBy *rateLimitedError
	last      time.Time // when the last request was sent
}

// limiter is the rate-limit RoundTripper.
type limiter struct {
	base    http.RoundTripper
	source  string
	reserve int
	// clock runs the waits (a fake one in tests).
	clock retry.Clock
	// maxInlineWait is the longest wait done inside a request; longer
	// waits end the poll with a RetryAfterError.
	maxInlineWait  time.Duration
	remainingGauge *prometheus.GaugeVec
	limitGauge     *prometheus.GaugeVec

	mu        sync.Mutex
	budgets   map[string]*budget
	secondary int // consecutive secondary limits without a Retry-After
}

// resourceOf tells which budget a request spends.
func resourceOf(r *http.Request) string {
	if strings.HasSuffix(r.URL.Path, "/graphql") {
		return "graphql"
	}
	return "core"
}

func (l *limiter) budget(resource string) *budget {
	b, ok := l.budgets[resource]
	if !ok {
		b = &budget{}
		l.budgets[resource] = b
	}
	return b
}

// wait returns how long a request for resource must wait, and whether that
// is because GitHub said so (false: okrd's own reserve or pacing).
func (l *limiter) wait(resource string) (time.Duration, *rateLimitedError) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	b := l.budget(resource)
	if now.Before(b.blocked) {
		// The answer that blocked the resource, as remembered.
		rl := *b.blockedBy
		rl.Message += " (remembered)"
		return b.blocked.Sub(now), &rl
	}
	if !b.known || !now.Before(b.reset) {
		return 0, nil
	}
	usable := b.remaining - l.reserve
	if usable <= 0 {
		until := b.reset.Add(time.Second)
		return until.Sub(now), &rateLimitedError{Resource: resource, Until: until, Reserve: true}
	}
	// Pace the last tenth of the budget above the reserve over the time
	// left, so a large sync never drains it in a burst.
	if usable < b.limit/10 {
		interval := b.reset.Sub(now) / time.Duration(usable)
		if next := b.last.Add(interval); next.After(now) {
			return next.Sub(now), &rateLimitedError{Resource: resource, Until: next, Reserve: true}
		}
	}
	return 0, nil
}

// RoundTrip waits for the budget, sends the request and reads the answer's
// rate-limit headers; a rate-limit answer becomes a *rateLimitedError.
func (l *limiter) RoundTrip(req *http.Request) (*http.Response, error) {
	resource := resourceOf(req)
	if d, rl := l.wait(resource); d > 0 {
		if d > l.maxInlineWait {
			return nil, rl
		}
		if err := retry.Wait(req.Context(), l.clock, d); err != nil {
			return nil, err
		}
	}
	l.mu.Lock()
	l.budget(resource).last = l.clock.Now()
	l.mu.Unlock()

	resp, err := l.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resource = l.observe(resp, resource)
	if resp.StatusCode >= 500 {
		if rl := l.unavailable(resp, resource); rl != nil {
			return nil, rl
		}
		return resp, nil
	}
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusTooManyRequests {
		if resp.StatusCode < 400 {
			l.mu.Lock()
			l.secondary = 0
			l.mu.Unlock()
		}
		return resp, nil
	}
	// Read the body to tell a rate limit from a permission error, and give
	// it back intact if it is not one.
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if rl := l.classify(resp, body, resource); rl != nil {
		return nil, rl
	}
	return resp, nil
}

// observe reads the x-ratelimit-* headers into the resource's budget and
// the gauges; it returns the resource the answer names.
func (l *limiter) observe(resp *http.Response, resource string) string {
	h := resp.Header
	if r := h.Get("X-RateLimit-Resource"); r != "" {
		resource = r
	}
	remaining, err1 := strconv.Atoi(h.Get("X-RateLimit-Remaining"))
	limit, err2 := strconv.Atoi(h.Get("X-RateLimit-Limit"))
	reset, ok := retry.ParseResetEpoch(h.Get("X-RateLimit-Reset"))
	if err1 != nil || err2 != nil || !ok {
		// No rate limit (GitHub Enterprise Server with limits off).
		return resource
	}
	l.setBudget(resource, limit, remaining, reset)
	return resource
}

// setBudget records a budget reported by a header or by GraphQL's
// rateLimit object.
func (l *limiter) setBudget(resource string, limit, remaining int, reset time.Time) {
	l.mu.Lock()
	b := l.budget(resource)
	b.known, b.limit, b.remaining, b.reset = true, limit, remaining, reset
	l.mu.Unlock()
	if l.remainingGauge != nil {
		l.remainingGauge.WithLabelValues(l.source, resource).Set(float64(remaining))
		l.limitGauge.WithLabelValues(l.source, resource).Set(float64(limit))
	}
}

// block keeps rl's resource from being used until rl.Until.
func (l *limiter) block(rl *rateLimitedError) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b := l.budget(rl.Resource); rl.Until.After(b.blocked) {
		b.blocked, b.blockedBy = rl.Until, rl
	}
}

// classify tells whether a 403 or 429 is a rate limit, and which, per
// GitHub's documentation; it blocks the resource accordingly.
func (l *limiter) classify(resp *http.Response, body []byte, resource string) *rateLimitedError {
	var msg struct {
		Message string `json:"message"`
		DocURL  string `json:"documentation_url"`
	}
	_ = json.Unmarshal(body, &msg)
	lower := strings.ToLower(msg.Message)
	secondary := strings.Contains(lower, "secondary rate limit") || strings.Contains(lower, "abuse") ||
		strings.Contains(msg.DocURL, "secondary-rate-limits") || strings.Contains(msg.DocURL, "abuse-rate-limits")
	now := l.clock.Now()
	retryAfter, hasRetryAfter := retry.ParseRetryAfter(resp.Header.Get("Retry-After"), now)
	spent := resp.Header.Get("X-RateLimit-Remaining") == "0"
	reset, _ := retry.ParseResetEpoch(resp.Header.Get("X-RateLimit-Reset"))
	rl := &rateLimitedError{Resource: resource, Status: resp.StatusCode, Message: firstLine(msg.Message)}
	switch {
	case secondary || hasRetryAfter || (resp.StatusCode == http.StatusTooManyRequests && !spent):
		rl.Secondary = true
		switch {
		case hasRetryAfter:
			rl.Until = now.Add(retryAfter)
		case spent && reset.After(now):
			rl.Until = reset.Add(time.Second)
		default:
			// No hint: at least a minute, doubling while they repeat.
			l.mu.Lock()
			backoff := time.Minute << min(l.secondary, 5)
			l.secondary++
			l.mu.Unlock()
			rl.Until = now.Add(backoff)
		}
	case spent:
		rl.Until = reset.Add(time.Second)
		if !reset.After(now) {
			rl.Until = now.Add(time.Minute)
		}
	default:
		return nil // a 403 that is not a rate limit: a permission problem
	}
	l.block(rl)
	return rl
}

// unavailable tells whether a 5xx says when to come back (Retry-After),
// by okrd's retry policy, and if so blocks the resource until then: every
// request before would get the same answer.
func (l *limiter) unavailable(resp *http.Response, resource string) *rateLimitedError {
	now := l.clock.Now()
	v := retry.Classify(resp.StatusCode, resp.Header, now)
	if !v.Advised {
		return nil
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	var msg struct {
		Message string `json:"message"`
	}
	_ = json.Unmarshal(body, &msg)
	if msg.Message == "" {
		msg.Message = http.StatusText(resp.StatusCode)
	}
	rl := &rateLimitedError{Resource: resource, Until: now.Add(v.After), Unavailable: true, Status: resp.StatusCode, Message: firstLine(msg.Message)}
	l.block(rl)
	return rl
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}
