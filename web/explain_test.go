package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/okrd/okrd/metrics/explain"
)

// explainBackend answers Explain with 25 pull requests of lead times 1 h
// to 25 h (the median 13 h), or the errors the App gives.
type explainBackend struct {
	*pageBackend
	asked []time.Time
	// checkins makes latency's answer a list of check-ins.
	checkins bool
}

func (b *explainBackend) Explain(_ context.Context, o, k string, at time.Time) (*explain.Result, error) {
	b.asked = append(b.asked, at)
	if !at.IsZero() && at.After(benchNow) {
		return nil, &explain.ParamError{Param: "at", Msg: "is after now"}
	}
	r := &explain.Result{Objective: o, KeyResult: k, Source: "gh", SourceType: "github", At: benchNow}
	if k == "latency" && b.checkins {
		r.Metric, r.Unit, r.Rule, r.HasValue, r.Value = "checkin", "duration", explain.Latest, true, 0.25
		r.Columns = []explain.Column{{Key: "at", Title: "at", Kind: explain.Time}, {Key: "value", Title: "value", Kind: explain.Value}}
		r.Rows = []explain.Row{{Values: []any{benchNow.Add(-time.Hour), 0.25}, Contribution: 0.25}}
		return r, nil
	}
	if k == "latency" {
		r.Message = "the value comes from a prometheus query"
		return r, nil
	}
	r.Metric, r.Unit, r.Rule, r.Quantile, r.HasValue, r.Value = "lead_time_for_changes", "seconds", explain.Quantile, 0.5, true, 13*3600
	r.How = "the p50 of the rows' values"
	r.Columns = []explain.Column{{Key: "number", Title: "number", Kind: explain.Number}, {Key: "title", Title: "title", Kind: explain.Text},
		{Key: "merged", Title: "merged", Kind: explain.Time}, {Key: "value", Title: "lead time", Kind: explain.Duration}}
	var vals []float64
	for i := 1; i <= 25; i++ {
		v := float64(i * 3600)
		vals = append(vals, v)
		title := fmt.Sprintf("Change <%d>", i)
		if i == 3 {
			title = "=HYPERLINK(\"x\")"
		}
		r.Rows = append(r.Rows, explain.Row{Values: []any{i, title, benchNow.Add(-time.Duration(i) * time.Hour), v},
			Link: fmt.Sprintf("https://github.com/acme/web/pull/%d", i), Contribution: v})
	}
	for i, m := range explain.MarkQuantile(vals, 0.5) {
		r.Rows[i].Mark = m
	}
	r.Sort()
	return r, nil
}

func newExplainHandler(t *testing.T) (*Handler, *explainBackend) {
	_, pb := newPageHandler(t)
	b := &explainBackend{pageBackend: pb}
	return NewHandler(b, slog.New(slog.DiscardHandler)), b
}

