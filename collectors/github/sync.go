package github

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/okrd/okrd/collectors"
	mg "github.com/okrd/okrd/metrics/github"
	"github.com/okrd/okrd/store"
)

// Every kind is synced the same way: a conditional REST request (the
// probe) whose ETag is stored in the kind's cursor tells for free whether
// anything changed; if it did, the changed items are read newest first
// (GraphQL for pull requests and deployments, REST for the rest) until the
// cursor's watermark, and written with the new cursor in one transaction.

// pageInfo is a GraphQL connection's paging.
type pageInfo struct {
	HasNextPage bool   `json:"hasNextPage"`
	EndCursor   string `json:"endCursor"`
}

type login struct {
	Login string `json:"login"`
}

func (l *login) name() string {
	if l == nil {
		return ""
	}
	return l.Login
}

// splitRepo splits "owner/name".
func splitRepo(repo string) (string, string) {
	o, n, _ := strings.Cut(repo, "/")
	return o, n
}

// ---- pull requests ----

// prCursor is the sync position of a repository's pull requests.
type prCursor struct {
	// ETag of the probe (the most recently updated pull request).
	ETag string `json:"etag,omitempty"`
	// Watermark is the newest updatedAt synced: the next sync reads
	// pull requests updated at or after it.
	Watermark     time.Time `json:"watermark,omitzero"`
	DefaultBranch string    `json:"default_branch,omitempty"`
	// Resume is set while a sync is unfinished (a rate limit ended the
	// poll): the next poll goes on from After.
	Resume *resume `json:"resume,omitempty"`
	// Labels is set once a sync has read every pull request with its
	// labels and milestone: a cursor without it (stored before okrd read
	// them) makes the next sync read the repository's pull requests
	// again, once.
	Labels bool `json:"labels,omitempty"`
}

// resume is where an unfinished newest-first sync goes on.
type resume struct {
	After     string    `json:"after"`
	Watermark time.Time `json:"watermark,omitzero"`
	ETag      string    `json:"etag,omitempty"`
}

// timelineTypes are the timeline items okrd reads of a pull request: its
// reviews (for the first review) and its draft changes (for its draft
// state at any instant). Pending reviews, unsubmitted drafts only their
// author sees, are skipped when read.
const timelineTypes = "[PULL_REQUEST_REVIEW, READY_FOR_REVIEW_EVENT, CONVERT_TO_DRAFT_EVENT]"

// timelineNodes selects what okrd needs of each timeline item.
const timelineNodes = `nodes {
            __typename
            ... on PullRequestReview { author { login } state submittedAt }
            ... on ReadyForReviewEvent { createdAt }
            ... on ConvertToDraftEvent { createdAt }
          }`

// prQuery reads 100 pull requests, most recently updated first, each with
// its oldest commit and the start of its timeline (reviews and draft
// changes): one request, about 2 points (a connection per pull request
// costs the same whatever its page size).
const prQuery = `query PullRequests($owner: String!, $name: String!, $first: Int!, $after: String) {
  rateLimit { cost limit remaining resetAt }
  repository(owner: $owner, name: $name) {
    defaultBranchRef { name }
    pullRequests(first: $first, after: $after, orderBy: {field: UPDATED_AT, direction: DESC}) {
      pageInfo { hasNextPage endCursor }
      nodes {
        number title state isDraft createdAt updatedAt mergedAt closedAt baseRefName additions deletions
        author { login }
        labels(first: 20) { nodes { name } }
        milestone { title }
        commits(first: 1) { nodes { commit { authoredDate } } }
        timelineItems(first: 50, itemTypes: ` + timelineTypes + `) {
          pageInfo { hasNextPage endCursor }
          ` + timelineNodes + `
        }
      }
    }
  }
}`

// timelineQuery reads the rest of one pull request's timeline, for the
// rare one with more than 50 reviews and draft changes.
const timelineQuery = `query Timeline($owner: String!, $name: String!, $number: Int!, $after: String) {
  rateLimit { cost limit remaining resetAt }
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      timelineItems(first: 100, after: $after, itemTypes: ` + timelineTypes + `) {
        pageInfo { hasNextPage endCursor }
        ` + timelineNodes + `
      }
    }
  }
}`

