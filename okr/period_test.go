package okr

import (
	"testing"
	"time"
)

func berlin(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skipf("time zone database unavailable, cannot test Europe/Berlin: %v", err)
	}
	return loc
}

func TestParsePeriod(t *testing.T) {
	loc := berlin(t)
	d := func(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 0, 0, 0, 0, loc) }
	tests := []struct {
		name       string
		in         string
		fyStart    time.Month
		wantName   string
		start, end time.Time
	}{
		{"a calendar year", "2026", time.January, "2026", d(2026, 1, 1), d(2027, 1, 1)},
		{"the zero fiscal start month means January", "2026", 0, "2026", d(2026, 1, 1), d(2027, 1, 1)},
		{"a fiscal year starting in July is named by the year it ends in", "2026", time.July, "2026", d(2025, 7, 1), d(2026, 7, 1)},
		{"a fiscal year starting in April is named by the year it ends in", "2026", time.April, "2026", d(2025, 4, 1), d(2026, 4, 1)},
		{"a fiscal year starting in December", "2026", time.December, "2026", d(2025, 12, 1), d(2026, 12, 1)},
		{"the first calendar half", "2026-H1", time.January, "2026-H1", d(2026, 1, 1), d(2026, 7, 1)},
		{"the second calendar half", "2026-H2", time.January, "2026-H2", d(2026, 7, 1), d(2027, 1, 1)},
		{"the first fiscal half with a July start", "2026-H1", time.July, "2026-H1", d(2025, 7, 1), d(2026, 1, 1)},
		{"a lower-case h names the second fiscal half", "2026-h2", time.July, "2026-H2", d(2026, 1, 1), d(2026, 7, 1)},
		{"a calendar quarter", "2026-Q1", time.January, "2026-Q1", d(2026, 1, 1), d(2026, 4, 1)},
		{"the fourth calendar quarter ends at new year", "2026-Q4", time.January, "2026-Q4", d(2026, 10, 1), d(2027, 1, 1)},
		{"the first fiscal quarter with a July start", "2026-Q1", time.July, "2026-Q1", d(2025, 7, 1), d(2025, 10, 1)},
		{"the third fiscal quarter with a July start", "2026-Q3", time.July, "2026-Q3", d(2026, 1, 1), d(2026, 4, 1)},
		{"the fourth fiscal quarter with a July start", "2026-Q4", time.July, "2026-Q4", d(2026, 4, 1), d(2026, 7, 1)},
		{"the first fiscal quarter with an April start", "2026-Q1", time.April, "2026-Q1", d(2025, 4, 1), d(2025, 7, 1)},
		{"a lower-case q names the last fiscal quarter with an April start", "2026-q4", time.April, "2026-Q4", d(2026, 1, 1), d(2026, 4, 1)},
		{"a fiscal quarter straddling new year", "2026-Q1", time.December, "2026-Q1", d(2025, 12, 1), d(2026, 3, 1)},
		{"a month is a calendar month whatever the fiscal year", "2026-11", time.July, "2026-11", d(2026, 11, 1), d(2026, 12, 1)},
		{"December ends at new year", "2026-12", time.January, "2026-12", d(2026, 12, 1), d(2027, 1, 1)},
		{"a month across the spring DST change ends at local midnight", "2026-03", time.January, "2026-03", d(2026, 3, 1), d(2026, 4, 1)},
		{"ISO week 1 of 2026 starts on Monday 2025-12-29", "2026-W01", time.January, "2026-W01", d(2025, 12, 29), d(2026, 1, 5)},
		{"a lower-case w names ISO week 48", "2026-w48", time.July, "2026-W48", d(2026, 11, 23), d(2026, 11, 30)},
		{"2026 has an ISO week 53", "2026-W53", time.January, "2026-W53", d(2026, 12, 28), d(2027, 1, 4)},
		{"an ISO week across the spring DST change ends at local midnight", "2026-W13", time.January, "2026-W13", d(2026, 3, 23), d(2026, 3, 30)},
		{"ISO week 1 of 2027 starts on Monday 2027-01-04", "2027-W01", time.January, "2027-W01", d(2027, 1, 4), d(2027, 1, 11)},
		{"ISO week 1 of 2021 starts on Monday 2021-01-04", "2021-W01", time.January, "2021-W01", d(2021, 1, 4), d(2021, 1, 11)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePeriod(tt.in, loc, tt.fyStart)
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if p.Name != tt.wantName || !p.Start.Equal(tt.start) || !p.End.Equal(tt.end) {
				t.Errorf("got %s [%s, %s), want %s [%s, %s)", p.Name, p.Start, p.End, tt.wantName, tt.start, tt.end)
			}
			for _, b := range []time.Time{p.Start, p.End} {
				if b.Location() != loc || b.Hour() != 0 || b.Minute() != 0 || b.Second() != 0 || b.Nanosecond() != 0 {
					t.Errorf("bound %s is not midnight in %s", b, loc)
				}
			}
		})
	}
}