func TestExplainAPI(t *testing.T) {
	h, b := newExplainHandler(t)
	const base = "/api/v1/objectives/ship/key_results/deploys/explain"
	rec := get(t, h, "GET", base)
	if rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	var out explain.ResultJSON
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if *out.Value != 13*3600 || *out.Quantile != 0.5 || out.TotalRows != 25 || len(out.Rows) != 25 || out.Truncated || out.Rule != explain.Quantile {
		t.Fatalf("answer %+v", out)
	}
	// Sorted by contribution: 25 h first; the median (13 h) is marked.
	if out.Rows[0]["number"] != float64(25) || out.Rows[0]["link"] != "https://github.com/acme/web/pull/25" || out.Rows[12]["mark"] != "quantile" || out.Rows[11]["mark"] != "neighbour" {
		t.Fatalf("rows %v", out.Rows[:13])
	}
	rec = get(t, h, "GET", base+"?limit=5")
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	if len(out.Rows) != 5 || !out.Truncated || out.TotalRows != 25 {
		t.Fatalf("limit 5: %d rows, truncated %v", len(out.Rows), out.Truncated)
	}
	// The CSV has every row, a header and no formula.
	for _, r := range [][]string{{base + "?format=csv"}, {base, "Accept", "text/csv"}} {
		rec = get(t, h, "GET", r[0], r[1:]...)
		if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") || !strings.Contains(rec.Header().Get("Content-Disposition"), "ship-deploys-explain.csv") {
			t.Fatalf("csv: %d %v", rec.Code, rec.Header())
		}
		recs, err := csv.NewReader(rec.Body).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 26 || strings.Join(recs[0], ",") != "number,title,merged,value,link,contribution,weight,mark" {
			t.Fatalf("csv header %v, %d records", recs[0], len(recs))
		}
		for _, rr := range recs[1:] {
			if rr[0] == "3" && rr[1] != "'=HYPERLINK(\"x\")" {
				t.Fatalf("a formula in the CSV: %q", rr[1])
			}
			if rr[0] == "13" && (rr[3] != "46800" || rr[7] != "quantile" || rr[2] != benchNow.Add(-13*time.Hour).Format(time.RFC3339)) {
				t.Fatalf("the median's record %v", rr)
			}
		}
	}
	// at: a date is midnight in the time zone; a bad one is a 400 naming it.
	if rec = get(t, h, "GET", base+"?at=2026-11-01"); rec.Code != 200 || !b.asked[len(b.asked)-1].Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("at a date: %d, asked %v", rec.Code, b.asked)
	}
	for _, c := range []struct{ query, want string }{
		{"?at=yesterday", `"at: `}, {"?at=2030-01-01", `"at: is after now`}, {"?limit=0", `"limit: `}, {"?limit=x", `"limit: `}, {"?format=xml", `"format: `},
	} {
		rec = get(t, h, "GET", base+c.query)
		if rec.Code != 400 || !strings.Contains(rec.Body.String(), c.want) {
			t.Errorf("%s: %d %s", c.query, rec.Code, rec.Body)
		}
	}
	for _, p := range []string{"/api/v1/objectives/nope/key_results/deploys/explain", "/api/v1/objectives/ship/key_results/nope/explain"} {
		if rec = get(t, h, "GET", p); rec.Code != 404 || !strings.Contains(rec.Body.String(), "nope") {
			t.Errorf("%s: %d %s", p, rec.Code, rec.Body)
		}
	}
	if rec = get(t, h, "POST", base); rec.Code != 405 {
		t.Errorf("POST: %d", rec.Code)
	}
	rec = get(t, h, "GET", "/api/v1/objectives/grow/key_results/latency/explain")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "prometheus query") {
		t.Fatalf("no records: %d %s", rec.Code, rec.Body)
	}
}

func TestTheKeyResultPageShowsWhatMakesTheNumber(t *testing.T) {
	h, _ := newExplainHandler(t)
	rec := get(t, h, "GET", "/objectives/ship/key_results/deploys")
	body := rec.Body.String()
	if rec.Code != 200 {
		t.Fatalf("%d", rec.Code)
	}
	for _, want := range []string{
		`<h2 id="explain-heading">What makes this number</h2>`,
		// The top 10 (25 h to 16 h), then 14 h, 13 h (the median) and 12 h.
		`The top 10 of 25 records by contribution, then the ones the quantile reads (highlighted)`,
		`href="../../../api/v1/objectives/ship/key_results/deploys/explain?format=csv" download>download all (CSV)</a>`,
		`<a href="https://github.com/acme/web/pull/25" rel="noopener noreferrer">25</a>`,
		`Change &lt;25&gt;`, // escaped
		`<td data-label="lead time">25 h</td>`,
		`<tr class="mark-neighbour" data-gap="yes"><td data-label="number"><a href="https://github.com/acme/web/pull/14"`,
		`<tr class="mark-quantile"><td data-label="number"><a href="https://github.com/acme/web/pull/13"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %s", want)

		}
	}
	rec = get(t, h, "GET", "/objectives/grow/key_results/latency")
	if !strings.Contains(rec.Body.String(), "the value comes from a prometheus query") {
		t.Error("the page does not say why there are no records")
	}
}

// A check-in's value reads in the key result's unit (a duration key
// result's 0.25 is 250 ms), not as the stored number.
func TestExplainedCheckinsReadInTheKeyResultsUnit(t *testing.T) {
	h, b := newExplainHandler(t)
	b.checkins = true
	body := get(t, h, "GET", "/objectives/grow/key_results/latency").Body.String()
	if !strings.Contains(body, `<td data-label="value">250 ms</td>`) {
		t.Errorf("the check-in's value is not shown in the key result's unit:\n%s", body)
	}
}
