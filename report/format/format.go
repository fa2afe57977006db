// Package format shows key result values to people: in their unit (a ratio
// as a percentage, a duration as "45 s", "12 min", "1 h 58 min" or "2.6 d",
// a rate per day, a currency with its code), changes between two values
// with their sign, goals in words, the ticks of a chart axis in one unit,
// and why a key result or an objective has its status. The web page, the
// stakeholder report and the alert texts share it, so that a number and a
// reason read the same everywhere.
//
// Nothing here prints a Go duration ("1h0m0s"), an exponent for an
// everyday number, NaN or an infinity.
package format

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/metrics/github"
	"github.com/okrd/okrd/okr"
)

// None stands where a value is not a number (NaN or an infinity), which
// okrd never shows as such.
const None = "–"

// Value shows v in the unit of kr ("count" when kr is nil): "34.5%",
// "1 h 58 min", "0.89 per day", "12,500 EUR".
func Value(kr *config.KeyResult, v float64) string {
	if !finite(v) {
		return None
	}
	unit, currency := units(kr)
	switch unit {
	case "ratio":
		return percent(v*100, 1)
	case "percent":
		return percent(v, 1)
	case "duration":
		return Duration(v)
	case "currency":
		s := group(strconv.FormatFloat(v, 'f', 0, 64))
		if s == "-0" {
			s = "0"
		}
		if currency != "" {
			s += " " + currency
		}
		return s
	default:
		return count(v) + Suffix(kr)
	}
}

