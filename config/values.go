package config

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/prometheus/common/model"
)

// redacted is what a non-empty Secret prints as, everywhere.
const redacted = "<secret>"

// Secret is a string that must never be printed: API tokens, passwords and
// DSNs with credentials. Every way of printing it (String, fmt verbs
// including %#v, text, JSON, slog) yields "<secret>" when it is set, so a log
// line, an error or a printed config cannot leak it by accident. Use Value to
// get the real value where it is needed (an HTTP header, a database driver).
type Secret string

// Value returns the real secret.
func (s Secret) Value() string { return string(s) }

// String returns "<secret>", or "" when the secret is empty.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString makes %#v print the redacted form too.
func (s Secret) GoString() string { return strconv.Quote(s.String()) }

// Format implements fmt.Formatter so that no verb (%s, %v, %+v, %#v, %q, %x)
// can print the real value.
func (s Secret) Format(f fmt.State, verb rune) {
	switch verb {
	case 'q':
		fmt.Fprint(f, strconv.Quote(s.String()))
	case 'v':
		if f.Flag('#') {
			fmt.Fprint(f, s.GoString())
			return
		}
		fmt.Fprint(f, s.String())
	default:
		fmt.Fprint(f, s.String())
	}
}

// MarshalText redacts the secret in TOML, YAML and similar encodings.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// MarshalJSON redacts the secret in JSON (the API's view of the config).
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// LogValue redacts the secret in structured logs.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Duration is a time.Duration written in the configuration as a Prometheus
// duration string ("30s", "5m", "1h30m", "7d", "1w"), the notation the
// operators of a Prometheus-native daemon already know.
type Duration time.Duration

// Duration returns d as a time.Duration.
func (d Duration) Duration() time.Duration { return time.Duration(d) }

// String formats d the way the configuration writes it, e.g. "5m" or "4w".
func (d Duration) String() string { return model.Duration(d).String() }

// MarshalText formats d as a Prometheus duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses a Prometheus duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := model.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Date is a civil date with no time of day and no time zone, such as the
// start of an objective's period. It is turned into an instant with Time,
// in the configured time zone, only when needed.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// dateLayout is the only accepted written form of a Date.
const dateLayout = "2006-01-02"

// ParseDate parses "YYYY-MM-DD", rejecting impossible dates like 2026-02-30.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		return Date{}, fmt.Errorf("invalid date %q: want YYYY-MM-DD", s)
	}
	return DateOf(t), nil
}

// DateOf returns the civil date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// IsZero reports whether d is unset.
func (d Date) IsZero() bool { return d == Date{} }

// Time returns midnight at the start of d in loc.
func (d Date) Time(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// Before reports whether d is strictly before e.
func (d Date) Before(e Date) bool {
	if d.Year != e.Year {
		return d.Year < e.Year
	}
	if d.Month != e.Month {
		return d.Month < e.Month
	}
	return d.Day < e.Day
}

// String formats d as "YYYY-MM-DD", or "" when d is zero.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// MarshalText formats d as "YYYY-MM-DD".
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses "YYYY-MM-DD"; an empty string is the zero Date.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
