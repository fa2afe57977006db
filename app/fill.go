package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/okr"
	"github.com/okrd/okrd/store"
)

// Filled-in history (docs/history.md). A key result bound to a source that
// can measure the past (a collectors.Historian) gets a value at every
// instant of a regular grid over its period, computed from the records the
// source holds, as soon as the source has synced: its trend, forecast,
// report and alerts do not wait weeks for live values to pile up.
//
// What has been filled in is kept per key result as a cursor (source
// fillCursorSource, scope "OBJECTIVE/KEY_RESULT"): a fingerprint of what
// the key result measures and the last grid instant done. The filled-in
// values and the cursor are written in one transaction, so a fill that
// stops half way (a crash, a shutdown) is simply done again; a second fill
// adds nothing; a key result whose binding changed is filled in again from
// scratch (its old filled-in values deleted in the same transaction), and
// live values and check-ins are never touched.

const (
	// fillCursorSource is the cursor source of the fill states; the
	// name cannot be a configured source's (source names are
	// identifiers without dots).
	fillCursorSource = "okrd.history"
	// fillLag keeps the grid instants of the last minutes out of a fill:
	// records of those minutes may still be on their way (a search index
	// that lags, a poll that started before them).
	fillLag = 15 * time.Minute
	// fillBatch bounds the key results written in one transaction.
	fillBatch = 200
	// unfillable is the fingerprint of a key result whose filled-in
	// values were removed because its binding can no longer be filled in.
	unfillable = "-"
)

// fillState is what has been filled in for one key result.
type fillState struct {
	Fingerprint string `json:"fingerprint"`
	// Through is the last grid instant done: every instant up to it was
	// either filled in or could not be answered (before the records
	// begin, or no value, as for an empty set).
	Through time.Time `json:"through,omitzero"`
}

// filler serializes fills and keeps their states in memory.
type filler struct {
	mu     sync.Mutex
	loaded bool
	states map[krKey]fillState
}

// historyEpocher is implemented by sources whose answers about the past
// can change all at once (a full re-sync finished, the records now reach
// further back): the epoch changes then, and every filled-in value of the
// source is computed again.
type historyEpocher interface {
	HistoryEpoch() string
}

func fillScope(k krKey) string { return k.objective + "/" + k.keyResult }

// loadFillStates reads the fill states once; f.mu is held.
func (a *App) loadFillStates(ctx context.Context) error {
	f := &a.fill
	if f.loaded {
		return nil
	}
	cs, err := a.store.Cursors(ctx, fillCursorSource)
	if err != nil {
		return fmt.Errorf("reading the state of filled-in history: %w", err)
	}
	f.states = make(map[krKey]fillState, len(cs))
	for _, c := range cs {
		obj, kr, ok := strings.Cut(c.Scope, "/")
		if !ok {
			continue
		}
		var st fillState
		if err := json.Unmarshal([]byte(c.Value), &st); err != nil {
			// Unreadable: that key result is filled in again.
			a.logger.Warn("ignoring an unreadable filled-in history state", "scope", c.Scope, "err", err)
			continue
		}
		f.states[krKey{obj, kr}] = st
	}
	f.loaded = true
	return nil
}

// fillJob is the work on one key result in one fill.
type fillJob struct {
	key     krKey
	binding collectors.Binding
	state   fillState // the state once the job is written
	replace bool      // delete the key result's filled-in values first
	need    []time.Time
	vals    []store.Value
	failed  error
}

