package jira

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	gojira "github.com/andygrunwald/go-jira"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
	jm "github.com/okrd/okrd/metrics/jira"
)

// MaxInitiativeIssues bounds the issues of a JQL initiative: its search
// runs after every poll, a page of 100 per request, and one that matches
// more is reported as an error rather than as a progress over part of it.
const MaxInitiativeIssues = 2000

var (
	_ collectors.InitiativeTracker  = (*Source)(nil)
	_ collectors.InvestmentReporter = (*Source)(nil)
)

var issueKeyRE = regexp.MustCompile(`^[A-Z][A-Z0-9_]*-[1-9][0-9]*$`)

// validateInitiative checks an initiative tracked by a Jira source.
func validateInitiative(_ any, in *config.Initiative) error {
	switch in.Kind {
	case config.InitiativeJiraEpic:
		if !issueKeyRE.MatchString(in.JiraEpic) {
			return config.FieldErrorf("jira_epic", "must be an issue key like \"PAY-12\", not %q", in.JiraEpic)
		}
	case config.InitiativeJQL:
		if q := strings.ToLower(in.JQL); strings.HasPrefix(strings.TrimSpace(q), "order by") || strings.Contains(q, " order by ") {
			return config.FieldErrorf("jql", "must not contain ORDER BY: only the issues it matches count")
		}
	}
	return nil
}

// Initiatives implements collectors.InitiativeTracker: an epic's children
// from the stored records (the epic_progress metric), a JQL initiative by
// a search of at most MaxInitiativeIssues issues; the events are the
// issues done, dated at their done time.
func (s *Source) Initiatives(ctx context.Context, reqs []collectors.InitiativeRequest, now time.Time) []collectors.InitiativeReport {
	out := make([]collectors.InitiativeReport, len(reqs))
	loadErr := s.load(ctx)
	for i, r := range reqs {
		rep := collectors.NewReport(r, now)
		var err error
		switch {
		case loadErr != nil:
			err = loadErr
		case r.Initiative.Kind == config.InitiativeJiraEpic:
			err = s.epicInitiative(&rep, r.Initiative, now)
		case r.Initiative.Kind == config.InitiativeJQL:
			err = s.jqlInitiative(ctx, &rep, r.Initiative, now)
		default:
			err = fmt.Errorf("a jira source does not track %s initiatives", r.Initiative.Kind)
		}
		if err != nil {
			rep.Err = fmt.Sprintf("jira source %q: %v", s.name, err)
			rep.HasValue = false
		}
		out[i] = rep
	}
	return out
}

func (s *Source) epicInitiative(rep *collectors.InitiativeReport, in *config.Initiative, now time.Time) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	field := ""
	if in.By == "points" {
		f, err := s.pointsField()
		if err != nil {
			return err
		}
		field = f
	}
	rep.Done, rep.Total = s.model.EpicCounts(in.JiraEpic, field, now)
	rep.HasValue = rep.Total > 0
	rep.SetEvents(doneEvents(s.model.EpicDone(in.JiraEpic, now)))
	return nil
}

func doneEvents(done []jm.DoneIssue) []collectors.Event {
	evs := make([]collectors.Event, 0, len(done))
	for _, d := range done {
		evs = append(evs, collectors.Event{At: d.DoneAt, Kind: collectors.EventIssueDone, Ref: d.Key, Title: d.Key + " done"})
	}
	return evs
}

// errTooManyIssues is the error of a JQL initiative that matches more
// issues than okrd searches through after every poll.
var errTooManyIssues = fmt.Errorf("the JQL matches more than %d issues; narrow it (an epic, a label, a fix version)", MaxInitiativeIssues)

