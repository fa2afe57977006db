package app

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/okr"
	"github.com/okrd/okrd/snapshot"
	"github.com/okrd/okrd/store"
)

// Backfill (docs/history.md) writes, for every instant of the history grid
// between two times, the series that okrd's /metrics would have shown at
// that instant, as OpenMetrics text with timestamps that promtool turns
// into TSDB blocks: Prometheus then holds the past that okrd knows and the
// dashboards draw whole periods, not only what was scraped since okrd
// started.
//
// The okr_* series of an instant t come from the very evaluation the
// daemon publishes (history.evaluate at now = t over every value with
// At <= t, filled in, measured live or checked in) and from snapshot's
// table of families, so they are what a scrape at t would have read. The
// delivery series come from the sources that can give them as of t
// (collectors.SeriesHistorian), answered from the store without a poll.
//
// OpenMetrics wants every family's samples together and, within a family,
// every series' samples together in increasing time: family by family,
// series by series, instant by instant, the transpose of the order in
// which evaluations produce them. Holding the whole transpose would take
// memory in proportion to key results × instants; instead the key results
// are evaluated a chunk at a time (whole objectives, whose roll-up needs
// all their key results), each chunk's series are written family by family
// to a spool file next to the output, and the output is assembled from the
// spool's segments at the end. Memory is bounded by one chunk, whatever
// the number of key results.

// BackfillLabel is a label added to every backfilled series, such as the
// job and instance labels Prometheus gives the series it scrapes from okrd.
type BackfillLabel struct {
	Name, Value string
}

// BackfillOptions are the arguments of okrd backfill.
type BackfillOptions struct {
	// Out is the file written; it is replaced only once it is complete.
	Out string
	// From is the first instant (zero: the earliest period start of the
	// objectives); To is the end, excluded (zero: now). Both are cut to the
	// second.
	From, To time.Time
	// Labels are added to every series.
	Labels []BackfillLabel
}

// BackfillResult says what a backfill wrote.
type BackfillResult struct {
	From, To time.Time
	// Instants is the number of grid instants written.
	Instants int
	// Families, Series and Samples count what the output holds (a
	// summary's quantiles, sum and count are separate series).
	Families, Series, Samples int
	Bytes                     int64
	// Sources lists the sources whose delivery series were written.
	Sources []string
}

// backfillBudget bounds the samples of okr_* series held in memory at
// once: a chunk takes as many key results as fit (at least one objective).
var backfillBudget = 1 << 21

// backfillProbe, when set (by the benchmark), is called after each chunk
// is written, when memory holds one chunk at most.
var backfillProbe func()

var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// ParseBackfillLabel parses NAME=VALUE.
func ParseBackfillLabel(s string) (BackfillLabel, error) {
	name, value, ok := strings.Cut(s, "=")
	if !ok {
		return BackfillLabel{}, fmt.Errorf("%q is not NAME=VALUE", s)
	}
	return BackfillLabel{Name: name, Value: value}, nil
}

// okrdLabels are the label names of okrd's own series, which an added
// label must not replace: those of the okr_* families, the source label of
// every delivery series, and the labels of summary and histogram samples.
// (The other labels of the delivery series are checked as they come.)
var okrdLabels = func() map[string]bool {
	m := map[string]bool{"source": true, "quantile": true, "le": true}
	for _, f := range snapshot.Families() {
		for _, l := range f.Labels {
			m[l] = true
		}
	}
	return m
}()

// validateBackfillLabels checks the added labels: Prometheus label names,
// not reserved, not one of okrd's, each once, with a value.
func validateBackfillLabels(ls []BackfillLabel) error {
	seen := map[string]bool{}
	for _, l := range ls {
		switch {
		case !labelName.MatchString(l.Name):
			return fmt.Errorf("label %q: a label name is letters, digits and underscores, not starting with a digit", l.Name)
		case strings.HasPrefix(l.Name, "__"):
			return fmt.Errorf("label %q: names starting with __ are reserved for Prometheus", l.Name)
		case okrdLabels[l.Name]:
			return fmt.Errorf("label %q: okrd's series already have a label of that name", l.Name)
		case seen[l.Name]:
			return fmt.Errorf("label %q: given twice", l.Name)
		case l.Value == "":
			return fmt.Errorf("label %q: empty value (Prometheus treats an empty label as no label)", l.Name)
		}
		seen[l.Name] = true
	}
	return nil
}

