package jira

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	gojira "github.com/andygrunwald/go-jira"

	jm "github.com/okrd/okrd/metrics/jira"
)

// site is what okrd learns about a Jira site before syncing: its flavour,
// the user's time zone (JQL date literals are read in it), the status
// categories, and the ids of the Sprint, Epic Link and story-point fields.
type site struct {
	cloud       bool
	loc         *time.Location
	statuses    map[string]jm.Status // by status id
	fieldNames  map[string]string    // field id -> name
	sprintField string
	epicField   string
	// pointsFields are the story-point fields to keep, by id, with the
	// name changelog items carry on sites that send no fieldId.
	pointsFields map[string]string
}

// Schema ids of the Jira Software fields (API-FACTS.md §2).
const (
	schemaSprint   = "com.pyxis.greenhopper.jira:gh-sprint"
	schemaEpicLink = "com.pyxis.greenhopper.jira:gh-epic-link"
)

// searchFields are the fields an issue search asks for.
func (st *site) searchFields(extra ...string) []string {
	f := []string{"project", "issuetype", "status", "created", "updated", "resolutiondate", "labels", "components", "parent"}
	f = append(f, extra...)
	if st.sprintField != "" {
		f = append(f, st.sprintField)
	}
	if st.epicField != "" {
		f = append(f, st.epicField)
	}
	ids := make([]string, 0, len(st.pointsFields))
	for id := range st.pointsFields {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return append(f, ids...)
}

// status returns a status by id, with the category the site gives it; ok
// is false for a status the site did not list (created since okrd read
// the list).
func (st *site) status(id, name string) (jm.Status, bool) {
	if s, ok := st.statuses[id]; ok {
		if name != "" {
			s.Name = name
		}
		return s, true
	}
	return jm.Status{ID: id, Name: name}, false
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// sprintIDRE finds the id in the Sprint field strings of older Data Center
// versions: "com.atlassian.greenhopper.service.sprint.Sprint@1a[id=78,...]".
var sprintIDRE = regexp.MustCompile(`\[id=(\d+)[,\]]`)

// parseSprintField reads the Sprint field: Cloud's objects, or Data
// Center's strings.
func parseSprintField(raw json.RawMessage) ([]int, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return nil, fmt.Errorf("sprint field: %w", err)
	}
	var out []int
	for _, e := range elems {
		var obj struct {
			ID int `json:"id"`
		}
		var s string
		switch {
		case json.Unmarshal(e, &obj) == nil && obj.ID != 0:
			out = append(out, obj.ID)
		case json.Unmarshal(e, &s) == nil:
			m := sprintIDRE.FindStringSubmatch(s)
			if m == nil {
				return nil, fmt.Errorf("sprint field: no id in %q", s)
			}
			id, _ := strconv.Atoi(m[1])
			out = append(out, id)
		default:
			return nil, fmt.Errorf("sprint field: unexpected %s", e)
		}
	}
	return out, nil
}

// parseIDList reads a changelog Sprint value, "12, 13".
func parseIDList(s string) []int {
	var out []int
	for _, p := range strings.Split(s, ",") {
		if id, err := strconv.Atoi(strings.TrimSpace(p)); err == nil {
			out = append(out, id)
		}
	}
	return out
}

func parsePoints(s string) *float64 {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil
	}
	return &v
}

