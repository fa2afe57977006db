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
	"sync"
	"time"

	// The pure-Go SQLite driver, as the sql source uses it.
	_ "modernc.org/sqlite"
)

// The analytics side of the demo: a product analytics table in a SQLite
// file (what a warehouse would hold) and a Plausible-shaped stats API.
// Both hold days of data before now, so that okrd fills in the history of
// their key results over the whole quarter so far: the sql key result
// with its history_query, the http_json one by asking the API about the
// window that ended at each past instant.

// activationDaysBefore is how many days before the period the table
// starts.
const activationDaysBefore = 35

// activationQuery is the sql key result's query: the share of the sign-ups
// of the latest seven days in the table that activated.
// activationHistoryQuery is the same as of a past instant :at: the seven
// days before it, which were the latest in the table then (the table gains
// a row when a day is over).
const (
	activationQuery        = "select cast(sum(activated) as real) / sum(signed_up) from (select * from daily_activation order by day desc limit 7)"
	activationHistoryQuery = "select cast(sum(activated) as real) / sum(signed_up) from (select * from daily_activation where day < date(:at) order by day desc limit 7)"
)

// writeAnalytics creates the analytics database: daily_activation with one
// row per day that is over, from activationDaysBefore days before the
// period to yesterday, each with the day's sign-ups and how many of them
// activated (placed a first order within 7 days), around last quarter's
// 31% until this quarter and rising since, along the designed
// trajectory. The latest seven days are exactly on it: their activation
// is the designed one now.
func writeAnalytics(ctx context.Context, path string, p plan) error {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `create table daily_activation (
			day       text primary key,  -- YYYY-MM-DD (UTC)
			signed_up integer not null,  -- accounts created that day
			activated integer not null   -- of which placed a first order within 7 days
		)`); err != nil {
		return fmt.Errorf("creating the analytics table: %w", err)
	}
	rng := newRand(3)
	first := p.period.Start.AddDate(0, 0, -activationDaysBefore)
	today := p.now.Truncate(day)
	type row struct {
		day                 time.Time
		signedUp, activated int
	}
	var rows []row
	for d := first; d.Before(today); d = d.Add(day) {
		signedUp := 190 + rng.IntN(40) + int(d.Sub(first)/day)/4
		ratio := activationTrack.at(p, d.Add(day)) + 0.01*rng.NormFloat64()
		rows = append(rows, row{d, signedUp, int(math.Round(ratio * float64(signedUp)))})
	}
	// The last day makes the latest seven the designed activation now.
	if n := len(rows); n > 0 {
		last := rows[max(0, n-7):]
		signedUp, activated := 0, 0
		for _, r := range last {
			signedUp += r.signedUp
			activated += r.activated
		}
		l := &last[len(last)-1]
		l.activated += int(math.Round(activationTrack.now(p)*float64(signedUp))) - activated
		l.activated = max(0, min(l.signedUp, l.activated))
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, r := range rows {
		if _, err := tx.ExecContext(ctx, "insert into daily_activation (day, signed_up, activated) values (?, ?, ?)",
			r.day.Format(time.DateOnly), r.signedUp, r.activated); err != nil {
			return fmt.Errorf("filling the analytics table: %w", err)
		}
	}
	return tx.Commit()
}

// The http_json key result reads Plausible's conversion rate of the
// checkout goal over 28 days. It rose through the quarter from around
// the baseline, and is past its target now.
const (
	plausibleSite      = "shop.example.com"
	conversionBaseline = 2.5
	conversionTarget   = 4.0
	// conversionNow is the 28-day conversion rate at the demo's start.
	conversionNow = 4.22
	// conversionWindow is the key result's window.
	conversionWindow = 28 * day
)

// conversionBody is the http_json key result's request: the window's two
// instants, so that it can be asked about a past instant too.
const conversionBody = `{"site_id": "` + plausibleSite + `", "metrics": ["conversion_rate"], "date_range": ["{{ date "2006-01-02T15:04:05-07:00" .WindowStart }}", "{{ date "2006-01-02T15:04:05-07:00" .Now }}"], "filters": [["is", "event:goal", ["Checkout completed"]]]}`

// plausible is a small fake of Plausible's Stats API v2
// (POST /api/v2/query, https://plausible.io/docs/stats-api): a bearer
// key, a query with site_id, metrics and date_range, and an answer with
// one row of metrics per dimension group. It knows one site and the
// metrics visitors, pageviews, events and conversion_rate, counted over
// the date range from the site's traffic (see traffic), which it
// generates at its first request relative to the clock then: the demo's
// start.
type plausible struct {
	key string
	now func() time.Time

	once    sync.Once
	traffic *traffic
}

type plausibleQuery struct {
	SiteID     string            `json:"site_id"`
	Metrics    []string          `json:"metrics"`
	DateRange  json.RawMessage   `json:"date_range"`
	Filters    []json.RawMessage `json:"filters"`
	Dimensions []string          `json:"dimensions"`
}

