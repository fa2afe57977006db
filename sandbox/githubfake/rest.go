package githubfake

import (
	"fmt"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// rest routes a REST request.
func (s *Server) rest(x *exchange) {
	if x.r.Method != http.MethodGet {
		x.charge(1)
		x.setRateHeaders()
		x.notFound()
		return
	}
	if x.spent(1) {
		x.primaryLimit(0)
		return
	}
	parts := strings.Split(strings.Trim(x.path, "/"), "/")
	// GitHub's Link headers name repositories by id; serve those paths too.
	if len(parts) >= 2 && parts[0] == "repositories" {
		id, _ := strconv.ParseInt(parts[1], 10, 64)
		for _, r := range s.data.Repos {
			if r.ID == id {
				parts = append([]string{"repos", r.Owner, r.Name}, parts[2:]...)
				break
			}
		}
	}
	switch {
	case len(parts) == 1 && parts[0] == "rate_limit":
		s.rateLimit(x)
		return
	case len(parts) == 3 && (parts[0] == "orgs" || parts[0] == "users") && parts[2] == "repos":
		s.ownerRepos(x, parts[0] == "orgs", parts[1])
		return
	case len(parts) >= 3 && parts[0] == "repos":
		r := s.data.Repo(parts[1] + "/" + parts[2])
		if r == nil {
			x.charge(1)
			x.setRateHeaders()
			x.notFound()
			return
		}
		rest := parts[3:]
		switch {
		case len(rest) == 0:
			x.answer(repoJSON(r))
			return
		case len(rest) == 1 && rest[0] == "pulls":
			s.pulls(x, r)
			return
		case len(rest) == 1 && rest[0] == "deployments":
			s.deployments(x, r)
			return
		case len(rest) == 3 && rest[0] == "deployments" && rest[2] == "statuses":
			s.deploymentStatuses(x, r, rest[1])
			return
		case len(rest) == 1 && rest[0] == "releases":
			s.releases(x, r)
			return
		case len(rest) == 2 && rest[0] == "actions" && rest[1] == "runs":
			s.runs(x, r, nil)
			return
		case len(rest) == 4 && rest[0] == "actions" && rest[1] == "workflows" && rest[3] == "runs":
			for _, wf := range r.Workflows {
				if rest[2] == strconv.FormatInt(wf.ID, 10) || rest[2] == path.Base(wf.Path) {
					s.runs(x, r, wf)
					return
				}
			}
		case len(rest) == 1 && rest[0] == "issues":
			s.issues(x, r)
			return
		}
	}
	x.charge(1)
	x.setRateHeaders()
	x.notFound()
}

func (s *Server) rateLimit(x *exchange) {
	res := map[string]any{}
	for _, name := range []string{"core", "graphql", "search"} {
		b := s.bucketLocked(x.who, name, x.authed)
		res[name] = map[string]any{"limit": b.limit, "remaining": b.limit - b.used, "used": b.used, "reset": b.reset.Unix(), "resource": name}
	}
	b := x.s.bucketLocked(x.who, "core", x.authed)
	x.writeJSON(http.StatusOK, map[string]any{"resources": res,
		"rate": map[string]any{"limit": b.limit, "remaining": b.limit - b.used, "used": b.used, "reset": b.reset.Unix(), "resource": "core"}})
}

// query helpers.

func (x *exchange) q(name string) string { return x.r.URL.Query().Get(name) }

// page cuts one page out of items per the per_page (default 30, at most
// 100) and page parameters and writes GitHub's Link header. Its URLs name
// the repository by id (/repositories/ID/...), as GitHub's do; go-github
// takes only the page number from them and re-requests the original path.
func (x *exchange) page(items []any, linkPath string) []any {
	per, err := strconv.Atoi(x.q("per_page"))
	if err != nil || per <= 0 {
		per = 30
	}
	per = min(per, 100)
	pg, err := strconv.Atoi(x.q("page"))
	if err != nil || pg <= 0 {
		pg = 1
	}
	last := (len(items) + per - 1) / per
	link := func(p int, rel string) string {
		v := x.r.URL.Query()
		v.Set("page", strconv.Itoa(p))
		prefix := ""
		if x.s.Enterprise {
			prefix = "/api/v3"
		}
		u := url.URL{Scheme: "http", Host: x.r.Host, Path: prefix + linkPath, RawQuery: v.Encode()}
		return fmt.Sprintf("<%s>; rel=%q", u.String(), rel)
	}
	var links []string
	if pg > 1 {
		links = append(links, link(min(pg-1, max(last, 1)), "prev"))
	}
	if pg < last {
		links = append(links, link(pg+1, "next"), link(last, "last"))
	}
	if pg > 1 {
		links = append(links, link(1, "first"))
	}
	if len(links) > 0 {
		x.w.Header().Set("Link", strings.Join(links, ", "))
	}
	lo := (pg - 1) * per
	if lo >= len(items) {
		return []any{}
	}
	return items[lo:min(lo+per, len(items))]
}

func repoLinkPath(r *Repo, rest string) string {
	return "/repositories/" + strconv.FormatInt(r.ID, 10) + rest
}

func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

func tsPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return ts(*t)
}

