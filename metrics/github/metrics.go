package github

import (
	"fmt"
	"strings"
	"time"
)

// Metric describes one metric a key result can bind to.
type Metric struct {
	Name string
	// Distribution metrics take a quantile (default DefaultQuantile).
	Distribution bool
	// Windowed metrics are computed over the key result's window; the
	// others (open pull requests) are taken now.
	Windowed bool
	// Unit says what the value is, for documentation.
	Unit string
	Help string
}

// The names of the metrics, as key results write them.
const (
	MetricDeploymentFrequency    = "deployment_frequency"
	MetricDeploymentCount        = "deployment_count"
	MetricLeadTime               = "lead_time_for_changes"
	MetricChangeFailureRate      = "change_failure_rate"
	MetricTimeToRestore          = "time_to_restore"
	MetricIncidentsResolved      = "incidents_resolved"
	MetricLevelDeployFrequency   = "dora_level_deployment_frequency"
	MetricLevelLeadTime          = "dora_level_lead_time_for_changes"
	MetricLevelChangeFailureRate = "dora_level_change_failure_rate"
	MetricLevelTimeToRestore     = "dora_level_time_to_restore"
	MetricPRThroughput           = "pr_throughput"
	MetricPRCycleTime            = "pr_cycle_time"
	MetricPRSize                 = "pr_size"
	MetricTimeToFirstReview      = "time_to_first_review"
	MetricOpenPRs                = "open_prs"
	MetricOpenDraftPRs           = "open_draft_prs"
	MetricOldestOpenPRAge        = "oldest_open_pr_age"
)

// DefaultQuantile is the quantile of a distribution metric when a key
// result does not set one (the median).
const DefaultQuantile = 0.5

// Metrics lists every metric, in documentation order.
var Metrics = []Metric{
	{Name: MetricDeploymentFrequency, Windowed: true, Unit: "deployments per day", Help: "successful deployments in the window / days in the window"},
	{Name: MetricDeploymentCount, Windowed: true, Unit: "count", Help: "successful deployments in the window"},
	{Name: MetricLeadTime, Distribution: true, Windowed: true, Unit: "seconds", Help: "first successful deployment at or after merge - first commit author date, per pull request merged into the default branch and deployed in the window"},
	{Name: MetricChangeFailureRate, Windowed: true, Unit: "ratio", Help: "failed changes / (successful + failed deployments) in the window"},
	{Name: MetricTimeToRestore, Distribution: true, Windowed: true, Unit: "seconds", Help: "closed_at - created_at of incidents closed in the window"},
	{Name: MetricIncidentsResolved, Windowed: true, Unit: "count", Help: "incidents closed in the window (0 when none)"},
	{Name: MetricLevelDeployFrequency, Windowed: true, Unit: "level (1 low .. 4 elite)", Help: "DORA 2023 level of the deployment frequency"},
	{Name: MetricLevelLeadTime, Windowed: true, Unit: "level (1 low .. 4 elite)", Help: "DORA 2023 level of the median lead time for changes"},
	{Name: MetricLevelChangeFailureRate, Windowed: true, Unit: "level (1 low .. 4 elite)", Help: "DORA 2023 level of the change failure rate"},
	{Name: MetricLevelTimeToRestore, Windowed: true, Unit: "level (1 low .. 4 elite)", Help: "DORA 2023 level of the median time to restore"},
	{Name: MetricPRThroughput, Windowed: true, Unit: "count", Help: "pull requests merged in the window into any branch"},
	{Name: MetricPRCycleTime, Distribution: true, Windowed: true, Unit: "seconds", Help: "merged_at - created_at of pull requests merged in the window"},
	{Name: MetricPRSize, Distribution: true, Windowed: true, Unit: "lines", Help: "additions + deletions of pull requests merged in the window"},
	{Name: MetricTimeToFirstReview, Distribution: true, Windowed: true, Unit: "seconds", Help: "first review by someone other than the author - created_at, for pull requests whose first review is in the window"},
	{Name: MetricOpenPRs, Unit: "count", Help: "open pull requests now, drafts included"},
	{Name: MetricOpenDraftPRs, Unit: "count", Help: "open draft pull requests now"},
	{Name: MetricOldestOpenPRAge, Unit: "seconds", Help: "age now of the oldest open pull request"},
	{Name: MetricInvestmentShare, Windowed: true, Unit: "ratio", Help: "pull requests of the key result's investment category / all pull requests merged in the window"},
}

