package jira

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/internal/retry"
	jm "github.com/okrd/okrd/metrics/jira"
	"github.com/okrd/okrd/sandbox/jirafake"
	"github.com/okrd/okrd/store"
)

func q(v float64) *float64 { return &v }

// fixtureEnv is the fixture on a fake that pages by 2 issues and inlines
// at most 4 changelog histories.
func fixtureEnv(t *testing.T, flavor jirafake.Flavor, mod func(*Spec)) *env {
	clk := newClock(now)
	f := fixture(flavor, clk)
	f.PageCap = 2
	f.InlineChangelog = 4
	return newEnv(t, f, clk, mod)
}

func TestFullSyncOfBothFlavours(t *testing.T) {
	for _, flavor := range []jirafake.Flavor{jirafake.Cloud, jirafake.DataCenter} {
		t.Run(string(flavor), func(t *testing.T) {
			e := fixtureEnv(t, flavor, nil)
			e.mustPoll()

			search := "search/jql"
			if flavor == jirafake.DataCenter {
				search = "search"
			}
			// 6 PAY issues in pages of 2: 3 searches; PAY-2 (5 histories)
			// and PAY-6 (6) have more than the 4 inlined: one bulkfetch
			// on Cloud, 2 changelog reads on Data Center; the board is a
			// project board of a synced project, so its sprints need no
			// issue lists. The end of the full pass counts the issues
			// older than history: approximate-count on Cloud, one more
			// search on Data Center.
			want := map[string]int{
				"serverInfo": 1, "myself": 1, "status": 1, "field": 1,
				"agile/board": 1, "agile/board/configuration": 1, "filter": 1,
				search: 3, "agile/board/sprint": 1,
			}
			if flavor == jirafake.Cloud {
				want["changelog/bulkfetch"] = 1
				want["approximate-count"] = 1
			} else {
				want["changelog"] = 2
				want[search]++
			}
			if got := e.fake.Requests(); !maps.Equal(got, want) {
				t.Errorf("requests = %v\nwant       %v", got, want)
			}
			if n := e.countRecords(KindIssue); n != 6 {
				t.Errorf("stored %d issues, want 6", n)
			}
			if n := e.countRecords(KindSprint); n != 2 {
				t.Errorf("stored %d sprints, want 2", n)
			}

			// The two time formats: issue times come as
			// "2006-01-02T15:04:05.000-0800" (the user is in Los Angeles),
			// sprint dates as RFC3339.
			if got := e.issue("PAY-1").Created; !got.Equal(d(-30)) || got.Location() != time.UTC {
				t.Errorf("PAY-1 created = %v, want %v in UTC", got, d(-30))
			}
			e.src.mu.RLock()
			sp, _ := e.src.model.Sprint(1)
			e.src.mu.RUnlock()
			if sp == nil || !sp.Start.Equal(d(-20)) || !sp.Complete.Equal(d(-6)) || sp.State != "closed" {
				t.Errorf("sprint 1 = %+v, want start -20 and completion -6", sp)
			}
			// The truncated changelogs were read in full.
			if got := e.issue("PAY-2"); len(got.Transitions) != 3 || len(got.SprintChanges) != 2 {
				t.Errorf("PAY-2 has %d transitions and %d sprint changes, want 3 and 2", len(got.Transitions), len(got.SprintChanges))
			}
			// The story-point change, matched by fieldId on Cloud and by
			// the field's name on Data Center.
			wantPoints := []jm.PointChange{{At: d(-12), Field: jirafake.FieldStoryPoints, From: fp(3), To: fp(5)}}
			if got := e.issue("PAY-1").PointChanges; !reflect.DeepEqual(got, wantPoints) {
				t.Errorf("PAY-1 point changes = %+v, want %+v", got, wantPoints)
			}
			if got := e.issue("PAY-6"); len(got.Transitions) != 2 || got.Status.Category != jm.CategoryDone {
				t.Errorf("PAY-6 = %+v, want 2 transitions, done", got)
			}

			days := func(x float64) float64 { return x * day.Seconds() }
			tests := []struct {
				name string
				kr   config.KeyResult
				want float64
			}{
				// Done in the last 28 days: PAY-1 (-10), PAY-2 (-2),
				// PAY-3 (-7); PAY-6 was done at -40.
				{"throughput", config.KeyResult{Metric: "throughput", WindowDuration: 28 * day}, 3},
				{"bug throughput", config.KeyResult{Metric: "throughput", WindowDuration: 28 * day, IssueTypes: []string{"Bug"}}, 1},
				// The period started at -10: PAY-1 done exactly then is
				// not in it.
				{"throughput over the period", config.KeyResult{Metric: "throughput", Window: "period"}, 2},
				// Lead times 3 (PAY-3), 20 (PAY-1), 23 (PAY-2) days.
				{"median lead time", config.KeyResult{Metric: "lead_time", WindowDuration: 28 * day}, days(20)},
				// Cycle times 2 days less an hour (PAY-3), 5 (PAY-1), 10
				// (PAY-2); p85 at rank 1.7: 5 + 0.7*(10-5) = 8.5 days.
				{"median cycle time", config.KeyResult{Metric: "cycle_time", WindowDuration: 28 * day}, days(5)},
				{"p85 cycle time", config.KeyResult{Metric: "cycle_time", WindowDuration: 28 * day, Quantile: q(0.85)}, days(8.5)},
				{"work in progress", config.KeyResult{Metric: "wip"}, 1},
				{"WIP age", config.KeyResult{Metric: "wip_age"}, days(3)},
				// Created in the last 28 days: PAY-2, PAY-3, PAY-4.
				{"inflow", config.KeyResult{Metric: "inflow", WindowDuration: 28 * day}, 3},
				{"project scope", config.KeyResult{Metric: "inflow", WindowDuration: 28 * day, Scope: "PAY"}, 3},
				{"board scope", config.KeyResult{Metric: "throughput", WindowDuration: 28 * day, Scope: "board:1"}, 3},
				// PAY-5's children: PAY-1 and PAY-2 done, PAY-4 not: 2/3;
				// by points (5+5)/(5+5+2).
				{"epic progress", config.KeyResult{Metric: "epic_progress", Epic: "PAY-5"}, 2.0 / 3},
				{"epic progress by points", config.KeyResult{Metric: "epic_progress", Epic: "PAY-5", By: "points"}, 10.0 / 12},
				// Sprint 1: committed PAY-1 and PAY-2 (3 + 5 points at
				// the start), completed PAY-1 (5 points by then), added
				// PAY-3 (unestimated, done): velocity 5, say/do 1/2 and
				// 5/8.
				{"sprint commitment", config.KeyResult{Metric: "sprint_commitment"}, 2},
				{"sprint commitment by points", config.KeyResult{Metric: "sprint_commitment", By: "points", Scope: "board:1"}, 8},
				{"sprint completed", config.KeyResult{Metric: "sprint_completed"}, 1},
				{"sprint added", config.KeyResult{Metric: "sprint_added"}, 1},
				{"velocity", config.KeyResult{Metric: "velocity"}, 5},
				{"say/do", config.KeyResult{Metric: "sprint_say_do_ratio"}, 0.5},
				{"say/do by points", config.KeyResult{Metric: "sprint_say_do_ratio", By: "points"}, 0.625},
				{"JQL count", config.KeyResult{Metric: "jql_count", Query: "project = PAY AND issuetype = Bug"}, 1},
				// A live JQL scope: PAY-1, PAY-2, PAY-3, PAY-6 of six done.
				{"progress of a JQL scope", config.KeyResult{Metric: "epic_progress", Query: "project = PAY"}, 4.0 / 6},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					kr := tt.kr
					m := e.value(&kr)
					if m.Err != nil || !m.OK || !near(m.Value, tt.want) {
						t.Errorf("measurement = %+v, want %v", m, tt.want)
					}
				})
			}
		})
	}
}

