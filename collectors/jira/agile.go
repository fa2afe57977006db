package jira

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/okrd/okrd/store"

	jm "github.com/okrd/okrd/metrics/jira"
)

// projectFilterRE matches a board filter that selects whole projects:
// `project = PAY`, `project in (PAY, WEB)`, with an optional ORDER BY.
var projectFilterRE = regexp.MustCompile(`(?i)^\s*project\s*(?:=\s*("[^"]*"|'[^']*'|[A-Za-z0-9_]+)|in\s*\(([^)]*)\))\s*(?:order\s+by\s+.*)?$`)

// projectFilter returns the projects of a plain project filter whose
// values are all known project keys; ok is false for any other filter
// (membership is then searched by filter).
func projectFilter(jql string, known map[string]bool) ([]string, bool) {
	m := projectFilterRE.FindStringSubmatch(strings.TrimSpace(jql))
	if m == nil {
		return nil, false
	}
	vals := []string{m[1]}
	if m[1] == "" {
		vals = strings.Split(m[2], ",")
	}
	var out []string
	for _, v := range vals {
		v = strings.Trim(strings.TrimSpace(v), `"'`)
		k := strings.ToUpper(v)
		if !known[k] {
			return nil, false
		}
		out = append(out, k)
	}
	return out, len(out) > 0
}

// knownProjects are the project keys the source knows to be in its scope.
func (s *Source) knownProjects() map[string]bool {
	known := map[string]bool{}
	for _, p := range s.spec.Projects {
		known[strings.ToUpper(p)] = true
	}
	if len(known) == 0 {
		s.mu.RLock()
		for _, p := range s.model.Projects() {
			known[strings.ToUpper(p)] = true
		}
		s.mu.RUnlock()
	}
	return known
}

// listBoards lists the boards to track: the configured ones, or else
// those located in the projects, from one listing of every board the
// account may see (50 a page). Jira can only filter that list by one
// project at a time (projectKeyOrId), so one listing for all projects
// costs one request where ten projects cost ten. A server whose list
// does not say where each board is located (Jira Server 7) is asked per
// project instead, and each board it names for a project is taken.
func (s *Source) listBoards(ctx context.Context) ([]boardEntry, error) {
	if len(s.spec.Boards) > 0 {
		out := make([]boardEntry, 0, len(s.spec.Boards))
		for _, id := range s.spec.Boards {
			if !slices.ContainsFunc(out, func(e boardEntry) bool { return e.ID == id }) {
				out = append(out, boardEntry{ID: id})
			}
		}
		return out, nil
	}
	if len(s.spec.Projects) == 0 {
		return nil, nil
	}
	all, located, err := s.c.allBoards(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing the boards: %w", err)
	}
	projects := map[string]bool{}
	for _, p := range s.spec.Projects {
		projects[strings.ToUpper(p)] = true
	}
	var out []boardEntry
	if located {
		for _, e := range all {
			if projects[strings.ToUpper(e.Location.ProjectKey)] && !slices.ContainsFunc(out, func(o boardEntry) bool { return o.ID == e.ID }) {
				out = append(out, e)
			}
		}
		return out, nil
	}
	for _, p := range s.spec.Projects {
		boards, err := s.c.boardsOfProject(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("listing the boards of %s: %w", p, err)
		}
		for _, b := range boards {
			if !slices.ContainsFunc(out, func(o boardEntry) bool { return o.ID == b.ID }) {
				out = append(out, boardEntry{ID: b.ID, Name: b.Name, Type: b.Type})
			}
		}
	}
	return out, nil
}

