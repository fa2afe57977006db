package rules

import (
	"bytes"
	"fmt"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v2"

	"github.com/okrd/okrd/alerting"
	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/notify"
	"github.com/okrd/okrd/okr"
	"github.com/okrd/okrd/snapshot"
	"github.com/okrd/okrd/store"
)

// The parity harness runs one scenario through both alerting paths and
// requires the same alerts to fire at the same evaluations:
//
//   - the built-in path: at every evaluation time the scenario's key results
//     are evaluated (okr.Evaluate, with the staleness rule of
//     app/evaluator.go) into a snapshot, the sources' health is taken from
//     their polls so far, and alerting.Observe and alerting.Step advance
//     every alert, as the engine does;
//   - the Prometheus path: the same snapshots are encoded by the exposition
//     code okrd serves at /metrics, the source series are what okrd
//     exports for that health, and `promtool test rules` evaluates the
//     generated rules over those series at the same times. The expected
//     alerts of every evaluation, for every alertname, are the ones the
//     built-in path fires, with their labels and annotations.
//
// Each scenario also pins by hand when some alerts first fire, which ties
// the built-in path to the documented behaviour and proves that the
// scenario exercises each condition family.

// Labels Prometheus adds to every scraped series. instanceLabel stands
// for the instance in the series of a run; each scraped replica gets its
// own (replicaInstances).
const (
	scrapeJob     = "okrd"
	instanceLabel = "{{INSTANCE}}"
)

// replicaInstances are the instances of one okrd and of three replicas,
// which export the same series (docs/ha.md).
var (
	oneInstance   = []string{"okrd:9184"}
	threeReplicas = []string{"okrd-0:9184", "okrd-1:9184", "okrd-2:9184"}
)

// minute is the unit of the scenarios' times, as offsets from the Unix
// epoch, where promtool's input series start.
const minute = time.Minute

func at(d time.Duration) time.Time { return time.Unix(0, 0).UTC().Add(d) }

// pollEnd is the end of one poll of a source.
type pollEnd struct {
	at time.Duration
	ok bool
}

type scenarioSource struct {
	typ   string
	polls []pollEnd
}

type scenario struct {
	name   string
	policy alerting.Policy
	// step is the evaluation interval of both paths (and the interval of
	// the input series); evaluations run at 0, step, ..., last.
	step, last time.Duration
	objectives []*config.Objective
	// values are the values recorded per "objective/key_result"; a value
	// counts from its time on.
	values map[string][]okr.Point
	// confidences are the owners' confidences given per
	// "objective/key_result", in time order; each is in effect from its
	// time on.
	confidences map[string][]store.Confidence
	sources     map[string]scenarioSource
	// firstFiring pins when an alert (by key) first fires.
	firstFiring map[string]time.Duration
	// inhibitedAt pins evaluations at which firing alerts (by key) are
	// held back because a worse alert of their key result fires.
	inhibitedAt map[time.Duration][]string
	// families are the conditions that must fire at least once.
	families []alerting.Condition
}

// allConditions enables every condition of p for the objectives os, with
// their runbooks and currencies, and prints the built-in alerts' numbers
// the way Prometheus's template functions do (promNumbers): the harness
// compares the texts of both paths word for word, and only the printing of
// numbers differs between them.
func allConditions(p alerting.Policy, os ...*config.Objective) alerting.Policy {
	p.Enabled = map[alerting.Condition]bool{}
	for _, c := range alerting.Conditions {
		p.Enabled[c] = true
	}
	p.ExternalURL = "https://okrd.example.com"
	p.KeyResults = alerting.KeyResultInfos(os)
	p.Numbers = promNumbers{}
	return p
}

// promNumbers prints numbers as the generated rules' templates do, with
// Prometheus's template functions (prometheus/template/template.go), so
// that the built-in path's annotations are what the rules must produce.
type promNumbers struct{}

func (promNumbers) Value(kr *config.KeyResult, v float64) string {
	var s string
	switch kr.Unit {
	case "duration":
		s = humanizeDuration(v)
	case "ratio":
		s = humanizePercentage(v)
	case "percent":
		s = fmt.Sprintf("%.4g%%", v)
	default:
		if v < 1000 && v > -1000 {
			s = fmt.Sprintf("%.4g", v)
		} else {
			s = humanize(v)
		}
		if kr.Currency != "" {
			s += " " + kr.Currency
		}
	}
	return s
}

func (promNumbers) Percent(v float64) string { return humanizePercentage(v) }

func (promNumbers) Points(prev, cur float64) string { return fmt.Sprintf("%+.4g pts", (cur-prev)*100) }

