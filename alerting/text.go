package alerting

import (
	"strconv"
	"strings"

	"github.com/okrd/okrd/checkins"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/okr"
	"github.com/okrd/okrd/report/format"
	"github.com/okrd/okrd/snapshot"
)

// Quantity is one number the text of a key result's alert states.
type Quantity int

// Quantities. Values are in the key result's unit; progress quantities are
// shares of the way from baseline to target (0 to 1).
const (
	QValue            Quantity = iota // the current value
	QExpectedValue                    // the value expected by now (increase and decrease)
	QTarget                           // the target (increase and decrease)
	QMin                              // the lower edge of a maintain band
	QMax                              // the upper edge of a maintain band
	QForecast                         // the forecast value at the period end
	QProgress                         // progress
	QExpected                         // expected progress by now
	QForecastProgress                 // the progress of the forecast
	QNeeded                           // the forecast progress below which forecast_miss holds: 1 - tolerance
	QConfidence                       // the owner's confidence, 1 to 10
	QWeekHigh                         // the week's high of the owner's confidence
)

// Writer renders the quantities of a key result's alert for one alerting
// path. The built-in alerting writes the numbers of the evaluation it
// judges; `okrd rules` writes Prometheus template code that reads the same
// numbers from okrd's series when the rule fires. The texts are written
// once, in terms of a Writer (Description), so that both paths say the same
// sentences; only the way a number is printed may differ between them.
type Writer interface {
	// Value writes q in the key result's unit.
	Value(q Quantity) string
	// Percent writes a progress quantity as a percentage.
	Percent(q Quantity) string
	// Gap writes progress minus expected progress in percentage points,
	// with its sign.
	Gap() string
	// Known writes text if q is known (a key result without a value has no
	// progress, one without a trend no forecast), and otherwise unknown.
	Known(q Quantity, text, unknown string) string
	// Maintain writes band for a maintain key result and other for an
	// increase or a decrease.
	Maintain(band, other string) string
	// Confidence writes a confidence quantity with its level in words:
	// "9 (high)".
	Confidence(q Quantity) string
	// HighConfidence writes high when the owner's confidence is at least
	// ConfidenceHigh and other otherwise.
	HighConfidence(high, other string) string
	// Status writes the key result's status in words ("on track").
	Status() string
}

// Numbers prints numbers for people. The built-in alerting prints them as
// okrd's page and report do (report/format); a Policy may replace that, as
// the tests that compare both alerting paths do.
type Numbers interface {
	// Value prints v in the unit of kr.
	Value(kr *config.KeyResult, v float64) string
	// Percent prints a progress (0 to 1) as a percentage.
	Percent(v float64) string
	// Points prints the change from prev to cur, two progresses, in
	// percentage points with a sign.
	Points(prev, cur float64) string
}

// pageNumbers prints numbers the way okrd's page and report do.
type pageNumbers struct{}

func (pageNumbers) Value(kr *config.KeyResult, v float64) string { return format.Value(kr, v) }
func (pageNumbers) Percent(v float64) string                     { return format.Percent(v) }
func (pageNumbers) Points(prev, cur float64) string              { return format.Points(prev, cur) }

// Description is the description annotation of a key result's alert of
// condition c: why the key result is in that condition, then the numbers
// behind it in the key result's unit (value, expected value by now, target
// or band, forecast).
func Description(c Condition, w Writer) string {
	return statusReason(c, w) + " " + facts(c, w)
}

// statusReason says in one sentence why a key result is in condition c:
// how far progress is behind where it should be by now, where the forecast
// lands against what is needed, how the period ended, or what is missing.
func statusReason(c Condition, w Writer) string {
	switch c {
	case OffTrack, AtRisk:
		return w.Maintain("The value is outside the band it must stay in.",
			"Progress is "+w.Percent(QProgress)+" where "+w.Percent(QExpected)+" was expected by now ("+w.Gap()+").")
	case ForecastMiss:
		return "At its current pace the key result ends the period at " + w.Percent(QForecastProgress) +
			" progress; " + w.Percent(QNeeded) + " is needed."
	case Missed:
		return w.Maintain("The period ended with the value outside its band.",
			"The period ended with progress "+w.Percent(QProgress)+".")
	case Achieved:
		return w.Maintain("The period ended with the value inside its band.", "The period ended with the target reached.")
	case NoData:
		return "No value has been recorded for this key result yet."
	case Stale:
		return "The latest value is older than the key result's stale_after; its status is no_data until a new value arrives."
	case ConfidenceDrop:
		return "The owner's confidence is " + w.Confidence(QConfidence) + ", down from " + w.Confidence(QWeekHigh) +
			" within the past seven days."
	case ConfidenceDisagrees:
		return w.HighConfidence("The owner's confidence is "+w.Confidence(QConfidence)+", but at its current pace the key result ends the period at "+
			w.Percent(QForecastProgress)+" progress; "+w.Percent(QNeeded)+" is needed.",
			"The owner's confidence is "+w.Confidence(QConfidence)+", but the key result is "+w.Status()+".")
	}
	return ""
}

