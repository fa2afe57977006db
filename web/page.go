package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/okrd/okrd/checkins"
	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/okr"
	"github.com/okrd/okrd/report/format"
	"github.com/okrd/okrd/snapshot"
	"github.com/okrd/okrd/store"
)

// The read-only page: the index of objectives and key results at /, one
// objective at /objectives/{objective}, one key result with its history and
// check-ins at /objectives/{objective}/key_results/{key_result}, and an
// HTML 404 page that lists what exists. Everything is rendered on the
// server; the page has no JavaScript, and its only other resources are a
// stylesheet and an icon under /static/.

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

var funcs = template.FuncMap{
	"pct":          format.Percent,
	"statusLabel":  statusLabel,
	"width":        func(f float64) float64 { return round2(math.Max(0, math.Min(100, f*100))) },
	"value":        func(kr *config.KeyResult, v float64) string { return format.Value(kr, v) },
	"static":       staticURL,
	"barOf":        barOf,
	"objectiveBar": objectiveBar,
	"add":          func(a, b float64) float64 { return round2(a + b) },
	"sub":          func(a, b float64) float64 { return round2(a - b) },
	"plotRight":    func(c *chart) float64 { return round2(c.Plot.X + c.Plot.W) },
	"plotBottom":   func(c *chart) float64 { return round2(c.Plot.Y + c.Plot.H) },
	"green":        green,
	"sentence":     format.Sentence,
	"glue":         glue,
}

// Quantities in running text ("from 4 d to 2 d", "1 h 58 min where ...")
// must not break between a number and its unit in a narrow column.
var (
	numberUnit   = regexp.MustCompile(`(\d) (ms|s|min|h|d|pts?|per day|lines|points|[A-Z]{3})\b`)
	compoundUnit = regexp.MustCompile(`\b(h|min) (\d)`)
)

// glue joins each number in s to its unit with no-break spaces.
func glue(s string) string {
	s = numberUnit.ReplaceAllString(s, "$1\u00a0$2")
	s = compoundUnit.ReplaceAllString(s, "$1\u00a0$2")
	return strings.ReplaceAll(s, "per day", "per\u00a0day")
}

// green reports whether a status needs no explanation: on track or
// achieved. Every other status is shown with its reason.
func green(s okr.Status) bool { return s == okr.StatusOnTrack || s == okr.StatusAchieved }

// bar is a progress bar: the fill is the progress, the mark the expected
// progress. Label is its text alternative.
type bar struct {
	Label    string
	Status   okr.Status
	Progress float64
	Mark     bool
	MarkX    float64
}

func barOf(kv *krView) bar {
	r := kv.Result
	b := bar{Status: r.Status, Progress: r.Progress}
	switch {
	case !r.HasValue:
		b.Label = "No progress: no value yet"
	case kv.Config.Engine.Direction == okr.Maintain:
		// Expected progress is always 1 for a band: a mark would say nothing.
		if r.Progress >= 1 {
			b.Label = "Progress 100%: inside the band"
		} else {
			b.Label = "Progress 0%: outside the band"
		}
	default:
		b.Label = "Progress " + format.Percent(r.Progress) + ", expected by now " + format.Percent(r.Expected)
		b.Mark = true
		// Keep the 1.6-unit mark inside the 100-unit track.
		b.MarkX = round2(math.Max(0, math.Min(100-1.6, r.Expected*100-0.8)))
	}
	return b
}

func objectiveBar(ov *objectiveView) bar {
	return bar{Label: "Objective progress " + format.Percent(ov.Progress), Status: ov.Status, Progress: ov.Progress}
}

// pages holds one template set per page, each made of layout.html (the
// frame, the shared partials) and the page's own file.
var pages = func() map[string]*template.Template {
	m := map[string]*template.Template{}
	for _, name := range []string{"index.html", "keyresult.html", "notfound.html"} {
		m[name] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name))
	}
	return m
}()

// staticVersions maps each static file to a hash of its content. Pages link
// to static/NAME?v=HASH, so the files can be cached for a year and a new
// release is fetched at once.
var staticVersions = func() map[string]string {
	m := map[string]string{}
	_ = fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		m[strings.TrimPrefix(p, "static/")] = hex.EncodeToString(sum[:6])
		return nil
	})
	return m
}()

func staticURL(root, name string) string {
	return root + "static/" + name + "?v=" + staticVersions[name]
}

// contentSecurityPolicy allows nothing but the page's own stylesheet and
// icon: the page has no script, no inline style and no form.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func setPageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	// The page changes with every evaluation.
	h.Set("Cache-Control", "no-cache")
}

// rootOf is the relative path from the page at urlPath back to the root,
// so that links keep working when okrd is served under a path prefix by a
// reverse proxy.
func rootOf(urlPath string) string {
	n := strings.Count(urlPath, "/") - 1
	if n <= 0 {
		return "./"
	}
	return strings.Repeat("../", n)
}

func statusLabel(s okr.Status) string {
	switch s {
	case okr.StatusOnTrack:
		return "On track"
	case okr.StatusAtRisk:
		return "At risk"
	case okr.StatusOffTrack:
		return "Off track"
	case okr.StatusAchieved:
		return "Achieved"
	case okr.StatusMissed:
		return "Missed"
	case okr.StatusNoData:
		return "No data"
	}
	return string(s)
}

