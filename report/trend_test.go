package report

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"testing"
	"time"

	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/okr"
)

var q4 = okr.Period{Name: "2026-Q4", Start: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}

func day(m time.Month, d int) time.Time { return time.Date(2026, m, d, 9, 0, 0, 0, time.UTC) }

func countColour(img image.Image, c color.RGBA) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if r, g, bl, _ := img.At(x, y).RGBA(); uint8(r>>8) == c.R && uint8(g>>8) == c.G && uint8(bl>>8) == c.B {
				n++
			}
		}
	}
	return n
}

func TestTheTrendImageDrawsTheValuesAgainstTheGoal(t *testing.T) {
	nps := &config.KeyResult{Engine: okr.KeyResult{Direction: okr.Increase, Baseline: 30, Target: 40}}
	band := &config.KeyResult{Unit: "ratio", Engine: okr.KeyResult{Direction: okr.Maintain, Min: 0.995, Max: 1}}
	live := []trendPoint{{At: day(10, 1), Value: 31}, {At: day(10, 20), Value: 34}, {At: day(11, 14), Value: 36}}
	var filled []trendPoint
	for d := 0; d < 30; d++ {
		filled = append(filled, trendPoint{At: q4.Start.AddDate(0, 0, d), Value: 30 + float64(d)/5, Filled: true})
	}
	for _, tc := range []struct {
		name       string
		kr         *config.KeyResult
		pts        []trendPoint
		has, hasNo []color.RGBA
	}{
		{"recorded values in a solid line, with the expected path", nps, live, []color.RGBA{trendLine, trendExpected}, []color.RGBA{trendFilled, trendBand}},
		{"filled-in values in their own colour", nps, filled, []color.RGBA{trendFilled, trendExpected}, []color.RGBA{trendLine}},
		{"a band instead of a path", band, []trendPoint{{At: day(10, 1), Value: 0.998}, {At: day(11, 1), Value: 0.997}}, []color.RGBA{trendBand, trendLine}, []color.RGBA{trendExpected}},
		{"a single value is a dot", nps, live[:1], []color.RGBA{trendLine}, []color.RGBA{trendFilled}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img, err := png.Decode(bytes.NewReader(trendPNG(tc.kr, q4, tc.pts)))
			if err != nil {
				t.Fatal(err)
			}
			if b := img.Bounds(); b.Dx() != trendW*trendScale || b.Dy() != trendH*trendScale {
				t.Errorf("image %dx%d", b.Dx(), b.Dy())
			}
			for _, c := range tc.has {
				if countColour(img, c) < 4 {
					t.Errorf("no pixel of %v", c)
				}
			}
			for _, c := range tc.hasNo {
				if n := countColour(img, c); n > 0 {
					t.Errorf("%d pixels of %v", n, c)
				}
			}
		})
	}
}

func TestTheTrendTextHasAWeekPerCharacter(t *testing.T) {
	nps := &config.KeyResult{Engine: okr.KeyResult{Direction: okr.Increase, Baseline: 30, Target: 40}}
	pts := []trendPoint{{At: day(10, 1), Value: 30}, {At: day(10, 20), Value: 35}, {At: day(11, 14), Value: 40}}
	for _, tc := range []struct {
		name string
		at   time.Time
		pts  []trendPoint
		want string
	}{
		// Oct 8, 15, 22, 29, Nov 5, 12 and the report's Nov 15: 30 on a
		// 30..40 scale is the lowest block, 35 the middle, 40 the top.
		{"seven weeks", time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC), pts, "▁▁▅▅▅▅█"},
		{"weeks before the first value are left out", time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC), pts[1:], "▅▅▅▅█"},
		{"nothing without values", time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC), nil, ""},
		{"the first days of the period are one character", time.Date(2026, 10, 3, 12, 0, 0, 0, time.UTC), pts[:1], "▁"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := trendText(nps, q4, tc.at, tc.pts); got != tc.want {
				t.Errorf("trend %q, want %q", got, tc.want)
			}
		})
	}
}

// One trend image of a key result with a value every day of a quarter,
// and its text.
func BenchmarkTrendPNG(b *testing.B) {
	kr := &config.KeyResult{Engine: okr.KeyResult{Direction: okr.Increase, Baseline: 30, Target: 40}}
	var pts []trendPoint
	for d := 0; d < 92; d++ {
		pts = append(pts, trendPoint{At: q4.Start.AddDate(0, 0, d), Value: 30 + float64(d%7) + float64(d)/20, Filled: d < 46})
	}
	b.ReportAllocs()
	for b.Loop() {
		if len(trendPNG(kr, q4, pts)) == 0 {
			b.Fatal("no image")
		}
		_ = trendText(kr, q4, q4.End, pts)
	}
}
