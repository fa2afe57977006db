package web

import (
	"strings"
	"testing"
	"time"

	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/okr"
	"github.com/okrd/okrd/report/format"
)

var q4 = okr.Period{Name: "2026-Q4", Start: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}

func TestDownsampleKeepsTheLastPointOfEachBucket(t *testing.T) {
	from := q4.Start
	hour := func(h int) sample {
		return sample{Point: okr.Point{At: from.Add(time.Duration(h) * time.Hour), Value: float64(h)}, Kind: format.KindLive}
	}
	var pts []sample
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

func TestAWildForecastIsClippedAtThePlotEdge(t *testing.T) {
	kr := &config.KeyResult{Title: "NPS", Engine: okr.KeyResult{Direction: okr.Increase, Baseline: 30, Target: 40}}
	now := time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)
	hist := []sample{{Point: okr.Point{At: q4.Start, Value: 30}}, {Point: okr.Point{At: now, Value: 35}}}
	c := newChart(kr, okr.Result{HasForecast: true, Forecast: 1000}, q4, now, hist, time.UTC, "")
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

func TestTheYAxisOfAChartHasOneUnit(t *testing.T) {
	// A lead time from 4 d to 2 d whose values went down to 41.7 h: every
	// tick is in days, none in hours.
	kr := &config.KeyResult{Title: "Lead time", Unit: "duration", Engine: okr.KeyResult{Direction: okr.Decrease, Baseline: 345600, Target: 172800}}
	now := time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)
	hist := []sample{{Point: okr.Point{At: q4.Start, Value: 4.1 * 86400}}, {Point: okr.Point{At: now, Value: 41.7 * 3600}}}
	c := newChart(kr, okr.Result{}, q4, now, hist, time.UTC, "")
	var labels []string
	for _, tk := range c.YTicks {
		labels = append(labels, tk.Label)
	}
	if got := strings.Join(labels, ","); got != "1.5 d,2.0 d,2.5 d,3.0 d,3.5 d,4.0 d,4.5 d" {
		t.Errorf("y axis %s", got)
	}
	// Money from ten thousand on is shortened on every tick.
	eur := &config.KeyResult{Title: "Revenue", Unit: "currency", Currency: "EUR", Engine: okr.KeyResult{Direction: okr.Increase, Baseline: 9000, Target: 20000}}
	c = newChart(eur, okr.Result{}, q4, now, nil, time.UTC, "")
	labels = nil
	for _, tk := range c.YTicks {
		labels = append(labels, tk.Label)
	}
	if got := strings.Join(labels, ","); got != "5k EUR,10k EUR,15k EUR,20k EUR" {
		t.Errorf("y axis %s", got)
	}
}

func TestTheValueLineIsDashedOnlyBetweenTwoFilledInValues(t *testing.T) {
	const F, L, C = format.KindFilled, format.KindLive, format.KindCheckin
	line := func(n int) []pt {
		out := make([]pt, n)
		for i := range out {
			out[i] = pt{float64(i), float64(i)}
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		kinds []format.Kind
		want  string // each run: "f" (filled) or "m" (measured), then its points
	}{
		{"measured values are one solid run", []format.Kind{L, L, L}, "m:0,0 1,1 2,2"},
		{"the filled-in past is dashed up to the first live value, which a solid run reaches",
			[]format.Kind{F, F, F, L, L}, "f:0,0 1,1 2,2|m:2,2 3,3 4,4"},
		{"a filled-in value between live ones keeps the line solid", []format.Kind{L, F, L, F, L}, "m:0,0 1,1 2,2 3,3 4,4"},
		{"a stretch filled in while okrd did not measure is dashed between solid ones",
			[]format.Kind{L, F, F, F, L}, "m:0,0 1,1|f:1,1 2,2 3,3|m:3,3 4,4"},
		{"check-ins are measured values", []format.Kind{F, F, C}, "f:0,0 1,1|m:1,1 2,2"},
		{"a single value draws no line", []format.Kind{F}, ""},
		{"no value draws no line", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, r := range lineRuns(line(len(tc.kinds)), tc.kinds) {
				style := "m"
				if r.Filled {
					style = "f"
				}
				got = append(got, style+":"+r.Points)
			}
			if g := strings.Join(got, "|"); g != tc.want {
				t.Errorf("runs %q, want %q", g, tc.want)
			}
		})
	}
}

