package jira

import (
	"fmt"
	"strings"
	"time"
)

// HistoryEpoch tells okrd when the values it filled in from this source's
// records may all have changed (docs/history.md): a full pass over the
// issues or the incidents completed (a re-sync, perhaps with a longer
// history) or the records now begin elsewhere. okrd then fills in every
// key result of the source again. It is read between polls.
func (s *Source) HistoryEpoch() string {
	s.pollMu.Lock()
	defer s.pollMu.Unlock()
	history := time.Duration(s.spec.History)
	var b strings.Builder
	for _, scope := range []string{cursorIssues, cursorIncidents} {
		c := s.cursors[scope]
		fmt.Fprintf(&b, "%s:%d:%d;", scope, c.LastFull.UnixNano(), c.covers(history).UnixNano())
	}
	return b.String()
}
