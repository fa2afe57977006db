package dashboards

import "github.com/grafana/grafana-foundation-sdk/go/dashboard"

// initiativeAnnotation marks on the time series panels when the work of a
// key result's initiatives moved (an issue done, a pull request merged:
// okr_initiative_done changed), so that a reader sees whether the outcome
// moved after the work landed. It reads the dashboard's Prometheus, so it
// needs no plugin; the exact events, each at its own instant, are served
// by okrd's /api/v1/annotations (docs/dashboards.md, "Initiative
// annotations").
func initiativeAnnotation() *dashboard.AnnotationQueryBuilder {
	return dashboard.NewAnnotationQueryBuilder().
		Name("Initiative work landed").
		Datasource(datasource).
		Enable(true).
		IconColor("purple").
		Expr(`changes(okr_initiative_done{objective=~"$` + varObjective + `"}[$__interval]) > 0`).
		Step("5m").
		TitleFormat("{{initiative}}").
		TextFormat("Work of initiative {{initiative}} of key result {{key_result}} landed").
		TagKeys("objective,key_result,initiative")
}
