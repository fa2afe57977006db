package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/okrd/okrd/app"
	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/dashboards"
	"github.com/okrd/okrd/internal/testenv"
	"github.com/okrd/okrd/snapshot"
	"github.com/okrd/okrd/store"
)

// flowAnchor is the last deployment the e2e-flow source knows of, and the
// time the test's Prometheus would have started scraping okrd: the end
// of the backfill. It lies in 2025-Q4 (in Berlin, whose daylight saving
// time ended on 26 October 2025, a day of 25 hours).
var flowAnchor = time.Date(2025, 12, 30, 9, 30, 0, 0, time.UTC)

// The "e2e-flow" source type stands for a github source: its poll stores
// deployments over the 120 days up to flowAnchor, its key results (deployments
// in the last 7 days, their median lead time) are measured and filled in
// from those records, and its delivery series (okrd_github_deployments
// and okrd_github_lead_time_for_changes_seconds, as a github source names
// them) are given as of any instant from the records in the store.
type flowSpec struct{}

type flowSource struct {
	name                 string
	st                   store.Store
	now                  func() time.Time
	deployments, leadDur *prometheus.Desc
}

type flowDeployment struct {
	At   time.Time `json:"at"`
	Lead float64   `json:"lead"`
}

func (s *flowSource) Poll(ctx context.Context) error {
	var recs []store.Record
	for i := 0; i < 180; i++ {
		d := flowDeployment{At: flowAnchor.Add(-time.Duration(i) * 16 * time.Hour), Lead: float64(3600 * (1 + i%5))}
		data, _ := json.Marshal(d)
		recs = append(recs, store.Record{Source: s.name, Scope: "all", Kind: "deployment", ID: strconv.Itoa(i), UpdatedAt: d.At, Data: data})
	}
	return s.st.Update(ctx, func(tx store.Tx) error {
		if err := tx.PutRecords(ctx, recs...); err != nil {
			return err
		}
		return tx.SetCursor(ctx, s.name, "all", flowAnchor.Format(time.RFC3339))
	})
}

// flowAt returns the deployments of the 7 days up to t and their lead
// times, sorted, from the records in st.
func flowAt(ctx context.Context, st store.Store, source string, t time.Time) ([]float64, error) {
	var leads []float64
	err := st.Records(ctx, source, "deployment", func(r store.Record) error {
		var d flowDeployment
		if err := json.Unmarshal(r.Data, &d); err != nil {
			return err
		}
		if !d.At.After(t) && d.At.After(t.Add(-7*24*time.Hour)) {
			leads = append(leads, d.Lead)
		}
		return nil
	})
	sort.Float64s(leads)
	return leads, err
}

// flowQuantile is the nearest-rank quantile of sorted values.
func flowQuantile(sorted []float64, q float64) float64 {
	return sorted[int(math.Ceil(q*float64(len(sorted))))-1]
}

func (s *flowSource) measureAt(ctx context.Context, b collectors.Binding, t time.Time) collectors.Measurement {
	leads, err := flowAt(ctx, s.st, s.name, t)
	if err != nil {
		return collectors.Measurement{Err: err}
	}
	switch b.KeyResult.Metric {
	case "deployments_7d":
		return collectors.Measurement{OK: true, Value: float64(len(leads))}
	case "lead_p50":
		if len(leads) == 0 {
			return collectors.Measurement{}
		}
		return collectors.Measurement{OK: true, Value: flowQuantile(leads, 0.5)}
	}
	return collectors.Measurement{Err: fmt.Errorf("no metric %q", b.KeyResult.Metric)}
}

func (s *flowSource) Measure(ctx context.Context, bs []collectors.Binding, now time.Time) []collectors.Measurement {
	out := make([]collectors.Measurement, len(bs))
	for i, b := range bs {
		out[i] = s.measureAt(ctx, b, now)
	}
	return out
}

func (s *flowSource) History(ctx context.Context, reqs []collectors.HistoryRequest) [][]collectors.Measurement {
	out := make([][]collectors.Measurement, len(reqs))
	for i, r := range reqs {
		for _, t := range r.At {
			out[i] = append(out[i], s.measureAt(ctx, r.Binding, t))
		}
	}
	return out
}

func (s *flowSource) Describe(ch chan<- *prometheus.Desc) { ch <- s.deployments; ch <- s.leadDur }

