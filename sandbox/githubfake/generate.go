package githubfake

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// GenOptions describes the synthetic history Generate creates: a team's
// repositories with pull requests, deployments to production, the same
// deployments as releases and as runs of a deploy.yml workflow, and
// incident issues, spread over Days before Now.
type GenOptions struct {
	Owner        string // default "acme"
	Repos        int    // default 1; named svc-00, svc-01, ...
	PullRequests int    // per repository
	Deployments  int    // per repository
	Incidents    int    // per repository
	Days         int    // history length, default 365
	Now          time.Time
	Seed         uint64
	// InProgress is the number of deployments per repository, among the
	// newest, that are still in progress (not settled).
	InProgress int
	// AllMerged makes every pull request a merged one (for cost
	// benchmarks that count merged pull requests).
	AllMerged bool
}

// Generate fills d with a deterministic synthetic history (the same
// options give the same data). It is what the benchmarks and `okrd demo`
// serve.
func (d *Data) Generate(o GenOptions) {
	if o.Owner == "" {
		o.Owner = "acme"
	}
	if o.Repos <= 0 {
		o.Repos = 1
	}
	if o.Days <= 0 {
		o.Days = 365
	}
	if o.Now.IsZero() {
		o.Now = time.Now().UTC().Truncate(time.Second)
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x0c7d))
	// Draft histories draw from a stream of their own, so that the rest of
	// the data stays what it was before the fake had them.
	drafts := rand.New(rand.NewPCG(o.Seed, 0xd4af))
	span := time.Duration(o.Days) * 24 * time.Hour
	start := o.Now.Add(-span)
	people := []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"}
	at := func(frac float64) time.Time {
		return start.Add(time.Duration(frac * float64(span))).Truncate(time.Second)
	}
	dur := func(lo, hi time.Duration) time.Duration {
		// Log-uniform: delivery durations are skewed towards the short end.
		l, h := math.Log(float64(lo)), math.Log(float64(hi))
		return time.Duration(math.Exp(l + rng.Float64()*(h-l))).Truncate(time.Second)
	}
	ptr := func(t time.Time) *time.Time { return &t }
	for ri := range o.Repos {
		r := &Repo{Owner: o.Owner, Name: fmt.Sprintf("svc-%02d", ri), CreatedAt: start.Add(-24 * time.Hour), UpdatedAt: o.Now, PushedAt: o.Now}
		for i := range o.PullRequests {
			created := at(rng.Float64())
			author := people[rng.IntN(len(people))]
			p := &PullRequest{Number: i + 1, Author: author, CreatedAt: created,
				Additions: int(dur(time.Second, 800*time.Second) / time.Second), Deletions: int(dur(time.Second, 300*time.Second) / time.Second),
				Labels: genLabels(i)}
			first := created.Add(-dur(time.Minute, 48*time.Hour))
			for c := range 1 + rng.IntN(4) {
				p.Commits = append(p.Commits, Commit{AuthoredDate: first.Add(time.Duration(c) * time.Hour)})
			}
			reviewAt := created
			if rng.IntN(6) == 0 {
				// The author comments on their own pull request first.
				reviewAt = reviewAt.Add(dur(time.Minute, time.Hour))
				p.Reviews = append(p.Reviews, Review{Author: author, State: "COMMENTED", SubmittedAt: ptr(reviewAt)})
			}
			for range rng.IntN(3) {
				reviewAt = reviewAt.Add(dur(10*time.Minute, 30*time.Hour))
				if reviewAt.After(o.Now) {
					break
				}
				reviewer := people[(rng.IntN(len(people)-1)+1+indexOf(people, author))%len(people)]
				state := []string{"APPROVED", "COMMENTED", "CHANGES_REQUESTED"}[rng.IntN(3)]
				p.Reviews = append(p.Reviews, Review{Author: reviewer, State: state, SubmittedAt: ptr(reviewAt)})
			}
			x := rng.IntN(100)
			if o.AllMerged {
				x = 0
			}
			switch {
			case x < 85:
				m := latest(reviewAt, nil).Add(dur(5*time.Minute, 72*time.Hour))
				if m.After(o.Now) && o.AllMerged {
					m = o.Now
				}
				if !m.After(o.Now) {
					p.MergedAt = ptr(m)
				}
			case x < 90:
				c := created.Add(dur(time.Hour, 240*time.Hour))
				if c.Before(o.Now) {
					p.ClosedAt = ptr(c)
				}
			default:
				p.Draft = rng.IntN(3) == 0
			}
			if rng.IntN(20) == 0 {
				p.BaseRef = "release/1.x"
			}
			genDraftHistory(drafts, p, o.Now)
			r.PullRequests = append(r.PullRequests, p)
		}
		for i := range o.Deployments {
			created := at((float64(i) + rng.Float64()) / float64(max(o.Deployments, 1)))
			dep := &Deployment{Environment: "production", CreatedAt: created}
			t := created
			dep.Statuses = append(dep.Statuses, DeploymentStatus{State: "queued", CreatedAt: t})
			t = t.Add(dur(10*time.Second, 5*time.Minute))
			dep.Statuses = append(dep.Statuses, DeploymentStatus{State: "in_progress", CreatedAt: t})
			if i < o.Deployments-o.InProgress {
				t = t.Add(dur(time.Minute, 30*time.Minute))
				state := "success"
				switch x := rng.IntN(100); {
				case x < 7:
					state = "failure"
				case x < 10:
					state = "error"
				}
				dep.Statuses = append(dep.Statuses, DeploymentStatus{State: state, CreatedAt: t})
			}
			r.Deployments = append(r.Deployments, dep)
		}
		// The same history as releases (every successful deployment is a
		// published release) and as runs of the deploy workflow.
		wf := &Workflow{Name: "Deploy", Path: ".github/workflows/deploy.yml"}
		for i, dep := range r.Deployments {
			last := dep.Statuses[len(dep.Statuses)-1]
			run := &WorkflowRun{HeadBranch: "main", Status: "completed", CreatedAt: dep.CreatedAt, UpdatedAt: last.CreatedAt}
			switch last.State {
			case "success":
				run.Conclusion = "success"
				r.Releases = append(r.Releases, &Release{TagName: fmt.Sprintf("v1.%d.0", i), CreatedAt: dep.CreatedAt, PublishedAt: ptr(last.CreatedAt)})
			case "failure", "error":
				run.Conclusion = "failure"
			default:
				run.Status, run.UpdatedAt = "in_progress", last.CreatedAt
			}
			wf.Runs = append(wf.Runs, run)
		}
		r.Workflows = []*Workflow{wf}
		for i := range o.Incidents {
			opened := at(rng.Float64())
			is := &Issue{Number: o.PullRequests + i + 1, Title: fmt.Sprintf("Incident %d: checkout errors", i+1), Labels: []string{"incident"}, CreatedAt: opened}
			if c := opened.Add(dur(5*time.Minute, 48*time.Hour)); rng.IntN(10) > 0 && c.Before(o.Now) {
				is.ClosedAt = ptr(c)
			}
			r.Issues = append(r.Issues, is)
		}
		d.AddRepo(r)
	}
}

