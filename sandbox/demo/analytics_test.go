package demo

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// ask posts a query to the fake and returns its status and body.
func ask(h http.Handler, method, path, key, body string) (int, string, http.Header) {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String(), rec.Header()
}

// conversionRateAt is the fake's 28-day conversion rate at t, asked the
// way the demo's key result asks, for the data generated at p's now.
func conversionRateAt(p plan, t time.Time) float64 {
	h := &plausible{key: "k", now: func() time.Time { return p.now }}
	body := fmt.Sprintf(`{"site_id": "shop.example.com", "metrics": ["conversion_rate"], "date_range": [%q, %q]}`,
		t.Add(-conversionWindow).Format(time.RFC3339), t.Format(time.RFC3339))
	code, out, _ := ask(h, "POST", "/api/v2/query", "k", body)
	var answer struct {
		Results []struct{ Metrics []float64 }
	}
	if code != http.StatusOK || json.Unmarshal([]byte(out), &answer) != nil || len(answer.Results) != 1 {
		return -1
	}
	return answer.Results[0].Metrics[0]
}

func TestThePlausibleFakeAnswersLikeTheStatsAPI(t *testing.T) {
	h := &plausible{key: "k3y", now: func() time.Time { return midQuarter }}
	good := `{"site_id": "shop.example.com", "metrics": ["conversion_rate", "visitors"], "date_range": "28d", "filters": [["is", "event:goal", ["Checkout completed"]]]}`
	for _, tc := range []struct {
		name, method, path, key, body string
		status                        int
		want                          string
	}{
		// Over the 28 days before midQuarter the rate is the designed 4.22.
		{"a query", "POST", "/api/v2/query", "k3y", good, 200, `"results":[{"dimensions":[],"metrics":[4.22,`},
		{"a date range of two dates", "POST", "/api/v2/query", "k3y", `{"site_id": "shop.example.com", "metrics": ["events"], "date_range": ["2026-10-01", "2026-10-28"]}`, 200, `"metrics":[`},
		{"a date range of two instants", "POST", "/api/v2/query", "k3y", `{"site_id": "shop.example.com", "metrics": ["visitors"], "date_range": ["2026-10-01T00:00:00+00:00", "2026-10-29T00:00:00Z"]}`, 200, `"metrics":[`},
		{"no key", "POST", "/api/v2/query", "", good, 401, `"error":"Invalid API key or site ID.`},
		{"a wrong key", "POST", "/api/v2/query", "nope", good, 401, `"error":"Invalid API key`},
		{"another site", "POST", "/api/v2/query", "k3y", `{"site_id": "other.example", "metrics": ["visitors"], "date_range": "7d"}`, 400, `(site_id \"other.example\")`},
		{"an unknown metric", "POST", "/api/v2/query", "k3y", `{"site_id": "shop.example.com", "metrics": ["revenue"], "date_range": "7d"}`, 400, `#/metrics/0: Invalid metric \"revenue\"`},
		{"no metric", "POST", "/api/v2/query", "k3y", `{"site_id": "shop.example.com", "metrics": [], "date_range": "7d"}`, 400, `Expected a minimum of 1 items`},
		{"a bad date range", "POST", "/api/v2/query", "k3y", `{"site_id": "shop.example.com", "metrics": ["visitors"], "date_range": "fortnight"}`, 400, `Invalid date range \"fortnight\"`},
		{"a date range that ends before it starts", "POST", "/api/v2/query", "k3y", `{"site_id": "shop.example.com", "metrics": ["visitors"], "date_range": ["2026-10-28", "2026-10-01"]}`, 400, `#/date_range: Invalid date range`},
		{"an unknown field", "POST", "/api/v2/query", "k3y", `{"site": "shop.example.com"}`, 400, `Invalid query: json: unknown field \"site\"`},
		{"a GET", "GET", "/api/v2/query", "k3y", "", 405, `Method not allowed`},
		{"another path", "POST", "/api/v1/stats/aggregate", "k3y", good, 404, `Not found`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body, header := ask(h, tc.method, tc.path, tc.key, tc.body)
			if code != tc.status || !strings.Contains(body, tc.want) {
				t.Errorf("%d %s, want %d and %s", code, body, tc.status, tc.want)
			}
			if ct := header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if !json.Valid([]byte(body)) {
				t.Errorf("not JSON: %s", body)
			}
		})
	}
	_, _, header := ask(h, "GET", "/api/v2/query", "k3y", "")
	if header.Get("Allow") != http.MethodPost {
		t.Errorf("405 without Allow: POST")
	}

	// Two dates cover the same days as the instants of their midnights,
	// and every metric is counted over them.
	metrics := func(rng string) string {
		_, body, _ := ask(h, "POST", "/api/v2/query", "k3y", `{"site_id": "shop.example.com", "metrics": ["visitors", "pageviews", "events", "conversion_rate"], "date_range": `+rng+`}`)
		var a struct{ Results []struct{ Metrics []float64 } }
		if err := json.Unmarshal([]byte(body), &a); err != nil || len(a.Results) != 1 {
			t.Fatalf("%s: %s", rng, body)
		}
		m := a.Results[0].Metrics
		// 4.81 pageviews and 6.33 events per visitor, rounded.
		if v := m[0]; m[1] != float64(int(v*4.81+0.5)) || m[2] != float64(int(v*6.33+0.5)) || m[0] < 27*1500 || m[0] > 28*2000 {
			t.Errorf("%s: visitors, pageviews, events %v", rng, m[:3])
		}
		return fmt.Sprint(m)
	}
	if a, b := metrics(`["2026-10-01", "2026-10-28"]`), metrics(`["2026-10-01T00:00:00Z", "2026-10-29T00:00:00Z"]`); a != b {
		t.Errorf("two dates %s, their midnights %s", a, b)
	}
}