// jqlInitiative searches the issues a JQL matches now: done over all by
// their current status (and story points), and done events at the done
// time the stored changelog gives, or the resolution date of an issue
// okrd does not store.
func (s *Source) jqlInitiative(ctx context.Context, rep *collectors.InitiativeReport, in *config.Initiative, now time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	st, err := s.ensureSite(ctx, false)
	if err != nil {
		return err
	}
	fields := []string{"status", "resolutiondate"}
	field := ""
	if in.By == "points" {
		s.mu.RLock()
		field, err = s.pointsField()
		s.mu.RUnlock()
		if err != nil {
			return err
		}
		fields = append(fields, field)
	}
	p := &pager{c: s.c, cloud: st.cloud, jql: in.JQL, fields: fields, pageSize: s.spec.PageSize}
	var done, all float64
	var doneKeys []string
	resolved := map[string]time.Time{}
	n := 0
	for !p.done {
		raws, err := p.next(ctx)
		if err != nil {
			return err
		}
		n += len(raws)
		if n > MaxInitiativeIssues {
			return errTooManyIssues
		}
		for _, r := range raws {
			var status statusJSON
			if err := json.Unmarshal(r.Fields["status"], &status); err != nil {
				return fmt.Errorf("issue %s: malformed status: %w", r.Key, err)
			}
			w := 1.0
			if field != "" {
				w = 0
				if raw, ok := r.Fields[field]; ok && string(raw) != "null" {
					if err := json.Unmarshal(raw, &w); err != nil {
						return fmt.Errorf("issue %s: malformed %s: %w", r.Key, field, err)
					}
				}
			}
			all += w
			if s.cats.Of(jm.Status{ID: status.ID, Name: status.Name, Category: status.StatusCategory.Key}) != jm.CategoryDone {
				continue
			}
			done += w
			doneKeys = append(doneKeys, r.Key)
			if raw, ok := r.Fields["resolutiondate"]; ok && string(raw) != "null" {
				var res gojira.Time
				if json.Unmarshal(raw, &res) == nil {
					resolved[r.Key] = time.Time(res).UTC()
				}
			}
		}
	}
	rep.Done, rep.Total, rep.HasValue = done, all, all > 0
	s.mu.RLock()
	stored := s.model.DoneAmong(doneKeys, now)
	s.mu.RUnlock()
	evs := doneEvents(stored)
	known := make(map[string]bool, len(stored))
	for _, d := range stored {
		known[d.Key] = true
	}
	for _, k := range doneKeys {
		if at, ok := resolved[k]; ok && !known[k] && !at.After(now) {
			evs = append(evs, collectors.Event{At: at, Kind: collectors.EventIssueDone, Ref: k, Title: k + " done"})
		}
	}
	rep.SetEvents(evs)
	return nil
}

// investment returns the source's investment balance for the model, or
// nil when none is configured. The caller holds s.mu.
func (s *Source) investment() (*jm.Investment, error) {
	inv := s.spec.Investment
	if !inv.Enabled() {
		return nil, nil
	}
	out := &jm.Investment{}
	for _, c := range inv.Categories {
		out.Categories = append(out.Categories, jm.Category{Name: c.Name, IssueTypes: c.IssueTypes, Labels: c.Labels, Epics: c.Epics})
	}
	if inv.By == "points" {
		f, err := s.pointsField()
		if err != nil {
			return nil, fmt.Errorf("investment by points: %w", err)
		}
		out.PointsField = f
	}
	return out, nil
}

// errNoInvestment is the error of investment_share on a source without
// categories.
var errNoInvestment = errors.New("investment_share needs categories: configure [sources.NAME.investment]")

// Investment implements collectors.InvestmentReporter from the last
// exported series: the whole source and each project and board.
func (s *Source) Investment() []collectors.InvestmentReport {
	inv := s.spec.Investment
	if !inv.Enabled() {
		return nil
	}
	names := inv.CategoryNames()
	figs := s.exp.Investment()
	out := make([]collectors.InvestmentReport, 0, len(figs))
	at := s.exp.UpdatedAt()
	for _, f := range figs {
		r := collectors.InvestmentReport{Source: s.name, Scope: f.Scope, Window: f.Window, By: inv.By, Total: f.Total, At: at}
		for ci, name := range names {
			cs := collectors.CategoryShare{Category: name, Throughput: f.Per[ci]}
			if f.Total > 0 {
				cs.Share, cs.HasShare = f.Per[ci]/f.Total, true
			}
			r.Shares = append(r.Shares, cs)
		}
		out = append(out, r)
	}
	return out
}
