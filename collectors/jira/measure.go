package jira

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
	jm "github.com/okrd/okrd/metrics/jira"
)

// Measure computes each key result from the model (or, for jql_count and
// epic progress over a JQL, from a live query).
func (s *Source) Measure(ctx context.Context, bs []collectors.Binding, now time.Time) []collectors.Measurement {
	out := make([]collectors.Measurement, len(bs))
	if err := s.load(ctx); err != nil {
		for i := range out {
			out[i].Err = err
		}
		return out
	}
	for i, b := range bs {
		v, ok, at, err := s.measure(ctx, b, now)
		if err != nil {
			out[i].Err = s.bindingError(b, err)
			continue
		}
		out[i] = collectors.Measurement{OK: ok, Value: v, At: at}
	}
	return out
}

// bindingError names the source and the metric in an error about one
// binding.
func (s *Source) bindingError(b collectors.Binding, err error) error {
	if !strings.Contains(err.Error(), "jira source ") {
		err = fmt.Errorf("jira source %q: %w", s.name, err)
	}
	return fmt.Errorf("%s: %w", b.KeyResult.Metric, err)
}

// measuredLive reports whether a key result is measured by asking Jira now
// rather than from the stored records: a JQL count, or epic progress over
// a JQL.
func measuredLive(kr *config.KeyResult) bool {
	return kr.Metric == jm.MetricJQLCount || (kr.Metric == jm.MetricEpicProgress && strings.TrimSpace(kr.Query) != "")
}

