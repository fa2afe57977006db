package app

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/store"
)

// The "fake-series" source type stands for a jira or github source: its
// delivery series at t are computed from its records in the store as they
// stood at t (events of the 7 days up to t), which a test can compute too.
type seriesSpec struct {
	// FailAt makes CollectAt fail at this instant (RFC 3339).
	FailAt string `toml:"fail_at"`
}

type seriesSource struct {
	name   string
	spec   *seriesSpec
	st     store.Store
	events *prometheus.Desc
	took   *prometheus.Desc

	polls    atomic.Int64
	mu       sync.Mutex
	writeErr error // what a write to the store gave in CollectAt
}

// seriesEvent is a record of a fake-series source.
type seriesEvent struct {
	At   time.Time `json:"at"`
	Took float64   `json:"took"`
}

var seriesSources = struct {
	sync.Mutex
	m map[string]*seriesSource
}{m: map[string]*seriesSource{}}

func (s *seriesSource) Poll(context.Context) error { s.polls.Add(1); return nil }

func (s *seriesSource) Measure(_ context.Context, bs []collectors.Binding, _ time.Time) []collectors.Measurement {
	return make([]collectors.Measurement, len(bs))
}

func (s *seriesSource) Describe(ch chan<- *prometheus.Desc) { ch <- s.events; ch <- s.took }

// Collect has nothing: the source never polled in these tests.
func (s *seriesSource) Collect(chan<- prometheus.Metric) {}

func (s *seriesSource) CollectAt(ctx context.Context, t time.Time, ch chan<- prometheus.Metric) error {
	if s.spec.FailAt != "" && t.UTC().Format(time.RFC3339) == s.spec.FailAt {
		return errors.New("the records are unreadable")
	}
	// A source must not write: the store it gets refuses.
	err := s.st.AppendValues(ctx, store.Value{ObjectiveID: "o", KeyResultID: "x", At: t, Value: 1, Origin: "source:" + s.name})
	s.mu.Lock()
	s.writeErr = err
	s.mu.Unlock()
	n, sum, durs := seriesAt(ctx, s.st, s.name, t)
	ch <- prometheus.MustNewConstMetric(s.events, prometheus.GaugeValue, float64(n), "7d")
	if n > 0 {
		ch <- prometheus.MustNewConstSummary(s.took, uint64(n), sum, map[float64]float64{0.5: durs[len(durs)/2]}, "7d")
	}
	return nil
}

// seriesAt computes the fake's figures at t from the stored events.
func seriesAt(ctx context.Context, st store.Store, source string, t time.Time) (n int, sum float64, durs []float64) {
	_ = st.Records(ctx, source, "event", func(r store.Record) error {
		var e seriesEvent
		if err := json.Unmarshal(r.Data, &e); err != nil {
			return err
		}
		if !e.At.After(t) && e.At.After(t.Add(-7*24*time.Hour)) {
			n++
			sum += e.Took
			durs = append(durs, e.Took)
		}
		return nil
	})
	sort.Float64s(durs)
	return n, sum, durs
}

func init() {
	config.RegisterSourceType("fake-series", config.SourceType{NewSpec: func() any { return &seriesSpec{} }})
	collectors.Register("fake-series", func(src *config.Source, deps collectors.Deps) (collectors.Source, error) {
		c := prometheus.Labels{"source": src.Name}
		s := &seriesSource{name: src.Name, spec: src.Spec.(*seriesSpec), st: deps.Store,
			events: prometheus.NewDesc("okrd_fake_events", "Events in the window.", []string{"window"}, c),
			took:   prometheus.NewDesc("okrd_fake_took_seconds", "Time the events took, by quantile.", []string{"window"}, c)}
		seriesSources.Lock()
		seriesSources.m[src.Name] = s
		seriesSources.Unlock()
		return s, nil
	})
}

const backfillConfig = `
[global]
time_zone = "Europe/Berlin"
[storage]
dsn = "{{DB}}"
[sources.hist]
type = "fake-history"
[sources.flow]
type = "fake-series"
{{FLOW}}
[[objectives]]
id = "o"
title = "O \"quoted\""
owner = "ana"
team = "core"
period = "2026-Q4"
  [[objectives.key_results]]
  id = "filled"
  title = "Filled in"
  source = "hist"
  metric = "m"
  baseline = 0
  target = 400
  [[objectives.key_results]]
  id = "manual"
  title = "Checked in"
  baseline = 10
  target = 20
  weight = 2
  stale_after = "240h"
  [[objectives.key_results]]
  id = "band"
  title = "Kept in a band"
  min = 1
  max = 3
[[objectives]]
id = "past"
title = "Last quarter"
period = "2026-Q3"
  [[objectives.key_results]]
  id = "signups"
  title = "Signups"
  baseline = 0
  target = 100
`

