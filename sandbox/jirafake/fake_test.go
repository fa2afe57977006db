package jirafake

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC)

func day(x float64) time.Time { return now.Add(time.Duration(x * 24 * float64(time.Hour))) }

// small is a fake with five PAY issues (PAY-1 oldest) and one WEB issue.
func small(flavor Flavor) *Server {
	s := New(flavor)
	s.Now = func() time.Time { return now }
	for i := 1; i <= 5; i++ {
		s.AddIssue(&Issue{Key: "PAY-" + string(rune('0'+i)), Project: "PAY", Created: day(float64(-10 + i))})
	}
	s.AddIssue(&Issue{Key: "WEB-1", Project: "WEB", Type: "Bug", Created: day(-1), Labels: []string{"checkout"}})
	_ = s.Transition("PAY-1", StatusInProgress, day(-8))
	_ = s.Transition("PAY-1", StatusDone, day(-7))
	return s
}

func get(t *testing.T, h http.Handler, path string) (int, http.Header, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	var body map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	return rec.Code, rec.Header(), body
}

func keys(body map[string]any) []string {
	var out []string
	for _, is := range body["issues"].([]any) {
		k, _ := is.(map[string]any)["key"].(string)
		out = append(out, k)
	}
	return out
}

func search(path, jql string, extra ...string) string {
	v := url.Values{"jql": {jql}}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return path + "?" + v.Encode()
}