// view is what every page's layout needs.
type view struct {
	Root    string
	Title   string
	Now     string
	Message string
}

type filterLink struct {
	Label, URL string
	Current    bool
}

type statusCount struct {
	Status okr.Status
	Count  int
}

type objectiveView struct {
	ID, Title, Description string
	Owner, Team, Period    string
	URL                    string
	Status                 okr.Status
	// Reason says why the objective has its status (format.ObjectiveReason).
	Reason     string
	Progress   float64
	HasScore   bool
	Score      float64
	KeyResults []*krView
	// Depth is the objective's level in the tree shown (0 at the top);
	// Parent links the parent objective, Children the child objectives.
	Depth    int
	Parent   *filterLink
	Children []filterLink
	RollsUp  bool
	Expected float64
}

// confidenceView is a key result's confidence as the page shows it.
type confidenceView struct {
	Value        int
	Level        string
	Age          string
	Change       string
	Author, Note string
}

func newConfidenceView(c *snapshot.Confidence, now time.Time) *confidenceView {
	if c == nil {
		return nil
	}
	v := &confidenceView{Value: c.Value, Level: checkins.ConfidenceName(c.Value), Age: ago(now.Sub(c.At)), Author: c.Author, Note: c.Note}
	switch {
	case c.WeekHigh > c.Value:
		v.Change = "down from " + strconv.Itoa(c.WeekHigh) + " this week"
	case c.Previous != 0 && c.Previous < c.Value:
		v.Change = "up from " + strconv.Itoa(c.Previous)
	}
	return v
}

type krView struct {
	ID, Title, URL string
	Config         *config.KeyResult
	Result         okr.Result
	Stale          bool
	Goal           string
	// Reason says why the key result has its status (format.KeyResultReason).
	Reason string
	Spark  *sparkline
	// Manual is set for a key result measured by check-ins: without a
	// value, the index points to how to record its first one.
	Manual bool
	// Confidence is the owner's latest confidence, nil without one.
	Confidence *confidenceView
	// Initiatives are its initiatives, in short.
	Initiatives []initiativeView
}

type indexView struct {
	view
	Heading    string
	Objective  string // set on the page of one objective
	Teams      []filterLink
	Owners     []filterLink
	Filtered   bool
	Summary    []statusCount
	KeyResults int
	Objectives []*objectiveView
	Sources    []sourceView
	HasSources bool
	// Checked is set when a source checks the quality of its records.
	Checked     bool
	SparkFailed bool
	// Investment is each source's investment balance over the whole
	// source.
	Investment []investmentView
}

// investmentView is one source's investment balance on the index.
type investmentView struct {
	Source, Window, Unit string
	Total                string
	Categories           []categoryView
}

type categoryView struct {
	Name, Throughput string
	HasShare         bool
	Share            float64
	Bar              bar
}

// investmentWindow is the window the index shows the balance over.
const investmentWindow = "28d"

// investmentViews shows the investment balance of each source that has
// one, over the whole source.
func (h *Handler) investmentViews() []investmentView {
	d := h.delivery()
	if d == nil {
		return nil
	}
	num := func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
	var out []investmentView
	for _, r := range d.Investment() {
		if r.Scope != "all" || r.Window != investmentWindow {
			continue
		}
		unit := "issues done"
		switch {
		case r.By == "points":
			unit = "story points done"
		case h.sourceType(r.Source) == "github":
			unit = "pull requests merged"
		}
		v := investmentView{Source: r.Source, Window: strings.TrimSuffix(r.Window, "d") + " days", Unit: unit, Total: num(r.Total)}
		for _, c := range r.Shares {
			cv := categoryView{Name: c.Category, Throughput: num(c.Throughput), HasShare: c.HasShare, Share: c.Share}
			cv.Bar = bar{Label: c.Category + " " + format.Percent(c.Share) + " of the throughput", Status: initiativeStatus, Progress: c.Share}
			v.Categories = append(v.Categories, cv)
		}
		out = append(out, v)
	}
	return out
}

type sourceView struct {
	Name, Type, State, LastSuccess, NextPoll, LastError string
	Up                                                  bool
	Failures                                            int
	// Checked is set for a source that checks the quality of its
	// records; Quality lists the checks that found something.
	Checked bool
	Quality []qualityView
}

// qualityView is one data-quality check with findings, in words.
type qualityView struct {
	Check, Title, Meaning, Fix string
	Count                      int
	Examples                   []collectors.QualityExample
	// More is how many findings the examples do not name.
	More int
}

// qualityViews turns a source's checks into what the page shows: the
// checks that found something, in the source's order.
func qualityViews(checks []collectors.QualityCheck) []qualityView {
	var out []qualityView
	for _, c := range checks {
		if c.Count == 0 {
			continue
		}
		info, ok := collectors.QualityChecks[c.Check]
		if !ok {
			info = collectors.QualityCheckInfo{Title: c.Check}
		}
		out = append(out, qualityView{Check: c.Check, Title: info.Title, Meaning: info.Meaning, Fix: info.Fix,
			Count: c.Count, Examples: c.Examples, More: max(0, c.Count-len(c.Examples))})
	}
	return out
}

// timeFormatter shows instants in the configured time zone.
type timeFormatter struct{ loc *time.Location }