func humanizePercentage(v float64) string { return fmt.Sprintf("%.4g%%", v*100) }

func humanize(v float64) string {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Sprintf("%.4g", v)
	}
	prefix := ""
	if math.Abs(v) >= 1 {
		for _, p := range []string{"k", "M", "G", "T", "P", "E", "Z", "Y"} {
			if math.Abs(v) < 1000 {
				break
			}
			prefix, v = p, v/1000
		}
		return fmt.Sprintf("%.4g%s", v, prefix)
	}
	for _, p := range []string{"m", "u", "n", "p", "f", "a", "z", "y"} {
		if math.Abs(v) >= 1 {
			break
		}
		prefix, v = p, v*1000
	}
	return fmt.Sprintf("%.4g%s", v, prefix)
}

func humanizeDuration(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Sprintf("%.4g", v)
	}
	if v == 0 {
		return fmt.Sprintf("%.4gs", v)
	}
	if math.Abs(v) >= 1 {
		sign := ""
		if v < 0 {
			sign, v = "-", -v
		}
		d := int64(v)
		seconds, minutes, hours, days := d%60, (d/60)%60, (d/3600)%24, d/86400
		switch {
		case days != 0:
			return fmt.Sprintf("%s%dd %dh %dm %ds", sign, days, hours, minutes, seconds)
		case hours != 0:
			return fmt.Sprintf("%s%dh %dm %ds", sign, hours, minutes, seconds)
		case minutes != 0:
			return fmt.Sprintf("%s%dm %ds", sign, minutes, seconds)
		}
		return fmt.Sprintf("%s%.4gs", sign, v)
	}
	prefix := ""
	for _, p := range []string{"m", "u", "n", "p", "f", "a", "z", "y"} {
		if math.Abs(v) >= 1 {
			break
		}
		prefix, v = p, v*1000
	}
	return fmt.Sprintf("%.4g%ss", v, prefix)
}

func objective(id string, start, end time.Duration, krs ...*config.KeyResult) *config.Objective {
	return &config.Objective{ID: id, Title: "Objective " + id, Owner: "growth", Team: "web",
		Resolved: okr.Period{Name: id, Start: at(start), End: at(end)}, KeyResults: krs}
}

// increase is a key result from baseline to target with tolerance 0.1.
func increase(id string, baseline, target float64, staleAfter time.Duration) *config.KeyResult {
	return &config.KeyResult{ID: id, Title: "Key result " + id, Owner: "growth", Team: "web", Unit: "count",
		Direction: "increase", StaleAfter: config.Duration(staleAfter),
		Engine: okr.KeyResult{Direction: okr.Increase, Baseline: baseline, Target: target, Tolerance: 0.1, Weight: 1}}
}

// decrease is a key result from baseline down to target in unit, with
// tolerance 0.1.
func decrease(id, unit string, baseline, target float64) *config.KeyResult {
	kr := increase(id, baseline, target, 0)
	kr.Unit, kr.Direction, kr.Engine.Direction = unit, "decrease", okr.Decrease
	return kr
}

// band is a maintain key result that must stay in [lo, hi] in unit.
func band(id, unit string, lo, hi float64) *config.KeyResult {
	kr := increase(id, 0, 0, 0)
	kr.Unit, kr.Direction = unit, "maintain"
	kr.Engine = okr.KeyResult{Direction: okr.Maintain, Min: lo, Max: hi, Tolerance: 0.1, Weight: 1}
	return kr
}

// inUnit sets a key result's unit (and currency).
func inUnit(kr *config.KeyResult, unit, currency string) *config.KeyResult {
	kr.Unit, kr.Currency = unit, currency
	return kr
}

// withRunbook sets a key result's runbook.
func withRunbook(kr *config.KeyResult, u string) *config.KeyResult {
	kr.RunbookURL = u
	return kr
}

func points(kv ...float64) []okr.Point {
	var out []okr.Point
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, okr.Point{At: at(time.Duration(kv[i] * float64(minute))), Value: kv[i+1]})
	}
	return out
}

// everyFive returns poll ends every 5 minutes in [from, to) with outcome ok.
func everyFive(from, to time.Duration, ok bool) []pollEnd {
	var out []pollEnd
	for t := from; t < to; t += 5 * minute {
		out = append(out, pollEnd{t, ok})
	}
	return out
}

