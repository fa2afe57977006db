package dashboards

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/okr"
)

// This file builds the PromQL of the panels. The expressions aggregate to
// the labels a panel shows (max by (objective, key_result) and so on), so
// that two okrd replicas scraped by one Prometheus, or a series seen from
// two scrape jobs, never show twice or break a join.

// Template variables, as the panels reference them.
const (
	varDatasource = "datasource"
	varTeam       = "team"
	varOwner      = "owner"
	varObjective  = "objective"
	varSource     = "source"
)

// quote renders a PromQL string literal (PromQL strings take Go's escapes).
func quote(s string) string { return strconv.Quote(s) }

// m is one label matcher of a selector.
type m struct{ label, op, value string }

func eq(label, value string) m  { return m{label, "=", value} }
func re(label, value string) m  { return m{label, "=~", value} }
func ne(label, value string) m  { return m{label, "!=", value} }
func nre(label, value string) m { return m{label, "!~", value} }

// sel renders metric{matchers...} in the order given.
func sel(metric string, ms ...m) string {
	if len(ms) == 0 {
		return metric
	}
	parts := make([]string, len(ms))
	for i, x := range ms {
		parts[i] = x.label + x.op + quote(x.value)
	}
	return metric + "{" + strings.Join(parts, ", ") + "}"
}

// anyOf is a regex that matches exactly the given literal values.
func anyOf(values ...string) string {
	qs := make([]string, len(values))
	for i, v := range values {
		qs[i] = regexp.QuoteMeta(v)
	}
	return strings.Join(qs, "|")
}

// A reader renders the selectors of a query. An instant query (a stat,
// a gauge, a table: the figure now) reads each series' latest sample, as
// Prometheus does within its five-minute lookback. A trajectory (a
// time-series panel's range query) reads at each step each series' latest
// sample within a window a little longer than the history grid's step
// (last_over_time): okrd backfill gives Prometheus the past as one sample
// per grid instant (docs/history.md), which a plain selector would show
// only within five minutes of each instant, while a scraped series, with
// a sample every scrape, reads the same either way. The window is the step
// and an hour, since a day is 25 hours long when daylight saving time
// ends (the grid is on midnight in global.time_zone).
type reader struct{ window string }

// instant reads the latest sample.
var instant = reader{}

// trajectory is the reader of a time-series panel over the grid of cfg.
func trajectory(cfg *config.Config) reader {
	step := config.DefaultHistoryStep.Duration()
	if cfg != nil && cfg.History.Step > 0 {
		step = cfg.History.Step.Duration()
	}
	return reader{window: promDuration(step + time.Hour)}
}

// promDuration renders a whole number of hours as a PromQL duration.
func promDuration(d time.Duration) string {
	h := int64(d / time.Hour)
	if h%24 == 0 {
		return strconv.FormatInt(h/24, 10) + "d"
	}
	return strconv.FormatInt(h, 10) + "h"
}

// sel renders a selector as the reader reads it.
func (r reader) sel(metric string, ms ...m) string {
	s := sel(metric, ms...)
	if r.window == "" {
		return s
	}
	return "last_over_time(" + s + "[" + r.window + "])"
}

// The filters of the OKR overview: the objectives and key results whose
// info series match the team, owner and objective variables. A panel keeps
// only its series that have a match (`and on (...)`).
func (r reader) objectiveFilter() string {
	return r.sel("okr_objective_info", re("objective", "$"+varObjective), re("team", "$"+varTeam), re("owner", "$"+varOwner))
}

func (r reader) keyResultFilter() string {
	return r.sel("okr_key_result_info", re("objective", "$"+varObjective), re("team", "$"+varTeam), re("owner", "$"+varOwner))
}

// forObjectives keeps the series of expr (which carry an objective label)
// whose objective passes the dashboard's filters.
func (r reader) forObjectives(expr string) string {
	return "(" + expr + ") and on (objective) " + r.objectiveFilter()
}

// forKeyResults keeps the series of expr (which carry objective and
// key_result labels) whose key result passes the dashboard's filters.
func (r reader) forKeyResults(expr string) string {
	return "(" + expr + ") and on (objective, key_result) " + r.keyResultFilter()
}

// status is one okr status with the number a panel shows for it: the
// numbers let a single value carry the status, which value mappings turn
// back into a coloured word. They rise with severity so that sorting a
// table by status puts the trouble first; no_data is 0.
type status struct {
	name  okr.Status
	code  int
	text  string
	color string
}

