// Package githubfake is an in-memory GitHub, REST (v3) and GraphQL (v4),
// that behaves like api.github.com (or a GitHub Enterprise Server) where
// okrd depends on it, as ../shared/reference/API-FACTS.md records: Link
// paging that go-github follows by re-requesting the original path with
// ?page=N, ETags and 304 answers that cost no rate-limit budget, every
// x-ratelimit-* header, primary and secondary rate limits as 403 or 429,
// GraphQL point costs and its RATE_LIMITED error, 5xx answers and
// malformed bodies on demand, token and GitHub App installation auth.
//
// Tests start it with httptest.NewServer(fake) and fill it with Update;
// `okrd demo` serves Generate's data from it.
package githubfake

import (
	"strings"
	"time"
)

// Data is everything the fake serves. Tests change it under the server's
// lock with Server.Update.
type Data struct {
	// Owners are the organisations and users; an owner not listed is
	// created as an organisation when a repository names it.
	Owners map[string]*Owner
	// Repos are keyed by lower-case "owner/name".
	Repos map[string]*Repo
	// nextID hands out ids for objects created without one.
	nextID int64
}

// Owner is an organisation or a user.
type Owner struct {
	Login string
	ID    int64
	// Org is true for an organisation, false for a user.
	Org bool
}

// Repo is one repository and everything in it.
type Repo struct {
	Owner, Name   string
	ID            int64
	DefaultBranch string // default "main"
	Private       bool
	Fork          bool
	Archived      bool
	CreatedAt     time.Time
	UpdatedAt     time.Time
	PushedAt      time.Time

	PullRequests []*PullRequest
	Deployments  []*Deployment
	Releases     []*Release
	Workflows    []*Workflow
	Issues       []*Issue
}

// FullName is "owner/name".
func (r *Repo) FullName() string { return r.Owner + "/" + r.Name }

// PullRequest is one pull request. State is "open" or "closed"; a merged
// pull request is closed with MergedAt set.
type PullRequest struct {
	Number    int
	ID        int64
	Title     string
	Author    string
	State     string
	Draft     bool
	BaseRef   string // default: the repository's default branch
	HeadRef   string
	CreatedAt time.Time
	UpdatedAt time.Time
	ClosedAt  *time.Time
	MergedAt  *time.Time
	Additions int
	Deletions int
	Labels    []string
	// Milestone is the title of its milestone ("" for none).
	Milestone string
	// Commits oldest first, as GitHub lists them.
	Commits []Commit
	// Reviews in submission order (PENDING ones have no SubmittedAt).
	Reviews []Review
	// DraftEvents are the changes of its draft state, oldest first, as
	// its timeline records them; Draft is the state after the last one.
	// A pull request opened as a draft has none for its opening.
	DraftEvents []DraftEvent
}

// DraftEvent is one change of a pull request's draft state: converted to
// a draft (Draft true, a ConvertToDraftEvent) or marked ready for review
// (Draft false, a ReadyForReviewEvent).
type DraftEvent struct {
	ID    int64
	Draft bool
	Actor string
	At    time.Time
}

// SetDraft converts the pull request to a draft (draft true) or marks it
// ready for review at at, as GitHub does: the state changes, the timeline
// gets the event, and the pull request is updated.
func (p *PullRequest) SetDraft(draft bool, at time.Time) {
	p.Draft = draft
	p.DraftEvents = append(p.DraftEvents, DraftEvent{Draft: draft, Actor: p.Author, At: at})
	if at.After(p.UpdatedAt) {
		p.UpdatedAt = at
	}
}

// Commit is one commit of a pull request.
type Commit struct {
	SHA           string
	AuthoredDate  time.Time
	CommittedDate time.Time
}

// Review is one pull request review.
type Review struct {
	ID          int64
	Author      string
	State       string // APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED, PENDING
	SubmittedAt *time.Time
}

