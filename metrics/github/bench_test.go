package github

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// benchData is a year of history of 50 repositories: 200,000 pull
// requests (90% merged, 5% open), 50,000 deployments (90% successful) and
// 2,000 incidents, with deterministic pseudo-random times.
func benchData(now time.Time) Data {
	rng := rand.New(rand.NewPCG(1, 2))
	const repos, prs, deploys, incidents = 50, 200_000, 50_000, 2_000
	year := 365 * 24 * time.Hour
	d := Data{}
	name := func(i int) string { return fmt.Sprintf("acme/svc-%02d", i%repos) }
	for i := range repos {
		d.Repos = append(d.Repos, name(i))
	}
	randTime := func() time.Time { return now.Add(-time.Duration(rng.Int64N(int64(year)))) }
	for i := range prs {
		created := randTime()
		pr := PullRequest{Repo: name(i), Number: i, CreatedAt: created, FirstCommitAt: created.Add(-time.Hour),
			Additions: rng.IntN(500), Deletions: rng.IntN(200), IntoDefault: i%10 != 0}
		switch r := rng.IntN(100); {
		case r < 90:
			pr.State = PRMerged
			pr.MergedAt = created.Add(time.Duration(rng.Int64N(int64(72 * time.Hour))))
		case r < 95:
			pr.State = PROpen
		default:
			pr.State = PRClosed
		}
		if rng.IntN(4) > 0 {
			pr.FirstReviewAt = created.Add(time.Duration(rng.Int64N(int64(24 * time.Hour))))
		}
		d.PullRequests = append(d.PullRequests, pr)
	}
	for i := range deploys {
		o := Succeeded
		if rng.IntN(10) == 0 {
			o = Failed
		}
		d.Deployments = append(d.Deployments, Deployment{Repo: name(i), ID: fmt.Sprint(i), Outcome: o, At: randTime()})
	}
	for i := range incidents {
		opened := randTime()
		d.Incidents = append(d.Incidents, Incident{ID: fmt.Sprint(i), Repo: name(i), OpenedAt: opened,
			ClosedAt: opened.Add(time.Duration(rng.Int64N(int64(48 * time.Hour))))})
	}
	return d
}

// BenchmarkEveryMetric builds the index of 200,000 pull requests and
// 50,000 deployments and computes every exported series: each metric of
// the whole source and of 50 repositories over 7, 28 and 90 days, with
// three quantiles of each distribution.
func BenchmarkEveryMetric(b *testing.B) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	data := benchData(now)
	windows := []time.Duration{7 * 24 * time.Hour, 28 * 24 * time.Hour, 90 * 24 * time.Hour}
	b.ResetTimer()
	for b.Loop() {
		ix := NewIndex(data)
		var sink float64
		for _, s := range ix.Summarize(now, windows) {
			for _, dist := range []Distribution{s.LeadTimes, s.RestoreTimes, s.CycleTimes, s.Sizes, s.FirstReviewTimes} {
				for _, q := range []float64{0.5, 0.85, 0.95} {
					v, _ := dist.Quantile(q)
					sink += v
				}
			}
		}
		for _, r := range append([]string{""}, ix.Repos()...) {
			v, _ := ix.Scope(r).OldestOpenAge(now)
			sink += v + float64(ix.Scope(r).OpenPullRequests())
		}
		_ = sink
	}
}
