package jira

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// benchModel builds a model of n issues over 180 days in 5 projects, with
// one scrum board per project, two-week sprints and histories like the
// generated sandbox data.
func benchModel(n int) *Model {
	rng := rand.New(rand.NewPCG(1, 2))
	m := NewModel(Categories{})
	origin := now.Add(-180 * day)
	projects := []string{"PAY", "WEB", "API", "OPS", "APP"}
	for pi, p := range projects {
		m.PutBoard(&Board{ID: pi + 1, Name: p, Type: "scrum", Projects: []string{p}, PointsField: "sp"})
		for k := range 13 {
			start := origin.Add(time.Duration(k) * 14 * day)
			end := start.Add(14 * day)
			sp := &Sprint{ID: (pi+1)*100 + k, Board: pi + 1, Name: fmt.Sprintf("%s %d", p, k), State: "closed", Start: &start, End: &end, Complete: &end}
			if end.After(now) {
				sp.State, sp.Complete = "active", nil
			}
			m.PutSprint(sp)
		}
	}
	types := []string{"Story", "Bug", "Task"}
	for i := range n {
		pi := i % len(projects)
		created := origin.Add(time.Duration(rng.Float64() * float64(180*day)))
		is := &Issue{Key: fmt.Sprintf("%s-%d", projects[pi], i), Project: projects[pi], Type: types[i%3],
			Created: created, Status: toDo, Points: map[string]float64{"sp": float64(1 + i%8)}}
		if i%50 == 0 {
			is.Type = "Epic"
		} else {
			is.Parent = fmt.Sprintf("%s-%d", projects[pi], i-i%50)
		}
		k := int(created.Sub(origin) / (14 * day))
		sid := (pi+1)*100 + k
		is.Sprints = []int{sid}
		is.SprintChanges = []SprintChange{{At: created.Add(time.Hour), To: []int{sid}}}
		t1 := created.Add(time.Duration(rng.Float64() * float64(5*day)))
		t2 := t1.Add(time.Duration(rng.Float64() * float64(8*day)))
		if t1.Before(now) {
			is.Transitions = append(is.Transitions, Transition{At: t1, From: toDo, To: inProgress})
			is.Status = inProgress
			if t2.Before(now) {
				is.Transitions = append(is.Transitions, Transition{At: t2, From: inProgress, To: done})
				is.Status = done
			}
		}
		m.PutIssue(is)
	}
	return m
}

