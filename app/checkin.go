package app

import (
	"context"

	"github.com/okrd/okrd/checkins"
	"github.com/okrd/okrd/store"
)

// AddCheckin records a check-in and re-evaluates, so the API answers with
// the key result as it stands after the check-in.
func (a *App) AddCheckin(ctx context.Context, req checkins.Request) (store.Checkin, error) {
	c, err := checkins.Record(ctx, a.cfg.Load(), graceStore{a.store, a.opts.ShutdownTimeout}, req, a.opts.now())
	if err != nil {
		return c, err
	}
	a.metrics.checkinsTotal.Inc()
	a.evaluate(ctx)
	return c, nil
}
