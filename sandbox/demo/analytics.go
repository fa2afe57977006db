package demo

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	// The pure-Go SQLite driver, as the sql source uses it.
	_ "modernc.org/sqlite"
)

// The analytics side of the demo: a product analytics table in a SQLite
// file (what a warehouse would hold) and a Plausible-shaped stats API.

// weeklyActivationWeeks is how many weeks of activation the table holds.
const weeklyActivationWeeks = 26

// activationQuery is the sql key result's query: the latest week.
const activationQuery = "select cast(activated as real) / signed_up from weekly_activation order by week desc limit 1"

// writeAnalytics creates the analytics database: weekly_activation with one
// row per week (Monday to Sunday, the current week so far last), the
// share of the week's sign-ups that activated within a week, flat around
// last quarter's 31% until this quarter and rising since. The latest row
// is exactly on the designed trajectory.
func writeAnalytics(ctx context.Context, path string, p plan) error {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return err
	}
	defer db.Close()
	rng := newRand(3)
	stmts := []string{
		`create table weekly_activation (
			week      text primary key,  -- the Monday that starts the week, YYYY-MM-DD
			signed_up integer not null,  -- accounts created that week
			activated integer not null   -- of which placed a first order within 7 days
		)`,
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("creating the analytics table: %w", err)
		}
	}
	monday := p.now.Truncate(day)
	for monday.Weekday() != time.Monday {
		monday = monday.Add(-day)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for w := weeklyActivationWeeks - 1; w >= 0; w-- {
		week := monday.Add(-time.Duration(w) * 7 * day)
		signedUp := 1300 + rng.IntN(250) + (weeklyActivationWeeks-w)*6
		ratio := activationTrack.at(p, week.Add(7*day)) + 0.004*rng.NormFloat64()
		if w == 0 {
			ratio = activationTrack.now(p)
		}
		activated := int(math.Round(ratio * float64(signedUp)))
		if _, err := tx.ExecContext(ctx, "insert into weekly_activation (week, signed_up, activated) values (?, ?, ?)",
			week.Format(time.DateOnly), signedUp, activated); err != nil {
			return fmt.Errorf("filling the analytics table: %w", err)
		}
	}
	return tx.Commit()
}

// The http_json key result reads Plausible's conversion rate of the
// checkout goal. It is past its target, and moves a little from minute to
// minute so that the page looks alive.
const (
	plausibleSite       = "shop.example.com"
	conversionBaseline  = 2.5
	conversionTarget    = 4.0
	conversionNow       = 4.22
	conversionAmplitude = 0.06
)

// plausible is a small fake of Plausible's Stats API v2
// (POST /api/v2/query, https://plausible.io/docs/stats-api): a bearer
// key, a query with site_id, metrics and date_range, and an answer with
// one row of metrics per dimension group. It knows one site and the
// metrics visitors, pageviews, events and conversion_rate; its numbers are
// derived from the clock.
type plausible struct {
	key string
	now func() time.Time
}

type plausibleQuery struct {
	SiteID     string            `json:"site_id"`
	Metrics    []string          `json:"metrics"`
	DateRange  json.RawMessage   `json:"date_range"`
	Filters    []json.RawMessage `json:"filters"`
	Dimensions []string          `json:"dimensions"`
}

func (h *plausible) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
	}
	if r.URL.Path != "/api/v2/query" {
		fail(http.StatusNotFound, "Not found")
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		fail(http.StatusMethodNotAllowed, "Method not allowed")
		return
	}
	auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(auth), []byte(h.key)) != 1 {
		fail(http.StatusUnauthorized, "Invalid API key or site ID. Please make sure you're using a valid API key with access to the site you've requested.")
		return
	}
	var q plausibleQuery
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&q); err != nil {
		fail(http.StatusBadRequest, "Invalid query: "+err.Error())
		return
	}
	if q.SiteID != plausibleSite {
		fail(http.StatusBadRequest, fmt.Sprintf("Invalid API key or site ID. Please make sure you're using a valid API key with access to the site you've requested. (site_id %q)", q.SiteID))
		return
	}
	if len(q.Metrics) == 0 {
		fail(http.StatusBadRequest, "#/metrics: Expected a minimum of 1 items")
		return
	}
	var rng string
	if err := json.Unmarshal(q.DateRange, &rng); err == nil {
		switch rng {
		case "day", "7d", "28d", "30d", "91d", "month", "6mo", "12mo", "year", "all":
		default:
			fail(http.StatusBadRequest, fmt.Sprintf("#/date_range: Invalid date range %q", rng))
			return
		}
	} else {
		var dates []string
		if err := json.Unmarshal(q.DateRange, &dates); err != nil || len(dates) != 2 {
			fail(http.StatusBadRequest, "#/date_range: Invalid date range, want a period like \"28d\" or [\"2026-10-01\", \"2026-10-28\"]")
			return
		}
	}
	now := h.now()
	// A slow wave of ten minutes: the number changes between polls.
	wave := math.Sin(2 * math.Pi * float64(now.Unix()%600) / 600)
	values := make([]any, len(q.Metrics))
	for i, m := range q.Metrics {
		switch m {
		case "conversion_rate":
			values[i] = math.Round((conversionNow+conversionAmplitude*wave)*100) / 100
		case "visitors":
			values[i] = 48210 + int(900*wave)
		case "pageviews":
			values[i] = 231877 + int(4000*wave)
		case "events":
			values[i] = 305112 + int(5000*wave)
		default:
			fail(http.StatusBadRequest, fmt.Sprintf("#/metrics/%d: Invalid metric %q", i, m))
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"results": []any{map[string]any{"metrics": values, "dimensions": []string{}}},
		"meta":    map[string]any{},
		"query": map[string]any{"site_id": q.SiteID, "metrics": q.Metrics, "date_range": q.DateRange,
			"filters": q.Filters, "dimensions": q.Dimensions},
	})
}