// backfillInstants returns the instants written between from (included)
// and to (excluded): the history grid of every objective's period, as the
// fill computes it, and the same grid over [from, to) so that instants
// between or outside the periods are written too.
func backfillInstants(cfg *config.Config, from, to time.Time) []time.Time {
	loc := cfg.Global.Location
	if loc == nil {
		loc = time.UTC
	}
	step := cfg.History.Step.Duration()
	if step <= 0 {
		step = config.DefaultHistoryStep.Duration()
	}
	var all []time.Time
	for _, o := range cfg.Objectives {
		all = append(all, gridInstants(o.Resolved, loc, step, to)...)
	}
	all = append(all, gridInstants(okr.Period{Start: from, End: to}, loc, step, to)...)
	out := all[:0]
	for _, t := range all {
		if !t.Before(from) && t.Before(to) {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return slices.CompactFunc(out, func(a, b time.Time) bool { return a.Equal(b) })
}

// Backfill writes the OpenMetrics file of opts.Out. It reads the store and
// nothing else: no source is polled, nothing is written to the store. The
// store is closed when it returns.
func (a *App) Backfill(ctx context.Context, opts BackfillOptions) (BackfillResult, error) {
	defer a.store.Close()
	cfg := a.cfg.Load()
	res := BackfillResult{}
	if opts.Out == "" {
		return res, errors.New("--out: no file given")
	}
	if err := validateBackfillLabels(opts.Labels); err != nil {
		return res, fmt.Errorf("--label: %w", err)
	}
	from, to := opts.From, opts.To
	now := a.opts.now()
	if to.IsZero() {
		to = now
	}
	if to.After(now) {
		// The series at an instant to come do not exist yet: values
		// measured later would count, and the sources answer about the
		// past only.
		return res, fmt.Errorf("--to %s is after now (%s)", to.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if from.IsZero() {
		for _, o := range cfg.Objectives {
			if from.IsZero() || o.Resolved.Start.Before(from) {
				from = o.Resolved.Start
			}
		}
		if from.IsZero() {
			return res, errors.New("--from: the configuration has no objective to start from; give --from")
		}
	}
	from, to = from.Truncate(time.Second), to.Truncate(time.Second)
	if !from.Before(to) {
		return res, fmt.Errorf("--from %s is not before --to %s", from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))
	}
	res.From, res.To = from, to
	instants := backfillInstants(cfg, from, to)
	if len(instants) == 0 {
		return res, fmt.Errorf("no instant of the history grid between %s and %s", from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))
	}
	res.Instants = len(instants)
	a.logger.Info("backfilling", "from", from.UTC().Format(time.RFC3339), "to", to.UTC().Format(time.RFC3339), "instants", len(instants))

	if err := a.hist.refresh(ctx); err != nil {
		return res, err
	}
	sources, err := a.seriesHistorians(cfg)
	if err != nil {
		return res, err
	}

	dir, base := filepath.Split(opts.Out)
	if dir == "" {
		dir = "."
	}
	sp, err := newSpool(dir, base)
	if err != nil {
		return res, err
	}
	defer sp.remove()
	extra := opts.Labels
	if err := a.backfillOKR(ctx, sp, cfg, instants, extra); err != nil {
		return res, err
	}
	for _, s := range sources {
		if err := backfillSource(ctx, sp, s.name, s.src, instants, extra); err != nil {
			return res, err
		}
		res.Sources = append(res.Sources, s.name)
	}

	out, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return res, fmt.Errorf("--out: %w", err)
	}
	done := false
	defer func() {
		if !done {
			out.Close()
			os.Remove(out.Name())
		}
	}()
	cw := &countingWriter{w: bufio.NewWriterSize(out, 1<<20)}
	if err := sp.assemble(cw); err != nil {
		return res, fmt.Errorf("writing %s: %w", opts.Out, err)
	}
	if err := cw.w.(*bufio.Writer).Flush(); err != nil {
		return res, fmt.Errorf("writing %s: %w", opts.Out, err)
	}
	if err := out.Chmod(0o644); err != nil {
		return res, fmt.Errorf("writing %s: %w", opts.Out, err)
	}
	if err := out.Close(); err != nil {
		return res, fmt.Errorf("writing %s: %w", opts.Out, err)
	}
	if err := os.Rename(out.Name(), opts.Out); err != nil {
		return res, fmt.Errorf("--out: %w", err)
	}
	done = true
	res.Bytes = cw.n
	for _, f := range sp.fams {
		if f.series > 0 {
			res.Families++
		}
		res.Series += f.series
		res.Samples += f.samples
	}
	a.logger.Info("backfill written", "file", opts.Out, "instants", res.Instants, "series", res.Series,
		"samples", res.Samples, "bytes", res.Bytes)
	return res, nil
}

type namedHistorian struct {
	name string
	src  collectors.SeriesHistorian
}

// seriesHistorians builds every configured source, without polling it, on
// a store that refuses writes, and keeps those that can give their series
// as of a past instant.
func (a *App) seriesHistorians(cfg *config.Config) ([]namedHistorian, error) {
	names := make([]string, 0, len(cfg.Sources))
	for name := range cfg.Sources {
		names = append(names, name)
	}
	sort.Strings(names)
	var out []namedHistorian
	for _, name := range names {
		src, err := collectors.New(cfg.Sources[name], collectors.Deps{
			Store: readOnlyStore{a.store}, Logger: a.logger, Metrics: collectors.NewMetrics(prometheus.NewRegistry()), Now: a.opts.now,
		})
		if err != nil {
			return nil, err
		}
		if h, ok := src.(collectors.SeriesHistorian); ok {
			out = append(out, namedHistorian{name, h})
		} else if _, ok := src.(prometheus.Collector); ok {
			a.logger.Info("the source's own series are not backfilled: it cannot give them as of a past instant", "source", name)
		}
	}
	return out, nil
}

// errReadOnly is what a source gets if it tries to write during a backfill.
var errReadOnly = errors.New("okrd backfill only reads the store")

// readOnlyStore is the store the sources of a backfill get: they read
// their records, and any write fails.
type readOnlyStore struct{ store.Store }

func (readOnlyStore) AppendValues(context.Context, ...store.Value) error { return errReadOnly }
func (readOnlyStore) AddCheckin(context.Context, store.Checkin) (store.Checkin, error) {
	return store.Checkin{}, errReadOnly
}
func (readOnlyStore) AddConfidence(context.Context, store.Confidence) (store.Confidence, error) {
	return store.Confidence{}, errReadOnly
}
func (readOnlyStore) Update(context.Context, func(store.Tx) error) error    { return errReadOnly }
func (readOnlyStore) PutAlertState(context.Context, store.AlertState) error { return errReadOnly }
func (readOnlyStore) DeleteAlertState(context.Context, string) error        { return errReadOnly }

// krChunks splits the objectives into chunks of about n key results, each
// a run of whole trees of objectives (a root and its descendants, which
// its roll-up evaluates with it), in the order of each tree's first
// objective in the file.
func krChunks(objs []*config.Objective, n int) [][]*config.Objective {
	var out [][]*config.Objective
	var cur []*config.Objective
	size := 0
	for _, tree := range objectiveTrees(objs) {
		krs := 0
		for _, o := range tree {
			krs += len(o.KeyResults)
		}
		if len(cur) > 0 && size+krs > n {
			out = append(out, cur)
			cur, size = nil, 0
		}
		cur = append(cur, tree...)
		size += krs
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// objectiveTrees groups objs by the root of their tree of parents, each
// group in file order, the groups in the order of their first objective.
func objectiveTrees(objs []*config.Objective) [][]*config.Objective {
	byID := make(map[string]*config.Objective, len(objs))
	for _, o := range objs {
		byID[o.ID] = o
	}
	root := func(o *config.Objective) *config.Objective {
		for o.Parent != "" && byID[o.Parent] != nil {
			o = byID[o.Parent]
		}
		return o
	}
	at := map[*config.Objective]int{}
	var out [][]*config.Objective
	for _, o := range objs {
		r := root(o)
		i, ok := at[r]
		if !ok {
			i = len(out)
			at[r] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], o)
	}
	return out
}

// okrPoint is one sample of an okr_* series.
type okrPoint struct {
	ms int64
	v  float64
}

type okrSeries struct {
	key    string // the label values, as okrAcc indexes them
	labels string // rendered, the added labels included
	pts    []okrPoint
}

// okrAcc gathers one family's series over a chunk's instants.
type okrAcc struct {
	index  map[string]int
	series []okrSeries
	// next is the series that followed the last one seen at the previous
	// instant: evaluations of one chunk give their series in the same
	// order, so it is almost always the next one and needs no lookup.
	next int
}

// backfillOKR writes the okr_* series, a chunk of key results at a time.
func (a *App) backfillOKR(ctx context.Context, sp *spool, cfg *config.Config, instants []time.Time, extra []BackfillLabel) error {
	fams := snapshot.Families()
	sfs := make([]*spoolFamily, len(fams))
	orders := make([][]int, len(fams))
	for i, f := range fams {
		om := omFamily{name: f.Name, typ: "gauge", help: f.Help}
		if base, ok := strings.CutSuffix(f.Name, "_info"); ok {
			// Descriptive labels with the value 1: an OpenMetrics info
			// family, whose samples keep the name okrd exposes.
			om.name, om.typ = base, "info"
		}
		om.unit = unitOf(om.name)
		sf, err := sp.family(om, true)
		if err != nil {
			return err
		}
		sfs[i] = sf
		orders[i] = labelOrder(f.Labels, extra)
	}
	perKR := 0
	for _, f := range fams {
		if slices.Contains(f.Labels, "key_result") {
			perKR++
		}
	}
	perKR += len(okr.Statuses) // one status series per status
	chunkKRs := max(1, backfillBudget/(len(instants)*perKR))

	var key, b []byte
	for _, objs := range krChunks(cfg.Objectives, chunkKRs) {
		chunk := &config.Config{Objectives: objs}
		accs := make([]okrAcc, len(fams))
		for i := range accs {
			accs[i].index = map[string]int{}
		}
		for _, t := range instants {
			if err := ctx.Err(); err != nil {
				return err
			}
			ms := t.UnixMilli()
			snap := a.hist.evaluate(chunk, t, 0)
			for fi := range fams {
				acc := &accs[fi]
				acc.next = 0
				snap.EachSeries(fi, func(lv []string, v float64) {
					key = key[:0]
					for _, s := range lv {
						key = append(key, s...)
						key = append(key, 0xff)
					}
					n := acc.next
					if n >= len(acc.series) || acc.series[n].key != string(key) {
						var ok bool
						if n, ok = acc.index[string(key)]; !ok {
							n = len(acc.series)
							acc.index[string(key)] = n
							acc.series = append(acc.series, okrSeries{key: string(key),
								labels: renderLabels(fams[fi].Labels, lv, extra, orders[fi]), pts: make([]okrPoint, 0, len(instants))})
						}
					}
					acc.next = n + 1
					s := &acc.series[n]
					s.pts = append(s.pts, okrPoint{ms, v})
				})
			}
		}
		if backfillProbe != nil {
			backfillProbe()
		}
		// Written a series at a time: the spool's consecutive writes of
		// one family make one segment.
		for fi := range fams {
			sf := sfs[fi]
			for _, s := range accs[fi].series {
				b = appendOKRSeries(b[:0], s.labels, s.pts)
				if err := sp.write(sf, b); err != nil {
					return err
				}
				sf.series++
				sf.samples += len(s.pts)
			}
		}
	}
	return nil
}

// deliveryPoint is one point of a delivery series at one instant: a value,
// or a summary's or histogram's sum, count and quantiles or buckets.
type deliveryPoint struct {
	ms    int64
	v     float64
	count uint64
	qs    []bound
}

type bound struct{ at, v float64 }

type deliveryFamily struct {
	sf     *spoolFamily
	index  map[string]int
	series []deliverySeries
}

type deliverySeries struct {
	labels string
	pts    []deliveryPoint
}

// atCollector turns one CollectAt call into a prometheus.Collector, so that
// a registry checks the series against the source's descriptors and
// gathers them into families, as a scrape of /metrics would.
type atCollector struct {
	src collectors.SeriesHistorian
	ctx context.Context
	t   time.Time
	err error
}

func (c *atCollector) Describe(ch chan<- *prometheus.Desc) { c.src.Describe(ch) }
func (c *atCollector) Collect(ch chan<- prometheus.Metric) {
	c.err = c.src.CollectAt(c.ctx, c.t, ch)
}

// backfillSource writes the delivery series of one source. They are few
// next to the okr_* series (a few per repository, project or board) and
// are held for all instants before they are written.
func backfillSource(ctx context.Context, sp *spool, name string, src collectors.SeriesHistorian, instants []time.Time, extra []BackfillLabel) error {
	fams := map[string]*deliveryFamily{}
	var order []string
	for _, t := range instants {
		if err := ctx.Err(); err != nil {
			return err
		}
		reg := prometheus.NewRegistry()
		c := &atCollector{src: src, ctx: ctx, t: t}
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("source %q: %w", name, err)
		}
		mfs, err := reg.Gather()
		if c.err != nil {
			err = c.err
		}
		if err != nil {
			return fmt.Errorf("source %q: series at %s: %w", name, t.UTC().Format(time.RFC3339), err)
		}
		ms := t.UnixMilli()
		for _, mf := range mfs {
			om, err := omFamilyOf(mf)
			if err != nil {
				return fmt.Errorf("source %q: %w", name, err)
			}
			df, ok := fams[mf.GetName()]
			if !ok {
				sf, err := sp.family(om, false)
				if err != nil {
					return fmt.Errorf("source %q: %w", name, err)
				}
				df = &deliveryFamily{sf: sf, index: map[string]int{}}
				fams[mf.GetName()] = df
				order = append(order, mf.GetName())
			}
			for _, m := range mf.GetMetric() {
				names := make([]string, 0, len(m.GetLabel()))
				values := make([]string, 0, len(m.GetLabel()))
				for _, l := range m.GetLabel() {
					for _, e := range extra {
						if e.Name == l.GetName() {
							return fmt.Errorf("--label %s: the series %s of source %q already have a label of that name", e.Name, mf.GetName(), name)
						}
					}
					names = append(names, l.GetName())
					values = append(values, l.GetValue())
				}
				labels := renderLabels(names, values, extra, labelOrder(names, extra))
				n, ok := df.index[labels]
				if !ok {
					n = len(df.series)
					df.index[labels] = n
					df.series = append(df.series, deliverySeries{labels: labels})
				}
				p, err := deliveryPointOf(om.typ, m)
				if err != nil {
					return fmt.Errorf("source %q: %s: %w", name, mf.GetName(), err)
				}
				p.ms = ms
				df.series[n].pts = append(df.series[n].pts, p)
			}
		}
	}
	var b []byte
	for _, fname := range order {
		df := fams[fname]
		for _, s := range df.series {
			b = df.sf.appendDelivery(b[:0], s.labels, s.pts)
			if err := sp.write(df.sf, b); err != nil {
				return err
			}
		}
	}
	return nil
}

// omFamilyOf maps a gathered family onto an OpenMetrics family. A counter
// whose name ends in _total is an OpenMetrics counter; one without would
// need a _total sample that okrd's /metrics does not serve, so it is
// written as unknown under its own name: a backfilled series must be the
// series Prometheus scrapes.
func omFamilyOf(mf *dto.MetricFamily) (omFamily, error) {
	f := omFamily{name: mf.GetName(), help: mf.GetHelp()}
	switch mf.GetType() {
	case dto.MetricType_GAUGE:
		f.typ = "gauge"
	case dto.MetricType_COUNTER:
		if base, ok := strings.CutSuffix(f.name, "_total"); ok {
			f.name, f.typ = base, "counter"
		} else {
			f.typ = "unknown"
		}
	case dto.MetricType_SUMMARY:
		f.typ = "summary"
	case dto.MetricType_HISTOGRAM:
		f.typ = "histogram"
	case dto.MetricType_UNTYPED:
		f.typ = "unknown"
	default:
		return f, fmt.Errorf("%s: series of type %s cannot be backfilled", f.name, mf.GetType())
	}
	f.unit = unitOf(f.name)
	return f, nil
}

func deliveryPointOf(typ string, m *dto.Metric) (deliveryPoint, error) {
	switch typ {
	case "gauge":
		return deliveryPoint{v: m.GetGauge().GetValue()}, nil
	case "counter":
		return deliveryPoint{v: m.GetCounter().GetValue()}, nil
	case "summary":
		s := m.GetSummary()
		p := deliveryPoint{v: s.GetSampleSum(), count: s.GetSampleCount()}
		for _, q := range s.GetQuantile() {
			p.qs = append(p.qs, bound{q.GetQuantile(), q.GetValue()})
		}
		return p, nil
	case "histogram":
		h := m.GetHistogram()
		if len(h.GetBucket()) == 0 && (len(h.GetPositiveSpan()) > 0 || len(h.GetNegativeSpan()) > 0 || h.GetZeroCount() > 0) {
			return deliveryPoint{}, errors.New("native histograms cannot be backfilled")
		}
		p := deliveryPoint{v: h.GetSampleSum(), count: h.GetSampleCount()}
		inf := false
		for _, b := range h.GetBucket() {
			p.qs = append(p.qs, bound{b.GetUpperBound(), float64(b.GetCumulativeCount())})
			inf = inf || math.IsInf(b.GetUpperBound(), 1)
		}
		if !inf {
			// OpenMetrics wants the +Inf bucket, which the text format
			// leaves implicit: it holds every observation.
			p.qs = append(p.qs, bound{math.Inf(1), float64(h.GetSampleCount())})
		}
		return p, nil
	}
	if m.GetUntyped() != nil {
		return deliveryPoint{v: m.GetUntyped().GetValue()}, nil
	}
	return deliveryPoint{v: m.GetCounter().GetValue()}, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// The OpenMetrics text format (https://prometheus.io/docs/specs/om/open_metrics_spec/),
// as promtool tsdb create-blocks-from openmetrics reads it: families one
// after the other, each with its TYPE (then UNIT and HELP); within a
// family, each series (for a summary or histogram, each label set) with
// all its points in increasing time, a summary's or histogram's samples of
// one instant together; timestamps in seconds; "# EOF" at the end.

// omFamily is one OpenMetrics family: its name (without the _total of a
// counter's samples or the _info of an info's), type, help and unit.
type omFamily struct{ name, typ, help, unit string }

// unitOf is the OpenMetrics unit of a family, which must end its name.
func unitOf(name string) string {
	for _, u := range []string{"seconds", "ratio", "bytes"} {
		if strings.HasSuffix(name, "_"+u) {
			return u
		}
	}
	return ""
}

// labelOrder returns the indices of names followed by the added labels,
// in the order of their names (the order okrd's /metrics prints them in).
func labelOrder(names []string, extra []BackfillLabel) []int {
	all := make([]string, 0, len(names)+len(extra))
	all = append(all, names...)
	for _, e := range extra {
		all = append(all, e.Name)
	}
	idx := make([]int, len(all))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return all[idx[a]] < all[idx[b]] })
	return idx
}

