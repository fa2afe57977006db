package github

import (
	"math"
	"testing"
	"time"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestDeploymentOutcome(t *testing.T) {
	st := func(state, ts string) DeploymentStatus { return DeploymentStatus{State: state, CreatedAt: at(ts)} }
	tests := []struct {
		name     string
		statuses []DeploymentStatus
		want     Outcome
		wantAt   string
	}{
		{"a deployment that succeeded is deployed at its success status",
			[]DeploymentStatus{st("queued", "2026-02-01T10:00:00Z"), st("in_progress", "2026-02-01T10:01:00Z"), st("success", "2026-02-01T10:05:00Z")},
			Succeeded, "2026-02-01T10:05:00Z"},
		{"a later inactive status does not undo a success",
			[]DeploymentStatus{st("success", "2026-02-01T10:05:00Z"), st("inactive", "2026-02-02T10:00:00Z")},
			Succeeded, "2026-02-01T10:05:00Z"},
		{"a later failure does not undo a success either (any success counts)",
			[]DeploymentStatus{st("success", "2026-02-01T10:05:00Z"), st("failure", "2026-02-01T11:00:00Z")},
			Succeeded, "2026-02-01T10:05:00Z"},
		{"two successes: the first one is the deploy time",
			[]DeploymentStatus{st("success", "2026-02-01T10:05:00Z"), st("success", "2026-02-01T12:00:00Z")},
			Succeeded, "2026-02-01T10:05:00Z"},
		{"the GraphQL API's upper-case states count the same",
			[]DeploymentStatus{st("IN_PROGRESS", "2026-02-01T10:00:00Z"), st("SUCCESS", "2026-02-01T10:02:00Z")},
			Succeeded, "2026-02-01T10:02:00Z"},
		{"newest status failure without success is a failure dated at that status",
			[]DeploymentStatus{st("in_progress", "2026-02-01T10:00:00Z"), st("failure", "2026-02-01T10:09:00Z")},
			Failed, "2026-02-01T10:09:00Z"},
		{"newest status error is a failure too",
			[]DeploymentStatus{st("pending", "2026-02-01T10:00:00Z"), st("error", "2026-02-01T10:03:00Z")},
			Failed, "2026-02-01T10:03:00Z"},
		{"a failure followed by a retry still in progress is not counted yet",
			[]DeploymentStatus{st("failure", "2026-02-01T10:00:00Z"), st("in_progress", "2026-02-01T10:30:00Z")},
			Ignored, ""},
		{"a deployment still in progress is not counted",
			[]DeploymentStatus{st("queued", "2026-02-01T10:00:00Z"), st("in_progress", "2026-02-01T10:01:00Z")},
			Ignored, ""},
		{"inactive without a success is not counted",
			[]DeploymentStatus{st("pending", "2026-02-01T10:00:00Z"), st("inactive", "2026-02-01T11:00:00Z")},
			Ignored, ""},
		{"a failure that was later marked inactive is not counted",
			[]DeploymentStatus{st("failure", "2026-02-01T10:00:00Z"), st("inactive", "2026-02-01T11:00:00Z")},
			Ignored, ""},
		{"a deployment without statuses is not counted", nil, Ignored, ""},
		{"of two statuses in the same second the later one listed is the newer",
			[]DeploymentStatus{st("in_progress", "2026-02-01T10:00:00Z"), st("failure", "2026-02-01T10:00:00Z")},
			Failed, "2026-02-01T10:00:00Z"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, gotAt := DeploymentOutcome(tc.statuses)
			if got != tc.want {
				t.Fatalf("outcome = %v, want %v", got, tc.want)
			}
			if tc.wantAt == "" {
				if !gotAt.IsZero() {
					t.Fatalf("time = %v, want none", gotAt)
				}
				return
			}
			if !gotAt.Equal(at(tc.wantAt)) {
				t.Fatalf("time = %v, want %v", gotAt, tc.wantAt)
			}
		})
	}
}

