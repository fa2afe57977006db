package dashboards

import (
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"

	"github.com/okrd/okrd/config"
)

// The delivery dashboard's own variables.
const (
	varRepo    = "repo"
	varProject = "project"
	varBoard   = "board"
	// varTeams is not "team": the overview's team variable (the teams of
	// the objectives) matches every series with All, this one none.
	varTeams    = "delivery_team"
	varWindow   = "window"
	varQuantile = "quantile"
)

// The windows and quantiles the jira and github sources export (their
// `window` and `quantile` labels).
var (
	deliveryWindows   = []string{"7d", "28d", "90d"}
	deliveryQuantiles = []string{"0.5", "0.85", "0.95"}
)

// wholeSource is the repo and scope label value of the figures over a
// whole source (every repository or project together).
const wholeSource = "all"

// doraLevel is a DORA performance level with the number a panel shows for
// it (higher is better) and its colour.
type doraLevel struct {
	name  string
	code  int
	color string
}

var doraLevels = []doraLevel{
	{"low", 1, "red"},
	{"medium", 2, "orange"},
	{"high", 3, "yellow"},
	{"elite", 4, "green"},
}

// delivery is the delivery dashboard: the DORA four keys with their levels
// and pull-request flow from the github sources, flow and sprint
// predictability from the jira sources, per repository, project and board.
// It does not depend on the configuration: the sources and their scopes
// come from the series themselves, through the variables.
func delivery(cfg *config.Config) *dashboard.DashboardBuilder {
	b := newDashboard(DeliveryUID, "Delivery",
		"Delivery metrics behind the OKRs: the DORA four keys and pull-request flow (github sources), flow and sprint predictability (jira sources).").
		Time("now-90d", "now").Timezone(common.TimeZoneBrowser).
		WithVariable(labelVariable(varSource, "Source", "The jira and github sources.",
			`{__name__=~"okrd_github_open_pull_requests|okrd_jira_wip"}`, "source")).
		WithVariable(scopeVariable(varRepo, "Repository", "A repository, or all: every repository of the source together.",
			`okrd_github_open_pull_requests{source=~"$source"}`, "repo")).
		WithVariable(scopeVariable(varProject, "Project", "A Jira project, or all: every project of the source together.",
			`okrd_jira_wip{source=~"$source", scope!~"board:.*"}`, "scope")).
		WithVariable(teamVariable()).
		WithVariable(labelVariable(varBoard, "Board", "Jira boards (for sprints), by id.",
			`okrd_jira_sprint_committed_issues{source=~"$source"}`, "board")).
		WithVariable(customVariable(varWindow, "Window", "The window of the windowed figures.", deliveryWindows, "28d")).
		WithVariable(customVariable(varQuantile, "Quantile", "The quantile of the durations and sizes (0.5 is the median).", deliveryQuantiles, "0.5"))
	tr := trajectory(cfg)
	b = doraRow(b, tr)
	b = pullRequestRow(b, tr)
	b = jiraFlowRow(b, tr)
	b = sprintRow(b)
	return b
}

// scopeVariable picks one or more values of a label whose value "all"
// stands for the whole source; "all" is the default, and there is no
// catch-all option, which would add each part to the whole.
func scopeVariable(name, label, description, selector, labelName string) *dashboard.QueryVariableBuilder {
	return queryVariable(name, label, description, selector, labelName).
		Current(dashboard.VariableOption{
			Selected: ptr(true),
			Text:     dashboard.StringOrArrayOfString{ArrayOfString: []string{wholeSource}},
			Value:    dashboard.StringOrArrayOfString{ArrayOfString: []string{wholeSource}},
		})
}

// teamVariable picks teams ([teams.NAME]): a team's series carry the team
// label and no repo or scope, so choosing one shows its figures whatever
// the repository and project; "All", the default, stands for no team and
// leaves the repository and project choices in force.
func teamVariable() *dashboard.QueryVariableBuilder {
	return queryVariable(varTeams, "Team",
		"A team: its figures over every repository and project it groups (the repository and project choices then do not apply). All: no team, the repository and project choices apply.",
		`{__name__=~"okrd_github_open_pull_requests|okrd_jira_wip", source=~"$source", team!=""}`, "team").
		IncludeAll(true).AllValue("^$").
		Current(dashboard.VariableOption{
			Selected: ptr(true),
			Text:     dashboard.StringOrArrayOfString{ArrayOfString: []string{"All"}},
			Value:    dashboard.StringOrArrayOfString{ArrayOfString: []string{"$__all"}},
		})
}

