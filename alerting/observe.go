package alerting

import (
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/notify"
	"github.com/okrd/okrd/okr"
	"github.com/okrd/okrd/report/format"
	"github.com/okrd/okrd/snapshot"
)

// Observation says that a condition holds now (or that okrd cannot tell),
// with the labels and annotations its alert carries. A condition that is
// not observed does not hold.
type Observation struct {
	Key       string
	Condition Condition
	// Unknown means okrd cannot tell whether the condition holds (a source
	// not polled since the restart); its alert's state is left alone.
	Unknown      bool
	Labels       map[string]string
	Annotations  map[string]string
	GeneratorURL string
}

// Input is what the conditions are judged from.
type Input struct {
	// Snapshot is the newest evaluation; its EvaluatedAt is "now".
	Snapshot *snapshot.Snapshot
	// Sources is the health of every configured source. A source with no
	// poll yet (Polls == 0) is Unknown; a source missing from the list is
	// not configured (any alert of it resolves).
	Sources []collectors.Health
	// FilledInOnly, when set, reports whether every value of a key result
	// in its period was filled in from its source's records
	// (docs/history.md): okrd never measured it while the period ran. It
	// is asked only of key results whose period has ended: the final
	// result of such a period is history okrd reconstructed, not news, and
	// raises neither missed nor achieved.
	FilledInOnly func(kr *snapshot.KeyResult) bool
}

// Key returns the identity of an alert: the condition and what it is about.
// Ids are restricted to [a-z0-9_-], so "/" separates them unambiguously.
func Key(c Condition, ids ...string) string {
	return string(c) + "/" + strings.Join(ids, "/")
}

// Observe judges every enabled condition at now (the snapshot's evaluation
// time) and returns the observations keyed by alert key. It is pure.
func Observe(in Input, p *Policy) map[string]*Observation {
	out := map[string]*Observation{}
	if in.Snapshot != nil {
		now := in.Snapshot.EvaluatedAt
		for _, o := range in.Snapshot.Objectives {
			for _, kr := range o.KeyResults {
				for _, c := range keyResultConditions(kr, now, p, in.FilledInOnly) {
					obs := keyResultObservation(c, kr, p)
					out[obs.Key] = obs
				}
			}
		}
	}
	if p.Enabled[SourceDown] {
		for _, h := range in.Sources {
			if h.Polls > 0 && h.Up {
				continue
			}
			obs := &Observation{
				Key: Key(SourceDown, h.Name), Condition: SourceDown, Unknown: h.Polls == 0,
				Labels: labels(SourceDown, notify.LabelSource, h.Name, notify.LabelType, h.Type),
				Annotations: map[string]string{
					notify.AnnotationSummary:     fmt.Sprintf("Source %s is down", h.Name),
					notify.AnnotationDescription: fmt.Sprintf("Polls of source %s (%s) have failed for longer than %s.", h.Name, h.Type, format.Span(p.SourceDownAfter)),
				},
				GeneratorURL: link(p.ExternalURL),
			}
			if u := link(p.ExternalURL); u != "" {
				obs.Annotations[notify.AnnotationDashboard] = u
			}
			out[obs.Key] = obs
		}
	}
	return out
}

// keyResultConditions returns the enabled conditions a key result is in.
// Every condition is judged at now from the evaluated status: values
// filled in for past instants shape the present value, trend and forecast
// but never stand for an observation in the past, so they cannot backdate
// an alert (its `for` counts from the first evaluation that shows it).
func keyResultConditions(kr *snapshot.KeyResult, now time.Time, p *Policy, filledInOnly func(*snapshot.KeyResult) bool) []Condition {
	r := kr.Result
	period := kr.Objective.Resolved
	var cs []Condition
	add := func(c Condition, holds bool) {
		if holds && p.Enabled[c] {
			cs = append(cs, c)
		}
	}
	if !now.Before(period.End) {
		// The period is over: only its final result is news, and only
		// while the end is recent.
		recent := now.Sub(period.End) < p.PeriodEndWindow
		if recent && filledInOnly != nil && (r.Status == okr.StatusMissed || r.Status == okr.StatusAchieved) && filledInOnly(kr) {
			return nil
		}
		add(Missed, recent && r.Status == okr.StatusMissed)
		add(Achieved, recent && r.Status == okr.StatusAchieved)
		return cs
	}
	if now.Before(period.Start) {
		return nil
	}
	add(OffTrack, r.Status == okr.StatusOffTrack)
	add(AtRisk, r.Status == okr.StatusAtRisk || r.Status == okr.StatusOffTrack)
	forecastMiss := r.HasForecast && !kr.Stale && r.Status != okr.StatusAchieved && r.ForecastProgress < 1-tolerance(kr)
	add(ForecastMiss, forecastMiss)
	add(NoData, !r.HasValue)
	add(Stale, kr.Stale)
	if conf := kr.Confidence; conf != nil {
		add(ConfidenceDrop, conf.WeekHigh-conf.Value >= p.ConfidenceDropPoints())
		add(ConfidenceDisagrees, conf.Value >= ConfidenceHigh && forecastMiss ||
			conf.Value <= ConfidenceLow && (r.Status == okr.StatusOnTrack || r.Status == okr.StatusAchieved))
	}
	return cs
}

