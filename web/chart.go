package web

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/okr"
	"github.com/okrd/okrd/report/format"
)

// The charts are plain SVG drawn on the server: the page needs no
// JavaScript and no frontend build. They are drawn in value space (the
// y axis is in the key result's unit), which is what readers know; the
// expected trajectory is okr.ExpectedProgress converted back to values.

// Bounds on the points drawn: a key result polled every five minutes has
// about 26,000 values in a quarter, far more than a line can show.
const (
	sparkPoints = 60
	chartPoints = 360
)

// pt is a point in SVG user units.
type pt struct{ X, Y float64 }

// rect is an SVG rectangle in user units.
type rect struct{ X, Y, W, H float64 }

// tick is an axis tick: its position along the axis and its label.
type tick struct {
	Pos   float64
	Label string
	// Anchor is the text-anchor of the label.
	Anchor string
}

// sample is one value of a key result's history and what kind of value
// it is: measured live, checked in, or filled in from a source's records.
type sample struct {
	okr.Point
	Kind format.Kind
}

// run is a stretch of the value line drawn in one style: solid where okrd
// recorded the values, dashed and lighter where they were filled in.
type run struct {
	Filled bool
	Points string
}

// dot marks one drawn value; a filled-in one is hollow.
type dot struct {
	X, Y   float64
	Filled bool
}

// sparkline is the small trend drawn next to each key result on the index.
type sparkline struct {
	Label      string
	Runs       []run  // the value line
	Expected   string // polyline points of the expected trajectory, if any
	Band       *rect  // the band of a maintain key result
	Last       *pt    // the latest value
	LastFilled bool   // whether the latest value was filled in
}

// chart is the larger history chart of the key result page.
type chart struct {
	Title, Desc    string
	W, H           float64
	Plot           rect
	XTicks, YTicks []tick
	Runs           []run
	Dots           []dot
	// Checkins are the polygon points of a diamond at each check-in.
	Checkins                 []string
	Expected                 string
	Milestones               []pt
	Band                     *rect
	Forecast                 *[2]pt
	Now                      *float64
	HasValues, HasBand       bool
	HasExpected, HasForecast bool
	// HasRecorded and HasFilled say which styles of value line (or dot)
	// the chart draws, for its legend; FilledFrom names where the
	// filled-in values come from ("filled in from Jira records (source
	// jira)").
	HasRecorded, HasFilled bool
	FilledFrom             string
	// Marks are the events of the key result's initiatives (an issue
	// done, a pull request merged, a deployment shipped): ticks along the
	// bottom of the plot, each with its tooltip.
	Marks []mark
	// MarksOmitted counts the events left out (outside the period, or
	// beyond maxMarks).
	MarksOmitted int
	s            scale
}

// mark is one initiative event on a chart.
type mark struct {
	X     float64
	Kind  string
	Title string
}

// maxMarks bounds the marks drawn on a chart: the newest are kept.
const maxMarks = 300

// addMarks draws the events that fall in the chart's period, up to now.
func (c *chart) addMarks(evs []markEvent, now time.Time, loc *time.Location) {
	end := now
	if end.After(c.s.p.End) {
		end = c.s.p.End
	}
	var in []markEvent
	for _, e := range evs {
		if e.At.Before(c.s.p.Start) || e.At.After(end) {
			c.MarksOmitted++
			continue
		}
		in = append(in, e)
	}
	slices.SortStableFunc(in, func(a, b markEvent) int { return a.At.Compare(b.At) })
	if n := len(in) - maxMarks; n > 0 {
		c.MarksOmitted += n
		in = in[n:]
	}
	for _, e := range in {
		c.Marks = append(c.Marks, mark{X: c.s.x(e.At), Kind: e.Kind, Title: e.At.In(loc).Format("Jan 2 15:04") + ": " + e.Title + " (" + e.Initiative + ")"})
	}
}

// markEvent is an initiative event to mark.
type markEvent struct {
	At                      time.Time
	Kind, Title, Initiative string
}

// scale maps times and values into a plot rectangle.
type scale struct {
	p      okr.Period
	lo, hi float64
	box    rect
}