func (f timeFormatter) at(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(f.loc).Format("2006-01-02 15:04 MST")
}

func (f timeFormatter) day(t time.Time) string { return t.In(f.loc).Format("2006-01-02") }

func (h *Handler) location() *time.Location {
	if cfg := h.b.Config(); cfg != nil && cfg.Global.Location != nil {
		return cfg.Global.Location
	}
	return time.UTC
}

// goal says in words what a key result aims for.
func goal(kr *config.KeyResult) string { return format.Goal(kr) }

func krURL(root string, kr *snapshot.KeyResult) string {
	return root + "objectives/" + pathEscape(kr.Objective.ID) + "/key_results/" + pathEscape(kr.Config.ID)
}

func objURL(root, id string) string { return root + "objectives/" + pathEscape(id) }

func pathEscape(s string) string { return url.PathEscape(s) }

// render writes a page, buffered so that a template error becomes a 500
// instead of half a page.
func (h *Handler) render(w http.ResponseWriter, code int, name string, data any) {
	var buf bytes.Buffer
	if err := pages[name].Execute(&buf, data); err != nil {
		h.logger.Error("rendering the page failed", "page", name, "err", err)
		http.Error(w, "rendering the page failed; see okrd's log", http.StatusInternalServerError)
		return
	}
	setPageHeaders(w)
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

// snapshotOrStarting returns the snapshot, or answers 503 before the first
// evaluation.
func (h *Handler) snapshotOrStarting(w http.ResponseWriter) *snapshot.Snapshot {
	s := h.b.Snapshot()
	if s == nil {
		w.Header().Set("Retry-After", "5")
		http.Error(w, "okrd is starting: the first evaluation has not finished.", http.StatusServiceUnavailable)
	}
	return s
}

// page serves the index of every objective, optionally filtered by team or
// owner (?team=growth&owner=alice, the same filters as the API).
func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet) {
		return
	}
	s := h.snapshotOrStarting(w)
	if s == nil {
		return
	}
	q := r.URL.Query()
	h.index(w, r, s, nil, q.Get("team"), q.Get("owner"))
}

// objectivePage serves the index reduced to one objective.
func (h *Handler) objectivePage(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet) {
		return
	}
	s := h.snapshotOrStarting(w)
	if s == nil {
		return
	}
	o := s.Objective(r.PathValue("objective"))
	if o == nil {
		h.notFound(w, r, s, "There is no objective "+strconv.Quote(r.PathValue("objective"))+".")
		return
	}
	h.index(w, r, s, o, "", "")
}

func (h *Handler) index(w http.ResponseWriter, r *http.Request, s *snapshot.Snapshot, only *snapshot.Objective, team, owner string) {
	loc := h.location()
	tf := timeFormatter{loc}
	root := rootOf(r.URL.Path)
	v := &indexView{view: view{Root: root, Title: "Objectives and key results", Now: tf.at(s.EvaluatedAt)}, Heading: "Objectives and key results"}
	if only != nil {
		v.Title, v.Heading, v.Objective = only.Config.Title, only.Config.Title, only.Config.ID
	}
	v.Filtered = team != "" || owner != ""
	v.Teams, v.Owners = filterLinks(root, s, team, owner)

	counts := map[okr.Status]int{}
	sparkErr := false
	keep := func(o *snapshot.Objective) bool {
		if only != nil {
			return o == only
		}
		return (team == "" || o.Config.Team == team) && (owner == "" || o.Config.Owner == owner)
	}
	for _, t := range treeOrder(s, keep) {
		o := t.o
		ov := &objectiveView{
			ID: o.Config.ID, Title: o.Config.Title, Description: o.Config.Description, Owner: o.Config.Owner, Team: o.Config.Team,
			Period: o.Config.Resolved.Name, URL: objURL(root, o.Config.ID), Status: o.Result.Status, Progress: o.Result.Progress,
			HasScore: o.Result.HasScore, Score: o.Result.Score, Reason: format.ObjectiveReason(o),
			Depth: min(t.depth, 4), RollsUp: o.Result.RolledUp, Expected: o.Result.Expected,
		}
		if p := o.Config.Parent; p != "" {
			title := p
			if po := s.Objective(p); po != nil {
				title = po.Config.Title
			}
			ov.Parent = &filterLink{Label: title, URL: objURL(root, p)}
		}
		for _, c := range o.Children {
			ov.Children = append(ov.Children, filterLink{Label: c.Config.Title, URL: objURL(root, c.Config.ID)})
		}
		for _, kr := range o.KeyResults {
			kv := &krView{ID: kr.Config.ID, Title: kr.Config.Title, URL: krURL(root, kr), Config: kr.Config, Result: kr.Result,
				Stale: kr.Stale, Goal: goal(kr.Config), Reason: format.KeyResultReason(kr), Manual: h.manual(kr.Config),
				Confidence:  newConfidenceView(kr.Confidence, s.EvaluatedAt),
				Initiatives: h.initiativeViews(o.Config, kr.Config, tf)}
			if !sparkErr {
				pts, err := h.periodPoints(r.Context(), o.Config, kr.Config, s.EvaluatedAt)
				if err != nil {
					// The numbers are in the snapshot; only the trends
					// are missing, so the page is still worth showing.
					h.logger.Warn("reading history for the sparklines failed", "err", err)
					sparkErr = true
				} else if len(pts) > 0 {
					kv.Spark = newSparkline(kr.Config, o.Config.Resolved, s.EvaluatedAt, pts, loc, h.filledFrom(kr.Config))
				}
			}
			counts[kr.Result.Status]++
			v.KeyResults++
			ov.KeyResults = append(ov.KeyResults, kv)
		}
		v.Objectives = append(v.Objectives, ov)
	}
	v.SparkFailed = sparkErr
	for _, st := range okr.Statuses {
		if counts[st] > 0 {
			v.Summary = append(v.Summary, statusCount{st, counts[st]})
		}
	}
	if only == nil && !v.Filtered {
		for _, src := range h.b.Sources() {
			sv := sourceView{Name: src.Name, Type: src.Type, Up: src.Up, Failures: src.ConsecutiveFailures, LastError: src.LastError,
				LastSuccess: tf.at(src.LastSuccess), NextPoll: tf.at(src.NextPoll),
				Checked: len(src.DataQuality) > 0, Quality: qualityViews(src.DataQuality)}
			switch {
			case src.Up:
				sv.State = "Up"
			case src.Polls == 0:
				sv.State = "Not polled yet"
			default:
				sv.State = "Down"
			}
			v.Sources = append(v.Sources, sv)
			v.Checked = v.Checked || sv.Checked
		}
		v.HasSources = true
		v.Investment = h.investmentViews()
	}
	h.render(w, http.StatusOK, "index.html", v)
}

