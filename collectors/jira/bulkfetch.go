package jira

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	gojira "github.com/andygrunwald/go-jira"
)

// Jira Cloud's POST /rest/api/2/changelog/bulkfetch (API-FACTS.md §1)
// reads the changelogs of up to 1000 issues at once, only the histories of
// up to 10 fields if asked, oldest first, paged by up to 10,000 histories.
// Data Center has none: it reads each truncated changelog from
// /issue/{key}/changelog.
const (
	pathBulkChangelog = "rest/api/2/changelog/bulkfetch"
	bulkMaxIssues     = 1000
	bulkMaxFields     = 10
	bulkPageSize      = 10000
	// holdIssues bounds how far back a batch of truncated changelogs
	// waiting for their bulkfetch may hold a pass's cursor: after a crash
	// the pass reads at most that many issues again.
	holdIssues = 5000
)

type bulkChangelogRequest struct {
	IssueIdsOrKeys []string `json:"issueIdsOrKeys"`
	FieldIds       []string `json:"fieldIds,omitempty"`
	MaxResults     int      `json:"maxResults"`
	NextPageToken  string   `json:"nextPageToken,omitempty"`
}

type issueChangeLog struct {
	IssueID         string       `json:"issueId"`
	ChangeHistories []rawHistory `json:"changeHistories"`
}