// readBoard reads a board's configuration (its estimation field) and its
// filter. A story-point field of a name okrd does not know yet has the
// field list read (once per discovery, fr).
func (s *Source) readBoard(ctx context.Context, st *site, id int, fr *fieldReader) (*jm.Board, error) {
	var cfg boardConfig
	if err := s.c.get(ctx, fmt.Sprintf("rest/agile/1.0/board/%d/configuration", id), nil, &cfg); err != nil {
		return nil, fmt.Errorf("reading board %d: %w", id, err)
	}
	b := &jm.Board{ID: id, Name: cfg.Name, Type: cfg.Type}
	b.FilterID, _ = strconv.Atoi(cfg.Filter.ID)
	switch {
	case s.spec.StoryPointsField != "":
		b.PointsField = s.spec.StoryPointsField
	case cfg.Estimation != nil && cfg.Estimation.Type == "field" && cfg.Estimation.Field.FieldID != "":
		b.PointsField = cfg.Estimation.Field.FieldID
		name, err := fr.name(ctx, s, st, b.PointsField)
		if err != nil {
			return nil, err
		}
		if name == "" {
			name = cfg.Estimation.Field.DisplayName
		}
		st.pointsFields[b.PointsField] = name
	}
	if b.FilterID > 0 {
		var f filterJSON
		err := s.c.get(ctx, "rest/api/2/filter/"+strconv.Itoa(b.FilterID), nil, &f)
		switch {
		case err == nil:
			if projects, ok := projectFilter(f.JQL, s.knownProjects()); ok {
				b.Projects = projects
			} else {
				b.ByFilter = true
			}
		case cfg.Location.Key != "" && (isStatus(err, 400) || isStatus(err, 403) || isStatus(err, 404)):
			// A filter not shared with okrd's account: fall back to
			// the project the board is located in.
			s.log.Warn("cannot read a board's filter; taking the board's project as its scope", "board", id, "project", cfg.Location.Key, "err", err)
			b.Projects = []string{strings.ToUpper(cfg.Location.Key)}
		default:
			return nil, fmt.Errorf("reading the filter of board %d: %w", id, err)
		}
	}
	return b, nil
}

// syncBoardMembership keeps, for boards whose filter is not a plain
// project filter, which issues the filter selects: a key-only search by
// filter for the issues updated since the board's cursor. An issue updated
// since then that the search did not return has left the board.
func (s *Source) syncBoardMembership(ctx context.Context, st *site, forceFull bool) error {
	s.mu.RLock()
	boards := s.model.Boards()
	s.mu.RUnlock()
	for _, b := range boards {
		if !b.ByFilter || b.FilterID == 0 {
			continue
		}
		scope := jm.BoardScope(b.ID)
		cur := s.cursors[scope]
		now := s.now()
		full := forceFull || cur.Since.IsZero()
		from := cur.Since.Add(-time.Duration(s.spec.Overlap))
		if full {
			from = now.Add(-time.Duration(s.spec.History))
		}
		jql := fmt.Sprintf("filter = %d AND (updated >= %s", b.FilterID, jqlTime(from, st.loc))
		if full {
			jql += ` OR statusCategory != Done`
		}
		jql += ")"
		size := 1000
		if st.cloud {
			size = 5000
		}
		p := &pager{c: s.c, cloud: st.cloud, jql: jql, fields: []string{"key"}, pageSize: size}
		in := map[string]bool{}
		for !p.done {
			raws, err := p.next(ctx)
			if err != nil {
				return fmt.Errorf("syncing the issues of board %d: %w", b.ID, err)
			}
			for _, r := range raws {
				in[r.Key] = true
			}
		}
		var changed []*jm.Issue
		outside := 0
		s.mu.RLock()
		for key := range in {
			if !s.model.Has(key) {
				outside++
			}
		}
		// Membership is read without rebuilding every issue; only the
		// issues whose membership changes are rebuilt.
		var flip []string
		s.model.EachMembership(func(key string, updated time.Time, out bool, boards []int) {
			if out || (updated.Before(from) && !in[key]) {
				return
			}
			if in[key] != slices.Contains(boards, b.ID) {
				flip = append(flip, key)
			}
		})
		for _, key := range flip {
			is, ok := s.model.Issue(key)
			if !ok {
				continue
			}
			c := *is
			c.Boards = slices.DeleteFunc(slices.Clone(is.Boards), func(id int) bool { return id == b.ID })
			if in[key] {
				c.Boards = append(c.Boards, b.ID)
				sort.Ints(c.Boards)
			}
			changed = append(changed, &c)
		}
		s.mu.RUnlock()
		if outside > 0 {
			s.log.Debug("a board selects issues outside the source's scope; they are not counted", "board", b.ID, "issues", outside)
		}
		recs := make([]store.Record, 0, len(changed))
		for _, is := range changed {
			rec, err := issueRecord(s.name, is)
			if err != nil {
				return err
			}
			recs = append(recs, rec)
		}
		val, _ := json.Marshal(cursorState{Since: now})
		err := s.st.Update(ctx, func(tx store.Tx) error {
			if len(recs) > 0 {
				if err := tx.PutRecords(ctx, recs...); err != nil {
					return err
				}
			}
			return tx.SetCursor(ctx, s.name, scope, string(val))
		})
		if err != nil {
			return fmt.Errorf("jira source %q: storing board %d membership: %w", s.name, b.ID, err)
		}
		s.cursors[scope] = cursorState{Since: now}
		s.mu.Lock()
		for _, is := range changed {
			s.model.PutIssue(is)
		}
		s.mu.Unlock()
	}
	return nil
}