func TestReleaseAndWorkflowRunOutcome(t *testing.T) {
	pub := at("2026-02-01T10:00:00Z")
	tests := []struct {
		name string
		got  Outcome
		want Outcome
	}{
		{"a published release is a successful deployment", first(ReleaseOutcome(false, false, pub)), Succeeded},
		{"a draft release is ignored", first(ReleaseOutcome(true, false, time.Time{})), Ignored},
		{"a prerelease is ignored", first(ReleaseOutcome(false, true, pub)), Ignored},
		{"a successful completed run is a success", first(WorkflowRunOutcome("completed", "success", pub)), Succeeded},
		{"a failed run is a failure", first(WorkflowRunOutcome("completed", "failure", pub)), Failed},
		{"a timed out run is a failure", first(WorkflowRunOutcome("completed", "timed_out", pub)), Failed},
		{"a run that failed to start is a failure", first(WorkflowRunOutcome("completed", "startup_failure", pub)), Failed},
		{"a cancelled run is ignored", first(WorkflowRunOutcome("completed", "cancelled", pub)), Ignored},
		{"a skipped run is ignored", first(WorkflowRunOutcome("completed", "skipped", pub)), Ignored},
		{"a run in progress is ignored", first(WorkflowRunOutcome("in_progress", "", pub)), Ignored},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Fatalf("outcome = %v, want %v", tc.got, tc.want)
			}
		})
	}
}

func first(o Outcome, _ time.Time) Outcome { return o }