// statusScenario covers the conditions judged from a key result's status
// and its source: minutes, a period [0, 120m).
func statusScenario() scenario {
	objectives := []*config.Objective{
		objective("q", 0, 120*minute,
			// early reaches its target at 30m, mid-period: achieved is
			// news only at the period end, 120m.
			increase("early", 0, 10, 0),
			// late: progress 0.1 falls behind expected t/120 (at risk
			// from 25m, off track from 37m), catches up at 50m (both
			// clear, and resolve 5m later), falls behind again (at risk
			// from 73m, off track from 85m) and misses at the end.
			increase("late", 0, 10, 0),
			// edge: progress 0.3; at 48m the gap is 0.3 - 0.4 =
			// -0.10000000000000003, which the status counts as -0.1 (on
			// track); at risk from 49m.
			increase("edge", 0, 10, 0),
			// silent has no value until 40m.
			increase("silent", 0, 10, 0),
			// dusty goes stale 20m after each value (0m and 60m).
			increase("dusty", 0, 10, 20*minute),
			// The units of the texts: a lead time from 4 days to 2 that
			// does not move (at risk from 13m, off track from 25m), with
			// its own runbook; a latency band left at 0m and regained
			// at 60m; a revenue in EUR and a conversion ratio that fall
			// behind, a percentage that keeps up.
			withRunbook(decrease("lead", "duration", 345600, 172800), "https://wiki.example.com/runbooks/lead-time"),
			band("latency", "duration", 0, 0.3),
			inUnit(increase("arr", 1_200_000, 1_500_000, 0), "currency", "EUR"),
			inUnit(increase("conversion", 0.3, 0.4, 0), "ratio", ""),
			inUnit(increase("completion", 62, 75, 0), "percent", ""),
		),
		// next starts at 150m without a value: no_data waits for its
		// period.
		objective("next", 150*minute, 300*minute, increase("later", 0, 10, 0)),
	}
	// Every key result of q has q's runbook, unless it has its own.
	objectives[0].RunbookURL = "https://wiki.example.com/runbooks/q"
	for _, kr := range objectives[0].KeyResults {
		if kr.RunbookURL == "" {
			kr.RunbookURL = objectives[0].RunbookURL
		}
	}
	p := allConditions(alerting.Policy{For: 10 * minute, KeepFiringFor: 5 * minute,
		SourceDownAfter: 15 * minute, PeriodEndWindow: time.Hour}, objectives...)
	return scenario{
		name: "status", policy: p, step: minute, last: 180 * minute,
		objectives: objectives,
		values: map[string][]okr.Point{
			"q/early":      points(0, 2, 30, 10),
			"q/late":       points(0, 1, 50, 5),
			"q/edge":       points(0, 3),
			"q/silent":     points(40, 5),
			"q/dusty":      points(0, 4, 60, 6),
			"q/lead":       points(0, 345600),
			"q/latency":    points(0, 0.42, 60, 0.25),
			"q/arr":        points(0, 1_250_000, 70, 1_380_000),
			"q/conversion": points(0, 0.31, 90, 0.355),
			"q/completion": points(0, 62, 30, 68.5, 60, 70, 90, 74),
		},
		sources: map[string]scenarioSource{
			// jira's first poll is a 40m backfill; later polls fail from 60m
			// to 85m.
			"jira": {typ: "jira", polls: slices.Concat(everyFive(40*minute, 60*minute, true),
				everyFive(60*minute, 90*minute, false), everyFive(90*minute, 181*minute, true))},
			// warehouse's first poll fails at 10m; it recovers at 50m.
			"warehouse": {typ: "sql", polls: slices.Concat(everyFive(10*minute, 50*minute, false),
				everyFive(50*minute, 181*minute, true))},
		},
		firstFiring: map[string]time.Duration{
			alerting.Key(alerting.Achieved, "q", "early"):  120 * minute,
			alerting.Key(alerting.AtRisk, "q", "late"):     35 * minute,
			alerting.Key(alerting.OffTrack, "q", "late"):   47 * minute,
			alerting.Key(alerting.Missed, "q", "late"):     120 * minute,
			alerting.Key(alerting.AtRisk, "q", "edge"):     59 * minute,
			alerting.Key(alerting.NoData, "q", "silent"):   10 * minute,
			alerting.Key(alerting.Stale, "q", "dusty"):     31 * minute,
			alerting.Key(alerting.NoData, "next", "later"): 160 * minute,
			alerting.Key(alerting.SourceDown, "warehouse"): 25 * minute,
			alerting.Key(alerting.SourceDown, "jira"):      75 * minute,
			// lead: progress 0 behind t/120: a gap below -0.1 from 13m
			// (pending until 23m), below -0.2 from 25m (35m).
			alerting.Key(alerting.AtRisk, "q", "lead"):   23 * minute,
			alerting.Key(alerting.OffTrack, "q", "lead"): 35 * minute,
			// latency: outside the band from 0m.
			alerting.Key(alerting.OffTrack, "q", "latency"): 10 * minute,
		},
		families: []alerting.Condition{alerting.OffTrack, alerting.AtRisk, alerting.Missed, alerting.Achieved,
			alerting.NoData, alerting.Stale, alerting.SourceDown},
	}
}

