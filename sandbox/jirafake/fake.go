// Package jirafake is a fake Jira (Cloud or Data Center) that behaves like
// the real one as ../shared/reference/API-FACTS.md records it: the
// token-paged /search/jql of Cloud (and 410 on Cloud's removed /search), the
// offset-paged /search of Data Center, page caps, changelogs inlined newest
// first and truncated, the paged /issue/{key}/changelog, Cloud's
// /changelog/bulkfetch (with its limits, order and paging), the two time
// formats (issue fields "2006-01-02T15:04:05.000-0700", sprint dates
// RFC3339), the Agile board, configuration, sprint and sprint-issue
// endpoints, 429 with Retry-After and an ISO X-RateLimit-Reset, and JQL
// errors (unknown fields, unbounded queries). Tests drive it through
// fault injection and request counts; `okrd demo` serves a generated data
// set from it. It is an http.Handler with an in-memory data set and does
// not import testing.
package jirafake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Flavor is the kind of Jira the fake plays.
type Flavor string

const (
	// Cloud is Jira Cloud (*.atlassian.net).
	Cloud Flavor = "cloud"
	// DataCenter is Jira Data Center / Server.
	DataCenter Flavor = "server"
)

// Project is a Jira project.
type Project struct {
	ID, Key, Name string
}

// StatusDef is a workflow status and its category key (new,
// indeterminate, done).
type StatusDef struct {
	ID, Name, Category string
}

// Default status ids.
const (
	StatusToDo       = "10000"
	StatusInProgress = "3"
	StatusInReview   = "10001"
	StatusDone       = "10002"
	StatusClosed     = "6"
)

// Default custom field ids (the common Cloud ones).
const (
	FieldSprint      = "customfield_10020"
	FieldStoryPoints = "customfield_10016"
	FieldEpicLink    = "customfield_10014"
)

type category struct {
	ID          int
	Name, Color string
}

var categories = map[string]category{
	"undefined":     {1, "No Category", "medium-gray"},
	"new":           {2, "To Do", "blue-gray"},
	"indeterminate": {4, "In Progress", "yellow"},
	"done":          {3, "Done", "green"},
}

// FieldDef is a field as GET /rest/api/2/field lists it.
type FieldDef struct {
	ID, Name     string
	Custom       bool
	SchemaType   string // "number", "array", "string", ...
	SchemaCustom string // e.g. com.pyxis.greenhopper.jira:gh-sprint
}

// Item is one changed field of a changelog history. Empty From/To render
// as null.
type Item struct {
	Field, FieldType, FieldID      string
	From, FromString, To, ToString string
}

// History is one changelog entry.
type History struct {
	ID    string
	At    time.Time
	Items []Item
}

// Issue is an issue of the fake's data set.
type Issue struct {
	ID       string
	Key      string
	Project  string
	Type     string
	Subtask  bool
	Summary  string
	Created  time.Time
	Updated  time.Time
	Resolved *time.Time
	Status   string // status id
	Labels   []string
	// Components are component names (rendered as fields.components).
	Components []string
	Parent     string // parent key (rendered as fields.parent)
	EpicLink   string // Epic Link (rendered in the Epic Link field)
	Sprints    []int  // current Sprint field
	// Custom holds other custom field values by field id (story points).
	Custom map[string]any
	Rank   int
	// History is the changelog, oldest first.
	History []History
}

// Board is an agile board.
type Board struct {
	ID       int
	Name     string
	Type     string // scrum, kanban
	Project  string // the project it is located in
	FilterID int
	// EstimationField is the story-point field of a scrum board ("" = the
	// board estimates by issue count).
	EstimationField string
}

// Sprint is a sprint of a board.
type Sprint struct {
	ID, Board                int
	Name, State, Goal        string
	Start, End, CompleteDate *time.Time
}

// Fault is an injected failure answered instead of the real response.
type Fault struct {
	// Status is the HTTP status to answer (429, 500, 503, 401, ...).
	Status int
	// RetryAfter is the Retry-After header in seconds (0 = none).
	RetryAfter int
	// Malformed answers 200 with a truncated JSON body instead.
	Malformed bool
	// Route limits the fault to requests of one route (see Requests);
	// empty matches any.
	Route string
	// After lets that many matching requests pass before the fault
	// strikes (to fail the second page of a search, say).
	After int
}

