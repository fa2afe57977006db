package config

import (
	"slices"
	"strings"
	"time"

	"github.com/okrd/okrd/okr"
)

// Config is okrd's whole configuration, as decoded from one TOML file,
// with defaults applied and derived fields resolved by Load.
type Config struct {
	Global   Global             `toml:"global"`
	Server   Server             `toml:"server"`
	Storage  Storage            `toml:"storage"`
	Alerting Alerting           `toml:"alerting"`
	Report   Report             `toml:"report"`
	History  History            `toml:"history"`
	Sources  map[string]*Source `toml:"sources"`
	// Teams are the [teams.NAME] tables: scopes over the records of the
	// github and jira sources (teams.go).
	Teams      map[string]*Team `toml:"teams"`
	Objectives []*Objective     `toml:"objectives"`

	// File is the path the config was loaded from (set by Load).
	File string `toml:"-"`
	// Warnings are what Load found doubtful but not wrong (a team's
	// repository that none of its source's repositories can match), for
	// okrd check to print; sorted.
	Warnings []string `toml:"-"`
}

// Global holds settings that apply to every objective.
type Global struct {
	// TimeZone is the IANA zone for calendar logic (periods, weeks). Default "UTC".
	TimeZone string `toml:"time_zone"`
	// FiscalYearStartMonth is 1..12 (default 1). Fiscal years are named by
	// the calendar year in which they end.
	FiscalYearStartMonth int `toml:"fiscal_year_start_month"`
	// EvaluationInterval is how often key results are evaluated besides
	// after every poll. Default 1m.
	EvaluationInterval Duration `toml:"evaluation_interval"`
	// Tolerance is the default status tolerance. Default 0.1.
	Tolerance *float64 `toml:"tolerance"`

	// Location is TimeZone resolved (set by Load); calendar logic uses it.
	Location *time.Location `toml:"-"`
}

// Server holds the HTTP server settings.
type Server struct {
	// ListenAddress, default ":9184".
	ListenAddress string `toml:"listen_address"`
	// ExternalURL is the URL under which users reach okrd (links in notifications).
	ExternalURL string `toml:"external_url"`
	// APIToken protects the write API (check-ins). Exclusive with APITokenFile.
	APIToken     Secret `toml:"api_token"`
	APITokenFile string `toml:"api_token_file"`
	// ReadTimeout bounds reading one whole request, headers and body.
	// Default 30s.
	ReadTimeout Duration `toml:"read_timeout"`
	// WriteTimeout bounds one response, from the end of its request's
	// headers to its last byte: long enough for a large /metrics scrape
	// over a slow link. Default 2m.
	WriteTimeout Duration `toml:"write_timeout"`
	// IdleTimeout is how long a kept-alive connection may wait for its next
	// request. Default 2m.
	IdleTimeout Duration `toml:"idle_timeout"`
}

// Storage selects the database.
type Storage struct {
	Driver  string `toml:"driver"` // "sqlite" (default) or "postgres"
	DSN     Secret `toml:"dsn"`    // sqlite: a file path (default "okrd.db"); postgres: a URL or key=value DSN
	DSNFile string `toml:"dsn_file"`
}

// Source is one named data source. Type-specific settings are decoded into
// Spec by the decoder registered for Type (see RegisterSourceType).
type Source struct {
	Name     string   `toml:"-"`
	Type     string   `toml:"type"`
	Interval Duration `toml:"interval"` // poll interval, default 5m
	Timeout  Duration `toml:"timeout"`  // per-poll timeout, default 2m
	// Spec is the type-specific configuration (a pointer to the struct that
	// the source type registered), decoded strictly.
	Spec any `toml:"-"`
	// Teams are the teams whose selectors apply to this source, by name
	// (set by Load). They are part of the source's configuration: a
	// reload that changes them restarts the source.
	Teams []*Team `toml:"-"`
}

