package format

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/okr"
	"github.com/okrd/okrd/snapshot"
)

// The reasons say why something has its status, in the words the page, the
// report and the alerts share. A key result's reason is the gap to where
// it should be ("2.9 h where 1 h 58 min was expected by now: 35% of the
// way, 33 pts behind"); an objective's names the key results that give it
// its status ("off track because 'Restore service within an hour' is off
// track"), since an objective has the worst status of its key results.

// KeyResultReason says why an evaluated key result has its status. It is
// the entry point for callers holding a snapshot (the alert texts).
func KeyResultReason(kr *snapshot.KeyResult) string {
	var p okr.Period
	if kr.Objective != nil {
		p = kr.Objective.Resolved
	}
	return Reason(kr.Config, p, kr.Result, kr.Stale)
}

// ObjectiveReason says why an evaluated objective has its status. It is
// the entry point for callers holding a snapshot (the alert texts).
func ObjectiveReason(o *snapshot.Objective) string {
	if o.Result.RolledUp {
		parts := make([]KeyResultStatus, 0, len(o.KeyResults)+len(o.Children))
		for _, kr := range o.KeyResults {
			parts = append(parts, KeyResultStatus{Title: kr.Config.Title, Status: kr.Result.Status})
		}
		children := make([]KeyResultStatus, 0, len(o.Children))
		for _, c := range o.Children {
			children = append(children, KeyResultStatus{Title: c.Config.Title, Status: c.Result.Status})
		}
		return RolledUpReason(o.Result, parts, children)
	}
	krs := make([]KeyResultStatus, len(o.KeyResults))
	for i, kr := range o.KeyResults {
		krs[i] = KeyResultStatus{Title: kr.Config.Title, Status: kr.Result.Status}
	}
	return RollupReason(o.Result.Status, krs)
}

// Reason says why a key result evaluated as r (in period p; stale when its
// latest value is older than its stale_after) has its status, without
// naming the status itself:
//
//   - "no value recorded yet";
//   - "the latest value, 99.7% on 2026-11-07, is older than 3 d
//     (stale_after), so it no longer counts";
//   - "2.9 h where 1 h 58 min was expected by now: 35% of the way, 33 pts
//     behind";
//   - "4.2% has reached the target of 4%";
//   - "420 ms is outside the band (under 300 ms): 120 ms above it";
//   - "ended at 8, 80% of the way from 0 to 10".
func Reason(kc *config.KeyResult, p okr.Period, r okr.Result, stale bool) string {
	e := kc.Engine
	v := Value(kc, r.Value)
	switch {
	case !r.HasValue:
		return "no value recorded yet"
	case stale:
		return "the latest value, " + v + " on " + day(r.ValueAt, p) + ", is older than " + Span(time.Duration(kc.StaleAfter)) +
			" (stale_after), so it no longer counts"
	case e.Direction == okr.Maintain:
		s := v + " is inside the band (" + Goal(kc) + ")"
		switch {
		case r.Value > e.Max:
			s = v + " is outside the band (" + Goal(kc) + ")" + by(kc, e.Max, r.Value, "above")
		case r.Value < e.Min:
			s = v + " is outside the band (" + Goal(kc) + ")" + by(kc, e.Min, r.Value, "below")
		}
		if r.HasScore {
			return "the period ended with " + s
		}
		return s
	case r.HasScore && r.Status == okr.StatusAchieved:
		return "ended at " + v + ", target " + Value(kc, e.Target) + " reached"
	case r.HasScore:
		return "ended at " + v + ", " + Percent(r.Progress) + " of the way " + Goal(kc)
	case r.Status == okr.StatusAchieved:
		return v + " has reached the target of " + Value(kc, e.Target)
	}
	return v + " where " + Value(kc, ExpectedValue(kc, r.Expected)) + " was expected by now: " +
		Percent(r.Progress) + " of the way, " + Gap(r.Gap)
}

// Gap says a gap of progress (progress - expected, 0..1 each) in points:
// "33 pts behind", "1 pt ahead", "on schedule".
func Gap(gap float64) string {
	n := math.Round(-gap * 100)
	switch {
	case !finite(n):
		return None
	case n == 0:
		return "on schedule"
	case n > 0:
		return plural(int(n), "pt", "pts") + " behind"
	default:
		return plural(int(-n), "pt", "pts") + " ahead"
	}
}

// KeyResultStatus is what an objective's reason needs of a key result.
type KeyResultStatus struct {
	Title  string
	Status okr.Status
}

