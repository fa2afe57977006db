package githubfake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	gh "github.com/google/go-github/v60/github"
)

var now = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func start(t *testing.T) (*Server, *httptest.Server, *gh.Client) {
	t.Helper()
	s := New("tok")
	s.Now = func() time.Time { return now }
	s.Update(func(d *Data) {
		d.Generate(GenOptions{Owner: "acme", Repos: 1, PullRequests: 30, Deployments: 12, Incidents: 7, Days: 60, Now: now, Seed: 1})
	})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	c := gh.NewClient(nil).WithAuthToken("tok")
	c.BaseURL, _ = url.Parse(srv.URL + "/")
	return s, srv, c
}

func TestLinkPagingAsGoGitHubFollowsIt(t *testing.T) {
	s, _, c := start(t)
	ctx := context.Background()
	opts := &gh.IssueListByRepoOptions{State: "all", Labels: []string{"incident"}, ListOptions: gh.ListOptions{PerPage: 3}}
	var all []*gh.Issue
	for {
		page, resp, err := c.Issues.ListByRepo(ctx, "acme", "svc-00", opts)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if opts.Page == 0 {
			// GitHub's Link names the repository by id; go-github keeps
			// only the page number.
			if link := resp.Header.Get("Link"); !strings.Contains(link, "/repositories/") || !strings.Contains(link, `rel="next"`) || !strings.Contains(link, `rel="last"`) {
				t.Errorf("first page Link = %q", link)
			}
			if resp.LastPage != 3 {
				t.Errorf("last page = %d, want 3", resp.LastPage)
			}
		}
		if resp.NextPage == 0 {
			if link := resp.Header.Get("Link"); strings.Contains(link, `rel="next"`) || !strings.Contains(link, `rel="first"`) {
				t.Errorf("last page Link = %q", link)
			}
			break
		}
		opts.Page = resp.NextPage
	}
	if len(all) != 7 {
		t.Errorf("listed %d incidents, want 7", len(all))
	}
	for _, r := range s.Requests() {
		if !strings.HasPrefix(r.Path, "/repos/acme/svc-00/issues?") {
			t.Errorf("request %s: go-github re-requests the original path", r.Path)
		}
	}
}

func TestConditionalRequestsAndRateHeaders(t *testing.T) {
	s, srv, _ := start(t)
	get := func(auth, etag string) *http.Response {
		req, _ := http.NewRequest("GET", srv.URL+"/repos/acme/svc-00/pulls?state=all&per_page=1", nil)
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	first := get("tok", "")
	etag := first.Header.Get("ETag")
	if first.StatusCode != 200 || etag == "" || first.Header.Get("Cache-Control") == "" || !strings.Contains(first.Header.Get("Vary"), "Authorization") {
		t.Fatalf("first answer %d, ETag %q, headers %v", first.StatusCode, etag, first.Header)
	}
	for _, h := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "X-RateLimit-Used", "X-RateLimit-Resource"} {
		if first.Header.Get(h) == "" {
			t.Errorf("no %s header", h)
		}
	}
	if first.Header.Get("X-RateLimit-Remaining") != "4999" {
		t.Errorf("remaining after one request = %s", first.Header.Get("X-RateLimit-Remaining"))
	}
	again := get("tok", `W/`+etag)
	if again.StatusCode != 304 || again.Header.Get("X-RateLimit-Remaining") != "4999" {
		t.Errorf("conditional request: %d, remaining %s; want 304 and no cost", again.StatusCode, again.Header.Get("X-RateLimit-Remaining"))
	}
	// Unauthenticated 304s cost a request, as GitHub counts them.
	anon := get("", etag)
	anon2 := get("", etag)
	if anon.StatusCode != 304 || anon2.Header.Get("X-RateLimit-Remaining") != "58" || anon2.Header.Get("X-RateLimit-Limit") != "60" {
		t.Errorf("unauthenticated: %d, remaining %s of %s; want 304s that cost 1 of 60", anon.StatusCode, anon2.Header.Get("X-RateLimit-Remaining"), anon2.Header.Get("X-RateLimit-Limit"))
	}
	if s.Used("core") != 3 {
		t.Errorf("points used = %d, want 3", s.Used("core"))
	}
	if bad := get("nope", ""); bad.StatusCode != 401 {
		t.Errorf("a bad token: %d, want 401", bad.StatusCode)
	}
}