// forecastScenario covers the forecast, which needs values spanning a day:
// hours, a period of 10 days.
func forecastScenario() scenario {
	const hour = 60 // in minutes, for points()
	objectives := []*config.Objective{
		objective("f", 0, 240*time.Hour,
			// pace grows 6 a day towards 100: the forecast (3 values
			// over a day, from 24h) ends near 60, a miss; it speeds up
			// from 48h.
			increase("pace", 0, 100, 0),
			// done is above its target and falling: its forecast misses,
			// but an achieved result is not forecast to miss.
			increase("done", 0, 10, 0),
			// sink, a cycle time from 5 days to 3, starts well and then
			// falls back above its baseline at 50h: it is off track, at
			// risk and forecast to miss at once, and the built-in alerting
			// notifies only that it is off track.
			decrease("sink", "duration", 432000, 259200),
		),
	}
	p := allConditions(alerting.Policy{For: 2 * time.Hour, KeepFiringFor: time.Hour,
		SourceDownAfter: time.Hour, PeriodEndWindow: 12 * time.Hour}, objectives...)
	return scenario{
		name: "forecast", policy: p, step: time.Hour, last: 264 * time.Hour,
		objectives: objectives,
		values: map[string][]okr.Point{
			"f/pace": points(0, 0, 12*hour, 3, 24*hour, 6, 48*hour, 40, 72*hour, 70, 96*hour, 95, 120*hour, 100),
			"f/done": points(0, 30, 12*hour, 20, 24*hour, 12),
			"f/sink": points(0, 432000, 12*hour, 400000, 24*hour, 380000, 50*hour, 470000),
		},
		firstFiring: map[string]time.Duration{
			alerting.Key(alerting.ForecastMiss, "f", "pace"): 26 * time.Hour,
			alerting.Key(alerting.Achieved, "f", "done"):     240 * time.Hour,
			alerting.Key(alerting.OffTrack, "f", "sink"):     52 * time.Hour,
			alerting.Key(alerting.AtRisk, "f", "sink"):       52 * time.Hour,
			alerting.Key(alerting.ForecastMiss, "f", "sink"): 52 * time.Hour,
		},
		// At 50h sink's progress is 0 where 50/240 was expected (a gap
		// below -0.2), and the trend through its four values rises to
		// about 621,000 s at the end, above the baseline. The three alerts
		// fire together 2h later; the at-risk and forecast-miss alerts are
		// held back while the off-track one fires.
		inhibitedAt: map[time.Duration][]string{
			51 * time.Hour:  nil,
			52 * time.Hour:  {alerting.Key(alerting.AtRisk, "f", "sink"), alerting.Key(alerting.ForecastMiss, "f", "sink")},
			200 * time.Hour: {alerting.Key(alerting.AtRisk, "f", "sink"), alerting.Key(alerting.ForecastMiss, "f", "sink")},
		},
		families: []alerting.Condition{alerting.ForecastMiss, alerting.Achieved, alerting.OffTrack, alerting.AtRisk},
	}
}

// given are confidences given at hours: hour, value, hour, value...
func given(kv ...int) []store.Confidence {
	var out []store.Confidence
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, store.Confidence{At: at(time.Duration(kv[i]) * time.Hour), Value: kv[i+1], Author: "growth"})
	}
	return out
}

