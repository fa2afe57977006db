package jira

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	gojira "github.com/andygrunwald/go-jira"
)

// The Jira REST answers okrd reads. Issues are decoded by hand (fields as
// raw JSON) because go-jira's Issue drops what okrd needs: the paging
// fields of an inlined changelog (to detect truncation), changelog items'
// fieldId, and custom fields by id.

type rawIssue struct {
	ID        string                     `json:"id"`
	Key       string                     `json:"key"`
	Fields    map[string]json.RawMessage `json:"fields"`
	Changelog *rawChangelog              `json:"changelog"`
}

type rawChangelog struct {
	StartAt    int          `json:"startAt"`
	MaxResults int          `json:"maxResults"`
	Total      int          `json:"total"`
	Histories  []rawHistory `json:"histories"`
}

type rawHistory struct {
	ID      string      `json:"id"`
	Created gojira.Time `json:"created"`
	Items   []rawItem   `json:"items"`
}

type rawItem struct {
	Field      string  `json:"field"`
	FieldType  string  `json:"fieldtype"`
	FieldID    string  `json:"fieldId"`
	From       *string `json:"from"`
	FromString *string `json:"fromString"`
	To         *string `json:"to"`
	ToString   *string `json:"toString"`
}

// searchPage holds the paging fields of a page of either search: Cloud's
// /search/jql (token) or Data Center's /search (offset).
type searchPage struct {
	NextPageToken string `json:"nextPageToken"`
	IsLast        *bool  `json:"isLast"`
	StartAt       int    `json:"startAt"`
	MaxResults    int    `json:"maxResults"`
	Total         int    `json:"total"`
}

// issuesPage is the answer of one search request: its issues, each still
// undecoded (the paging fields are all the next request needs, so it can
// go out first), and whether it was the last page.
type issuesPage struct {
	raw  [][]byte
	last bool
}

// splitPage reads the paging fields of a search answer and splits its
// issues, without decoding them.
func splitPage(body []byte) (searchPage, [][]byte, error) {
	var page searchPage
	m, err := members(body)
	if err != nil {
		return page, nil, err
	}
	for key, v := range map[string]any{
		"nextPageToken": &page.NextPageToken, "isLast": &page.IsLast,
		"startAt": &page.StartAt, "maxResults": &page.MaxResults, "total": &page.Total,
	} {
		if raw, ok := m[key]; ok {
			if err := json.Unmarshal(raw, v); err != nil {
				return page, nil, fmt.Errorf("%s: %w", key, err)
			}
		}
	}
	issues, err := elements(m["issues"])
	if err != nil {
		return page, nil, fmt.Errorf("issues: %w", err)
	}
	return page, issues, nil
}

// changelogPage is GET /rest/api/2/issue/{key}/changelog (oldest first).
type changelogPage struct {
	StartAt    int          `json:"startAt"`
	MaxResults int          `json:"maxResults"`
	Total      int          `json:"total"`
	IsLast     bool         `json:"isLast"`
	Values     []rawHistory `json:"values"`
}

type serverInfo struct {
	DeploymentType string `json:"deploymentType"`
	Version        string `json:"version"`
}

type myself struct {
	TimeZone string `json:"timeZone"`
}

type statusJSON struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	StatusCategory struct {
		Key string `json:"key"`
	} `json:"statusCategory"`
}

type fieldJSON struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Custom bool   `json:"custom"`
	Schema struct {
		Type   string `json:"type"`
		Custom string `json:"custom"`
	} `json:"schema"`
}

// boardConfig is GET /rest/agile/1.0/board/{id}/configuration; go-jira's
// BoardConfiguration lacks the estimation.
type boardConfig struct {
	ID       int    `json:"id"`
	Name     string `json:"name"`
	Type     string `json:"type"`
	Location struct {
		Key string `json:"key"`
	} `json:"location"`
	Filter struct {
		ID string `json:"id"`
	} `json:"filter"`
	Estimation *struct {
		Type  string `json:"type"`
		Field struct {
			FieldID     string `json:"fieldId"`
			DisplayName string `json:"displayName"`
		} `json:"field"`
	} `json:"estimation"`
}

type filterJSON struct {
	ID  string `json:"id"`
	JQL string `json:"jql"`
}

// sprintIssuesPage is GET /rest/agile/1.0/sprint/{id}/issue. go-jira's
// GetIssuesForSprint sends no startAt and its result has no total, so it
// returns one page only; okrd pages it here.
type sprintIssuesPage struct {
	StartAt    int        `json:"startAt"`
	MaxResults int        `json:"maxResults"`
	Total      int        `json:"total"`
	Issues     []rawIssue `json:"issues"`
}

