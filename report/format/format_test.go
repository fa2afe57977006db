package format

import (
	"math"
	"regexp"
	"testing"
	"time"

	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/okr"
)

func TestDurationsReadTheWayPeopleSayThem(t *testing.T) {
	const (
		ms     = 0.001
		minute = 60.0
		hour   = 3600.0
		day    = 86400.0
	)
	for _, tc := range []struct {
		name    string
		seconds float64
		want    string
	}{
		{"nothing is zero seconds", 0, "0 s"},
		{"a nanosecond is nothing people measure", 1e-9, "0 s"},
		{"a fraction of a millisecond keeps its scale", 0.00042, "0.42 ms"},
		{"a millisecond", ms, "1 ms"},
		{"a few milliseconds with a decimal", 4.46 * ms, "4.5 ms"},
		{"9.96 ms rounds up to the next precision", 9.96 * ms, "10 ms"},
		{"milliseconds below a second", 0.25, "250 ms"},
		{"999.6 ms rounds up to a second", 0.9996, "1 s"},
		{"a second", 1, "1 s"},
		{"seconds with a decimal below ten", 4.24, "4.2 s"},
		{"9.96 s rounds up to 10 s", 9.96, "10 s"},
		{"seconds below a minute", 45, "45 s"},
		{"59.95 s rounds up to a minute", 59.95, "1 min"},
		{"a minute and a half", 90, "1 min 30 s"},
		{"599.6 s rounds up to ten minutes", 599.6, "10 min"},
		{"minutes below an hour", 12 * minute, "12 min"},
		{"59.6 min rounds up to an hour", 59.6 * minute, "1 h"},
		{"an hour is not 1h0m0s", hour, "1 h"},
		{"hours and minutes below ten hours", hour + 58*minute + 18.9, "1 h 58 min"},
		{"119.5 min rounds up to two hours", 119.5 * minute, "2 h"},
		{"9 h 59.6 min rounds up to ten hours", 9*hour + 59.6*minute, "10 h"},
		{"whole hours below two days", 43.4 * hour, "43 h"},
		{"47.6 h rounds up to two days", 47.6 * hour, "2 d"},
		{"days with a decimal", 2.6 * day, "2.6 d"},
		{"a week", 7 * day, "7 d"},
		{"9.96 d rounds up to ten days", 9.96 * day, "10 d"},
		{"weeks in whole days", 3*7*day + 0.4*day, "21 d"},
		{"a year", 365 * day, "365 d"},
		{"decades keep their thousands separator", 12000 * day, "12,000 d"},
		{"a negative duration", -43200, "-12 h"},
		{"a negative duration of minutes", -(19*minute + 28), "-19 min"},
		{"a negative nothing has no sign", -1e-9, "0 s"},
		{"not a number is never printed", math.NaN(), None},
		{"an infinity is never printed", math.Inf(1), None},
		{"a negative infinity is never printed", math.Inf(-1), None},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Duration(tc.seconds); got != tc.want {
				t.Errorf("Duration(%v) = %q, want %q", tc.seconds, got, tc.want)
			}
		})
	}
}

// goDuration matches what time.Duration.String prints: "1h0m0s", "4.2s",
// "58m18.9s", "250ms".
var goDuration = regexp.MustCompile(`\d(h\d|m\d|s$|ms$|µs$|ns$)|\dm\d`)

func TestNoDurationReadsLikeGo(t *testing.T) {
	// Every duration from a microsecond to ten years, a step of 1% apart.
	for v := 1e-6; v < 3.2e8; v *= 1.01 {
		for _, s := range []float64{v, -v} {
			got := Duration(s)
			if goDuration.MatchString(got) {
				t.Fatalf("Duration(%v) = %q reads like a Go duration", s, got)
			}
			if regexp.MustCompile(`\b60 s|\b60 min|h 60 min|\b1000 ms|NaN|Inf|e[+-]`).MatchString(got) {
				t.Fatalf("Duration(%v) = %q has not moved to the next unit", s, got)
			}
		}
	}
}