// confidenceScenario covers the owners' confidence, whose week's high needs
// more than a week: hours, a period of 20 days. Values are counts from 0 to
// 100; expected progress is t / 480h.
func confidenceScenario() scenario {
	const hour = 60 // in minutes, for points()
	// onPace keeps up with expected progress: 5 a day, recorded daily.
	var onPace []okr.Point
	for d := range 11 {
		onPace = append(onPace, points(float64(d*24*hour), float64(5*d))...)
	}
	// slow grows 2 a day: its forecast, from 24h, ends near 40 (< 90).
	slow := points(0, 0, 12*hour, 1, 24*hour, 2)
	for d := 2; d <= 10; d++ {
		slow = append(slow, points(float64(d*24*hour), float64(2*d))...)
	}
	objectives := []*config.Objective{
		objective("c", 0, 480*time.Hour,
			// drop: on pace, confidence 9 and then 5 from 50h (4 points
			// below the week's high until 50h + 7d = 218h).
			increase("drop", 0, 100, 0),
			// calm: on pace, confidence 8 (high, with a forecast that is
			// enough) and then 6 from 30h (a drop of 2): nothing.
			increase("calm", 0, 100, 0),
			// proud: confidence 9 while forecast to miss from 24h (and off
			// track later on).
			increase("proud", 0, 100, 0),
			// gloomy: on pace with confidence 2 until 120h, then 6.
			increase("gloomy", 0, 100, 0),
			// plunge: on pace, confidence 9 and then 2 from 60h: a drop and
			// a disagreement at once. The drop holds the disagreement back
			// until it resolves after 60h + 7d = 228h.
			increase("plunge", 0, 100, 0),
		),
	}
	p := allConditions(alerting.Policy{For: 2 * time.Hour, KeepFiringFor: time.Hour,
		SourceDownAfter: time.Hour, PeriodEndWindow: 12 * time.Hour, ConfidenceDrop: 3}, objectives...)
	return scenario{
		name: "confidence", policy: p, step: time.Hour, last: 240 * time.Hour,
		objectives: objectives,
		values: map[string][]okr.Point{
			"c/drop": onPace, "c/calm": onPace, "c/gloomy": onPace, "c/plunge": onPace, "c/proud": slow,
		},
		confidences: map[string][]store.Confidence{
			"c/drop":   given(0, 9, 50, 5),
			"c/calm":   given(0, 8, 30, 6),
			"c/proud":  given(0, 9),
			"c/gloomy": given(0, 2, 120, 6),
			"c/plunge": given(0, 9, 60, 2),
		},
		firstFiring: map[string]time.Duration{
			alerting.Key(alerting.ConfidenceDrop, "c", "drop"):        52 * time.Hour,
			alerting.Key(alerting.ConfidenceDisagrees, "c", "proud"):  26 * time.Hour,
			alerting.Key(alerting.ForecastMiss, "c", "proud"):         26 * time.Hour,
			alerting.Key(alerting.ConfidenceDisagrees, "c", "gloomy"): 2 * time.Hour,
			alerting.Key(alerting.ConfidenceDrop, "c", "plunge"):      62 * time.Hour,
			alerting.Key(alerting.ConfidenceDisagrees, "c", "plunge"): 62 * time.Hour,
		},
		inhibitedAt: map[time.Duration][]string{
			61 * time.Hour:  nil,
			62 * time.Hour:  {alerting.Key(alerting.ConfidenceDisagrees, "c", "plunge")},
			200 * time.Hour: {alerting.Key(alerting.ConfidenceDisagrees, "c", "plunge")},
			// The drop stops holding at 228h and keeps firing for an hour.
			229 * time.Hour: nil,
		},
		families: []alerting.Condition{alerting.ConfidenceDrop, alerting.ConfidenceDisagrees},
	}
}

// evaluate is the snapshot okrd publishes at now.
func (sc *scenario) evaluate(now time.Time) *snapshot.Snapshot {
	snap := &snapshot.Snapshot{EvaluatedAt: now}
	for _, oc := range sc.objectives {
		o := &snapshot.Objective{Config: oc}
		var engines []okr.KeyResult
		var results []okr.Result
		for _, kc := range oc.KeyResults {
			r := okr.Evaluate(kc.Engine, oc.Resolved, sc.values[oc.ID+"/"+kc.ID], now)
			// As app/evaluator.go: the confidence in effect and its week's
			// high.
			kr := &snapshot.KeyResult{Objective: oc, Config: kc, Result: r,
				Confidence: snapshot.ConfidenceAt(sc.confidences[oc.ID+"/"+kc.ID], now)}
			// As app/evaluator.go: a stale value is shown, with status no_data.
			if r.HasValue && kc.StaleAfter > 0 && now.Sub(r.ValueAt) > time.Duration(kc.StaleAfter) {
				kr.Stale = true
				kr.Result.Status = okr.StatusNoData
			}
			o.KeyResults = append(o.KeyResults, kr)
			engines = append(engines, kc.Engine)
			results = append(results, kr.Result)
		}
		o.Result = okr.EvaluateObjective(engines, results)
		snap.Objectives = append(snap.Objectives, o)
	}
	return snap
}

// health is every source's health at now: the polls that have ended.
func (sc *scenario) health(now time.Time) []collectors.Health {
	var out []collectors.Health
	for _, name := range slices.Sorted(maps.Keys(sc.sources)) {
		s := sc.sources[name]
		h := collectors.Health{Name: name, Type: s.typ}
		for _, p := range s.polls {
			if !at(p.at).After(now) {
				h.Polls++
				h.Up = p.ok
			}
		}
		out = append(out, h)
	}
	return out
}

