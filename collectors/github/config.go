package github

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/okrd/okrd/config"
	mg "github.com/okrd/okrd/metrics/github"
)

// The deployment signals a source can use (METRICS.md).
const (
	SignalDeployments  = "deployments"
	SignalReleases     = "releases"
	SignalWorkflowRuns = "workflow_runs"
)

// Defaults of the spec.
const (
	DefaultURL              = "https://api.github.com/"
	DefaultEnvironment      = "production"
	DefaultIncidentLabel    = "incident"
	DefaultRateLimitReserve = 200
)

// Spec is the configuration of a [sources.NAME] table with type "github".
type Spec struct {
	// URL is the REST API base URL: https://api.github.com/ (default) or a
	// GitHub Enterprise Server's https://HOST/api/v3/ (a bare
	// https://HOST is completed to that).
	URL string `toml:"url"`
	// GraphQLURL is the GraphQL endpoint; derived from URL when empty
	// (https://api.github.com/graphql, https://HOST/api/graphql).
	GraphQLURL string `toml:"graphql_url"`

	// Token is a personal access token (classic or fine-grained) or any
	// OAuth token. Exclusive with TokenFile and with GitHub App auth.
	Token     config.Secret `toml:"token"`
	TokenFile string        `toml:"token_file"`
	// AppID, InstallationID and PrivateKey (or PrivateKeyFile, a PEM file)
	// authenticate as a GitHub App installation instead of a token.
	AppID          int64         `toml:"app_id"`
	InstallationID int64         `toml:"installation_id"`
	PrivateKey     config.Secret `toml:"private_key"`
	PrivateKeyFile string        `toml:"private_key_file"`

	// Repos are "owner/name", or "owner/PATTERN" where PATTERN is a glob
	// ("*", "svc-*", "web-?") matched against every repository of the
	// organisation or user (forks and archived repositories excluded).
	Repos []string `toml:"repos"`

	// Deployments is the deployment signal: "deployments" (default),
	// "releases" or "workflow_runs".
	Deployments string `toml:"deployments"`
	// Environment is the production environment of GitHub deployments: a
	// name (default "production") or a glob such as "prod-*".
	Environment string `toml:"environment"`
	// Workflow names the deployment workflow for "workflow_runs": its file
	// name ("deploy.yml") or numeric id.
	Workflow string `toml:"workflow"`

	// IncidentLabel is the label of incident issues (default "incident").
	IncidentLabel string `toml:"incident_label"`
	// IncidentsRepo, when set, is the one repository ("owner/name") whose
	// labelled issues are the incidents of every repository of the source.
	IncidentsRepo string `toml:"incidents_repo"`
	// IncidentsSource, when set, names another source (a jira source with
	// incidents_jql) whose incident records are the incidents of every
	// repository of this one.
	IncidentsSource string `toml:"incidents_source"`
	// AttributionWindow is how long after a successful deployment an
	// incident is blamed on it (default 7d).
	AttributionWindow config.Duration `toml:"attribution_window"`

	// RateLimitReserve is the part of each rate-limit budget (REST and
	// GraphQL) okrd leaves unused for other tools sharing the token.
	RateLimitReserve int `toml:"rate_limit_reserve"`

	// Investment is the investment balance: categories of merged pull
	// requests by label (docs/sources/github.md, "Investment balance").
	Investment *config.Investment `toml:"investment"`

	// Derived by Validate.
	restURL, graphqlURL string
	privateKey          *rsa.PrivateKey
	repos               []repoSpec
}

// repoSpec is one entry of Repos.
type repoSpec struct {
	owner, name string
	pattern     bool // name is a glob
}

func (r repoSpec) String() string { return r.owner + "/" + r.name }

// Defaults sets the defaults before the table is decoded.
func (s *Spec) Defaults() {
	s.URL = DefaultURL
	s.Deployments = SignalDeployments
	s.Environment = DefaultEnvironment
	s.IncidentLabel = DefaultIncidentLabel
	s.AttributionWindow = config.Duration(mg.DefaultAttributionWindow)
	s.RateLimitReserve = DefaultRateLimitReserve
}

// namePart is what GitHub allows in owner and repository names.
var namePart = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// globPart is a repository name that may hold glob characters.
var globPart = regexp.MustCompile(`^[A-Za-z0-9._*?\[\]!-]+$`)