func (s *flowSource) Collect(ch chan<- prometheus.Metric) {
	_ = s.CollectAt(context.Background(), s.now(), ch)
}

var flowQuantiles = []float64{0.5, 0.85, 0.95}

func (s *flowSource) CollectAt(ctx context.Context, t time.Time, ch chan<- prometheus.Metric) error {
	leads, err := flowAt(ctx, s.st, s.name, t)
	if err != nil {
		return err
	}
	ch <- prometheus.MustNewConstMetric(s.deployments, prometheus.GaugeValue, float64(len(leads)), "all", "7d")
	if len(leads) > 0 {
		qs := map[float64]float64{}
		sum := 0.0
		for _, q := range flowQuantiles {
			qs[q] = flowQuantile(leads, q)
		}
		for _, l := range leads {
			sum += l
		}
		ch <- prometheus.MustNewConstSummary(s.leadDur, uint64(len(leads)), sum, qs, "all", "7d")
	}
	return nil
}

func init() {
	config.RegisterSourceType("e2e-flow", config.SourceType{NewSpec: func() any { return &flowSpec{} }})
	collectors.Register("e2e-flow", func(src *config.Source, deps collectors.Deps) (collectors.Source, error) {
		c := prometheus.Labels{"source": src.Name}
		return &flowSource{name: src.Name, st: deps.Store, now: deps.Now,
			deployments: prometheus.NewDesc("okrd_github_deployments", "Successful deployments in the window.", []string{"repo", "window"}, c),
			leadDur:     prometheus.NewDesc("okrd_github_lead_time_for_changes_seconds", "Lead time for changes, by quantile.", []string{"repo", "window"}, c),
		}, nil
	})
}

const backfillE2EConfig = `
[global]
time_zone = "Europe/Berlin"

[storage]
dsn = "{{DIR}}/okrd.db"

[sources.flow]
type = "e2e-flow"

[[objectives]]
id = "ship"
title = "Ship faster"
owner = "maria"
team = "platform"
period = "2025-Q4"

  [[objectives.key_results]]
  id = "deploys"
  title = "Deploy 20 times a week"
  source = "flow"
  metric = "deployments_7d"
  baseline = 0
  target = 20
  weight = 2

  [[objectives.key_results]]
  id = "lead"
  title = "Lead time under an hour"
  source = "flow"
  metric = "lead_p50"
  baseline = 18000
  target = 3600
  unit = "duration"

  [[objectives.key_results]]
  id = "nps"
  title = "NPS from 30 to 40"
  baseline = 30
  target = 40

  [[objectives.key_results]]
  id = "latency"
  title = "p95 latency under 300 ms"
  min = 0
  max = 0.3
  unit = "duration"

[[objectives]]
id = "past"
title = "Last period's signups"
owner = "lena"
team = "growth"
period = "2025-Q3"

  [[objectives.key_results]]
  id = "signups"
  title = "Signups from 10 to 20"
  baseline = 10
  target = 20
`

