package snapshot

import (
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/okr"
)

// family is one okr_* metric family: its name, help, label names, and a
// function that emits each of its series for a snapshot. Both the
// prometheus.Collector and the fast text encoder below are driven by this
// one table, so they cannot disagree.
type family struct {
	name   string
	help   string
	labels []string
	// each calls emit once per series of the objectives objs (and their
	// key results), in their order; lv, built in the scratch slice it is
	// given, holds the label values in the order of labels and is reused
	// between calls.
	each func(objs []*Objective, scratch []string, emit func(lv []string, v float64))
}

func krSource(kc *config.KeyResult) string {
	if kc.Source == "" {
		return "manual"
	}
	return kc.Source
}

// forKRs calls f for every key result of objs with lv prefilled with the
// objective and key result ids.
func forKRs(objs []*Objective, lv []string, f func(o *Objective, kr *KeyResult, lv []string)) {
	for _, o := range objs {
		for _, kr := range o.KeyResults {
			f(o, kr, append(lv[:0], o.Config.ID, kr.Config.ID))
		}
	}
}

func forObjectives(objs []*Objective, lv []string, f func(o *Objective, lv []string)) {
	for _, o := range objs {
		f(o, append(lv[:0], o.Config.ID))
	}
}

func boolf(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// krGauge is a family with one optional value per key result.
func krGauge(name, help string, value func(kr *KeyResult) (float64, bool)) family {
	return family{name: name, help: help, labels: []string{"objective", "key_result"},
		each: func(objs []*Objective, scratch []string, emit func([]string, float64)) {
			forKRs(objs, scratch, func(_ *Objective, kr *KeyResult, lv []string) {
				if v, ok := value(kr); ok {
					emit(lv, v)
				}
			})
		}}
}

func objGauge(name, help string, value func(o *Objective) (float64, bool)) family {
	return family{name: name, help: help, labels: []string{"objective"},
		each: func(objs []*Objective, scratch []string, emit func([]string, float64)) {
			forObjectives(objs, scratch, func(o *Objective, lv []string) {
				if v, ok := value(o); ok {
					emit(lv, v)
				}
			})
		}}
}

func isMaintain(kr *KeyResult) bool { return kr.Config.Engine.Direction == okr.Maintain }

// families lists every okr_* family, sorted by name (the order of the
// exposition).
var families = sortFamilies([]family{
	krGauge("okr_key_result_value", "Current value of the key result, in its base unit (seconds for durations).",
		func(kr *KeyResult) (float64, bool) { return kr.Result.Value, kr.Result.HasValue }),
	krGauge("okr_key_result_baseline", "Baseline (starting value) of an increase or decrease key result.",
		func(kr *KeyResult) (float64, bool) { return kr.Config.Engine.Baseline, !isMaintain(kr) }),
	krGauge("okr_key_result_target", "Target value of an increase or decrease key result.",
		func(kr *KeyResult) (float64, bool) { return kr.Config.Engine.Target, !isMaintain(kr) }),
	krGauge("okr_key_result_band_min", "Lower bound of the band a maintain key result must stay in.",
		func(kr *KeyResult) (float64, bool) { return kr.Config.Engine.Min, isMaintain(kr) }),
	krGauge("okr_key_result_band_max", "Upper bound of the band a maintain key result must stay in.",
		func(kr *KeyResult) (float64, bool) { return kr.Config.Engine.Max, isMaintain(kr) }),
	krGauge("okr_key_result_progress_ratio", "Progress from baseline to target, 0 to 1.",
		func(kr *KeyResult) (float64, bool) { return kr.Result.Progress, kr.Result.HasValue }),
	krGauge("okr_key_result_expected_progress_ratio", "Progress the key result should have made by now (linear or through its milestones), 0 to 1.",
		func(kr *KeyResult) (float64, bool) { return kr.Result.Expected, true }),
	krGauge("okr_key_result_forecast_value", "Least-squares forecast of the value at the end of the period.",
		func(kr *KeyResult) (float64, bool) { return kr.Result.Forecast, kr.Result.HasForecast }),
	krGauge("okr_key_result_forecast_progress_ratio", "Progress the forecast value would give at the end of the period, 0 to 1.",
		func(kr *KeyResult) (float64, bool) { return kr.Result.ForecastProgress, kr.Result.HasForecast }),
	krGauge("okr_key_result_last_updated_timestamp_seconds", "Time the current value was measured, as a Unix timestamp.",
		func(kr *KeyResult) (float64, bool) {
			return float64(kr.Result.ValueAt.UnixMilli()) / 1000, kr.Result.HasValue
		}),
	krGauge("okr_key_result_stale", "1 when the current value is older than the key result's stale_after.",
		func(kr *KeyResult) (float64, bool) { return boolf(kr.Stale), kr.Result.HasValue }),
	krGauge("okr_key_result_score", "Final grade of the key result (progress rounded to one decimal), once its period has ended.",
		func(kr *KeyResult) (float64, bool) { return kr.Result.Score, kr.Result.HasScore }),
	krGauge("okr_key_result_confidence", "Owner's latest confidence that the key result will land, 1 (it will not) to 10 (it will); absent when none was given.",
		func(kr *KeyResult) (float64, bool) {
			if kr.Confidence == nil {
				return 0, false
			}
			return float64(kr.Confidence.Value), true
		}),
	krGauge("okr_key_result_confidence_timestamp_seconds", "Time the latest confidence was given, as a Unix timestamp.",
		func(kr *KeyResult) (float64, bool) {
			if kr.Confidence == nil {
				return 0, false
			}
			return float64(kr.Confidence.At.UnixMilli()) / 1000, true
		}),
	krGauge("okr_key_result_tolerance_ratio", "Status tolerance of the key result: at risk below expected minus this, off track below expected minus twice this.",
		func(kr *KeyResult) (float64, bool) { return kr.Config.Engine.Tolerance, true }),
	{name: "okr_key_result_status", help: "Status of the key result: 1 for the current status, 0 for the others.",
		labels: []string{"objective", "key_result", "status"},
		each: func(objs []*Objective, scratch []string, emit func([]string, float64)) {
			forKRs(objs, scratch, func(_ *Objective, kr *KeyResult, lv []string) {
				for _, st := range okr.Statuses {
					emit(append(lv, string(st)), boolf(kr.Result.Status == st))
				}
			})
		}},
	{name: "okr_key_result_info", help: "Descriptive labels of the key result; the value is always 1.",
		labels: []string{"objective", "key_result", "title", "owner", "team", "unit", "source", "direction"},
		each: func(objs []*Objective, scratch []string, emit func([]string, float64)) {
			forKRs(objs, scratch, func(_ *Objective, kr *KeyResult, lv []string) {
				kc := kr.Config
				emit(append(lv, kc.Title, kc.Owner, kc.Team, kc.Unit, krSource(kc), string(kc.Engine.Direction)), 1)
			})
		}},
	objGauge("okr_objective_progress_ratio", "Weighted mean progress of the objective's key results (and child objectives when it rolls them up), 0 to 1.",
		func(o *Objective) (float64, bool) { return o.Result.Progress, true }),
	objGauge("okr_objective_period_start_timestamp_seconds", "Start of the objective's period, as a Unix timestamp.",
		func(o *Objective) (float64, bool) { return float64(o.Config.Resolved.Start.Unix()), true }),
	objGauge("okr_objective_period_end_timestamp_seconds", "End of the objective's period (exclusive), as a Unix timestamp.",
		func(o *Objective) (float64, bool) { return float64(o.Config.Resolved.End.Unix()), true }),
	objGauge("okr_objective_score", "Final grade of the objective, once its period has ended.",
		func(o *Objective) (float64, bool) { return o.Result.Score, o.Result.HasScore }),
	objGauge("okr_objective_expected_progress_ratio", "Weighted mean expected progress of the objective's key results (and child objectives when it rolls them up), 0 to 1.",
		func(o *Objective) (float64, bool) { return o.Result.Expected, true }),
	{name: "okr_objective_status", help: "Status of the objective (the worst of its key results, or its progress against the expected progress when it rolls up its children): 1 for the current status, 0 for the others.",
		labels: []string{"objective", "status"},
		each: func(objs []*Objective, scratch []string, emit func([]string, float64)) {
			forObjectives(objs, scratch, func(o *Objective, lv []string) {
				for _, st := range okr.Statuses {
					emit(append(lv, string(st)), boolf(o.Result.Status == st))
				}
			})
		}},
	{name: "okr_objective_info", help: "Descriptive labels of the objective; the value is always 1.",
		labels: []string{"objective", "title", "owner", "team", "period", "parent", "progress_from"},
		each: func(objs []*Objective, scratch []string, emit func([]string, float64)) {
			forObjectives(objs, scratch, func(o *Objective, lv []string) {
				oc := o.Config
				emit(append(lv, oc.Title, oc.Owner, oc.Team, oc.Resolved.Name, oc.Parent, oc.ProgressFrom), 1)
			})
		}},
})

func sortFamilies(fs []family) []family {
	sort.Slice(fs, func(i, j int) bool { return fs[i].name < fs[j].name })
	return fs
}

var descs = func() map[string]*prometheus.Desc {
	m := map[string]*prometheus.Desc{}
	for _, f := range families {
		m[f.name] = prometheus.NewDesc(f.name, f.help, f.labels, nil)
	}
	return m
}()

// Collector exposes one snapshot as the okr_* series. It is a plain
// prometheus.Collector, usable with any registry; okrd's /metrics uses the
// equivalent, much cheaper text encoder (Exposition) for the common case.
type Collector struct {
	Snapshot *Snapshot
}

// Describe implements prometheus.Collector.
func (c Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, f := range families {
		ch <- descs[f.name]
	}
}

// Collect implements prometheus.Collector.
func (c Collector) Collect(ch chan<- prometheus.Metric) {
	if c.Snapshot == nil {
		return
	}
	for _, f := range families {
		d := descs[f.name]
		f.each(c.Snapshot.Objectives, make([]string, 0, 8), func(lv []string, v float64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, lv...)
		})
	}
}