func TestASingleValueIsADotNotALineFromThePeriodStart(t *testing.T) {
	kr := &config.KeyResult{Title: "NPS", Engine: okr.KeyResult{Direction: okr.Increase, Baseline: 30, Target: 40}}
	now := time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)
	one := []sample{{Point: okr.Point{At: time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC), Value: 35}, Kind: format.KindLive}}

	sp := newSparkline(kr, q4, now, one, time.UTC, "")
	if len(sp.Runs) != 0 {
		t.Errorf("the sparkline of one value draws lines %v", sp.Runs)
	}
	// Nov 10 09:00 is 40.375 of 92 days in: x = 3 + 114 × 0.4389 = 53.03.
	if sp.Last == nil || sp.Last.X != 53.03 {
		t.Errorf("the dot is at %v, want x 53.03 (Nov 10), not the period start", sp.Last)
	}
	if sp.Label != "One value in 2026-Q4: 35 on Nov 10." {
		t.Errorf("label %q", sp.Label)
	}

	c := newChart(kr, okr.Result{HasValue: true, Value: 35}, q4, now, one, time.UTC, "")
	if len(c.Runs) != 0 || len(c.Dots) != 1 || c.Dots[0].Filled || !c.HasRecorded || c.HasFilled {
		t.Errorf("the chart of one value: runs %v, dots %v, recorded %v, filled %v; want one recorded dot", c.Runs, c.Dots, c.HasRecorded, c.HasFilled)
	}
	if !strings.HasPrefix(c.Desc, "One value, 35 on Nov 10. ") {
		t.Errorf("desc %q", c.Desc)
	}
}

func TestTheChartMarksEveryCheckinAndNamesWhereFilledInValuesComeFrom(t *testing.T) {
	kr := &config.KeyResult{Title: "Done", Engine: okr.KeyResult{Direction: okr.Increase, Baseline: 0, Target: 100}}
	now := time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)
	var hist []sample
	// 100 filled-in values, six hours apart (Oct 1 to Oct 25 18:00), then
	// 10 live values and 2 check-ins.
	for i := 0; i < 100; i++ {
		hist = append(hist, sample{Point: okr.Point{At: q4.Start.Add(time.Duration(i) * 6 * time.Hour), Value: float64(i) / 4}, Kind: format.KindFilled})
	}
	for i := 0; i < 12; i++ {
		k := format.KindLive
		if i == 3 || i == 7 {
			k = format.KindCheckin
		}
		hist = append(hist, sample{Point: okr.Point{At: time.Date(2026, 11, 1+i, 9, 0, 0, 0, time.UTC), Value: 30 + float64(i)}, Kind: k})
	}
	c := newChart(kr, okr.Result{HasValue: true, Value: 41}, q4, now, hist, time.UTC, "filled in from Jira records (source jira)")
	if len(c.Checkins) != 2 {
		t.Errorf("%d check-in markers, want 2", len(c.Checkins))
	}
	// More than 60 values: no dots.
	if len(c.Dots) != 0 || !c.HasFilled || !c.HasRecorded {
		t.Errorf("dots %d, filled %v, recorded %v", len(c.Dots), c.HasFilled, c.HasRecorded)
	}
	if len(c.Runs) != 2 || !c.Runs[0].Filled || c.Runs[1].Filled {
		t.Errorf("runs %v, want a dashed one then a solid one", c.Runs)
	}
	want := "112 values from Oct 1 to Nov 12, between 0 and 41; the latest is 41. " +
		"100 of them were filled in from Jira records (source jira); 10 were measured live and 2 were checked in."
	if !strings.HasPrefix(c.Desc, want) {
		t.Errorf("desc %q,\nwant it to start with %q", c.Desc, want)
	}
}
