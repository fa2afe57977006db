package app

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/store"
)

// Following (docs/ha.md). A replica that does not lead serves what the
// leader stores, read incrementally every followInterval:
//
//   - values: the history tails kr_values by ID, as on the leader;
//   - filled-in history the leader replaced (deleted and wrote again): its
//     fill state cursor changes in the same transaction, and the key result
//     is read again whole;
//   - records: each source that can follow (collectors jira and github)
//     applies the records changed since the change number it read last,
//     so that its delivery series are the leader's without asking any API;
//   - the sources' health, which the leader stores after each poll;
//   - alert states, which the alerting engine reads again.

// followInterval is how often a follower reads what the leader stored: it
// bounds how far behind the leader a follower's answers are.
var followInterval = 5 * time.Second

// healthCursorSource is the cursor source under which the leader stores
// each source's health (scope: the source's name), for the followers'
// API, page and okrd_source_* series. Like fillCursorSource it cannot be a
// configured source's name.
const healthCursorSource = "okrd.health"

// follower is a source that can keep what it serves up to date from the
// records another process stores; Follow reports whether anything changed.
type follower interface {
	Follow(ctx context.Context) (bool, error)
}

// followState is what the follower loop remembers between rounds.
type followState struct {
	mu sync.Mutex
	// fills is each fill state cursor as last seen (its value and time),
	// by scope; nil until the baseline was read.
	fills map[string]string
	// errs is each source's last Follow error, so that only a change is
	// logged.
	errs map[string]string
}

// followLoop follows until ctx is done.
func (a *App) followLoop(ctx context.Context) {
	for {
		a.followOnce(ctx)
		if !sleepCtx(ctx, followInterval) {
			return
		}
	}
}

// followOnce brings everything this process serves up to date with the
// store, and evaluates if anything changed.
func (a *App) followOnce(ctx context.Context) {
	changed := false
	a.runMu.Lock()
	runners := slices.Collect(maps.Values(a.runners))
	a.runMu.Unlock()
	slices.SortFunc(runners, func(x, y *runner) int { return strings.Compare(x.cfg.Name, y.cfg.Name) })
	for _, r := range runners {
		f, ok := r.src.(follower)
		if !ok {
			continue
		}
		c, err := f.Follow(ctx)
		if ctx.Err() != nil {
			return
		}
		a.noteFollowError(r, err)
		changed = changed || c
	}
	if changed {
		a.updateRecordCounts(ctx)
	}
	n, err := a.followFills(ctx)
	if err != nil && ctx.Err() == nil {
		a.logger.Warn("cannot read the state of filled-in history; trying again", "err", err)
	}
	changed = changed || n > 0
	if err := a.followHealth(ctx); err != nil && ctx.Err() == nil {
		a.logger.Warn("cannot read the sources' health from the store; trying again", "err", err)
	}
	if err := a.followInitiatives(ctx); err != nil && ctx.Err() == nil {
		a.logger.Warn("cannot read the initiatives from the store; trying again", "err", err)
	}
	if !a.Leading() {
		if err := a.alerts.engine.Reload(ctx); err != nil && ctx.Err() == nil {
			a.logger.Warn("cannot read the alert states; trying again", "err", err)
		}
	}
	if a.valuesAdded(ctx) || changed {
		a.evaluate(ctx)
	}
}

// noteFollowError logs a source's Follow error when it changes.
func (a *App) noteFollowError(r *runner, err error) {
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	fs := &a.followed
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.errs == nil {
		fs.errs = map[string]string{}
	}
	if fs.errs[r.cfg.Name] == msg {
		return
	}
	fs.errs[r.cfg.Name] = msg
	if err != nil {
		r.logger.Warn("cannot read the records the leader stored; trying again", "err", err)
	} else {
		r.logger.Info("reading the records the leader stores again")
	}
}

// valuesAdded reads the values added since the last read and reports
// whether there were any.
func (a *App) valuesAdded(ctx context.Context) bool {
	last := func() int64 {
		a.hist.mu.Lock()
		defer a.hist.mu.Unlock()
		return a.hist.lastID
	}
	before := last()
	if err := a.hist.refresh(ctx); err != nil {
		return false
	}
	return last() != before
}

