package format

import "testing"

func TestOriginsAreToldApart(t *testing.T) {
	for _, tc := range []struct {
		name, origin string
		kind         Kind
		source       string
	}{
		{"a live value names its source", "source:github", KindLive, "github"},
		{"a check-in names its id", "checkin:42", KindCheckin, ""},
		{"a filled-in value names the source of its records", "history:jira", KindFilled, "jira"},
		{"an origin okrd does not know counts as live", "import:2025", KindLive, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := KindOf(tc.origin); got != tc.kind {
				t.Errorf("KindOf(%q) = %q, want %q", tc.origin, got, tc.kind)
			}
			if got := OriginSource(tc.origin); got != tc.source {
				t.Errorf("OriginSource(%q) = %q, want %q", tc.origin, got, tc.source)
			}
		})
	}
}

func TestFilledFromNamesTheRecordsAndTheSource(t *testing.T) {
	for _, tc := range []struct{ source, typ, want string }{
		{"jira", "jira", "filled in from Jira records (source jira)"},
		{"gh", "github", "filled in from GitHub records (source gh)"},
		{"prom", "prometheus", "filled in from Prometheus series (source prom)"},
		{"warehouse", "sql", "filled in from SQL query results (source warehouse)"},
		{"posthog", "http_json", "filled in from HTTP API answers (source posthog)"},
		{"gone", "", "filled in from the source's records (source gone)"},
	} {
		if got := FilledFrom(tc.source, tc.typ); got != tc.want {
			t.Errorf("FilledFrom(%q, %q) = %q, want %q", tc.source, tc.typ, got, tc.want)
		}
	}
}
