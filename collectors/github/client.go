package github

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/internal/retry"
)

// client talks to one GitHub: REST through go-github, GraphQL with plain
// HTTP POSTs, both over the same transport chain (auth, rate limiter,
// request counter).
type client struct {
	gh         *gh.Client
	http       *http.Client
	graphqlURL string
	lim        *limiter
	source     string
	clock      retry.Clock
	// attempts is how often a request is tried within one poll, after a
	// transient failure (5xx, network, malformed answer) or a short rate
	// limit; retryBase is the first backoff.
	attempts  int
	retryBase time.Duration
}

// errNotFound is a 404 (REST) or NOT_FOUND (GraphQL): a repository or
// owner that does not exist or that the token cannot see.
var errNotFound = errors.New("not found or not visible to the token")

// errInvalidCursor is a GraphQL cursor GitHub no longer accepts (a resumed
// sync then starts over).
var errInvalidCursor = errors.New("GraphQL cursor no longer valid")

// retry runs fn until it succeeds, by okrd's retry policy: transient
// failures again after exponential backoff with jitter, rate limits and a
// 5xx with Retry-After after the wait GitHub asked for when it is short, all
// bounded by ctx. A long rate-limit wait becomes a RetryAfterError, a
// rejected token a Permanent error.
func (c *client) retry(ctx context.Context, what string, fn func(ctx context.Context) error) error {
	policy := retry.Policy{
		Initial: c.retryBase, Max: 30 * time.Second, Attempts: c.attempts, MaxWait: c.lim.maxInlineWait, Clock: c.clock,
	}
	err := policy.Do(ctx, func(ctx context.Context, _ int) (retry.Verdict, error) {
		err := fn(ctx)
		switch {
		case err == nil:
			return retry.Verdict{}, nil
		case ctx.Err() != nil:
			return retry.GiveUp, ctx.Err()
		}
		if until, ok := c.rateLimitUntil(err); ok {
			return retry.After(until.Sub(c.clock.Now())), err
		}
		switch {
		case status(err) == http.StatusUnauthorized:
			return retry.GiveUp, collectors.Permanent(fmt.Errorf("github source %q: %s: GitHub rejected the credentials (401 Bad credentials); check token, token_file or the GitHub App settings", c.source, what))
		case collectors.IsPermanent(err):
			return retry.GiveUp, err
		case transient(err):
			// Poll names the source and the repository.
			return retry.Again(), fmt.Errorf("%s: %w", what, err)
		}
		return retry.GiveUp, fmt.Errorf("%s: %w", what, err)
	})
	if le, ok := retry.IsLater(err); ok {
		return &collectors.RetryAfterError{Until: le.Until, Err: fmt.Errorf("github source %q: %s: %w", c.source, what, le.Err)}
	}
	return err
}

// rateLimitUntil tells whether err is a rate limit and until when.
func (c *client) rateLimitUntil(err error) (time.Time, bool) {
	var rl *rateLimitedError
	if errors.As(err, &rl) {
		return rl.Until, true
	}
	// go-github remembers rate limits inside its Client and may answer
	// with them without a request; they cannot normally reach here (the
	// limiter intercepts rate-limit answers first) but mean the same.
	var grl *gh.RateLimitError
	if errors.As(err, &grl) {
		return grl.Rate.Reset.Time, true
	}
	var abuse *gh.AbuseRateLimitError
	if errors.As(err, &abuse) {
		if abuse.RetryAfter != nil {
			return c.clock.Now().Add(*abuse.RetryAfter), true
		}
		return c.clock.Now().Add(time.Minute), true
	}
	return time.Time{}, false
}

// status returns the HTTP status of an error answer, or 0.
func status(err error) int {
	var er *gh.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode
	}
	var he *httpStatusError
	if errors.As(err, &he) {
		return he.status
	}
	return 0
}

// transient tells whether trying again soon may succeed: server errors,
// network errors and answers cut short or garbled on the way.
func transient(err error) bool {
	if s := status(err); s != 0 {
		return s >= 500
	}
	var syn *json.SyntaxError
	var ute *json.UnmarshalTypeError
	var ue *url.Error
	return errors.As(err, &syn) || errors.As(err, &ute) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, errMalformed) || errors.As(err, &ue)
}

// errMalformed is an answer that is not the JSON expected.
var errMalformed = errors.New("malformed answer")