// customVariable offers fixed values, one at a time.
func customVariable(name, label, description string, values []string, current string) *dashboard.CustomVariableBuilder {
	q := strings.Join(values, ",")
	opts := make([]dashboard.VariableOption, len(values))
	for i, v := range values {
		opts[i] = dashboard.VariableOption{
			Selected: ptr(v == current),
			Text:     dashboard.StringOrArrayOfString{String: ptr(v)},
			Value:    dashboard.StringOrArrayOfString{String: ptr(v)},
		}
	}
	return dashboard.NewCustomVariableBuilder(name).Label(label).Description(description).
		Values(dashboard.StringOrMap{String: ptr(q)}).Options(opts).Multi(false).IncludeAll(false).
		Current(dashboard.VariableOption{
			Selected: ptr(true),
			Text:     dashboard.StringOrArrayOfString{String: ptr(current)},
			Value:    dashboard.StringOrArrayOfString{String: ptr(current)},
		})
}

// Selectors of the delivery series.
var (
	srcM = re("source", "$"+varSource)
	// A team's series have an empty repo (scope): they pass the
	// repository (project) matcher, and teamM, which without a team
	// chosen matches only the series without one, picks them.
	repoM     = re("repo", "$"+varRepo+"|")
	projectM  = re("scope", "$"+varProject+"|")
	teamM     = re("team", "$"+varTeams)
	boardM    = re("board", "$"+varBoard)
	windowM   = eq("window", "$"+varWindow)
	quantileM = eq("quantile", "$"+varQuantile)
)

// deliverySeries renders a delivery series of the chosen source(s) and the matchers
// ms, aggregated to the labels by (which deduplicates replicas), as an
// instant query reads it.
func deliverySeries(metric, by string, ms ...m) string { return instant.delivery(metric, by, ms...) }

// delivery renders a delivery series as r reads it.
func (r reader) delivery(metric, by string, ms ...m) string {
	return "max by (" + by + ") (" + r.sel(metric, append([]m{srcM}, ms...)...) + ")"
}

// levelCode turns okrd_github_dora_level (one series per level, 1 for the
// current one) into the level's number per source, repo and key.
func levelCode(ms ...m) string {
	terms := make([]string, len(doraLevels))
	for i, l := range doraLevels {
		terms[i] = "(" + sel("okrd_github_dora_level", append(append([]m(nil), ms...), eq("level", l.name))...) + " == 1) * " + formatNumber(float64(l.code))
	}
	return "max by (source, repo, team, key) (" + strings.Join(terms, " or ") + ")"
}

func levelMappings() []dashboard.ValueMapping {
	vs := make([]valueText, len(doraLevels))
	for i, l := range doraLevels {
		vs[i] = valueText{formatNumber(float64(l.code)), strings.ToUpper(l.name[:1]) + l.name[1:], l.color}
	}
	return valueMappings(vs...)
}

// repoLegend names a series by its repository, and by its source too when
// several sources are shown.
const repoLegend = "{{repo}}{{team}} ({{source}})"

