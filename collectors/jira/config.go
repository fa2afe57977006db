package jira

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/okrd/okrd/config"
	jm "github.com/okrd/okrd/metrics/jira"
)

// Flavours of Jira.
const (
	FlavorAuto   = "auto"
	FlavorCloud  = "cloud"
	FlavorServer = "server"
)

// Spec is the configuration of a [sources.NAME] table with type = "jira".
type Spec struct {
	// URL is the site's base URL, e.g. https://acme.atlassian.net.
	URL string `toml:"url"`
	// Flavor is "cloud", "server" (Data Center / Server) or "auto"
	// (default: read from /rest/api/2/serverInfo).
	Flavor string `toml:"flavor"`
	// Email is the Atlassian account of a Cloud API token (basic auth).
	// Without it, Token is sent as a bearer token (a Data Center personal
	// access token).
	Email string `toml:"email"`
	// Token is the Cloud API token or the Data Center personal access
	// token. Exclusive with TokenFile.
	Token     config.Secret `toml:"token"`
	TokenFile string        `toml:"token_file"`

	// Projects are the project keys to sync; JQL, when set, replaces them
	// as the scope (it must be bounded, like `project in (PAY, WEB)`).
	Projects []string `toml:"projects"`
	JQL      string   `toml:"jql"`
	// History is how far back the first sync reads (issues updated since,
	// plus every issue not done). Default 180d.
	History config.Duration `toml:"history"`
	// Overlap is subtracted from the cursor of every incremental poll, to
	// absorb clock skew and Jira's eventual consistency. Default 5m.
	Overlap config.Duration `toml:"overlap"`
	// ResyncInterval forces a full re-sync of the history that often
	// (0 = never, the default). Records are upserted over the served ones.
	ResyncInterval config.Duration `toml:"resync_interval"`
	// PageSize is maxResults of issue searches (default and maximum 100).
	PageSize int `toml:"page_size"`
	// MaxRetries bounds the retries of one request within a poll (429,
	// 5xx, network errors). Default 3.
	MaxRetries int `toml:"max_retries"`

	// StartStatuses and DoneStatuses override the status categories by
	// status name (see docs/sources/jira.md).
	StartStatuses []string `toml:"start_statuses"`
	DoneStatuses  []string `toml:"done_statuses"`

	// Boards are the agile board ids to track; default: every board
	// located in the configured projects.
	Boards []int `toml:"boards"`
	// StoryPointsField is the story-point field id (customfield_NNNNN);
	// default: each board's estimation field.
	StoryPointsField string `toml:"story_points_field"`
	// SprintField is the Sprint field id; default: found from /field.
	SprintField string `toml:"sprint_field"`
	// Sprints is how many closed sprints per board are tracked and
	// exported (default 6).
	Sprints int `toml:"sprints"`

	// IncidentsJQL selects the issues that are incidents (for the GitHub
	// source's change failure rate and time to restore).
	IncidentsJQL string `toml:"incidents_jql"`

	// Investment is the investment balance: categories of work by issue
	// type, label or epic (docs/sources/jira.md, "Investment balance").
	Investment *config.Investment `toml:"investment"`
}

// Defaults sets the defaults before decoding.
func (s *Spec) Defaults() {
	s.Flavor = FlavorAuto
	s.History = config.Duration(180 * 24 * time.Hour)
	s.Overlap = config.Duration(5 * time.Minute)
	s.PageSize = 100
	s.MaxRetries = 3
	s.Sprints = jm.DefaultSprints
}