// renderLabels renders the label pairs of a series, without braces.
func renderLabels(names, values []string, extra []BackfillLabel, order []int) string {
	var b []byte
	for i, k := range order {
		if i > 0 {
			b = append(b, ',')
		}
		var n, v string
		if k < len(names) {
			n, v = names[k], values[k]
		} else {
			n, v = extra[k-len(names)].Name, extra[k-len(names)].Value
		}
		b = append(b, n...)
		b = append(b, `="`...)
		b = appendEscaped(b, v)
		b = append(b, '"')
	}
	return string(b)
}

var omEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)

func appendEscaped(b []byte, v string) []byte {
	if !strings.ContainsAny(v, "\\\n\"") {
		return append(b, v...)
	}
	return append(b, omEscaper.Replace(v)...)
}

// appendFloat writes a value, or a quantile or bucket bound, as okrd's
// /metrics writes it (the text format of prometheus/common): a bound is
// part of the series' identity, and a backfilled series must be the one
// Prometheus scrapes. For the bounds okrd exports (0.5, 0.85, 0.95) this
// is also OpenMetrics' canonical form.
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

// appendTimestamp writes a timestamp in seconds, with the milliseconds
// when there are any (okrd's instants are whole seconds).
func appendTimestamp(b []byte, ms int64) []byte {
	b = strconv.AppendInt(b, ms/1000, 10)
	if r := ms % 1000; r != 0 {
		b = append(b, '.')
		b = append(b, byte('0'+r/100), byte('0'+r/10%10), byte('0'+r%10))
	}
	return b
}