// doraRow is the DORA row; its sparklines and time series read with tr.
func doraRow(b *dashboard.DashboardBuilder, tr reader) *dashboard.DashboardBuilder {
	b = b.WithRow(dashboard.NewRowBuilder("DORA four keys"))
	keyStat := func(title, description, unitName, expr string) *dashboard.DashboardBuilder {
		return b.WithPanel(newStat(title, description, 6, 5).
			TextMode(common.BigValueTextModeValueAndName).Unit(unitName).ColorScheme(fixedScheme("text")).
			GraphMode(common.BigValueGraphModeArea).
			WithTarget(rangeQuery("A", expr, repoLegend)))
	}
	b = keyStat("Deployment frequency", "Successful production deployments per day in the window.", "suffix: /day",
		tr.delivery("okrd_github_deployment_frequency_per_day", "source, repo, team", repoM, teamM, windowM))
	b = keyStat("Lead time for changes", "First commit to deploy of the pull requests deployed in the window, at the chosen quantile.", "s",
		tr.delivery("okrd_github_lead_time_for_changes_seconds", "source, repo, team", repoM, teamM, windowM, quantileM))
	b = keyStat("Change failure rate", "Failed changes over all deployments in the window.", "percentunit",
		tr.delivery("okrd_github_change_failure_ratio", "source, repo, team", repoM, teamM, windowM))
	b = keyStat("Time to restore service", "Opened to closed of the incidents closed in the window, at the chosen quantile.", "s",
		tr.delivery("okrd_github_time_to_restore_seconds", "source, repo, team", repoM, teamM, windowM, quantileM))

	levels := newStat("DORA performance levels",
		"The 2023 DORA report's level of each key (lead time and time to restore judged by their median).", fullWidth, 4).
		TextMode(common.BigValueTextModeValueAndName).ColorMode(common.BigValueColorModeBackground).
		Mappings(levelMappings()).
		ColorScheme(dashboard.NewFieldColorBuilder().Mode(dashboard.FieldColorModeIdThresholds)).
		Thresholds(thresholds("red", step{2, "orange"}, step{3, "yellow"}, step{4, "green"})).
		WithTarget(instantQuery("A", levelCode(srcM, repoM, teamM, windowM), "{{key}}: {{repo}}"))
	b = b.WithPanel(levels)

	b = b.WithPanel(newTimeseries("Deployments", "Successful and failed deployments, and failed changes, in the window ending at each moment.", 12, 8).
		Unit("short").Min(0).
		WithTarget(rangeQuery("succeeded", tr.delivery("okrd_github_deployments", "source, repo, team", repoM, teamM, windowM), "succeeded "+repoLegend)).
		WithTarget(rangeQuery("failed", tr.delivery("okrd_github_failed_deployments", "source, repo, team", repoM, teamM, windowM), "failed "+repoLegend)).
		WithTarget(rangeQuery("failures", tr.delivery("okrd_github_change_failures", "source, repo, team", repoM, teamM, windowM), "failed changes "+repoLegend)))
	b = b.WithPanel(newTimeseries("Lead time for changes and time to restore", "At the chosen quantile, over the window ending at each moment.", 12, 8).
		Unit("s").Min(0).
		WithTarget(rangeQuery("lead", tr.delivery("okrd_github_lead_time_for_changes_seconds", "source, repo, team", repoM, teamM, windowM, quantileM), "lead time "+repoLegend)).
		WithTarget(rangeQuery("restore", tr.delivery("okrd_github_time_to_restore_seconds", "source, repo, team", repoM, teamM, windowM, quantileM), "time to restore "+repoLegend)))
	return b.WithPanel(doraTable())
}

// doraTable compares the repositories: one line each (and one for each
// source as a whole), whatever the repository variable.
func doraTable() *table.PanelBuilder {
	t := newTable("Four keys by repository", "The window and quantile chosen above; \"all\" is the whole source.", fullWidth, 8).
		WithTarget(tableQuery("frequency", deliverySeries("okrd_github_deployment_frequency_per_day", "source, repo", windowM))).
		WithTarget(tableQuery("lead", deliverySeries("okrd_github_lead_time_for_changes_seconds", "source, repo", windowM, quantileM))).
		WithTarget(tableQuery("cfr", deliverySeries("okrd_github_change_failure_ratio", "source, repo", windowM))).
		WithTarget(tableQuery("restore", deliverySeries("okrd_github_time_to_restore_seconds", "source, repo", windowM, quantileM))).
		WithTarget(tableQuery("deployments", deliverySeries("okrd_github_deployments", "source, repo", windowM)))
	return mergedTable(t,
		[]string{"source", "repo", "Value #frequency", "Value #lead", "Value #cfr", "Value #restore", "Value #deployments"},
		map[string]any{
			"source": "Source", "repo": "Repository", "Value #frequency": "Deployments per day", "Value #lead": "Lead time",
			"Value #cfr": "Change failure rate", "Value #restore": "Time to restore", "Value #deployments": "Deployments",
		}, "Repository", false).
		OverrideByName("Lead time", []dashboard.DynamicConfigValue{unit("s")}).
		OverrideByName("Time to restore", []dashboard.DynamicConfigValue{unit("s")}).
		OverrideByName("Change failure rate", []dashboard.DynamicConfigValue{unit("percentunit")}).
		OverrideByName("Deployments per day", []dashboard.DynamicConfigValue{prop("decimals", 2)})
}