func (s scale) x(t time.Time) float64 {
	span := s.p.End.Sub(s.p.Start).Seconds()
	f := 0.0
	if span > 0 {
		f = t.Sub(s.p.Start).Seconds() / span
	}
	return round2(s.box.X + math.Max(0, math.Min(1, f))*s.box.W)
}

func (s scale) y(v float64) float64 {
	f := 0.5
	if s.hi > s.lo {
		f = (v - s.lo) / (s.hi - s.lo)
	}
	return round2(s.box.Y + (1-f)*s.box.H)
}

// round2 keeps the SVG small: a hundredth of a user unit is far below a
// pixel.
func round2(f float64) float64 { return math.Round(f*100) / 100 }

func points(ps []pt) string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatFloat(p.X, 'f', -1, 64))
		b.WriteByte(',')
		b.WriteString(strconv.FormatFloat(p.Y, 'f', -1, 64))
	}
	return b.String()
}

// lineRuns cuts the line through the drawn values (line, with their kinds)
// into runs of one style. A segment is drawn filled in only when both its
// ends were filled in: where okrd recorded a value at either end, the line
// rests on that record. (Filled-in values keep arriving at each grid
// instant while okrd measures live, between the live values; they must
// not break the measured line up.) A single value draws no line: its dot
// shows it, rather than a line from somewhere it was not.
func lineRuns(line []pt, kinds []format.Kind) []run {
	var out []run
	var cur []pt
	curFilled := false
	for i := 1; i < len(line); i++ {
		f := kinds[i-1] == format.KindFilled && kinds[i] == format.KindFilled
		if len(cur) > 0 && f != curFilled {
			out = append(out, run{Filled: curFilled, Points: points(cur)})
			cur = nil
		}
		if len(cur) == 0 {
			cur, curFilled = append(cur, line[i-1]), f
		}
		cur = append(cur, line[i])
	}
	if len(cur) > 0 {
		out = append(out, run{Filled: curFilled, Points: points(cur)})
	}
	return out
}

// counts is how many values of a history are of each kind.
type counts struct{ filled, live, checkin int }

func countKinds(history []sample) counts {
	var c counts
	for _, s := range history {
		switch s.Kind {
		case format.KindFilled:
			c.filled++
		case format.KindCheckin:
			c.checkin++
		default:
			c.live++
		}
	}
	return c
}

// plural is "1 value" or "3 values".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// downsample keeps at most n points of pts (sorted by time) by splitting
// [from, to] into n equal time buckets and keeping the last point of each:
// the last value is the one the evaluation would use at the end of the
// bucket, so the line keeps the meaning of "the value at that time".
func downsample(pts []sample, from, to time.Time, n int) []sample {
	if len(pts) <= n || n < 1 || !to.After(from) {
		return pts
	}
	span := to.Sub(from).Seconds()
	out := make([]sample, 0, n)
	bucket := -1
	for _, p := range pts {
		b := int(float64(n) * p.At.Sub(from).Seconds() / span)
		b = max(0, min(n-1, b))
		if b == bucket {
			out[len(out)-1] = p
			continue
		}
		bucket = b
		out = append(out, p)
	}
	return out
}

// expectedValues is the expected trajectory of an increase or decrease key
// result in value space: its corners are the period start, every milestone
// inside the period and the period end (nil for maintain).
func expectedValues(kr *config.KeyResult, p okr.Period) []okr.Point {
	e := kr.Engine
	if e.Direction == okr.Maintain {
		return nil
	}
	times := []time.Time{p.Start}
	for _, m := range e.Milestones {
		if m.At.After(p.Start) && m.At.Before(p.End) {
			times = append(times, m.At)
		}
	}
	times = append(times, p.End)
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	out := make([]okr.Point, 0, len(times))
	for _, t := range times {
		out = append(out, okr.Point{At: t, Value: e.Baseline + okr.ExpectedProgress(e, p, t)*(e.Target-e.Baseline)})
	}
	return out
}