func userJSON(login string) any {
	if login == "" {
		return nil
	}
	typ := "User"
	if strings.HasSuffix(login, "[bot]") || strings.HasSuffix(login, "-bot") {
		typ = "Bot"
	}
	return map[string]any{"login": login, "id": len(login)*1000 + int(login[0]), "type": typ, "site_admin": false,
		"url": "https://api.github.com/users/" + login, "html_url": "https://github.com/" + login}
}

func repoJSON(r *Repo) map[string]any {
	vis := "public"
	if r.Private {
		vis = "private"
	}
	return map[string]any{
		"id": r.ID, "node_id": nodeID("R", r.ID), "name": r.Name, "full_name": r.FullName(), "private": r.Private,
		"owner": userJSON(r.Owner), "html_url": "https://github.com/" + r.FullName(), "fork": r.Fork,
		"url": "https://api.github.com/repos/" + r.FullName(), "archived": r.Archived, "disabled": false,
		"default_branch": r.DefaultBranch, "visibility": vis,
		"created_at": ts(r.CreatedAt), "updated_at": ts(r.UpdatedAt), "pushed_at": ts(r.PushedAt),
	}
}

func (s *Server) ownerRepos(x *exchange, org bool, login string) {
	owner, ok := s.data.Owners[strings.ToLower(login)]
	if !ok || (org && !owner.Org) {
		x.charge(1)
		x.setRateHeaders()
		x.notFound()
		return
	}
	var repos []*Repo
	for _, r := range s.data.Repos {
		if !strings.EqualFold(r.Owner, login) {
			continue
		}
		// /users/{user}/repos lists public repositories only.
		if !org && r.Private {
			continue
		}
		repos = append(repos, r)
	}
	sortKey := x.q("sort")
	if sortKey == "" {
		sortKey = "created"
		if !org {
			sortKey = "full_name"
		}
	}
	dir := x.q("direction")
	if dir == "" {
		dir = "desc"
		if sortKey == "full_name" {
			dir = "asc"
		}
	}
	slices.SortFunc(repos, func(a, b *Repo) int {
		var c int
		switch sortKey {
		case "full_name":
			c = strings.Compare(strings.ToLower(a.FullName()), strings.ToLower(b.FullName()))
		case "updated":
			c = a.UpdatedAt.Compare(b.UpdatedAt)
		case "pushed":
			c = a.PushedAt.Compare(b.PushedAt)
		default:
			c = a.CreatedAt.Compare(b.CreatedAt)
		}
		if c == 0 {
			c = int(a.ID - b.ID)
		}
		if dir == "desc" {
			return -c
		}
		return c
	})
	items := make([]any, len(repos))
	for i, r := range repos {
		items[i] = repoJSON(r)
	}
	kind := "users"
	if org {
		kind = "organizations"
	}
	x.answer(x.page(items, "/"+kind+"/"+strconv.FormatInt(owner.ID, 10)+"/repos"))
}

