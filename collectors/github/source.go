// Package github owns the "github" source type: it syncs pull requests,
// the deployment signal (GitHub deployments, releases or the runs of a
// deployment workflow) and incidents from GitHub or GitHub Enterprise
// Server at minimal API cost, and computes the DORA four keys and the
// pull-request flow metrics of metrics/github over them, for key results
// and as okrd_github_* series.
//
// Cost model: bulk reads go through GraphQL (one request returns 100 pull
// requests with their oldest commit and first reviews, or 100 deployments
// with their statuses); a merged pull request is immutable and never
// written twice; every poll starts with conditional REST requests (ETag,
// If-None-Match) whose ETags are stored in the cursors, so an unchanged
// repository costs 304 answers, which GitHub does not charge. See
// docs/sources/github.md.
package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/internal/retry"
	mg "github.com/okrd/okrd/metrics/github"
	"github.com/okrd/okrd/store"
)

// Source is a running github source.
type Source struct {
	name string
	spec *Spec
	// teams are the teams whose repositories are this source's.
	teams []*config.Team
	st    store.Store
	log   *slog.Logger
	c     *client
	now   func() time.Time
	// lookback is how long a deployment or run that has not settled
	// (queued, in progress, failed and perhaps retried) is checked again.
	lookback time.Duration

	pollMu sync.Mutex // one poll at a time; guards everything below
	loaded bool
	// cursors are this source's cursors by scope, as stored.
	cursors map[string]string
	// The in-memory model, loaded from the store once and then updated
	// with what each poll writes.
	prs       map[string]*prRecord
	deploys   map[string]deployEntry // by kind + ":" + record id
	incidents map[string]collectors.Incident
	external  []collectors.Incident // from incidents_source, re-read every poll
	repos     []string              // the repositories of the last poll
	dirty     bool                  // the model changed since the index was built
	// emptyTeams are the teams whose entries matched no repository when
	// the index was last built (warnEmptyTeams).
	emptyTeams map[string]bool

	view atomic.Pointer[view]
	// backfillIx is the index CollectAt builds when it is asked for the
	// past (okrd backfill), kept across its calls while nothing changes.
	backfillIx *mg.Index

	// followed is the change number of the last stored record Follow
	// applied, and followPublished when it last published the view
	// (follow.go); both belong to pollMu.
	followed        int64
	followPublished time.Time

	descOnce sync.Once
	desc     *descs
}

// deployEntry is one stored deployment signal record, as the metrics see
// it, with what decides whether it still counts under the current config.
type deployEntry struct {
	kind string
	env  string // deployments: the environment
	wf   string // workflow runs: the workflow
	d    mg.Deployment
}

// view is what Measure, History and Collect read: computed at the end of a
// poll, immutable.
type view struct {
	ix        *mg.Index
	at        time.Time
	summaries []mg.Summary
	invest    []investFigure
	cover     *coverage
	// quality is what the data-quality checks found at the poll; nil in a
	// view of the past (okrd backfill), which has no such series.
	quality []collectors.QualityCheck
}

// exportWindows are the windows of the exported series.
var exportWindows = []time.Duration{7 * 24 * time.Hour, 28 * 24 * time.Hour, 90 * 24 * time.Hour}

// exportQuantiles are the quantiles of the exported distributions.
var exportQuantiles = []float64{0.5, 0.85, 0.95}

// options are test hooks.
type options struct {
	transport     http.RoundTripper // below the request counter; default http.DefaultTransport
	now           func() time.Time
	clock         retry.Clock // the waits' clock; default the system's
	retryBase     time.Duration
	maxInlineWait time.Duration
}

// New builds a github source.
func New(src *config.Source, deps collectors.Deps) (collectors.Source, error) {
	return newSource(src, deps, options{})
}