// ConfidenceDropPoints is the drop confidence_drop needs, the default when the
// policy sets none.
func (p *Policy) ConfidenceDropPoints() int {
	if p.ConfidenceDrop > 0 {
		return p.ConfidenceDrop
	}
	return DefaultConfidenceDrop
}

// tolerance is the key result's status tolerance, as the okr engine uses it.
func tolerance(kr *snapshot.KeyResult) float64 {
	if t := kr.Config.Engine.Tolerance; t > 0 {
		return t
	}
	return okr.DefaultTolerance
}

func keyResultObservation(c Condition, kr *snapshot.KeyResult, p *Policy) *Observation {
	oc, kc, r := kr.Objective, kr.Config, kr.Result
	obs := &Observation{
		Key:       Key(c, oc.ID, kc.ID),
		Condition: c,
		Labels: labels(c, notify.LabelObjective, oc.ID, notify.LabelKeyResult, kc.ID,
			notify.LabelOwner, kc.Owner, notify.LabelTeam, kc.Team),
		GeneratorURL: KeyResultLink(p.ExternalURL, oc.ID, kc.ID),
	}
	n := p.Numbers
	if n == nil {
		n = pageNumbers{}
	}
	w := resultWriter{kr: kr, n: n}
	a := map[string]string{
		notify.AnnotationTitle:       kc.Title,
		notify.AnnotationSummary:     Summary(c, kc.Title),
		notify.AnnotationDescription: Description(c, w),
		notify.AnnotationStatus:      string(r.Status),
		notify.AnnotationExpected:    w.Percent(QExpected),
	}
	if r.HasValue {
		a[notify.AnnotationProgress] = w.Percent(QProgress)
	}
	if r.HasForecast {
		a[notify.AnnotationForecast] = w.Percent(QForecastProgress)
	}
	if obs.GeneratorURL != "" {
		a[notify.AnnotationDashboard] = obs.GeneratorURL
	}
	if kc.RunbookURL != "" {
		a[notify.AnnotationRunbookURL] = kc.RunbookURL
	}
	obs.Annotations = a
	return obs
}

// Summary is the one-line summary of a key result's alert.
func Summary(c Condition, title string) string {
	q := `Key result "` + title + `" `
	switch c {
	case OffTrack:
		return q + "is off track"
	case AtRisk:
		return q + "is at risk"
	case ForecastMiss:
		return q + "is forecast to miss its target"
	case Missed:
		return q + "missed its target"
	case Achieved:
		return q + "achieved its target"
	case NoData:
		return q + "has no data"
	case Stale:
		return q + "has stale data"
	case ConfidenceDrop:
		return `Confidence in key result "` + title + `" dropped this week`
	case ConfidenceDisagrees:
		return `Confidence in key result "` + title + `" disagrees with its numbers`
	}
	return q + string(c)
}

// labels builds an alert's labels from name/value pairs, leaving out empty
// values (Prometheus drops empty labels too, so both paths agree).
func labels(c Condition, kv ...string) map[string]string {
	m := map[string]string{
		notify.LabelAlertName: c.AlertName(),
		notify.LabelSeverity:  string(c.Severity()),
		notify.LabelOrigin:    OriginOkrd,
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			m[kv[i]] = kv[i+1]
		}
	}
	return m
}

// link is okrd's page ("" without an external URL).
func link(externalURL string) string {
	if externalURL == "" {
		return ""
	}
	return strings.TrimRight(externalURL, "/") + "/"
}

// KeyResultLink is the page of a key result on okrd's web page under the
// external URL, or "" when no external URL is configured.
func KeyResultLink(externalURL, objective, keyResult string) string {
	if externalURL == "" {
		return ""
	}
	return link(externalURL) + "objectives/" + objective + "/key_results/" + keyResult
}

// FormatDuration prints a duration the way the configuration writes it
// ("30m", "1h30m", "1d"), in Prometheus notation.
func FormatDuration(d time.Duration) string { return model.Duration(d).String() }
