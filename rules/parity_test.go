package rules

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
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
	values  map[string][]okr.Point
	sources map[string]scenarioSource
	// firstFiring pins when an alert (by key) first fires.
	firstFiring map[string]time.Duration
	// families are the conditions that must fire at least once.
	families []alerting.Condition
}

func allConditions(p alerting.Policy) alerting.Policy {
	p.Enabled = map[alerting.Condition]bool{}
	for _, c := range alerting.Conditions {
		p.Enabled[c] = true
	}
	p.ExternalURL = "https://okrd.example.com"
	return p
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
	p := allConditions(alerting.Policy{For: 10 * minute, KeepFiringFor: 5 * minute,
		SourceDownAfter: 15 * minute, PeriodEndWindow: time.Hour})
	return scenario{
		name: "status", policy: p, step: minute, last: 180 * minute,
		objectives: []*config.Objective{
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
			),
			// next starts at 150m without a value: no_data waits for its
			// period.
			objective("next", 150*minute, 300*minute, increase("later", 0, 10, 0)),
		},
		values: map[string][]okr.Point{
			"q/early":  points(0, 2, 30, 10),
			"q/late":   points(0, 1, 50, 5),
			"q/edge":   points(0, 3),
			"q/silent": points(40, 5),
			"q/dusty":  points(0, 4, 60, 6),
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
		},
		families: []alerting.Condition{alerting.OffTrack, alerting.AtRisk, alerting.Missed, alerting.Achieved,
			alerting.NoData, alerting.Stale, alerting.SourceDown},
	}
}

// forecastScenario covers the forecast, which needs values spanning a day:
// hours, a period of 10 days.
func forecastScenario() scenario {
	const hour = 60 // in minutes, for points()
	p := allConditions(alerting.Policy{For: 2 * time.Hour, KeepFiringFor: time.Hour,
		SourceDownAfter: time.Hour, PeriodEndWindow: 12 * time.Hour})
	return scenario{
		name: "forecast", policy: p, step: time.Hour, last: 264 * time.Hour,
		objectives: []*config.Objective{
			objective("f", 0, 240*time.Hour,
				// pace grows 6 a day towards 100: the forecast (3 values
				// over a day, from 24h) ends near 60, a miss; it speeds up
				// from 48h.
				increase("pace", 0, 100, 0),
				// done is above its target and falling: its forecast misses,
				// but an achieved result is not forecast to miss.
				increase("done", 0, 10, 0),
			),
		},
		values: map[string][]okr.Point{
			"f/pace": points(0, 0, 12*hour, 3, 24*hour, 6, 48*hour, 40, 72*hour, 70, 96*hour, 95, 120*hour, 100),
			"f/done": points(0, 30, 12*hour, 20, 24*hour, 12),
		},
		firstFiring: map[string]time.Duration{
			alerting.Key(alerting.ForecastMiss, "f", "pace"): 26 * time.Hour,
			alerting.Key(alerting.Achieved, "f", "done"):     240 * time.Hour,
		},
		families: []alerting.Condition{alerting.ForecastMiss, alerting.Achieved},
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
			kr := &snapshot.KeyResult{Objective: oc, Config: kc, Result: r}
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
	series map[string][]*float64
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
// and every annotation of the rule (one without a value is present and
// empty).
func expected(s alerting.State) expAlert {
	ls := maps.Clone(s.Labels)
	delete(ls, notify.LabelAlertName)
	ls[notify.LabelOrigin] = alerting.OriginPrometheus
	ls["job"] = scrapeJob
	as := maps.Clone(s.Annotations)
	if s.Condition.KeyResult() {
		for _, k := range []string{notify.AnnotationProgress, notify.AnnotationForecast} {
			if _, ok := as[k]; !ok {
				as[k] = ""
			}
		}
	}
	return expAlert{ExpLabels: ls, ExpAnnotations: as}
}

// unitTests writes the Prometheus path of a run as a promtool test, with
// the series scraped from each of instances.
func (sc *scenario) unitTests(r run, instances []string) unitTestFile {
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
					check.ExpAlerts = append(check.ExpAlerts, expected(s))
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

func TestBuiltInAlertingAndGeneratedRulesFireTheSameAlerts(t *testing.T) {
	bin := promtool(t)
	for _, sc := range []scenario{statusScenario(), forecastScenario()} {
		for _, replicas := range []struct {
			name      string
			instances []string
		}{{"one okrd", oneInstance}, {"three replicas", threeReplicas}} {
			t.Run(sc.name+" scraped from "+replicas.name, func(t *testing.T) {
				r := sc.runBuiltIn(t)
				sc.checkBuiltIn(t, r)
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
