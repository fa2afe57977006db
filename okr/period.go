package okr

import (
	"errors"
	"fmt"
	"time"
)

// periodFormsHelp lists the accepted period forms; it ends every error about
// a period that has no recognisable shape.
const periodFormsHelp = "want YYYY, YYYY-Hn, YYYY-Qn, YYYY-MM or YYYY-Www"

// relativeFormsHelp adds the relative forms, which ResolvePeriod accepts.
const relativeFormsHelp = periodFormsHelp + ", or one of " + relativeList

// Relative period names: the period of each absolute form that contains a
// reference time (ResolvePeriod). Year, half and quarter are fiscal, like
// their absolute forms; month and week are calendar ones.
const (
	CurrentYear    = "current-year"
	CurrentHalf    = "current-half"
	CurrentQuarter = "current-quarter"
	CurrentMonth   = "current-month"
	CurrentWeek    = "current-week"
)

// RelativePeriods lists the relative period names.
var RelativePeriods = []string{CurrentYear, CurrentHalf, CurrentQuarter, CurrentMonth, CurrentWeek}

const relativeList = CurrentYear + ", " + CurrentHalf + ", " + CurrentQuarter + ", " + CurrentMonth + " or " + CurrentWeek

// IsRelativePeriod reports whether s is one of RelativePeriods.
func IsRelativePeriod(s string) bool {
	for _, r := range RelativePeriods {
		if s == r {
			return true
		}
	}
	return false
}

// ResolvePeriod is ParsePeriod that also accepts the relative names
// (RelativePeriods): "current-quarter" is the fiscal quarter that contains
// now in loc, returned under its absolute name ("2026-Q4"), exactly as
// ParsePeriod would return that name. The result does not move with time:
// resolving again later is how a caller moves on to the next quarter.
func ResolvePeriod(s string, now time.Time, loc *time.Location, fiscalYearStartMonth time.Month) (Period, error) {
	if !IsRelativePeriod(s) {
		p, err := parsePeriod(s, loc, fiscalYearStartMonth)
		if err != nil {
			if err.Error() == periodFormsHelp {
				err = errors.New(relativeFormsHelp)
			}
			return Period{}, fmt.Errorf("period %q: %w", s, err)
		}
		return p, nil
	}
	if loc == nil {
		loc = time.UTC
	}
	if fiscalYearStartMonth == 0 {
		fiscalYearStartMonth = time.January
	}
	if fiscalYearStartMonth < time.January || fiscalYearStartMonth > time.December {
		return Period{}, fmt.Errorf("period %q: fiscal year start month must be 1..12, got %d", s, int(fiscalYearStartMonth))
	}
	p, err := parsePeriod(absoluteName(s, now.In(loc), fiscalYearStartMonth), loc, fiscalYearStartMonth)
	if err != nil {
		// Every name absoluteName builds is valid; this is a bug.
		return Period{}, fmt.Errorf("period %q: %w", s, err)
	}
	return p, nil
}

// absoluteName is the absolute name of the relative period rel that
// contains t (already in the period's location).
func absoluteName(rel string, t time.Time, fyStart time.Month) string {
	y, m, _ := t.Date()
	// Fiscal years are named by the calendar year they end in: a year that
	// starts in July 2026 is fiscal 2027. months is how far into its fiscal
	// year t lies.
	fy := y
	if fyStart != time.January && m >= fyStart {
		fy = y + 1
	}
	months := (int(m) - int(fyStart) + 12) % 12
	switch rel {
	case CurrentYear:
		return fmt.Sprintf("%04d", fy)
	case CurrentHalf:
		return fmt.Sprintf("%04d-H%d", fy, months/6+1)
	case CurrentQuarter:
		return fmt.Sprintf("%04d-Q%d", fy, months/3+1)
	case CurrentMonth:
		return fmt.Sprintf("%04d-%02d", y, int(m))
	default: // CurrentWeek
		wy, w := t.ISOWeek()
		return fmt.Sprintf("%04d-W%02d", wy, w)
	}
}

