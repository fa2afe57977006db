package notify

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/prometheus/common/version"

	"github.com/okrd/okrd/internal/retry"
)

// maxErrorBody bounds how much of a failed response is read for the error
// message: enough for Slack's "invalid_payload" or Alertmanager's
// validation message, not a whole HTML error page.
const maxErrorBody = 1024

// UserAgent is sent with every notification request.
func UserAgent() string { return "okrd/" + version.Version }

// PostJSON posts body to rawURL as JSON with the extra headers and
// classifies the outcome by okrd's retry policy: a 2xx is success; a 5xx,
// a 429 and a request that got no response are worth retrying (honouring
// Retry-After); any other status is not. redacted is how the URL may
// appear in an error (see RedactURL).
//
// A redirect is never followed, whatever client says: it is an error (not
// retried) that names where it pointed. Following it would send the
// request's credentials (an Authorization header, an HMAC signature, a
// routing key) to whatever the Location names; Go drops only
// Authorization, and only on a redirect to another host.
func PostJSON(ctx context.Context, client *http.Client, rawURL, redacted string, body []byte, header http.Header) (retryable bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		// The URL was validated when the config was loaded; the message of
		// this error would repeat it, so it is not used.
		return false, &Error{Reason: ReasonOther, Err: fmt.Errorf("POST %s: cannot build the request", redacted)}
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent())
	resp, err := withoutRedirects(client).Do(req)
	if err != nil {
		return true, requestError(http.MethodPost, redacted, err)
	}
	defer resp.Body.Close()
	return CheckResponse(resp, http.MethodPost, redacted, time.Now())
}

// withoutRedirects returns a copy of client that hands a redirect back as
// the response instead of following it.
func withoutRedirects(client *http.Client) *http.Client {
	if client == nil {
		client = http.DefaultClient
	}
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// CheckResponse classifies a received response (see PostJSON) and drains
// a bounded part of its body so that the connection can be reused. A
// redirect is a client error that names the scheme and host it points to
// (never its path or query, which may carry a token).
func CheckResponse(resp *http.Response, method, redacted string, now time.Time) (retryable bool, err error) {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return false, nil
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		to := "no Location"
		if loc, err := resp.Location(); err == nil {
			to = "a redirect to " + RedactURL(loc.String())
		}
		return false, &Error{Reason: ReasonClientError, StatusCode: resp.StatusCode,
			Err: fmt.Errorf("%s %s: HTTP %d, %s, not followed: a redirect could carry the receiver's credentials elsewhere; set its url to the final address",
				method, redacted, resp.StatusCode, to)}
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	msg := fmt.Sprintf("%s %s: HTTP %d", method, redacted, resp.StatusCode)
	if s := scrub(string(b), 200); s != "" {
		msg += ": " + s
	}
	e := &Error{StatusCode: resp.StatusCode, Err: fmt.Errorf("%s", msg)}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		e.Reason = ReasonRateLimited
		e.RetryAfter, _ = retry.ParseRetryAfter(resp.Header.Get("Retry-After"), now)
		return true, e
	case resp.StatusCode >= 500:
		e.Reason = ReasonServerError
		e.RetryAfter, _ = retry.ParseRetryAfter(resp.Header.Get("Retry-After"), now)
		return true, e
	default:
		e.Reason = ReasonClientError
		return false, e
	}
}
