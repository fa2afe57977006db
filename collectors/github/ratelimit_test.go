package github

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/sandbox/githubfake"
)

// reset is the rate-limit reset of the fake's first window at testNow.
var reset = time.Unix(testNow.Add(time.Hour).Unix(), 0)

func TestRateLimits(t *testing.T) {
	tests := []struct {
		name  string
		fault githubfake.Fault
		// until is when the poll must come back; zero: the poll succeeds.
		until time.Time
		// sleeps are the waits done inside the poll.
		sleeps []time.Duration
	}{
		{"a primary REST limit as 403 waits for the reset",
			githubfake.Fault{Kind: githubfake.FaultPrimaryLimit, Path: "/repos/acme/web/pulls", Status: http.StatusForbidden},
			reset.Add(time.Second), nil},
		{"a primary REST limit as 429 waits for the reset (go-github v60 sees a plain ErrorResponse)",
			githubfake.Fault{Kind: githubfake.FaultPrimaryLimit, Path: "/repos/acme/web/pulls", Status: http.StatusTooManyRequests},
			reset.Add(time.Second), nil},
		{"a primary GraphQL limit is a RATE_LIMITED error in a 200",
			githubfake.Fault{Kind: githubfake.FaultPrimaryLimit, Path: "/graphql"},
			reset.Add(time.Second), nil},
		{"a primary GraphQL limit as 403",
			githubfake.Fault{Kind: githubfake.FaultPrimaryLimit, Path: "/graphql", Status: http.StatusForbidden},
			reset.Add(time.Second), nil},
		{"a secondary limit with a long Retry-After ends the poll until then",
			githubfake.Fault{Kind: githubfake.FaultSecondaryLimit, Path: "/graphql", Status: http.StatusForbidden, RetryAfter: 120},
			testNow.Add(120 * time.Second), nil},
		{"a secondary limit as 429 without Retry-After backs off a minute",
			githubfake.Fault{Kind: githubfake.FaultSecondaryLimit, Path: "/repos/acme/web/deployments", Status: http.StatusTooManyRequests},
			testNow.Add(time.Minute), nil},
		{"a secondary limit as 403 without Retry-After backs off a minute",
			githubfake.Fault{Kind: githubfake.FaultSecondaryLimit, Path: "/repos/acme/web/issues", Status: http.StatusForbidden},
			testNow.Add(time.Minute), nil},
		{"a 503 with a long Retry-After ends the poll until then",
			githubfake.Fault{Kind: githubfake.FaultStatus, Path: "/graphql", Status: http.StatusServiceUnavailable, RetryAfter: 120},
			testNow.Add(120 * time.Second), nil},
		{"a 503 with a short Retry-After is waited out inside the poll, not backed off",
			githubfake.Fault{Kind: githubfake.FaultStatus, Path: "/repos/acme/web/deployments", Status: http.StatusServiceUnavailable, RetryAfter: 3},
			time.Time{}, []time.Duration{3 * time.Second}},
		{"a short Retry-After is waited out inside the poll",
			githubfake.Fault{Kind: githubfake.FaultSecondaryLimit, Path: "/graphql", Status: http.StatusTooManyRequests, RetryAfter: 2},
			time.Time{}, []time.Duration{2 * time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.fake.Update(fixture)
			e.start()
			e.fake.Inject(tc.fault)
			err := e.poll()
			if tc.until.IsZero() {
				if err != nil {
					t.Fatalf("poll: %v", err)
				}
				if len(e.sleeps()) != len(tc.sleeps) || (len(tc.sleeps) > 0 && e.sleeps()[0] != tc.sleeps[0]) {
					t.Errorf("sleeps = %v, want %v", e.sleeps(), tc.sleeps)
				}
				e.mustValue("deployment_count", "acme/web", 3)
				return
			}
			var ra *collectors.RetryAfterError
			if !errors.As(err, &ra) {
				t.Fatalf("poll = %v, want a RetryAfterError", err)
			}
			if !ra.Until.Equal(tc.until) {
				t.Errorf("retry after %v, want %v", ra.Until, tc.until)
			}
			if !strings.Contains(err.Error(), `github source "gh"`) {
				t.Errorf("error %q does not name the source", err)
			}
			// Until then, okrd does not ask again: the next poll ends
			// without a request for that resource.
			e.fake.ResetRequests()
			err = e.poll()
			if !errors.As(err, &ra) {
				t.Fatalf("second poll = %v, want a RetryAfterError", err)
			}
			if n := len(e.fake.Requests()); n > 3 {
				t.Errorf("second poll made %d requests while limited: %v", n, e.paths())
			}
			// Afterwards the sync completes.
			e.clock.advance(tc.until.Sub(testNow) + time.Second)
			e.mustPoll()
			e.mustValue("deployment_count", "acme/web", 3)
		})
	}
}