func TestFirstReview(t *testing.T) {
	r := func(author, state, ts string) Review {
		rv := Review{Author: author, State: state}
		if ts != "" {
			rv.SubmittedAt = at(ts)
		}
		return rv
	}
	tests := []struct {
		name    string
		author  string
		reviews []Review
		want    string
	}{
		{"the first review by another person counts", "alice",
			[]Review{r("bob", "COMMENTED", "2026-02-01T10:00:00Z"), r("carol", "APPROVED", "2026-02-01T11:00:00Z")}, "2026-02-01T10:00:00Z"},
		{"a review by the author is skipped, whatever its case", "alice",
			[]Review{r("Alice", "COMMENTED", "2026-02-01T09:00:00Z"), r("bob", "APPROVED", "2026-02-01T11:00:00Z")}, "2026-02-01T11:00:00Z"},
		{"a pending review has not been submitted", "alice",
			[]Review{r("bob", "PENDING", ""), r("carol", "CHANGES_REQUESTED", "2026-02-02T08:00:00Z")}, "2026-02-02T08:00:00Z"},
		{"a dismissed review was still a review", "alice",
			[]Review{r("bob", "DISMISSED", "2026-02-01T12:00:00Z")}, "2026-02-01T12:00:00Z"},
		{"a review by a deleted account counts", "alice",
			[]Review{r("", "APPROVED", "2026-02-01T12:00:00Z")}, "2026-02-01T12:00:00Z"},
		{"only the author reviewed: no first review", "alice",
			[]Review{r("alice", "COMMENTED", "2026-02-01T12:00:00Z")}, ""},
		{"out of order input still gives the earliest", "alice",
			[]Review{r("bob", "APPROVED", "2026-02-03T12:00:00Z"), r("carol", "COMMENTED", "2026-02-02T12:00:00Z")}, "2026-02-02T12:00:00Z"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := FirstReview(tc.author, tc.reviews)
			if tc.want == "" {
				if !got.IsZero() {
					t.Fatalf("first review = %v, want none", got)
				}
				return
			}
			if !got.Equal(at(tc.want)) {
				t.Fatalf("first review = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLevels(t *testing.T) {
	const h, d = 3600.0, 86400.0
	tests := []struct {
		name string
		got  Level
		want Level
	}{
		{"one deployment a day is elite", DeploymentFrequencyLevel(1), LevelElite},
		{"one a week is high", DeploymentFrequencyLevel(1.0 / 7), LevelHigh},
		{"just under one a week is medium", DeploymentFrequencyLevel(0.14), LevelMedium},
		{"one a month (30 days) is medium", DeploymentFrequencyLevel(1.0 / 30), LevelMedium},
		{"less than one a month is low", DeploymentFrequencyLevel(0.03), LevelLow},
		{"no deployments is low", DeploymentFrequencyLevel(0), LevelLow},
		{"lead time just under a day is elite", LeadTimeLevel(d - 1), LevelElite},
		{"lead time of exactly a day is high", LeadTimeLevel(d), LevelHigh},
		{"lead time of a week is medium", LeadTimeLevel(7 * d), LevelMedium},
		{"lead time of 30 days is low", LeadTimeLevel(30 * d), LevelLow},
		{"5% change failures is elite", ChangeFailureRateLevel(0.05), LevelElite},
		{"10% is high", ChangeFailureRateLevel(0.10), LevelHigh},
		{"15% is medium", ChangeFailureRateLevel(0.15), LevelMedium},
		{"16% is low", ChangeFailureRateLevel(0.16), LevelLow},
		{"restore under an hour is elite", TimeToRestoreLevel(h - 1), LevelElite},
		{"restore of an hour is high", TimeToRestoreLevel(h), LevelHigh},
		{"restore of a day is medium", TimeToRestoreLevel(d), LevelMedium},
		{"restore of a week is low", TimeToRestoreLevel(7 * d), LevelLow},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Fatalf("level = %v, want %v", tc.got, tc.want)
			}
		})
	}
}

// fixture is a small source of two repositories whose every metric is
// computed by hand in TestFixtureMetrics. now is 2026-03-01T00:00:00Z, so the
// 28-day window is (2026-02-01T00:00Z, 2026-03-01T00:00Z] and the 90-day
// window is (2025-12-01T00:00Z, 2026-03-01T00:00Z].
func fixture() Data {
	dep := func(repo, id string, statuses ...DeploymentStatus) Deployment {
		o, t := DeploymentOutcome(statuses)
		return Deployment{Repo: repo, ID: id, Outcome: o, At: t}
	}
	st := func(state, ts string) DeploymentStatus { return DeploymentStatus{State: state, CreatedAt: at(ts)} }
	rv := func(author, state, ts string) Review {
		r := Review{Author: author, State: state}
		if ts != "" {
			r.SubmittedAt = at(ts)
		}
		return r
	}
	pr := func(p PullRequest, author string, reviews ...Review) PullRequest {
		p.FirstReviewAt = FirstReview(author, reviews)
		return p
	}
	const web, api = "acme/web", "acme/api"
	return Data{
		Repos: []string{web, api},
		Deployments: []Deployment{
			dep(web, "D1", st("in_progress", "2026-01-20T09:50:00Z"), st("success", "2026-01-20T10:00:00Z")),
			dep(web, "D2", st("success", "2026-02-03T12:00:00Z")),
			dep(web, "D3", st("in_progress", "2026-02-05T08:50:00Z"), st("failure", "2026-02-05T09:00:00Z")),
			dep(web, "D4", st("success", "2026-02-10T12:00:00Z"), st("inactive", "2026-02-20T12:00:00Z")),
			dep(web, "D5", st("queued", "2026-02-27T12:00:00Z"), st("in_progress", "2026-02-27T12:01:00Z")),
			dep(web, "D6", st("success", "2026-02-20T12:00:00Z")),
			dep(web, "D7", st("pending", "2026-02-21T12:00:00Z"), st("inactive", "2026-02-21T13:00:00Z")),
			dep(api, "A1", st("success", "2026-02-18T00:00:00Z")),
		},
		Incidents: []Incident{
			// Two days after D4: blames D4.
			{ID: "web#1", Repo: web, OpenedAt: at("2026-02-12T12:00:00Z"), ClosedAt: at("2026-02-12T15:00:00Z")},
			// Nine days after D4, the latest deployment before it: outside
			// the 7-day attribution window, blames nothing.
			{ID: "web#2", Repo: web, OpenedAt: at("2026-02-19T12:00:00Z"), ClosedAt: at("2026-02-20T12:00:00Z")},
			// Blames D4 again, which stays one failed change.
			{ID: "web#3", Repo: web, OpenedAt: at("2026-02-13T00:00:00Z"), ClosedAt: at("2026-02-13T00:30:00Z")},
			// Five days after D1: blames D1 (outside the 28-day window).
			{ID: "web#4", Repo: web, OpenedAt: at("2026-01-25T00:00:00Z"), ClosedAt: at("2026-01-26T00:00:00Z")},
			// Still open.
			{ID: "web#5", Repo: web, OpenedAt: at("2026-02-27T00:00:00Z")},
			// An incident of the whole source (from Jira): the latest
			// successful deployment of any repository before it is D6
			// (web, Feb 20 12:00), not A1 (api, Feb 18).
			{ID: "OPS-1", OpenedAt: at("2026-02-21T00:00:00Z"), ClosedAt: at("2026-02-21T02:00:00Z")},
		},
		PullRequests: []PullRequest{
			// P1: the author's own review comes first and is skipped.
			pr(PullRequest{Repo: web, Number: 1, State: PRMerged, IntoDefault: true, CreatedAt: at("2026-02-01T10:00:00Z"),
				FirstCommitAt: at("2026-01-31T10:00:00Z"), MergedAt: at("2026-02-03T10:00:00Z"), Additions: 100, Deletions: 20},
				"alice", rv("alice", "COMMENTED", "2026-02-01T11:00:00Z"), rv("bob", "APPROVED", "2026-02-02T10:00:00Z")),
			// P2: no first commit known; the failed D3 does not deploy it.
			pr(PullRequest{Repo: web, Number: 2, State: PRMerged, IntoDefault: true, CreatedAt: at("2026-02-04T08:00:00Z"),
				MergedAt: at("2026-02-04T12:00:00Z"), Additions: 5, Deletions: 5}, "alice"),
			// P3: merged after the last successful deployment: never deployed.
			pr(PullRequest{Repo: web, Number: 3, State: PRMerged, IntoDefault: true, CreatedAt: at("2026-02-21T09:00:00Z"),
				FirstCommitAt: at("2026-02-21T08:00:00Z"), MergedAt: at("2026-02-22T09:00:00Z"), Additions: 300},
				"bob", rv("carol", "PENDING", ""), rv("carol", "APPROVED", "2026-02-21T21:00:00Z")),
			// P4: merged into a release branch: throughput, not lead time.
			pr(PullRequest{Repo: web, Number: 4, State: PRMerged, CreatedAt: at("2026-02-09T12:00:00Z"),
				MergedAt: at("2026-02-10T00:00:00Z"), Additions: 40, Deletions: 2}, "bob"),
			// P5: an open draft, reviewed.
			pr(PullRequest{Repo: web, Number: 5, State: PROpen, Draft: true, CreatedAt: at("2026-02-25T00:00:00Z")},
				"carol", rv("dave", "COMMENTED", "2026-02-26T00:00:00Z")),
			// P6: the oldest open pull request.
			pr(PullRequest{Repo: web, Number: 6, State: PROpen, CreatedAt: at("2026-01-10T00:00:00Z")}, "dave"),
			// P7: closed without merging, but reviewed.
			pr(PullRequest{Repo: web, Number: 7, State: PRClosed, CreatedAt: at("2026-02-14T00:00:00Z")},
				"dave", rv("erin", "CHANGES_REQUESTED", "2026-02-14T06:00:00Z")),
			// P8: merged in December, deployed by D1 on Jan 20.
			pr(PullRequest{Repo: web, Number: 8, State: PRMerged, IntoDefault: true, CreatedAt: at("2025-12-01T00:00:00Z"),
				MergedAt: at("2025-12-02T00:00:00Z"), Additions: 1}, "erin"),
			// P9: a first commit dated after its deployment (clock skew):
			// the negative lead time is clamped to 0.
			pr(PullRequest{Repo: web, Number: 9, State: PRMerged, IntoDefault: true, CreatedAt: at("2026-02-15T00:00:00Z"),
				FirstCommitAt: at("2026-02-20T13:00:00Z"), MergedAt: at("2026-02-20T11:00:00Z"), Additions: 1, Deletions: 1}, "erin"),
			// An api pull request merged the day before A1.
			pr(PullRequest{Repo: api, Number: 1, State: PRMerged, IntoDefault: true, CreatedAt: at("2026-02-16T00:00:00Z"),
				MergedAt: at("2026-02-17T00:00:00Z"), Additions: 10}, "frank"),
		},
	}
}

func TestFixtureMetrics(t *testing.T) {
	now := at("2026-03-01T00:00:00Z")
	ix := NewIndex(fixture())
	w28 := Last(28*24*time.Hour, now)
	w90 := Last(90*24*time.Hour, now)
	w7 := Last(7*24*time.Hour, now)
	type want struct {
		v  float64
		ok bool
	}
	some := func(v float64) want { return want{v, true} }
	none := want{}
	tests := []struct {
		name   string
		metric string
		repo   string
		w      Window
		q      float64
		want   want
	}{
		// Deployments of web in 28d: D2, D4, D6 succeeded; D3 failed; D5
		// (in progress) and D7 (inactive) are not counted; D1 is older.
		{"web deploys 3 times in 28 days", MetricDeploymentCount, "acme/web", w28, 0, some(3)},
		{"web deploys 3/28 times a day", MetricDeploymentFrequency, "acme/web", w28, 0, some(3.0 / 28)},
		// Failed changes: D3 (failed), D4 (blamed by web#1 and web#3, once),
		// D6 (blamed by OPS-1) = 3 of 4 counted deployments.
		{"web change failure rate is 3/4", MetricChangeFailureRate, "acme/web", w28, 0, some(0.75)},
		// A1 is api's only deployment and OPS-1 blamed D6, not A1.
		{"api change failure rate is 0/1", MetricChangeFailureRate, "acme/api", w28, 0, some(0)},
		// Whole source: 4 succeeded + 1 failed; 3 failed changes.
		{"the source change failure rate is 3/5", MetricChangeFailureRate, "", w28, 0, some(0.6)},
		{"the source deploys 4/28 times a day", MetricDeploymentFrequency, "", w28, 0, some(4.0 / 28)},
		// 90d adds D1 (succeeded, blamed by web#4): 4 succeeded + 1 failed,
		// failed changes D1, D3, D4, D6 = 4/5.
		{"web change failure rate over 90 days is 4/5", MetricChangeFailureRate, "acme/web", w90, 0, some(0.8)},
		// Lead times of web deployed in 28d:
		//   P1: D2 (Feb 3 12:00) - first commit Jan 31 10:00 = 3d2h = 266400
		//   P2: D4 (Feb 10 12:00, D3 failed) - created Feb 4 08:00 = 6d4h = 532800
		//   P9: D6 (Feb 20 12:00) - first commit Feb 20 13:00 = -1h -> 0
		// P3 is not deployed, P4 not into the default branch, P8 deployed
		// Jan 20 (outside). Sorted 0, 266400, 532800.
		{"web median lead time", MetricLeadTime, "acme/web", w28, 0.5, some(266400)},
		// p85: position 0.85*2 = 1.7: 266400 + 0.7*266400 = 452880.
		{"web p85 lead time", MetricLeadTime, "acme/web", w28, 0.85, some(452880)},
		// P8: D1 (Jan 20 10:00) - created Dec 1 00:00 = 50d10h = 4356000;
		// 90d: 0, 266400, 532800, 4356000 -> p50 = (266400+532800)/2.
		{"web median lead time over 90 days includes December's change", MetricLeadTime, "acme/web", w90, 0.5, some(399600)},
		// api: A1 (Feb 18 00:00) - created Feb 16 00:00 = 172800.
		{"api lead time", MetricLeadTime, "acme/api", w28, 0.5, some(172800)},
		// Nothing deployed in the last 7 days.
		{"no lead time without deployments in the window", MetricLeadTime, "acme/web", w7, 0.5, none},
		// Restore times of web incidents closed in 28d: web#3 1800, OPS-1
		// 7200, web#1 10800, web#2 86400 -> p50 (7200+10800)/2 = 9000.
		{"web median time to restore includes the source's incident", MetricTimeToRestore, "acme/web", w28, 0.5, some(9000)},
		// p95: position 0.95*3 = 2.85: 10800 + 0.85*(86400-10800) = 75060.
		{"web p95 time to restore", MetricTimeToRestore, "acme/web", w28, 0.95, some(75060)},
		{"api time to restore is OPS-1's", MetricTimeToRestore, "acme/api", w28, 0.5, some(7200)},
		{"the source counts OPS-1 once", MetricTimeToRestore, "", w28, 0.5, some(9000)},
		// Closed in 28d: web#1, web#2, web#3 and the source's OPS-1;
		// web#4 closed on Jan 26, web#5 is open.
		{"web resolved 4 incidents in 28 days", MetricIncidentsResolved, "acme/web", w28, 0, some(4)},
		{"api resolved the source's incident", MetricIncidentsResolved, "acme/api", w28, 0, some(1)},
		{"the source resolved 4 incidents, OPS-1 once", MetricIncidentsResolved, "", w28, 0, some(4)},
		{"over 90 days web#4 counts too", MetricIncidentsResolved, "acme/web", w90, 0, some(5)},
		// Nothing closed in (Feb 22, Mar 1]: a count of 0, not absent.
		{"no incident resolved in 7 days is a count of 0", MetricIncidentsResolved, "acme/web", w7, 0, some(0)},
		// Merged in 28d into any branch: P1, P2, P3, P4, P9.
		{"web merged 5 pull requests", MetricPRThroughput, "acme/web", w28, 0, some(5)},
		{"the source merged 6", MetricPRThroughput, "", w28, 0, some(6)},
		// Cycle: P2 14400, P4 43200, P3 86400, P1 172800, P9 5d11h = 471600.
		{"web median cycle time", MetricPRCycleTime, "acme/web", w28, 0.5, some(86400)},
		// p85: position 3.4: 172800 + 0.4*(471600-172800) = 292320.
		{"web p85 cycle time", MetricPRCycleTime, "acme/web", w28, 0.85, some(292320)},
		// Sizes: P9 2, P2 10, P4 42, P1 120, P3 300.
		{"web median size", MetricPRSize, "acme/web", w28, 0.5, some(42)},
		// p95: position 3.8: 120 + 0.8*180 = 264.
		{"web p95 size", MetricPRSize, "acme/web", w28, 0.95, some(264)},
		// First reviews in 28d: P7 21600, P3 43200, P1 86400 (bob, not the
		// author's own), P5 86400 -> p50 (43200+86400)/2 = 64800.
		{"web median time to first review", MetricTimeToFirstReview, "acme/web", w28, 0.5, some(64800)},
		{"web has two open pull requests", MetricOpenPRs, "acme/web", w28, 0, some(2)},
		// P5 is a draft, P6 is not.
		{"web has one open draft", MetricOpenDraftPRs, "acme/web", w28, 0, some(1)},
		{"the source has one open draft", MetricOpenDraftPRs, "", w28, 0, some(1)},
		{"api's open drafts are 0", MetricOpenDraftPRs, "acme/api", w28, 0, some(0)},
		// P6: Jan 10 to Mar 1 = 50 days = 4320000.
		{"web's oldest open pull request is 50 days old", MetricOldestOpenPRAge, "acme/web", w28, 0, some(4320000)},
		{"api has no open pull request", MetricOldestOpenPRAge, "acme/api", w28, 0, none},
		{"api's open pull requests are 0", MetricOpenPRs, "acme/api", w28, 0, some(0)},
		// 3/28 = 0.107 a day: at least monthly, less than weekly.
		{"web deployment frequency is medium", MetricLevelDeployFrequency, "acme/web", w28, 0, some(float64(LevelMedium))},
		// p50 266400 s = 3.1 days: under a week.
		{"web lead time is high", MetricLevelLeadTime, "acme/web", w28, 0, some(float64(LevelHigh))},
		{"web change failure rate is low", MetricLevelChangeFailureRate, "acme/web", w28, 0, some(float64(LevelLow))},
		// p50 9000 s = 2.5 h: under a day.
		{"web time to restore is high", MetricLevelTimeToRestore, "acme/web", w28, 0, some(float64(LevelHigh))},
		{"an unknown repository has no value", MetricDeploymentCount, "acme/none", w28, 0, none},
		{"repository names match case-insensitively", MetricDeploymentCount, "ACME/Web", w28, 0, some(3)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, ok, err := ix.Value(tc.metric, tc.repo, tc.w, tc.q, now)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tc.want.ok || math.Abs(v-tc.want.v) > 1e-6 {
				t.Fatalf("%s(%q) = %v, %v; want %v, %v", tc.metric, tc.repo, v, ok, tc.want.v, tc.want.ok)
			}
		})
	}
}