// measure computes one key result. at is the instant a live query
// returned, on okrd's clock; zero for values computed from the model at
// now.
func (s *Source) measure(ctx context.Context, b collectors.Binding, now time.Time) (v float64, ok bool, at time.Time, err error) {
	kr := b.KeyResult
	byPoints := kr.By == "points"
	switch {
	case kr.Metric == jm.MetricJQLCount:
		v, ok, err = s.liveCount(ctx, kr.Query)
		return v, ok, s.measured(), err
	case kr.Metric == jm.MetricEpicProgress && strings.TrimSpace(kr.Query) != "":
		v, ok, err = s.liveProgress(ctx, kr.Query, byPoints)
		return v, ok, s.measured(), err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	q, rule, err := s.query(b)
	if err != nil {
		return 0, false, time.Time{}, err
	}
	q.Window = rule.At(now)
	v, ok, err = s.model.Value(q, now)
	return v, ok, time.Time{}, err
}

// query maps a key result measured from the stored records to the
// model's query and the rule of its window (the key result's `window`:
// "period", N days, or 28 days by default), for Measure and History
// alike. The caller holds s.mu.
func (s *Source) query(b collectors.Binding) (jm.Query, jm.WindowRule, error) {
	kr := b.KeyResult
	q := jm.Query{
		Metric:   kr.Metric,
		Filter:   jm.Filter{Scope: kr.Scope, IssueTypes: kr.IssueTypes},
		ByPoints: kr.By == "points",
		Epic:     kr.Epic,
		Sprints:  kr.Sprints,
	}
	if kr.Quantile != nil {
		q.Quantile = *kr.Quantile
	}
	var rule jm.WindowRule
	switch {
	case kr.Window == config.WindowPeriod:
		p := b.Period()
		rule = jm.PeriodRule(p.Start, p.End)
	case kr.WindowDuration > 0:
		rule = jm.LastRule(kr.WindowDuration)
	default:
		rule = jm.LastRule(28 * 24 * time.Hour)
	}
	if name, ok := config.TeamScope(kr.Scope); ok && jm.IsSprintMetric(kr.Metric) {
		// A team's sprint figures are its boards' sprints.
		t := s.teams[name]
		if t == nil || len(t.JiraBoards) == 0 {
			return q, rule, fmt.Errorf("team %q has no jira_boards of this source: the sprint metrics of a team come from its boards", name)
		}
		q.Boards = t.JiraBoards
	} else if jm.IsSprintMetric(kr.Metric) {
		board, err := s.sprintBoard(kr.Scope)
		if err != nil {
			return q, rule, err
		}
		q.Board = board
	}
	if q.Metric == jm.MetricInvestmentShare {
		inv, err := s.investment()
		if err != nil {
			return q, rule, err
		}
		if inv == nil {
			return q, rule, errNoInvestment
		}
		q.Investment, q.Category = inv, kr.Category
	}
	if q.Metric == jm.MetricEpicProgress && q.ByPoints {
		f, err := s.pointsField()
		if err != nil {
			return q, rule, err
		}
		q.PointsField = f
	}
	return q, rule, nil
}

// sprintBoard resolves the board of a sprint metric: scope "board:<id>",
// or the source's only scrum board.
func (s *Source) sprintBoard(scope string) (int, error) {
	if id, ok := jm.ParseBoardScope(scope); ok {
		return id, nil
	}
	var scrum []string
	id := 0
	for _, b := range s.model.Boards() {
		if b.Type == "scrum" {
			scrum = append(scrum, strconv.Itoa(b.ID))
			id = b.ID
		}
	}
	if len(scrum) == 1 {
		return id, nil
	}
	if len(scrum) == 0 {
		return 0, errors.New("the source has no scrum board (yet): sprint metrics need one")
	}
	return 0, fmt.Errorf("the source has several scrum boards (%s): choose one with scope = \"board:<id>\"", strings.Join(scrum, ", "))
}

// pointsField is the story-point field of the whole source: the
// configured one, or the one every board estimates in.
func (s *Source) pointsField() (string, error) {
	if s.spec.StoryPointsField != "" {
		return s.spec.StoryPointsField, nil
	}
	fields := map[string]bool{}
	for _, b := range s.model.Boards() {
		if b.PointsField != "" {
			fields[b.PointsField] = true
		}
	}
	if len(fields) == 1 {
		for f := range fields {
			return f, nil
		}
	}
	if len(fields) == 0 {
		return "", errors.New("no board estimates in story points: set story_points_field on the source")
	}
	list := make([]string, 0, len(fields))
	for f := range fields {
		list = append(list, f)
	}
	sort.Strings(list)
	return "", fmt.Errorf("the boards estimate in different fields (%s): set story_points_field on the source", strings.Join(list, ", "))
}

// liveCount counts the issues matching a JQL now.
func (s *Source) liveCount(ctx context.Context, jql string) (float64, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	st, err := s.ensureSite(ctx, false)
	if err != nil {
		return 0, false, err
	}
	n, err := s.c.countJQL(ctx, st.cloud, jql)
	if err != nil {
		return 0, false, err
	}
	return float64(n), true, nil
}

// liveProgress is done / all over the issues a JQL matches now, by count
// or by story points.
func (s *Source) liveProgress(ctx context.Context, jql string, byPoints bool) (float64, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	st, err := s.ensureSite(ctx, false)
	if err != nil {
		return 0, false, err
	}
	fields := []string{"status"}
	field := ""
	if byPoints {
		s.mu.RLock()
		field, err = s.pointsField()
		s.mu.RUnlock()
		if err != nil {
			return 0, false, err
		}
		fields = append(fields, field)
	}
	p := &pager{c: s.c, cloud: st.cloud, jql: jql, fields: fields, pageSize: s.spec.PageSize}
	var done, all float64
	for !p.done {
		raws, err := p.next(ctx)
		if err != nil {
			return 0, false, err
		}
		for _, r := range raws {
			var status statusJSON
			if err := json.Unmarshal(r.Fields["status"], &status); err != nil {
				return 0, false, fmt.Errorf("issue %s: malformed status: %w", r.Key, err)
			}
			w := 1.0
			if byPoints {
				w = 0
				if raw, ok := r.Fields[field]; ok && string(raw) != "null" {
					if err := json.Unmarshal(raw, &w); err != nil {
						return 0, false, fmt.Errorf("issue %s: malformed %s: %w", r.Key, field, err)
					}
				}
			}
			all += w
			if s.cats.Of(jm.Status{ID: status.ID, Name: status.Name, Category: status.StatusCategory.Key}) == jm.CategoryDone {
				done += w
			}
		}
	}
	if all == 0 {
		return 0, false, nil
	}
	return done / all, true, nil
}

// A jira source says what a key result's scope selects.
var _ collectors.ScopeResolver = (*Source)(nil)

// ResolveScope resolves a key result's scope (collectors.ScopeResolver):
// the whole source (the projects its issues are in), a project, a board
// the source tracks, or a team's projects, boards and components.
func (s *Source) ResolveScope(scope string) (collectors.ResolvedScope, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if name, ok := config.TeamScope(scope); ok {
		t, found := s.model.Team(name)
		if !found {
			return collectors.ResolvedScope{}, fmt.Errorf("jira source %q: no team %q selects its issues", s.name, name)
		}
		return collectors.ResolvedScope{Kind: collectors.ScopeTeam, Name: name, Projects: t.Projects, Boards: t.Boards, Components: t.Components}, nil
	}
	if scope == "" {
		return collectors.ResolvedScope{Kind: collectors.ScopeSource, Projects: s.model.Projects()}, nil
	}
	if id, ok := jm.ParseBoardScope(scope); ok {
		if _, found := s.model.Board(id); !found {
			return collectors.ResolvedScope{}, fmt.Errorf("jira source %q: board %d is not among its boards", s.name, id)
		}
		return collectors.ResolvedScope{Kind: collectors.ScopeBoard, Name: scope, Boards: []int{id}}, nil
	}
	return collectors.ResolvedScope{Kind: collectors.ScopeProject, Name: strings.ToUpper(scope), Projects: []string{strings.ToUpper(scope)}}, nil
}
