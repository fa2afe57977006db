package app

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/collectors/version"
)

// selfMetrics are okrd's own health series (docs/metrics.md).
type selfMetrics struct {
	up            *prometheus.GaugeVec
	lastSuccess   *prometheus.GaugeVec
	pollDuration  *prometheus.GaugeVec
	polls         *prometheus.CounterVec
	records       *prometheus.GaugeVec
	measureErrors *prometheus.CounterVec

	reloadOK      prometheus.Gauge
	reloadTime    prometheus.Gauge
	evalDuration  prometheus.Gauge
	evalTime      prometheus.Gauge
	keyResults    prometheus.Gauge
	checkinsTotal prometheus.Counter
	reportsSent   prometheus.Counter
	reportsFailed prometheus.Counter
}

func newSelfMetrics(reg prometheus.Registerer) *selfMetrics {
	m := &selfMetrics{
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "okrd_source_up",
			Help: "1 if the source's last poll succeeded, 0 if it failed.",
		}, []string{"source", "type"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "okrd_source_last_success_timestamp_seconds",
			Help: "Time of the source's last successful poll, as a Unix timestamp.",
		}, []string{"source"}),
		pollDuration: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "okrd_source_poll_duration_seconds",
			Help: "Duration of the source's last poll.",
		}, []string{"source"}),
		polls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "okrd_source_polls_total",
			Help: "Polls of a source, by result (success or failure).",
		}, []string{"source", "result"}),
		records: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "okrd_source_records",
			Help: "Records stored for a source, by kind.",
		}, []string{"source", "kind"}),
		measureErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "okrd_key_result_measure_errors_total",
			Help: "Failed attempts to measure a key result from its source.",
		}, []string{"objective", "key_result", "source"}),
		reloadOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "okrd_config_last_reload_successful",
			Help: "1 if the last configuration (re)load succeeded, 0 if it failed and the previous configuration is still in use.",
		}),
		reloadTime: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "okrd_config_last_reload_success_timestamp_seconds",
			Help: "Time of the last successful configuration load, as a Unix timestamp.",
		}),
		evalDuration: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "okrd_evaluation_duration_seconds",
			Help: "Duration of the last evaluation of every key result.",
		}),
		evalTime: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "okrd_last_evaluation_timestamp_seconds",
			Help: "Time of the last evaluation, as a Unix timestamp.",
		}),
		keyResults: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "okrd_key_results",
			Help: "Number of key results in the configuration.",
		}),
		checkinsTotal: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "okrd_checkins_total",
			Help: "Manual check-ins recorded through the API.",
		}),
		reportsSent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "okrd_reports_sent_total",
			Help: "Weekly reports sent to the configured receiver.",
		}),
		reportsFailed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "okrd_reports_failed_total",
			Help: "Failed attempts to send the weekly report (retried at the next check within a day).",
		}),
	}
	reg.MustRegister(m.reportsSent, m.reportsFailed)
	reg.MustRegister(m.up, m.lastSuccess, m.pollDuration, m.polls, m.records, m.measureErrors,
		m.reloadOK, m.reloadTime, m.evalDuration, m.evalTime, m.keyResults, m.checkinsTotal)
	return m
}

// registerRuntime adds the standard Go, process and build-info collectors.
func registerRuntime(reg prometheus.Registerer) {
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		version.NewCollector("okrd"),
	)
}