// Server is the fake Jira. Configure the exported fields before serving.
type Server struct {
	Flavor Flavor
	// Email and Token, when Token is set, must authenticate every request:
	// Cloud with basic auth (email:token), Data Center with a bearer
	// personal access token.
	Email, Token string
	// TimeZone is the user's time zone (GET /myself), which JQL date
	// literals and rendered times use. Default America/Los_Angeles.
	TimeZone string
	// InlineChangelog is how many histories expand=changelog inlines
	// (newest first). Default 20.
	InlineChangelog int
	// PageCap caps maxResults of searches that request real fields
	// (default 100); KeyPageCap that of searches for id or key only
	// (default 5000 on Cloud, 1000 on Data Center); AgilePageCap that of
	// the Agile endpoints (default 50).
	PageCap, KeyPageCap, AgilePageCap int
	// BulkPageCap lowers the largest page of the changelog bulkfetch
	// (default and at most 10000 histories), so that tests page it.
	BulkPageCap int
	// Now is the fake's clock (relative JQL dates, rate-limit resets).
	Now func() time.Time
	// Latency delays every answer by a fixed time, as a distant server
	// does (benchmarks of wall time). Requests wait outside the fake's
	// lock, so concurrent requests wait at the same time.
	Latency time.Duration
	// BoardListWithoutLocation leaves location out of the board list's
	// values, as Jira Server 7 does (the recorded go-jira mock).
	BoardListWithoutLocation bool

	mu            sync.Mutex
	loc           *time.Location
	projects      map[string]Project
	statuses      map[string]StatusDef
	fields        []FieldDef
	issues        map[string]*Issue
	boards        map[int]*Board
	filters       map[int]string
	sprints       map[int]*Sprint
	nextID        int
	version       int
	faults        []Fault
	counts        map[string]int
	rateRemaining int
	cache         struct {
		jql     string
		version int
		result  []*Issue
	}
}

// New returns a fake of the given flavour with the default statuses and
// fields and no data.
func New(flavor Flavor) *Server {
	s := &Server{
		Flavor:   flavor,
		projects: map[string]Project{}, statuses: map[string]StatusDef{}, issues: map[string]*Issue{},
		boards: map[int]*Board{}, filters: map[int]string{}, sprints: map[int]*Sprint{},
		counts: map[string]int{}, nextID: 10000, rateRemaining: 1000,
	}
	for _, st := range []StatusDef{
		{StatusToDo, "To Do", "new"}, {StatusInProgress, "In Progress", "indeterminate"},
		{StatusInReview, "In Review", "indeterminate"}, {StatusDone, "Done", "done"}, {StatusClosed, "Closed", "done"},
	} {
		s.statuses[st.ID] = st
	}
	s.fields = []FieldDef{
		{ID: "summary", Name: "Summary", SchemaType: "string"},
		{ID: "status", Name: "Status", SchemaType: "status"},
		{ID: "issuetype", Name: "Issue Type", SchemaType: "issuetype"},
		{ID: "project", Name: "Project", SchemaType: "project"},
		{ID: "created", Name: "Created", SchemaType: "datetime"},
		{ID: "updated", Name: "Updated", SchemaType: "datetime"},
		{ID: "resolutiondate", Name: "Resolved", SchemaType: "datetime"},
		{ID: "labels", Name: "Labels", SchemaType: "array"},
		{ID: "components", Name: "Components", SchemaType: "array"},
		{ID: "parent", Name: "Parent", SchemaType: "issuelink"},
		{ID: FieldSprint, Name: "Sprint", Custom: true, SchemaType: "array", SchemaCustom: "com.pyxis.greenhopper.jira:gh-sprint"},
		{ID: FieldStoryPoints, Name: "Story point estimate", Custom: true, SchemaType: "number", SchemaCustom: "com.pyxis.greenhopper.jira:jsw-story-points"},
		{ID: FieldEpicLink, Name: "Epic Link", Custom: true, SchemaType: "any", SchemaCustom: "com.pyxis.greenhopper.jira:gh-epic-link"},
	}
	return s
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) init() {
	if s.loc == nil {
		tz := s.TimeZone
		if tz == "" {
			tz = "America/Los_Angeles"
		}
		loc, err := time.LoadLocation(tz)
		if err != nil {
			loc = time.UTC
		}
		s.loc = loc
	}
}

// Location is the user's time zone.
func (s *Server) Location() *time.Location {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	return s.loc
}

func (s *Server) changed() { s.version++ }

// AddProject adds a project.
func (s *Server) AddProject(key, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	s.projects[key] = Project{ID: strconv.Itoa(s.nextID), Key: key, Name: name}
	s.changed()
}

