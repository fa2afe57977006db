package github

import (
	"context"
	"fmt"
	"maps"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/okrd/okrd/collectors"
)

// followBatch is how many record changes Follow reads at a time.
const followBatch = 2000

// followRefresh is how often Follow computes the exported series again
// when no record changed: their windows move with the clock.
const followRefresh = time.Minute

// Follow brings the source up to date with the records another okrd
// process, the leader of a shared database, stores (docs/ha.md), without
// asking GitHub: the first call loads every record, as the first Poll
// would; later calls read only the records changed since
// (store.RecordChanges), and the cursors. The repositories are those the
// configuration lists, and for owner patterns those of the owner's
// listing the leader stored. It reports whether anything changed. A source
// that follows can start to Poll at any time: it continues from the
// cursors it read last.
func (s *Source) Follow(ctx context.Context) (bool, error) {
	s.pollMu.Lock()
	defer s.pollMu.Unlock()
	changed := false
	if !s.loaded {
		// The change number is read first: a record written during the
		// load is then read again below, which changes nothing.
		seq, err := s.st.RecordSeq(ctx, s.name)
		if err != nil {
			return false, fmt.Errorf("github source %q: %w", s.name, err)
		}
		if err := s.load(ctx); err != nil {
			return false, err
		}
		s.followed, changed = seq, true
	} else {
		cs, err := s.st.Cursors(ctx, s.name)
		if err != nil {
			return false, fmt.Errorf("github source %q: read cursors: %w", s.name, err)
		}
		next := make(map[string]string, len(cs))
		for _, c := range cs {
			next[c.Scope] = c.Value
		}
		if !maps.Equal(next, s.cursors) {
			s.cursors, changed = next, true
		}
	}
	for {
		cs, err := s.st.RecordChanges(ctx, s.name, s.followed, followBatch)
		if err != nil {
			return changed, fmt.Errorf("github source %q: %w", s.name, err)
		}
		if len(cs) == 0 {
			break
		}
		for _, c := range cs {
			if c.Deleted {
				s.forget(c.Kind, c.ID)
			} else {
				s.apply(c.Record)
			}
		}
		s.followed, changed = cs[len(cs)-1].Seq, true
		if len(cs) < followBatch {
			break
		}
	}
	if s.spec.IncidentsSource != "" {
		if err := s.loadExternalIncidents(ctx); err != nil {
			return changed, err
		}
	}
	if repos := s.storedRepos(); !slices.Equal(repos, s.repos) {
		s.repos, s.dirty = repos, true
	}
	changed = changed || s.dirty
	if changed || s.now().Sub(s.followPublished) >= followRefresh {
		s.publish()
		s.followPublished = s.now()
	}
	return changed, nil
}

// forget removes a deleted record from the model.
func (s *Source) forget(kind, id string) {
	switch kind {
	case KindPullRequest:
		delete(s.prs, id)
	case KindDeployment, KindRelease, KindWorkflowRun:
		delete(s.deploys, kind+":"+id)
	case collectors.IncidentKind:
		delete(s.incidents, id)
	}
	s.dirty = true
	s.backfillIx = nil
}

// storedRepos is resolveRepos without asking GitHub: the listed
// repositories, and for each owner pattern the matching names of the
// owner's listing stored in its cursor (none before the leader listed
// them).
func (s *Source) storedRepos() []string {
	seen := map[string]bool{}
	var out []string
	add := func(r string) {
		if k := strings.ToLower(r); !seen[k] {
			seen[k] = true
			out = append(out, r)
		}
	}
	for _, rs := range s.spec.repos {
		if !rs.pattern {
			add(rs.String())
			continue
		}
		var cur listingCursor
		if !s.peek("owner:"+strings.ToLower(rs.owner), &cur) {
			continue
		}
		for _, p := range cur.Pages {
			for _, n := range p.Repos {
				if ok, _ := path.Match(strings.ToLower(rs.name), strings.ToLower(n)); ok {
					add(rs.owner + "/" + n)
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i]) < strings.ToLower(out[j]) })
	return out
}