// ParsePeriod parses a period name into a half-open interval [Start, End)
// whose bounds are midnights in loc. The accepted forms are:
//
//	2026      the fiscal year 2026
//	2026-H1   the first fiscal half (H2: the second)
//	2026-Q1   the first fiscal quarter (Q1..Q4)
//	2026-11   the calendar month November 2026
//	2026-W48  ISO week 48 of 2026 (Monday to Sunday)
//
// The letters H, Q and W are case-insensitive; the returned Name always uses
// the canonical upper-case spelling. The relative names ("current-quarter")
// need a reference time: ParsePeriod refuses them, ResolvePeriod takes them.
//
// Fiscal years are named by the calendar year in which they end, as Microsoft
// and Apple do: with fiscalYearStartMonth July, "2026" runs from 2025-07-01 to
// 2026-07-01 and "2026-Q1" from 2025-07-01 to 2025-10-01. With January (or the
// zero value, which means January) fiscal periods are calendar periods.
// A nil loc means UTC.
func ParsePeriod(s string, loc *time.Location, fiscalYearStartMonth time.Month) (Period, error) {
	if IsRelativePeriod(s) {
		return Period{}, fmt.Errorf("period %q is relative to the current date, which is not accepted here: name the period, like 2026-Q4", s)
	}
	p, err := parsePeriod(s, loc, fiscalYearStartMonth)
	if err != nil {
		return Period{}, fmt.Errorf("period %q: %w", s, err)
	}
	return p, nil
}

func parsePeriod(s string, loc *time.Location, fyStart time.Month) (Period, error) {
	if loc == nil {
		loc = time.UTC
	}
	if fyStart == 0 {
		fyStart = time.January
	}
	if fyStart < time.January || fyStart > time.December {
		return Period{}, fmt.Errorf("fiscal year start month must be 1..12, got %d", int(fyStart))
	}
	if len(s) < 4 {
		return Period{}, errors.New(periodFormsHelp)
	}
	year, ok := digits(s[:4])
	if !ok {
		return Period{}, errors.New(periodFormsHelp)
	}
	fyFirst := fiscalYearStart(year, fyStart, loc)
	rest := s[4:]
	if rest == "" {
		return Period{Name: fmt.Sprintf("%04d", year), Start: fyFirst, End: addMonths(fyFirst, 12, loc)}, nil
	}
	if rest[0] != '-' || len(rest) < 2 {
		return Period{}, errors.New(periodFormsHelp)
	}
	rest = rest[1:]
	switch rest[0] {
	case 'H', 'h':
		n, ok := digits(rest[1:])
		if !ok || len(rest) != 2 {
			return Period{}, errors.New(periodFormsHelp)
		}
		if n < 1 || n > 2 {
			return Period{}, errors.New("half must be 1 or 2")
		}
		start := addMonths(fyFirst, 6*(n-1), loc)
		return Period{Name: fmt.Sprintf("%04d-H%d", year, n), Start: start, End: addMonths(start, 6, loc)}, nil
	case 'Q', 'q':
		n, ok := digits(rest[1:])
		if !ok || len(rest) != 2 {
			return Period{}, errors.New(periodFormsHelp)
		}
		if n < 1 || n > 4 {
			return Period{}, errors.New("quarter must be 1..4")
		}
		start := addMonths(fyFirst, 3*(n-1), loc)
		return Period{Name: fmt.Sprintf("%04d-Q%d", year, n), Start: start, End: addMonths(start, 3, loc)}, nil
	case 'W', 'w':
		n, ok := digits(rest[1:])
		if !ok || len(rest) != 3 {
			return Period{}, errors.New(periodFormsHelp)
		}
		weeks := isoWeeksIn(year)
		if n < 1 || n > weeks {
			return Period{}, fmt.Errorf("week must be 01..%02d (%04d has %d ISO weeks)", weeks, year, weeks)
		}
		y, m, d := isoWeek1Monday(year)
		start := time.Date(y, m, d+7*(n-1), 0, 0, 0, 0, loc)
		y, m, d = start.Date()
		end := time.Date(y, m, d+7, 0, 0, 0, 0, loc)
		return Period{Name: fmt.Sprintf("%04d-W%02d", year, n), Start: start, End: end}, nil
	}
	n, ok := digits(rest)
	if !ok || len(rest) != 2 {
		return Period{}, errors.New(periodFormsHelp)
	}
	if n < 1 || n > 12 {
		return Period{}, errors.New("month must be 01..12")
	}
	start := time.Date(year, time.Month(n), 1, 0, 0, 0, 0, loc)
	return Period{Name: fmt.Sprintf("%04d-%02d", year, n), Start: start, End: addMonths(start, 1, loc)}, nil
}

