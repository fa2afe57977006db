package github

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// MetricInvestmentShare is the share of the merged pull requests of one
// investment category (key result `metric = "investment_share"`,
// `category`).
const MetricInvestmentShare = "investment_share"

// Investment returns the index's investment balance, nil without one.
func (ix *Index) Investment() *Investment { return ix.investment }

// InvestmentOf returns the pull requests merged in w (as of now) per
// category, in the order of Investment.Names, and their total.
func (ix *Index) InvestmentOf(repo string, w Window, now time.Time) (per []int, total int, err error) {
	if ix.investment == nil {
		return nil, 0, fmt.Errorf("investment_share needs the source's investment categories: configure [sources.NAME.investment]")
	}
	per = make([]int, len(ix.investment.Categories)+1)
	s := ix.Scope(repo)
	if s == nil {
		return per, 0, nil
	}
	lo, hi := s.mergedRange(w.upTo(now))
	for i := lo; i < hi; i++ {
		per[s.merged[i].cat]++
	}
	return per, hi - lo, nil
}

// InvestmentShare is the share of category among the pull requests merged
// in w, as of now; ok is false when none was merged.
func (ix *Index) InvestmentShare(repo, category string, w Window, now time.Time) (float64, bool, error) {
	per, total, err := ix.InvestmentOf(repo, w, now)
	if err != nil {
		return 0, false, err
	}
	ci := -1
	for i, n := range ix.investment.Names() {
		if n == category {
			ci = i
		}
	}
	if ci < 0 {
		return 0, false, fmt.Errorf("unknown investment category %q (categories: %s)", category, strings.Join(ix.investment.Names(), ", "))
	}
	if total == 0 {
		return 0, false, nil
	}
	return float64(per[ci]) / float64(total), true, nil
}

// Shipped is a successful deployment that shipped a merged pull request.
type Shipped struct {
	ID string
	At time.Time
}

// ShippedBy returns the deployment that shipped a pull request merged into
// a repository's default branch at mergedAt, as of now: the first
// successful deployment of the repository at or after the merge, the one
// lead time for changes counts it at.
func (ix *Index) ShippedBy(repo string, mergedAt, now time.Time) (Shipped, bool) {
	s := ix.Scope(repo)
	if s == nil || repo == "" {
		return Shipped{}, false
	}
	merged, t := mergedAt.UnixNano(), now.UnixNano()
	i := sort.Search(len(s.deploys), func(i int) bool { return s.deploys[i].t >= merged })
	for ; i < len(s.deploys) && s.deploys[i].t <= t; i++ {
		if s.deploys[i].outcome == Succeeded {
			return Shipped{ID: s.deploys[i].id, At: time.Unix(0, s.deploys[i].t).UTC()}, true
		}
	}
	return Shipped{}, false
}