// genDraftHistory gives a pull request the draft changes teams make: a
// fifth are opened as drafts and marked ready for review some time before
// they end (a few are converted back and made ready again), and an open
// draft was sometimes opened ready and converted later. The state it ends
// in (Draft) is kept.
func genDraftHistory(rng *rand.Rand, p *PullRequest, now time.Time) {
	end := now
	if p.MergedAt != nil {
		end = *p.MergedAt
	} else if p.ClosedAt != nil {
		end = *p.ClosedAt
	}
	life := end.Sub(p.CreatedAt)
	if life < 4*time.Second {
		return
	}
	at := func(lo, hi float64) time.Time {
		return p.CreatedAt.Add(time.Duration((lo + rng.Float64()*(hi-lo)) * float64(life))).Truncate(time.Second)
	}
	switch {
	case p.Draft && rng.IntN(3) == 0:
		// Opened ready, converted to a draft later.
		p.DraftEvents = append(p.DraftEvents, DraftEvent{Draft: true, At: at(0.1, 0.9)})
	case !p.Draft && rng.IntN(5) == 0:
		// Opened as a draft, marked ready.
		if rng.IntN(8) == 0 {
			p.DraftEvents = append(p.DraftEvents, DraftEvent{Draft: false, At: at(0, 0.25)}, DraftEvent{Draft: true, At: at(0.25, 0.5)})
		}
		p.DraftEvents = append(p.DraftEvents, DraftEvent{Draft: false, At: at(0.5, 0.95)})
	}
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return 0
}

// genLabels are the labels of the i-th generated pull request, by its
// position rather than from the random source, so that the rest of a
// generated history stays what it was: a bug fix in four, maintenance in
// five, and none for the rest (new work).
func genLabels(i int) []string {
	switch {
	case i%4 == 1:
		return []string{"bug"}
	case i%5 == 2:
		return []string{"tech-debt"}
	}
	return nil
}