var (
	projectKeyRE = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,254}$`)
	fieldIDRE    = regexp.MustCompile(`^customfield_[0-9]+$`)
)

// Validate checks the spec.
func (s *Spec) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, config.FieldErrorf(field, format, args...))
	}
	if s.URL == "" {
		bad("url", "is required, like \"https://acme.atlassian.net\"")
	} else if u, err := url.Parse(s.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		bad("url", "must be an http(s) URL like \"https://acme.atlassian.net\", not %q", s.URL)
	} else if u.User != nil {
		bad("url", "must not carry credentials; use email and token")
	}
	switch s.Flavor {
	case FlavorAuto, FlavorCloud, FlavorServer:
	default:
		bad("flavor", "must be %q, %q or %q, not %q", FlavorAuto, FlavorCloud, FlavorServer, s.Flavor)
	}
	if s.Token == "" {
		bad("token", "is required (a Cloud API token with email, or a Data Center personal access token); use token = \"${JIRA_API_TOKEN}\" or token_file")
	}
	if s.Flavor == FlavorCloud && s.Email == "" {
		bad("email", "is required on Jira Cloud: API tokens authenticate with the account's email")
	}
	if len(s.Projects) == 0 && strings.TrimSpace(s.JQL) == "" {
		bad("projects", "name at least one project key, or set jql")
	}
	for i, p := range s.Projects {
		if !projectKeyRE.MatchString(p) {
			bad(fmt.Sprintf("projects[%d]", i), "%q is not a Jira project key (upper-case letters, digits and _, starting with a letter)", p)
		}
	}
	if q := strings.ToLower(strings.TrimSpace(s.JQL)); q != "" && (strings.HasPrefix(q, "order by") || strings.Contains(q, " order by ")) {
		bad("jql", "must not contain ORDER BY: okrd adds its own ordering and time bounds")
	}
	if s.History <= 0 {
		bad("history", "must be positive, like \"180d\"")
	}
	if s.Overlap < 0 {
		bad("overlap", "must not be negative")
	}
	if s.ResyncInterval < 0 {
		bad("resync_interval", "must not be negative")
	}
	if s.PageSize < 1 || s.PageSize > 100 {
		bad("page_size", "must be between 1 and 100, not %d", s.PageSize)
	}
	if s.MaxRetries < 0 || s.MaxRetries > 10 {
		bad("max_retries", "must be between 0 and 10, not %d", s.MaxRetries)
	}
	for i, b := range s.Boards {
		if b <= 0 {
			bad(fmt.Sprintf("boards[%d]", i), "must be a positive board id")
		}
	}
	if s.StoryPointsField != "" && !fieldIDRE.MatchString(s.StoryPointsField) {
		bad("story_points_field", "must be a field id like \"customfield_10016\", not %q", s.StoryPointsField)
	}
	if s.SprintField != "" && !fieldIDRE.MatchString(s.SprintField) {
		bad("sprint_field", "must be a field id like \"customfield_10020\", not %q", s.SprintField)
	}
	if s.Sprints < 1 || s.Sprints > 50 {
		bad("sprints", "must be between 1 and 50, not %d", s.Sprints)
	}
	errs = append(errs, config.ValidateInvestment(s.Investment, true, "issue_types", "labels", "epics"))
	return errors.Join(errs...)
}

// validateKeyResult checks a key result bound to a Jira source.
func validateKeyResult(spec any, kr *config.KeyResult) error {
	s, _ := spec.(*Spec)
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, config.FieldErrorf(field, format, args...))
	}
	known := false
	for _, m := range jm.Metrics {
		if kr.Metric == m {
			known = true
		}
	}
	if !known {
		bad("metric", "a Jira source computes %s; got %q", strings.Join(jm.Metrics, ", "), kr.Metric)
		return errors.Join(errs...)
	}
	if kr.Metric == jm.MetricInvestmentShare {
		var inv *config.Investment
		if s != nil {
			inv = s.Investment
		}
		return errors.Join(investmentKeyResult(inv, kr, kr.IssueTypes, kr.By, kr.Query, kr.Epic, kr.Sprints != 0), validateScope(s, kr))
	}
	if kr.Category != "" {
		bad("category", "applies only to metric \"investment_share\"")
	}
	by, epic, sprints := kr.By, kr.Epic, kr.Sprints
	if kr.Quantile != nil && !jm.IsQuantileMetric(kr.Metric) {
		bad("quantile", "applies only to lead_time, cycle_time and wip_age")
	}
	switch by {
	case "", "count":
	case "points":
		switch {
		case kr.Metric == jm.MetricEpicProgress:
		case jm.IsSprintMetric(kr.Metric) && kr.Metric != jm.MetricVelocity:
		default:
			bad("by", "\"points\" applies only to epic_progress and the sprint metrics")
		}
	default:
		bad("by", "must be \"count\" or \"points\", not %q", by)
	}
	if kr.Metric == jm.MetricJQLCount {
		if strings.TrimSpace(kr.Query) == "" {
			bad("query", "jql_count needs the JQL to count, like query = \"project = PAY AND labels = customer-feedback\"")
		}
	} else if kr.Query != "" && kr.Metric != jm.MetricEpicProgress {
		bad("query", "applies only to jql_count and epic_progress")
	}
	if kr.Metric == jm.MetricEpicProgress {
		if (epic == "") == (strings.TrimSpace(kr.Query) == "") {
			bad("epic", "epic_progress needs exactly one of epic (an epic key) or query (a JQL scope)")
		}
	} else if epic != "" {
		bad("epic", "applies only to epic_progress")
	}
	if sprints != 0 && !jm.IsSprintMetric(kr.Metric) {
		bad("sprints", "applies only to the sprint metrics")
	}
	if sprints < 0 || sprints > 50 {
		bad("sprints", "must be between 1 and 50")
	}
	errs = append(errs, validateScope(s, kr))
	if len(kr.IssueTypes) > 0 && (jm.IsSprintMetric(kr.Metric) || kr.Metric == jm.MetricJQLCount || kr.Metric == jm.MetricEpicProgress) {
		bad("issue_types", "applies only to the flow metrics (throughput, lead_time, cycle_time, wip, wip_age, wip_age_max, inflow, open_issues)")
	}
	return errors.Join(errs...)
}

// validateScope checks a key result's scope: a project of the source or
// a board.
func validateScope(s *Spec, kr *config.KeyResult) error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, config.FieldErrorf(field, format, args...))
	}
	if t := kr.ScopeTeam; t != nil {
		// The team itself is checked with the [teams] tables.
		if jm.IsSprintMetric(kr.Metric) && len(t.JiraBoards) == 0 {
			bad("scope", "the sprint metrics of a team come from its jira_boards, and team %q lists none", t.Name)
		}
		if kr.Metric == jm.MetricJQLCount || kr.Metric == jm.MetricEpicProgress {
			bad("scope", "does not apply to %s (its query or epic is the scope)", kr.Metric)
		}
	} else if _, team := config.TeamScope(kr.Scope); team {
		// An unknown team: reported with the [teams] tables.
	} else if kr.Scope != "" {
		_, isBoard := jm.ParseBoardScope(kr.Scope)
		switch {
		case strings.HasPrefix(kr.Scope, "board:") && !isBoard:
			bad("scope", "a board scope is \"board:<id>\" with a numeric id, not %q", kr.Scope)
		case !isBoard && !projectKeyRE.MatchString(kr.Scope):
			bad("scope", "must be a project key like \"PAY\" or \"board:<id>\", not %q", kr.Scope)
		case !isBoard && s != nil && len(s.Projects) > 0 && !containsFold(s.Projects, kr.Scope):
			bad("scope", "project %q is not among the source's projects %v", kr.Scope, s.Projects)
		case jm.IsSprintMetric(kr.Metric) && !isBoard:
			bad("scope", "sprint metrics are per board: use scope = \"board:<id>\"")
		}
		if kr.Metric == jm.MetricJQLCount || kr.Metric == jm.MetricEpicProgress {
			bad("scope", "does not apply to %s (its query or epic is the scope)", kr.Metric)
		}
	}
	return errors.Join(errs...)
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// investmentKeyResult checks a key result bound to investment_share:
// its category is one of the source's, and the keys of other metrics are
// not set (the investment balance says how work is weighed and typed).
func investmentKeyResult(inv *config.Investment, kr *config.KeyResult, issueTypes []string, by, query, epic string, sprints bool) error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, config.FieldErrorf(field, format, args...))
	}
	if err := inv.CheckCategory(kr); err != nil {
		errs = append(errs, err)
	}
	if len(issueTypes) > 0 {
		bad("issue_types", "does not apply to investment_share (the categories type the work)")
	}
	if by != "" {
		bad("by", "does not apply to investment_share (set by on the source's investment table)")
	}
	if query != "" {
		bad("query", "does not apply to investment_share")
	}
	if epic != "" {
		bad("epic", "does not apply to investment_share")
	}
	if sprints {
		bad("sprints", "does not apply to investment_share")
	}
	if kr.Quantile != nil {
		bad("quantile", "does not apply to investment_share")
	}
	return errors.Join(errs...)
}

// checkTeam warns about a team's Jira selectors that the source cannot
// match: a project the source does not sync (when it lists its projects
// rather than a JQL), a board it does not track (when it lists its
// boards). They are warnings rather than errors: a team without a
// jira_source applies to every Jira source, and its projects may be those
// of another one.
func checkTeam(spec any, t *config.Team) ([]config.Invalid, error) {
	s, _ := spec.(*Spec)
	if s == nil {
		return nil, nil
	}
	var warns []config.Invalid
	if strings.TrimSpace(s.JQL) == "" && len(s.Projects) > 0 {
		for i, p := range t.JiraProjects {
			if !containsFold(s.Projects, p) {
				warns = append(warns, config.Invalid{Field: fmt.Sprintf("jira_projects[%d]", i),
					Msg: fmt.Sprintf("project %q is not among the source's projects %v", p, s.Projects)})
			}
		}
	}
	if len(s.Boards) > 0 {
		for i, b := range t.JiraBoards {
			if !slices.Contains(s.Boards, b) {
				warns = append(warns, config.Invalid{Field: fmt.Sprintf("jira_boards[%d]", i),
					Msg: fmt.Sprintf("board %d is not among the source's boards %v", b, s.Boards)})
			}
		}
	}
	return warns, nil
}