func TestRateLimitAnswersAsGoGitHubSeesThem(t *testing.T) {
	tests := []struct {
		name  string
		fault Fault
		check func(t *testing.T, err error)
	}{
		{"a primary limit as 403 is a RateLimitError", Fault{Kind: FaultPrimaryLimit, Status: 403}, func(t *testing.T, err error) {
			var rl *gh.RateLimitError
			if !errors.As(err, &rl) || rl.Rate.Remaining != 0 {
				t.Errorf("err = %#v, want *RateLimitError with remaining 0", err)
			}
		}},
		{"a primary limit as 429 is a plain ErrorResponse", Fault{Kind: FaultPrimaryLimit, Status: 429}, func(t *testing.T, err error) {
			var er *gh.ErrorResponse
			var rl *gh.RateLimitError
			if errors.As(err, &rl) || !errors.As(err, &er) || er.Response.StatusCode != 429 || er.Response.Header.Get("X-RateLimit-Remaining") != "0" {
				t.Errorf("err = %#v, want a 429 *ErrorResponse with remaining 0", err)
			}
		}},
		{"a secondary limit as 403 is an AbuseRateLimitError", Fault{Kind: FaultSecondaryLimit, Status: 403, RetryAfter: 30}, func(t *testing.T, err error) {
			var ab *gh.AbuseRateLimitError
			if !errors.As(err, &ab) || ab.RetryAfter == nil || *ab.RetryAfter != 30*time.Second {
				t.Errorf("err = %#v, want *AbuseRateLimitError retrying after 30s", err)
			}
		}},
		{"a secondary limit as 429 is a plain ErrorResponse", Fault{Kind: FaultSecondaryLimit, Status: 429}, func(t *testing.T, err error) {
			var er *gh.ErrorResponse
			if !errors.As(err, &er) || er.Response.StatusCode != 429 || !strings.Contains(er.Message, "secondary rate limit") {
				t.Errorf("err = %#v, want a 429 *ErrorResponse about the secondary limit", err)
			}
		}},
		{"a 502 is an ErrorResponse", Fault{Kind: FaultStatus, Status: 502}, func(t *testing.T, err error) {
			var er *gh.ErrorResponse
			if !errors.As(err, &er) || er.Response.StatusCode != 502 {
				t.Errorf("err = %#v, want a 502", err)
			}
		}},
		{"a malformed body is a JSON error", Fault{Kind: FaultMalformed}, func(t *testing.T, err error) {
			if err == nil || !strings.Contains(err.Error(), "unexpected EOF") {
				t.Errorf("err = %v, want a truncated JSON error", err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _, c := start(t)
			s.Inject(tc.fault)
			_, _, err := c.Repositories.ListReleases(context.Background(), "acme", "svc-00", nil)
			tc.check(t, err)
		})
	}
}

// graphql posts a query and returns the decoded answer and the response.
func graphql(t *testing.T, srv *httptest.Server, query string, vars map[string]any) (map[string]any, *http.Response) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest("POST", srv.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Authorization", "bearer tok")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out, resp
}

func TestGraphQL(t *testing.T) {
	_, srv, _ := start(t)
	const prs = `query($owner: String!, $name: String!, $after: String) {
  rateLimit { cost remaining }
  repository(owner: $owner, name: $name) {
    defaultBranchRef { name }
    pullRequests(first: 10, after: $after, orderBy: {field: UPDATED_AT, direction: DESC}) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes { number updatedAt commits(first: 1) { nodes { commit { authoredDate } } } reviews(first: 5, states: [APPROVED, COMMENTED]) { nodes { state author { login } } } }
    }
  }
}`
	out, resp := graphql(t, srv, prs, map[string]any{"owner": "acme", "name": "svc-00"})
	if out["errors"] != nil {
		t.Fatalf("errors: %v", out["errors"])
	}
	data := out["data"].(map[string]any)
	// 1 (pullRequests) + 10 (commits) + 10 (reviews) = 21 requests / 100,
	// rounded: but at least 1.
	if cost := data["rateLimit"].(map[string]any)["cost"]; cost != float64(1) {
		t.Errorf("cost = %v, want 1", cost)
	}
	if resp.Header.Get("X-RateLimit-Resource") != "graphql" || resp.Header.Get("X-RateLimit-Remaining") != "4999" {
		t.Errorf("rate headers = %v", resp.Header)
	}
	repo := data["repository"].(map[string]any)
	conn := repo["pullRequests"].(map[string]any)
	nodes := conn["nodes"].([]any)
	if len(nodes) != 10 || conn["totalCount"] != float64(30) || repo["defaultBranchRef"].(map[string]any)["name"] != "main" {
		t.Fatalf("page = %v", conn)
	}
	// Most recently updated first, and only the fields selected.
	a, b := nodes[0].(map[string]any)["updatedAt"].(string), nodes[1].(map[string]any)["updatedAt"].(string)
	if a < b {
		t.Errorf("not newest first: %s then %s", a, b)
	}
	if _, ok := nodes[0].(map[string]any)["title"]; ok {
		t.Error("a field that was not selected was answered")
	}
	for _, r := range nodes[0].(map[string]any)["reviews"].(map[string]any)["nodes"].([]any) {
		if st := r.(map[string]any)["state"]; st != "APPROVED" && st != "COMMENTED" {
			t.Errorf("review state %v not filtered out", st)
		}
	}
	// The next page starts after the cursor.
	pi := conn["pageInfo"].(map[string]any)
	out2, _ := graphql(t, srv, prs, map[string]any{"owner": "acme", "name": "svc-00", "after": pi["endCursor"]})
	n2 := out2["data"].(map[string]any)["repository"].(map[string]any)["pullRequests"].(map[string]any)["nodes"].([]any)
	if len(n2) != 10 || n2[0].(map[string]any)["number"] == nodes[0].(map[string]any)["number"] {
		t.Errorf("second page = %v", n2)
	}

	errorCases := []struct {
		name, query string
		vars        map[string]any
		want        string
	}{
		{"an unknown field", `{ repository(owner: "acme", name: "svc-00") { nope } }`, nil, "Field 'nope' doesn't exist on type 'Repository'"},
		{"more than 100 nodes", `{ repository(owner: "acme", name: "svc-00") { pullRequests(first: 101) { totalCount } } }`, nil,
			"Requesting 101 records on the `pullRequests` connection exceeds the `first` limit of 100 records."},
		{"no page size", `{ repository(owner: "acme", name: "svc-00") { deployments { totalCount } } }`, nil,
			"You must provide a `first` or `last` value to properly paginate the `deployments` connection."},
		{"an unknown repository", `{ repository(owner: "acme", name: "nope") { name } }`, nil, "Could not resolve to a Repository with the name 'acme/nope'."},
		{"a bad enum", `{ repository(owner: "acme", name: "svc-00") { pullRequests(first: 1, states: [DONE]) { totalCount } } }`, nil,
			"Argument 'states' on Field 'pullRequests' has an invalid value"},
		{"a bad cursor", `query($a: String) { repository(owner: "acme", name: "svc-00") { deployments(first: 1, after: $a) { totalCount } } }`,
			map[string]any{"a": "xyz"}, "`xyz` does not appear to be a valid cursor."},
		{"a syntax error", `{ repository(owner: "acme" { name } }`, nil, "Parse error"},
	}
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			out, resp := graphql(t, srv, tc.query, tc.vars)
			if resp.StatusCode != 200 {
				t.Errorf("status %d, want 200 (GraphQL errors come with 200)", resp.StatusCode)
			}
			errs, _ := out["errors"].([]any)
			if len(errs) == 0 || !strings.Contains(errs[0].(map[string]any)["message"].(string), tc.want) {
				t.Errorf("errors = %v, want %q", out["errors"], tc.want)
			}
		})
	}
}