// valueRange is the range the y axis must show: the goal (baseline and
// target, or the band) and the given values.
func valueRange(kr *config.KeyResult, vals ...float64) (lo, hi float64) {
	e := kr.Engine
	if e.Direction == okr.Maintain {
		lo, hi = e.Min, e.Max
	} else {
		lo, hi = math.Min(e.Baseline, e.Target), math.Max(e.Baseline, e.Target)
	}
	for _, v := range vals {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if hi == lo {
		d := math.Max(math.Abs(hi)*0.1, 1)
		lo, hi = lo-d, hi+d
	}
	return lo, hi
}

// newSparkline draws the trend of a key result on the index. history is
// the values inside the period up to now, sorted by time; filledFrom says
// where its filled-in values come from.
func newSparkline(kr *config.KeyResult, p okr.Period, now time.Time, history []sample, loc *time.Location, filledFrom string) *sparkline {
	const w, h, pad = 120.0, 28.0, 3.0
	end := now
	if end.After(p.End) {
		end = p.End
	}
	pts := downsample(history, p.Start, end, sparkPoints)
	vals := make([]float64, len(pts))
	for i, v := range pts {
		vals[i] = v.Value
	}
	lo, hi := valueRange(kr, vals...)
	s := scale{p: p, lo: lo, hi: hi, box: rect{pad, pad, w - 2*pad, h - 2*pad}}
	sp := &sparkline{}
	line := make([]pt, len(pts))
	kinds := make([]format.Kind, len(pts))
	for i, v := range pts {
		line[i], kinds[i] = pt{s.x(v.At), s.y(v.Value)}, v.Kind
	}
	sp.Runs = lineRuns(line, kinds)
	if len(line) > 0 {
		l := line[len(line)-1]
		sp.Last, sp.LastFilled = &l, kinds[len(kinds)-1] == format.KindFilled
	}
	if e := kr.Engine; e.Direction == okr.Maintain {
		top, bottom := s.y(e.Max), s.y(e.Min)
		sp.Band = &rect{s.box.X, top, s.box.W, math.Max(bottom-top, 1)}
	} else {
		var ex []pt
		for _, v := range expectedValues(kr, p) {
			ex = append(ex, pt{s.x(v.At), s.y(v.Value)})
		}
		sp.Expected = points(ex)
	}
	switch len(history) {
	case 0:
		sp.Label = "No values recorded in " + p.Name + "."
	case 1:
		v := history[0]
		sp.Label = fmt.Sprintf("One value in %s: %s on %s.", p.Name, format.Value(kr, v.Value), v.At.In(loc).Format("Jan 2"))
	default:
		first, last := history[0], history[len(history)-1]
		sp.Label = fmt.Sprintf("Trend in %s: %d values, from %s on %s to %s on %s.", p.Name, len(history),
			format.Value(kr, first.Value), first.At.In(loc).Format("Jan 2"), format.Value(kr, last.Value), last.At.In(loc).Format("Jan 2"))
	}
	if c := countKinds(history); c.filled > 0 {
		sp.Label += " " + filledShare(c.filled, len(history), filledFrom) + "."
	}
	return sp
}

// filledShare says how many of n values were filled in: "46 of them were
// filled in from Jira records (source jira)".
func filledShare(filled, n int, filledFrom string) string {
	switch {
	case n == 1:
		return "It was " + filledFrom
	case filled == n:
		return "All of them were " + filledFrom
	default:
		return strconv.Itoa(filled) + " of them were " + filledFrom
	}
}

// newChart draws the history of a key result over its period. history is
// the values inside the period up to now, sorted by time; filledFrom says
// where its filled-in values come from.
func newChart(kr *config.KeyResult, r okr.Result, p okr.Period, now time.Time, history []sample, loc *time.Location, filledFrom string) *chart {
	c := &chart{W: 720, H: 300, FilledFrom: filledFrom}
	end := now
	if end.After(p.End) {
		end = p.End
	}
	pts := downsample(history, p.Start, end, chartPoints)
	ex := expectedValues(kr, p)

	vals := make([]float64, 0, len(pts)+len(ex))
	for _, v := range pts {
		vals = append(vals, v.Value)
	}
	for _, v := range ex {
		vals = append(vals, v.Value)
	}
	lo, hi := valueRange(kr, vals...)
	// The forecast widens the axis only within reason: a line through a few
	// noisy points can extrapolate to absurd values, which would squash
	// everything else; beyond that it is clipped at the edge.
	if r.HasForecast {
		slack := (hi - lo) * 0.5
		lo = math.Min(lo, math.Max(r.Forecast, lo-slack))
		hi = math.Max(hi, math.Min(r.Forecast, hi+slack))
	}
	// One unit for the whole axis, chosen from its range: every tick of
	// a lead time of days is in days.
	ax := format.NewAxis(kr, lo, hi)
	yvals := ax.Ticks(lo, hi, 5)
	lo, hi = yvals[0], yvals[len(yvals)-1]
	labels := make([]string, len(yvals))
	longest := 0
	for i, v := range yvals {
		labels[i] = ax.Label(v)
		longest = max(longest, utf8.RuneCountInString(labels[i]))
	}
	// The left margin fits the longest label: about 7 user units a
	// character at the labels' 12px, plus the gap to the axis.
	left := math.Max(40, math.Ceil(float64(longest)*7.2)+14)
	c.Plot = rect{X: left, Y: 16, W: c.W - left - 24, H: c.H - 16 - 36}
	s := scale{p: p, lo: lo, hi: hi, box: c.Plot}
	c.s = s
	for i, v := range yvals {
		c.YTicks = append(c.YTicks, tick{Pos: s.y(v), Label: labels[i], Anchor: "end"})
	}
	c.XTicks = timeTicks(p, loc, s)

	line := make([]pt, len(pts))
	kinds := make([]format.Kind, len(pts))
	for i, v := range pts {
		line[i], kinds[i] = pt{s.x(v.At), s.y(v.Value)}, v.Kind
	}
	c.HasValues = len(line) > 0
	c.Runs = lineRuns(line, kinds)
	for _, rn := range c.Runs {
		c.HasFilled = c.HasFilled || rn.Filled
		c.HasRecorded = c.HasRecorded || !rn.Filled
	}
	// Dots mark the recorded values when there are few enough to tell
	// apart; filled-in values, a day apart, would only blur the dashed
	// line. A single value is a dot whatever it is, not a line.
	if len(line) <= 60 {
		for i, q := range line {
			f := kinds[i] == format.KindFilled
			if kinds[i] == format.KindCheckin || (f && len(line) > 1) {
				continue // a check-in has its diamond
			}
			c.Dots = append(c.Dots, dot{X: q.X, Y: q.Y, Filled: f})
			c.HasFilled = c.HasFilled || f
			c.HasRecorded = c.HasRecorded || !f
		}
	}
	// Every check-in is marked, however many values there are: a check-in
	// is somebody's statement and worth seeing on its own.
	var cis []sample
	for _, v := range history {
		if v.Kind == format.KindCheckin {
			cis = append(cis, v)
		}
	}
	for _, v := range downsample(cis, p.Start, end, chartPoints) {
		x, y := s.x(v.At), s.y(v.Value)
		c.Checkins = append(c.Checkins, points([]pt{{x, y - 5}, {x + 5, y}, {x, y + 5}, {x - 5, y}}))
	}
	if e := kr.Engine; e.Direction == okr.Maintain {
		top, bottom := s.y(e.Max), s.y(e.Min)
		c.Band = &rect{c.Plot.X, top, c.Plot.W, math.Max(bottom-top, 1)}
		c.HasBand = true
	} else {
		var exp []pt
		for _, v := range ex {
			exp = append(exp, pt{s.x(v.At), s.y(v.Value)})
		}
		c.Expected = points(exp)
		c.HasExpected = true
		for _, m := range e.Milestones {
			if !m.At.Before(p.Start) && !m.At.After(p.End) {
				// Drawn where the expected line turns: a milestone past the
				// target counts as the target (progress is clamped).
				v := e.Baseline + okr.ProgressOf(e, m.Value)*(e.Target-e.Baseline)
				c.Milestones = append(c.Milestones, pt{s.x(m.At), s.y(v)})
			}
		}
	}
	if r.HasForecast && len(pts) > 0 {
		last := pts[len(pts)-1]
		a := pt{s.x(last.At), s.y(last.Value)}
		f := r.Forecast
		b := pt{s.x(p.End), s.y(math.Max(lo, math.Min(hi, f)))}
		if f < lo || f > hi {
			// Stop the line where it leaves the plot.
			bound := math.Max(lo, math.Min(hi, f))
			if frac := (bound - last.Value) / (f - last.Value); frac >= 0 && frac <= 1 {
				b.X = round2(a.X + frac*(s.x(p.End)-a.X))
			}
		}
		c.Forecast = &[2]pt{a, b}
		c.HasForecast = true
	}
	if p.Contains(now) {
		x := s.x(now)
		c.Now = &x
	}

	c.Title = "History of " + kr.Title + " in " + p.Name
	var d strings.Builder
	switch len(history) {
	case 0:
		d.WriteString("No values recorded in this period. ")
	case 1:
		v := history[0]
		fmt.Fprintf(&d, "One value, %s on %s. ", format.Value(kr, v.Value), v.At.In(loc).Format("Jan 2"))
	default:
		minV, maxV := history[0].Value, history[0].Value
		for _, v := range history {
			minV, maxV = math.Min(minV, v.Value), math.Max(maxV, v.Value)
		}
		fmt.Fprintf(&d, "%d values from %s to %s, between %s and %s; the latest is %s. ", len(history),
			history[0].At.In(loc).Format("Jan 2"), history[len(history)-1].At.In(loc).Format("Jan 2"),
			format.Value(kr, minV), format.Value(kr, maxV), format.Value(kr, history[len(history)-1].Value))
	}
	if n := countKinds(history); n.filled > 0 {
		d.WriteString(filledShare(n.filled, len(history), filledFrom))
		var rest []string
		if n.live > 0 {
			rest = append(rest, plural(n.live, "was", "were")+" measured live")
		}
		if n.checkin > 0 {
			rest = append(rest, plural(n.checkin, "was", "were")+" checked in")
		}
		if len(rest) > 0 {
			d.WriteString("; " + strings.Join(rest, " and "))
		}
		d.WriteString(". ")
	}
	if e := kr.Engine; e.Direction == okr.Maintain {
		fmt.Fprintf(&d, "The value should stay %s. ", format.Goal(kr))
	} else {
		fmt.Fprintf(&d, "Expected by now: %s, on the way from %s to %s by %s. ",
			format.Value(kr, format.ExpectedValue(kr, r.Expected)), format.Value(kr, e.Baseline), format.Value(kr, e.Target),
			p.End.Add(-time.Nanosecond).In(loc).Format("Jan 2"))
	}
	if r.HasForecast {
		fmt.Fprintf(&d, "Forecast at the period end: %s.", format.Value(kr, r.Forecast))
	}
	c.Desc = strings.TrimSpace(d.String())
	return c
}

// timeTicks labels the time axis: the first of each month for periods
// longer than six weeks (each quarter's first month for periods longer than
// a year), else every week from the start.
func timeTicks(p okr.Period, loc *time.Location, s scale) []tick {
	if loc == nil {
		loc = time.UTC
	}
	start := p.Start.In(loc)
	var ts []time.Time
	switch days := p.End.Sub(p.Start).Hours() / 24; {
	case days <= 42:
		for t := start; t.Before(p.End); t = t.AddDate(0, 0, 7) {
			ts = append(ts, t)
		}
	default:
		months := 1
		if days > 400 {
			months = 3
		}
		y, m, _ := start.Date()
		first := time.Date(y, m, 1, 0, 0, 0, 0, loc)
		if first.Before(start) {
			first = first.AddDate(0, 1, 0)
		}
		for t := first; t.Before(p.End); t = t.AddDate(0, months, 0) {
			ts = append(ts, t)
		}
	}
	out := make([]tick, 0, len(ts))
	for _, t := range ts {
		anchor := "middle"
		if t.Equal(p.Start) {
			anchor = "start"
		}
		out = append(out, tick{Pos: s.x(t), Label: t.Format("Jan 2"), Anchor: anchor})
	}
	return out
}
