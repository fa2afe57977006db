package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/table"

	"github.com/okrd/okrd/config"
)

// health is okrd's own dashboard for operators: are the sources answering,
// when did each last sync, how much API budget is left, what fails, and
// whether notifications get out.
func health(*config.Config) *dashboard.DashboardBuilder {
	src := re("source", "$"+varSource)
	b := newDashboard(HealthUID, "okrd health",
		"okrd's own health: sources up, last successful sync, API budget, errors by source, notifications, evaluation.").
		Time("now-24h", "now").Timezone(common.TimeZoneBrowser).
		WithVariable(labelVariable(varSource, "Source", "Sources of the configuration.", "okrd_source_up", "source"))

	// Sources.
	b = b.WithRow(dashboard.NewRowBuilder("Sources")).
		WithPanel(newStat("Sources up", "Sources whose last poll succeeded, out of all sources.", 4, 5).
			TextMode(common.BigValueTextModeValueAndName).Unit("none").ColorScheme(fixedScheme("text")).
			WithTarget(instantQuery("up", "sum(max by (source) ("+sel("okrd_source_up", src)+"))", "Up")).
			WithTarget(instantQuery("all", "count(max by (source) ("+sel("okrd_source_up", src)+"))", "Sources"))).
		WithPanel(newStat("Source status",
			"Whether each source's last poll succeeded, or whether its first poll since it started (often a long backfill) is still running.", 20, 5).
			TextMode(common.BigValueTextModeValueAndName).ColorMode(common.BigValueColorModeBackground).
			Mappings(valueMappings(valueText{"1", "up", "green"}, valueText{"0", "down", "red"}, valueText{"2", "first sync", "blue"})).
			ColorScheme(dashboard.NewFieldColorBuilder().Mode(dashboard.FieldColorModeIdThresholds)).
			Thresholds(thresholds("red", step{1, "green"}, step{2, "blue"})).
			// okrd_source_up is 0 during the first sync: 2 marks it.
			WithTarget(instantQuery("A", "max by (source) ("+sel("okrd_source_up", src)+") + 2 * max by (source) ("+
				sel("okrd_source_initial_sync_in_progress", src)+")", "{{source}}"))).
		WithPanel(sourcesTable(src)).
		WithPanel(newTimeseries("Time since the last successful sync",
			"How old the data of each source is. It grows between polls and drops at each successful one.", 12, 8).
			Unit("s").Min(0).
			WithTarget(rangeQuery("A", "time() - max by (source) ("+sel("okrd_source_last_success_timestamp_seconds", src)+")", "{{source}}"))).
		WithPanel(newTimeseries("Poll duration", "How long each source's last poll took.", 12, 8).
			Unit("s").Min(0).
			WithTarget(rangeQuery("A", "max by (source) ("+sel("okrd_source_poll_duration_seconds", src)+")", "{{source}}")))

	// API budget and requests.
	remaining := "max by (source, resource) (" + sel("okrd_source_rate_limit_remaining", src) + ")"
	limit := "max by (source, resource) (" + sel("okrd_source_rate_limit_limit", src) + ")"
	b = b.WithRow(dashboard.NewRowBuilder("API budget and requests")).
		WithPanel(newBarGauge("API budget left",
			"Share of the rate-limit window left, as each API last reported it.", 8, 8).
			Unit("percentunit").Min(0).Max(1).
			ColorScheme(dashboard.NewFieldColorBuilder().Mode(dashboard.FieldColorModeIdThresholds)).
			Thresholds(thresholds("red", step{0.1, "orange"}, step{0.25, "green"})).
			WithTarget(instantQuery("A", remaining+" / "+limit, "{{source}} {{resource}}"))).
		WithPanel(newTimeseries("API budget remaining", "Requests (or points) left in the current rate-limit window.", 8, 8).
			Unit("short").Min(0).
			WithTarget(rangeQuery("A", remaining, "{{source}} {{resource}}"))).
		WithPanel(newTimeseries("API requests by status code", "Requests per second each source makes, by HTTP status code.", 8, 8).
			Unit("reqps").Min(0).
			WithTarget(rangeQuery("A", "sum by (source, code) (rate("+sel("okrd_source_requests_total", src)+"[$__rate_interval]))", "{{source}} {{code}}")))

	// Errors.
	b = b.WithRow(dashboard.NewRowBuilder("Errors")).
		WithPanel(newTimeseries("Failed polls per hour", "Polls that failed, by source. The log names the cause.", 8, 8).
			Unit("short").Min(0).
			WithTarget(rangeQuery("A", "sum by (source) (rate("+sel("okrd_source_polls_total", src, eq("result", "failure"))+"[$__rate_interval])) * 3600", "{{source}}"))).
		WithPanel(newTimeseries("Failed API requests", "Requests per second that got no 2xx or 3xx answer (\"error\": no answer at all).", 8, 8).
			Unit("reqps").Min(0).
			WithTarget(rangeQuery("A", "sum by (source, code) (rate("+sel("okrd_source_requests_total", src, nre("code", "2..|3.."))+"[$__rate_interval]))", "{{source}} {{code}}"))).
		WithPanel(newTimeseries("Key result measure errors per hour",
			"Failed attempts to measure a key result from its source; the key result keeps its last value.", 8, 8).
			Unit("short").Min(0).
			WithTarget(rangeQuery("A", "sum by (source, objective, key_result) (rate("+sel("okrd_key_result_measure_errors_total", src)+"[$__rate_interval])) * 3600", "{{objective}}/{{key_result}}"))).
		WithPanel(queriesTable(src))

	// Notifications.
	b = b.WithRow(dashboard.NewRowBuilder("Notifications")).
		WithPanel(newStat("Notifications", "Notifications handed to receivers in the time range (failed ones included).", 6, 5).
			Unit("none").ColorScheme(fixedScheme("text")).
			WithTarget(instantQuery("A", "sum(increase(okrd_notifications_total[$__range]))", "Attempted"))).
		WithPanel(newStat("Failed notifications", "Notifications that failed after their last retry, in the time range.", 6, 5).
			Unit("none").ColorScheme(dashboard.NewFieldColorBuilder().Mode(dashboard.FieldColorModeIdThresholds)).
			Thresholds(thresholds("green", step{1, "red"})).
			WithTarget(instantQuery("A", "sum(increase(okrd_notifications_failed_total[$__range]))", "Failed"))).
		WithPanel(newStat("Queued notifications", "Notifications decided but not yet accepted by their receiver.", 6, 5).
			Unit("none").ColorScheme(dashboard.NewFieldColorBuilder().Mode(dashboard.FieldColorModeIdThresholds)).
			Thresholds(thresholds("green", step{1, "orange"})).
			WithTarget(instantQuery("A", "max(okrd_notifications_queued)", "Queued"))).
		WithPanel(newStat("Alerts", "Alerts of the built-in alerting: pending (the condition holds, not yet for long enough) and firing.", 6, 5).
			TextMode(common.BigValueTextModeValueAndName).Unit("none").ColorScheme(fixedScheme("text")).
			WithTarget(instantQuery("A", "max by (state) (okrd_alerts)", "{{state}}")).
			OverrideByName("firing", []dashboard.DynamicConfigValue{fixedColor("red")}).
			OverrideByName("pending", []dashboard.DynamicConfigValue{fixedColor("orange")})).
		WithPanel(newTimeseries("Notifications per hour", "Notifications by receiver and integration.", 8, 7).
			Unit("short").Min(0).
			WithTarget(rangeQuery("A", "sum by (receiver, integration) (rate(okrd_notifications_total[$__rate_interval])) * 3600", "{{receiver}} ({{integration}})"))).
		WithPanel(newTimeseries("Failed notifications per hour", "Failed notifications by receiver and the reason of the last attempt.", 8, 7).
			Unit("short").Min(0).
			WithTarget(rangeQuery("A", "sum by (receiver, reason) (rate(okrd_notifications_failed_total[$__rate_interval])) * 3600", "{{receiver}}: {{reason}}"))).
		WithPanel(newTimeseries("Alerts", "Pending and firing alerts over time.", 8, 7).
			Unit("short").Min(0).
			WithTarget(rangeQuery("A", "max by (state) (okrd_alerts)", "{{state}}")))

	// okrd itself.
	b = b.WithRow(dashboard.NewRowBuilder("okrd")).
		// Replicas on one PostgreSQL database elect one leader, which
		// polls, alerts and reports (docs/ha.md): 0 leaders means nobody
		// does; 2 only for the moments a leader cut off from the database
		// takes to step down.
		WithPanel(newStat("Leader", "How many okrd replicas lead (poll the sources, alert, report): 1. With 0, nothing is polled until a replica wins the election; see docs/ha.md.", 3, 5).
			ColorMode(common.BigValueColorModeBackground).
			ColorScheme(dashboard.NewFieldColorBuilder().Mode(dashboard.FieldColorModeIdThresholds)).
			Thresholds(thresholds("red", step{1, "green"}, step{2, "red"})).
			WithTarget(instantQuery("A", "sum(okrd_leader)", "Leaders"))).
		WithPanel(newStat("Replicas", "okrd processes scraped: the leader and the replicas that follow it.", 3, 5).
			Unit("none").ColorScheme(fixedScheme("text")).
			WithTarget(instantQuery("A", "count(okrd_leader)", "Replicas"))).
		WithPanel(newStat("Configuration", "Whether the last (re)load of the configuration succeeded; after a failed reload the previous configuration stays in force.", 3, 5).
			ColorMode(common.BigValueColorModeBackground).Mappings(upMappings("loaded", "reload failed")).
			ColorScheme(dashboard.NewFieldColorBuilder().Mode(dashboard.FieldColorModeIdThresholds)).
			Thresholds(thresholds("red", step{1, "green"})).
			WithTarget(instantQuery("A", "min(okrd_config_last_reload_successful)", "Configuration"))).
		WithPanel(newStat("Configuration loaded", "When the configuration in force was loaded.", 3, 5).
			Unit("dateTimeFromNow").ColorScheme(fixedScheme("text")).
			WithTarget(instantQuery("A", "max(okrd_config_last_reload_success_timestamp_seconds) * 1000", "Loaded"))).
		WithPanel(newStat("Last evaluation", "When okrd last evaluated every key result.", 3, 5).
			Unit("dateTimeFromNow").ColorScheme(fixedScheme("text")).
			WithTarget(instantQuery("A", "max(okrd_last_evaluation_timestamp_seconds) * 1000", "Evaluated"))).
		WithPanel(newStat("Key results", "Key results in the configuration.", 3, 5).
			Unit("none").ColorScheme(fixedScheme("text")).
			WithTarget(instantQuery("A", "max(okrd_key_results)", "Key results"))).
		WithPanel(newStat("Check-ins", "Check-ins recorded through the API in the time range.", 3, 5).
			Unit("none").ColorScheme(fixedScheme("text")).
			WithTarget(instantQuery("A", "sum(increase(okrd_checkins_total[$__range]))", "Check-ins"))).
		WithPanel(newStat("Version", "The okrd version running.", 3, 5).
			TextMode(common.BigValueTextModeName).ColorScheme(fixedScheme("text")).
			WithTarget(instantQuery("A", "count by (version) (okrd_build_info)", "{{version}}"))).
		WithPanel(newTimeseries("Evaluation duration", "How long evaluating every key result took.", 12, 7).
			Unit("s").Min(0).
			WithTarget(rangeQuery("A", "max(okrd_evaluation_duration_seconds)", "Evaluation"))).
		WithPanel(newTimeseries("Memory", "Resident memory of each okrd process.", 12, 7).
			Unit("bytes").Min(0).
			WithTarget(rangeQuery("A", "process_resident_memory_bytes and on (job, instance) okrd_build_info", "{{instance}}")))

	// Data quality: the records that make figures incomplete
	// (docs/metrics.md, "Data quality"); the sources page says what each
	// check means and how to fix it.
	findings := "max by (source, check) (" + sel("okrd_data_quality_findings", src) + ")"
	b = b.WithRow(dashboard.NewRowBuilder("Data quality")).
		WithPanel(qualityTable(findings)).
		WithPanel(newTimeseries("Data-quality findings over time",
			"Findings of each check, by source: a count that keeps growing points at records a source does not send (a deploy job that posts no status, a workflow without an in-progress status).", 12, 8).
			Unit("none").Min(0).
			WithTarget(rangeQuery("A", findings, "{{source}} {{check}}")))
	return b
}

