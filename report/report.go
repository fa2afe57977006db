// Package report builds the product manager's weekly stakeholder update
// (`okrd report`): per objective its progress, status and what changed
// since a week before; the key results at risk with their forecast; a
// delivery summary; and the check-in notes of the week. It reads the
// configuration and the stored history, evaluates with package okr at the
// report's instant and a week before, and renders the same data as Markdown
// or as a self-contained HTML page. It never writes and never reads the
// clock: the instant is a parameter.
package report

import (
	"context"
	"fmt"
	htmltemplate "html/template"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/okrd/okrd/checkins"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/okr"
	"github.com/okrd/okrd/report/format"
	"github.com/okrd/okrd/store"
)

// Week is how far back "what changed" looks.
const Week = 7 * 24 * time.Hour

// DeliverySourceTypes are the source types whose key results the delivery
// summary lists: the ones that measure how the team ships.
var DeliverySourceTypes = []string{"jira", "github"}

// Reader is what the report reads from the store (a store.Store is one).
type Reader interface {
	History(ctx context.Context, objectiveID, keyResultID string, from, to time.Time) ([]store.Value, error)
	Checkins(ctx context.Context, objectiveID, keyResultID string, limit int) ([]store.Checkin, error)
	Confidences(ctx context.Context, objectiveID, keyResultID string, limit int) ([]store.Confidence, error)
}

// Options say what to report on.
type Options struct {
	Config *config.Config
	Store  Reader
	// Now is the instant of the report. Each objective is evaluated at
	// Now, or at its period end when that is earlier (a past period is
	// reported as it ended), and compared with a week before that.
	Now time.Time
	// Period, when set, keeps only the objectives of that period
	// ("2026-Q4", any form okr.ParsePeriod accepts, or the explicit
	// "2026-10-01..2026-12-31" name), whatever their dates. When empty,
	// the report covers the objectives under way at Now and those that
	// ended within the week before (their final numbers are news); past
	// and future periods are left out.
	Period string
}

// Report is everything the templates show.
type Report struct {
	// Generated is Options.Now. Now is the instant reported on: the same,
	// or the end of the period asked for when it is over; Since is a week
	// before Now.
	Generated time.Time
	Now       time.Time
	Since     time.Time
	Period    string // the --period filter, canonical; empty for all
	Location  *time.Location

	Objectives []*Objective
	KeyResults int
	Summary    []StatusCount
	// StatusChanges counts the key results whose status differs from a
	// week before.
	StatusChanges int

	AtRisk   []*KeyResult
	NoData   []*KeyResult
	Delivery Delivery
	Checkins []Checkin
	// FilledSources are the sources whose filled-in values (computed
	// from their records for instants okrd did not measure,
	// docs/history.md) are what some key result is compared with.
	FilledSources []string
}

// StatusCount is how many key results have a status.
type StatusCount struct {
	Status okr.Status
	Count  int
}

// Objective is one objective now and a week before.
type Objective struct {
	Config *config.Objective
	// At is the instant it is evaluated at: the report's, or the period end.
	At time.Time
	// Since is the instant it is compared with: a week before At, or the
	// period start when the period began less than a week before (its
	// first week has no week before; its values start at the start).
	Since      time.Time
	SinceStart bool
	Ended      bool
	Now, Week  okr.ObjectiveResult
	KeyResults []*KeyResult
	// Parent is the parent objective when the report has it; Children
	// the child objectives it has; Depth the level in the report's tree.
	Parent   *Objective
	Children []*Objective
	Depth    int
}

// KeyResult is one key result now and a week before.
type KeyResult struct {
	Objective           *Objective
	Config              *config.KeyResult
	Now, Week           okr.Result
	StaleNow, StaleWeek bool
	Source, SourceType  string
	// WeekFilled is set when the value compared with was filled in from
	// the source's records rather than measured.
	WeekFilled bool
	// Comment is the latest check-in with a note up to the instant
	// reported on (nil without one): the owner's commentary.
	Comment *store.Checkin
	// ConfidenceNow and ConfidenceWeek are the owner's confidence in
	// effect at the instant reported on and a week before (nil without
	// one).
	ConfidenceNow, ConfidenceWeek *store.Confidence
	// trend is the history inside the period up to the instant reported
	// on, for the trend image and text.
	trend []trendPoint
}

