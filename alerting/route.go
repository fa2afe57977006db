package alerting

import (
	"slices"

	"github.com/okrd/okrd/notify"
)

// Route sends the alerts it matches to a receiver. Every list that is not
// empty must contain the alert's value for the route to match (an alert
// without that label, such as a source-down alert for Owners, does not
// match); empty lists match anything.
type Route struct {
	Receiver   string
	Objectives []string
	Owners     []string
	Teams      []string
	Severities []Severity
	Conditions []Condition
	// Continue lets the routes after a matching one match too; otherwise
	// the first matching route decides.
	Continue bool
}

// Matches reports whether the route takes an alert of condition c with
// these labels.
func (r *Route) Matches(c Condition, labels map[string]string) bool {
	in := func(list []string, label string) bool {
		if len(list) == 0 {
			return true
		}
		v, ok := labels[label]
		return ok && slices.Contains(list, v)
	}
	return in(r.Objectives, notify.LabelObjective) &&
		in(r.Owners, notify.LabelOwner) &&
		in(r.Teams, notify.LabelTeam) &&
		(len(r.Severities) == 0 || slices.Contains(r.Severities, Severity(labels[notify.LabelSeverity]))) &&
		(len(r.Conditions) == 0 || slices.Contains(r.Conditions, c))
}

// Receivers returns the receivers of an alert, in route order without
// duplicates: the receiver of the first matching route, and of every
// further matching route while the matched ones say Continue; the default
// receiver (if any) when no route matches.
func Receivers(routes []Route, defaultReceiver string, c Condition, labels map[string]string) []string {
	var out []string
	for i := range routes {
		r := &routes[i]
		if !r.Matches(c, labels) {
			continue
		}
		if !slices.Contains(out, r.Receiver) {
			out = append(out, r.Receiver)
		}
		if !r.Continue {
			return out
		}
	}
	if len(out) == 0 && defaultReceiver != "" {
		out = append(out, defaultReceiver)
	}
	return out
}