// LookupMetric returns the metric named name.
func LookupMetric(name string) (Metric, bool) {
	for _, m := range Metrics {
		if m.Name == name {
			return m, true
		}
	}
	return Metric{}, false
}

// MetricNames returns the names of every metric, for error messages.
func MetricNames() string {
	names := make([]string, len(Metrics))
	for i, m := range Metrics {
		names[i] = m.Name
	}
	return strings.Join(names, ", ")
}

// Value computes one metric for a scope (a repository, or "" for the whole
// source) over window w, as the records stood at now (METRICS.md, "History:
// every metric at a past instant"): events after now do not exist yet,
// deployments have the outcome their statuses created by now give, a
// successful deployment is a failed change once an incident opened by now
// blames it, and open pull requests are those open at now. With now after
// every record it is the live measurement. q is the quantile of
// distribution metrics; a window ending after now ends at now. ok is false
// when the metric has no value (an empty set, an unknown scope), which is
// not an error.
func (ix *Index) Value(metric, repo string, w Window, q float64, now time.Time) (v float64, ok bool, err error) {
	m, known := LookupMetric(metric)
	if !known {
		return 0, false, fmt.Errorf("unknown metric %q; known: %s", metric, MetricNames())
	}
	if metric == MetricInvestmentShare {
		return 0, false, fmt.Errorf("investment_share needs a category: use InvestmentShare")
	}
	s := ix.Scope(repo)
	if s == nil {
		return 0, false, nil
	}
	if !m.Distribution {
		q = DefaultQuantile
	}
	v, ok = s.value(metric, w.upTo(now), q, now)
	if !ok {
		v = 0 // a value that does not exist is no number either
	}
	return v, ok, nil
}

// value computes one metric over w (which ends by now) as of now.
func (s *Scope) value(metric string, w Window, q float64, now time.Time) (float64, bool) {
	switch metric {
	case MetricDeploymentFrequency:
		return s.DeploymentFrequencyAt(w, now)
	case MetricDeploymentCount:
		return float64(s.DeploymentsAt(w, now).Succeeded), true
	case MetricLeadTime:
		return s.LeadTimes(w).Quantile(q)
	case MetricChangeFailureRate:
		return s.DeploymentsAt(w, now).ChangeFailureRate()
	case MetricTimeToRestore:
		return s.RestoreTimes(w).Quantile(q)
	case MetricIncidentsResolved:
		return float64(s.IncidentsResolved(w)), true
	case MetricPRThroughput:
		return float64(s.Merged(w)), true
	case MetricPRCycleTime:
		return s.CycleTimes(w).Quantile(q)
	case MetricPRSize:
		return s.Sizes(w).Quantile(q)
	case MetricTimeToFirstReview:
		return s.FirstReviewTimes(w).Quantile(q)
	case MetricOpenPRs:
		return float64(s.OpenAt(now).Open), true
	case MetricOpenDraftPRs:
		return float64(s.OpenAt(now).Drafts), true
	case MetricOldestOpenPRAge:
		return s.OldestOpenAge(now)
	}
	if key, ok := levelKeys[metric]; ok {
		l, ok := s.LevelAt(key, w, now)
		return float64(l), ok
	}
	return 0, false
}

// DORA keys, as the key label of the level series names them.
const (
	KeyDeploymentFrequency = "deployment_frequency"
	KeyLeadTime            = "lead_time_for_changes"
	KeyChangeFailureRate   = "change_failure_rate"
	KeyTimeToRestore       = "time_to_restore"
)

// Keys lists the four keys.
var Keys = []string{KeyDeploymentFrequency, KeyLeadTime, KeyChangeFailureRate, KeyTimeToRestore}

var levelKeys = map[string]string{
	MetricLevelDeployFrequency:   KeyDeploymentFrequency,
	MetricLevelLeadTime:          KeyLeadTime,
	MetricLevelChangeFailureRate: KeyChangeFailureRate,
	MetricLevelTimeToRestore:     KeyTimeToRestore,
}

