package app

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/internal/retry"
	"github.com/okrd/okrd/okr"
	"github.com/okrd/okrd/report/format"
	"github.com/okrd/okrd/snapshot"
	"github.com/okrd/okrd/store"
)

type krKey struct{ objective, keyResult string }

// history keeps every key result's values in memory, sorted by time, and
// follows the store incrementally (by value ID), so an evaluation costs no
// database query beyond reading the values added since the previous one.
// Values written by another process (okrd checkin, a second okrd on the
// same PostgreSQL) are picked up the same way. A key result whose filled-in
// history was replaced (store.Tx.DeleteValues) is read again whole by
// reset, since tailing by ID cannot see a deletion.
type history struct {
	st store.Store

	mu     sync.Mutex
	lastID int64
	points map[krKey][]okr.Point
	// filled marks, in step with points, the values filled in from a
	// source's records (origin history:SOURCE) rather than measured live
	// or checked in; a key result with no filled-in value has no entry.
	filled map[krKey][]bool
	// floor holds, for a key result read again by reset, the largest ID
	// that read saw: refresh skips its values up to that ID, which the
	// reset already holds.
	floor map[krKey]int64
	// changed holds the key results whose series changed since the last
	// update: the ones an evaluation after a check-in evaluates again.
	changed map[krKey]struct{}
	// index maps the id of each objective of the configuration indexOf to
	// its position, and order lists the positions children first (by
	// depth, deepest first), the order a roll-up evaluates them in.
	index   map[string]int
	order   []int
	indexOf *config.Config

	// confLastID is the last confidence read; conf holds every key
	// result's confidences sorted by time.
	confLastID int64
	conf       map[krKey][]store.Confidence
}

func newHistory(st store.Store) *history {
	return &history{st: st, points: map[krKey][]okr.Point{}, filled: map[krKey][]bool{}, floor: map[krKey]int64{},
		changed: map[krKey]struct{}{}, conf: map[krKey][]store.Confidence{}}
}

// filledOrigin is the origin prefix of values filled in from records,
// the one the page, the API and the report recognise.
const filledOrigin = format.OriginFilled

func isFilled(origin string) bool { return strings.HasPrefix(origin, filledOrigin) }

// refresh reads the values added since the last refresh.
func (h *history) refresh(ctx context.Context) error {
	const batch = 10000
	h.mu.Lock()
	defer h.mu.Unlock()
	for {
		vals, err := h.st.ValuesAfter(ctx, h.lastID, batch)
		if err != nil {
			return fmt.Errorf("reading key result history: %w", err)
		}
		for _, v := range vals {
			h.lastID = v.ID
			k := krKey{v.ObjectiveID, v.KeyResultID}
			if f, ok := h.floor[k]; ok {
				if v.ID <= f {
					continue
				}
				delete(h.floor, k)
			}
			h.insert(k, okr.Point{At: v.At, Value: v.Value}, isFilled(v.Origin))
		}
		if len(vals) < batch {
			break
		}
	}
	for {
		cs, err := h.st.ConfidencesAfter(ctx, h.confLastID, batch)
		if err != nil {
			return fmt.Errorf("reading confidences: %w", err)
		}
		for _, c := range cs {
			h.confLastID = c.ID
			k := krKey{c.ObjectiveID, c.KeyResultID}
			list := h.conf[k]
			i := sort.Search(len(list), func(j int) bool { return list[j].At.After(c.At) })
			h.conf[k] = slices.Insert(list, i, c)
			h.changed[k] = struct{}{}
		}
		if len(cs) < batch {
			return nil
		}
	}
}

// confidenceAt is the confidence of a key result in effect at now, nil
// without one; h.mu is held.
func (h *history) confidenceAt(k krKey, now time.Time) *snapshot.Confidence {
	return snapshot.ConfidenceAt(h.conf[k], now)
}

// insert adds one value to a key result's series; h.mu is held.
func (h *history) insert(k krKey, p okr.Point, filled bool) {
	h.changed[k] = struct{}{}
	pts := h.points[k]
	marks, marked := h.filled[k]
	if filled && !marked {
		marks = make([]bool, len(pts), cap(pts))
		marked = true
	}
	i := len(pts)
	if i > 0 && p.At.Before(pts[i-1].At) {
		i = sort.Search(len(pts), func(j int) bool { return pts[j].At.After(p.At) })
	}
	h.points[k] = slices.Insert(pts, i, p)
	if marked {
		h.filled[k] = slices.Insert(marks, i, filled)
	}
}

