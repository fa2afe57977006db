package promql

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
)

func TestInstantsAreSplitIntoRunsOfEqualSpacing(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	midnights := func(from time.Time, n int) []time.Time {
		var out []time.Time
		for i := 0; i < n; i++ {
			out = append(out, time.Date(from.Year(), from.Month(), from.Day()+i, 0, 0, 0, 0, from.Location()))
		}
		return out
	}
	minutes := func(from time.Time, n int) []time.Time {
		var out []time.Time
		for i := 0; i < n; i++ {
			out = append(out, from.Add(time.Duration(i)*time.Minute))
		}
		return out
	}
	q4 := time.Date(2026, 10, 1, 0, 0, 0, 0, berlin)
	for _, tc := range []struct {
		name string
		at   []time.Time
		max  int
		want string // each run as "first/count/step"
	}{
		{"one instant is one run", []time.Time{q4}, maxPoints, "2026-10-01T00:00:00+02:00/1/1m0s"},
		{"evenly spaced midnights are one run", midnights(time.Date(2026, 11, 2, 0, 0, 0, 0, berlin), 20), maxPoints,
			"2026-11-02T00:00:00+01:00/20/24h0m0s"},
		// 2026-10-25 has 25 hours in Berlin: the midnights after it are
		// another run, with the same step.
		{"a daylight saving change starts a new run", midnights(q4, 92), maxPoints,
			"2026-10-01T00:00:00+02:00/25/24h0m0s 2026-10-26T00:00:00+01:00/67/24h0m0s"},
		{"a period start off the grid is a run with the first midnight", append([]time.Time{q4.Add(9*time.Hour + 30*time.Minute)}, midnights(q4.AddDate(0, 0, 1), 10)...), maxPoints,
			"2026-10-01T09:30:00+02:00/2/14h30m0s 2026-10-03T00:00:00+02:00/9/24h0m0s"},
		{"a long run is split at the point limit", minutes(q4, 25000), maxPoints,
			"2026-10-01T00:00:00+02:00/11000/1m0s 2026-10-08T15:20:00+02:00/11000/1m0s 2026-10-16T06:40:00+02:00/3000/1m0s"},
		{"a last lone instant is a run of its own", append(midnights(q4, 3), q4.AddDate(0, 0, 2).Add(7*time.Hour)), maxPoints,
			"2026-10-01T00:00:00+02:00/3/24h0m0s 2026-10-03T07:00:00+02:00/1/1m0s"},
		{"a small limit splits small runs", midnights(q4, 5), 2,
			"2026-10-01T00:00:00+02:00/2/24h0m0s 2026-10-03T00:00:00+02:00/2/24h0m0s 2026-10-05T00:00:00+02:00/1/1m0s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			n := 0
			for _, r := range splitRuns(tc.at, tc.max) {
				got = append(got, fmt.Sprintf("%s/%d/%s", r.at[0].Format(time.RFC3339), len(r.at), r.step))
				n += len(r.at)
				for i := 1; i < len(r.at); i++ {
					if r.at[i].Sub(r.at[i-1]) != r.step {
						t.Errorf("run %s is not evenly spaced", got[len(got)-1])
					}
				}
			}
			if strings.Join(got, " ") != tc.want || n != len(tc.at) {
				t.Errorf("runs %s (%d instants)\nwant %s (%d)", strings.Join(got, " "), n, tc.want, len(tc.at))
			}
		})
	}
}

// History test data, written into the test Prometheus's storage with
// promtool: samples every 5 minutes from dataStart to dataEnd (UTC, around
// the end of daylight saving time in Europe on 2025-10-26).
var (
	dataStart = time.Date(2025, 10, 20, 0, 0, 0, 0, time.UTC)
	dataEnd   = time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC)
	// splitFrom and splitTo bound the samples of the second series of
	// okrd_hist_split.
	splitFrom = time.Date(2025, 10, 24, 0, 0, 0, 0, time.UTC)
	splitTo   = time.Date(2025, 10, 27, 0, 0, 0, 0, time.UTC)
)

