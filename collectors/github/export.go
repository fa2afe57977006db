package github

import (
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/okrd/okrd/collectors"
	mg "github.com/okrd/okrd/metrics/github"
)

// WholeSource is the repo label value of the series of the whole source
// (every repository together, not an average of their figures). A
// repository label is always "owner/name", so it cannot collide.
const WholeSource = "all"

// descs are the delivery series of one source. The source name is a
// constant label, so that two github sources register side by side.
type descs struct {
	deployments, failedDeployments, changeFailures, frequency, leadTime, cfr, restore, resolved *prometheus.Desc
	level, merged, cycle, size, firstReview, open, openDrafts, oldestOpen, teamRepo             *prometheus.Desc
	quality                                                                                     *prometheus.Desc
	investMerged, investShare                                                                   *prometheus.Desc
}

func newDescs(source string) *descs {
	c := prometheus.Labels{"source": source}
	// A series is a repository's (repo = "owner/name"), the whole
	// source's (repo = "all") or a team's (team = NAME, repo empty); the
	// other label is empty, which Prometheus stores as no label at all.
	w := []string{"repo", "team", "window"}
	// Distributions are summaries: the quantile label, _sum and _count.
	wq := w
	d := func(name, help string, labels []string) *prometheus.Desc {
		return prometheus.NewDesc("okrd_github_"+name, help, labels, c)
	}
	return &descs{
		deployments:       d("deployments", "Successful deployments whose deploy time is in the window.", w),
		failedDeployments: d("failed_deployments", "Failed deployments (newest status failure or error, never succeeded) in the window.", w),
		changeFailures:    d("change_failures", "Failed changes in the window: failed deployments plus successful deployments an incident was attributed to.", w),
		frequency:         d("deployment_frequency_per_day", "DORA deployment frequency: successful deployments in the window per day.", w),
		leadTime:          d("lead_time_for_changes_seconds", "DORA lead time for changes (first commit to deploy) of pull requests deployed in the window, by quantile.", wq),
		cfr:               d("change_failure_ratio", "DORA change failure rate: failed changes / (successful + failed deployments) in the window.", w),
		restore:           d("time_to_restore_seconds", "DORA time to restore service of incidents closed in the window, by quantile.", wq),
		resolved:          d("incidents_resolved", "Incidents closed in the window (0 when none).", w),
		level:             d("dora_level", "DORA 2023 performance level of each key (1 for the current level, 0 for the others).", []string{"repo", "team", "window", "key", "level"}),
		merged:            d("pull_requests_merged", "Pull requests merged into any branch in the window (throughput).", w),
		cycle:             d("pull_request_cycle_time_seconds", "Pull request cycle time (created to merged) of pull requests merged in the window, by quantile.", wq),
		size:              d("pull_request_size_lines", "Pull request size (additions + deletions) of pull requests merged in the window, by quantile.", wq),
		firstReview:       d("time_to_first_review_seconds", "Time from opening to the first review by someone other than the author, for pull requests first reviewed in the window, by quantile.", wq),
		open:              d("open_pull_requests", "Open pull requests (drafts included) at the last poll.", []string{"repo", "team"}),
		openDrafts:        d("open_draft_pull_requests", "Open draft pull requests at the last poll (counted in open_pull_requests too).", []string{"repo", "team"}),
		oldestOpen:        d("oldest_open_pull_request_age_seconds", "Age of the oldest open pull request at the last poll.", []string{"repo", "team"}),
		teamRepo:          d("team_repository", "1 for each repository of each team (the team's entries, globs resolved, against the repositories of the last poll).", []string{"team", "repo"}),
		quality:           collectors.NewQualityDesc(source),
		investMerged:      d("investment_pull_requests_merged", "Pull requests of an investment category merged in the window.", []string{"repo", "category", "window"}),
		investShare:       d("investment_share_ratio", "Share of the pull requests merged in the window that went to an investment category (absent without merges).", []string{"repo", "category", "window"}),
	}
}

func (d *descs) all() []*prometheus.Desc {
	return []*prometheus.Desc{d.deployments, d.failedDeployments, d.changeFailures, d.frequency, d.leadTime, d.cfr, d.restore,
		d.resolved, d.level, d.merged, d.cycle, d.size, d.firstReview, d.open, d.openDrafts, d.oldestOpen, d.teamRepo, d.quality, d.investMerged, d.investShare}
}

// Describe sends the descriptors of the delivery series.
func (s *Source) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range s.descs().all() {
		ch <- d
	}
}

