package jira

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/okrd/okrd/collectors"
	jm "github.com/okrd/okrd/metrics/jira"
	"github.com/okrd/okrd/store"
)

// cursorState is the JSON value of a cursor.
type cursorState struct {
	// Fingerprint identifies the scope (JQL and fields) the cursor is
	// for; a change starts a full pass.
	Fingerprint string `json:"fingerprint,omitempty"`
	// Since is when the last complete pass started: the next pass asks
	// for issues updated since then, minus the overlap.
	Since time.Time `json:"since,omitzero"`
	// LastFull is when the last complete full pass started.
	LastFull time.Time `json:"last_full,omitzero"`
	// Covers is where the stored records begin: the lower bound
	// (start minus history) of the earliest complete full pass over this
	// scope. Cursors written before okrd kept it have none; coverage
	// then reads LastFull minus history.
	Covers time.Time `json:"covers,omitzero"`
	// Pass is the pass in progress, if a poll stopped in the middle.
	Pass *passState `json:"pass,omitempty"`
	// Skipped is, for the issues scope, how many issues of the scope the
	// last complete full pass did not read: last updated before its
	// lower bound and not done (a data-quality check). Nil when
	// unknown: no full pass counted them yet, or counting failed.
	Skipped *int `json:"skipped,omitempty"`
}

// skippedJQL selects the issues of a scope that a full pass does not
// read: exactly those its JQL leaves out.
func skippedJQL(base string, p *passState, loc *time.Location) string {
	return "(" + base + ") AND NOT (updated >= " + jqlTime(p.From, loc) + ` OR statusCategory != Done)`
}

// countSkipped counts, at the end of a full pass over the issues, the
// issues it left out for their age. It costs one request; a failure only
// leaves the count unknown, since the pass itself succeeded.
func (s *Source) countSkipped(ctx context.Context, st *site, base string, p *passState) *int {
	n, err := s.c.approximateCount(ctx, st.cloud, skippedJQL(base, p, st.loc))
	if err != nil {
		s.log.Warn("cannot count the issues older than history; the data-quality check of them stays unknown until the next full sync", "err", err)
		return nil
	}
	return &n
}

// passState is one pass over a scope, committed page by page.
type passState struct {
	Full        bool      `json:"full,omitempty"`
	From        time.Time `json:"from"`    // updated lower bound
	Started     time.Time `json:"started"` // becomes Since when complete
	Fingerprint string    `json:"fingerprint,omitempty"`
	// After is the created time of the last issue committed: issues are
	// read in created order, so a pass resumes from there.
	After time.Time `json:"after,omitzero"`
}

// jqlTime formats a time as a JQL date literal in the user's time zone
// (minute precision, so the literal is at or before t).
func jqlTime(t time.Time, loc *time.Location) string {
	return strconv.Quote(t.In(loc).Format("2006-01-02 15:04"))
}

// passJQL is the JQL of one pass. A full pass also takes every issue not
// done, however old its last update, so that work in progress and the
// open issues (open_issues) are complete at every instant of the history. Issues come in created order so that a pass can resume.
func passJQL(base string, p *passState, loc *time.Location) string {
	var b strings.Builder
	b.WriteString("(" + base + ") AND (updated >= " + jqlTime(p.From, loc))
	if p.Full {
		b.WriteString(` OR statusCategory != Done`)
	}
	b.WriteString(")")
	if !p.After.IsZero() {
		b.WriteString(" AND created >= " + jqlTime(p.After, loc))
	}
	b.WriteString(" ORDER BY created ASC, key ASC")
	return b.String()
}

func fingerprint(base string, fields []string) string {
	return base + "|" + strings.Join(fields, ",")
}