// sourceSeries are the series okrd exports for a source's health:
// okrd_source_up is 1 once a poll succeeded and 0 otherwise, and
// okrd_source_initial_sync_in_progress is 1 until the first poll ends.
func sourceSeries(h collectors.Health) map[string]float64 {
	up, initial := 0.0, 0.0
	if h.Polls > 0 && h.Up {
		up = 1
	}
	if h.Polls == 0 {
		initial = 1
	}
	return map[string]float64{
		seriesName("okrd_source_up", map[string]string{"source": h.Name, "type": h.Type}):       up,
		seriesName("okrd_source_initial_sync_in_progress", map[string]string{"source": h.Name}): initial,
	}
}

// seriesName writes a series in promtool's notation, with the scrape's
// labels.
func seriesName(name string, labels map[string]string) string {
	ls := maps.Clone(labels)
	ls["job"], ls["instance"] = scrapeJob, instanceLabel
	parts := make([]string, 0, len(ls))
	for _, k := range slices.Sorted(maps.Keys(ls)) {
		parts = append(parts, k+"="+strconv.Quote(ls[k]))
	}
	return name + "{" + strings.Join(parts, ",") + "}"
}

// exposition parses the okr_* series of a snapshot as okrd serves them.
func exposition(t *testing.T, snap *snapshot.Snapshot) map[string]float64 {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(snap.AppendText(nil)))
	if err != nil {
		t.Fatalf("parsing the exposition: %v", err)
	}
	out := map[string]float64{}
	for name, mf := range fams {
		for _, m := range mf.GetMetric() {
			ls := map[string]string{}
			for _, l := range m.GetLabel() {
				ls[l.GetName()] = l.GetValue()
			}
			out[seriesName(name, ls)] = m.GetGauge().GetValue()
		}
	}
	return out
}

// run is the outcome of a scenario on the built-in path: the firing alerts
// of each evaluation, and the input series of the Prometheus path.
type run struct {
	firing [][]alerting.State
	// inhibited are the keys of the firing alerts whose notification the
	// built-in alerting holds back, per evaluation.
	inhibited []map[string]bool
	series    map[string][]*float64
}

func (sc *scenario) runBuiltIn(t *testing.T) run {
	t.Helper()
	n := int(sc.last/sc.step) + 1
	out := run{firing: make([][]alerting.State, n), series: map[string][]*float64{}}
	states := map[string]*alerting.State{}
	for i := range n {
		now := at(time.Duration(i) * sc.step)
		snap := sc.evaluate(now)
		health := sc.health(now)

		obs := alerting.Observe(alerting.Input{Snapshot: snap, Sources: health}, &sc.policy)
		keys := slices.Collect(maps.Keys(obs))
		for k := range states {
			if _, ok := obs[k]; !ok {
				keys = append(keys, k)
			}
		}
		for _, k := range keys {
			next, _ := alerting.Step(states[k], obs[k], now, &sc.policy)
			if next == nil {
				delete(states, k)
			} else {
				states[k] = next
			}
		}
		for _, k := range slices.Sorted(maps.Keys(states)) {
			if states[k].Phase == alerting.Firing {
				out.firing[i] = append(out.firing[i], *states[k])
			}
		}
		out.inhibited = append(out.inhibited, map[string]bool{})
		for k := range alerting.Inhibited(states) {
			if states[k].Phase == alerting.Firing {
				out.inhibited[i][k] = true
			}
		}

		values := exposition(t, snap)
		for _, h := range health {
			maps.Copy(values, sourceSeries(h))
		}
		for s, v := range values {
			if out.series[s] == nil {
				out.series[s] = make([]*float64, n)
			}
			out.series[s][i] = &v
		}
	}
	return out
}

// promtool's unit-test file.
type unitTestFile struct {
	RuleFiles          []string   `yaml:"rule_files"`
	EvaluationInterval string     `yaml:"evaluation_interval"`
	Tests              []unitTest `yaml:"tests"`
}

type unitTest struct {
	Interval    string        `yaml:"interval"`
	InputSeries []inputSeries `yaml:"input_series"`
	AlertTests  []alertTest   `yaml:"alert_rule_test"`
}

type inputSeries struct {
	Series string `yaml:"series"`
	Values string `yaml:"values"`
}

type alertTest struct {
	EvalTime  string     `yaml:"eval_time"`
	Alertname string     `yaml:"alertname"`
	ExpAlerts []expAlert `yaml:"exp_alerts"`
}

type expAlert struct {
	ExpLabels      map[string]string `yaml:"exp_labels"`
	ExpAnnotations map[string]string `yaml:"exp_annotations"`
}