// timelineNode is a review, a ReadyForReviewEvent or a
// ConvertToDraftEvent.
type timelineNode struct {
	Typename    string     `json:"__typename"`
	Author      *login     `json:"author"`
	State       string     `json:"state"`
	SubmittedAt *time.Time `json:"submittedAt"`
	CreatedAt   *time.Time `json:"createdAt"`
}

type timelineConn struct {
	PageInfo pageInfo       `json:"pageInfo"`
	Nodes    []timelineNode `json:"nodes"`
}

type prNode struct {
	Number      int        `json:"number"`
	Title       string     `json:"title"`
	State       string     `json:"state"`
	IsDraft     bool       `json:"isDraft"`
	CreatedAt   time.Time  `json:"createdAt"`
	UpdatedAt   time.Time  `json:"updatedAt"`
	MergedAt    *time.Time `json:"mergedAt"`
	ClosedAt    *time.Time `json:"closedAt"`
	BaseRefName string     `json:"baseRefName"`
	Additions   int        `json:"additions"`
	Deletions   int        `json:"deletions"`
	Author      *login     `json:"author"`
	Labels      struct {
		Nodes []struct {
			Name string `json:"name"`
		} `json:"nodes"`
	} `json:"labels"`
	Milestone *struct {
		Title string `json:"title"`
	} `json:"milestone"`
	Commits struct {
		Nodes []struct {
			Commit struct {
				AuthoredDate *time.Time `json:"authoredDate"`
			} `json:"commit"`
		} `json:"nodes"`
	} `json:"commits"`
	TimelineItems timelineConn `json:"timelineItems"`
}

type prPage struct {
	Repository *struct {
		DefaultBranchRef *struct {
			Name string `json:"name"`
		} `json:"defaultBranchRef"`
		PullRequests struct {
			PageInfo pageInfo `json:"pageInfo"`
			Nodes    []prNode `json:"nodes"`
		} `json:"pullRequests"`
	} `json:"repository"`
}

