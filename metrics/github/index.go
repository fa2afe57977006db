package github

import (
	"cmp"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// DefaultAttributionWindow is how long after a successful deployment an
// incident opened is blamed on it, unless configured otherwise.
const DefaultAttributionWindow = 7 * 24 * time.Hour

// Window is the half-open time interval (From, To]: an event at t is in the
// window when From < t <= To, as METRICS.md's "now - window < t <= now".
type Window struct {
	From, To time.Time
}

// Last returns the window of the last d before now.
func Last(d time.Duration, now time.Time) Window { return Window{From: now.Add(-d), To: now} }

// Days is the length of the window in days (fractional).
func (w Window) Days() float64 { return w.To.Sub(w.From).Hours() / 24 }

// upTo is w ending at now at the latest: nothing after now exists yet.
func (w Window) upTo(now time.Time) Window {
	if w.To.After(now) {
		w.To = now
	}
	return w
}

// Data is every record of one source.
type Data struct {
	// Repos are the repositories of the source, so that a repository
	// without any record yet still has figures (no deployments is a
	// frequency of 0, not an unknown one).
	Repos        []string
	PullRequests []PullRequest
	Deployments  []Deployment
	Incidents    []Incident
	// Attribution is the change failure attribution window; zero means
	// DefaultAttributionWindow.
	Attribution time.Duration
	// Investment, when set, classifies merged pull requests by label for
	// the investment balance.
	Investment *Investment
	// Teams are the source's teams, each with the repositories of Repos it
	// groups (names resolved from its globs).
	Teams []Team
}

// Investment is the investment balance of a GitHub source: categories of
// pull requests by label (case-insensitive). A merged pull request counts
// in the first category that lists one of its labels, else in "other".
type Investment struct {
	Categories []Category
}

// Category is one investment category.
type Category struct {
	Name   string
	Labels []string
}

// OtherCategory is the category of the pull requests no category matches.
const OtherCategory = "other"

// Names returns the categories in order, then "other".
func (inv *Investment) Names() []string {
	out := make([]string, 0, len(inv.Categories)+1)
	for _, c := range inv.Categories {
		out = append(out, c.Name)
	}
	return append(out, OtherCategory)
}

// category returns the position among Names of a pull request's
// category.
func (inv *Investment) category(labels []string) int32 {
	for ci, c := range inv.Categories {
		for _, want := range c.Labels {
			for _, l := range labels {
				if strings.EqualFold(want, l) {
					return int32(ci)
				}
			}
		}
	}
	return int32(len(inv.Categories))
}

// Team is one team's repositories. Its figures are those over the union
// of its repositories' records, each once: a repository listed twice
// counts once, and an incident of the whole source (no repository) counts
// once for the team, as for each repository.
type Team struct {
	Name  string
	Repos []string
}

// TeamScope is the scope name of a team in Index.Scope and in a key
// result: "team:NAME". A repository is always "owner/name", so it cannot
// collide.
func TeamScope(name string) string { return "team:" + name }

// never is the time of an event that does not happen (an open pull
// request's end, the blame of a deployment no incident blames).
const never = math.MaxInt64

// point is one timed value: an event at t (Unix nanoseconds) with a value.
type point struct {
	t int64
	v float64
	// ref is the record's position in the Data the index was built from
	// (a pull request or an incident), for Explain.
	ref int32
}

// mergedPoint is one merged pull request: merged at t.
type mergedPoint struct {
	t     int64
	cycle float64 // merged_at - created_at, seconds
	size  float64 // additions + deletions
	ref   int32   // the pull request in Data
	cat   int32   // investment category (see Investment.Names)
}

// deployPoint is one counted (successful or failed) deployment, dated at
// t, with the outcome it has had since t.
type deployPoint struct {
	t       int64
	id      string
	outcome Outcome
	// ref is the deployment in Data; blamer the incident in Data that
	// blamed it first (-1: none).
	ref, blamer int32
	// blamedAt is, for a successful deployment, when the first incident
	// attributed to it was opened: from then on it is a failed change.
	// never when no incident blames it.
	blamedAt int64
}

// pastPoint is a failed outcome a deployment had, dated t, from t until
// until (exclusive).
type pastPoint struct {
	t, until int64
	ref      int32 // the deployment in Data
}

// Scope is the index of one repository or of the whole source: every
// record arranged by the time that puts it in a window, so that a window
// is two binary searches, and every record that changes with the instant
// of the measurement (an outcome that a later status replaced, the blame
// of a later incident, a pull request's open and draft life) arranged so
// that the records as they stood at any instant are read as cheaply.
type Scope struct {
	name    string
	deploys []deployPoint // current outcomes, by t
	// Prefix counts over deploys: succ[i] successful deployments among
	// deploys[:i], and so on, so that counting a window is O(log n).
	// changeFail counts every deployment blamed at any time.
	succ, fail, changeFail []int32
	// past are the failed outcomes deployments had before their current
	// one, by t: few (retried failures), so they are scanned.
	past []pastPoint
	// blamed are the successful deployments an incident blames, by t:
	// a window as of an instant before the blame subtracts them.
	blamed []deployPoint
	// attribution bounds the blame: blamedAt - t <= attribution.
	attribution int64
	lead        []point       // by deploy time
	merged      []mergedPoint // by merge time
	review      []point       // by first review time
	restore     []point       // by incident close time
	// Pull requests: created are creation times ascending; openUntil[i]
	// is the latest end (merge or close; never while open) among the
	// pull requests created[:i+1], so that the oldest one open at t is the
	// first i whose openUntil[i] > t; ended are the ends ascending.
	created, openUntil, ended []int64
	// draftFrom and draftTo are the starts and the ends (ascending each)
	// of the stretches of open life in which a pull request was a draft.
	draftFrom, draftTo []int64
	// spans and drafts gather the pull requests' open and draft stretches
	// while the index is built.
	spans, drafts []openSpan
	// prs are the pull requests of the scope, as positions in Data, for
	// Explain.
	prs []int32
}

// Index holds one source's records arranged for windowed queries, per
// repository and for the whole source, at any instant (the records as
// they stood then). It is immutable once built, so it can be read
// concurrently.
type Index struct {
	// data are the records the index was built from, which Explain lists.
	data    Data
	all     *Scope
	repos   map[string]*Scope // by lower-case name
	names   []string          // canonical names, sorted
	quality qualityIndex
	// investment is Data.Investment, nil without one.
	investment *Investment
	teams      map[string]*Scope // by team name
	// teamNames are the team names, sorted; teamRepos each team's
	// repositories (canonical, sorted).
	teamNames []string
	teamRepos map[string][]string
}

// NewIndex arranges data for queries. It costs O(n log n) in the number of
// records; queries on the result cost O(log n) plus, for quantiles, the
// sorting of the values in the window.
func NewIndex(data Data) *Index {
	attribution := data.Attribution
	if attribution <= 0 {
		attribution = DefaultAttributionWindow
	}
	ix := &Index{data: data, all: &Scope{name: "", attribution: int64(attribution)}, repos: map[string]*Scope{}, investment: data.Investment}
	if ix.investment != nil && len(ix.investment.Categories) == 0 {
		ix.investment = nil
	}
	scope := func(repo string) *Scope {
		key := strings.ToLower(repo)
		s, ok := ix.repos[key]
		if !ok {
			s = &Scope{name: repo, attribution: int64(attribution)}
			ix.repos[key] = s
			ix.names = append(ix.names, repo)
		}
		return s
	}
	for _, r := range data.Repos {
		scope(r)
	}

	// Deployments, per repository, sorted by time.
	for di, d := range data.Deployments {
		if d.NoStatus {
			ix.quality.statusless = append(ix.quality.statusless, finding{t: d.CreatedAt.UnixNano(), id: d.ID})
		}
		counted := d.Outcome == Succeeded || d.Outcome == Failed
		if !counted && len(d.Past) == 0 {
			continue
		}
		s := scope(d.Repo)
		if counted {
			s.deploys = append(s.deploys, deployPoint{t: d.At.UnixNano(), id: d.ID, outcome: d.Outcome, ref: int32(di), blamer: -1, blamedAt: never})
		}
		for _, p := range d.Past {
			if until := p.Until.UnixNano(); until > p.At.UnixNano() {
				s.past = append(s.past, pastPoint{t: p.At.UnixNano(), until: until, ref: int32(di)})
			}
		}
	}
	// The successful deployments of each repository and of the whole
	// source, by time, for attribution and lead time. A success is final,
	// so these are the same as of any instant after their deploy time.
	succ := map[*Scope][]*deployPoint{}
	var allSucc []*deployPoint
	for _, s := range ix.repos {
		slices.SortFunc(s.deploys, func(a, b deployPoint) int { return cmp.Compare(a.t, b.t) })
		for i := range s.deploys {
			if s.deploys[i].outcome == Succeeded {
				succ[s] = append(succ[s], &s.deploys[i])
			}
		}
		allSucc = append(allSucc, succ[s]...)
	}
	slices.SortFunc(allSucc, func(a, b *deployPoint) int { return cmp.Compare(a.t, b.t) })

	// Change failure attribution: an incident blames the latest successful
	// deployment strictly before it was opened, in its repository (or in
	// any repository for an incident of the whole source), provided it
	// opened within the attribution window after that deployment. A
	// deployment blamed by several incidents is still one failed change,
	// from the opening of the first. As of an instant, only the incidents
	// opened by then exist; the deployment each blames does not depend on
	// the instant, since the deployments that succeeded before its opening
	// all had by then.
	for ii, inc := range data.Incidents {
		opened := inc.OpenedAt.UnixNano()
		cands := allSucc
		if inc.Repo != "" {
			cands = succ[ix.repos[strings.ToLower(inc.Repo)]]
		}
		d, ok := attributed(cands, opened, int64(attribution))
		if !ok {
			ix.quality.unattributed = append(ix.quality.unattributed, finding{t: opened, id: inc.ID})
			continue
		}
		if opened < d.blamedAt {
			d.blamedAt, d.blamer = opened, int32(ii)
		}
	}

	var stretches []openSpan
	ix.all.spans = make([]openSpan, 0, len(data.PullRequests))
	for pi, pr := range data.PullRequests {
		s := scope(pr.Repo)
		ref := int32(pi)
		s.prs = append(s.prs, ref)
		ix.all.prs = append(ix.all.prs, ref)
		if pr.State == PRMerged && !pr.MergedAt.IsZero() && pr.IntoDefault {
			// Lead time for changes: a pull request merged into the
			// default branch is deployed by the first successful
			// deployment of its repository at or after its merge.
			if p, ok := leadTime(pr, succ[s]); ok {
				p.ref = ref
				s.lead = append(s.lead, p)
			} else {
				ix.quality.undeployed = append(ix.quality.undeployed, finding{t: pr.MergedAt.UnixNano(), id: s.name, num: pr.Number})
			}
		}
		if pr.State == PRMerged && !pr.MergedAt.IsZero() {
			m := mergedPoint{t: pr.MergedAt.UnixNano(), cycle: seconds(pr.MergedAt.Sub(pr.CreatedAt)), size: float64(pr.Additions + pr.Deletions), ref: ref}
			if ix.investment != nil {
				m.cat = ix.investment.category(pr.Labels)
			}
			s.merged = append(s.merged, m)
			ix.all.merged = append(ix.all.merged, m)
		}
		if !pr.FirstReviewAt.IsZero() {
			p := point{t: pr.FirstReviewAt.UnixNano(), v: seconds(pr.FirstReviewAt.Sub(pr.CreatedAt)), ref: ref}
			s.review = append(s.review, p)
			ix.all.review = append(ix.all.review, p)
		}
		span := openSpan{created: pr.CreatedAt.UnixNano(), end: openEnd(pr)}
		s.spans = append(s.spans, span)
		ix.all.spans = append(ix.all.spans, span)
		stretches = draftStretches(stretches[:0], pr, span)
		for _, st := range stretches {
			s.drafts = append(s.drafts, st)
			ix.all.drafts = append(ix.all.drafts, st)
		}
	}

	for _, inc := range data.Incidents {
		if inc.Repo != "" {
			scope(inc.Repo)
		}
	}
	for ii, inc := range data.Incidents {
		if inc.ClosedAt.IsZero() {
			continue
		}
		p := point{t: inc.ClosedAt.UnixNano(), v: seconds(inc.ClosedAt.Sub(inc.OpenedAt)), ref: int32(ii)}
		ix.all.restore = append(ix.all.restore, p)
		if inc.Repo == "" {
			// An incident of the whole source is an outage of the service
			// every repository belongs to.
			for _, s := range ix.repos {
				s.restore = append(s.restore, p)
			}
		} else {
			s := scope(inc.Repo)
			s.restore = append(s.restore, p)
		}
	}

	for _, s := range ix.repos {
		ix.all.deploys = append(ix.all.deploys, s.deploys...)
		ix.all.past = append(ix.all.past, s.past...)
		ix.all.lead = append(ix.all.lead, s.lead...)
	}
	slices.SortFunc(ix.all.deploys, func(a, b deployPoint) int { return cmp.Compare(a.t, b.t) })
	ix.buildTeams(data)
	for _, s := range ix.repos {
		s.finish()
	}
	for _, s := range ix.teams {
		s.finish()
	}
	ix.all.finish()
	ix.quality.undeployed.sort()
	ix.quality.statusless.sort()
	ix.quality.unattributed.sort()
	sort.Strings(ix.names)
	return ix
}

// buildTeams makes each team's scope the union of its repositories'
// records, before they are finished: every deployment (with the outcome
// and the blame its repository's records gave it), lead time, merged and
// reviewed pull request and open stretch of each repository once, and
// the time to restore of each incident of one of its repositories or of
// the whole source once.
func (ix *Index) buildTeams(data Data) {
	ix.teams = make(map[string]*Scope, len(data.Teams))
	ix.teamRepos = make(map[string][]string, len(data.Teams))
	for _, t := range data.Teams {
		ts := &Scope{name: TeamScope(t.Name), attribution: ix.all.attribution}
		members := map[*Scope]bool{}
		var repos []string
		for _, r := range t.Repos {
			s := ix.repos[strings.ToLower(r)]
			if s == nil || members[s] {
				continue
			}
			members[s] = true
			repos = append(repos, s.name)
			ts.deploys = append(ts.deploys, s.deploys...)
			ts.past = append(ts.past, s.past...)
			ts.lead = append(ts.lead, s.lead...)
			ts.merged = append(ts.merged, s.merged...)
			ts.review = append(ts.review, s.review...)
			ts.spans = append(ts.spans, s.spans...)
			ts.drafts = append(ts.drafts, s.drafts...)
		}
		for _, inc := range data.Incidents {
			if inc.ClosedAt.IsZero() {
				continue
			}
			if inc.Repo == "" && len(members) > 0 || inc.Repo != "" && members[ix.repos[strings.ToLower(inc.Repo)]] {
				ts.restore = append(ts.restore, point{t: inc.ClosedAt.UnixNano(), v: seconds(inc.ClosedAt.Sub(inc.OpenedAt))})
			}
		}
		slices.SortFunc(ts.deploys, func(a, b deployPoint) int { return cmp.Compare(a.t, b.t) })
		sort.Slice(repos, func(i, j int) bool { return strings.ToLower(repos[i]) < strings.ToLower(repos[j]) })
		if _, dup := ix.teams[t.Name]; !dup {
			ix.teamNames = append(ix.teamNames, t.Name)
		}
		ix.teams[t.Name] = ts
		ix.teamRepos[t.Name] = repos
	}
	sort.Strings(ix.teamNames)
}

// openEnd is when a pull request stopped being open: its merge, its
// closing, or never while it is open. A closed one without a closing time
// (which GitHub does not send) was never open; an end before the creation
// is taken as the creation.
func openEnd(pr PullRequest) int64 {
	var end time.Time
	switch pr.State {
	case PROpen:
		return never
	case PRMerged:
		end = pr.MergedAt
		if end.IsZero() {
			end = pr.ClosedAt
		}
	default:
		end = pr.ClosedAt
	}
	if end.IsZero() || end.Before(pr.CreatedAt) {
		end = pr.CreatedAt
	}
	return end.UnixNano()
}

// openSpan is a stretch [created, end) of a pull request's open life.
type openSpan struct {
	created, end int64
}

// draftStretches appends to out the stretches of a pull request's open
// life in which it was a draft.
func draftStretches(out []openSpan, pr PullRequest, life openSpan) []openSpan {
	draft := pr.Draft
	if len(pr.DraftChanges)%2 == 1 {
		draft = !draft // the state at creation
	}
	from := life.created
	for _, c := range pr.DraftChanges {
		at := min(max(c.UnixNano(), life.created), life.end)
		if draft && at > from {
			out = append(out, openSpan{from, at})
		}
		draft, from = !draft, at
	}
	if draft && life.end > from {
		out = append(out, openSpan{from, life.end})
	}
	return out
}

// leadTime returns the lead time of a merged pull request, at the deploy
// time of the first of the successful deployments succ (by time) at or
// after its merge; ok is false while it is not deployed.
func leadTime(pr PullRequest, succ []*deployPoint) (point, bool) {
	merged := pr.MergedAt.UnixNano()
	i := sort.Search(len(succ), func(i int) bool { return succ[i].t >= merged })
	if i == len(succ) {
		return point{}, false
	}
	start := pr.FirstCommitAt
	if start.IsZero() {
		start = pr.CreatedAt
	}
	lead := float64(succ[i].t-start.UnixNano()) / 1e9
	if lead < 0 {
		lead = 0
	}
	return point{t: succ[i].t, v: lead}, true
}

// finish sorts the scope's series and computes its prefix counts.
func (s *Scope) finish() {
	byT := func(p []point) {
		slices.SortFunc(p, func(a, b point) int { return cmp.Compare(a.t, b.t) })
	}
	byT(s.lead)
	byT(s.review)
	byT(s.restore)
	slices.SortFunc(s.merged, func(a, b mergedPoint) int { return cmp.Compare(a.t, b.t) })
	slices.SortFunc(s.past, func(a, b pastPoint) int { return cmp.Compare(a.t, b.t) })
	n := len(s.deploys)
	s.succ, s.fail, s.changeFail = make([]int32, n+1), make([]int32, n+1), make([]int32, n+1)
	s.blamed = nil
	for i, d := range s.deploys {
		s.succ[i+1], s.fail[i+1], s.changeFail[i+1] = s.succ[i], s.fail[i], s.changeFail[i]
		switch {
		case d.outcome == Failed:
			s.fail[i+1]++
			s.changeFail[i+1]++
		case d.blamedAt != never:
			s.succ[i+1]++
			s.changeFail[i+1]++
			s.blamed = append(s.blamed, d)
		default:
			s.succ[i+1]++
		}
	}

	// Pull requests in creation order, with the running latest end.
	slices.SortFunc(s.spans, func(a, b openSpan) int { return cmp.Compare(a.created, b.created) })
	s.created, s.openUntil = make([]int64, len(s.spans)), make([]int64, len(s.spans))
	s.ended = make([]int64, 0, len(s.spans))
	latest := int64(math.MinInt64)
	for i, sp := range s.spans {
		s.created[i] = sp.created
		latest = max(latest, sp.end)
		s.openUntil[i] = latest
		if sp.end != never {
			s.ended = append(s.ended, sp.end)
		}
	}
	slices.Sort(s.ended)
	s.draftFrom, s.draftTo = make([]int64, len(s.drafts)), make([]int64, 0, len(s.drafts))
	for i, d := range s.drafts {
		s.draftFrom[i] = d.created
		if d.end != never {
			s.draftTo = append(s.draftTo, d.end)
		}
	}
	slices.Sort(s.draftFrom)
	slices.Sort(s.draftTo)
	s.spans, s.drafts = nil, nil
}

func seconds(d time.Duration) float64 {
	if d < 0 {
		return 0
	}
	return d.Seconds()
}

// Repos returns the canonical names of the repositories in the index,
// sorted.
func (ix *Index) Repos() []string { return ix.names }

// Scope returns the index of one repository (matched case-insensitively,
// as GitHub matches names), or of the whole source for "". It returns nil
// for an unknown repository.
//
// A scope "team:NAME" (TeamScope) is the team's: the union of its
// repositories' records. A team without any repository in the index still
// has a scope, with no records (its counts are 0); an unknown team has
// none.
func (ix *Index) Scope(repo string) *Scope {
	if repo == "" {
		return ix.all
	}
	if name, ok := strings.CutPrefix(repo, "team:"); ok {
		return ix.teams[name]
	}
	return ix.repos[strings.ToLower(repo)]
}

// Teams returns the team names of the index, sorted.
func (ix *Index) Teams() []string { return ix.teamNames }

// TeamRepos returns the repositories of a team (canonical names, sorted):
// those of the index that its entries matched.
func (ix *Index) TeamRepos(name string) []string { return ix.teamRepos[name] }

// Name is the repository of the scope, "team:NAME" for a team's, "" for
// the whole source.
func (s *Scope) Name() string { return s.name }

// bounds returns the index range [lo, hi) of the events in w among n events
// whose times t(i) ascend.
func bounds(n int, t func(int) int64, w Window) (int, int) {
	from, to := w.From.UnixNano(), w.To.UnixNano()
	lo := sort.Search(n, func(i int) bool { return t(i) > from })
	hi := sort.Search(n, func(i int) bool { return t(i) > to })
	if hi < lo {
		hi = lo
	}
	return lo, hi
}

// pointsIn returns the points of p (by time) in w.
func pointsIn(p []point, w Window) []point {
	lo, hi := bounds(len(p), func(i int) int64 { return p[i].t }, w)
	return p[lo:hi]
}

func values(p []point, w Window) Distribution {
	in := pointsIn(p, w)
	out := make([]float64, len(in))
	for i, x := range in {
		out[i] = x.v
	}
	return newDistribution(out)
}

// DeploymentCounts are the deployments whose deploy time is in a window.
type DeploymentCounts struct {
	Succeeded int // successful deployments (the count behind frequency)
	Failed    int // failed deployments
	// ChangeFailures are failed deployments plus successful deployments
	// an incident was attributed to.
	ChangeFailures int
}

// ChangeFailureRate is failed changes / (successful + failed deployments);
// there is none without deployments.
func (c DeploymentCounts) ChangeFailureRate() (float64, bool) {
	n := c.Succeeded + c.Failed
	if n == 0 {
		return 0, false
	}
	return float64(c.ChangeFailures) / float64(n), true
}

// Deployments counts the deployments in w as they stood at the end of w.
func (s *Scope) Deployments(w Window) DeploymentCounts { return s.DeploymentsAt(w, w.To) }

// DeploymentsAt counts the deployments in w as they stood at now (w ends
// at or before now): a deployment's outcome is the one its statuses
// created by now give, and a successful one is a failed change once an
// incident opened by now blames it.
func (s *Scope) DeploymentsAt(w Window, now time.Time) DeploymentCounts {
	t := now.UnixNano()
	w = w.upTo(now)
	lo, hi := bounds(len(s.deploys), func(i int) int64 { return s.deploys[i].t }, w)
	c := DeploymentCounts{
		Succeeded:      int(s.succ[hi] - s.succ[lo]),
		Failed:         int(s.fail[hi] - s.fail[lo]),
		ChangeFailures: int(s.changeFail[hi] - s.changeFail[lo]),
	}
	// Blamed deployments whose first blaming incident opened after now
	// were not failed changes yet; only the latest ones can be.
	from := w
	if recent := t - s.attribution; recent > from.From.UnixNano() {
		from.From = time.Unix(0, recent)
	}
	blo, bhi := bounds(len(s.blamed), func(i int) int64 { return s.blamed[i].t }, from)
	for _, d := range s.blamed[blo:bhi] {
		if d.blamedAt > t {
			c.ChangeFailures--
		}
	}
	// A failed outcome that a later status replaced still held at now.
	plo, phi := bounds(len(s.past), func(i int) int64 { return s.past[i].t }, w)
	for _, p := range s.past[plo:phi] {
		if p.until > t {
			c.Failed++
			c.ChangeFailures++
		}
	}
	return c
}

// DeploymentFrequency is successful deployments in w per day of w, as they
// stood at the end of w; a window of no length has none.
func (s *Scope) DeploymentFrequency(w Window) (float64, bool) {
	return s.DeploymentFrequencyAt(w, w.To)
}

// DeploymentFrequencyAt is successful deployments in w per day of w, as
// they stood at now.
func (s *Scope) DeploymentFrequencyAt(w Window, now time.Time) (float64, bool) {
	days := w.Days()
	if days <= 0 {
		return 0, false
	}
	return float64(s.DeploymentsAt(w, now).Succeeded) / days, true
}

// LeadTimes are the lead times for changes (seconds) of the pull requests
// whose deploy time is in w.
func (s *Scope) LeadTimes(w Window) Distribution { return values(s.lead, w) }

// RestoreTimes are the times to restore (seconds) of incidents closed in w.
func (s *Scope) RestoreTimes(w Window) Distribution { return values(s.restore, w) }

// IncidentsResolved counts the incidents closed in w (those whose time to
// restore is in RestoreTimes); 0 when there are none, never absent.
func (s *Scope) IncidentsResolved(w Window) int {
	lo, hi := bounds(len(s.restore), func(i int) int64 { return s.restore[i].t }, w)
	return hi - lo
}

// FirstReviewTimes are the times to first review (seconds) of the pull
// requests, merged or not, whose first review was submitted in w.
func (s *Scope) FirstReviewTimes(w Window) Distribution { return values(s.review, w) }

func (s *Scope) mergedRange(w Window) (int, int) {
	return bounds(len(s.merged), func(i int) int64 { return s.merged[i].t }, w)
}

// Merged is the number of pull requests merged in w into any branch (the
// throughput).
func (s *Scope) Merged(w Window) int {
	lo, hi := s.mergedRange(w)
	return hi - lo
}

// CycleTimes are merged_at - created_at (seconds) of the pull requests
// merged in w.
func (s *Scope) CycleTimes(w Window) Distribution {
	lo, hi := s.mergedRange(w)
	out := make([]float64, hi-lo)
	for i := lo; i < hi; i++ {
		out[i-lo] = s.merged[i].cycle
	}
	return newDistribution(out)
}

// Sizes are additions + deletions of the pull requests merged in w.
func (s *Scope) Sizes(w Window) Distribution {
	lo, hi := s.mergedRange(w)
	out := make([]float64, hi-lo)
	for i := lo; i < hi; i++ {
		out[i-lo] = s.merged[i].size
	}
	return newDistribution(out)
}

// OpenPRs are the pull requests open at an instant.
type OpenPRs struct {
	Open   int // drafts included
	Drafts int
	// Oldest is the creation of the oldest open one; zero when none is
	// open.
	Oldest time.Time
}

// OpenAt returns the pull requests open at now: created by now, and
// neither merged nor closed by now; the drafts among them are those whose
// draft state at now is draft.
func (s *Scope) OpenAt(now time.Time) OpenPRs {
	t := now.UnixNano()
	upTo := func(ts []int64) int { return sort.Search(len(ts), func(i int) bool { return ts[i] > t }) }
	created := upTo(s.created)
	o := OpenPRs{Open: created - upTo(s.ended), Drafts: upTo(s.draftFrom) - upTo(s.draftTo)}
	// openUntil ascends: the first pull request still open after now is
	// the oldest open one, if it was created by now.
	if i := upTo(s.openUntil); i < created {
		o.Oldest = time.Unix(0, s.created[i]).UTC()
	}
	return o
}

// OpenPullRequests is the number of open pull requests, drafts included,
// as the records stand.
func (s *Scope) OpenPullRequests() int { return s.OpenAt(time.Unix(0, never)).Open }

// OpenDraftPullRequests is the number of open draft pull requests (counted
// in OpenPullRequests too), as the records stand.
func (s *Scope) OpenDraftPullRequests() int { return s.OpenAt(time.Unix(0, never)).Drafts }

// OldestOpenAge is the age at now (seconds) of the oldest pull request
// open at now; there is none without open pull requests.
func (s *Scope) OldestOpenAge(now time.Time) (float64, bool) {
	o := s.OpenAt(now)
	if o.Open == 0 {
		return 0, false
	}
	return seconds(now.Sub(o.Oldest)), true
}
