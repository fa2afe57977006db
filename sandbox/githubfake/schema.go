package githubfake

import (
	"encoding/base64"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The subset of GitHub's GraphQL schema (schema.docs.graphql) the fake
// serves: Query.repository and Query.rateLimit; Repository with its pull
// requests (commits, reviews, labels, and the timeline's reviews and draft
// changes) and deployments (statuses); the connection types with nodes,
// edges, pageInfo and totalCount. Field and
// argument names, enum values, limits and error messages follow the real
// API.

// gqlTime formats a time as GitHub's DateTime scalar.
func gqlTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

func gqlTimePtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return gqlTime(*t)
}

func nodeID(prefix string, id int64) string {
	return prefix + "_" + base64.RawURLEncoding.EncodeToString([]byte("0:"+strconv.FormatInt(id, 10)))
}

// queryRoot is the Query type for one request.
type queryRoot struct {
	data  *Data
	login string // the authenticated user
	rate  *rateInfo
}

// rateInfo is what rateLimit answers: this query's cost and the budget
// after it was charged.
type rateInfo struct {
	cost, limit, remaining, used, nodeCount int
	resetAt                                 time.Time
}

func (q *queryRoot) typeName() string { return "Query" }

func (q *queryRoot) resolve(name string, args map[string]any) (any, error) {
	switch name {
	case "repository":
		owner, _ := argString(args, "owner")
		repo, _ := argString(args, "name")
		r := q.data.Repo(owner + "/" + repo)
		if r == nil {
			return nil, &gqlError{Type: "NOT_FOUND", Message: fmt.Sprintf("Could not resolve to a Repository with the name '%s/%s'.", owner, repo)}
		}
		return &repoObj{r: r, login: q.login}, nil
	case "rateLimit":
		return &rateObj{q.rate}, nil
	case "viewer":
		return &actorObj{login: q.login, typ: "User"}, nil
	}
	return nil, undefinedField("Query", name)
}

type rateObj struct{ r *rateInfo }

func (o *rateObj) typeName() string { return "RateLimit" }

func (o *rateObj) resolve(name string, _ map[string]any) (any, error) {
	switch name {
	case "cost":
		return o.r.cost, nil
	case "limit":
		return o.r.limit, nil
	case "remaining":
		return o.r.remaining, nil
	case "used":
		return o.r.used, nil
	case "nodeCount":
		return o.r.nodeCount, nil
	case "resetAt":
		return gqlTime(o.r.resetAt), nil
	}
	return nil, undefinedField("RateLimit", name)
}

type actorObj struct{ login, typ string }

func (o *actorObj) typeName() string { return o.typ }

func (o *actorObj) resolve(name string, _ map[string]any) (any, error) {
	switch name {
	case "login":
		return o.login, nil
	case "url":
		return "https://github.com/" + o.login, nil
	}
	return nil, undefinedField(o.typ, name)
}

func actor(login string) any {
	if login == "" {
		return nil // a deleted account ("ghost") is null in GraphQL
	}
	typ := "User"
	if strings.HasSuffix(login, "[bot]") || strings.HasSuffix(login, "-bot") {
		typ = "Bot"
	}
	return &actorObj{login: login, typ: typ}
}

type refObj struct{ name string }

func (o *refObj) typeName() string { return "Ref" }

func (o *refObj) resolve(name string, _ map[string]any) (any, error) {
	switch name {
	case "name":
		return o.name, nil
	case "prefix":
		return "refs/heads/", nil
	}
	return nil, undefinedField("Ref", name)
}

type repoObj struct {
	r     *Repo
	login string
}

func (o *repoObj) typeName() string { return "Repository" }

