package jira

import (
	"fmt"
	"math/rand/v2"
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
	for b.Loop() {
		e.Update(m, now, DefaultExportOptions())
		for _, q := range queries {
			if _, _, err := m.Value(q, now); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(e.Len()), "series")
}
