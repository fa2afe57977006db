// Package checkins owns the validation and recording of manual check-ins,
// shared by `okrd checkin` and the HTTP API so that both accept the same
// input and answer with the same errors.
package checkins

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/store"
)

// Errors a check-in can fail with; the API maps them to status codes.
var (
	ErrNotFound   = errors.New("not found")
	ErrNotManual  = errors.New("key result takes its values from a source")
	ErrBadCheckin = errors.New("invalid check-in")
)

// The fields of a check-in, as FieldError names them. They are the names of
// the API's JSON fields; `okrd checkin` maps them to its arguments and flags.
const (
	FieldValue  = "value"
	FieldAt     = "at"
	FieldAuthor = "author"
	FieldNote   = "note"
	// FieldConfidence is the owner's confidence that the key result will
	// land: 1..10 or low, medium, high (ConfidenceLevels).
	FieldConfidence = "confidence"
)

// FieldError is an invalid field of a check-in. It matches ErrBadCheckin
// with errors.Is. Field is one of the Field constants, so that each front
// end can name the field the way its user wrote it (`"at"` in JSON, `--at`
// on the command line).
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Unwrap makes errors.Is(err, ErrBadCheckin) hold.
func (e *FieldError) Unwrap() error { return ErrBadCheckin }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Request is a manual check-in before validation.
type Request struct {
	ObjectiveID string
	KeyResultID string
	Value       float64
	// At is when the value applies; nil means now. An explicit time must be
	// a real instant: see Validate.
	At     *time.Time
	Author string
	Note   string
	// Confidence, 1..10, is recorded with the check-in; 0 records none.
	Confidence int
}

// Limits of a check-in.
const (
	// MaxFuture is how far ahead of the clock a check-in may be dated: a
	// date-only time in a zone east of UTC, or a clock a little off, is
	// fine; a value from next month is a typo.
	MaxFuture = 24 * time.Hour
	// MaxNote and MaxAuthor bound the free text, in bytes.
	MaxNote   = 4000
	MaxAuthor = 200
)

// epoch is the earliest instant a check-in may be dated. Nothing measured
// by okrd predates it, and it rules out the zero time.Time (year 1), which
// a client sends when it serialises an unset date.
var epoch = time.Unix(0, 0).UTC()

// ParseTime reads the time of a check-in or a query: an RFC 3339 time, or a
// YYYY-MM-DD date meaning midnight in loc. The error says what is accepted
// and does not name the field: the caller does.
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time (2026-11-25T10:00:00Z) or a date (2026-11-25)", s)
}

// Validate checks a check-in against cfg at the instant now and returns
// what would be stored (At resolved, in UTC). Recording goes through
// Record, which calls it; it is exported so that a front end can check a
// request without a store.
func Validate(cfg *config.Config, req Request, now time.Time) (store.Checkin, error) {
	o, kr, err := lookup(cfg, req.ObjectiveID, req.KeyResultID)
	if err != nil {
		return store.Checkin{}, err
	}
	if kr.Source != "" && (cfg.Sources[kr.Source] == nil || cfg.Sources[kr.Source].Type != "manual") {
		return store.Checkin{}, fmt.Errorf("%w: %s/%s is measured by source %q; check-ins apply to key results without a source", ErrNotManual, o.ID, kr.ID, kr.Source)
	}
	if err := checkValue(req.Value, kr.Unit); err != nil {
		return store.Checkin{}, err
	}
	at, err := checkCommon(req.At, req.Author, req.Note, now, "value")
	if err != nil {
		return store.Checkin{}, err
	}
	if req.Confidence != 0 {
		if err := CheckConfidence(req.Confidence); err != nil {
			return store.Checkin{}, err
		}
	}
	return store.Checkin{
		ObjectiveID: o.ID, KeyResultID: kr.ID, At: at.UTC(), Value: req.Value,
		Author: req.Author, Note: req.Note, Confidence: req.Confidence,
	}, nil
}

// lookup finds a configured objective and key result, or says which
// exist.
func lookup(cfg *config.Config, objectiveID, keyResultID string) (*config.Objective, *config.KeyResult, error) {
	o := cfg.Objective(objectiveID)
	if o == nil {
		ids := make([]string, 0, len(cfg.Objectives))
		for _, o := range cfg.Objectives {
			ids = append(ids, o.ID)
		}
		sort.Strings(ids)
		return nil, nil, fmt.Errorf("%w: objective %q does not exist (objectives: %s)", ErrNotFound, objectiveID, strings.Join(ids, ", "))
	}
	kr := o.KeyResult(keyResultID)
	if kr == nil {
		ids := make([]string, 0, len(o.KeyResults))
		for _, k := range o.KeyResults {
			ids = append(ids, k.ID)
		}
		sort.Strings(ids)
		return nil, nil, fmt.Errorf("%w: key result %q does not exist in objective %q (key results: %s)", ErrNotFound, keyResultID, o.ID, strings.Join(ids, ", "))
	}
	return o, kr, nil
}