func (o *repoObj) resolve(name string, args map[string]any) (any, error) {
	r := o.r
	switch name {
	case "id":
		return nodeID("R", r.ID), nil
	case "databaseId":
		return int(r.ID), nil
	case "name":
		return r.Name, nil
	case "nameWithOwner":
		return r.FullName(), nil
	case "owner":
		return &actorObj{login: r.Owner, typ: "Organization"}, nil
	case "isArchived":
		return r.Archived, nil
	case "isFork":
		return r.Fork, nil
	case "isPrivate":
		return r.Private, nil
	case "url":
		return "https://github.com/" + r.FullName(), nil
	case "createdAt":
		return gqlTime(r.CreatedAt), nil
	case "updatedAt":
		return gqlTime(r.UpdatedAt), nil
	case "pushedAt":
		return gqlTime(r.PushedAt), nil
	case "defaultBranchRef":
		if r.DefaultBranch == "" {
			return nil, nil
		}
		return &refObj{name: r.DefaultBranch}, nil
	case "pullRequest":
		n, _ := argInt(args, "number")
		for _, p := range r.PullRequests {
			if p.Number == n {
				return &prObj{r: r, p: p, login: o.login}, nil
			}
		}
		return nil, &gqlError{Type: "NOT_FOUND", Message: fmt.Sprintf("Could not resolve to a PullRequest with the number of %d.", n)}
	case "pullRequests":
		return o.pullRequests(args)
	case "deployments":
		return o.deployments(args)
	}
	return nil, undefinedField("Repository", name)
}

func prState(p *PullRequest) string {
	switch {
	case p.MergedAt != nil:
		return "MERGED"
	case p.State == "closed":
		return "CLOSED"
	}
	return "OPEN"
}

func (o *repoObj) pullRequests(args map[string]any) (any, error) {
	states, hasStates := argStrings(args, "states")
	for _, s := range states {
		if s != "OPEN" && s != "CLOSED" && s != "MERGED" {
			return nil, invalidArg("states", "pullRequests", fmt.Sprint(states), "[PullRequestState!]")
		}
	}
	base, hasBase := argString(args, "baseRefName")
	head, hasHead := argString(args, "headRefName")
	labels, hasLabels := argStrings(args, "labels")
	field, dir, err := order(args, "pullRequests", "IssueOrder", []string{"CREATED_AT", "UPDATED_AT", "COMMENTS"})
	if err != nil {
		return nil, err
	}
	var prs []*PullRequest
	for _, p := range o.r.PullRequests {
		if hasStates && !slices.Contains(states, prState(p)) {
			continue
		}
		if hasBase && p.BaseRef != base || hasHead && p.HeadRef != head {
			continue
		}
		if hasLabels && !anyIn(labels, p.Labels) {
			continue
		}
		prs = append(prs, p)
	}
	key := func(p *PullRequest) time.Time { return p.CreatedAt }
	if field == "UPDATED_AT" {
		key = func(p *PullRequest) time.Time { return p.UpdatedAt }
	}
	slices.SortStableFunc(prs, func(a, b *PullRequest) int {
		c := key(a).Compare(key(b))
		if c == 0 {
			c = a.Number - b.Number
		}
		if dir == "DESC" {
			return -c
		}
		return c
	})
	objs := make([]object, len(prs))
	for i, p := range prs {
		objs[i] = &prObj{r: o.r, p: p, login: o.login}
	}
	return paginate("PullRequest", "pullRequests", objs, args)
}

func (o *repoObj) deployments(args map[string]any) (any, error) {
	envs, hasEnvs := argStrings(args, "environments")
	_, dir, err := order(args, "deployments", "DeploymentOrder", []string{"CREATED_AT"})
	if err != nil {
		return nil, err
	}
	var deps []*Deployment
	for _, d := range o.r.Deployments {
		if hasEnvs && !slices.Contains(envs, d.Environment) {
			continue
		}
		deps = append(deps, d)
	}
	slices.SortStableFunc(deps, func(a, b *Deployment) int {
		c := a.CreatedAt.Compare(b.CreatedAt)
		if c == 0 {
			c = int(a.ID - b.ID)
		}
		if dir == "DESC" {
			return -c
		}
		return c
	})
	objs := make([]object, len(deps))
	for i, d := range deps {
		objs[i] = &deploymentObj{r: o.r, d: d}
	}
	return paginate("Deployment", "deployments", objs, args)
}