func TestGraphQLCostAndPrimaryLimit(t *testing.T) {
	s, srv, _ := start(t)
	// 1 + 100 + 100 = 201 requests: 2 points.
	q := `{ rateLimit { cost remaining } repository(owner: "acme", name: "svc-00") {
  pullRequests(first: 100) { nodes { commits(first: 1) { totalCount } reviews(first: 20) { totalCount } } } } }`
	out, _ := graphql(t, srv, q, nil)
	if rl := out["data"].(map[string]any)["rateLimit"].(map[string]any); rl["cost"] != float64(2) || rl["remaining"] != float64(4998) {
		t.Errorf("rateLimit = %v, want cost 2 and 4998 left", rl)
	}
	s.Inject(Fault{Kind: FaultPrimaryLimit, Path: "/graphql"})
	out, resp := graphql(t, srv, q, nil)
	errs, _ := out["errors"].([]any)
	if resp.StatusCode != 200 || len(errs) != 1 || errs[0].(map[string]any)["type"] != "RATE_LIMITED" || resp.Header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("primary GraphQL limit: %d %v %v", resp.StatusCode, out, resp.Header)
	}
	// The budget stays spent until the window resets.
	out, _ = graphql(t, srv, q, nil)
	if out["errors"] == nil {
		t.Error("a request after the limit succeeded")
	}
	s.ResetRateLimits()
	if out, _ = graphql(t, srv, q, nil); out["errors"] != nil {
		t.Errorf("after the reset: %v", out["errors"])
	}
}