// placed is an objective at its place in the tree shown.
type placed struct {
	o     *snapshot.Objective
	depth int
}

// treeOrder lists the objectives keep keeps as a tree: each objective
// whose parent is not kept (or that has none) in the file's order, each
// followed by its kept descendants, children in the file's order and at
// risk (the worst status) first within a level.
func treeOrder(s *snapshot.Snapshot, keep func(*snapshot.Objective) bool) []placed {
	kept := make(map[*config.Objective]bool, len(s.Objectives))
	keptIDs := make(map[string]bool, len(s.Objectives))
	for _, o := range s.Objectives {
		if keep(o) {
			kept[o.Config] = true
			keptIDs[o.Config.ID] = true
		}
	}
	parentKept := func(o *snapshot.Objective) bool { return keptIDs[o.Config.Parent] }
	var out []placed
	var visit func(o *snapshot.Objective, depth int)
	visit = func(o *snapshot.Objective, depth int) {
		out = append(out, placed{o, depth})
		children := slices.Clone(o.Children)
		slices.SortStableFunc(children, func(a, b *snapshot.Objective) int {
			return okr.Severity(b.Result.Status) - okr.Severity(a.Result.Status)
		})
		for _, c := range children {
			if kept[c.Config] {
				visit(c, depth+1)
			}
		}
	}
	for _, o := range s.Objectives {
		if kept[o.Config] && (o.Config.Parent == "" || !parentKept(o)) {
			visit(o, 0)
		}
	}
	return out
}

// filterLinks lists the teams and owners of the objectives as links that
// filter the index; the current choice is marked.
func filterLinks(root string, s *snapshot.Snapshot, team, owner string) (teams, owners []filterLink) {
	var ts, ows []string
	for _, o := range s.Objectives {
		if o.Config.Team != "" && !slices.Contains(ts, o.Config.Team) {
			ts = append(ts, o.Config.Team)
		}
		if o.Config.Owner != "" && !slices.Contains(ows, o.Config.Owner) {
			ows = append(ows, o.Config.Owner)
		}
	}
	slices.Sort(ts)
	slices.Sort(ows)
	link := func(team, owner string) string {
		var q []string
		if team != "" {
			q = append(q, "team="+template.URLQueryEscaper(team))
		}
		if owner != "" {
			q = append(q, "owner="+template.URLQueryEscaper(owner))
		}
		if len(q) == 0 {
			return root
		}
		return root + "?" + strings.Join(q, "&")
	}
	if len(ts) > 0 {
		teams = append(teams, filterLink{"All teams", link("", owner), team == ""})
		for _, t := range ts {
			teams = append(teams, filterLink{t, link(t, owner), t == team})
		}
	}
	if len(ows) > 0 {
		owners = append(owners, filterLink{"All owners", link(team, ""), owner == ""})
		for _, o := range ows {
			owners = append(owners, filterLink{o, link(team, o), o == owner})
		}
	}
	return teams, owners
}

// PointsReader is an optional extension of Backend. A backend that keeps
// the key results' history in memory (the daemon does, to evaluate) can
// implement it, and the index then draws its sparklines without one
// database query per key result, which is most of the index's cost with
// hundreds of key results. PointsFilled returns the values recorded with
// from <= At <= to, oldest first, and for each whether it was filled in
// from a source's records rather than measured live or checked in (filled
// is nil when none was); the caller does not modify them.
type PointsReader interface {
	PointsFilled(objectiveID, keyResultID string, from, to time.Time) (pts []okr.Point, filled []bool)
}