// Objective is one objective with its key results.
type Objective struct {
	ID          string `toml:"id"`
	Title       string `toml:"title"`
	Description string `toml:"description"`
	Owner       string `toml:"owner"`
	Team        string `toml:"team"`
	// Period is "2026-Q4", "2026-H1", "2026" (fiscal), "2026-11" (month),
	// "2026-W48" (ISO week), a relative name such as "current-quarter"
	// (resolved when the configuration is loaded), or empty when Start/End
	// are set.
	Period string `toml:"period"`
	Start  Date   `toml:"start"` // inclusive, in the configured time zone
	End    Date   `toml:"end"`   // inclusive last day
	// RunbookURL is where a team reads what to do about an alert of the
	// objective's key results; a key result's own runbook_url overrides
	// it.
	RunbookURL string `toml:"runbook_url"`
	// Parent is the id of the objective this one contributes to (company
	// -> department -> team, any depth); empty for a root objective.
	Parent string `toml:"parent"`
	// ProgressFrom says what the objective's progress is made of:
	// "key_results" (default) or "children", its key results and its
	// child objectives weighted together (docs/okr.md, "Alignment").
	ProgressFrom string `toml:"progress_from"`
	// Weight is the objective's weight in its parent's roll-up, default 1.
	Weight *float64 `toml:"weight"`
	// Tolerance is the status tolerance of a rolled-up objective, default
	// global.tolerance.
	Tolerance  *float64     `toml:"tolerance"`
	KeyResults []*KeyResult `toml:"key_results"`

	// Resolved is the period in absolute time (set by Load).
	Resolved okr.Period `toml:"-"`
	// Children are the objectives whose parent this one is, in the order
	// of the file, and Depth is the number of ancestors (set by Load).
	Children []*Objective `toml:"-"`
	Depth    int          `toml:"-"`
}

// Progress sources of an objective.
const (
	ProgressFromKeyResults = "key_results"
	ProgressFromChildren   = "children"
)

// RollsUp reports whether the objective's progress includes its child
// objectives.
func (o *Objective) RollsUp() bool {
	return o.ProgressFrom == ProgressFromChildren && len(o.Children) > 0
}

// KeyResult is one key result bound to a source (or to manual check-ins when
// Source is empty).
type KeyResult struct {
	ID          string `toml:"id"`
	Title       string `toml:"title"`
	Description string `toml:"description"`
	Owner       string `toml:"owner"` // defaults to the objective's owner
	Team        string `toml:"team"`  // defaults to the objective's team

	// Source names a [sources.NAME] table; empty means manual check-ins.
	Source string `toml:"source"`
	// Binding to the source's data; which of these apply depends on the source type.
	Metric     string   `toml:"metric"`
	Query      string   `toml:"query"`
	Quantile   *float64 `toml:"quantile"`
	Window     string   `toml:"window"` // "7d", "28d" (default), "90d", "period", or any N"d"
	Scope      string   `toml:"scope"`
	IssueTypes []string `toml:"issue_types"`
	// HistoryQuery is a sql key result's query for a past instant, which
	// it names as :at (docs/sources/sql.md, "History"): with it okrd fills
	// in the key result's history; without it, the key result has only the
	// values measured live.
	HistoryQuery string `toml:"history_query"`
	// By is "count" (default) or "points": Jira epic progress and sprint
	// metrics by issue count or by story points.
	By string `toml:"by"`
	// Epic is the epic key of Jira's epic_progress metric.
	Epic string `toml:"epic"`
	// Sprints is how many of a board's latest closed sprints Jira's sprint
	// metrics cover (0 = the source's default, 6).
	Sprints int `toml:"sprints"`
	// Path, Method, Body and JSONPath bind a key result to an http_json
	// source: the request (Path is appended to the source's url; Path and
	// Body are Go templates with the dates of the window) and where the
	// number is in the JSON answer (an RFC 9535 JSONPath). Query holds the
	// SQL or PromQL of sql and prometheus sources.
	Path     string `toml:"path"`
	Method   string `toml:"method"`
	Body     string `toml:"body"`
	JSONPath string `toml:"json_path"`

	// Direction is "increase", "decrease" or "maintain"; inferred from
	// baseline and target when empty, and from min/max when those are set.
	Direction string   `toml:"direction"`
	Baseline  *float64 `toml:"baseline"`
	Target    *float64 `toml:"target"`
	Min       *float64 `toml:"min"`
	Max       *float64 `toml:"max"`
	// Unit: "count" (default), "ratio", "percent", "duration" (seconds), "currency".
	Unit       string      `toml:"unit"`
	Currency   string      `toml:"currency"`  // ISO 4217 code when unit = "currency"
	Weight     *float64    `toml:"weight"`    // default 1
	Tolerance  *float64    `toml:"tolerance"` // default Global.Tolerance
	Milestones []Milestone `toml:"milestones"`
	// StaleAfter: a value older than this is stale (0 = never).
	StaleAfter Duration `toml:"stale_after"`
	// RunbookURL is carried by the key result's alerts as their
	// runbook_url annotation; it defaults to the objective's.
	RunbookURL string `toml:"runbook_url"`
	// Category is the investment category whose share of throughput the
	// investment_share metric of a jira or github source measures.
	Category string `toml:"category"`
	// Initiatives are the delivery work meant to move the key result
	// (Jira epics or JQL searches, GitHub labels or milestones), shown
	// with their progress next to it and as marks on its chart.
	Initiatives []*Initiative `toml:"initiatives"`

	// Engine is the okr view of this key result (set by Load).
	Engine okr.KeyResult `toml:"-"`
	// WindowDuration is the parsed Window (0 for "period").
	WindowDuration time.Duration `toml:"-"`
	// ScopeTeam is the team Scope names ("team:NAME"), nil when it names
	// none (set by Load).
	ScopeTeam *Team `toml:"-"`
}