// facts are the numbers behind a key result's condition: "Value 3.1 d,
// expected by now 2.4 d, target 2 d, forecast at period end 2.9 d." Once the
// period is over, what was expected by now is the target, so it is not
// repeated.
func facts(c Condition, w Writer) string {
	s := w.Known(QValue, "Value "+w.Value(QValue), "No value yet")
	target := ", target " + w.Value(QTarget)
	if !c.Once() {
		target = ", expected by now " + w.Value(QExpectedValue) + target
	}
	s += w.Maintain(", band "+w.Value(QMin)+" to "+w.Value(QMax), target)
	if !c.Once() {
		s += w.Known(QForecast, ", forecast at period end "+w.Value(QForecast), "")
	}
	return s + "."
}

// resultWriter writes the numbers of one key result's evaluation.
type resultWriter struct {
	kr *snapshot.KeyResult
	n  Numbers
}

// number is the value of q. Adding 0 turns a negative zero (the progress
// of a decrease that has not moved, 0 / -1) into 0, which is what
// Prometheus reads from the exposition and what people expect to read.
func (w resultWriter) number(q Quantity) float64 { return w.raw(q) + 0 }

func (w resultWriter) raw(q Quantity) float64 {
	r, e := w.kr.Result, w.kr.Config.Engine
	switch q {
	case QValue:
		return r.Value
	case QExpectedValue:
		return e.Baseline + r.Expected*(e.Target-e.Baseline)
	case QTarget:
		return e.Target
	case QMin:
		return e.Min
	case QMax:
		return e.Max
	case QForecast:
		return r.Forecast
	case QProgress:
		return r.Progress
	case QExpected:
		return r.Expected
	case QForecastProgress:
		return r.ForecastProgress
	case QNeeded:
		return 1 - tolerance(w.kr)
	case QConfidence:
		if c := w.kr.Confidence; c != nil {
			return float64(c.Value)
		}
	case QWeekHigh:
		if c := w.kr.Confidence; c != nil {
			return float64(c.WeekHigh)
		}
	}
	return 0
}

func (w resultWriter) Value(q Quantity) string   { return w.n.Value(w.kr.Config, w.number(q)) }
func (w resultWriter) Percent(q Quantity) string { return w.n.Percent(w.number(q)) }
func (w resultWriter) Gap() string               { return w.n.Points(w.kr.Result.Expected, w.kr.Result.Progress) }

func (w resultWriter) Known(q Quantity, text, unknown string) string {
	r, maintain := w.kr.Result, w.kr.Config.Engine.Direction == okr.Maintain
	known := true
	switch q {
	case QValue, QProgress:
		known = r.HasValue
	case QForecast, QForecastProgress:
		known = r.HasForecast
	case QExpectedValue, QTarget:
		known = !maintain
	case QMin, QMax:
		known = maintain
	}
	if known {
		return text
	}
	return unknown
}

func (w resultWriter) Maintain(band, other string) string {
	if w.kr.Config.Engine.Direction == okr.Maintain {
		return band
	}
	return other
}

func (w resultWriter) Confidence(q Quantity) string {
	v := int(w.raw(q))
	return strconv.Itoa(v) + " (" + checkins.ConfidenceName(v) + ")"
}

func (w resultWriter) HighConfidence(high, other string) string {
	if c := w.kr.Confidence; c != nil && c.Value >= ConfidenceHigh {
		return high
	}
	return other
}

func (w resultWriter) Status() string {
	return strings.ReplaceAll(string(w.kr.Result.Status), "_", " ")
}
