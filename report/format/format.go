// Package format shows key result values to people: in their unit (a ratio
// as a percentage, a duration in ms, hours or days, a currency with its
// code), and changes between two values with their sign. The web page and
// the stakeholder report share it, so that a number reads the same in both.
package format

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/okrd/okrd/config"
)

// Value shows v in the unit of kr ("count" when kr is nil).
func Value(kr *config.KeyResult, v float64) string {
	unit, currency := units(kr)
	switch unit {
	case "ratio":
		return strconv.FormatFloat(v*100, 'f', 1, 64) + "%"
	case "percent":
		return strconv.FormatFloat(v, 'f', 1, 64) + "%"
	case "duration":
		if v < 0 {
			return "-" + duration(-v)
		}
		return duration(v)
	case "currency":
		s := group(strconv.FormatFloat(v, 'f', 0, 64))
		if currency != "" {
			s += " " + currency
		}
		return s
	default:
		return count(v)
	}
}

// Delta shows the change cur - prev in the unit of kr, always with a sign:
// "+3", "-1.5 h", "+2.0 pts" (a ratio or a percentage changes by percentage
// points, not by per cent of itself). No change is "±0".
func Delta(kr *config.KeyResult, prev, cur float64) string {
	d := cur - prev
	unit, _ := units(kr)
	var mag string
	switch unit {
	case "ratio":
		mag = strconv.FormatFloat(math.Abs(d)*100, 'f', 1, 64) + " pts"
	case "percent":
		mag = strconv.FormatFloat(math.Abs(d), 'f', 1, 64) + " pts"
	default:
		mag = Value(kr, math.Abs(d))
	}
	// A change that rounds to nothing in the unit's precision is no change.
	if d == 0 || mag == Value(kr, 0) || mag == "0.0 pts" {
		return "±0"
	}
	if d < 0 {
		return "-" + mag
	}
	return "+" + mag
}

// Points shows a change of progress (0..1) in percentage points: "+5 pts".
func Points(prev, cur float64) string {
	d := math.Round((cur - prev) * 100)
	switch {
	case d > 0:
		return "+" + strconv.FormatFloat(d, 'f', 0, 64) + " pts"
	case d < 0:
		return strconv.FormatFloat(d, 'f', 0, 64) + " pts"
	default:
		return "±0 pts"
	}
}

// Percent shows a progress (0..1) as a whole percentage: "48%".
func Percent(f float64) string {
	return strconv.FormatFloat(math.Round(f*100)+0, 'f', 0, 64) + "%"
}

func units(kr *config.KeyResult) (unit, currency string) {
	if kr == nil {
		return "count", ""
	}
	return kr.Unit, kr.Currency
}

// duration shows seconds the way people say them: 250 ms, 4.2s, 5.0 h, 3.5 d.
func duration(v float64) string {
	d := time.Duration(v * float64(time.Second))
	switch {
	case d >= 48*time.Hour:
		return strconv.FormatFloat(d.Hours()/24, 'f', 1, 64) + " d"
	case d >= 2*time.Hour:
		return strconv.FormatFloat(d.Hours(), 'f', 1, 64) + " h"
	case d >= time.Second:
		return d.Round(time.Second / 10).String()
	default:
		return strconv.FormatFloat(v*1000, 'f', 0, 64) + " ms"
	}
}

// count shows a plain number without an exponent for everyday magnitudes
// and with at most two decimals (a count of 1234567 is 1,234,567, not
// 1.23457e+06).
func count(v float64) string {
	a := math.Abs(v)
	switch {
	case a == 0:
		return "0"
	case a >= 1e15 || a < 0.01:
		return strconv.FormatFloat(v, 'g', 3, 64)
	default:
		return group(strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64))
	}
}

// group separates the thousands of a number of five digits or more with
// commas: 160000 is 160,000 (a four-digit 2026 stays as it is).
func group(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	whole, frac, hasFrac := strings.Cut(s, ".")
	if len(whole) < 5 {
		return sign + s
	}
	var b strings.Builder
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if hasFrac {
		b.WriteString("." + frac)
	}
	return sign + b.String()
}
