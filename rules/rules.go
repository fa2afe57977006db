// Package rules generates the Prometheus recording and alerting rules that
// implement okrd's alert conditions (see the alerting package) over the
// series okrd exposes, for teams that prefer to alert from Prometheus: the
// gap beyond tolerance for the `for` duration, the forecast miss, missed
// and achieved at period end, no data, stale data and a source down. The
// alerts have the same alertnames, labels and annotations as the built-in
// alerting's, except origin="prometheus" (and the job label of the scrape:
// not the instance, so that okrd replicas raise each alert once), so both
// paths look alike in Alertmanager.
package rules

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v2"

	"github.com/okrd/okrd/alerting"
	"github.com/okrd/okrd/notify"
)

// File is a Prometheus rule file.
type File struct {
	Groups []Group `yaml:"groups"`
}

// Group is a rule group.
type Group struct {
	Name  string `yaml:"name"`
	Rules []Rule `yaml:"rules"`
}

// Rule is a recording or an alerting rule.
type Rule struct {
	Record        string            `yaml:"record,omitempty"`
	Alert         string            `yaml:"alert,omitempty"`
	Expr          string            `yaml:"expr"`
	For           string            `yaml:"for,omitempty"`
	KeepFiringFor string            `yaml:"keep_firing_for,omitempty"`
	Labels        map[string]string `yaml:"labels,omitempty"`
	Annotations   map[string]string `yaml:"annotations,omitempty"`
}

// Names of the rule group and of the recording rule.
const (
	// GroupName is the one group of the file. The recording rule comes
	// first in the same group as the alerts that read it: Prometheus
	// evaluates the rules of a group in order, so the alerts see the gap of
	// this evaluation, while groups run independently of each other (an
	// alert in another group would read the gap of the previous interval,
	// or of this one, depending on which group happened to run first).
	GroupName = "okrd"
	// GapRecord is progress minus expected progress, per key result.
	GapRecord = "okr:key_result_gap:ratio"
)

// Expression fragments. okrd may run as several replicas scraped by one
// Prometheus (docs/ha.md): each exports the same key result series, from
// the same store, under its own instance label. The series the rules
// compute with are therefore taken per job, objective and key result with
// the instance aggregated away (replicas agree; max picks the freshest
// should one lag a few seconds behind), so that three replicas raise each
// alert once, with the labels one replica's alert has. The info series
// that copies owner and team is reduced to those labels first, so that
// replicas momentarily running different titles cannot break the join. Set
// operations, which allow many matches, match on the ids as they are.
const (
	notStale   = "unless on(objective, key_result) okr_key_result_stale == 1"
	inPeriod   = "and on(objective) okr_objective_period_start_timestamp_seconds <= time()\nand on(objective) okr_objective_period_end_timestamp_seconds > time()"
	ended      = "and on(objective) okr_objective_period_end_timestamp_seconds <= time()"
	withOwners = "* ignoring(owner, team) group_left(owner, team) group without(instance, title, unit, source, direction) (okr_key_result_info)"
	// epsilon is the floating-point slack of okr's status thresholds
	// (okr.epsilon): a gap of 0.3 - 0.4 = -0.10000000000000003 is a gap of
	// -0.1, on track with a tolerance of 0.1. The rules compare with the
	// same slack so that they fire exactly when the status says so.
	epsilon = "1e-09"
)

// replicas is a series of every okrd replica as one: the instance label
// aggregated away (see the fragments above).
func replicas(series string) string { return "max without(instance) (" + series + ")" }

// Generate returns the rules for the policy's enabled conditions.
func Generate(p alerting.Policy) *File {
	g := Group{Name: GroupName, Rules: []Rule{{
		Record: GapRecord,
		Expr:   replicas("okr_key_result_progress_ratio") + " - " + replicas("okr_key_result_expected_progress_ratio"),
	}}}
	for _, c := range alerting.Conditions {
		if !p.Enabled[c] {
			continue
		}
		g.Rules = append(g.Rules, alertRule(c, p))
	}
	return &File{Groups: []Group{g}}
}

