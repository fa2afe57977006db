package promql

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/collectors/internal/livequery"
	"github.com/okrd/okrd/config"
)

// History (docs/sources/prometheus.md, "History"): the value of a key
// result at past instants comes from range queries of its expression,
// which Prometheus evaluates as an instant query at each step of the
// range, so that the value at an instant t is the one an instant query at
// t returns. The instants okrd asks for (the period start, then every
// midnight in the configured time zone) are not evenly spaced (a daylight
// saving change makes a day of 23 or 25 hours, the period start may be off
// the grid), so they are split into runs of equal spacing, one range query
// each: a handful for a quarter.

// maxPoints is how many points a range query may return per series:
// Prometheus refuses a query whose (end - start) / step exceeds 11,000.
// Longer runs are split.
const maxPoints = 11000

// CanHistory is true: every PromQL expression can be evaluated at a past
// instant (whether the server still holds the data is another matter,
// which is answered instant by instant).
func (q *Querier) CanHistory(*config.KeyResult) bool { return true }

// QueryHistory runs the range queries that cover at and reads each
// instant's value from their answers, by the rule of a live query: one
// series with a sample at the instant is the value; no series (or NaN) is
// no value there; several series are an error at that instant.
func (q *Querier) QueryHistory(ctx context.Context, b collectors.Binding, at []time.Time) ([]livequery.Answer, error) {
	out := make([]livequery.Answer, 0, len(at))
	for _, r := range splitRuns(at, maxPoints) {
		answers, err := q.rangeAnswers(ctx, b.KeyResult.Query, r)
		if err != nil {
			return out, fmt.Errorf("range query from %s to %s every %s: %w",
				r.at[0].Format(time.RFC3339), r.at[len(r.at)-1].Format(time.RFC3339), model.Duration(r.step), err)
		}
		out = append(out, answers...)
	}
	return out, nil
}

// run is a sequence of instants spaced by step.
type run struct {
	at   []time.Time
	step time.Duration
}

// splitRuns cuts ascending instants into runs of equal spacing of at most
// max instants each. A run holds at least two instants, but for a last
// lone one (a range query from t to t then has any step).
func splitRuns(at []time.Time, max int) []run {
	var out []run
	for i := 0; i < len(at); {
		if i == len(at)-1 {
			out = append(out, run{at: at[i:], step: time.Minute})
			break
		}
		step := at[i+1].Sub(at[i])
		j := i + 2
		for j < len(at) && j-i < max && at[j].Sub(at[j-1]) == step {
			j++
		}
		out = append(out, run{at: at[i:j], step: step})
		i = j
	}
	return out
}

// rangeAnswers runs one range query and returns the answer at each
// instant of r.
func (q *Querier) rangeAnswers(ctx context.Context, expr string, r run) ([]livequery.Answer, error) {
	ctx, cancel := context.WithTimeout(ctx, q.timeout+5*time.Second)
	defer cancel()
	rng := v1.Range{Start: r.at[0], End: r.at[len(r.at)-1], Step: r.step}
	val, warnings, _, err := q.api.QueryRange(ctx, expr, rng, v1.WithTimeout(q.timeout))
	if err != nil {
		return nil, q.apiError(ctx, err)
	}
	if len(warnings) > 0 {
		q.logger.Warn("Prometheus answered with warnings", "query", expr, "warnings", strings.Join(warnings, "; "))
	}
	m, ok := val.(model.Matrix)
	if !ok {
		return nil, fmt.Errorf("range query returned a %s, want a matrix", typeOf(val))
	}
	pos := make(map[int64]int, len(r.at))
	for i, t := range r.at {
		pos[t.UnixMilli()] = i
	}
	count := make([]int, len(r.at))
	value := make([]float64, len(r.at))
	histogram := make([]bool, len(r.at))
	for _, s := range m {
		for _, p := range s.Values {
			if i, ok := pos[int64(p.Timestamp)]; ok {
				count[i]++
				value[i] = float64(p.Value)
			}
		}
		for _, h := range s.Histograms {
			if i, ok := pos[int64(h.Timestamp)]; ok {
				count[i]++
				histogram[i] = true
			}
		}
	}
	out := make([]livequery.Answer, len(r.at))
	for i, t := range r.at {
		when := t.Format(time.RFC3339)
		switch {
		case count[i] == 0:
			out[i].Err = livequery.NoValue(fmt.Errorf("query returned an empty vector at %s", when))
		case count[i] > 1:
			out[i].Err = fmt.Errorf("query returned %d series at %s, want exactly 1 (aggregate them, e.g. with sum(), or select one with labels): %s",
				count[i], when, seriesAt(m, t.UnixMilli()))
		case histogram[i]:
			out[i].Err = fmt.Errorf("query returned a native histogram at %s, want a number", when)
		case math.IsNaN(value[i]) || math.IsInf(value[i], 0):
			out[i].Err = livequery.NoValue(fmt.Errorf("query returned %v at %s, want a finite number", value[i], when))
		default:
			out[i] = livequery.Answer{OK: true, Value: value[i]}
		}
	}
	return out, nil
}

// seriesAt names the series of m that have a sample at ts (Unix
// milliseconds), as the live query's error does.
func seriesAt(m model.Matrix, ts int64) string {
	var vec model.Vector
	for _, s := range m {
		for _, p := range s.Values {
			if int64(p.Timestamp) == ts {
				vec = append(vec, &model.Sample{Metric: s.Metric})
				break
			}
		}
	}
	return seriesList(vec)
}

func typeOf(v model.Value) string {
	if v == nil {
		return "nothing"
	}
	return v.Type().String()
}
