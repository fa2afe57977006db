// Package rules generates the Prometheus recording and alerting rules that
// implement okrd's alert conditions (see the alerting package) over the
// series okrd exposes, for teams that prefer to alert from Prometheus: the
// gap beyond tolerance for the `for` duration, the forecast miss, missed
// and achieved at period end, no data, stale data, the owner's confidence
// dropping or disagreeing with the numbers, and a source down. The
// alerts have the same alertnames, labels and annotations as the built-in
// alerting's, except origin="prometheus" (and the job label of the scrape:
// not the instance, so that okrd replicas raise each alert once), so both
// paths look alike in Alertmanager.
package rules

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v2"

	"github.com/okrd/okrd/alerting"
	"github.com/okrd/okrd/notify"
	"github.com/okrd/okrd/report/format"
	"github.com/okrd/okrd/snapshot"
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

// forecastMiss is forecast_miss's rule without the period: the forecast
// below 1 - tolerance, of a value not stale and not already achieved.
const forecastMiss = "max without(instance) (okr_key_result_forecast_progress_ratio) < 1 - max without(instance) (okr_key_result_tolerance_ratio)\n" + notStale +
	"\nunless on(objective, key_result) okr_key_result_status{status=\"achieved\"} == 1"

// confidenceWeek is the range of the week's high, snapshot.ConfidenceWeek
// in days.
var confidenceWeek = strconv.Itoa(int(snapshot.ConfidenceWeek/(24*time.Hour))) + "d"

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
				format.Span(p.SourceDownAfter)),
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
		cond = forecastMiss + "\n" + inPeriod
	case alerting.ConfidenceDrop:
		// The week's high is the highest confidence exported over the past
		// seven days, which is the one in effect a week ago and every one
		// given since (snapshot.ConfidenceAt), as far as scrapes saw them.
		cond = replicas("max_over_time(okr_key_result_confidence["+confidenceWeek+"])") + " - " + replicas("okr_key_result_confidence") +
			" >= " + strconv.Itoa(p.ConfidenceDropPoints()) + "\n" + inPeriod
	case alerting.ConfidenceDisagrees:
		cond = "(\n" + indent(replicas("okr_key_result_confidence")+" >= "+strconv.Itoa(alerting.ConfidenceHigh)+
			"\nand on(objective, key_result) (\n"+indent(forecastMiss)+"\n)") + "\n)\nor\n(\n" +
			indent(replicas("okr_key_result_confidence")+" <= "+strconv.Itoa(alerting.ConfidenceLow)+
				"\nand on(objective, key_result) okr_key_result_status{status=~\"on_track|achieved\"} == 1") + "\n)\n" + inPeriod
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
	return `{{ with ` + queryOf(expr) + ` }}{{ . | first | ` + format + ` }}{{ end }}`
}

// queryOf is the template pipeline that queries expr, a PromQL expression
// whose selectors name the alert's key result with sel.
func queryOf(expr string) string {
	return `printf "` + expr + `" $labels.objective $labels.key_result | query`
}

// sel selects the series of the alert's key result: printf's arguments 1
// and 2 are the alert's objective and key_result labels.
const sel = `{objective=%[1]q,key_result=%[2]q}`

var (
	tmplTitle    = query("okr_key_result_info"+sel, `label "title"`)
	tmplStatus   = query("okr_key_result_status"+sel+" == 1", `label "status"`)
	tmplProgress = query("okr_key_result_progress_ratio"+sel, "value | humanizePercentage")
	tmplExpected = query("okr_key_result_expected_progress_ratio"+sel, "value | humanizePercentage")
	tmplForecast = query("okr_key_result_forecast_progress_ratio"+sel, "value | humanizePercentage")
)

// quantityExpr is the PromQL of each quantity of an alert's text, over the
// series okrd exports for the key result. The series of one key result have
// the same labels, so their arithmetic needs no matching modifier.
var quantityExpr = map[alerting.Quantity]string{
	alerting.QValue: "okr_key_result_value" + sel,
	// The arithmetic of the built-in alerting, in the same order, so that
	// both paths compute the same number.
	alerting.QExpectedValue: "okr_key_result_baseline" + sel + " + okr_key_result_expected_progress_ratio" + sel +
		" * (okr_key_result_target" + sel + " - okr_key_result_baseline" + sel + ")",
	alerting.QTarget:           "okr_key_result_target" + sel,
	alerting.QMin:              "okr_key_result_band_min" + sel,
	alerting.QMax:              "okr_key_result_band_max" + sel,
	alerting.QForecast:         "okr_key_result_forecast_value" + sel,
	alerting.QProgress:         "okr_key_result_progress_ratio" + sel,
	alerting.QExpected:         "okr_key_result_expected_progress_ratio" + sel,
	alerting.QForecastProgress: "okr_key_result_forecast_progress_ratio" + sel,
	alerting.QNeeded:           "1 - okr_key_result_tolerance_ratio" + sel,
	alerting.QConfidence:       "okr_key_result_confidence" + sel,
	alerting.QWeekHigh:         "max_over_time(okr_key_result_confidence" + sel + "[" + confidenceWeek + "])",
}