// Delta shows the change cur - prev in the unit of kr, always with a sign:
// "+3", "-1 h 30 min", "+2.0 pts" (a ratio or a percentage changes by
// percentage points, not by per cent of itself), "+0.07 per day". No
// change, or one that rounds to nothing in the unit's precision, is "±0".
func Delta(kr *config.KeyResult, prev, cur float64) string {
	d := cur - prev
	if !finite(d) {
		return None
	}
	unit, _ := units(kr)
	var mag, zero string
	switch unit {
	case "ratio":
		mag, zero = strconv.FormatFloat(math.Abs(d)*100, 'f', 1, 64)+" pts", "0.0 pts"
	case "percent":
		mag, zero = strconv.FormatFloat(math.Abs(d), 'f', 1, 64)+" pts", "0.0 pts"
	default:
		mag, zero = Value(kr, math.Abs(d)), Value(kr, 0)
	}
	if d == 0 || mag == zero {
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
	case !finite(d):
		return None
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
	if !finite(f) {
		return None
	}
	return strconv.FormatFloat(math.Round(f*100)+0, 'f', 0, 64) + "%"
}

// Suffix is what a count of kr's metric counts, after the number: " per
// day" for GitHub's deployment_frequency, " lines" for pr_size, " points"
// for Jira's velocity and sprint metrics by points; "" for a plain count
// or another unit. A key result's unit decides first: a deployment
// frequency given unit = "ratio" is a ratio.
func Suffix(kr *config.KeyResult) string {
	if kr == nil || (kr.Unit != "" && kr.Unit != config.DefaultUnit) {
		return ""
	}
	switch kr.Metric {
	case github.MetricDeploymentFrequency:
		return " per day"
	case github.MetricPRSize:
		return " lines"
	case "velocity":
		return " points"
	case "sprint_commitment", "sprint_completed", "sprint_added":
		if kr.By == "points" {
			return " points"
		}
	}
	return ""
}

// Status is a status in words: "off track".
func Status(s okr.Status) string { return strings.ReplaceAll(string(s), "_", " ") }

// Goal says what a key result aims for: "from 4 h to 1 h", "between 2
// and 4", and "under 300 ms" for a band that starts at 0 (nothing in its
// unit is below 0, so the lower bound says nothing).
//
// A count's suffix is said once, at the end: "from 0.5 to 1 per day".
func Goal(kr *config.KeyResult) string {
	e := kr.Engine
	first := Value
	if sfx := Suffix(kr); sfx != "" {
		first = func(kr *config.KeyResult, v float64) string { return strings.TrimSuffix(Value(kr, v), sfx) }
	}
	if e.Direction == okr.Maintain {
		if e.Min == 0 {
			return "under " + Value(kr, e.Max)
		}
		return "between " + first(kr, e.Min) + " and " + Value(kr, e.Max)
	}
	return "from " + first(kr, e.Baseline) + " to " + Value(kr, e.Target)
}

// ExpectedValue is the value an increase or decrease key result should
// have reached at the expected progress (0..1): where the expected path
// is by now.
func ExpectedValue(kr *config.KeyResult, expected float64) float64 {
	e := kr.Engine
	return e.Baseline + expected*(e.Target-e.Baseline)
}

func units(kr *config.KeyResult) (unit, currency string) {
	if kr == nil {
		return "count", ""
	}
	return kr.Unit, kr.Currency
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// percent shows p (already in per cent) with the given decimals: "34.5%".
func percent(p float64, decimals int) string {
	s := strconv.FormatFloat(p, 'f', decimals, 64)
	if strings.Trim(s, "-0.") == "" {
		s = strings.TrimPrefix(s, "-")
	}
	return s + "%"
}

// Duration shows seconds the way people say them: 250 ms, 4.2 s, 45 s,
// 2 min 30 s, 12 min, 1 h 58 min, 14 h, 2.6 d, 45 d. Each range keeps
// about two significant digits, and a value that rounds up to the next
// range is shown in it: 59.95 s is "1 min", 119.5 min is "2 h", never "60
// s" or "1 h 60 min". A negative duration has a minus sign; NaN and the
// infinities are None.
func Duration(seconds float64) string {
	switch {
	case !finite(seconds):
		return None
	case seconds < 0:
		if s := Duration(-seconds); s != "0 s" {
			return "-" + s
		}
		return "0 s"
	case seconds == 0:
		return "0 s"
	}
	ms := seconds * 1000
	if ms < 1 {
		// Below a millisecond only the scale matters; below a hundredth
		// of one, nothing people measure.
		if r := math.Round(ms*100) / 100; r > 0 {
			return strconv.FormatFloat(r, 'f', -1, 64) + " ms"
		}
		return "0 s"
	}
	if s, ok := below(ms, 10, 1, " ms"); ok {
		return s
	}
	if r := math.Round(ms); r < 1000 {
		return strconv.FormatFloat(r, 'f', 0, 64) + " ms"
	}
	if s, ok := below(seconds, 10, 1, " s"); ok {
		return s
	}
	if r := math.Round(seconds); r < 60 {
		return strconv.FormatFloat(r, 'f', 0, 64) + " s"
	}
	// From a minute to ten: minutes and seconds.
	if r := math.Round(seconds); r < 600 {
		return compound(int64(r), 60, "min", "s")
	}
	minutes := seconds / 60
	if r := math.Round(minutes); r < 60 {
		return strconv.FormatFloat(r, 'f', 0, 64) + " min"
	}
	// From an hour to ten: hours and minutes.
	if r := math.Round(minutes); r < 600 {
		return compound(int64(r), 60, "h", "min")
	}
	hours := seconds / 3600
	if r := math.Round(hours); r < 48 {
		return strconv.FormatFloat(r, 'f', 0, 64) + " h"
	}
	days := hours / 24
	if s, ok := below(days, 10, 1, " d"); ok {
		return s
	}
	return group(strconv.FormatFloat(math.Round(days), 'f', 0, 64)) + " d"
}

// Span is Duration for a time.Duration, such as a configured stale_after:
// "3 d", "30 min".
func Span(d time.Duration) string { return Duration(d.Seconds()) }

// below shows v with the given decimals and suffix when it stays below
// limit once rounded; a trailing ".0" is dropped ("3 d", not "3.0 d").
func below(v, limit float64, decimals int, suffix string) (string, bool) {
	p := math.Pow(10, float64(decimals))
	r := math.Round(v*p) / p
	if r >= limit {
		return "", false
	}
	s := strconv.FormatFloat(r, 'f', decimals, 64)
	s = strings.TrimSuffix(s, ".0")
	return s + suffix, true
}

// compound shows n small units as big and small ones: 118 minutes are "1 h
// 58 min", 120 are "2 h".
func compound(n, per int64, big, small string) string {
	s := strconv.FormatInt(n/per, 10) + " " + big
	if r := n % per; r != 0 {
		s += " " + strconv.FormatInt(r, 10) + " " + small
	}
	return s
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