func TestValuesReadInTheirUnit(t *testing.T) {
	kr := func(unit, currency string) *config.KeyResult {
		return &config.KeyResult{Unit: unit, Currency: currency}
	}
	metric := func(name, by string) *config.KeyResult {
		return &config.KeyResult{Unit: "count", Metric: name, By: by}
	}
	for _, tc := range []struct {
		name string
		kr   *config.KeyResult
		v    float64
		want string
	}{
		{"a count without an exponent, in thousands", kr("count", ""), 1234567, "1,234,567"},
		{"a four-digit count is not grouped", kr("count", ""), 2026, "2026"},
		{"a negative count with decimals", kr("count", ""), -12345.678, "-12,345.68"},
		{"a count with two decimals at most", kr("", ""), 42.50529, "42.51"},
		{"a tiny count keeps its digits", kr("", ""), 0.00123, "0.00123"},
		{"a ratio as a percentage", kr("ratio", ""), 0.345, "34.5%"},
		{"a ratio of nothing has no minus sign", kr("ratio", ""), -0.00001, "0.0%"},
		{"a percent", kr("percent", ""), 99.95, "100.0%"},
		{"milliseconds", kr("duration", ""), 0.25, "250 ms"},
		{"seconds", kr("duration", ""), 4.24, "4.2 s"},
		{"hours and minutes", kr("duration", ""), 7098.9, "1 h 58 min"},
		{"hours from ten hours on", kr("duration", ""), 156330, "43 h"},
		{"days from two days on", kr("duration", ""), 259200, "3 d"},
		{"a negative duration", kr("duration", ""), -43200, "-12 h"},
		{"a currency with its code", kr("currency", "EUR"), 12500.4, "12,500 EUR"},
		{"a small amount", kr("currency", "USD"), 950, "950 USD"},
		{"no key result counts", nil, 3, "3"},
		{"the deployment frequency is a rate per day", metric("deployment_frequency", ""), 0.8929, "0.89 per day"},
		{"a pull request's size is in lines", metric("pr_size", ""), 120, "120 lines"},
		{"velocity is in story points", metric("velocity", ""), 38, "38 points"},
		{"a sprint commitment by points is in points", metric("sprint_commitment", "points"), 40, "40 points"},
		{"a sprint commitment by issues is a count", metric("sprint_commitment", ""), 12, "12"},
		{"a unit set on the key result wins over the metric's", &config.KeyResult{Unit: "ratio", Metric: "deployment_frequency"}, 0.5, "50.0%"},
		{"not a number is never printed", kr("count", ""), math.NaN(), None},
		{"an infinite ratio is never printed", kr("ratio", ""), math.Inf(1), None},
		{"an infinite duration is never printed", kr("duration", ""), math.Inf(-1), None},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Value(tc.kr, tc.v); got != tc.want {
				t.Errorf("Value(%v) = %q, want %q", tc.v, got, tc.want)
			}
		})
	}
}