// syncPullRequests syncs a repository's pull requests: every state, so
// that open ones (open count, oldest age, reviews) are known too.
func (s *Source) syncPullRequests(ctx context.Context, repo string) error {
	owner, name := splitRepo(repo)
	scope := cursorScope(repo, KindPullRequest)
	var cur prCursor
	s.cursor(scope, &cur)
	// A cursor stored before okrd read labels and milestones makes this
	// sync read every pull request again (once, resumable like any
	// other): it stops at no watermark, while the stored one stays, so
	// that what was synced still counts as synced.
	stopAt := cur.Watermark
	if !cur.Labels && !cur.Watermark.IsZero() {
		if cur.Resume == nil {
			s.log.Info("reading every pull request again for its labels and milestone", "repo", repo)
		}
		stopAt = time.Time{}
	}
	after, maxSeen, etag := "", cur.Watermark, ""
	if cur.Resume != nil {
		after, maxSeen, etag = cur.Resume.After, cur.Resume.Watermark, cur.Resume.ETag
	} else {
		var probe []*gh.PullRequest
		q := url.Values{"state": {"all"}, "sort": {"updated"}, "direction": {"desc"}, "per_page": {"1"}}
		prev := cur.ETag
		if cur.DefaultBranch == "" || !cur.Labels {
			prev = "" // never synced (or without labels): read at least once
		}
		resp, notModified, err := s.c.getRetry(ctx, "repos/"+repo+"/pulls", q, prev, &probe)
		if err != nil {
			return fmt.Errorf("pull requests: %w", err)
		}
		if notModified {
			return nil
		}
		etag = resp.Header.Get("ETag")
	}
	first := 100
	for {
		var page prPage
		vars := map[string]any{"owner": owner, "name": name, "first": first, "after": nil}
		if after != "" {
			vars["after"] = after
		}
		err := s.c.graphqlRetry(ctx, "pull requests of "+repo, prQuery, vars, &page)
		if errors.Is(err, errInvalidCursor) && cur.Resume != nil {
			// The unfinished sync's position expired: start over.
			s.log.Info("resuming the pull request sync failed; starting it over", "repo", repo)
			cur.Resume = nil
			if err := s.write(ctx, nil, scope, cur); err != nil {
				return err
			}
			return s.syncPullRequests(ctx, repo)
		}
		if err != nil {
			return fmt.Errorf("pull requests: %w", err)
		}
		if page.Repository == nil {
			return fmt.Errorf("pull requests: repository %s: %w", repo, errNotFound)
		}
		if ref := page.Repository.DefaultBranchRef; ref != nil {
			cur.DefaultBranch = ref.Name
		}
		conn := page.Repository.PullRequests
		var recs []store.Record
		stop := false
		for _, n := range conn.Nodes {
			if !stopAt.IsZero() && n.UpdatedAt.Before(stopAt) {
				stop = true
				break
			}
			if n.UpdatedAt.After(maxSeen) {
				maxSeen = n.UpdatedAt
			}
			id := repo + "#" + itoa(n.Number)
			if old, ok := s.prs[id]; ok && old.State == "merged" && old.LabelsTracked && sameLabels(old, n) {
				continue // a merged pull request changes only its labels and milestone
			}
			rec, err := s.prRecord(ctx, repo, cur.DefaultBranch, n)
			if err != nil {
				return err
			}
			recs = append(recs, store.Record{Source: s.name, Scope: repo, Kind: KindPullRequest, ID: id, UpdatedAt: n.UpdatedAt, Data: marshal(rec)})
		}
		more := conn.PageInfo.HasNextPage && !stop && conn.PageInfo.EndCursor != ""
		next := prCursor{DefaultBranch: cur.DefaultBranch, Labels: cur.Labels}
		if more {
			next.ETag, next.Watermark = cur.ETag, cur.Watermark
			next.Resume = &resume{After: conn.PageInfo.EndCursor, Watermark: maxSeen, ETag: etag}
		} else {
			next.ETag, next.Watermark, next.Labels = etag, maxSeen, true
		}
		if err := s.write(ctx, recs, scope, next); err != nil {
			return err
		}
		if !more {
			return nil
		}
		after = conn.PageInfo.EndCursor
	}
}

// prRecord normalizes one pull request.
func (s *Source) prRecord(ctx context.Context, repo, defaultBranch string, n prNode) (*prRecord, error) {
	author := n.Author.name()
	rec := &prRecord{
		Repo: repo, Number: n.Number, Title: n.Title, Draft: n.IsDraft, Author: author, Base: n.BaseRefName,
		IntoDefault: defaultBranch != "" && n.BaseRefName == defaultBranch,
		CreatedAt:   n.CreatedAt.UTC(), UpdatedAt: n.UpdatedAt.UTC(), Additions: n.Additions, Deletions: n.Deletions,
		DraftTracked: true, LabelsTracked: true, Labels: n.labels(),
	}
	if n.Milestone != nil {
		rec.Milestone = n.Milestone.Title
	}
	switch n.State {
	case "MERGED":
		rec.State = "merged"
	case "CLOSED":
		rec.State = "closed"
	default:
		rec.State = "open"
	}
	if n.MergedAt != nil {
		rec.MergedAt = timePtr(*n.MergedAt)
	}
	if n.ClosedAt != nil {
		rec.ClosedAt = timePtr(*n.ClosedAt)
	}
	if len(n.Commits.Nodes) > 0 && n.Commits.Nodes[0].Commit.AuthoredDate != nil {
		rec.FirstCommitAt = timePtr(*n.Commits.Nodes[0].Commit.AuthoredDate)
	}
	items := n.TimelineItems.Nodes
	// The draft changes must all be known, so a long timeline is read to
	// its end.
	for pi := n.TimelineItems.PageInfo; pi.HasNextPage && pi.EndCursor != ""; {
		owner, name := splitRepo(repo)
		var more struct {
			Repository *struct {
				PullRequest *struct {
					TimelineItems timelineConn `json:"timelineItems"`
				} `json:"pullRequest"`
			} `json:"repository"`
		}
		vars := map[string]any{"owner": owner, "name": name, "number": n.Number, "after": pi.EndCursor}
		if err := s.c.graphqlRetry(ctx, fmt.Sprintf("timeline of %s#%d", repo, n.Number), timelineQuery, vars, &more); err != nil {
			return nil, fmt.Errorf("timeline of #%d: %w", n.Number, err)
		}
		if more.Repository == nil || more.Repository.PullRequest == nil {
			break
		}
		conn := more.Repository.PullRequest.TimelineItems
		items = append(items, conn.Nodes...)
		pi = conn.PageInfo
	}
	var reviews []mg.Review
	var changes []draftChange
	for _, it := range items {
		switch it.Typename {
		case "PullRequestReview":
			rv := mg.Review{Author: it.Author.name(), State: it.State}
			if it.SubmittedAt != nil {
				rv.SubmittedAt = *it.SubmittedAt
			}
			reviews = append(reviews, rv)
		case "ReadyForReviewEvent", "ConvertToDraftEvent":
			if it.CreatedAt != nil {
				changes = append(changes, draftChange{at: it.CreatedAt.UTC(), draft: it.Typename == "ConvertToDraftEvent"})
			}
		}
	}
	rec.FirstReviewAt = timePtr(mg.FirstReview(author, reviews))
	rec.DraftChanges = draftFlips(changes, n.IsDraft, rec.UpdatedAt)
	return rec, nil
}