// valueTemplate prints a value in its unit with Prometheus's template
// functions: a duration (seconds) with humanizeDuration, a ratio with
// humanizePercentage, a percent as a number with a % sign, and anything
// else as a number (humanize from a thousand up, for 1.5M rather than
// 1.5e+06), followed by the currency code if any. It is called with args:
// the value, the unit and the currency code.
const valueTemplate = `{{ define "okrd_value" }}{{ $v := .arg0 }}` +
	`{{ if eq .arg1 "duration" }}{{ humanizeDuration $v }}` +
	`{{ else if eq .arg1 "ratio" }}{{ humanizePercentage $v }}` +
	`{{ else if eq .arg1 "percent" }}{{ printf "%.4g%%" $v }}` +
	`{{ else }}{{ if and (lt $v 1000.0) (gt $v -1000.0) }}{{ printf "%.4g" $v }}{{ else }}{{ humanize $v }}{{ end }}` +
	`{{ if .arg2 }} {{ .arg2 }}{{ end }}{{ end }}{{ end }}`

// templateWriter writes the text of an alert as Prometheus template code
// that reads the alert's key result's series when the rule fires. The
// template must start with preamble, which defines the variables it reads.
type templateWriter struct{}

func (templateWriter) Value(q alerting.Quantity) string {
	return `{{ with ` + queryOf(quantityExpr[q]) + ` }}{{ template "okrd_value" (args (. | first | value) $unit $currency) }}{{ end }}`
}

func (templateWriter) Percent(q alerting.Quantity) string {
	return query(quantityExpr[q], "value | humanizePercentage")
}

func (templateWriter) Gap() string {
	return query("(okr_key_result_progress_ratio"+sel+" - okr_key_result_expected_progress_ratio"+sel+") * 100", `value | printf "%+.4g pts"`)
}

func (templateWriter) Known(q alerting.Quantity, text, unknown string) string {
	if unknown == "" {
		return `{{ with ` + queryOf(quantityExpr[q]) + ` }}` + text + `{{ end }}`
	}
	return `{{ with ` + queryOf(quantityExpr[q]) + ` }}` + text + `{{ else }}` + unknown + `{{ end }}`
}

func (templateWriter) Maintain(band, other string) string {
	return `{{ if eq $direction "maintain" }}` + band + `{{ else }}` + other + `{{ end }}`
}

// Confidence writes the confidence with its level in words, as
// checkins.ConfidenceName names it: low 1 to 4, medium 5 to 7, high 8 to 10.
func (templateWriter) Confidence(q alerting.Quantity) string {
	return `{{ with ` + queryOf(quantityExpr[q]) + ` }}{{ $c := . | first | value }}{{ printf "%.0f" $c }} ` +
		`({{ if ge $c 8.0 }}high{{ else if ge $c 5.0 }}medium{{ else }}low{{ end }}){{ end }}`
}

func (templateWriter) HighConfidence(high, other string) string {
	return `{{ $high := false }}{{ with ` + queryOf(quantityExpr[alerting.QConfidence]) + ` }}` +
		`{{ if ge (. | first | value) ` + strconv.Itoa(alerting.ConfidenceHigh) + `.0 }}{{ $high = true }}{{ end }}{{ end }}` +
		`{{ if $high }}` + high + `{{ else }}` + other + `{{ end }}`
}

func (templateWriter) Status() string {
	return query("okr_key_result_status"+sel+" == 1", `label "status" | reReplaceAll "_" " "`)
}