// syncScope runs (or resumes) one pass over a scope. Each page is written
// with the cursor in one transaction: the records are upserts by key, so
// a page replayed after a crash changes nothing, and the cursor never
// claims more than what was written. The next page is fetched while one
// is decoded and stored (see pages). On Cloud the issues whose inlined
// changelog is truncated wait in a batch for one bulkfetch of up to 1000
// (see changelogBatch), holding the cursor back until they are stored; on
// Data Center each is read from /issue/{key}/changelog with its page.
func (s *Source) syncScope(ctx context.Context, st *site, scope, base string, fields []string, forceFull bool) error {
	fp := fingerprint(base, fields)
	cur := s.cursors[scope]
	now := s.now()
	pass := cur.Pass
	if pass != nil && (pass.Fingerprint != fp || (forceFull && !pass.Full)) {
		pass = nil
	}
	if pass == nil {
		full := forceFull || cur.Since.IsZero() || cur.Fingerprint != fp ||
			(s.spec.ResyncInterval > 0 && now.Sub(cur.LastFull) >= time.Duration(s.spec.ResyncInterval))
		pass = &passState{Full: full, Started: now, Fingerprint: fp, From: cur.Since.Add(-time.Duration(s.spec.Overlap))}
		if full {
			pass.From = now.Add(-time.Duration(s.spec.History))
		}
	}
	p := &pager{c: s.c, cloud: st.cloud, jql: passJQL(base, pass, st.loc), fields: fields, expand: true, pageSize: s.spec.PageSize}
	rd := readPages(ctx, s.pipe, func(ctx context.Context) (issuesPage, bool, error) {
		page, err := p.fetch(ctx)
		return page, page.last, err
	})
	defer rd.stop()

	var batch changelogBatch
	// committed is the created time of the last issue stored: the pass
	// resumes from there, or from the oldest issue still in the batch.
	committed := pass.After
	statusesRefreshed := false
	pages, issues, changelogs, bulk := 0, 0, 0, 0
	commit := func(ready []rawIssue, done bool) error {
		norm, unknown, err := s.normalizeAll(st, ready)
		if err == nil && unknown && !statusesRefreshed {
			// A status created since okrd read the list: read it again
			// once, to learn its category.
			statusesRefreshed = true
			if err := s.refreshStatuses(ctx, st); err != nil {
				return err
			}
			norm, _, err = s.normalizeAll(st, ready)
		}
		if err != nil {
			return fmt.Errorf("jira source %q: syncing %s: malformed answer: %w", s.name, scope, err)
		}
		for _, is := range norm {
			if is.Created.After(committed) {
				committed = is.Created
			}
		}
		next := *pass
		next.After = committed
		if held, ok := batch.holdsBack(); ok && held.Before(next.After) {
			next.After = held
		}
		newCur := cur
		newCur.Pass = &next
		if done {
			newCur = cursorState{Fingerprint: fp, Since: pass.Started, LastFull: cur.LastFull, Covers: cur.Covers, Skipped: cur.Skipped}
			if pass.Full {
				newCur.LastFull = pass.Started
				newCur.Covers = s.coversAfterFull(cur, fp, pass.From)
				if scope == cursorIssues {
					newCur.Skipped = s.countSkipped(ctx, st, base, pass)
				}
			}
		}
		recs, err := s.records(scope, norm)
		if err != nil {
			return err
		}
		val, _ := json.Marshal(newCur)
		err = s.st.Update(ctx, func(tx store.Tx) error {
			if len(recs) > 0 {
				if err := tx.PutRecords(ctx, recs...); err != nil {
					return err
				}
			}
			return tx.SetCursor(ctx, s.name, scope, string(val))
		})
		if err != nil {
			return fmt.Errorf("jira source %q: storing %s: %w", s.name, scope, err)
		}
		cur = newCur
		s.cursors[scope] = cur
		if scope == cursorIssues {
			s.mu.Lock()
			for _, is := range norm {
				s.model.PutIssue(is)
			}
			s.covered = cur.covers(time.Duration(s.spec.History))
			s.skipped = cur.Skipped
			s.mu.Unlock()
		}
		issues += len(norm)
		return nil
	}

	for {
		page, last, err := rd.next()
		if err != nil {
			s.salvage(ctx, st, &batch, err, commit)
			return fmt.Errorf("syncing %s: %w", scope, err)
		}
		pages++
		raws, err := p.decode(page)
		if err != nil {
			s.salvage(ctx, st, &batch, err, commit)
			return fmt.Errorf("syncing %s: %w", scope, err)
		}
		ready := make([]rawIssue, 0, len(raws))
		for i := range raws {
			if !truncated(&raws[i]) {
				ready = append(ready, raws[i])
				continue
			}
			if st.cloud {
				if err := batch.add(raws[i], s.now()); err != nil {
					return fmt.Errorf("jira source %q: syncing %s: malformed answer: %w", s.name, scope, err)
				}
				continue
			}
			// The inlined changelog is truncated (newest first): read the
			// whole history instead.
			hs, err := s.c.fullChangelog(ctx, raws[i].Key)
			if err != nil {
				return fmt.Errorf("syncing %s: changelog of %s: %w", scope, raws[i].Key, err)
			}
			raws[i].Changelog.Histories = hs
			ready = append(ready, raws[i])
			changelogs++
		}
		batch.read += len(raws)
		if n := batch.due(last, s.now(), s.timeout); n > 0 {
			done, requests, err := s.flush(ctx, st, &batch, n)
			bulk += requests
			if err != nil {
				return fmt.Errorf("syncing %s: %w", scope, err)
			}
			ready = append(ready, done...)
		}
		if err := commit(ready, last); err != nil {
			return err
		}
		if last {
			break
		}
	}
	s.log.Debug("scope synced", "scope", scope, "full", pass.Full, "pages", pages, "issues", issues,
		"changelog_requests", changelogs, "bulk_changelog_requests", bulk)
	return nil
}