const sampleEvery = 5 * time.Minute

// histValue is okrd_hist_value at its k-th sample: exact in binary.
func histValue(k int) float64 { return float64(k%1000) / 4 }

// historyData is the OpenMetrics text of the test data: okrd_hist_value,
// one series, and okrd_hist_split, a series that is always there and one
// that is there from splitFrom to splitTo.
func historyData() string {
	var b strings.Builder
	b.WriteString("# HELP okrd_hist_value A value known at every sample.\n# TYPE okrd_hist_value gauge\n")
	for k, ts := 0, dataStart; ts.Before(dataEnd); k, ts = k+1, ts.Add(sampleEvery) {
		fmt.Fprintf(&b, "okrd_hist_value %g %d\n", histValue(k), ts.Unix())
	}
	b.WriteString("# HELP okrd_hist_split Two series some of the time.\n# TYPE okrd_hist_split gauge\n")
	for ts := dataStart; ts.Before(dataEnd); ts = ts.Add(sampleEvery) {
		fmt.Fprintf(&b, "okrd_hist_split{part=\"a\"} 1 %d\n", ts.Unix())
	}
	for ts := splitFrom; ts.Before(splitTo); ts = ts.Add(sampleEvery) {
		fmt.Fprintf(&b, "okrd_hist_split{part=\"b\"} 2 %d\n", ts.Unix())
	}
	b.WriteString("# EOF\n")
	return b.String()
}