func TestParsePeriodDSTLengths(t *testing.T) {
	loc := berlin(t)
	t.Run("March 2026 in Berlin is one hour shorter than 31 days", func(t *testing.T) {
		p, _ := ParsePeriod("2026-03", loc, time.January)
		if got, want := p.End.Sub(p.Start), 31*dayDur-time.Hour; got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	})
	t.Run("a nil location means UTC", func(t *testing.T) {
		p, err := ParsePeriod("2026-Q2", nil, time.January)
		if err != nil {
			t.Fatal(err)
		}
		want := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
		if !p.Start.Equal(want) || p.Start.Location() != time.UTC {
			t.Errorf("got start %s, want %s", p.Start, want)
		}
	})
}

func TestParsePeriodErrors(t *testing.T) {
	const forms = "want YYYY, YYYY-Hn, YYYY-Qn, YYYY-MM or YYYY-Www"
	tests := []struct {
		name    string
		in      string
		fyStart time.Month
		want    string
	}{
		{"quarter 5 does not exist", "2026-Q5", 1, `period "2026-Q5": quarter must be 1..4`},
		{"quarter 0 does not exist", "2026-q0", 1, `period "2026-q0": quarter must be 1..4`},
		{"half 3 does not exist", "2026-H3", 1, `period "2026-H3": half must be 1 or 2`},
		{"month 13 does not exist", "2026-13", 1, `period "2026-13": month must be 01..12`},
		{"month 00 does not exist", "2026-00", 1, `period "2026-00": month must be 01..12`},
		{"week 00 does not exist", "2026-W00", 1, `period "2026-W00": week must be 01..53 (2026 has 53 ISO weeks)`},
		{"week 54 never exists", "2026-W54", 1, `period "2026-W54": week must be 01..53 (2026 has 53 ISO weeks)`},
		{"2027 has no week 53", "2027-W53", 1, `period "2027-W53": week must be 01..52 (2027 has 52 ISO weeks)`},
		{"a word is not a period", "foo", 1, `period "foo": ` + forms},
		{"the empty string is not a period", "", 1, `period "": ` + forms},
		{"a two-digit year is not a period", "26", 1, `period "26": ` + forms},
		{"a signed year is not a period", "+026", 1, `period "+026": ` + forms},
		{"a five-digit year is not a period", "20260", 1, `period "20260": ` + forms},
		{"a trailing dash is not a period", "2026-", 1, `period "2026-": ` + forms},
		{"a quarter without a number is not a period", "2026-Q", 1, `period "2026-Q": ` + forms},
		{"a two-digit quarter is not a period", "2026-Q01", 1, `period "2026-Q01": ` + forms},
		{"a quarter without a dash is not a period", "2026Q1", 1, `period "2026Q1": ` + forms},
		{"a one-digit month is not a period", "2026-1", 1, `period "2026-1": ` + forms},
		{"a one-digit week is not a period", "2026-W1", 1, `period "2026-W1": ` + forms},
		{"a date is not a period", "2026-11-01", 1, `period "2026-11-01": ` + forms},
		{"surrounding spaces are not accepted", " 2026", 1, `period " 2026": ` + forms},
		{"a fiscal start month of 13 is rejected", "2026", 13, `period "2026": fiscal year start month must be 1..12, got 13`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePeriod(tt.in, time.UTC, tt.fyStart)
			if err == nil {
				t.Fatalf("got %+v, want error %q", p, tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("got error %q, want %q", err, tt.want)
			}
		})
	}
}

