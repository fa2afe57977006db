package demo

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/okrd/okrd/sandbox/githubfake"
)

// The demo's GitHub: the checkout team's two repositories.
const (
	githubOwner = "acme"
	githubDays  = 150
)

var githubRepos = []string{"checkout-web", "checkout-api"}

// githubData summarises what the demo's GitHub holds.
type githubData struct {
	pullRequests, merged, deployments, failedDeployments, incidents int
}

var people = []string{"maria", "sam", "li", "noor", "jonas", "aiko", "dev", "olu"}

// incidentDaysAgo places the incidents: three always fall in the last 28
// days, so that time to restore has a value whatever the day.
var incidentDaysAgo = []float64{3.2, 11.6, 22.4, 36.1, 50.7, 64.3, 83.9, 104.5}

// incidentShare is about the share of the deployments of 28 days that the
// incidents make failed changes: three of some twenty-five.
const incidentShare = 0.11

var incidentTitles = []string{"Checkout 5xx spike after deploy", "Payment provider timeouts", "Cart totals wrong for EU shoppers",
	"Order confirmation page blank on iOS", "Address lookup down", "Card declines surge (3-D Secure)", "Slow checkout API (p95 > 3 s)",
	"Promo codes rejected"}

// generateGitHub builds five months of the checkout team's delivery: about
// a hundred production deployments (more of them lately, a few failed),
// three hundred merged pull requests with their commits and reviews (and
// some open or abandoned ones), and a handful of incidents. The trajectories
// of plan.go shape the durations: reviews come sooner, changes reach
// production faster, and incidents are fixed faster, though by far not as
// fast as planned.
func generateGitHub(d *githubfake.Data, p plan) githubData {
	rng := newRand(2)
	now := p.now
	start := now.Add(-githubDays * day)
	repos := map[string]*githubfake.Repo{}
	for _, name := range githubRepos {
		repos[name] = &githubfake.Repo{Owner: githubOwner, Name: name, CreatedAt: start.Add(-400 * day), UpdatedAt: now, PushedAt: now}
	}
	pickRepo := func() string {
		if rng.Float64() < 0.55 {
			return githubRepos[0]
		}
		return githubRepos[1]
	}
	var out githubData

	// Deployments: successful ones at the rate of the deployment frequency
	// track, placed by integrating it hour by hour (so that the count in
	// any window is what the rate says, give or take one), each jittered
	// by up to three hours; failed ones in between at the rate that makes
	// the designed share of failures. Incidents are failed changes too
	// (each blames the deployment before it), so deployments themselves
	// fail less often than the change failure rate.
	freq := deployFrequencyTrack.lagged(p, 28*day)
	failure := failureRateTrack.lagged(p, 28*day)
	successes := map[string][]time.Time{}
	deploy := func(at time.Time, failed bool) {
		at = at.Add(between(rng, -3*time.Hour, 3*time.Hour)).Truncate(time.Second)
		if !at.Before(now.Add(-20 * time.Minute)) {
			return
		}
		name := pickRepo()
		dep := &githubfake.Deployment{Environment: "production", CreatedAt: at, Creator: "deploy-bot"}
		dep.Statuses = append(dep.Statuses, githubfake.DeploymentStatus{State: "queued", CreatedAt: at})
		running := at.Add(between(rng, 10*time.Second, 2*time.Minute)).Truncate(time.Second)
		dep.Statuses = append(dep.Statuses, githubfake.DeploymentStatus{State: "in_progress", CreatedAt: running})
		finished := running.Add(between(rng, 3*time.Minute, 15*time.Minute)).Truncate(time.Second)
		state := "success"
		if failed {
			state = "failure"
			out.failedDeployments++
		} else {
			successes[name] = append(successes[name], finished)
		}
		dep.Statuses = append(dep.Statuses, githubfake.DeploymentStatus{State: state, CreatedAt: finished})
		repos[name].Deployments = append(repos[name].Deployments, dep)
		out.deployments++
	}
	var okAcc, failAcc float64
	for t := start; t.Before(now); t = t.Add(time.Hour) {
		rate := freq.at(p, t) / 24
		// failed / (failed + ok) = r, so failed = ok * r / (1 - r).
		r := max(0, failure.at(p, t)-incidentShare)
		okAcc += rate
		failAcc += rate * r / (1 - r)
		if okAcc >= 1 {
			okAcc--
			deploy(t, false)
		}
		if failAcc >= 1 {
			failAcc--
			deploy(t, true)
		}
	}
	// Within a repository, deployments are listed in time order.
	for _, r := range repos {
		sort.SliceStable(r.Deployments, func(a, b int) bool { return r.Deployments[a].CreatedAt.Before(r.Deployments[b].CreatedAt) })
	}
	for _, ts := range successes {
		sort.Slice(ts, func(a, b int) bool { return ts[a].Before(ts[b]) })
	}

	// Pull requests, placed by merge time. A change's lead time is its
	// coding time (first commit to opening the pull request), the wait
	// for a first review, the wait to merge and the wait for the next
	// deployment of its repository; the first three shrink over the
	// quarter, and the last one shrinks as deployments get frequent.
	review := firstReviewTrack.lagged(p, 28*day)
	lead := leadTimeTrack.lagged(p, 28*day)
	type item struct {
		repo    string
		created time.Time
		pr      *githubfake.PullRequest
		issue   *githubfake.Issue
	}
	var items []item
	newPR := func(name string, created time.Time) *githubfake.PullRequest {
		author := people[rng.IntN(len(people))]
		pr := &githubfake.PullRequest{Author: author, CreatedAt: created, Title: prTitle(rng),
			Additions: int(logNormal(rng, 60, 1.0)), Deletions: int(logNormal(rng, 20, 1.0)),
			HeadRef: fmt.Sprintf("%s/%s", author, strings.ToLower(strings.ReplaceAll(storyObjects[rng.IntN(len(storyObjects))], " ", "-")))}
		items = append(items, item{repo: name, created: created, pr: pr})
		return pr
	}
	other := func(author string) string {
		for {
			if r := people[rng.IntN(len(people))]; r != author {
				return r
			}
		}
	}
	commits := func(pr *githubfake.PullRequest, first time.Time) {
		n := 1 + rng.IntN(4)
		span := pr.CreatedAt.Sub(first)
		for c := range n {
			at := first.Add(time.Duration(float64(span) * float64(c) / float64(n))).Truncate(time.Second)
			pr.Commits = append(pr.Commits, githubfake.Commit{AuthoredDate: at})
		}
	}
	submitted := func(t time.Time) *time.Time { t = t.Truncate(time.Second); return &t }

	const merges = 300
	for i := range merges {
		m := start.Add(time.Duration((float64(i) + rng.Float64()) / merges * float64(now.Add(-30*time.Minute).Sub(start)))).Truncate(time.Second)
		name := pickRepo()
		// The wait for the next deployment of the repository.
		wait := 2 * day
		if ts := successes[name]; len(ts) > 0 {
			if k := sort.Search(len(ts), func(k int) bool { return !ts[k].Before(m) }); k < len(ts) {
				wait = ts[k].Sub(m)
			}
		}
		// What is left of the designed lead time for the work itself once
		// the review and the deployment are waited for: a third of it to
		// merge after the first review, two thirds of coding before the
		// pull request is opened.
		firstReview := logNormal(rng, time.Duration(review.at(p, m)*float64(time.Second)), 0.6)
		work := max(2*time.Hour, time.Duration(lead.at(p, m)*float64(time.Second))-wait-firstReview)
		toMerge := logNormal(rng, work/3, 0.5)
		coding := logNormal(rng, work*2/3, 0.5)
		created := m.Add(-toMerge - firstReview).Truncate(time.Second)
		pr := newPR(name, created)
		pr.MergedAt = submitted(m)
		commits(pr, created.Add(-coding))
		if rng.IntN(6) == 0 {
			// The author comments on their own pull request first.
			pr.Reviews = append(pr.Reviews, githubfake.Review{Author: pr.Author, State: "COMMENTED", SubmittedAt: submitted(created.Add(between(rng, time.Minute, 20*time.Minute)))})
		}
		firstAt := created.Add(firstReview)
		reviewer := other(pr.Author)
		if rng.IntN(3) == 0 {
			pr.Reviews = append(pr.Reviews, githubfake.Review{Author: reviewer, State: []string{"COMMENTED", "CHANGES_REQUESTED"}[rng.IntN(2)], SubmittedAt: submitted(firstAt)})
			pr.Reviews = append(pr.Reviews, githubfake.Review{Author: reviewer, State: "APPROVED", SubmittedAt: submitted(firstAt.Add(toMerge / 2))})
		} else {
			pr.Reviews = append(pr.Reviews, githubfake.Review{Author: reviewer, State: "APPROVED", SubmittedAt: submitted(firstAt)})
		}
		if rng.IntN(12) == 0 {
			pr.Labels = []string{"dependencies"}
		}
		// The checkout redesign, an initiative of the conversion key
		// result: every fourth merge of the last six weeks (by position,
		// so that the random draws stay the designed ones).
		if i%4 == 0 && m.After(now.Add(-42*day)) {
			pr.Labels = append(pr.Labels, "checkout-v2")
		}
		out.merged++
	}
	// Abandoned pull requests, and the ones still open (some drafts, some
	// waiting for a review).
	for range 18 {
		created := now.Add(-between(rng, 2*day, githubDays*day)).Truncate(time.Second)
		pr := newPR(pickRepo(), created)
		commits(pr, created.Add(-logNormal(rng, day, 0.7)))
		closed := created.Add(between(rng, 2*day, 20*day))
		if closed.After(now) {
			closed = now.Add(-time.Hour)
		}
		pr.ClosedAt = submitted(closed)
	}
	for i := range 11 {
		created := now.Add(-logNormal(rng, 2*day, 1.0)).Truncate(time.Second)
		if created.Before(start) {
			created = start.Add(day)
		}
		pr := newPR(pickRepo(), created)
		commits(pr, created.Add(-logNormal(rng, day, 0.7)))
		pr.Draft = i%4 == 0
		if r := created.Add(logNormal(rng, time.Duration(review.at(p, created)*float64(time.Second)), 0.6)); r.Before(now) && !pr.Draft {
			pr.Reviews = append(pr.Reviews, githubfake.Review{Author: other(pr.Author), State: "COMMENTED", SubmittedAt: submitted(r)})
		}
	}

	// Incidents, filed in the API's repository (its own incidents blame
	// its own deployments).
	restore := restoreTrack.lagged(p, 28*day)
	for i, ago := range incidentDaysAgo {
		opened := now.Add(-time.Duration(ago * float64(day))).Truncate(time.Second)
		ttr := time.Duration(restore.at(p, opened) * (0.75 + 0.5*rng.Float64()) * float64(time.Second))
		closed := opened.Add(ttr).Truncate(time.Second)
		is := &githubfake.Issue{Title: "Incident: " + incidentTitles[i%len(incidentTitles)], Labels: []string{"incident"},
			Author: "oncall-bot", CreatedAt: opened, ClosedAt: &closed}
		items = append(items, item{repo: githubRepos[1], created: opened, issue: is})
		out.incidents++
	}

	// Number pull requests and issues per repository in creation order:
	// on GitHub they share one sequence.
	sort.SliceStable(items, func(a, b int) bool { return items[a].created.Before(items[b].created) })
	next := map[string]int{}
	for _, it := range items {
		next[it.repo]++
		r := repos[it.repo]
		if it.pr != nil {
			it.pr.Number = next[it.repo]
			r.PullRequests = append(r.PullRequests, it.pr)
			out.pullRequests++
		} else {
			it.issue.Number = next[it.repo]
			r.Issues = append(r.Issues, it.issue)
		}
	}
	for _, name := range githubRepos {
		d.AddRepo(repos[name])
	}
	return out
}

func prTitle(rng *rand.Rand) string {
	return storyVerbs[rng.IntN(len(storyVerbs))] + " " + storyObjects[rng.IntN(len(storyObjects))]
}