// order reads an orderBy argument; GitHub's default is ascending by
// creation.
func order(args map[string]any, fieldName, typ string, fields []string) (string, string, error) {
	ob := argObject(args, "orderBy")
	if ob == nil {
		return "CREATED_AT", "ASC", nil
	}
	f, _ := argString(ob, "field")
	d, _ := argString(ob, "direction")
	if !slices.Contains(fields, f) || (d != "ASC" && d != "DESC") {
		return "", "", invalidArg("orderBy", fieldName, fmt.Sprint(ob), typ)
	}
	return f, d, nil
}

func invalidArg(arg, fieldName, value, typ string) error {
	return &gqlError{
		Extensions: map[string]any{"code": "argumentLiteralsIncompatible", "typeName": "Field", "argumentName": arg},
		Message:    fmt.Sprintf("Argument '%s' on Field '%s' has an invalid value (%s). Expected type '%s'.", arg, fieldName, value, typ),
	}
}

func anyIn(want, have []string) bool {
	for _, w := range want {
		for _, h := range have {
			if strings.EqualFold(w, h) {
				return true
			}
		}
	}
	return false
}

type prObj struct {
	r     *Repo
	p     *PullRequest
	login string
}

func (o *prObj) typeName() string { return "PullRequest" }

func (o *prObj) resolve(name string, args map[string]any) (any, error) {
	p := o.p
	switch name {
	case "id":
		return nodeID("PR", p.ID), nil
	case "databaseId", "fullDatabaseId":
		return int(p.ID), nil
	case "number":
		return p.Number, nil
	case "title":
		return p.Title, nil
	case "state":
		return prState(p), nil
	case "isDraft":
		return p.Draft, nil
	case "merged":
		return p.MergedAt != nil, nil
	case "closed":
		return p.State == "closed", nil
	case "createdAt":
		return gqlTime(p.CreatedAt), nil
	case "updatedAt":
		return gqlTime(p.UpdatedAt), nil
	case "closedAt":
		return gqlTimePtr(p.ClosedAt), nil
	case "mergedAt":
		return gqlTimePtr(p.MergedAt), nil
	case "baseRefName":
		return p.BaseRef, nil
	case "headRefName":
		return p.HeadRef, nil
	case "additions":
		return p.Additions, nil
	case "deletions":
		return p.Deletions, nil
	case "changedFiles":
		return (p.Additions+p.Deletions)/20 + 1, nil
	case "url":
		return fmt.Sprintf("https://github.com/%s/pull/%d", o.r.FullName(), p.Number), nil
	case "author":
		return actor(p.Author), nil
	case "commits":
		objs := make([]object, len(p.Commits))
		for i := range p.Commits {
			objs[i] = &prCommitObj{c: &p.Commits[i], pr: p}
		}
		return paginate("PullRequestCommit", "commits", objs, args)
	case "reviews":
		states, hasStates := argStrings(args, "states")
		author, hasAuthor := argString(args, "author")
		var objs []object
		for i := range p.Reviews {
			rv := &p.Reviews[i]
			// A pending review is visible to its author only.
			if rv.State == "PENDING" && !strings.EqualFold(rv.Author, o.login) {
				continue
			}
			if hasStates && !slices.Contains(states, rv.State) || hasAuthor && !strings.EqualFold(author, rv.Author) {
				continue
			}
			objs = append(objs, &reviewObj{rv: rv})
		}
		return paginate("PullRequestReview", "reviews", objs, args)
	case "labels":
		objs := make([]object, len(p.Labels))
		for i, l := range p.Labels {
			objs[i] = &labelObj{name: l}
		}
		return paginate("Label", "labels", objs, args)
	case "milestone":
		if p.Milestone == "" {
			return nil, nil
		}
		return &milestoneObj{title: p.Milestone}, nil
	case "timelineItems":
		return o.timelineItems(args)
	}
	return nil, undefinedField("PullRequest", name)
}

