package jira

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	gojira "github.com/andygrunwald/go-jira"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/internal/retry"
)

// client makes the source's API requests through go-jira's client and
// authentication transports, and adds what go-jira leaves to its callers
// (API-FACTS.md §3), by okrd's one retry policy (internal/retry): retries of
// 429, of 5xx and of network errors with exponential backoff and jitter, and
// of a 403 or 503 that carries Retry-After (a rate limit, not a refusal),
// after Retry-After or the ISO time in X-RateLimit-Reset, all bounded by the
// context; permanent errors for rejected credentials and bad requests; the
// rate-limit headers as metrics.
type client struct {
	source  string // the source name, for errors
	jc      *gojira.Client
	metrics *collectors.Metrics

	maxRetries int
	// baseBackoff is the first backoff; it doubles per attempt up to
	// maxBackoff. maxWait is the longest Retry-After waited for within a
	// poll; a longer one ends the poll with a RetryAfterError.
	baseBackoff, maxBackoff, maxWait time.Duration

	// The clock of the waits and the jitter's random source (tests fix
	// both).
	clock retry.Clock
	rnd   func() float64

	// pausedUntil holds back every request of the source until the end of
	// the last rate limit Jira announced (Retry-After, X-RateLimit-Reset):
	// a prefetch runs requests side by side, and each would otherwise run
	// into the limit on its own.
	pauseMu     sync.Mutex
	pausedUntil time.Time
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
		clock: retry.System, rnd: rand.Float64,
	}, nil
}

// policy is the retry policy of one request.
func (c *client) policy() retry.Policy {
	return retry.Policy{
		Initial: c.baseBackoff, Max: c.maxBackoff, Attempts: c.maxRetries + 1, MaxWait: c.maxWait,
		Rand: c.rnd, Clock: c.clock,
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

// rawBody receives an answer's body undecoded, for the caller to split
// (see members) and decode.
type rawBody struct{ data []byte }

// get sends a GET and decodes the JSON answer into v (a *rawBody keeps
// it undecoded).
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
	raw, _ := v.(*rawBody)
	if raw != nil {
		v = nil
	}
	err := c.policy().Do(ctx, func(ctx context.Context, _ int) (retry.Verdict, error) {
		if err := c.awaitPause(ctx, short); err != nil {
			return retry.GiveUp, err
		}
		req, err := c.jc.NewRequestWithContext(ctx, method, path, body)
		if err != nil {
			return retry.GiveUp, fmt.Errorf("jira source %q: %s: %w", c.source, short, err)
		}
		req.Header.Set("Accept", "application/json")
		resp, err := c.jc.Do(req, v)
		var status int
		if resp != nil && resp.Response != nil {
			status = resp.StatusCode
			c.observeRateLimit(resp.Header)
		}
		if err == nil && raw != nil {
			// go-jira leaves the body of a success to the caller when it
			// has nothing to decode into.
			raw.data, err = io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if err != nil {
				if ctx.Err() != nil {
					return retry.GiveUp, fmt.Errorf("jira source %q: %s: %w", c.source, short, ctx.Err())
				}
				return retry.Again(), fmt.Errorf("jira source %q: %s: reading the answer: %s", c.source, short, err.Error())
			}
		}
		if err == nil {
			return retry.Verdict{}, nil
		}
		if ctx.Err() != nil {
			return retry.GiveUp, fmt.Errorf("jira source %q: %s: %w", c.source, short, ctx.Err())
		}
		if status == 0 {
			// A network error: no answer at all.
			return retry.Again(), fmt.Errorf("jira source %q: %s: %s", c.source, short, err.Error())
		}
		if status >= 200 && status < 300 {
			// The status was fine but the body did not decode: a
			// malformed answer. Retrying would most likely get the same
			// answer; the poll fails and the next one starts over.
			return retry.GiveUp, fmt.Errorf("jira source %q: %s: malformed answer: %w", c.source, short, err)
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
		msg := errorMessage(b)
		verdict := c.classify(status, resp.Header)
		if verdict.Advised {
			c.pause(verdict.After)
		}
		switch {
		case verdict.Retry:
			return verdict, fmt.Errorf("jira source %q: %w", c.source, &apiError{Status: status, Path: short, Message: msg})
		case status < 500:
			return retry.GiveUp, c.permanent(status, short, msg)
		default:
			return retry.GiveUp, fmt.Errorf("jira source %q: %w", c.source, &apiError{Status: status, Path: short, Message: msg})
		}
	})
	if le, ok := retry.IsLater(err); ok {
		// Jira said when to come back, later than this poll may wait: the
		// scheduler polls again then.
		return &collectors.RetryAfterError{Until: le.Until, Err: le.Err}
	}
	return err
}

// pause holds back the source's requests for d from now (never less than
// a pause already announced).
func (c *client) pause(d time.Duration) {
	until := c.clock.Now().Add(d)
	c.pauseMu.Lock()
	defer c.pauseMu.Unlock()
	if until.After(c.pausedUntil) {
		c.pausedUntil = until
	}
}

// awaitPause waits until a rate limit Jira announced has passed. A pause
// longer than a poll may wait (or than ctx allows) is a *retry.LaterError
// at once, as the request that met the limit got.
func (c *client) awaitPause(ctx context.Context, path string) error {
	c.pauseMu.Lock()
	until := c.pausedUntil
	c.pauseMu.Unlock()
	wait := until.Sub(c.clock.Now())
	if wait <= 0 {
		return nil
	}
	dl, hasDeadline := ctx.Deadline()
	if wait > c.maxWait || (hasDeadline && time.Until(dl) < wait) {
		return &retry.LaterError{Until: until, Err: fmt.Errorf("jira source %q: %s: held back by Jira's rate limit", c.source, path)}
	}
	t := c.clock.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C():
		return nil
	case <-ctx.Done():
		return fmt.Errorf("jira source %q: %s: %w", c.source, path, ctx.Err())
	}
}

// classify applies okrd's retry policy to an error answer and adds what is
// Jira's own: a 429 (or a retried 5xx) without Retry-After may still say
// when its rate limit resets, in X-RateLimit-Reset.
func (c *client) classify(status int, h http.Header) retry.Verdict {
	now := c.clock.Now()
	v := retry.Classify(status, h, now)
	if v.Retry && !v.Advised {
		if t, ok := retry.ParseResetISO(h.Get("X-RateLimit-Reset")); ok {
			return retry.After(retry.Until(t, now))
		}
	}
	return v
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