var statuses = []status{
	{okr.StatusNoData, 0, "No data", "text"},
	{okr.StatusAchieved, 1, "Achieved", "green"},
	{okr.StatusOnTrack, 2, "On track", "green"},
	{okr.StatusAtRisk, 3, "At risk", "orange"},
	{okr.StatusOffTrack, 4, "Off track", "red"},
	{okr.StatusMissed, 5, "Missed", "dark-red"},
}

// statusCode turns a status family (okr_objective_status or
// okr_key_result_status: one series per status, 1 for the current one)
// into one series per `by` labels whose value is the status's code. Each
// status contributes a series only while it is the current one (== 1);
// the `or` chain unions them and max picks the one left (or the worst,
// should two replicas disagree for a moment).
func statusCode(metric string, by string, ms ...m) string {
	terms := make([]string, len(statuses))
	for i, s := range statuses {
		terms[i] = fmt.Sprintf("(%s == 1) * %d", sel(metric, append(append([]m(nil), ms...), eq("status", string(s.name)))...), s.code)
	}
	return "max by (" + by + ") (" + strings.Join(terms, " or ") + ")"
}

// krWeight is a key result's share in its objective's roll-up, as the okr
// package weighs it: a weight that is not positive counts as 0, and if
// every weight of the objective is 0 all weigh the same.
type krWeight struct {
	id     string
	weight float64
}

func weights(o *config.Objective) []krWeight {
	var out []krWeight
	total := 0.0
	for _, kr := range o.KeyResults {
		w := kr.Engine.Weight
		if !(w > 0) {
			w = 0
		}
		total += w
		out = append(out, krWeight{kr.ID, w})
	}
	if total == 0 {
		for i := range out {
			out[i].weight = 1
		}
	}
	return out
}

// krTerm renders, for the key results matching ms, the per-key-result
// figure that an objective-level figure averages.
type krTerm func(ms ...m) string

// expectedTerm is a key result's expected progress.
func (r reader) expectedTerm(ms ...m) string {
	return "max by (objective, key_result) (" + r.sel("okr_key_result_expected_progress_ratio", ms...) + ")"
}

// forecastTerm is a key result's forecast progress; a key result without
// a forecast yet (fewer than three values in the period) counts with its
// current progress, and one without any value with 0 (as in the
// objective's own progress).
func (r reader) forecastTerm(ms ...m) string {
	return "max by (objective, key_result) (" + r.sel("okr_key_result_forecast_progress_ratio", ms...) + ")" +
		" or max by (objective, key_result) (" + r.sel("okr_key_result_progress_ratio", ms...) + ")" +
		" or 0 * max by (objective, key_result) (" + r.sel("okr_key_result_expected_progress_ratio", ms...) + ")"
}

// weightedMean renders the weighted mean of term over the key results of
// the given objectives, one series per objective (labelled objective),
// with the weights of the configuration: okrd exports each key result's
// figures but not its weight, and the generator knows the weights.
// Objectives whose key results all weigh the same share one plain average;
// the others get an explicit weighted sum. It returns "" without
// objectives.
func weightedMean(objs []*config.Objective, term krTerm) string {
	var uniform []string
	var parts []string
	for _, o := range objs {
		ws := weights(o)
		if len(ws) == 0 {
			continue
		}
		same := true
		for _, w := range ws {
			if w.weight != ws[0].weight {
				same = false
			}
		}
		if same {
			uniform = append(uniform, o.ID)
			continue
		}
		var terms []string
		total := 0.0
		for _, w := range ws {
			if w.weight == 0 {
				continue // out of the mean
			}
			total += w.weight
			terms = append(terms, "("+term(eq("objective", o.ID), eq("key_result", w.id))+") * "+formatNumber(w.weight))
		}
		parts = append(parts, "sum by (objective) ("+strings.Join(terms, " or ")+") / "+formatNumber(total))
	}
	if len(uniform) > 0 {
		sort.Strings(uniform)
		var match m
		if len(uniform) == 1 {
			match = eq("objective", uniform[0])
		} else {
			match = re("objective", anyOf(uniform...))
		}
		parts = append([]string{"avg by (objective) (" + term(match) + ")"}, parts...)
	}
	if len(parts) == 1 {
		return parts[0]
	}
	for i, p := range parts {
		parts[i] = "(" + p + ")"
	}
	return strings.Join(parts, " or ")
}

// formatNumber prints a weight the shortest way that reads back exactly.
func formatNumber(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
