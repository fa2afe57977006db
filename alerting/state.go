package alerting

import (
	"time"

	"github.com/okrd/okrd/notify"
)

// Phase is where an alert is in its life.
type Phase string

// Phases. An alert with no state is inactive.
const (
	// Pending: the condition holds but has not held for long enough.
	Pending Phase = "pending"
	// Firing: the alert was notified and has not resolved (it may be
	// within keep_firing_for of its condition clearing).
	Firing Phase = "firing"
)

// State is the state of one alert: everything Step needs to decide what
// to do next. It is persisted as JSON, so a restart continues exactly where
// the previous process stopped.
type State struct {
	Key       string    `json:"key"`
	Condition Condition `json:"condition"`
	Phase     Phase     `json:"phase"`
	// ActiveSince is when the condition started to hold (the start of the
	// pending phase).
	ActiveSince time.Time `json:"active_since"`
	// FiredAt is when the alert fired (its startsAt).
	FiredAt time.Time `json:"fired_at,omitzero"`
	// LastSent is when the alert was last notified as firing (the first
	// notification or a repeat).
	LastSent time.Time `json:"last_sent,omitzero"`
	// ClearSince is set while the alert fires although its condition no
	// longer holds (keep_firing_for).
	ClearSince time.Time `json:"clear_since,omitzero"`
	// Withheld is set while the alert fires without having been announced:
	// it started firing while a worse alert of its key result fired
	// (Inhibitions). It is announced once that one no longer fires, and ends
	// silently if it resolves first.
	Withheld bool `json:"withheld,omitempty"`
	// The alert's labels, annotations and link from the latest observation
	// in which the condition held; a resolved notice repeats them.
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	GeneratorURL string            `json:"generator_url,omitempty"`
}

// Kind is what a notification says.
type Kind string

// Kinds of notification.
const (
	Fire    Kind = "firing"   // the alert starts firing
	Repeat  Kind = "repeat"   // the alert still fires (repeat_interval)
	Resolve Kind = "resolved" // the alert has ended
)

// Notification is an alert to send, decided by Step.
type Notification struct {
	Key   string
	Kind  Kind
	Alert notify.Alert
}

// Step advances one alert from its previous state (nil: inactive) given
// the newest observation of its condition at now (nil: the condition does
// not hold), and says what to notify (nil: nothing). It is pure: it neither
// reads the clock nor modifies prev.
//
//   - inactive + holds → pending; pending fires once the condition has held
//     for the condition's `for` (immediately when that is 0)
//   - pending + does not hold → inactive, silently (no spam from a
//     condition that comes and goes faster than `for`)
//   - firing + holds → repeat once repeat_interval has passed since the last
//     notification (never for the once-only period-end conditions)
//   - firing + does not hold → resolved once it has not held for
//     keep_firing_for; if it holds again before that, the alert keeps
//     firing without a new notification (no flapping); a once-only alert
//     ends silently
//   - an Unknown observation (okrd cannot tell yet, e.g. a source not polled
//     since the restart) leaves the state exactly as it is.
func Step(prev *State, obs *Observation, now time.Time, p *Policy) (*State, *Notification) {
	if obs != nil && obs.Unknown {
		return prev, nil
	}
	holds := obs != nil
	var s State
	switch {
	case prev != nil:
		s = *prev
	case holds:
		s = State{Key: obs.Key, Condition: obs.Condition, Phase: Pending, ActiveSince: now}
	default:
		return nil, nil
	}
	if holds {
		s.Labels, s.Annotations, s.GeneratorURL = obs.Labels, obs.Annotations, obs.GeneratorURL
	}

	switch s.Phase {
	case Pending:
		if !holds {
			return nil, nil
		}
		if now.Sub(s.ActiveSince) < p.forOf(s.Condition) {
			return &s, nil
		}
		s.Phase, s.FiredAt, s.LastSent = Firing, now, now
		return &s, s.notification(Fire, time.Time{})
	case Firing:
		if holds {
			s.ClearSince = time.Time{}
		} else {
			if s.Condition.Once() {
				return nil, nil
			}
			if s.ClearSince.IsZero() {
				s.ClearSince = now
			}
			if now.Sub(s.ClearSince) >= p.KeepFiringFor {
				return nil, s.notification(Resolve, now)
			}
		}
		if !s.Condition.Once() && p.RepeatInterval > 0 && now.Sub(s.LastSent) >= p.RepeatInterval {
			s.LastSent = now
			return &s, s.notification(Repeat, time.Time{})
		}
		return &s, nil
	}
	// A phase this version does not know (a newer okrd wrote it): start
	// over rather than guess.
	return nil, nil
}

func (s *State) notification(k Kind, endsAt time.Time) *Notification {
	return &Notification{Key: s.Key, Kind: k, Alert: s.alert(endsAt)}
}

// alert is the alert as receivers get it.
func (s *State) alert(endsAt time.Time) notify.Alert {
	return notify.Alert{Labels: s.Labels, Annotations: s.Annotations, StartsAt: s.FiredAt, EndsAt: endsAt, GeneratorURL: s.GeneratorURL}
}