// reset reads one key result's values again from the store, after its
// filled-in values were replaced.
func (h *history) reset(ctx context.Context, k krKey) error {
	// The read happens under the lock: a refresh in between could
	// otherwise add to the old series a value this read does not see.
	h.mu.Lock()
	defer h.mu.Unlock()
	vals, err := h.st.History(ctx, k.objective, k.keyResult, time.Time{}, time.Time{})
	if err != nil {
		return fmt.Errorf("reading the history of %s/%s: %w", k.objective, k.keyResult, err)
	}
	delete(h.points, k)
	delete(h.filled, k)
	h.changed[k] = struct{}{}
	var maxID int64
	for _, v := range vals {
		h.insert(k, okr.Point{At: v.At, Value: v.Value}, isFilled(v.Origin))
		maxID = max(maxID, v.ID)
	}
	if maxID > h.lastID {
		h.floor[k] = maxID
	} else {
		delete(h.floor, k)
	}
	return nil
}

// hasLivePointAt reports whether a key result has a value that is not filled
// in at exactly t (a live measurement or a check-in), where a filled-in
// value must not be added.
func (h *history) hasLivePointAt(k krKey, t time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	pts := h.points[k]
	marks := h.filled[k]
	i := sort.Search(len(pts), func(j int) bool { return !pts[j].At.Before(t) })
	for ; i < len(pts) && pts[i].At.Equal(t); i++ {
		if marks == nil || !marks[i] {
			return true
		}
	}
	return false
}

// latest returns the newest value of a key result at or before t.
func (h *history) latest(k krKey) (okr.Point, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	pts := h.points[k]
	if len(pts) == 0 {
		return okr.Point{}, false
	}
	return pts[len(pts)-1], true
}

// evaluate evaluates every key result of cfg at now into a snapshot. It
// leaves the history as it is, so it can evaluate any instant.
func (h *history) evaluate(cfg *config.Config, now time.Time, gen uint64) *snapshot.Snapshot {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.evaluateAll(cfg, now, gen)
}

// evaluateAll evaluates every objective of cfg, children before their
// parents; h.mu is held.
func (h *history) evaluateAll(cfg *config.Config, now time.Time, gen uint64) *snapshot.Snapshot {
	objs := make([]*snapshot.Objective, len(cfg.Objectives))
	index := h.objectiveIndex(cfg)
	for _, i := range h.order {
		oc := cfg.Objectives[i]
		objs[i] = h.evaluateObjective(oc, now, childrenOf(oc, index, objs))
	}
	return &snapshot.Snapshot{Generation: gen, EvaluatedAt: now, Objectives: objs}
}

// childrenOf returns the evaluated children of oc from objs (indexed like
// the configuration's objectives).
func childrenOf(oc *config.Objective, index map[string]int, objs []*snapshot.Objective) []*snapshot.Objective {
	if len(oc.Children) == 0 {
		return nil
	}
	out := make([]*snapshot.Objective, 0, len(oc.Children))
	for _, c := range oc.Children {
		// Every child is in the configuration evaluated (backfill
		// evaluates whole trees); one that is not is left out.
		if i, ok := index[c.ID]; ok && objs[i] != nil && objs[i].Config == c {
			out = append(out, objs[i])
		}
	}
	return out
}

