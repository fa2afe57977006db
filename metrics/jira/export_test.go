package jira

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// TestOnePassExportsWhatEachScopeGives compares the exporter, which adds
// each issue to all its scopes in one pass, with the series computed
// scope by scope as okrd did before: for each scope (the whole source,
// each project, each board) a pass over the issues the scope's filter
// matches. Over a generated source with projects and types that differ
// only in case, a project board named in another case, filter boards,
// issues outside the scope, at random instants and at event instants,
// under two category sets.
func TestOnePassExportsWhatEachScopeGives(t *testing.T) {
	w := genWorld(3, 300)
	rng := rand.New(rand.NewPCG(7, 8))
	for i := range 12 {
		is := &Issue{Key: fmt.Sprintf("pay-%d", i+1), Project: "pay", Type: []string{"bug", "Bug", "STORY"}[i%3],
			Created: w.origin.Add(time.Duration(i) * 9 * day), Status: inProgress}
		if i%2 == 0 {
			is.Transitions = []Transition{{At: is.Created.Add(2 * day), From: toDo, To: inProgress}, {At: is.Created.Add(5 * day), From: inProgress, To: done}}
			is.Status = done
		}
		if i%4 == 0 {
			is.Boards = []int{3}
		}
		w.issues = append(w.issues, is)
	}
	w.boards = append(w.boards, &Board{ID: 5, Name: "Payments, any case", Type: "kanban", Projects: []string{"pay", "PAY", "NOPE"}})
	for ci, cs := range categorySets[:2] {
		m := w.model(cs.c)
		opts := DefaultExportOptions()
		// The investment balance by count under one category set, by
		// points under the other.
		opts.Investment = testInvestment(w, []string{"", "sp"}[ci])
		m.SetTeams(exportTeams)
		for _, instant := range w.instantsOf(rng, 5, 5) {
			if got := m.Len(); got != len(w.issues) {
				t.Fatalf("model holds %d issues, want %d", got, len(w.issues))
			}
			e := NewExporter("jira")
			e.Update(m, instant, opts)
			ref := NewExporter("jira")
			out := exportPerScope(m, ref, instant, opts)
			ref.cur.Store(&out)
			if got, want := gatherExport(t, e), gatherExport(t, ref); got != want {
				t.Errorf("%s: series at %s differ from the per-scope ones:\n%s", cs.name, instant.Format(time.RFC3339), diffLines(got, want))
			}
		}
	}
}

// exportTeams are teams over the generated world: by project, by a
// project board and a filter board, by components, by all three, and one
// that selects nothing the source holds.
var exportTeams = []Team{
	{Name: "pay", Projects: []string{"PAY"}},
	{Name: "boards", Boards: []int{2, 3}},
	{Name: "comps", Components: []string{"payments", "LEDGER"}},
	{Name: "mixed", Projects: []string{"web"}, Boards: []int{3, 1}, Components: []string{"Ledger"}},
	{Name: "nothing", Projects: []string{"NOPE"}, Boards: []int{99}, Components: []string{"none"}},
}

