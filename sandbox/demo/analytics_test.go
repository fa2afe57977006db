package demo

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestThePlausibleFakeAnswersLikeTheStatsAPI(t *testing.T) {
	// midQuarter is unix time 1795617432, 432 s into its ten-minute wave
	// (mod 600): sin(2π·432/600) = -0.98229, so the rate is
	// 4.22 - 0.06·0.98229 = 4.16106, rounded 4.16; visitors
	// 48210 + int(900·-0.98229) = 48210 - 884 = 47326; events
	// 305112 + int(5000·-0.98229) = 305112 - 4911 = 300201.
	h := &plausible{key: "k3y", now: func() time.Time { return midQuarter }}
	good := `{"site_id": "shop.example.com", "metrics": ["conversion_rate", "visitors"], "date_range": "28d", "filters": [["is", "event:goal", ["Checkout completed"]]]}`
	for _, tc := range []struct {
		name, method, path, key, body string
		status                        int
		want                          string
	}{
		{"a query", "POST", "/api/v2/query", "k3y", good, 200, `"results":[{"dimensions":[],"metrics":[4.16,47326]}]`},
		{"a date range of two dates", "POST", "/api/v2/query", "k3y", `{"site_id": "shop.example.com", "metrics": ["events"], "date_range": ["2026-10-01", "2026-10-28"]}`, 200, `"metrics":[300201]`},
		{"no key", "POST", "/api/v2/query", "", good, 401, `"error":"Invalid API key or site ID.`},
		{"a wrong key", "POST", "/api/v2/query", "nope", good, 401, `"error":"Invalid API key`},
		{"another site", "POST", "/api/v2/query", "k3y", `{"site_id": "other.example", "metrics": ["visitors"], "date_range": "7d"}`, 400, `(site_id \"other.example\")`},
		{"an unknown metric", "POST", "/api/v2/query", "k3y", `{"site_id": "shop.example.com", "metrics": ["revenue"], "date_range": "7d"}`, 400, `#/metrics/0: Invalid metric \"revenue\"`},
		{"no metric", "POST", "/api/v2/query", "k3y", `{"site_id": "shop.example.com", "metrics": [], "date_range": "7d"}`, 400, `Expected a minimum of 1 items`},
		{"a bad date range", "POST", "/api/v2/query", "k3y", `{"site_id": "shop.example.com", "metrics": ["visitors"], "date_range": "fortnight"}`, 400, `Invalid date range \"fortnight\"`},
		{"an unknown field", "POST", "/api/v2/query", "k3y", `{"site": "shop.example.com"}`, 400, `Invalid query: json: unknown field \"site\"`},
		{"a GET", "GET", "/api/v2/query", "k3y", "", 405, `Method not allowed`},
		{"another path", "POST", "/api/v1/stats/aggregate", "k3y", good, 404, `Not found`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			if tc.key != "" {
				req.Header.Set("Authorization", "Bearer "+tc.key)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			body := rec.Body.String()
			if rec.Code != tc.status || !strings.Contains(body, tc.want) {
				t.Errorf("%d %s, want %d and %s", rec.Code, body, tc.status, tc.want)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if !json.Valid(rec.Body.Bytes()) {
				t.Errorf("not JSON: %s", body)
			}
		})
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v2/query", nil))
	if rec.Header().Get("Allow") != http.MethodPost {
		t.Errorf("405 without Allow: POST")
	}
}