// Validate checks the spec and derives the URLs, the key and the repos.
func (s *Spec) Validate() error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, config.FieldErrorf(field, format, args...))
	}

	rest, gql, err := endpoints(s.URL, s.GraphQLURL)
	if err != nil {
		var inv *config.Invalid
		if errors.As(err, &inv) {
			errs = append(errs, err)
		} else {
			add("url", "%v", err)
		}
	}
	s.restURL, s.graphqlURL = rest, gql

	appAuth := s.AppID != 0 || s.InstallationID != 0 || s.PrivateKey != "" || s.PrivateKeyFile != ""
	switch {
	case s.Token != "" && appAuth:
		add("token", "cannot be combined with GitHub App authentication (app_id, installation_id, private_key): choose one")
	case s.Token == "" && !appAuth:
		add("token", "required: a token (or token_file), or app_id, installation_id and private_key_file for GitHub App authentication")
	case appAuth:
		if s.AppID <= 0 {
			add("app_id", "required with installation_id and private_key: the numeric id of the GitHub App")
		}
		if s.InstallationID <= 0 {
			add("installation_id", "required with app_id: the numeric id of the app's installation on the organisation")
		}
		if s.PrivateKey == "" {
			add("private_key_file", "required with app_id: the app's private key (PEM)")
		} else if k, err := parsePrivateKey(s.PrivateKey.Value()); err != nil {
			add("private_key_file", "%v", err)
		} else {
			s.privateKey = k
		}
	}

	if len(s.Repos) == 0 {
		add("repos", `required: at least one "owner/name" or "owner/pattern*"`)
	}
	seen := map[string]bool{}
	s.repos = nil
	for i, r := range s.Repos {
		rs, err := parseRepo(r)
		if err != nil {
			add(fmt.Sprintf("repos[%d]", i), "%v", err)
			continue
		}
		key := strings.ToLower(rs.String())
		if seen[key] {
			add(fmt.Sprintf("repos[%d]", i), "%q is listed twice", r)
			continue
		}
		seen[key] = true
		s.repos = append(s.repos, rs)
	}

	switch s.Deployments {
	case SignalDeployments:
		if s.Environment == "" {
			add("environment", "must not be empty: the name (or glob) of the production environment")
		} else if _, err := path.Match(s.Environment, ""); err != nil {
			add("environment", "invalid pattern %q: %v", s.Environment, err)
		}
	case SignalReleases:
	case SignalWorkflowRuns:
		if s.Workflow == "" {
			add("workflow", `required with deployments = "workflow_runs": the workflow file name (e.g. "deploy.yml") or id`)
		}
	default:
		add("deployments", "must be %q, %q or %q, not %q", SignalDeployments, SignalReleases, SignalWorkflowRuns, s.Deployments)
	}
	if s.Workflow != "" && s.Deployments != SignalWorkflowRuns {
		add("workflow", `applies only with deployments = "workflow_runs" (deployments is %q)`, s.Deployments)
	}

	if s.IncidentLabel == "" && s.IncidentsSource == "" {
		add("incident_label", "must not be empty")
	}
	if s.IncidentsRepo != "" && s.IncidentsSource != "" {
		add("incidents_source", "cannot be combined with incidents_repo: incidents come from one place")
	}
	if s.IncidentsRepo != "" {
		if rs, err := parseRepo(s.IncidentsRepo); err != nil || rs.pattern {
			add("incidents_repo", `must be one repository "owner/name", not %q`, s.IncidentsRepo)
		}
	}
	if s.AttributionWindow <= 0 {
		add("attribution_window", "must be positive, not %s", s.AttributionWindow)
	}
	if s.RateLimitReserve < 0 {
		add("rate_limit_reserve", "must not be negative, not %d", s.RateLimitReserve)
	}
	errs = append(errs, config.ValidateInvestment(s.Investment, false, "labels"))
	return errors.Join(errs...)
}

