package jira

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// inTeam says, from the issue itself and the boards, whether an issue is a
// team's: its project is one of the team's, a board of the team selects
// it (by its projects, or by filter through the issue's boards), or it
// has one of the team's components (in any case). It is written from the
// definition, without the model.
func inTeam(t Team, boards []*Board, is *Issue) bool {
	for _, p := range t.Projects {
		if strings.EqualFold(p, is.Project) {
			return true
		}
	}
	for _, id := range t.Boards {
		for _, b := range boards {
			if b.ID != id {
				continue
			}
			if b.ByFilter && slices.Contains(is.Boards, id) {
				return true
			}
			for _, p := range b.Projects {
				if !b.ByFilter && strings.EqualFold(p, is.Project) {
					return true
				}
			}
		}
	}
	for _, c := range t.Components {
		for _, ic := range is.Components {
			if strings.EqualFold(c, ic) {
				return true
			}
		}
	}
	return false
}

// A team's flow metrics are the metrics over the union of its records:
// for each team, a model that holds only the issues the team selects (each
// once, though many are in two of its boards, or in its project and have
// its component) gives, over the whole source, exactly what the full
// model gives for the team, for every flow metric, window, issue type and
// quantile, live and in the history.
func TestATeamsFlowMetricsAreTheMetricsOverTheUnionOfItsIssues(t *testing.T) {
	w := genWorld(21, 900)
	rng := rand.New(rand.NewPCG(21, 4))
	ats := w.instantsOf(rng, 30, 30)
	rules := []WindowRule{LastRule(7 * day), LastRule(28 * day), LastRule(90 * day), PeriodRule(w.origin.Add(40*day), w.origin.Add(130*day))}
	flow := []string{MetricThroughput, MetricLeadTime, MetricCycleTime, MetricWIP, MetricWIPAge, MetricWIPAgeMax, MetricInflow}
	for _, cs := range categorySets[:2] {
		full := w.model(cs.c)
		full.SetTeams(exportTeams)
		for _, team := range exportTeams {
			union := &world{origin: w.origin, horizon: w.horizon, boards: w.boards, sprints: w.sprints}
			twice := 0
			for _, is := range w.issues {
				if inTeam(team, w.boards, is) {
					union.issues = append(union.issues, is)
					n := 0
					for _, one := range []Team{{Projects: team.Projects}, {Boards: team.Boards}, {Components: team.Components}} {
						if inTeam(one, w.boards, is) {
							n++
						}
					}
					if n > 1 {
						twice++
					}
				}
			}
			if team.Name == "mixed" && twice == 0 {
				t.Fatal("no issue of team mixed is selected twice: the test proves nothing about counting once")
			}
			um := union.model(cs.c)
			var tq, uq []HistoryQuery
			for _, metric := range flow {
				for _, types := range [][]string{nil, {"bug"}, {"Story", "task"}} {
					for _, rule := range rules {
						for _, qt := range []float64{0, 0.85} {
							q := Query{Metric: metric, Filter: Filter{Scope: TeamScope(team.Name), IssueTypes: types}, Quantile: qt}
							tq = append(tq, HistoryQuery{Query: q, Rule: rule, At: ats})
							q.Filter.Scope = ""
							uq = append(uq, HistoryQuery{Query: q, Rule: rule, At: ats})
						}
					}
				}
			}
			th, uh := full.History(tq), um.History(uq)
			checked, values := 0, 0
			for i := range tq {
				if th[i].Err != nil || uh[i].Err != nil {
					t.Fatalf("%v %v", th[i].Err, uh[i].Err)
				}
				for j, at := range ats {
					q, u := tq[i].Query, uq[i].Query
					q.Window, u.Window = tq[i].Rule.At(at), uq[i].Rule.At(at)
					got, gotOK, err1 := full.Value(q, at)
					want, wantOK, err2 := um.Value(u, at)
					if err1 != nil || err2 != nil {
						t.Fatal(err1, err2)
					}
					if got != want || gotOK != wantOK || th[i].Values[j] != uh[i].Values[j] || th[i].Values[j] != (HistoryValue{Value: want, OK: wantOK}) {
						t.Fatalf("%s, team %s, %s of %v at %s: %v (ok %v), history %+v; over the union %v (ok %v), history %+v",
							cs.name, team.Name, q.Metric, q.Filter.IssueTypes, at.Format(time.RFC3339), got, gotOK, th[i].Values[j], want, wantOK, uh[i].Values[j])
					}
					checked++
					if wantOK && want != 0 {
						values++
					}
				}
			}
			if team.Name == "nothing" {
				if values != 0 {
					t.Fatalf("team nothing has %d values", values)
				}
				continue
			}
			if values < checked/4 {
				t.Fatalf("team %s: only %d of %d comparisons had a value", team.Name, values, checked)
			}
		}
	}
}

