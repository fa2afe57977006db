package dashboards

import (
	"fmt"
	"strings"
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/okr"
)

// overview is the OKR dashboard for leadership: a summary and a table of
// every objective (progress against expected, status, forecast, score),
// then a row per objective of the configuration with its key results
// (value against target, progress against expected, status, and the
// trajectory over the period with the expected line).
func overview(cfg *config.Config) *dashboard.DashboardBuilder {
	objs := cfg.Objectives
	b := newDashboard(OverviewUID, "OKR overview",
		"Objectives and key results measured by okrd: progress against where they should be by now, status, forecast and score.").
		Timezone(timezone(cfg))
	if from, to, ok := periodsSpan(objs); ok {
		b = b.Time(from, to)
	} else {
		b = b.Time("now-90d", "now")
	}
	// The filters list the values of both info series: a key result may
	// have its own team and owner.
	infos := re("__name__", "okr_objective_info|okr_key_result_info")
	b = b.
		WithVariable(labelVariable(varTeam, "Team", "Teams of the objectives and key results.",
			sel("", infos), "team")).
		WithVariable(labelVariable(varOwner, "Owner", "Owners of the objectives and key results.",
			sel("", infos, re("team", "$"+varTeam)), "owner")).
		WithVariable(labelVariable(varObjective, "Objective", "Objectives, by id.",
			sel("", infos, re("team", "$"+varTeam), re("owner", "$"+varOwner)), "objective"))

	b = b.Annotation(initiativeAnnotation())

	b = summaryPanels(b)
	tr := trajectory(cfg)
	b = b.WithPanel(objectivesTable(objs)).WithPanel(objectiveProgressPanel(tr))
	for _, o := range objs {
		b = objectiveRow(b, tr, o)
	}
	return b
}

// timezone is the dashboard's time zone: the configuration's, so that the
// period boundaries fall on midnight as okrd computes them.
func timezone(cfg *config.Config) string {
	if cfg.Global.TimeZone == "" || cfg.Global.TimeZone == "UTC" {
		return "utc"
	}
	return cfg.Global.TimeZone
}

// periodsSpan is the time range from the earliest period start to the
// latest period end of the objectives, as Grafana's absolute times: the
// trajectories then show the whole period, the part still to come
// included.
func periodsSpan(objs []*config.Objective) (from, to string, ok bool) {
	var start, end time.Time
	for _, o := range objs {
		if start.IsZero() || o.Resolved.Start.Before(start) {
			start = o.Resolved.Start
		}
		if o.Resolved.End.After(end) {
			end = o.Resolved.End
		}
	}
	if start.IsZero() || !end.After(start) {
		return "", "", false
	}
	const grafanaTime = "2006-01-02T15:04:05.000Z"
	return start.UTC().Format(grafanaTime), end.UTC().Format(grafanaTime), true
}

// summaryPanels are the counts at the top: objectives and key results by
// status, stale key results, and the time left.
func summaryPanels(b *dashboard.DashboardBuilder) *dashboard.DashboardBuilder {
	objByStatus := newStat("Objectives by status", "How many objectives are in each status.", 8, 5).
		TextMode(common.BigValueTextModeValueAndName).Unit("none").
		WithTarget(instantQuery("A", "count by (status) ("+instant.forObjectives("max by (objective, status) (okr_objective_status) == 1")+")", "{{status}}"))
	krByStatus := newStat("Key results by status", "How many key results are in each status.", 8, 5).
		TextMode(common.BigValueTextModeValueAndName).Unit("none").
		WithTarget(instantQuery("A", "count by (status) ("+instant.forKeyResults("max by (objective, key_result, status) (okr_key_result_status) == 1")+")", "{{status}}"))
	for _, s := range statuses {
		objByStatus = objByStatus.OverrideByName(string(s.name), []dashboard.DynamicConfigValue{displayName(s.text), fixedColor(s.color)})
		krByStatus = krByStatus.OverrideByName(string(s.name), []dashboard.DynamicConfigValue{displayName(s.text), fixedColor(s.color)})
	}
	stale := newStat("Stale key results",
		"Key results whose value is older than their stale_after: their status is no_data until a new value arrives.", 4, 5).
		Unit("none").ColorScheme(dashboard.NewFieldColorBuilder().Mode(dashboard.FieldColorModeIdThresholds)).
		Thresholds(thresholds("green", step{1, "orange"})).
		WithTarget(instantQuery("A", "sum("+instant.forKeyResults("max by (objective, key_result) (okr_key_result_stale)")+")", "Stale"))
	left := newStat("Time left in the period",
		"Until the end of the latest period of the objectives shown.", 4, 5).
		Unit("dtdurations").ColorScheme(fixedScheme("text")).
		WithTarget(instantQuery("A", "clamp_min(max("+instant.forObjectives("max by (objective) (okr_objective_period_end_timestamp_seconds)")+") - time(), 0)", "Left"))
	return b.WithPanel(objByStatus).WithPanel(krByStatus).WithPanel(stale).WithPanel(left)
}