// evaluateObjective evaluates one objective and its key results at now,
// with its children evaluated already; h.mu is held.
func (h *history) evaluateObjective(oc *config.Objective, now time.Time, children []*snapshot.Objective) *snapshot.Objective {
	o := &snapshot.Objective{Config: oc, KeyResults: make([]*snapshot.KeyResult, 0, len(oc.KeyResults)), Children: children}
	engines := make([]okr.KeyResult, 0, len(oc.KeyResults))
	results := make([]okr.Result, 0, len(oc.KeyResults))
	for _, kc := range oc.KeyResults {
		pts := h.points[krKey{oc.ID, kc.ID}]
		r := okr.Evaluate(kc.Engine, oc.Resolved, pts, now)
		kr := &snapshot.KeyResult{Objective: oc, Config: kc, Result: r, Points: countInPeriod(pts, oc.Resolved, now),
			Confidence: h.confidenceAt(krKey{oc.ID, kc.ID}, now)}
		if r.HasValue && kc.StaleAfter > 0 && now.Sub(r.ValueAt) > time.Duration(kc.StaleAfter) {
			// A stale value is shown but not trusted: the status says
			// that the data is missing rather than judging old numbers.
			kr.Stale = true
			kr.Result.Status = okr.StatusNoData
		}
		o.KeyResults = append(o.KeyResults, kr)
		engines = append(engines, kc.Engine)
		results = append(results, kr.Result)
	}
	if oc.RollsUp() {
		cs := make([]okr.Child, len(children))
		for j, c := range children {
			cs[j] = okr.Child{Weight: *c.Config.Weight, Result: c.Result}
		}
		o.Result = okr.RollUp(engines, results, cs, oc.Resolved, now, *oc.Tolerance)
	} else {
		o.Result = okr.EvaluateObjective(engines, results)
	}
	return o
}

// update evaluates the snapshot that follows base, of generation gen, at
// now. A full update evaluates every key result of cfg; any other
// evaluates again only the objectives of the key results whose series
// changed since the last update (a check-in), which is full when base is
// nil or was evaluated from another configuration. Either way the new
// snapshot shares with base every objective whose results are the same,
// and what its exposition encoded. update returns nil when there is
// nothing new to publish.
func (h *history) update(cfg *config.Config, base *snapshot.Snapshot, now time.Time, gen uint64, full bool) *snapshot.Snapshot {
	h.mu.Lock()
	defer h.mu.Unlock()
	// The changes are taken under the same lock as the series are read,
	// so none is lost: one that arrives later is marked again.
	changed := h.changed
	h.changed = make(map[krKey]struct{}, len(changed))
	same := base != nil && sameObjectives(base, cfg)
	if !same {
		return h.evaluateAll(cfg, now, gen)
	}
	index := h.objectiveIndex(cfg)
	seen := map[int]bool{}
	if full {
		for i := range cfg.Objectives {
			seen[i] = true
		}
	} else {
		for k := range changed {
			// A key result no longer configured has no objective to
			// evaluate again.
			i, ok := index[k.objective]
			if !ok || cfg.Objectives[i].KeyResult(k.keyResult) == nil {
				continue
			}
			// Its ancestors are evaluated again too: they show it (and
			// may roll it up).
			for ok && !seen[i] {
				seen[i] = true
				i, ok = index[cfg.Objectives[i].Parent]
			}
		}
	}
	// Children before parents: a parent takes its children from objs,
	// which holds the new evaluation of those evaluated again.
	objs := slices.Clone(base.Objectives)
	replaced := map[int]*snapshot.Objective{}
	for _, i := range h.order {
		if !seen[i] {
			continue
		}
		oc := cfg.Objectives[i]
		if o := h.evaluateObjective(oc, now, childrenOf(oc, index, objs)); !sameResults(o, base.Objectives[i]) {
			replaced[i] = o
			objs[i] = o
		}
	}
	if len(replaced) == 0 && !full {
		return nil
	}
	return base.With(gen, now, replaced)
}

// objectiveIndex returns the index of each objective of cfg by id,
// computed once per configuration; h.mu is held.
func (h *history) objectiveIndex(cfg *config.Config) map[string]int {
	if h.indexOf != cfg {
		h.index = make(map[string]int, len(cfg.Objectives))
		h.order = make([]int, len(cfg.Objectives))
		for i, oc := range cfg.Objectives {
			h.index[oc.ID] = i
			h.order[i] = i
		}
		slices.SortStableFunc(h.order, func(a, b int) int { return cfg.Objectives[b].Depth - cfg.Objectives[a].Depth })
		h.indexOf = cfg
	}
	return h.index
}

// sameObjectives reports whether snap was evaluated from the objectives of
// cfg (and not from those of the configuration before a reload).
func sameObjectives(snap *snapshot.Snapshot, cfg *config.Config) bool {
	if len(snap.Objectives) != len(cfg.Objectives) {
		return false
	}
	for i, o := range snap.Objectives {
		if o.Config != cfg.Objectives[i] {
			return false
		}
	}
	return true
}