// mergedTable joins the table's instant queries on their common labels,
// orders the columns, renames them and sorts by one (descending if desc).
func mergedTable(t *table.PanelBuilder, columns []string, rename map[string]any, sortBy string, desc bool) *table.PanelBuilder {
	index := map[string]any{}
	for i, c := range columns {
		index[c] = i
	}
	return t.Transformations([]dashboard.DataTransformerConfig{
		{Id: "merge", Options: map[string]any{}},
		{Id: "organize", Options: map[string]any{
			"excludeByName": map[string]any{"Time": true},
			"indexByName":   index,
			"renameByName":  rename,
		}},
	}).SortBy([]cog.Builder[common.TableSortByFieldState]{
		common.NewTableSortByFieldStateBuilder().DisplayName(sortBy).Desc(desc),
	})
}

func pullRequestRow(b *dashboard.DashboardBuilder, tr reader) *dashboard.DashboardBuilder {
	b = b.WithRow(dashboard.NewRowBuilder("Pull requests"))
	prStat := func(title, description, unitName, expr string) *stat.PanelBuilder {
		return newStat(title, description, 4, 5).
			TextMode(common.BigValueTextModeValueAndName).Unit(unitName).ColorScheme(fixedScheme("text")).
			WithTarget(instantQuery("A", expr, repoLegend))
	}
	b = b.WithPanel(prStat("Merged", "Pull requests merged into any branch in the window.", "none",
		deliverySeries("okrd_github_pull_requests_merged", "source, repo, team", repoM, teamM, windowM))).
		WithPanel(prStat("Cycle time", "Opened to merged, of the pull requests merged in the window, at the chosen quantile.", "s",
			deliverySeries("okrd_github_pull_request_cycle_time_seconds", "source, repo, team", repoM, teamM, windowM, quantileM))).
		WithPanel(prStat("Time to first review", "Opened to the first review by someone else, at the chosen quantile.", "s",
			deliverySeries("okrd_github_time_to_first_review_seconds", "source, repo, team", repoM, teamM, windowM, quantileM))).
		WithPanel(prStat("Size", "Lines added and deleted, of the pull requests merged in the window, at the chosen quantile.", "suffix: lines",
			deliverySeries("okrd_github_pull_request_size_lines", "source, repo, team", repoM, teamM, windowM, quantileM))).
		WithPanel(prStat("Open", "Open pull requests, drafts included, at the last poll.", "none",
			deliverySeries("okrd_github_open_pull_requests", "source, repo, team", repoM, teamM))).
		WithPanel(prStat("Oldest open", "Age of the oldest open pull request.", "s",
			deliverySeries("okrd_github_oldest_open_pull_request_age_seconds", "source, repo, team", repoM, teamM)))
	b = b.WithPanel(newTimeseries("Cycle time and time to first review", "At the chosen quantile, over the window ending at each moment.", 12, 8).
		Unit("s").Min(0).
		WithTarget(rangeQuery("cycle", tr.delivery("okrd_github_pull_request_cycle_time_seconds", "source, repo, team", repoM, teamM, windowM, quantileM), "cycle time "+repoLegend)).
		WithTarget(rangeQuery("review", tr.delivery("okrd_github_time_to_first_review_seconds", "source, repo, team", repoM, teamM, windowM, quantileM), "first review "+repoLegend)))
	b = b.WithPanel(newTimeseries("Merged and open pull requests", "Merged in the window ending at each moment, and open at each poll.", 12, 8).
		Unit("short").Min(0).
		WithTarget(rangeQuery("merged", tr.delivery("okrd_github_pull_requests_merged", "source, repo, team", repoM, teamM, windowM), "merged "+repoLegend)).
		WithTarget(rangeQuery("open", tr.delivery("okrd_github_open_pull_requests", "source, repo, team", repoM, teamM), "open "+repoLegend)))
	return b
}

// scopeLegend names a series by its project or board scope.
const scopeLegend = "{{scope}}{{team}} ({{source}})"