// objectivesTable lists every objective that passes the filters, one row
// each, by joining instant queries on the objective label.
func objectivesTable(objs []*config.Objective) *table.PanelBuilder {
	h := uint32(4 + len(objs))
	if h < 6 {
		h = 6
	}
	t := newTable("Objectives",
		"Progress is the weighted mean of the key results' progress; expected is where it should be by now; "+
			"forecast is where the key results' trends land at the period end; the score is the final grade once the period is over.",
		fullWidth, h).
		WithTarget(tableQuery("info", "max by (objective, title, team, owner, period) ("+instant.objectiveFilter()+")")).
		WithTarget(tableQuery("progress", instant.forObjectives("max by (objective) (okr_objective_progress_ratio)"))).
		WithTarget(tableQuery("status", instant.forObjectives(statusCode("okr_objective_status", "objective"))))
	if e := weightedMean(objs, instant.expectedTerm); e != "" {
		t = t.WithTarget(tableQuery("expected", instant.forObjectives(e)))
	}
	if f := weightedMean(objs, instant.forecastTerm); f != "" {
		t = t.WithTarget(tableQuery("forecast", instant.forObjectives(f)))
	}
	t = t.WithTarget(tableQuery("score", instant.forObjectives("max by (objective) (okr_objective_score)")))

	columns := []string{"title", "team", "owner", "period", "Value #progress", "Value #expected", "Value #status", "Value #forecast", "Value #score", "objective"}
	index := map[string]any{}
	for i, c := range columns {
		index[c] = i
	}
	t = t.Transformations([]dashboard.DataTransformerConfig{
		{Id: "merge", Options: map[string]any{}},
		{Id: "organize", Options: map[string]any{
			"excludeByName": map[string]any{"Time": true, "Value #info": true},
			"indexByName":   index,
			"renameByName": map[string]any{
				"title": "Objective", "team": "Team", "owner": "Owner", "period": "Period",
				"Value #progress": "Progress", "Value #expected": "Expected", "Value #status": "Status",
				"Value #forecast": "Forecast", "Value #score": "Score", "objective": "Id",
			},
		}},
	}).SortBy([]cog.Builder[common.TableSortByFieldState]{
		common.NewTableSortByFieldStateBuilder().DisplayName("Status").Desc(true),
	})
	// ratio returns a new slice each time: the overrides keep theirs.
	ratio := func(more ...dashboard.DynamicConfigValue) []dashboard.DynamicConfigValue {
		return append([]dashboard.DynamicConfigValue{unit("percentunit"), prop("min", 0), prop("max", 1)}, more...)
	}
	t = t.OverrideByName("Progress", ratio(cellType("gauge"), fixedColor("blue"))).
		OverrideByName("Expected", ratio(cellType("auto"))).
		OverrideByName("Forecast", ratio(cellType("auto"))).
		OverrideByName("Status", []dashboard.DynamicConfigValue{mappingsProp(statusMappings()), cellType("color-text")}).
		OverrideByName("Score", []dashboard.DynamicConfigValue{
			prop("decimals", 1), cellType("color-text"),
			thresholdsProp(thresholdsConfig("red", step{0.4, "orange"}, step{0.7, "green"})),
			prop("color", map[string]any{"mode": "thresholds"}),
		})
	return t
}

// objectiveProgressPanel draws every objective's progress, named by title.
// The title comes from one info series per objective (topk): over the
// trajectory's window an objective whose title changed has two, which
// would break the join.
func objectiveProgressPanel(tr reader) *timeseries.PanelBuilder {
	return newTimeseries("Objective progress", "Each objective's progress over time.", fullWidth, 8).
		Unit("percentunit").Min(0).Max(1).
		WithTarget(rangeQuery("A",
			"max by (objective) ("+tr.sel("okr_objective_progress_ratio")+") * on (objective) group_left (title) topk by (objective) (1, max by (objective, title) ("+tr.objectiveFilter()+"))",
			"{{title}}"))
}