func near(a, b float64) bool { return a-b < 1e-6 && b-a < 1e-6 }

func TestIncrementalPollAsksOnlyForChanges(t *testing.T) {
	e := fixtureEnv(t, jirafake.Cloud, nil)
	e.mustPoll()
	e.fake.ResetRequests()
	e.requestURLs()

	// Nothing changed: one search, and the board's sprints (the cheap
	// check of what discovery learned is not due before an hour).
	e.clk.Set(now.Add(30 * time.Minute))
	e.mustPoll()
	want := map[string]int{"search/jql": 1, "agile/board/sprint": 1}
	if got := e.fake.Requests(); !maps.Equal(got, want) {
		t.Errorf("requests of an idle poll = %v, want %v", got, want)
	}
	// The cursor is the start of the last pass (12:30Z) minus the 5m
	// overlap, written in the user's time zone (Los Angeles, UTC-8).
	var jql string
	for _, u := range e.requestURLs() {
		if strings.Contains(u, "/search/jql") {
			v, _ := url.ParseRequestURI(u)
			jql = v.Query().Get("jql")
		}
	}
	wantJQL := `(project in ("PAY")) AND (updated >= "2026-03-01 04:25") ORDER BY created ASC, key ASC`
	if jql != wantJQL {
		t.Errorf("jql = %s\nwant  %s", jql, wantJQL)
	}

	// PAY-4 is done after that poll: the next one sees it.
	e.fake.ResetRequests()
	must(e.fake.Transition("PAY-4", jirafake.StatusDone, now.Add(90*time.Minute)))
	e.clk.Set(now.Add(2 * time.Hour))
	e.mustPoll()
	if got := e.fake.Requests()["search/jql"]; got != 1 {
		t.Errorf("searches = %d, want 1", got)
	}
	if m := e.value(&config.KeyResult{Metric: "wip"}); m.Value != 0 {
		t.Errorf("wip after PAY-4 is done = %v, want 0", m.Value)
	}
	// Throughput in the last 28 days: PAY-1, PAY-2, PAY-3 and now PAY-4.
	if m := e.value(&config.KeyResult{Metric: "throughput", WindowDuration: 28 * day}); m.Value != 4 {
		t.Errorf("throughput = %v, want 4", m.Value)
	}
	if n := e.countRecords(KindIssue); n != 6 {
		t.Errorf("stored %d issues, want 6 (upserts, no duplicates)", n)
	}
}