// Deployment is one deployment with its statuses, oldest first (the API
// lists them newest first).
type Deployment struct {
	ID          int64
	SHA         string
	Ref         string
	Task        string // default "deploy"
	Environment string
	Creator     string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	Statuses    []DeploymentStatus
}

// DeploymentStatus is one status of a deployment; State is lower case as in
// the REST API: error, failure, inactive, in_progress, queued, pending,
// success, waiting.
type DeploymentStatus struct {
	ID        int64
	State     string
	CreatedAt time.Time
}

// Release is one release. PublishedAt is nil for a draft.
type Release struct {
	ID          int64
	TagName     string
	Name        string
	Draft       bool
	Prerelease  bool
	Author      string
	CreatedAt   time.Time
	PublishedAt *time.Time
}

// Workflow is one Actions workflow with its runs.
type Workflow struct {
	ID   int64
	Name string
	// Path is the workflow file, ".github/workflows/deploy.yml"; its base
	// name can stand for the id in URLs.
	Path string
	Runs []*WorkflowRun
}

// WorkflowRun is one run of a workflow. Status is requested, queued,
// in_progress, completed, waiting or pending; Conclusion is set once
// completed.
type WorkflowRun struct {
	ID           int64
	RunNumber    int
	HeadBranch   string
	HeadSHA      string
	Event        string // default "push"
	Status       string
	Conclusion   string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	RunStartedAt time.Time
}

// Issue is one issue (pull requests are listed by the issues endpoint too,
// from PullRequests).
type Issue struct {
	Number    int
	ID        int64
	Title     string
	Author    string
	State     string // open or closed
	Labels    []string
	CreatedAt time.Time
	UpdatedAt time.Time
	ClosedAt  *time.Time
}

func (d *Data) id() int64 {
	d.nextID++
	return d.nextID
}

// AddRepo adds a repository (replacing one of the same name), filling in
// ids, its owner and defaults, and returns it.
func (d *Data) AddRepo(r *Repo) *Repo {
	if d.Repos == nil {
		d.Repos = map[string]*Repo{}
	}
	if d.Owners == nil {
		d.Owners = map[string]*Owner{}
	}
	if _, ok := d.Owners[strings.ToLower(r.Owner)]; !ok {
		d.Owners[strings.ToLower(r.Owner)] = &Owner{Login: r.Owner, ID: d.id(), Org: true}
	}
	if r.ID == 0 {
		r.ID = 100000 + d.id()
	}
	if r.DefaultBranch == "" {
		r.DefaultBranch = "main"
	}
	d.Repos[strings.ToLower(r.FullName())] = r
	d.normalize(r)
	return r
}

// AddUser declares login as a user (not an organisation).
func (d *Data) AddUser(login string) {
	if d.Owners == nil {
		d.Owners = map[string]*Owner{}
	}
	d.Owners[strings.ToLower(login)] = &Owner{Login: login, ID: d.id()}
}

// Repo returns the repository "owner/name" (any case), or nil.
func (d *Data) Repo(fullName string) *Repo { return d.Repos[strings.ToLower(fullName)] }

