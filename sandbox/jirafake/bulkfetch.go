package jirafake

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Limits of Cloud's POST /rest/api/{2,3}/changelog/bulkfetch
// (API-FACTS.md §1).
const (
	BulkMaxIssues     = 1000
	BulkMaxFields     = 10
	BulkDefaultPage   = 1000
	BulkMaxPage       = 10000
	bulkPayloadReject = "Invalid request payload. Refer to the REST API documentation and try again."
)

// bulkEntry is one change history of one issue in the bulk order.
type bulkEntry struct {
	issue *Issue
	h     History
}

// bulkToken encodes the next offset with a hash of the request it pages,
// so that a token replayed with other issues or fields is refused.
func bulkToken(offset int, reqHash string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("bulk:" + strconv.Itoa(offset) + ":" + reqHash))
}

func parseBulkToken(tok, reqHash string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, false
	}
	rest, ok := strings.CutPrefix(string(b), "bulk:")
	if !ok {
		return 0, false
	}
	off, hash, ok := strings.Cut(rest, ":")
	if !ok || hash != reqHash {
		return 0, false
	}
	n, err := strconv.Atoi(off)
	return n, err == nil && n >= 0
}

// bulkChangelog is Cloud's POST /rest/api/{2,3}/changelog/bulkfetch: the
// change histories of up to 1000 issues (by id or key), optionally only
// their items of up to 10 fields, sorted by date and then by issue id
// (oldest first), paged by maxResults histories (default 1000, at most
// 10000, larger values are lowered) with a nextPageToken that is null on
// the last page. Each page groups its histories by issue, in the order
// of their first history. Issues that do not exist (or that the account
// may not see) are left out without an error, and so are histories with
// no item of the fields asked for; a history keeps only those items.
// More than 1000 issues, more than 10 fields, no issue at all or a token
// of another request is a 400.
func (s *Server) bulkChangelog(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "Method Not Allowed")
		return
	}
	var body struct {
		IssueIdsOrKeys []string `json:"issueIdsOrKeys"`
		FieldIds       []string `json:"fieldIds"`
		MaxResults     *int     `json:"maxResults"`
		NextPageToken  string   `json:"nextPageToken"`
	}
	raw, err := readBody(r)
	if err != nil || json.Unmarshal(raw, &body) != nil {
		writeError(w, http.StatusBadRequest, bulkPayloadReject)
		return
	}
	switch {
	case len(body.IssueIdsOrKeys) == 0:
		writeError(w, http.StatusBadRequest, "issueIdsOrKeys must not be empty.")
		return
	case len(body.IssueIdsOrKeys) > BulkMaxIssues:
		writeError(w, http.StatusBadRequest, "The number of issues must not exceed "+strconv.Itoa(BulkMaxIssues)+".")
		return
	case len(body.FieldIds) > BulkMaxFields:
		writeError(w, http.StatusBadRequest, "The number of field IDs must not exceed "+strconv.Itoa(BulkMaxFields)+".")
		return
	}
	n := BulkDefaultPage
	if body.MaxResults != nil {
		n = *body.MaxResults
	}
	if n < 1 {
		writeError(w, http.StatusBadRequest, "maxResults must be greater than 0.")
		return
	}
	n = min(n, BulkMaxPage)
	if s.BulkPageCap > 0 {
		n = min(n, s.BulkPageCap)
	}

	h := sha256.New()
	for _, id := range body.IssueIdsOrKeys {
		h.Write([]byte(id + "\x00"))
	}
	h.Write([]byte{1})
	for _, f := range body.FieldIds {
		h.Write([]byte(f + "\x00"))
	}
	reqHash := hex.EncodeToString(h.Sum(nil)[:8])
	offset := 0
	if body.NextPageToken != "" {
		var ok bool
		if offset, ok = parseBulkToken(body.NextPageToken, reqHash); !ok {
			writeError(w, http.StatusBadRequest, "The provided next page token is invalid or expired.")
			return
		}
	}

	byID := make(map[string]*Issue, len(s.issues))
	for _, is := range s.issues {
		byID[is.ID] = is
	}
	seen := map[*Issue]bool{}
	var entries []bulkEntry
	for _, ref := range body.IssueIdsOrKeys {
		is, ok := byID[ref]
		if !ok {
			is, ok = s.issues[ref]
		}
		if !ok || seen[is] {
			continue
		}
		seen[is] = true
		for _, hist := range is.History {
			if len(body.FieldIds) > 0 {
				hist.Items = slices.DeleteFunc(slices.Clone(hist.Items), func(it Item) bool {
					return !slices.Contains(body.FieldIds, it.FieldID)
				})
				if len(hist.Items) == 0 {
					continue
				}
			}
			entries = append(entries, bulkEntry{is, hist})
		}
	}
	slices.SortStableFunc(entries, func(a, b bulkEntry) int {
		if c := a.h.At.Compare(b.h.At); c != 0 {
			return c
		}
		if c := compareNumeric(a.issue.ID, b.issue.ID); c != 0 {
			return c
		}
		return compareNumeric(a.h.ID, b.h.ID)
	})

	end := min(len(entries), offset+n)
	var page []bulkEntry
	if offset < len(entries) {
		page = entries[offset:end]
	}
	groups := []map[string]any{}
	at := map[*Issue]int{}
	for _, e := range page {
		i, ok := at[e.issue]
		if !ok {
			i = len(groups)
			at[e.issue] = i
			groups = append(groups, map[string]any{"issueId": e.issue.ID, "changeHistories": []any{}})
		}
		groups[i]["changeHistories"] = append(groups[i]["changeHistories"].([]any), s.historyJSON(e.h))
	}
	out := map[string]any{"issueChangeLogs": groups, "nextPageToken": nil}
	if end < len(entries) {
		out["nextPageToken"] = bulkToken(end, reqHash)
	}
	writeJSON(w, http.StatusOK, out)
}

// compareNumeric orders numeric ids by value (and anything else after
// them, by text).
func compareNumeric(a, b string) int {
	x, errA := strconv.Atoi(a)
	y, errB := strconv.Atoi(b)
	switch {
	case errA == nil && errB == nil:
		return cmp.Compare(x, y)
	case errA == nil:
		return -1
	case errB == nil:
		return 1
	}
	return strings.Compare(a, b)
}

// readBody reads a request body of at most 4 MiB.
func readBody(r *http.Request) ([]byte, error) {
	var buf bytes.Buffer
	_, err := buf.ReadFrom(http.MaxBytesReader(nil, r.Body, 4<<20))
	return buf.Bytes(), err
}

// sleep waits d, or until the request is given up.
func sleep(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}
