package jira

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/okrd/okrd/config"
	jm "github.com/okrd/okrd/metrics/jira"
	"github.com/okrd/okrd/sandbox/jirafake"
)

// bodies records the JSON bodies of the bulkfetch requests an env sends.
type bodies struct {
	mu   sync.Mutex
	reqs []bulkChangelogRequest
}

func (b *bodies) watch(e *env) {
	e.onRequest = func(r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/changelog/bulkfetch") {
			return
		}
		raw, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(raw))
		var req bulkChangelogRequest
		_ = json.Unmarshal(raw, &req)
		b.mu.Lock()
		b.reqs = append(b.reqs, req)
		b.mu.Unlock()
	}
}

func (b *bodies) all() []bulkChangelogRequest {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.reqs)
}

// histories are what an issue's changelog gave the model.
type histories struct {
	Transitions   []jm.Transition
	SprintChanges []jm.SprintChange
	PointChanges  []jm.PointChange
}

func modelHistories(e *env) map[string]histories {
	out := map[string]histories{}
	e.src.mu.RLock()
	defer e.src.mu.RUnlock()
	e.src.model.Each(func(is *jm.Issue) {
		out[is.Key] = histories{is.Transitions, is.SprintChanges, is.PointChanges}
	})
	return out
}

func TestCloudReadsTruncatedChangelogsInBulk(t *testing.T) {
	const n = 600
	gen := func(inline int) *env {
		clk := newClock(now)
		f := jirafake.New(jirafake.Cloud)
		f.Email, f.Token = testEmail, testToken
		f.Now = clk.Now
		f.Generate(jirafake.GenOptions{Projects: []string{"PAY"}, Issues: n, Now: now, Seed: 42})
		f.InlineChangelog = inline
		return newEnv(t, f, clk, func(s *Spec) { s.History = config.Duration(200 * 24 * time.Hour) })
	}
	// The truth: a site that inlines every history.
	whole := gen(1000)
	whole.mustPoll()
	if got := whole.fake.Requests(); got["changelog/bulkfetch"] != 0 || got["changelog"] != 0 {
		t.Fatalf("nothing is truncated, yet %v", got)
	}

	e := gen(0)
	var b bodies
	b.watch(e)
	e.mustPoll()
	truncated := e.fake.TruncatedChangelogs()
	reqs := b.all()
	got := e.fake.Requests()
	// 12 truncated changelogs in 600 issues (6 pages): one bulkfetch, no
	// changelog read one by one.
	if truncated != 12 || len(reqs) != 1 || got["changelog"] != 0 {
		t.Fatalf("%d truncated; requests %v, bulk bodies %d", truncated, got, len(reqs))
	}
	// It asks for the issues by id, for the histories okrd keeps only,
	// in pages as large as Jira allows.
	req := reqs[0]
	if len(req.IssueIdsOrKeys) != truncated || req.MaxResults != 10000 ||
		!slices.Equal(req.FieldIds, []string{"status", jirafake.FieldSprint, jirafake.FieldStoryPoints}) {
		t.Errorf("bulkfetch body = %d issues, maxResults %d, fieldIds %v", len(req.IssueIdsOrKeys), req.MaxResults, req.FieldIds)
	}
	// Every issue has exactly the histories of the site that inlines all.
	want, have := modelHistories(whole), modelHistories(e)
	if len(have) != n {
		t.Fatalf("%d issues in the model, want %d", len(have), n)
	}
	for k, w := range want {
		if !reflect.DeepEqual(have[k], w) {
			t.Errorf("%s: histories from the bulkfetch differ:\n%+v\nwant\n%+v", k, have[k], w)
		}
	}
}