func TestMalformedPageFailsThePollAndTheNextResumes(t *testing.T) {
	for _, flavor := range []jirafake.Flavor{jirafake.Cloud, jirafake.DataCenter} {
		t.Run(string(flavor), func(t *testing.T) {
			e := fixtureEnv(t, flavor, nil)
			route := "search/jql"
			if flavor == jirafake.DataCenter {
				route = "search"
			}
			// The second page is cut off in the middle.
			e.fake.FailNext(1, jirafake.Fault{Malformed: true, Route: route, After: 1})
			err := e.poll()
			if err == nil || !strings.Contains(err.Error(), "malformed") || collectors.IsPermanent(err) {
				t.Fatalf("poll = %v, want a malformed-answer error that is not permanent", err)
			}
			// The first page (PAY-5, PAY-6 by creation) is stored with a
			// cursor that resumes after it; nothing of the second.
			if n := e.countRecords(KindIssue); n != 2 {
				t.Errorf("after the failed poll %d issues are stored, want 2", n)
			}
			cur, ok, _ := e.st.Cursor(context.Background(), "jira", cursorIssues)
			var cs cursorState
			_ = json.Unmarshal([]byte(cur), &cs)
			if !ok || cs.Pass == nil || !cs.Pass.Full || !cs.Pass.After.Equal(d(-40)) {
				t.Errorf("cursor = %s, want a full pass resuming after -40 (PAY-5)", cur)
			}

			// A restart continues where it stopped: from the creation time
			// of PAY-5 (which it reads again, harmlessly), not from the
			// beginning.
			e.src = e.newSource()
			e.fake.ResetRequests()
			e.requestURLs()
			e.mustPoll()
			var first string
			for _, u := range e.requestURLs() {
				if strings.Contains(u, "/search") {
					v, _ := url.ParseRequestURI(u)
					first = v.Query().Get("jql")
					break
				}
			}
			if !strings.Contains(first, `AND created >= "2026-01-20 04:30"`) {
				t.Errorf("resumed jql = %s, want it to start at PAY-5's creation (2026-01-20 12:30Z, 04:30 in Los Angeles)", first)
			}
			// PAY-5 and PAY-1..4 in pages of 2 (PAY-6 is older than the
			// resume point): 3 searches, and on Data Center one more to
			// count the issues older than history at the end.
			wantSearches := 3
			if flavor == jirafake.DataCenter {
				wantSearches++
			}
			if got := e.fake.Requests()[route]; got != wantSearches {
				t.Errorf("resumed searches = %d, want %d", got, wantSearches)
			}
			if n := e.countRecords(KindIssue); n != 6 {
				t.Errorf("stored %d issues, want 6", n)
			}
			if m := e.value(&config.KeyResult{Metric: "throughput", WindowDuration: 28 * day}); m.Value != 3 {
				t.Errorf("throughput = %v, want 3", m.Value)
			}
		})
	}
}