// appendSample writes one sample line; extra, when not empty, is one more
// rendered label pair (a quantile or bucket bound).
func appendSample(b []byte, name, labels, extra string, v float64, ms int64) []byte {
	b = append(b, name...)
	if labels != "" || extra != "" {
		b = append(b, '{')
		b = append(b, labels...)
		if extra != "" {
			if labels != "" {
				b = append(b, ',')
			}
			b = append(b, extra...)
		}
		b = append(b, '}')
	}
	b = append(b, ' ')
	b = appendFloat(b, v)
	b = append(b, ' ')
	b = appendTimestamp(b, ms)
	return append(b, '\n')
}

func boundLabel(name string, f float64) string {
	return name + `="` + string(appendFloat(nil, f)) + `"`
}

// spool holds the series of every family until the output is assembled:
// a temporary file of segments, and per family the list of its segments
// in the order written. The okr_* series, by far the most, are spooled
// compactly (labels once, then each point's time and value in binary) and
// become text only once, when the output is assembled: spooling the text
// would write and read the whole output twice, and the text of a sample
// repeats its labels.
type spool struct {
	f      *os.File
	w      *bufio.Writer
	size   int64
	fams   []*spoolFamily
	byName map[string]*spoolFamily
}

type segment struct{ off, n int64 }