// draftChange is one event of a timeline: converted to a draft, or marked
// ready for review.
type draftChange struct {
	at    time.Time
	draft bool
}

// draftFlips turns a pull request's draft events into the instants its
// draft state flipped: an event that repeats the state it is already in
// changes nothing. Should the events end in another state than the pull
// request is in (an event the timeline lost), the state flipped by its
// last update at the latest, and is taken to have flipped then.
func draftFlips(changes []draftChange, isDraft bool, updated time.Time) []time.Time {
	slices.SortStableFunc(changes, func(a, b draftChange) int { return a.at.Compare(b.at) })
	var flips []time.Time
	var state bool
	for i, c := range changes {
		if i > 0 && c.draft == state {
			continue
		}
		flips = append(flips, c.at)
		state = c.draft
	}
	if len(flips) > 0 && state != isDraft {
		flips = append(flips, updated)
	}
	return flips
}

// ---- deployments ----

// deployCursor is the sync position of a repository's GitHub deployments.
type deployCursor struct {
	// Filter is the environment setting the records were read with; a
	// new setting syncs from scratch.
	Filter string `json:"filter"`
	// ETag of the probe (the newest deployment).
	ETag string `json:"etag,omitempty"`
	// Newest is the creation time of the newest deployment synced.
	Newest time.Time `json:"newest,omitzero"`
	// Pending are recent deployments that have not succeeded yet, with
	// the ETag of their newest status: they may still change.
	Pending []pendingItem `json:"pending,omitempty"`
	Resume  *resume       `json:"resume,omitempty"`
}

type pendingItem struct {
	ID        int64     `json:"id"`
	CreatedAt time.Time `json:"created_at"`
	ETag      string    `json:"etag,omitempty"`
}

// deploymentsQuery reads 100 deployments, newest first, with their
// statuses: one request, 1 point.
func deploymentsQuery(filtered bool) string {
	envArg, envVar := "", ""
	if filtered {
		envArg, envVar = ", $environments: [String!]", ", environments: $environments"
	}
	return `query Deployments($owner: String!, $name: String!, $after: String` + envArg + `) {
  rateLimit { cost limit remaining resetAt }
  repository(owner: $owner, name: $name) {
    deployments(first: 100, after: $after` + envVar + `, orderBy: {field: CREATED_AT, direction: DESC}) {
      pageInfo { hasNextPage endCursor }
      nodes {
        databaseId createdAt environment
        latestStatus { state createdAt }
        statuses(first: 100) { totalCount nodes { state createdAt } }
      }
    }
  }
}`
}

type statusNode struct {
	State     string    `json:"state"`
	CreatedAt time.Time `json:"createdAt"`
}

