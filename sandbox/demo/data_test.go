package demo

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/okrd/okrd/okr"
	"github.com/okrd/okrd/sandbox/githubfake"
	"github.com/okrd/okrd/sandbox/jirafake"
)

// midQuarter is a fixed "now" for the data tests: 55 days into 2026-Q4
// (of 92), at an odd time of day.
var midQuarter = time.Date(2026, 11, 25, 14, 37, 12, 0, time.UTC)

func mustPlan(t *testing.T, now time.Time) plan {
	t.Helper()
	p, err := newPlan(now)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPlanIsTheCurrentQuarterInUTC(t *testing.T) {
	for _, tc := range []struct {
		now  time.Time
		name string
	}{
		{midQuarter, "2026-Q4"},
		{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), "2026-Q1"},
		{time.Date(2026, 3, 31, 23, 59, 59, 0, time.UTC), "2026-Q1"},
		// 2026-07-01 01:00 in Berlin is still June 30 in UTC.
		{time.Date(2026, 7, 1, 1, 0, 0, 0, time.FixedZone("CEST", 2*3600)), "2026-Q2"},
	} {
		if p := mustPlan(t, tc.now); p.period.Name != tc.name {
			t.Errorf("%s: period %s, want %s", tc.now, p.period.Name, tc.name)
		}
	}
	// 2026-Q4 is 92 days; 55 days, 14:37:12 in: (55*86400 + 52632) / (92*86400).
	want := (55*86400 + 52632.0) / (92 * 86400)
	if f := mustPlan(t, midQuarter).f(); math.Abs(f-want) > 1e-12 {
		t.Errorf("f = %v, want %v", f, want)
	}
}

// evaluate evaluates one value of a designed key result at the plan's now.
func evaluate(p plan, kr okr.KeyResult, value float64) okr.Status {
	kr.Tolerance, kr.Weight = 0.1, 1
	return okr.Evaluate(kr, p.period, []okr.Point{{At: p.now, Value: value}}, p.now).Status
}

func increase(k track) okr.KeyResult {
	dir := okr.Increase
	if k.target < k.baseline {
		dir = okr.Decrease
	}
	return okr.KeyResult{Direction: dir, Baseline: k.baseline, Target: k.target}
}

// The key results whose values the demo sets exactly keep their statuses
// whenever the demo starts, so that the page always shows at least three:
// activation on track, conversion achieved, support tickets off track. The
// NPS and the epic are at risk from a tenth of the quarter on (before, the
// gap is smaller than the tolerance).
func TestTheExactlyDesignedStatusesHoldAllQuarter(t *testing.T) {
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	for h := 0; h < 92*24; h += 7 {
		p := mustPlan(t, start.Add(time.Duration(h)*time.Hour))
		f := p.f()
		want := map[string]okr.Status{
			"activation": okr.StatusOnTrack, "conversion": okr.StatusAchieved,
			"support-tickets": okr.StatusOffTrack, "open-bugs": okr.StatusOnTrack, "nps": okr.StatusAtRisk, "one-click-payments": okr.StatusAtRisk,
		}
		if f < 0.1 {
			want["nps"], want["one-click-payments"] = okr.StatusOnTrack, okr.StatusOnTrack
		}
		if math.Abs(f-0.1) < 0.01 {
			delete(want, "nps")
			delete(want, "one-click-payments")
		}
		if f > 0.95 {
			// The open bug count rounds to the target in the last days.
			delete(want, "open-bugs")
		}
		got := map[string]okr.Status{
			"activation":         evaluate(p, increase(activationTrack), activationTrack.now(p)),
			"conversion":         evaluate(p, okr.KeyResult{Direction: okr.Increase, Baseline: conversionBaseline, Target: conversionTarget}, conversionRateAt(p, p.now)),
			"support-tickets":    evaluate(p, okr.KeyResult{Direction: okr.Maintain, Min: supportMin, Max: supportMax}, 4.6),
			"open-bugs":          evaluate(p, increase(openBugsTrack), math.Round(openBugsTrack.now(p))),
			"nps":                evaluate(p, increase(npsTrack), math.Round(npsTrack.now(p))),
			"one-click-payments": evaluate(p, increase(epicTrack), math.Round(epicChildren*epicTrack.now(p))/epicChildren),
		}
		for id, w := range want {
			if got[id] != w {
				t.Errorf("%s (f = %.3f): %s is %s, want %s", p.now.Format(time.RFC3339), f, id, got[id], w)
			}
		}
	}
}

