package checkins

import (
	"errors"
	"testing"
)

func TestParseConfidence(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		err  string
	}{
		{"1", 1, ""},
		{"10", 10, ""},
		{" 7 ", 7, ""},
		{"low", 3, ""},
		{"Medium", 6, ""},
		{"HIGH", 9, ""},
		{"0", 0, "confidence: must be a whole number from 1 to 10 or one of low (3), medium (6), high (9), not 0"},
		{"11", 0, "confidence: must be a whole number from 1 to 10 or one of low (3), medium (6), high (9), not 11"},
		{"7.5", 0, `confidence: must be a whole number from 1 to 10 or one of low (3), medium (6), high (9), not "7.5"`},
		{"sure", 0, `confidence: must be a whole number from 1 to 10 or one of low (3), medium (6), high (9), not "sure"`},
	} {
		got, err := ParseConfidence(tc.in)
		if tc.err != "" {
			var fe *FieldError
			if err == nil || err.Error() != tc.err || !errors.As(err, &fe) || fe.Field != FieldConfidence || !errors.Is(err, ErrBadCheckin) {
				t.Errorf("ParseConfidence(%q) error = %v, want %q naming the field", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseConfidence(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

func TestConfidenceName(t *testing.T) {
	for v, want := range map[int]string{1: "low", 4: "low", 5: "medium", 7: "medium", 8: "high", 10: "high"} {
		if got := ConfidenceName(v); got != want {
			t.Errorf("ConfidenceName(%d) = %q, want %q", v, got, want)
		}
	}
}

func TestValidateConfidence(t *testing.T) {
	cfg := loadConfig(t, testConfig)
	c, err := ValidateConfidence(cfg, ConfidenceRequest{ObjectiveID: "grow", KeyResultID: "nps", Value: 4, Author: "a", Note: "n"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if c.Value != 4 || !c.At.Equal(now) || c.Author != "a" || c.Note != "n" || c.ObjectiveID != "grow" || c.KeyResultID != "nps" {
		t.Errorf("got %+v", c)
	}
	if _, err := ValidateConfidence(cfg, ConfidenceRequest{ObjectiveID: "grow", KeyResultID: "nps", Value: 0}, now); err == nil {
		t.Error("confidence 0 accepted")
	}
	if _, err := ValidateConfidence(cfg, ConfidenceRequest{ObjectiveID: "grow", KeyResultID: "nope", Value: 5}, now); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown key result: %v, want ErrNotFound", err)
	}
	late := now.Add(MaxFuture * 2)
	var fe *FieldError
	if _, err := ValidateConfidence(cfg, ConfidenceRequest{ObjectiveID: "grow", KeyResultID: "nps", Value: 5, At: &late}, now); !errors.As(err, &fe) || fe.Field != FieldAt {
		t.Errorf("a confidence two days ahead: %v, want an error on at", err)
	}
	// A check-in's confidence is checked too.
	if _, err := Validate(cfg, Request{ObjectiveID: "grow", KeyResultID: "nps", Value: 35, Confidence: 12}, now); !errors.As(err, &fe) || fe.Field != FieldConfidence {
		t.Errorf("check-in with confidence 12: %v, want an error on confidence", err)
	}
	ci, err := Validate(cfg, Request{ObjectiveID: "grow", KeyResultID: "nps", Value: 35, Confidence: 9}, now)
	if err != nil || ci.Confidence != 9 {
		t.Errorf("check-in with confidence 9: %+v, %v", ci, err)
	}
}