// syncSprints reads each scrum board's active and closed sprints. The
// latest closed ones are listed once (their issues at the close), when
// the board may hold issues that the source does not sync; those issues
// are fetched with their changelog so the sprint figures are complete.
func (s *Source) syncSprints(ctx context.Context, st *site) error {
	s.mu.RLock()
	boards := s.model.Boards()
	s.mu.RUnlock()
	tracked := map[int]bool{}
	for _, b := range boards {
		tracked[b.ID] = true
	}
	inScope := map[string]bool{}
	for _, p := range s.spec.Projects {
		inScope[strings.ToUpper(p)] = true
	}
	for _, b := range boards {
		if b.Type != "scrum" {
			continue
		}
		list, err := s.c.sprintsOfBoard(ctx, b.ID)
		if err != nil {
			return fmt.Errorf("listing the sprints of board %d: %w", b.ID, err)
		}
		// The board's sprints as they will be once this poll is stored.
		byID := map[int]*jm.Sprint{}
		var changed []*jm.Sprint
		s.mu.RLock()
		for _, gs := range list {
			if gs.OriginBoardID != 0 && gs.OriginBoardID != b.ID && tracked[gs.OriginBoardID] {
				continue // counted on its own board
			}
			sp := &jm.Sprint{ID: gs.ID, Board: b.ID, Name: gs.Name, State: gs.State,
				Start: utcPtr(gs.StartDate), End: utcPtr(gs.EndDate), Complete: utcPtr(gs.CompleteDate)}
			old, ok := s.model.Sprint(gs.ID)
			if ok {
				sp.Issues, sp.Listed = old.Issues, old.Listed
			}
			byID[sp.ID] = sp
			if !ok || !sameSprint(old, sp) {
				changed = append(changed, sp)
			}
		}
		s.mu.RUnlock()

		// A board that selects only synced projects, on a site whose
		// Sprint field okrd reads, needs no issue lists: every issue of
		// its sprints is synced already.
		needLists := b.ByFilter || st.sprintField == "" || len(b.Projects) == 0
		for _, p := range b.Projects {
			if !inScope[p] {
				needLists = true
			}
		}
		var outsideIssues []*jm.Issue
		if needLists {
			var closed []*jm.Sprint
			for _, sp := range byID {
				if sp.State == "closed" && sp.Complete != nil && sp.Start != nil {
					closed = append(closed, sp)
				}
			}
			sort.Slice(closed, func(i, j int) bool { return closed[i].Complete.After(*closed[j].Complete) })
			if len(closed) > s.spec.Sprints {
				closed = closed[:s.spec.Sprints]
			}
			for _, sp := range closed {
				if sp.Listed {
					continue
				}
				keys, err := s.c.sprintIssueKeys(ctx, sp.ID)
				if err != nil {
					return fmt.Errorf("listing the issues of sprint %d: %w", sp.ID, err)
				}
				sp.Issues, sp.Listed = keys, true
				if !slices.Contains(changed, sp) {
					changed = append(changed, sp)
				}
				more, err := s.fetchOutside(ctx, st, keys, outsideIssues)
				if err != nil {
					return err
				}
				outsideIssues = more
			}
		}
		if len(changed) == 0 && len(outsideIssues) == 0 {
			continue
		}
		recs := make([]store.Record, 0, len(changed)+len(outsideIssues))
		for _, sp := range changed {
			data, err := json.Marshal(sp)
			if err != nil {
				return err
			}
			recs = append(recs, store.Record{Source: s.name, Scope: jm.BoardScope(b.ID), Kind: KindSprint, ID: strconv.Itoa(sp.ID), UpdatedAt: s.now(), Data: data})
		}
		for _, is := range outsideIssues {
			rec, err := issueRecord(s.name, is)
			if err != nil {
				return err
			}
			recs = append(recs, rec)
		}
		if err := s.st.Update(ctx, func(tx store.Tx) error { return tx.PutRecords(ctx, recs...) }); err != nil {
			return fmt.Errorf("jira source %q: storing the sprints of board %d: %w", s.name, b.ID, err)
		}
		s.mu.Lock()
		for _, sp := range changed {
			s.model.PutSprint(sp)
		}
		for _, is := range outsideIssues {
			if !s.model.Has(is.Key) {
				s.model.PutIssue(is)
			}
		}
		s.mu.Unlock()
	}
	return nil
}