// parseRepo parses "owner/name" or "owner/glob".
func parseRepo(s string) (repoSpec, error) {
	owner, name, ok := strings.Cut(s, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return repoSpec{}, fmt.Errorf(`must be "owner/name" or "owner/pattern", not %q`, s)
	}
	if !namePart.MatchString(owner) {
		return repoSpec{}, fmt.Errorf("invalid owner %q in %q: letters, digits, '-', '_' and '.' only (no pattern)", owner, s)
	}
	if namePart.MatchString(name) {
		return repoSpec{owner: owner, name: name}, nil
	}
	if !globPart.MatchString(name) {
		return repoSpec{}, fmt.Errorf("invalid repository name %q in %q", name, s)
	}
	if _, err := path.Match(name, ""); err != nil {
		return repoSpec{}, fmt.Errorf("invalid pattern %q in %q: %v", name, s, err)
	}
	return repoSpec{owner: owner, name: name, pattern: true}, nil
}

// endpoints derives the REST base URL (with a trailing slash, as go-github
// requires) and the GraphQL URL.
func endpoints(restURL, graphqlURL string) (string, string, error) {
	u, err := url.Parse(restURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", "", fmt.Errorf("must be an absolute http(s) URL such as %q or \"https://github.example.com/api/v3/\", not %q", DefaultURL, restURL)
	}
	if u.User != nil {
		return "", "", errors.New("must not contain credentials; use token or token_file")
	}
	if u.Path == "" || u.Path == "/" {
		if !strings.EqualFold(u.Host, "api.github.com") {
			// A bare GitHub Enterprise Server host: its API lives below
			// /api/v3/, as go-github's WithEnterpriseURLs assumes.
			u.Path = "/api/v3/"
		} else {
			u.Path = "/"
		}
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	rest := u.String()
	if graphqlURL != "" {
		g, err := url.Parse(graphqlURL)
		if err != nil || (g.Scheme != "http" && g.Scheme != "https") || g.Host == "" {
			return rest, "", config.FieldErrorf("graphql_url", "must be an absolute http(s) URL, not %q", graphqlURL)
		}
		return rest, g.String(), nil
	}
	g := *u
	switch {
	case strings.EqualFold(u.Host, "api.github.com"):
		g.Path = "/graphql"
	case strings.HasSuffix(u.Path, "/api/v3/"):
		g.Path = strings.TrimSuffix(u.Path, "/v3/") + "/graphql"
	default:
		g.Path = u.Path + "graphql"
	}
	return rest, g.String(), nil
}

// parsePrivateKey reads a GitHub App private key (PKCS#1, as GitHub
// generates it, or PKCS#8).
func parsePrivateKey(pemText string) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode([]byte(pemText))
	if block == nil {
		return nil, errors.New("the private key is not PEM (it should start with -----BEGIN RSA PRIVATE KEY-----)")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, errors.New("the private key is neither a PKCS#1 nor a PKCS#8 RSA key")
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("the private key is not an RSA key; GitHub App keys are RSA")
	}
	return rk, nil
}

// validateKeyResult checks a key result bound to a github source.
func validateKeyResult(spec any, kr *config.KeyResult) error {
	s, _ := spec.(*Spec)
	var errs []error
	if kr.Metric == "" {
		errs = append(errs, config.FieldErrorf("metric", "required for a github source; one of: %s", mg.MetricNames()))
	} else if m, ok := mg.LookupMetric(kr.Metric); !ok {
		errs = append(errs, config.FieldErrorf("metric", "unknown github metric %q; known: %s", kr.Metric, mg.MetricNames()))
	} else if kr.Quantile != nil && !m.Distribution {
		errs = append(errs, config.FieldErrorf("quantile", "applies only to distribution metrics (lead_time_for_changes, time_to_restore, pr_cycle_time, pr_size, time_to_first_review), not %s", kr.Metric))
	}
	// Keys of other source types would be silently ignored: say so.
	for _, k := range []struct {
		name string
		set  bool
	}{
		{"query", kr.Query != ""}, {"issue_types", len(kr.IssueTypes) > 0}, {"by", kr.By != ""}, {"epic", kr.Epic != ""},
		{"sprints", kr.Sprints != 0}, {"path", kr.Path != ""}, {"method", kr.Method != ""}, {"body", kr.Body != ""},
		{"json_path", kr.JSONPath != ""},
	} {
		if k.set {
			errs = append(errs, config.FieldErrorf(k.name, "does not apply to a github source (it binds with metric, scope, window and quantile)"))
		}
	}
	switch {
	case kr.Metric == mg.MetricInvestmentShare:
		var inv *config.Investment
		if s != nil {
			inv = s.Investment
		}
		if err := inv.CheckCategory(kr); err != nil {
			errs = append(errs, err)
		}
	case kr.Category != "":
		errs = append(errs, config.FieldErrorf("category", "applies only to metric \"investment_share\""))
	}
	if _, team := config.TeamScope(kr.Scope); kr.Scope != "" && s != nil && !team {
		// A team scope ("team:NAME") is checked with the [teams] tables.
		if !scopeMatches(s, kr.Scope) {
			errs = append(errs, config.FieldErrorf("scope", "%q is not one of the source's repos (%s); scope is an \"owner/name\" the source covers, \"team:NAME\" for a team, or empty for the whole source", kr.Scope, strings.Join(s.Repos, ", ")))
		}
	}
	return errors.Join(errs...)
}

