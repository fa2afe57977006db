// Package alerting owns okrd's built-in alerting: which conditions a key
// result or a source can be in (off track, forecast to miss, missed or
// achieved at period end, without data, stale, the owner's confidence
// dropping or disagreeing with the numbers, source down), the pure
// state machine that turns observations of them into notifications (with
// hysteresis, repeats and resolved notices), the precedence that notifies
// only the worst of a key result's conditions (inhibit.go), the texts of
// the alerts (text.go), the routes that pick the receivers of an alert, and
// the Engine that persists alert state in the store and dispatches
// notifications through the notify package.
//
// The conditions, alert names, labels and severities defined here are also
// what the rules package generates Prometheus rules for, so that both
// alerting paths produce alerts that look alike in Alertmanager.
package alerting

import (
	"fmt"
	"time"

	"github.com/okrd/okrd/config"
)

// Condition is something worth telling a team about.
type Condition string

// Conditions. A key result's conditions are judged from its evaluated
// status (docs/okr.md) while its period runs, except missed and achieved,
// which hold once the period has ended.
const (
	OffTrack     Condition = "off_track"     // status off_track: gap < -2 × tolerance
	AtRisk       Condition = "at_risk"       // gap < -tolerance (at_risk or off_track); off by default
	ForecastMiss Condition = "forecast_miss" // forecast progress below 1 - tolerance
	Missed       Condition = "missed"        // the period ended short of the target
	Achieved     Condition = "achieved"      // the period ended with the target reached
	NoData       Condition = "no_data"       // no value recorded yet
	Stale        Condition = "stale"         // the latest value is older than stale_after
	// ConfidenceDrop: the owner's confidence is at least
	// Policy.ConfidenceDrop points below the week's high; off by default.
	ConfidenceDrop Condition = "confidence_drop"
	// ConfidenceDisagrees: the owner's confidence is high (at least
	// ConfidenceHigh) while the key result is forecast to miss (the rule of
	// forecast_miss), or low (at most ConfidenceLow) while it is on track
	// or achieved; off by default.
	ConfidenceDisagrees Condition = "confidence_disagrees"
	SourceDown          Condition = "source_down" // a source's polls have failed for source_down_after
)

// Conditions lists every condition in a stable order.
var Conditions = []Condition{OffTrack, AtRisk, ForecastMiss, Missed, Achieved, NoData, Stale, ConfidenceDrop, ConfidenceDisagrees, SourceDown}

// The confidences confidence_disagrees calls high and low (on okrd's scale
// of 1 to 10, where high = 9 and low = 3 in words).
const (
	ConfidenceHigh = 8
	ConfidenceLow  = 3
)

// DefaultConditions are the conditions alerted on when the configuration
// does not list them: all but at_risk, which would double every off-track
// alert with a warning for teams that did not ask for it, and the
// confidence conditions, which judge what owners say and are for teams
// that ask owners for their confidence.
var DefaultConditions = []Condition{OffTrack, ForecastMiss, Missed, Achieved, NoData, Stale, SourceDown}

// Severity is an alert's severity label.
type Severity string

// Severities.
const (
	Critical Severity = "critical"
	Warning  Severity = "warning"
	Info     Severity = "info"
)

// Severities lists every severity.
var Severities = []Severity{Critical, Warning, Info}

// Origin label values: which path raised an alert.
const (
	OriginOkrd       = "okrd"
	OriginPrometheus = "prometheus"
)

// ParseCondition returns the condition named s.
func ParseCondition(s string) (Condition, error) {
	for _, c := range Conditions {
		if string(c) == s {
			return c, nil
		}
	}
	return "", fmt.Errorf("unknown condition %q", s)
}

// AlertName is the alertname label of the condition's alerts.
func (c Condition) AlertName() string {
	switch c {
	case OffTrack:
		return "OKRKeyResultOffTrack"
	case AtRisk:
		return "OKRKeyResultAtRisk"
	case ForecastMiss:
		return "OKRKeyResultForecastMiss"
	case Missed:
		return "OKRKeyResultMissed"
	case Achieved:
		return "OKRKeyResultAchieved"
	case NoData:
		return "OKRKeyResultNoData"
	case Stale:
		return "OKRKeyResultStale"
	case ConfidenceDrop:
		return "OKRKeyResultConfidenceDrop"
	case ConfidenceDisagrees:
		return "OKRKeyResultConfidenceDisagrees"
	case SourceDown:
		return "OKRSourceDown"
	}
	return "OKRUnknown"
}

// Severity is the severity label of the condition's alerts: critical for a
// key result off track (act now), info for an achievement and for a
// confidence that disagrees with the numbers (a prompt to talk, not a
// finding), warning for the rest.
func (c Condition) Severity() Severity {
	switch c {
	case OffTrack:
		return Critical
	case Achieved, ConfidenceDisagrees:
		return Info
	default:
		return Warning
	}
}

