package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/dashboards"
)

// cmdDashboards writes the Grafana dashboards generated from the
// configuration, one JSON file each, into the --out directory.
func cmdDashboards(args []string, stdout, stderr io.Writer) int {
	var c common
	var out string
	fs := newFlagSet("dashboards", stderr, &c)
	fs.StringVar(&out, "out", "", "directory to write the dashboard JSON files into, created if missing (required)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "okrd dashboards: unexpected argument %q\n", pos[0])
		return exitUsage
	}
	if out == "" {
		fmt.Fprintln(stderr, "okrd dashboards: --out DIR is required, e.g. okrd dashboards --config okrd.toml --out /var/lib/grafana/dashboards/okrd")
		return exitUsage
	}
	cfg, err := config.Load(c.config)
	if err != nil {
		printError(stderr, "okrd dashboards", err)
		return exitFailure
	}
	ds, err := dashboards.Generate(cfg)
	if err != nil {
		printError(stderr, "okrd dashboards", err)
		return exitFailure
	}
	if err := dashboards.Write(out, ds); err != nil {
		printError(stderr, "okrd dashboards", err)
		return exitFailure
	}
	for _, d := range ds {
		fmt.Fprintf(stdout, "wrote %s: %q (uid %s)\n", filepath.Join(out, d.File), d.Title, d.UID)
	}
	return exitOK
}