// The open bug count follows its trajectory through the quarter, not only
// now: at every midnight since the period start (the instants of the
// history okrd fills in), the bugs created by then whose status then
// (read back from their changelogs) is not Done are the designed count.
func TestTheOpenBugsFollowTheirTrajectoryEveryDay(t *testing.T) {
	for _, now := range []time.Time{midQuarter, time.Date(2026, 10, 3, 0, 0, 30, 0, time.UTC)} {
		p := mustPlan(t, now)
		f, d := generatedJira(t, now)
		issues := jiraIssues(t, f, d)
		statusAt := func(is jirafake.Issue, at time.Time) string {
			status := jirafake.StatusToDo
			for _, h := range is.History {
				if h.At.After(at) {
					break
				}
				for _, it := range h.Items {
					if it.Field == "status" {
						status = it.To
					}
				}
			}
			return status
		}
		days := 0
		for at := p.period.Start; !at.After(now); at = at.Add(day) {
			open := 0
			for _, is := range issues {
				if is.Type == "Bug" && !is.Created.After(at) && statusAt(is, at) != jirafake.StatusDone {
					open++
				}
			}
			if want := int(openBugsTrack.at(p, at) + 0.5); open != want {
				t.Errorf("now %s: at %s %d open bugs, want %d", now.Format(time.RFC3339), at.Format(time.DateOnly), open, want)
			}
			days++
		}
		if days < 2 {
			t.Errorf("now %s: only %d days checked", now.Format(time.RFC3339), days)
		}
	}
}

func generatedJira(t *testing.T, now time.Time) (*jirafake.Server, jiraData) {
	t.Helper()
	f := jirafake.New(jirafake.Cloud)
	d := generateJira(f, mustPlan(t, now))
	return f, d
}

func jiraIssues(t *testing.T, f *jirafake.Server, d jiraData) []jirafake.Issue {
	t.Helper()
	var out []jirafake.Issue
	for i := 1; i <= d.issues; i++ {
		is, ok := f.Issue(jiraProject + "-" + strconv.Itoa(i))
		if !ok {
			t.Fatalf("no issue %s-%d of %d", jiraProject, i, d.issues)
		}
		out = append(out, is)
	}
	return out
}

// Every issue's changelog reads like Jira's: in time order, after the
// issue was created and not after now, each status change starting from
// the status the previous one ended in, and resolved exactly when done.
func TestTheJiraHistoryIsConsistent(t *testing.T) {
	f, d := generatedJira(t, midQuarter)
	issues := jiraIssues(t, f, d)
	if n := len(issues); n < 250 || n != f.NumIssues() {
		t.Errorf("%d issues (the fake holds %d), want a few hundred", n, f.NumIssues())
	}
	types := map[string]int{}
	for _, is := range issues {
		types[is.Type]++
		status := jirafake.StatusToDo
		prev := is.Created
		for _, h := range is.History {
			if h.At.Before(prev) || h.At.After(midQuarter) {
				t.Errorf("%s: history at %s after %s or after now", is.Key, h.At, prev)
			}
			prev = h.At
			for _, it := range h.Items {
				if it.Field != "status" {
					continue
				}
				if it.From != status {
					t.Errorf("%s: at %s a move from %s, but the status was %s", is.Key, h.At, it.From, status)
				}
				status = it.To
			}
		}
		if status != is.Status {
			t.Errorf("%s: the changelog ends in %s, the issue is %s", is.Key, status, is.Status)
		}
		if done := is.Status == jirafake.StatusDone; done != (is.Resolved != nil) {
			t.Errorf("%s: status %s, resolved %v", is.Key, is.Status, is.Resolved)
		}
	}
	if types["Epic"] != 3 || types["Story"] < 120 || types["Bug"] < 40 || types["Task"] < 20 {
		t.Errorf("issue types %v", types)
	}
	states := map[string]int{}
	for _, sp := range d.sprints {
		states[sp.state]++
		if sp.end.Sub(sp.start) != 14*day {
			t.Errorf("sprint %d lasts %s", sp.id, sp.end.Sub(sp.start))
		}
	}
	if states["closed"] != 6 || states["active"] != 1 || states["future"] != 1 {
		t.Errorf("sprint states %v, want 6 closed, the active one and a future one", states)
	}
	if a := d.sprints[6]; a.state != "active" || a.start.After(midQuarter) || !a.end.After(midQuarter) {
		t.Errorf("the active sprint runs %s to %s, not across now", a.start, a.end)
	}
}