func TestDatesPeriod(t *testing.T) {
	loc := berlin(t)
	t.Run("explicit dates cover the end date entirely", func(t *testing.T) {
		p, err := DatesPeriod(time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC), loc)
		if err != nil {
			t.Fatal(err)
		}
		want := Period{Name: "2026-10-01..2026-12-31", Start: time.Date(2026, 10, 1, 0, 0, 0, 0, loc), End: time.Date(2027, 1, 1, 0, 0, 0, 0, loc)}
		if p.Name != want.Name || !p.Start.Equal(want.Start) || !p.End.Equal(want.End) || p.Start.Location() != loc {
			t.Errorf("got %+v, want %+v", p, want)
		}
	})
	t.Run("only the civil date of the arguments is used", func(t *testing.T) {
		// 23:30 UTC on 1 October is already 2 October in Berlin; the date read
		// in the argument's own zone, 1 October, wins.
		p, err := DatesPeriod(time.Date(2026, 10, 1, 23, 30, 0, 0, time.UTC), time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC), loc)
		if err != nil {
			t.Fatal(err)
		}
		if p.Name != "2026-10-01..2026-10-01" || !p.Start.Equal(time.Date(2026, 10, 1, 0, 0, 0, 0, loc)) || !p.End.Equal(time.Date(2026, 10, 2, 0, 0, 0, 0, loc)) {
			t.Errorf("got %+v", p)
		}
	})
	t.Run("a single day is a one-day period", func(t *testing.T) {
		p, err := DatesPeriod(time.Date(2026, 6, 15, 0, 0, 0, 0, loc), time.Date(2026, 6, 15, 0, 0, 0, 0, loc), loc)
		if err != nil || p.End.Sub(p.Start) != dayDur {
			t.Errorf("got %+v, %v; want one day", p, err)
		}
	})
	t.Run("an end date before the start date is an error", func(t *testing.T) {
		_, err := DatesPeriod(time.Date(2026, 10, 2, 0, 0, 0, 0, loc), time.Date(2026, 10, 1, 0, 0, 0, 0, loc), loc)
		if want := `period "2026-10-02..2026-10-01": end date is before start date`; err == nil || err.Error() != want {
			t.Errorf("got %v, want %q", err, want)
		}
	})
	t.Run("a nil location means UTC", func(t *testing.T) {
		p, err := DatesPeriod(time.Date(2026, 1, 1, 0, 0, 0, 0, loc), time.Date(2026, 1, 2, 0, 0, 0, 0, loc), nil)
		if err != nil || p.Start.Location() != time.UTC || !p.End.Equal(time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("got %+v, %v", p, err)
		}
	})
}

func TestPeriodMethods(t *testing.T) {
	p := period10
	tests := []struct {
		name     string
		at       time.Time
		contains bool
		ended    bool
		elapsed  float64
	}{
		{"an instant before the period is outside it with nothing elapsed", day(-1), false, false, 0},
		{"the start instant is inside the period with nothing elapsed", day(0), true, false, 0},
		{"a quarter of the way through a quarter has elapsed", day(2.5), true, false, 0.25}, // 2.5/10
		{"one nanosecond before the end the period is running", day(10).Add(-1), true, false, 1 - 1e-9/864000},
		{"the end instant is outside the period, which has ended", day(10), false, true, 1},
		{"after the end the whole period has elapsed", day(11), false, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.Contains(tt.at); got != tt.contains {
				t.Errorf("Contains = %v, want %v", got, tt.contains)
			}
			if got := p.Ended(tt.at); got != tt.ended {
				t.Errorf("Ended = %v, want %v", got, tt.ended)
			}
			if got := p.ElapsedFraction(tt.at); !near(got, tt.elapsed) {
				t.Errorf("ElapsedFraction = %v, want %v", got, tt.elapsed)
			}
		})
	}
	t.Run("an empty period has fully elapsed once it starts and never divides by zero", func(t *testing.T) {
		empty := Period{Start: day(0), End: day(0)}
		if got := empty.ElapsedFraction(day(0)); got != 0 {
			t.Errorf("at start: got %v, want 0", got)
		}
		if got := empty.ElapsedFraction(day(1)); got != 1 {
			t.Errorf("after: got %v, want 1", got)
		}
	})
}