// timelineItemTypes are the values of GitHub's
// PullRequestTimelineItemsItemType enum. The fake's timelines hold only
// reviews and draft changes; asking for the other types is valid and
// finds nothing.
var timelineItemTypes = []string{
	"ADDED_TO_MERGE_QUEUE_EVENT", "ADDED_TO_PROJECT_EVENT", "ASSIGNED_EVENT", "AUTOMATIC_BASE_CHANGE_FAILED_EVENT",
	"AUTOMATIC_BASE_CHANGE_SUCCEEDED_EVENT", "AUTO_MERGE_DISABLED_EVENT", "AUTO_MERGE_ENABLED_EVENT", "AUTO_REBASE_ENABLED_EVENT",
	"AUTO_SQUASH_ENABLED_EVENT", "BASE_REF_CHANGED_EVENT", "BASE_REF_DELETED_EVENT", "BASE_REF_FORCE_PUSHED_EVENT", "CLOSED_EVENT",
	"COMMENT_DELETED_EVENT", "CONNECTED_EVENT", "CONVERTED_NOTE_TO_ISSUE_EVENT", "CONVERTED_TO_DISCUSSION_EVENT",
	"CONVERT_TO_DRAFT_EVENT", "CROSS_REFERENCED_EVENT", "DEMILESTONED_EVENT", "DEPLOYED_EVENT", "DEPLOYMENT_ENVIRONMENT_CHANGED_EVENT",
	"DISCONNECTED_EVENT", "HEAD_REF_DELETED_EVENT", "HEAD_REF_FORCE_PUSHED_EVENT", "HEAD_REF_RESTORED_EVENT", "ISSUE_COMMENT",
	"LABELED_EVENT", "LOCKED_EVENT", "MARKED_AS_DUPLICATE_EVENT", "MENTIONED_EVENT", "MERGED_EVENT", "MILESTONED_EVENT",
	"MOVED_COLUMNS_IN_PROJECT_EVENT", "PINNED_EVENT", "PULL_REQUEST_COMMIT", "PULL_REQUEST_COMMIT_COMMENT_THREAD",
	"PULL_REQUEST_REVIEW", "PULL_REQUEST_REVIEW_THREAD", "PULL_REQUEST_REVISION_MARKER", "READY_FOR_REVIEW_EVENT",
	"REFERENCED_EVENT", "REMOVED_FROM_MERGE_QUEUE_EVENT", "REMOVED_FROM_PROJECT_EVENT", "RENAMED_TITLE_EVENT", "REOPENED_EVENT",
	"REVIEW_DISMISSED_EVENT", "REVIEW_REQUESTED_EVENT", "REVIEW_REQUEST_REMOVED_EVENT", "SUBSCRIBED_EVENT", "TRANSFERRED_EVENT",
	"UNASSIGNED_EVENT", "UNLABELED_EVENT", "UNLOCKED_EVENT", "UNMARKED_AS_DUPLICATE_EVENT", "UNPINNED_EVENT",
	"UNSUBSCRIBED_EVENT", "USER_BLOCKED_EVENT",
}

// timelineItems serves PullRequest.timelineItems: the pull request's
// timeline in chronological order (a review at its submission), of the
// item types asked for (all without itemTypes), as the
// PullRequestTimelineItems union.
func (o *prObj) timelineItems(args map[string]any) (any, error) {
	types, hasTypes := argStrings(args, "itemTypes")
	for _, t := range types {
		if !slices.Contains(timelineItemTypes, t) {
			return nil, invalidArg("itemTypes", "timelineItems", fmt.Sprint(types), "[PullRequestTimelineItemsItemType!]")
		}
	}
	want := func(t string) bool { return !hasTypes || slices.Contains(types, t) }
	type item struct {
		at  *time.Time
		obj object
	}
	var items []item
	p := o.p
	if want("PULL_REQUEST_REVIEW") {
		for i := range p.Reviews {
			rv := &p.Reviews[i]
			// A pending review is visible to its author only.
			if rv.State == "PENDING" && !strings.EqualFold(rv.Author, o.login) {
				continue
			}
			items = append(items, item{rv.SubmittedAt, &reviewObj{rv: rv}})
		}
	}
	for i := range p.DraftEvents {
		ev := &p.DraftEvents[i]
		if ev.Draft && want("CONVERT_TO_DRAFT_EVENT") || !ev.Draft && want("READY_FOR_REVIEW_EVENT") {
			items = append(items, item{&ev.At, &draftEventObj{ev: ev, r: o.r, p: p}})
		}
	}
	// Chronological; a pending review, not submitted yet, comes last.
	slices.SortStableFunc(items, func(a, b item) int {
		switch {
		case a.at == nil && b.at == nil:
			return 0
		case a.at == nil:
			return 1
		case b.at == nil:
			return -1
		}
		return a.at.Compare(*b.at)
	})
	objs := make([]object, len(items))
	for i, it := range items {
		objs[i] = it.obj
	}
	return paginate("PullRequestTimelineItems", "timelineItems", objs, args)
}