func TestUnknownMetric(t *testing.T) {
	_, _, err := NewIndex(Data{}).Value("velocity", "", Window{}, 0.5, time.Time{})
	if err == nil {
		t.Fatal("no error for an unknown metric")
	}
	if want := `unknown metric "velocity"; known: deployment_frequency,`; len(err.Error()) < len(want) || err.Error()[:len(want)] != want {
		t.Fatalf("error = %q, want it to start with %q", err, want)
	}
}

func TestWindowBounds(t *testing.T) {
	// A deployment exactly at now - window is outside, one exactly at now
	// is inside: (now - window, now].
	now := at("2026-03-01T00:00:00Z")
	ix := NewIndex(Data{Deployments: []Deployment{
		{Repo: "a/b", Outcome: Succeeded, At: at("2026-02-22T00:00:00Z")},
		{Repo: "a/b", Outcome: Succeeded, At: now},
	}})
	c := ix.Scope("a/b").Deployments(Last(7*24*time.Hour, now))
	if c.Succeeded != 1 {
		t.Fatalf("deployments in (now-7d, now] = %d, want 1", c.Succeeded)
	}
	if _, ok := ix.Scope("a/b").DeploymentFrequency(Window{From: now, To: now}); ok {
		t.Fatal("a window of no length has a deployment frequency")
	}
}