// fetchOutside fetches, with their changelogs, the issues among keys that
// the model does not have (nor acc), marked as outside the scope.
func (s *Source) fetchOutside(ctx context.Context, st *site, keys []string, acc []*jm.Issue) ([]*jm.Issue, error) {
	have := map[string]bool{}
	for _, is := range acc {
		have[is.Key] = true
	}
	var missing []string
	s.mu.RLock()
	for _, k := range keys {
		if !s.model.Has(k) && !have[k] {
			missing = append(missing, k)
		}
	}
	s.mu.RUnlock()
	for len(missing) > 0 {
		n := min(len(missing), 50)
		chunk := missing[:n]
		missing = missing[n:]
		quoted := make([]string, len(chunk))
		for i, k := range chunk {
			quoted[i] = strconv.Quote(k)
		}
		p := &pager{c: s.c, cloud: st.cloud, jql: "key in (" + strings.Join(quoted, ", ") + ")", fields: st.searchFields(), expand: true, pageSize: s.spec.PageSize}
		for !p.done {
			raws, err := p.next(ctx)
			if isStatus(err, 400) {
				// A key that no longer exists (moved or deleted) fails the
				// whole query; the sprint is counted without these issues.
				s.log.Warn("cannot fetch a sprint's issues from outside the source's scope", "keys", len(chunk), "err", err)
				break
			}
			if err != nil {
				return nil, err
			}
			if err := s.completeChangelogs(ctx, st, raws); err != nil {
				return nil, err
			}
			norm, _, err := s.normalizeAll(st, raws)
			if err != nil {
				return nil, fmt.Errorf("jira source %q: malformed answer: %w", s.name, err)
			}
			for _, is := range norm {
				is.Outside = true
				acc = append(acc, is)
			}
		}
	}
	return acc, nil
}

// completeChangelogs reads the whole changelog of the issues whose
// inlined one is truncated: in one bulkfetch per 1000 on Cloud, one
// request (or more) each on Data Center.
func (s *Source) completeChangelogs(ctx context.Context, st *site, raws []rawIssue) error {
	var ids []string
	for i := range raws {
		if !truncated(&raws[i]) {
			continue
		}
		if st.cloud {
			ids = append(ids, raws[i].ID)
			continue
		}
		hs, err := s.c.fullChangelog(ctx, raws[i].Key)
		if err != nil {
			return err
		}
		raws[i].Changelog.Histories = hs
	}
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), bulkMaxIssues)]
		ids = ids[len(chunk):]
		hs, err := s.c.bulkChangelogs(ctx, s.pipe, chunk, st.changelogFields())
		if err != nil {
			return err
		}
		for i := range raws {
			if truncated(&raws[i]) && slices.Contains(chunk, raws[i].ID) {
				raws[i].Changelog.Histories = hs[raws[i].ID]
				raws[i].Changelog.Total = len(raws[i].Changelog.Histories)
			}
		}
	}
	return nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

func sameSprint(a, b *jm.Sprint) bool {
	return a.Board == b.Board && a.Name == b.Name && a.State == b.State &&
		sameTime(a.Start, b.Start) && sameTime(a.End, b.End) && sameTime(a.Complete, b.Complete)
}
