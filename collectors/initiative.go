package collectors

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/okrd/okrd/config"
)

// InitiativeTracker is a Source that reports on the delivery work linked
// to key results (their initiatives: Jira epics and JQL searches, GitHub
// labels and milestones).
//
// Initiatives returns one report per request, in order, as of now: the
// progress of the work (done over total, by count or by story points)
// and the events that moved it (an issue done, a pull request merged, a
// deployment that shipped one), at most MaxInitiativeEvents of them, the
// newest. It is called after each poll, from the poll's goroutine; what
// it asks the remote side (a JQL initiative's search) is bounded, and it
// returns when ctx is done.
type InitiativeTracker interface {
	Initiatives(ctx context.Context, reqs []InitiativeRequest, now time.Time) []InitiativeReport
}

// InitiativeRequest asks about one initiative of a key result.
type InitiativeRequest struct {
	Objective  *config.Objective
	KeyResult  *config.KeyResult
	Initiative *config.Initiative
}

// MaxInitiativeEvents bounds the events of one initiative's report: the
// newest are kept.
const MaxInitiativeEvents = 500

// Event kinds of an initiative.
const (
	EventIssueDone  = "issue_done"
	EventPRMerged   = "pr_merged"
	EventDeployment = "deployment"
)

// InitiativeReport is what a source knows of one initiative.
type InitiativeReport struct {
	// Objective, KeyResult and Initiative are the ids.
	Objective  string `json:"objective"`
	KeyResult  string `json:"key_result"`
	Initiative string `json:"initiative"`
	Title      string `json:"title"`
	Kind       string `json:"kind"`
	Source     string `json:"source"`
	// By is "count" or "points".
	By string `json:"by"`
	// Done and Total are the done and all issues (or their points), or
	// the merged and all pull requests; HasValue is false when the
	// initiative has no work yet (or Err is set).
	Done     float64 `json:"done"`
	Total    float64 `json:"total"`
	HasValue bool    `json:"has_value"`
	// Deployed is, for a GitHub initiative, how many merged pull requests
	// a successful deployment shipped (with HasDeployed).
	Deployed    int  `json:"deployed"`
	HasDeployed bool `json:"has_deployed"`
	// Events are the changes that moved the work, oldest first;
	// EventsOmitted counts the older ones left out.
	Events        []Event `json:"events"`
	EventsOmitted int     `json:"events_omitted,omitempty"`
	// Err says why the initiative could not be measured.
	Err string `json:"error,omitempty"`
	// At is when the report was made.
	At time.Time `json:"at"`
}

// Progress is Done / Total; ok is false without a value or without work.
func (r *InitiativeReport) Progress() (float64, bool) {
	if !r.HasValue || r.Total <= 0 {
		return 0, false
	}
	return r.Done / r.Total, true
}

// Event is one change of an initiative's work.
type Event struct {
	At   time.Time `json:"at"`
	Kind string    `json:"kind"`
	// Ref names the item: an issue key, "owner/name#12", or a deployment.
	Ref string `json:"ref"`
	// Title says what happened, for a chart's tooltip.
	Title string `json:"title"`
}

// NewReport starts the report of a request.
func NewReport(r InitiativeRequest, now time.Time) InitiativeReport {
	in := r.Initiative
	return InitiativeReport{Objective: r.Objective.ID, KeyResult: r.KeyResult.ID, Initiative: in.ID, Title: in.Title,
		Kind: in.Kind, Source: in.Source, By: in.By, At: now, Events: []Event{}}
}

// SetEvents sorts events oldest first (by time, then reference) and keeps
// the newest MaxInitiativeEvents.
func (r *InitiativeReport) SetEvents(evs []Event) {
	sortEvents(evs)
	if n := len(evs) - MaxInitiativeEvents; n > 0 {
		r.EventsOmitted = n
		evs = evs[n:]
	}
	r.Events = evs
}

// InvestmentReporter is a Source with an investment balance: the share of
// its throughput by category of work, per scope and window, as of its
// last poll.
type InvestmentReporter interface {
	Investment() []InvestmentReport
}

// InvestmentReport is the investment balance of one scope (the whole
// source, a project, a board or a repository) over one window.
type InvestmentReport struct {
	Source string `json:"source"`
	Scope  string `json:"scope"`
	Window string `json:"window"`
	// By is "count" or "points".
	By string `json:"by"`
	// Total is the throughput (done issues or their points, merged pull
	// requests) of the window.
	Total  float64         `json:"total"`
	Shares []CategoryShare `json:"categories"`
	At     time.Time       `json:"at"`
}

// CategoryShare is one category's part of an investment balance; Share is
// absent (HasShare false) without throughput.
type CategoryShare struct {
	Category   string  `json:"category"`
	Throughput float64 `json:"throughput"`
	Share      float64 `json:"share"`
	HasShare   bool    `json:"has_share"`
}

func sortEvents(evs []Event) {
	slices.SortStableFunc(evs, func(a, b Event) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return strings.Compare(a.Ref, b.Ref)
	})
}
