package jira

import (
	"cmp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/okrd/okrd/metrics/quantile"
)

// ExportWindow is a window of the exported windowed series.
type ExportWindow struct {
	Label string // the label value, e.g. "28d"
	Dur   time.Duration
}

// ExportOptions says which series to compute.
type ExportOptions struct {
	Windows   []ExportWindow
	Quantiles []float64
	// Sprints is how many closed sprints per board are exported.
	Sprints int
	// Investment, when set, adds the investment balance per scope and
	// window (okrd_jira_investment_*).
	Investment *Investment
}

// DefaultExportOptions: windows of 7, 28 and 90 days, quantiles 0.5, 0.85
// and 0.95, the latest 6 closed sprints of each board.
func DefaultExportOptions() ExportOptions {
	const day = 24 * time.Hour
	return ExportOptions{
		Windows:   []ExportWindow{{"7d", 7 * day}, {"28d", 28 * day}, {"90d", 90 * day}},
		Quantiles: []float64{0.5, 0.85, 0.95},
		Sprints:   DefaultSprints,
	}
}

// AllLabel is the scope and issue_type label value of figures over the
// whole source or over every issue type. Project keys are upper case, so
// it cannot clash with one.
const AllLabel = "all"

// Exporter is the prometheus.Collector of one Jira source's delivery
// series. Update computes them (after a poll); Collect only sends what the
// last Update computed, so a scrape never touches the store or the API.
// Every series carries the source name as a constant label, which also
// keeps the descriptors of two Jira sources apart in one registry.
type Exporter struct {
	descs   map[string]*prometheus.Desc
	order   []string
	cur     atomic.Pointer[[]prometheus.Metric]
	quality atomic.Pointer[Quality]
	// inv is the investment balance the last Update computed, at at.
	inv atomic.Pointer[[]InvestmentFigures]
	at  atomic.Pointer[time.Time]
}

// UpdatedAt is the instant of the last Update (zero before one).
func (e *Exporter) UpdatedAt() time.Time {
	if p := e.at.Load(); p != nil {
		return *p
	}
	return time.Time{}
}

// InvestmentFigures is the investment balance of one scope over one
// window: the throughput of each category (in the order of
// Investment.Names) and the total.
type InvestmentFigures struct {
	Scope, Window string
	Per           []float64
	Total         float64
}

// Investment returns the investment balance the last Update computed,
// by scope (the whole source, then projects, then boards) and window.
func (e *Exporter) Investment() []InvestmentFigures {
	if p := e.inv.Load(); p != nil {
		return *p
	}
	return nil
}

// series describes every exported metric: name, help and variable labels.
var series = []struct {
	name, help string
	labels     []string
}{
	{"okrd_jira_throughput", "Issues whose done time is in the window (METRICS.md throughput).", []string{"scope", "team", "issue_type", "window"}},
	{"okrd_jira_inflow", "Issues created in the window.", []string{"scope", "team", "issue_type", "window"}},
	{"okrd_jira_lead_time_seconds", "Done time minus created of the issues done in the window (quantiles, sum and count).", []string{"scope", "team", "window"}},
	{"okrd_jira_cycle_time_seconds", "Done time minus start time of the issues done in the window (quantiles, sum and count).", []string{"scope", "team", "window"}},
	{"okrd_jira_wip", "Issues whose current status is in progress.", []string{"scope", "team"}},
	{"okrd_jira_wip_age_seconds", "Age (now minus start time) of the work in progress (quantiles, sum and count).", []string{"scope", "team"}},
	{"okrd_jira_wip_age_max_seconds", "Age of the oldest work in progress.", []string{"scope", "team"}},
	{"okrd_jira_sprint_committed_issues", "Issues in the sprint at its start.", []string{"board", "sprint", "sprint_name"}},
	{"okrd_jira_sprint_completed_issues", "Committed issues in the sprint and done at its completion.", []string{"board", "sprint", "sprint_name"}},
	{"okrd_jira_sprint_added_issues", "Issues that joined the sprint after its start.", []string{"board", "sprint", "sprint_name"}},
	{"okrd_jira_sprint_removed_issues", "Committed issues no longer in the sprint at its completion.", []string{"board", "sprint", "sprint_name"}},
	{"okrd_jira_sprint_say_do_ratio", "Completed over committed, by issue count or by story points.", []string{"board", "sprint", "sprint_name", "by"}},
	{"okrd_jira_sprint_committed_points", "Story points in the sprint at its start (estimates as of the start).", []string{"board", "sprint", "sprint_name"}},
	{"okrd_jira_sprint_completed_points", "Story points of the completed committed issues (estimates at completion).", []string{"board", "sprint", "sprint_name"}},
	{"okrd_jira_sprint_added_points", "Story points of the issues added after the start (estimates at completion).", []string{"board", "sprint", "sprint_name"}},
	{"okrd_jira_sprint_velocity_points", "Story points completed in the sprint, committed or added.", []string{"board", "sprint", "sprint_name"}},
	{"okrd_jira_sprint_completed_timestamp_seconds", "When the sprint was completed, as a Unix time.", []string{"board", "sprint", "sprint_name"}},
	{"okrd_jira_investment_throughput", "Throughput of an investment category in the window: done issues, or their story points with investment.by = \"points\".", []string{"scope", "team", "category", "window"}},
	{"okrd_jira_investment_share_ratio", "Share of the window's throughput that went to an investment category (absent without throughput).", []string{"scope", "team", "category", "window"}},
	{"okrd_jira_team_board", "1 for each board of each team that the source tracks (join the sprint series on board).", []string{"team", "board"}},
}