// Family describes one okr_* family for an encoder outside this package,
// such as okrd backfill, which writes the series of one snapshot per past
// instant with timestamps. Every okr_* family is a gauge.
type Family struct {
	Name, Help string
	// Labels are the label names, in the order of the values EachSeries
	// gives.
	Labels []string
}

// Families returns the okr_* families in exposition order.
func Families() []Family {
	out := make([]Family, len(families))
	for i, f := range families {
		out[i] = Family{Name: f.name, Help: f.help, Labels: append([]string(nil), f.labels...)}
	}
	return out
}

// EachSeries calls emit for every series of the i-th family of Families
// in s: the series and values that Collector and AppendText give, from
// the same table. lv holds the label values and is reused between calls.
func (s *Snapshot) EachSeries(i int, emit func(lv []string, v float64)) {
	families[i].each(s.Objectives, make([]string, 0, 8), emit)
}

// sortedLabelOrder returns the indices of labels in name order, the order
// the text format prints them in.
func sortedLabelOrder(labels []string) []int {
	idx := make([]int, len(labels))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return labels[idx[a]] < labels[idx[b]] })
	return idx
}

var familyOrders = func() [][]int {
	out := make([][]int, len(families))
	for i, f := range families {
		out[i] = sortedLabelOrder(f.labels)
	}
	return out
}()