func (s *Source) descs() *descs {
	s.descOnce.Do(func() { s.desc = newDescs(s.name) })
	return s.desc
}

// windowLabel writes a window the way key results do: "28d".
func windowLabel(d time.Duration) string {
	return strconv.Itoa(int(d/(24*time.Hour))) + "d"
}

func repoLabel(repo string) string {
	if repo == "" {
		return WholeSource
	}
	return repo
}

// Collect sends the series computed at the last poll; it reads no API and
// no database. Values that do not exist (a quantile of an empty set, the
// change failure rate without deployments) are left out, never sent as 0.
func (s *Source) Collect(ch chan<- prometheus.Metric) {
	if v := s.view.Load(); v != nil {
		s.collectView(v, ch)
	}
}

// collectView sends the series of one view: the last poll's, or one built
// at a past instant for okrd backfill (CollectAt).
func (s *Source) collectView(v *view, ch chan<- prometheus.Metric) {
	d := s.descs()
	gauge := func(desc *prometheus.Desc, val float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, val, labels...)
	}
	// A distribution is a summary of its values in the window; an empty
	// one is left out (its quantiles do not exist).
	dist := func(desc *prometheus.Desc, dist mg.Distribution, repo, team, window string) {
		if len(dist) == 0 {
			return
		}
		qs := make(map[float64]float64, len(exportQuantiles))
		for _, q := range exportQuantiles {
			qs[q], _ = dist.Quantile(q)
		}
		sum := 0.0
		for _, v := range dist {
			sum += v
		}
		ch <- prometheus.MustNewConstSummary(desc, uint64(len(dist)), sum, qs, repo, team, window)
	}
	for _, sum := range v.summaries {
		repo, team, window := repoLabel(sum.Repo), sum.Team, windowLabel(sum.Window)
		if team != "" {
			repo = ""
		}
		gauge(d.deployments, float64(sum.Deployments.Succeeded), repo, team, window)
		gauge(d.failedDeployments, float64(sum.Deployments.Failed), repo, team, window)
		gauge(d.changeFailures, float64(sum.Deployments.ChangeFailures), repo, team, window)
		gauge(d.frequency, sum.Frequency, repo, team, window)
		if r, ok := sum.Deployments.ChangeFailureRate(); ok {
			gauge(d.cfr, r, repo, team, window)
		}
		dist(d.leadTime, sum.LeadTimes, repo, team, window)
		dist(d.restore, sum.RestoreTimes, repo, team, window)
		gauge(d.resolved, float64(sum.IncidentsResolved), repo, team, window)
		for _, key := range mg.Keys {
			cur, ok := sum.Levels[key]
			if !ok {
				continue
			}
			for _, l := range mg.Levels {
				val := 0.0
				if l == cur {
					val = 1
				}
				gauge(d.level, val, repo, team, window, key, l.String())
			}
		}
		gauge(d.merged, float64(sum.Merged), repo, team, window)
		dist(d.cycle, sum.CycleTimes, repo, team, window)
		dist(d.size, sum.Sizes, repo, team, window)
		dist(d.firstReview, sum.FirstReviewTimes, repo, team, window)
	}
	collectors.CollectQuality(d.quality, v.quality, ch)
	if inv := v.ix.Investment(); inv != nil {
		names := inv.Names()
		for _, f := range v.invest {
			repo, window := repoLabel(f.repo), windowLabel(f.window)
			for ci, name := range names {
				gauge(d.investMerged, float64(f.per[ci]), repo, name, window)
				if f.total > 0 {
					gauge(d.investShare, float64(f.per[ci])/float64(f.total), repo, name, window)
				}
			}
		}
	}
	scopes := append([]string{""}, v.ix.Repos()...)
	for _, t := range v.ix.Teams() {
		scopes = append(scopes, mg.TeamScope(t))
	}
	for _, scope := range scopes {
		sc := v.ix.Scope(scope)
		repo, team := repoLabel(scope), ""
		if name, ok := strings.CutPrefix(scope, "team:"); ok {
			repo, team = "", name
		}
		open := sc.OpenAt(v.at)
		gauge(d.open, float64(open.Open), repo, team)
		gauge(d.openDrafts, float64(open.Drafts), repo, team)
		if age, ok := sc.OldestOpenAge(v.at); ok {
			gauge(d.oldestOpen, age, repo, team)
		}
	}
	for _, t := range v.ix.Teams() {
		for _, r := range v.ix.TeamRepos(t) {
			gauge(d.teamRepo, 1, t, r)
		}
	}
}
