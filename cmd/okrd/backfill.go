package main

import (
	"fmt"
	"io"
	"time"

	"github.com/okrd/okrd/app"
	"github.com/okrd/okrd/checkins"
	"github.com/okrd/okrd/config"
)

// cmdBackfill writes the series okrd's /metrics would have shown at every
// instant of the history grid, as OpenMetrics for promtool tsdb
// create-blocks-from openmetrics (docs/history.md). It only reads the
// store; a daemon may run at the same time.
func cmdBackfill(args []string, stdout, stderr io.Writer) int {
	var c common
	var out, from, to string
	var labels stringList
	fs := newFlagSet("backfill", stderr, &c)
	fs.StringVar(&out, "out", "", "the OpenMetrics file to write (required)")
	fs.StringVar(&from, "from", "", "first instant: RFC 3339 time or YYYY-MM-DD, midnight in global.time_zone (default the earliest period start)")
	fs.StringVar(&to, "to", "", "end, excluded: RFC 3339 time or YYYY-MM-DD (default now); give the time Prometheus started scraping okrd")
	fs.Var(&labels, "label", "NAME=VALUE added to every series, repeatable: the job and instance labels Prometheus gives okrd's scraped series")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "okrd backfill: unexpected argument %q\n", pos[0])
		return exitUsage
	}
	if out == "" {
		fmt.Fprintln(stderr, "okrd backfill: --out FILE is required, e.g. okrd backfill --out okrd.om --to 2026-11-02T09:30:00Z")
		return exitUsage
	}
	var ls []app.BackfillLabel
	for _, s := range labels {
		l, err := app.ParseBackfillLabel(s)
		if err != nil {
			fmt.Fprintf(stderr, "okrd backfill: --label: %v\n", err)
			return exitUsage
		}
		ls = append(ls, l)
	}
	cfg, err := config.Load(c.config)
	if err != nil {
		printError(stderr, "okrd backfill", err)
		return exitFailure
	}
	var fromT, toT time.Time
	for _, f := range []struct {
		flag, value string
		t           *time.Time
	}{{"--from", from, &fromT}, {"--to", to, &toT}} {
		if f.value == "" {
			continue
		}
		if *f.t, err = checkins.ParseTime(f.value, cfg.Global.Location); err != nil {
			fmt.Fprintf(stderr, "okrd backfill: %s: %v\n", f.flag, err)
			return exitUsage
		}
	}
	logger, err := newLogger(&c, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "okrd backfill:", err)
		return exitUsage
	}
	if missing := missingScrapeLabels(ls); missing != "" {
		logger.Warn("without the labels Prometheus gives the series it scrapes from okrd, the backfilled series are other series than the scraped ones "+
			"(okrd's dashboards show both; queries that select by those labels miss the backfilled ones): pass --label job=JOB --label instance=HOST:PORT as in Prometheus's scrape configuration",
			"missing", missing)
	}
	if err := sqliteExists(cfg.Storage); err != nil {
		fmt.Fprintln(stderr, "okrd backfill:", err)
		return exitFailure
	}
	ctx, stop := signalContext()
	defer stop()
	a, err := app.New(ctx, app.Options{ConfigFile: c.config, Logger: logger})
	if err != nil {
		printError(stderr, "okrd backfill", err)
		return exitFailure
	}
	res, err := a.Backfill(ctx, app.BackfillOptions{Out: out, From: fromT, To: toT, Labels: ls})
	if err != nil {
		fmt.Fprintln(stderr, "okrd backfill:", err)
		return exitFailure
	}
	fmt.Fprintf(stdout, "wrote %d samples of %d series at %d instants from %s to %s into %s\n", res.Samples, res.Series, res.Instants,
		res.From.UTC().Format(time.RFC3339), res.To.UTC().Format(time.RFC3339), out)
	fmt.Fprintf(stdout, "next: promtool tsdb create-blocks-from openmetrics %s BLOCKS_DIR, then move the blocks into Prometheus's data directory (docs/history.md)\n", out)
	return exitOK
}

// missingScrapeLabels names the labels Prometheus adds to every scraped
// series that the backfill was not given.
func missingScrapeLabels(ls []app.BackfillLabel) string {
	have := map[string]bool{}
	for _, l := range ls {
		have[l.Name] = true
	}
	missing := ""
	for _, n := range []string{"job", "instance"} {
		if !have[n] {
			if missing != "" {
				missing += ","
			}
			missing += n
		}
	}
	return missing
}