// periodPoints is the history of a key result inside its period up to
// now, for the sparklines: from memory when the backend offers it, else
// from the store. It returns nil without error when there is neither.
// From memory, a value that was not filled in counts as live (the marks do
// not tell check-ins apart; the sparklines draw both alike).
func (h *Handler) periodPoints(ctx context.Context, o *config.Objective, kr *config.KeyResult, now time.Time) ([]sample, error) {
	if pr, ok := h.b.(PointsReader); ok {
		to := now
		if to.After(o.Resolved.End) {
			to = o.Resolved.End
		}
		if to.Before(o.Resolved.Start) {
			return []sample{}, nil
		}
		pts, filled := pr.PointsFilled(o.ID, kr.ID, o.Resolved.Start, to)
		out := make([]sample, len(pts))
		for i, p := range pts {
			out[i] = sample{Point: p, Kind: format.KindLive}
			if filled != nil && filled[i] {
				out[i].Kind = format.KindFilled
			}
		}
		return out, nil
	}
	vals, err := h.periodHistory(ctx, o, kr, now)
	if vals == nil || err != nil {
		return nil, err
	}
	return samples(vals), nil
}

// periodHistory reads a key result's values inside its period up to now.
// It returns nil without error when the backend has no store.
func (h *Handler) periodHistory(ctx context.Context, o *config.Objective, kr *config.KeyResult, now time.Time) ([]store.Value, error) {
	st := h.b.Store()
	if st == nil {
		return nil, nil
	}
	to := now
	if to.After(o.Resolved.End) {
		to = o.Resolved.End
	}
	if to.Before(o.Resolved.Start) {
		return []store.Value{}, nil
	}
	vals, err := st.History(ctx, o.ID, kr.ID, o.Resolved.Start, to)
	if vals == nil && err == nil {
		vals = []store.Value{}
	}
	return vals, err
}

func samples(vals []store.Value) []sample {
	out := make([]sample, len(vals))
	for i, v := range vals {
		out[i] = sample{Point: okr.Point{At: v.At, Value: v.Value}, Kind: format.KindOf(v.Origin)}
	}
	return out
}

// manual reports whether a key result is measured by check-ins.
func (h *Handler) manual(kc *config.KeyResult) bool {
	if kc.Source == "" {
		return true
	}
	return h.sourceType(kc.Source) == "manual"
}

// sourceType is the type of a configured source ("" when unknown).
func (h *Handler) sourceType(name string) string {
	if cfg := h.b.Config(); cfg != nil && cfg.Sources[name] != nil {
		return cfg.Sources[name].Type
	}
	return ""
}

// filledFrom says where a key result's filled-in values come from: its
// source, whose records okrd fills its history in from.
func (h *Handler) filledFrom(kc *config.KeyResult) string {
	return format.FilledFrom(kc.Source, h.sourceType(kc.Source))
}

// originText says in words where a value came from; authors maps the
// origins of the check-ins the page read to their author.
func (h *Handler) originText(origin string, authors map[string]string) string {
	switch format.KindOf(origin) {
	case format.KindFilled:
		src := format.OriginSource(origin)
		return format.FilledFrom(src, h.sourceType(src))
	case format.KindCheckin:
		if a := authors[origin]; a != "" {
			return "checked in by " + a
		}
		return "checked in"
	default:
		if src := format.OriginSource(origin); src != "" {
			return "measured live by source " + src
		}
		return origin
	}
}

// maxValueRows bounds the table of values on a key result page; the JSON
// history endpoint has them all.
const maxValueRows = 200

type valueRow struct {
	At, Value string
	// Origin is the stored origin ("history:jira"), Words the same in
	// words ("filled in from Jira records (source jira)").
	Origin, Words string
}

type checkinRow struct {
	At, Value, Author, Note, Recorded string
}

type fact struct {
	Term, Detail string
}

type krPageView struct {
	view
	Objective     *snapshot.Objective
	ObjectiveURL  string
	KR            *krView
	Facts         []fact
	Chart         *chart
	Values        []valueRow
	ValuesTotal   int
	ValuesShown   int
	HistoryFailed bool
	HistoryURL    string
	Checkins      []checkinRow
	CheckinsURL   string
	CheckinsError bool
	Manual        bool
	// Record says how to record the first value, when there is none.
	Record *recordHelp
	// Explain is the section "What makes this number" (nil when the
	// backend cannot explain).
	Explain *explainView
	// Initiatives are the key result's initiatives; AnnotationsURL their
	// events as JSON.
	Initiatives    []initiativeView
	AnnotationsURL string
}

// initiativeView is one initiative on the page.
type initiativeView struct {
	Title, Work, Source, Error string
	HasProgress                bool
	Progress                   float64
	Bar                        bar
	// Done is "done of total" in words ("2 of 3 issues", "5 of 8 points",
	// "4 of 5 pull requests merged, 3 deployed").
	Done      string
	LastEvent string
}

// initiativeStatus colours the bars of initiatives, which have no status.
const initiativeStatus = okr.Status("initiative")

