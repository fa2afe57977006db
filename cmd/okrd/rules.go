package main

import (
	"fmt"
	"io"
	"os"

	"github.com/okrd/okrd/alerting"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/rules"
)

// cmdRules writes the Prometheus recording and alerting rules that
// implement the [alerting] conditions over okrd's own series.
func cmdRules(args []string, stdout, stderr io.Writer) int {
	var c common
	var out string
	fs := newFlagSet("rules", stderr, &c)
	fs.StringVar(&out, "out", "", "write the rules to this file instead of standard output")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "okrd rules: unexpected argument %q\n", pos[0])
		return exitUsage
	}
	cfg, err := config.Load(c.config)
	if err != nil {
		printError(stderr, "okrd rules", err)
		return exitFailure
	}
	b, err := rules.Generate(alerting.PolicyOf(cfg)).Marshal(c.config)
	if err != nil {
		fmt.Fprintf(stderr, "okrd rules: %v\n", err)
		return exitFailure
	}
	if out == "" {
		_, err = stdout.Write(b)
	} else {
		err = os.WriteFile(out, b, 0o644)
	}
	if err != nil {
		fmt.Fprintf(stderr, "okrd rules: %v\n", err)
		return exitFailure
	}
	if out != "" {
		fmt.Fprintf(stdout, "wrote %s; check it with: promtool check rules %s\n", out, out)
	}
	return exitOK
}
