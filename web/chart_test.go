package web

import (
	"strings"
	"testing"
	"time"

	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/okr"
)

var q4 = okr.Period{Name: "2026-Q4", Start: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}

func TestDownsampleKeepsTheLastPointOfEachBucket(t *testing.T) {
	from := q4.Start
	hour := func(h int) okr.Point { return okr.Point{At: from.Add(time.Duration(h) * time.Hour), Value: float64(h)} }
	var pts []okr.Point
	for h := 0; h < 40; h++ {
		pts = append(pts, hour(h))
	}
	for _, tc := range []struct {
		name string
		n    int
		to   time.Time
		want []float64
	}{
		// [0h, 40h) in 4 buckets of 10 hours: the last of each is 9, 19, 29, 39.
		{"four buckets of ten hours", 4, from.Add(40 * time.Hour), []float64{9, 19, 29, 39}},
		// Points past `to` fall into the last bucket.
		{"points after the end join the last bucket", 2, from.Add(20 * time.Hour), []float64{9, 39}},
		{"no more buckets than points keeps them all", 40, from.Add(40 * time.Hour), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := downsample(pts, from, tc.to, tc.n)
			if tc.want == nil {
				if len(got) != len(pts) {
					t.Fatalf("%d points, want all %d", len(got), len(pts))
				}
				return
			}
			var vs []float64
			for _, p := range got {
				vs = append(vs, p.Value)
			}
			if len(vs) != len(tc.want) {
				t.Fatalf("got %v, want %v", vs, tc.want)
			}
			for i := range vs {
				if vs[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", vs, tc.want)
				}
			}
		})
	}
}

func TestTheExpectedPathTurnsAtMilestones(t *testing.T) {
	kr := &config.KeyResult{Title: "NPS", Engine: okr.KeyResult{Direction: okr.Increase, Baseline: 30, Target: 40, Milestones: []okr.Milestone{
		{At: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Value: 36},
		{At: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), Value: 33}, // before the period: ignored
	}}}
	got := expectedValues(kr, q4)
	// Start at the baseline, the milestone at its value, the end at the target.
	want := []okr.Point{{At: q4.Start, Value: 30}, {At: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Value: 36}, {At: q4.End, Value: 40}}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if !got[i].At.Equal(want[i].At) || got[i].Value != want[i].Value {
			t.Errorf("point %d: %v, want %v", i, got[i], want[i])
		}
	}
	if got := expectedValues(&config.KeyResult{Engine: okr.KeyResult{Direction: okr.Maintain, Min: 0, Max: 1}}, q4); got != nil {
		t.Errorf("maintain: %v, want none (the band is drawn instead)", got)
	}
}

func TestNiceStepIsOneTwoOrFiveTimesAPowerOfTen(t *testing.T) {
	for _, tc := range []struct {
		span float64
		want float64
	}{
		{9, 2},       // 9/5 = 1.8 -> 2
		{10, 2},      // 2 -> 2
		{0.09, 0.02}, // 0.018 -> 0.02
		{40, 10},     // 8 -> 10
		{172800, 50000},
	} {
		if got := niceStep(tc.span, 5); got != tc.want {
			t.Errorf("niceStep(%v) = %v, want %v", tc.span, got, tc.want)
		}
	}
}

func TestAWildForecastIsClippedAtThePlotEdge(t *testing.T) {
	kr := &config.KeyResult{Title: "NPS", Engine: okr.KeyResult{Direction: okr.Increase, Baseline: 30, Target: 40}}
	now := time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)
	hist := []okr.Point{{At: q4.Start, Value: 30}, {At: now, Value: 35}}
	c := newChart(kr, okr.Result{HasForecast: true, Forecast: 1000}, q4, now, hist, time.UTC)
	// The axis covers 30..40 plus half the span of slack (45), rounded to
	// the step of 5: 30..45, not 30..1000.
	if first, last := c.YTicks[0].Label, c.YTicks[len(c.YTicks)-1].Label; first != "30" || last != "45" {
		t.Errorf("y axis %s..%s, want 30..45", first, last)
	}
	f := c.Forecast
	if f == nil || f[1].Y != c.Plot.Y || f[1].X >= c.Plot.X+c.Plot.W {
		t.Errorf("forecast %v: want it to stop at the top edge (y %v) before the period end", f, c.Plot.Y)
	}
	if c.Now == nil || !strings.Contains(c.Desc, "Forecast at the period end: 1000.") {
		t.Errorf("now %v, desc %q", c.Now, c.Desc)
	}
}

func TestTimeTicksFollowThePeriodLength(t *testing.T) {
	s := scale{p: q4, box: rect{0, 0, 920, 100}}
	var labels []string
	for _, tk := range timeTicks(q4, time.UTC, s) {
		labels = append(labels, tk.Label)
	}
	if got := strings.Join(labels, ","); got != "Oct 1,Nov 1,Dec 1" {
		t.Errorf("quarter: %s", got)
	}
	w := okr.Period{Name: "2026-11", Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	labels = nil
	for _, tk := range timeTicks(w, time.UTC, scale{p: w, box: rect{0, 0, 300, 100}}) {
		labels = append(labels, tk.Label)
	}
	if got := strings.Join(labels, ","); got != "Nov 1,Nov 8,Nov 15,Nov 22,Nov 29" {
		t.Errorf("month: %s", got)
	}
}

func TestAxisLabelsShortenLargeNumbers(t *testing.T) {
	eur := &config.KeyResult{Unit: "currency", Currency: "EUR"}
	count := &config.KeyResult{}
	ratio := &config.KeyResult{Unit: "ratio"}
	for _, tc := range []struct {
		kr   *config.KeyResult
		v    float64
		want string
	}{
		{eur, 250000, "250k EUR"},
		{eur, 9000, "9000 EUR"},
		{count, 1500000, "1.5M"},
		{count, 1.2e9, "1.2B"},
		{count, 0.3 * 1e6 * 4, "1.2M"},
		{ratio, 0.35, "35.0%"},
	} {
		if got := axisLabel(tc.kr, tc.v); got != tc.want {
			t.Errorf("axisLabel(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}
