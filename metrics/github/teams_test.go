package github

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// only keeps the world's records of some repositories: the records of a
// team, as a source of their own would hold them. Incidents of the whole
// source (no repository) stay.
func (w world) only(repos ...string) world {
	in := func(r string) bool { return r == "" || slices.Contains(repos, r) }
	out := world{signal: w.signal, repos: repos, attribution: w.attribution}
	for _, p := range w.prs {
		if in(p.repo) {
			out.prs = append(out.prs, p)
		}
	}
	for _, d := range w.deployments {
		if in(d.repo) {
			out.deployments = append(out.deployments, d)
		}
	}
	for _, r := range w.releases {
		if in(r.repo) {
			out.releases = append(out.releases, r)
		}
	}
	for _, r := range w.runs {
		if in(r.repo) {
			out.runs = append(out.runs, r)
		}
	}
	for _, inc := range w.incidents {
		if in(inc.Repo) {
			out.incidents = append(out.incidents, inc)
		}
	}
	return out
}

// A team's figures are the figures over the union of its repositories'
// records: computed from an index of the whole source, they equal the
// whole-source figures of an index that holds only the team's records,
// for every metric, window, quantile and instant (live and as of the
// past). A repository the team names twice (by name and by a glob that
// the collector resolved to it too) counts once.
func TestATeamsMetricsAreTheMetricsOverTheUnionOfItsRecords(t *testing.T) {
	start := time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC)
	const days = 200
	period := WindowRule{Period: true, Start: time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	rules := []WindowRule{{Last: 7 * 24 * time.Hour}, {Last: 28 * 24 * time.Hour}, {Last: 90 * 24 * time.Hour}, period}
	quantiles := []float64{0.5, 0.85, 0.95, 1}
	for ci, signal := range []string{"deployments", "releases", "workflow_runs"} {
		t.Run(signal, func(t *testing.T) {
			w := genWorld(uint64(ci+11), signal, false, start, days)
			data := w.full()
			data.Teams = []Team{
				{Name: "pay", Repos: []string{"acme/web", "acme/ops", "ACME/WEB"}},
				{Name: "empty"},
			}
			data.Investment = testInvestment
			full := NewIndex(data)
			unionData := w.only("acme/web", "acme/ops").full()
			unionData.Investment = testInvestment
			union := NewIndex(unionData)
			if got := full.TeamRepos("pay"); !slices.Equal(got, []string{"acme/ops", "acme/web"}) {
				t.Fatalf("team repositories %v, want [acme/ops acme/web]", got)
			}
			if got := full.Teams(); !slices.Equal(got, []string{"empty", "pay"}) {
				t.Fatalf("teams %v", got)
			}
			rng := rand.New(rand.NewPCG(uint64(ci), 3))
			ats := w.instants(rng, start.Add(-5*24*time.Hour), days+10, 40)
			ats = append(ats, start.Add(days*24*time.Hour+time.Hour))
			// The investment balance by category, as of each instant.
			shares := 0
			for _, rule := range rules {
				for _, cat := range testInvestment.Names() {
					for _, at := range ats {
						win := rule.At(at)
						want, wantOK, err1 := union.InvestmentShare("", cat, win, at)
						got, gotOK, err2 := full.InvestmentShare(TeamScope("pay"), cat, win, at)
						if err1 != nil || err2 != nil || got != want || gotOK != wantOK {
							t.Fatalf("investment_share %s at %s: team %v (%v, %v), union %v (%v, %v)", cat, at, got, gotOK, err2, want, wantOK, err1)
						}
						if wantOK && want > 0 && want < 1 {
							shares++
						}
					}
				}
			}
			if shares == 0 {
				t.Error("no investment share strictly between 0 and 1 was compared")
			}
			var teamQs, unionQs []HistoryQuery
			for _, m := range Metrics {
				if m.Name == MetricInvestmentShare {
					continue // by category, above
				}
				qsOf := []float64{DefaultQuantile}
				if m.Distribution {
					qsOf = quantiles
				}
				for _, rule := range rules {
					for _, q := range qsOf {
						teamQs = append(teamQs, HistoryQuery{Metric: m.Name, Repo: TeamScope("pay"), Quantile: q, Window: rule, At: ats})
						unionQs = append(unionQs, HistoryQuery{Metric: m.Name, Repo: "", Quantile: q, Window: rule, At: ats})
					}
				}
			}
			th, uh := full.History(teamQs), union.History(unionQs)
			checked, values := 0, 0
			for qi, q := range teamQs {
				if th[qi].Err != nil || uh[qi].Err != nil {
					t.Fatalf("%s: %v %v", q.Metric, th[qi].Err, uh[qi].Err)
				}
				for i, at := range ats {
					win := q.Window.At(at)
					want, wantOK, _ := union.Value(q.Metric, "", win, q.Quantile, at)
					got, gotOK, _ := full.Value(q.Metric, q.Repo, win, q.Quantile, at)
					h, u := th[qi].Points[i], uh[qi].Points[i]
					if got != want || gotOK != wantOK || h != u {
						t.Fatalf("%s, window %+v, q %v, at %s: team %v (ok %v), history %+v; union of its records %v (ok %v), history %+v",
							q.Metric, q.Window, q.Quantile, at.Format(time.RFC3339), got, gotOK, h, want, wantOK, u)
					}
					checked++
					if wantOK && want != 0 {
						values++
					}
				}
			}
			if values < checked/3 {
				t.Fatalf("only %d of %d comparisons had a value other than 0", values, checked)
			}
			// The exported summaries: the team's are the union's whole
			// source's, after the whole source and each repository.
			now := start.Add(days * 24 * time.Hour)
			windows := []time.Duration{7 * 24 * time.Hour, 28 * 24 * time.Hour}
			sums, usums := full.Summarize(now, windows), union.Summarize(now, windows)
			var team []Summary
			for _, s := range sums {
				if s.Team == "pay" {
					if s.Repo != "" {
						t.Fatalf("a team's summary has the repository %q", s.Repo)
					}
					s.Team = ""
					team = append(team, s)
				}
			}
			if len(team) != len(windows) || fmt.Sprint(team) != fmt.Sprint(usums[:len(windows)]) {
				t.Fatalf("team summaries\n%v\nwant the union's whole source's\n%v", team, usums[:len(windows)])
			}
			if last := sums[len(sums)-1]; last.Team != "pay" {
				t.Fatalf("the summaries do not end with the teams': %+v", last)
			}
			// A team with no repository has no records: counts are 0,
			// distributions have no value.
			if v, ok, _ := full.Value(MetricDeploymentCount, TeamScope("empty"), Last(90*24*time.Hour, now), 0.5, now); !ok || v != 0 {
				t.Fatalf("deployments of a team without repositories: %v (ok %v), want 0", v, ok)
			}
			if _, ok, _ := full.Value(MetricLeadTime, TeamScope("empty"), Last(90*24*time.Hour, now), 0.5, now); ok {
				t.Fatal("a lead time for a team without repositories")
			}
			if full.Scope(TeamScope("nobody")) != nil {
				t.Fatal("a scope for an unknown team")
			}
			t.Logf("%d comparisons, %d with a value", checked, values)
		})
	}
}

