package jira

import (
	"sort"
	"strconv"
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
	descs map[string]*prometheus.Desc
	order []string
	cur   atomic.Pointer[[]prometheus.Metric]
}

// series describes every exported metric: name, help and variable labels.
var series = []struct {
	name, help string
	labels     []string
}{
	{"okrd_jira_throughput", "Issues whose done time is in the window (METRICS.md throughput).", []string{"scope", "issue_type", "window"}},
	{"okrd_jira_inflow", "Issues created in the window.", []string{"scope", "issue_type", "window"}},
	{"okrd_jira_lead_time_seconds", "Done time minus created of the issues done in the window (quantiles, sum and count).", []string{"scope", "window"}},
	{"okrd_jira_cycle_time_seconds", "Done time minus start time of the issues done in the window (quantiles, sum and count).", []string{"scope", "window"}},
	{"okrd_jira_wip", "Issues whose current status is in progress.", []string{"scope"}},
	{"okrd_jira_wip_age_seconds", "Age (now minus start time) of the work in progress (quantiles, sum and count).", []string{"scope"}},
	{"okrd_jira_wip_age_max_seconds", "Age of the oldest work in progress.", []string{"scope"}},
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
	out := m.export(e, now, opts)
	e.cur.Store(&out)
}

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

// export computes the series as of now (see Value): over the issues and
// sprints as they stood at now. Each scope is one pass over the issues
// that feeds every window at once.
func (m *Model) export(e *Exporter, now time.Time, opts ExportOptions) []prometheus.Metric {
	var out []prometheus.Metric
	t := nanos(now)
	scopes := []string{""}
	scopes = append(scopes, m.projectsAt(t)...)
	for _, b := range m.Boards() {
		scopes = append(scopes, BoardScope(b.ID))
	}
	type perWindow struct {
		w          span
		throughput map[string]int
		inflow     map[string]int
		lead       []float64
		cycle      []float64
	}
	for _, scope := range scopes {
		mt := m.matcher(Filter{Scope: scope})
		pws := make([]perWindow, len(opts.Windows))
		for i, w := range opts.Windows {
			pws[i] = perWindow{w: LastDays(now, w.Dur).span(), throughput: map[string]int{}, inflow: map[string]int{}}
		}
		types := map[string]bool{}
		wip := 0
		var ages []float64
		for fi := range m.facts {
			x := &m.facts[fi]
			if x.created > t || !mt.match(x) {
				continue
			}
			types[x.is.Type] = true
			ds, done := x.doneAt(t)
			for i := range pws {
				pw := &pws[i]
				if done && pw.w.contains(ds.at) {
					pw.throughput[x.is.Type]++
					pw.lead = append(pw.lead, x.lead(ds))
					if x.cycles(ds) {
						pw.cycle = append(pw.cycle, x.cycle(ds))
					}
				}
				if pw.w.contains(x.created) {
					pw.inflow[x.is.Type]++
				}
			}
			if base, ok := x.wipAt(t); ok {
				wip++
				ages = append(ages, age(t, base))
			}
		}
		label := scope
		if label == "" {
			label = AllLabel
		}
		typeList := make([]string, 0, len(types))
		for t := range types {
			typeList = append(typeList, t)
		}
		sort.Strings(typeList)
		for i, w := range opts.Windows {
			pw := &pws[i]
			total, in := 0, 0
			for _, t := range typeList {
				e.gauge(&out, "okrd_jira_throughput", float64(pw.throughput[t]), label, t, w.Label)
				e.gauge(&out, "okrd_jira_inflow", float64(pw.inflow[t]), label, t, w.Label)
				total += pw.throughput[t]
				in += pw.inflow[t]
			}
			e.gauge(&out, "okrd_jira_throughput", float64(total), label, AllLabel, w.Label)
			e.gauge(&out, "okrd_jira_inflow", float64(in), label, AllLabel, w.Label)
			sortFloats(pw.lead)
			sortFloats(pw.cycle)
			e.summary(&out, "okrd_jira_lead_time_seconds", pw.lead, opts.Quantiles, label, w.Label)
			e.summary(&out, "okrd_jira_cycle_time_seconds", pw.cycle, opts.Quantiles, label, w.Label)
		}
		e.gauge(&out, "okrd_jira_wip", float64(wip), label)
		if len(ages) > 0 {
			sortFloats(ages)
			e.summary(&out, "okrd_jira_wip_age_seconds", ages, opts.Quantiles, label)
			e.gauge(&out, "okrd_jira_wip_age_max_seconds", ages[len(ages)-1], label)
		}
	}

	// Sprint series: the latest closed sprints of each board, in one pass.
	var sprints []*Sprint
	for _, b := range m.Boards() {
		sprints = append(sprints, m.closedSprintsAt(b.ID, opts.Sprints, t)...)
	}
	for _, r := range m.sprintReportsAt(sprints, t) {
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
	return out
}

func sortFloats(xs []float64) { sort.Float64s(xs) }
