// Package github computes the DORA four keys and the pull-request flow
// metrics that METRICS.md defines under "GitHub: DORA four keys and
// pull-request flow", from normalized records: pull requests, deployments
// (whatever the deployment signal) and incidents. It does no I/O and reads
// no clock: the collector in collectors/github turns API answers into these
// records, builds an Index once per poll, and every value it exports or
// binds to a key result is a pure function of that Index, a window and
// the instant of the measurement (a past one gives the value as of then).
package github

import (
	"slices"
	"strings"
	"time"
)

// PRState is the state of a pull request.
type PRState uint8

// The states of a pull request. A merged pull request is closed too, but is
// told apart because it is immutable.
const (
	PROpen PRState = iota
	PRClosed
	PRMerged
)

// PullRequest is what the metrics need of one pull request.
type PullRequest struct {
	Repo   string // "owner/name"
	Number int
	// Title is shown by Explain ("" when the record predates it).
	Title string
	State PRState
	// Draft is true for a draft pull request; it counts only while open.
	Draft bool
	// DraftChanges are the instants, oldest first, at which its draft
	// state flipped (converted to draft, marked ready for review). Its
	// state at creation is Draft flipped once per change; without changes
	// it kept its Draft state all its life.
	DraftChanges []time.Time
	// CreatedAt is when the pull request was opened.
	CreatedAt time.Time
	// MergedAt is when it was merged; zero unless State is PRMerged.
	MergedAt time.Time
	// ClosedAt is when a pull request closed without merging was closed;
	// it is open until then (a merged one is open until MergedAt).
	ClosedAt time.Time
	// IntoDefault is true when its base branch was the repository's
	// default branch: only those count for lead time for changes.
	IntoDefault bool
	// FirstCommitAt is the author date of its oldest commit; zero when
	// unknown (lead time then falls back to CreatedAt).
	FirstCommitAt time.Time
	// FirstReviewAt is when the first review by someone other than the
	// author was submitted (pending reviews ignored); zero if none.
	FirstReviewAt time.Time
	// Additions and Deletions are changed lines; their sum is the size.
	Additions, Deletions int
	// Labels are its labels now (for the investment balance).
	Labels []string
}

// Outcome is how a deployment counts for the DORA keys.
type Outcome uint8

// The outcomes of a deployment.
const (
	// Ignored deployments (queued, pending, in progress, inactive without a
	// success, cancelled runs, drafts) count for nothing.
	Ignored Outcome = iota
	// Succeeded deployments count for frequency and lead time, and are the
	// ones an incident is attributed to.
	Succeeded
	// Failed deployments are failed changes.
	Failed
)

// String returns "ignored", "succeeded" or "failed".
func (o Outcome) String() string {
	switch o {
	case Succeeded:
		return "succeeded"
	case Failed:
		return "failed"
	}
	return "ignored"
}

// Deployment is one deployment with its outcome, whatever the deployment
// signal (GitHub deployments, releases or workflow runs).
type Deployment struct {
	Repo string
	ID   string
	// Ref and Environment describe it for Explain: the tag of a release,
	// the branch of a workflow run, the environment of a GitHub
	// deployment ("" when unknown).
	Ref, Environment string
	// Outcome is its outcome as the records stand, which it has had since
	// At.
	Outcome Outcome
	// At is the deploy time of a successful deployment, or the time of the
	// newest (failing) status of a failed one.
	At time.Time
	// Past are the failed outcomes it had before its current one, oldest
	// first: a GitHub deployment that failed and was retried was a failed
	// deployment, dated at its failing status, until its next status. A
	// success never becomes a past outcome (any success counts), so
	// releases, workflow runs and most deployments have none.
	Past []PastOutcome
	// CreatedAt is when the deployment was created; zero when the signal
	// does not say (it only dates the data-quality check below).
	CreatedAt time.Time
	// NoStatus is true for a GitHub deployment without any status: okrd
	// cannot tell whether it succeeded (a data-quality finding).
	NoStatus bool
}

// PastOutcome is a failed outcome a deployment had from At (the failing
// status it is dated at) until Until (the next status that changed it).
type PastOutcome struct {
	At, Until time.Time
}

// Incident is one incident (a labelled GitHub issue or a Jira issue).
type Incident struct {
	ID string
	// Repo is the repository the incident belongs to, or "" for an incident
	// of the whole source (kept in a central repository or in Jira): such an
	// incident is attributed to the latest successful deployment of any
	// repository, and counts for the time to restore of every repository.
	Repo string
	// Title and URL describe it for Explain.
	Title, URL string
	OpenedAt   time.Time
	// ClosedAt is zero while the incident is open.
	ClosedAt time.Time
}

