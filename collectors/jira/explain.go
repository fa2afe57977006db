package jira

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/metrics/explain"
	jm "github.com/okrd/okrd/metrics/jira"
)

var _ collectors.Explainer = (*Source)(nil)

// Explain lists the issues behind a key result's value at at, from the
// model (loaded from the store on first use), through query as Measure
// and History read a binding: the same scope, filters, window and
// quantile. A value asked of Jira live (a JQL count, epic progress over
// a JQL) has no records.
func (s *Source) Explain(ctx context.Context, b collectors.Binding, at time.Time) (explain.Explanation, error) {
	kr := b.KeyResult
	if measuredLive(kr) {
		what := "a live count of its JQL query"
		if kr.Metric == jm.MetricEpicProgress {
			what = "the progress of the issues its JQL query matches, asked live"
		}
		return explain.Explanation{}, collectors.NoRecords(fmt.Errorf("the value of a %s key result is %s at each poll: no stored records make it, so there are none to list", kr.Metric, what))
	}
	if err := s.load(ctx); err != nil {
		return explain.Explanation{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	q, rule, err := s.query(b)
	if err != nil {
		return explain.Explanation{}, s.bindingError(b, err)
	}
	q.Window = rule.At(at)
	e, err := s.model.Explain(q, at)
	if errors.Is(err, jm.ErrLive) {
		return explain.Explanation{}, collectors.NoRecords(err)
	}
	if err != nil {
		return explain.Explanation{}, s.bindingError(b, err)
	}
	return e.Table(s.browse()), nil
}

// browse gives an issue's address on the site: <url>/browse/KEY, from
// the configured url without credentials or query.
func (s *Source) browse() func(string) string {
	u, err := url.Parse(s.spec.URL)
	if err != nil || u.Host == "" {
		return nil
	}
	base := u.Scheme + "://" + u.Host + strings.TrimRight(u.EscapedPath(), "/")
	return func(key string) string { return base + "/browse/" + url.PathEscape(key) }
}
