package jira

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/okrd/okrd/collectors"
	jm "github.com/okrd/okrd/metrics/jira"
)

var _ collectors.SeriesHistorian = (*Source)(nil)

// CollectAt sends the delivery series as they stood at t, for okrd
// backfill: the model answers as of any instant (metrics/jira), so this is
// the exporter's computation at t, into an exporter of its own so that the
// live series stay as the last poll left them. It needs no poll and no
// API call: the records are loaded from the store when this process has
// not polled yet.
func (s *Source) CollectAt(ctx context.Context, t time.Time, ch chan<- prometheus.Metric) error {
	if err := s.load(ctx); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	e := jm.NewExporter(s.name)
	e.Update(s.model, t, s.exportOptions())
	e.Collect(ch)
	return ctx.Err()
}
