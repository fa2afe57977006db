package app

import (
	"context"
	"encoding/json"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/store"
)

// initiativesCursorSource is the cursor source under which the leader
// stores each source's initiative reports (scope: the source's name), so
// that a follower serves the leader's without searching Jira itself. Like
// healthCursorSource it cannot be a configured source's name.
const initiativesCursorSource = "okrd.initiatives"

// workState holds the last initiative reports of every source, by source.
type workState struct {
	mu      sync.RWMutex
	reports map[string][]collectors.InitiativeReport
	// stored is each source's reports as last read from the store (by a
	// follower), to apply only a change.
	stored map[string]string
}

// trackInitiatives asks a source about the initiatives it tracks, after a
// poll, and keeps and stores the reports.
func (a *App) trackInitiatives(ctx context.Context, r *runner, now time.Time) {
	tr, ok := r.src.(collectors.InitiativeTracker)
	if !ok {
		return
	}
	cfg := a.cfg.Load()
	var reqs []collectors.InitiativeRequest
	for _, o := range cfg.Objectives {
		for _, kr := range o.KeyResults {
			for _, in := range kr.Initiatives {
				if in.Source == r.cfg.Name {
					reqs = append(reqs, collectors.InitiativeRequest{Objective: o, KeyResult: kr, Initiative: in})
				}
			}
		}
	}
	var reps []collectors.InitiativeReport
	if len(reqs) > 0 {
		reps = tr.Initiatives(ctx, reqs, now)
	}
	for _, rep := range reps {
		if rep.Err != "" {
			r.logger.Warn("cannot measure an initiative", "objective", rep.Objective, "key_result", rep.KeyResult, "initiative", rep.Initiative, "err", rep.Err)
		}
	}
	a.setInitiatives(r.cfg.Name, reps)
	data, err := json.Marshal(reps)
	if err != nil {
		return
	}
	err = a.writes().Update(ctx, func(tx store.Tx) error {
		return tx.SetCursor(ctx, initiativesCursorSource, r.cfg.Name, string(data))
	})
	if err != nil && ctx.Err() == nil && !isFenced(err) {
		r.logger.Warn("cannot store the initiatives for the other replicas", "err", err)
	}
}

func (a *App) setInitiatives(source string, reps []collectors.InitiativeReport) {
	w := &a.work
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.reports == nil {
		w.reports = map[string][]collectors.InitiativeReport{}
	}
	w.reports[source] = reps
}

// followInitiatives sets the initiative reports from what the leader
// stored.
func (a *App) followInitiatives(ctx context.Context) error {
	cs, err := a.store.Cursors(ctx, initiativesCursorSource)
	if err != nil {
		return err
	}
	w := &a.work
	for _, c := range cs {
		w.mu.RLock()
		same := w.stored[c.Scope] == c.Value
		w.mu.RUnlock()
		if same {
			continue
		}
		var reps []collectors.InitiativeReport
		if json.Unmarshal([]byte(c.Value), &reps) != nil {
			continue
		}
		a.setInitiatives(c.Scope, reps)
		w.mu.Lock()
		if w.stored == nil {
			w.stored = map[string]string{}
		}
		w.stored[c.Scope] = c.Value
		w.mu.Unlock()
	}
	return nil
}

// Initiatives returns the reports of a key result's initiatives, in the
// order the configuration lists them; an initiative not measured yet has
// a report without a value.
func (a *App) Initiatives(objective, keyResult string) []collectors.InitiativeReport {
	cfg := a.cfg.Load()
	o := cfg.Objective(objective)
	if o == nil {
		return nil
	}
	kr := o.KeyResult(keyResult)
	if kr == nil || len(kr.Initiatives) == 0 {
		return nil
	}
	return a.initiativesOf(o, kr)
}

