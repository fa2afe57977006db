package github

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/okrd/okrd/collectors"
	mg "github.com/okrd/okrd/metrics/github"
)

var _ collectors.SeriesHistorian = (*Source)(nil)

// CollectAt sends the delivery series as they stood at t, for okrd
// backfill: the index of the stored records answers as of any instant
// (metrics/github), so this is Collect over a view built at t. It needs no
// poll and no API call: a source that has not polled in this process
// loads its records from the store and takes its repositories from the
// configuration and the stored repository listings.
func (s *Source) CollectAt(ctx context.Context, t time.Time, ch chan<- prometheus.Metric) error {
	s.pollMu.Lock()
	if !s.loaded {
		if err := s.load(ctx); err != nil {
			s.pollMu.Unlock()
			return err
		}
	}
	if len(s.repos) == 0 {
		s.repos = s.storedRepos()
	}
	if s.spec.IncidentsSource != "" && s.external == nil {
		if err := s.loadExternalIncidents(ctx); err != nil {
			s.pollMu.Unlock()
			return err
		}
	}
	if s.backfillIx == nil {
		s.backfillIx = mg.NewIndex(s.data())
	}
	ix := s.backfillIx
	s.pollMu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	s.collectView(&view{ix: ix, at: t, summaries: ix.Summarize(t, exportWindows), invest: investFigures(ix, t)}, ch)
	return ctx.Err()
}