// instantQuerier is the Querier of the test source, to run instant
// queries at a given time: the live measurement at that time.
func instantQuerier(t *testing.T, p *realProm) *Querier {
	t.Helper()
	cfg, err := config.Parse([]byte(sourceDoc(p.settings("prom-pw"), "up")), filepath.Join(p.dir, "okrd.toml"))
	if err != nil {
		t.Fatal(err)
	}
	q, err := New("metrics", cfg.Sources["metrics"].Spec.(*Spec), collectors.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// liveAt is the live measurement of expr with the clock at at: an instant
// query with time = at.
func liveAt(ctx context.Context, q *Querier, expr string, at time.Time) (float64, error) {
	val, _, _, err := q.api.Query(ctx, expr, at)
	if err != nil {
		return 0, q.apiError(ctx, err)
	}
	return single(val)
}

func withQuery(b collectors.Binding, query string) collectors.Binding {
	kr := *b.KeyResult
	kr.Query = query
	return collectors.Binding{Objective: b.Objective, KeyResult: &kr}
}

func TestRealPrometheusHistoryIsTheInstantQueryAtEachInstant(t *testing.T) {
	p := startPrometheusWith(t, historyData())
	ctx := context.Background()
	l := load(t, p.dir, sourceDoc(p.settings("prom-pw"), "okrd_hist_value"))
	hs, ok := l.src.(collectors.Historian)
	if !ok {
		t.Fatal("the prometheus source is no collectors.Historian")
	}
	if c, ok := l.src.(collectors.HistoryCapable); !ok || !c.CanHistory(l.bs[0]) {
		t.Fatal("a prometheus key result cannot be filled in")
	}
	live := instantQuerier(t, p)
	requests := func() float64 { return testutil.ToFloat64(l.metrics.Requests.WithLabelValues("metrics", "200")) }

	// The grid of a period in Europe/Berlin that starts off the grid
	// before the data, crosses the end of daylight saving time (a day of
	// 25 hours) and ends after the data.
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	grid := []time.Time{time.Date(2025, 10, 19, 9, 30, 0, 0, berlin)}
	for d := 20; d <= 33; d++ {
		grid = append(grid, time.Date(2025, 10, d, 0, 0, 0, 0, berlin))
	}

	const prefix = `source "metrics": key result reliability/availability: `
	for _, expr := range []string{
		`okrd_hist_value`,
		`scalar(okrd_hist_value)`,
		`avg_over_time(okrd_hist_value[1d])`,
		`okrd_hist_split{part="b"}`,
		`okrd_hist_split`,
	} {
		t.Run(expr, func(t *testing.T) {
			before := requests()
			res := hs.History(ctx, []collectors.HistoryRequest{{Binding: withQuery(l.bs[0], expr), At: grid}})[0]
			// Three runs: the period start with the first midnight, the
			// midnights of summer time, those of winter time.
			if n := requests() - before; n != 3 {
				t.Errorf("%v range queries, want 3", n)
			}
			kinds := map[string]int{}
			for i, at := range grid {
				m := res[i]
				want, err := liveAt(ctx, live, expr, at)
				switch {
				case err == nil:
					kinds["value"]++
					if !m.OK || m.Value != want || m.Err != nil {
						t.Errorf("at %s: filled in %+v, live %v", at, m, want)
					}
				case strings.Contains(err.Error(), "empty vector") || strings.Contains(err.Error(), "NaN"):
					// No value live, so none filled in.
					kinds["none"]++
					if m.OK || m.Err != nil {
						t.Errorf("at %s: filled in %+v, live %v", at, m, err)
					}
				case strings.Contains(err.Error(), "returned 2 series"):
					kinds["error"]++
					want := prefix + `query returned 2 series at ` + at.Format(time.RFC3339) +
						`, want exactly 1 (aggregate them, e.g. with sum(), or select one with labels): okrd_hist_split{part="a"}, okrd_hist_split{part="b"}`
					if m.OK || m.Err == nil || m.Err.Error() != want {
						t.Errorf("at %s: filled in %+v\nwant the error %s", at, m, want)
					}
				default:
					t.Fatalf("at %s: live %v", at, err)
				}
			}
			t.Logf("%v", kinds)
			if kinds["value"] == 0 || kinds["none"] == 0 {
				t.Errorf("instants %v: want some with a value and some without", kinds)
			}
			if (expr == `okrd_hist_split`) != (kinds["error"] > 0) {
				t.Errorf("instants %v: only okrd_hist_split has two series at some of them", kinds)
			}
		})
	}

	// A run longer than Prometheus's 11,000 points per series is split:
	// 17,280 instants a minute apart are two range queries, and each
	// instant has the sample at or before it.
	t.Run("a long run within the point limit", func(t *testing.T) {
		var at []time.Time
		for ts := dataStart; ts.Before(dataEnd); ts = ts.Add(time.Minute) {
			at = append(at, ts)
		}
		before := requests()
		res := hs.History(ctx, []collectors.HistoryRequest{{Binding: withQuery(l.bs[0], "okrd_hist_value"), At: at}})[0]
		if n := requests() - before; n != 2 {
			t.Errorf("%v range queries, want 2", n)
		}
		for i, ts := range at {
			want := histValue(int(ts.Sub(dataStart) / sampleEvery))
			if m := res[i]; !m.OK || m.Value != want {
				t.Fatalf("at %s: %+v, want %v", ts, m, want)
			}
			if i%997 == 0 {
				if v, err := liveAt(ctx, live, "okrd_hist_value", ts); err != nil || v != want {
					t.Errorf("at %s: the instant query gives %v, %v; the samples say %v", ts, v, err, want)
				}
			}
		}
	})

	t.Run("a query Prometheus rejects fails every instant", func(t *testing.T) {
		res := hs.History(ctx, []collectors.HistoryRequest{{Binding: withQuery(l.bs[0], `okrd_hist_value[5m]`), At: grid[1:4]}})[0]
		want := prefix + `range query from 2025-10-20T00:00:00+02:00 to 2025-10-22T00:00:00+02:00 every 1d: Prometheus rejected the query: invalid expression type "range vector" for range query, must be Scalar or instant Vector`
		for i, m := range res {
			if m.OK || m.Err == nil || m.Err.Error() != want || !collectors.IsPermanent(m.Err) {
				t.Errorf("instant %d: %+v\nwant the permanent error %s", i, m, want)
			}
		}
	})
}
