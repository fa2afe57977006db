// Package jira owns the "jira" source type: it syncs the issues of Jira
// Cloud or Data Center projects (or a JQL scope) incrementally, with their
// changelogs, plus the agile boards and sprints, into normalized records;
// keeps them in memory as a metrics/jira Model; and answers key results
// bound to the flow and sprint metrics of METRICS.md, which it also
// exports as okrd_jira_* series. It is built on go-jira v1.17.0. See
// docs/sources/jira.md.
package jira

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
	jm "github.com/okrd/okrd/metrics/jira"
	"github.com/okrd/okrd/store"
)

// Record kinds the source stores.
const (
	KindIssue  = "issue"
	KindBoard  = "board"
	KindSprint = "sprint"
)

// Cursor scopes.
const (
	cursorIssues    = "issues"
	cursorIncidents = "incidents"
)

func init() {
	config.RegisterSourceType("jira", config.SourceType{
		NewSpec:            func() any { return &Spec{} },
		ValidateKeyResult:  validateKeyResult,
		KeyResultKeys:      []string{"category"},
		InitiativeKinds:    []string{config.InitiativeJiraEpic, config.InitiativeJQL},
		ValidateInitiative: validateInitiative,
		CheckTeam:          checkTeam,
	})
	collectors.Register("jira", func(src *config.Source, deps collectors.Deps) (collectors.Source, error) {
		return New(src, deps, nil)
	})
}

var (
	_ collectors.Source         = (*Source)(nil)
	_ collectors.Historian      = (*Source)(nil)
	_ collectors.HistoryCapable = (*Source)(nil)
	_ prometheus.Collector      = (*Source)(nil)
)

// Source is a Jira source. Poll syncs; Measure and Collect compute from
// the in-memory model only (except jql_count and epic progress over a JQL,
// which ask Jira live).
type Source struct {
	name string
	spec *Spec
	// teams are the teams whose Jira selectors apply to this source, by
	// name.
	teams   map[string]*config.Team
	timeout time.Duration
	st      store.Store
	log     *slog.Logger
	c       *client
	exp     *jm.Exporter
	// qualityDesc describes okrd_data_quality_findings of this source.
	qualityDesc *prometheus.Desc
	cats        jm.Categories
	now         func() time.Time
	// measured is okrd's clock (collectors.Deps.Now), which stamps the
	// values queried live: the sync and the exported series keep the
	// wall clock of now.
	measured func() time.Time

	// pollMu serializes polls; mu guards the model and loaded; siteMu
	// guards site and disc.
	pollMu sync.Mutex
	mu     sync.RWMutex
	model  *jm.Model
	loaded bool
	// covered is where the stored issues begin (see coverage), kept with
	// the model so that History reads it under mu; cursors belong to the
	// poll.
	covered time.Time
	// skipped is the issues cursor's count of the issues older than
	// history (nil: unknown), kept with covered for DataQuality.
	skipped *int
	cursors map[string]cursorState
	siteMu  sync.Mutex
	site    *site
	// disc says where the site and boards in memory come from (see
	// discover).
	disc   discoveryState
	resync atomic.Bool
	// pipe is how pages are read (prefetched by default).
	pipe pipeline
	// followed is the change number of the last stored record Follow
	// applied, and followExported when it last computed the exported
	// series (follow.go); both belong to pollMu.
	followed       int64
	followExported time.Time
}

// New builds a Jira source. base is the HTTP transport under the
// authentication and request counting (nil: http.DefaultTransport); tests
// pass their own.
func New(src *config.Source, deps collectors.Deps, base http.RoundTripper) (*Source, error) {
	spec, ok := src.Spec.(*Spec)
	if !ok || spec == nil {
		return nil, fmt.Errorf("jira source %q: configuration is %T, not *jira.Spec", src.Name, src.Spec)
	}
	if deps.Store == nil {
		return nil, fmt.Errorf("jira source %q: no store", src.Name)
	}
	logger := deps.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c, err := newClient(src.Name, spec, deps.Metrics, base)
	if err != nil {
		return nil, err
	}
	cats := jm.Categories{Start: spec.StartStatuses, Done: spec.DoneStatuses}
	measured := deps.Now
	if measured == nil {
		measured = time.Now
	}
	timeout := time.Duration(src.Timeout)
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	teams := make(map[string]*config.Team, len(src.Teams))
	for _, t := range src.Teams {
		teams[t.Name] = t
	}
	model := jm.NewModel(cats)
	model.SetTeams(modelTeams(src.Teams))
	return &Source{
		name: src.Name, spec: spec, timeout: timeout, st: deps.Store, log: logger, c: c,
		exp: jm.NewExporter(src.Name), qualityDesc: collectors.NewQualityDesc(src.Name), cats: cats, now: time.Now, measured: measured,
		model: model, cursors: map[string]cursorState{}, teams: teams,
	}, nil
}