// RollupReason says why an objective whose key results are krs has the
// status status (okr.EvaluateObjective's: the worst status among key
// results with a current value), naming the status: "off track because
// 'Restore service within an hour' is off track", "on track: every key
// result with a value is on track". Key results without data are named
// too, since they do not count towards the status.
func RollupReason(status okr.Status, krs []KeyResultStatus) string {
	if len(krs) == 0 {
		return "no data: it has no key results"
	}
	var worst, noData []string
	anyAchieved := false
	for _, k := range krs {
		switch k.Status {
		case status:
			worst = append(worst, k.Title)
		case okr.StatusNoData:
			noData = append(noData, k.Title)
		}
		anyAchieved = anyAchieved || k.Status == okr.StatusAchieved
	}
	var s string
	switch status {
	case okr.StatusNoData:
		return "no data: no key result has a current value"
	case okr.StatusAchieved:
		s = "achieved: every key result with a current value has reached its target"
	case okr.StatusOnTrack:
		s = "on track: every key result with a current value is on track"
		if anyAchieved {
			s += " or achieved"
		}
	case okr.StatusMissed:
		s = "missed because " + quoteList(worst)
		if len(worst) == 1 {
			s += " missed its target"
		} else {
			s += " missed their targets"
		}
	default:
		s = Status(status) + " because " + quoteList(worst)
		if len(worst) == 1 {
			s += " is " + Status(status)
		} else {
			s += " are " + Status(status)
		}
	}
	switch len(noData) {
	case 0:
	case 1:
		s += "; " + quoteList(noData) + " has no data and does not count"
	default:
		s += "; " + quoteList(noData) + " have no data and do not count"
	}
	return s
}

// RolledUpReason says why an objective that rolls up its children
// (okr.RollUp) has its status r.Status: its progress against the expected
// progress, then the child objectives (and own key results, krs) that are
// worst off: "off track because it is 22 pts behind: 28% where 49% was
// expected by now; 'Team B' is off track".
func RolledUpReason(r okr.ObjectiveResult, krs, children []KeyResultStatus) string {
	var s string
	switch {
	case !r.HasValue:
		return "no data: no key result of it or of its child objectives has a current value"
	case r.HasScore || r.Status == okr.StatusMissed:
		s = Status(r.Status) + " because it ended at " + Percent(r.Progress) + " of the way, rolled up from its child objectives"
	case r.Status == okr.StatusAchieved:
		return "achieved: its key results and child objectives are at their targets"
	default:
		s = Status(r.Status) + " because it is " + Gap(r.Progress-r.Expected) + ": " + Percent(r.Progress) + " where " + Percent(r.Expected) + " was expected by now"
	}
	// The worst-off parts: children first, since they are what rolls up.
	worst := okr.StatusOnTrack
	for _, p := range append(slices.Clone(children), krs...) {
		if p.Status != okr.StatusNoData {
			worst = okr.Worst(worst, p.Status)
		}
	}
	if worst == okr.StatusOnTrack || worst == okr.StatusAchieved {
		return s
	}
	var names []string
	for _, p := range append(slices.Clone(children), krs...) {
		if p.Status == worst {
			names = append(names, p.Title)
		}
	}
	verb := " is "
	if len(names) > 1 {
		verb = " are "
	}
	if worst == okr.StatusMissed {
		return s + "; " + quoteList(names) + " missed"
	}
	return s + "; " + quoteList(names) + verb + Status(worst)
}

// quoteList names titles in a sentence: "'A'", "'A' and 'B'", "'A', 'B'
// and 'C'", and from four on "'A', 'B', 'C' and 2 more".
func quoteList(titles []string) string {
	q := make([]string, 0, min(len(titles), 4))
	for i, t := range titles {
		if i == 3 && len(titles) > 4 {
			q = append(q, strconv.Itoa(len(titles)-3)+" more")
			break
		}
		q = append(q, "'"+t+"'")
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " and " + q[len(q)-1]
}

// by says how far a value outside a band is from its edge: ": 120 ms
// above it" ("" when that rounds to nothing).
func by(kc *config.KeyResult, edge, v float64, side string) string {
	d := strings.TrimLeft(Delta(kc, edge, v), "+-")
	if d == "±0" {
		return ""
	}
	return ": " + d + " " + side + " it"
}

// day is the date of t in the period's time zone.
func day(t time.Time, p okr.Period) string {
	loc := time.UTC
	if l := p.Start.Location(); !p.Start.IsZero() && l != nil {
		loc = l
	}
	return t.In(loc).Format(time.DateOnly)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// Sentence makes a reason a sentence of its own: a capital first letter
// and a full stop ("Off track because ... is off track.").
func Sentence(s string) string {
	if s == "" {
		return ""
	}
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:] + "."
}