// The sprint figures of a team are its boards' sprints: the latest closed
// sprints of each of its boards, combined as one board's are (a mean per
// sprint; the say/do ratio the sum completed over the sum committed).
func TestATeamsSprintMetricsCombineItsBoardsSprints(t *testing.T) {
	w := genWorld(22, 600)
	m := w.model(Categories{})
	m.SetTeams([]Team{{Name: "both", Boards: []int{1, 2}}})
	at := w.origin.Add(150 * day)
	var reports []SprintReport
	for _, b := range []int{1, 2} {
		reports = append(reports, m.sprintReportsAt(m.closedSprintsAt(b, 3, nanos(at)), nanos(at))...)
	}
	if len(reports) != 6 {
		t.Fatalf("%d reports, want 3 of each board", len(reports))
	}
	var committed, completed, points float64
	for _, r := range reports {
		committed += float64(r.Committed)
		completed += float64(r.Completed)
		points += r.Velocity
	}
	cases := map[string]float64{
		MetricSprintCommitment: committed / 6,
		MetricSprintSayDo:      completed / committed,
		MetricVelocity:         points / 6,
	}
	for metric, want := range cases {
		q := Query{Metric: metric, Filter: Filter{Scope: TeamScope("both")}, Boards: []int{1, 2}, Sprints: 3}
		got, ok, err := m.Value(q, at)
		if err != nil || !ok || got != want {
			t.Errorf("%s: %v (ok %v, %v), want %v", metric, got, ok, err, want)
		}
		h := m.History([]HistoryQuery{{Query: q, At: []time.Time{at}}})
		if h[0].Err != nil || h[0].Values[0] != (HistoryValue{Value: want, OK: true}) {
			t.Errorf("%s history: %+v, want %v", metric, h[0], want)
		}
	}
	q := Query{Metric: MetricSprintSayDo, Boards: []int{1, 77}}
	if _, _, err := m.Value(q, at); err == nil || !strings.Contains(err.Error(), "board 77") {
		t.Errorf("a team board the source does not track: %v", err)
	}
}

// Components survive the binary record and the model, in their case.
func TestComponentsRoundTrip(t *testing.T) {
	is := &Issue{Key: "PAY-1", Project: "PAY", Type: "Bug", Created: d(-3), Updated: d(-1), Status: toDo, Components: []string{"Payments", "ledger"}}
	b, err := is.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if b[0] != RecordVersion {
		t.Fatalf("version %d", b[0])
	}
	var got Issue
	if err := got.UnmarshalBinary(b); err != nil || fmt.Sprint(got.Components) != "[Payments ledger]" {
		t.Fatalf("decoded %v (%v)", got.Components, err)
	}
	m := NewModel(Categories{})
	if err := m.PutRecord(b); err != nil {
		t.Fatal(err)
	}
	back, _ := m.Issue("PAY-1")
	if fmt.Sprint(back.Components) != "[Payments ledger]" {
		t.Fatalf("the model gives back %v", back.Components)
	}
	m.SetTeams([]Team{{Name: "ledger", Components: []string{"LEDGER"}}, {Name: "other", Components: []string{"web"}}})
	for team, want := range map[string]float64{"ledger": 1, "other": 0} {
		v, _, err := m.Value(Query{Metric: MetricInflow, Filter: Filter{Scope: TeamScope(team)}, Window: LastDays(d(0), 7*day)}, d(0))
		if err != nil || v != want {
			t.Errorf("inflow of team %s: %v (%v), want %v", team, v, err, want)
		}
	}
}