// salvage stores, when a pass fails on a page, the issues waiting in its
// batch, so that the cursor moves past them rather than reading again
// what came after them. It does not try when the poll has ended or Jira
// refuses (rate limit, credentials): the cursor still holds them.
func (s *Source) salvage(ctx context.Context, st *site, b *changelogBatch, cause error, commit func([]rawIssue, bool) error) {
	var ra *collectors.RetryAfterError
	if len(b.issues) == 0 || ctx.Err() != nil || collectors.IsPermanent(cause) || errors.As(cause, &ra) {
		return
	}
	done, _, err := s.flush(ctx, st, b, len(b.issues))
	if err == nil {
		err = commit(done, false)
	}
	if err != nil {
		s.log.Debug("the issues waiting for their changelogs were not stored; the next pass reads them again", "issues", len(b.issues), "err", err)
	}
}

func (s *Source) normalizeAll(st *site, raws []rawIssue) ([]*jm.Issue, bool, error) {
	out := make([]*jm.Issue, 0, len(raws))
	anyUnknown := false
	for _, r := range raws {
		is, unknown, err := st.normalize(r)
		if err != nil {
			return nil, false, err
		}
		anyUnknown = anyUnknown || unknown
		out = append(out, is)
	}
	return out, anyUnknown, nil
}

// records turns normalized issues into the records of a scope: issues
// (keeping the board memberships okrd tracks separately) or incidents.
func (s *Source) records(scope string, issues []*jm.Issue) ([]store.Record, error) {
	recs := make([]store.Record, 0, len(issues))
	if scope == cursorIncidents {
		for _, is := range issues {
			inc := collectors.Incident{ID: is.Key, Scope: is.Project, OpenedAt: is.Created, Title: is.Summary}
			if done, ok := s.cats.DoneTime(is); ok {
				inc.ClosedAt = &done
			}
			if s.spec.URL != "" {
				inc.URL = strings.TrimRight(s.spec.URL, "/") + "/browse/" + is.Key
			}
			data, err := json.Marshal(inc)
			if err != nil {
				return nil, err
			}
			recs = append(recs, store.Record{Source: s.name, Scope: is.Project, Kind: collectors.IncidentKind, ID: is.Key, UpdatedAt: is.Updated, Data: data})
		}
		return recs, nil
	}
	s.mu.RLock()
	for _, is := range issues {
		if old, ok := s.model.Issue(is.Key); ok {
			is.Boards = old.Boards
		}
	}
	s.mu.RUnlock()
	for _, is := range issues {
		rec, err := issueRecord(s.name, is)
		if err != nil {
			return nil, err
		}
		recs = append(recs, rec)
	}
	return recs, nil
}

func issueRecord(source string, is *jm.Issue) (store.Record, error) {
	data, err := encodeIssue(is)
	if err != nil {
		return store.Record{}, err
	}
	return store.Record{Source: source, Scope: is.Project, Kind: KindIssue, ID: is.Key, UpdatedAt: is.Updated, Data: data}, nil
}