func TestRestartServesFromTheStoreWithoutRequests(t *testing.T) {
	e := fixtureEnv(t, jirafake.Cloud, nil)
	e.mustPoll()
	e.src = e.newSource()
	e.fake.ResetRequests()
	if m := e.value(&config.KeyResult{Metric: "velocity"}); !m.OK || m.Value != 5 {
		t.Errorf("velocity after a restart = %+v, want 5", m)
	}
	if m := e.value(&config.KeyResult{Metric: "throughput", WindowDuration: 28 * day}); m.Value != 3 {
		t.Errorf("throughput after a restart = %+v, want 3", m)
	}
	if got := e.fake.Requests(); len(got) != 0 {
		t.Errorf("measuring after a restart made requests: %v", got)
	}
}

func TestForcedResyncNeverEmptiesWhatIsServed(t *testing.T) {
	e := fixtureEnv(t, jirafake.Cloud, nil)
	e.mustPoll()
	e.clk.Set(now.Add(time.Hour))
	e.src.Resync()
	e.fake.ResetRequests()
	// The re-read fails on its second page.
	e.fake.FailNext(1, jirafake.Fault{Malformed: true, Route: "search/jql", After: 1})
	if err := e.poll(); err == nil {
		t.Fatal("poll succeeded, want the malformed page to fail it")
	}
	// Everything is still served, from memory and from the store.
	if m := e.value(&config.KeyResult{Metric: "throughput", WindowDuration: 28 * day}); m.Value != 3 {
		t.Errorf("throughput during the re-sync = %v, want 3", m.Value)
	}
	if n := e.countRecords(KindIssue); n != 6 {
		t.Errorf("stored %d issues during the re-sync, want 6", n)
	}
	// The re-sync goes on at the next poll and completes.
	e.fake.ResetRequests()
	e.mustPoll()
	cur, _, _ := e.st.Cursor(context.Background(), "jira", cursorIssues)
	var cs cursorState
	_ = json.Unmarshal([]byte(cur), &cs)
	if cs.Pass != nil || !cs.LastFull.Equal(now.Add(time.Hour)) {
		t.Errorf("cursor after the re-sync = %s, want a complete full pass started at +1h", cur)
	}
	// It re-read the site metadata and boards, and all the history.
	if got := e.fake.Requests(); got["myself"] != 1 || got["agile/board"] != 1 {
		t.Errorf("requests = %v, want the metadata and boards read again", got)
	}
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name   string
		flavor jirafake.Flavor
		fault  jirafake.Fault
		n      int
		mod    func(*Spec)
		// check inspects the poll's error and the waits between retries.
		check func(t *testing.T, err error, waits []time.Duration)
	}{
		{
			name: "429 with Retry-After is waited out and retried", flavor: jirafake.Cloud,
			fault: jirafake.Fault{Status: 429, RetryAfter: 7, Route: "search/jql"}, n: 1,
			check: func(t *testing.T, err error, waits []time.Duration) {
				if err != nil || !slices.Equal(waits, []time.Duration{7 * time.Second}) {
					t.Errorf("err = %v, waits = %v; want success after waiting 7s", err, waits)
				}
			},
		},
		{
			name: "429 on a page fetched ahead pauses the pipeline until Retry-After and the poll succeeds", flavor: jirafake.Cloud,
			fault: jirafake.Fault{Status: 429, RetryAfter: 7, Route: "search/jql", After: 1}, n: 1,
			check: func(t *testing.T, err error, waits []time.Duration) {
				if err != nil || !slices.Equal(waits, []time.Duration{7 * time.Second}) {
					t.Errorf("err = %v, waits = %v; want success after waiting 7s", err, waits)
				}
			},
		},
		{
			name: "429 asking for longer than a poll may wait ends the poll with a RetryAfterError", flavor: jirafake.Cloud,
			fault: jirafake.Fault{Status: 429, RetryAfter: 3600, Route: "search/jql"}, n: 1,
			check: func(t *testing.T, err error, waits []time.Duration) {
				var ra *collectors.RetryAfterError
				if !errors.As(err, &ra) || !ra.Until.Equal(now.Add(time.Hour)) || len(waits) != 0 {
					t.Errorf("err = %v, waits = %v; want a RetryAfterError until +1h without waiting", err, waits)
				}
			},
		},
		{
			name: "403 with Retry-After is a rate limit: waited out and retried, and the poll succeeds", flavor: jirafake.Cloud,
			fault: jirafake.Fault{Status: 403, RetryAfter: 7, Route: "search/jql"}, n: 1,
			check: func(t *testing.T, err error, waits []time.Duration) {
				if err != nil || !slices.Equal(waits, []time.Duration{7 * time.Second}) {
					t.Errorf("err = %v, waits = %v; want success after waiting 7s", err, waits)
				}
			},
		},
		{
			name: "403 with a Retry-After longer than a poll may wait ends the poll with a RetryAfterError, not permanently", flavor: jirafake.DataCenter,
			fault: jirafake.Fault{Status: 403, RetryAfter: 3600}, n: 1,
			check: func(t *testing.T, err error, waits []time.Duration) {
				var ra *collectors.RetryAfterError
				if !errors.As(err, &ra) || !ra.Until.Equal(now.Add(time.Hour)) || collectors.IsPermanent(err) || len(waits) != 0 ||
					!strings.Contains(err.Error(), `jira source "jira"`) || !strings.Contains(err.Error(), "HTTP 403") {
					t.Errorf("err = %v, waits = %v; want a transient RetryAfterError until +1h naming the source, without waiting", err, waits)
				}
			},
		},
		{
			name: "503 with Retry-After is waited out, not backed off", flavor: jirafake.Cloud,
			fault: jirafake.Fault{Status: 503, RetryAfter: 12, Route: "search/jql"}, n: 2,
			check: func(t *testing.T, err error, waits []time.Duration) {
				if err != nil || !slices.Equal(waits, []time.Duration{12 * time.Second, 12 * time.Second}) {
					t.Errorf("err = %v, waits = %v; want success after waiting 12s twice", err, waits)
				}
			},
		},
		{
			name: "5xx is retried with exponential backoff", flavor: jirafake.DataCenter,
			fault: jirafake.Fault{Status: 503, Route: "search"}, n: 2,
			check: func(t *testing.T, err error, waits []time.Duration) {
				// Backoff 1s, 2s (the jitter is fixed at its maximum).
				if err != nil || !slices.Equal(waits, []time.Duration{time.Second, 2 * time.Second}) {
					t.Errorf("err = %v, waits = %v; want success after 1s and 2s", err, waits)
				}
			},
		},
		{
			name: "5xx beyond the retries fails the poll, not permanently", flavor: jirafake.Cloud,
			fault: jirafake.Fault{Status: 500, Route: "search/jql"}, n: 4,
			check: func(t *testing.T, err error, waits []time.Duration) {
				if err == nil || collectors.IsPermanent(err) || len(waits) != 3 || !strings.Contains(err.Error(), "HTTP 500") {
					t.Errorf("err = %v, waits = %v; want a transient HTTP 500 error after 3 retries", err, waits)
				}
			},
		},
		{
			name: "401 is a permanent configuration error naming the source", flavor: jirafake.Cloud,
			mod: func(s *Spec) { s.Token = "wrong" },
			check: func(t *testing.T, err error, waits []time.Duration) {
				if !collectors.IsPermanent(err) || !strings.Contains(err.Error(), `jira source "jira"`) ||
					!strings.Contains(err.Error(), "check email and token") || len(waits) != 0 {
					t.Errorf("err = %v, waits = %v; want a permanent error naming the source and the credentials", err, waits)
				}
			},
		},
		{
			name: "403 without Retry-After is a permanent configuration error", flavor: jirafake.DataCenter,
			fault: jirafake.Fault{Status: 403}, n: 1,
			check: func(t *testing.T, err error, waits []time.Duration) {
				if !collectors.IsPermanent(err) || !strings.Contains(err.Error(), "HTTP 403") {
					t.Errorf("err = %v; want a permanent HTTP 403 error", err)
				}
			},
		},
		{
			name: "the old search answers 410 on Cloud", flavor: jirafake.Cloud,
			mod: func(s *Spec) { s.Flavor = FlavorServer },
			check: func(t *testing.T, err error, waits []time.Duration) {
				if !collectors.IsPermanent(err) || !strings.Contains(err.Error(), "HTTP 410") || !strings.Contains(err.Error(), `flavor = "cloud"`) {
					t.Errorf("err = %v; want a permanent 410 error suggesting the flavour", err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := fixtureEnv(t, tt.flavor, tt.mod)
			if tt.n > 0 {
				e.fake.FailNext(tt.n, tt.fault)
			}
			err := e.poll()
			tt.check(t, err, e.clk.Waits())
			if err != nil {
				for _, s := range []string{err.Error(), e.logs.String()} {
					if strings.Contains(s, testToken) {
						t.Errorf("the token leaked: %s", s)
					}
				}
			}
		})
	}
}

func TestARetryAfterBeyondThePollsDeadlineEndsThePollUntilThen(t *testing.T) {
	e := fixtureEnv(t, jirafake.Cloud, nil)
	e.fake.FailNext(1, jirafake.Fault{Status: 403, RetryAfter: 45, Route: "search/jql"})
	// 45s is within the minute a poll may wait, but not within this poll's
	// 30s budget (which the test never waits for).
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := e.src.Poll(ctx)
	var ra *collectors.RetryAfterError
	if !errors.As(err, &ra) || collectors.IsPermanent(err) || len(e.clk.Waits()) != 0 {
		t.Fatalf("poll = %v after waits %v; want a RetryAfterError without waiting", err, e.clk.Waits())
	}
	if want := e.clk.Now().Add(45 * time.Second); !ra.Until.Equal(want) {
		t.Errorf("retry after %v, want %v", ra.Until, want)
	}
	// At that time the poll succeeds.
	e.clk.Set(ra.Until)
	e.mustPoll()
}

func TestNetworkErrorsAreRetried(t *testing.T) {
	e := fixtureEnv(t, jirafake.Cloud, nil)
	// The next two searches get no answer at all.
	e.base = &flaky{fail: 2, path: "/search/jql"}
	e.src = e.newSource()
	if err := e.poll(); err != nil {
		t.Fatalf("poll = %v, want success after the retries", err)
	}
	if waits := e.clk.Waits(); !slices.Equal(waits, []time.Duration{time.Second, 2 * time.Second}) {
		t.Errorf("waits = %v, want 1s and 2s", waits)
	}
	if got := counterValue(e.met.Requests.WithLabelValues("jira", "error")); got != 2 {
		t.Errorf("requests without an answer = %v, want 2", got)
	}
}

func TestRateLimitHeadersAreExported(t *testing.T) {
	e := fixtureEnv(t, jirafake.Cloud, nil)
	e.mustPoll()
	// The fake counts down from 1000 per request: 13 requests so far
	// (4 metadata, 3 board, 3 searches, 1 bulkfetch, 1 sprint list, 1
	// approximate count).
	if got := gaugeValue(e.met.RateLimitRemaining.WithLabelValues("jira", "api")); got != 987 {
		t.Errorf("rate limit remaining = %v, want 987", got)
	}
	if got := gaugeValue(e.met.RateLimitLimit.WithLabelValues("jira", "api")); got != 1000 {
		t.Errorf("rate limit = %v, want 1000", got)
	}
	if got := counterValue(e.met.Requests.WithLabelValues("jira", "200")); got != 13 {
		t.Errorf("requests with code 200 = %v, want 13", got)
	}
}

func TestRetryAfterHeaders(t *testing.T) {
	c := &client{clock: newClock(now)}
	tests := []struct {
		name    string
		status  int
		headers map[string]string
		want    retry.Verdict
	}{
		{"Retry-After in seconds", 429, map[string]string{"Retry-After": "30"}, retry.After(30 * time.Second)},
		// Jira's reset is an ISO time to the minute: 12:45Z is 15 minutes
		// after 12:30Z.
		{"X-RateLimit-Reset as an ISO time", 429, map[string]string{"X-RateLimit-Reset": "2026-03-01T12:45Z"}, retry.After(15 * time.Minute)},
		{"Retry-After wins over the reset", 429, map[string]string{"Retry-After": "5", "X-RateLimit-Reset": "2026-03-01T12:45Z"}, retry.After(5 * time.Second)},
		{"a reset in the past is now", 429, map[string]string{"X-RateLimit-Reset": "2026-03-01T12:00Z"}, retry.After(0)},
		{"no header: the backoff", 429, map[string]string{}, retry.Again()},
		{"an epoch reset is not Jira's format", 429, map[string]string{"X-RateLimit-Reset": "1772368200"}, retry.Again()},
		{"a 403 with Retry-After is a rate limit", 403, map[string]string{"Retry-After": "30"}, retry.After(30 * time.Second)},
		{"a 403 with only a reset is a refusal", 403, map[string]string{"X-RateLimit-Reset": "2026-03-01T12:45Z"}, retry.GiveUp},
		{"a 503 with Retry-After waits for it", 503, map[string]string{"Retry-After": "30"}, retry.After(30 * time.Second)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.headers {
				h.Set(k, v)
			}
			if got := c.classify(tt.status, h); got != tt.want {
				t.Errorf("classify(%d) = %+v; want %+v", tt.status, got, tt.want)
			}
		})
	}
}

