package jira

import (
	"context"
	"testing"
	"time"

	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/sandbox/jirafake"
)

// BenchmarkFullSync20k is a full sync of 20,000 generated issues from
// Jira Cloud into SQLite: it reports the requests it made and checks them
// against the budget (at most ceil(N/100) searches, the truncated
// changelogs in bulk, plus the agile calls).
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
		b.ReportMetric(float64(got["changelog/bulkfetch"]), "bulkfetches/op")
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

// backfillEnv is a source over n generated issues in 10 projects, each
// with a scrum board, on a site of the given flavour (set, not
// discovered).
func backfillEnv(b *testing.B, flavor jirafake.Flavor, n int, latency time.Duration) *env {
	clk := newClock(now)
	f := jirafake.New(flavor)
	f.Email, f.Token = testEmail, testToken
	f.Now = clk.Now
	keys := []string{"PA", "PB", "PC", "PD", "PE", "PF", "PG", "PH", "PI", "PJ"}
	f.Generate(jirafake.GenOptions{Projects: keys, Issues: n, Now: now, Seed: 42})
	f.Latency = latency
	e := newEnv(b, f, clk, func(s *Spec) {
		s.Projects = keys
		s.History = config.Duration(200 * 24 * time.Hour)
		s.Flavor = FlavorServer
		if flavor == jirafake.Cloud {
			s.Flavor = FlavorCloud
		}
	})
	e.quiet = true
	e.src = e.newSource()
	return e
}

// minimumBackfill is the fewest requests a full sync of the env's data
// can make, as okrd needs it: the site's metadata (myself, status, field;
// the flavour is set), one board list per 50 boards, each board's
// configuration and filter, each scrum board's sprint list, ceil(N/100)
// searches (Jira answers at most 100 issues a page once fields are asked
// for, with or without expand=changelog), and the truncated changelogs:
// ceil(T/1000) bulkfetches on Cloud (at most 10,000 histories a page,
// more than 1000 issues of this data hold), one read each on Data Center,
// which has no bulkfetch.
func minimumBackfill(e *env, n int) int {
	e.src.mu.RLock()
	boards := e.src.model.Boards()
	e.src.mu.RUnlock()
	scrum := 0
	for _, b := range boards {
		if b.Type == "scrum" {
			scrum++
		}
	}
	fixed := 3 + (len(boards)+49)/50 + 2*len(boards) + scrum
	truncated := e.fake.TruncatedChangelogs()
	changelogs := truncated
	if e.fake.Flavor == jirafake.Cloud {
		changelogs = (truncated + bulkMaxIssues - 1) / bulkMaxIssues
	}
	return fixed + (n+99)/100 + changelogs
}

// BenchmarkBackfill30k10Projects is the first sync of 30,000 issues in
// 10 projects (10 scrum boards, 2% of the issues with more changelog
// histories than a search inlines) into SQLite: it reports the requests
// by kind, their total and the minimum (minimumBackfill).
func BenchmarkBackfill30k10Projects(b *testing.B) {
	const n = 30000
	for _, flavor := range []jirafake.Flavor{jirafake.Cloud, jirafake.DataCenter} {
		b.Run(string(flavor), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				e := backfillEnv(b, flavor, n, 0)
				cpu := cpuTime()
				b.StartTimer()
				if err := e.src.Poll(context.Background()); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				b.ReportMetric(float64(cpuTime()-cpu), "cpu-ns/op")
				got := e.fake.Requests()
				total := 0
				for _, v := range got {
					total += v
				}
				minimum := minimumBackfill(e, n)
				b.ReportMetric(float64(total), "requests/op")
				b.ReportMetric(float64(minimum), "minimum/op")
				b.ReportMetric(float64(total)/float64(minimum), "x-minimum")
				b.ReportMetric(float64(got["search/jql"]+got["search"]), "searches/op")
				b.ReportMetric(float64(got["changelog"]), "changelogs/op")
				b.ReportMetric(float64(got["changelog/bulkfetch"]), "bulkfetches/op")
				b.ReportMetric(float64(e.fake.TruncatedChangelogs()), "truncated/op")
				b.StartTimer()
			}
		})
	}
}

// BenchmarkBackfillWithLatency is the same Cloud backfill against a fake
// that answers every request after a fixed 100 ms, more than okrd spends on
// a page, with the pages fetched strictly one after another and fetched
// ahead: the latency is fixed, so the ratio of the two wall times is what
// prefetching saves.
func BenchmarkBackfillWithLatency(b *testing.B) {
	const n = 30000
	for _, mode := range []string{"sequential", "prefetch"} {
		b.Run(mode, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				e := backfillEnv(b, jirafake.Cloud, n, 100*time.Millisecond)
				e.src.pipe.sequential = mode == "sequential"
				cpu := cpuTime()
				b.StartTimer()
				if err := e.src.Poll(context.Background()); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				b.ReportMetric(float64(cpuTime()-cpu), "cpu-ns/op")
				total := 0
				for _, v := range e.fake.Requests() {
					total += v
				}
				b.ReportMetric(float64(total), "requests/op")
				b.StartTimer()
			}
		})
	}
}

// BenchmarkRestart10Projects10Boards is the poll after a restart of a
// Cloud source with 10 projects and 10 boards (5 scrum, 5 kanban), Jira
// unchanged: its requests, and those of discovery among them.
func BenchmarkRestart10Projects10Boards(b *testing.B) {
	clk := newClock(now)
	f := jirafake.New(jirafake.Cloud)
	f.Email, f.Token = testEmail, testToken
	f.Now = clk.Now
	keys := []string{"PA", "PB", "PC", "PD", "PE", "PF", "PG", "PH", "PI", "PJ"}
	f.Generate(jirafake.GenOptions{Projects: keys, Kanban: 5, Issues: 3000, Now: now, Seed: 42})
	e := newEnv(b, f, clk, func(s *Spec) {
		s.Flavor = FlavorCloud
		s.Projects = keys
		s.History = config.Duration(200 * 24 * time.Hour)
	})
	e.quiet = true
	e.src = e.newSource()
	if err := e.src.Poll(context.Background()); err != nil {
		b.Fatal(err)
	}
	restarts := 0
	for b.Loop() {
		b.StopTimer()
		restarts++
		e.src = e.newSource()
		e.fake.ResetRequests()
		clk.Set(now.Add(time.Duration(restarts) * time.Second))
		b.StartTimer()
		if err := e.src.Poll(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	got := e.fake.Requests()
	total := 0
	for _, v := range got {
		total += v
	}
	b.ReportMetric(float64(total), "requests/op")
	b.ReportMetric(float64(got["serverInfo"]+got["myself"]+got["status"]+got["field"]+got["agile/board"]+got["agile/board/configuration"]+got["filter"]), "discovery-requests/op")
}
