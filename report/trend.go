package report

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/okr"
	"github.com/okrd/okrd/report/format"
)

// The trend of each key result in the report: a small PNG for the HTML
// (mail clients drop SVG, and many never load a remote image; a PNG in a
// data: URI travels inside the message) and a line of block characters for
// the Markdown. Both draw the same thing: the values of the period so far,
// against the expected path or the band, on the same scale.

// trendPoint is one value of a key result's history in its period.
type trendPoint struct {
	At     time.Time
	Value  float64
	Filled bool // filled in from the source's records, not measured
}

// The image is drawn at twice the size it is shown at, for sharp lines on
// high-density screens, and supersampled for smooth ones.
const (
	trendW, trendH = 120, 32 // shown, in CSS pixels
	trendScale     = 2       // pixels per CSS pixel in the PNG
	trendSuper     = 2       // subsamples per PNG pixel and axis
)

var (
	trendWhite    = color.RGBA{0xff, 0xff, 0xff, 0xff}
	trendLine     = color.RGBA{0x0b, 0x4f, 0x9e, 0xff} // recorded values
	trendFilled   = color.RGBA{0x5b, 0x7f, 0xb5, 0xff} // filled-in values
	trendExpected = color.RGBA{0x6b, 0x6b, 0x6b, 0xff}
	trendBand     = color.RGBA{0xd7, 0xf0, 0xdc, 0xff}
)

// trendRange is the range of values the trend shows: the goal (baseline
// and target, or the band) and the values.
func trendRange(kc *config.KeyResult, pts []trendPoint) (lo, hi float64) {
	e := kc.Engine
	if e.Direction == okr.Maintain {
		lo, hi = e.Min, e.Max
	} else {
		lo, hi = math.Min(e.Baseline, e.Target), math.Max(e.Baseline, e.Target)
	}
	for _, p := range pts {
		lo, hi = math.Min(lo, p.Value), math.Max(hi, p.Value)
	}
	if hi == lo {
		d := math.Max(math.Abs(hi)*0.1, 1)
		lo, hi = lo-d, hi+d
	}
	return lo, hi
}

// canvas is a supersampled drawing surface.
type canvas struct {
	w, h int
	pix  []color.RGBA
}

func newCanvas(w, h int) *canvas {
	c := &canvas{w: w, h: h, pix: make([]color.RGBA, w*h)}
	for i := range c.pix {
		c.pix[i] = trendWhite
	}
	return c
}

func (c *canvas) rect(x0, y0, x1, y1 float64, col color.RGBA) {
	for y := max(0, int(math.Floor(y0))); y < min(c.h, int(math.Ceil(y1))); y++ {
		for x := max(0, int(math.Floor(x0))); x < min(c.w, int(math.Ceil(x1))); x++ {
			c.pix[y*c.w+x] = col
		}
	}
}

func (c *canvas) disc(cx, cy, r float64, col color.RGBA) {
	for y := max(0, int(cy-r)); y <= min(c.h-1, int(cy+r)); y++ {
		for x := max(0, int(cx-r)); x <= min(c.w-1, int(cx+r)); x++ {
			if dx, dy := float64(x)+0.5-cx, float64(y)+0.5-cy; dx*dx+dy*dy <= r*r {
				c.pix[y*c.w+x] = col
			}
		}
	}
}

// line draws a line of width 2r from a to b; dash > 0 draws dashes of that
// length with gaps as long, counted from the start of the line.
func (c *canvas) line(ax, ay, bx, by, r, dash float64, col color.RGBA) {
	// Discs a quarter of their diameter apart make a line with smooth
	// edges once the subsamples are averaged.
	length := math.Hypot(bx-ax, by-ay)
	n := max(1, int(math.Ceil(length/(r/2))))
	for i := 0; i <= n; i++ {
		f := float64(i) / float64(n)
		if dash > 0 && int(f*length/dash)%2 == 1 {
			continue
		}
		c.disc(ax+f*(bx-ax), ay+f*(by-ay), r, col)
	}
}