// exportPerScope is the export computed one scope at a time, each scope
// by its own pass, with the model's filters.
func exportPerScope(m *Model, e *Exporter, now time.Time, opts ExportOptions) []prometheus.Metric {
	var out []prometheus.Metric
	t := nanos(now)
	scopes := append([]string{""}, m.projectsAt(t)...)
	for _, b := range m.Boards() {
		scopes = append(scopes, BoardScope(b.ID))
	}
	for _, tm := range m.Teams() {
		scopes = append(scopes, TeamScope(tm.Name))
	}
	var v view
	for _, scope := range scopes {
		mt := m.matcher(Filter{Scope: scope})
		type perWindow struct {
			w                  span
			throughput, inflow map[string]int
			lead, cycle        []float64
		}
		pws := make([]perWindow, len(opts.Windows))
		for i, w := range opts.Windows {
			pws[i] = perWindow{w: LastDays(now, w.Dur).span(), throughput: map[string]int{}, inflow: map[string]int{}}
		}
		types := map[string]bool{}
		var ages []float64
		for i := range m.facts {
			x := &m.facts[i]
			if x.created > t || !mt.match(m, x) {
				continue
			}
			ty := m.types.strs[x.typ]
			types[ty] = true
			m.spans(x, &v)
			ds, isDone := doneAt(v.done, t)
			for i := range pws {
				pw := &pws[i]
				if isDone && pw.w.contains(ds.at) {
					pw.throughput[ty]++
					pw.lead = append(pw.lead, x.lead(ds))
					if x.cycles(ds) {
						pw.cycle = append(pw.cycle, x.cycle(ds))
					}
				}
				if pw.w.contains(x.created) {
					pw.inflow[ty]++
				}
			}
			if base, ok := wipAt(v.wip, t); ok {
				ages = append(ages, age(t, base))
			}
		}
		label, team := scope, ""
		if label == "" {
			label = AllLabel
		}
		if name, ok := ParseTeamScope(scope); ok {
			label, team = "", name
		}
		var typeList []string
		for ty := range types {
			typeList = append(typeList, ty)
		}
		sort.Strings(typeList)
		for i, w := range opts.Windows {
			pw := &pws[i]
			total, in := 0, 0
			for _, ty := range typeList {
				e.gauge(&out, "okrd_jira_throughput", float64(pw.throughput[ty]), label, team, ty, w.Label)
				e.gauge(&out, "okrd_jira_inflow", float64(pw.inflow[ty]), label, team, ty, w.Label)
				total += pw.throughput[ty]
				in += pw.inflow[ty]
			}
			e.gauge(&out, "okrd_jira_throughput", float64(total), label, team, AllLabel, w.Label)
			e.gauge(&out, "okrd_jira_inflow", float64(in), label, team, AllLabel, w.Label)
			sort.Float64s(pw.lead)
			sort.Float64s(pw.cycle)
			e.summary(&out, "okrd_jira_lead_time_seconds", pw.lead, opts.Quantiles, label, team, w.Label)
			e.summary(&out, "okrd_jira_cycle_time_seconds", pw.cycle, opts.Quantiles, label, team, w.Label)
		}
		if inv := opts.Investment; inv != nil {
			// Per scope and window, as a key result measures it.
			for _, w := range opts.Windows {
				per, total := m.InvestmentOf(inv, Filter{Scope: scope}, LastDays(now, w.Dur), now)
				for ci, name := range inv.Names() {
					e.gauge(&out, "okrd_jira_investment_throughput", per[ci], label, team, name, w.Label)
					if total > 0 {
						e.gauge(&out, "okrd_jira_investment_share_ratio", per[ci]/total, label, team, name, w.Label)
					}
				}
			}
		}
		e.gauge(&out, "okrd_jira_wip", float64(len(ages)), label, team)
		if len(ages) > 0 {
			sort.Float64s(ages)
			e.summary(&out, "okrd_jira_wip_age_seconds", ages, opts.Quantiles, label, team)
			e.gauge(&out, "okrd_jira_wip_age_max_seconds", ages[len(ages)-1], label, team)
		}
	}
	// The sprint series are not the subject here: the exporter's own.
	series, _ := m.export(e, now, opts, nil)
	for _, mt := range series {
		if d := mt.Desc().String(); sprintDesc(d) {
			out = append(out, mt)
		}
	}
	// A team's boards, those the source tracks.
	for _, tm := range m.Teams() {
		for _, id := range tm.Boards {
			if _, ok := m.Board(id); ok {
				e.gauge(&out, "okrd_jira_team_board", 1, tm.Name, fmt.Sprint(id))
			}
		}
	}
	return out
}

func sprintDesc(d string) bool { return strings.Contains(d, `fqName: "okrd_jira_sprint_`) }

func gatherExport(t *testing.T, e *Exporter) string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(e)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	return buf.String()
}