// The open bug count and the epic's progress are exactly the designed
// ones: at midQuarter f = 0.6056, so 40 - 28 * (0.6056 + 0.05) = 21.64
// open bugs (22), and round(20 * (0.6056 - 0.15)) = 9 of 20 children done.
func TestTheJiraNumbersAreTheDesignedOnes(t *testing.T) {
	f, d := generatedJira(t, midQuarter)
	bugs, children, done := 0, 0, 0
	for _, is := range jiraIssues(t, f, d) {
		if is.Type == "Bug" && is.Status != jirafake.StatusDone {
			bugs++
		}
		if is.Parent == d.epicKey {
			children++
			if is.Status == jirafake.StatusDone {
				done++
			}
		}
	}
	if bugs != 22 || d.openBugs != 22 {
		t.Errorf("%d open bugs (reported %d), want 22", bugs, d.openBugs)
	}
	if children != 20 || done != 9 {
		t.Errorf("epic %s: %d of %d children done, want 9 of 20", d.epicKey, done, children)
	}
}

func generatedGitHub(t *testing.T, now time.Time) (*githubfake.Data, githubData) {
	t.Helper()
	var d githubfake.Data
	out := generateGitHub(&d, mustPlan(t, now))
	return &d, out
}

// Every pull request's times are in a possible order (commits, opening,
// reviews, merge, all before now), numbers are unique per repository and
// shared with issues, deployments' statuses go queued, in_progress, then
// success or failure, and incidents are closed.
func TestTheGitHubHistoryIsConsistent(t *testing.T) {
	d, sum := generatedGitHub(t, midQuarter)
	if sum.merged != 300 || sum.deployments < 90 || sum.deployments > 130 || sum.failedDeployments == 0 || sum.incidents != 8 {
		t.Errorf("summary %+v: want 300 merged pull requests, about a hundred deployments with some failed, 8 incidents", sum)
	}
	for _, name := range githubRepos {
		r := d.Repo(githubOwner + "/" + name)
		if r == nil {
			t.Fatalf("no repository %s", name)
		}
		numbers := map[int]bool{}
		for _, pr := range r.PullRequests {
			if numbers[pr.Number] {
				t.Errorf("%s#%d twice", name, pr.Number)
			}
			numbers[pr.Number] = true
			at := func(what string, t0, t1 time.Time) {
				if t1.Before(t0) {
					t.Errorf("%s#%d: %s at %s before %s", name, pr.Number, what, t1, t0)
				}
			}
			for _, c := range pr.Commits {
				at("opened", c.AuthoredDate, pr.CreatedAt)
			}
			end := midQuarter
			if pr.ClosedAt != nil {
				end = *pr.ClosedAt
				at("now", end, midQuarter)
			}
			for _, rv := range pr.Reviews {
				at("review", pr.CreatedAt, *rv.SubmittedAt)
				at("closed", *rv.SubmittedAt, end)
			}
			if pr.MergedAt != nil && pr.BaseRef != "main" {
				t.Errorf("%s#%d merged into %s", name, pr.Number, pr.BaseRef)
			}
		}
		for _, is := range r.Issues {
			if numbers[is.Number] {
				t.Errorf("%s#%d is both a pull request and an issue", name, is.Number)
			}
			numbers[is.Number] = true
			if is.ClosedAt == nil || is.ClosedAt.After(midQuarter) || !is.ClosedAt.After(is.CreatedAt) {
				t.Errorf("%s#%d: incident opened %s, closed %v", name, is.Number, is.CreatedAt, is.ClosedAt)
			}
		}
		for i := 1; i <= len(numbers); i++ {
			if !numbers[i] {
				t.Errorf("%s: number %d missing", name, i)
			}
		}
		for _, dep := range r.Deployments {
			var states []string
			for i, st := range dep.Statuses {
				states = append(states, st.State)
				if i > 0 && st.CreatedAt.Before(dep.Statuses[i-1].CreatedAt) {
					t.Errorf("%s deployment %d: statuses out of order", name, dep.ID)
				}
			}
			if got := fmt.Sprint(states); got != "[queued in_progress success]" && got != "[queued in_progress failure]" {
				t.Errorf("%s deployment %d: statuses %s", name, dep.ID, got)
			}
			if dep.Statuses[2].CreatedAt.After(midQuarter) {
				t.Errorf("%s deployment %d finishes after now", name, dep.ID)
			}
		}
	}
}