// initiativeViews shows a key result's initiatives.
func (h *Handler) initiativeViews(o *config.Objective, kc *config.KeyResult, tf timeFormatter) []initiativeView {
	d := h.delivery()
	if d == nil || len(kc.Initiatives) == 0 {
		return nil
	}
	var out []initiativeView
	for i, r := range d.Initiatives(o.ID, kc.ID) {
		v := initiativeView{Title: r.Title, Source: r.Source, Error: r.Err}
		if i < len(kc.Initiatives) {
			v.Work = initiativeWork(kc.Initiatives[i])
		}
		if p, ok := r.Progress(); ok {
			v.HasProgress, v.Progress = true, p
			v.Bar = bar{Label: "Initiative progress " + format.Percent(p), Status: initiativeStatus, Progress: p}
		}
		if r.HasValue {
			v.Done = initiativeDone(r)
		}
		if n := len(r.Events); n > 0 {
			e := r.Events[n-1]
			v.LastEvent = tf.at(e.At) + ": " + e.Title
		}
		out = append(out, v)
	}
	return out
}

// initiativeWork names an initiative's work for a reader.
func initiativeWork(in *config.Initiative) string {
	var w string
	switch in.Kind {
	case config.InitiativeJiraEpic:
		w = "epic " + in.JiraEpic
	case config.InitiativeJQL:
		w = "JQL " + in.JQL
	case config.InitiativeGitHubLabel:
		w = "label " + in.GitHubLabel
	case config.InitiativeGitHubMilestone:
		w = "milestone " + in.GitHubMilestone
	}
	if len(in.Repositories) > 0 {
		w += " in " + strings.Join(in.Repositories, ", ")
	}
	return w
}

// initiativeDone says how much of an initiative is done, in its unit.
func initiativeDone(r collectors.InitiativeReport) string {
	num := func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
	switch {
	case r.HasDeployed:
		return num(r.Done) + " of " + num(r.Total) + " pull requests merged, " + strconv.Itoa(r.Deployed) + " deployed"
	case r.By == "points":
		return num(r.Done) + " of " + num(r.Total) + " points done"
	}
	return num(r.Done) + " of " + num(r.Total) + " issues done"
}

// chartMarks are the events of a key result's initiatives, for its chart.
func (h *Handler) chartMarks(o *config.Objective, kc *config.KeyResult) []markEvent {
	d := h.delivery()
	if d == nil || len(kc.Initiatives) == 0 {
		return nil
	}
	var out []markEvent
	for _, r := range d.Initiatives(o.ID, kc.ID) {
		for _, e := range r.Events {
			out = append(out, markEvent{At: e.At, Kind: e.Kind, Title: e.Title, Initiative: r.Title})
		}
	}
	return out
}

// recordHelp is the empty state of a key result without a value: how its
// first value gets recorded.
type recordHelp struct {
	Manual bool
	// Command and Curl record a check-in from the shell and through the
	// API; APIDisabled says that the API needs server.api_token first.
	Command, Curl string
	APIDisabled   bool
	// Source is the source that measures the key result, with its state.
	Source, SourceType, SourceState, SourceError string
}

func (h *Handler) keyResultPage(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet) {
		return
	}
	s := h.snapshotOrStarting(w)
	if s == nil {
		return
	}
	o := s.Objective(r.PathValue("objective"))
	if o == nil {
		h.notFound(w, r, s, "There is no objective "+strconv.Quote(r.PathValue("objective"))+".")
		return
	}
	kr := o.KeyResult(r.PathValue("key_result"))
	if kr == nil {
		h.notFound(w, r, s, "Objective "+strconv.Quote(o.Config.ID)+" has no key result "+strconv.Quote(r.PathValue("key_result"))+".")
		return
	}
	loc := h.location()
	tf := timeFormatter{loc}
	root := rootOf(r.URL.Path)
	kc, res, p := kr.Config, kr.Result, o.Config.Resolved
	v := &krPageView{
		view:         view{Root: root, Title: kc.Title, Now: tf.at(s.EvaluatedAt)},
		Objective:    o,
		ObjectiveURL: objURL(root, o.Config.ID),
		KR: &krView{ID: kc.ID, Title: kc.Title, URL: krURL(root, kr), Config: kc, Result: res, Stale: kr.Stale, Goal: goal(kc),
			Reason: format.KeyResultReason(kr)},
		HistoryURL:  root + "api/v1/objectives/" + pathEscape(o.Config.ID) + "/key_results/" + pathEscape(kc.ID) + "/history",
		CheckinsURL: root + "api/v1/objectives/" + pathEscape(o.Config.ID) + "/key_results/" + pathEscape(kc.ID) + "/checkins",
	}
	v.Facts = h.facts(kr, p, s.EvaluatedAt, tf)
	explainURL := root + "api/v1/objectives/" + pathEscape(o.Config.ID) + "/key_results/" + pathEscape(kc.ID) + "/explain"
	v.Explain = h.explainSection(r.Context(), kc, o.Config.ID, kc.ID, explainURL+"?format=csv", tf)

	v.Manual = h.manual(kc)
	// The check-ins first: the table of values names their authors.
	authors := map[string]string{}
	if st := h.b.Store(); st != nil {
		cs, err := st.Checkins(r.Context(), o.Config.ID, kc.ID, 50)
		if err != nil {
			h.logger.Warn("reading check-ins for the key result page failed", "objective", o.Config.ID, "key_result", kc.ID, "err", err)
			v.CheckinsError = true
		}
		for _, c := range cs {
			v.Checkins = append(v.Checkins, checkinRow{At: tf.at(c.At), Value: format.Value(kc, c.Value), Author: c.Author, Note: c.Note, Recorded: tf.at(c.CreatedAt)})
			authors[format.OriginCheckin+strconv.FormatInt(c.ID, 10)] = c.Author
		}
	}

	vals, err := h.periodHistory(r.Context(), o.Config, kc, s.EvaluatedAt)
	if err != nil {
		h.logger.Warn("reading history for the key result page failed", "objective", o.Config.ID, "key_result", kc.ID, "err", err)
		v.HistoryFailed = true
	}
	hist := samples(vals)
	v.Chart = newChart(kc, res, p, s.EvaluatedAt, hist, loc, h.filledFrom(kc))
	v.Chart.addMarks(h.chartMarks(o.Config, kc), s.EvaluatedAt, loc)
	v.Initiatives = h.initiativeViews(o.Config, kc, tf)
	v.AnnotationsURL = root + "api/v1/annotations?objective=" + url.QueryEscape(o.Config.ID) + "&key_result=" + url.QueryEscape(kc.ID)
	v.ValuesTotal = len(vals)
	for i := len(vals) - 1; i >= 0 && len(v.Values) < maxValueRows; i-- {
		origin := vals[i].Origin
		v.Values = append(v.Values, valueRow{At: tf.at(vals[i].At), Value: format.Value(kc, vals[i].Value), Origin: origin,
			Words: h.originText(origin, authors)})
	}
	v.ValuesShown = len(v.Values)
	if c := countKinds(hist); c.filled > 0 {
		for i := range v.Facts {
			if v.Facts[i].Term == "Values in the period" {
				v.Facts[i].Detail += "; " + strconv.Itoa(c.filled) + " " + h.filledFrom(kc)
			}
		}
	}
	if !res.HasValue && !v.HistoryFailed {
		v.Record = h.recordHelp(r, o.Config, kc)
	}
	h.render(w, http.StatusOK, "keyresult.html", v)
}