// qualityTable has a line per source and data-quality check with the
// records it finds at the last poll.
func qualityTable(findings string) *table.PanelBuilder {
	return newTable("Data-quality findings",
		"Records each source's data-quality checks find at its last poll (statuses for statuses_with_guessed_category). okrd's sources page says what each check means and how to fix it; docs/metrics.md defines them.",
		12, 8).
		WithTarget(tableQuery("findings", findings)).
		Transformations([]dashboard.DataTransformerConfig{
			{Id: "organize", Options: map[string]any{
				"excludeByName": map[string]any{"Time": true},
				"indexByName":   map[string]any{"source": 0, "check": 1, "Value": 2},
				"renameByName":  map[string]any{"source": "Source", "check": "Check", "Value": "Findings"},
			}},
		}).SortBy([]cog.Builder[common.TableSortByFieldState]{
		common.NewTableSortByFieldStateBuilder().DisplayName("Findings").Desc(true),
	}).
		OverrideByName("Findings", []dashboard.DynamicConfigValue{unit("none"), prop("decimals", 0), cellType("color-text"),
			thresholdsProp(thresholdsConfig("green", step{1, "orange"})), prop("color", map[string]any{"mode": "thresholds"})})
}

// sourcesTable has a line per source: type, up, last successful sync, the
// last poll's duration, failed polls, API budget and records stored.
func sourcesTable(src m) *table.PanelBuilder {
	t := newTable("Sources", "One line per source. The budget is the smallest share left of any of its rate limits.", fullWidth, 8).
		WithTarget(tableQuery("up", "max by (source, type) ("+sel("okrd_source_up", src)+")")).
		WithTarget(tableQuery("last", "max by (source) ("+sel("okrd_source_last_success_timestamp_seconds", src)+") * 1000")).
		WithTarget(tableQuery("duration", "max by (source) ("+sel("okrd_source_poll_duration_seconds", src)+")")).
		WithTarget(tableQuery("failures", "sum by (source) (increase("+sel("okrd_source_polls_total", src, eq("result", "failure"))+"[$__range]))")).
		WithTarget(tableQuery("budget", "min by (source) (max by (source, resource) ("+sel("okrd_source_rate_limit_remaining", src)+
			") / max by (source, resource) ("+sel("okrd_source_rate_limit_limit", src)+"))")).
		WithTarget(tableQuery("records", "sum by (source) (max by (source, kind) ("+sel("okrd_source_records", src)+"))"))
	columns := []string{"source", "type", "Value #up", "Value #last", "Value #duration", "Value #failures", "Value #budget", "Value #records"}
	index := map[string]any{}
	for i, c := range columns {
		index[c] = i
	}
	return t.Transformations([]dashboard.DataTransformerConfig{
		{Id: "merge", Options: map[string]any{}},
		{Id: "organize", Options: map[string]any{
			"excludeByName": map[string]any{"Time": true},
			"indexByName":   index,
			"renameByName": map[string]any{
				"source": "Source", "type": "Type", "Value #up": "Status", "Value #last": "Last successful sync",
				"Value #duration": "Last poll took", "Value #failures": "Failed polls", "Value #budget": "API budget left",
				"Value #records": "Records",
			},
		}},
	}).SortBy([]cog.Builder[common.TableSortByFieldState]{
		common.NewTableSortByFieldStateBuilder().DisplayName("Source"),
	}).
		OverrideByName("Status", []dashboard.DynamicConfigValue{mappingsProp(upMappings("up", "down")), cellType("color-text")}).
		OverrideByName("Last successful sync", []dashboard.DynamicConfigValue{unit("dateTimeFromNow")}).
		OverrideByName("Last poll took", []dashboard.DynamicConfigValue{unit("s")}).
		OverrideByName("Failed polls", []dashboard.DynamicConfigValue{unit("none"), prop("decimals", 0)}).
		OverrideByName("API budget left", []dashboard.DynamicConfigValue{unit("percentunit"), prop("min", 0), prop("max", 1),
			cellType("gauge"), thresholdsProp(thresholdsConfig("red", step{0.1, "orange"}, step{0.25, "green"})),
			prop("color", map[string]any{"mode": "thresholds"})}).
		OverrideByName("Records", []dashboard.DynamicConfigValue{unit("none")})
}

