package collectors

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// QualityWindow is how far back the data-quality checks over dated
// records look: the longest window of the exported delivery series, so
// that a record that fails a check is one that would count in them.
const QualityWindow = 90 * 24 * time.Hour

// The data-quality checks (docs/metrics.md, "Data quality"): the values of
// the check label of okrd_data_quality_findings, a fixed set. Each source
// type runs the checks that apply to it, and exports each of them (0 when
// it finds nothing) so that an alert or a panel sees a check from the
// start.
const (
	CheckUndeployedPullRequests = "merged_pull_requests_not_deployed"
	CheckStatuslessDeployments  = "deployments_without_status"
	CheckUnattributedIncidents  = "incidents_not_attributed"
	CheckDoneWithoutStart       = "done_issues_without_start"
	CheckGuessedStatuses        = "statuses_with_guessed_category"
	CheckUnestimatedSprintIssue = "sprint_issues_without_estimate"
	CheckSkippedBeforeHistory   = "issues_skipped_before_history"
)

// QualityCheckInfo says what a check finds and how to fix it, in the words
// the sources page shows.
type QualityCheckInfo struct {
	// Title names what a finding is ("Deployments without any status").
	Title string
	// Meaning says, in one sentence, what the findings do to the figures.
	Meaning string
	// Fix says, in one sentence, how to make them go away.
	Fix string
}

// QualityChecks describes every check, by its check label value.
var QualityChecks = map[string]QualityCheckInfo{
	CheckUndeployedPullRequests: {
		Title:   "Merged pull requests without a deployment",
		Meaning: "Pull requests merged into the default branch in the last 90 days (more than a day ago) that no successful deployment of their repository followed have no lead time for changes.",
		Fix:     "Check that every production release is recorded as the configured deployment signal (the environment, the workflow or the releases); merges waiting for the next deployment count here until it happens.",
	},
	CheckStatuslessDeployments: {
		Title:   "Deployments without any status",
		Meaning: "okrd cannot tell whether these deployments (to the production environment, created in the last 90 days, more than an hour ago) succeeded, so they count for nothing.",
		Fix:     "Make your deploy job post a deployment status (success, or failure or error) when it ends.",
	},
	CheckUnattributedIncidents: {
		Title:   "Incidents not attributed to any deployment",
		Meaning: "These incidents, opened in the last 90 days, followed no successful deployment within the attribution window, so they count for time to restore but not for the change failure rate.",
		Fix:     "If deployments caused them, check that those deployments are recorded (in the incident's repository) or widen attribution_window; an incident no deployment caused needs no fix.",
	},
	CheckDoneWithoutStart: {
		Title:   "Done issues without a start",
		Meaning: "These issues, done in the last 90 days, never entered an in-progress status, so they have no cycle time (they still count for throughput and lead time).",
		Fix:     "Move issues through an in-progress status when work on them starts, or list the statuses that start work in start_statuses.",
	},
	CheckGuessedStatuses: {
		Title:   "Statuses okrd had to guess a category for",
		Meaning: "Jira gave these statuses no category (No Category, or a status the site no longer lists), so okrd counts an issue in them as not started.",
		Fix:     "Give each status a category in the Jira workflow, or list it in start_statuses or done_statuses.",
	},
	CheckUnestimatedSprintIssue: {
		Title:   "Sprint issues without an estimate",
		Meaning: "These issues of the latest closed sprints of boards that estimate in story points had no estimate at the sprint's start (committed ones) or completion, so they count 0 points in the points figures.",
		Fix:     "Estimate issues before they join a sprint, in the board's estimation field (or set story_points_field).",
	},
	CheckSkippedBeforeHistory: {
		Title:   "Issues older than history, skipped",
		Meaning: "The last full sync did not read these issues of the source's scope, last updated before history and not in progress, so no figure reaches back to them (an approximate count on Jira Cloud).",
		Fix:     "Raise history if key results need older work, and force a full sync with okrd sync --resync; otherwise there is nothing to fix.",
	},
}

// QualityExample is one record a check found: its id, and a link to it
// when the source knows one.
type QualityExample struct {
	ID  string `json:"id"`
	URL string `json:"url,omitempty"`
}

// QualityCheck is the result of one data-quality check over a source's
// records, as of the source's last poll.
type QualityCheck struct {
	Check string `json:"check"`
	// Count is how many records (statuses, for statuses_with_guessed_category)
	// fail the check.
	Count int `json:"count"`
	// Examples are a few of them, the most recent first.
	Examples []QualityExample `json:"examples,omitempty"`
}

// QualityReporter is a Source that checks the quality of its records.
// DataQuality returns the checks the last poll (or follow) computed, one
// per check that applies to the source, in a fixed order; nil before the
// first. It reads no API and no database, and may be called from any
// goroutine.
type QualityReporter interface {
	DataQuality() []QualityCheck
}

// QualityExamples is how many examples a check keeps.
const QualityExamples = 3

// NewQualityDesc is the descriptor of okrd_data_quality_findings for one
// source (a constant label, as the sources' delivery series have it).
func NewQualityDesc(source string) *prometheus.Desc {
	return prometheus.NewDesc("okrd_data_quality_findings",
		"Records of a source that fail a data-quality check, as of its last poll, by check (statuses for statuses_with_guessed_category); docs/metrics.md lists the checks. 0 when a check finds nothing.",
		[]string{"check"}, prometheus.Labels{"source": source})
}

// CollectQuality sends one okrd_data_quality_findings series per check.
func CollectQuality(desc *prometheus.Desc, checks []QualityCheck, ch chan<- prometheus.Metric) {
	for _, c := range checks {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(c.Count), c.Check)
	}
}