func TestConsecutiveSecondaryLimitsBackOffLonger(t *testing.T) {
	e := newEnv(t)
	e.fake.Update(fixture)
	e.start()
	var ra *collectors.RetryAfterError
	for i, want := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute} {
		e.fake.Inject(githubfake.Fault{Kind: githubfake.FaultSecondaryLimit, Status: http.StatusForbidden})
		if err := e.poll(); !errors.As(err, &ra) {
			t.Fatalf("poll %d = %v, want a RetryAfterError", i, err)
		}
		if got := ra.Until.Sub(e.clock.now()); got != want {
			t.Errorf("secondary limit %d: back off %v, want %v", i+1, got, want)
		}
		e.clock.advance(want)
	}
	e.mustPoll()
}

func TestTransientFailuresAreRetried(t *testing.T) {
	tests := []struct {
		name  string
		fault githubfake.Fault
	}{
		{"502 from GraphQL twice", githubfake.Fault{Kind: githubfake.FaultStatus, Path: "/graphql", Status: http.StatusBadGateway, Times: 2}},
		{"503 from REST", githubfake.Fault{Kind: githubfake.FaultStatus, Path: "/repos/acme/web/issues", Status: http.StatusServiceUnavailable}},
		{"a malformed GraphQL answer", githubfake.Fault{Kind: githubfake.FaultMalformed, Path: "/graphql"}},
		{"a malformed REST answer", githubfake.Fault{Kind: githubfake.FaultMalformed, Path: "/repos/acme/web/pulls"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.fake.Update(fixture)
			e.start()
			e.fake.Inject(tc.fault)
			e.mustPoll()
			if want := max(tc.fault.Times, 1); len(e.sleeps()) != want {
				t.Errorf("backoff sleeps = %v, want %d", e.sleeps(), want)
			}
			e.mustValue("deployment_count", "acme/web", 3)
		})
	}
}

func TestPersistentFailures(t *testing.T) {
	tests := []struct {
		name      string
		fault     githubfake.Fault
		permanent bool
		contains  string
	}{
		{"a server that keeps failing is an error after a few tries",
			githubfake.Fault{Kind: githubfake.FaultStatus, Path: "/graphql", Status: http.StatusInternalServerError, Times: 100}, false, "500"},
		{"a bad token is permanent",
			githubfake.Fault{Kind: githubfake.FaultStatus, Status: http.StatusUnauthorized, Times: 100}, true, "401 Bad credentials"},
		{"a 403 that is not a rate limit is a plain error",
			githubfake.Fault{Kind: githubfake.FaultStatus, Path: "/repos/acme/web/pulls", Status: http.StatusForbidden, Times: 100}, false, "403"},
		{"a missing repository is permanent when it is the only one",
			githubfake.Fault{Kind: githubfake.FaultStatus, Path: "/repos/acme/web/pulls", Status: http.StatusNotFound, Times: 100}, true, "not found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.fake.Update(fixture)
			e.start()
			e.fake.Inject(tc.fault)
			err := e.poll()
			if err == nil {
				t.Fatal("poll succeeded")
			}
			var ra *collectors.RetryAfterError
			if errors.As(err, &ra) {
				t.Fatalf("poll = %v, want no RetryAfterError", err)
			}
			if collectors.IsPermanent(err) != tc.permanent {
				t.Errorf("permanent = %v, want %v: %v", collectors.IsPermanent(err), tc.permanent, err)
			}
			if !strings.Contains(err.Error(), tc.contains) || !strings.Contains(err.Error(), `github source "gh"`) {
				t.Errorf("error %q does not say %q and name the source", err, tc.contains)
			}
			if strings.Contains(err.Error(), testToken) || strings.Contains(e.logs.String(), testToken) {
				t.Errorf("the token leaked into an error or a log line")
			}
		})
	}
}