type deploymentNode struct {
	DatabaseID   int64       `json:"databaseId"`
	CreatedAt    time.Time   `json:"createdAt"`
	Environment  string      `json:"environment"`
	LatestStatus *statusNode `json:"latestStatus"`
	Statuses     struct {
		TotalCount int          `json:"totalCount"`
		Nodes      []statusNode `json:"nodes"`
	} `json:"statuses"`
}

type deploymentPage struct {
	Repository *struct {
		Deployments struct {
			PageInfo pageInfo         `json:"pageInfo"`
			Nodes    []deploymentNode `json:"nodes"`
		} `json:"deployments"`
	} `json:"repository"`
}

// syncDeployments syncs a repository's deployments to the production
// environment.
func (s *Source) syncDeployments(ctx context.Context, repo string) error {
	owner, name := splitRepo(repo)
	scope := cursorScope(repo, KindDeployment)
	env := s.spec.Environment
	var cur deployCursor
	if !s.cursor(scope, &cur) || cur.Filter != env {
		cur = deployCursor{Filter: env}
	}
	now := s.now()
	after, newest, etag := "", cur.Newest, ""
	if cur.Resume != nil {
		after, newest, etag = cur.Resume.After, cur.Resume.Watermark, cur.Resume.ETag
	} else {
		q := url.Values{"per_page": {"1"}}
		if !isGlob(env) {
			q.Set("environment", env)
		}
		var probe []*gh.Deployment
		resp, notModified, err := s.c.getRetry(ctx, "repos/"+repo+"/deployments", q, cur.ETag, &probe)
		if err != nil {
			return fmt.Errorf("deployments: %w", err)
		}
		changed := !notModified
		if !notModified {
			etag = resp.Header.Get("ETag")
		} else {
			etag = cur.ETag
		}
		// A deployment that has not settled changes by getting a status,
		// which its statuses list's ETag shows. One that stayed unsettled
		// longer than the lookback is no longer watched.
		watched := cur.Pending[:0:0]
		for _, p := range cur.Pending {
			if now.Sub(p.CreatedAt) > s.lookback {
				continue
			}
			watched = append(watched, p)
			var sts []*gh.DeploymentStatus
			_, nm, err := s.c.getRetry(ctx, fmt.Sprintf("repos/%s/deployments/%d/statuses", repo, p.ID), url.Values{"per_page": {"1"}}, p.ETag, &sts)
			if err != nil && !errors.Is(err, errNotFound) {
				return fmt.Errorf("deployment statuses: %w", err)
			}
			if !nm {
				changed = true
			}
		}
		if !changed {
			if len(watched) != len(cur.Pending) {
				cur.Pending = watched
				return s.write(ctx, nil, scope, cur)
			}
			return nil
		}
		cur.Pending = watched
	}
	// Read down to the oldest deployment that may have changed.
	floor := cur.Newest
	for _, p := range cur.Pending {
		if p.CreatedAt.Before(floor) {
			floor = p.CreatedAt
		}
	}
	pending := map[int64]pendingItem{}
	if cur.Resume != nil {
		for _, p := range cur.Pending {
			pending[p.ID] = p
		}
	}
	filtered := !isGlob(env)
	query := deploymentsQuery(filtered)
	for {
		vars := map[string]any{"owner": owner, "name": name, "after": nil}
		if after != "" {
			vars["after"] = after
		}
		if filtered {
			vars["environments"] = []string{env}
		}
		var page deploymentPage
		err := s.c.graphqlRetry(ctx, "deployments of "+repo, query, vars, &page)
		if errors.Is(err, errInvalidCursor) && cur.Resume != nil {
			cur.Resume = nil
			if err := s.write(ctx, nil, scope, cur); err != nil {
				return err
			}
			return s.syncDeployments(ctx, repo)
		}
		if err != nil {
			return fmt.Errorf("deployments: %w", err)
		}
		if page.Repository == nil {
			return fmt.Errorf("deployments: repository %s: %w", repo, errNotFound)
		}
		conn := page.Repository.Deployments
		var recs []store.Record
		stop := false
		for _, n := range conn.Nodes {
			if !floor.IsZero() && n.CreatedAt.Before(floor) {
				stop = true
				break
			}
			if n.CreatedAt.After(newest) {
				newest = n.CreatedAt
			}
			if !envMatches(env, n.Environment) {
				continue
			}
			rec := deploymentRecord{Repo: repo, ID: n.DatabaseID, Environment: n.Environment, CreatedAt: n.CreatedAt.UTC(), Statuses: statusesOldestFirst(n)}
			m := rec.metric()
			if m.Outcome != mg.Succeeded && now.Sub(n.CreatedAt) <= s.lookback {
				pending[n.DatabaseID] = pendingItem{ID: n.DatabaseID, CreatedAt: n.CreatedAt.UTC()}
			} else {
				delete(pending, n.DatabaseID)
			}
			recs = append(recs, store.Record{Source: s.name, Scope: repo, Kind: KindDeployment, ID: rec.id(), UpdatedAt: rec.CreatedAt, Data: marshal(rec)})
		}
		more := conn.PageInfo.HasNextPage && !stop && conn.PageInfo.EndCursor != ""
		next := deployCursor{Filter: env, Pending: sortedPending(pending)}
		if more {
			next.ETag, next.Newest = cur.ETag, cur.Newest
			next.Resume = &resume{After: conn.PageInfo.EndCursor, Watermark: newest, ETag: etag}
		} else {
			next.ETag, next.Newest = etag, newest
			// Remember the ETag of each pending deployment's statuses, so
			// that the next poll sees for free whether it changed.
			for i, p := range next.Pending {
				var sts []*gh.DeploymentStatus
				resp, _, err := s.c.getRetry(ctx, fmt.Sprintf("repos/%s/deployments/%d/statuses", repo, p.ID), url.Values{"per_page": {"1"}}, "", &sts)
				if err != nil && !errors.Is(err, errNotFound) {
					return fmt.Errorf("deployment statuses: %w", err)
				}
				if resp != nil {
					next.Pending[i].ETag = resp.Header.Get("ETag")
				}
			}
		}
		if err := s.write(ctx, recs, scope, next); err != nil {
			return err
		}
		if !more {
			return nil
		}
		after = conn.PageInfo.EndCursor
	}
}