func newSource(src *config.Source, deps collectors.Deps, o options) (*Source, error) {
	spec, ok := src.Spec.(*Spec)
	if !ok || spec == nil {
		return nil, fmt.Errorf("github source %q: no github configuration", src.Name)
	}
	if spec.restURL == "" {
		// Built without config.Load (tests): validate now.
		if err := spec.Validate(); err != nil {
			return nil, fmt.Errorf("github source %q: %w", src.Name, err)
		}
	}
	if deps.Store == nil {
		return nil, fmt.Errorf("github source %q: no store", src.Name)
	}
	if o.clock == nil {
		o.clock = retry.System
	}
	if o.now == nil {
		o.now = o.clock.Now
	}
	if o.retryBase == 0 {
		o.retryBase = 500 * time.Millisecond
	}
	if o.maxInlineWait == 0 {
		o.maxInlineWait = 5 * time.Second
	}
	logger := deps.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	lim := &limiter{
		base:          deps.Metrics.Transport(src.Name, o.transport),
		source:        src.Name,
		reserve:       spec.RateLimitReserve,
		clock:         o.clock,
		maxInlineWait: o.maxInlineWait,
		budgets:       map[string]*budget{},
	}
	if deps.Metrics != nil {
		lim.remainingGauge, lim.limitGauge = deps.Metrics.RateLimitRemaining, deps.Metrics.RateLimitLimit
	}
	var tokens tokenSource = staticToken(spec.Token.Value())
	if spec.privateKey != nil {
		tokens = &appToken{
			appID: spec.AppID, installationID: spec.InstallationID, key: spec.privateKey,
			tokenURL: spec.restURL + "app/installations/" + itoa64(spec.InstallationID) + "/access_tokens",
			client:   &http.Client{Transport: lim}, now: o.now, source: src.Name,
		}
	}
	httpClient := &http.Client{Transport: &authTransport{src: tokens, base: lim}}
	ghc := gh.NewClient(httpClient)
	base, err := url.Parse(spec.restURL)
	if err != nil {
		return nil, fmt.Errorf("github source %q: url: %w", src.Name, err)
	}
	ghc.BaseURL = base
	ghc.UserAgent = "okrd"
	s := &Source{
		name: src.Name, spec: spec, teams: src.Teams, st: deps.Store, log: logger, now: o.now, lookback: 72 * time.Hour,
		c: &client{gh: ghc, http: httpClient, graphqlURL: spec.graphqlURL, lim: lim, source: src.Name,
			clock: o.clock, attempts: 4, retryBase: o.retryBase},
	}
	return s, nil
}

func init() {
	collectors.Register("github", New)
}

// A github source fills in key results' history from its records.
var _ collectors.Historian = (*Source)(nil)

// load reads this source's records and cursors into memory, once.
func (s *Source) load(ctx context.Context) error {
	s.cursors = map[string]string{}
	s.prs = map[string]*prRecord{}
	s.deploys = map[string]deployEntry{}
	s.incidents = map[string]collectors.Incident{}
	cs, err := s.st.Cursors(ctx, s.name)
	if err != nil {
		return fmt.Errorf("github source %q: read cursors: %w", s.name, err)
	}
	for _, c := range cs {
		s.cursors[c.Scope] = c.Value
	}
	err = s.st.Records(ctx, s.name, "", func(r store.Record) error {
		s.apply(r)
		return nil
	})
	if err != nil {
		return fmt.Errorf("github source %q: read records: %w", s.name, err)
	}
	s.loaded, s.dirty = true, true
	return nil
}

// apply puts one stored record into the model.
func (s *Source) apply(r store.Record) {
	switch r.Kind {
	case KindPullRequest:
		var p prRecord
		if json.Unmarshal(r.Data, &p) == nil {
			s.prs[r.ID] = &p
		}
	case KindDeployment:
		var d deploymentRecord
		if json.Unmarshal(r.Data, &d) == nil {
			s.deploys[r.Kind+":"+r.ID] = deployEntry{kind: r.Kind, env: d.Environment, d: d.metric()}
		}
	case KindRelease:
		var rel releaseRecord
		if json.Unmarshal(r.Data, &rel) == nil {
			s.deploys[r.Kind+":"+r.ID] = deployEntry{kind: r.Kind, d: rel.metric()}
		}
	case KindWorkflowRun:
		var run runRecord
		if json.Unmarshal(r.Data, &run) == nil {
			s.deploys[r.Kind+":"+r.ID] = deployEntry{kind: r.Kind, wf: run.Workflow, d: run.metric()}
		}
	case collectors.IncidentKind:
		var in collectors.Incident
		if json.Unmarshal(r.Data, &in) == nil {
			s.incidents[r.ID] = in
		}
	}
	s.dirty = true
	s.backfillIx = nil
}