// DatesPeriod returns the period covering the civil dates start through
// endInclusive: [start 00:00, the day after endInclusive 00:00) in loc. Only
// the year, month and day of the arguments are used, read in their own
// locations, so a date parsed in UTC names the same calendar day in loc.
// It fails when endInclusive is before start. A nil loc means UTC.
func DatesPeriod(start, endInclusive time.Time, loc *time.Location) (Period, error) {
	if loc == nil {
		loc = time.UTC
	}
	sy, sm, sd := start.Date()
	ey, em, ed := endInclusive.Date()
	name := fmt.Sprintf("%04d-%02d-%02d..%04d-%02d-%02d", sy, int(sm), sd, ey, int(em), ed)
	s := time.Date(sy, sm, sd, 0, 0, 0, 0, loc)
	e := time.Date(ey, em, ed+1, 0, 0, 0, 0, loc)
	if civilBefore(ey, em, ed, sy, sm, sd) {
		return Period{}, fmt.Errorf("period %q: end date is before start date", name)
	}
	return Period{Name: name, Start: s, End: e}, nil
}

// Contains reports whether t lies in [Start, End).
func (p Period) Contains(t time.Time) bool {
	return !t.Before(p.Start) && t.Before(p.End)
}

// Ended reports whether the period is over at now (now >= End).
func (p Period) Ended(now time.Time) bool {
	return !now.Before(p.End)
}

// ElapsedFraction is the share of the period elapsed at now: 0 at or before
// Start, 1 at or after End, linear in between.
func (p Period) ElapsedFraction(now time.Time) float64 {
	if !now.After(p.Start) {
		return 0
	}
	if !now.Before(p.End) {
		return 1
	}
	return seconds(p.Start, now) / seconds(p.Start, p.End)
}

// seconds returns b - a in seconds. Unlike time.Time.Sub it does not saturate
// for spans longer than about 292 years.
func seconds(a, b time.Time) float64 {
	return float64(b.Unix()-a.Unix()) + float64(b.Nanosecond()-a.Nanosecond())/1e9
}

// fiscalYearStart is midnight of the first day of fiscal year fy, which ends
// in calendar year fy.
func fiscalYearStart(fy int, startMonth time.Month, loc *time.Location) time.Time {
	if startMonth == time.January {
		return time.Date(fy, time.January, 1, 0, 0, 0, 0, loc)
	}
	return time.Date(fy-1, startMonth, 1, 0, 0, 0, 0, loc)
}

// addMonths returns midnight on the first of the month n months after t's
// month. t must itself be the first of a month.
func addMonths(t time.Time, n int, loc *time.Location) time.Time {
	y, m, _ := t.Date()
	return time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, loc)
}

// isoWeek1Monday returns the civil date of the Monday that starts ISO week 1
// of year: the week containing 4 January.
func isoWeek1Monday(year int) (int, time.Month, int) {
	jan4 := time.Date(year, time.January, 4, 0, 0, 0, 0, time.UTC)
	back := (int(jan4.Weekday()) + 6) % 7 // days since Monday
	return jan4.AddDate(0, 0, -back).Date()
}

// isoWeeksIn returns 52 or 53: 28 December always lies in the last ISO week.
func isoWeeksIn(year int) int {
	_, w := time.Date(year, time.December, 28, 0, 0, 0, 0, time.UTC).ISOWeek()
	return w
}

// digits parses a non-empty string of ASCII digits. Unlike strconv.Atoi it
// rejects signs.
func digits(s string) (int, bool) {
	if s == "" || len(s) > 4 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func civilBefore(y1 int, m1 time.Month, d1 int, y2 int, m2 time.Month, d2 int) bool {
	if y1 != y2 {
		return y1 < y2
	}
	if m1 != m2 {
		return m1 < m2
	}
	return d1 < d2
}