// checkCommon checks the time, author and note of a check-in or a
// confidence (what names what is recorded) and returns the time it
// applies to.
func checkCommon(atp *time.Time, author, note string, now time.Time, what string) (time.Time, error) {
	at := now
	if atp != nil {
		at = *atp
		switch {
		case at.IsZero():
			// A client that serialises an unset date sends this; storing
			// it as now (or as year 1) would hide the client's bug.
			return at, fieldErr(FieldAt, "%s is the zero time, not a real instant; leave it out to record the %s as of now", formatTime(at), what)
		case at.Before(epoch):
			return at, fieldErr(FieldAt, "%s is before 1970-01-01T00:00:00Z", formatTime(at))
		}
		if at.After(now.Add(MaxFuture)) {
			return at, fieldErr(FieldAt, "%s is more than a day in the future (now is %s)", formatTime(at), formatTime(now))
		}
	}
	if len(author) > MaxAuthor {
		return at, fieldErr(FieldAuthor, "longer than %d bytes", MaxAuthor)
	}
	if len(note) > MaxNote {
		return at, fieldErr(FieldNote, "longer than %d bytes", MaxNote)
	}
	return at, nil
}

// ConfidenceLevels are the words a confidence may be given in, and the
// points of the 1..10 scale each stands for (docs/okr.md, "Confidence").
var ConfidenceLevels = []struct {
	Name  string
	Value int
}{{"low", 3}, {"medium", 6}, {"high", 9}}

// MinConfidence and MaxConfidence bound the confidence scale.
const (
	MinConfidence = 1
	MaxConfidence = 10
)

// CheckConfidence checks a confidence on the 1..10 scale.
func CheckConfidence(v int) error {
	if v < MinConfidence || v > MaxConfidence {
		return fieldErr(FieldConfidence, "must be a whole number from 1 to 10 or one of low (3), medium (6), high (9), not %d", v)
	}
	return nil
}

// ParseConfidence reads a confidence as a front end receives it: a whole
// number from 1 to 10, or low, medium or high (any case).
func ParseConfidence(s string) (int, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	for _, l := range ConfidenceLevels {
		if t == l.Name {
			return l.Value, nil
		}
	}
	n, err := strconv.Atoi(t)
	if err != nil {
		return 0, fieldErr(FieldConfidence, "must be a whole number from 1 to 10 or one of low (3), medium (6), high (9), not %q", s)
	}
	return n, CheckConfidence(n)
}

// ConfidenceName is the level a confidence falls in: low (1..4), medium
// (5..7) or high (8..10).
func ConfidenceName(v int) string {
	switch {
	case v <= 4:
		return "low"
	case v <= 7:
		return "medium"
	default:
		return "high"
	}
}

// ConfidenceRequest is a confidence recorded on its own, before
// validation.
type ConfidenceRequest struct {
	ObjectiveID string
	KeyResultID string
	Value       int
	// At is when the confidence was given; nil means now.
	At     *time.Time
	Author string
	Note   string
}

// ValidateConfidence checks a confidence against cfg at now and returns
// what would be stored. Unlike a check-in, a confidence applies to any key
// result, measured by a source or not.
func ValidateConfidence(cfg *config.Config, req ConfidenceRequest, now time.Time) (store.Confidence, error) {
	o, kr, err := lookup(cfg, req.ObjectiveID, req.KeyResultID)
	if err != nil {
		return store.Confidence{}, err
	}
	if err := CheckConfidence(req.Value); err != nil {
		return store.Confidence{}, err
	}
	at, err := checkCommon(req.At, req.Author, req.Note, now, "confidence")
	if err != nil {
		return store.Confidence{}, err
	}
	return store.Confidence{ObjectiveID: o.ID, KeyResultID: kr.ID, At: at.UTC(), Value: req.Value, Author: req.Author, Note: req.Note}, nil
}

// RecordConfidence validates a confidence against cfg and stores it.
// Nothing is stored when it is invalid.
func RecordConfidence(ctx context.Context, cfg *config.Config, st store.Store, req ConfidenceRequest, now time.Time) (store.Confidence, error) {
	c, err := ValidateConfidence(cfg, req, now)
	if err != nil {
		return store.Confidence{}, err
	}
	return st.AddConfidence(ctx, c)
}

// checkValue checks a value against the range of its unit: the same rule
// that config applies to baselines, targets and bands, so that a check-in
// can only record what a key result of that unit can mean.
func checkValue(x float64, unit string) error {
	switch {
	case math.IsNaN(x) || math.IsInf(x, 0):
		return fieldErr(FieldValue, "must be a finite number")
	case unit == "ratio" && (x < 0 || x > 1):
		return fieldErr(FieldValue, "must be between 0 and 1 for a key result with unit \"ratio\" (write 40%% as 0.4), not %s", formatFloat(x))
	case unit == "percent" && (x < 0 || x > 100):
		return fieldErr(FieldValue, "must be between 0 and 100 for a key result with unit \"percent\", not %s", formatFloat(x))
	case unit == "duration" && x < 0:
		return fieldErr(FieldValue, "must not be negative for a key result with unit \"duration\" (seconds), not %s", formatFloat(x))
	}
	return nil
}

// Record validates a check-in against cfg and stores it. Nothing is stored
// when it is invalid.
func Record(ctx context.Context, cfg *config.Config, st store.Store, req Request, now time.Time) (store.Checkin, error) {
	c, err := Validate(cfg, req, now)
	if err != nil {
		return store.Checkin{}, err
	}
	return st.AddCheckin(ctx, c)
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func formatFloat(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