func TestDeltasHaveASignAndTheUnit(t *testing.T) {
	ratio, dur := &config.KeyResult{Unit: "ratio"}, &config.KeyResult{Unit: "duration"}
	rate := &config.KeyResult{Unit: "count", Metric: "deployment_frequency"}
	for _, tc := range []struct {
		name      string
		kr        *config.KeyResult
		prev, cur float64
		want      string
	}{
		{"a rise", nil, 34, 37, "+3"},
		{"a fall", nil, 112, 106, "-6"},
		{"a ratio moves in points", ratio, 0.315, 0.32, "+0.5 pts"},
		{"a duration falls by hours", dur, 302400, 259200, "-12 h"},
		{"a duration falls by minutes", dur, 11880, 10712, "-19 min"},
		{"a duration rises by hours and minutes", dur, 3600, 3600 + 5400, "+1 h 30 min"},
		{"a rate changes per day", rate, 0.82, 0.89, "+0.07 per day"},
		{"no change", nil, 5, 5, "±0"},
		{"a change below the precision is none", ratio, 0.3, 0.3000001, "±0"},
		{"a change of a duration below the precision is none", dur, 3600, 3600 + 1e-9, "±0"},
		{"a change from not a number is never printed", nil, math.NaN(), 3, None},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Delta(tc.kr, tc.prev, tc.cur); got != tc.want {
				t.Errorf("Delta(%v, %v) = %q, want %q", tc.prev, tc.cur, got, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		prev, cur float64
		want      string
	}{{0.196, 0.376, "+18 pts"}, {0.5, 0.25, "-25 pts"}, {0.5, 0.501, "±0 pts"}, {math.NaN(), 0.5, None}} {
		if got := Points(tc.prev, tc.cur); got != tc.want {
			t.Errorf("Points(%v, %v) = %q, want %q", tc.prev, tc.cur, got, tc.want)
		}
	}
	if got := Percent(-0.001); got != "0%" {
		t.Errorf("Percent(-0.001) = %q, want 0%% (no minus zero)", got)
	}
	if got := Percent(math.Inf(1)); got != None {
		t.Errorf("Percent(+Inf) = %q, want %q", got, None)
	}
}

func TestGoalsReadInWords(t *testing.T) {
	band := func(unit string, lo, hi float64) *config.KeyResult {
		return &config.KeyResult{Unit: unit, Engine: okr.KeyResult{Direction: okr.Maintain, Min: lo, Max: hi}}
	}
	move := func(unit string, from, to float64) *config.KeyResult {
		return &config.KeyResult{Unit: unit, Engine: okr.KeyResult{Direction: okr.Decrease, Baseline: from, Target: to}}
	}
	for _, tc := range []struct {
		name string
		kr   *config.KeyResult
		want string
	}{
		{"a band from zero is an upper limit", band("duration", 0, 0.3), "under 300 ms"},
		{"a band between two values", band("count", 2, 4), "between 2 and 4"},
		{"a ratio band", band("ratio", 0.995, 1), "between 99.5% and 100.0%"},
		{"a move from one duration to another", move("duration", 4*3600, 3600), "from 4 h to 1 h"},
		{"a move in days", move("duration", 345600, 172800), "from 4 d to 2 d"},
		{"a rate says its unit once", &config.KeyResult{Unit: "count", Metric: "deployment_frequency",
			Engine: okr.KeyResult{Direction: okr.Increase, Baseline: 0.5, Target: 1}}, "from 0.5 to 1 per day"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Goal(tc.kr); got != tc.want {
				t.Errorf("Goal = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestAnAxisShowsEveryTickInOneUnit(t *testing.T) {
	kr := func(unit, currency string) *config.KeyResult {
		return &config.KeyResult{Unit: unit, Currency: currency}
	}
	for _, tc := range []struct {
		name   string
		kr     *config.KeyResult
		lo, hi float64
		want   []string
	}{
		{"a lead time of days is in days at every tick", kr("duration", ""), 1.5 * 86400, 4.7 * 86400,
			[]string{"1 d", "2 d", "3 d", "4 d", "5 d"}},
		{"hours are in round hours, not 5000 s steps", kr("duration", ""), 0, 4.7 * 3600,
			[]string{"0 h", "1 h", "2 h", "3 h", "4 h", "5 h"}},
		{"minutes", kr("duration", ""), 5 * 60, 50 * 60,
			[]string{"0 min", "10 min", "20 min", "30 min", "40 min", "50 min"}},
		{"seconds", kr("duration", ""), 0, 45, []string{"0 s", "10 s", "20 s", "30 s", "40 s", "50 s"}},
		{"milliseconds", kr("duration", ""), 0, 0.3,
			[]string{"0 ms", "100 ms", "200 ms", "300 ms"}},
		{"a lead time of a few days in half days", kr("duration", ""), 3.1 * 86400, 4.2 * 86400,
			[]string{"3.0 d", "3.5 d", "4.0 d", "4.5 d"}},
		{"a ratio in per cent with the step's decimals", kr("ratio", ""), 0.30, 0.325,
			[]string{"30.0%", "30.5%", "31.0%", "31.5%", "32.0%", "32.5%"}},
		{"a count", kr("count", ""), 80, 120, []string{"80", "90", "100", "110", "120"}},
		{"money in thousands with its code", kr("currency", "EUR"), 10000, 20000,
			[]string{"10k EUR", "12k EUR", "14k EUR", "16k EUR", "18k EUR", "20k EUR"}},
		{"a rate keeps its unit", &config.KeyResult{Unit: "count", Metric: "deployment_frequency"}, 0.5, 1,
			[]string{"0.5 per day", "0.6 per day", "0.7 per day", "0.8 per day", "0.9 per day", "1.0 per day"}},
		{"a flat range still has ticks", kr("count", ""), 5, 5, []string{"4.0", "4.5", "5.0", "5.5", "6.0"}},
		{"a range through zero has no minus zero", kr("duration", ""), -1800, 1800,
			[]string{"-40 min", "-20 min", "0 min", "20 min", "40 min"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := NewAxis(tc.kr, tc.lo, tc.hi)
			ticks := a.Ticks(tc.lo, tc.hi, 5)
			var got []string
			for _, v := range ticks {
				got = append(got, a.Label(v))
			}
			if len(got) != len(tc.want) {
				t.Fatalf("ticks %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("ticks %v, want %v", got, tc.want)
				}
			}
			if ticks[0] > tc.lo || ticks[len(ticks)-1] < tc.hi {
				t.Errorf("ticks %v do not cover %v..%v", ticks, tc.lo, tc.hi)
			}
		})
	}
	if got := NewAxis(kr("count", ""), 0, 1).Ticks(math.NaN(), 1, 5); got != nil {
		t.Errorf("ticks of a range from NaN: %v, want none", got)
	}
}

func TestReasonsSayWhyAKeyResultHasItsStatus(t *testing.T) {
	q4 := okr.Period{Name: "2026-Q4", Start: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}
	restore := &config.KeyResult{Title: "Restore service within an hour", Unit: "duration",
		Engine: okr.KeyResult{Direction: okr.Decrease, Baseline: 4 * 3600, Target: 3600}}
	latency := &config.KeyResult{Unit: "duration", Engine: okr.KeyResult{Direction: okr.Maintain, Min: 0, Max: 0.3}}
	tickets := &config.KeyResult{Unit: "count", Engine: okr.KeyResult{Direction: okr.Maintain, Min: 2, Max: 4}}
	uptime := &config.KeyResult{Unit: "ratio", StaleAfter: config.Duration(72 * time.Hour),
		Engine: okr.KeyResult{Direction: okr.Maintain, Min: 0.995, Max: 1}}
	partners := &config.KeyResult{Engine: okr.KeyResult{Direction: okr.Increase, Baseline: 0, Target: 10}}
	conversion := &config.KeyResult{Unit: "percent", Engine: okr.KeyResult{Direction: okr.Increase, Baseline: 2.5, Target: 4}}
	for _, tc := range []struct {
		name  string
		kr    *config.KeyResult
		r     okr.Result
		stale bool
		want  string
	}{
		{"without a value", restore, okr.Result{Status: okr.StatusNoData}, false, "no value recorded yet"},
		// Expected 0.676: 4 h - 0.676*3 h = 7099.2 s, 1 h 58 min 19 s.
		{"behind the expected path, in the key result's unit", restore,
			okr.Result{HasValue: true, Value: 2.9 * 3600, Progress: 0.3667, Expected: 0.676, Gap: 0.3667 - 0.676, Status: okr.StatusOffTrack}, false,
			"2 h 54 min where 1 h 58 min was expected by now: 37% of the way, 31 pts behind"},
		{"ahead of the path", partners,
			okr.Result{HasValue: true, Value: 6, Progress: 0.6, Expected: 0.59, Gap: 0.01, Status: okr.StatusOnTrack}, false,
			"6 where 5.9 was expected by now: 60% of the way, 1 pt ahead"},
		{"on the path", partners,
			okr.Result{HasValue: true, Value: 5, Progress: 0.5, Expected: 0.502, Gap: -0.002, Status: okr.StatusOnTrack}, false,
			"5 where 5.02 was expected by now: 50% of the way, on schedule"},
		{"reached early", conversion, okr.Result{HasValue: true, Value: 4.2, Progress: 1, Expected: 0.7, Status: okr.StatusAchieved}, false,
			"4.2% has reached the target of 4.0%"},
		{"above a band from zero", latency, okr.Result{HasValue: true, Value: 0.42, Status: okr.StatusOffTrack}, false,
			"420 ms is outside the band (under 300 ms): 120 ms above it"},
		{"inside a band", latency, okr.Result{HasValue: true, Value: 0.28, Progress: 1, Status: okr.StatusOnTrack}, false,
			"280 ms is inside the band (under 300 ms)"},
		{"above a band", tickets, okr.Result{HasValue: true, Value: 4.6, Status: okr.StatusOffTrack}, false,
			"4.6 is outside the band (between 2 and 4): 0.6 above it"},
		{"below a ratio band", uptime, okr.Result{HasValue: true, Value: 0.992, Status: okr.StatusOffTrack}, false,
			"99.2% is outside the band (between 99.5% and 100.0%): 0.3 pts below it"},
		{"a stale value", uptime, okr.Result{HasValue: true, Value: 0.997, ValueAt: time.Date(2026, 11, 7, 12, 0, 0, 0, time.UTC), Status: okr.StatusNoData}, true,
			"the latest value, 99.7% on 2026-11-07, is older than 3 d (stale_after), so it no longer counts"},
		{"missed at the end", partners, okr.Result{HasValue: true, Value: 8, Progress: 0.8, Expected: 1, HasScore: true, Score: 0.8, Status: okr.StatusMissed}, false,
			"ended at 8, 80% of the way from 0 to 10"},
		{"achieved at the end", partners, okr.Result{HasValue: true, Value: 10, Progress: 1, Expected: 1, HasScore: true, Score: 1, Status: okr.StatusAchieved}, false,
			"ended at 10, target 10 reached"},
		{"a band missed at the end", tickets, okr.Result{HasValue: true, Value: 1.5, HasScore: true, Status: okr.StatusMissed}, false,
			"the period ended with 1.5 is outside the band (between 2 and 4): 0.5 below it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Reason(tc.kr, q4, tc.r, tc.stale); got != tc.want {
				t.Errorf("Reason =\n  %q, want\n  %q", got, tc.want)
			}
		})
	}
}

func TestAnObjectivesReasonNamesTheKeyResultsBehindItsStatus(t *testing.T) {
	krs := func(pairs ...any) []KeyResultStatus {
		var out []KeyResultStatus
		for i := 0; i < len(pairs); i += 2 {
			out = append(out, KeyResultStatus{Title: pairs[i].(string), Status: pairs[i+1].(okr.Status)})
		}
		return out
	}
	on, risk, off, none := okr.StatusOnTrack, okr.StatusAtRisk, okr.StatusOffTrack, okr.StatusNoData
	for _, tc := range []struct {
		name   string
		status okr.Status
		krs    []KeyResultStatus
		want   string
	}{
		{"one key result off track among four on track", off,
			krs("Deploy daily", on, "Lead time", on, "Failure rate", on, "Restore service within an hour", off, "First review", on),
			"off track because 'Restore service within an hour' is off track"},
		{"two at risk", risk, krs("A", risk, "B", on, "C", risk), "at risk because 'A' and 'C' are at risk"},
		{"many are counted", off, krs("A", off, "B", off, "C", off, "D", off, "E", off), "off track because 'A', 'B', 'C' and 2 more are off track"},
		{"four are named", off, krs("A", off, "B", off, "C", off, "D", off), "off track because 'A', 'B', 'C' and 'D' are off track"},
		{"missed", okr.StatusMissed, krs("Partners live", okr.StatusMissed), "missed because 'Partners live' missed its target"},
		{"on track says so", on, krs("A", on, "B", okr.StatusAchieved), "on track: every key result with a current value is on track or achieved"},
		{"a key result without data does not count", on, krs("A", on, "Uptime", none),
			"on track: every key result with a current value is on track; 'Uptime' has no data and does not count"},
		{"nothing has data", none, krs("A", none, "B", none), "no data: no key result has a current value"},
		{"no key results", none, nil, "no data: it has no key results"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := RollupReason(tc.status, tc.krs); got != tc.want {
				t.Errorf("RollupReason =\n  %q, want\n  %q", got, tc.want)
			}
		})
	}
}
