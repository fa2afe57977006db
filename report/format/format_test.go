package format

import (
	"testing"

	"github.com/okrd/okrd/config"
)

func TestValuesReadInTheirUnit(t *testing.T) {
	kr := func(unit, currency string) *config.KeyResult {
		return &config.KeyResult{Unit: unit, Currency: currency}
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
		{"a percent", kr("percent", ""), 99.95, "100.0%"},
		{"milliseconds", kr("duration", ""), 0.25, "250 ms"},
		{"seconds", kr("duration", ""), 4.24, "4.2s"},
		{"hours from two hours on", kr("duration", ""), 156330, "43.4 h"},
		{"days from two days on", kr("duration", ""), 259200, "3.0 d"},
		{"a negative duration", kr("duration", ""), -43200, "-12.0 h"},
		{"a currency with its code", kr("currency", "EUR"), 12500.4, "12,500 EUR"},
		{"a small amount", kr("currency", "USD"), 950, "950 USD"},
		{"no key result counts", nil, 3, "3"},
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
	for _, tc := range []struct {
		name      string
		kr        *config.KeyResult
		prev, cur float64
		want      string
	}{
		{"a rise", nil, 34, 37, "+3"},
		{"a fall", nil, 112, 106, "-6"},
		{"a ratio moves in points", ratio, 0.315, 0.32, "+0.5 pts"},
		{"a duration falls by hours", dur, 302400, 259200, "-12.0 h"},
		{"no change", nil, 5, 5, "±0"},
		{"a change below the precision is none", ratio, 0.3, 0.3000001, "±0"},
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
	}{{0.196, 0.376, "+18 pts"}, {0.5, 0.25, "-25 pts"}, {0.5, 0.501, "±0 pts"}} {
		if got := Points(tc.prev, tc.cur); got != tc.want {
			t.Errorf("Points(%v, %v) = %q, want %q", tc.prev, tc.cur, got, tc.want)
		}
	}
	if got := Percent(-0.001); got != "0%" {
		t.Errorf("Percent(-0.001) = %q, want 0%% (no minus zero)", got)
	}
}