// Initiative kinds: which key of an initiative names its work.
const (
	InitiativeJiraEpic        = "jira_epic"
	InitiativeJQL             = "jql"
	InitiativeGitHubLabel     = "github_label"
	InitiativeGitHubMilestone = "github_milestone"
)

// InitiativeKinds lists the initiative kinds, in documentation order.
var InitiativeKinds = []string{InitiativeJiraEpic, InitiativeJQL, InitiativeGitHubLabel, InitiativeGitHubMilestone}

// Initiative is one piece of delivery work linked to a key result:
// exactly one of JiraEpic, JQL, GitHubLabel and GitHubMilestone names it.
type Initiative struct {
	// ID names the initiative in the API, the annotations and the
	// okr_initiative_* series; unique within its key result. Default: the
	// epic key, "label:<label>", "milestone:<title>" or "jql-<n>" (n its
	// position among the key result's initiatives, from 1).
	ID string `toml:"id"`
	// Title is shown on the page; default: derived from the work's name.
	Title string `toml:"title"`
	// Source names the jira or github source that holds the work; default
	// the only configured source that can track this kind.
	Source          string `toml:"source"`
	JiraEpic        string `toml:"jira_epic"`
	JQL             string `toml:"jql"`
	GitHubLabel     string `toml:"github_label"`
	GitHubMilestone string `toml:"github_milestone"`
	// Repositories narrows a GitHub initiative to some of the source's
	// repositories ("owner/name"); default all of them.
	Repositories []string `toml:"repositories"`
	// By is "count" (default) or "points" (Jira: done story points over
	// all story points).
	By string `toml:"by"`

	// Kind is the key that names the work (set by Load).
	Kind string `toml:"-"`
}

// Name is the work the initiative names (the epic key, the JQL, the
// label or the milestone).
func (in *Initiative) Name() string {
	switch in.Kind {
	case InitiativeJiraEpic:
		return in.JiraEpic
	case InitiativeJQL:
		return in.JQL
	case InitiativeGitHubLabel:
		return in.GitHubLabel
	case InitiativeGitHubMilestone:
		return in.GitHubMilestone
	}
	return ""
}

// Investment configures the investment balance of a jira or github
// source: the share of its throughput by category of work. An item counts
// in the first category that matches it, or in "other".
type Investment struct {
	// By is "count" (default) or "points" (Jira only: story points of the
	// done issues).
	By         string                `toml:"by"`
	Categories []*InvestmentCategory `toml:"categories"`
}

// InvestmentOther is the category of the work no category matches.
const InvestmentOther = "other"

// InvestmentCategory maps work to a category: an item matches when its
// issue type, one of its labels or its epic is listed (names compare
// case-insensitively). GitHub pull requests match by label only.
type InvestmentCategory struct {
	Name       string   `toml:"name"`
	IssueTypes []string `toml:"issue_types"`
	Labels     []string `toml:"labels"`
	Epics      []string `toml:"epics"`
}

// Enabled reports whether the investment balance is configured.
func (inv *Investment) Enabled() bool { return inv != nil && len(inv.Categories) > 0 }

