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
	o := cfg.Objective(req.ObjectiveID)
	if o == nil {
		ids := make([]string, 0, len(cfg.Objectives))
		for _, o := range cfg.Objectives {
			ids = append(ids, o.ID)
		}
		sort.Strings(ids)
		return store.Checkin{}, fmt.Errorf("%w: objective %q does not exist (objectives: %s)", ErrNotFound, req.ObjectiveID, strings.Join(ids, ", "))
	}
	kr := o.KeyResult(req.KeyResultID)
	if kr == nil {
		ids := make([]string, 0, len(o.KeyResults))
		for _, k := range o.KeyResults {
			ids = append(ids, k.ID)
		}
		sort.Strings(ids)
		return store.Checkin{}, fmt.Errorf("%w: key result %q does not exist in objective %q (key results: %s)", ErrNotFound, req.KeyResultID, o.ID, strings.Join(ids, ", "))
	}
	if kr.Source != "" && (cfg.Sources[kr.Source] == nil || cfg.Sources[kr.Source].Type != "manual") {
		return store.Checkin{}, fmt.Errorf("%w: %s/%s is measured by source %q; check-ins apply to key results without a source", ErrNotManual, o.ID, kr.ID, kr.Source)
	}
	if err := checkValue(req.Value, kr.Unit); err != nil {
		return store.Checkin{}, err
	}
	at := now
	if req.At != nil {
		at = *req.At
		switch {
		case at.IsZero():
			// A client that serialises an unset date sends this; storing
			// it as now (or as year 1) would hide the client's bug.
			return store.Checkin{}, fieldErr(FieldAt, "%s is the zero time, not a real instant; leave it out to record the value as of now", formatTime(at))
		case at.Before(epoch):
			return store.Checkin{}, fieldErr(FieldAt, "%s is before 1970-01-01T00:00:00Z", formatTime(at))
		}
		if at.After(now.Add(MaxFuture)) {
			return store.Checkin{}, fieldErr(FieldAt, "%s is more than a day in the future (now is %s)", formatTime(at), formatTime(now))
		}
	}
	if len(req.Author) > MaxAuthor {
		return store.Checkin{}, fieldErr(FieldAuthor, "longer than %d bytes", MaxAuthor)
	}
	if len(req.Note) > MaxNote {
		return store.Checkin{}, fieldErr(FieldNote, "longer than %d bytes", MaxNote)
	}
	return store.Checkin{
		ObjectiveID: o.ID, KeyResultID: kr.ID, At: at.UTC(), Value: req.Value,
		Author: req.Author, Note: req.Note,
	}, nil
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