func jiraFlowRow(b *dashboard.DashboardBuilder, tr reader) *dashboard.DashboardBuilder {
	b = b.WithRow(dashboard.NewRowBuilder("Jira flow"))
	flowStat := func(title, description, unitName, expr string) *stat.PanelBuilder {
		return newStat(title, description, 4, 5).
			TextMode(common.BigValueTextModeValueAndName).Unit(unitName).ColorScheme(fixedScheme("text")).
			WithTarget(instantQuery("A", expr, scopeLegend))
	}
	allTypes := eq("issue_type", wholeSource)
	b = b.WithPanel(flowStat("Throughput", "Issues done in the window.", "none",
		deliverySeries("okrd_jira_throughput", "source, scope, team", projectM, teamM, allTypes, windowM))).
		WithPanel(flowStat("Inflow", "Issues created in the window.", "none",
			deliverySeries("okrd_jira_inflow", "source, scope, team", projectM, teamM, allTypes, windowM))).
		WithPanel(flowStat("Lead time", "Created to done, of the issues done in the window, at the chosen quantile.", "s",
			deliverySeries("okrd_jira_lead_time_seconds", "source, scope, team", projectM, teamM, windowM, quantileM))).
		WithPanel(flowStat("Cycle time", "Started to done, of the issues done in the window, at the chosen quantile.", "s",
			deliverySeries("okrd_jira_cycle_time_seconds", "source, scope, team", projectM, teamM, windowM, quantileM))).
		WithPanel(flowStat("Work in progress", "Issues in progress at the last poll.", "none",
			deliverySeries("okrd_jira_wip", "source, scope, team", projectM, teamM))).
		WithPanel(flowStat("Oldest work in progress", "Age of the oldest issue in progress.", "s",
			deliverySeries("okrd_jira_wip_age_max_seconds", "source, scope, team", projectM, teamM)))
	b = b.WithPanel(newBarGauge("Throughput by issue type", "Issues done in the window, by type.", 8, 8).
		Unit("none").Min(0).ColorScheme(fixedScheme("blue")).
		WithTarget(instantQuery("A", deliverySeries("okrd_jira_throughput", "source, scope, team, issue_type", projectM, teamM, windowM, ne("issue_type", wholeSource)), "{{issue_type}} {{scope}}{{team}}")))
	b = b.WithPanel(newTimeseries("Lead time and cycle time", "At the chosen quantile, over the window ending at each moment.", 8, 8).
		Unit("s").Min(0).
		WithTarget(rangeQuery("lead", tr.delivery("okrd_jira_lead_time_seconds", "source, scope, team", projectM, teamM, windowM, quantileM), "lead time "+scopeLegend)).
		WithTarget(rangeQuery("cycle", tr.delivery("okrd_jira_cycle_time_seconds", "source, scope, team", projectM, teamM, windowM, quantileM), "cycle time "+scopeLegend)))
	b = b.WithPanel(newTimeseries("Throughput and work in progress", "Done in the window ending at each moment, and in progress at each poll.", 8, 8).
		Unit("short").Min(0).
		WithTarget(rangeQuery("throughput", tr.delivery("okrd_jira_throughput", "source, scope, team", projectM, teamM, allTypes, windowM), "done "+scopeLegend)).
		WithTarget(rangeQuery("wip", tr.delivery("okrd_jira_wip", "source, scope, team", projectM, teamM), "in progress "+scopeLegend)))

	t := newTable("Flow by project and board", "Every scope of the jira sources: \"all\" is the whole source, board:N a board's filter.", fullWidth, 8).
		WithTarget(tableQuery("throughput", deliverySeries("okrd_jira_throughput", "source, scope", allTypes, windowM))).
		WithTarget(tableQuery("lead", deliverySeries("okrd_jira_lead_time_seconds", "source, scope", windowM, quantileM))).
		WithTarget(tableQuery("cycle", deliverySeries("okrd_jira_cycle_time_seconds", "source, scope", windowM, quantileM))).
		WithTarget(tableQuery("wip", deliverySeries("okrd_jira_wip", "source, scope")))
	t = mergedTable(t,
		[]string{"source", "scope", "Value #throughput", "Value #lead", "Value #cycle", "Value #wip"},
		map[string]any{
			"source": "Source", "scope": "Scope", "Value #throughput": "Throughput", "Value #lead": "Lead time",
			"Value #cycle": "Cycle time", "Value #wip": "Work in progress",
		}, "Scope", false).
		OverrideByName("Lead time", []dashboard.DynamicConfigValue{unit("s")}).
		OverrideByName("Cycle time", []dashboard.DynamicConfigValue{unit("s")})
	return b.WithPanel(t)
}