// normalize turns an API issue into okrd's record shape. unknown reports
// statuses the site's status list lacks (their category is unknown).
func (st *site) normalize(r rawIssue) (is *jm.Issue, unknown bool, err error) {
	if r.Key == "" || r.Fields == nil {
		return nil, false, fmt.Errorf("issue %q without key or fields", r.ID)
	}
	bad := func(field string, err error) (*jm.Issue, bool, error) {
		return nil, false, fmt.Errorf("issue %s: field %s: %w", r.Key, field, err)
	}
	is = &jm.Issue{Key: r.Key}
	f := r.Fields
	var project struct {
		Key string `json:"key"`
	}
	if err := json.Unmarshal(f["project"], &project); err != nil || project.Key == "" {
		return bad("project", fmt.Errorf("missing or malformed: %v", err))
	}
	is.Project = project.Key
	var itype struct {
		Name    string `json:"name"`
		Subtask bool   `json:"subtask"`
	}
	if raw, ok := f["issuetype"]; ok {
		if err := json.Unmarshal(raw, &itype); err != nil {
			return bad("issuetype", err)
		}
	}
	is.Type, is.Subtask = itype.Name, itype.Subtask
	if raw, ok := f["summary"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &is.Summary); err != nil {
			return bad("summary", err)
		}
	}
	var status statusJSON
	if err := json.Unmarshal(f["status"], &status); err != nil {
		return bad("status", err)
	}
	is.Status = jm.Status{ID: status.ID, Name: status.Name, Category: status.StatusCategory.Key}
	var created, updated gojira.Time
	if err := json.Unmarshal(f["created"], &created); err != nil || time.Time(created).IsZero() {
		return bad("created", fmt.Errorf("missing or malformed: %v", err))
	}
	if err := json.Unmarshal(f["updated"], &updated); err != nil {
		return bad("updated", err)
	}
	is.Created, is.Updated = time.Time(created).UTC(), time.Time(updated).UTC()
	if is.Updated.IsZero() {
		is.Updated = is.Created
	}
	if raw, ok := f["resolutiondate"]; ok && string(raw) != "null" {
		var res gojira.Time
		if err := json.Unmarshal(raw, &res); err != nil {
			return bad("resolutiondate", err)
		}
		t := time.Time(res).UTC()
		is.Resolved = &t
	}
	if raw, ok := f["labels"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &is.Labels); err != nil {
			return bad("labels", err)
		}
	}
	if raw, ok := f["components"]; ok && string(raw) != "null" {
		var comps []struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(raw, &comps); err != nil {
			return bad("components", err)
		}
		for _, c := range comps {
			if c.Name != "" {
				is.Components = append(is.Components, c.Name)
			}
		}
	}
	if raw, ok := f["parent"]; ok && string(raw) != "null" {
		var parent struct {
			Key string `json:"key"`
		}
		if err := json.Unmarshal(raw, &parent); err != nil {
			return bad("parent", err)
		}
		is.Parent = parent.Key
	}
	if st.epicField != "" {
		if raw, ok := f[st.epicField]; ok && string(raw) != "null" {
			var epic string
			if err := json.Unmarshal(raw, &epic); err == nil {
				is.Epic = epic
			}
		}
	}
	if st.sprintField != "" {
		if is.Sprints, err = parseSprintField(f[st.sprintField]); err != nil {
			return bad(st.sprintField, err)
		}
	}
	for id := range st.pointsFields {
		raw, ok := f[id]
		if !ok || string(raw) == "null" {
			continue
		}
		var v float64
		if err := json.Unmarshal(raw, &v); err != nil {
			return bad(id, err)
		}
		if is.Points == nil {
			is.Points = map[string]float64{}
		}
		is.Points[id] = v
	}

	pointsByName := map[string]string{}
	for id, name := range st.pointsFields {
		pointsByName[strings.ToLower(name)] = id
	}
	if r.Changelog != nil {
		for _, h := range r.Changelog.Histories {
			at := time.Time(h.Created).UTC()
			for _, it := range h.Items {
				switch {
				case it.Field == "status" && (it.FieldType == "jira" || it.FieldID == "status" || it.FieldType == ""):
					from, ok1 := st.status(str(it.From), str(it.FromString))
					to, ok2 := st.status(str(it.To), str(it.ToString))
					unknown = unknown || !ok1 || !ok2
					is.Transitions = append(is.Transitions, jm.Transition{At: at, From: from, To: to})
				case (st.sprintField != "" && it.FieldID == st.sprintField) || (it.FieldID == "" && strings.EqualFold(it.Field, "Sprint")):
					is.SprintChanges = append(is.SprintChanges, jm.SprintChange{At: at, From: parseIDList(str(it.From)), To: parseIDList(str(it.To))})
				default:
					id := it.FieldID
					if _, ok := st.pointsFields[id]; !ok {
						id = ""
						if it.FieldID == "" {
							id = pointsByName[strings.ToLower(it.Field)]
						}
					}
					if id == "" {
						continue
					}
					from, to := parsePoints(str(it.FromString)), parsePoints(str(it.ToString))
					if from == nil && it.From != nil {
						from = parsePoints(*it.From)
					}
					if to == nil && it.To != nil {
						to = parsePoints(*it.To)
					}
					is.PointChanges = append(is.PointChanges, jm.PointChange{At: at, Field: id, From: from, To: to})
				}
			}
		}
	}
	slices.Sort(is.Sprints)
	is.Normalize()
	return is, unknown, nil
}
