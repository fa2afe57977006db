package demo

import (
	"bytes"
	"strconv"
	"strings"
	"text/template"
)

// configData fills the demo configuration's template.
type configData struct {
	Written       string
	Period        string
	ListenAddress string
	ExternalURL   string
	StoreDSN      string
	JiraURL       string
	GitHubURL     string
	AnalyticsDSN  string
	PlausibleURL  string
	Interval      string
	EpicKey       string
}

// The files the demo writes into its directory. Secrets are files, as they
// should be in a real configuration.
const (
	configName          = "okrd.toml"
	storeName           = "okrd.db"
	analyticsName       = "analytics.db"
	secretsDir          = "secrets"
	apiTokenFile        = "secrets/api_token"
	jiraTokenFile       = "secrets/jira_token"
	githubTokenFile     = "secrets/github_token"
	plausibleKeyFile    = "secrets/plausible_api_key"
	demoTeam            = "checkout"
	demoProductOwner    = "maria"
	demoEngineeringLead = "sam"
	demoCompanyOwner    = "lena"
)

// tomlString quotes s as a TOML basic string (the escapes are JSON's, which
// strconv.Quote's are not for every rune, so only the needed ones are
// escaped here).
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\u` + strings.Repeat("0", 4-len(strconv.FormatInt(int64(r), 16))) + strconv.FormatInt(int64(r), 16))
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

var configTemplate = template.Must(template.New("okrd.toml").Funcs(template.FuncMap{"q": tomlString, "num": num}).Parse(`# okrd demo configuration, written by "okrd demo" at {{ .Written }}.
#
# A product team, checkout, and its OKRs for the current quarter ({{ .Period }} when this was
# written), bound to every kind of source:
# Jira, GitHub, a SQL database, an HTTP JSON analytics API and manual check-ins. The sources
# are fakes running inside "okrd demo" on 127.0.0.1 and their data is generated relative to
# the time the demo started; this file is otherwise an ordinary okrd configuration
# ("okrd check --config okrd.toml" validates it; see config.example.toml for every key).
# There is no Prometheus source here: the demo has no Prometheus to query.

[global]
time_zone           = "UTC"
evaluation_interval = "{{ .Interval }}"

[server]
listen_address = {{ q .ListenAddress }}
# Where a browser reaches this okrd: the links of alerts and reports, and the page's API
# examples.
external_url   = {{ q .ExternalURL }}
# The bearer token of the write API (check-ins); okrd demo prints it.
api_token_file = "` + apiTokenFile + `"

[storage]
driver = "sqlite"
dsn    = {{ q .StoreDSN }}

# A Jira Cloud site (the fake speaks /rest/api/2/search/jql, the Agile API, changelogs).
[sources.jira]
type       = "jira"
interval   = "{{ .Interval }}"
url        = {{ q .JiraURL }}
flavor     = "cloud"
email      = "` + jiraEmail + `"
token_file = "` + jiraTokenFile + `"
projects   = ["` + jiraProject + `"]

# The investment balance: the share of the issues done by category of work. An issue counts
# in the first category that matches its type, one of its labels or its epic; "other" holds
# the rest (here: tasks without the tech-debt label).
[sources.jira.investment]
categories = [
  { name = "bugs", issue_types = ["Bug"] },
  { name = "maintenance", labels = ["tech-debt"] },
  { name = "new", issue_types = ["Story"] },
]

# GitHub (served the way GitHub Enterprise Server serves it, REST under /api/v3/ and GraphQL).
[sources.github]
type        = "github"
interval    = "{{ .Interval }}"
url         = {{ q .GitHubURL }}
token_file  = "` + githubTokenFile + `"
repos       = ["` + githubOwner + `/checkout-web", "` + githubOwner + `/checkout-api"]
deployments = "deployments"
environment = "production"

# The same for merged pull requests, by label.
[sources.github.investment]
categories = [
  { name = "bugs", labels = ["bug"] },
  { name = "maintenance", labels = ["dependencies"] },
]

# The checkout team: both checkout repositories and the Jira project. Its
# figures are computed over the union of their records and exported with
# the label team="checkout"; key results measure it with scope = "team:checkout".
[teams.checkout]
repositories  = ["` + githubOwner + `/checkout-*"]
jira_projects = ["` + jiraProject + `"]

# The product analytics warehouse: a SQLite file with a daily_activation table.
[sources.warehouse]
type     = "sql"
interval = "{{ .Interval }}"
driver   = "sqlite"
dsn      = {{ q .AnalyticsDSN }}

