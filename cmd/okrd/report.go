package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/okrd/okrd/app"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/report"
)

// cmdReport prints the weekly stakeholder report from the stored history.
// It only reads; a daemon may run at the same time.
func cmdReport(args []string, stdout, stderr io.Writer) int {
	var c common
	var formatName, period, out, at string
	flags := newFlagSet("report", stderr, &c)
	flags.StringVar(&formatName, "format", "markdown", "output format: markdown or html")
	flags.StringVar(&period, "period", "", "only the objectives of this period, e.g. 2026-Q4 (a past period is reported as it ended)")
	flags.StringVar(&out, "out", "", "write the report to this file instead of standard output")
	flags.StringVar(&at, "at", "", "report as of this instant: RFC 3339 time or YYYY-MM-DD (default now)")
	pos, err := parseInterleaved(flags, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "okrd report: unexpected argument %q\n", pos[0])
		return exitUsage
	}
	if !slices.Contains(report.Formats, formatName) {
		fmt.Fprintf(stderr, "okrd report: --format %q is not one of %s\n", formatName, strings.Join(report.Formats, ", "))
		return exitUsage
	}
	cfg, err := config.Load(c.config)
	if err != nil {
		printError(stderr, "okrd report", err)
		return exitFailure
	}
	now := time.Now()
	if at != "" {
		if now, err = time.Parse(time.RFC3339, at); err != nil {
			// A date means the end of that day: the report covers it.
			d, derr := time.ParseInLocation(time.DateOnly, at, cfg.Global.Location)
			if derr != nil {
				fmt.Fprintf(stderr, "okrd report: --at %q is not an RFC 3339 time (2026-11-25T10:00:00Z) or a date (2026-11-25)\n", at)
				return exitUsage
			}
			now = d.AddDate(0, 0, 1).Add(-time.Second)
		}
	}
	logger, err := newLogger(&c, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "okrd report:", err)
		return exitUsage
	}
	if err := sqliteExists(cfg.Storage); err != nil {
		fmt.Fprintln(stderr, "okrd report:", err)
		return exitFailure
	}
	ctx, stop := signalContext()
	defer stop()
	st, err := app.OpenStore(ctx, cfg.Storage, logger)
	if err != nil {
		printError(stderr, "okrd report", err)
		return exitFailure
	}
	defer st.Close()
	rep, err := report.Build(ctx, report.Options{Config: cfg, Store: st, Now: now, Period: period})
	if err != nil {
		fmt.Fprintln(stderr, "okrd report:", err)
		return exitFailure
	}
	// Rendered in full before anything is written, so that a failure never
	// leaves half a report in --out.
	var buf bytes.Buffer
	if formatName == "html" {
		err = rep.HTML(&buf)
	} else {
		err = rep.Markdown(&buf)
	}
	if err != nil {
		fmt.Fprintln(stderr, "okrd report: rendering:", err)
		return exitFailure
	}
	if out == "" {
		_, err = stdout.Write(buf.Bytes())
	} else {
		err = os.WriteFile(out, buf.Bytes(), 0o644)
	}
	if err != nil {
		fmt.Fprintln(stderr, "okrd report: writing:", err)
		return exitFailure
	}
	return exitOK
}

// sqliteExists fails when the configured SQLite file does not exist:
// opening it would create an empty database and print a report of nothing.
func sqliteExists(s config.Storage) error {
	if s.Driver != "" && s.Driver != "sqlite" {
		return nil
	}
	path := s.DSN.Value()
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("the SQLite database %s does not exist: run okrd (okrd run or okrd sync) with this configuration first", path)
	}
	return nil
}
