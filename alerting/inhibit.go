package alerting

import (
	"slices"
	"time"

	"github.com/okrd/okrd/notify"
)

// Inhibition holds back the notifications of a key result's alerts of the
// Target conditions while its alert of the Source condition fires.
type Inhibition struct {
	Source  Condition
	Targets []Condition
}

// Inhibitions is the precedence among the conditions about a key result's
// progress, so that one key result that goes off track with a bad forecast
// notifies once, not three times: the worst condition wins. A key result
// off track is at risk too (at_risk holds below -tolerance, off_track below
// twice that) and usually forecast to miss, and its alert's description
// already states the forecast; likewise for at risk over forecast miss.
//
// The owner's confidence: a confidence that drops while the key result is
// off track agrees with an alert that is already critical, so off track
// holds the drop back. A drop to a low confidence while the key result is
// on track also disagrees with the numbers; the drop is the news (the owner
// changed their mind this week), so it holds the disagreement back, which is
// announced if it still holds once the drop has left the week. A disagreement is never held back by the conditions of the
// numbers: its news is that the owner does not see what they show.
//
// Every alert still fires (the state machines, the okrd_alerts gauge and the
// generated rules' ALERTS series show all of them); only their notification
// waits, the way Alertmanager's inhibition mutes the alerts of the
// generated rules with the inhibit_rules `rules.InhibitRules` writes from
// this table.
var Inhibitions = []Inhibition{
	{Source: OffTrack, Targets: []Condition{AtRisk, ForecastMiss, ConfidenceDrop}},
	{Source: AtRisk, Targets: []Condition{ForecastMiss}},
	{Source: ConfidenceDrop, Targets: []Condition{ConfidenceDisagrees}},
}

// InhibitEqual are the labels an inhibiting and an inhibited alert share:
// they are about the same key result.
var InhibitEqual = []string{notify.LabelObjective, notify.LabelKeyResult}

// Inhibited returns the keys of the alerts in states that are inhibited: of
// a target condition, while an alert of its source condition about the same
// key result fires. It is pure.
func Inhibited(states map[string]*State) map[string]bool {
	firing := map[string]bool{} // condition and InhibitEqual label values
	for _, s := range states {
		if s != nil && s.Phase == Firing {
			firing[inhibitKey(s.Condition, s.Labels)] = true
		}
	}
	out := map[string]bool{}
	for key, s := range states {
		if s == nil {
			continue
		}
		for _, in := range Inhibitions {
			if slices.Contains(in.Targets, s.Condition) && firing[inhibitKey(in.Source, s.Labels)] {
				out[key] = true
			}
		}
	}
	return out
}

func inhibitKey(c Condition, labels map[string]string) string {
	k := string(c)
	for _, l := range InhibitEqual {
		k += "\x00" + labels[l]
	}
	return k
}

// inhibit applies an inhibition to what Step decided for one alert: prev is
// its state before the step, next and n what Step returned, and inhibited
// whether a worse alert of its key result fires after the step.
//
//   - An inhibited alert that starts firing is not announced: it is marked
//     Withheld. Its repeats are not sent either, announced or not.
//   - A withheld alert that is no longer inhibited and still fires is
//     announced now (a firing notification, with its own start time).
//   - A resolved notice is sent for every alert that was announced, even
//     while it is inhibited, so that no receiver is left with an alert that
//     never ends; a withheld alert that resolves ends silently.
func inhibit(prev, next *State, n *Notification, inhibited bool, now time.Time) *Notification {
	switch {
	case next == nil:
		if n != nil && prev != nil && prev.Withheld {
			return nil
		}
		return n
	case next.Phase != Firing:
		return n
	case inhibited:
		if n != nil && n.Kind == Fire {
			next.Withheld = true
		}
		return nil
	case next.Withheld:
		next.Withheld, next.LastSent = false, now
		return next.notification(Fire, time.Time{})
	}
	return n
}
