package github

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/metrics/explain"
	mg "github.com/okrd/okrd/metrics/github"
)

var _ collectors.Explainer = (*Source)(nil)

// Explain lists the records behind a key result's value at at: the pull
// requests, deployments or incidents its metric selects in its scope and
// window, from the index the last poll built (or, in a process that has
// not polled, from the stored records). It reads the binding through
// query, as Measure and History do, so that the scope, the window and
// the quantile are the value's.
func (s *Source) Explain(ctx context.Context, b collectors.Binding, at time.Time) (explain.Explanation, error) {
	ix, err := s.explainIndex(ctx)
	if err != nil {
		return explain.Explanation{}, err
	}
	q := query(b)
	var e mg.Explained
	if q.Metric == mg.MetricInvestmentShare {
		e, err = ix.ExplainInvestment(q.Repo, q.Category, q.Window.At(at), at)
	} else {
		e, err = ix.Explain(q.Metric, q.Repo, q.Window.At(at), q.Quantile, at)
	}
	if err != nil {
		return explain.Explanation{}, fmt.Errorf("github source %q: %w", s.name, err)
	}
	out := e.Table(s.links())
	if q.Repo != "" && ix.Scope(q.Repo) == nil {
		out.Note = fmt.Sprintf("the repository %s is not among the source's repositories", q.Repo)
	} else if v := s.view.Load(); v != nil && v.cover != nil {
		if from, ok := v.cover.from(q.Metric, q.Repo); !ok {
			out.Note = "the first sync of the repositories has not finished: the records are not complete yet"
		} else if at.Before(from) {
			out.Note = "the stored records do not cover this instant completely (docs/metrics.md, GitHub history)"
		}
	}
	return out, nil
}

// errNotPolled is the answer while a running source's first poll holds
// the records.
var errNotPolled = errors.New("the source's first poll has not finished yet; try again when it has")

// explainIndex is the index of the last poll, or in a process that has
// not polled (okrd explain) one built from the stored records, as
// CollectAt builds it.
func (s *Source) explainIndex(ctx context.Context) (*mg.Index, error) {
	if v := s.view.Load(); v != nil {
		return v.ix, nil
	}
	if !s.pollMu.TryLock() {
		return nil, fmt.Errorf("github source %q: %w", s.name, errNotPolled)
	}
	defer s.pollMu.Unlock()
	if !s.loaded {
		if err := s.load(ctx); err != nil {
			return nil, err
		}
	}
	if len(s.repos) == 0 {
		s.repos = s.storedRepos()
	}
	if s.spec.IncidentsSource != "" && s.external == nil {
		if err := s.loadExternalIncidents(ctx); err != nil {
			return nil, err
		}
	}
	if s.backfillIx == nil {
		s.backfillIx = mg.NewIndex(s.data())
	}
	return s.backfillIx, nil
}

// webBase is the web address of the GitHub the source reads: github.com
// for api.github.com, the host of a GitHub Enterprise Server.
func (s *Source) webBase() string {
	u, err := url.Parse(s.spec.restURL)
	if err != nil || u.Host == "" {
		return ""
	}
	if strings.EqualFold(u.Host, "api.github.com") {
		return "https://github.com"
	}
	// No credentials and no query: the address is shown to anyone.
	return u.Scheme + "://" + u.Host
}

// links are the addresses of the records on GitHub.
func (s *Source) links() mg.Links {
	base := s.webBase()
	if base == "" {
		return mg.Links{}
	}
	repoURL := func(repo string) string {
		owner, name := splitRepo(repo)
		return base + "/" + url.PathEscape(owner) + "/" + url.PathEscape(name)
	}
	return mg.Links{
		PullRequest: func(repo string, n int) string { return repoURL(repo) + "/pull/" + itoa(n) },
		Deployment: func(d mg.Deployment) string {
			id := d.ID[strings.LastIndexByte(d.ID, '#')+1:]
			switch s.spec.Deployments {
			case SignalReleases:
				if d.Ref != "" {
					return repoURL(d.Repo) + "/releases/tag/" + url.PathEscape(d.Ref)
				}
				return repoURL(d.Repo) + "/releases"
			case SignalWorkflowRuns:
				return repoURL(d.Repo) + "/actions/runs/" + url.PathEscape(id)
			}
			if d.Environment != "" {
				return repoURL(d.Repo) + "/deployments/" + url.PathEscape(d.Environment)
			}
			return repoURL(d.Repo) + "/deployments"
		},
	}
}