func TestJQLErrorsOfKeyResults(t *testing.T) {
	tests := []struct {
		name   string
		flavor jirafake.Flavor
		query  string
		want   string
	}{
		{"Cloud rejects unbounded JQL", jirafake.Cloud, "ORDER BY created DESC", "Unbounded JQL"},
		{"an unknown field names itself", jirafake.DataCenter, "project = PAY AND mood = happy", "Field 'mood' does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := fixtureEnv(t, tt.flavor, nil)
			e.mustPoll()
			m := e.value(&config.KeyResult{Metric: "jql_count", Query: tt.query})
			if m.Err == nil || m.OK || !strings.Contains(m.Err.Error(), tt.want) || !collectors.IsPermanent(m.Err) {
				t.Errorf("measurement = %+v, want a permanent error with %q", m, tt.want)
			}
		})
	}
	// Data Center counts an unbounded JQL (all 8 issues) with one request.
	e := fixtureEnv(t, jirafake.DataCenter, nil)
	e.mustPoll()
	e.fake.ResetRequests()
	if m := e.value(&config.KeyResult{Metric: "jql_count", Query: "ORDER BY created DESC"}); m.Value != 8 {
		t.Errorf("count = %+v, want 8", m)
	}
	if got := e.fake.Requests()["search"]; got != 1 {
		t.Errorf("count requests = %d, want 1 (maxResults=0)", got)
	}
}