// Once reports whether the condition is an event that is notified once and
// never repeated nor resolved: the final result of a period.
func (c Condition) Once() bool { return c == Missed || c == Achieved }

// KeyResult reports whether the condition concerns a key result (all but
// source_down).
func (c Condition) KeyResult() bool { return c != SourceDown }

// Policy is how the state machine treats conditions.
type Policy struct {
	// Enabled lists the conditions alerted on.
	Enabled map[Condition]bool
	// For is how long a key-result condition must hold before its alert
	// fires.
	For time.Duration
	// KeepFiringFor is how long a firing alert keeps firing after its
	// condition stopped holding, so that a value hovering around a
	// threshold does not resolve and fire again and again.
	KeepFiringFor time.Duration
	// RepeatInterval is how often a firing alert is notified again; 0
	// never repeats.
	RepeatInterval time.Duration
	// SourceDownAfter is how long a source must have failed before
	// source_down fires (it replaces For for that condition).
	SourceDownAfter time.Duration
	// PeriodEndWindow bounds how long after its period ended a key result
	// may still raise missed or achieved, so that old objectives kept in the
	// file for the record do not notify when okrd first meets them.
	PeriodEndWindow time.Duration
	// ExternalURL is okrd's server.external_url; alerts link to its page.
	ExternalURL string
	// KeyResults holds, per key result ("objective/key_result"), what the
	// generated rules must know of it and okrd's series do not carry. The
	// built-in alerting reads the same from the configuration itself.
	KeyResults map[string]KeyResultInfo
	// ConfidenceDrop is how many points below the week's high the owner's
	// confidence must be for confidence_drop to hold.
	ConfidenceDrop int
	// Numbers prints the numbers of the built-in alerts' annotations; nil
	// prints them as okrd's page does.
	Numbers Numbers
}

// KeyResultInfo is what the generated rules write into the alerts of one
// key result beyond okrd's series.
type KeyResultInfo struct {
	// RunbookURL is the key result's runbook_url (its own or its
	// objective's), "" without one.
	RunbookURL string
	// Currency is the ISO 4217 code of a currency key result, printed
	// after its amounts.
	Currency string
}

// KeyResultInfos collects the KeyResultInfo of every key result of the
// objectives that has one.
func KeyResultInfos(objectives []*config.Objective) map[string]KeyResultInfo {
	out := map[string]KeyResultInfo{}
	for _, o := range objectives {
		for _, kr := range o.KeyResults {
			if info := (KeyResultInfo{RunbookURL: kr.RunbookURL, Currency: kr.Currency}); info != (KeyResultInfo{}) {
				out[o.ID+"/"+kr.ID] = info
			}
		}
	}
	return out
}

// Defaults of the policy, documented in config.example.toml and
// docs/alerting.md.
const (
	DefaultFor             = time.Hour
	DefaultKeepFiringFor   = time.Hour
	DefaultRepeatInterval  = 24 * time.Hour
	DefaultSourceDownAfter = 30 * time.Minute
	DefaultPeriodEndWindow = 7 * 24 * time.Hour
	DefaultConfidenceDrop  = 3
)

// DefaultPolicy is the policy of an [alerting] section that sets nothing.
func DefaultPolicy() Policy {
	p := Policy{For: DefaultFor, KeepFiringFor: DefaultKeepFiringFor, RepeatInterval: DefaultRepeatInterval,
		SourceDownAfter: DefaultSourceDownAfter, PeriodEndWindow: DefaultPeriodEndWindow, ConfidenceDrop: DefaultConfidenceDrop,
		Enabled: map[Condition]bool{}}
	for _, c := range DefaultConditions {
		p.Enabled[c] = true
	}
	return p
}

// forOf is how long c must hold before it fires.
func (p *Policy) forOf(c Condition) time.Duration {
	switch {
	case c == SourceDown:
		return p.SourceDownAfter
	case c.Once():
		// The period's result is final: there is nothing to wait for.
		return 0
	default:
		return p.For
	}
}

// PolicyOf is the policy of a loaded configuration ([alerting] with its
// defaults applied, and server.external_url). The built-in alerting and
// `okrd rules` both use it, so that both paths implement the same policy.
func PolicyOf(cfg *config.Config) Policy {
	ac := cfg.Alerting
	p := Policy{
		For:             time.Duration(ac.For),
		KeepFiringFor:   time.Duration(ac.KeepFiringFor),
		RepeatInterval:  time.Duration(ac.RepeatInterval),
		SourceDownAfter: time.Duration(ac.SourceDownAfter),
		PeriodEndWindow: time.Duration(ac.PeriodEndWindow),
		ConfidenceDrop:  ac.ConfidenceDropPoints,
		ExternalURL:     cfg.Server.ExternalURL,
		KeyResults:      KeyResultInfos(cfg.Objectives),
		Enabled:         map[Condition]bool{},
	}
	for _, c := range ac.Conditions {
		p.Enabled[Condition(c)] = true
	}
	return p
}