func sortedPending(m map[int64]pendingItem) []pendingItem {
	out := make([]pendingItem, 0, len(m))
	for _, p := range m {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b pendingItem) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return int(a.ID - b.ID)
	})
	return out
}

// statusesOldestFirst orders a deployment's statuses oldest first whatever
// order the API used, and makes sure the latest status is among them (a
// deployment with more than 100 statuses).
func statusesOldestFirst(n deploymentNode) []statusRecord {
	nodes := slices.Clone(n.Statuses.Nodes)
	if n.LatestStatus != nil && !slices.ContainsFunc(nodes, func(s statusNode) bool {
		return s.State == n.LatestStatus.State && s.CreatedAt.Equal(n.LatestStatus.CreatedAt)
	}) {
		nodes = append(nodes, *n.LatestStatus)
	}
	// GitHub lists statuses newest first; reversed, a stable sort keeps
	// same-second statuses in creation order.
	if len(nodes) > 1 && nodes[0].CreatedAt.After(nodes[len(nodes)-1].CreatedAt) {
		slices.Reverse(nodes)
	}
	slices.SortStableFunc(nodes, func(a, b statusNode) int { return a.CreatedAt.Compare(b.CreatedAt) })
	out := make([]statusRecord, len(nodes))
	for i, st := range nodes {
		out[i] = statusRecord{State: strings.ToLower(st.State), CreatedAt: st.CreatedAt.UTC()}
	}
	return out
}

// ---- releases and workflow runs (REST) ----

// listCursor is the sync position of a REST list read newest first.
type listCursor struct {
	Filter  string        `json:"filter,omitempty"` // the workflow of runs
	ETag    string        `json:"etag,omitempty"`   // of the first page
	Newest  time.Time     `json:"newest,omitzero"`
	Pending []pendingItem `json:"pending,omitempty"`
}