// Delivery is the delivery summary: the key results measured by delivery
// sources.
type Delivery struct {
	Sources    []string // "github (github)", the configured delivery sources
	KeyResults []*KeyResult
}

// Checkin is a check-in of the week.
type Checkin struct {
	KeyResult *KeyResult
	store.Checkin
}

// Build evaluates the objectives and reads the week's check-ins.
func Build(ctx context.Context, o Options) (*Report, error) {
	cfg := o.Config
	loc := cfg.Global.Location
	if loc == nil {
		loc = time.UTC
	}
	r := &Report{Generated: o.Now, Now: o.Now, Location: loc}
	if o.Period != "" {
		p, err := canonicalPeriod(cfg, o.Period, o.Now)
		if err != nil {
			return nil, err
		}
		r.Period = p.Name
		if p.End.Before(r.Now) {
			r.Now = p.End
		}
	}
	r.Since = r.Now.Add(-Week)
	counts := map[okr.Status]int{}
	for _, oc := range cfg.Objectives {
		if r.Period != "" && oc.Resolved.Name != r.Period {
			continue
		}
		if r.Period == "" && (o.Now.Before(oc.Resolved.Start) || !oc.Resolved.End.After(r.Since)) {
			continue
		}
		ob := &Objective{Config: oc, At: r.Now}
		if oc.Resolved.End.Before(r.Now) {
			ob.At = oc.Resolved.End
		}
		ob.Ended = oc.Resolved.Ended(ob.At)
		weekAgo := ob.At.Add(-Week)
		ob.Since = weekAgo
		if weekAgo.Before(oc.Resolved.Start) && !ob.At.Before(oc.Resolved.Start) {
			ob.Since, ob.SinceStart = oc.Resolved.Start, true
		}
		engines := make([]okr.KeyResult, 0, len(oc.KeyResults))
		var now, before []okr.Result
		for _, kc := range oc.KeyResults {
			vals, err := o.Store.History(ctx, oc.ID, kc.ID, time.Time{}, ob.At)
			if err != nil {
				return nil, fmt.Errorf("reading the history of %s/%s: %w", oc.ID, kc.ID, err)
			}
			pts := make([]okr.Point, len(vals))
			for i, v := range vals {
				pts[i] = okr.Point{At: v.At, Value: v.Value}
			}
			kr := &KeyResult{Objective: ob, Config: kc, Source: kc.Source}
			if src := cfg.Sources[kc.Source]; src != nil {
				kr.SourceType = src.Type
			}
			for _, v := range vals {
				if !v.At.Before(oc.Resolved.Start) {
					kr.trend = append(kr.trend, trendPoint{At: v.At, Value: v.Value, Filled: format.KindOf(v.Origin) == format.KindFilled})
				}
			}
			kr.Now, kr.StaleNow = evaluate(kc, oc.Resolved, pts, ob.At)
			kr.Week, kr.StaleWeek = evaluate(kc, oc.Resolved, pts, ob.Since)
			// The value compared with is the last one at or before Since,
			// as okr.Evaluate takes it.
			if i := sort.Search(len(vals), func(i int) bool { return vals[i].At.After(ob.Since) }); i > 0 {
				if o := vals[i-1].Origin; format.KindOf(o) == format.KindFilled {
					kr.WeekFilled = true
					if src := format.OriginSource(o); !slices.Contains(r.FilledSources, src) {
						r.FilledSources = append(r.FilledSources, src)
					}
				}
			}
			engines = append(engines, kc.Engine)
			now, before = append(now, kr.Now), append(before, kr.Week)
			ob.KeyResults = append(ob.KeyResults, kr)

			counts[kr.Now.Status]++
			r.KeyResults++
			if kr.Now.Status != kr.Week.Status {
				r.StatusChanges++
			}
			switch kr.Now.Status {
			case okr.StatusAtRisk, okr.StatusOffTrack, okr.StatusMissed:
				r.AtRisk = append(r.AtRisk, kr)
			case okr.StatusNoData:
				r.NoData = append(r.NoData, kr)
			}
			if slices.Contains(DeliverySourceTypes, kr.SourceType) {
				r.Delivery.KeyResults = append(r.Delivery.KeyResults, kr)
			}

			confs, err := o.Store.Confidences(ctx, oc.ID, kc.ID, 0)
			if err != nil {
				return nil, fmt.Errorf("reading the confidences of %s/%s: %w", oc.ID, kc.ID, err)
			}
			// Newest first: the first at or before an instant is in effect.
			for i := range confs {
				if kr.ConfidenceNow == nil && !confs[i].At.After(ob.At) {
					kr.ConfidenceNow = &confs[i]
				}
				if kr.ConfidenceWeek == nil && !confs[i].At.After(ob.Since) {
					kr.ConfidenceWeek = &confs[i]
				}
			}

			cs, err := o.Store.Checkins(ctx, oc.ID, kc.ID, 0)
			if err != nil {
				return nil, fmt.Errorf("reading the check-ins of %s/%s: %w", oc.ID, kc.ID, err)
			}
			for _, c := range cs {
				if c.At.After(weekAgo) && !c.At.After(ob.At) {
					r.Checkins = append(r.Checkins, Checkin{KeyResult: kr, Checkin: c})
				}
				// Newest first: the first with a note is the latest word.
				if kr.Comment == nil && c.Note != "" && !c.At.After(ob.At) {
					kr.Comment = &c
				}
			}
		}
		ob.Now = okr.EvaluateObjective(engines, now)
		ob.Week = okr.EvaluateObjective(engines, before)
		r.Objectives = append(r.Objectives, ob)
	}
	if err := r.alignment(ctx, o); err != nil {
		return nil, err
	}
	if r.Period != "" && len(r.Objectives) == 0 {
		return nil, fmt.Errorf("no objective has the period %s (%s)", r.Period, periodsOf(cfg))
	}
	for _, s := range okr.Statuses {
		if counts[s] > 0 {
			r.Summary = append(r.Summary, StatusCount{s, counts[s]})
		}
	}
	// The worst first; among equals, the furthest behind.
	slices.SortStableFunc(r.AtRisk, func(a, b *KeyResult) int {
		if d := okr.Severity(b.Now.Status) - okr.Severity(a.Now.Status); d != 0 {
			return d
		}
		switch {
		case a.Now.Gap < b.Now.Gap:
			return -1
		case a.Now.Gap > b.Now.Gap:
			return 1
		}
		return 0
	})
	// Newest first, as people read a log; ties in configuration order.
	slices.SortStableFunc(r.Checkins, func(a, b Checkin) int { return b.At.Compare(a.At) })
	for _, name := range sortedKeys(cfg.Sources) {
		if src := cfg.Sources[name]; slices.Contains(DeliverySourceTypes, src.Type) {
			r.Delivery.Sources = append(r.Delivery.Sources, name+" ("+src.Type+")")
		}
	}
	return r, nil
}