// BenchmarkEveryMetric100k computes every Jira metric over 100,000 issues:
// all exported series (every scope, window and quantile, the sprint
// reports) and one key result of each metric.
func BenchmarkEveryMetric100k(b *testing.B) {
	m := benchModel(100000)
	e := NewExporter("bench")
	w := LastDays(now, 28*day)
	queries := []Query{
		{Metric: MetricThroughput, Window: w}, {Metric: MetricLeadTime, Window: w, Filter: Filter{Scope: "PAY"}},
		{Metric: MetricCycleTime, Window: w, Quantile: 0.85}, {Metric: MetricWIP}, {Metric: MetricWIPAge},
		{Metric: MetricWIPAgeMax}, {Metric: MetricInflow, Window: w, Filter: Filter{IssueTypes: []string{"Bug"}}},
		{Metric: MetricEpicProgress, Epic: "PAY-0"}, {Metric: MetricSprintCommitment, Board: 1},
		{Metric: MetricSprintCompleted, Board: 1}, {Metric: MetricSprintAdded, Board: 1},
		{Metric: MetricSprintSayDo, Board: 1, ByPoints: true}, {Metric: MetricVelocity, Board: 1},
	}
	b.ResetTimer()
	cpu := cpuTime()
	for b.Loop() {
		e.Update(m, now, DefaultExportOptions())
		for _, q := range queries {
			if _, _, err := m.Value(q, now); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(e.Len()), "series")
}

// historyBenchQueries is a realistic mix of 100 key results over
// benchModel's source: flow metrics over the whole source, projects and
// boards, with and without issue types, over 7, 28 and 90 days and the
// period; quantiles 0.5, 0.85 and 0.95; epic progress by count and by
// points; the sprint metrics of the five boards.
func historyBenchQueries(at []time.Time, period WindowRule) []HistoryQuery {
	scopes := []string{"", "PAY", "WEB", "API", "OPS", "APP", "board:1", "board:2", "board:3", "board:4", "board:5"}
	rules := []WindowRule{LastRule(28 * day), LastRule(7 * day), period, LastRule(90 * day)}
	types := [][]string{nil, nil, {"Bug"}, {"Story", "Task"}}
	qs := []float64{0.5, 0.85, 0.95}
	mix := []struct {
		metric string
		n      int
	}{
		{MetricThroughput, 15}, {MetricLeadTime, 12}, {MetricCycleTime, 12}, {MetricWIP, 8}, {MetricWIPAge, 8},
		{MetricWIPAgeMax, 5}, {MetricInflow, 10}, {MetricEpicProgress, 10},
		{MetricSprintCommitment, 4}, {MetricSprintCompleted, 4}, {MetricSprintAdded, 4}, {MetricSprintSayDo, 4}, {MetricVelocity, 4},
	}
	var out []HistoryQuery
	i := 0
	for _, x := range mix {
		for k := range x.n {
			q := HistoryQuery{At: at, Rule: rules[i%len(rules)]}
			q.Metric = x.metric
			q.Filter = Filter{Scope: scopes[i%len(scopes)], IssueTypes: types[i%len(types)]}
			q.Quantile = qs[i%len(qs)]
			switch {
			case x.metric == MetricEpicProgress:
				q.Filter = Filter{}
				q.Epic = []string{"PAY", "WEB", "API", "OPS", "APP"}[k%5] + "-" + strconv.Itoa(50*(k+5))
				q.ByPoints, q.PointsField = k%2 == 1, "sp"
			case IsSprintMetric(x.metric):
				q.Filter = Filter{}
				q.Board = 1 + k%5
				q.ByPoints = k%2 == 1
			}
			out = append(out, q)
			i++
		}
	}
	return out
}

// BenchmarkHistory100KeyResults92Days100k fills in the history of 100
// key results at 92 daily instants (a quarter) over 100,000 issues: one
// History call, as okrd makes after a sync. cpu-ns/op is the process's
// CPU time per call, which on a shared machine says more than the wall
// time of ns/op; model-MiB is the live heap the model holds, for
// comparison with what one call allocates (B/op).
func BenchmarkHistory100KeyResults92Days100k(b *testing.B) {
	before := heapNow()
	m := benchModel(100000)
	held := heapNow() - before
	start := now.Add(-91 * day)
	at := make([]time.Time, 92)
	for i := range at {
		at[i] = start.Add(time.Duration(i) * day)
	}
	qs := historyBenchQueries(at, PeriodRule(start, start.Add(92*day)))
	if len(qs) != 100 {
		b.Fatalf("%d key results, want 100", len(qs))
	}
	for _, r := range m.History(qs) {
		if r.Err != nil {
			b.Fatal(r.Err)
		}
	}
	b.ResetTimer()
	cpu := cpuTime()
	for b.Loop() {
		m.History(qs)
	}
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(held)/(1<<20), "model-MiB")
	b.ReportMetric(float64(len(qs)*len(at)), "values")
}

func heapNow() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkExportWithInvestment100k is the export of BenchmarkEveryMetric100k
// without and with an investment balance of three categories (by type, by
// label, by epic), by count and by points.
func BenchmarkExportWithInvestment100k(b *testing.B) {
	m := benchModel(100000)
	for _, name := range []string{"none", "count", "points"} {
		b.Run(name, func(b *testing.B) {
			e := NewExporter("bench")
			opts := DefaultExportOptions()
			if name != "none" {
				field := map[string]string{"count": "", "points": "sp"}[name]
				opts.Investment = &Investment{PointsField: field, Categories: []Category{
					{Name: "bugs", IssueTypes: []string{"Bug"}}, {Name: "maintenance", Labels: []string{"tech-debt"}}, {Name: "new", Epics: []string{"PAY-0"}}}}
			}
			cpu := cpuTime()
			for b.Loop() {
				e.Update(m, now, opts)
			}
			b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(e.Len()), "series")
		})
	}
}
