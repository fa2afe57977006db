package checkins

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/store"
)

var now = time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)

const testConfig = `
[[objectives]]
id = "grow"
title = "Grow"
period = "2026-Q4"

  [[objectives.key_results]]
  id = "nps"
  title = "NPS"
  baseline = 31
  target = 40

  [[objectives.key_results]]
  id = "activation"
  title = "Activation"
  baseline = 0.3
  target = 0.4
  unit = "ratio"
`

func loadConfig(t *testing.T, text string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(text), "okrd.toml")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func ptr(t time.Time) *time.Time { return &t }

func TestValidateResolvesTheTimeOfACheckin(t *testing.T) {
	cfg := loadConfig(t, testConfig)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	for _, tc := range []struct {
		name string
		at   *time.Time
		want time.Time
	}{
		{"No time means now.", nil, now},
		{"An explicit time is kept, in UTC.", ptr(time.Date(2026, 11, 1, 10, 0, 0, 0, berlin)), time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)},
		{"The epoch is a real instant.", ptr(time.Unix(0, 0)), time.Unix(0, 0).UTC()},
		{"Exactly a day ahead is accepted.", ptr(now.Add(MaxFuture)), now.Add(MaxFuture)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Validate(cfg, Request{ObjectiveID: "grow", KeyResultID: "nps", Value: 36, At: tc.at}, now)
			if err != nil || !c.At.Equal(tc.want) || c.At.Location() != time.UTC {
				t.Errorf("at %v, %v; want %v", c.At, err, tc.want)
			}
		})
	}
}

func TestValidateRefusesAnInvalidFieldByName(t *testing.T) {
	cfg := loadConfig(t, testConfig)
	for _, tc := range []struct {
		name  string
		req   Request
		field string
		msg   string
	}{
		{"The zero time is refused, not taken as now.", Request{KeyResultID: "nps", At: ptr(time.Time{})}, FieldAt,
			"0001-01-01T00:00:00Z is the zero time, not a real instant; leave it out to record the value as of now"},
		{"A time before 1970 is refused.", Request{KeyResultID: "nps", At: ptr(time.Unix(-1, 0))}, FieldAt,
			"1969-12-31T23:59:59Z is before 1970-01-01T00:00:00Z"},
		{"A time more than a day ahead is refused.", Request{KeyResultID: "nps", At: ptr(now.Add(MaxFuture + time.Second))}, FieldAt,
			"2026-11-16T12:00:01Z is more than a day in the future (now is 2026-11-15T12:00:00Z)"},
		{"NaN is refused.", Request{KeyResultID: "nps", Value: math.NaN()}, FieldValue, "must be a finite number"},
		{"Infinity is refused.", Request{KeyResultID: "nps", Value: math.Inf(-1)}, FieldValue, "must be a finite number"},
		{"A ratio above 1 is refused.", Request{KeyResultID: "activation", Value: 1.01}, FieldValue,
			`must be between 0 and 1 for a key result with unit "ratio" (write 40% as 0.4), not 1.01`},
		{"An author over 200 bytes is refused.", Request{KeyResultID: "nps", Author: strings.Repeat("a", 201)}, FieldAuthor, "longer than 200 bytes"},
		{"A note over 4000 bytes is refused.", Request{KeyResultID: "nps", Note: strings.Repeat("n", 4001)}, FieldNote, "longer than 4000 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.ObjectiveID = "grow"
			_, err := Validate(cfg, tc.req, now)
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field || fe.Msg != tc.msg || !errors.Is(err, ErrBadCheckin) {
				t.Errorf("got %#v (%v), want field %s: %s", fe, err, tc.field, tc.msg)
			}
		})
	}
}

// TestValueRangesAgreeWithTheConfiguration checks that a check-in accepts
// exactly the values that config accepts as a baseline of the same unit, so
// that the two rules cannot drift apart.
func TestValueRangesAgreeWithTheConfiguration(t *testing.T) {
	for _, unit := range []string{"count", "ratio", "percent", "duration", "currency"} {
		for _, x := range []float64{-1, -0.001, 0, 0.25, 1, 1.001, 50, 100, 100.001, 1e9} {
			currency := ""
			if unit == "currency" {
				currency = `currency = "EUR"`
			}
			// A target of 0.5 is within every unit's range, so only the
			// baseline can be out of it.
			doc := fmt.Sprintf("[[objectives]]\nid = \"o\"\ntitle = \"O\"\nperiod = \"2026-Q4\"\n"+
				"[[objectives.key_results]]\nid = \"k\"\ntitle = \"K\"\nunit = %q\n%s\nbaseline = %v\ntarget = 0.5\n", unit, currency, x)
			_, cfgErr := config.Parse([]byte(doc), "okrd.toml")
			if cfgErr != nil && !strings.Contains(cfgErr.Error(), "baseline") {
				t.Fatalf("unit %s, baseline %v: unexpected config error %v", unit, x, cfgErr)
			}
			cfg := loadConfig(t, strings.Replace(doc, fmt.Sprintf("baseline = %v", x), "baseline = 0.25", 1))
			_, err := Validate(cfg, Request{ObjectiveID: "o", KeyResultID: "k", Value: x}, now)
			if (cfgErr == nil) != (err == nil) {
				t.Errorf("unit %s, value %v: config says %v, a check-in %v", unit, x, cfgErr, err)
			}
		}
	}
}

// countingStore fails the test if anything reaches it.
type countingStore struct {
	store.Store
	adds int
}

func (c *countingStore) AddCheckin(_ context.Context, ch store.Checkin) (store.Checkin, error) {
	c.adds++
	ch.ID = int64(c.adds)
	return ch, nil
}

func TestRecordStoresNothingWhenTheCheckinIsInvalid(t *testing.T) {
	cfg := loadConfig(t, testConfig)
	st := &countingStore{}
	for _, req := range []Request{
		{ObjectiveID: "grow", KeyResultID: "nps", At: ptr(time.Time{})},
		{ObjectiveID: "grow", KeyResultID: "activation", Value: 2},
		{ObjectiveID: "grow", KeyResultID: "nope"},
		{ObjectiveID: "nope", KeyResultID: "nps"},
	} {
		if _, err := Record(context.Background(), cfg, st, req, now); err == nil {
			t.Errorf("%+v was accepted", req)
		}
	}
	if st.adds != 0 {
		t.Errorf("%d invalid check-ins reached the store", st.adds)
	}
	c, err := Record(context.Background(), cfg, st, Request{ObjectiveID: "grow", KeyResultID: "activation", Value: 0.35, Author: "ana"}, now)
	if err != nil || st.adds != 1 || c.Value != 0.35 || !c.At.Equal(now) || c.Author != "ana" {
		t.Errorf("valid check-in: %+v %v (%d adds)", c, err, st.adds)
	}
}

func TestParseTimeAcceptsRFC3339AndDates(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	for in, want := range map[string]time.Time{
		"2026-11-25T10:00:00Z":        time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC),
		"2026-11-25T10:00:00.5+01:00": time.Date(2026, 11, 25, 9, 0, 0, 5e8, time.UTC),
		"2026-11-25":                  time.Date(2026, 11, 25, 0, 0, 0, 0, berlin),
	} {
		if got, err := ParseTime(in, berlin); err != nil || !got.Equal(want) {
			t.Errorf("%s: %v %v, want %v", in, got, err, want)
		}
	}
	if _, err := ParseTime("tomorrow", berlin); err == nil || err.Error() != `"tomorrow" is not an RFC 3339 time (2026-11-25T10:00:00Z) or a date (2026-11-25)` {
		t.Errorf("tomorrow: %v", err)
	}
}