// The 28-day conversion rate rose through the quarter: near the baseline
// at its start, never down from one midnight to the next, and the
// designed 4.22 at the demo's start, wherever in the quarter that is.
func TestTheConversionRateRisesToTheDesignedOneNow(t *testing.T) {
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	for _, now := range []time.Time{start.Add(time.Hour + 17*time.Minute), midQuarter, start.AddDate(0, 3, 0).Add(-time.Hour + 17*time.Minute)} {
		p := mustPlan(t, now)
		if got := conversionRateAt(p, p.now); got != conversionNow {
			t.Errorf("now %s: the rate is %v, want %v", now, got, conversionNow)
		}
	}
	p := mustPlan(t, midQuarter)
	if first := conversionRateAt(p, p.period.Start); first < 2.6 || first > 3.2 {
		t.Errorf("at the period's start the rate is %v, want a little above the baseline 2.5", first)
	}
	prev := 0.0
	for d := p.period.Start; d.Before(p.now); d = d.Add(day) {
		r := conversionRateAt(p, d)
		if r < prev {
			t.Errorf("at %s the rate fell to %v from %v", d, r, prev)
		}
		prev = r
	}
	// Nothing is counted after now: midQuarter is 14:37:12 into its day,
	// whose visitors are counted up to then only.
	h := &plausible{key: "k", now: func() time.Time { return p.now }}
	visitors := func(to string) string {
		_, body, _ := ask(h, "POST", "/api/v2/query", "k", `{"site_id": "shop.example.com", "metrics": ["visitors"], "date_range": ["2026-11-25T00:00:00Z", "`+to+`"]}`)
		return body[strings.Index(body, `"results"`):]
	}
	if a, b, c := visitors("2026-11-25T14:37:12Z"), visitors("2026-11-26T00:00:00Z"), visitors("2026-12-25T00:00:00Z"); a != b || b != c {
		t.Errorf("a range past now counts the future: %s, %s, %s", a, b, c)
	}
}