// draftEventObj is a ConvertToDraftEvent or a ReadyForReviewEvent.
type draftEventObj struct {
	ev *DraftEvent
	r  *Repo
	p  *PullRequest
}

func (o *draftEventObj) typeName() string {
	if o.ev.Draft {
		return "ConvertToDraftEvent"
	}
	return "ReadyForReviewEvent"
}

func (o *draftEventObj) resolve(name string, _ map[string]any) (any, error) {
	switch name {
	case "id":
		prefix := "RFRE"
		if o.ev.Draft {
			prefix = "CTDE"
		}
		return nodeID(prefix, o.ev.ID), nil
	case "createdAt":
		return gqlTime(o.ev.At), nil
	case "actor":
		return actor(o.ev.Actor), nil
	case "pullRequest":
		return &prObj{r: o.r, p: o.p}, nil
	case "url", "resourcePath":
		path := fmt.Sprintf("/%s/pull/%d#event-%d", o.r.FullName(), o.p.Number, o.ev.ID)
		if name == "url" {
			return "https://github.com" + path, nil
		}
		return path, nil
	}
	return nil, undefinedField(o.typeName(), name)
}

type prCommitObj struct {
	c  *Commit
	pr *PullRequest
}

func (o *prCommitObj) typeName() string { return "PullRequestCommit" }

func (o *prCommitObj) resolve(name string, _ map[string]any) (any, error) {
	switch name {
	case "id":
		return nodeID("PURC", o.pr.ID), nil
	case "commit":
		return &commitObj{o.c}, nil
	}
	return nil, undefinedField("PullRequestCommit", name)
}

type commitObj struct{ c *Commit }

func (o *commitObj) typeName() string { return "Commit" }

func (o *commitObj) resolve(name string, _ map[string]any) (any, error) {
	switch name {
	case "oid":
		return o.c.SHA, nil
	case "authoredDate":
		return gqlTime(o.c.AuthoredDate), nil
	case "committedDate":
		return gqlTime(o.c.CommittedDate), nil
	}
	return nil, undefinedField("Commit", name)
}

type reviewObj struct{ rv *Review }

func (o *reviewObj) typeName() string { return "PullRequestReview" }

func (o *reviewObj) resolve(name string, _ map[string]any) (any, error) {
	switch name {
	case "id":
		return nodeID("PRR", o.rv.ID), nil
	case "databaseId", "fullDatabaseId":
		return int(o.rv.ID), nil
	case "author":
		return actor(o.rv.Author), nil
	case "state":
		return o.rv.State, nil
	case "submittedAt":
		return gqlTimePtr(o.rv.SubmittedAt), nil
	case "createdAt":
		if o.rv.SubmittedAt != nil {
			return gqlTime(*o.rv.SubmittedAt), nil
		}
		return nil, nil
	}
	return nil, undefinedField("PullRequestReview", name)
}

type labelObj struct{ name string }

func (o *labelObj) typeName() string { return "Label" }

func (o *labelObj) resolve(name string, _ map[string]any) (any, error) {
	if name == "name" {
		return o.name, nil
	}
	return nil, undefinedField("Label", name)
}

// milestoneObj is a Milestone; the fake knows milestones by title only.
type milestoneObj struct{ title string }

func (o *milestoneObj) typeName() string { return "Milestone" }

func (o *milestoneObj) resolve(name string, _ map[string]any) (any, error) {
	if name == "title" {
		return o.title, nil
	}
	return nil, undefinedField("Milestone", name)
}