// NewExporter returns the collector of the source's series.
func NewExporter(source string) *Exporter {
	e := &Exporter{descs: map[string]*prometheus.Desc{}}
	for _, s := range series {
		e.descs[s.name] = prometheus.NewDesc(s.name, s.help, s.labels, prometheus.Labels{"source": source})
		e.order = append(e.order, s.name)
	}
	empty := []prometheus.Metric{}
	e.cur.Store(&empty)
	return e
}

// Describe sends every descriptor.
func (e *Exporter) Describe(ch chan<- *prometheus.Desc) {
	for _, name := range e.order {
		ch <- e.descs[name]
	}
}

// Collect sends the series computed by the last Update.
func (e *Exporter) Collect(ch chan<- prometheus.Metric) {
	for _, m := range *e.cur.Load() {
		ch <- m
	}
}

// Len returns the number of series the last Update computed.
func (e *Exporter) Len() int { return len(*e.cur.Load()) }

// Update computes every series from the model at now and swaps them in.
func (e *Exporter) Update(m *Model, now time.Time, opts ExportOptions) {
	var inv []InvestmentFigures
	out, q := m.export(e, now, opts, &inv)
	e.cur.Store(&out)
	e.quality.Store(&q)
	e.inv.Store(&inv)
	e.at.Store(&now)
}

// Quality returns what the data-quality checks found in the last Update;
// nil before the first.
func (e *Exporter) Quality() *Quality { return e.quality.Load() }

func (e *Exporter) gauge(out *[]prometheus.Metric, name string, v float64, labels ...string) {
	*out = append(*out, prometheus.MustNewConstMetric(e.descs[name], prometheus.GaugeValue, v, labels...))
}

// summary appends a summary of sorted values: the quantiles (by linear
// interpolation, as everywhere in okrd), their sum and count. An empty set
// has no series at all.
func (e *Exporter) summary(out *[]prometheus.Metric, name string, sorted []float64, qs []float64, labels ...string) {
	if len(sorted) == 0 {
		return
	}
	sum := 0.0
	for _, v := range sorted {
		sum += v
	}
	quantiles := make(map[float64]float64, len(qs))
	for _, q := range qs {
		quantiles[q], _ = quantile.Sorted(sorted, q)
	}
	*out = append(*out, prometheus.MustNewConstSummary(e.descs[name], uint64(len(sorted)), sum, quantiles, labels...))
}

// exportValue is a duration of one issue for the export: its lead time,
// cycle time or WIP age, with its done time for the first two.
type exportValue struct {
	v     float64
	at    int64
	group int32 // the scopes it counts in (see export)
}

// scopeAcc accumulates one scope's figures in the export's pass.
type scopeAcc struct {
	types      []bool  // issue types seen, by number
	throughput [][]int // per window, per type
	inflow     [][]int
	lead       [][]float64 // per window, sorted
	cycle      [][]float64
	wip        int
	ages       []float64 // sorted
	// invest is the throughput per window and investment category, and
	// investTotal per window, summed in model order.
	invest      [][]float64
	investTotal []float64
}

