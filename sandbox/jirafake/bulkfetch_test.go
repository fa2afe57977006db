package jirafake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

func post(t *testing.T, h http.Handler, path string, body any) (int, map[string]any) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, strings.NewReader(string(b))))
	var out map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, out
}

// bulkHistories is the fake of the bulk tests: PAY-1 (id 100) and PAY-2
// (id 20) with interleaved histories, so that date order and issue order
// differ, and one history that changes only the labels.
func bulkHistories() *Server {
	s := New(Cloud)
	s.Now = func() time.Time { return now }
	s.AddIssue(&Issue{ID: "100", Key: "PAY-1", Project: "PAY", Created: day(-10)})
	s.AddIssue(&Issue{ID: "20", Key: "PAY-2", Project: "PAY", Created: day(-10)})
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	must(s.Transition("PAY-1", StatusInProgress, day(-9)))
	must(s.Transition("PAY-2", StatusInProgress, day(-8)))
	// Two histories at the same instant: the smaller issue id comes first.
	must(s.Transition("PAY-1", StatusDone, day(-7)))
	must(s.Transition("PAY-2", StatusInReview, day(-7)))
	must(s.SetLabels("PAY-1", []string{"x"}, day(-6)))
	must(s.SetPoints("PAY-2", FieldStoryPoints, fp(3), day(-5)))
	return s
}

func fp(v float64) *float64 { return &v }

// bulkPage is one answer of the bulkfetch, flattened.
type bulkPage struct {
	histories []string // "issueId:toString" in the answer's order
	groups    []string // the issue ids of the groups, in order
	token     any
}

func readBulk(t *testing.T, body map[string]any) bulkPage {
	t.Helper()
	var p bulkPage
	p.token = body["nextPageToken"]
	for _, g := range body["issueChangeLogs"].([]any) {
		g := g.(map[string]any)
		id := g["issueId"].(string)
		p.groups = append(p.groups, id)
		for _, h := range g["changeHistories"].([]any) {
			items := h.(map[string]any)["items"].([]any)
			var to []string
			for _, it := range items {
				to = append(to, fmt.Sprint(it.(map[string]any)["toString"]))
			}
			p.histories = append(p.histories, id+":"+strings.Join(to, "+"))
		}
	}
	return p
}

func TestBulkChangelogOrderAndPaging(t *testing.T) {
	s := bulkHistories()
	const path = "/rest/api/3/changelog/bulkfetch"
	var all []string
	var pages []bulkPage
	token := ""
	for range 10 {
		body := map[string]any{"issueIdsOrKeys": []string{"PAY-1", "20"}, "maxResults": 2}
		if token != "" {
			body["nextPageToken"] = token
		}
		code, out := post(t, s, path, body)
		if code != http.StatusOK {
			t.Fatalf("HTTP %d %v", code, out)
		}
		p := readBulk(t, out)
		pages = append(pages, p)
		all = append(all, p.histories...)
		if p.token == nil {
			break
		}
		token = p.token.(string)
	}
	// Oldest first; at -7 the smaller issue id (20, PAY-2) first.
	want := []string{"100:In Progress", "20:In Progress", "20:In Review", "100:Done", "100:x", "20:3"}
	if !slices.Equal(all, want) {
		t.Errorf("histories = %v\nwant        %v", all, want)
	}
	// Pages of 2 histories, the last with a null token; a page groups its
	// histories by issue.
	if len(pages) != 3 || !slices.Equal(pages[1].groups, []string{"20", "100"}) || pages[2].token != nil {
		t.Errorf("pages = %+v", pages)
	}

	// With fieldIds only the items of those fields, and no history without
	// one: the label change is gone. On one page, one group per issue in
	// the order of its first history, each oldest first.
	code, out := post(t, s, path, map[string]any{"issueIdsOrKeys": []string{"PAY-1", "PAY-2"}, "fieldIds": []string{"status", FieldStoryPoints}})
	got := readBulk(t, out)
	want = []string{"100:In Progress", "100:Done", "20:In Progress", "20:In Review", "20:3"}
	if code != http.StatusOK || !slices.Equal(got.histories, want) || !slices.Equal(got.groups, []string{"100", "20"}) || got.token != nil {
		t.Errorf("filtered = HTTP %d %+v, want %v in one page", code, got, want)
	}
}