// The same now gives the same data; only now moves it.
func TestTheDataIsReproducible(t *testing.T) {
	f1, d1 := generatedJira(t, midQuarter)
	f2, d2 := generatedJira(t, midQuarter)
	if !reflect.DeepEqual(jiraIssues(t, f1, d1), jiraIssues(t, f2, d2)) {
		t.Error("two Jira generations differ")
	}
	g1, _ := generatedGitHub(t, midQuarter)
	g2, _ := generatedGitHub(t, midQuarter)
	if !reflect.DeepEqual(g1, g2) {
		t.Error("two GitHub generations differ")
	}
	// A sprint later the data is a sprint later: the first epic was
	// created two weeks after the first one of two weeks before.
	f3, d3 := generatedJira(t, midQuarter.Add(14*day))
	a, b := jiraIssues(t, f1, d1)[0], jiraIssues(t, f3, d3)[0]
	if b.Created.Sub(a.Created) != 14*day || a.Type != "Epic" || b.Type != "Epic" {
		t.Errorf("the first issue was a %s created at %s, and two weeks later a %s at %s", a.Type, a.Created, b.Type, b.Created)
	}
}

// The analytics table holds a row per day that is over, from 35 days
// before the period to yesterday, and its latest seven days are the
// designed activation: 0.31 + 0.09 * (0.6056 + 0.06) = 0.3699. Its
// history_query at today's midnight is the query (the same seven days);
// at the period's start it is last quarter's activation, about 31%.
func TestTheAnalyticsTableEndsOnTheDesignedActivation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "analytics.db")
	p := mustPlan(t, midQuarter)
	if err := writeAnalytics(context.Background(), path, p); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	var first, last string
	if err := db.QueryRow("select count(*), min(day), max(day) from daily_activation").Scan(&n, &first, &last); err != nil {
		t.Fatal(err)
	}
	// 2026-10-01 minus 35 days is 2026-08-27; 2026-11-24 is the day
	// before midQuarter: 35 days before the period and 55 in it.
	if n != 90 || first != "2026-08-27" || last != "2026-11-24" {
		t.Errorf("%d days from %s to %s, want 90 from 2026-08-27 to 2026-11-24", n, first, last)
	}
	var ratio, atMidnight, atStart float64
	if err := db.QueryRow(activationQuery).Scan(&ratio); err != nil {
		t.Fatal(err)
	}
	if want := 0.31 + 0.09*(p.f()+0.06); math.Abs(ratio-want) > 0.0005 {
		t.Errorf("latest activation %.5f, want %.5f", ratio, want)
	}
	// SQLite binds :at itself here, with the text okrd sends.
	if err := db.QueryRow(activationHistoryQuery, sql.Named("at", "2026-11-25 00:00:00")).Scan(&atMidnight); err != nil {
		t.Fatal(err)
	}
	if atMidnight != ratio {
		t.Errorf("history_query at today's midnight %v, the query %v", atMidnight, ratio)
	}
	if err := db.QueryRow(activationHistoryQuery, sql.Named("at", "2026-10-01 00:00:00")).Scan(&atStart); err != nil {
		t.Fatal(err)
	}
	if math.Abs(atStart-0.31) > 0.015 {
		t.Errorf("history_query at the period's start %.4f, want about 0.31", atStart)
	}
}