// expected is a built-in alert as the generated rule must raise it: origin
// prometheus, the scrape's job (not its instance: replicas raise one alert),
// and every annotation of the rule (one without a value, such as the
// progress of a key result without one or the runbook of a key result
// without one, is present and empty).
func expected(s alerting.State, rule Rule) expAlert {
	ls := maps.Clone(s.Labels)
	delete(ls, notify.LabelAlertName)
	ls[notify.LabelOrigin] = alerting.OriginPrometheus
	ls["job"] = scrapeJob
	as := maps.Clone(s.Annotations)
	for k := range rule.Annotations {
		if _, ok := as[k]; !ok {
			as[k] = ""
		}
	}
	return expAlert{ExpLabels: ls, ExpAnnotations: as}
}

// unitTests writes the Prometheus path of a run as a promtool test, with
// the series scraped from each of instances.
func (sc *scenario) unitTests(r run, instances []string) unitTestFile {
	rules := map[string]Rule{}
	for _, rule := range Generate(sc.policy).Groups[0].Rules {
		rules[rule.Alert] = rule
	}
	step := model.Duration(sc.step).String()
	ut := unitTest{Interval: step}
	for _, s := range slices.Sorted(maps.Keys(r.series)) {
		vals := make([]string, len(r.series[s]))
		seen := false
		for i, v := range r.series[s] {
			switch {
			case v != nil:
				vals[i], seen = strconv.FormatFloat(*v, 'g', -1, 64), true
			case seen:
				// A series that leaves the exposition is marked stale by
				// the scrape, as Prometheus does.
				vals[i] = "stale"
			default:
				vals[i] = "_"
			}
		}
		for _, inst := range instances {
			ut.InputSeries = append(ut.InputSeries, inputSeries{Series: strings.Replace(s, instanceLabel, inst, 1), Values: strings.Join(vals, " ")})
		}
	}
	for i, firing := range r.firing {
		for _, c := range alerting.Conditions {
			if !sc.policy.Enabled[c] {
				continue
			}
			check := alertTest{EvalTime: model.Duration(time.Duration(i) * sc.step).String(), Alertname: c.AlertName(), ExpAlerts: []expAlert{}}
			for _, s := range firing {
				if s.Condition == c {
					check.ExpAlerts = append(check.ExpAlerts, expected(s, rules[c.AlertName()]))
				}
			}
			ut.AlertTests = append(ut.AlertTests, check)
		}
	}
	return unitTestFile{RuleFiles: []string{"rules.yml"}, EvaluationInterval: step, Tests: []unitTest{ut}}
}

// checkBuiltIn compares the built-in path with the scenario's hand-pinned
// expectations.
func (sc *scenario) checkBuiltIn(t *testing.T, r run) {
	t.Helper()
	first := map[string]time.Duration{}
	fired := map[alerting.Condition]bool{}
	for i, firing := range r.firing {
		for _, s := range firing {
			fired[s.Condition] = true
			if _, ok := first[s.Key]; !ok {
				first[s.Key] = time.Duration(i) * sc.step
			}
		}
	}
	for key, want := range sc.firstFiring {
		got, ok := first[key]
		switch {
		case !ok:
			t.Errorf("%s never fires; want it first at %s", key, model.Duration(want))
		case got != want:
			t.Errorf("%s first fires at %s, want %s", key, model.Duration(got), model.Duration(want))
		}
	}
	for _, c := range sc.families {
		if !fired[c] {
			t.Errorf("no %s alert fires: the scenario does not exercise it", c)
		}
	}
}

// promtoolTest runs promtool's unit tests ut over the rules f and returns
// its report.
func promtoolTest(t *testing.T, bin string, f *File, ut unitTestFile) (string, error) {
	t.Helper()
	dir := t.TempDir()
	rulesYAML, err := f.Marshal("")
	if err != nil {
		t.Fatal(err)
	}
	testYAML, err := yaml.Marshal(ut)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"rules.yml": rulesYAML, "parity_test.yml": testYAML} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "test", "rules", "parity_test.yml")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err == nil && !strings.Contains(string(out), "SUCCESS") {
		err = fmt.Errorf("promtool did not report success")
	}
	return string(out), err
}

// matcher is one of Alertmanager's label matchers, name="value" or
// name=~"regexp" (anchored), as InhibitRules writes them.
type matcher struct {
	name string
	re   *regexp.Regexp
}