func TestEnterpriseServerPaths(t *testing.T) {
	s := New("tok")
	s.Enterprise, s.NoRateLimits = true, true
	s.Update(func(d *Data) { d.AddRepo(&Repo{Owner: "acme", Name: "web"}) })
	srv := httptest.NewServer(s)
	defer srv.Close()
	c, err := gh.NewClient(nil).WithAuthToken("tok").WithEnterpriseURLs(srv.URL, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	r, resp, err := c.Repositories.Get(context.Background(), "acme", "web")
	if err != nil {
		t.Fatal(err)
	}
	if r.GetDefaultBranch() != "main" || resp.Header.Get("X-RateLimit-Limit") != "" {
		t.Errorf("repo %v, rate headers %v (a server with rate limits off sends none)", r, resp.Header)
	}
	out, _ := func() (map[string]any, *http.Response) {
		body := `{"query": "{ repository(owner: \"acme\", name: \"web\") { nameWithOwner } }"}`
		req, _ := http.NewRequest("POST", srv.URL+"/api/graphql", strings.NewReader(body))
		req.Header.Set("Authorization", "bearer tok")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return m, resp
	}()
	if out["data"] == nil {
		t.Errorf("GraphQL at /api/graphql: %v", out)
	}
}

func TestGraphQLTimelineItems(t *testing.T) {
	s, srv, _ := start(t)
	ts := func(v string) time.Time {
		x, err := time.Parse(time.RFC3339, v)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	tp := func(v string) *time.Time { x := ts(v); return &x }
	s.Update(func(d *Data) {
		p := &PullRequest{Number: 500, Author: "ann", Draft: true, CreatedAt: ts("2026-02-01T10:00:00Z"),
			Reviews: []Review{{Author: "ben", State: "COMMENTED", SubmittedAt: tp("2026-02-01T12:00:00Z")},
				{Author: "cat", State: "PENDING"}, {Author: "okrd-bot", State: "PENDING"}}}
		p.SetDraft(false, ts("2026-02-01T11:00:00Z"))
		p.SetDraft(true, ts("2026-02-01T13:00:00Z"))
		d.Repo("acme/svc-00").PullRequests = append(d.Repo("acme/svc-00").PullRequests, p)
	})
	const q = `query($types: [PullRequestTimelineItemsItemType!]) { rateLimit { cost }
  repository(owner: "acme", name: "svc-00") { pullRequest(number: 500) { isDraft updatedAt
    timelineItems(first: 10, itemTypes: $types) {
      totalCount pageInfo { hasNextPage }
      nodes { __typename
        ... on PullRequestReview { author { login } state submittedAt }
        ... on ReadyForReviewEvent { createdAt actor { login } }
        ... on ConvertToDraftEvent { createdAt } } } } } }`
	out, _ := graphql(t, srv, q, map[string]any{"types": []string{"PULL_REQUEST_REVIEW", "READY_FOR_REVIEW_EVENT", "CONVERT_TO_DRAFT_EVENT"}})
	if out["errors"] != nil {
		t.Fatalf("errors: %v", out["errors"])
	}
	pr := out["data"].(map[string]any)["repository"].(map[string]any)["pullRequest"].(map[string]any)
	if pr["isDraft"] != true || pr["updatedAt"] != "2026-02-01T13:00:00Z" {
		t.Errorf("pull request = %v, want a draft updated by its conversion", pr)
	}
	var got []string
	for _, n := range pr["timelineItems"].(map[string]any)["nodes"].([]any) {
		m := n.(map[string]any)
		at, _ := m["createdAt"].(string)
		if at == "" {
			at, _ = m["submittedAt"].(string)
		}
		got = append(got, m["__typename"].(string)+"@"+at)
	}
	// In time order; carol's pending review is hers alone to see, and the
	// token's own pending review, not submitted yet, comes last.
	want := []string{"ReadyForReviewEvent@2026-02-01T11:00:00Z", "PullRequestReview@2026-02-01T12:00:00Z",
		"ConvertToDraftEvent@2026-02-01T13:00:00Z", "PullRequestReview@"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("timeline = %v, want %v", got, want)
	}
	// Only the draft changes.
	out, _ = graphql(t, srv, q, map[string]any{"types": []string{"CONVERT_TO_DRAFT_EVENT"}})
	nodes := out["data"].(map[string]any)["repository"].(map[string]any)["pullRequest"].(map[string]any)["timelineItems"].(map[string]any)["nodes"].([]any)
	if len(nodes) != 1 || nodes[0].(map[string]any)["__typename"] != "ConvertToDraftEvent" {
		t.Errorf("converted only: %v", nodes)
	}
	// A type that is not in the enum is an argument error.
	out, _ = graphql(t, srv, q, map[string]any{"types": []string{"DRAFTED"}})
	if errs, _ := out["errors"].([]any); len(errs) == 0 || !strings.Contains(errs[0].(map[string]any)["message"].(string), "Argument 'itemTypes' on Field 'timelineItems' has an invalid value") {
		t.Errorf("bad item type: %v", out["errors"])
	}
	// One timeline per pull request costs as much as one review list:
	// 1 + 100 + 100 = 201 requests, 2 points.
	cost := `{ rateLimit { cost } repository(owner: "acme", name: "svc-00") {
  pullRequests(first: 100) { nodes { commits(first: 1) { totalCount } timelineItems(first: 50, itemTypes: [PULL_REQUEST_REVIEW]) { totalCount } } } } }`
	out, _ = graphql(t, srv, cost, nil)
	if c := out["data"].(map[string]any)["rateLimit"].(map[string]any)["cost"]; c != float64(2) {
		t.Errorf("cost = %v, want 2", c)
	}
}

func TestGeneratedDraftHistoriesEndInTheDraftState(t *testing.T) {
	var d Data
	d.Generate(GenOptions{Owner: "acme", Repos: 2, PullRequests: 400, Days: 90, Now: now, Seed: 3})
	changed := 0
	for _, r := range d.Repos {
		for _, p := range r.PullRequests {
			if len(p.DraftEvents) == 0 {
				continue
			}
			changed++
			if last := p.DraftEvents[len(p.DraftEvents)-1]; last.Draft != p.Draft {
				t.Errorf("#%d ends with draft %v but is draft %v", p.Number, last.Draft, p.Draft)
			}
			for i, ev := range p.DraftEvents {
				if ev.At.Before(p.CreatedAt) || i > 0 && ev.At.Before(p.DraftEvents[i-1].At) || ev.At.After(p.UpdatedAt) {
					t.Errorf("#%d: draft change %d at %v out of order (created %v, updated %v)", p.Number, i, ev.At, p.CreatedAt, p.UpdatedAt)
				}
			}
		}
	}
	if changed < 40 {
		t.Errorf("only %d of 800 pull requests changed their draft state", changed)
	}
}