type spoolFamily struct {
	omFamily
	// compact is true for okr_* families (appendOKRSeries), false for
	// families spooled as text.
	compact         bool
	segs            []segment
	series, samples int
}

func newSpool(dir, base string) (*spool, error) {
	f, err := os.CreateTemp(dir, "."+base+".*.spool")
	if err != nil {
		return nil, fmt.Errorf("--out: creating a temporary file next to it: %w", err)
	}
	return &spool{f: f, w: bufio.NewWriterSize(f, 1<<20), byName: map[string]*spoolFamily{}}, nil
}

func (s *spool) remove() {
	s.f.Close()
	os.Remove(s.f.Name())
}

// family returns the spooled family of f, created on first use. Two
// sources of one type expose the same families (told apart by their
// source label): their series go into one family, as OpenMetrics wants.
func (s *spool) family(f omFamily, compact bool) (*spoolFamily, error) {
	if sf, ok := s.byName[f.name]; ok {
		if sf.typ != f.typ || sf.compact != compact {
			return nil, fmt.Errorf("the family %s is both a %s and a %s", f.name, sf.typ, f.typ)
		}
		return sf, nil
	}
	sf := &spoolFamily{omFamily: f, compact: compact}
	s.fams = append(s.fams, sf)
	s.byName[f.name] = sf
	return sf, nil
}