// get is one REST GET through go-github. With etag set it is a conditional
// request: notModified reports a 304 (which go-github returns as an
// *ErrorResponse), costing no rate-limit budget.
func (c *client) get(ctx context.Context, path string, q url.Values, etag string, v any) (resp *gh.Response, notModified bool, err error) {
	u := path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := c.gh.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, false, err
	}
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	resp, err = c.gh.Do(ctx, req, v)
	if err != nil {
		if status(err) == http.StatusNotModified {
			return resp, true, nil
		}
		if status(err) == http.StatusNotFound {
			return resp, false, errNotFound
		}
		return resp, false, err
	}
	return resp, false, nil
}

// getRetry is get with retries.
func (c *client) getRetry(ctx context.Context, path string, q url.Values, etag string, v any) (resp *gh.Response, notModified bool, err error) {
	err = c.retry(ctx, "GET "+path, func(ctx context.Context) error {
		resp, notModified, err = c.get(ctx, path, q, etag, v)
		return err
	})
	return resp, notModified, err
}

// graphQLError is one error of a GraphQL answer.
type graphQLError struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// rateLimitInfo is GraphQL's rateLimit object, which every query asks for.
type rateLimitInfo struct {
	Cost      int       `json:"cost"`
	Limit     int       `json:"limit"`
	Remaining int       `json:"remaining"`
	ResetAt   time.Time `json:"resetAt"`
}

// graphql posts one query and decodes its data into out. GraphQL answers
// errors with 200: a RATE_LIMITED error is the primary limit, NOT_FOUND a
// missing repository; the rateLimit object of the answer updates the
// GraphQL budget.
func (c *client) graphql(ctx context.Context, query string, vars map[string]any, out any) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.graphqlURL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var m struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(data, &m)
		return &httpStatusError{status: resp.StatusCode, err: fmt.Errorf("POST %s: %d %s", c.graphqlURL, resp.StatusCode, firstLine(m.Message))}
	}
	var env struct {
		Data   json.RawMessage `json:"data"`
		Errors []graphQLError  `json:"errors"`
	}
	if err := json.Unmarshal(data, &env); err != nil {
		return fmt.Errorf("POST %s: %w: %v", c.graphqlURL, errMalformed, err)
	}
	for _, e := range env.Errors {
		switch e.Type {
		case "RATE_LIMITED", "RATE_LIMIT":
			// The primary GraphQL limit: wait for the reset the headers
			// gave (x-ratelimit-remaining may not even read 0).
			now := c.clock.Now()
			until := now.Add(time.Minute)
			if reset, ok := retry.ParseResetEpoch(resp.Header.Get("X-RateLimit-Reset")); ok && reset.After(now) {
				until = reset.Add(time.Second)
			}
			rl := &rateLimitedError{Resource: "graphql", Until: until, Status: http.StatusOK, Message: firstLine(e.Message)}
			c.lim.block(rl)
			return rl
		case "NOT_FOUND":
			return fmt.Errorf("%s: %w", firstLine(e.Message), errNotFound)
		case "INVALID_CURSOR_ARGUMENTS":
			return errInvalidCursor
		}
	}
	if len(env.Errors) > 0 {
		msgs := make([]string, len(env.Errors))
		for i, e := range env.Errors {
			msgs[i] = firstLine(e.Message)
		}
		return fmt.Errorf("GraphQL query failed: %s", strings.Join(msgs, "; "))
	}
	if len(env.Data) == 0 || string(env.Data) == "null" {
		return fmt.Errorf("POST %s: %w: no data", c.graphqlURL, errMalformed)
	}
	var rl struct {
		RateLimit *rateLimitInfo `json:"rateLimit"`
	}
	if json.Unmarshal(env.Data, &rl) == nil && rl.RateLimit != nil && rl.RateLimit.Limit > 0 {
		c.lim.setBudget("graphql", rl.RateLimit.Limit, rl.RateLimit.Remaining, rl.RateLimit.ResetAt)
	}
	if err := json.Unmarshal(env.Data, out); err != nil {
		return fmt.Errorf("POST %s: %w: %v", c.graphqlURL, errMalformed, err)
	}
	return nil
}

// graphqlRetry is graphql with retries.
func (c *client) graphqlRetry(ctx context.Context, what, query string, vars map[string]any, out any) error {
	return c.retry(ctx, what, func(ctx context.Context) error { return c.graphql(ctx, query, vars, out) })
}
