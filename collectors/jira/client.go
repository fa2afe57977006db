package jira

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	gojira "github.com/andygrunwald/go-jira"

	"github.com/okrd/okrd/collectors"
)

// client makes the source's API requests through go-jira's client and
// authentication transports, and adds what go-jira leaves to its callers
// (API-FACTS.md §3): retries of 429 (honouring Retry-After or the ISO time
// in X-RateLimit-Reset), 5xx and network errors with exponential backoff
// and jitter, all bounded by the context; permanent errors for rejected
// credentials and bad requests; the rate-limit headers as metrics.
type client struct {
	source  string // the source name, for errors
	jc      *gojira.Client
	metrics *collectors.Metrics

	maxRetries int
	// baseBackoff is the first backoff; it doubles per attempt up to
	// maxBackoff. maxWait is the longest Retry-After waited for within a
	// poll; a longer one ends the poll with a RetryAfterError.
	baseBackoff, maxBackoff, maxWait time.Duration

	// Hooks for tests.
	sleep func(ctx context.Context, d time.Duration) error
	now   func() time.Time
	rnd   func() float64
}

func newClient(source string, spec *Spec, metrics *collectors.Metrics, base http.RoundTripper) (*client, error) {
	counted := metrics.Transport(source, base)
	var hc *http.Client
	if spec.Email != "" {
		hc = (&gojira.BasicAuthTransport{Username: spec.Email, Password: spec.Token.Value(), Transport: counted}).Client()
	} else {
		hc = (&gojira.BearerAuthTransport{Token: spec.Token.Value(), Transport: counted}).Client()
	}
	jc, err := gojira.NewClient(hc, spec.URL)
	if err != nil {
		return nil, fmt.Errorf("jira source %q: url: %w", source, err)
	}
	return &client{
		source: source, jc: jc, metrics: metrics, maxRetries: spec.MaxRetries,
		baseBackoff: time.Second, maxBackoff: 30 * time.Second, maxWait: time.Minute,
		sleep: sleepCtx, now: time.Now, rnd: rand.Float64,
	}, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// apiError is a failed request with what Jira said.
type apiError struct {
	Status  int
	Path    string
	Message string
}

func (e *apiError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	return fmt.Sprintf("%s: HTTP %d: %s", e.Path, e.Status, msg)
}

// errorMessage extracts Jira's error text ({"errorMessages":[...],
// "errors":{...}} or plain text) from a body, shortened.
func errorMessage(body []byte) string {
	var je struct {
		ErrorMessages []string          `json:"errorMessages"`
		Errors        map[string]string `json:"errors"`
	}
	if json.Unmarshal(body, &je) == nil && (len(je.ErrorMessages) > 0 || len(je.Errors) > 0) {
		parts := append([]string{}, je.ErrorMessages...)
		for k, v := range je.Errors {
			parts = append(parts, k+": "+v)
		}
		return strings.Join(parts, "; ")
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// get sends a GET and decodes the JSON answer into v.
func (c *client) get(ctx context.Context, path string, q url.Values, v any) error {
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	return c.do(ctx, http.MethodGet, path, nil, v)
}

// post sends a POST with a JSON body and decodes the answer into v.
func (c *client) post(ctx context.Context, path string, body, v any) error {
	return c.do(ctx, http.MethodPost, path, body, v)
}

// do sends one request, retrying what can succeed later.
func (c *client) do(ctx context.Context, method, path string, body, v any) error {
	short := path
	if i := strings.IndexByte(short, '?'); i >= 0 {
		short = short[:i]
	}
	for attempt := 0; ; attempt++ {
		req, err := c.jc.NewRequestWithContext(ctx, method, path, body)
		if err != nil {
			return fmt.Errorf("jira source %q: %s: %w", c.source, short, err)
		}
		req.Header.Set("Accept", "application/json")
		resp, err := c.jc.Do(req, v)
		var status int
		if resp != nil && resp.Response != nil {
			status = resp.StatusCode
			c.observeRateLimit(resp.Header)
		}
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("jira source %q: %s: %w", c.source, short, ctx.Err())
		}
		if status >= 200 && status < 300 {
			// The status was fine but the body did not decode: a
			// malformed answer. Retrying would most likely get the same
			// answer; the poll fails and the next one starts over.
			return fmt.Errorf("jira source %q: %s: malformed answer: %w", c.source, short, err)
		}
		var msg string
		var header http.Header
		if resp != nil && resp.Response != nil {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			_ = resp.Body.Close()
			msg = errorMessage(b)
			header = resp.Header
		}
		var wait time.Duration
		retryAfter := false
		switch {
		case status == 0:
			// A network error: no answer at all.
			wait = c.backoff(attempt)
			msg = err.Error()
		case status == http.StatusTooManyRequests:
			wait, retryAfter = c.retryAfter(header)
			if !retryAfter {
				wait = c.backoff(attempt)
			}
		case status >= 500:
			wait, retryAfter = c.retryAfter(header)
			if !retryAfter {
				wait = c.backoff(attempt)
			}
		default:
			return c.permanent(status, short, msg)
		}
		aerr := &apiError{Status: status, Path: short, Message: msg}
		fail := func() error {
			e := fmt.Errorf("jira source %q: %w", c.source, aerr)
			if status == 0 {
				e = fmt.Errorf("jira source %q: %s: %s", c.source, short, msg)
			}
			if retryAfter {
				return &collectors.RetryAfterError{Until: c.now().Add(wait), Err: e}
			}
			return e
		}
		if attempt >= c.maxRetries || (retryAfter && wait > c.maxWait) {
			return fail()
		}
		if dl, ok := ctx.Deadline(); ok && c.now().Add(wait).After(dl) {
			// The poll would end before the wait does.
			return fail()
		}
		if err := c.sleep(ctx, wait); err != nil {
			return fail()
		}
	}
}

// permanent turns a 4xx answer into an error that retrying soon cannot
// fix, with a hint for the usual causes.
func (c *client) permanent(status int, path, msg string) error {
	aerr := &apiError{Status: status, Path: path, Message: msg}
	var hint string
	switch status {
	case http.StatusUnauthorized:
		hint = "Jira rejected the credentials: check email and token (or token_file); a Cloud API token needs the account's email, a Data Center personal access token needs no email"
	case http.StatusForbidden:
		hint = "Jira refused access: check email and token, and that the account may browse the projects and boards"
	case http.StatusGone:
		hint = "Jira Cloud removed this API: set flavor = \"cloud\" (or \"auto\")"
	case http.StatusBadRequest:
		hint = "Jira rejected the request (check the JQL, projects, boards and fields in the configuration)"
	case http.StatusNotFound:
		hint = "not found (check url, flavor, boards and projects)"
	default:
		hint = "Jira rejected the request"
	}
	return collectors.Permanent(fmt.Errorf("jira source %q: %s: %w", c.source, hint, aerr))
}

// retryAfter reads when to come back: Retry-After in seconds, else the ISO
// time of X-RateLimit-Reset ("2006-01-02T15:04Z" on Jira, unlike GitHub's
// epoch seconds).
func (c *client) retryAfter(h http.Header) (time.Duration, bool) {
	if h == nil {
		return 0, false
	}
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			return time.Duration(n) * time.Second, true
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(0, t.Sub(c.now())), true
		}
	}
	if v := strings.TrimSpace(h.Get("X-RateLimit-Reset")); v != "" {
		for _, layout := range []string{"2006-01-02T15:04Z07:00", "2006-01-02T15:04Z", time.RFC3339} {
			if t, err := time.Parse(layout, v); err == nil {
				return max(0, t.Sub(c.now())), true
			}
		}
	}
	return 0, false
}

// backoff is the wait before retry attempt+1: base*2^attempt, capped, with
// jitter in [d/2, d].
func (c *client) backoff(attempt int) time.Duration {
	d := time.Duration(float64(c.baseBackoff) * math.Pow(2, float64(attempt)))
	if d > c.maxBackoff || d <= 0 {
		d = c.maxBackoff
	}
	return time.Duration(float64(d) * (0.5 + 0.5*c.rnd()))
}

// observeRateLimit exports the last rate-limit headers Jira sent.
func (c *client) observeRateLimit(h http.Header) {
	if c.metrics == nil {
		return
	}
	if v, err := strconv.ParseFloat(h.Get("X-RateLimit-Remaining"), 64); err == nil {
		c.metrics.RateLimitRemaining.WithLabelValues(c.source, "api").Set(v)
	}
	if v, err := strconv.ParseFloat(h.Get("X-RateLimit-Limit"), 64); err == nil {
		c.metrics.RateLimitLimit.WithLabelValues(c.source, "api").Set(v)
	}
}

// isStatus reports whether err is an API error with the given status.
func isStatus(err error, status int) bool {
	var ae *apiError
	return errors.As(err, &ae) && ae.Status == status
}