// alignment links the report's objectives to their parents and children
// and rolls up the objectives with progress_from = "children" as the
// daemon does: each child evaluated at the parent's instants, whether the
// report lists it or not (a child of another period is still part of its
// parent's progress).
func (r *Report) alignment(ctx context.Context, o Options) error {
	byID := map[string]*Objective{}
	for _, ob := range r.Objectives {
		byID[ob.Config.ID] = ob
	}
	for _, ob := range r.Objectives {
		if p := byID[ob.Config.Parent]; p != nil {
			ob.Parent = p
			p.Children = append(p.Children, ob)
		}
	}
	for _, ob := range r.Objectives {
		if !ob.Config.RollsUp() {
			continue
		}
		var err error
		if ob.Now, err = rollUpAt(ctx, o.Store, ob.Config, ob.At); err != nil {
			return err
		}
		if ob.Week, err = rollUpAt(ctx, o.Store, ob.Config, ob.Since); err != nil {
			return err
		}
	}
	return nil
}

// rollUpAt evaluates an objective at an instant from the stored history,
// its children first when it rolls them up.
func rollUpAt(ctx context.Context, st Reader, oc *config.Objective, at time.Time) (okr.ObjectiveResult, error) {
	engines := make([]okr.KeyResult, 0, len(oc.KeyResults))
	results := make([]okr.Result, 0, len(oc.KeyResults))
	for _, kc := range oc.KeyResults {
		vals, err := st.History(ctx, oc.ID, kc.ID, time.Time{}, at)
		if err != nil {
			return okr.ObjectiveResult{}, fmt.Errorf("reading the history of %s/%s: %w", oc.ID, kc.ID, err)
		}
		pts := make([]okr.Point, len(vals))
		for i, v := range vals {
			pts[i] = okr.Point{At: v.At, Value: v.Value}
		}
		res, _ := evaluate(kc, oc.Resolved, pts, at)
		engines = append(engines, kc.Engine)
		results = append(results, res)
	}
	if !oc.RollsUp() {
		return okr.EvaluateObjective(engines, results), nil
	}
	children := make([]okr.Child, 0, len(oc.Children))
	for _, c := range oc.Children {
		cr, err := rollUpAt(ctx, st, c, at)
		if err != nil {
			return okr.ObjectiveResult{}, err
		}
		children = append(children, okr.Child{Weight: *c.Weight, Result: cr})
	}
	return okr.RollUp(engines, results, children, oc.Resolved, at, *oc.Tolerance), nil
}