// TestBackfilledHistoryShowsInTheDashboardsOfARealPrometheus syncs a
// source with four months of records (which fills in its key results'
// history), adds check-ins and values measured live, runs okrd backfill
// up to the time Prometheus would have started scraping (in the middle of
// the current period), turns its output into blocks with promtool, starts
// Prometheus on them, and runs the generated dashboards' trajectory
// queries over the periods: every step of every day has a value, and each
// equals what okrd computes at the grid instant the step falls after.
func TestBackfilledHistoryShowsInTheDashboardsOfARealPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prometheus; not in -short mode")
	}
	promtool := testenv.Program(t, "promtool", "prometheus")
	promBin := testenv.Program(t, "prometheus", "prometheus")
	dir := t.TempDir()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(backfillE2EConfig, "{{DIR}}", filepath.ToSlash(dir))
	cfgPath := filepath.Join(dir, "okrd.toml")
	if err := os.WriteFile(cfgPath, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun := func(args ...string) string {
		t.Helper()
		code, out, errs := runCLI(t, args...)
		if code != 0 {
			t.Fatalf("okrd %s: exit %d\n%s", strings.Join(args, " "), code, errs)
		}
		return out
	}
	mustRun("sync", "--config", cfgPath)
	for _, ci := range [][]string{
		{"ship/nps", "32", "--at", "2025-10-12T11:00:00+02:00"}, {"ship/nps", "35", "--at", "2025-11-02T15:00:00+01:00"},
		{"ship/nps", "37", "--at", "2025-12-20T09:00:00+01:00"},
		{"ship/latency", "0.32", "--at", "2025-10-16"}, {"ship/latency", "0.27", "--at", "2025-11-12T10:00:00Z"},
		{"ship/latency", "0.25", "--at", "2025-12-27T10:00:00Z"},
		{"past/signups", "12", "--at", "2025-07-10"}, {"past/signups", "16", "--at", "2025-08-20T10:00:00Z"},
		{"past/signups", "19", "--at", "2025-09-21T10:00:00Z"},
	} {
		mustRun(append([]string{"checkin", "--config", cfgPath}, ci...)...)
	}
	addLiveValues(t, dir)

	om := filepath.Join(dir, "okrd.om")
	out := mustRun("backfill", "--config", cfgPath, "--out", om, "--to", flowAnchor.Format(time.RFC3339),
		"--label", "job=okrd", "--label", "instance=okrd-e2e:9184")
	m := regexp.MustCompile(`at (\d+) instants from (\S+) to (\S+) into`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("backfill printed %q", out)
	}
	if to, _ := time.Parse(time.RFC3339, m[3]); !to.Equal(flowAnchor) {
		t.Fatalf("the backfill ends at %s, want --to %s", m[3], flowAnchor)
	}
	to := flowAnchor

	blocks := filepath.Join(dir, "blocks")
	// As docs/history.md says: blocks of up to 31 days, which promtool
	// makes in a few passes over the file.
	if b, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=744h", om, blocks).CombinedOutput(); err != nil {
		t.Fatalf("promtool: %v\n%s", err, b)
	}
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(blocks)
	if err != nil || len(entries) == 0 {
		t.Fatalf("promtool made no blocks: %v", err)
	}
	for _, e := range entries {
		if err := os.Rename(filepath.Join(blocks, e.Name()), filepath.Join(data, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	prom := startBackfilledPrometheus(t, promBin, dir, data)

	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := dashboards.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]string{"team": ".*", "delivery_team": "^$", "owner": ".*", "objective": ".*", "source": ".*", "repo": "all", "window": "7d", "quantile": "0.5"}

	// What okrd computes at each grid instant of the backfill: a daemon
	// whose clock is moved from instant to instant.
	var clock time.Time
	a, err := app.New(context.Background(), app.Options{ConfigFile: cfgPath, Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Store().Close()
	instants := gridOf(t, om)
	if n, _ := strconv.Atoi(m[1]); n != len(instants) {
		t.Fatalf("the output has samples at %d instants, the backfill said %d", len(instants), n)
	}
	snaps := map[int64]*snapshot.Snapshot{}
	flows := map[int64][]float64{}
	for _, in := range instants {
		clock = in
		a.Evaluate(context.Background())
		snaps[in.Unix()] = a.Snapshot()
		if flows[in.Unix()], err = flowAt(context.Background(), a.Store(), "flow", in); err != nil {
			t.Fatal(err)
		}
	}

	ship, past := cfg.Objective("ship"), cfg.Objective("past")
	// The trajectories asked over each objective's period up to --to. A
	// check of one key result (kr) reads that key result's series of the
	// panel, which draws all of them.
	type check struct {
		panel, refID string
		o            *config.Objective
		kr           string
		want         func(s *snapshot.Snapshot, at int64) (float64, bool)
	}
	kr := func(o *config.Objective, id string, f func(kr *snapshot.KeyResult) (float64, bool)) func(*snapshot.Snapshot, int64) (float64, bool) {
		return func(s *snapshot.Snapshot, _ int64) (float64, bool) { return f(s.Objective(o.ID).KeyResult(id)) }
	}
	progress := func(k *snapshot.KeyResult) (float64, bool) { return k.Result.Progress, k.Result.HasValue }
	expected := func(k *snapshot.KeyResult) (float64, bool) { return k.Result.Expected, true }
	var checks []check
	for _, o := range []*config.Objective{ship, past} {
		for _, k := range o.KeyResults {
			const panel = "Key results against expected"
			checks = append(checks,
				check{panel, "progress", o, k.ID, kr(o, k.ID, progress)},
				check{panel, "expected", o, k.ID, kr(o, k.ID, expected)})
		}
	}
	objProgress := func(o *config.Objective) func(*snapshot.Snapshot, int64) (float64, bool) {
		return func(s *snapshot.Snapshot, _ int64) (float64, bool) { return s.Objective(o.ID).Result.Progress, true }
	}
	objExpected := func(o *config.Objective) func(*snapshot.Snapshot, int64) (float64, bool) {
		return func(s *snapshot.Snapshot, _ int64) (float64, bool) {
			sum, total := 0.0, 0.0
			for _, k := range s.Objective(o.ID).KeyResults {
				w := *k.Config.Weight
				sum += w * k.Result.Expected
				total += w
			}
			return sum / total, true
		}
	}
	checks = append(checks,
		check{"Progress against expected", "progress", ship, "", objProgress(ship)},
		check{"Progress against expected", "expected", ship, "", objExpected(ship)},
		check{"Deployments", "succeeded", ship, "", func(_ *snapshot.Snapshot, at int64) (float64, bool) { return float64(len(flows[at])), true }},
		check{"Lead time for changes and time to restore", "lead", ship, "", func(_ *snapshot.Snapshot, at int64) (float64, bool) {
			if len(flows[at]) == 0 {
				return 0, false
			}
			return flowQuantile(flows[at], 0.5), true
		}},
	)

	queries := trajectoryQueries(t, ds)
	// Every half hour: midnights, and the half hours between, the hour
	// after the 25-hour day of 26 October included.
	const step = 30 * time.Minute
	for _, c := range checks {
		expr, ok := queries[c.panel+"/"+c.refID]
		if !ok {
			t.Errorf("no query %s of panel %q", c.refID, c.panel)
			continue
		}
		// The overview's row repeats by objective: in the copy of c.o's
		// row, Grafana sets $objective to its id.
		vs := map[string]string{}
		for k, v := range values {
			vs[k] = v
		}
		vs["objective"] = c.o.ID
		expr = substituteVars(expr, vs)
		start, end := c.o.Resolved.Start, c.o.Resolved.End
		if last := to.Add(-time.Second); last.Before(end) {
			end = last
		}
		var got map[int64]float64
		if c.kr == "" {
			got = prom.queryRange(t, expr, start, end, step)
		} else {
			series := prom.queryRangeBy(t, expr, "key_result", start, end, step)
			if n := len(c.o.KeyResults); len(series) > n {
				t.Errorf("%s %s (%s): %d series, more than the objective's %d key results", c.panel, c.refID, c.o.ID, len(series), n)
			}
			got = series[c.kr]
		}
		name := c.o.ID
		if c.kr != "" {
			name += "/" + c.kr
		}
		days := map[string]bool{}
		steps := 0
		for ts := start; !ts.After(end); ts = ts.Add(step) {
			// The grid instant the step falls at or after.
			i := sort.Search(len(instants), func(i int) bool { return instants[i].After(ts) }) - 1
			if i < 0 {
				t.Fatalf("%s: step %s before the first instant", c.panel, ts)
			}
			in := instants[i].Unix()
			want, has := c.want(snaps[in], in)
			g, present := got[ts.Unix()]
			switch {
			case has && !present:
				t.Errorf("%s %s (%s): no value at %s (okrd had %v at %s)", c.panel, c.refID, name, ts, want, instants[i])
			case !has && present:
				t.Errorf("%s %s (%s): %v at %s, where okrd had none", c.panel, c.refID, name, g, ts)
			case has && math.Abs(g-want) > 1e-9*math.Max(1, math.Abs(want)):
				t.Errorf("%s %s (%s): %v at %s, okrd computed %v at %s", c.panel, c.refID, name, g, ts, want, instants[i])
			case has:
				days[ts.In(berlin).Format(time.DateOnly)] = true
				steps++
			}
		}
		// The key results of the source have filled-in values and the
		// roll-ups and delivery series exist from the period start: a value
		// every day. The others start with their first check-in.
		filled := c.kr == "deploys" || c.kr == "lead"
		whole := c.refID != "progress" || c.kr == "" || filled
		periodDays := int(math.Round(end.Sub(start).Hours()/24)) - 1
		if whole && len(days) < periodDays {
			t.Errorf("%s %s (%s): values on %d days of %d", c.panel, c.refID, name, len(days), periodDays)
		}
		if steps == 0 {
			t.Errorf("%s %s (%s): no value at all", c.panel, c.refID, c.o.ID)
		}
	}

	// The series carry the labels of the scraped ones.
	if n := prom.count(t, `okr_key_result_value{job="okrd", instance="okrd-e2e:9184"}`, instants[len(instants)-1]); n != 5 {
		t.Errorf("%d key result values with the job and instance labels at the last instant, want 5", n)
	}
	if t.Failed() {
		t.Logf("Prometheus log:\n%s", prom.log())
	}
}

// addLiveValues stores values of the source's key results as a daemon
// measures them live, between grid instants, with what the source gives
// at those instants.
func addLiveValues(t *testing.T, dir string) {
	t.Helper()
	ctx := context.Background()
	st, err := app.OpenStore(ctx, config.Storage{Driver: "sqlite", DSN: config.Secret(filepath.Join(dir, "okrd.db"))}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// The sync filled in the source's key results at every midnight of
	// the quarter.
	for _, kr := range []string{"deploys", "lead"} {
		hist, err := st.History(ctx, "ship", kr, time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		filled := 0
		for _, v := range hist {
			if strings.HasPrefix(v.Origin, "history:") {
				filled++
			}
		}
		if filled < 92 {
			t.Fatalf("%s has %d filled-in values, want one for each midnight of the quarter", kr, filled)
		}
	}
	var vals []store.Value
	for _, at := range []time.Time{
		time.Date(2025, 10, 20, 14, 37, 0, 0, time.UTC), time.Date(2025, 11, 26, 8, 5, 0, 0, time.UTC), time.Date(2025, 12, 29, 16, 0, 0, 0, time.UTC),
	} {
		leads, err := flowAt(ctx, st, "flow", at)
		if err != nil || len(leads) == 0 {
			t.Fatalf("no deployments at %s: %v", at, err)
		}
		vals = append(vals,
			store.Value{ObjectiveID: "ship", KeyResultID: "deploys", At: at, Value: float64(len(leads)), Origin: "source:flow"},
			store.Value{ObjectiveID: "ship", KeyResultID: "lead", At: at, Value: flowQuantile(leads, 0.5), Origin: "source:flow"})
	}
	if err := st.AppendValues(ctx, vals...); err != nil {
		t.Fatal(err)
	}
}

// gridOf returns the instants of the samples of a backfill output.
func gridOf(t *testing.T, path string) []time.Time {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	for _, l := range strings.Split(string(b), "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.Fields(l)
		s, err := strconv.ParseInt(f[len(f)-1], 10, 64)
		if err != nil {
			t.Fatalf("timestamp of %q: %v", l, err)
		}
		seen[s] = true
	}
	var out []time.Time
	for s := range seen {
		out = append(out, time.Unix(s, 0))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}

// trajectoryQueries returns the range queries of the overview and
// delivery dashboards by "panel title/refId".
func trajectoryQueries(t *testing.T, ds []dashboards.Dashboard) map[string]string {
	t.Helper()
	type panel struct {
		Type    string `json:"type"`
		Title   string `json:"title"`
		Targets []struct {
			RefID   string `json:"refId"`
			Expr    string `json:"expr"`
			Instant bool   `json:"instant"`
		} `json:"targets"`
	}
	out := map[string]string{}
	for _, d := range ds {
		if d.UID != dashboards.OverviewUID && d.UID != dashboards.DeliveryUID {
			continue
		}
		var jd struct {
			Panels []panel `json:"panels"`
		}
		if err := json.Unmarshal(d.JSON, &jd); err != nil {
			t.Fatal(err)
		}
		for _, p := range jd.Panels {
			for _, tg := range p.Targets {
				if tg.Instant {
					continue
				}
				key := p.Title + "/" + tg.RefID
				if _, dup := out[key]; dup {
					t.Fatalf("two range queries %s", key)
				}
				out[key] = tg.Expr
			}
		}
	}
	return out
}

// substituteVars sets the dashboard variables ($name) as Grafana would.
func substituteVars(expr string, values map[string]string) string {
	names := make([]string, 0, len(values))
	for n := range values {
		names = append(names, n)
	}
	// Longer names first, so that $objective is not read as $obj...
	sort.Slice(names, func(i, j int) bool { return len(names[i]) > len(names[j]) })
	for _, n := range names {
		expr = strings.ReplaceAll(expr, "$"+n, values[n])
	}
	return expr
}

// backfilledPrometheus is a Prometheus serving the backfilled blocks.
type backfilledPrometheus struct {
	base string
	out  *syncBuffer
}

func (p *backfilledPrometheus) log() string { return p.out.String() }

// startBackfilledPrometheus runs Prometheus on the data directory, with a
// retention long enough to keep the blocks (Prometheus deletes the blocks
// beyond its retention when it opens the data directory), and scraping
// nothing; it returns once Prometheus is ready, which is after it opened
// its blocks.
func startBackfilledPrometheus(t *testing.T, bin, dir, data string) *backfilledPrometheus {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte("global:\n  evaluation_interval: 1m\nscrape_configs: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &backfilledPrometheus{base: "http://" + addr, out: &syncBuffer{b: new(bytes.Buffer)}}
	cmd := exec.Command(bin, "--config.file="+cfgPath, "--storage.tsdb.path="+data, "--storage.tsdb.retention.time=5y",
		"--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	// Readiness is a state of the process, not a time: ask until it says
	// so, with a generous bound in case it never does.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		select {
		case <-exited:
			t.Fatalf("prometheus exited:\n%s", p.log())
		default:
		}
		resp, err := http.Get(p.base + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus not ready after 2 minutes:\n%s", p.log())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (p *backfilledPrometheus) api(t *testing.T, path string, params url.Values) json.RawMessage {
	t.Helper()
	resp, err := http.Get(p.base + path + "?" + params.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil || r.Status != "success" {
		t.Fatalf("%s %s: %s %s", path, params.Get("query"), r.Error, body)
	}
	return r.Data
}

type promResult struct {
	Result []struct {
		Metric map[string]string `json:"metric"`
		Value  [2]any            `json:"value"`
		Values [][2]any          `json:"values"`
	} `json:"result"`
}

// queryRange returns the one series of a range query by Unix time.
func (p *backfilledPrometheus) queryRange(t *testing.T, expr string, start, end time.Time, step time.Duration) map[int64]float64 {
	t.Helper()
	raw := p.api(t, "/api/v1/query_range", url.Values{"query": {expr}, "start": {strconv.FormatInt(start.Unix(), 10)},
		"end": {strconv.FormatInt(end.Unix(), 10)}, "step": {strconv.FormatInt(int64(step/time.Second), 10)}})
	var r promResult
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Result) > 1 {
		t.Fatalf("%s: %d series, want one", expr, len(r.Result))
	}
	out := map[int64]float64{}
	for _, s := range r.Result {
		for _, v := range s.Values {
			ts, _ := v[0].(float64)
			str, _ := v[1].(string)
			f, err := strconv.ParseFloat(str, 64)
			if err != nil {
				t.Fatalf("%s: value %v", expr, v)
			}
			out[int64(ts)] = f
		}
	}
	return out
}

// queryRangeBy runs a range query and returns its series by the value of
// label, which each must have once.
func (p *backfilledPrometheus) queryRangeBy(t *testing.T, expr, label string, start, end time.Time, step time.Duration) map[string]map[int64]float64 {
	t.Helper()
	raw := p.api(t, "/api/v1/query_range", url.Values{"query": {expr}, "start": {strconv.FormatInt(start.Unix(), 10)},
		"end": {strconv.FormatInt(end.Unix(), 10)}, "step": {strconv.FormatInt(int64(step/time.Second), 10)}})
	var r struct {
		Result []struct {
			Metric map[string]string `json:"metric"`
			Values [][2]any          `json:"values"`
		} `json:"result"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	out := map[string]map[int64]float64{}
	for _, s := range r.Result {
		key, ok := s.Metric[label]
		if _, dup := out[key]; !ok || dup {
			t.Fatalf("%s: a series without its own %s: %v", expr, label, s.Metric)
		}
		vs := map[int64]float64{}
		for _, v := range s.Values {
			ts, _ := v[0].(float64)
			str, _ := v[1].(string)
			f, err := strconv.ParseFloat(str, 64)
			if err != nil {
				t.Fatalf("%s: value %v", expr, v)
			}
			vs[int64(ts)] = f
		}
		out[key] = vs
	}
	return out
}

// count returns the number of series an instant query returns at t.
func (p *backfilledPrometheus) count(t *testing.T, expr string, at time.Time) int {
	t.Helper()
	raw := p.api(t, "/api/v1/query", url.Values{"query": {expr}, "time": {strconv.FormatInt(at.Unix(), 10)}})
	var r promResult
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	return len(r.Result)
}