// sprintLegend names a sprint.
const sprintLegend = "{{sprint_name}}"

func sprintRow(b *dashboard.DashboardBuilder) *dashboard.DashboardBuilder {
	b = b.WithRow(dashboard.NewRowBuilder("Sprints"))
	sprint := "source, board, sprint, sprint_name"
	sayDo := func(by string) string {
		return deliverySeries("okrd_jira_sprint_say_do_ratio", sprint, boardM, eq("by", by))
	}
	b = b.WithPanel(newStat("Say/do ratio", "Committed issues completed over committed, over the board's latest closed sprints.", 6, 8).
		TextMode(common.BigValueTextModeValueAndName).Unit("percentunit").
		ColorScheme(dashboard.NewFieldColorBuilder().Mode(dashboard.FieldColorModeIdThresholds)).
		Thresholds(thresholds("red", step{0.6, "orange"}, step{0.8, "green"})).
		WithTarget(instantQuery("A", "avg by (source, board) ("+sayDo("issues")+")", "board {{board}}")))
	b = b.WithPanel(newBarGauge("Say/do ratio by sprint", "Committed issues completed over committed, per closed sprint.", 9, 8).
		Unit("percentunit").Min(0).Max(1).
		ColorScheme(dashboard.NewFieldColorBuilder().Mode(dashboard.FieldColorModeIdThresholds)).
		Thresholds(thresholds("red", step{0.6, "orange"}, step{0.8, "green"})).
		WithTarget(instantQuery("A", sayDo("issues"), sprintLegend)))
	b = b.WithPanel(newBarGauge("Velocity", "Story points completed per closed sprint, committed or added.", 9, 8).
		Unit("none").Min(0).ColorScheme(fixedScheme("blue")).
		WithTarget(instantQuery("A", deliverySeries("okrd_jira_sprint_velocity_points", sprint, boardM), sprintLegend)))

	t := newTable("Sprints", "The latest closed sprints of each board: committed at the start, completed of those, added and removed during it.", fullWidth, 9).
		WithTarget(tableQuery("completed_at", deliverySeries("okrd_jira_sprint_completed_timestamp_seconds", sprint, boardM)+" * 1000")).
		WithTarget(tableQuery("committed", deliverySeries("okrd_jira_sprint_committed_issues", sprint, boardM))).
		WithTarget(tableQuery("completed", deliverySeries("okrd_jira_sprint_completed_issues", sprint, boardM))).
		WithTarget(tableQuery("added", deliverySeries("okrd_jira_sprint_added_issues", sprint, boardM))).
		WithTarget(tableQuery("removed", deliverySeries("okrd_jira_sprint_removed_issues", sprint, boardM))).
		WithTarget(tableQuery("saydo", sayDo("issues"))).
		WithTarget(tableQuery("saydo_points", sayDo("points"))).
		WithTarget(tableQuery("velocity", deliverySeries("okrd_jira_sprint_velocity_points", sprint, boardM)))
	t = mergedTable(t,
		[]string{"source", "board", "sprint_name", "Value #completed_at", "Value #committed", "Value #completed", "Value #added",
			"Value #removed", "Value #saydo", "Value #saydo_points", "Value #velocity", "sprint"},
		map[string]any{
			"source": "Source", "board": "Board", "sprint_name": "Sprint", "sprint": "Sprint id",
			"Value #completed_at": "Completed", "Value #committed": "Committed", "Value #completed": "Done of committed",
			"Value #added": "Added", "Value #removed": "Removed", "Value #saydo": "Say/do", "Value #saydo_points": "Say/do (points)",
			"Value #velocity": "Velocity (points)",
		}, "Completed", true).
		OverrideByName("Completed", []dashboard.DynamicConfigValue{unit("dateTimeAsIso")}).
		OverrideByName("Say/do", []dashboard.DynamicConfigValue{unit("percentunit")}).
		OverrideByName("Say/do (points)", []dashboard.DynamicConfigValue{unit("percentunit")})
	return b.WithPanel(t)
}