func TestAFailingRepositoryDoesNotStopTheOthers(t *testing.T) {
	e := newEnv(t)
	e.fake.Update(fixture)
	e.spec.Repos = []string{"acme/gone", "acme/web"}
	e.start()
	err := e.poll()
	if err == nil || collectors.IsPermanent(err) || !strings.Contains(err.Error(), "acme/gone") {
		t.Fatalf("poll = %v, want a non-permanent error naming acme/gone", err)
	}
	e.mustValue("deployment_count", "acme/web", 3)
}

func TestReserveIsKeptAndTheEndOfTheBudgetPaced(t *testing.T) {
	t.Run("at the reserve the source waits for the reset", func(t *testing.T) {
		e := newEnv(t)
		e.fake.Update(fixture)
		e.start()
		// 201 left and a reserve of 200: one request, then wait.
		e.fake.SetRemaining("core", 201, 30*time.Minute)
		err := e.poll()
		var ra *collectors.RetryAfterError
		if !errors.As(err, &ra) || !strings.Contains(err.Error(), "reserve") {
			t.Fatalf("poll = %v, want a RetryAfterError for the reserve", err)
		}
		if want := testNow.Add(30 * time.Minute).Add(time.Second); !ra.Until.Equal(want) {
			t.Errorf("retry after %v, want %v", ra.Until, want)
		}
		if rest, _ := e.requests(); rest != 1 {
			t.Errorf("REST requests = %d, want 1: %v", rest, e.paths())
		}
	})
	t.Run("the last tenth above the reserve is spread over the window", func(t *testing.T) {
		e := newEnv(t)
		e.fake.Update(fixture)
		e.start()
		// 251 left, 100 seconds to the reset, reserve 200: after the first
		// request 50 are usable, one every 100s/50 = 2s (the fake clock
		// stands still, so every wait is the full interval).
		e.fake.SetRemaining("core", 251, 100*time.Second)
		e.mustPoll()
		if len(e.sleeps()) == 0 {
			t.Fatal("no pacing")
		}
		for _, d := range e.sleeps() {
			if d < 2*time.Second || d > 2200*time.Millisecond {
				t.Errorf("paced wait %v, want about 2s (100s over the usable budget)", d)
			}
		}
	})
}

func TestBudgetAndRequestsAreExported(t *testing.T) {
	e := newEnv(t)
	e.fake.Update(fixture)
	e.start()
	e.mustPoll()
	e.mustPoll()
	// Poll 1: core 4 (pulls, deployments, D5's statuses, issues) of 5000;
	// GraphQL 3 + 1 points. Poll 2 spends nothing (304s).
	if got := testutil.ToFloat64(e.metrics.RateLimitRemaining.WithLabelValues("gh", "core")); got != 4996 {
		t.Errorf("core remaining = %v, want 4996", got)
	}
	if got := testutil.ToFloat64(e.metrics.RateLimitRemaining.WithLabelValues("gh", "graphql")); got != 4996 {
		t.Errorf("graphql remaining = %v, want 4996", got)
	}
	if got := testutil.ToFloat64(e.metrics.RateLimitLimit.WithLabelValues("gh", "core")); got != 5000 {
		t.Errorf("core limit = %v, want 5000", got)
	}
	if got := testutil.ToFloat64(e.metrics.Requests.WithLabelValues("gh", "304")); got != 4 {
		t.Errorf("304 answers = %v, want 4", got)
	}
	if got := testutil.ToFloat64(e.metrics.Requests.WithLabelValues("gh", "200")); got != 6 {
		t.Errorf("200 answers = %v, want 6", got)
	}
}