// sameResults reports whether two evaluations of an objective say the
// same, so that the older one can stand for both.
func sameResults(a, b *snapshot.Objective) bool {
	if a.Config != b.Config || a.Result != b.Result || len(a.KeyResults) != len(b.KeyResults) || !slices.Equal(a.Children, b.Children) {
		return false
	}
	for i, ka := range a.KeyResults {
		kb := b.KeyResults[i]
		if ka.Config != kb.Config || ka.Result != kb.Result || ka.Stale != kb.Stale || ka.Points != kb.Points ||
			!sameConfidence(ka.Confidence, kb.Confidence) {
			return false
		}
	}
	return true
}

func sameConfidence(a, b *snapshot.Confidence) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func countInPeriod(pts []okr.Point, p okr.Period, now time.Time) int {
	end := p.End
	if now.Before(end) {
		end = now
	}
	lo := sort.Search(len(pts), func(i int) bool { return !pts[i].At.Before(p.Start) })
	hi := sort.Search(len(pts), func(i int) bool { return pts[i].At.After(end) })
	if hi < lo {
		return 0
	}
	return hi - lo
}

// evaluator runs the evaluations asked for (by the timer, each poll, each
// check-in, a reload), one at a time. A request that arrives while one runs
// joins the next, whatever the number of requests: at most one evaluation
// runs and one waits. The next is full when any request it serves is.
type evaluator struct {
	mu      sync.Mutex
	running bool
	pending bool
	full    bool
	// next is closed once the pending evaluation is published.
	next chan struct{}
	// stopped refuses requests once okrd shuts down.
	stopped bool
	// wg counts the goroutine running evaluations, if any.
	wg sync.WaitGroup
}

// stop refuses further requests and waits for the evaluation running, if
// any: it finishes before the store closes.
func (e *evaluator) stop() {
	e.mu.Lock()
	e.stopped = true
	e.mu.Unlock()
	e.wg.Wait()
}

// closedChan is what a request gets once the evaluator has stopped.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// evalHooks let tests watch and hold the evaluator and the warmer.
type evalHooks struct {
	// requested is called with every request for an evaluation.
	requested func(full bool)
	// evaluating is called once an evaluation has read the new values,
	// before it evaluates.
	evaluating func(full bool)
	// published is called with every snapshot published.
	published func(*snapshot.Snapshot)
	// warming is called as the warmer takes a snapshot, with the context
	// a newer snapshot cancels.
	warming func(s *snapshot.Snapshot, ctx context.Context)
	// warmed is called after the warmer has worked on a snapshot, with
	// whether it encoded it whole.
	warmed func(s *snapshot.Snapshot, finished bool)
	// waitRestarted is called when a newer snapshot restarts the warmer's
	// wait for quiet.
	waitRestarted func()
}

func (a *App) hook() *evalHooks {
	if h := a.hooks.Load(); h != nil {
		return h
	}
	return &evalHooks{}
}

// requestEvaluation asks for an evaluation, full or of the key results
// whose values changed since the last one, and returns a channel closed
// once an evaluation that started after the request is published. A
// goroutine runs evaluations while any is requested; it does not stop with
// ctx, since the evaluation serves other requests too, but each evaluation
// is bounded by the shutdown timeout.
func (a *App) requestEvaluation(ctx context.Context, full bool) <-chan struct{} {
	e := &a.eval
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopped {
		return closedChan
	}
	if e.next == nil {
		e.next = make(chan struct{})
	}
	e.pending = true
	e.full = e.full || full
	done := e.next
	if f := a.hook().requested; f != nil {
		f(full)
	}
	if !e.running {
		e.running = true
		e.wg.Add(1)
		go a.runEvaluations(context.WithoutCancel(ctx))
	}
	return done
}

// runEvaluations runs the pending evaluation until none is pending.
func (a *App) runEvaluations(ctx context.Context) {
	e := &a.eval
	defer e.wg.Done()
	for {
		e.mu.Lock()
		if !e.pending {
			e.running = false
			e.mu.Unlock()
			return
		}
		full, done := e.full, e.next
		e.pending, e.full, e.next = false, false, make(chan struct{})
		e.mu.Unlock()
		a.runEvaluation(ctx, full)
		close(done)
	}
}