func (h *plausible) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.once.Do(func() {
		if p, err := newPlan(h.now()); err == nil {
			h.traffic = newTraffic(p)
		}
	})
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
	now := h.now()
	from, to, msg := dateRange(q.DateRange, now)
	if msg != "" {
		fail(http.StatusBadRequest, "#/date_range: "+msg)
		return
	}
	if h.traffic == nil {
		fail(http.StatusInternalServerError, "no data")
		return
	}
	// Nothing has happened after now yet.
	if to.After(now) {
		to = now
	}
	visitors, conversions := h.traffic.between(from, to)
	values := make([]any, len(q.Metrics))
	for i, m := range q.Metrics {
		switch m {
		case "conversion_rate":
			rate := 0.0
			if visitors > 0 {
				rate = math.Round(10000*conversions/visitors) / 100
			}
			values[i] = rate
		case "visitors":
			values[i] = int(math.Round(visitors))
		case "pageviews":
			values[i] = int(math.Round(visitors * pageviewsPerVisitor))
		case "events":
			values[i] = int(math.Round(visitors * eventsPerVisitor))
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

// dateRange reads a query's date_range: a period relative to now ("day",
// "7d", "28d", "30d", "91d", "month", "6mo", "12mo", "year", "all"), two
// dates (both included, in the site's time zone, UTC) or two ISO 8601
// instants. It returns the range as [from, to), or why it is invalid.
func dateRange(raw json.RawMessage, now time.Time) (from, to time.Time, msg string) {
	now = now.UTC()
	today := now.Truncate(day)
	var rel string
	if err := json.Unmarshal(raw, &rel); err == nil {
		switch rel {
		case "day":
			return today, now, ""
		case "7d", "28d", "30d", "91d":
			var n int
			fmt.Sscanf(rel, "%dd", &n)
			return now.AddDate(0, 0, -n), now, ""
		case "month":
			return time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC), now, ""
		case "6mo", "12mo":
			var n int
			fmt.Sscanf(rel, "%dmo", &n)
			return now.AddDate(0, -n, 0), now, ""
		case "year":
			return time.Date(now.Year(), 1, 1, 0, 0, 0, 0, time.UTC), now, ""
		case "all":
			return time.Unix(0, 0).UTC(), now, ""
		}
		return from, to, fmt.Sprintf("Invalid date range %q", rel)
	}
	var pair []string
	if err := json.Unmarshal(raw, &pair); err != nil || len(pair) != 2 {
		return from, to, `Invalid date range, want a period like "28d", ["2026-10-01", "2026-10-28"] or two ISO 8601 date-times`
	}
	if a, errA := time.Parse(time.DateOnly, pair[0]); errA == nil {
		b, errB := time.Parse(time.DateOnly, pair[1])
		if errB != nil || b.Before(a) {
			return from, to, fmt.Sprintf("Invalid date range %s", raw)
		}
		return a, b.Add(day), ""
	}
	a, errA := time.Parse(time.RFC3339, pair[0])
	b, errB := time.Parse(time.RFC3339, pair[1])
	if errA != nil || errB != nil || b.Before(a) {
		return from, to, fmt.Sprintf("Invalid date range %s", raw)
	}
	return a, b, ""
}

// Per visitor, the site's pageviews and events.
const (
	pageviewsPerVisitor = 4.81
	eventsPerVisitor    = 6.33
)

// traffic is the site's visitors and checkout conversions per day (UTC),
// spread evenly over each day. The daily conversion rate rises linearly
// from the baseline 28 days before the period to a peak at the plan's now
// (and stays there), the peak chosen so that the 28-day rate at now is
// exactly conversionNow.
type traffic struct {
	rampStart, rampEnd time.Time
	peak               float64
}

func newTraffic(p plan) *traffic {
	tr := &traffic{rampStart: p.period.Start.Add(-conversionWindow), rampEnd: p.now, peak: conversionBaseline}
	// The rate over a window is the baseline plus (peak - baseline) times
	// the visitor-weighted average of the ramp over it.
	visitors, ramp := tr.sums(p.now.Add(-conversionWindow), p.now)
	if ramp > 0 {
		tr.peak = conversionBaseline + (conversionNow-conversionBaseline)*visitors/ramp
	}
	return tr
}

// dailyVisitors is the site's visitors on the day d (Unix days): about
// 1,700, a little more on weekdays, varying from day to day.
func dailyVisitors(d int64) float64 {
	v := 1700 + 160*math.Sin(float64(d)*2*math.Pi/7) + float64((d*7919)%97)
	return math.Round(v)
}

// rampAt is how far the conversion rate has risen at t, from 0 to 1.
func (tr *traffic) rampAt(t time.Time) float64 {
	if !t.After(tr.rampStart) {
		return 0
	}
	if !t.Before(tr.rampEnd) {
		return 1
	}
	return float64(t.Sub(tr.rampStart)) / float64(tr.rampEnd.Sub(tr.rampStart))
}

// sums returns, over [from, to), the visitors and the visitors weighted
// by the ramp at the middle of their day.
func (tr *traffic) sums(from, to time.Time) (visitors, ramp float64) {
	for d := from.UTC().Truncate(day); d.Before(to); d = d.Add(day) {
		start, end := d, d.Add(day)
		if from.After(start) {
			start = from
		}
		if to.Before(end) {
			end = to
		}
		if !start.Before(end) {
			continue
		}
		v := dailyVisitors(d.Unix()/86400) * float64(end.Sub(start)) / float64(day)
		visitors += v
		ramp += v * tr.rampAt(d.Add(day/2))
	}
	return visitors, ramp
}

// between returns the visitors and conversions in [from, to).
func (tr *traffic) between(from, to time.Time) (visitors, conversions float64) {
	visitors, ramp := tr.sums(from, to)
	return visitors, (conversionBaseline*visitors + (tr.peak-conversionBaseline)*ramp) / 100
}