// AddStatus adds or replaces a status.
func (s *Server) AddStatus(st StatusDef) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.statuses[st.ID] = st
	s.changed()
}

// AddField adds a field definition (another story-point field, say).
func (s *Server) AddField(f FieldDef) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fields = append(s.fields, f)
}

// AddIssue adds an issue. ID, Rank and Updated are filled in when zero
// (Updated becomes the newest of Created and the history). The project is
// created when missing.
func (s *Server) AddIssue(is *Issue) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addIssue(is)
}

func (s *Server) addIssue(is *Issue) {
	if _, ok := s.projects[is.Project]; !ok {
		s.nextID++
		s.projects[is.Project] = Project{ID: strconv.Itoa(s.nextID), Key: is.Project, Name: is.Project}
	}
	s.nextID++
	if is.ID == "" {
		is.ID = strconv.Itoa(s.nextID)
	}
	if is.Rank == 0 {
		is.Rank = s.nextID
	}
	if is.Status == "" {
		is.Status = StatusToDo
	}
	if is.Type == "" {
		is.Type = "Story"
	}
	if is.Summary == "" {
		is.Summary = "Issue " + is.Key
	}
	for i := range is.History {
		if is.History[i].ID == "" {
			s.nextID++
			is.History[i].ID = strconv.Itoa(s.nextID)
		}
	}
	if is.Updated.IsZero() {
		is.Updated = is.Created
		if n := len(is.History); n > 0 && is.History[n-1].At.After(is.Updated) {
			is.Updated = is.History[n-1].At
		}
	}
	s.issues[is.Key] = is
	s.changed()
}

// Issue returns a copy of an issue.
func (s *Server) Issue(key string) (Issue, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	is, ok := s.issues[key]
	if !ok {
		return Issue{}, false
	}
	return *is, true
}

// TruncatedChangelogs is how many issues have more changelog histories
// than a search inlines: a full sync must read each of their changelogs.
func (s *Server) TruncatedChangelogs() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, is := range s.issues {
		if len(is.History) > s.inlineLimit() {
			n++
		}
	}
	return n
}

// NumIssues is the number of issues.
func (s *Server) NumIssues() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.issues)
}

func (s *Server) record(is *Issue, at time.Time, items ...Item) {
	s.nextID++
	is.History = append(is.History, History{ID: strconv.Itoa(s.nextID), At: at, Items: items})
	if at.After(is.Updated) {
		is.Updated = at
	}
	s.changed()
}

// Transition moves an issue to a status at a time, with its changelog
// entry; moving into a done status sets the resolution date, leaving one
// clears it.
func (s *Server) Transition(key, statusID string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	is, ok := s.issues[key]
	if !ok {
		return fmt.Errorf("no issue %s", key)
	}
	to, ok := s.statuses[statusID]
	if !ok {
		return fmt.Errorf("no status %s", statusID)
	}
	from := s.statuses[is.Status]
	s.transition(is, from, to, at)
	return nil
}

func (s *Server) transition(is *Issue, from, to StatusDef, at time.Time) {
	is.Status = to.ID
	switch {
	case to.Category == "done" && from.Category != "done":
		t := at
		is.Resolved = &t
	case to.Category != "done":
		is.Resolved = nil
	}
	s.record(is, at, Item{Field: "status", FieldType: "jira", FieldID: "status", From: from.ID, FromString: from.Name, To: to.ID, ToString: to.Name})
}

// SetSprints sets the Sprint field at a time, with its changelog entry.
func (s *Server) SetSprints(key string, ids []int, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	is, ok := s.issues[key]
	if !ok {
		return fmt.Errorf("no issue %s", key)
	}
	s.setSprints(is, ids, at)
	return nil
}

func (s *Server) setSprints(is *Issue, ids []int, at time.Time) {
	from := is.Sprints
	is.Sprints = slices.Clone(ids)
	s.record(is, at, Item{Field: "Sprint", FieldType: "custom", FieldID: FieldSprint,
		From: joinInts(from), FromString: s.sprintNames(from), To: joinInts(ids), ToString: s.sprintNames(ids)})
}

// SetPoints sets a story-point field (nil clears it) at a time, with its
// changelog entry under the field's name.
func (s *Server) SetPoints(key, field string, v *float64, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	is, ok := s.issues[key]
	if !ok {
		return fmt.Errorf("no issue %s", key)
	}
	s.setPoints(is, field, v, at)
	return nil
}

