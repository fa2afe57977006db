package dashboards

import (
	"strconv"

	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/gauge"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"github.com/okrd/okrd/config"
)

// This file holds the few panel, query and variable shapes the dashboards
// are made of, so that every panel of a kind looks and behaves alike.

func ptr[T any](v T) *T { return &v }

// datasource is the $datasource variable every panel and variable queries.
var datasource = common.DataSourceRef{Type: ptr("prometheus"), Uid: ptr("${" + varDatasource + "}")}

// Grafana's width of a dashboard, in grid columns.
const fullWidth = 24

// rangeQuery is a query over the dashboard's time range (time series).
func rangeQuery(refID, expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Datasource(datasource).RefId(refID).Expr(expr).LegendFormat(legend).Range()
}

// instantQuery is a query at the end of the time range (stats, gauges).
func instantQuery(refID, expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Datasource(datasource).RefId(refID).Expr(expr).LegendFormat(legend).Instant()
}

// tableQuery is an instant query whose labels become table columns.
func tableQuery(refID, expr string) *prometheus.DataqueryBuilder {
	return instantQuery(refID, expr, "").Format(prometheus.PromQueryFormatTable)
}

// lastValue reduces a series to its last value that is not null.
func lastValue() *common.ReduceDataOptionsBuilder {
	return common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false)
}

func newStat(title, description string, w, h uint32) *stat.PanelBuilder {
	return stat.NewPanelBuilder().Title(title).Description(description).Datasource(datasource).
		Span(w).Height(h).ReduceOptions(lastValue()).
		GraphMode(common.BigValueGraphModeNone).ColorMode(common.BigValueColorModeValue).
		TextMode(common.BigValueTextModeAuto).JustifyMode(common.BigValueJustifyModeAuto).
		Orientation(common.VizOrientationAuto)
}

func newGauge(title, description string, w, h uint32) *gauge.PanelBuilder {
	return gauge.NewPanelBuilder().Title(title).Description(description).Datasource(datasource).
		Span(w).Height(h).ReduceOptions(lastValue()).Orientation(common.VizOrientationAuto).
		ShowThresholdMarkers(false).ShowThresholdLabels(false)
}

func newBarGauge(title, description string, w, h uint32) *bargauge.PanelBuilder {
	return bargauge.NewPanelBuilder().Title(title).Description(description).Datasource(datasource).
		Span(w).Height(h).ReduceOptions(lastValue()).Orientation(common.VizOrientationHorizontal).
		DisplayMode(common.BarGaugeDisplayModeBasic).ValueMode(common.BarGaugeValueModeColor).ShowUnfilled(true)
}

func newTimeseries(title, description string, w, h uint32) *timeseries.PanelBuilder {
	return timeseries.NewPanelBuilder().Title(title).Description(description).Datasource(datasource).
		Span(w).Height(h).LineWidth(2).FillOpacity(0).ShowPoints(common.VisibilityModeNever).
		SpanNulls(common.BoolOrFloat64{Bool: ptr(true)}).
		Legend(common.NewVizLegendOptionsBuilder().DisplayMode(common.LegendDisplayModeList).
			Placement(common.LegendPlacementBottom).ShowLegend(true)).
		Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderNone))
}

// newTable is a table without a footer. The footer is spelt out, with
// Grafana's own default reducer: the SDK's default leaves the reducer null,
// which Grafana's schema, a list of reducers, does not allow.
func newTable(title, description string, w, h uint32) *table.PanelBuilder {
	return table.NewPanelBuilder().Title(title).Description(description).Datasource(datasource).
		Span(w).Height(h).CellHeight(common.TableCellHeightSm).ShowHeader(true).
		Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{"sum"}).CountRows(false))
}

// Field properties for overrides.

func prop(id string, value any) dashboard.DynamicConfigValue {
	return dashboard.DynamicConfigValue{Id: id, Value: value}
}

func displayName(name string) dashboard.DynamicConfigValue { return prop("displayName", name) }
func unit(u string) dashboard.DynamicConfigValue           { return prop("unit", u) }

func fixedColor(color string) dashboard.DynamicConfigValue {
	return prop("color", map[string]any{"mode": "fixed", "fixedColor": color})
}

func dashed() dashboard.DynamicConfigValue {
	return prop("custom.lineStyle", map[string]any{"fill": "dash", "dash": []int{10, 10}})
}

func dotted() dashboard.DynamicConfigValue {
	return prop("custom.lineStyle", map[string]any{"fill": "dot", "dash": []int{0, 10}})
}

func cellType(typ string) dashboard.DynamicConfigValue {
	opts := map[string]any{"type": typ}
	if typ == "gauge" {
		opts["mode"] = "basic"
	}
	return prop("custom.cellOptions", opts)
}

func mappingsProp(ms []dashboard.ValueMapping) dashboard.DynamicConfigValue {
	return prop("mappings", ms)
}

func thresholdsProp(t dashboard.ThresholdsConfig) dashboard.DynamicConfigValue {
	return prop("thresholds", t)
}

