package jira

import (
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/okrd/okrd/config"
)

// doc wraps a source table and one key result into a whole configuration.
func doc(source, kr string) string {
	return `
[sources.jira]
type = "jira"
` + source + `

[[objectives]]
id = "o"
title = "O"
period = "2026-Q4"

  [[objectives.key_results]]
  id = "k"
  title = "K"
  source = "jira"
  baseline = 10
  target = 5
` + kr + "\n"
}

const investmentTable = `
[sources.jira.investment]
categories = [{ name = "bugs", issue_types = ["Bug"] }, { name = "maintenance", labels = ["tech-debt"], epics = ["PAY-9"] }]`

const validSource = `url = "https://acme.atlassian.net"
email = "bot@acme.example"
token = "t"
projects = ["PAY"]`

func TestConfiguration(t *testing.T) {
	tests := []struct {
		name   string
		source string
		kr     string
		// wantErrs are the expected errors as "path: message substring".
		wantErrs []string
	}{
		{"a minimal Cloud source is valid", validSource, `metric = "throughput"`, nil},
		{"a Data Center source needs no email", `url = "https://jira.acme.example"
flavor = "server"
token = "t"
jql = "project = PAY AND component = Checkout"`, `metric = "lead_time"
quantile = 0.85
issue_types = ["Story"]`, nil},
		{"every Jira key result key in use", validSource, `metric = "sprint_say_do_ratio"
scope = "board:42"
by = "points"
sprints = 3`, nil},
		{"url, token and scope are required", "", `metric = "wip"`, []string{
			"sources.jira.url: is required",
			"sources.jira.token: is required",
			"sources.jira.projects: name at least one project key, or set jql",
		}},
		{"bad values are named by field", `url = "ftp://acme"
flavor = "cloudy"
token = "t"
projects = ["pay"]
history = "0s"
page_size = 500
story_points_field = "Story Points"
sprints = 0
jql = "project = PAY ORDER BY created"`, `metric = "wip"`, []string{
			"sources.jira.url: must be an http(s) URL",
			`sources.jira.flavor: must be "auto", "cloud" or "server", not "cloudy"`,
			`sources.jira.projects[0]: "pay" is not a Jira project key`,
			"sources.jira.history: must be positive",
			"sources.jira.page_size: must be between 1 and 100, not 500",
			`sources.jira.story_points_field: must be a field id like "customfield_10016"`,
			"sources.jira.sprints: must be between 1 and 50, not 0",
			"sources.jira.jql: must not contain ORDER BY",
		}},
		{"Cloud tokens need the email", `url = "https://acme.atlassian.net"
flavor = "cloud"
token = "t"
projects = ["PAY"]`, `metric = "wip"`, []string{"sources.jira.email: is required on Jira Cloud"}},
		{"an unknown metric lists the known ones", validSource, `metric = "happiness"`, []string{
			`objectives[0].key_results[0].metric: a Jira source computes throughput, lead_time`,
		}},
		{"a quantile on a count", validSource, `metric = "throughput"
quantile = 0.5`, []string{"objectives[0].key_results[0].quantile: applies only to lead_time, cycle_time and wip_age"}},
		{"jql_count needs a query", validSource, `metric = "jql_count"`, []string{"objectives[0].key_results[0].query: jql_count needs the JQL"}},
		{"epic progress needs an epic or a query, not both", validSource, `metric = "epic_progress"
epic = "PAY-1"
query = "project = PAY"`, []string{"objectives[0].key_results[0].epic: epic_progress needs exactly one of epic"}},
		{"points only where they mean something", validSource, `metric = "throughput"
by = "points"`, []string{`objectives[0].key_results[0].by: "points" applies only to epic_progress`}},
		{"by is count or points", validSource, `metric = "velocity"
by = "hours"`, []string{`objectives[0].key_results[0].by: must be "count" or "points", not "hours"`}},
		{"a scope outside the projects", validSource, `metric = "wip"
scope = "WEB"`, []string{`objectives[0].key_results[0].scope: project "WEB" is not among the source's projects`}},
		{"a malformed board scope", validSource, `metric = "wip"
scope = "board:x"`, []string{`objectives[0].key_results[0].scope: a board scope is "board:<id>"`}},
		{"sprint metrics are per board", validSource, `metric = "velocity"
scope = "PAY"`, []string{`objectives[0].key_results[0].scope: sprint metrics are per board`}},
		{"sprints only for sprint metrics", validSource, `metric = "wip"
sprints = 3`, []string{"objectives[0].key_results[0].sprints: applies only to the sprint metrics"}},
		{"issue types only for flow metrics", validSource, `metric = "velocity"
issue_types = ["Bug"]`, []string{"objectives[0].key_results[0].issue_types: applies only to the flow metrics"}},
		{"an investment share of a category", validSource + investmentTable, `metric = "investment_share"
category = "bugs"
scope = "PAY"
window = "90d"`, nil},
		{"the share of the other work", validSource + investmentTable, `metric = "investment_share"
category = "other"`, nil},
		{"an investment share without categories", validSource, `metric = "investment_share"
category = "bugs"`, []string{`objectives[0].key_results[0].metric: investment_share needs the source's investment categories: configure [sources.jira.investment]`}},
		{"an unknown category", validSource + investmentTable, `metric = "investment_share"
category = "bug"`, []string{`objectives[0].key_results[0].category: unknown category "bug"; the source's categories are bugs, maintenance, other`}},
		{"a share needs its category and takes no by", validSource + investmentTable, `metric = "investment_share"
by = "points"
issue_types = ["Bug"]`, []string{
			`objectives[0].key_results[0].category: investment_share needs the category whose share it measures (bugs, maintenance, other)`,
			`objectives[0].key_results[0].by: does not apply to investment_share`,
			`objectives[0].key_results[0].issue_types: does not apply to investment_share`,
		}},
		{"a category on another metric", validSource + investmentTable, `metric = "throughput"
category = "bugs"`, []string{`objectives[0].key_results[0].category: applies only to metric "investment_share"`}},
		{"epics, initiatives", validSource, `metric = "throughput"
initiatives = [{ jira_epic = "PAY-12" }, { jql = "project = PAY AND labels = checkout", by = "points" }]`, nil},
		{"an epic that is no issue key", validSource, `metric = "throughput"
initiatives = [{ jira_epic = "pay 12" }]`, []string{`objectives[0].key_results[0].initiatives[0].jira_epic: must be an issue key like "PAY-12", not "pay 12"`}},
		{"a JQL initiative with an order", validSource, `metric = "throughput"
initiatives = [{ jql = "project = PAY order by rank" }]`, []string{`objectives[0].key_results[0].initiatives[0].jql: must not contain ORDER BY`}},
		{"investment by points and bad categories", validSource + `
[sources.jira.investment]
by = "points"
categories = [{ name = "bugs" }]`, `metric = "throughput"`, []string{`sources.jira.investment.categories[0]: match some work: set issue_types or labels or epics`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse([]byte(doc(tt.source, tt.kr)), "okrd.toml")
			if len(tt.wantErrs) == 0 {
				if err != nil {
					t.Fatalf("unexpected errors:\n%v", err)
				}
				if _, ok := cfg.Sources["jira"].Spec.(*Spec); !ok {
					t.Fatalf("spec = %T", cfg.Sources["jira"].Spec)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			var errs config.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("error %T: %v", err, err)
			}
			got := err.Error()
			for _, want := range tt.wantErrs {
				if !strings.Contains(got, want) {
					t.Errorf("missing %q in:\n%s", want, got)
				}
			}
			if len(errs) != len(tt.wantErrs) {
				t.Errorf("%d errors, want %d:\n%s", len(errs), len(tt.wantErrs), got)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	cfg, err := config.Parse([]byte(doc(validSource, `metric = "wip"`)), "okrd.toml")
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Sources["jira"].Spec.(*Spec)
	if s.Flavor != FlavorAuto || s.History.Duration() != 180*24*time.Hour || s.Overlap.Duration() != 5*time.Minute ||
		s.PageSize != 100 || s.MaxRetries != 3 || s.Sprints != 6 || s.ResyncInterval != 0 {
		t.Errorf("defaults = %+v", s)
	}
}

// TestExampleJiraSourceLoads uncomments the [sources.jira] table and the
// Jira key result of config.example.toml and loads them, so that the
// documented example stays valid.
func TestExampleJiraSourceLoads(t *testing.T) {
	data, err := os.ReadFile("../../config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	block := regexp.MustCompile(`(?ms)^# \[sources\.jira\]\n.*?^#\n`).FindString(text)
	kr := regexp.MustCompile(`(?ms)^  # \[\[objectives\.key_results\]\]\n  # id          = "pay-cycle-time".*?\n\n`).FindString(text)
	if block == "" || kr == "" {
		t.Fatal("config.example.toml has no commented [sources.jira] table or pay-cycle-time key result")
	}
	uncomment := func(s string) string {
		return regexp.MustCompile(`(?m)^(\s*)# ?`).ReplaceAllString(s, "$1")
	}
	text = strings.Replace(text, block, uncomment(block), 1)
	text = strings.Replace(text, kr, uncomment(kr), 1)
	t.Setenv("JIRA_EMAIL", "bot@acme.example")
	t.Setenv("JIRA_API_TOKEN", "token-from-env")
	cfg, err := config.Parse([]byte(text), "../../config.example.toml")
	if err != nil {
		t.Fatalf("the uncommented example does not load:\n%v", err)
	}
	s, ok := cfg.Sources["jira"].Spec.(*Spec)
	if !ok || s.Token.Value() != "token-from-env" || s.Flavor != FlavorCloud || len(s.Projects) != 2 || s.Sprints != 6 {
		t.Errorf("jira spec = %+v", cfg.Sources["jira"].Spec)
	}
	kres := cfg.Objective("checkout-love").KeyResult("pay-cycle-time")
	if kres == nil || kres.Metric != "cycle_time" || kres.Source != "jira" {
		t.Errorf("pay-cycle-time = %+v", kres)
	}
}
