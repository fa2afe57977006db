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

// Request is a manual check-in before validation.
type Request struct {
	ObjectiveID string
	KeyResultID string
	Value       float64
	At          time.Time // zero means now
	Author      string
	Note        string
}

// maxFuture is how far ahead of the clock a check-in may be dated: a little
// clock skew is fine, a value from next month is a typo.
const maxFuture = 5 * time.Minute

// Record validates a check-in against cfg and stores it. It is
// shared by `okrd checkin` and the API so that both accept the same input.
func Record(ctx context.Context, cfg *config.Config, st store.Store, req Request, now time.Time) (store.Checkin, error) {
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
	if math.IsNaN(req.Value) || math.IsInf(req.Value, 0) {
		return store.Checkin{}, fmt.Errorf("%w: value must be a finite number", ErrBadCheckin)
	}
	at := req.At
	if at.IsZero() {
		at = now
	}
	if at.After(now.Add(maxFuture)) {
		return store.Checkin{}, fmt.Errorf("%w: at %s is in the future", ErrBadCheckin, at.UTC().Format(time.RFC3339))
	}
	if len(req.Note) > 4000 {
		return store.Checkin{}, fmt.Errorf("%w: note is longer than 4000 characters", ErrBadCheckin)
	}
	if len(req.Author) > 200 {
		return store.Checkin{}, fmt.Errorf("%w: author is longer than 200 characters", ErrBadCheckin)
	}
	return st.AddCheckin(ctx, store.Checkin{
		ObjectiveID: o.ID, KeyResultID: kr.ID, At: at.UTC(), Value: req.Value,
		Author: req.Author, Note: req.Note,
	})
}
