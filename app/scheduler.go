package app

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"sync"
	"time"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/internal/retry"
)

// runner polls one source in its own goroutine, so that a failing or slow
// source never holds up another.
type runner struct {
	cfg    *config.Source
	src    collectors.Source
	logger *slog.Logger

	cancel context.CancelFunc
	done   chan struct{}
	// refill asks the runner to fill in history again between polls
	// (after a reload changed what key results measure).
	refill chan struct{}

	// fillFull makes the next fill compute every instant again (after a
	// full re-sync); fillHorizon is the horizon of the last fill, which
	// a refill between polls reuses. Both belong to the runner's
	// goroutine.
	fillFull    bool
	fillHorizon time.Time

	mu     sync.Mutex
	health collectors.Health
}

func (r *runner) snapshotHealth() collectors.Health {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.health
}

// Backoff bounds. A failed poll is retried after minBackoff, doubling up to
// the poll interval; a permanent error (bad credentials) waits at least
// permanentBackoff, so a misconfigured source does not hammer its API.
var (
	minBackoff       = 5 * time.Second
	permanentBackoff = 10 * time.Minute
	// startJitter bounds the random delay before a source's first poll.
	startJitter = 5 * time.Second
	// pollClock runs the poll loops' waits; tests replace it with a fake
	// clock and move it themselves.
	pollClock = retry.System
)

// nextDelay decides when to poll again. failures counts consecutive failed
// polls (0 after a success). The backoff is okrd's retry policy
// (internal/retry), from minBackoff up to the interval.
func nextDelay(interval time.Duration, failures int, err error, now time.Time, rnd func() float64) time.Duration {
	if failures == 0 {
		// ±10% jitter spreads sources that share an interval.
		return time.Duration(float64(interval) * (0.9 + 0.2*rnd()))
	}
	d := retry.Policy{Initial: minBackoff, Max: interval, Rand: rnd}.Backoff(failures)
	if collectors.IsPermanent(err) && d < permanentBackoff {
		d = permanentBackoff
	}
	var ra *collectors.RetryAfterError
	if errors.As(err, &ra) {
		if wait := ra.Until.Sub(now); wait > d {
			d = wait + time.Duration(float64(time.Second)*rnd())
		}
	}
	return d
}

// runSource polls until ctx is done.
func (a *App) runSource(ctx context.Context, r *runner) {
	defer close(r.done)
	// A short random start delay keeps a restart from hitting every API at
	// the same instant.
	first := time.Duration(rand.Float64() * float64(min(time.Duration(r.cfg.Interval), startJitter)))
	if a.opts.NoStartJitter {
		first = 0
	}
	timer := pollClock.NewTimer(first)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.refill:
			if !r.fillHorizon.IsZero() {
				if err := a.fillHistory(ctx, r, r.fillHorizon, false); err != nil && ctx.Err() == nil {
					r.logger.Warn("filling in key result history failed; trying again after the next poll", "err", err)
				}
				a.evaluate(ctx)
			}
			continue
		case <-timer.C():
		}
		err := a.pollOnce(ctx, r)
		if ctx.Err() != nil {
			return
		}
		r.mu.Lock()
		d := nextDelay(time.Duration(r.cfg.Interval), r.health.ConsecutiveFailures, err, a.opts.now(), rand.Float64)
		r.health.NextPoll = a.opts.now().Add(d)
		r.mu.Unlock()
		if err != nil {
			r.logger.Warn("poll failed; retrying later", "err", err, "retry_in", d.Round(time.Second).String(),
				"permanent", collectors.IsPermanent(err))
		}
		timer.Reset(d)
	}
}

// pollOnce runs one poll of a source with its timeout, records the outcome,
// measures the key results bound to it and re-evaluates.
func (a *App) pollOnce(ctx context.Context, r *runner) error {
	pctx, cancel := context.WithTimeout(ctx, time.Duration(r.cfg.Timeout))
	defer cancel()
	// Records up to the poll's start are synced once it succeeds: the
	// history filled in after it reaches that far (less fillLag).
	horizon := a.opts.now().Add(-fillLag)
	start := time.Now()
	err := r.src.Poll(pctx)
	dur := time.Since(start)
	if err != nil && pctx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
		err = errors.Join(errors.New("poll timed out after "+time.Duration(r.cfg.Timeout).String()), err)
	}
	now := a.opts.now()

	a.metrics.pollDuration.WithLabelValues(r.cfg.Name).Set(dur.Seconds())
	r.mu.Lock()
	r.health.Polls++
	r.health.LastPoll = now
	r.health.LastDuration = dur.Seconds()
	if err != nil {
		r.health.Up = false
		r.health.LastError = err.Error()
		r.health.ConsecutiveFailures++
	} else {
		r.health.Up = true
		r.health.LastError = ""
		r.health.LastSuccess = now
		r.health.ConsecutiveFailures = 0
	}
	r.mu.Unlock()
	if ctx.Err() == nil {
		a.persistHealth(ctx, r)
	}
	if err != nil {
		if ctx.Err() != nil {
			return err // shutting down: not the source's fault
		}
		a.metrics.up.WithLabelValues(r.cfg.Name, r.cfg.Type).Set(0)
		a.metrics.pollEnded(r.cfg.Name)
		a.metrics.polls.WithLabelValues(r.cfg.Name, "failure").Inc()
		return err
	}
	a.metrics.up.WithLabelValues(r.cfg.Name, r.cfg.Type).Set(1)
	a.metrics.pollEnded(r.cfg.Name)
	a.metrics.polls.WithLabelValues(r.cfg.Name, "success").Inc()
	a.metrics.lastSuccess.WithLabelValues(r.cfg.Name).Set(float64(now.UnixMilli()) / 1000)
	r.logger.Debug("poll finished", "duration", dur)

	if err := a.measure(ctx, r, now); err != nil {
		r.logger.Warn("measuring key results failed", "err", err)
	}
	a.trackInitiatives(ctx, r, now)
	if err := a.fillHistory(ctx, r, horizon, r.fillFull); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		r.logger.Warn("filling in key result history failed; trying again after the next poll", "err", err)
	} else {
		r.fillFull = false
		r.fillHorizon = horizon
	}
	a.updateRecordCounts(ctx)
	a.evaluate(ctx)
	return nil
}

// sameSource reports whether a reload left a source's configuration as it
// was, in which case its runner keeps going undisturbed.
func sameSource(a, b *config.Source) bool {
	return reflect.DeepEqual(a, b)
}
