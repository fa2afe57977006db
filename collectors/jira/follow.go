package jira

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"time"

	jm "github.com/okrd/okrd/metrics/jira"
	"github.com/okrd/okrd/store"
)

// followBatch is how many record changes Follow reads at a time.
const followBatch = 2000

// followRefresh is how often Follow computes the exported series again
// when no record changed: their windows move with the clock.
const followRefresh = time.Minute

// Follow brings the source up to date with the records another okrd
// process, the leader of a shared database, stores (docs/ha.md), without
// asking Jira: the first call loads every record, as the first Poll would;
// later calls read only the records changed since (store.RecordChanges),
// and the cursors. It reports whether anything changed. The exported
// series are computed again when something did, and at least every
// followRefresh. A source that follows can start to Poll at any time: it
// continues from the cursors it read last.
func (s *Source) Follow(ctx context.Context) (bool, error) {
	s.pollMu.Lock()
	defer s.pollMu.Unlock()
	changed := false
	s.mu.RLock()
	loaded := s.loaded
	s.mu.RUnlock()
	if !loaded {
		// The change number is read first: a record written during
		// the load is then read again below, which changes nothing.
		seq, err := s.st.RecordSeq(ctx, s.name)
		if err != nil {
			return false, fmt.Errorf("jira source %q: %w", s.name, err)
		}
		if err := s.load(ctx); err != nil {
			return false, err
		}
		s.followed, changed = seq, true
	}
	for {
		cs, err := s.st.RecordChanges(ctx, s.name, s.followed, followBatch)
		if err != nil {
			return changed, fmt.Errorf("jira source %q: %w", s.name, err)
		}
		if len(cs) == 0 {
			break
		}
		s.applyChanges(cs)
		s.followed, changed = cs[len(cs)-1].Seq, true
		if len(cs) < followBatch {
			break
		}
	}
	curs, err := s.st.Cursors(ctx, s.name)
	if err != nil {
		return changed, fmt.Errorf("jira source %q: reading cursors: %w", s.name, err)
	}
	next := make(map[string]cursorState, len(curs))
	for _, c := range curs {
		var cs cursorState
		if err := json.Unmarshal([]byte(c.Value), &cs); err == nil {
			next[c.Scope] = cs
		}
	}
	if !maps.EqualFunc(next, s.cursors, func(a, b cursorState) bool { return string(followedCursorJSON(a)) == string(followedCursorJSON(b)) }) {
		s.cursors, changed = next, true
	}
	now := s.now()
	s.mu.Lock()
	s.covered = s.cursors[cursorIssues].covers(time.Duration(s.spec.History))
	s.skipped = s.cursors[cursorIssues].Skipped
	s.mu.Unlock()
	if changed || now.Sub(s.followExported) >= followRefresh {
		s.mu.RLock()
		s.exp.Update(s.model, now, s.exportOptions())
		s.mu.RUnlock()
		s.followExported = now
	}
	return changed, nil
}

// applyChanges puts changed records into the model. A deleted board
// leaves it (boards are the only records the source deletes); a record
// that does not decode is skipped, as load skips it.
func (s *Source) applyChanges(cs []store.RecordChange) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range cs {
		if c.Deleted {
			if c.Kind != KindBoard {
				continue
			}
			id, err := strconv.Atoi(c.ID)
			if err != nil {
				continue
			}
			var keep []*jm.Board
			for _, b := range s.model.Boards() {
				if b.ID != id {
					keep = append(keep, b)
				}
			}
			s.model.SetBoards(keep)
			continue
		}
		switch c.Kind {
		case KindIssue:
			var is jm.Issue
			if decodeIssue(c.Data, &is) == nil {
				s.model.PutIssue(&is)
			}
		case KindBoard:
			var b jm.Board
			if json.Unmarshal(c.Data, &b) == nil {
				s.model.PutBoard(&b)
			}
		case KindSprint:
			var sp jm.Sprint
			if json.Unmarshal(c.Data, &sp) == nil {
				s.model.PutSprint(&sp)
			}
		}
	}
}

func followedCursorJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