// cursor decodes the cursor of scope into v; it reports whether there was
// one.
func (s *Source) cursor(scope string, v any) bool {
	raw, ok := s.cursors[scope]
	if !ok {
		return false
	}
	if err := json.Unmarshal([]byte(raw), v); err != nil {
		s.log.Warn("ignoring an unreadable sync cursor; that part is synced again", "scope", scope, "err", err)
		return false
	}
	return true
}

// write stores records and a cursor in one transaction, then applies them
// to the model: a poll that fails half way keeps what it wrote and resumes
// from the cursor that came with it.
func (s *Source) write(ctx context.Context, recs []store.Record, scope string, cursor any) error {
	val := string(marshal(cursor))
	err := s.st.Update(ctx, func(tx store.Tx) error {
		if err := tx.PutRecords(ctx, recs...); err != nil {
			return err
		}
		return tx.SetCursor(ctx, s.name, scope, val)
	})
	if err != nil {
		return fmt.Errorf("github source %q: store %s: %w", s.name, scope, err)
	}
	s.cursors[scope] = val
	for _, r := range recs {
		s.apply(r)
	}
	return nil
}

func cursorScope(repo, kind string) string { return strings.ToLower(repo) + ":" + kind }

// Poll syncs every repository: what changed since the stored cursors, at
// the lowest API cost. A rate limit ends the poll with a RetryAfterError
// (what was synced stays synced); a failing repository does not stop the
// others.
func (s *Source) Poll(ctx context.Context) error {
	s.pollMu.Lock()
	defer s.pollMu.Unlock()
	if !s.loaded {
		if err := s.load(ctx); err != nil {
			return err
		}
	}
	defer s.publish()

	repos, err := s.resolveRepos(ctx)
	if err != nil {
		var ra *collectors.RetryAfterError
		if errors.As(err, &ra) || collectors.IsPermanent(err) {
			return err
		}
		return fmt.Errorf("github source %q: %w", s.name, err)
	}
	if len(repos) == 0 {
		s.log.Warn("no repository matches the configured repos; check the owners and patterns", "repos", strings.Join(s.spec.Repos, ", "))
	}
	s.repos = repos
	var errs []error
	notFound := 0
	fatal := func(err error) bool {
		var ra *collectors.RetryAfterError
		return errors.As(err, &ra) || collectors.IsPermanent(err) || ctx.Err() != nil
	}
	for _, repo := range repos {
		err := s.syncRepo(ctx, repo)
		if err == nil {
			continue
		}
		if fatal(err) {
			return err
		}
		if errors.Is(err, errNotFound) {
			notFound++
		}
		s.log.Warn("repository sync failed; the others go on", "repo", repo, "err", err)
		errs = append(errs, fmt.Errorf("%s: %w", repo, err))
	}
	if s.spec.IncidentsRepo != "" {
		if err := s.syncIncidents(ctx, s.spec.IncidentsRepo); err != nil {
			if fatal(err) {
				return err
			}
			errs = append(errs, fmt.Errorf("incidents_repo %s: %w", s.spec.IncidentsRepo, err))
		}
	}
	if s.spec.IncidentsSource != "" {
		if err := s.loadExternalIncidents(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	err = fmt.Errorf("github source %q: %w", s.name, errors.Join(errs...))
	if notFound == len(repos) && len(repos) > 0 {
		// Nothing the source names can be seen: a configuration or
		// permission problem that retrying soon does not fix.
		return collectors.Permanent(err)
	}
	return err
}

// syncRepo syncs one repository's pull requests, deployment signal and
// (with the default incident mode) labelled incidents.
func (s *Source) syncRepo(ctx context.Context, repo string) error {
	if err := s.syncPullRequests(ctx, repo); err != nil {
		return err
	}
	var err error
	switch s.spec.Deployments {
	case SignalDeployments:
		err = s.syncDeployments(ctx, repo)
	case SignalReleases:
		err = s.syncReleases(ctx, repo)
	case SignalWorkflowRuns:
		err = s.syncWorkflowRuns(ctx, repo)
	}
	if err != nil {
		return err
	}
	if s.spec.IncidentsRepo == "" && s.spec.IncidentsSource == "" {
		return s.syncIncidents(ctx, repo)
	}
	return nil
}

// loadExternalIncidents reads the incident records another source (Jira)
// keeps. They are few, so they are read again every poll.
func (s *Source) loadExternalIncidents(ctx context.Context) error {
	var ins []collectors.Incident
	err := s.st.Records(ctx, s.spec.IncidentsSource, collectors.IncidentKind, func(r store.Record) error {
		var in collectors.Incident
		if err := json.Unmarshal(r.Data, &in); err != nil {
			return fmt.Errorf("incident record %s of source %q: %w", r.ID, s.spec.IncidentsSource, err)
		}
		ins = append(ins, in)
		return nil
	})
	if err != nil {
		return fmt.Errorf("read incidents of incidents_source %q: %w", s.spec.IncidentsSource, err)
	}
	if !slices.EqualFunc(ins, s.external, func(a, b collectors.Incident) bool {
		return a.ID == b.ID && a.OpenedAt.Equal(b.OpenedAt) && (a.ClosedAt == nil) == (b.ClosedAt == nil) && (a.ClosedAt == nil || a.ClosedAt.Equal(*b.ClosedAt))
	}) {
		s.external, s.dirty, s.backfillIx = ins, true, nil
	}
	return nil
}

// publish rebuilds the index from the model when it changed, and the
// exported summaries every time (the windows move with the clock).
func (s *Source) publish() {
	now := s.now()
	v := s.view.Load()
	var ix *mg.Index
	var drafts map[string]time.Time
	var unlabelled map[string]bool
	if v != nil && !s.dirty {
		ix, drafts, unlabelled = v.ix, v.cover.drafts, v.cover.unlabelled
	} else {
		ix = mg.NewIndex(s.data())
		drafts, unlabelled = s.draftCoverage(), s.labelCoverage()
		s.dirty = false
		s.warnEmptyTeams(ix)
	}
	cover := s.coverage(ix, drafts)
	cover.unlabelled = unlabelled
	s.view.Store(&view{ix: ix, at: now, summaries: ix.Summarize(now, exportWindows), invest: investFigures(ix, now), cover: cover, quality: s.quality(ix, now)})
}

// warnEmptyTeams says once, when it becomes so, that a team's entries
// match none of the source's repositories (its figures are then those of
// no records), and when they match some again.
func (s *Source) warnEmptyTeams(ix *mg.Index) {
	if len(s.repos) == 0 {
		return
	}
	if s.emptyTeams == nil {
		s.emptyTeams = map[string]bool{}
	}
	for _, t := range s.teams {
		empty := len(ix.TeamRepos(t.Name)) == 0
		switch {
		case empty && !s.emptyTeams[t.Name]:
			s.log.Warn("the team's repositories match none of the source's repositories; its figures count no records until one matches",
				"team", t.Name, "repositories", strings.Join(t.Repositories, ", "))
		case !empty && s.emptyTeams[t.Name]:
			s.log.Info("the team's repositories match repositories of the source again", "team", t.Name, "count", len(ix.TeamRepos(t.Name)))
		}
		s.emptyTeams[t.Name] = empty
	}
}

// quality runs the data-quality checks that apply under the current
// configuration: statuses exist only with the deployments signal.
func (s *Source) quality(ix *mg.Index, now time.Time) []collectors.QualityCheck {
	q := ix.Quality(now)
	check := func(name string, c mg.QualityCount) collectors.QualityCheck {
		out := collectors.QualityCheck{Check: name, Count: c.Count}
		for _, id := range c.Examples {
			out.Examples = append(out.Examples, collectors.QualityExample{ID: id})
		}
		return out
	}
	out := []collectors.QualityCheck{check(collectors.CheckUndeployedPullRequests, q.UndeployedPRs)}
	if s.spec.Deployments == SignalDeployments {
		out = append(out, check(collectors.CheckStatuslessDeployments, q.StatuslessDeployments))
	}
	return append(out, check(collectors.CheckUnattributedIncidents, q.UnattributedIncidents))
}

// DataQuality returns what the data-quality checks found at the last poll
// (collectors.QualityReporter).
func (s *Source) DataQuality() []collectors.QualityCheck {
	if v := s.view.Load(); v != nil {
		return v.quality
	}
	return nil
}

// data gathers the model's records that count under the current
// configuration: the repositories of the last poll, the configured
// deployment signal and environment, and the incident mode.
func (s *Source) data() mg.Data {
	inRepos := make(map[string]string, len(s.repos))
	for _, r := range s.repos {
		inRepos[strings.ToLower(r)] = r
	}
	canon := func(repo string) (string, bool) {
		r, ok := inRepos[strings.ToLower(repo)]
		return r, ok
	}
	d := mg.Data{Repos: s.repos, Attribution: s.spec.attribution(), Investment: s.investment(), Teams: teamRepos(s.teams, s.repos)}
	for _, p := range s.prs {
		if r, ok := canon(p.Repo); ok {
			m := p.metric()
			m.Repo = r
			d.PullRequests = append(d.PullRequests, m)
		}
	}
	kind := map[string]string{SignalDeployments: KindDeployment, SignalReleases: KindRelease, SignalWorkflowRuns: KindWorkflowRun}[s.spec.Deployments]
	for _, e := range s.deploys {
		if e.kind != kind {
			continue
		}
		if kind == KindDeployment && !envMatches(s.spec.Environment, e.env) {
			continue
		}
		if kind == KindWorkflowRun && e.wf != s.spec.Workflow {
			continue
		}
		if r, ok := canon(e.d.Repo); ok {
			m := e.d
			m.Repo = r
			d.Deployments = append(d.Deployments, m)
		}
	}
	switch {
	case s.spec.IncidentsSource != "":
		for _, in := range s.external {
			d.Incidents = append(d.Incidents, incidentMetric(in, true))
		}
	case s.spec.IncidentsRepo != "":
		for _, in := range s.incidents {
			if strings.EqualFold(in.Scope, s.spec.IncidentsRepo) {
				d.Incidents = append(d.Incidents, incidentMetric(in, true))
			}
		}
	default:
		for _, in := range s.incidents {
			if r, ok := canon(in.Scope); ok {
				m := incidentMetric(in, false)
				m.Repo = r
				d.Incidents = append(d.Incidents, m)
			}
		}
	}
	return d
}

// teamRepos resolves each team's repository entries (names and globs)
// against the repositories of the source.
func teamRepos(teams []*config.Team, repos []string) []mg.Team {
	out := make([]mg.Team, 0, len(teams))
	for _, t := range teams {
		mt := mg.Team{Name: t.Name}
		for _, r := range repos {
			if t.MatchRepository(r) {
				mt.Repos = append(mt.Repos, r)
			}
		}
		out = append(out, mt)
	}
	return out
}

// coverage says from which instant the records answer for a key result.
// The first sync of a repository reads everything it has back to its
// creation (pull requests, deployments, releases, runs and incidents of
// every age), so once it has finished the records cover every instant;
// until then they cover none. Records stored before okrd read the
// pull requests' timelines lack the draft changes: a pull request's draft
// state is then known only from its last update on (any change of it
// updates it).
type coverage struct {
	// synced are the repositories (lower case) whose first sync of every
	// kind the configuration reads has finished; all is true when every
	// repository's has.
	synced map[string]bool
	all    bool
	// drafts is, per repository (lower case, "" for the whole source),
	// the latest update of a pull request stored without its draft
	// history.
	drafts map[string]time.Time
	// unlabelled marks the repositories (lower case, "" for the whole
	// source) with a pull request stored without its labels: until it is
	// read again, investment_share has no value at any instant there.
	unlabelled map[string]bool
	// teams are the repositories of each team (by team name).
	teams map[string][]string
}

// from returns the first instant at which a metric of a scope is covered;
// ok is false when no instant is. A team's scope is covered where every
// one of its repositories' is (a team without repositories, like the
// whole source, once every repository's first sync has finished).
func (c *coverage) from(metric, repo string) (time.Time, bool) {
	if name, ok := config.TeamScope(repo); ok {
		repos := c.teams[name]
		if len(repos) == 0 {
			return time.Time{}, c.all
		}
		var from time.Time
		for _, r := range repos {
			f, ok := c.from(metric, r)
			if !ok {
				return time.Time{}, false
			}
			if f.After(from) {
				from = f
			}
		}
		return from, true
	}
	key := strings.ToLower(repo)
	if repo == "" && !c.all || repo != "" && !c.synced[key] {
		return time.Time{}, false
	}
	if metric == mg.MetricOpenDraftPRs {
		return c.drafts[key], true
	}
	if metric == mg.MetricInvestmentShare && c.unlabelled[key] {
		return time.Time{}, false
	}
	return time.Time{}, true
}

// labelCoverage finds the repositories (and the whole source) with a
// pull request stored without its labels.
func (s *Source) labelCoverage() map[string]bool {
	in := make(map[string]bool, len(s.repos))
	for _, r := range s.repos {
		in[strings.ToLower(r)] = true
	}
	out := map[string]bool{}
	for _, p := range s.prs {
		if key := strings.ToLower(p.Repo); !p.LabelsTracked && in[key] {
			out[key], out[""] = true, true
		}
	}
	return out
}

// coverage finds, from the cursors, which repositories' first syncs have
// finished.
func (s *Source) coverage(ix *mg.Index, drafts map[string]time.Time) *coverage {
	// Without a repository nothing is covered, not even the whole source.
	c := &coverage{synced: map[string]bool{}, all: len(s.repos) > 0, drafts: drafts, teams: map[string][]string{}}
	for _, t := range ix.Teams() {
		c.teams[t] = ix.TeamRepos(t)
	}
	shared := true
	if s.spec.IncidentsRepo != "" {
		var ic incidentCursor
		shared = s.peek(cursorScope(s.spec.IncidentsRepo, collectors.IncidentKind), &ic) && ic.Label == s.spec.IncidentLabel
	}
	for _, r := range s.repos {
		ok := shared && s.firstSyncDone(r)
		c.synced[strings.ToLower(r)] = ok
		c.all = c.all && ok
	}
	return c
}

// firstSyncDone reports whether the first sync of every kind of a
// repository under the current configuration has finished. A sync that a
// rate limit cut short resumes from a cursor; the first one is the one
// resuming without a watermark from an earlier, finished one.
func (s *Source) firstSyncDone(repo string) bool {
	var pc prCursor
	if !s.peek(cursorScope(repo, KindPullRequest), &pc) || pc.Resume != nil && pc.Watermark.IsZero() {
		return false
	}
	switch s.spec.Deployments {
	case SignalDeployments:
		var dc deployCursor
		if !s.peek(cursorScope(repo, KindDeployment), &dc) || dc.Filter != s.spec.Environment || dc.Resume != nil && dc.Newest.IsZero() {
			return false
		}
	case SignalReleases:
		var lc listCursor
		if !s.peek(cursorScope(repo, KindRelease), &lc) {
			return false
		}
	case SignalWorkflowRuns:
		var lc listCursor
		if !s.peek(cursorScope(repo, KindWorkflowRun), &lc) || lc.Filter != s.spec.Workflow {
			return false
		}
	}
	if s.spec.IncidentsRepo == "" && s.spec.IncidentsSource == "" {
		var ic incidentCursor
		if !s.peek(cursorScope(repo, collectors.IncidentKind), &ic) || ic.Label != s.spec.IncidentLabel {
			return false
		}
	}
	return true
}

// peek decodes the cursor of scope into v without a word: an unreadable
// cursor is reported by the sync that reads it.
func (s *Source) peek(scope string, v any) bool {
	raw, ok := s.cursors[scope]
	return ok && json.Unmarshal([]byte(raw), v) == nil
}

// draftCoverage finds the latest update of the pull requests stored
// without their draft history, per repository of the source and for the
// whole source.
func (s *Source) draftCoverage() map[string]time.Time {
	in := make(map[string]bool, len(s.repos))
	for _, r := range s.repos {
		in[strings.ToLower(r)] = true
	}
	out := map[string]time.Time{}
	for _, p := range s.prs {
		key := strings.ToLower(p.Repo)
		if p.DraftTracked || !in[key] {
			continue
		}
		for _, k := range []string{key, ""} {
			if p.UpdatedAt.After(out[k]) {
				out[k] = p.UpdatedAt
			}
		}
	}
	return out
}

// envMatches reports whether a deployment environment is the configured
// production environment (a name, or a glob).
func envMatches(pattern, env string) bool {
	if pattern == env {
		return true
	}
	ok, _ := path.Match(pattern, env)
	return ok
}

// isGlob reports whether s has glob characters.
func isGlob(s string) bool { return strings.ContainsAny(s, "*?[") }

// resolveRepos lists the repositories of the source: the names listed,
// and for each owner/pattern entry the owner's repositories whose name
// matches (forks and archived ones excluded).
func (s *Source) resolveRepos(ctx context.Context) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	add := func(r string) {
		if k := strings.ToLower(r); !seen[k] {
			seen[k] = true
			out = append(out, r)
		}
	}
	for _, rs := range s.spec.repos {
		if !rs.pattern {
			add(rs.String())
			continue
		}
		names, err := s.ownerRepos(ctx, rs.owner)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			if ok, _ := path.Match(strings.ToLower(rs.name), strings.ToLower(n)); ok {
				add(rs.owner + "/" + n)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i]) < strings.ToLower(out[j]) })
	return out, nil
}