func TestBulkChangelogLimitsAndErrors(t *testing.T) {
	s := bulkHistories()
	const path = "/rest/api/2/changelog/bulkfetch"
	many := make([]string, 1001)
	for i := range many {
		many[i] = fmt.Sprintf("PAY-%d", i+1)
	}
	fields := []string{"f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9", "f10", "f11"}
	tests := []struct {
		name string
		body any
		code int
		msg  string
	}{
		{"more than 1000 issues", map[string]any{"issueIdsOrKeys": many}, 400, "must not exceed 1000"},
		{"1000 issues are fine", map[string]any{"issueIdsOrKeys": many[:1000]}, 200, ""},
		{"more than 10 fields", map[string]any{"issueIdsOrKeys": []string{"PAY-1"}, "fieldIds": fields}, 400, "must not exceed 10"},
		{"no issue", map[string]any{"issueIdsOrKeys": []string{}}, 400, "must not be empty"},
		{"a malformed body", "not an object", 400, "Invalid request payload"},
		{"a token of another request", map[string]any{"issueIdsOrKeys": []string{"PAY-2"}, "nextPageToken": bulkToken(1, "x")}, 400, "next page token is invalid"},
		{"maxResults of 0", map[string]any{"issueIdsOrKeys": []string{"PAY-2"}, "maxResults": 0}, 400, "maxResults"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := post(t, s, path, tt.body)
			msg, _ := json.Marshal(out)
			if code != tt.code || !strings.Contains(string(msg), tt.msg) {
				t.Errorf("HTTP %d %s, want %d with %q", code, msg, tt.code, tt.msg)
			}
		})
	}

	// Unknown issues are left out without an error; an issue named twice
	// (by key and by id) is answered once.
	code, out := post(t, s, path, map[string]any{"issueIdsOrKeys": []string{"NOPE-1", "999999", "PAY-2", "20"}})
	got := readBulk(t, out)
	if code != http.StatusOK || !slices.Equal(got.groups, []string{"20"}) || len(got.histories) != 3 {
		t.Errorf("unknown issues: HTTP %d %+v, want PAY-2's 3 histories only", code, got)
	}
	// GET is not the method; Data Center has no bulkfetch.
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: HTTP %d, want 405", rec.Code)
	}
	if code, _ := post(t, small(DataCenter), path, map[string]any{"issueIdsOrKeys": []string{"PAY-1"}}); code != http.StatusNotFound {
		t.Errorf("Data Center: HTTP %d, want 404", code)
	}
	if got := s.Requests()["changelog/bulkfetch"]; got != len(tests)+2 {
		t.Errorf("bulkfetch requests counted = %d, want %d", got, len(tests)+2)
	}
}

func TestBulkChangelogPageSizeIsCapped(t *testing.T) {
	s := New(Cloud)
	s.Now = func() time.Time { return now }
	// 11 issues of 1000 histories: 11,000 histories.
	var refs []string
	for i := range 11 {
		is := &Issue{Key: fmt.Sprintf("PAY-%d", i+1), Project: "PAY", Created: day(-100)}
		for k := range 1000 {
			is.History = append(is.History, History{At: day(-99).Add(time.Duration(k) * time.Minute),
				Items: []Item{{Field: "labels", FieldType: "jira", FieldID: "labels", ToString: "x"}}})
		}
		s.AddIssue(is)
		refs = append(refs, is.Key)
	}
	code, out := post(t, s, "/rest/api/3/changelog/bulkfetch", map[string]any{"issueIdsOrKeys": refs, "maxResults": 50000})
	if got := readBulk(t, out); code != http.StatusOK || len(got.histories) != BulkMaxPage || got.token == nil {
		t.Errorf("HTTP %d with %d histories and token %v, want %d and a token", code, len(got.histories), got.token, BulkMaxPage)
	}
	// The default page is 1000 histories.
	_, out = post(t, s, "/rest/api/3/changelog/bulkfetch", map[string]any{"issueIdsOrKeys": refs})
	if got := readBulk(t, out); len(got.histories) != BulkDefaultPage {
		t.Errorf("default page = %d histories, want %d", len(got.histories), BulkDefaultPage)
	}
}

func TestBoardListLocations(t *testing.T) {
	s := small(Cloud)
	s.AddBoard(Board{ID: 3, Name: "PAY board", Project: "PAY"}, "project = PAY")
	s.AddBoard(Board{ID: 4, Name: "WEB board", Project: "WEB", Type: "kanban"}, "project = WEB")
	_, _, body := get(t, s, "/rest/agile/1.0/board")
	vals := body["values"].([]any)
	loc, _ := vals[1].(map[string]any)["location"].(map[string]any)
	// Every board the account sees, each with its project as location
	// (the id a number).
	if len(vals) != 2 || loc["projectKey"] != "WEB" || fmt.Sprintf("%T", loc["projectId"]) != "float64" {
		t.Errorf("board list = %v", vals)
	}
	s.BoardListWithoutLocation = true
	_, _, body = get(t, s, "/rest/agile/1.0/board?projectKeyOrId=PAY")
	vals = body["values"].([]any)
	if _, has := vals[0].(map[string]any)["location"]; len(vals) != 1 || has {
		t.Errorf("board list of an old server = %v, want PAY's board without location", vals)
	}
}
