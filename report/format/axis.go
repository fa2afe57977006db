package format

import (
	"math"
	"strconv"
	"strings"

	"github.com/okrd/okrd/config"
)

// Axis shows the values of a chart axis in one unit, chosen from the range
// the axis covers: a lead time between 1.5 and 4.7 days is drawn in days
// from tick to tick, never "41.7 h" under "4.1 d". Every tick has the same
// number of decimals, enough to tell neighbouring ticks apart.
type Axis struct {
	// scale is how many of the key result's base units one axis unit is:
	// 3600 for an axis in hours, 0.01 for a ratio shown in per cent.
	scale float64
	// suffix follows every number: " h", "%", "k EUR".
	suffix string
	// decimals is set by Ticks from the step between ticks.
	decimals int
}

// NewAxis chooses the unit of an axis covering lo..hi, in kr's base unit
// (seconds, a ratio from 0 to 1, ...).
func NewAxis(kr *config.KeyResult, lo, hi float64) *Axis {
	a := &Axis{scale: 1}
	top := math.Max(math.Abs(lo), math.Abs(hi))
	if !finite(top) {
		top = 0
	}
	unit, currency := units(kr)
	switch unit {
	case "ratio":
		a.scale, a.suffix = 0.01, "%"
	case "percent":
		a.suffix = "%"
	case "duration":
		switch {
		case top < 1:
			a.scale, a.suffix = 0.001, " ms"
		case top < 120:
			a.suffix = " s"
		case top < 120*60:
			a.scale, a.suffix = 60, " min"
		case top < 72*3600:
			a.scale, a.suffix = 3600, " h"
		default:
			a.scale, a.suffix = 86400, " d"
		}
	default:
		// Counts and amounts of money from ten thousand on are
		// shortened: 250k EUR, 1.5M.
		switch {
		case top >= 1e9:
			a.scale, a.suffix = 1e9, "B"
		case top >= 1e6:
			a.scale, a.suffix = 1e6, "M"
		case top >= 1e4:
			a.scale, a.suffix = 1e3, "k"
		}
		if unit == "currency" && currency != "" {
			a.suffix += " " + currency
		} else {
			a.suffix += Suffix(kr)
		}
	}
	return a
}

// Ticks returns the values of about n round ticks (1, 2 or 5 times a power
// of ten in the axis unit) that cover lo..hi, in the base unit, lowest
// first, and fixes the decimals of the labels to the step.
func (a *Axis) Ticks(lo, hi float64, n int) []float64 {
	if !finite(lo) || !finite(hi) || n < 1 {
		return nil
	}
	if hi < lo {
		lo, hi = hi, lo
	}
	l, h := lo/a.scale, hi/a.scale
	if h == l {
		d := math.Max(math.Abs(h)*0.1, 1)
		l, h = l-d, h+d
	}
	step := niceStep(h-l, n)
	first, last := math.Floor(l/step+1e-9), math.Ceil(h/step-1e-9)
	a.decimals = max(0, int(-math.Floor(math.Log10(step)+1e-9)))
	out := make([]float64, 0, int(last-first)+1)
	for i := first; i <= last; i++ {
		// Computed from the index, not summed: no 0.30000000000000004.
		v, _ := strconv.ParseFloat(strconv.FormatFloat(i*step, 'f', a.decimals, 64), 64)
		out = append(out, v*a.scale)
	}
	return out
}

// Label shows v (in the base unit) in the axis unit: "1.5 h", "30%",
// "250k EUR".
func (a *Axis) Label(v float64) string {
	if !finite(v) {
		return None
	}
	s := strconv.FormatFloat(v/a.scale, 'f', a.decimals, 64)
	if f, _ := strconv.ParseFloat(s, 64); f == 0 {
		s = strings.TrimPrefix(s, "-") // no "-0.0 h"
	}
	return s + a.suffix
}

// niceStep is a round step (1, 2 or 5 times a power of ten) that cuts
// span into about n intervals.
func niceStep(span float64, n int) float64 {
	raw := span / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	switch f := raw / mag; {
	case f <= 1:
		return mag
	case f <= 2:
		return 2 * mag
	case f <= 5:
		return 5 * mag
	default:
		return 10 * mag
	}
}