func (s *Server) setPoints(is *Issue, field string, v *float64, at time.Time) {
	if is.Custom == nil {
		is.Custom = map[string]any{}
	}
	var from string
	if old, ok := is.Custom[field].(float64); ok {
		from = strconv.FormatFloat(old, 'f', -1, 64)
	}
	var to string
	if v != nil {
		is.Custom[field] = *v
		to = strconv.FormatFloat(*v, 'f', -1, 64)
	} else {
		delete(is.Custom, field)
	}
	s.record(is, at, Item{Field: s.fieldName(field), FieldType: "custom", FieldID: field, FromString: from, ToString: to})
}

// Touch updates an issue without a change okrd keeps (a comment, say):
// its updated time moves and a changelog entry is added.
func (s *Server) Touch(key string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	is, ok := s.issues[key]
	if !ok {
		return fmt.Errorf("no issue %s", key)
	}
	s.record(is, at, Item{Field: "description", FieldType: "jira", FieldID: "description", FromString: "old", ToString: "new"})
	return nil
}

// SetLabels sets an issue's labels at a time, with its changelog entry.
func (s *Server) SetLabels(key string, labels []string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	is, ok := s.issues[key]
	if !ok {
		return fmt.Errorf("no issue %s", key)
	}
	from := strings.Join(is.Labels, " ")
	is.Labels = slices.Clone(labels)
	s.record(is, at, Item{Field: "labels", FieldType: "jira", FieldID: "labels", FromString: from, ToString: strings.Join(labels, " ")})
	return nil
}

// SetComponents sets an issue's components at a time, with its changelog
// entry.
func (s *Server) SetComponents(key string, components []string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	is, ok := s.issues[key]
	if !ok {
		return fmt.Errorf("no issue %s", key)
	}
	from := strings.Join(is.Components, ", ")
	is.Components = slices.Clone(components)
	s.record(is, at, Item{Field: "Component", FieldType: "jira", FieldID: "components", FromString: from, ToString: strings.Join(components, ", ")})
	return nil
}

// DeleteIssue removes an issue.
func (s *Server) DeleteIssue(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.issues, key)
	s.changed()
}

// AddBoard adds a board with its filter JQL.
func (s *Server) AddBoard(b Board, filterJQL string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b.FilterID == 0 {
		s.nextID++
		b.FilterID = s.nextID
	}
	if b.Type == "" {
		b.Type = "scrum"
	}
	s.filters[b.FilterID] = filterJQL
	s.boards[b.ID] = &b
	s.changed()
}

// DeleteBoard removes a board.
func (s *Server) DeleteBoard(id int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.boards, id)
	s.changed()
}

// AddSprint adds or replaces a sprint.
func (s *Server) AddSprint(sp Sprint) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sprints[sp.ID] = &sp
	s.changed()
}

// CloseSprint closes a sprint at a time.
func (s *Server) CloseSprint(id int, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sp, ok := s.sprints[id]; ok {
		sp.State = "closed"
		sp.CompleteDate = &at
		s.changed()
	}
}

// FailNext makes the next n requests (of f.Route, or any) answer f.
func (s *Server) FailNext(n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, f)
	}
}

// Requests returns the number of requests served per route since the last
// ResetRequests. Routes: serverInfo, myself, status, field, filter,
// search (Data Center's and Cloud's removed one), search/jql,
// approximate-count, changelog, changelog/bulkfetch, issue, agile/board,
// agile/board/configuration, agile/board/sprint, agile/sprint/issue, and
// unknown.
func (s *Server) Requests() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.counts))
	for k, v := range s.counts {
		out[k] = v
	}
	return out
}

// ResetRequests zeroes the request counts.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts = map[string]int{}
}