// fillHistory fills in the history of the key results bound to r's source
// up to horizon (the grid instants after it are left for a later fill).
// full computes every instant again, as after a full re-sync.
func (a *App) fillHistory(ctx context.Context, r *runner, horizon time.Time, full bool) error {
	hs, ok := r.src.(collectors.Historian)
	if !ok {
		return nil
	}
	cfg := a.cfg.Load()
	step := cfg.History.Step.Duration()
	if !cfg.History.Enabled() || step <= 0 {
		return nil
	}
	loc := cfg.Global.Location
	if loc == nil {
		loc = time.UTC
	}
	f := &a.fill
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := a.loadFillStates(ctx); err != nil {
		return err
	}
	epoch := ""
	if e, ok := r.src.(historyEpocher); ok {
		epoch = e.HistoryEpoch()
	}
	capable, _ := r.src.(collectors.HistoryCapable)

	var jobs []*fillJob
	for _, o := range cfg.Objectives {
		for _, kr := range o.KeyResults {
			if kr.Source != r.cfg.Name {
				continue
			}
			b := collectors.Binding{Objective: o, KeyResult: kr}
			k := krKey{o.ID, kr.ID}
			st, have := f.states[k]
			if capable != nil && !capable.CanHistory(b) {
				if have && st.Fingerprint != unfillable {
					jobs = append(jobs, &fillJob{key: k, binding: b, replace: true, state: fillState{Fingerprint: unfillable}})
				}
				continue
			}
			fp := fillFingerprint(r.cfg, b, step, loc, epoch)
			through := horizon
			if o.Resolved.End.Before(through) {
				through = o.Resolved.End
			}
			grid := gridInstants(o.Resolved, loc, step, through)
			j := &fillJob{key: k, binding: b, replace: full || !have || st.Fingerprint != fp}
			j.need = grid
			if !j.replace {
				i := sort.Search(len(grid), func(i int) bool { return grid[i].After(st.Through) })
				j.need = grid[i:]
				if len(j.need) == 0 {
					continue
				}
			}
			j.state = fillState{Fingerprint: fp, Through: st.Through}
			if len(grid) > 0 {
				j.state.Through = grid[len(grid)-1]
			}
			jobs = append(jobs, j)
		}
	}
	if len(jobs) == 0 {
		return nil
	}

	start := time.Now()
	var reqs []collectors.HistoryRequest
	var asked []*fillJob
	for _, j := range jobs {
		if len(j.need) > 0 {
			reqs = append(reqs, collectors.HistoryRequest{Binding: j.binding, At: j.need})
			asked = append(asked, j)
		}
	}
	if len(reqs) > 0 {
		res := hs.History(ctx, reqs)
		if err := ctx.Err(); err != nil {
			return err
		}
		origin := filledOrigin + r.cfg.Name
		for i, j := range asked {
			if i >= len(res) {
				j.failed = errors.New("the source answered fewer requests than asked")
				continue
			}
			for n, m := range res[i] {
				if n >= len(j.need) {
					break
				}
				if m.Err != nil {
					j.failed = m.Err
					break
				}
				if !m.OK {
					continue
				}
				t := j.need[n]
				if a.hist.hasLivePointAt(j.key, t) {
					continue
				}
				j.vals = append(j.vals, store.Value{ObjectiveID: j.key.objective, KeyResultID: j.key.keyResult, At: t, Value: m.Value, Origin: origin})
			}
		}
	}

	values, filled := 0, 0
	for lo := 0; lo < len(jobs); lo += fillBatch {
		batch := jobs[lo:min(lo+fillBatch, len(jobs))]
		err := a.writes().Update(ctx, func(tx store.Tx) error {
			for _, j := range batch {
				if j.failed != nil {
					continue
				}
				if j.replace {
					if _, err := tx.DeleteValues(ctx, j.key.objective, j.key.keyResult, filledOrigin); err != nil {
						return err
					}
				}
				if err := tx.AppendValues(ctx, j.vals...); err != nil {
					return err
				}
				if err := tx.SetCursor(ctx, fillCursorSource, fillScope(j.key), string(mustJSON(j.state))); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("storing filled-in history: %w", err)
		}
		for _, j := range batch {
			if j.failed != nil {
				r.logger.Warn("cannot fill in the history of a key result; trying again after the next poll",
					"objective", j.key.objective, "key_result", j.key.keyResult, "err", j.failed)
				continue
			}
			f.states[j.key] = j.state
			values += len(j.vals)
			filled++
			if j.replace {
				if err := a.hist.reset(ctx, j.key); err != nil {
					return err
				}
			}
		}
	}
	a.metrics.historyFilled.WithLabelValues(r.cfg.Name).Add(float64(values))
	a.metrics.historyFillDuration.WithLabelValues(r.cfg.Name).Set(time.Since(start).Seconds())
	if filled > 0 {
		r.logger.Info("filled in key result history from the source's records", "key_results", filled,
			"values", values, "through", horizon.UTC().Format(time.RFC3339), "duration", time.Since(start).Round(time.Millisecond).String())
	}
	return nil
}

// clearUnfillable removes the filled-in values of key results that are no
// longer bound to a source that can fill them in (moved to check-ins, to a
// source without history, or removed from a source that was removed), so
// that values computed for another binding do not stand beside the new
// ones. Key results removed from the configuration keep theirs.
func (a *App) clearUnfillable(ctx context.Context) error {
	cfg := a.cfg.Load()
	f := &a.fill
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := a.loadFillStates(ctx); err != nil {
		return err
	}
	a.runMu.Lock()
	running := map[string]collectors.Source{}
	for name, r := range a.runners {
		running[name] = r.src
	}
	a.runMu.Unlock()
	var clear []krKey
	for _, o := range cfg.Objectives {
		for _, kr := range o.KeyResults {
			k := krKey{o.ID, kr.ID}
			st, have := f.states[k]
			if !have || st.Fingerprint == unfillable {
				continue
			}
			if kr.Source != "" {
				src, ok := running[kr.Source]
				if !ok {
					// Not running (it failed to start): what it can do
					// is unknown until it does.
					continue
				}
				if _, is := src.(collectors.Historian); is {
					if c, limited := src.(collectors.HistoryCapable); !limited || c.CanHistory(collectors.Binding{Objective: o, KeyResult: kr}) {
						continue // that source's next fill takes care of it
					}
				}
			}
			clear = append(clear, k)
		}
	}
	if len(clear) == 0 {
		return nil
	}
	state := string(mustJSON(fillState{Fingerprint: unfillable}))
	err := a.writes().Update(ctx, func(tx store.Tx) error {
		for _, k := range clear {
			if _, err := tx.DeleteValues(ctx, k.objective, k.keyResult, filledOrigin); err != nil {
				return err
			}
			if err := tx.SetCursor(ctx, fillCursorSource, fillScope(k), state); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("removing filled-in history: %w", err)
	}
	for _, k := range clear {
		f.states[k] = fillState{Fingerprint: unfillable}
		if err := a.hist.reset(ctx, k); err != nil {
			return err
		}
	}
	a.logger.Info("removed the filled-in history of key results whose binding can no longer be filled in", "key_results", len(clear))
	return nil
}

// gridInstants returns the instants of a filled-in history over period p,
// up to through: the period start, then every multiple of step after each
// midnight in loc (wall-clock times, so that a daily grid stays on
// midnight across a daylight saving change), and the period end.
func gridInstants(p okr.Period, loc *time.Location, step time.Duration, through time.Time) []time.Time {
	if through.Before(p.Start) || step <= 0 {
		return nil
	}
	out := []time.Time{p.Start}
	perDay := int(24 * time.Hour / step)
	if perDay < 1 {
		perDay = 1
	}
	y, m, d := p.Start.In(loc).Date()
	for day := 0; ; day++ {
		for i := 0; i < perDay; i++ {
			off := time.Duration(i) * step
			t := time.Date(y, m, d+day, int(off/time.Hour), int(off%time.Hour/time.Minute), 0, 0, loc)
			if !t.After(p.Start) {
				continue
			}
			if !t.Before(p.End) {
				if !p.End.After(through) && !p.End.Equal(out[len(out)-1]) {
					out = append(out, p.End)
				}
				return out
			}
			if t.After(through) {
				return out
			}
			if !t.Equal(out[len(out)-1]) {
				out = append(out, t)
			}
		}
	}
}

// measurementFields are the key result settings that do not change what
// it measures; every other field does (so that a field added later counts
// unless it is listed here).
var measurementFields = func() map[string]bool {
	m := map[string]bool{}
	for _, f := range []string{"ID", "Title", "Description", "Owner", "Team", "Direction", "Baseline", "Target",
		"Min", "Max", "Unit", "Currency", "Weight", "Tolerance", "Milestones", "StaleAfter", "Engine", "WindowDuration"} {
		m[f] = true
	}
	return m
}()

// fillFingerprint identifies what a key result's filled-in values depend
// on: its source's type and settings (secrets redacted), what the key
// result measures, its period, the grid and the source's history epoch.
func fillFingerprint(src *config.Source, b collectors.Binding, step time.Duration, loc *time.Location, epoch string) string {
	binding := map[string]any{}
	v := reflect.ValueOf(b.KeyResult).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		if !f.IsExported() || measurementFields[f.Name] {
			continue
		}
		binding[f.Name] = v.Field(i).Interface()
	}
	spec, err := json.Marshal(src.Spec)
	if err != nil {
		spec = []byte(fmt.Sprintf("%+v", src.Spec))
	}
	doc := struct {
		Source, Type string
		Spec         json.RawMessage
		Binding      map[string]any
		Start, End   time.Time
		Step         time.Duration
		Zone, Epoch  string
	}{src.Name, src.Type, spec, binding, b.Objective.Resolved.Start.UTC(), b.Objective.Resolved.End.UTC(), step, loc.String(), epoch}
	sum := sha256.Sum256(mustJSON(doc))
	return hex.EncodeToString(sum[:12])
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
