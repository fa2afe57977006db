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
			pr.ClosedAt = pr.MergedAt
		case r < 95:
			pr.State = PROpen
		default:
			pr.State = PRClosed
			pr.ClosedAt = created.Add(time.Duration(rng.Int64N(int64(240 * time.Hour))))
		}
		if rng.IntN(5) == 0 {
			// A fifth were drafts for their first hours.
			pr.DraftChanges = []time.Time{created.Add(time.Duration(rng.Int64N(int64(12 * time.Hour))))}
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
		dep := Deployment{Repo: name(i), ID: fmt.Sprint(i), Outcome: o, At: randTime()}
		if o == Succeeded && rng.IntN(20) == 0 {
			// A retried failure: failed an hour before it succeeded.
			dep.Past = []PastOutcome{{At: dep.At.Add(-time.Hour), Until: dep.At.Add(-30 * time.Minute)}}
		}
		d.Deployments = append(d.Deployments, dep)
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
			sink += v + float64(ix.Scope(r).OpenAt(now).Open)
		}
		_ = sink
	}
}

// historyQueries is 100 key results, a realistic mix over a quarter: every
// metric in turn, a third on the whole source and the rest on one
// repository each, over 28 days (most), 7 days, 90 days or the period,
// with the common quantiles; each asks for 92 daily points.
func historyQueries(now time.Time) []HistoryQuery {
	start := now.Add(-91 * 24 * time.Hour)
	var ats []time.Time
	for d := range 92 {
		ats = append(ats, start.Add(time.Duration(d)*24*time.Hour))
	}
	rules := []WindowRule{{Last: 28 * 24 * time.Hour}, {Last: 7 * 24 * time.Hour}, {Last: 28 * 24 * time.Hour},
		{Last: 90 * 24 * time.Hour}, {Period: true, Start: start, End: now.Add(24 * time.Hour)}}
	quantiles := []float64{0.5, 0.85, 0.5, 0.95}
	qs := make([]HistoryQuery, 100)
	for i := range qs {
		repo := ""
		if i%3 != 0 {
			repo = fmt.Sprintf("acme/svc-%02d", i%50)
		}
		qs[i] = HistoryQuery{Metric: Metrics[i%len(Metrics)].Name, Repo: repo, Quantile: quantiles[i%len(quantiles)],
			Window: rules[i%len(rules)], At: ats}
	}
	return qs
}

// BenchmarkHistory100KeyResults92Days fills in a quarter of daily history
// for 100 key results over 200,000 pull requests, 50,000 deployments and
// 2,000 incidents (the index is built by the poll, before).
func BenchmarkHistory100KeyResults92Days(b *testing.B) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	ix := NewIndex(benchData(now))
	qs := historyQueries(now)
	points := 0
	for _, q := range qs {
		points += len(q.At)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res := ix.History(qs)
		if res[0].Err != nil {
			b.Fatal(res[0].Err)
		}
	}
	b.ReportMetric(float64(points), "points/op")
}