// recordHelp is the empty state of a key result page: how the first value
// of a key result without one gets recorded. The curl command names the
// API on server.external_url when it is set, else on the address the
// page was asked for.
func (h *Handler) recordHelp(r *http.Request, o *config.Objective, kc *config.KeyResult) *recordHelp {
	rh := &recordHelp{Manual: h.manual(kc)}
	if !rh.Manual {
		rh.Source, rh.SourceType = kc.Source, h.sourceType(kc.Source)
		rh.SourceState = "not polled yet"
		for _, src := range h.b.Sources() {
			if src.Name != kc.Source {
				continue
			}
			switch {
			case src.Up:
				rh.SourceState = "up"
			case src.Polls > 0:
				rh.SourceState, rh.SourceError = "down", src.LastError
			}
		}
		return rh
	}
	rh.Command = `okrd checkin ` + o.ID + "/" + kc.ID + ` VALUE --note "where the number comes from"`
	cfg := h.b.Config()
	var base string
	if cfg != nil && cfg.Server.ExternalURL != "" {
		base = strings.TrimRight(cfg.Server.ExternalURL, "/")
	} else {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	rh.Curl = `curl -X POST -H "Authorization: Bearer $OKRD_API_TOKEN" -H 'Content-Type: application/json' \` + "\n" +
		`  -d '{"value": VALUE, "note": "where the number comes from"}' \` + "\n" +
		"  " + shellQuote(base+"/api/v1/objectives/"+pathEscape(o.ID)+"/key_results/"+pathEscape(kc.ID)+"/checkins")
	rh.APIDisabled = cfg == nil || cfg.Server.APIToken.Value() == ""
	return rh
}

// shellQuote quotes s for a POSIX shell when it holds anything but the
// characters of a plain URL: the address comes from the configuration or
// the request's Host header, and a command meant to be pasted into a
// shell must not run anything else.
func shellQuote(s string) string {
	plain := true
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-._~:/%@+,=", c)) {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// facts is the summary list of a key result page.
func (h *Handler) facts(kr *snapshot.KeyResult, p okr.Period, now time.Time, tf timeFormatter) []fact {
	kc, r := kr.Config, kr.Result
	var fs []fact
	add := func(term, detail string) { fs = append(fs, fact{term, detail}) }
	if r.HasValue {
		d := format.Value(kc, r.Value) + ", recorded " + tf.at(r.ValueAt) + " (" + ago(now.Sub(r.ValueAt)) + ")"
		if kr.Stale {
			d += "; stale: older than " + format.Span(time.Duration(kc.StaleAfter)) + ", so the status is no data"
		}
		add("Current value", d)
	} else {
		add("Current value", "no value recorded yet")
	}
	add("Goal", goal(kc))
	switch {
	case !r.HasValue && kc.Engine.Direction == okr.Maintain:
		add("Progress", "none without a value")
	case !r.HasValue:
		// No value is not 0% progress: nothing is known yet.
		add("Progress", "none without a value; expected by now "+format.Percent(r.Expected))
		add("Expected value by now", format.Value(kc, format.ExpectedValue(kc, r.Expected)))
	case kc.Engine.Direction == okr.Maintain:
		add("Progress", format.Percent(r.Progress)+" (1 inside the band, 0 outside)")
	default:
		add("Progress", format.Percent(r.Progress)+"; expected by now "+format.Percent(r.Expected)+"; gap "+format.Points(r.Expected, r.Progress))
		add("Expected value by now", format.Value(kc, format.ExpectedValue(kc, r.Expected)))
	}
	switch {
	case r.HasForecast && kc.Engine.Direction == okr.Maintain && r.ForecastProgress >= 1:
		add("Forecast at period end", format.Value(kc, r.Forecast)+" (inside the band)")
	case r.HasForecast && kc.Engine.Direction == okr.Maintain:
		add("Forecast at period end", format.Value(kc, r.Forecast)+" (outside the band)")
	case r.HasForecast:
		add("Forecast at period end", format.Value(kc, r.Forecast)+" ("+format.Percent(r.ForecastProgress)+" progress)")
	case !p.Ended(now):
		add("Forecast at period end", "not enough data: the trend needs at least 3 values spanning a day in the period")
	}
	if c := newConfidenceView(kr.Confidence, now); c != nil {
		d := strconv.Itoa(c.Value) + "/10 (" + c.Level + "), given " + tf.at(kr.Confidence.At) + " (" + c.Age + ")"
		if c.Author != "" {
			d += " by " + c.Author
		}
		if c.Change != "" {
			d += "; " + c.Change
		}
		if c.Note != "" {
			d += ": " + c.Note
		}
		add("Owner's confidence", d)
	} else {
		add("Owner's confidence", "not given yet (okrd confidence "+kr.Objective.ID+"/"+kc.ID+" 1-10|low|medium|high)")
	}
	if r.HasScore {
		add("Score", strconv.FormatFloat(r.Score, 'f', 1, 64))
	}
	add("Period", p.Name+": "+tf.day(p.Start)+" to "+tf.day(p.End.Add(-time.Nanosecond)))
	for _, m := range kc.Milestones {
		add("Milestone", format.Value(kc, m.Value)+" by "+m.Date.String())
	}
	if kc.Owner != "" {
		add("Owner", kc.Owner)
	}
	if kc.Team != "" {
		add("Team", kc.Team)
	}
	src := "manual check-ins"
	if kc.Source != "" {
		src = kc.Source
		if cfg := h.b.Config(); cfg != nil && cfg.Sources[kc.Source] != nil {
			src += " (" + cfg.Sources[kc.Source].Type + ")"
		}
		if kc.Metric != "" {
			src += ", metric " + kc.Metric
		}
	}
	add("Source", src)
	add("Values in the period", strconv.Itoa(kr.Points))
	add("Weight and tolerance", "weight "+strconv.FormatFloat(kc.Engine.Weight, 'g', -1, 64)+", tolerance "+format.Percent(kc.Engine.Tolerance))
	return fs
}

// ago says how long ago something happened, roughly.
func ago(d time.Duration) string {
	switch {
	case d < 0:
		return "in the future"
	case d < 2*time.Minute:
		return "just now"
	case d < 2*time.Hour:
		return strconv.Itoa(int(d.Minutes())) + " minutes ago"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d.Hours())) + " hours ago"
	default:
		return strconv.Itoa(int(d.Hours()/24)) + " days ago"
	}
}

type notFoundView struct {
	view
	Objectives []notFoundObjective
}

type notFoundObjective struct {
	Title, URL string
	KeyResults []filterLink
}

// notFound answers 404 with a page that lists what does exist.
func (h *Handler) notFound(w http.ResponseWriter, r *http.Request, s *snapshot.Snapshot, msg string) {
	root := rootOf(r.URL.Path)
	v := &notFoundView{view: view{Root: root, Title: "Not found", Message: msg}}
	if s != nil {
		v.Now = timeFormatter{h.location()}.at(s.EvaluatedAt)
		for _, o := range s.Objectives {
			no := notFoundObjective{Title: o.Config.Title, URL: objURL(root, o.Config.ID)}
			for _, kr := range o.KeyResults {
				no.KeyResults = append(no.KeyResults, filterLink{Label: kr.Config.Title, URL: krURL(root, kr)})
			}
			v.Objectives = append(v.Objectives, no)
		}
	}
	h.render(w, http.StatusNotFound, "notfound.html", v)
}

// unknownPage answers every path no other handler serves.
func (h *Handler) unknownPage(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet) {
		return
	}
	h.notFound(w, r, h.b.Snapshot(), "There is no page at "+r.URL.Path+".")
}

// static serves the embedded stylesheet and icon. A request that names
// the current version (?v=HASH, as the pages link) may be cached for a
// year; any other is revalidated with the ETag.
func (h *Handler) static(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet) {
		return
	}
	name := r.PathValue("file")
	ver, ok := staticVersions[name]
	if !ok {
		h.notFound(w, r, h.b.Snapshot(), "There is no static file "+strconv.Quote(name)+".")
		return
	}
	b, err := staticFS.ReadFile("static/" + name)
	if err != nil {
		http.Error(w, "reading the static file failed", http.StatusInternalServerError)
		return
	}
	hdr := w.Header()
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("ETag", `"`+ver+`"`)
	if r.URL.Query().Get("v") == ver {
		hdr.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		hdr.Set("Cache-Control", "public, max-age=300")
	}
	switch path.Ext(name) {
	case ".css":
		hdr.Set("Content-Type", "text/css; charset=utf-8")
	case ".svg":
		hdr.Set("Content-Type", "image/svg+xml")
		hdr.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
}
