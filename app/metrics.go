package app

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/collectors/version"

	okrdcollectors "github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
)

// selfMetrics are okrd's own health series (docs/metrics.md).
//
// The per-source and per-key-result series follow the configuration: a
// reload deletes the series of the sources and key results it removed (so
// that their alerts resolve), and the failure counters of every configured
// source and key result exist at 0 from the start (so that rate() and
// increase() see the first failure).
type selfMetrics struct {
	up            *prometheus.GaugeVec
	initialSync   *prometheus.GaugeVec
	lastSuccess   *prometheus.GaugeVec
	pollDuration  *prometheus.GaugeVec
	polls         *prometheus.CounterVec
	records       *prometheus.GaugeVec
	measureErrors *prometheus.CounterVec
	// historyFilled and historyFillDuration describe filled-in history.
	historyFilled       *prometheus.CounterVec
	historyFillDuration *prometheus.GaugeVec

	// mu guards the configured sources and key results, and orders the
	// writes that check them against the deletions of a reload.
	mu sync.Mutex
	// sources maps each configured source to its type.
	sources map[string]string
	// bound maps each configured key result bound to a source to that
	// source.
	bound map[krKey]string

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
		initialSync: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "okrd_source_initial_sync_in_progress",
			Help: "1 while the source's first poll since it (re)started has not ended (okrd_source_up is then 0 without a failure), 0 once it has.",
		}, []string{"source"}),
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
		historyFilled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "okrd_history_filled_values_total",
			Help: "Key result values filled in from a source's records for past instants (docs/history.md).",
		}, []string{"source"}),
		historyFillDuration: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "okrd_history_fill_duration_seconds",
			Help: "Duration of the last fill of key result history from a source's records.",
		}, []string{"source"}),
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
	reg.MustRegister(m.up, m.initialSync, m.lastSuccess, m.pollDuration, m.polls, m.records, m.measureErrors,
		m.historyFilled, m.historyFillDuration,
		m.reloadOK, m.reloadTime, m.evalDuration, m.evalTime, m.keyResults, m.checkinsTotal)
	return m
}

// partialDeleter is a metric vector (a GaugeVec or a CounterVec).
type partialDeleter interface {
	DeletePartialMatch(prometheus.Labels) int
}

// sourceVecs are the series labelled with a source; the measure errors,
// labelled with a key result too, follow the key results.
func (m *selfMetrics) sourceVecs() []partialDeleter {
	return []partialDeleter{m.up, m.initialSync, m.lastSuccess, m.pollDuration, m.polls, m.records, m.historyFilled, m.historyFillDuration}
}

// configure makes the per-source and per-key-result series follow cfg (at
// start and on every reload, before the sources are restarted): the series
// of sources and key results cfg no longer has are deleted, the up series
// of a source whose type changed loses its old type label, and the failure
// counters of cfg's sources and key results are created at 0.
func (m *selfMetrics) configure(cfg *config.Config) {
	m.mu.Lock()
	defer m.mu.Unlock()
	sources := make(map[string]string, len(cfg.Sources))
	for name, sc := range cfg.Sources {
		sources[name] = sc.Type
	}
	for name, typ := range m.sources {
		switch nt, ok := sources[name]; {
		case !ok:
			m.forgetSourceLocked(name)
		case nt != typ:
			m.up.DeleteLabelValues(name, typ)
		}
	}
	krs := map[krKey]string{}
	for _, o := range cfg.Objectives {
		for _, kr := range o.KeyResults {
			if kr.Source != "" {
				krs[krKey{o.ID, kr.ID}] = kr.Source
			}
		}
	}
	for k, src := range m.bound {
		if krs[k] != src {
			m.measureErrors.DeleteLabelValues(k.objective, k.keyResult, src)
		}
	}
	for k, src := range krs {
		m.measureErrors.WithLabelValues(k.objective, k.keyResult, src)
	}
	for name := range sources {
		m.initPolls(name)
	}
	m.sources, m.bound = sources, krs
}

func (m *selfMetrics) initPolls(source string) {
	m.polls.WithLabelValues(source, "success")
	m.polls.WithLabelValues(source, "failure")
	m.historyFilled.WithLabelValues(source)
}

// forgetSource deletes every series of a source: it was removed, or its
// type changed and a new runner starts from nothing. Its runner must have
// stopped, so that nothing writes them again.
func (m *selfMetrics) forgetSource(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.forgetSourceLocked(name)
	if _, ok := m.sources[name]; ok {
		m.initPolls(name)
	}
}

func (m *selfMetrics) forgetSourceLocked(name string) {
	l := prometheus.Labels{"source": name}
	for _, v := range m.sourceVecs() {
		v.DeletePartialMatch(l)
	}
}

// sourceStarting records that a source's runner starts (or restarts after
// a reload changed it): it is not up until a poll ends, and its first sync
// is in progress.
func (m *selfMetrics) sourceStarting(name, typ string) {
	m.up.WithLabelValues(name, typ).Set(0)
	m.initialSync.WithLabelValues(name).Set(1)
	m.initPolls(name)
}

// sourceCannotStart records a source that could not be built: it is down,
// and no sync is in progress that could explain it.
func (m *selfMetrics) sourceCannotStart(name, typ string) {
	m.up.WithLabelValues(name, typ).Set(0)
	m.initialSync.WithLabelValues(name).Set(0)
	m.initPolls(name)
}

// pollEnded records that a poll of the source ended, so its first sync
// is over. It is called after okrd_source_up was set from the poll's
// outcome, so that a scrape never sees the source neither up nor syncing
// when it is neither.
func (m *selfMetrics) pollEnded(name string) {
	m.initialSync.WithLabelValues(name).Set(0)
}

// measureError counts a failed measurement, unless a reload removed the
// key result (or bound it to another source) while it was being measured:
// its series would otherwise come back after the reload deleted it.
func (m *selfMetrics) measureError(objective, keyResult, source string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.bound[krKey{objective, keyResult}] != source {
		return
	}
	m.measureErrors.WithLabelValues(objective, keyResult, source).Inc()
}

// setRecords sets the stored record count of a source and kind. The store
// keeps the records of a source removed from the configuration, but its
// series is not exported.
func (m *selfMetrics) setRecords(source, kind string, n int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.sources[source]; !ok {
		return
	}
	m.records.WithLabelValues(source, kind).Set(float64(n))
}

// forgetSource deletes every series of a stopped source, okrd's and the
// shared source metrics.
func (a *App) forgetSource(name string) {
	a.metrics.forgetSource(name)
	a.srcMet.Forget(name)
}

// bindingRetainer is implemented by sources that keep state per key result
// bound to them (the live-query sources, which export
// okrd_source_query_*): RetainBindings drops what they hold of the key
// results no longer bound to them.
type bindingRetainer interface {
	RetainBindings(bs []okrdcollectors.Binding)
}

// retainBindings tells every running source which key results cfg binds
// to it, after a reload.
func (a *App) retainBindings(cfg *config.Config) {
	a.runMu.Lock()
	defer a.runMu.Unlock()
	for name, r := range a.runners {
		br, ok := r.src.(bindingRetainer)
		if !ok {
			continue
		}
		var bs []okrdcollectors.Binding
		for _, o := range cfg.Objectives {
			for _, kr := range o.KeyResults {
				if kr.Source == name {
					bs = append(bs, okrdcollectors.Binding{Objective: o, KeyResult: kr})
				}
			}
		}
		br.RetainBindings(bs)
	}
}

// registerRuntime adds the standard Go, process and build-info collectors.
func registerRuntime(reg prometheus.Registerer) {
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		version.NewCollector("okrd"),
	)
}