// changelogFields are the fields whose histories okrd keeps (what
// normalize reads): the status, the Sprint field and the story-point
// fields, for the bulkfetch's fieldIds; nil (every field) when they are
// more than it takes.
func (st *site) changelogFields() []string {
	f := []string{"status"}
	if st.sprintField != "" {
		f = append(f, st.sprintField)
	}
	ids := make([]string, 0, len(st.pointsFields))
	for id := range st.pointsFields {
		if id != st.sprintField {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	f = append(f, ids...)
	if len(f) > bulkMaxFields {
		return nil
	}
	return f
}

// bulkChangelogs reads the changelogs of up to 1000 issues (by id), of the
// given fields only (nil: all), and returns each issue's histories oldest
// first. Issues Jira leaves out (none of their histories touches the
// fields; deleted since) have none. The pages are prefetched like the
// search's. A history sent twice is kept once.
func (c *client) bulkChangelogs(ctx context.Context, pl pipeline, ids, fields []string) (map[string][]rawHistory, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	if len(ids) > bulkMaxIssues {
		return nil, fmt.Errorf("jira source %q: %s: %d issues, more than the %d one request takes", c.source, pathBulkChangelog, len(ids), bulkMaxIssues)
	}
	req := bulkChangelogRequest{IssueIdsOrKeys: ids, FieldIds: fields, MaxResults: bulkPageSize}
	seen := map[string]bool{}
	pages := 0
	// Each page's changelogs stay undecoded until the next page is asked
	// for. The token is null on the last page.
	fetch := func(ctx context.Context) ([]byte, bool, error) {
		var body rawBody
		if err := c.post(ctx, pathBulkChangelog, req, &body); err != nil {
			return nil, false, err
		}
		pages++
		m, err := members(body.data)
		var token *string
		if err == nil && m["nextPageToken"] != nil {
			err = json.Unmarshal(m["nextPageToken"], &token)
		}
		if err != nil {
			return nil, false, fmt.Errorf("jira source %q: %s: malformed answer: %w", c.source, pathBulkChangelog, err)
		}
		logs := m["issueChangeLogs"]
		if token == nil || *token == "" {
			return logs, true, nil
		}
		next := *token
		if seen[next] {
			return nil, false, fmt.Errorf("jira source %q: %s: page %d carries a nextPageToken Jira already sent; stopped, which would loop", c.source, pathBulkChangelog, pages)
		}
		seen[next] = true
		req.NextPageToken = next
		return logs, false, nil
	}
	rd := readPages(ctx, pl, fetch)
	defer rd.stop()
	out := make(map[string][]rawHistory, len(ids))
	have := map[string]bool{}
	for {
		raw, last, err := rd.next()
		if err != nil {
			return nil, err
		}
		var logs []issueChangeLog
		if len(raw) > 0 && string(raw) != "null" {
			if err := json.Unmarshal(raw, &logs); err != nil {
				return nil, fmt.Errorf("jira source %q: %s: malformed answer: %w", c.source, pathBulkChangelog, err)
			}
		}
		for _, l := range logs {
			for _, h := range l.ChangeHistories {
				// Jira has been seen to send a history on two pages.
				if k := l.IssueID + "/" + h.ID; h.ID == "" || !have[k] {
					have[k] = true
					out[l.IssueID] = append(out[l.IssueID], h)
				}
			}
		}
		if last {
			break
		}
	}
	for _, hs := range out {
		slices.SortStableFunc(hs, func(a, b rawHistory) int {
			if c := time.Time(a.Created).Compare(time.Time(b.Created)); c != 0 {
				return c
			}
			return compareIDs(a.ID, b.ID)
		})
	}
	return out, nil
}

// compareIDs orders Jira's numeric ids by value.
func compareIDs(a, b string) int {
	x, errA := strconv.ParseInt(a, 10, 64)
	y, errB := strconv.ParseInt(b, 10, 64)
	if errA == nil && errB == nil {
		return cmp.Compare(x, y)
	}
	return cmp.Compare(a, b)
}

// truncated reports whether an issue's inlined changelog lacks histories.
func truncated(r *rawIssue) bool {
	cl := r.Changelog
	return cl != nil && cl.Total > len(cl.Histories)
}

// pendingIssue is an issue whose changelog waits for a bulkfetch.
type pendingIssue struct {
	raw     rawIssue
	created time.Time
	// read is how many issues the pass had read when this one came, and
	// since when it waits.
	read  int
	since time.Time
}

// changelogBatch gathers, during a pass over Cloud, the issues whose
// inlined changelog is truncated, so that one bulkfetch reads the
// changelogs of up to 1000 of them instead of one request each. They are
// stored only once complete: until then they hold the pass's cursor back
// to the oldest of them (issues come in created order), so that a crash
// loses none; the issues read after them are stored meanwhile and read
// again after a crash, which changes nothing (upserts by key).
type changelogBatch struct {
	issues []pendingIssue
	// read counts the issues the pass has read.
	read int
}

// add puts an issue into the batch.
func (b *changelogBatch) add(r rawIssue, now time.Time) error {
	var created gojira.Time
	if err := json.Unmarshal(r.Fields["created"], &created); err != nil || time.Time(created).IsZero() {
		return fmt.Errorf("issue %s: field created: missing or malformed: %v", r.Key, err)
	}
	b.issues = append(b.issues, pendingIssue{raw: r, created: time.Time(created).UTC(), read: b.read, since: now})
	return nil
}

// holdsBack returns the created time of the oldest issue waiting, which
// the cursor may not pass; ok is false when none waits.
func (b *changelogBatch) holdsBack() (time.Time, bool) {
	if len(b.issues) == 0 {
		return time.Time{}, false
	}
	oldest := b.issues[0].created
	for _, p := range b.issues[1:] {
		if p.created.Before(oldest) {
			oldest = p.created
		}
	}
	return oldest, true
}

// due is how many of the waiting issues to read now: all of them after
// the last page, when they hold the cursor back by holdIssues issues, or
// when the oldest has waited a quarter of the poll's timeout (so that a
// poll that reads slowly still moves its cursor before its deadline);
// else as many full requests of 1000 as there are.
func (b *changelogBatch) due(last bool, now time.Time, timeout time.Duration) int {
	n := len(b.issues)
	switch {
	case n == 0:
		return 0
	case last, b.read-b.issues[0].read >= holdIssues, now.Sub(b.issues[0].since) >= timeout/4:
		return n
	}
	return n / bulkMaxIssues * bulkMaxIssues
}

// flush reads the changelogs of the first n waiting issues, by bulkfetch
// requests of up to 1000, and returns those issues complete, and the
// requests made. When a request fails, every issue stays in the batch.
func (s *Source) flush(ctx context.Context, st *site, b *changelogBatch, n int) ([]rawIssue, int, error) {
	out := make([]rawIssue, 0, n)
	requests := 0
	for done := 0; done < n; {
		chunk := b.issues[done:min(n, done+bulkMaxIssues)]
		ids := make([]string, len(chunk))
		for i, p := range chunk {
			ids[i] = p.raw.ID
		}
		hs, err := s.c.bulkChangelogs(ctx, s.pipe, ids, st.changelogFields())
		if err != nil {
			return nil, requests, fmt.Errorf("changelogs of %d issues: %w", len(ids), err)
		}
		requests++
		for _, p := range chunk {
			r := p.raw
			r.Changelog.Histories = hs[r.ID]
			r.Changelog.Total = len(r.Changelog.Histories)
			out = append(out, r)
		}
		done += len(chunk)
	}
	b.issues = slices.Clone(b.issues[n:])
	return out, requests, nil
}