// queriesTable shows, for the sources that run a query per key result (sql,
// prometheus, http_json), whether each query succeeded at its last run.
func queriesTable(src m) *table.PanelBuilder {
	t := newTable("Key result queries",
		"For sources that run a query per key result (sql, prometheus, http_json): whether it succeeded at its last run, and how long it took.",
		fullWidth, 7).
		WithTarget(tableQuery("ok", "min by (source, objective, key_result) ("+sel("okrd_source_query_success", src)+")")).
		WithTarget(tableQuery("duration", "max by (source, objective, key_result) ("+sel("okrd_source_query_duration_seconds", src)+")"))
	return t.Transformations([]dashboard.DataTransformerConfig{
		{Id: "merge", Options: map[string]any{}},
		{Id: "organize", Options: map[string]any{
			"excludeByName": map[string]any{"Time": true},
			"indexByName":   map[string]any{"source": 0, "objective": 1, "key_result": 2, "Value #ok": 3, "Value #duration": 4},
			"renameByName": map[string]any{
				"source": "Source", "objective": "Objective", "key_result": "Key result",
				"Value #ok": "Last query", "Value #duration": "Took",
			},
		}},
	}).SortBy([]cog.Builder[common.TableSortByFieldState]{
		common.NewTableSortByFieldStateBuilder().DisplayName("Last query"),
	}).
		OverrideByName("Last query", []dashboard.DynamicConfigValue{mappingsProp(upMappings("ok", "failed")), cellType("color-text")}).
		OverrideByName("Took", []dashboard.DynamicConfigValue{unit("s")})
}
