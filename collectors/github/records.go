package github

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/okrd/okrd/collectors"
	mg "github.com/okrd/okrd/metrics/github"
)

// Store record kinds. Incidents found by label use collectors.IncidentKind
// and the collectors.Incident shape, so that they read like a Jira
// source's.
const (
	KindPullRequest = "pull_request"
	KindDeployment  = "deployment"
	KindRelease     = "release"
	KindWorkflowRun = "workflow_run"
)

// The records are compact, normalized JSON: only what the metrics need and
// what tells whether a record changed, so that a source with 200,000 pull
// requests loads in a fraction of a second.

// prRecord is a pull request (kind pull_request, id "owner/name#N").
type prRecord struct {
	Repo          string     `json:"repo"`
	Number        int        `json:"number"`
	Title         string     `json:"title,omitempty"`
	State         string     `json:"state"` // open, closed, merged
	Draft         bool       `json:"draft,omitempty"`
	Author        string     `json:"author,omitempty"`
	Base          string     `json:"base"`
	IntoDefault   bool       `json:"into_default"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	MergedAt      *time.Time `json:"merged_at,omitempty"`
	ClosedAt      *time.Time `json:"closed_at,omitempty"`
	FirstCommitAt *time.Time `json:"first_commit_at,omitempty"`
	FirstReviewAt *time.Time `json:"first_review_at,omitempty"`
	Additions     int        `json:"additions"`
	Deletions     int        `json:"deletions"`
	// DraftChanges are the instants its draft state flipped (marked ready
	// for review, converted to a draft), oldest first, from its timeline.
	DraftChanges []time.Time `json:"draft_changes,omitempty"`
	// DraftTracked is set on records that hold the whole draft history:
	// a record stored before okrd read the timeline knows only the draft
	// state at its last update.
	DraftTracked bool `json:"draft_tracked,omitempty"`
	// Labels and Milestone are the pull request's labels and milestone
	// title (for initiatives and the investment balance); LabelsTracked
	// is set on records that hold them (a record stored before okrd read
	// them has neither, and is read again).
	Labels        []string `json:"labels,omitempty"`
	Milestone     string   `json:"milestone,omitempty"`
	LabelsTracked bool     `json:"labels_tracked,omitempty"`
}

func (p *prRecord) id() string { return p.Repo + "#" + itoa(p.Number) }

func (p *prRecord) metric() mg.PullRequest {
	out := mg.PullRequest{Repo: p.Repo, Number: p.Number, Title: p.Title, Draft: p.Draft, DraftChanges: p.DraftChanges, CreatedAt: p.CreatedAt,
		IntoDefault: p.IntoDefault, Additions: p.Additions, Deletions: p.Deletions, Labels: p.Labels}
	switch p.State {
	case "merged":
		out.State = mg.PRMerged
	case "closed":
		out.State = mg.PRClosed
	default:
		out.State = mg.PROpen
	}
	if p.MergedAt != nil {
		out.MergedAt = *p.MergedAt
	}
	if p.ClosedAt != nil {
		out.ClosedAt = *p.ClosedAt
	}
	if p.FirstCommitAt != nil {
		out.FirstCommitAt = *p.FirstCommitAt
	}
	if p.FirstReviewAt != nil {
		out.FirstReviewAt = *p.FirstReviewAt
	}
	return out
}

// statusRecord is one deployment status.
type statusRecord struct {
	State     string    `json:"state"` // lower case, as the REST API writes it
	CreatedAt time.Time `json:"created_at"`
}

// deploymentRecord is a GitHub deployment (kind deployment, id
// "owner/name#ID") with its statuses oldest first.
type deploymentRecord struct {
	Repo        string         `json:"repo"`
	ID          int64          `json:"id"`
	Environment string         `json:"environment"`
	CreatedAt   time.Time      `json:"created_at"`
	Statuses    []statusRecord `json:"statuses"`
}

func (d *deploymentRecord) id() string { return d.Repo + "#" + itoa64(d.ID) }

// metric is the deployment with its outcome and the failed outcomes a
// retry replaced, from the statuses the record holds (all of them, so
// records stored before okrd kept past outcomes give them too).
func (d *deploymentRecord) metric() mg.Deployment {
	sts := make([]mg.DeploymentStatus, len(d.Statuses))
	for i, s := range d.Statuses {
		sts[i] = mg.DeploymentStatus{State: s.State, CreatedAt: s.CreatedAt}
	}
	out := mg.StatusDeployment(d.Repo, d.id(), sts)
	out.CreatedAt = d.CreatedAt
	out.Environment = d.Environment
	return out
}

// releaseRecord is a release (kind release, id "owner/name#ID").
type releaseRecord struct {
	Repo        string     `json:"repo"`
	ID          int64      `json:"id"`
	Tag         string     `json:"tag"`
	Draft       bool       `json:"draft,omitempty"`
	Prerelease  bool       `json:"prerelease,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	PublishedAt *time.Time `json:"published_at,omitempty"`
}

func (r *releaseRecord) id() string { return r.Repo + "#" + itoa64(r.ID) }

func (r *releaseRecord) metric() mg.Deployment {
	var pub time.Time
	if r.PublishedAt != nil {
		pub = *r.PublishedAt
	}
	o, at := mg.ReleaseOutcome(r.Draft, r.Prerelease, pub)
	return mg.Deployment{Repo: r.Repo, ID: r.id(), Ref: r.Tag, Outcome: o, At: at}
}

// runRecord is a run of the deployment workflow (kind workflow_run, id
// "owner/name#ID").
type runRecord struct {
	Repo       string    `json:"repo"`
	ID         int64     `json:"id"`
	Workflow   string    `json:"workflow"`
	Branch     string    `json:"branch"`
	OnDefault  bool      `json:"on_default"`
	Status     string    `json:"status"`
	Conclusion string    `json:"conclusion,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

func (r *runRecord) id() string { return r.Repo + "#" + itoa64(r.ID) }

func (r *runRecord) metric() mg.Deployment {
	if !r.OnDefault {
		return mg.Deployment{Repo: r.Repo, ID: r.id(), Outcome: mg.Ignored}
	}
	o, at := mg.WorkflowRunOutcome(r.Status, r.Conclusion, r.UpdatedAt)
	return mg.Deployment{Repo: r.Repo, ID: r.id(), Ref: r.Branch, Outcome: o, At: at}
}

// incidentMetric converts a stored incident; shared incidents (from a
// central repository or another source) belong to the whole source.
func incidentMetric(in collectors.Incident, shared bool) mg.Incident {
	out := mg.Incident{ID: in.ID, Repo: in.Scope, Title: in.Title, URL: in.URL, OpenedAt: in.OpenedAt}
	if shared {
		out.Repo = ""
	}
	if in.ClosedAt != nil {
		out.ClosedAt = *in.ClosedAt
	}
	return out
}

func marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// The record types hold only strings, numbers, bools and times.
		panic(err)
	}
	return b
}

func itoa(n int) string     { return strconv.Itoa(n) }
func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}