// normalize fills the ids and defaults of everything in r, so that tests
// can build objects with only the fields they care about.
func (d *Data) normalize(r *Repo) {
	for _, p := range r.PullRequests {
		if p.ID == 0 {
			p.ID = 500000 + d.id()
		}
		if p.State == "" {
			p.State = "open"
			if p.MergedAt != nil || p.ClosedAt != nil {
				p.State = "closed"
			}
		}
		if p.MergedAt != nil && p.ClosedAt == nil {
			p.ClosedAt = p.MergedAt
		}
		if p.BaseRef == "" {
			p.BaseRef = r.DefaultBranch
		}
		if p.HeadRef == "" {
			p.HeadRef = "feature-" + itoa(int64(p.Number))
		}
		if p.Title == "" {
			p.Title = "Change " + itoa(int64(p.Number))
		}
		if p.UpdatedAt.IsZero() {
			p.UpdatedAt = latest(p.CreatedAt, p.ClosedAt, p.MergedAt)
			for _, rv := range p.Reviews {
				p.UpdatedAt = latest(p.UpdatedAt, rv.SubmittedAt)
			}
			for _, ev := range p.DraftEvents {
				p.UpdatedAt = latest(p.UpdatedAt, &ev.At)
			}
		}
		for i := range p.Reviews {
			if p.Reviews[i].ID == 0 {
				p.Reviews[i].ID = 700000 + d.id()
			}
		}
		for i := range p.DraftEvents {
			if p.DraftEvents[i].ID == 0 {
				p.DraftEvents[i].ID = 800000 + d.id()
			}
			if p.DraftEvents[i].Actor == "" {
				p.DraftEvents[i].Actor = p.Author
			}
		}
		for i := range p.Commits {
			if p.Commits[i].SHA == "" {
				p.Commits[i].SHA = sha(p.ID*100 + int64(i))
			}
			if p.Commits[i].CommittedDate.IsZero() {
				p.Commits[i].CommittedDate = p.Commits[i].AuthoredDate
			}
		}
	}
	for _, dep := range r.Deployments {
		if dep.ID == 0 {
			dep.ID = 900000 + d.id()
		}
		if dep.Task == "" {
			dep.Task = "deploy"
		}
		if dep.Ref == "" {
			dep.Ref = r.DefaultBranch
		}
		if dep.SHA == "" {
			dep.SHA = sha(dep.ID)
		}
		if dep.Creator == "" {
			dep.Creator = "deploy-bot"
		}
		for i := range dep.Statuses {
			if dep.Statuses[i].ID == 0 {
				dep.Statuses[i].ID = 1_000_000 + d.id()
			}
		}
		if dep.UpdatedAt.IsZero() {
			dep.UpdatedAt = dep.CreatedAt
			if n := len(dep.Statuses); n > 0 {
				dep.UpdatedAt = latest(dep.CreatedAt, &dep.Statuses[n-1].CreatedAt)
			}
		}
	}
	for _, rel := range r.Releases {
		if rel.ID == 0 {
			rel.ID = 2_000_000 + d.id()
		}
		if rel.Author == "" {
			rel.Author = "release-bot"
		}
		if rel.Name == "" {
			rel.Name = rel.TagName
		}
	}
	for _, wf := range r.Workflows {
		if wf.ID == 0 {
			wf.ID = 3_000_000 + d.id()
		}
		for i, run := range wf.Runs {
			if run.ID == 0 {
				run.ID = 4_000_000 + d.id()
			}
			if run.RunNumber == 0 {
				run.RunNumber = i + 1
			}
			if run.Event == "" {
				run.Event = "push"
			}
			if run.HeadSHA == "" {
				run.HeadSHA = sha(run.ID)
			}
			if run.UpdatedAt.IsZero() {
				run.UpdatedAt = run.CreatedAt
			}
			if run.RunStartedAt.IsZero() {
				run.RunStartedAt = run.CreatedAt
			}
		}
	}
	for _, is := range r.Issues {
		if is.ID == 0 {
			is.ID = 6_000_000 + d.id()
		}
		if is.State == "" {
			is.State = "open"
			if is.ClosedAt != nil {
				is.State = "closed"
			}
		}
		if is.UpdatedAt.IsZero() {
			is.UpdatedAt = latest(is.CreatedAt, is.ClosedAt)
		}
		if is.Author == "" {
			is.Author = "oncall"
		}
	}
}

// Normalize fills ids and defaults of objects added to existing
// repositories (Update calls it after every change).
func (d *Data) Normalize() {
	for _, r := range d.Repos {
		d.normalize(r)
	}
}

func latest(t time.Time, more ...*time.Time) time.Time {
	for _, m := range more {
		if m != nil && m.After(t) {
			t = *m
		}
	}
	return t
}