// listingCursor remembers an owner's repository listing page by page, with
// each page's ETag, so that an unchanged listing costs only 304s.
type listingCursor struct {
	Path  string        `json:"path"` // "orgs/NAME/repos" or "users/NAME/repos"
	Pages []listingPage `json:"pages"`
}

type listingPage struct {
	ETag  string   `json:"etag"`
	Repos []string `json:"repos"` // names, forks and archived ones left out
	Next  bool     `json:"next"`
}

// ownerRepos lists the repository names of an organisation (or, when no
// organisation has that name, of a user).
func (s *Source) ownerRepos(ctx context.Context, owner string) ([]string, error) {
	scope := "owner:" + strings.ToLower(owner)
	var cur listingCursor
	s.cursor(scope, &cur)
	if cur.Path == "" {
		cur.Path = "orgs/" + owner + "/repos"
	}
	var pages []listingPage
	for page := 1; ; page++ {
		etag := ""
		if page <= len(cur.Pages) {
			etag = cur.Pages[page-1].ETag
		}
		var repos []*gh.Repository
		q := url.Values{"per_page": {"100"}, "page": {itoa(page)}}
		resp, notModified, err := s.c.getRetry(ctx, cur.Path, q, etag, &repos)
		if errors.Is(err, errNotFound) && page == 1 && strings.HasPrefix(cur.Path, "orgs/") {
			// Not an organisation: a user.
			cur = listingCursor{Path: "users/" + owner + "/repos"}
			page = 0
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("list the repositories of %s: %w", owner, err)
		}
		var p listingPage
		if notModified {
			p = cur.Pages[page-1]
		} else {
			p = listingPage{ETag: resp.Header.Get("ETag"), Next: resp.NextPage != 0, Repos: []string{}}
			for _, r := range repos {
				if !r.GetFork() && !r.GetArchived() {
					p.Repos = append(p.Repos, r.GetName())
				}
			}
		}
		pages = append(pages, p)
		if !p.Next {
			break
		}
	}
	next := listingCursor{Path: cur.Path, Pages: pages}
	if string(marshal(next)) != s.cursors[scope] {
		if err := s.write(ctx, nil, scope, next); err != nil {
			return nil, err
		}
	}
	var names []string
	for _, p := range pages {
		names = append(names, p.Repos...)
	}
	return names, nil
}