// Level is the DORA level of one key over w, as the records stood at the
// end of w; lead time and time to restore are judged by their median. ok is
// false when the key has no value.
func (s *Scope) Level(key string, w Window) (Level, bool) { return s.LevelAt(key, w, w.To) }

// LevelAt is the DORA level of one key over w as the records stood at now.
func (s *Scope) LevelAt(key string, w Window, now time.Time) (Level, bool) {
	switch key {
	case KeyDeploymentFrequency:
		f, ok := s.DeploymentFrequencyAt(w, now)
		return DeploymentFrequencyLevel(f), ok
	case KeyLeadTime:
		p50, ok := s.LeadTimes(w).Quantile(0.5)
		return LeadTimeLevel(p50), ok
	case KeyChangeFailureRate:
		r, ok := s.DeploymentsAt(w, now).ChangeFailureRate()
		return ChangeFailureRateLevel(r), ok
	case KeyTimeToRestore:
		p50, ok := s.RestoreTimes(w).Quantile(0.5)
		return TimeToRestoreLevel(p50), ok
	}
	return 0, false
}

// Summary is every windowed metric of one scope over one window, for the
// exported series.
type Summary struct {
	Repo string // "" for the whole source and for a team
	// Team is the team of a team's summary ("" for the others).
	Team   string
	Window time.Duration
	// Deployments counts successful and failed deployments and failed
	// changes; frequency and change failure rate derive from it.
	Deployments  DeploymentCounts
	Frequency    float64
	LeadTimes    Distribution
	RestoreTimes Distribution
	// IncidentsResolved counts the incidents closed in the window (the
	// values of RestoreTimes), so that the count exists when it is 0.
	IncidentsResolved int
	Merged            int
	CycleTimes        Distribution
	Sizes             Distribution
	FirstReviewTimes  Distribution
	// Levels holds the DORA level of each key that has a value.
	Levels map[string]Level
}

// Summarize computes the summary of the whole source, of every
// repository and of every team (in that order, repositories and teams
// sorted) over each window ending at now, as the records stood at now
// (see Value).
func (ix *Index) Summarize(now time.Time, windows []time.Duration) []Summary {
	scopes := append([]*Scope{ix.all}, make([]*Scope, 0, len(ix.names)+len(ix.teamNames))...)
	for _, name := range ix.names {
		scopes = append(scopes, ix.Scope(name))
	}
	for _, name := range ix.teamNames {
		scopes = append(scopes, ix.teams[name])
	}
	out := make([]Summary, 0, len(scopes)*len(windows))
	for _, s := range scopes {
		repo, team := s.name, ""
		if name, ok := strings.CutPrefix(s.name, "team:"); ok {
			repo, team = "", name
		}
		for _, d := range windows {
			w := Last(d, now)
			sum := Summary{
				Repo:              repo,
				Team:              team,
				Window:            d,
				Deployments:       s.DeploymentsAt(w, now),
				LeadTimes:         s.LeadTimes(w),
				RestoreTimes:      s.RestoreTimes(w),
				IncidentsResolved: s.IncidentsResolved(w),
				Merged:            s.Merged(w),
				CycleTimes:        s.CycleTimes(w),
				Sizes:             s.Sizes(w),
				FirstReviewTimes:  s.FirstReviewTimes(w),
				Levels:            make(map[string]Level, len(Keys)),
			}
			sum.Frequency, _ = s.DeploymentFrequencyAt(w, now)
			sum.Levels[KeyDeploymentFrequency] = DeploymentFrequencyLevel(sum.Frequency)
			if p50, ok := sum.LeadTimes.Quantile(0.5); ok {
				sum.Levels[KeyLeadTime] = LeadTimeLevel(p50)
			}
			if r, ok := sum.Deployments.ChangeFailureRate(); ok {
				sum.Levels[KeyChangeFailureRate] = ChangeFailureRateLevel(r)
			}
			if p50, ok := sum.RestoreTimes.Quantile(0.5); ok {
				sum.Levels[KeyTimeToRestore] = TimeToRestoreLevel(p50)
			}
			out = append(out, sum)
		}
	}
	return out
}