func FuzzParsePeriod(f *testing.F) {
	for _, s := range []string{"2026", "2026-H1", "2026-h2", "2026-Q4", "2026-q1", "2026-11", "2026-W01", "2026-W53", "0000-W01", "9999-12", "2026-Q5", "foo", "", "2026-W00"} {
		for _, m := range []uint8{0, 1, 4, 7, 12, 13} {
			f.Add(s, m)
		}
	}
	loc := berlin(f)
	f.Fuzz(func(t *testing.T, s string, m uint8) {
		fy := time.Month(m % 14) // 0..13: the zero value, every month, and one invalid month
		p, err := ParsePeriod(s, loc, fy)
		if err != nil {
			return
		}
		if !p.Start.Before(p.End) {
			t.Fatalf("ParsePeriod(%q, %d) = [%s, %s): start not before end", s, fy, p.Start, p.End)
		}
		// The canonical name parses to the same period.
		q, err := ParsePeriod(p.Name, loc, fy)
		if err != nil || !q.Start.Equal(p.Start) || !q.End.Equal(p.End) || q.Name != p.Name {
			t.Fatalf("name %q of %q does not round-trip: %+v, %v", p.Name, s, q, err)
		}
	})
}

func TestResolvePeriod(t *testing.T) {
	loc := berlin(t)
	d := func(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 0, 0, 0, 0, loc) }
	at := func(y int, m time.Month, day, hour int) time.Time { return time.Date(y, m, day, hour, 0, 0, 0, loc) }
	tests := []struct {
		name       string
		in         string
		now        time.Time
		fyStart    time.Month
		wantName   string
		start, end time.Time
	}{
		{"the current calendar quarter", "current-quarter", at(2026, 11, 20, 12), time.January, "2026-Q4", d(2026, 10, 1), d(2027, 1, 1)},
		{"the first instant of a quarter belongs to it", "current-quarter", at(2027, 1, 1, 0), time.January, "2027-Q1", d(2027, 1, 1), d(2027, 4, 1)},
		{"the last hour of a quarter still belongs to it", "current-quarter", at(2026, 12, 31, 23), time.January, "2026-Q4", d(2026, 10, 1), d(2027, 1, 1)},
		{"the quarter is the one of the time zone, not of UTC", "current-quarter", time.Date(2026, 9, 30, 22, 30, 0, 0, time.UTC), time.January, "2026-Q4", d(2026, 10, 1), d(2027, 1, 1)},
		{"a fiscal quarter with a July start", "current-quarter", at(2026, 8, 10, 9), time.July, "2027-Q1", d(2026, 7, 1), d(2026, 10, 1)},
		{"the last fiscal quarter with an April start", "current-quarter", at(2026, 2, 10, 9), time.April, "2026-Q4", d(2026, 1, 1), d(2026, 4, 1)},
		{"the zero fiscal start month means January", "current-quarter", at(2026, 5, 1, 9), 0, "2026-Q2", d(2026, 4, 1), d(2026, 7, 1)},
		{"the current calendar half", "current-half", at(2026, 8, 10, 9), time.January, "2026-H2", d(2026, 7, 1), d(2027, 1, 1)},
		{"the current fiscal half with a July start", "current-half", at(2026, 8, 10, 9), time.July, "2027-H1", d(2026, 7, 1), d(2027, 1, 1)},
		{"the current calendar year", "current-year", at(2026, 8, 10, 9), time.January, "2026", d(2026, 1, 1), d(2027, 1, 1)},
		{"the current fiscal year is named by the year it ends in", "current-year", at(2026, 8, 10, 9), time.July, "2027", d(2026, 7, 1), d(2027, 7, 1)},
		{"before the fiscal start month the fiscal year ends this year", "current-year", at(2026, 6, 30, 23), time.July, "2026", d(2025, 7, 1), d(2026, 7, 1)},
		{"the current month is a calendar month whatever the fiscal year", "current-month", at(2026, 8, 10, 9), time.July, "2026-08", d(2026, 8, 1), d(2026, 9, 1)},
		{"the current ISO week", "current-week", at(2026, 11, 25, 9), time.January, "2026-W48", d(2026, 11, 23), d(2026, 11, 30)},
		{"new year's day 2027 lies in ISO week 53 of 2026", "current-week", at(2027, 1, 1, 9), time.January, "2026-W53", d(2026, 12, 28), d(2027, 1, 4)},
		{"an absolute name ignores the time", "2026-Q1", at(2030, 5, 5, 5), time.July, "2026-Q1", d(2025, 7, 1), d(2025, 10, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ResolvePeriod(tt.in, tt.now, loc, tt.fyStart)
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if p.Name != tt.wantName || !p.Start.Equal(tt.start) || !p.End.Equal(tt.end) || p.Start.Location() != loc {
				t.Errorf("got %s [%s, %s), want %s [%s, %s)", p.Name, p.Start, p.End, tt.wantName, tt.start, tt.end)
			}
			if IsRelativePeriod(tt.in) && !p.Contains(tt.now) {
				t.Errorf("%s at %s does not contain %s", tt.in, p.Name, tt.now)
			}
		})
	}
	t.Run("resolving again after the boundary gives the next period", func(t *testing.T) {
		before, _ := ResolvePeriod(CurrentQuarter, at(2026, 12, 31, 23), loc, time.January)
		after, _ := ResolvePeriod(CurrentQuarter, at(2027, 1, 1, 1), loc, time.January)
		if before.Name != "2026-Q4" || after.Name != "2027-Q1" || !after.Start.Equal(before.End) {
			t.Errorf("before %+v, after %+v", before, after)
		}
	})
}