// backfillStore syncs the fake-history source once at fillNow (which fills
// in "filled" at every Berlin midnight of Q4 so far), and adds check-ins,
// a live value and the fake-series source's events.
func backfillStore(t *testing.T, dir, flow string) string {
	t.Helper()
	text := strings.ReplaceAll(backfillConfig, "{{FLOW}}", flow)
	syncApp(t, dir, text, fillNow, false)
	st, err := OpenStore(context.Background(), config.Storage{Driver: "sqlite", DSN: config.Secret(filepath.Join(dir, "okrd.db"))}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	day := 24 * time.Hour
	q4 := time.Date(2026, 9, 30, 22, 0, 0, 0, time.UTC) // midnight in Berlin
	for _, c := range []store.Checkin{
		{ObjectiveID: "o", KeyResultID: "manual", Value: 12, At: q4.Add(3*day + 5*time.Hour)},
		{ObjectiveID: "o", KeyResultID: "manual", Value: 15, At: q4.Add(20 * day)},
		{ObjectiveID: "o", KeyResultID: "manual", Value: 16, At: q4.Add(30*day + time.Hour)},
		{ObjectiveID: "past", KeyResultID: "signups", Value: 40, At: q4.Add(-60 * day)},
		{ObjectiveID: "past", KeyResultID: "signups", Value: 70, At: q4.Add(-20 * day)},
	} {
		c.Author = "test"
		if _, err := st.AddCheckin(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	// A value measured live between two midnights.
	if err := st.AppendValues(ctx, store.Value{ObjectiveID: "o", KeyResultID: "band", Value: 2.5, At: q4.Add(10*day + 7*time.Hour), Origin: "source:live"}); err != nil {
		t.Fatal(err)
	}
	var recs []store.Record
	for i := 0; i < 40; i++ {
		at := q4.Add(time.Duration(i) * 31 * time.Hour)
		data, _ := json.Marshal(seriesEvent{At: at, Took: float64(60 * (i%7 + 1))})
		recs = append(recs, store.Record{Source: "flow", Scope: "all", Kind: "event", ID: strconv.Itoa(i), UpdatedAt: at, Data: data})
	}
	if err := st.Update(ctx, func(tx store.Tx) error { return tx.PutRecords(ctx, recs...) }); err != nil {
		t.Fatal(err)
	}
	return writeConfig(t, dir, text)
}

// runBackfill runs a backfill on the store in dir at the clock now.
func runBackfill(t *testing.T, cfgPath string, now time.Time, opts BackfillOptions) (BackfillResult, error) {
	t.Helper()
	logger, _ := testLogger(t)
	a, err := New(context.Background(), Options{ConfigFile: cfgPath, Logger: logger, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return a.Backfill(context.Background(), opts)
}

// omSample is one sample of an OpenMetrics file: its series (name and
// sorted labels) and timestamp in milliseconds.
type omSample struct {
	series string
	ms     int64
}

// parseOpenMetrics reads an OpenMetrics text exposition and checks what
// the specification asks of it: a TYPE for every family before its
// samples, families not interleaved, sample names that fit the family's
// type, a UNIT that ends the family name, metrics not interleaved within a
// family, every sample with a timestamp, a metric's points in increasing
// time with a composite point's samples together, and "# EOF" at the end.
// It returns every sample's value.
func parseOpenMetrics(t *testing.T, path string) map[omSample]float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[omSample]float64{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var (
		family, typ string
		families    = map[string]bool{}
		metric      string
		done        map[string]bool // metrics of the family already finished
		lastMS      int64
		pointNames  map[string]bool // samples of the current point
		eof         bool
		line        int
	)
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("line %d: %s", line, fmt.Sprintf(format, args...))
	}
	for sc.Scan() {
		line++
		l := sc.Text()
		if eof {
			fail("after # EOF: %q", l)
		}
		if l == "# EOF" {
			eof = true
			continue
		}
		if rest, ok := strings.CutPrefix(l, "# "); ok {
			kind, rest, _ := strings.Cut(rest, " ")
			name, val, _ := strings.Cut(rest, " ")
			switch kind {
			case "TYPE":
				if families[name] {
					fail("family %s appears twice (interleaved)", name)
				}
				families[name] = true
				family, typ, metric, done = name, val, "", map[string]bool{}
				switch typ {
				case "gauge", "counter", "summary", "histogram", "info", "unknown":
				default:
					fail("type %q", typ)
				}
			case "UNIT":
				if name != family || !strings.HasSuffix(family, "_"+val) {
					fail("UNIT %s %s does not end family %s", name, val, family)
				}
			case "HELP":
				if name != family {
					fail("HELP of %s in family %s", name, family)
				}
			default:
				fail("comment line %q", l)
			}
			continue
		}
		name, labels, value, ts := splitSample(t, line, l)
		if family == "" {
			fail("sample before any TYPE: %q", l)
		}
		suffix, ok := strings.CutPrefix(name, family)
		allowed := map[string][]string{
			"gauge": {""}, "unknown": {""}, "counter": {"_total"}, "info": {"_info"},
			"summary": {"", "_sum", "_count"}, "histogram": {"_bucket", "_sum", "_count"},
		}[typ]
		if !ok || !containsString(allowed, suffix) {
			fail("sample %s in %s family %s", name, typ, family)
		}
		// The metric is the label set without quantile and le.
		var own []string
		for _, lv := range labels {
			if !strings.HasPrefix(lv, "quantile=") && !strings.HasPrefix(lv, "le=") {
				own = append(own, lv)
			}
		}
		m := strings.Join(own, ",")
		if m != metric {
			if done[m] {
				fail("metric {%s} of %s interleaved with another", m, family)
			}
			done[metric] = true
			metric, lastMS, pointNames = m, math.MinInt64, map[string]bool{}
		}
		id := name + "{" + strings.Join(labels, ",") + "}"
		switch {
		case ts < lastMS:
			fail("%s at %d after %d", id, ts, lastMS)
		case ts == lastMS && (typ != "summary" && typ != "histogram" || pointNames[id]):
			fail("%s twice at %d", id, ts)
		case ts > lastMS:
			pointNames = map[string]bool{}
		}
		pointNames[id] = true
		lastMS = ts
		out[omSample{id, ts}] = value
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if !eof {
		t.Fatal("no # EOF at the end")
	}
	return out
}

func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// splitSample parses `name{a="x",b="y"} value timestamp` into its name,
// its label pairs sorted (as name="value" with the value unescaped and
// quoted back with %q), its value and its timestamp in milliseconds.
func splitSample(t *testing.T, line int, l string) (string, []string, float64, int64) {
	t.Helper()
	i := strings.IndexAny(l, "{ ")
	if i < 0 {
		t.Fatalf("line %d: not a sample: %q", line, l)
	}
	name, rest := l[:i], l[i:]
	var labels []string
	if rest[0] == '{' {
		rest = rest[1:]
		for rest[0] != '}' {
			eq := strings.IndexByte(rest, '=')
			if eq < 0 || rest[eq+1] != '"' {
				t.Fatalf("line %d: bad labels in %q", line, l)
			}
			ln := rest[:eq]
			rest = rest[eq+2:]
			var v strings.Builder
			for {
				c := rest[0]
				rest = rest[1:]
				if c == '"' {
					break
				}
				if c == '\\' {
					switch rest[0] {
					case 'n':
						v.WriteByte('\n')
					case '"', '\\':
						v.WriteByte(rest[0])
					default:
						t.Fatalf("line %d: undefined escape in %q", line, l)
					}
					rest = rest[1:]
					continue
				}
				v.WriteByte(c)
			}
			labels = append(labels, ln+"="+strconv.Quote(v.String()))
			rest = strings.TrimPrefix(rest, ",")
		}
		rest = rest[1:]
	}
	fields := strings.Fields(rest)
	if len(fields) != 2 {
		t.Fatalf("line %d: want a value and a timestamp: %q", line, l)
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		t.Fatalf("line %d: value: %v", line, err)
	}
	sec, frac, _ := strings.Cut(fields[1], ".")
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil || len(frac) > 3 {
		t.Fatalf("line %d: timestamp %q", line, fields[1])
	}
	ms := s * 1000
	if frac != "" {
		f, _ := strconv.Atoi((frac + "00")[:3])
		ms += int64(f)
	}
	sort.Strings(labels)
	return name, labels, v, ms
}

// metricsAt returns the okr_* series okrd's /metrics serves with its clock
// at t, read back from the text format: a daemon evaluating at t.
func metricsAt(t *testing.T, cfgPath string, at time.Time) map[string]float64 {
	t.Helper()
	logger, _ := testLogger(t)
	a, err := New(context.Background(), Options{ConfigFile: cfgPath, Logger: logger, Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	defer a.store.Close()
	a.Evaluate(context.Background())
	return parseText(t, string(a.Snapshot().AppendText(nil)))
}

// clockedDaemon evaluates like a daemon whose clock is moved from instant to
// instant.
type clockedDaemon struct {
	a     *App
	clock time.Time
}

func newClockedDaemon(t *testing.T, cfgPath string) *clockedDaemon {
	t.Helper()
	e := &clockedDaemon{}
	logger, _ := testLogger(t)
	a, err := New(context.Background(), Options{ConfigFile: cfgPath, Logger: logger, Now: func() time.Time { return e.clock }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.store.Close() })
	e.a = a
	return e
}

func (e *clockedDaemon) at(t *testing.T, at time.Time) map[string]float64 {
	t.Helper()
	e.clock = at
	e.a.Evaluate(context.Background())
	return parseText(t, string(e.a.Snapshot().AppendText(nil)))
}

// parseText reads the text format into series (name and sorted labels,
// as splitSample writes them) and values.
func parseText(t *testing.T, text string) map[string]float64 {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for name, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, l.GetName()+"="+strconv.Quote(l.GetValue()))
			}
			sort.Strings(ls)
			out[name+"{"+strings.Join(ls, ",")+"}"] = m.GetGauge().GetValue()
		}
	}
	return out
}

// atInstant returns the samples of one timestamp, by series.
func atInstant(samples map[omSample]float64, at time.Time) map[string]float64 {
	out := map[string]float64{}
	for s, v := range samples {
		if s.ms == at.UnixMilli() {
			out[s.series] = v
		}
	}
	return out
}

func sameValue(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }

func TestTheBackfillWritesAtEveryInstantWhatMetricsShowedThen(t *testing.T) {
	dir := t.TempDir()
	cfgPath := backfillStore(t, dir, "")
	out := filepath.Join(dir, "okrd.om")
	res, err := runBackfill(t, cfgPath, fillNow, BackfillOptions{Out: out})
	if err != nil {
		t.Fatal(err)
	}
	samples := parseOpenMetrics(t, out)

	// The default range: from the earliest period start (Q3, midnight in
	// Berlin) to now; every midnight in between.
	q3 := time.Date(2026, 6, 30, 22, 0, 0, 0, time.UTC)
	wantInstants := berlinMidnights(time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 15, 0, 0, 0, 0, time.UTC))
	if !res.From.Equal(q3) || !res.To.Equal(fillNow) || res.Instants != len(wantInstants) {
		t.Fatalf("from %s to %s at %d instants, want %s to %s at %d", res.From, res.To, res.Instants, q3, fillNow, len(wantInstants))
	}
	seen := map[int64]bool{}
	for s := range samples {
		seen[s.ms] = true
	}
	if len(seen) != len(wantInstants) {
		t.Errorf("samples at %d timestamps, want %d", len(seen), len(wantInstants))
	}

	e := newClockedDaemon(t, cfgPath)
	n := 0
	for _, at := range wantInstants {
		got := atInstant(samples, at)
		want := e.at(t, at)
		for series, w := range want {
			if !strings.HasPrefix(series, "okr_") {
				continue
			}
			g, ok := got[series]
			if !ok {
				t.Errorf("%s: %s = %v in /metrics, missing from the backfill", at, series, w)
				continue
			}
			if !sameValue(g, w) {
				t.Errorf("%s: %s = %v, /metrics said %v", at, series, g, w)
			}
			n++
		}
		for series := range got {
			if _, ok := want[series]; !ok && strings.HasPrefix(series, "okr_") {
				t.Errorf("%s: %s is in the backfill, not in /metrics", at, series)
			}
		}
	}
	if n < 20*len(wantInstants) {
		t.Fatalf("only %d okr_* samples compared", n)
	}

	// Spot checks by hand: on 10 November (Berlin), filled in holds the
	// filled-in value of that midnight; the check-ins are there from the
	// day after each one; last quarter has its score.
	nov10 := time.Date(2026, 11, 9, 23, 0, 0, 0, time.UTC)
	got := atInstant(samples, nov10)
	if v, want := got[`okr_key_result_value{key_result="filled",objective="o"}`], nov10.Sub(histBase).Hours()/24; v != want {
		t.Errorf("filled on 10 November = %v, want %v", v, want)
	}
	if v := got[`okr_key_result_value{key_result="manual",objective="o"}`]; v != 16 {
		t.Errorf("manual on 10 November = %v, want the check-in 16", v)
	}
	if v := got[`okr_key_result_score{key_result="signups",objective="past"}`]; v != 0.7 {
		t.Errorf("last quarter's score = %v, want 0.7", v)
	}
	oct1 := time.Date(2026, 9, 30, 22, 0, 0, 0, time.UTC)
	if _, ok := atInstant(samples, oct1)[`okr_key_result_value{key_result="manual",objective="o"}`]; ok {
		t.Error("manual has a value on 1 October, before its first check-in")
	}
}

func TestTheBackfillMatchesADaemonAtTheGivenInstants(t *testing.T) {
	// A daemon started afresh at one instant, not moved along: the same.
	dir := t.TempDir()
	cfgPath := backfillStore(t, dir, "")
	out := filepath.Join(dir, "okrd.om")
	if _, err := runBackfill(t, cfgPath, fillNow, BackfillOptions{Out: out,
		From: time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 10, 23, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	samples := parseOpenMetrics(t, out)
	// The range grid starts at --from itself, then Berlin midnights.
	for _, at := range []time.Time{
		time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 10, 20, 22, 0, 0, 0, time.UTC),
		time.Date(2026, 10, 21, 22, 0, 0, 0, time.UTC),
		time.Date(2026, 10, 22, 22, 0, 0, 0, time.UTC),
	} {
		got, want := atInstant(samples, at), metricsAt(t, cfgPath, at)
		okr := 0
		for series, w := range want {
			if strings.HasPrefix(series, "okr_") {
				okr++
				if g, ok := got[series]; !ok || !sameValue(g, w) {
					t.Errorf("%s: %s = %v (present %v), /metrics said %v", at, series, g, ok, w)
				}
			}
		}
		if okr == 0 {
			t.Fatalf("%s: no okr_* series in /metrics", at)
		}
	}
	if n := len(samples); n == 0 {
		t.Fatal("no samples")
	}
	for s := range samples {
		if s.ms < time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC).UnixMilli() || s.ms >= time.Date(2026, 10, 23, 0, 0, 0, 0, time.UTC).UnixMilli() {
			t.Fatalf("sample %s at %d outside [--from, --to)", s.series, s.ms)
		}
	}
}

func TestTheDeliverySeriesAreWrittenAsTheSourceGivesThemAtEachInstant(t *testing.T) {
	dir := t.TempDir()
	cfgPath := backfillStore(t, dir, "")
	out := filepath.Join(dir, "okrd.om")
	from, to := time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 25, 0, 0, 0, 0, time.UTC)
	res, err := runBackfill(t, cfgPath, fillNow, BackfillOptions{Out: out, From: from, To: to,
		Labels: []BackfillLabel{{"job", "okrd"}, {"instance", "okrd.example:9100"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Sources) != 1 || res.Sources[0] != "flow" {
		t.Errorf("sources = %v, want [flow]", res.Sources)
	}
	samples := parseOpenMetrics(t, out)
	st, err := OpenStore(context.Background(), config.Storage{Driver: "sqlite", DSN: config.Secret(filepath.Join(dir, "okrd.db"))}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const ls = `instance="okrd.example:9100",job="okrd",source="flow",window="7d"`
	instants := backfillInstants(mustLoad(t, cfgPath), from, to)
	if len(instants) != 21 {
		t.Fatalf("%d instants, want 21", len(instants))
	}
	withSummary := 0
	for _, at := range instants {
		n, sum, durs := seriesAt(context.Background(), st, "flow", at)
		got := atInstant(samples, at)
		if v, ok := got["okrd_fake_events{"+ls+"}"]; !ok || v != float64(n) {
			t.Errorf("%s: events = %v (present %v), want %d", at, v, ok, n)
		}
		if n == 0 {
			if _, ok := got["okrd_fake_took_seconds_count{"+ls+"}"]; ok {
				t.Errorf("%s: a summary of no events", at)
			}
			continue
		}
		withSummary++
		if v := got["okrd_fake_took_seconds_count{"+ls+"}"]; v != float64(n) {
			t.Errorf("%s: count = %v, want %d", at, v, n)
		}
		if v := got["okrd_fake_took_seconds_sum{"+ls+"}"]; v != sum {
			t.Errorf("%s: sum = %v, want %v", at, v, sum)
		}
		if v := got[`okrd_fake_took_seconds{instance="okrd.example:9100",job="okrd",quantile="0.5",source="flow",window="7d"}`]; v != durs[len(durs)/2] {
			t.Errorf("%s: median = %v, want %v", at, v, durs[len(durs)/2])
		}
	}
	if withSummary == 0 {
		t.Fatal("no instant with events: the test checks nothing of the summary")
	}
	// Every series carries the added labels.
	for s := range samples {
		if !strings.Contains(s.series, `instance="okrd.example:9100"`) || !strings.Contains(s.series, `job="okrd"`) {
			t.Fatalf("%s lacks the added labels", s.series)
		}
	}

	// The source answered from the store, without a poll and without
	// writing.
	seriesSources.Lock()
	src := seriesSources.m["flow"]
	seriesSources.Unlock()
	if p := src.polls.Load(); p != 0 {
		t.Errorf("the source was polled %d times", p)
	}
	src.mu.Lock()
	werr := src.writeErr
	src.mu.Unlock()
	if !errors.Is(werr, errReadOnly) {
		t.Errorf("a write of the source during the backfill gave %v, want it refused", werr)
	}
	vals, err := st.History(context.Background(), "o", "x", time.Time{}, time.Time{})
	if err != nil || len(vals) != 0 {
		t.Errorf("the backfill wrote values: %v, %v", vals, err)
	}
}

func mustLoad(t *testing.T, path string) *config.Config {
	t.Helper()
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestTheOutputIsTheSameWhateverTheChunkSize(t *testing.T) {
	dir := t.TempDir()
	cfgPath := backfillStore(t, dir, "")
	big := filepath.Join(dir, "big.om")
	if _, err := runBackfill(t, cfgPath, fillNow, BackfillOptions{Out: big}); err != nil {
		t.Fatal(err)
	}
	old := backfillBudget
	backfillBudget = 1 // one objective per chunk
	defer func() { backfillBudget = old }()
	small := filepath.Join(dir, "small.om")
	if _, err := runBackfill(t, cfgPath, fillNow, BackfillOptions{Out: small}); err != nil {
		t.Fatal(err)
	}
	a, b := parseOpenMetrics(t, big), parseOpenMetrics(t, small)
	if len(a) != len(b) || len(a) == 0 {
		t.Fatalf("%d samples in one chunk, %d in chunks of one objective", len(a), len(b))
	}
	for s, v := range a {
		if w, ok := b[s]; !ok || !sameValue(v, w) {
			t.Fatalf("%s at %d: %v in one chunk, %v (present %v) in small chunks", s.series, s.ms, v, w, ok)
		}
	}
}

func TestAFailedBackfillLeavesNoFile(t *testing.T) {
	dir := t.TempDir()
	cfgPath := backfillStore(t, dir, `fail_at = "2026-10-09T22:00:00Z"`)
	out := filepath.Join(dir, "okrd.om")
	if err := os.WriteFile(out, []byte("an older backfill\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := runBackfill(t, cfgPath, fillNow, BackfillOptions{Out: out})
	if err == nil || !strings.Contains(err.Error(), `source "flow"`) || !strings.Contains(err.Error(), "2026-10-09T22:00:00Z") {
		t.Fatalf("err = %v, want one naming the source and the instant", err)
	}
	if b, _ := os.ReadFile(out); string(b) != "an older backfill\n" {
		t.Errorf("--out was changed: %q", b)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func TestAddedLabelsAreChecked(t *testing.T) {
	tests := []struct {
		name   string
		labels []BackfillLabel
		want   string
	}{
		{"a valid job and instance", []BackfillLabel{{"job", "okrd"}, {"instance", "host:9100"}}, ""},
		{"a name with a dash", []BackfillLabel{{"my-job", "x"}}, "letters, digits and underscores"},
		{"a name starting with a digit", []BackfillLabel{{"1job", "x"}}, "letters, digits and underscores"},
		{"a reserved name", []BackfillLabel{{"__name__", "x"}}, "reserved"},
		{"one of okrd's own labels", []BackfillLabel{{"objective", "x"}}, "already have a label"},
		{"the source label", []BackfillLabel{{"source", "x"}}, "already have a label"},
		{"a summary's quantile", []BackfillLabel{{"quantile", "x"}}, "already have a label"},
		{"a name given twice", []BackfillLabel{{"job", "a"}, {"job", "b"}}, "twice"},
		{"an empty value", []BackfillLabel{{"job", ""}}, "empty value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validateBackfillLabels(tt.labels)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.labels[len(tt.labels)-1].Name) {
				t.Fatalf("err = %v, want one naming the label and saying %q", err, tt.want)
			}
		})
	}
	if _, err := ParseBackfillLabel("job"); err == nil {
		t.Error("a label without = is accepted")
	}
	if l, err := ParseBackfillLabel("instance=a=b"); err != nil || l != (BackfillLabel{"instance", "a=b"}) {
		t.Errorf("instance=a=b parses as %+v, %v", l, err)
	}
}

func TestALabelThatADeliverySeriesHasIsRefused(t *testing.T) {
	dir := t.TempDir()
	cfgPath := backfillStore(t, dir, "")
	_, err := runBackfill(t, cfgPath, fillNow, BackfillOptions{Out: filepath.Join(dir, "okrd.om"), Labels: []BackfillLabel{{"window", "x"}}})
	if err == nil || !strings.Contains(err.Error(), "--label window") || !strings.Contains(err.Error(), "okrd_fake_events") {
		t.Fatalf("err = %v, want one naming the label and the series", err)
	}
}

func TestBackfillArgumentsAreChecked(t *testing.T) {
	dir := t.TempDir()
	cfgPath := backfillStore(t, dir, "")
	out := filepath.Join(dir, "okrd.om")
	tests := []struct {
		name string
		opts BackfillOptions
		want string
	}{
		{"no output", BackfillOptions{}, "--out"},
		{"from after to", BackfillOptions{Out: out, From: fillNow, To: fillNow.Add(-time.Hour)}, "is not before --to"},
		{"an end in the future", BackfillOptions{Out: out, To: fillNow.Add(time.Hour)}, "--to 2026-11-15T11:00:00Z is after now (2026-11-15T10:00:00Z)"},
		{"a range shorter than a step has --from for its one instant", BackfillOptions{Out: out, From: fillNow.Add(-time.Minute), To: fillNow.Add(-time.Minute + time.Second)}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runBackfill(t, cfgPath, fillNow, tt.opts)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func sameInstants(a, b []time.Time) bool {
	return slices.EqualFunc(a, b, func(x, y time.Time) bool { return x.Equal(y) })
}

func TestBackfillInstantsFollowTheFillGrid(t *testing.T) {
	cfg := &config.Config{}
	cfg.Global.Location, _ = time.LoadLocation("Europe/Berlin")
	cfg.History.Step = config.DefaultHistoryStep
	berlin := cfg.Global.Location
	q4 := &config.Objective{ID: "q4"}
	q4.Resolved.Start = time.Date(2026, 10, 1, 0, 0, 0, 0, berlin)
	q4.Resolved.End = time.Date(2027, 1, 1, 0, 0, 0, 0, berlin)
	cfg.Objectives = []*config.Objective{q4}

	t.Run("every midnight of the period, across the change of time", func(t *testing.T) {
		got := backfillInstants(cfg, q4.Resolved.Start, time.Date(2026, 11, 15, 10, 0, 0, 0, time.UTC))
		want := berlinMidnights(time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 15, 0, 0, 0, 0, time.UTC))
		if !sameInstants(got, want) {
			t.Fatalf("got %v\nwant %v", got, want)
		}
	})
	t.Run("to is excluded and the period end is an instant once past", func(t *testing.T) {
		got := backfillInstants(cfg, time.Date(2026, 12, 30, 0, 0, 0, 0, berlin), time.Date(2027, 1, 2, 0, 0, 0, 0, berlin))
		want := []time.Time{
			time.Date(2026, 12, 30, 0, 0, 0, 0, berlin), time.Date(2026, 12, 31, 0, 0, 0, 0, berlin),
			time.Date(2027, 1, 1, 0, 0, 0, 0, berlin),
		}
		if !sameInstants(got, want) {
			t.Fatalf("got %v\nwant %v", got, want)
		}
	})
	t.Run("a from between midnights is an instant, then midnights", func(t *testing.T) {
		from := time.Date(2026, 10, 10, 15, 0, 0, 0, berlin)
		got := backfillInstants(cfg, from, time.Date(2026, 10, 12, 0, 0, 0, 1, berlin))
		want := []time.Time{from, time.Date(2026, 10, 11, 0, 0, 0, 0, berlin), time.Date(2026, 10, 12, 0, 0, 0, 0, berlin)}
		if !sameInstants(got, want) {
			t.Fatalf("got %v\nwant %v", got, want)
		}
	})
	t.Run("a step of six hours", func(t *testing.T) {
		c := *cfg
		c.History.Step = config.Duration(6 * time.Hour)
		got := backfillInstants(&c, q4.Resolved.Start, time.Date(2026, 10, 2, 0, 0, 0, 0, berlin))
		var want []time.Time
		for h := 0; h < 24; h += 6 {
			want = append(want, time.Date(2026, 10, 1, h, 0, 0, 0, berlin))
		}
		if !sameInstants(got, want) {
			t.Fatalf("got %v\nwant %v", got, want)
		}
	})
	t.Run("between two periods the grid goes on", func(t *testing.T) {
		c := *cfg
		q1 := &config.Objective{ID: "q1"}
		q1.Resolved.Start = time.Date(2027, 4, 1, 0, 0, 0, 0, berlin)
		q1.Resolved.End = time.Date(2027, 7, 1, 0, 0, 0, 0, berlin)
		c.Objectives = []*config.Objective{q4, q1}
		got := backfillInstants(&c, time.Date(2027, 2, 10, 0, 0, 0, 0, berlin), time.Date(2027, 2, 12, 0, 0, 0, 0, berlin))
		want := []time.Time{time.Date(2027, 2, 10, 0, 0, 0, 0, berlin), time.Date(2027, 2, 11, 0, 0, 0, 0, berlin)}
		if !sameInstants(got, want) {
			t.Fatalf("got %v\nwant %v", got, want)
		}
	})
}

// typesSource gives one series of every type client_golang makes.
type typesSource struct{ descs []*prometheus.Desc }

func newTypesSource() *typesSource {
	d := func(name string) *prometheus.Desc {
		return prometheus.NewDesc(name, "Help with a \"quote\" and a \\ backslash.", []string{"repo"}, prometheus.Labels{"source": "t"})
	}
	return &typesSource{descs: []*prometheus.Desc{d("okrd_t_requests_total"), d("okrd_t_polls"), d("okrd_t_wait_seconds"),
		d("okrd_t_size_bytes"), d("okrd_t_things"), d("okrd_t_open")}}
}

func (s *typesSource) Poll(context.Context) error { return nil }
func (s *typesSource) Measure(context.Context, []collectors.Binding, time.Time) []collectors.Measurement {
	return nil
}
func (s *typesSource) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range s.descs {
		ch <- d
	}
}
func (s *typesSource) Collect(chan<- prometheus.Metric) {}
func (s *typesSource) CollectAt(_ context.Context, t time.Time, ch chan<- prometheus.Metric) error {
	day := float64(t.Day())
	ch <- prometheus.MustNewConstMetric(s.descs[0], prometheus.CounterValue, 10*day, "a/b")
	ch <- prometheus.MustNewConstMetric(s.descs[1], prometheus.CounterValue, day, "a/b")
	ch <- prometheus.MustNewConstSummary(s.descs[2], 4, 10*day, map[float64]float64{0.5: day, 1: 2 * day}, "a/b")
	ch <- prometheus.MustNewConstHistogram(s.descs[3], 3, 7*day, map[float64]uint64{1: 1, 10: 2}, "a/b")
	ch <- prometheus.MustNewConstMetric(s.descs[4], prometheus.UntypedValue, day, "a/b")
	ch <- prometheus.MustNewConstMetric(s.descs[5], prometheus.GaugeValue, math.NaN(), "a/b")
	return nil
}

func TestEveryMetricTypeIsWrittenAsOpenMetrics(t *testing.T) {
	dir := t.TempDir()
	sp, err := newSpool(dir, "okrd.om")
	if err != nil {
		t.Fatal(err)
	}
	defer sp.remove()
	instants := []time.Time{time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 2, 0, 0, 0, 0, time.UTC)}
	if err := backfillSource(context.Background(), sp, "t", newTypesSource(), instants, []BackfillLabel{{"job", "okrd"}}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "okrd.om")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := sp.assemble(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	samples := parseOpenMetrics(t, out)
	b, _ := os.ReadFile(out)
	text := string(b)
	for _, want := range []string{
		// A counter named _total is an OpenMetrics counter of the name
		// without it; one without is unknown under its own name, the name
		// okrd's /metrics serves.
		"# TYPE okrd_t_requests counter\n", "# TYPE okrd_t_polls unknown\n",
		"# TYPE okrd_t_wait_seconds summary\n# UNIT okrd_t_wait_seconds seconds\n",
		"# TYPE okrd_t_size_bytes histogram\n# UNIT okrd_t_size_bytes bytes\n",
		"# TYPE okrd_t_things unknown\n", "# TYPE okrd_t_open gauge\n",
		`# HELP okrd_t_open Help with a \"quote\" and a \\ backslash.` + "\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the output lacks %q:\n%s", want, text)
		}
	}
	ms := instants[1].UnixMilli()
	const ls = `job="okrd",repo="a/b",source="t"`
	for series, want := range map[string]float64{
		"okrd_t_requests_total{" + ls + "}":                                    20,
		"okrd_t_polls{" + ls + "}":                                             2,
		`okrd_t_wait_seconds{job="okrd",quantile="0.5",repo="a/b",source="t"}`: 2,
		// A quantile of 1 is written "1", as /metrics writes it.
		`okrd_t_wait_seconds{job="okrd",quantile="1",repo="a/b",source="t"}`: 4,
		"okrd_t_wait_seconds_sum{" + ls + "}":                                20,
		"okrd_t_wait_seconds_count{" + ls + "}":                              4,
		`okrd_t_size_bytes_bucket{job="okrd",le="1",repo="a/b",source="t"}`:  1,
		`okrd_t_size_bytes_bucket{job="okrd",le="10",repo="a/b",source="t"}`: 2,
		// The +Inf bucket, implicit in the text format, holds the count.
		`okrd_t_size_bytes_bucket{job="okrd",le="+Inf",repo="a/b",source="t"}`: 3,
		"okrd_t_size_bytes_sum{" + ls + "}":                                    14,
		"okrd_t_size_bytes_count{" + ls + "}":                                  3,
		"okrd_t_things{" + ls + "}":                                            2,
	} {
		if got, ok := samples[omSample{series, ms}]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", series, got, ok, want)
		}
	}
	if v, ok := samples[omSample{"okrd_t_open{" + ls + "}", ms}]; !ok || !math.IsNaN(v) {
		t.Errorf("the NaN gauge = %v (present %v)", v, ok)
	}
}