// valueText maps exact values to a word and a colour.
type valueText struct {
	value string
	text  string
	color string
}

func valueMappings(vs ...valueText) []dashboard.ValueMapping {
	opts := make(map[string]dashboard.ValueMappingResult, len(vs))
	for i, v := range vs {
		opts[v.value] = dashboard.ValueMappingResult{Text: ptr(v.text), Color: ptr(v.color), Index: ptr(int32(i))}
	}
	return []dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{Type: dashboard.MappingTypeValueToText, Options: opts}}}
}

// statusMappings turn the codes of statusCode back into coloured words.
func statusMappings() []dashboard.ValueMapping {
	vs := make([]valueText, len(statuses))
	for i, s := range statuses {
		vs[i] = valueText{strconv.Itoa(s.code), s.text, s.color}
	}
	return valueMappings(vs...)
}

// upMappings show 1 as up and 0 as down.
func upMappings(up, down string) []dashboard.ValueMapping {
	return valueMappings(valueText{"1", up, "green"}, valueText{"0", down, "red"})
}

// step is a threshold: from value on, color.
type step struct {
	from  float64
	color string
}

// thresholds starts with base (from minus infinity) and then the steps.
func thresholds(base string, steps ...step) *dashboard.ThresholdsConfigBuilder {
	ts := []dashboard.Threshold{{Value: nil, Color: base}}
	for _, s := range steps {
		ts = append(ts, dashboard.Threshold{Value: ptr(s.from), Color: s.color})
	}
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(ts)
}

func thresholdsConfig(base string, steps ...step) dashboard.ThresholdsConfig {
	t, _ := thresholds(base, steps...).Build() // cannot fail: no validation on these fields
	return t
}

func fixedScheme(color string) *dashboard.FieldColorBuilder {
	return dashboard.NewFieldColorBuilder().Mode(dashboard.FieldColorModeIdFixed).FixedColor(color)
}

// Variables.

func datasourceVariable() *dashboard.DatasourceVariableBuilder {
	return dashboard.NewDatasourceVariableBuilder(varDatasource).Label("Data source").Type("prometheus").
		Description("The Prometheus that scrapes okrd.")
}

// queryVariable lists the values of a label of the series a selector
// matches, sorted, refreshed with the time range, several at a time.
func queryVariable(name, label, description, selector, labelName string) *dashboard.QueryVariableBuilder {
	q := "label_values(" + selector + ", " + labelName + ")"
	return dashboard.NewQueryVariableBuilder(name).Label(label).Description(description).
		Datasource(datasource).Query(dashboard.StringOrMap{String: ptr(q)}).Definition(q).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).Sort(dashboard.VariableSortAlphabeticalAsc).
		Multi(true)
}

// labelVariable is a queryVariable with an "All" choice, the default, that
// matches every value, the empty one included (a series without the
// label, such as an objective without a team).
func labelVariable(name, label, description, selector, labelName string) *dashboard.QueryVariableBuilder {
	return queryVariable(name, label, description, selector, labelName).
		IncludeAll(true).AllValue(".*").
		Current(dashboard.VariableOption{
			Selected: ptr(true),
			Text:     dashboard.StringOrArrayOfString{ArrayOfString: []string{"All"}},
			Value:    dashboard.StringOrArrayOfString{ArrayOfString: []string{"$__all"}},
		})
}

// links to the other okrd dashboards, carrying the time range and the
// variables along.
func dashboardLinks() *dashboard.DashboardLinkBuilder {
	return dashboard.NewDashboardLinkBuilder("okrd").Type(dashboard.DashboardLinkTypeDashboards).
		Tags([]string{tag}).AsDropdown(false).IncludeVars(true).KeepTime(true).Icon("external link").
		Tooltip("").TargetBlank(false)
}

// newDashboard has the settings every okrd dashboard shares.
func newDashboard(uid, title, description string) *dashboard.DashboardBuilder {
	return dashboard.NewDashboardBuilder(title).Uid(uid).Description(description).
		Tags([]string{tag}).Refresh("1m").Editable().
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Link(dashboardLinks()).
		WithVariable(datasourceVariable())
}

// krUnit is the Grafana unit of a key result's values.
func krUnit(kr *config.KeyResult) string {
	switch kr.Unit {
	case "ratio":
		return "percentunit"
	case "percent":
		return "percent"
	case "duration":
		return "s"
	case "currency":
		if grafanaCurrencies[kr.Currency] {
			return "currency" + kr.Currency
		}
		return "suffix: " + kr.Currency
	default:
		return "short"
	}
}

// grafanaCurrencies are the ISO 4217 codes with a Grafana currency unit;
// others are shown as a plain number with the code as a suffix.
var grafanaCurrencies = map[string]bool{
	"USD": true, "GBP": true, "EUR": true, "JPY": true, "RUB": true, "UAH": true, "BRL": true,
	"DKK": true, "ISK": true, "NOK": true, "SEK": true, "CZK": true, "CHF": true, "PLN": true,
	"ZAR": true, "INR": true, "KRW": true, "IDR": true, "PHP": true, "VND": true,
}
