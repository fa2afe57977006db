package collectors

import "time"

// IncidentKind is the store record kind under which a source keeps the
// incidents it finds (GitHub issues with the incident label, Jira issues
// matching an incident JQL). Another source can then read them from the
// store: the GitHub source attributes change failures to incidents kept by a
// Jira source this way.
const IncidentKind = "incident"

// Incident is the JSON shape of a record of kind IncidentKind.
type Incident struct {
	ID       string     `json:"id"`        // "acme/web#123" or "OPS-42"
	Title    string     `json:"title"`     // for notifications and reports
	Scope    string     `json:"scope"`     // the repo or project it belongs to
	OpenedAt time.Time  `json:"opened_at"` // when it was created
	ClosedAt *time.Time `json:"closed_at"` // nil while open
	URL      string     `json:"url,omitempty"`
}