func TestJQL(t *testing.T) {
	s := small(Cloud)
	tests := []struct {
		jql  string
		want string // keys in order, or the error
	}{
		{`project = PAY ORDER BY created ASC`, "PAY-1 PAY-2 PAY-3 PAY-4 PAY-5"},
		{`project in (PAY, "WEB") AND issuetype = Bug`, "WEB-1"},
		{`statusCategory = "In Progress" OR statusCategory = Done`, "PAY-1"},
		{`statusCategory = done`, "PAY-1"},
		{`project = PAY AND NOT (key = PAY-1 OR key = PAY-2) ORDER BY key DESC`, "PAY-5 PAY-4 PAY-3"},
		// Dates are read in the user's time zone (Los Angeles, UTC-8):
		// 2026-02-26 00:30 there is 08:30Z, 3 days 4 hours ago, after
		// PAY-5 (-5 days); 2026-02-24 04:30 is exactly PAY-5's update.
		{`updated >= "2026-02-26 00:30" ORDER BY key ASC`, "WEB-1"},
		{`updated >= "2026-02-24 04:30" ORDER BY key ASC`, "PAY-5 WEB-1"},
		{`created >= -2d`, "WEB-1"},
		{`labels = checkout`, "WEB-1"},
		{`labels is EMPTY and project = WEB`, ""},
		{`key in (PAY-2, PAY-4) order by created desc`, "PAY-4 PAY-2"},
		{`mood = happy`, "Field 'mood' does not exist or you do not have permission to view it."},
		{`project = PAY AND`, "Expecting a field name"},
		{`created >= "yesterday"`, "Date value 'yesterday' for field 'created' is invalid"},
		{`project = "PAY`, "has not been completed"},
	}
	for _, tt := range tests {
		t.Run(tt.jql, func(t *testing.T) {
			code, _, body := get(t, s, search("/rest/api/2/search/jql", tt.jql, "fields", "key"))
			if code != http.StatusOK {
				msg := body["errorMessages"].([]any)[0].(string)
				if code != http.StatusBadRequest || !strings.Contains(msg, tt.want) {
					t.Errorf("HTTP %d %q, want %q", code, msg, tt.want)
				}
				return
			}
			if got := strings.Join(keys(body), " "); got != tt.want {
				t.Errorf("keys = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCloudSearchPagesByToken(t *testing.T) {
	s := small(Cloud)
	s.PageCap = 2
	jql := `project = PAY ORDER BY created ASC`
	var got []string
	token := ""
	for page := 0; ; page++ {
		path := search("/rest/api/2/search/jql", jql, "fields", "status", "maxResults", "50")
		if token != "" {
			path += "&nextPageToken=" + url.QueryEscape(token)
		}
		code, _, body := get(t, s, path)
		if code != 200 {
			t.Fatalf("page %d: HTTP %d %v", page, code, body)
		}
		if _, ok := body["total"]; ok {
			t.Error("the enhanced search must not answer a total")
		}
		if n := len(body["issues"].([]any)); n > 2 {
			t.Errorf("page %d has %d issues, more than the cap of 2", page, n)
		}
		got = append(got, keys(body)...)
		tok, has := body["nextPageToken"].(string)
		if last := body["isLast"].(bool); last == has {
			t.Errorf("page %d: isLast %v with token %v", page, last, has)
		}
		if !has {
			break
		}
		token = tok
	}
	if strings.Join(got, " ") != "PAY-1 PAY-2 PAY-3 PAY-4 PAY-5" {
		t.Errorf("paged keys = %v", got)
	}

	// Ids only by default; a token of another query and startAt are
	// refused; the old search is gone; unbounded JQL is refused.
	_, _, body := get(t, s, search("/rest/api/2/search/jql", jql))
	if first := body["issues"].([]any)[0].(map[string]any); len(first) != 1 || first["id"] == nil {
		t.Errorf("default fields = %v, want the id only", first)
	}
	checks := []struct {
		path string
		code int
		msg  string
	}{
		{search("/rest/api/2/search/jql", "project = WEB", "nextPageToken", pageToken(2, jql)), 400, "next page token is invalid"},
		{search("/rest/api/2/search/jql", jql, "startAt", "2"), 400, "startAt"},
		{search("/rest/api/2/search", jql), 410, "/rest/api/3/search/jql"},
		{search("/rest/api/3/search/jql", "order by key"), 400, "Unbounded JQL"},
	}
	for _, c := range checks {
		code, _, body := get(t, s, c.path)
		msg, _ := json.Marshal(body)
		if code != c.code || !strings.Contains(string(msg), c.msg) {
			t.Errorf("%s: HTTP %d %s, want %d with %q", c.path, code, msg, c.code, c.msg)
		}
	}
}

func TestDataCenterSearchPagesByOffset(t *testing.T) {
	s := small(DataCenter)
	s.PageCap = 2
	jql := `project = PAY ORDER BY created ASC`
	_, _, body := get(t, s, search("/rest/api/2/search", jql, "startAt", "4", "maxResults", "50"))
	// The cap lowers maxResults silently and the answer says so.
	if body["total"].(float64) != 5 || body["maxResults"].(float64) != 2 || strings.Join(keys(body), " ") != "PAY-5" {
		t.Errorf("page = total %v, maxResults %v, keys %v", body["total"], body["maxResults"], keys(body))
	}
	_, _, body = get(t, s, search("/rest/api/2/search", "project = PAY", "maxResults", "0"))
	if body["total"].(float64) != 5 || len(body["issues"].([]any)) != 0 {
		t.Errorf("count = %v", body)
	}
	if code, _, _ := get(t, s, search("/rest/api/2/search/jql", jql)); code != 404 {
		t.Errorf("Data Center has no /search/jql, got HTTP %d", code)
	}
}

func TestChangelogsAndTimeFormats(t *testing.T) {
	for _, flavor := range []Flavor{Cloud, DataCenter} {
		t.Run(string(flavor), func(t *testing.T) {
			s := small(flavor)
			s.InlineChangelog = 1
			s.AddSprint(Sprint{ID: 9, Board: 1, Name: "S9", State: "active", Start: &now})
			_ = s.SetSprints("PAY-1", []int{9}, day(-6))
			_, _, body := get(t, s, search("/rest/api/2/search", "key = PAY-1", "expand", "changelog", "fields", "created,"+FieldSprint))
			if flavor == Cloud {
				_, _, body = get(t, s, search("/rest/api/2/search/jql", "key = PAY-1", "expand", "changelog", "fields", "created,"+FieldSprint))
			}
			is := body["issues"].([]any)[0].(map[string]any)
			cl := is["changelog"].(map[string]any)
			hs := cl["histories"].([]any)
			// Three histories, one inlined: the newest (the sprint change).
			if cl["total"].(float64) != 3 || len(hs) != 1 || hs[0].(map[string]any)["items"].([]any)[0].(map[string]any)["field"] != "Sprint" {
				t.Errorf("inline changelog = %v", cl)
			}
			// Platform times: milliseconds and an offset without a colon,
			// in the user's zone (PST in February).
			if got := is["fields"].(map[string]any)["created"]; got != "2026-02-20T04:30:00.000-0800" {
				t.Errorf("created = %v", got)
			}
			sprint := is["fields"].(map[string]any)[FieldSprint].([]any)[0]
			if flavor == Cloud {
				if got := sprint.(map[string]any)["startDate"]; got != "2026-03-01T12:30:00.000Z" {
					t.Errorf("sprint start = %v", got)
				}
			} else if got := sprint.(string); !strings.Contains(got, "[id=9,rapidViewId=1,state=ACTIVE,") {
				t.Errorf("Data Center sprint field = %v", got)
			}
			_, _, page := get(t, s, "/rest/api/2/issue/PAY-1/changelog?startAt=1&maxResults=1")
			vals := page["values"].([]any)
			// Oldest first: the second history is the move to Done.
			if page["total"].(float64) != 3 || page["isLast"] != false || vals[0].(map[string]any)["items"].([]any)[0].(map[string]any)["toString"] != "Done" {
				t.Errorf("changelog page = %v", page)
			}
		})
	}
}

func TestFaultsAndAuth(t *testing.T) {
	s := small(Cloud)
	s.Email, s.Token = "a@b.example", "tok"
	req := httptest.NewRequest(http.MethodGet, "/rest/api/2/myself", nil)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != 401 {
		t.Errorf("without credentials: HTTP %d, want 401", rec.Code)
	}
	s.FailNext(1, Fault{Status: 429, RetryAfter: 90})
	req = httptest.NewRequest(http.MethodGet, "/rest/api/2/myself", nil)
	req.SetBasicAuth("a@b.example", "tok")
	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	// The reset is now + 90s as an ISO time to the minute (12:31:30Z).
	if rec.Code != 429 || rec.Header().Get("Retry-After") != "90" || rec.Header().Get("X-RateLimit-Reset") != "2026-03-01T12:31Z" {
		t.Errorf("429 = %d %v", rec.Code, rec.Header())
	}
	s.FailNext(1, Fault{Malformed: true})
	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Body)
	if rec.Code != 200 || json.Valid(b) {
		t.Errorf("malformed answer = %d %s", rec.Code, b)
	}
	if got := s.Requests()["myself"]; got != 3 {
		t.Errorf("requests = %d, want 3", got)
	}
}

func TestGenerateIsReproducible(t *testing.T) {
	gen := func() *Server {
		s := New(Cloud)
		s.Generate(GenOptions{Projects: []string{"PAY", "WEB"}, Issues: 400, Now: now, Seed: 7})
		return s
	}
	a, b := gen(), gen()
	if a.NumIssues() != 400 || a.TruncatedChangelogs() == 0 || a.TruncatedChangelogs() != b.TruncatedChangelogs() {
		t.Errorf("issues %d, truncated %d and %d", a.NumIssues(), a.TruncatedChangelogs(), b.TruncatedChangelogs())
	}
	for _, k := range []string{"PAY-1", "WEB-37", "PAY-200"} {
		x, _ := a.Issue(k)
		y, _ := b.Issue(k)
		if x.Status != y.Status || !x.Updated.Equal(y.Updated) || len(x.History) != len(y.History) {
			t.Errorf("%s differs between two runs with the same seed", k)
		}
		for _, h := range x.History {
			if h.At.After(now) || h.At.Before(x.Created) {
				t.Errorf("%s has a history at %v outside its life", k, h.At)
			}
		}
	}
}
