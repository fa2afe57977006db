package main

import (
	"fmt"
	"io"
	"os"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"

	"github.com/okrd/okrd/app"
)

// cmdSync polls every source once and exits: a progress bar on a terminal,
// plain log lines otherwise (CI, cron, pipes).
func cmdSync(args []string, stdout, stderr io.Writer) int {
	var c common
	fs := newFlagSet("sync", stderr, &c)
	var resync bool
	fs.BoolVar(&resync, "resync", false, "read the whole history again (sources that support it: jira); what is stored stays served meanwhile")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "okrd sync: unexpected argument %q\n", pos[0])
		return exitUsage
	}
	logger, err := newLogger(&c, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "okrd sync:", err)
		return exitUsage
	}
	ctx, stop := signalContext()
	defer stop()
	a, err := app.New(ctx, app.Options{ConfigFile: c.config, Logger: logger})
	if err != nil {
		printError(stderr, "okrd sync", err)
		return exitFailure
	}
	names := a.SourceNames()
	var bar *progressbar.ProgressBar
	if f, ok := stderr.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
		bar = progressbar.NewOptions(len(names),
			progressbar.OptionSetWriter(stderr),
			progressbar.OptionSetDescription("syncing sources"),
			progressbar.OptionShowCount(),
			progressbar.OptionClearOnFinish())
	}
	syncFn := a.SyncOnce
	if resync {
		syncFn = a.ResyncOnce
	}
	err = syncFn(ctx, func(source string, err error) {
		if bar != nil {
			bar.Describe("synced " + source)
			_ = bar.Add(1)
			return
		}
		if err != nil {
			logger.Error("source sync failed", "source", source, "err", err)
		} else {
			logger.Info("source synced", "source", source)
		}
	})
	if bar != nil {
		_ = bar.Finish()
	}
	if err != nil {
		fmt.Fprintln(stderr, "okrd sync: some sources failed:")
		fmt.Fprintln(stderr, err)
		return exitFailure
	}
	fmt.Fprintf(stdout, "synced %d source(s)\n", len(names))
	return exitOK
}