// objectiveRow is the row of one objective: its progress, expected
// progress, forecast and status, then one line of panels per key result.
// The figures now read with instant, the trajectories with tr.
func objectiveRow(b *dashboard.DashboardBuilder, tr reader, o *config.Objective) *dashboard.DashboardBuilder {
	title := o.Title + " (" + o.Resolved.Name + ")"
	b = b.WithRow(dashboard.NewRowBuilder(title))
	objSel := eq("objective", o.ID)
	desc := strings.TrimSpace(fmt.Sprintf("%s Owner: %s. Team: %s. Period: %s.", o.Description, orNone(o.Owner), orNone(o.Team), o.Resolved.Name))

	objs := []*config.Objective{o}
	progressOf := func(r reader) string {
		return r.forObjectives("max by (objective) (" + r.sel("okr_objective_progress_ratio", objSel) + ")")
	}
	expectedOf := func(r reader) string { return r.forObjectives(weightedMean(objs, r.expectedTerm)) }
	progress, expected := progressOf(instant), expectedOf(instant)
	forecast := instant.forObjectives(weightedMean(objs, instant.forecastTerm))
	score := instant.forObjectives("max by (objective) (" + sel("okr_objective_score", objSel) + ")")

	numbers := newStat(o.Title, desc, 9, 5).
		TextMode(common.BigValueTextModeValueAndName).Unit("percentunit").Decimals(0).
		ColorScheme(fixedScheme("text")).
		WithTarget(instantQuery("progress", progress, "Progress")).
		WithTarget(instantQuery("expected", expected, "Expected by now")).
		WithTarget(instantQuery("forecast", forecast, "Forecast at period end")).
		WithTarget(instantQuery("score", score, "Score")).
		OverrideByName("Progress", []dashboard.DynamicConfigValue{fixedColor("blue")}).
		OverrideByName("Score", []dashboard.DynamicConfigValue{unit("none"), prop("decimals", 1)})
	st := newStat("Status", "The worst status of the objective's key results that have data.", 3, 5).
		Mappings(statusMappings()).ColorScheme(fixedScheme("text")).
		WithTarget(instantQuery("A", instant.forObjectives(statusCode("okr_objective_status", "objective", objSel)), "Status"))
	trend := newTimeseries("Progress against expected", "The objective's progress and where it should have been at each moment.", 12, 5).
		Unit("percentunit").Min(0).Max(1).
		WithTarget(rangeQuery("progress", progressOf(tr), "Progress")).
		WithTarget(rangeQuery("expected", expectedOf(tr), "Expected")).
		OverrideByName("Progress", []dashboard.DynamicConfigValue{fixedColor("blue")}).
		OverrideByName("Expected", []dashboard.DynamicConfigValue{fixedColor("text"), dashed()})
	b = b.WithPanel(numbers).WithPanel(st).WithPanel(trend)

	for _, kr := range o.KeyResults {
		b = keyResultPanels(b, tr, o, kr)
	}
	return b
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// keyResultPanels is the line of one key result: value against target,
// progress against expected, status, and the trajectory (read with tr).
func keyResultPanels(b *dashboard.DashboardBuilder, tr reader, o *config.Objective, kr *config.KeyResult) *dashboard.DashboardBuilder {
	u := krUnit(kr)
	one := func(metric string) string { return instant.forKeyResults(instant.maxKR(metric, o.ID, kr.ID)) }
	path := func(metric string) string { return tr.forKeyResults(tr.maxKR(metric, o.ID, kr.ID)) }
	maintain := kr.Engine.Direction == okr.Maintain
	desc := keyResultDescription(kr)

	value := newStat(kr.Title, desc, 6, 7).
		TextMode(common.BigValueTextModeValueAndName).Unit(u).ColorScheme(fixedScheme("text")).
		WithTarget(instantQuery("value", one("okr_key_result_value"), "Value"))
	if maintain {
		value = value.
			WithTarget(instantQuery("min", one("okr_key_result_band_min"), "Band from")).
			WithTarget(instantQuery("max", one("okr_key_result_band_max"), "Band to"))
	} else {
		value = value.WithTarget(instantQuery("target", one("okr_key_result_target"), "Target"))
	}
	value = value.WithTarget(instantQuery("forecast", one("okr_key_result_forecast_value"), "Forecast at period end")).
		OverrideByName("Value", []dashboard.DynamicConfigValue{fixedColor("blue")})

	progress := newGauge("Progress against expected",
		"Progress from baseline to target (for a band: 1 inside, 0 outside), and where it should be by now.", 4, 7).
		Unit("percentunit").Min(0).Max(1).Decimals(0).ColorScheme(fixedScheme("blue")).
		WithTarget(instantQuery("progress", one("okr_key_result_progress_ratio"), "Progress")).
		WithTarget(instantQuery("expected", one("okr_key_result_expected_progress_ratio"), "Expected")).
		OverrideByName("Expected", []dashboard.DynamicConfigValue{fixedColor("text")})

	st := newStat("Status", "Status, and when the value was last measured.", 3, 7).
		TextMode(common.BigValueTextModeValue).Orientation(common.VizOrientationHorizontal).
		ColorScheme(fixedScheme("text")).
		WithTarget(instantQuery("status", instant.forKeyResults(statusCode("okr_key_result_status", "objective, key_result",
			eq("objective", o.ID), eq("key_result", kr.ID))), "Status")).
		WithTarget(instantQuery("updated", instant.forKeyResults(instant.maxKR("okr_key_result_last_updated_timestamp_seconds", o.ID, kr.ID)+" * 1000"), "Updated")).
		OverrideByQuery("status", []dashboard.DynamicConfigValue{mappingsProp(statusMappings())}).
		OverrideByQuery("updated", []dashboard.DynamicConfigValue{unit("dateTimeFromNow")})

	trend := newTimeseries(kr.Title+": trajectory", "The value over the period, against the target and the expected trajectory.", 11, 7).
		Unit(u).
		WithTarget(rangeQuery("value", path("okr_key_result_value"), "Value"))
	if maintain {
		trend = trend.
			WithTarget(rangeQuery("min", path("okr_key_result_band_min"), "Band from")).
			WithTarget(rangeQuery("max", path("okr_key_result_band_max"), "Band to")).
			OverrideByName("Band from", []dashboard.DynamicConfigValue{fixedColor("green"), dashed()}).
			OverrideByName("Band to", []dashboard.DynamicConfigValue{fixedColor("green"), dashed()})
	} else {
		trend = trend.
			WithTarget(rangeQuery("target", path("okr_key_result_target"), "Target")).
			WithTarget(rangeQuery("expected", tr.forKeyResults(tr.expectedValue(o.ID, kr.ID)), "Expected")).
			OverrideByName("Target", []dashboard.DynamicConfigValue{fixedColor("green"), dashed()}).
			OverrideByName("Expected", []dashboard.DynamicConfigValue{fixedColor("text"), dashed()})
	}
	trend = trend.WithTarget(rangeQuery("forecast", path("okr_key_result_forecast_value"), "Forecast at period end")).
		OverrideByName("Value", []dashboard.DynamicConfigValue{fixedColor("blue")}).
		OverrideByName("Forecast at period end", []dashboard.DynamicConfigValue{fixedColor("purple"), dotted()})
	return b.WithPanel(value).WithPanel(progress).WithPanel(st).WithPanel(trend)
}

// keyResultDescription says what the key result measures, for the panel's
// tooltip.
func keyResultDescription(kr *config.KeyResult) string {
	parts := []string{}
	if kr.Description != "" {
		parts = append(parts, strings.TrimSpace(kr.Description))
	}
	e := kr.Engine
	switch e.Direction {
	case okr.Maintain:
		parts = append(parts, fmt.Sprintf("Stay between %s and %s.", formatNumber(e.Min), formatNumber(e.Max)))
	default:
		parts = append(parts, fmt.Sprintf("From %s to %s.", formatNumber(e.Baseline), formatNumber(e.Target)))
	}
	src := "manual check-ins"
	if kr.Source != "" {
		src = "source " + kr.Source
		if kr.Metric != "" {
			src += ", metric " + kr.Metric
		}
	}
	parts = append(parts, "Owner: "+orNone(kr.Owner)+". Measured by "+src+".")
	return strings.Join(parts, " ")
}