// modelTeams are the teams of the source as the model takes them.
func modelTeams(teams []*config.Team) []jm.Team {
	out := make([]jm.Team, 0, len(teams))
	for _, t := range teams {
		out = append(out, jm.Team{Name: t.Name, Projects: t.JiraProjects, Boards: t.JiraBoards, Components: t.JiraComponents})
	}
	return out
}

// Resync makes the next poll re-read the whole history (and the boards).
// Nothing served is removed: records are upserted over the existing ones
// and the cursor moves only when the re-read is complete.
func (s *Source) Resync() { s.resync.Store(true) }

// Describe implements prometheus.Collector.
func (s *Source) Describe(ch chan<- *prometheus.Desc) {
	s.exp.Describe(ch)
	ch <- s.qualityDesc
}

// Collect implements prometheus.Collector with the series of the last poll.
func (s *Source) Collect(ch chan<- prometheus.Metric) {
	s.exp.Collect(ch)
	collectors.CollectQuality(s.qualityDesc, s.DataQuality(), ch)
}

// DataQuality returns what the data-quality checks found at the last
// poll (collectors.QualityReporter): the checks of the exported series'
// pass, and the count of the issues older than history that the last
// full sync left out, once one has counted them.
func (s *Source) DataQuality() []collectors.QualityCheck {
	q := s.exp.Quality()
	if q == nil {
		return nil
	}
	base := strings.TrimRight(s.spec.URL, "/")
	check := func(name string, c jm.QualityCount, issues bool) collectors.QualityCheck {
		out := collectors.QualityCheck{Check: name, Count: c.Count}
		for _, id := range c.Examples {
			ex := collectors.QualityExample{ID: id}
			if issues && base != "" {
				ex.URL = base + "/browse/" + url.PathEscape(id)
			}
			out.Examples = append(out.Examples, ex)
		}
		return out
	}
	out := []collectors.QualityCheck{
		check(collectors.CheckDoneWithoutStart, q.DoneWithoutStart, true),
		check(collectors.CheckGuessedStatuses, q.GuessedStatuses, false),
		check(collectors.CheckUnestimatedSprintIssue, q.UnestimatedSprintIssues, true),
	}
	s.mu.RLock()
	skipped := s.skipped
	s.mu.RUnlock()
	if skipped != nil {
		out = append(out, collectors.QualityCheck{Check: collectors.CheckSkippedBeforeHistory, Count: *skipped})
	}
	return out
}