# Plausible's Stats API v2.
[sources.plausible]
type              = "http_json"
interval          = "{{ .Interval }}"
url               = {{ q .PlausibleURL }}
bearer_token_file = "` + plausibleKeyFile + `"

# The company objective the two checkout objectives below contribute to:
# its progress is theirs, weighted (docs/okr.md, "Alignment").
[[objectives]]
id            = "company-growth"
title         = "Grow online revenue"
owner         = "` + demoCompanyOwner + `"
team          = "company"
period        = "current-quarter"
progress_from = "children"

[[objectives]]
id     = "checkout-conversion"
title  = "More shoppers complete checkout"
owner  = "` + demoProductOwner + `"
team   = "` + demoTeam + `"
period = "current-quarter"
parent = "company-growth"
weight = 2

  [[objectives.key_results]]
  id          = "activation"
  title       = "Week-1 activation from 31% to 40%"
  description = "sql: the latest seven days of the daily_activation table"
  source      = "warehouse"
  query       = "` + activationQuery + `"
  # The same as of a past instant, :at, to fill in the quarter so far.
  history_query = "` + activationHistoryQuery + `"
  baseline    = {{ num .Activation.Baseline }}
  target      = {{ num .Activation.Target }}
  unit        = "ratio"
  stale_after = "8d"

  [[objectives.key_results]]
  id          = "conversion"
  title       = "Checkout conversion from 2.5% to 4%"
  description = "http_json: Plausible's conversion rate of the Checkout completed goal over 28 days"
  source      = "plausible"
  window      = "28d"
  path        = "/api/v2/query"
  # The window's instants, so that a past instant can be asked about too.
  body        = '''{{ .ConversionBody }}'''
  json_path   = "$.results[0].metrics[0]"
  baseline    = {{ num .Conversion.Baseline }}
  target      = {{ num .Conversion.Target }}
  unit        = "percent"
  # The delivery work meant to move conversion: its progress is shown next to the key
  # result, and its issues done, merges and deployments are marked on the chart (and served
  # to Grafana by /api/v1/annotations).
  initiatives = [
    { jira_epic = {{ q .EpicKey }}, title = "One-click payments" },
    { github_label = "checkout-v2", title = "Checkout v2 redesign" },
  ]

[[objectives]]
id     = "happy-shoppers"
title  = "Shoppers love checkout"
owner  = "` + demoProductOwner + `"
team   = "` + demoTeam + `"
period = "current-quarter"
parent = "company-growth"

  [[objectives.key_results]]
  id          = "nps"
  title       = "Checkout NPS from 30 to 50"
  description = "manual: weekly check-ins from the in-app survey"
  baseline    = {{ num .NPS.Baseline }}
  target      = {{ num .NPS.Target }}
  stale_after = "14d"

  [[objectives.key_results]]
  id          = "support-tickets"
  title       = "Support tickets stay between 2 and 4 per 1,000 orders"
  description = "manual: a band to maintain, checked in weekly by support"
  direction   = "maintain"
  min         = {{ num .SupportMin }}
  max         = {{ num .SupportMax }}
  stale_after = "14d"

[[objectives]]
id     = "ship-faster"
title  = "Ship improvements to shoppers faster and safer"
owner  = "` + demoEngineeringLead + `"
team   = "` + demoTeam + `"
period = "current-quarter"

  [[objectives.key_results]]
  id          = "deploy-frequency"
  title       = "Deploy to production every day"
  description = "github: successful production deployments per day over 28 days, of the checkout team's repositories"
  source      = "github"
  metric      = "deployment_frequency"
  scope       = "team:checkout"
  window      = "28d"
  baseline    = {{ num .DeployFrequency.Baseline }}
  target      = {{ num .DeployFrequency.Target }}

  [[objectives.key_results]]
  id          = "lead-time"
  title       = "Lead time for changes from 4 days to 2"
  description = "github: median time from a change's first commit to its deployment, over 28 days"
  source      = "github"
  metric      = "lead_time_for_changes"
  quantile    = 0.5
  window      = "28d"
  baseline    = {{ num .LeadTime.Baseline }}
  target      = {{ num .LeadTime.Target }}
  unit        = "duration"

  [[objectives.key_results]]
  id          = "change-failure-rate"
  title       = "Change failure rate from 25% to 10%"
  description = "github: the share of deployments that failed or caused an incident, over 28 days"
  source      = "github"
  metric      = "change_failure_rate"
  window      = "28d"
  baseline    = {{ num .FailureRate.Baseline }}
  target      = {{ num .FailureRate.Target }}
  unit        = "ratio"

  [[objectives.key_results]]
  id          = "time-to-restore"
  title       = "Restore service within an hour"
  description = "github: median time to close an incident issue, over 28 days"
  source      = "github"
  metric      = "time_to_restore"
  quantile    = 0.5
  window      = "28d"
  baseline    = {{ num .Restore.Baseline }}
  target      = {{ num .Restore.Target }}
  unit        = "duration"

  [[objectives.key_results]]
  id          = "first-review"
  title       = "First review within 2 hours"
  description = "github: median time from opening a pull request to its first review by someone else"
  source      = "github"
  metric      = "time_to_first_review"
  quantile    = 0.5
  window      = "28d"
  baseline    = {{ num .FirstReview.Baseline }}
  target      = {{ num .FirstReview.Target }}
  unit        = "duration"