// Paths. Cloud searches through the enhanced /search/jql (the old
// /search answers 410 there); Data Center only has /search.
const (
	pathServerInfo  = "rest/api/2/serverInfo"
	pathMyself      = "rest/api/2/myself"
	pathStatus      = "rest/api/2/status"
	pathField       = "rest/api/2/field"
	pathSearchCloud = "rest/api/2/search/jql"
	pathSearchDC    = "rest/api/2/search"
)

// pager pages through one search.
type pager struct {
	c        *client
	cloud    bool
	jql      string
	fields   []string
	expand   bool
	pageSize int

	token   string
	startAt int
	done    bool
	// seen holds the page tokens received so far (Cloud), and pages
	// counts the pages, so that a server that sends a token again is
	// caught instead of paged forever.
	seen  map[string]bool
	pages int
}

// next fetches and decodes the next page. It sets p.done after the last
// one.
func (p *pager) next(ctx context.Context) ([]rawIssue, error) {
	page, err := p.fetch(ctx)
	if err != nil {
		return nil, err
	}
	return p.decode(page)
}

// decode decodes the issues of a page fetched by p.
func (p *pager) decode(page issuesPage) ([]rawIssue, error) {
	path := pathSearchDC
	if p.cloud {
		path = pathSearchCloud
	}
	out := make([]rawIssue, len(page.raw))
	for i, raw := range page.raw {
		if err := json.Unmarshal(raw, &out[i]); err != nil {
			return nil, fmt.Errorf("jira source %q: %s: malformed answer: issue %d of the page: %w", p.c.source, path, i+1, err)
		}
	}
	return out, nil
}

// fetch fetches the next page, leaving its issues undecoded. It sets
// p.done after the last one.
func (p *pager) fetch(ctx context.Context) (issuesPage, error) {
	q := url.Values{}
	q.Set("jql", p.jql)
	q.Set("maxResults", strconv.Itoa(p.pageSize))
	// Both searches need fields and expand again on every page.
	if len(p.fields) > 0 {
		q.Set("fields", strings.Join(p.fields, ","))
	}
	if p.expand {
		q.Set("expand", "changelog")
	}
	path := pathSearchDC
	if p.cloud {
		path = pathSearchCloud
		if p.token != "" {
			q.Set("nextPageToken", p.token)
		}
	} else {
		q.Set("startAt", strconv.Itoa(p.startAt))
	}
	var body rawBody
	if err := p.c.get(ctx, path, q, &body); err != nil {
		return issuesPage{}, err
	}
	page, issues, err := splitPage(body.data)
	if err != nil {
		return issuesPage{}, fmt.Errorf("jira source %q: %s: malformed answer: %w", p.c.source, path, err)
	}
	if p.cloud {
		p.pages++
		next := page.NextPageToken
		switch {
		case next == "" || (page.IsLast != nil && *page.IsLast):
			// The token is absent on the last page, and isLast is true
			// there: either ends the search, so that a token sent along
			// with isLast leads nowhere.
			p.done = true
		case p.seen[next]:
			// Following the token would fetch a page already read, and
			// then the same pages forever; stopping quietly could lose the
			// issues of pages never reached. The poll fails with the
			// cause, writing nothing of this page, and the next one
			// starts the search over.
			return issuesPage{}, fmt.Errorf("jira source %q: %s: page %d carries a nextPageToken Jira already sent; stopped the search, which would loop", p.c.source, pathSearchCloud, p.pages)
		default:
			if p.seen == nil {
				p.seen = map[string]bool{}
			}
			p.seen[next] = true
		}
		p.token = next
		return issuesPage{raw: issues, last: p.done}, nil
	}
	// The server may lower maxResults silently: advance by what came.
	p.startAt += len(issues)
	p.done = len(issues) == 0 || p.startAt >= page.Total
	return issuesPage{raw: issues, last: p.done}, nil
}

// fullChangelog fetches an issue's whole changelog, oldest first.
func (c *client) fullChangelog(ctx context.Context, key string) ([]rawHistory, error) {
	var out []rawHistory
	start := 0
	for {
		var page changelogPage
		q := url.Values{"startAt": {strconv.Itoa(start)}, "maxResults": {"100"}}
		if err := c.get(ctx, "rest/api/2/issue/"+url.PathEscape(key)+"/changelog", q, &page); err != nil {
			return nil, err
		}
		out = append(out, page.Values...)
		start += len(page.Values)
		if page.IsLast || len(page.Values) == 0 || start >= page.Total {
			return out, nil
		}
	}
}

