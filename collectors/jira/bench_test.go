package jira

import (
	"context"
	"testing"
	"time"

	"github.com/okrd/okrd/sandbox/jirafake"
)

// BenchmarkFullSync20k is a full sync of 20,000 generated issues from
// Jira Cloud into SQLite: it reports the requests it made and checks them
// against the budget (at most ceil(N/100) searches, one changelog read
// per truncated issue, plus the agile calls).
func BenchmarkFullSync20k(b *testing.B) {
	const n = 20000
	for b.Loop() {
		b.StopTimer()
		e := generatedEnv(b, jirafake.Cloud, n)
		b.StartTimer()
		if err := e.src.Poll(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		got := e.fake.Requests()
		b.ReportMetric(float64(got["search/jql"]), "searches/op")
		b.ReportMetric(float64(got["changelog"]), "changelogs/op")
		b.ReportMetric(float64(e.fake.TruncatedChangelogs()), "truncated-issues/op")
		b.ReportMetric(float64(got["agile/board"]+got["agile/board/configuration"]+got["filter"]+got["agile/board/sprint"]+got["agile/sprint/issue"]), "agile-calls/op")
		checkSyncCost(b, e, n)
		b.StartTimer()
	}
}

// BenchmarkIdlePoll20k is an incremental poll with nothing changed over
// 20,000 stored issues: one search per scope (and the board's sprints),
// and no heap left behind by the polls.
func BenchmarkIdlePoll20k(b *testing.B) {
	e := generatedEnv(b, jirafake.Cloud, 20000)
	e.quiet = true
	e.src = e.newSource()
	if err := e.src.Poll(context.Background()); err != nil {
		b.Fatal(err)
	}
	e.fake.ResetRequests()
	// Warm up (the first polls allocate the buffers later ones reuse),
	// then measure the heap that the polls leave behind.
	for i := range 3 {
		e.clk.Set(now.Add(time.Duration(i+1) * time.Second))
		if err := e.src.Poll(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	e.fake.ResetRequests()
	before := heapAfterGC()
	polls := 0
	for b.Loop() {
		polls++
		e.clk.Set(now.Add(time.Duration(polls) * time.Minute))
		if err := e.src.Poll(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	after := heapAfterGC()
	got := e.fake.Requests()
	b.ReportMetric((float64(after)-float64(before))/1024, "heap-growth-KiB")
	b.ReportMetric(float64(got["search/jql"])/float64(polls), "searches/op")
	b.ReportMetric(float64(got["agile/board/sprint"])/float64(polls), "sprint-lists/op")
}
