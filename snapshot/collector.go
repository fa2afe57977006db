package snapshot

import (
	"bytes"
	"compress/gzip"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

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
	// each calls emit once per series; lv holds the label values in the
	// order of labels and is reused between calls.
	each func(s *Snapshot, emit func(lv []string, v float64))
}

func krSource(kc *config.KeyResult) string {
	if kc.Source == "" {
		return "manual"
	}
	return kc.Source
}

// forKRs calls f for every key result with lv prefilled with the objective
// and key result ids.
func forKRs(s *Snapshot, f func(o *Objective, kr *KeyResult, lv []string)) {
	lv := make([]string, 0, 8)
	for _, o := range s.Objectives {
		for _, kr := range o.KeyResults {
			f(o, kr, append(lv[:0], o.Config.ID, kr.Config.ID))
		}
	}
}

func forObjectives(s *Snapshot, f func(o *Objective, lv []string)) {
	lv := make([]string, 0, 8)
	for _, o := range s.Objectives {
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
		each: func(s *Snapshot, emit func([]string, float64)) {
			forKRs(s, func(_ *Objective, kr *KeyResult, lv []string) {
				if v, ok := value(kr); ok {
					emit(lv, v)
				}
			})
		}}
}

func objGauge(name, help string, value func(o *Objective) (float64, bool)) family {
	return family{name: name, help: help, labels: []string{"objective"},
		each: func(s *Snapshot, emit func([]string, float64)) {
			forObjectives(s, func(o *Objective, lv []string) {
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
	krGauge("okr_key_result_tolerance_ratio", "Status tolerance of the key result: at risk below expected minus this, off track below expected minus twice this.",
		func(kr *KeyResult) (float64, bool) { return kr.Config.Engine.Tolerance, true }),
	{name: "okr_key_result_status", help: "Status of the key result: 1 for the current status, 0 for the others.",
		labels: []string{"objective", "key_result", "status"},
		each: func(s *Snapshot, emit func([]string, float64)) {
			forKRs(s, func(_ *Objective, kr *KeyResult, lv []string) {
				for _, st := range okr.Statuses {
					emit(append(lv, string(st)), boolf(kr.Result.Status == st))
				}
			})
		}},
	{name: "okr_key_result_info", help: "Descriptive labels of the key result; the value is always 1.",
		labels: []string{"objective", "key_result", "title", "owner", "team", "unit", "source", "direction"},
		each: func(s *Snapshot, emit func([]string, float64)) {
			forKRs(s, func(_ *Objective, kr *KeyResult, lv []string) {
				kc := kr.Config
				emit(append(lv, kc.Title, kc.Owner, kc.Team, kc.Unit, krSource(kc), string(kc.Engine.Direction)), 1)
			})
		}},
	objGauge("okr_objective_progress_ratio", "Weighted mean progress of the objective's key results, 0 to 1.",
		func(o *Objective) (float64, bool) { return o.Result.Progress, true }),
	objGauge("okr_objective_period_start_timestamp_seconds", "Start of the objective's period, as a Unix timestamp.",
		func(o *Objective) (float64, bool) { return float64(o.Config.Resolved.Start.Unix()), true }),
	objGauge("okr_objective_period_end_timestamp_seconds", "End of the objective's period (exclusive), as a Unix timestamp.",
		func(o *Objective) (float64, bool) { return float64(o.Config.Resolved.End.Unix()), true }),
	objGauge("okr_objective_score", "Final grade of the objective, once its period has ended.",
		func(o *Objective) (float64, bool) { return o.Result.Score, o.Result.HasScore }),
	{name: "okr_objective_status", help: "Status of the objective (the worst of its key results): 1 for the current status, 0 for the others.",
		labels: []string{"objective", "status"},
		each: func(s *Snapshot, emit func([]string, float64)) {
			forObjectives(s, func(o *Objective, lv []string) {
				for _, st := range okr.Statuses {
					emit(append(lv, string(st)), boolf(o.Result.Status == st))
				}
			})
		}},
	{name: "okr_objective_info", help: "Descriptive labels of the objective; the value is always 1.",
		labels: []string{"objective", "title", "owner", "team", "period"},
		each: func(s *Snapshot, emit func([]string, float64)) {
			forObjectives(s, func(o *Objective, lv []string) {
				oc := o.Config
				emit(append(lv, oc.Title, oc.Owner, oc.Team, oc.Resolved.Name), 1)
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
// equivalent, much cheaper text encoder (Encoded) for the common case.
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
		f.each(c.Snapshot, func(lv []string, v float64) {
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
	families[i].each(s, emit)
}

// encodings caches the exposition of a snapshot per format, computed on the
// first scrape that asks for it, so that every later scrape of the same
// snapshot only copies bytes.
type encodings struct {
	mu    sync.Mutex
	cache map[string][]byte
}

// Encoded returns the okr_* series of the snapshot encoded in format
// (without any OpenMetrics "# EOF" trailer, so it can be appended to other
// families), gzip-compressed as one gzip member when gz is true.
func (s *Snapshot) Encoded(format expfmt.Format, gz bool) ([]byte, error) {
	key := string(format)
	text := format.FormatType() == expfmt.TypeTextPlain
	if text {
		// Every okr_* name and label is valid under every escaping scheme,
		// so all text variants share one encoding.
		key = "text"
	}
	if gz {
		key += ";gzip"
	}
	s.enc.mu.Lock()
	defer s.enc.mu.Unlock()
	if b, ok := s.enc.cache[key]; ok {
		return b, nil
	}
	if s.enc.cache == nil {
		s.enc.cache = map[string][]byte{}
	}
	if text && !gz {
		b := s.AppendText(make([]byte, 0, sizeHint.Load()))
		sizeHint.Store(int64(len(b)) + int64(len(b))/16)
		s.enc.cache[key] = b
		return b, nil
	}
	var buf bytes.Buffer
	var w interface{ Write([]byte) (int, error) } = &buf
	var zw *gzip.Writer
	if gz {
		zw = gzip.NewWriter(&buf)
		w = zw
	}
	if text {
		plain, ok := s.enc.cache["text"]
		if !ok {
			plain = s.AppendText(make([]byte, 0, sizeHint.Load()))
		}
		if _, err := w.Write(plain); err != nil {
			return nil, err
		}
	} else {
		// Other formats (protobuf) go through client_golang: slower, but
		// only asked for by clients that insist on them.
		reg := prometheus.NewPedanticRegistry()
		if err := reg.Register(Collector{Snapshot: s}); err != nil {
			return nil, err
		}
		mfs, err := reg.Gather()
		if err != nil {
			return nil, err
		}
		enc := expfmt.NewEncoder(w, format)
		for _, mf := range mfs {
			if err := enc.Encode(mf); err != nil {
				return nil, err
			}
		}
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return nil, err
		}
	}
	b := buf.Bytes()
	s.enc.cache[key] = b
	return b, nil
}

// sizeHint remembers how large the last text exposition was, so the next
// one is written into a buffer of the right size at once.
var sizeHint atomic.Int64

// WarmFormats are the encodings okrd prepares right after each evaluation:
// what Prometheus asks for (text, usually gzipped).
var WarmFormats = []expfmt.Format{expfmt.NewFormat(expfmt.TypeTextPlain)}

// Warm encodes the snapshot in the formats scrapers ask for, so that no
// scrape pays for encoding. okrd calls it in the background after
// publishing a snapshot.
func (s *Snapshot) Warm() {
	for _, f := range WarmFormats {
		_, _ = s.Encoded(f, false)
		_, _ = s.Encoded(f, true)
	}
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

// AppendText appends the okr_* series in the Prometheus text format 0.0.4,
// byte for byte what client_golang's encoder prints for Collector (label
// pairs sorted by name), but written directly: encoding 10,000 key results
// this way takes milliseconds instead of most of a second.
func (s *Snapshot) AppendText(b []byte) []byte {
	for fi, f := range families {
		order := familyOrders[fi]
		wroteHeader := false
		f.each(s, func(lv []string, v float64) {
			if !wroteHeader {
				b = append(b, "# HELP "...)
				b = append(b, f.name...)
				b = append(b, ' ')
				b = append(b, helpEscaper.Replace(f.help)...)
				b = append(b, "\n# TYPE "...)
				b = append(b, f.name...)
				b = append(b, " gauge\n"...)
				wroteHeader = true
			}
			b = append(b, f.name...)
			b = append(b, '{')
			for i, li := range order {
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
			b = append(b, '\n')
		})
	}
	return b
}

func appendLabelValue(b []byte, v string) []byte {
	if !strings.ContainsAny(v, "\\\n\"") {
		return append(b, v...)
	}
	return append(b, labelEscaper.Replace(v)...)
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