// defaultWindow is the window of a key result that sets none.
const defaultWindow = 28 * 24 * time.Hour

// query is what a key result measures: its metric of its scope, over the
// window its rule gives at each instant, at its quantile. Measure and
// History both read a binding through it, so that a value filled in for
// an instant is the one Measure gives at that instant.
func query(b collectors.Binding) mg.HistoryQuery {
	kr := b.KeyResult
	q := mg.HistoryQuery{Metric: kr.Metric, Repo: kr.Scope, Quantile: mg.DefaultQuantile, Window: mg.WindowRule{Last: defaultWindow}, Category: kr.Category}
	if kr.Quantile != nil {
		q.Quantile = *kr.Quantile
	}
	switch {
	case kr.Window == config.WindowPeriod:
		p := b.Period()
		q.Window = mg.WindowRule{Period: true, Start: p.Start, End: p.End}
	case kr.WindowDuration > 0:
		q.Window = mg.WindowRule{Last: kr.WindowDuration}
	}
	return q
}

// Measure computes each bound key result's metric from the index the last
// poll built.
func (s *Source) Measure(_ context.Context, bs []collectors.Binding, now time.Time) []collectors.Measurement {
	out := make([]collectors.Measurement, len(bs))
	v := s.view.Load()
	if v == nil {
		return out
	}
	for i, b := range bs {
		q := query(b)
		var val float64
		var ok bool
		var err error
		if q.Metric == mg.MetricInvestmentShare {
			val, ok, err = v.ix.InvestmentShare(q.Repo, q.Category, q.Window.At(now), now)
		} else {
			val, ok, err = v.ix.Value(q.Metric, q.Repo, q.Window.At(now), q.Quantile, now)
		}
		if err != nil {
			out[i] = collectors.Measurement{Err: fmt.Errorf("github source %q: %w", s.name, err)}
			continue
		}
		out[i] = collectors.Measurement{OK: ok, Value: val}
	}
	return out
}