// readFills returns every fill state cursor as a comparable string, by
// scope.
func (a *App) readFills(ctx context.Context) (map[string]string, error) {
	cs, err := a.store.Cursors(ctx, fillCursorSource)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(cs))
	for _, c := range cs {
		out[c.Scope] = c.Value + "@" + c.UpdatedAt.Format(time.RFC3339Nano)
	}
	return out, nil
}

// baselineFills records the fill states before the history is first read,
// so that a replacement committed after that read is seen by the next
// followFills.
func (a *App) baselineFills(ctx context.Context) error {
	fills, err := a.readFills(ctx)
	if err != nil {
		return err
	}
	a.followed.mu.Lock()
	a.followed.fills = fills
	a.followed.mu.Unlock()
	return nil
}

// followFills reads every key result whose fill state changed since the
// last look again whole: the leader may have replaced its filled-in
// values, which tailing by ID cannot see. It returns how many it read.
func (a *App) followFills(ctx context.Context) (int, error) {
	fills, err := a.readFills(ctx)
	if err != nil {
		return 0, err
	}
	a.followed.mu.Lock()
	prev := a.followed.fills
	a.followed.mu.Unlock()
	var reset []string
	if prev != nil {
		for scope, v := range fills {
			if prev[scope] != v {
				reset = append(reset, scope)
			}
		}
		for scope := range prev {
			if _, ok := fills[scope]; !ok {
				reset = append(reset, scope)
			}
		}
	}
	slices.Sort(reset)
	for _, scope := range reset {
		obj, kr, ok := strings.Cut(scope, "/")
		if !ok {
			continue
		}
		if err := a.hist.reset(ctx, krKey{obj, kr}); err != nil {
			// The old state is kept, so that the next round tries again.
			return 0, err
		}
	}
	a.followed.mu.Lock()
	a.followed.fills = fills
	a.followed.mu.Unlock()
	return len(reset), nil
}

// persistHealth stores a source's health after a poll, for the followers.
func (a *App) persistHealth(ctx context.Context, r *runner) {
	data, err := json.Marshal(r.snapshotHealth())
	if err != nil {
		return
	}
	err = a.writes().Update(ctx, func(tx store.Tx) error {
		return tx.SetCursor(ctx, healthCursorSource, r.cfg.Name, string(data))
	})
	if err != nil && ctx.Err() == nil && !isFenced(err) {
		r.logger.Warn("cannot store the source's health for the other replicas", "err", err)
	}
}

// followHealth sets the health of every source from what the leader
// stored: the API, the page and the okrd_source_* series of a follower are
// the leader's.
func (a *App) followHealth(ctx context.Context) error {
	cs, err := a.store.Cursors(ctx, healthCursorSource)
	if err != nil {
		return err
	}
	stored := make(map[string]collectors.Health, len(cs))
	for _, c := range cs {
		var h collectors.Health
		if json.Unmarshal([]byte(c.Value), &h) == nil {
			stored[c.Scope] = h
		}
	}
	a.runMu.Lock()
	defer a.runMu.Unlock()
	for name, r := range a.runners {
		h, ok := stored[name]
		if !ok {
			continue
		}
		h.Name, h.Type = name, r.cfg.Type
		r.mu.Lock()
		r.health = h
		r.mu.Unlock()
		a.metrics.followedHealth(h)
	}
	return nil
}

// followedHealth sets a source's series from the health the leader
// stored: never in its first sync (the leader stores the health only once
// a poll has ended).
func (m *selfMetrics) followedHealth(h collectors.Health) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sources[h.Name] != h.Type {
		return // removed by a reload meanwhile
	}
	up := 0.0
	if h.Up {
		up = 1
	}
	m.up.WithLabelValues(h.Name, h.Type).Set(up)
	m.initialSync.WithLabelValues(h.Name).Set(0)
	m.pollDuration.WithLabelValues(h.Name).Set(h.LastDuration)
	if !h.LastSuccess.IsZero() {
		m.lastSuccess.WithLabelValues(h.Name).Set(float64(h.LastSuccess.UnixMilli()) / 1000)
	}
}