func TestBulkfetchPagesAreFollowed(t *testing.T) {
	e := fixtureEnv(t, jirafake.Cloud, nil)
	// The truncated PAY-2 and PAY-6 have 7 histories of the fields okrd
	// keeps (PAY-6's description edits are left out), more than a page of
	// 2 holds: 4 pages.
	e.fake.BulkPageCap = 2
	e.mustPoll()
	if got := e.fake.Requests()["changelog/bulkfetch"]; got != 4 {
		t.Errorf("bulkfetch requests = %d, want 4 pages", got)
	}
	if got := e.issue("PAY-2"); len(got.Transitions) != 3 || len(got.SprintChanges) != 2 {
		t.Errorf("PAY-2 has %d transitions and %d sprint changes, want 3 and 2", len(got.Transitions), len(got.SprintChanges))
	}
	if got := e.issue("PAY-6"); len(got.Transitions) != 2 {
		t.Errorf("PAY-6 has %d transitions, want 2", len(got.Transitions))
	}
}

func TestAPassInterruptedWithChangelogsWaitingLosesNothing(t *testing.T) {
	e := fixtureEnv(t, jirafake.Cloud, nil)
	h := hook(e)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The poll ends once the second page is stored. PAY-6 (page 1) and
	// PAY-2 (page 2) wait for their changelogs then.
	h.afterPage = func(scope string, n int) {
		if scope == cursorIssues && n == 2 {
			cancel()
		}
	}
	if err := e.src.Poll(ctx); err == nil {
		t.Fatal("poll succeeded, want it cancelled")
	}
	h.afterPage = nil
	// PAY-5 and PAY-1 are stored; the cursor resumes at PAY-6, the oldest
	// issue not stored, created at -50.
	var stored []string
	e.src.mu.RLock()
	e.src.model.Each(func(is *jm.Issue) { stored = append(stored, is.Key) })
	e.src.mu.RUnlock()
	slices.Sort(stored)
	cur, _, _ := e.st.Cursor(context.Background(), "jira", cursorIssues)
	var cs cursorState
	_ = json.Unmarshal([]byte(cur), &cs)
	if !slices.Equal(stored, []string{"PAY-1", "PAY-5"}) || e.countRecords(KindIssue) != 2 || cs.Pass == nil || !cs.Pass.After.Equal(d(-50)) {
		t.Fatalf("stored %v (%d records), cursor %s; want PAY-1 and PAY-5, resuming at -50", stored, e.countRecords(KindIssue), cur)
	}

	// A restart reads from PAY-6 on and stores everything complete.
	e.src = e.newSource()
	e.mustPoll()
	if n := e.countRecords(KindIssue); n != 6 {
		t.Errorf("stored %d issues, want 6", n)
	}
	if got := e.issue("PAY-6"); len(got.Transitions) != 2 {
		t.Errorf("PAY-6 has %d transitions, want 2", len(got.Transitions))
	}
	if got := e.issue("PAY-2"); len(got.Transitions) != 3 {
		t.Errorf("PAY-2 has %d transitions, want 3", len(got.Transitions))
	}
}

func TestChangelogsWaitingForLongAreReadBeforeThePassEnds(t *testing.T) {
	e := fixtureEnv(t, jirafake.Cloud, nil)
	h := hook(e)
	// Each search takes 20s of the poll's minute: PAY-6 (page 1) has
	// waited a quarter of it once page 2 is in, so its changelog (with
	// PAY-2's) is read then, and both are stored with page 2.
	e.onRequest = func(r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/search/jql") {
			e.clk.Advance(20 * time.Second)
		}
	}
	var afterPage2 int
	h.afterPage = func(scope string, n int) {
		if scope == cursorIssues && n == 2 {
			afterPage2 = e.countRecords(KindIssue)
		}
	}
	e.mustPoll()
	if afterPage2 != 4 {
		t.Errorf("%d issues stored with page 2, want 4 (PAY-6 and PAY-5, PAY-1 and PAY-2)", afterPage2)
	}
	if got := e.fake.Requests()["changelog/bulkfetch"]; got != 1 {
		t.Errorf("bulkfetch requests = %d, want 1", got)
	}
}