// evaluate is okr.Evaluate with okrd's stale rule (as the daemon applies
// it): a value older than stale_after is shown but its status is no_data.
func evaluate(kc *config.KeyResult, p okr.Period, pts []okr.Point, at time.Time) (okr.Result, bool) {
	r := okr.Evaluate(kc.Engine, p, pts, at)
	if r.HasValue && kc.StaleAfter > 0 && at.Sub(r.ValueAt) > time.Duration(kc.StaleAfter) {
		r.Status = okr.StatusNoData
		return r, true
	}
	return r, false
}

// canonicalPeriod resolves the --period argument: "2026-q4" is "2026-Q4";
// an explicit "2026-10-01..2026-12-31" is the period of those dates; a
// relative form ("current-quarter") is the period around now.
func canonicalPeriod(cfg *config.Config, s string, now time.Time) (okr.Period, error) {
	if from, to, ok := strings.Cut(s, ".."); ok {
		start, err1 := time.Parse(time.DateOnly, from)
		end, err2 := time.Parse(time.DateOnly, to)
		if err1 != nil || err2 != nil {
			return okr.Period{}, fmt.Errorf("--period: %q is not YYYY-MM-DD..YYYY-MM-DD", s)
		}
		p, err := okr.DatesPeriod(start, end, cfg.Global.Location)
		if err != nil {
			return okr.Period{}, fmt.Errorf("--period: %w", err)
		}
		return p, nil
	}
	p, err := okr.ResolvePeriod(s, now, cfg.Global.Location, time.Month(cfg.Global.FiscalYearStartMonth))
	if err != nil {
		return okr.Period{}, fmt.Errorf("--period: %w", err)
	}
	return p, nil
}