// CheckCategory checks the category of a key result bound to
// investment_share against the source's investment balance: the source
// has one, and the category is one of it. The error names the key
// result's field (metric or category).
func (inv *Investment) CheckCategory(kr *KeyResult) error {
	names := inv.CategoryNames()
	switch {
	case !inv.Enabled():
		return FieldErrorf("metric", "investment_share needs the source's investment categories: configure [sources.%s.investment]", kr.Source)
	case kr.Category == "":
		return FieldErrorf("category", "investment_share needs the category whose share it measures (%s)", strings.Join(names, ", "))
	case !slices.Contains(names, kr.Category):
		return FieldErrorf("category", "unknown category %q; the source's categories are %s", kr.Category, strings.Join(names, ", "))
	}
	return nil
}

// CategoryNames returns the configured categories in order, then other.
func (inv *Investment) CategoryNames() []string {
	if !inv.Enabled() {
		return nil
	}
	out := make([]string, 0, len(inv.Categories)+1)
	for _, c := range inv.Categories {
		out = append(out, c.Name)
	}
	return append(out, InvestmentOther)
}

// Milestone is an intermediate value a key result should reach by a date.
type Milestone struct {
	Date  Date    `toml:"date"`
	Value float64 `toml:"value"`
}

// Alerting configures the built-in alerting (conditions, timing, receivers
// and routes) and the Prometheus rules `okrd rules` generates from the same
// settings. Defaults and rules are in config/alerting.go and
// docs/alerting.md. Without receivers the built-in alerting is off.
type Alerting struct {
	// For is how long a key-result condition must hold before its alert
	// fires. Default 1h.
	For Duration `toml:"for"`
	// KeepFiringFor is how long a firing alert keeps firing after its
	// condition stopped holding, so that flapping does not spam. Default 1h.
	KeepFiringFor Duration `toml:"keep_firing_for"`
	// RepeatInterval is how often a firing alert is notified again ("0s":
	// never). Default 24h.
	RepeatInterval Duration `toml:"repeat_interval"`
	// SourceDownAfter is how long a source must fail before source_down
	// fires. Default 30m.
	SourceDownAfter Duration `toml:"source_down_after"`
	// PeriodEndWindow bounds how long after a period ended missed and
	// achieved may still be notified. Default 7d.
	PeriodEndWindow Duration `toml:"period_end_window"`
	// Conditions lists the conditions alerted on. Default every condition
	// but at_risk, confidence_drop and confidence_disagrees.
	Conditions []string `toml:"conditions"`
	// ConfidenceDropPoints is how many points below the week's high an
	// owner's confidence must be for confidence_drop to hold (1 to 9).
	// Default 3.
	ConfidenceDropPoints int `toml:"confidence_drop_points"`
	// DefaultReceiver gets the alerts no route matches.
	DefaultReceiver string        `toml:"default_receiver"`
	Receivers       []*Receiver   `toml:"receivers"`
	Routes          []*AlertRoute `toml:"routes"`
}

// Receiver is one destination of notifications.
type Receiver struct {
	Name string `toml:"name"`
	// Type is "slack", "webhook" or "alertmanager".
	Type string `toml:"type"`
	// URL is the Slack incoming-webhook URL, the webhook endpoint or
	// Alertmanager's base URL. A secret (a Slack webhook URL is a
	// credential); exclusive with URLFile.
	URL     Secret `toml:"url"`
	URLFile string `toml:"url_file"`
	// HMACSecret signs webhook requests (type webhook only); exclusive with
	// HMACSecretFile.
	HMACSecret     Secret `toml:"hmac_secret"`
	HMACSecretFile string `toml:"hmac_secret_file"`
	// Headers are added to every request (webhook and alertmanager); their
	// values are secrets (an Authorization header).
	Headers map[string]Secret `toml:"headers"`
	// Timeout bounds one request. Default 10s.
	Timeout Duration `toml:"timeout"`
}

// AlertRoute sends matching alerts to a receiver. Each non-empty list must
// contain the alert's value; the first matching route wins unless it says
// continue.
type AlertRoute struct {
	Receiver   string   `toml:"receiver"`
	Objectives []string `toml:"objectives"`
	Owners     []string `toml:"owners"`
	Teams      []string `toml:"teams"`
	Severities []string `toml:"severities"`
	Conditions []string `toml:"conditions"`
	Continue   bool     `toml:"continue"`
}