func TestResolvePeriodErrors(t *testing.T) {
	for _, tt := range []struct{ name, in, want string }{
		{"an unknown relative name lists every form", "this-quarter",
			`period "this-quarter": want YYYY, YYYY-Hn, YYYY-Qn, YYYY-MM or YYYY-Www, or one of current-year, current-half, current-quarter, current-month or current-week`},
		{"relative names are lower case", "Current-Quarter",
			`period "Current-Quarter": want YYYY, YYYY-Hn, YYYY-Qn, YYYY-MM or YYYY-Www, or one of current-year, current-half, current-quarter, current-month or current-week`},
		{"an absolute name keeps its own error", "2026-Q5", `period "2026-Q5": quarter must be 1..4`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ResolvePeriod(tt.in, time.Now(), time.UTC, time.January)
			if err == nil || err.Error() != tt.want {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
	t.Run("ParsePeriod refuses a relative name, which needs a time", func(t *testing.T) {
		_, err := ParsePeriod(CurrentQuarter, time.UTC, time.January)
		want := `period "current-quarter" is relative to the current date, which is not accepted here: name the period, like 2026-Q4`
		if err == nil || err.Error() != want {
			t.Errorf("got %v, want %q", err, want)
		}
	})
	t.Run("a fiscal start month of 13 is rejected for a relative name too", func(t *testing.T) {
		_, err := ResolvePeriod(CurrentYear, time.Now(), time.UTC, 13)
		if want := `period "current-year": fiscal year start month must be 1..12, got 13`; err == nil || err.Error() != want {
			t.Errorf("got %v, want %q", err, want)
		}
	})
}
