package app

import (
	"context"
	"time"

	"github.com/okrd/okrd/checkins"
	"github.com/okrd/okrd/store"
)

// checkinWait bounds how long a check-in waits for the evaluation that
// includes it. It is only reached when evaluations are stuck (a store that
// does not answer); the check-in is stored either way.
const checkinWait = 10 * time.Second

// AddCheckin records a check-in and waits for the evaluation that includes
// it, so the API answers with the key result as it stands after the
// check-in. That evaluation evaluates again only the objectives whose key
// results changed, and check-ins that arrive together share one.
func (a *App) AddCheckin(ctx context.Context, req checkins.Request) (store.Checkin, error) {
	c, err := checkins.Record(ctx, a.cfg.Load(), graceStore{a.store, a.opts.ShutdownTimeout}, req, a.opts.now())
	if err != nil {
		return c, err
	}
	a.metrics.checkinsTotal.Inc()
	a.awaitEvaluation(ctx, "a check-in", c.ObjectiveID, c.KeyResultID)
	return c, nil
}

// awaitEvaluation waits, at most checkinWait, for an evaluation that
// includes what was just stored (what: "a check-in"), so that the answer
// shows the key result with it.
func (a *App) awaitEvaluation(ctx context.Context, what, objective, keyResult string) {
	timer := time.NewTimer(checkinWait)
	defer timer.Stop()
	select {
	case <-a.requestEvaluation(ctx, false):
	case <-ctx.Done():
	case <-timer.C:
		a.logger.Warn(what+" was stored but no evaluation has included it yet; the answer shows the key result without it",
			"objective", objective, "key_result", keyResult, "waited", checkinWait.String())
	}
}

// AddConfidence records an owner's confidence in a key result and waits
// for the evaluation that includes it, as AddCheckin does.
func (a *App) AddConfidence(ctx context.Context, req checkins.ConfidenceRequest) (store.Confidence, error) {
	c, err := checkins.RecordConfidence(ctx, a.cfg.Load(), graceStore{a.store, a.opts.ShutdownTimeout}, req, a.opts.now())
	if err != nil {
		return c, err
	}
	a.awaitEvaluation(ctx, "a confidence", c.ObjectiveID, c.KeyResultID)
	return c, nil
}
