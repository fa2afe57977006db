package format

import "strings"

// Where a stored value came from (store.Value.Origin): a source's live
// measurement, a check-in, or a value filled in from a source's records
// for an instant okrd did not measure (docs/history.md). The page, the API
// and the report tell them apart the same way.
const (
	OriginLive    = "source:"
	OriginCheckin = "checkin:"
	OriginFilled  = "history:"
)

// Kind is what a value is, in the words of the JSON API.
type Kind string

// Kinds of value.
const (
	// KindLive is a value a source measured when okrd polled it.
	KindLive Kind = "live"
	// KindCheckin is a value somebody checked in.
	KindCheckin Kind = "checkin"
	// KindFilled is a value computed afterwards from a source's records,
	// for an instant of the history grid.
	KindFilled Kind = "filled"
)

// KindOf classifies an origin. An origin okrd does not know counts as
// live: it was recorded as it happened, not filled in afterwards.
func KindOf(origin string) Kind {
	switch {
	case strings.HasPrefix(origin, OriginFilled):
		return KindFilled
	case strings.HasPrefix(origin, OriginCheckin):
		return KindCheckin
	default:
		return KindLive
	}
}

// OriginSource is the source named by a live or filled-in origin ("" for
// a check-in).
func OriginSource(origin string) string {
	for _, p := range []string{OriginFilled, OriginLive} {
		if s, ok := strings.CutPrefix(origin, p); ok {
			return s
		}
	}
	return ""
}

// Records names the records a source of type typ holds, for the sentence
// "filled in from Jira records".
func Records(typ string) string {
	switch typ {
	case "jira":
		return "Jira records"
	case "github":
		return "GitHub records"
	case "prometheus":
		return "Prometheus series"
	case "sql":
		return "SQL query results"
	case "http_json":
		return "HTTP API answers"
	case "":
		return "the source's records"
	default:
		return typ + " records"
	}
}

// FilledFrom says where filled-in values come from: "filled in from Jira
// records (source jira)". typ is the source's type ("" when unknown).
func FilledFrom(source, typ string) string {
	s := "filled in from " + Records(typ)
	if source != "" {
		s += " (source " + source + ")"
	}
	return s
}
