package jira

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// cloudPage is one answer of a scripted /search/jql.
type cloudPage struct {
	keys   []string
	next   string // nextPageToken; "" leaves the key out, as Jira does
	isLast bool
}

// scriptedSearch serves Cloud searches from pages keyed by the token asked
// for ("" for the first page) and records the tokens asked for. After 20
// requests it answers a last page, so that a client that would loop ends
// and the test can fail instead of hanging.
type scriptedSearch struct {
	pages map[string]cloudPage

	mu    sync.Mutex
	asked []string
}

func (s *scriptedSearch) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.URL.Path, "/"+pathSearchCloud) {
		http.NotFound(w, r)
		return
	}
	token := r.URL.Query().Get("nextPageToken")
	s.mu.Lock()
	s.asked = append(s.asked, token)
	n := len(s.asked)
	s.mu.Unlock()
	page, ok := s.pages[token]
	if !ok || n > 20 {
		page = cloudPage{keys: []string{"EXTRA-" + token}, isLast: true}
	}
	body := map[string]any{"isLast": page.isLast}
	issues := []map[string]any{}
	for _, k := range page.keys {
		issues = append(issues, map[string]any{"id": "1", "key": k, "fields": map[string]any{}})
	}
	body["issues"] = issues
	if page.next != "" {
		body["nextPageToken"] = page.next
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}

func (s *scriptedSearch) tokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.asked...)
}

func TestCloudPagerStops(t *testing.T) {
	tests := []struct {
		name  string
		pages map[string]cloudPage
		// wantKeys are the issues read; wantErr, when set, is what the
		// error must say instead.
		wantKeys []string
		wantErr  string
		wantAsks int
	}{
		{
			name: "the search ends when the token is absent",
			pages: map[string]cloudPage{
				"":   {keys: []string{"A-1", "A-2"}, next: "t1"},
				"t1": {keys: []string{"A-3"}},
			},
			wantKeys: []string{"A-1", "A-2", "A-3"}, wantAsks: 2,
		},
		{
			name: "isLast ends the search even when a token comes with it",
			pages: map[string]cloudPage{
				"":   {keys: []string{"A-1"}, next: "t1"},
				"t1": {keys: []string{"A-2"}, next: "t2", isLast: true},
				"t2": {keys: []string{"NEVER"}, isLast: true},
			},
			wantKeys: []string{"A-1", "A-2"}, wantAsks: 2,
		},
		{
			name: "a page that repeats the token it was asked with is an error naming the source",
			pages: map[string]cloudPage{
				"":   {keys: []string{"A-1"}, next: "t1"},
				"t1": {keys: []string{"A-2"}, next: "t1"},
			},
			wantErr: `jira source "jira": rest/api/2/search/jql: page 2 carries a nextPageToken Jira already sent`, wantAsks: 2,
		},
		{
			name: "a token that comes back after others is an error too",
			pages: map[string]cloudPage{
				"":   {keys: []string{"A-1"}, next: "t1"},
				"t1": {keys: []string{"A-2"}, next: "t2"},
				"t2": {keys: []string{"A-3"}, next: "t1"},
			},
			wantErr: "page 3 carries a nextPageToken Jira already sent", wantAsks: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			search := &scriptedSearch{pages: tt.pages}
			srv := httptest.NewServer(search)
			defer srv.Close()
			spec := &Spec{}
			spec.Defaults()
			spec.URL, spec.Email, spec.Token = srv.URL, testEmail, testToken
			c, err := newClient("jira", spec, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			p := &pager{c: c, cloud: true, jql: "project = A", fields: []string{"key"}, pageSize: 2}
			var keys []string
			for !p.done {
				issues, err := p.next(context.Background())
				if err != nil {
					if tt.wantErr == "" || !strings.Contains(err.Error(), tt.wantErr) {
						t.Fatalf("next = %v, want error %q", err, tt.wantErr)
					}
					break
				}
				for _, is := range issues {
					keys = append(keys, is.Key)
				}
			}
			if tt.wantErr == "" && strings.Join(keys, ",") != strings.Join(tt.wantKeys, ",") {
				t.Errorf("issues = %v, want %v", keys, tt.wantKeys)
			}
			if tt.wantErr != "" && p.done {
				t.Errorf("the search ended cleanly with %v, want the error %q", keys, tt.wantErr)
			}
			if got := search.tokens(); len(got) != tt.wantAsks {
				t.Errorf("pages asked for with tokens %q, want %d requests", got, tt.wantAsks)
			}
		})
	}
}

func TestCountOnCloudStopsOnARepeatedToken(t *testing.T) {
	search := &scriptedSearch{pages: map[string]cloudPage{
		"":   {keys: []string{"A-1"}, next: "t1"},
		"t1": {keys: []string{"A-2"}, next: "t1"},
	}}
	srv := httptest.NewServer(search)
	defer srv.Close()
	spec := &Spec{}
	spec.Defaults()
	spec.URL, spec.Email, spec.Token = srv.URL, testEmail, testToken
	c, err := newClient("jira", spec, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	n, err := c.countJQL(context.Background(), true, "project = A")
	if err == nil || !strings.Contains(err.Error(), `jira source "jira"`) {
		t.Fatalf("countJQL = %d, %v; want an error naming the source", n, err)
	}
}
