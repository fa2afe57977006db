package jirafake

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Jira's time formats: platform fields carry milliseconds and an offset
// without a colon; Agile sprint dates are RFC3339.
const (
	issueTimeLayout  = "2006-01-02T15:04:05.000-0700"
	sprintTimeLayout = "2006-01-02T15:04:05.000Z07:00"
)

func (s *Server) fmtTime(t time.Time) string { return t.In(s.loc).Format(issueTimeLayout) }

// fmtSprintTime renders a sprint date: UTC with "Z" on Cloud, the site's
// offset with a colon on Data Center (as the recorded payloads show).
func (s *Server) fmtSprintTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	if s.Flavor == Cloud {
		return t.UTC().Format(sprintTimeLayout)
	}
	return t.In(s.loc).Format(sprintTimeLayout)
}

// searchReq is a search request from the query string or a POST body.
type searchReq struct {
	JQL           string
	StartAt       int
	MaxResults    int
	maxSet        bool
	Fields        []string
	fieldsSet     bool
	Expand        []string
	NextPageToken string
}

func parseSearchReq(r *http.Request) (searchReq, error) {
	var q searchReq
	if r.Method == http.MethodPost {
		var body struct {
			JQL           string          `json:"jql"`
			StartAt       int             `json:"startAt"`
			MaxResults    *int            `json:"maxResults"`
			Fields        []string        `json:"fields"`
			Expand        json.RawMessage `json:"expand"`
			NextPageToken string          `json:"nextPageToken"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			return q, fmt.Errorf("Invalid request payload. Refer to the REST API documentation and try again.")
		}
		q.JQL, q.StartAt, q.NextPageToken = body.JQL, body.StartAt, body.NextPageToken
		if body.MaxResults != nil {
			q.MaxResults, q.maxSet = *body.MaxResults, true
		}
		if body.Fields != nil {
			q.Fields, q.fieldsSet = body.Fields, true
		}
		var one string
		var many []string
		if json.Unmarshal(body.Expand, &one) == nil {
			q.Expand = splitList([]string{one})
		} else if json.Unmarshal(body.Expand, &many) == nil {
			q.Expand = many
		}
		return q, nil
	}
	v := r.URL.Query()
	q.JQL = v.Get("jql")
	q.NextPageToken = v.Get("nextPageToken")
	if x := v.Get("startAt"); x != "" {
		n, err := strconv.Atoi(x)
		if err != nil || n < 0 {
			return q, fmt.Errorf("The value '%s' is invalid for startAt.", x)
		}
		q.StartAt = n
	}
	if x := v.Get("maxResults"); x != "" {
		n, err := strconv.Atoi(x)
		if err != nil || n < 0 {
			return q, fmt.Errorf("The value '%s' is invalid for maxResults.", x)
		}
		q.MaxResults, q.maxSet = n, true
	}
	if fs, ok := v["fields"]; ok {
		q.Fields, q.fieldsSet = splitList(fs), true
	}
	q.Expand = splitList(v["expand"])
	return q, nil
}

func splitList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// fieldSel is the set of fields to render.
type fieldSel struct {
	all     bool
	set     map[string]bool
	exclude map[string]bool
}

func (f fieldSel) has(name string) bool {
	if f.exclude[name] {
		return false
	}
	return f.all || f.set[name]
}

// keyOnly reports whether the request asks for ids or keys only, which
// Jira answers with much larger pages.
func (f fieldSel) keyOnly() bool {
	if f.all {
		return false
	}
	for k := range f.set {
		if k != "id" && k != "key" {
			return false
		}
	}
	return true
}

func selectFields(fields []string, set bool, defaultAll bool) fieldSel {
	sel := fieldSel{set: map[string]bool{}, exclude: map[string]bool{}}
	if !set {
		sel.all = defaultAll
		return sel
	}
	for _, f := range fields {
		switch {
		case f == "*all" || f == "*navigable":
			sel.all = true
		case strings.HasPrefix(f, "-"):
			sel.exclude[f[1:]] = true
		default:
			sel.set[f] = true
		}
	}
	return sel
}

// query returns the issues a JQL query selects, in its order. The last
// result is cached until the data changes, since a client pages through
// the same query.
func (s *Server) query(q *jqlQuery, jql string) []*Issue {
	if s.cache.jql == jql && s.cache.version == s.version && s.cache.result != nil {
		return s.cache.result
	}
	out := make([]*Issue, 0, len(s.issues))
	for _, is := range s.issues {
		if q.where == nil || q.where.eval(s, is) {
			out = append(out, is)
		}
	}
	sortIssues(out, q.order)
	s.cache.jql, s.cache.version, s.cache.result = jql, s.version, out
	return out
}

func (s *Server) pageCap(sel fieldSel) int {
	if sel.keyOnly() {
		if s.KeyPageCap > 0 {
			return s.KeyPageCap
		}
		if s.Flavor == Cloud {
			return 5000
		}
		return 1000
	}
	if s.PageCap > 0 {
		return s.PageCap
	}
	return 100
}

func (s *Server) agileCap() int {
	if s.AgilePageCap > 0 {
		return s.AgilePageCap
	}
	return 50
}

// pageToken encodes the next offset together with a hash of the query, so
// a token replayed with another query is rejected as Jira does.
func pageToken(offset int, jql string) string {
	h := sha256.Sum256([]byte(jql))
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(offset) + ":" + hex.EncodeToString(h[:8])))
}

func parsePageToken(tok, jql string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, false
	}
	off, hash, ok := strings.Cut(string(b), ":")
	h := sha256.Sum256([]byte(jql))
	if !ok || hash != hex.EncodeToString(h[:8]) {
		return 0, false
	}
	n, err := strconv.Atoi(off)
	return n, err == nil && n >= 0
}

// searchToken is Cloud's GET/POST /rest/api/{2,3}/search/jql.
func (s *Server) searchToken(w http.ResponseWriter, r *http.Request) {
	req, err := parseSearchReq(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if r.URL.Query().Has("startAt") {
		writeError(w, http.StatusBadRequest, "Unrecognized parameter: startAt. Use nextPageToken to page.")
		return
	}
	q, err := s.parseJQL(req.JQL, 0)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if q.where == nil {
		writeError(w, http.StatusBadRequest, "Unbounded JQL queries are not allowed here. Please add a search restriction to your query.")
		return
	}
	offset := 0
	if req.NextPageToken != "" {
		var ok bool
		if offset, ok = parsePageToken(req.NextPageToken, req.JQL); !ok {
			writeError(w, http.StatusBadRequest, "The provided next page token is invalid or expired.")
			return
		}
	}
	// Cloud's default is ids only.
	sel := selectFields(req.Fields, req.fieldsSet, false)
	n := 50
	if req.maxSet {
		n = req.MaxResults
	}
	n = min(max(n, 1), s.pageCap(sel))
	all := s.query(q, req.JQL)
	page := window(all, offset, n)
	changelog := slices.Contains(req.Expand, "changelog")
	issues := make([]any, 0, len(page))
	for _, is := range page {
		if !req.fieldsSet {
			issues = append(issues, map[string]any{"id": is.ID})
			continue
		}
		issues = append(issues, s.renderIssue(is, sel, changelog, s.inlineLimit()))
	}
	out := map[string]any{"issues": issues, "isLast": offset+len(page) >= len(all)}
	if offset+len(page) < len(all) {
		out["nextPageToken"] = pageToken(offset+len(page), req.JQL)
	}
	writeJSON(w, http.StatusOK, out)
}

func window(all []*Issue, offset, n int) []*Issue {
	if offset >= len(all) {
		return nil
	}
	return all[offset:min(len(all), offset+n)]
}

func (s *Server) inlineLimit() int {
	if s.InlineChangelog > 0 {
		return s.InlineChangelog
	}
	return 20
}

// searchOffset is Data Center's GET/POST /rest/api/2/search.
func (s *Server) searchOffset(w http.ResponseWriter, r *http.Request) {
	req, err := parseSearchReq(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	q, err := s.parseJQL(req.JQL, 0)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	sel := selectFields(req.Fields, req.fieldsSet, true)
	n := 50
	if req.maxSet {
		n = req.MaxResults
	}
	// maxResults=0 is a count; larger values are silently lowered, and the
	// answer echoes the effective maxResults.
	n = min(max(n, 0), s.pageCap(sel))
	all := s.query(q, req.JQL)
	page := window(all, req.StartAt, n)
	changelog := slices.Contains(req.Expand, "changelog")
	issues := make([]any, 0, len(page))
	for _, is := range page {
		issues = append(issues, s.renderIssue(is, sel, changelog, s.inlineLimit()))
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"expand": "schema,names", "startAt": req.StartAt, "maxResults": n, "total": len(all), "issues": issues,
	})
}

// approximateCount is Cloud's POST /rest/api/3/search/approximate-count.
func (s *Server) approximateCount(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "Method Not Allowed")
		return
	}
	var body struct {
		JQL string `json:"jql"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, "Invalid request payload. Refer to the REST API documentation and try again.")
		return
	}
	q, err := s.parseJQL(body.JQL, 0)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if q.where == nil {
		writeError(w, http.StatusBadRequest, "Unbounded JQL queries are not allowed here. Please add a search restriction to your query.")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": len(s.query(q, body.JQL))})
}

// changelog is GET /rest/api/{2,3}/issue/{key}/changelog: offset paging,
// oldest first, at most 100 per page.
func (s *Server) changelog(w http.ResponseWriter, r *http.Request, key string) {
	is, ok := s.issues[key]
	if !ok {
		writeError(w, http.StatusNotFound, "Issue does not exist or you do not have permission to see it.")
		return
	}
	v := r.URL.Query()
	start, _ := strconv.Atoi(v.Get("startAt"))
	n := 100
	if x := v.Get("maxResults"); x != "" {
		n, _ = strconv.Atoi(x)
	}
	n = min(max(n, 1), 100)
	start = max(start, 0)
	var vals []any
	for i := start; i < len(is.History) && i < start+n; i++ {
		vals = append(vals, s.historyJSON(is.History[i]))
	}
	if vals == nil {
		vals = []any{}
	}
	last := start+n >= len(is.History)
	self := "https://jira.example.com/rest/api/2/issue/" + key + "/changelog"
	out := map[string]any{
		"self":       self + "?startAt=" + strconv.Itoa(start) + "&maxResults=" + strconv.Itoa(n),
		"maxResults": n, "startAt": start, "total": len(is.History), "isLast": last, "values": vals,
	}
	if !last {
		out["nextPage"] = self + "?startAt=" + strconv.Itoa(start+n) + "&maxResults=" + strconv.Itoa(n)
	}
	writeJSON(w, http.StatusOK, out)
}

// getIssue is GET /rest/api/2/issue/{key}.
func (s *Server) getIssue(w http.ResponseWriter, r *http.Request, key string) {
	is, ok := s.issues[key]
	if !ok {
		writeError(w, http.StatusNotFound, "Issue does not exist or you do not have permission to see it.")
		return
	}
	v := r.URL.Query()
	_, set := v["fields"]
	sel := selectFields(splitList(v["fields"]), set, true)
	writeJSON(w, http.StatusOK, s.renderIssue(is, sel, slices.Contains(splitList(v["expand"]), "changelog"), 100))
}

// renderIssue renders an issue with the selected fields and, when asked,
// the most recent histories of its changelog (newest first) with the true
// total, which is how a client can tell that they were truncated.
func (s *Server) renderIssue(is *Issue, sel fieldSel, changelog bool, limit int) map[string]any {
	out := map[string]any{
		"expand": "operations,versionedRepresentations,editmeta,changelog,renderedFields",
		"id":     is.ID, "self": "https://jira.example.com/rest/api/2/issue/" + is.ID, "key": is.Key,
	}
	f := map[string]any{}
	if sel.has("summary") {
		f["summary"] = is.Summary
	}
	if sel.has("project") {
		p := s.projects[is.Project]
		f["project"] = map[string]any{"self": "https://jira.example.com/rest/api/2/project/" + p.ID, "id": p.ID, "key": p.Key, "name": p.Name, "projectTypeKey": "software"}
	}
	if sel.has("issuetype") {
		f["issuetype"] = map[string]any{"self": "https://jira.example.com/rest/api/2/issuetype/1", "id": strconv.Itoa(len(is.Type)), "name": is.Type, "subtask": is.Subtask, "description": ""}
	}
	if sel.has("status") {
		f["status"] = s.statusJSON(s.statuses[is.Status])
	}
	if sel.has("created") {
		f["created"] = s.fmtTime(is.Created)
	}
	if sel.has("updated") {
		f["updated"] = s.fmtTime(is.Updated)
	}
	if sel.has("resolutiondate") {
		if is.Resolved != nil {
			f["resolutiondate"] = s.fmtTime(*is.Resolved)
		} else {
			f["resolutiondate"] = nil
		}
	}
	if sel.has("resolution") {
		if is.Resolved != nil {
			f["resolution"] = map[string]any{"id": "10000", "name": "Done", "description": ""}
		} else {
			f["resolution"] = nil
		}
	}
	if sel.has("labels") {
		labels := is.Labels
		if labels == nil {
			labels = []string{}
		}
		f["labels"] = labels
	}
	if sel.has("components") {
		comps := []map[string]any{}
		for i, c := range is.Components {
			comps = append(comps, map[string]any{"id": fmt.Sprint(10100 + i), "name": c})
		}
		f["components"] = comps
	}
	if sel.has("parent") && is.Parent != "" {
		p := map[string]any{"key": is.Parent}
		if pi, ok := s.issues[is.Parent]; ok {
			p["id"] = pi.ID
			p["fields"] = map[string]any{"summary": pi.Summary, "status": s.statusJSON(s.statuses[pi.Status]),
				"issuetype": map[string]any{"name": pi.Type, "subtask": pi.Subtask}}
		}
		f["parent"] = p
	}
	if sel.has(FieldEpicLink) && s.Flavor != Cloud {
		if is.EpicLink != "" {
			f[FieldEpicLink] = is.EpicLink
		} else {
			f[FieldEpicLink] = nil
		}
	}
	if sel.has(FieldSprint) {
		f[FieldSprint] = s.sprintFieldJSON(is.Sprints)
	}
	for _, fd := range s.fields {
		if !fd.Custom || fd.ID == FieldSprint || fd.ID == FieldEpicLink || !sel.has(fd.ID) {
			continue
		}
		f[fd.ID] = is.Custom[fd.ID] // nil when unset, as Jira sends null
	}
	out["fields"] = f
	if changelog {
		n := len(is.History)
		hs := make([]any, 0, min(n, limit))
		for i := n - 1; i >= 0 && len(hs) < limit; i-- {
			hs = append(hs, s.historyJSON(is.History[i]))
		}
		out["changelog"] = map[string]any{"startAt": 0, "maxResults": len(hs), "total": n, "histories": hs}
	}
	return out
}

// sprintFieldJSON renders the Sprint field: objects on Cloud, the old
// GreenHopper strings on Data Center.
func (s *Server) sprintFieldJSON(ids []int) any {
	if len(ids) == 0 {
		return nil
	}
	out := make([]any, 0, len(ids))
	for _, id := range ids {
		sp, ok := s.sprints[id]
		if !ok {
			sp = &Sprint{ID: id, Name: "Sprint " + strconv.Itoa(id), State: "future"}
		}
		if s.Flavor == Cloud {
			out = append(out, map[string]any{"id": sp.ID, "name": sp.Name, "state": sp.State, "boardId": sp.Board,
				"goal": sp.Goal, "startDate": s.fmtSprintTime(sp.Start), "endDate": s.fmtSprintTime(sp.End),
				"completeDate": s.fmtSprintTime(sp.CompleteDate)})
			continue
		}
		str := func(t *time.Time) string {
			if t == nil {
				return "<null>"
			}
			return t.In(s.loc).Format("2006-01-02T15:04:05.000-07:00")
		}
		out = append(out, fmt.Sprintf("com.atlassian.greenhopper.service.sprint.Sprint@%x[id=%d,rapidViewId=%d,state=%s,name=%s,startDate=%s,endDate=%s,completeDate=%s,sequence=%d,goal=%s]",
			sp.ID*7919, sp.ID, sp.Board, strings.ToUpper(sp.State), sp.Name, str(sp.Start), str(sp.End), str(sp.CompleteDate), sp.ID, sp.Goal))
	}
	return out
}

func (s *Server) historyJSON(h History) map[string]any {
	items := make([]any, 0, len(h.Items))
	null := func(v string) any {
		if v == "" {
			return nil
		}
		return v
	}
	for _, it := range h.Items {
		m := map[string]any{"field": it.Field, "fieldtype": it.FieldType, "from": null(it.From),
			"fromString": null(it.FromString), "to": null(it.To), "toString": null(it.ToString)}
		if s.Flavor == Cloud && it.FieldID != "" {
			m["fieldId"] = it.FieldID
		}
		items = append(items, m)
	}
	return map[string]any{
		"id":      h.ID,
		"author":  map[string]any{"displayName": "Jane Doe", "active": true},
		"created": s.fmtTime(h.At),
		"items":   items,
	}
}