func TestIncidentsAreStoredForOtherSources(t *testing.T) {
	e := fixtureEnv(t, jirafake.Cloud, func(s *Spec) { s.IncidentsJQL = "project = OPS AND issuetype = Incident" })
	e.mustPoll()
	got := map[string]collectors.Incident{}
	err := e.st.Records(context.Background(), "jira", collectors.IncidentKind, func(r store.Record) error {
		var inc collectors.Incident
		if err := json.Unmarshal(r.Data, &inc); err != nil {
			return err
		}
		got[r.ID] = inc
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	closed := d(-2)
	want := map[string]collectors.Incident{
		"OPS-1": {ID: "OPS-1", Title: "Checkout down", Scope: "OPS", OpenedAt: d(-3), ClosedAt: &closed, URL: e.srv.URL + "/browse/OPS-1"},
		"OPS-2": {ID: "OPS-2", Title: "Slow refunds", Scope: "OPS", OpenedAt: d(-1), URL: e.srv.URL + "/browse/OPS-2"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("incidents =\n%+v\nwant\n%+v", got, want)
	}
	// Incidents are not issues of the source's scope.
	if n := e.countRecords(KindIssue); n != 6 {
		t.Errorf("issues = %d, want 6", n)
	}
}

func TestFilterBoardAndIssuesOutsideTheScope(t *testing.T) {
	clk := newClock(now)
	f := fixture(jirafake.Cloud, clk)
	// Board 7 selects by label across projects. Its closed sprint 70 held
	// PAY-1 and WEB-1, a project the source does not sync.
	f.AddBoard(jirafake.Board{ID: 7, Name: "Checkout squad", Type: "scrum", Project: "PAY", EstimationField: jirafake.FieldStoryPoints}, "labels = checkout ORDER BY Rank ASC")
	f.AddSprint(jirafake.Sprint{ID: 70, Board: 7, Name: "Squad 1", State: "closed", Start: tp(d(-16)), End: tp(d(-9)), CompleteDate: tp(d(-9))})
	must(f.SetLabels("PAY-1", []string{"checkout"}, d(-16).Add(-time.Hour)))
	must(f.SetSprints("PAY-1", []int{1, 70}, d(-16).Add(-time.Hour)))
	f.AddIssue(&jirafake.Issue{Key: "WEB-1", Project: "WEB", Type: "Story", Created: d(-18), Labels: []string{"checkout"}, Custom: map[string]any{jirafake.FieldStoryPoints: 2.0}})
	must(f.SetSprints("WEB-1", []int{70}, d(-17)))
	must(f.Transition("WEB-1", jirafake.StatusDone, d(-11)))
	e := newEnv(t, f, clk, func(s *Spec) { s.Boards = []int{1, 7} })
	e.mustPoll()

	// The label board's issues come from a key-only search by filter; its
	// closed sprint is listed once and WEB-1 fetched with its changelog.
	reqs := e.fake.Requests()
	if reqs["agile/sprint/issue"] != 1 || reqs["search/jql"] != 3 {
		t.Errorf("requests = %v, want 1 sprint issue list and 3 searches (scope, board filter, WEB-1)", reqs)
	}
	if is := e.issue("WEB-1"); !is.Outside {
		t.Errorf("WEB-1 = %+v, want it marked outside the scope", is)
	}
	if got := e.issue("PAY-1").Boards; !slices.Equal(got, []int{7}) {
		t.Errorf("PAY-1 boards = %v, want [7]", got)
	}
	// Throughput of board 7: PAY-1 only (WEB-1 is outside the scope).
	if m := e.value(&config.KeyResult{Metric: "throughput", WindowDuration: 28 * day, Scope: "board:7"}); m.Value != 1 {
		t.Errorf("board 7 throughput = %v, want 1", m.Value)
	}
	// Sprint 70 (-16 to -9): PAY-1 (5 points since -12, done -10) and
	// WEB-1 (2 points, done -11) committed and completed: velocity 7.
	if m := e.value(&config.KeyResult{Metric: "velocity", Scope: "board:7"}); m.Value != 7 {
		t.Errorf("board 7 velocity = %+v, want 7", m)
	}
	// Without a scope the sprint metrics cannot choose between two boards.
	if m := e.value(&config.KeyResult{Metric: "velocity"}); m.Err == nil || !strings.Contains(m.Err.Error(), "board:<id>") {
		t.Errorf("velocity without a scope = %+v, want an error asking for a board", m)
	}

	// PAY-1 loses the label: it leaves board 7 at the next poll.
	must(f.SetLabels("PAY-1", nil, now.Add(30*time.Minute)))
	e.clk.Set(now.Add(time.Hour))
	e.fake.ResetRequests()
	e.mustPoll()
	if got := e.issue("PAY-1").Boards; len(got) != 0 {
		t.Errorf("PAY-1 boards = %v, want none", got)
	}
	if got := e.fake.Requests()["agile/sprint/issue"]; got != 0 {
		t.Errorf("the listed sprint was listed again (%d requests)", got)
	}
}

func TestMemoryDoesNotGrowWithPolls(t *testing.T) {
	e := fixtureEnv(t, jirafake.Cloud, nil)
	e.quiet = true
	e.src = e.newSource()
	e.mustPoll()
	heap := func() uint64 { return heapAfterGC() }
	for i := range 20 {
		e.clk.Set(now.Add(time.Duration(i+1) * time.Minute))
		e.mustPoll()
	}
	before := heap()
	for i := range 200 {
		e.clk.Set(now.Add(time.Duration(i+21) * time.Minute))
		e.mustPoll()
	}
	after := heap()
	// 200 polls may not leave more than 64 KiB behind (noise of the
	// runtime and the database driver), far below what keeping anything
	// of each poll (its pages are several KiB) would add.
	if after > before+64<<10 {
		t.Errorf("heap grew from %d to %d bytes over 200 idle polls", before, after)
	}
}