// scopeMatches reports whether a key result's scope names a repository the
// spec covers: listed, or matching one of its patterns.
func scopeMatches(s *Spec, scope string) bool {
	rs, err := parseRepo(scope)
	if err != nil || rs.pattern {
		return false
	}
	repos := s.repos
	if repos == nil {
		for _, r := range s.Repos {
			if p, err := parseRepo(r); err == nil {
				repos = append(repos, p)
			}
		}
	}
	for _, r := range repos {
		if !strings.EqualFold(r.owner, rs.owner) {
			continue
		}
		if r.pattern {
			if ok, _ := path.Match(strings.ToLower(r.name), strings.ToLower(rs.name)); ok {
				return true
			}
		} else if strings.EqualFold(r.name, rs.name) {
			return true
		}
	}
	return false
}

// attribution is the attribution window as a time.Duration.
func (s *Spec) attribution() time.Duration { return time.Duration(s.AttributionWindow) }

func init() {
	config.RegisterSourceType("github", config.SourceType{
		NewSpec:            func() any { return &Spec{} },
		ValidateKeyResult:  validateKeyResult,
		KeyResultKeys:      []string{"category"},
		InitiativeKinds:    []string{config.InitiativeGitHubLabel, config.InitiativeGitHubMilestone},
		ValidateInitiative: validateInitiative,
		CheckTeam:          checkTeam,
	})
}

// validateInitiative checks an initiative tracked by a github source: its
// repositories are repositories the source covers.
func validateInitiative(spec any, in *config.Initiative) error {
	s, _ := spec.(*Spec)
	var errs []error
	if in.By == "points" {
		errs = append(errs, config.FieldErrorf("by", "must be \"count\": pull requests have no story points"))
	}
	for i, r := range in.Repositories {
		rs, err := parseRepo(r)
		switch {
		case err != nil || rs.pattern:
			errs = append(errs, config.FieldErrorf(fmt.Sprintf("repositories[%d]", i), "must be one repository \"owner/name\", not %q", r))
		case s != nil && !scopeMatches(s, r):
			errs = append(errs, config.FieldErrorf(fmt.Sprintf("repositories[%d]", i), "%q is not one of the source's repos (%s)", r, strings.Join(s.Repos, ", ")))
		}
	}
	return errors.Join(errs...)

}

// checkTeam warns about a team's repositories that none of the source's
// repos entries can ever match: a name that is not listed and matches no
// glob of the source's owners. A glob of the source (owner/svc-*) is
// resolved only when the source polls, so any entry of a team with that
// owner may match it then.
func checkTeam(spec any, t *config.Team) ([]config.Invalid, error) {
	s, _ := spec.(*Spec)
	if s == nil {
		return nil, nil
	}
	var warns []config.Invalid
	for i, pattern := range t.Repositories {
		owner, _, _ := strings.Cut(pattern, "/")
		possible := false
		for _, r := range s.Repos {
			rs, err := parseRepo(r)
			if err != nil {
				continue
			}
			if rs.pattern {
				possible = possible || config.MatchRepositoryPattern(owner, rs.owner)
			} else {
				possible = possible || config.MatchRepositoryPattern(pattern, rs.String())
			}
		}
		if !possible {
			warns = append(warns, config.Invalid{Field: fmt.Sprintf("repositories[%d]", i),
				Msg: fmt.Sprintf("%q matches none of the source's repos (%s); the team has no records there until it does", pattern, strings.Join(s.Repos, ", "))})
		}
	}
	return warns, nil
}