// image averages the subsamples into the PNG's pixels.
func (c *canvas) image(super int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, c.w/super, c.h/super))
	n := uint32(super * super)
	for y := 0; y < c.h/super; y++ {
		for x := 0; x < c.w/super; x++ {
			var r, g, b uint32
			for sy := 0; sy < super; sy++ {
				for sx := 0; sx < super; sx++ {
					p := c.pix[(y*super+sy)*c.w+x*super+sx]
					r, g, b = r+uint32(p.R), g+uint32(p.G), b+uint32(p.B)
				}
			}
			img.SetRGBA(x, y, color.RGBA{uint8((r + n/2) / n), uint8((g + n/2) / n), uint8((b + n/2) / n), 0xff})
		}
	}
	return img
}

// trendPNG draws the trend of a key result over its period p up to at:
// the band or the expected path, and the values (lighter and dashed where
// they were filled in).
func trendPNG(kc *config.KeyResult, p okr.Period, pts []trendPoint) []byte {
	k := float64(trendScale * trendSuper)
	w, h := trendW*trendScale*trendSuper, trendH*trendScale*trendSuper
	c := newCanvas(w, h)
	pad := 3 * k
	lo, hi := trendRange(kc, pts)
	span := p.End.Sub(p.Start).Seconds()
	x := func(t time.Time) float64 {
		f := 0.0
		if span > 0 {
			f = math.Max(0, math.Min(1, t.Sub(p.Start).Seconds()/span))
		}
		return pad + f*(float64(w)-2*pad)
	}
	y := func(v float64) float64 { return pad + (1-(v-lo)/(hi-lo))*(float64(h)-2*pad) }

	e := kc.Engine
	if e.Direction == okr.Maintain {
		top, bottom := y(e.Max), y(e.Min)
		c.rect(pad, top, float64(w)-pad, math.Max(bottom, top+k), trendBand)
	} else {
		times := []time.Time{p.Start}
		for _, m := range e.Milestones {
			if m.At.After(p.Start) && m.At.Before(p.End) {
				times = append(times, m.At)
			}
		}
		times = append(times, p.End)
		slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
		for i := 1; i < len(times); i++ {
			a, b := times[i-1], times[i]
			c.line(x(a), y(format.ExpectedValue(kc, okr.ExpectedProgress(e, p, a))),
				x(b), y(format.ExpectedValue(kc, okr.ExpectedProgress(e, p, b))), 0.5*k, 3*k, trendExpected)
		}
	}
	for i := 1; i < len(pts); i++ {
		a, b := pts[i-1], pts[i]
		if a.Filled && b.Filled {
			c.line(x(a.At), y(a.Value), x(b.At), y(b.Value), 0.75*k, 3*k, trendFilled)
		} else {
			c.line(x(a.At), y(a.Value), x(b.At), y(b.Value), 0.75*k, 0, trendLine)
		}
	}
	if len(pts) > 0 {
		last := pts[len(pts)-1]
		col := trendLine
		if last.Filled {
			col = trendFilled
		}
		c.disc(x(last.At), y(last.Value), 2.2*k, col)
	}
	var buf bytes.Buffer
	// Encoding an in-memory RGBA image cannot fail.
	_ = (&png.Encoder{CompressionLevel: png.DefaultCompression}).Encode(&buf, c.image(trendSuper))
	return buf.Bytes()
}

// dataURI is a PNG as a data: URI.
func dataURI(b []byte) string { return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b) }

// sparkBlocks are the levels of the text trend, lowest first.
var sparkBlocks = []rune("▁▂▃▄▅▆▇█")

// trendText is the trend as block characters, one for each week of the
// period up to at: the value at the end of the week (or at at), on the
// scale of the image. Weeks before the first value are left out.
func trendText(kc *config.KeyResult, p okr.Period, at time.Time, pts []trendPoint) string {
	if len(pts) == 0 {
		return ""
	}
	lo, hi := trendRange(kc, pts)
	var b strings.Builder
	i := 0
	for t := p.Start.Add(Week); ; t = t.Add(Week) {
		if t.After(at) {
			t = at
		}
		for i < len(pts) && !pts[i].At.After(t) {
			i++
		}
		if i > 0 {
			f := (pts[i-1].Value - lo) / (hi - lo)
			b.WriteRune(sparkBlocks[max(0, min(len(sparkBlocks)-1, int(math.Round(f*float64(len(sparkBlocks)-1)))))])
		}
		if !t.Before(at) {
			break
		}
	}
	return b.String()
}