// write appends encoded series of sf to the spool; consecutive writes of
// one family make one segment.
func (s *spool) write(sf *spoolFamily, b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if _, err := s.w.Write(b); err != nil {
		return fmt.Errorf("writing the temporary file: %w", err)
	}
	n := int64(len(b))
	if k := len(sf.segs); k > 0 && sf.segs[k-1].off+sf.segs[k-1].n == s.size {
		sf.segs[k-1].n += n
	} else {
		sf.segs = append(sf.segs, segment{s.size, n})
	}
	s.size += n
	return nil
}

// appendOKRSeries encodes one okr_* series compactly: the length of its
// rendered labels and the labels, the number of points, then each point's
// time (the first in milliseconds, then the difference to the previous,
// as varints) and value (its IEEE 754 bits).
func appendOKRSeries(b []byte, labels string, pts []okrPoint) []byte {
	b = binary.AppendUvarint(b, uint64(len(labels)))
	b = append(b, labels...)
	b = binary.AppendUvarint(b, uint64(len(pts)))
	prev := int64(0)
	for _, p := range pts {
		b = binary.AppendVarint(b, p.ms-prev)
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(p.v))
		prev = p.ms
	}
	return b
}

// copyOKRSeries turns a compact segment of sf into text.
func (s *spool) copyOKRSeries(w io.Writer, sf *spoolFamily, seg segment) error {
	name := sf.name
	if sf.typ == "info" {
		name += "_info"
	}
	r := bufio.NewReaderSize(io.NewSectionReader(s.f, seg.off, seg.n), 1<<16)
	var labels, b []byte
	for {
		n, err := binary.ReadUvarint(r)
		if err == io.EOF {
			_, err = w.Write(b)
			return err
		}
		if err != nil {
			return err
		}
		if uint64(cap(labels)) < n {
			labels = make([]byte, n)
		}
		labels = labels[:n]
		if _, err := io.ReadFull(r, labels); err != nil {
			return err
		}
		ls := string(labels)
		count, err := binary.ReadUvarint(r)
		if err != nil {
			return err
		}
		ms := int64(0)
		var bits [8]byte
		for range count {
			d, err := binary.ReadVarint(r)
			if err != nil {
				return err
			}
			ms += d
			if _, err := io.ReadFull(r, bits[:]); err != nil {
				return err
			}
			b = appendSample(b, name, ls, "", math.Float64frombits(binary.LittleEndian.Uint64(bits[:])), ms)
			if len(b) > 1<<16 {
				if _, err := w.Write(b); err != nil {
					return err
				}
				b = b[:0]
			}
		}
	}
}