// route classifies a request path.
func route(path string) (name string, parts []string) {
	p := strings.Trim(path, "/")
	seg := strings.Split(p, "/")
	switch {
	case len(seg) >= 4 && seg[0] == "rest" && seg[1] == "api" && (seg[2] == "2" || seg[2] == "3" || seg[2] == "latest"):
		rest := seg[3:]
		switch {
		case len(rest) == 1 && rest[0] == "serverInfo":
			return "serverInfo", nil
		case len(rest) == 1 && rest[0] == "myself":
			return "myself", nil
		case len(rest) == 1 && rest[0] == "status":
			return "status", nil
		case len(rest) == 1 && rest[0] == "field":
			return "field", nil
		case len(rest) == 2 && rest[0] == "filter":
			return "filter", rest[1:]
		case len(rest) == 1 && rest[0] == "search":
			return "search", nil
		case len(rest) == 2 && rest[0] == "search" && rest[1] == "jql":
			return "search/jql", nil
		case len(rest) == 2 && rest[0] == "search" && rest[1] == "approximate-count":
			return "approximate-count", nil
		case len(rest) == 2 && rest[0] == "changelog" && rest[1] == "bulkfetch":
			return "changelog/bulkfetch", nil
		case len(rest) == 3 && rest[0] == "issue" && rest[2] == "changelog":
			return "changelog", rest[1:2]
		case len(rest) == 2 && rest[0] == "issue":
			return "issue", rest[1:2]
		}
	case len(seg) >= 4 && seg[0] == "rest" && seg[1] == "agile" && seg[2] == "1.0":
		rest := seg[3:]
		switch {
		case len(rest) == 1 && rest[0] == "board":
			return "agile/board", nil
		case len(rest) == 3 && rest[0] == "board" && rest[2] == "configuration":
			return "agile/board/configuration", rest[1:2]
		case len(rest) == 3 && rest[0] == "board" && rest[2] == "sprint":
			return "agile/board/sprint", rest[1:2]
		case len(rest) == 3 && rest[0] == "sprint" && rest[2] == "issue":
			return "agile/sprint/issue", rest[1:2]
		}
	}
	return "unknown", nil
}

// apiError is Jira's error body.
type apiError struct {
	ErrorMessages []string          `json:"errorMessages"`
	Errors        map[string]string `json:"errors"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, apiError{ErrorMessages: []string{msg}, Errors: map[string]string{}})
}

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !sleep(r, s.Latency) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	name, args := route(r.URL.Path)
	s.counts[name]++

	// Every answer carries the rate-limit budget, as Jira Cloud sends it.
	s.rateRemaining--
	if s.rateRemaining < 0 {
		s.rateRemaining = 999
	}
	w.Header().Set("X-RateLimit-Limit", "1000")
	w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(s.rateRemaining))

	if !s.authorized(r) {
		if s.Flavor == Cloud {
			w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte("Client must be authenticated to access this resource."))
			return
		}
		writeError(w, http.StatusUnauthorized, "You are not authenticated. Authentication required to perform this operation.")
		return
	}
	for i, f := range s.faults {
		if f.Route != "" && f.Route != name {
			continue
		}
		if f.After > 0 {
			s.faults[i].After--
			break
		}
		s.faults = slices.Delete(s.faults, i, i+1)
		s.fault(w, f)
		return
	}

	switch name {
	case "serverInfo":
		s.serverInfo(w)
	case "myself":
		s.myself(w)
	case "status":
		s.statusList(w)
	case "field":
		s.fieldList(w)
	case "filter":
		s.filter(w, args[0])
	case "search":
		if s.Flavor == Cloud {
			writeError(w, http.StatusGone, "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046")
			return
		}
		s.searchOffset(w, r)
	case "search/jql":
		if s.Flavor != Cloud {
			writeError(w, http.StatusNotFound, "null for uri: "+r.URL.Path)
			return
		}
		s.searchToken(w, r)
	case "approximate-count":
		if s.Flavor != Cloud {
			writeError(w, http.StatusNotFound, "null for uri: "+r.URL.Path)
			return
		}
		s.approximateCount(w, r)
	case "changelog":
		s.changelog(w, r, args[0])
	case "changelog/bulkfetch":
		if s.Flavor != Cloud {
			writeError(w, http.StatusNotFound, "null for uri: "+r.URL.Path)
			return
		}
		s.bulkChangelog(w, r)
	case "issue":
		s.getIssue(w, r, args[0])
	case "agile/board":
		s.boardList(w, r)
	case "agile/board/configuration":
		s.boardConfiguration(w, args[0])
	case "agile/board/sprint":
		s.boardSprints(w, r, args[0])
	case "agile/sprint/issue":
		s.sprintIssues(w, r, args[0])
	default:
		writeError(w, http.StatusNotFound, "null for uri: "+r.URL.Path)
	}
}

func (s *Server) authorized(r *http.Request) bool {
	if s.Token == "" {
		return true
	}
	if s.Flavor == Cloud {
		u, p, ok := r.BasicAuth()
		return ok && u == s.Email && p == s.Token
	}
	return r.Header.Get("Authorization") == "Bearer "+s.Token
}

func (s *Server) fault(w http.ResponseWriter, f Fault) {
	if f.Malformed {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"issues":[{"id":"10001","key":"X-1","fields":{"status":`))
		return
	}
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
	}
	if f.Status == http.StatusTooManyRequests {
		reset := s.now().Add(time.Duration(f.RetryAfter) * time.Second).UTC()
		// Jira's reset is an ISO time to the minute, not epoch seconds.
		w.Header().Set("X-RateLimit-Reset", reset.Format("2006-01-02T15:04Z"))
		w.Header().Set("RateLimit-Reason", "jira-quota-based")
		w.Header().Set("X-RateLimit-Remaining", "0")
		writeError(w, f.Status, "Rate limit exceeded.")
		return
	}
	writeError(w, f.Status, http.StatusText(f.Status))
}