// countJQL counts the issues a JQL matches: on Cloud by paging ids (up to
// 5000 a page, exact, unlike approximate-count), on Data Center with
// maxResults=0 and the total.
func (c *client) countJQL(ctx context.Context, cloud bool, jql string) (int, error) {
	if !cloud {
		var page searchPage
		q := url.Values{"jql": {jql}, "maxResults": {"0"}, "fields": {"id"}}
		if err := c.get(ctx, pathSearchDC, q, &page); err != nil {
			return 0, err
		}
		return page.Total, nil
	}
	p := &pager{c: c, cloud: true, jql: jql, fields: []string{"id"}, pageSize: 5000}
	n := 0
	for !p.done {
		issues, err := p.next(ctx)
		if err != nil {
			return 0, err
		}
		n += len(issues)
	}
	return n, nil
}

// approximateCount counts the issues a JQL matches in one request: on
// Cloud with search/approximate-count (an estimate, which may lag behind
// recent changes), on Data Center with maxResults=0 and the total
// (exact).
func (c *client) approximateCount(ctx context.Context, cloud bool, jql string) (int, error) {
	if !cloud {
		return c.countJQL(ctx, false, jql)
	}
	var out struct {
		Count *int `json:"count"`
	}
	if err := c.post(ctx, "rest/api/3/search/approximate-count", map[string]string{"jql": jql}, &out); err != nil {
		return 0, err
	}
	if out.Count == nil || *out.Count < 0 {
		return 0, fmt.Errorf("approximate-count: no count in the answer")
	}
	return *out.Count, nil
}

// boardEntry is a value of the board list, with the board's location
// (go-jira's Board has none).
type boardEntry struct {
	ID       int    `json:"id"`
	Name     string `json:"name"`
	Type     string `json:"type"`
	Location *struct {
		ProjectKey string `json:"projectKey"`
	} `json:"location"`
}

type boardsPage struct {
	StartAt    int          `json:"startAt"`
	MaxResults int          `json:"maxResults"`
	Total      int          `json:"total"`
	IsLast     bool         `json:"isLast"`
	Values     []boardEntry `json:"values"`
}

// allBoards lists every board the account may see, 50 a page. located is
// false, and the listing stops, at a board whose value does not say where
// it is located (Jira Server 7).
func (c *client) allBoards(ctx context.Context) (boards []boardEntry, located bool, err error) {
	start := 0
	for {
		var page boardsPage
		q := url.Values{"startAt": {strconv.Itoa(start)}, "maxResults": {"50"}}
		if err := c.get(ctx, "rest/agile/1.0/board", q, &page); err != nil {
			return nil, false, err
		}
		for _, b := range page.Values {
			if b.Location == nil {
				return nil, false, nil
			}
		}
		boards = append(boards, page.Values...)
		start += len(page.Values)
		if page.IsLast || len(page.Values) == 0 {
			return boards, true, nil
		}
	}
}

// boardsOfProject lists the boards of a project.
func (c *client) boardsOfProject(ctx context.Context, project string) ([]gojira.Board, error) {
	var out []gojira.Board
	start := 0
	for {
		var page gojira.BoardsList
		q := url.Values{"projectKeyOrId": {project}, "startAt": {strconv.Itoa(start)}, "maxResults": {"50"}}
		if err := c.get(ctx, "rest/agile/1.0/board", q, &page); err != nil {
			return nil, err
		}
		out = append(out, page.Values...)
		start += len(page.Values)
		if page.IsLast || len(page.Values) == 0 {
			return out, nil
		}
	}
}

// sprintsOfBoard lists a scrum board's active and closed sprints.
func (c *client) sprintsOfBoard(ctx context.Context, board int) ([]gojira.Sprint, error) {
	var out []gojira.Sprint
	start := 0
	for {
		var page gojira.SprintsList
		q := url.Values{"state": {"active,closed"}, "startAt": {strconv.Itoa(start)}, "maxResults": {"50"}}
		if err := c.get(ctx, fmt.Sprintf("rest/agile/1.0/board/%d/sprint", board), q, &page); err != nil {
			return nil, err
		}
		out = append(out, page.Values...)
		start += len(page.Values)
		if page.IsLast || len(page.Values) == 0 {
			return out, nil
		}
	}
}

// sprintIssueKeys lists the keys of a sprint's issues, paging by offset.
func (c *client) sprintIssueKeys(ctx context.Context, sprint int) ([]string, error) {
	var out []string
	start := 0
	for {
		var page sprintIssuesPage
		q := url.Values{"startAt": {strconv.Itoa(start)}, "maxResults": {"50"}, "fields": {"issuetype"}}
		if err := c.get(ctx, fmt.Sprintf("rest/agile/1.0/sprint/%d/issue", sprint), q, &page); err != nil {
			return nil, err
		}
		for _, is := range page.Issues {
			out = append(out, is.Key)
		}
		start += len(page.Issues)
		if len(page.Issues) == 0 || start >= page.Total {
			return out, nil
		}
	}
}
