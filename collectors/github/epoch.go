package github

import (
	"sort"
	"strings"
)

// HistoryEpoch tells okrd when the values it filled in from this source's
// records may all have changed (docs/history.md): the set of repositories
// whose first sync has finished changed, so instants that had no value for
// want of records may have one now. okrd then fills in every key result of
// the source again.
func (s *Source) HistoryEpoch() string {
	v := s.view.Load()
	if v == nil || v.cover == nil {
		return ""
	}
	var synced []string
	for r, ok := range v.cover.synced {
		if ok {
			synced = append(synced, r)
		}
	}
	sort.Strings(synced)
	if v.cover.all {
		synced = append(synced, "(all)")
	}
	return strings.Join(synced, ",")
}