// DeploymentStatus is one status of a GitHub deployment. State is one of
// error, failure, inactive, in_progress, queued, pending, success, waiting,
// in the REST API's lower case or GraphQL's upper case.
type DeploymentStatus struct {
	State     string
	CreatedAt time.Time
}

// DeploymentOutcome applies METRICS.md to the statuses of a GitHub
// deployment (oldest first): it is successful when any status is success,
// deployed at the first success status; it is failed when its newest status
// is failure or error and it never succeeded, dated at that status;
// anything else (queued, pending, in progress, waiting, inactive without a
// success, no status at all) is ignored.
func DeploymentOutcome(statuses []DeploymentStatus) (Outcome, time.Time) {
	var firstSuccess, newest time.Time
	newestState := ""
	for _, s := range statuses {
		state := strings.ToLower(s.State)
		if state == "success" && (firstSuccess.IsZero() || s.CreatedAt.Before(firstSuccess)) {
			firstSuccess = s.CreatedAt
		}
		// GitHub timestamps have one-second resolution: of two statuses
		// created in the same second, the later one in the slice is taken
		// as the newer, so callers pass statuses oldest first.
		if newestState == "" || !s.CreatedAt.Before(newest) {
			newest, newestState = s.CreatedAt, state
		}
	}
	switch {
	case !firstSuccess.IsZero():
		return Succeeded, firstSuccess
	case newestState == "failure" || newestState == "error":
		return Failed, newest
	}
	return Ignored, time.Time{}
}

// StatusDeployment is a GitHub deployment with its statuses: its outcome is
// DeploymentOutcome of them all, and its past outcomes are what
// DeploymentOutcome gave over the statuses created by each earlier
// instant, so that the deployment as it stood at any instant t is the one
// its statuses created at or before t make.
func StatusDeployment(repo, id string, statuses []DeploymentStatus) Deployment {
	d := Deployment{Repo: repo, ID: id, NoStatus: len(statuses) == 0}
	d.Outcome, d.At = DeploymentOutcome(statuses)
	sts := slices.Clone(statuses)
	// Stable: of two statuses in the same second the later one listed
	// stays the newer, as DeploymentOutcome reads them.
	slices.SortStableFunc(sts, func(a, b DeploymentStatus) int { return a.CreatedAt.Compare(b.CreatedAt) })
	var cur Outcome
	var curAt time.Time
	for i := 0; i < len(sts); {
		// The statuses of one instant arrive together.
		j := i + 1
		for j < len(sts) && sts[j].CreatedAt.Equal(sts[i].CreatedAt) {
			j++
		}
		o, at := DeploymentOutcome(sts[:j])
		if o != cur || !at.Equal(curAt) {
			if cur == Failed {
				d.Past = append(d.Past, PastOutcome{At: curAt, Until: sts[i].CreatedAt})
			}
			cur, curAt = o, at
		}
		i = j
	}
	return d
}

// ReleaseOutcome applies METRICS.md to a release: a published release that
// is neither a draft nor a prerelease is a successful deployment at its
// publication time; anything else is ignored.
func ReleaseOutcome(draft, prerelease bool, publishedAt time.Time) (Outcome, time.Time) {
	if draft || prerelease || publishedAt.IsZero() {
		return Ignored, time.Time{}
	}
	return Succeeded, publishedAt
}

// WorkflowRunOutcome applies METRICS.md to a run of the deployment workflow
// on the default branch (the caller checks the branch): a completed run
// deploys at its updated_at; conclusion success is a success, failure,
// timed_out and startup_failure are failures, anything else (cancelled,
// skipped, neutral, ...) and runs not completed are ignored.
func WorkflowRunOutcome(status, conclusion string, updatedAt time.Time) (Outcome, time.Time) {
	if status != "completed" {
		return Ignored, time.Time{}
	}
	switch conclusion {
	case "success":
		return Succeeded, updatedAt
	case "failure", "timed_out", "startup_failure":
		return Failed, updatedAt
	}
	return Ignored, time.Time{}
}

// Review is one review of a pull request.
type Review struct {
	Author      string // login; "" for a deleted account
	State       string // APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED, PENDING
	SubmittedAt time.Time
}

// FirstReview returns when the first review by someone other than the pull
// request's author was submitted, ignoring pending (unsubmitted) reviews;
// zero if there is none. Logins compare case-insensitively, as GitHub's do.
// A review by a deleted account (no login) counts: it was not the author.
func FirstReview(author string, reviews []Review) time.Time {
	var first time.Time
	for _, r := range reviews {
		if r.SubmittedAt.IsZero() || strings.EqualFold(r.State, "PENDING") {
			continue
		}
		if author != "" && strings.EqualFold(r.Author, author) {
			continue
		}
		if first.IsZero() || r.SubmittedAt.Before(first) {
			first = r.SubmittedAt
		}
	}
	return first
}