// An incident of the whole source (incidents_repo, incidents_source) is
// an outage of every repository: it counts once in a team's time to
// restore, and the deployment it blames is the source's latest successful
// one before it opened, whichever repository that is. A team's failed
// changes are therefore its repositories' failed changes, summed: what a
// repository's figures say is also what its team's say.
func TestATeamCountsAnIncidentOfTheWholeSourceOnceAndItsRepositoriesBlame(t *testing.T) {
	start := time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC)
	w := genWorld(5, "deployments", true, start, 150)
	shared := 0
	for _, in := range w.incidents {
		if in.Repo == "" && !in.ClosedAt.IsZero() {
			shared++
		}
	}
	if shared == 0 {
		t.Fatal("the world has no incident of the whole source")
	}
	data := w.full()
	data.Teams = []Team{{Name: "pay", Repos: []string{"acme/web", "acme/api"}}}
	ix := NewIndex(data)
	now := start.Add(150 * 24 * time.Hour)
	for _, d := range []time.Duration{28 * 24 * time.Hour, 90 * 24 * time.Hour, 150 * 24 * time.Hour} {
		win := Last(d, now)
		team := ix.Scope(TeamScope("pay"))
		web, api := ix.Scope("acme/web"), ix.Scope("acme/api")
		tc, wc, ac := team.DeploymentsAt(win, now), web.DeploymentsAt(win, now), api.DeploymentsAt(win, now)
		if tc.Succeeded != wc.Succeeded+ac.Succeeded || tc.Failed != wc.Failed+ac.Failed || tc.ChangeFailures != wc.ChangeFailures+ac.ChangeFailures {
			t.Fatalf("%v: team deployments %+v, repositories %+v and %+v", d, tc, wc, ac)
		}
		// Time to restore: the repositories' own incidents, and those of
		// the whole source once (each repository has them too).
		want := map[string]int{}
		for _, in := range w.incidents {
			if in.ClosedAt.IsZero() || !(win.From.Before(in.ClosedAt) && !in.ClosedAt.After(win.To)) {
				continue
			}
			if in.Repo == "" || in.Repo == "acme/web" || in.Repo == "acme/api" {
				want[strings.TrimSpace(in.Repo)]++
			}
		}
		n := 0
		for _, c := range want {
			n += c
		}
		if got := team.IncidentsResolved(win); got != n {
			t.Fatalf("%v: team resolved %d incidents, want %d (%v)", d, got, n, want)
		}
		if got := web.IncidentsResolved(win) + api.IncidentsResolved(win) - want[""]; got != n {
			t.Fatalf("%v: the repositories resolved %d once the shared ones are counted once, want %d", d, got, n)
		}
	}
}
