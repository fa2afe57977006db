package jirafake

import (
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// agilePage reads startAt and maxResults of an Agile request.
func (s *Server) agilePage(r *http.Request) (start, n int) {
	v := r.URL.Query()
	start, _ = strconv.Atoi(v.Get("startAt"))
	n = 50
	if x := v.Get("maxResults"); x != "" {
		n, _ = strconv.Atoi(x)
	}
	return max(start, 0), min(max(n, 1), s.agileCap())
}

// boardJSON is a value of the board list: the board's location is its
// project (the id a number, as Cloud sends it), unless the fake plays a
// Jira Server 7 that sends none.
func (s *Server) boardJSON(b *Board) map[string]any {
	p := s.projects[b.Project]
	out := map[string]any{
		"id": b.ID, "self": "https://jira.example.com/rest/agile/1.0/board/" + strconv.Itoa(b.ID),
		"name": b.Name, "type": b.Type,
	}
	if !s.BoardListWithoutLocation {
		pid, _ := strconv.Atoi(p.ID)
		out["location"] = map[string]any{"projectId": pid, "displayName": p.Name + " (" + p.Key + ")", "projectName": p.Name,
			"projectKey": p.Key, "projectTypeKey": "software", "name": p.Name + " (" + p.Key + ")"}
	}
	return out
}

// boardList is GET /rest/agile/1.0/board: every board the account may see,
// by id, 50 a page. projectKeyOrId keeps the boards located in that project
// (Jira keeps those whose filter mentions it, which for the fake's project
// boards is the same).
func (s *Server) boardList(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	proj, typ := v.Get("projectKeyOrId"), v.Get("type")
	if proj != "" {
		found := false
		for _, p := range s.projects {
			if strings.EqualFold(p.Key, proj) || p.ID == proj {
				proj, found = p.Key, true
			}
		}
		if !found {
			writeError(w, http.StatusBadRequest, "No project could be found with key '"+proj+"'.")
			return
		}
	}
	var boards []*Board
	for _, b := range s.boards {
		if (proj == "" || b.Project == proj) && (typ == "" || slices.Contains(strings.Split(typ, ","), b.Type)) {
			boards = append(boards, b)
		}
	}
	sort.Slice(boards, func(i, j int) bool { return boards[i].ID < boards[j].ID })
	start, n := s.agilePage(r)
	vals := []any{}
	for i := start; i < len(boards) && i < start+n; i++ {
		vals = append(vals, s.boardJSON(boards[i]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"maxResults": n, "startAt": start, "total": len(boards),
		"isLast": start+n >= len(boards), "values": vals})
}

func (s *Server) boardByArg(w http.ResponseWriter, arg string) (*Board, bool) {
	id, _ := strconv.Atoi(arg)
	b, ok := s.boards[id]
	if !ok {
		writeError(w, http.StatusNotFound, "Board does not exist or you do not have permission to see it.")
	}
	return b, ok
}

// boardConfiguration is GET /rest/agile/1.0/board/{id}/configuration.
func (s *Server) boardConfiguration(w http.ResponseWriter, arg string) {
	b, ok := s.boardByArg(w, arg)
	if !ok {
		return
	}
	p := s.projects[b.Project]
	col := func(name string, ids ...string) map[string]any {
		sts := []any{}
		for _, id := range ids {
			sts = append(sts, map[string]any{"id": id, "self": "https://jira.example.com/rest/api/2/status/" + id})
		}
		return map[string]any{"name": name, "statuses": sts}
	}
	var todo, progress, done []string
	for id, st := range s.statuses {
		switch st.Category {
		case "done":
			done = append(done, id)
		case "indeterminate":
			progress = append(progress, id)
		default:
			todo = append(todo, id)
		}
	}
	sort.Strings(todo)
	sort.Strings(progress)
	sort.Strings(done)
	out := map[string]any{
		"id": b.ID, "name": b.Name, "type": b.Type, "self": "https://jira.example.com/rest/agile/1.0/board/" + strconv.Itoa(b.ID) + "/configuration",
		"location": map[string]any{"type": "project", "key": p.Key, "id": p.ID, "self": "https://jira.example.com/rest/api/2/project/" + p.ID, "name": p.Name},
		"filter":   map[string]any{"id": strconv.Itoa(b.FilterID), "self": "https://jira.example.com/rest/api/2/filter/" + strconv.Itoa(b.FilterID)},
		"columnConfig": map[string]any{"constraintType": "none", "columns": []any{
			col("To Do", todo...), col("In Progress", progress...), col("Done", done...)}},
		"ranking": map[string]any{"rankCustomFieldId": 10019},
	}
	if b.Type == "kanban" {
		out["subQuery"] = map[string]any{"query": "fixVersion in unreleasedVersions() OR fixVersion is EMPTY"}
	} else if b.EstimationField != "" {
		out["estimation"] = map[string]any{"type": "field", "field": map[string]any{"fieldId": b.EstimationField, "displayName": s.fieldName(b.EstimationField)}}
	} else {
		out["estimation"] = map[string]any{"type": "issueCount"}
	}
	writeJSON(w, http.StatusOK, out)
}

// sprintState orders sprints as Jira does: closed, active, future.
var sprintState = map[string]int{"closed": 0, "active": 1, "future": 2}

func (s *Server) sprintJSON(sp *Sprint) map[string]any {
	m := map[string]any{"id": sp.ID, "self": "https://jira.example.com/rest/agile/1.0/sprint/" + strconv.Itoa(sp.ID),
		"state": sp.State, "name": sp.Name, "originBoardId": sp.Board, "goal": sp.Goal}
	// Future sprints have no dates, active ones no completeDate.
	if sp.Start != nil {
		m["startDate"] = s.fmtSprintTime(sp.Start)
	}
	if sp.End != nil {
		m["endDate"] = s.fmtSprintTime(sp.End)
	}
	if sp.CompleteDate != nil {
		m["completeDate"] = s.fmtSprintTime(sp.CompleteDate)
	}
	if s.Flavor == Cloud && sp.Start != nil {
		m["createdDate"] = s.fmtSprintTime(sp.Start)
	}
	return m
}

// boardSprints is GET /rest/agile/1.0/board/{id}/sprint.
func (s *Server) boardSprints(w http.ResponseWriter, r *http.Request, arg string) {
	b, ok := s.boardByArg(w, arg)
	if !ok {
		return
	}
	if b.Type != "scrum" {
		writeError(w, http.StatusBadRequest, "The board does not support sprints")
		return
	}
	states := splitList(r.URL.Query()["state"])
	var sps []*Sprint
	for _, sp := range s.sprints {
		if sp.Board == b.ID && (len(states) == 0 || slices.Contains(states, sp.State)) {
			sps = append(sps, sp)
		}
	}
	sort.Slice(sps, func(i, j int) bool {
		if a, c := sprintState[sps[i].State], sprintState[sps[j].State]; a != c {
			return a < c
		}
		return sps[i].ID < sps[j].ID
	})
	start, n := s.agilePage(r)
	vals := []any{}
	for i := start; i < len(sps) && i < start+n; i++ {
		vals = append(vals, s.sprintJSON(sps[i]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"maxResults": n, "startAt": start, "isLast": start+n >= len(sps), "values": vals})
}

// sprintIssues is GET /rest/agile/1.0/sprint/{id}/issue: the issues whose
// Sprint field holds the sprint, by rank, offset-paged.
func (s *Server) sprintIssues(w http.ResponseWriter, r *http.Request, arg string) {
	id, _ := strconv.Atoi(arg)
	if _, ok := s.sprints[id]; !ok {
		writeError(w, http.StatusNotFound, "Sprint does not exist or you do not have permission to see it.")
		return
	}
	v := r.URL.Query()
	var where node
	if jql := v.Get("jql"); jql != "" {
		q, err := s.parseJQL(jql, 0)
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		where = q.where
	}
	var issues []*Issue
	for _, is := range s.issues {
		if slices.Contains(is.Sprints, id) && (where == nil || where.eval(s, is)) {
			issues = append(issues, is)
		}
	}
	sortIssues(issues, []orderBy{{field: "rank"}})
	start, n := s.agilePage(r)
	_, set := v["fields"]
	sel := selectFields(splitList(v["fields"]), set, true)
	out := []any{}
	for i := start; i < len(issues) && i < start+n; i++ {
		out = append(out, s.renderIssue(issues[i], sel, false, 0))
	}
	writeJSON(w, http.StatusOK, map[string]any{"expand": "schema,names", "startAt": start, "maxResults": n, "total": len(issues), "issues": out})
}
