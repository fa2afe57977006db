package snapshot

import (
	"bytes"
	"compress/gzip"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/okrd/okrd/okr"
)

var (
	krLabels  = []string{"objective", "key_result"}
	objLabels = []string{"objective"}

	descKRValue = prometheus.NewDesc("okr_key_result_value",
		"Current value of the key result, in its base unit (seconds for durations).", krLabels, nil)
	descKRBaseline = prometheus.NewDesc("okr_key_result_baseline",
		"Baseline (starting value) of an increase or decrease key result.", krLabels, nil)
	descKRTarget = prometheus.NewDesc("okr_key_result_target",
		"Target value of an increase or decrease key result.", krLabels, nil)
	descKRBandMin = prometheus.NewDesc("okr_key_result_band_min",
		"Lower bound of the band a maintain key result must stay in.", krLabels, nil)
	descKRBandMax = prometheus.NewDesc("okr_key_result_band_max",
		"Upper bound of the band a maintain key result must stay in.", krLabels, nil)
	descKRProgress = prometheus.NewDesc("okr_key_result_progress_ratio",
		"Progress from baseline to target, 0 to 1.", krLabels, nil)
	descKRExpected = prometheus.NewDesc("okr_key_result_expected_progress_ratio",
		"Progress the key result should have made by now (linear or through its milestones), 0 to 1.", krLabels, nil)
	descKRForecast = prometheus.NewDesc("okr_key_result_forecast_value",
		"Least-squares forecast of the value at the end of the period.", krLabels, nil)
	descKRForecastProgress = prometheus.NewDesc("okr_key_result_forecast_progress_ratio",
		"Progress the forecast value would give at the end of the period, 0 to 1.", krLabels, nil)
	descKRStatus = prometheus.NewDesc("okr_key_result_status",
		"Status of the key result: 1 for the current status, 0 for the others.", append(krLabels, "status"), nil)
	descKRUpdated = prometheus.NewDesc("okr_key_result_last_updated_timestamp_seconds",
		"Time the current value was measured, as a Unix timestamp.", krLabels, nil)
	descKRStale = prometheus.NewDesc("okr_key_result_stale",
		"1 when the current value is older than the key result's stale_after.", krLabels, nil)
	descKRScore = prometheus.NewDesc("okr_key_result_score",
		"Final grade of the key result (progress rounded to one decimal), once its period has ended.", krLabels, nil)
	descKRInfo = prometheus.NewDesc("okr_key_result_info",
		"Descriptive labels of the key result; the value is always 1.",
		append(krLabels, "title", "owner", "team", "unit", "source", "direction"), nil)

	descObjProgress = prometheus.NewDesc("okr_objective_progress_ratio",
		"Weighted mean progress of the objective's key results, 0 to 1.", objLabels, nil)
	descObjStatus = prometheus.NewDesc("okr_objective_status",
		"Status of the objective (the worst of its key results): 1 for the current status, 0 for the others.",
		append(objLabels, "status"), nil)
	descObjStart = prometheus.NewDesc("okr_objective_period_start_timestamp_seconds",
		"Start of the objective's period, as a Unix timestamp.", objLabels, nil)
	descObjEnd = prometheus.NewDesc("okr_objective_period_end_timestamp_seconds",
		"End of the objective's period (exclusive), as a Unix timestamp.", objLabels, nil)
	descObjScore = prometheus.NewDesc("okr_objective_score",
		"Final grade of the objective, once its period has ended.", objLabels, nil)
	descObjInfo = prometheus.NewDesc("okr_objective_info",
		"Descriptive labels of the objective; the value is always 1.",
		append(objLabels, "title", "owner", "team", "period"), nil)
)

var allDescs = []*prometheus.Desc{
	descKRValue, descKRBaseline, descKRTarget, descKRBandMin, descKRBandMax, descKRProgress,
	descKRExpected, descKRForecast, descKRForecastProgress, descKRStatus, descKRUpdated, descKRStale,
	descKRScore, descKRInfo, descObjProgress, descObjStatus, descObjStart, descObjEnd, descObjScore, descObjInfo,
}

// Collector exposes one snapshot as the okr_* series. It is a plain
// prometheus.Collector, so it can be registered anywhere; okrd itself
// gathers it once per snapshot and caches the encoded result (see Encoded).
type Collector struct {
	Snapshot *Snapshot
}

// Describe implements prometheus.Collector.
func (c Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range allDescs {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c Collector) Collect(ch chan<- prometheus.Metric) {
	if c.Snapshot == nil {
		return
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, o := range c.Snapshot.Objectives {
		oc := o.Config
		id := oc.ID
		gauge(descObjInfo, 1, id, oc.Title, oc.Owner, oc.Team, oc.Resolved.Name)
		gauge(descObjProgress, o.Result.Progress, id)
		for _, s := range okr.Statuses {
			gauge(descObjStatus, boolf(o.Result.Status == s), id, string(s))
		}
		gauge(descObjStart, unix(oc.Resolved.Start.Unix()), id)
		gauge(descObjEnd, unix(oc.Resolved.End.Unix()), id)
		if o.Result.HasScore {
			gauge(descObjScore, o.Result.Score, id)
		}
		for _, kr := range o.KeyResults {
			kc := kr.Config
			r := kr.Result
			source := kc.Source
			if source == "" {
				source = "manual"
			}
			gauge(descKRInfo, 1, id, kc.ID, kc.Title, kc.Owner, kc.Team, kc.Unit, source, string(kc.Engine.Direction))
			if kc.Engine.Direction == okr.Maintain {
				gauge(descKRBandMin, kc.Engine.Min, id, kc.ID)
				gauge(descKRBandMax, kc.Engine.Max, id, kc.ID)
			} else {
				gauge(descKRBaseline, kc.Engine.Baseline, id, kc.ID)
				gauge(descKRTarget, kc.Engine.Target, id, kc.ID)
			}
			gauge(descKRExpected, r.Expected, id, kc.ID)
			if r.HasValue {
				gauge(descKRValue, r.Value, id, kc.ID)
				gauge(descKRProgress, r.Progress, id, kc.ID)
				gauge(descKRUpdated, float64(r.ValueAt.UnixMilli())/1000, id, kc.ID)
				gauge(descKRStale, boolf(kr.Stale), id, kc.ID)
			}
			if r.HasForecast {
				gauge(descKRForecast, r.Forecast, id, kc.ID)
				gauge(descKRForecastProgress, r.ForecastProgress, id, kc.ID)
			}
			if r.HasScore {
				gauge(descKRScore, r.Score, id, kc.ID)
			}
			for _, s := range okr.Statuses {
				gauge(descKRStatus, boolf(r.Status == s), id, kc.ID, string(s))
			}
		}
	}
}

func boolf(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func unix(sec int64) float64 { return float64(sec) }

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
	if gz {
		key += ";gzip"
	}
	s.enc.mu.Lock()
	defer s.enc.mu.Unlock()
	if b, ok := s.enc.cache[key]; ok {
		return b, nil
	}
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(Collector{Snapshot: s}); err != nil {
		return nil, err
	}
	mfs, err := reg.Gather()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	var w interface {
		Write([]byte) (int, error)
	} = &buf
	var zw *gzip.Writer
	if gz {
		zw = gzip.NewWriter(&buf)
		w = zw
	}
	enc := expfmt.NewEncoder(w, format)
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return nil, err
		}
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return nil, err
		}
	}
	if s.enc.cache == nil {
		s.enc.cache = map[string][]byte{}
	}
	b := buf.Bytes()
	s.enc.cache[key] = b
	return b, nil
}