// pullJSON is the "pull-request-simple" shape of list items: no merged,
// additions, deletions or commits (those need GET /pulls/{n}).
func pullJSON(r *Repo, p *PullRequest) map[string]any {
	labels := make([]any, len(p.Labels))
	for i, l := range p.Labels {
		labels[i] = map[string]any{"name": l}
	}
	var milestone any
	if p.Milestone != "" {
		milestone = map[string]any{"title": p.Milestone, "state": "open"}
	}
	return map[string]any{
		"milestone": milestone,
		"url":       fmt.Sprintf("https://api.github.com/repos/%s/pulls/%d", r.FullName(), p.Number),
		"id":        p.ID, "node_id": nodeID("PR", p.ID), "number": p.Number, "state": p.State, "locked": false,
		"title": p.Title, "user": userJSON(p.Author), "body": nil, "labels": labels, "draft": p.Draft,
		"created_at": ts(p.CreatedAt), "updated_at": ts(p.UpdatedAt), "closed_at": tsPtr(p.ClosedAt), "merged_at": tsPtr(p.MergedAt),
		"merge_commit_sha": nil, "author_association": "MEMBER",
		"head": map[string]any{"label": r.Owner + ":" + p.HeadRef, "ref": p.HeadRef, "sha": sha(p.ID)},
		"base": map[string]any{"label": r.Owner + ":" + p.BaseRef, "ref": p.BaseRef, "sha": sha(p.ID + 1)},
	}
}

func (s *Server) pulls(x *exchange, r *Repo) {
	state := x.q("state")
	if state == "" {
		state = "open"
	}
	var prs []*PullRequest
	for _, p := range r.PullRequests {
		if state != "all" && p.State != state {
			continue
		}
		if b := x.q("base"); b != "" && p.BaseRef != b {
			continue
		}
		if h := x.q("head"); h != "" && r.Owner+":"+p.HeadRef != h {
			continue
		}
		prs = append(prs, p)
	}
	sortKey := x.q("sort")
	if sortKey == "" {
		sortKey = "created"
	}
	// The default direction is desc only when sorting by creation.
	dir := x.q("direction")
	if dir == "" {
		dir = "asc"
		if sortKey == "created" {
			dir = "desc"
		}
	}
	slices.SortFunc(prs, func(a, b *PullRequest) int {
		c := a.CreatedAt.Compare(b.CreatedAt)
		if sortKey == "updated" {
			c = a.UpdatedAt.Compare(b.UpdatedAt)
		}
		if c == 0 {
			c = a.Number - b.Number
		}
		if dir == "desc" {
			return -c
		}
		return c
	})
	items := make([]any, len(prs))
	for i, p := range prs {
		items[i] = pullJSON(r, p)
	}
	x.answer(x.page(items, repoLinkPath(r, "/pulls")))
}

func (s *Server) deployments(x *exchange, r *Repo) {
	var deps []*Deployment
	for _, d := range r.Deployments {
		if e := x.q("environment"); e != "" && d.Environment != e {
			continue
		}
		if v := x.q("ref"); v != "" && d.Ref != v {
			continue
		}
		if v := x.q("sha"); v != "" && d.SHA != v {
			continue
		}
		if v := x.q("task"); v != "" && d.Task != v {
			continue
		}
		deps = append(deps, d)
	}
	// Newest first.
	slices.SortFunc(deps, func(a, b *Deployment) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return int(b.ID - a.ID)
	})
	items := make([]any, len(deps))
	for i, d := range deps {
		u := fmt.Sprintf("https://api.github.com/repos/%s/deployments/%d", r.FullName(), d.ID)
		items[i] = map[string]any{
			"url": u, "id": d.ID, "node_id": nodeID("DE", d.ID), "sha": d.SHA, "ref": d.Ref, "task": d.Task,
			"payload": map[string]any{}, "original_environment": d.Environment, "environment": d.Environment,
			"description": nil, "creator": userJSON(d.Creator), "created_at": ts(d.CreatedAt), "updated_at": ts(d.UpdatedAt),
			"statuses_url": u + "/statuses", "repository_url": "https://api.github.com/repos/" + r.FullName(),
			"transient_environment": false, "production_environment": d.Environment == "production",
		}
	}
	x.answer(x.page(items, repoLinkPath(r, "/deployments")))
}