type deploymentObj struct {
	r *Repo
	d *Deployment
}

func (o *deploymentObj) typeName() string { return "Deployment" }

// deploymentState maps the newest status to the DeploymentState enum.
func deploymentState(d *Deployment) string {
	if len(d.Statuses) == 0 {
		return "PENDING"
	}
	switch s := d.Statuses[len(d.Statuses)-1].State; s {
	case "success":
		return "ACTIVE"
	default:
		return strings.ToUpper(s)
	}
}

func (o *deploymentObj) resolve(name string, args map[string]any) (any, error) {
	d := o.d
	switch name {
	case "id":
		return nodeID("DE", d.ID), nil
	case "databaseId":
		return int(d.ID), nil
	case "createdAt":
		return gqlTime(d.CreatedAt), nil
	case "updatedAt":
		return gqlTime(d.UpdatedAt), nil
	case "environment", "latestEnvironment", "originalEnvironment":
		return d.Environment, nil
	case "task":
		return d.Task, nil
	case "description":
		return nil, nil
	case "commitOid":
		return d.SHA, nil
	case "state":
		return deploymentState(d), nil
	case "creator":
		return actor(d.Creator), nil
	case "latestStatus":
		if len(d.Statuses) == 0 {
			return nil, nil
		}
		return &statusObj{s: &d.Statuses[len(d.Statuses)-1], env: d.Environment}, nil
	case "statuses":
		// Newest first, as the REST API lists them; clients must not
		// depend on the order.
		objs := make([]object, len(d.Statuses))
		for i := range d.Statuses {
			objs[len(d.Statuses)-1-i] = &statusObj{s: &d.Statuses[i], env: d.Environment}
		}
		return paginate("DeploymentStatus", "statuses", objs, args)
	}
	return nil, undefinedField("Deployment", name)
}

type statusObj struct {
	s   *DeploymentStatus
	env string
}

func (o *statusObj) typeName() string { return "DeploymentStatus" }

func (o *statusObj) resolve(name string, _ map[string]any) (any, error) {
	switch name {
	case "id":
		return nodeID("DES", o.s.ID), nil
	case "state":
		return strings.ToUpper(o.s.State), nil
	case "createdAt", "updatedAt":
		return gqlTime(o.s.CreatedAt), nil
	case "environment":
		return o.env, nil
	case "description", "logUrl", "environmentUrl":
		return nil, nil
	}
	return nil, undefinedField("DeploymentStatus", name)
}

// connection is one page of a connection.
type connection struct {
	typ      string // node type, e.g. "PullRequest"
	nodes    []object
	offset   int // index of nodes[0] in the whole list
	total    int
	hasNext  bool
	hasPrev  bool
	fieldFor string
}

func cursorFor(i int) string {
	return base64.StdEncoding.EncodeToString([]byte("cursor:v2:" + strconv.Itoa(i)))
}

func parseCursor(s string) (int, bool) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || !strings.HasPrefix(string(b), "cursor:v2:") {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimPrefix(string(b), "cursor:v2:"))
	return n, err == nil && n >= 0
}

