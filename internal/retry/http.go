package retry

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxAdvice bounds a wait read from a header: a day is more than any API
// means, and the bound keeps the multiplication from overflowing.
const maxAdvice = 24 * time.Hour

// ParseRetryAfter reads a Retry-After header (RFC 9110): delay-seconds or an
// HTTP date. ok is false when the header is absent or malformed; a date in
// the past is a wait of 0. The wait is capped at a day.
func ParseRetryAfter(v string, now time.Time) (wait time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		return time.Duration(min(n, int64(maxAdvice/time.Second))) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), maxAdvice), true
	}
	return 0, false
}

// ParseResetISO reads Jira's X-RateLimit-Reset: an ISO 8601 time to the
// minute, "2006-01-02T15:04Z" (also with an offset, or with seconds). Jira
// sends it with 429s; it is not GitHub's epoch seconds.
func ParseResetISO(v string) (time.Time, bool) {
	v = strings.TrimSpace(v)
	for _, layout := range []string{"2006-01-02T15:04Z07:00", "2006-01-02T15:04Z", time.RFC3339} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// ParseResetEpoch reads GitHub's x-ratelimit-reset: the end of the rate-limit
// window in UTC epoch seconds.
func ParseResetEpoch(v string) (time.Time, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}, false
	}
	return time.Unix(n, 0), true
}

// Until is the wait until t, 0 when t has passed, capped like a header's.
func Until(t, now time.Time) time.Duration {
	return min(max(t.Sub(now), 0), maxAdvice)
}

// Classify tells whether an HTTP error answer is worth retrying and how long
// the server asked to wait:
//
//   - 429 Too Many Requests and the 5xx answers except 501 Not Implemented
//     are retried, after their Retry-After if they carry one;
//   - a 403 that carries a Retry-After is a rate limit (Jira and GitHub both
//     answer some with 403), retried after it; without one it is a refusal;
//   - any other status is the request's fault and not retried.
//
// Source-specific headers (Jira's ISO X-RateLimit-Reset, GitHub's
// x-ratelimit-remaining and its secondary-limit message) are the caller's.
func Classify(status int, h http.Header, now time.Time) Verdict {
	wait, advised := ParseRetryAfter(h.Get("Retry-After"), now)
	switch {
	case status == http.StatusTooManyRequests,
		status >= 500 && status <= 599 && status != http.StatusNotImplemented,
		status == http.StatusForbidden && advised:
		if advised {
			return After(wait)
		}
		return Again()
	}
	return GiveUp
}