// History measures key results at past instants from the index the last
// poll built, as Measure would have at each instant over the records as
// they stood then (collectors.Historian). An instant the records do not
// cover has no value: every instant while a repository's first sync has
// not finished (its records are incomplete at every instant), and, for
// open_draft_prs, the instants before the last update of a pull request
// stored without its draft history.
func (s *Source) History(ctx context.Context, reqs []collectors.HistoryRequest) [][]collectors.Measurement {
	out := make([][]collectors.Measurement, len(reqs))
	for i, r := range reqs {
		out[i] = make([]collectors.Measurement, len(r.At))
	}
	if err := ctx.Err(); err != nil {
		for _, ms := range out {
			for j := range ms {
				ms[j].Err = err
			}
		}
		return out
	}
	v := s.view.Load()
	if v == nil {
		return out // nothing synced: nothing covered
	}
	qs := make([]mg.HistoryQuery, len(reqs))
	for i, r := range reqs {
		qs[i] = query(r.Binding)
		qs[i].At = r.At
	}
	res := v.ix.History(qs)
	for i, r := range res {
		if r.Err != nil {
			err := fmt.Errorf("github source %q: %w", s.name, r.Err)
			for j := range out[i] {
				out[i][j].Err = err
			}
			continue
		}
		from, covered := v.cover.from(qs[i].Metric, qs[i].Repo)
		for j, p := range r.Points {
			if covered && !qs[i].At[j].Before(from) {
				out[i][j] = collectors.Measurement{OK: p.OK, Value: p.Value}
			}
		}
	}
	return out
}