// alertRule is the rule of one condition.
func alertRule(c alerting.Condition, p alerting.Policy) Rule {
	r := Rule{
		Alert:  c.AlertName(),
		Labels: map[string]string{notify.LabelSeverity: string(c.Severity()), notify.LabelOrigin: alerting.OriginPrometheus},
	}
	if !c.Once() {
		forD := p.For
		if c == alerting.SourceDown {
			forD = p.SourceDownAfter
		}
		r.For = duration(forD)
		r.KeepFiringFor = duration(p.KeepFiringFor)
	}
	if c == alerting.SourceDown {
		// A source still in its first poll since it (re)started is not
		// down yet: its up series is 0 only because no poll has ended
		// (the built-in alerting calls it unknown). Only the leading
		// replica polls; the others export the health it stores, so the
		// replicas are one here too. ignoring(type) rather than
		// on(source) keeps the match per job.
		r.Expr = replicas("okrd_source_up") + " == 0\nunless ignoring(type) " + replicas("okrd_source_initial_sync_in_progress") + " == 1"
		r.Annotations = map[string]string{
			notify.AnnotationSummary: "Source {{ $labels.source }} is down",
			notify.AnnotationDescription: fmt.Sprintf("Polls of source {{ $labels.source }} ({{ $labels.type }}) have failed for longer than %s.",
				alerting.FormatDuration(p.SourceDownAfter)),
		}
		if p.ExternalURL != "" {
			r.Annotations[notify.AnnotationDashboard] = strings.TrimRight(p.ExternalURL, "/") + "/"
		}
		return r
	}

	var cond string
	switch c {
	case alerting.OffTrack:
		// status off_track: gap < -2 × tolerance (achieved needs gap >= 0).
		cond = GapRecord + " < -2 * " + replicas("okr_key_result_tolerance_ratio") + " - " + epsilon + "\n" + notStale + "\n" + inPeriod
	case alerting.AtRisk:
		// status at_risk or off_track: gap < -tolerance.
		cond = GapRecord + " < -" + replicas("okr_key_result_tolerance_ratio") + " - " + epsilon + "\n" + notStale + "\n" + inPeriod
	case alerting.ForecastMiss:
		cond = replicas("okr_key_result_forecast_progress_ratio") + " < 1 - " + replicas("okr_key_result_tolerance_ratio") + "\n" + notStale +
			"\nunless on(objective, key_result) okr_key_result_status{status=\"achieved\"} == 1\n" + inPeriod
	case alerting.Missed, alerting.Achieved:
		// The status is final once the period has ended, and only then: a
		// key result reaches achieved as soon as its progress reaches 1,
		// mid-period too. The alert holds from the end for
		// period_end_window.
		cond = fmt.Sprintf("max without(instance, status) (okr_key_result_status{status=%q} == 1)\n"+ended+"\n"+
			"and on(objective) time() - okr_objective_period_end_timestamp_seconds < %s",
			string(c), strconv.FormatFloat(p.PeriodEndWindow.Seconds(), 'f', -1, 64))
	case alerting.NoData:
		// A stale value also makes the status no_data; stale has its own
		// alert.
		cond = "max without(instance, status) (okr_key_result_status{status=\"no_data\"} == 1)\n" + notStale + "\n" + inPeriod
	case alerting.Stale:
		cond = replicas("okr_key_result_stale") + " == 1\n" + inPeriod
	}
	r.Expr = "(\n" + indent(cond) + "\n)\n" + withOwners
	r.Annotations = keyResultAnnotations(c, p)
	return r
}

// query renders a template fragment that reads one series of the alert's
// key result and formats it: "" when the series is absent.
func query(expr, format string) string {
	return `{{ with printf "` + expr + `" $labels.objective $labels.key_result | query }}{{ . | first | ` + format + ` }}{{ end }}`
}

const sel = `{objective=%q,key_result=%q}`

var (
	tmplTitle    = query("okr_key_result_info"+sel, `label "title"`)
	tmplStatus   = query("okr_key_result_status"+sel+" == 1", `label "status"`)
	tmplProgress = query("okr_key_result_progress_ratio"+sel, "value | humanizePercentage")
	tmplExpected = query("okr_key_result_expected_progress_ratio"+sel, "value | humanizePercentage")
	tmplForecast = query("okr_key_result_forecast_progress_ratio"+sel, "value | humanizePercentage")
	tmplNeeded   = query("1 - okr_key_result_tolerance_ratio"+sel, "value | humanizePercentage")
)

// keyResultAnnotations mirror what the built-in alerting writes
// (alerting.Observe), with the numbers read at the time of the alert.
func keyResultAnnotations(c alerting.Condition, p alerting.Policy) map[string]string {
	a := map[string]string{
		notify.AnnotationTitle:    tmplTitle,
		notify.AnnotationSummary:  alerting.Summary(c, tmplTitle),
		notify.AnnotationStatus:   tmplStatus,
		notify.AnnotationProgress: tmplProgress,
		notify.AnnotationExpected: tmplExpected,
		notify.AnnotationForecast: tmplForecast,
	}
	if p.ExternalURL != "" {
		a[notify.AnnotationDashboard] = strings.TrimRight(p.ExternalURL, "/") + "/#obj-{{ $labels.objective }}"
	}
	switch c {
	case alerting.OffTrack, alerting.AtRisk:
		a[notify.AnnotationDescription] = "Progress is " + tmplProgress + " where " + tmplExpected + " was expected by now."
	case alerting.ForecastMiss:
		a[notify.AnnotationDescription] = "At its current pace the key result ends the period at " + tmplForecast +
			" progress; " + tmplNeeded + " is needed."
	case alerting.Missed:
		a[notify.AnnotationDescription] = "The period ended with progress " + tmplProgress + "."
	case alerting.Achieved:
		a[notify.AnnotationDescription] = "The period ended with the target reached."
	case alerting.NoData:
		a[notify.AnnotationDescription] = "No value has been recorded for this key result yet."
	case alerting.Stale:
		a[notify.AnnotationDescription] = "The latest value is older than the key result's stale_after; its status is no_data until a new value arrives."
	}
	return a
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}

// duration writes d in Prometheus notation, "" (left out) for 0.
func duration(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return alerting.FormatDuration(d)
}

func init() {
	// Long PromQL and template lines stay on one line instead of being
	// folded at 80 columns, which keeps the file readable and diffable.
	// (This is a process-wide yaml/v2 setting; it only changes line
	// wrapping, never the meaning of what is written.)
	yaml.FutureLineWrap()
}

// Marshal encodes the rule file as YAML with a header saying where it came
// from. source names the configuration it was generated from.
func (f *File) Marshal(source string) ([]byte, error) {
	body, err := yaml.Marshal(f)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString("# Prometheus rules for okrd's alert conditions, generated by `okrd rules`")
	if source != "" {
		b.WriteString(" from " + source)
	}
	b.WriteString(".\n# Regenerate them after changing the [alerting] section instead of editing this file.\n")
	b.Write(body)
	return b.Bytes(), nil
}