// runEvaluation reads the new values, evaluates and publishes the snapshot.
func (a *App) runEvaluation(ctx context.Context, full bool) {
	ctx, cancel := context.WithTimeout(ctx, a.opts.ShutdownTimeout)
	defer cancel()
	start := time.Now()
	if err := a.hist.refresh(ctx); err != nil {
		a.logger.Error("evaluation skipped: cannot read history", "err", err)
		return
	}
	if f := a.hook().evaluating; f != nil {
		f(full)
	}
	cfg := a.cfg.Load()
	now := a.opts.now()
	snap := a.hist.update(cfg, a.snap.Load(), now, a.gen.Add(1), full)
	if snap == nil {
		return // nothing changed
	}
	a.publish(snap)
	if !full {
		return
	}
	n := 0
	for _, o := range cfg.Objectives {
		n += len(o.KeyResults)
	}
	a.metrics.keyResults.Set(float64(n))
	a.metrics.evalDuration.Set(time.Since(start).Seconds())
	a.metrics.evalTime.Set(float64(now.UnixMilli()) / 1000)
}

// publish makes snap the snapshot every reader sees.
func (a *App) publish(snap *snapshot.Snapshot) {
	a.snap.Store(snap)
	a.ready.Store(true)
	if f := a.hook().published; f != nil {
		f(snap)
	}
	a.wakeAlerting()
	a.warm.supersede()
}

// warmer encodes the newest snapshot in the background, so that no scrape
// pays for it, and gives up on a snapshot as soon as a newer one replaces
// it: only the newest snapshot's exposition is ever completed ahead of a
// scrape, and most of it is shared with the one before. It lets a burst of
// updates (check-ins arriving together) settle first: it warms once no
// snapshot has been published for warmQuiet, or warmMax after the first
// snapshot it has not warmed. In a burst it thus compresses each block
// once per warmMax rather than once per check-in (that was over half of
// okrd's work at 10,000 key results), and a scrape in between encodes
// what changed since, sharing the work with other scrapes.
type warmer struct {
	mu sync.Mutex
	// cancel stops the warming in progress.
	cancel context.CancelFunc
	wake   chan struct{}
}

// The warmer's waits, which run on warmClock (tests replace it with a
// fake clock that they move).
const (
	warmQuiet = 100 * time.Millisecond
	warmMax   = time.Second
)

var warmClock = retry.System

// supersede stops the warming in progress and wakes the warmer for the
// newest snapshot. It never blocks.
func (w *warmer) supersede() {
	w.mu.Lock()
	if w.cancel != nil {
		w.cancel()
	}
	wake := w.wake
	w.mu.Unlock()
	select {
	case wake <- struct{}{}:
	default: // the warmer is woken already, or not running
	}
}

// startWarmer runs the warmer until ctx is done, starting with the
// snapshot published already.
func (a *App) startWarmer(ctx context.Context) {
	w := &a.warm
	wake := make(chan struct{}, 1)
	w.mu.Lock()
	w.wake = wake
	w.mu.Unlock()
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		for {
			if snap := a.snap.Load(); snap != nil {
				a.warmNewest(ctx, snap)
			}
			select {
			case <-ctx.Done():
				return
			case <-wake:
			}
			if !a.settle(ctx, wake) {
				return
			}
		}
	}()
}

// settle waits until no wake has arrived for warmQuiet, or for warmMax in
// all. It returns false when ctx is done.
func (a *App) settle(ctx context.Context, wake <-chan struct{}) bool {
	deadline := warmClock.NewTimer(warmMax)
	defer deadline.Stop()
	quiet := warmClock.NewTimer(warmQuiet)
	defer quiet.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-deadline.C():
			return true
		case <-quiet.C():
			return true
		case <-wake:
			quiet.Reset(warmQuiet)
			if f := a.hook().waitRestarted; f != nil {
				f()
			}
		}
	}
}

// warmNewest warms snap unless a newer snapshot replaces it first.
func (a *App) warmNewest(ctx context.Context, snap *snapshot.Snapshot) {
	w := &a.warm
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w.mu.Lock()
	w.cancel = cancel
	w.mu.Unlock()
	if f := a.hook().warming; f != nil {
		f(snap, wctx)
	}
	// A snapshot published before the cancel was in place has woken the
	// warmer: this one is not worth warming.
	finished := a.snap.Load() == snap && snap.Warm(wctx)
	if f := a.hook().warmed; f != nil {
		f(snap, finished)
	}
}