// A github source says what a key result's scope selects.
var _ collectors.ScopeResolver = (*Source)(nil)

// ResolveScope resolves a key result's scope against the repositories of
// the last poll (collectors.ScopeResolver): the whole source, one
// repository, or a team's repositories, its globs resolved.
func (s *Source) ResolveScope(scope string) (collectors.ResolvedScope, error) {
	v := s.view.Load()
	var ix *mg.Index
	if v != nil {
		ix = v.ix
	} else {
		ix = mg.NewIndex(mg.Data{Teams: teamRepos(s.teams, nil)})
	}
	if name, ok := config.TeamScope(scope); ok {
		if ix.Scope(scope) == nil {
			return collectors.ResolvedScope{}, fmt.Errorf("github source %q: no team %q selects its repositories", s.name, name)
		}
		return collectors.ResolvedScope{Kind: collectors.ScopeTeam, Name: name, Repositories: ix.TeamRepos(name)}, nil
	}
	if scope == "" {
		return collectors.ResolvedScope{Kind: collectors.ScopeSource, Repositories: ix.Repos()}, nil
	}
	sc := ix.Scope(scope)
	if sc == nil {
		return collectors.ResolvedScope{}, fmt.Errorf("github source %q: %q is not one of its repositories", s.name, scope)
	}
	return collectors.ResolvedScope{Kind: collectors.ScopeRepository, Name: sc.Name(), Repositories: []string{sc.Name()}}, nil
}