// listItem is one release or run: its record, creation time and whether
// it may still change.
type listItem struct {
	rec     store.Record
	created time.Time
	id      int64
	settled bool
}

// syncList syncs a REST list that GitHub serves newest first: the first
// page is a conditional request; on a change, pages are read until they
// reach items older than both the newest item synced and every recent
// item that had not settled.
func (s *Source) syncList(ctx context.Context, repo, kind, path string, q url.Values, filter string,
	decode func(page int) (any, func() []listItem)) error {
	scope := cursorScope(repo, kind)
	var cur listCursor
	if !s.cursor(scope, &cur) || cur.Filter != filter {
		cur = listCursor{Filter: filter}
	}
	floor := cur.Newest
	for _, p := range cur.Pending {
		if p.CreatedAt.Before(floor) {
			floor = p.CreatedAt
		}
	}
	now := s.now()
	next := listCursor{Filter: filter, Newest: cur.Newest}
	pending := map[int64]pendingItem{}
	var recs []store.Record
	for page := 1; ; page++ {
		pq := url.Values{}
		for k, v := range q {
			pq[k] = v
		}
		pq.Set("per_page", "100")
		pq.Set("page", itoa(page))
		etag := ""
		if page == 1 {
			etag = cur.ETag
		}
		v, items := decode(page)
		resp, notModified, err := s.c.getRetry(ctx, path, pq, etag, v)
		if err != nil {
			return fmt.Errorf("%s: %w", kind, err)
		}
		if notModified {
			return nil
		}
		if page == 1 {
			next.ETag = resp.Header.Get("ETag")
		}
		stop := false
		for _, it := range items() {
			if !floor.IsZero() && it.created.Before(floor) {
				stop = true
				break
			}
			if it.created.After(next.Newest) {
				next.Newest = it.created
			}
			if !it.settled && now.Sub(it.created) <= s.lookback {
				pending[it.id] = pendingItem{ID: it.id, CreatedAt: it.created}
			}
			if it.rec.Data != nil {
				recs = append(recs, it.rec)
			}
		}
		if stop || resp.NextPage == 0 {
			break
		}
	}
	next.Pending = sortedPending(pending)
	return s.write(ctx, recs, scope, next)
}

// syncReleases syncs a repository's releases.
func (s *Source) syncReleases(ctx context.Context, repo string) error {
	var rels []*gh.RepositoryRelease
	return s.syncList(ctx, repo, KindRelease, "repos/"+repo+"/releases", nil, "", func(int) (any, func() []listItem) {
		rels = nil
		return &rels, func() []listItem {
			out := make([]listItem, 0, len(rels))
			for _, r := range rels {
				rec := releaseRecord{Repo: repo, ID: r.GetID(), Tag: r.GetTagName(), Draft: r.GetDraft(), Prerelease: r.GetPrerelease(),
					CreatedAt: r.GetCreatedAt().Time.UTC()}
				if r.PublishedAt != nil {
					rec.PublishedAt = timePtr(r.PublishedAt.Time)
				}
				out = append(out, listItem{id: rec.ID, created: rec.CreatedAt, settled: !rec.Draft,
					rec: store.Record{Source: s.name, Scope: repo, Kind: KindRelease, ID: rec.id(), UpdatedAt: rec.CreatedAt, Data: marshal(rec)}})
			}
			return out
		}
	})
}