[[objectives]]
id     = "predictable-delivery"
title  = "Plan and deliver predictably"
owner  = "` + demoEngineeringLead + `"
team   = "` + demoTeam + `"
period = "current-quarter"

  [[objectives.key_results]]
  id          = "throughput"
  title       = "Finish 50 issues every 4 weeks"
  description = "jira: issues done in the last 28 days"
  source      = "jira"
  metric      = "throughput"
  window      = "28d"
  baseline    = {{ num .Throughput.Baseline }}
  target      = {{ num .Throughput.Target }}

  [[objectives.key_results]]
  id          = "cycle-time"
  title       = "85% of issues done within 6 days of starting"
  description = "jira: 85th percentile of the time from In Progress to Done, over 28 days"
  source      = "jira"
  metric      = "cycle_time"
  quantile    = 0.85
  window      = "28d"
  baseline    = {{ num .CycleTime.Baseline }}
  target      = {{ num .CycleTime.Target }}
  unit        = "duration"

  [[objectives.key_results]]
  id          = "say-do"
  title       = "Finish 85% of what each sprint commits to"
  description = "jira: completed / committed issues of the board's last three sprints"
  source      = "jira"
  metric      = "sprint_say_do_ratio"
  sprints     = 3
  baseline    = {{ num .SayDo.Baseline }}
  target      = {{ num .SayDo.Target }}
  unit        = "ratio"

  [[objectives.key_results]]
  id          = "open-bugs"
  title       = "Open bugs from 40 to 12"
  description = "jira: bugs created and not done, with their history"
  source      = "jira"
  metric      = "open_issues"
  issue_types = ["Bug"]
  baseline    = {{ num .OpenBugs.Baseline }}
  target      = {{ num .OpenBugs.Target }}

  [[objectives.key_results]]
  id          = "bug-work"
  title       = "Keep bug work under 20% of what we finish"
  description = "jira: the bugs' share of the issues done in the last 28 days (the investment balance)"
  source      = "jira"
  metric      = "investment_share"
  category    = "bugs"
  window      = "28d"
  direction   = "maintain"
  min         = 0
  max         = 0.2
  unit        = "ratio"

  [[objectives.key_results]]
  id          = "one-click-payments"
  title       = "Ship one-click payments"
  description = "jira: done / all child issues of the epic"
  source      = "jira"
  metric      = "epic_progress"
  epic        = {{ q .EpicKey }}
  baseline    = 0
  target      = 1
  unit        = "ratio"
`))

// renderConfig writes the demo configuration.
func renderConfig(d configData) ([]byte, error) {
	var b bytes.Buffer
	err := configTemplate.Execute(&b, struct {
		configData
		Activation, NPS, DeployFrequency, LeadTime, FailureRate, Restore, FirstReview exported
		Throughput, CycleTime, SayDo, OpenBugs                                        exported
		Conversion                                                                    exported
		ConversionBody                                                                string
		SupportMin, SupportMax                                                        float64
	}{
		configData: d,
		Activation: export(activationTrack), NPS: export(npsTrack), DeployFrequency: export(deployFrequencyTrack),
		LeadTime: export(leadTimeTrack), FailureRate: export(failureRateTrack), Restore: export(restoreTrack),
		FirstReview: export(firstReviewTrack), Throughput: export(throughputTrack), CycleTime: export(cycleTimeTrack),
		SayDo: export(sayDoTrack), OpenBugs: export(openBugsTrack),
		Conversion: exported{Baseline: conversionBaseline, Target: conversionTarget}, ConversionBody: conversionBody,
		SupportMin: supportMin, SupportMax: supportMax,
	})
	return b.Bytes(), err
}

// exported is a track's baseline and target for the template.
type exported struct{ Baseline, Target float64 }

func export(k track) exported { return exported{k.baseline, k.target} }
