package github

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
	mg "github.com/okrd/okrd/metrics/github"
)

var (
	_ collectors.InitiativeTracker  = (*Source)(nil)
	_ collectors.InvestmentReporter = (*Source)(nil)
)

// investment is the source's investment balance for the index, nil
// without one.
func (s *Source) investment() *mg.Investment {
	inv := s.spec.Investment
	if !inv.Enabled() {
		return nil
	}
	out := &mg.Investment{}
	for _, c := range inv.Categories {
		out.Categories = append(out.Categories, mg.Category{Name: c.Name, Labels: c.Labels})
	}
	return out
}

// investFigure is the investment balance of one repository ("" for the
// whole source) over one export window, computed when a view is built so
// that a scrape only sends it.
type investFigure struct {
	repo   string
	window time.Duration
	per    []int
	total  int
}

// investFigures computes the investment balance of every repository and
// the whole source over each export window, as of now.
func investFigures(ix *mg.Index, now time.Time) []investFigure {
	if ix.Investment() == nil {
		return nil
	}
	var out []investFigure
	for _, repo := range append([]string{""}, ix.Repos()...) {
		for _, w := range exportWindows {
			per, total, err := ix.InvestmentOf(repo, mg.Last(w, now), now)
			if err == nil {
				out = append(out, investFigure{repo: repo, window: w, per: per, total: total})
			}
		}
	}
	return out
}

// Investment implements collectors.InvestmentReporter with the figures of
// the last poll.
func (s *Source) Investment() []collectors.InvestmentReport {
	v := s.view.Load()
	if v == nil || v.ix.Investment() == nil {
		return nil
	}
	names := v.ix.Investment().Names()
	out := make([]collectors.InvestmentReport, 0, len(v.invest))
	for _, f := range v.invest {
		r := collectors.InvestmentReport{Source: s.name, Scope: repoLabel(f.repo), Window: windowLabel(f.window), By: "count", Total: float64(f.total), At: v.at}
		for ci, name := range names {
			cs := collectors.CategoryShare{Category: name, Throughput: float64(f.per[ci])}
			if f.total > 0 {
				cs.Share, cs.HasShare = float64(f.per[ci])/float64(f.total), true
			}
			r.Shares = append(r.Shares, cs)
		}
		out = append(out, r)
	}
	return out
}

// Initiatives implements collectors.InitiativeTracker from the stored
// pull requests: those with the label (or in the milestone) in the
// initiative's repositories, open or merged (one closed without merging
// is abandoned work and does not count); done are the merged ones, and a
// merged pull request into the default branch is shipped by the first
// successful deployment at or after its merge (the one lead time for
// changes counts). Events: each merge, and each deployment that shipped
// any of them.
func (s *Source) Initiatives(_ context.Context, reqs []collectors.InitiativeRequest, now time.Time) []collectors.InitiativeReport {
	out := make([]collectors.InitiativeReport, len(reqs))
	v := s.view.Load()
	s.pollMu.Lock()
	defer s.pollMu.Unlock()
	for i, r := range reqs {
		rep := collectors.NewReport(r, now)
		if v == nil {
			rep.Err = fmt.Sprintf("github source %q: not synced yet", s.name)
			out[i] = rep
			continue
		}
		s.initiative(&rep, r.Initiative, v.ix, now)
		out[i] = rep
	}
	return out
}

func (s *Source) initiative(rep *collectors.InitiativeReport, in *config.Initiative, ix *mg.Index, now time.Time) {
	repos := map[string]bool{}
	for _, r := range in.Repositories {
		repos[strings.ToLower(r)] = true
	}
	inSource := map[string]string{}
	for _, r := range s.repos {
		inSource[strings.ToLower(r)] = r
	}
	type ship struct {
		repo, id string
		at       time.Time
		prs      []int
	}
	ships := map[string]*ship{}
	var evs []collectors.Event
	for _, p := range s.prs {
		key := strings.ToLower(p.Repo)
		repo, ok := inSource[key]
		if !ok || (len(repos) > 0 && !repos[key]) || p.CreatedAt.After(now) {
			continue
		}
		if !matches(in, p) {
			continue
		}
		merged := p.MergedAt != nil && !p.MergedAt.After(now)
		if p.State == "closed" && p.ClosedAt != nil && !p.ClosedAt.After(now) {
			continue // closed without merging: abandoned
		}
		rep.Total++
		if !merged {
			continue
		}
		rep.Done++
		ref := fmt.Sprintf("%s#%d", repo, p.Number)
		evs = append(evs, collectors.Event{At: p.MergedAt.UTC(), Kind: collectors.EventPRMerged, Ref: ref, Title: ref + " merged"})
		if !p.IntoDefault {
			continue
		}
		if d, ok := ix.ShippedBy(repo, *p.MergedAt, now); ok {
			rep.Deployed++
			k := repo + "\x00" + d.ID
			sh := ships[k]
			if sh == nil {
				sh = &ship{repo: repo, id: d.ID, at: d.At}
				ships[k] = sh
			}
			sh.prs = append(sh.prs, p.Number)
		}
	}
	for _, sh := range ships {
		sort.Ints(sh.prs)
		nums := make([]string, len(sh.prs))
		for i, n := range sh.prs {
			nums[i] = fmt.Sprintf("#%d", n)
		}
		evs = append(evs, collectors.Event{At: sh.at, Kind: collectors.EventDeployment, Ref: sh.id,
			Title: fmt.Sprintf("%s deployment shipped %s", sh.repo, strings.Join(nums, ", "))})
	}
	rep.HasValue = rep.Total > 0
	rep.HasDeployed = true
	rep.SetEvents(evs)
}

// matches reports whether a pull request carries the initiative's label
// or belongs to its milestone (names compare case-insensitively, as
// GitHub's do).
func matches(in *config.Initiative, p *prRecord) bool {
	switch in.Kind {
	case config.InitiativeGitHubLabel:
		for _, l := range p.Labels {
			if strings.EqualFold(l, in.GitHubLabel) {
				return true
			}
		}
	case config.InitiativeGitHubMilestone:
		return p.Milestone != "" && strings.EqualFold(p.Milestone, in.GitHubMilestone)
	}
	return false
}