// paginate applies first/after/last/before to a whole list, with GitHub's
// rules: one of first or last is required, each between 1 and 100.
func paginate(typ, fieldName string, all []object, args map[string]any) (any, error) {
	first, hasFirst := argInt(args, "first")
	last, hasLast := argInt(args, "last")
	if !hasFirst && !hasLast {
		return nil, &gqlError{Type: "MISSING_PAGINATION_BOUNDARIES",
			Message: fmt.Sprintf("You must provide a `first` or `last` value to properly paginate the `%s` connection.", fieldName)}
	}
	for _, n := range []struct {
		name string
		v    int
		has  bool
	}{{"first", first, hasFirst}, {"last", last, hasLast}} {
		if n.has && (n.v < 0 || n.v > 100) {
			return nil, &gqlError{Type: "EXCESSIVE_PAGINATION",
				Message: fmt.Sprintf("Requesting %d records on the `%s` connection exceeds the `%s` limit of 100 records.", n.v, fieldName, n.name)}
		}
	}
	lo, hi := 0, len(all)
	if s, ok := argString(args, "after"); ok {
		i, valid := parseCursor(s)
		if !valid {
			return nil, &gqlError{Type: "INVALID_CURSOR_ARGUMENTS", Message: fmt.Sprintf("`%s` does not appear to be a valid cursor.", s)}
		}
		lo = min(i+1, len(all))
	}
	if s, ok := argString(args, "before"); ok {
		i, valid := parseCursor(s)
		if !valid {
			return nil, &gqlError{Type: "INVALID_CURSOR_ARGUMENTS", Message: fmt.Sprintf("`%s` does not appear to be a valid cursor.", s)}
		}
		hi = max(min(i, len(all)), lo)
	}
	c := &connection{typ: typ, total: len(all), fieldFor: fieldName}
	if hasFirst && hi-lo > first {
		hi = lo + first
		c.hasNext = true
	} else if hi < len(all) {
		c.hasNext = true
	}
	if hasLast && hi-lo > last {
		lo = hi - last
		c.hasPrev = true
	} else if lo > 0 {
		c.hasPrev = true
	}
	c.nodes, c.offset = all[lo:hi], lo
	return c, nil
}

func (c *connection) typeName() string { return c.typ + "Connection" }

func (c *connection) resolve(name string, _ map[string]any) (any, error) {
	switch name {
	case "nodes":
		return c.nodes, nil
	case "edges":
		edges := make([]object, len(c.nodes))
		for i, n := range c.nodes {
			edges[i] = &edgeObj{typ: c.typ + "Edge", cursor: cursorFor(c.offset + i), node: n}
		}
		return edges, nil
	case "totalCount":
		return c.total, nil
	case "pageInfo":
		pi := &pageInfo{hasNext: c.hasNext, hasPrev: c.hasPrev}
		if len(c.nodes) > 0 {
			pi.start, pi.end = cursorFor(c.offset), cursorFor(c.offset+len(c.nodes)-1)
		}
		return pi, nil
	}
	return nil, undefinedField(c.typeName(), name)
}

type edgeObj struct {
	typ, cursor string
	node        object
}

func (o *edgeObj) typeName() string { return o.typ }

func (o *edgeObj) resolve(name string, _ map[string]any) (any, error) {
	switch name {
	case "cursor":
		return o.cursor, nil
	case "node":
		return o.node, nil
	}
	return nil, undefinedField(o.typ, name)
}

type pageInfo struct {
	hasNext, hasPrev bool
	start, end       string
}

func (o *pageInfo) typeName() string { return "PageInfo" }

func (o *pageInfo) resolve(name string, _ map[string]any) (any, error) {
	str := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	switch name {
	case "hasNextPage":
		return o.hasNext, nil
	case "hasPreviousPage":
		return o.hasPrev, nil
	case "startCursor":
		return str(o.start), nil
	case "endCursor":
		return str(o.end), nil
	}
	return nil, undefinedField("PageInfo", name)
}

// queryCost computes a query's rate-limit cost the way GitHub documents it:
// add up the requests needed to fulfil each connection, assuming each
// reaches its first or last limit (a connection inside another is
// requested once per parent node), divide by 100 and round; the minimum
// is 1. It also returns the node count GitHub limits to 500,000.
func queryCost(sel []*field) (cost, nodes int) {
	var requests float64
	var walk func(sel []*field, mult float64)
	walk = func(sel []*field, mult float64) {
		for _, f := range sel {
			if f.name == "rateLimit" {
				continue
			}
			n, hasFirst := argInt(f.args, "first")
			if l, hasLast := argInt(f.args, "last"); hasLast && (!hasFirst || l > n) {
				n, hasFirst = l, true
			}
			if hasFirst {
				requests += mult
				nodes += int(mult) * n
				walk(f.sel, mult*float64(n))
				continue
			}
			walk(f.sel, mult)
		}
	}
	walk(sel, 1)
	cost = int(math.Round(requests / 100))
	if cost < 1 {
		cost = 1
	}
	return cost, nodes
}