// syncWorkflowRuns syncs the runs of the deployment workflow on the default
// branch. The list is read without filters: GitHub caps a filtered search
// (branch, status, ...) at 1,000 runs.
func (s *Source) syncWorkflowRuns(ctx context.Context, repo string) error {
	var cur prCursor
	s.cursor(cursorScope(repo, KindPullRequest), &cur)
	branch := cur.DefaultBranch
	wf := s.spec.Workflow
	var runs gh.WorkflowRuns
	return s.syncList(ctx, repo, KindWorkflowRun, "repos/"+repo+"/actions/workflows/"+url.PathEscape(wf)+"/runs", nil, wf, func(int) (any, func() []listItem) {
		runs = gh.WorkflowRuns{}
		return &runs, func() []listItem {
			out := make([]listItem, 0, len(runs.WorkflowRuns))
			for _, r := range runs.WorkflowRuns {
				rec := runRecord{Repo: repo, ID: r.GetID(), Workflow: wf, Branch: r.GetHeadBranch(), OnDefault: r.GetHeadBranch() == branch,
					Status: r.GetStatus(), Conclusion: r.GetConclusion(), CreatedAt: r.GetCreatedAt().Time.UTC(), UpdatedAt: r.GetUpdatedAt().Time.UTC()}
				it := listItem{id: rec.ID, created: rec.CreatedAt, settled: rec.Status == "completed"}
				// Runs on other branches (pull request builds) are not
				// deployments and are not stored.
				if rec.OnDefault {
					it.rec = store.Record{Source: s.name, Scope: repo, Kind: KindWorkflowRun, ID: rec.id(), UpdatedAt: rec.UpdatedAt, Data: marshal(rec)}
				} else {
					it.settled = true
				}
				out = append(out, it)
			}
			return out
		}
	})
}

// ---- incidents ----

// incidentCursor is the sync position of a repository's incident issues.
type incidentCursor struct {
	Label     string    `json:"label"`
	ETag      string    `json:"etag,omitempty"` // of the first page
	Watermark time.Time `json:"watermark,omitzero"`
}

// syncIncidents syncs the issues with the incident label of a repository,
// most recently updated first, down to the watermark.
func (s *Source) syncIncidents(ctx context.Context, repo string) error {
	scope := cursorScope(repo, collectors.IncidentKind)
	label := s.spec.IncidentLabel
	var cur incidentCursor
	if !s.cursor(scope, &cur) || cur.Label != label {
		cur = incidentCursor{Label: label}
	}
	next := incidentCursor{Label: label, Watermark: cur.Watermark}
	var recs []store.Record
	for page := 1; ; page++ {
		q := url.Values{"labels": {label}, "state": {"all"}, "sort": {"updated"}, "direction": {"desc"},
			"per_page": {"100"}, "page": {itoa(page)}}
		etag := ""
		if page == 1 {
			etag = cur.ETag
		}
		var issues []*gh.Issue
		resp, notModified, err := s.c.getRetry(ctx, "repos/"+repo+"/issues", q, etag, &issues)
		if err != nil {
			return fmt.Errorf("incidents: %w", err)
		}
		if notModified {
			return nil
		}
		if page == 1 {
			next.ETag = resp.Header.Get("ETag")
		}
		stop := false
		for _, is := range issues {
			updated := is.GetUpdatedAt().Time
			if !cur.Watermark.IsZero() && updated.Before(cur.Watermark) {
				stop = true
				break
			}
			if updated.After(next.Watermark) {
				next.Watermark = updated
			}
			if is.IsPullRequest() {
				continue // the issues list includes pull requests
			}
			in := collectors.Incident{ID: repo + "#" + itoa(is.GetNumber()), Title: is.GetTitle(), Scope: repo,
				OpenedAt: is.GetCreatedAt().Time.UTC(), URL: is.GetHTMLURL()}
			if is.ClosedAt != nil {
				in.ClosedAt = timePtr(is.ClosedAt.Time)
			}
			recs = append(recs, store.Record{Source: s.name, Scope: repo, Kind: collectors.IncidentKind, ID: in.ID, UpdatedAt: updated, Data: marshal(in)})
		}
		if stop || resp.NextPage == 0 {
			break
		}
	}
	return s.write(ctx, recs, scope, next)
}

// labels returns the names of a pull request's labels.
func (n *prNode) labels() []string {
	var out []string
	for _, l := range n.Labels.Nodes {
		out = append(out, l.Name)
	}
	return out
}

// sameLabels reports whether a stored pull request has the labels and
// milestone it has now.
func sameLabels(old *prRecord, n prNode) bool {
	ms := ""
	if n.Milestone != nil {
		ms = n.Milestone.Title
	}
	return old.Milestone == ms && slices.Equal(old.Labels, n.labels())
}