func (s *Server) deploymentStatuses(x *exchange, r *Repo, idText string) {
	id, _ := strconv.ParseInt(idText, 10, 64)
	for _, d := range r.Deployments {
		if d.ID != id {
			continue
		}
		items := make([]any, 0, len(d.Statuses))
		for i := len(d.Statuses) - 1; i >= 0; i-- { // newest first
			st := d.Statuses[i]
			items = append(items, map[string]any{
				"id": st.ID, "node_id": nodeID("DES", st.ID), "state": st.State, "creator": userJSON(d.Creator),
				"description": "", "environment": d.Environment, "target_url": "", "log_url": "",
				"created_at": ts(st.CreatedAt), "updated_at": ts(st.CreatedAt),
				"deployment_url": fmt.Sprintf("https://api.github.com/repos/%s/deployments/%d", r.FullName(), d.ID),
			})
		}
		x.answer(x.page(items, repoLinkPath(r, "/deployments/"+idText+"/statuses")))
		return
	}
	x.charge(1)
	x.setRateHeaders()
	x.notFound()
}

func (s *Server) releases(x *exchange, r *Repo) {
	rels := slices.Clone(r.Releases)
	slices.SortFunc(rels, func(a, b *Release) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return int(b.ID - a.ID)
	})
	items := make([]any, len(rels))
	for i, rel := range rels {
		items[i] = map[string]any{
			"url": fmt.Sprintf("https://api.github.com/repos/%s/releases/%d", r.FullName(), rel.ID),
			"id":  rel.ID, "node_id": nodeID("RE", rel.ID), "tag_name": rel.TagName, "target_commitish": r.DefaultBranch,
			"name": rel.Name, "draft": rel.Draft, "prerelease": rel.Prerelease, "author": userJSON(rel.Author),
			"created_at": ts(rel.CreatedAt), "published_at": tsPtr(rel.PublishedAt), "assets": []any{}, "body": "",
		}
	}
	x.answer(x.page(items, repoLinkPath(r, "/releases")))
}

// runs lists workflow runs, newest first. As GitHub documents, a search
// with actor, branch, check_suite_id, created, event, head_sha or status
// returns at most 1,000 runs.
func (s *Server) runs(x *exchange, r *Repo, only *Workflow) {
	var runs []*WorkflowRun
	var wfOf = map[*WorkflowRun]*Workflow{}
	for _, wf := range r.Workflows {
		if only != nil && wf != only {
			continue
		}
		for _, run := range wf.Runs {
			wfOf[run] = wf
			if b := x.q("branch"); b != "" && run.HeadBranch != b {
				continue
			}
			if st := x.q("status"); st != "" && run.Status != st && run.Conclusion != st {
				continue
			}
			if e := x.q("event"); e != "" && run.Event != e {
				continue
			}
			runs = append(runs, run)
		}
	}
	slices.SortFunc(runs, func(a, b *WorkflowRun) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return int(b.ID - a.ID)
	})
	for _, p := range []string{"actor", "branch", "check_suite_id", "created", "event", "head_sha", "status"} {
		if x.q(p) != "" && len(runs) > 1000 {
			runs = runs[:1000]
			break
		}
	}
	items := make([]any, len(runs))
	for i, run := range runs {
		wf := wfOf[run]
		var concl any
		if run.Conclusion != "" {
			concl = run.Conclusion
		}
		items[i] = map[string]any{
			"id": run.ID, "name": wf.Name, "node_id": nodeID("WFR", run.ID), "head_branch": run.HeadBranch, "head_sha": run.HeadSHA,
			"path": wf.Path, "run_number": run.RunNumber, "event": run.Event, "status": run.Status, "conclusion": concl,
			"workflow_id": wf.ID, "url": fmt.Sprintf("https://api.github.com/repos/%s/actions/runs/%d", r.FullName(), run.ID),
			"created_at": ts(run.CreatedAt), "updated_at": ts(run.UpdatedAt), "run_started_at": ts(run.RunStartedAt), "run_attempt": 1,
		}
	}
	linkPath := "/actions/runs"
	if only != nil {
		linkPath = "/actions/workflows/" + strconv.FormatInt(only.ID, 10) + "/runs"
	}
	x.answer(map[string]any{"total_count": len(runs), "workflow_runs": x.page(items, repoLinkPath(r, linkPath))})
}