func newScopeAcc(windows, types, categories int) *scopeAcc {
	a := &scopeAcc{types: make([]bool, types), throughput: make([][]int, windows), inflow: make([][]int, windows),
		lead: make([][]float64, windows), cycle: make([][]float64, windows)}
	for i := range windows {
		a.throughput[i] = make([]int, types)
		a.inflow[i] = make([]int, types)
	}
	if categories > 0 {
		a.invest = make([][]float64, windows)
		a.investTotal = make([]float64, windows)
		for i := range windows {
			a.invest[i] = make([]float64, categories)
		}
	}
	return a
}

// export computes the series as of now (see Value): over the issues and
// sprints as they stood at now. One pass over the issues feeds every
// scope and window at once: each issue adds to the whole source, to its
// project and to each board that selects it, found through tables made
// once per pass (by project, and by list of boards) rather than by
// matching the issue against every scope.
func (m *Model) export(e *Exporter, now time.Time, opts ExportOptions, inv *[]InvestmentFigures) ([]prometheus.Metric, Quality) {
	var out []prometheus.Metric
	t := nanos(now)
	// The data-quality checks ride on the same pass (quality.go).
	qspan := LastDays(now, QualityWindow).span()
	var doneNoStart latestFacts
	nw, nt := len(opts.Windows), len(m.types.strs)
	spans := make([]span, nw)
	for i, w := range opts.Windows {
		spans[i] = LastDays(now, w.Dur).span()
	}
	// Accumulators: the whole source, then one per upper-case project,
	// then one per board, then one per team.
	boards := m.Boards()
	teams := m.Teams()
	nu := len(m.upper.strs)
	accs := make([]*scopeAcc, 1+nu+len(boards)+len(teams))
	var cls *classifier
	ncat := 0
	if inv := opts.Investment; inv != nil && len(inv.Categories) > 0 {
		cls = m.classifier(inv)
		ncat = cls.other + 1
	}
	for i := range accs {
		accs[i] = newScopeAcc(nw, nt, ncat)
	}
	// byProject lists, per upper-case project, the accumulators its
	// issues add to besides the whole source's: its own and those of the
	// boards whose filter selects it; byBoards, per list of boards, those
	// of the boards by filter on it (filled in as lists turn up).
	byProject := make([][]int, nu)
	for u := range byProject {
		byProject[u] = []int{1 + u}
	}
	var filterBoards []int
	for bi, b := range boards {
		if b.ByFilter {
			filterBoards = append(filterBoards, bi)
			continue
		}
		for _, p := range b.Projects {
			if u, ok := m.upper.lookup(strings.ToUpper(p)); ok && !slices.Contains(byProject[u], 1+nu+bi) {
				byProject[u] = append(byProject[u], 1+nu+bi)
			}
		}
	}
	byBoards := make([][]int, len(m.sets.sets))
	boardsSeen := make([]bool, len(m.sets.sets))
	seen := make([]bool, len(m.projects.strs))

	// A team is one more scope an issue adds to: whether it does depends
	// on its project, its list of boards and its list of components, so
	// it is worked out once per group of issues that share these.
	tms := make([]*teamMatcher, len(teams))
	byComps := false
	for ti, t := range teams {
		tms[ti] = m.teamMatcher(t)
		byComps = byComps || len(t.Components) > 0
	}
	// groups are the lists of accumulators issues add to, one per
	// upper-case project, list of boards and (when a team selects by
	// them) list of components met.
	type groupKey struct{ proj, boards, comps uint32 }
	var groups [][]*scopeAcc
	groupOf := map[groupKey]int32{}
	group := func(x *fact) int32 {
		k := groupKey{proj: m.projUpper[x.proj], boards: x.boards}
		if byComps {
			k.comps = x.comps
		}
		if g, ok := groupOf[k]; ok {
			return g
		}
		if !boardsSeen[x.boards] {
			boardsSeen[x.boards] = true
			for _, bi := range filterBoards {
				if m.sets.has(x.boards, boards[bi].ID) {
					byBoards[x.boards] = append(byBoards[x.boards], 1+nu+bi)
				}
			}
		}
		l := []*scopeAcc{accs[0]}
		for _, ai := range byProject[m.projUpper[x.proj]] {
			l = append(l, accs[ai])
		}
		for _, ai := range byBoards[x.boards] {
			l = append(l, accs[ai])
		}
		for ti, tm := range tms {
			if tm.match(m, x) {
				l = append(l, accs[1+nu+len(boards)+ti])
			}
		}
		g := int32(len(groups))
		groups = append(groups, l)
		groupOf[k] = g
		return g
	}
	// The durations are collected over all scopes, sorted once, and then
	// handed to each scope and window in order: every list comes out
	// sorted, for a fraction of the cost of sorting each.
	var leads, cycles, ages []exportValue
	var v, pv view
	doneIn := make([]bool, nw)
	last, lastGroup := (*fact)(nil), int32(0)
	for fi := range m.facts {
		x := &m.facts[fi]
		if x.created > t || x.outside() {
			continue
		}
		seen[x.proj] = true
		g := lastGroup
		if last == nil || x.proj != last.proj || x.boards != last.boards || byComps && x.comps != last.comps {
			g = group(x)
			last, lastGroup = x, g
		}
		m.spans(x, &v)
		ds, done := doneAt(v.done, t)
		anyWindow := false
		for i := range spans {
			doneIn[i] = done && spans[i].contains(ds.at)
			anyWindow = anyWindow || doneIn[i]
		}
		if done && !x.cycles(ds) && qspan.contains(ds.at) {
			doneNoStart.add(ds.at, fi)
		}
		if anyWindow {
			leads = append(leads, exportValue{v: x.lead(ds), at: ds.at, group: g})
			if x.cycles(ds) {
				cycles = append(cycles, exportValue{v: x.cycle(ds), at: ds.at, group: g})
			}
		}
		base, inProgress := wipAt(v.wip, t)
		if inProgress {
			ages = append(ages, exportValue{v: age(t, base), group: g})
		}
		cat, wt := 0, 0.0
		if cls != nil && anyWindow {
			cat, wt = cls.category(x), cls.weight(x, ds.at, &pv)
		}
		for _, a := range groups[g] {
			a.types[x.typ] = true
			for i := range spans {
				if doneIn[i] {
					a.throughput[i][x.typ]++
					if cls != nil {
						a.invest[i][cat] += wt
						a.investTotal[i] += wt
					}
				}
				if spans[i].contains(x.created) {
					a.inflow[i][x.typ]++
				}
			}
			if inProgress {
				a.wip++
			}
		}
	}
	// Each list takes the room its counts say it needs.
	for _, a := range accs {
		for i := range spans {
			n := 0
			for _, c := range a.throughput[i] {
				n += c
			}
			a.lead[i] = make([]float64, 0, n)
			a.cycle[i] = make([]float64, 0, n)
		}
		a.ages = make([]float64, 0, a.wip)
	}
	byValue := func(a, b exportValue) int { return cmp.Compare(a.v, b.v) }
	slices.SortFunc(leads, byValue)
	slices.SortFunc(cycles, byValue)
	slices.SortFunc(ages, byValue)
	for _, ev := range leads {
		for _, a := range groups[ev.group] {
			for i := range spans {
				if spans[i].contains(ev.at) {
					a.lead[i] = append(a.lead[i], ev.v)
				}
			}
		}
	}
	for _, ev := range cycles {
		for _, a := range groups[ev.group] {
			for i := range spans {
				if spans[i].contains(ev.at) {
					a.cycle[i] = append(a.cycle[i], ev.v)
				}
			}
		}
	}
	for _, ev := range ages {
		for _, a := range groups[ev.group] {
			a.ages = append(a.ages, ev.v)
		}
	}

	emit := func(label, team string, a *scopeAcc) {
		typeList := make([]int, 0, nt)
		for ty, ok := range a.types {
			if ok {
				typeList = append(typeList, ty)
			}
		}
		sort.Slice(typeList, func(i, j int) bool { return m.types.strs[typeList[i]] < m.types.strs[typeList[j]] })
		for i, w := range opts.Windows {
			total, in := 0, 0
			for _, ty := range typeList {
				name := m.types.strs[ty]
				e.gauge(&out, "okrd_jira_throughput", float64(a.throughput[i][ty]), label, team, name, w.Label)
				e.gauge(&out, "okrd_jira_inflow", float64(a.inflow[i][ty]), label, team, name, w.Label)
				total += a.throughput[i][ty]
				in += a.inflow[i][ty]
			}
			e.gauge(&out, "okrd_jira_throughput", float64(total), label, team, AllLabel, w.Label)
			e.gauge(&out, "okrd_jira_inflow", float64(in), label, team, AllLabel, w.Label)
			e.summary(&out, "okrd_jira_lead_time_seconds", a.lead[i], opts.Quantiles, label, team, w.Label)
			e.summary(&out, "okrd_jira_cycle_time_seconds", a.cycle[i], opts.Quantiles, label, team, w.Label)
		}
		if cls != nil {
			names := opts.Investment.Names()
			for i, w := range opts.Windows {
				if inv != nil {
					sc := label
					if team != "" {
						sc = "team:" + team
					}
					*inv = append(*inv, InvestmentFigures{Scope: sc, Window: w.Label, Per: a.invest[i], Total: a.investTotal[i]})
				}
				for ci, name := range names {
					e.gauge(&out, "okrd_jira_investment_throughput", a.invest[i][ci], label, team, name, w.Label)
					if v, ok := investmentShare(a.invest[i], a.investTotal[i], ci); ok {
						e.gauge(&out, "okrd_jira_investment_share_ratio", v, label, team, name, w.Label)
					}
				}
			}
		}
		e.gauge(&out, "okrd_jira_wip", float64(a.wip), label, team)
		if len(a.ages) > 0 {
			e.summary(&out, "okrd_jira_wip_age_seconds", a.ages, opts.Quantiles, label, team)
			e.gauge(&out, "okrd_jira_wip_age_max_seconds", a.ages[len(a.ages)-1], label, team)
		}
	}
	emit(AllLabel, "", accs[0])
	for _, p := range m.projectNames(seen) {
		// A project scope matches its project's issues in any case.
		u, _ := m.upper.lookup(strings.ToUpper(p))
		emit(p, "", accs[1+u])
	}
	for bi, b := range boards {
		emit(BoardScope(b.ID), "", accs[1+nu+bi])
	}
	// A team's series have the team label and no scope.
	for ti, t := range teams {
		emit("", t.Name, accs[1+nu+len(boards)+ti])
		for _, id := range t.Boards {
			if _, ok := m.boards[id]; ok {
				e.gauge(&out, "okrd_jira_team_board", 1, t.Name, strconv.Itoa(id))
			}
		}
	}

	// Sprint series: the latest closed sprints of each board, in one pass.
	var sprints []*Sprint
	for _, b := range m.Boards() {
		sprints = append(sprints, m.closedSprintsAt(b.ID, opts.Sprints, t)...)
	}
	var unestimated sprintQuality
	for _, r := range m.sprintReportsQuality(sprints, t, &unestimated) {
		s := r.Sprint
		l := []string{strconv.Itoa(s.Board), strconv.Itoa(s.ID), s.Name}
		e.gauge(&out, "okrd_jira_sprint_committed_issues", float64(r.Committed), l...)
		e.gauge(&out, "okrd_jira_sprint_completed_issues", float64(r.Completed), l...)
		e.gauge(&out, "okrd_jira_sprint_added_issues", float64(r.Added), l...)
		e.gauge(&out, "okrd_jira_sprint_removed_issues", float64(r.Removed), l...)
		e.gauge(&out, "okrd_jira_sprint_completed_timestamp_seconds", float64(s.Complete.UnixMilli())/1000, l...)
		if v, ok := r.SayDo(); ok {
			e.gauge(&out, "okrd_jira_sprint_say_do_ratio", v, append(l, "issues")...)
		}
		if r.HasPoints {
			e.gauge(&out, "okrd_jira_sprint_committed_points", r.CommittedPoints, l...)
			e.gauge(&out, "okrd_jira_sprint_completed_points", r.CompletedPoints, l...)
			e.gauge(&out, "okrd_jira_sprint_added_points", r.AddedPoints, l...)
			e.gauge(&out, "okrd_jira_sprint_velocity_points", r.Velocity, l...)
			if v, ok := r.SayDoPoints(); ok {
				e.gauge(&out, "okrd_jira_sprint_say_do_ratio", v, append(l, "points")...)
			}
		}
	}
	q := Quality{DoneWithoutStart: doneNoStart.result(m), GuessedStatuses: m.guessedStatuses(),
		UnestimatedSprintIssues: QualityCount{Count: unestimated.count}}
	for _, pos := range unestimated.pos {
		q.UnestimatedSprintIssues.Examples = append(q.UnestimatedSprintIssues.Examples, m.keys.key(pos))
	}
	return out, q
}