// load reads the records and cursors into memory, once (see
// loadRecords).
func (s *Source) load(ctx context.Context) error {
	s.mu.RLock()
	loaded := s.loaded
	s.mu.RUnlock()
	if loaded {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.loaded {
		return nil
	}
	m, skipped, err := loadRecords(ctx, s.st, s.name, s.cats)
	if err != nil {
		return fmt.Errorf("jira source %q: reading stored records: %w", s.name, err)
	}
	if skipped > 0 {
		s.log.Warn("stored records that do not decode were skipped; a resync rewrites them", "count", skipped)
	}
	curs, err := s.st.Cursors(ctx, s.name)
	if err != nil {
		return fmt.Errorf("jira source %q: reading cursors: %w", s.name, err)
	}
	for _, c := range curs {
		var cs cursorState
		if err := json.Unmarshal([]byte(c.Value), &cs); err != nil {
			s.log.Warn("a stored cursor does not decode; that scope starts over", "scope", c.Scope, "err", err)
			continue
		}
		s.cursors[c.Scope] = cs
	}
	m.SetTeams(s.model.TeamList())
	s.model = m
	s.covered = s.cursors[cursorIssues].covers(time.Duration(s.spec.History))
	s.skipped = s.cursors[cursorIssues].Skipped
	s.loaded = true
	s.exp.Update(m, s.now(), s.exportOptions())
	return nil
}

// exportOptions are the options of the exported series; the caller holds
// s.mu. An investment balance by points without a story-point field is
// left out (a key result bound to it says why).
func (s *Source) exportOptions() jm.ExportOptions {
	o := jm.DefaultExportOptions()
	o.Sprints = s.spec.Sprints
	if inv, err := s.investment(); err == nil {
		o.Investment = inv
	}
	return o
}

// Poll syncs issues, boards, sprints and incidents, then recomputes the
// exported series.
func (s *Source) Poll(ctx context.Context) error {
	s.pollMu.Lock()
	defer s.pollMu.Unlock()
	if err := s.load(ctx); err != nil {
		return err
	}
	full := s.resync.Swap(false)
	err := s.poll(ctx, full)
	if err != nil && full {
		// The re-sync did not finish; the next poll asks again.
		s.resync.Store(true)
	}
	s.mu.RLock()
	s.exp.Update(s.model, s.now(), s.exportOptions())
	s.mu.RUnlock()
	return err
}

func (s *Source) poll(ctx context.Context, full bool) error {
	st, err := s.discover(ctx, full)
	if err != nil {
		return err
	}
	if err := s.syncScope(ctx, st, cursorIssues, s.scopeJQL(), st.searchFields(), full); err != nil {
		return err
	}
	if err := s.syncBoardMembership(ctx, st, full); err != nil {
		return err
	}
	if err := s.syncSprints(ctx, st); err != nil {
		return err
	}
	if s.spec.IncidentsJQL != "" {
		if err := s.syncScope(ctx, st, cursorIncidents, s.spec.IncidentsJQL, st.searchFields("summary"), full); err != nil {
			return err
		}
	}
	return nil
}

// scopeJQL is the source's scope as JQL.
func (s *Source) scopeJQL() string {
	if q := strings.TrimSpace(s.spec.JQL); q != "" {
		return q
	}
	keys := make([]string, len(s.spec.Projects))
	for i, p := range s.spec.Projects {
		keys[i] = strconv.Quote(p)
	}
	return "project in (" + strings.Join(keys, ", ") + ")"
}

// CanHistory implements collectors.HistoryCapable: every metric computed
// from the stored records can be filled in; a JQL count and epic progress
// over a JQL ask Jira about now only.
func (s *Source) CanHistory(b collectors.Binding) bool { return !measuredLive(b.KeyResult) }

// errLiveOnly is the error of a history request for a live metric.
var errLiveOnly = errors.New("measured live by a JQL query, which cannot ask about the past: no history")

// History implements collectors.Historian from the stored records, in
// one sweep for all the requests (metrics/jira Model.History): each
// binding is mapped to the model's query exactly as Measure maps it, and
// the value at an instant t is the one Measure at t gives. Instants the
// stored records do not cover (see coverage) have no value.
func (s *Source) History(ctx context.Context, reqs []collectors.HistoryRequest) [][]collectors.Measurement {
	out := make([][]collectors.Measurement, len(reqs))
	for i, r := range reqs {
		out[i] = make([]collectors.Measurement, len(r.At))
	}
	fail := func(i int, err error) {
		for j := range out[i] {
			out[i][j] = collectors.Measurement{Err: err}
		}
	}
	if err := s.load(ctx); err != nil {
		for i := range reqs {
			fail(i, err)
		}
		return out
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	since, covered := s.coverage()
	var qs []jm.HistoryQuery
	var idx []int
	for i, r := range reqs {
		if measuredLive(r.KeyResult) {
			fail(i, s.bindingError(r.Binding, errLiveOnly))
			continue
		}
		q, rule, err := s.query(r.Binding)
		if err != nil {
			fail(i, s.bindingError(r.Binding, err))
			continue
		}
		if !covered {
			// Not one complete sync yet: no instant is covered.
			continue
		}
		qs = append(qs, jm.HistoryQuery{Query: q, Rule: rule, At: r.At, Since: since})
		idx = append(idx, i)
	}
	if err := ctx.Err(); err != nil {
		for _, i := range idx {
			fail(i, err)
		}
		return out
	}
	for k, res := range s.model.History(qs) {
		i := idx[k]
		if res.Err != nil {
			fail(i, s.bindingError(reqs[i].Binding, res.Err))
			continue
		}
		for j, v := range res.Values {
			out[i][j] = collectors.Measurement{OK: v.OK, Value: v.Value}
		}
	}
	return out
}

// coverage returns the first instant the stored records cover: they
// hold the issues updated since the lower bound of the first complete
// full sync (its start minus history) and every issue not done then,
// with their whole changelogs, so that every event after it is held. ok
// is false before a full sync completed. The caller holds s.mu.
func (s *Source) coverage() (time.Time, bool) { return s.covered, !s.covered.IsZero() }

// covers returns where the records of a scope begin (zero: unknown).
// Cursors written before okrd kept Covers stand for it with the last
// complete full pass, which is at or after the first: a later start
// that is safe.
func (c cursorState) covers(history time.Duration) time.Time {
	switch {
	case !c.Covers.IsZero():
		return c.Covers
	case !c.LastFull.IsZero():
		return c.LastFull.Add(-history)
	}
	return time.Time{}
}

// coversAfterFull is where the records begin once a full pass whose
// lower bound is from completed: a pass over a new scope starts over; a
// pass over the same scope (a re-sync, perhaps with a longer history)
// adds to what the earlier ones read.
func (s *Source) coversAfterFull(cur cursorState, fingerprint string, from time.Time) time.Time {
	if cur.Fingerprint != fingerprint {
		return from
	}
	if old := cur.covers(time.Duration(s.spec.History)); !old.IsZero() && old.Before(from) {
		return old
	}
	return from
}