// issues lists issues and, as GitHub does, pull requests (with a
// pull_request key).
func (s *Server) issues(x *exchange, r *Repo) {
	state := x.q("state")
	if state == "" {
		state = "open"
	}
	var labels []string
	if l := x.q("labels"); l != "" {
		labels = strings.Split(l, ",")
	}
	var since time.Time
	if v := x.q("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			x.charge(1)
			x.setRateHeaders()
			x.writeJSON(http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed",
				"errors": []any{map[string]any{"resource": "Issue", "field": "since", "code": "invalid"}}, "documentation_url": "https://docs.github.com/rest/issues/issues#list-repository-issues"})
			return
		}
		since = t
	}
	type item struct {
		number  int
		created time.Time
		updated time.Time
		json    map[string]any
	}
	var items []item
	hasAll := func(have []string) bool {
		for _, w := range labels {
			if !slices.ContainsFunc(have, func(h string) bool { return strings.EqualFold(h, strings.TrimSpace(w)) }) {
				return false
			}
		}
		return true
	}
	keep := func(st string, lbls []string, updated time.Time) bool {
		return (state == "all" || st == state) && hasAll(lbls) && (since.IsZero() || !updated.Before(since))
	}
	labelJSON := func(ls []string) []any {
		out := make([]any, len(ls))
		for i, l := range ls {
			out[i] = map[string]any{"name": l}
		}
		return out
	}
	for _, is := range r.Issues {
		if !keep(is.State, is.Labels, is.UpdatedAt) {
			continue
		}
		items = append(items, item{is.Number, is.CreatedAt, is.UpdatedAt, map[string]any{
			"url":      fmt.Sprintf("https://api.github.com/repos/%s/issues/%d", r.FullName(), is.Number),
			"html_url": fmt.Sprintf("https://github.com/%s/issues/%d", r.FullName(), is.Number),
			"id":       is.ID, "node_id": nodeID("I", is.ID), "number": is.Number, "title": is.Title, "user": userJSON(is.Author),
			"labels": labelJSON(is.Labels), "state": is.State, "locked": false, "comments": 0,
			"created_at": ts(is.CreatedAt), "updated_at": ts(is.UpdatedAt), "closed_at": tsPtr(is.ClosedAt),
			"author_association": "MEMBER", "body": nil,
		}})
	}
	for _, p := range r.PullRequests {
		if !keep(p.State, p.Labels, p.UpdatedAt) {
			continue
		}
		items = append(items, item{p.Number, p.CreatedAt, p.UpdatedAt, map[string]any{
			"url": fmt.Sprintf("https://api.github.com/repos/%s/issues/%d", r.FullName(), p.Number),
			"id":  p.ID, "node_id": nodeID("PR", p.ID), "number": p.Number, "title": p.Title, "user": userJSON(p.Author),
			"labels": labelJSON(p.Labels), "state": p.State, "locked": false, "comments": 0,
			"created_at": ts(p.CreatedAt), "updated_at": ts(p.UpdatedAt), "closed_at": tsPtr(p.ClosedAt),
			"pull_request": map[string]any{"url": fmt.Sprintf("https://api.github.com/repos/%s/pulls/%d", r.FullName(), p.Number), "merged_at": tsPtr(p.MergedAt)},
		}})
	}
	sortKey := x.q("sort")
	dir := x.q("direction")
	if dir == "" {
		dir = "desc"
	}
	slices.SortFunc(items, func(a, b item) int {
		c := a.created.Compare(b.created)
		if sortKey == "updated" {
			c = a.updated.Compare(b.updated)
		}
		if c == 0 {
			c = a.number - b.number
		}
		if dir == "desc" {
			return -c
		}
		return c
	})
	out := make([]any, len(items))
	for i, it := range items {
		out[i] = it.json
	}
	x.answer(x.page(out, repoLinkPath(r, "/issues")))
}

func sha(n int64) string {
	s := fmt.Sprintf("%040x", uint64(n)*0x9E3779B97F4A7C15)
	return s[len(s)-40:]
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