// preamble defines what templateWriter's code reads: the value template,
// and the key result's unit and direction (from okr_key_result_info) and
// currency (from the configuration, which the series do not carry).
func preamble(p alerting.Policy) string {
	var b strings.Builder
	b.WriteString(valueTemplate)
	b.WriteString(`{{ $unit := "" }}{{ $direction := "" }}{{ with ` + queryOf("okr_key_result_info"+sel) + ` }}` +
		`{{ $unit = label "unit" (first .) }}{{ $direction = label "direction" (first .) }}{{ end }}`)
	b.WriteString(`{{ $currency := "" }}`)
	b.WriteString(lookup(p, func(i alerting.KeyResultInfo) string { return i.Currency }, func(v string) string {
		return `{{ $currency = ` + strconv.Quote(v) + ` }}`
	}))
	return b.String()
}

// lookup writes a template that writes, for the alert's key result, what
// write makes of the field of its KeyResultInfo, and nothing for a key
// result without one.
func lookup(p alerting.Policy, field func(alerting.KeyResultInfo) string, write func(string) string) string {
	var b strings.Builder
	for _, key := range slices.Sorted(maps.Keys(p.KeyResults)) {
		v := field(p.KeyResults[key])
		if v == "" {
			continue
		}
		objective, keyResult, _ := strings.Cut(key, "/")
		if b.Len() == 0 {
			b.WriteString("{{ if ")
		} else {
			b.WriteString("{{ else if ")
		}
		fmt.Fprintf(&b, "and (eq $labels.objective %s) (eq $labels.key_result %s) }}", strconv.Quote(objective), strconv.Quote(keyResult))
		b.WriteString(write(v))
	}
	if b.Len() > 0 {
		b.WriteString("{{ end }}")
	}
	return b.String()
}

// keyResultAnnotations mirror what the built-in alerting writes
// (alerting.Observe), with the numbers read at the time of the alert.
func keyResultAnnotations(c alerting.Condition, p alerting.Policy) map[string]string {
	a := map[string]string{
		notify.AnnotationTitle:       tmplTitle,
		notify.AnnotationSummary:     alerting.Summary(c, tmplTitle),
		notify.AnnotationDescription: preamble(p) + alerting.Description(c, templateWriter{}),
		notify.AnnotationStatus:      tmplStatus,
		notify.AnnotationProgress:    tmplProgress,
		notify.AnnotationExpected:    tmplExpected,
		notify.AnnotationForecast:    tmplForecast,
	}
	if p.ExternalURL != "" {
		a[notify.AnnotationDashboard] = alerting.KeyResultLink(p.ExternalURL, "{{ $labels.objective }}", "{{ $labels.key_result }}")
	}
	// Runbooks come from the configuration, so the file must be generated
	// again when one changes.
	// The URL is a template string literal, so that no character of it can
	// be read as template code.
	if rb := lookup(p, func(i alerting.KeyResultInfo) string { return i.RunbookURL }, func(u string) string {
		return "{{ " + strconv.Quote(u) + " }}"
	}); rb != "" {
		a[notify.AnnotationRunbookURL] = rb
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

// InhibitRule is one of Alertmanager's inhibit_rules: while an alert that
// matches SourceMatchers fires, the alerts that match TargetMatchers and
// have the same values of the Equal labels are not notified.
type InhibitRule struct {
	SourceMatchers []string `yaml:"source_matchers" json:"source_matchers"`
	TargetMatchers []string `yaml:"target_matchers" json:"target_matchers"`
	Equal          []string `yaml:"equal" json:"equal"`
}

// InhibitRules are Alertmanager's inhibit_rules for okrd's alerts: the
// precedence the built-in alerting applies itself (alerting.Inhibitions),
// for the alerts of the generated rules. They match okrd's alerts of both
// origins, so an alert of one path also mutes the other path's.
func InhibitRules() []InhibitRule {
	var out []InhibitRule
	for _, in := range alerting.Inhibitions {
		names := make([]string, len(in.Targets))
		for i, c := range in.Targets {
			names[i] = c.AlertName()
		}
		target := notify.LabelAlertName + "=" + strconv.Quote(names[0])
		if len(names) > 1 {
			target = notify.LabelAlertName + "=~" + strconv.Quote(strings.Join(names, "|"))
		}
		out = append(out, InhibitRule{
			SourceMatchers: []string{notify.LabelAlertName + "=" + strconv.Quote(in.Source.AlertName())},
			TargetMatchers: []string{target},
			Equal:          slices.Clone(alerting.InhibitEqual),
		})
	}
	return out
}

// MarshalInhibitRules writes InhibitRules as the inhibit_rules section of an
// Alertmanager configuration.
func MarshalInhibitRules() ([]byte, error) {
	return yaml.Marshal(struct {
		InhibitRules []InhibitRule `yaml:"inhibit_rules"`
	}{InhibitRules()})
}