func (s *Server) serverInfo(w http.ResponseWriter) {
	dt, version := "Cloud", "1001.0.0-SNAPSHOT"
	if s.Flavor != Cloud {
		dt, version = "Server", "9.12.4"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"baseUrl": "https://jira.example.com", "version": version, "deploymentType": dt,
		"buildNumber": 100256, "serverTime": s.fmtTime(s.now()), "serverTitle": "Jira",
	})
}

func (s *Server) myself(w http.ResponseWriter) {
	u := map[string]any{
		"self": "https://jira.example.com/rest/api/2/user", "emailAddress": s.Email,
		"displayName": "okrd", "active": true, "timeZone": s.loc.String(), "locale": "en_US",
	}
	if s.Flavor == Cloud {
		u["accountId"] = "5b10ac8d82e05b22cc7d4ef5"
		u["accountType"] = "atlassian"
	} else {
		u["name"], u["key"] = "okrd", "JIRAUSER10100"
	}
	writeJSON(w, http.StatusOK, u)
}

func (s *Server) statusJSON(st StatusDef) map[string]any {
	cat := categories[st.Category]
	return map[string]any{
		"self": "https://jira.example.com/rest/api/2/status/" + st.ID, "description": "", "iconUrl": "",
		"name": st.Name, "id": st.ID,
		"statusCategory": map[string]any{
			"self": "https://jira.example.com/rest/api/2/statuscategory/" + strconv.Itoa(cat.ID),
			"id":   cat.ID, "key": st.Category, "colorName": cat.Color, "name": cat.Name,
		},
	}
}

func (s *Server) statusList(w http.ResponseWriter) {
	ids := make([]string, 0, len(s.statuses))
	for id := range s.statuses {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make([]any, 0, len(ids))
	for _, id := range ids {
		out = append(out, s.statusJSON(s.statuses[id]))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) fieldList(w http.ResponseWriter) {
	out := make([]any, 0, len(s.fields))
	for _, f := range s.fields {
		schema := map[string]any{"type": f.SchemaType}
		if f.SchemaCustom != "" {
			schema["custom"] = f.SchemaCustom
			if id, ok := strings.CutPrefix(f.ID, "customfield_"); ok {
				n, _ := strconv.Atoi(id)
				schema["customId"] = n
			}
		}
		out = append(out, map[string]any{
			"id": f.ID, "key": f.ID, "name": f.Name, "custom": f.Custom, "orderable": true,
			"navigable": true, "searchable": true, "clauseNames": []string{f.Name}, "schema": schema,
		})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) filter(w http.ResponseWriter, id string) {
	n, _ := strconv.Atoi(id)
	jql, ok := s.filters[n]
	if !ok {
		writeError(w, http.StatusBadRequest, "The selected filter is not available to you, perhaps it has been deleted or had its permissions changed.")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"self": "https://jira.example.com/rest/api/2/filter/" + id, "id": id, "name": "Filter for board", "jql": jql,
	})
}

// fieldName is a field's display name (changelog items carry it).
func (s *Server) fieldName(id string) string {
	for _, f := range s.fields {
		if f.ID == id {
			return f.Name
		}
	}
	return id
}

func (s *Server) sprintNames(ids []int) string {
	names := make([]string, 0, len(ids))
	for _, id := range ids {
		if sp, ok := s.sprints[id]; ok {
			names = append(names, sp.Name)
		} else {
			names = append(names, strconv.Itoa(id))
		}
	}
	return strings.Join(names, ", ")
}

func joinInts(ids []int) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.Itoa(id)
	}
	return strings.Join(parts, ", ")
}