func TestWhenTheBatchIsRead(t *testing.T) {
	const timeout = time.Minute
	batch := func(n, read, firstRead int, since time.Time) *changelogBatch {
		b := &changelogBatch{read: read}
		for i := range n {
			b.issues = append(b.issues, pendingIssue{read: firstRead + i, since: since})
		}
		return b
	}
	tests := []struct {
		name string
		b    *changelogBatch
		last bool
		want int
	}{
		{"nothing waits", batch(0, 100, 0, now), true, 0},
		{"a few wait in the middle of a pass", batch(30, 1200, 100, now), false, 0},
		{"all at the last page", batch(30, 1200, 100, now), true, 30},
		{"a full request of 1000", batch(1000, 1200, 100, now), false, 1000},
		{"full requests only, the rest keeps waiting", batch(2500, 9000, 8000, now), false, 2000},
		{"all once they hold the cursor back by holdIssues issues", batch(30, 100+holdIssues, 100, now), false, 30},
		{"not yet one issue before", batch(30, 99+holdIssues, 100, now), false, 0},
		{"all once the oldest waited a quarter of the timeout", batch(30, 200, 100, now.Add(-timeout/4)), false, 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.b.due(tt.last, now, timeout); got != tt.want {
				t.Errorf("due = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestChangelogFields(t *testing.T) {
	st := &site{sprintField: "customfield_10020", pointsFields: map[string]string{"customfield_10016": "", "customfield_10002": ""}}
	if got := st.changelogFields(); !slices.Equal(got, []string{"status", "customfield_10020", "customfield_10002", "customfield_10016"}) {
		t.Errorf("fields = %v", got)
	}
	// More fields than the bulkfetch filters by: every history is read.
	for i := range 9 {
		st.pointsFields["customfield_2000"+string(rune('0'+i))] = ""
	}
	if got := st.changelogFields(); got != nil {
		t.Errorf("fields = %v, want nil (all) for 12 fields", got)
	}
}

func TestBulkChangelogsKeepAHistorySentTwiceOnce(t *testing.T) {
	// Two pages that both carry history 2 of issue 10.
	pages := []string{
		`{"issueChangeLogs":[{"issueId":"10","changeHistories":[
			{"id":"1","created":"2026-01-01T10:00:00.000+0000","items":[{"field":"status","fieldId":"status","from":"1","to":"3"}]},
			{"id":"2","created":"2026-01-02T10:00:00.000+0000","items":[{"field":"status","fieldId":"status","from":"3","to":"6"}]}]}],
		 "nextPageToken":"t1"}`,
		`{"issueChangeLogs":[{"issueId":"10","changeHistories":[
			{"id":"2","created":"2026-01-02T10:00:00.000+0000","items":[{"field":"status","fieldId":"status","from":"3","to":"6"}]}]},
		 {"issueId":"11","changeHistories":[
			{"id":"3","created":"2026-01-03T10:00:00.000+0000","items":[{"field":"status","fieldId":"status","from":"1","to":"3"}]}]}],
		 "nextPageToken":null}`,
	}
	var mu sync.Mutex
	served := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, pages[min(served, 1)])
		served++
	}))
	defer srv.Close()
	spec := &Spec{}
	spec.Defaults()
	spec.URL, spec.Email, spec.Token = srv.URL, testEmail, testToken
	c, err := newClient("jira", spec, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.bulkChangelogs(context.Background(), pipeline{}, []string{"10", "11"}, []string{"status"})
	if err != nil {
		t.Fatal(err)
	}
	ids := func(hs []rawHistory) []string {
		var out []string
		for _, h := range hs {
			out = append(out, h.ID)
		}
		return out
	}
	if !slices.Equal(ids(got["10"]), []string{"1", "2"}) || !slices.Equal(ids(got["11"]), []string{"3"}) || served != 2 {
		t.Errorf("histories = 10: %v, 11: %v after %d pages; want 10: [1 2], 11: [3] after 2", ids(got["10"]), ids(got["11"]), served)
	}
}