// assemble writes every family that has series, then "# EOF".
func (s *spool) assemble(w io.Writer) error {
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("writing the temporary file: %w", err)
	}
	var b []byte
	for _, sf := range s.fams {
		if sf.series == 0 {
			continue
		}
		b = append(b[:0], "# TYPE "...)
		b = append(b, sf.name...)
		b = append(b, ' ')
		b = append(b, sf.typ...)
		b = append(b, '\n')
		if sf.unit != "" {
			b = append(b, "# UNIT "+sf.name+" "+sf.unit+"\n"...)
		}
		if sf.help != "" {
			b = append(b, "# HELP "+sf.name+" "...)
			b = appendEscaped(b, sf.help)
			b = append(b, '\n')
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
		for _, seg := range sf.segs {
			var err error
			if sf.compact {
				err = s.copyOKRSeries(w, sf, seg)
			} else {
				_, err = io.Copy(w, io.NewSectionReader(s.f, seg.off, seg.n))
			}
			if err != nil {
				return err
			}
		}
	}
	_, err := io.WriteString(w, "# EOF\n")
	return err
}

// appendDelivery encodes one delivery series (a label set) over every
// instant: a summary's or histogram's samples of one instant together.
func (f *spoolFamily) appendDelivery(b []byte, labels string, pts []deliveryPoint) []byte {
	switch f.typ {
	case "summary", "histogram":
		name, label := f.name, "quantile"
		if f.typ == "histogram" {
			name, label = f.name+"_bucket", "le"
		}
		bounds := map[float64]bool{}
		for _, p := range pts {
			for _, q := range p.qs {
				bounds[q.at] = true
				b = appendSample(b, name, labels, boundLabel(label, q.at), q.v, p.ms)
			}
			b = appendSample(b, f.name+"_sum", labels, "", p.v, p.ms)
			b = appendSample(b, f.name+"_count", labels, "", float64(p.count), p.ms)
			f.samples += len(p.qs) + 2
		}
		f.series += len(bounds) + 2
	default:
		name := f.name
		if f.typ == "counter" {
			name += "_total"
		}
		for _, p := range pts {
			b = appendSample(b, name, labels, "", p.v, p.ms)
		}
		f.series++
		f.samples += len(pts)
	}
	return b
}