func parseMatcher(t *testing.T, s string) matcher {
	t.Helper()
	m := regexp.MustCompile(`^([a-z_]+)(=~|=)(".*")$`).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("matcher %q is neither name=\"value\" nor name=~\"regexp\"", s)
	}
	v, err := strconv.Unquote(m[3])
	if err != nil {
		t.Fatalf("matcher %q: %v", s, err)
	}
	if m[2] == "=" {
		v = regexp.QuoteMeta(v)
	}
	return matcher{m[1], regexp.MustCompile("^(?:" + v + ")$")}
}

func matchesAll(ms []matcher, labels map[string]string) bool {
	for _, m := range ms {
		if !m.re.MatchString(labels[m.name]) {
			return false
		}
	}
	return true
}

// muted applies Alertmanager's inhibition rules to the alerts firing at one
// evaluation, as Alertmanager does: a target is muted while a source with
// the same values of the equal labels fires.
func muted(t *testing.T, rules []InhibitRule, firing []alerting.State) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, r := range rules {
		var src, dst []matcher
		for _, s := range r.SourceMatchers {
			src = append(src, parseMatcher(t, s))
		}
		for _, s := range r.TargetMatchers {
			dst = append(dst, parseMatcher(t, s))
		}
		for _, target := range firing {
			for _, source := range firing {
				if source.Key == target.Key || !matchesAll(dst, target.Labels) || !matchesAll(src, source.Labels) {
					continue
				}
				same := true
				for _, l := range r.Equal {
					same = same && source.Labels[l] == target.Labels[l]
				}
				if same {
					out[target.Key] = true
				}
			}
		}
	}
	return out
}

// checkInhibitions compares what the built-in alerting holds back with what
// the inhibit rules shipped for Alertmanager mute among the same firing
// alerts, at every evaluation, and with the scenario's pins.
func (sc *scenario) checkInhibitions(t *testing.T, r run) {
	t.Helper()
	rules := InhibitRules()
	for i, firing := range r.firing {
		at := time.Duration(i) * sc.step
		want := muted(t, rules, firing)
		if !maps.Equal(r.inhibited[i], want) {
			t.Errorf("at %s the built-in alerting holds back %v; the inhibit rules mute %v",
				model.Duration(at), slices.Sorted(maps.Keys(r.inhibited[i])), slices.Sorted(maps.Keys(want)))
		}
		if pinned, ok := sc.inhibitedAt[at]; ok {
			var got []string
			for k := range r.inhibited[i] {
				if strings.Contains(k, "/f/sink") || strings.Contains(k, "/c/plunge") || slices.Contains(pinned, k) {
					got = append(got, k)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, slices.Sorted(slices.Values(pinned))) {
				t.Errorf("at %s %v are held back, want %v", model.Duration(at), got, pinned)
			}
		}
	}
}

func TestBuiltInAlertingAndGeneratedRulesFireTheSameAlerts(t *testing.T) {
	bin := promtool(t)
	for _, sc := range []scenario{statusScenario(), forecastScenario(), confidenceScenario()} {
		for _, replicas := range []struct {
			name      string
			instances []string
		}{{"one okrd", oneInstance}, {"three replicas", threeReplicas}} {
			t.Run(sc.name+" scraped from "+replicas.name, func(t *testing.T) {
				r := sc.runBuiltIn(t)
				sc.checkBuiltIn(t, r)
				sc.checkInhibitions(t, r)
				out, err := promtoolTest(t, bin, Generate(sc.policy), sc.unitTests(r, replicas.instances))
				if err != nil {
					t.Fatalf("the generated rules and the built-in alerting disagree (promtool test rules: %v):\n%.12000s", err, out)
				}
			})
		}
	}
}

// TestParityHarnessDetectsADisagreement makes sure the harness can fail: a
// rule file whose off-track rule waits one evaluation longer than the
// built-in alerting must not pass.
func TestParityHarnessDetectsADisagreement(t *testing.T) {
	bin := promtool(t)
	sc := statusScenario()
	r := sc.runBuiltIn(t)
	f := Generate(sc.policy)
	for i, rule := range f.Groups[0].Rules {
		if rule.Alert == alerting.OffTrack.AlertName() {
			f.Groups[0].Rules[i].For = model.Duration(sc.policy.For + sc.step).String()
		}
	}
	out, err := promtoolTest(t, bin, f, sc.unitTests(r, oneInstance))
	if err == nil {
		t.Fatalf("promtool accepted rules that fire later than the built-in alerting:\n%.4000s", out)
	}
	if want := fmt.Sprintf("alertname: %s, time: 47m", alerting.OffTrack.AlertName()); !strings.Contains(out, want) {
		t.Errorf("promtool's report does not name the off-track disagreement at 47m (%q):\n%.4000s", want, out)
	}
}