func periodsOf(cfg *config.Config) string {
	var names []string
	for _, o := range cfg.Objectives {
		if !slices.Contains(names, o.Resolved.Name) {
			names = append(names, o.Resolved.Name)
		}
	}
	if len(names) == 0 {
		return "the configuration has no objectives"
	}
	return "the objectives' periods: " + strings.Join(names, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// The methods below phrase the numbers for both templates, so that the
// Markdown and the HTML say exactly the same thing.

// StatusText is a status in words: "on track".
func StatusText(s okr.Status) string { return format.Status(s) }

// green reports whether a status needs no explanation (on track,
// achieved); the report gives the reason of every other beside it.
func green(s okr.Status) bool { return s == okr.StatusOnTrack || s == okr.StatusAchieved }

// Day shows the civil date of t in the report's time zone.
func (r *Report) Day(t time.Time) string { return t.In(r.Location).Format("2006-01-02") }

// Ended reports whether the report is on a period that is over.
func (r *Report) Ended() bool { return !r.Now.Equal(r.Generated) }

// LastDay is the last day the report covers.
func (r *Report) LastDay() string { return r.Day(r.Now.Add(-time.Nanosecond)) }

// Time shows t in the report's time zone.
func (r *Report) Time(t time.Time) string { return t.In(r.Location).Format("2006-01-02 15:04 MST") }

// Scope says which objectives the report covers.
func (r *Report) Scope() string {
	if r.Period != "" {
		return "the objectives of " + r.Period
	}
	return "the objectives under way"
}

// SummaryText is the status counts in a sentence: "3 on track, 1 at risk".
func (r *Report) SummaryText() string {
	parts := make([]string, 0, len(r.Summary))
	for _, c := range r.Summary {
		parts = append(parts, fmt.Sprintf("%d %s", c.Count, StatusText(c.Status)))
	}
	return strings.Join(parts, ", ")
}

// Attention is what needs attention, worst first: the key results at
// risk, off track or missed, then those without data.
func (r *Report) Attention() []*KeyResult { return append(slices.Clip(r.AtRisk), r.NoData...) }

// ObjectivesByStatus is the objectives worst first (in configuration
// order among equals), so that what is at risk leads.
//
// Objectives with a parent in the report follow it, in a tree: each level
// is sorted the same way, and Depth says how deep each one is.
func (r *Report) ObjectivesByStatus() []*Objective {
	byStatus := func(objs []*Objective) []*Objective {
		out := slices.Clone(objs)
		slices.SortStableFunc(out, func(a, b *Objective) int { return okr.Severity(b.Now.Status) - okr.Severity(a.Now.Status) })
		return out
	}
	var out []*Objective
	var visit func(o *Objective, depth int)
	visit = func(o *Objective, depth int) {
		o.Depth = depth
		out = append(out, o)
		for _, c := range byStatus(o.Children) {
			visit(c, depth+1)
		}
	}
	var roots []*Objective
	for _, o := range r.Objectives {
		if o.Parent == nil {
			roots = append(roots, o)
		}
	}
	for _, o := range byStatus(roots) {
		visit(o, 0)
	}
	return out
}

// Change is one thing that changed in the week: a status, or a first value.
type Change struct {
	// Objective is set for an objective's change, KeyResult for a key
	// result's.
	Objective *Objective
	KeyResult *KeyResult
	From, To  okr.Status
}

// Title is what changed: the key result's title, or the objective's.
func (c Change) Title() string {
	if c.KeyResult != nil {
		return c.KeyResult.Title()
	}
	return c.Objective.Config.Title
}

// Text says the change in words: "on track, was at risk a week before;
// -12 h (from 3.5 d)".
func (c Change) Text() string {
	since := "a week before"
	o := c.Objective
	if c.KeyResult != nil {
		o = c.KeyResult.Objective
	}
	if o.SinceStart {
		since = "at the period start"
	}
	s := StatusText(c.To) + ", was " + StatusText(c.From) + " " + since
	if k := c.KeyResult; k != nil {
		switch ch := k.Change(); ch {
		case "–", "unchanged":
		case "first value":
			s += "; first value " + k.Value()
		default:
			s += "; " + ch
		}
		if !green(c.To) {
			s += "; " + k.Why()
		}
	} else if !green(c.To) {
		s += "; " + o.Reason()
	}
	return s
}

// Changes is what changed in the week, computed from the history: the
// statuses that differ from a week before (or the period start), worse
// ones first, objectives before their key results.
func (r *Report) Changes() []Change {
	var out []Change
	for _, o := range r.Objectives {
		if o.Now.Status != o.Week.Status {
			out = append(out, Change{Objective: o, From: o.Week.Status, To: o.Now.Status})
		}
		for _, k := range o.KeyResults {
			if k.Now.Status != k.Week.Status {
				out = append(out, Change{KeyResult: k, From: k.Week.Status, To: k.Now.Status})
			}
		}
	}
	// Got worse before got better: a status that rose in severity first,
	// the worst new status first among those.
	worse := func(c Change) bool {
		return c.To == okr.StatusNoData || (c.From != okr.StatusNoData && okr.Severity(c.To) > okr.Severity(c.From))
	}
	slices.SortStableFunc(out, func(a, b Change) int {
		if wa, wb := worse(a), worse(b); wa != wb {
			if wa {
				return -1
			}
			return 1
		}
		return okr.Severity(b.To) - okr.Severity(a.To)
	})
	return out
}

// Headline is the objective's state in one line: its progress against a
// week before (or the period start, in its first week) and its status, or
// its final score once the period is over.
func (o *Objective) Headline() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Progress %s", format.Percent(o.Now.Progress))
	switch {
	case o.Now.Progress == o.Week.Progress && o.SinceStart:
		b.WriteString(" (unchanged since the period start)")
	case o.Now.Progress == o.Week.Progress:
		b.WriteString(" (unchanged in the week)")
	case o.SinceStart:
		fmt.Fprintf(&b, " (%s since the period start on %s)", format.Points(o.Week.Progress, o.Now.Progress), o.WeekAgo())
	default:
		fmt.Fprintf(&b, " (%s since %s)", format.Points(o.Week.Progress, o.Now.Progress), o.WeekAgo())
	}
	fmt.Fprintf(&b, "; %s", StatusText(o.Now.Status))
	if o.Now.Status != o.Week.Status {
		if o.SinceStart {
			fmt.Fprintf(&b, ", was %s at the period start", StatusText(o.Week.Status))
		} else {
			fmt.Fprintf(&b, ", was %s a week before", StatusText(o.Week.Status))
		}
	}
	if o.Now.HasScore {
		fmt.Fprintf(&b, "; final score %.1f", o.Now.Score)
	}
	return b.String() + "."
}

// Reason says why the objective has its status (format.RollupReason):
// "off track because 'Week-1 activation at 40%' is off track".
func (o *Objective) Reason() string {
	if o.Now.RolledUp {
		krs := make([]format.KeyResultStatus, len(o.KeyResults))
		for i, k := range o.KeyResults {
			krs[i] = format.KeyResultStatus{Title: k.Title(), Status: k.Now.Status}
		}
		var children []format.KeyResultStatus
		for _, c := range o.Children {
			children = append(children, format.KeyResultStatus{Title: c.Config.Title, Status: c.Now.Status})
		}
		return format.RolledUpReason(o.Now, krs, children)
	}
	krs := make([]format.KeyResultStatus, len(o.KeyResults))
	for i, k := range o.KeyResults {
		krs[i] = format.KeyResultStatus{Title: k.Title(), Status: k.Now.Status}
	}
	return format.RollupReason(o.Now.Status, krs)
}

// ByStatus is the objective's key results worst first (in configuration
// order among equals).
func (o *Objective) ByStatus() []*KeyResult {
	out := slices.Clone(o.KeyResults)
	slices.SortStableFunc(out, func(a, b *KeyResult) int { return okr.Severity(b.Now.Status) - okr.Severity(a.Now.Status) })
	return out
}

// Comments are the latest notes of the objective's key results, in the
// order of ByStatus.
func (o *Objective) Comments() []*KeyResult {
	var out []*KeyResult
	for _, k := range o.ByStatus() {
		if k.Comment != nil {
			out = append(out, k)
		}
	}
	return out
}

// WeekAgo is the date the objective is compared with: a week before its
// instant, or its period start.
func (o *Objective) WeekAgo() string {
	return o.Since.In(o.Config.Resolved.Start.Location()).Format("2006-01-02")
}

// Meta is the objective's owner, team and period.
func (o *Objective) Meta() string {
	var parts []string
	if o.Config.Owner != "" {
		parts = append(parts, "owner "+o.Config.Owner)
	}
	if o.Config.Team != "" {
		parts = append(parts, "team "+o.Config.Team)
	}
	p := o.Config.Resolved
	loc := p.Start.Location()
	ps := p.Name + ", " + p.Start.Format("2006-01-02") + " to " + p.End.Add(-time.Nanosecond).In(loc).Format("2006-01-02")
	if o.Ended {
		ps += " (ended; final numbers)"
	}
	parts = append(parts, ps)
	if p := o.Config.Parent; p != "" {
		title := p
		if o.Parent != nil {
			title = o.Parent.Config.Title
		}
		parts = append(parts, "part of "+title)
	}
	if len(o.Config.Children) > 0 {
		names := make([]string, len(o.Config.Children))
		for i, c := range o.Config.Children {
			names[i] = c.Title
		}
		verb := "child objectives: "
		if o.Now.RolledUp {
			verb = "rolls up "
		}
		parts = append(parts, verb+strings.Join(names, ", "))
	}
	return strings.Join(parts, " · ")
}

// Confidence is the owner's confidence and its change in the week: "4/10
// (low), was 9", "7/10 (medium)", or "–" without one.
func (k *KeyResult) Confidence() string {
	c := k.ConfidenceNow
	if c == nil {
		return format.None
	}
	s := strconv.Itoa(c.Value) + "/10 (" + checkins.ConfidenceName(c.Value) + ")"
	switch w := k.ConfidenceWeek; {
	case w == nil:
		s += ", new this week"
	case w.Value != c.Value:
		s += ", was " + strconv.Itoa(w.Value)
	}
	return s
}

// Title is the key result's title.
func (k *KeyResult) Title() string { return k.Config.Title }

// Value is the current value in its unit, or "no data".
func (k *KeyResult) Value() string {
	if !k.Now.HasValue {
		return "no data"
	}
	s := format.Value(k.Config, k.Now.Value)
	if k.StaleNow {
		s += " (stale)"
	}
	return s
}

// Change says how the value moved in the week: "+2 (from 34)", "first
// value", "unchanged".
func (k *KeyResult) Change() string {
	switch {
	case !k.Now.HasValue:
		return "–"
	case !k.Week.HasValue:
		return "first value"
	case k.Now.Value == k.Week.Value:
		return "unchanged"
	}
	return format.Delta(k.Config, k.Week.Value, k.Now.Value) + " (from " + format.Value(k.Config, k.Week.Value) + ")"
}

// Why says why the key result has its status (format.Reason): "32.0%
// where 35.5% was expected by now: 11% of the way, 38 pts behind".
func (k *KeyResult) Why() string {
	return format.Reason(k.Config, k.Objective.Config.Resolved, k.Now, k.StaleNow)
}

// Status is the status, with the one of a week before when it changed.
func (k *KeyResult) Status() string {
	s := StatusText(k.Now.Status)
	if k.Now.Status != k.Week.Status {
		s += " (was " + StatusText(k.Week.Status) + ")"
	}
	return s
}

// StatusChanged reports whether the status differs from a week before.
func (k *KeyResult) StatusChanged() bool { return k.Now.Status != k.Week.Status }

// Goal says what the key result aims for.
func (k *KeyResult) Goal() string { return format.Goal(k.Config) }

// Forecast is where the trend lands at the period end (nothing once the
// period is over: the numbers are final).
func (k *KeyResult) Forecast() string {
	if !k.Now.HasForecast || k.Objective.Ended {
		return "–"
	}
	return format.Value(k.Config, k.Now.Forecast) + " (" + forecastShare(k.Config, k.Now) + ")"
}

// forecastShare is how far the forecast gets: "68%" of the way, or, for
// a band, whether it lands inside it (its progress is 0 or 1, which as a
// percentage would say nothing).
func forecastShare(kc *config.KeyResult, r okr.Result) string {
	if kc.Engine.Direction != okr.Maintain {
		return format.Percent(r.ForecastProgress)
	}
	if r.ForecastProgress >= 1 {
		return "inside the band"
	}
	return "outside the band"
}

// Risk explains a key result that needs attention in one sentence: why
// it has its status, and where its trend lands.
func (k *KeyResult) Risk() string {
	var b strings.Builder
	r := k.Now
	b.WriteString(k.Why())
	end := k.Objective.Config.Resolved.End.Add(-time.Nanosecond)
	day := end.In(k.Objective.Config.Resolved.Start.Location()).Format("2006-01-02")
	switch {
	case !r.HasValue || k.StaleNow:
	case k.Objective.Ended:
		fmt.Fprintf(&b, "; the period ended on %s", day)
	case r.HasForecast && k.Config.Engine.Direction == okr.Maintain:
		fmt.Fprintf(&b, "; the trend forecasts %s by %s (%s)", format.Value(k.Config, r.Forecast), day, forecastShare(k.Config, r))
	case r.HasForecast:
		fmt.Fprintf(&b, "; the trend forecasts %s by %s (%s of the way)", format.Value(k.Config, r.Forecast), day, format.Percent(r.ForecastProgress))
	default:
		b.WriteString("; no forecast yet (it needs 3 values spanning a day in the period)")
	}
	return b.String() + "."
}

// TrendImage is the trend of the period so far as a PNG in a data: URI
// ("" without values).
func (k *KeyResult) TrendImage() htmltemplate.URL {
	if len(k.trend) == 0 {
		return ""
	}
	// The URI is built here from the PNG's bytes alone: nothing from the
	// configuration or a check-in is in it.
	return htmltemplate.URL(dataURI(trendPNG(k.Config, k.Objective.Config.Resolved, k.trend)))
}

// TrendText is the trend as block characters, a week each ("▁▂▃▅").
func (k *KeyResult) TrendText() string {
	return trendText(k.Config, k.Objective.Config.Resolved, k.Objective.At, k.trend)
}

// TrendAlt is the trend in words, the text alternative of the image:
// "Trend in 2026-Q4: 47 values, from 31 on Oct 1 to 37 on Nov 14."
func (k *KeyResult) TrendAlt() string {
	p, loc := k.Objective.Config.Resolved, k.Objective.Config.Resolved.Start.Location()
	switch n := len(k.trend); n {
	case 0:
		return "No values in " + p.Name + "."
	case 1:
		v := k.trend[0]
		return "One value in " + p.Name + ": " + format.Value(k.Config, v.Value) + " on " + v.At.In(loc).Format("Jan 2") + "."
	default:
		first, last := k.trend[0], k.trend[n-1]
		return fmt.Sprintf("Trend in %s: %d values, from %s on %s to %s on %s.", p.Name, n,
			format.Value(k.Config, first.Value), first.At.In(loc).Format("Jan 2"), format.Value(k.Config, last.Value), last.At.In(loc).Format("Jan 2"))
	}
}

// SourceText names where the value comes from.
func (k *KeyResult) SourceText() string {
	if k.Source == "" {
		return "manual check-ins"
	}
	s := k.Source
	if k.SourceType != "" && k.SourceType != k.Source {
		s += " (" + k.SourceType + ")"
	}
	if k.Config.Metric != "" {
		s += ", " + k.Config.Metric
	}
	return s
}

// ValueText is the check-in's value in the key result's unit.
func (c Checkin) ValueText() string { return format.Value(c.KeyResult.Config, c.Value) }