var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

// textHeaders holds the HELP and TYPE lines of each family, in the order
// of families.
var textHeaders = func() [][]byte {
	out := make([][]byte, len(families))
	for i, f := range families {
		var b []byte
		b = append(b, "# HELP "...)
		b = append(b, f.name...)
		b = append(b, ' ')
		b = append(b, helpEscaper.Replace(f.help)...)
		b = append(b, "\n# TYPE "...)
		b = append(b, f.name...)
		b = append(b, " gauge\n"...)
		out[i] = b
	}
	return out
}()

// AppendText appends the okr_* series in the Prometheus text format 0.0.4,
// byte for byte what client_golang's encoder prints for Collector (label
// pairs sorted by name), but written directly: encoding 10,000 key results
// this way takes milliseconds instead of most of a second. A family without
// any series is left out, header included, as client_golang does.
//
// It encodes the whole snapshot every time; /metrics serves Exposition,
// which is the same bytes assembled from pieces shared between snapshots.
func (s *Snapshot) AppendText(b []byte) []byte {
	e := newTextEncoder(b)
	for fi := range families {
		mark := len(e.b)
		e.b = append(e.b, textHeaders[fi]...)
		start := len(e.b)
		if e.family(fi, s.Objectives); len(e.b) == start {
			e.b = e.b[:mark]
		}
	}
	return e.b
}

// textEncoder appends series in the text format. One encoder serves every
// family of a run, so that writing a series allocates nothing.
type textEncoder struct {
	b       []byte
	fi      int
	scratch []string
	emit    func(lv []string, v float64)
}

func newTextEncoder(b []byte) *textEncoder {
	e := &textEncoder{b: b, scratch: make([]string, 0, 8)}
	e.emit = e.series
	return e
}

// family appends the series of family fi for the objectives objs, without
// the family's header.
func (e *textEncoder) family(fi int, objs []*Objective) {
	e.fi = fi
	families[fi].each(objs, e.scratch, e.emit)
}

func (e *textEncoder) series(lv []string, v float64) {
	f := &families[e.fi]
	b := append(e.b, f.name...)
	b = append(b, '{')
	for i, li := range familyOrders[e.fi] {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, f.labels[li]...)
		b = append(b, `="`...)
		b = appendLabelValue(b, lv[li])
		b = append(b, '"')
	}
	b = append(b, "} "...)
	b = appendFloat(b, v)
	e.b = append(b, '\n')
}

func appendLabelValue(b []byte, v string) []byte {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == '\\' || c == '\n' || c == '"' {
			return append(b, labelEscaper.Replace(v)...)
		}
	}
	return append(b, v...)
}

// appendFloat formats like the text encoder of prometheus/common.
func appendFloat(b []byte, f float64) []byte {
	switch {
	case f == 1:
		return append(b, '1')
	case f == 0:
		return append(b, '0')
	case f == -1:
		return append(b, "-1"...)
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, +1):
		return append(b, "+Inf"...)
	case math.IsInf(f, -1):
		return append(b, "-Inf"...)
	default:
		return strconv.AppendFloat(b, f, 'g', -1, 64)
	}
}