func (a *App) initiativesOf(o *config.Objective, kr *config.KeyResult) []collectors.InitiativeReport {
	w := &a.work
	w.mu.RLock()
	defer w.mu.RUnlock()
	out := make([]collectors.InitiativeReport, 0, len(kr.Initiatives))
	for _, in := range kr.Initiatives {
		rep, found := collectors.InitiativeReport{}, false
		for _, r := range w.reports[in.Source] {
			if r.Objective == o.ID && r.KeyResult == kr.ID && r.Initiative == in.ID && r.Kind == in.Kind {
				rep, found = r, true
				break
			}
		}
		if !found {
			rep = collectors.NewReport(collectors.InitiativeRequest{Objective: o, KeyResult: kr, Initiative: in}, time.Time{})
		}
		// The configuration's title and by, which a reload may have
		// changed since the report.
		rep.Title, rep.By = in.Title, in.By
		out = append(out, rep)
	}
	return out
}

// Investment returns the investment balance of every source that has one,
// as of its last poll (or, on a follower, of the records it followed),
// sorted by source, then as each source lists its scopes and windows.
func (a *App) Investment() []collectors.InvestmentReport {
	a.runMu.Lock()
	type src struct {
		name string
		r    collectors.InvestmentReporter
	}
	var srcs []src
	for name, r := range a.runners {
		if ir, ok := r.src.(collectors.InvestmentReporter); ok {
			srcs = append(srcs, src{name, ir})
		}
	}
	a.runMu.Unlock()
	sort.Slice(srcs, func(i, j int) bool { return srcs[i].name < srcs[j].name })
	var out []collectors.InvestmentReport
	for _, s := range srcs {
		out = append(out, s.r.Investment()...)
	}
	return out
}

// initiativeCollector exports the initiatives of the configuration, from
// the last reports: a few series per initiative, bounded by the
// configuration (config.MaxInitiatives per key result).
type initiativeCollector struct {
	a                                  *App
	progress, done, total, deploy, inf *prometheus.Desc
}

func newInitiativeCollector(a *App) *initiativeCollector {
	l := []string{"objective", "key_result", "initiative"}
	return &initiativeCollector{a: a,
		progress: prometheus.NewDesc("okr_initiative_progress_ratio", "Done over all work of a key result's initiative: issues (or story points) done, or pull requests merged (absent without work).", l, nil),
		done:     prometheus.NewDesc("okr_initiative_done", "Work of the initiative done: issues (or story points with by = \"points\"), or merged pull requests.", l, nil),
		total:    prometheus.NewDesc("okr_initiative_total", "All work of the initiative: issues (or story points), or open and merged pull requests.", l, nil),
		deploy:   prometheus.NewDesc("okr_initiative_deployed", "Merged pull requests of a GitHub initiative that a successful deployment shipped.", l, nil),
		inf:      prometheus.NewDesc("okr_initiative_info", "An initiative of a key result (value 1), with its title, kind, source and unit (by).", append(l, "title", "kind", "source", "by"), nil),
	}
}

func (c *initiativeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.progress, c.done, c.total, c.deploy, c.inf} {
		ch <- d
	}
}

func (c *initiativeCollector) Collect(ch chan<- prometheus.Metric) {
	cfg := c.a.cfg.Load()
	for _, o := range cfg.Objectives {
		for _, kr := range o.KeyResults {
			if len(kr.Initiatives) == 0 {
				continue
			}
			for _, r := range c.a.initiativesOf(o, kr) {
				l := []string{r.Objective, r.KeyResult, r.Initiative}
				ch <- prometheus.MustNewConstMetric(c.inf, prometheus.GaugeValue, 1, append(l, r.Title, r.Kind, r.Source, r.By)...)
				if !r.HasValue {
					continue
				}
				ch <- prometheus.MustNewConstMetric(c.done, prometheus.GaugeValue, r.Done, l...)
				ch <- prometheus.MustNewConstMetric(c.total, prometheus.GaugeValue, r.Total, l...)
				if p, ok := r.Progress(); ok {
					ch <- prometheus.MustNewConstMetric(c.progress, prometheus.GaugeValue, p, l...)
				}
				if r.HasDeployed {
					ch <- prometheus.MustNewConstMetric(c.deploy, prometheus.GaugeValue, float64(r.Deployed), l...)
				}
			}
		}
	}
}
