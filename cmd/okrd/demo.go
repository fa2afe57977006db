package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/prometheus/common/version"

	"github.com/okrd/okrd/report/format"
	"github.com/okrd/okrd/sandbox/demo"
)

// cmdDemo runs okrd against the built-in sandbox until SIGINT or SIGTERM.
func cmdDemo(args []string, stdout, stderr io.Writer) int {
	var c common
	var listen, dir string
	var keep bool
	fs := flag.NewFlagSet("okrd demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&listen, "web.listen-address", demo.DefaultListenAddress, "address okrd listens on")
	fs.StringVar(&dir, "dir", "", "directory for the demo's configuration, secrets and databases (default a temporary directory)")
	fs.BoolVar(&keep, "keep", false, "keep the temporary directory at exit")
	fs.StringVar(&c.logLevel, "log.level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&c.logFormat, "log.format", "logfmt", "log format: logfmt or json")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "okrd demo: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	if _, port, err := net.SplitHostPort(listen); err != nil {
		fmt.Fprintf(stderr, "okrd demo: --web.listen-address %q is not host:port, like :9184 or 127.0.0.1:9184\n", listen)
		return exitUsage
	} else if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		fmt.Fprintf(stderr, "okrd demo: --web.listen-address %q: the port must be a number from 0 to 65535\n", listen)
		return exitUsage
	}
	logger, err := newLogger(&c, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "okrd demo:", err)
		return exitUsage
	}
	ctx, stop := signalContext()
	defer stop()

	s, err := demo.Start(ctx, demo.Options{Dir: dir, Keep: keep, ListenAddress: listen, Logger: logger, Version: version.Version})
	if err != nil {
		printError(stderr, "okrd demo", err)
		return exitFailure
	}
	printDemo(stdout, s, dir == "" && !keep)
	runErr := s.Wait()
	if err := s.Close(); err != nil && runErr == nil {
		runErr = err
	}
	if runErr != nil {
		logger.Error("okrd demo stopped", "err", runErr)
		return exitFailure
	}
	logger.Info("okrd demo stopped")
	return exitOK
}

// printDemo tells the user what to open.
func printDemo(w io.Writer, s *demo.Sandbox, removed bool) {
	var b strings.Builder
	row := func(name, value string) { fmt.Fprintf(&b, "  %-22s %s\n", name, value) }
	fmt.Fprintf(&b, "okrd demo: the checkout team's OKRs for %s, measured from a fake Jira, GitHub and analytics.\n\n", s.Period.Name)
	row("The OKR page", s.URL+"/")
	row("Prometheus metrics", s.URL+"/metrics")
	row("JSON API", s.URL+"/api/v1/objectives")
	row("Sources", s.URL+"/api/v1/sources")
	b.WriteString("\n")
	row("Fake Jira Cloud", s.JiraURL+"  (project CHK; basic auth, token in secrets/jira_token)")
	row("Fake GitHub", s.GitHubURL+"/api/v3/  (acme/checkout-web, acme/checkout-api; token in secrets/github_token)")
	row("Fake Plausible API", s.AnalyticsURL+"/api/v2/query  (POST; key in secrets/plausible_api_key)")
	row("Analytics database", filepath.Join(s.Dir, "analytics.db"))
	row("Configuration", s.ConfigFile)
	row("API token", s.APIToken)
	fmt.Fprintf(&b, "\nRecord a check-in through the API:\n\n"+
		"  curl -X POST -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' \\\n"+
		"    -d '{\"value\": 41, \"note\": \"from the demo\"}' %s/api/v1/objectives/happy-shoppers/key_results/nps/checkins\n\n",
		s.APIToken, s.URL)
	fmt.Fprintf(&b, "The sources poll every %s. Press Ctrl-C to stop", format.Span(demo.DefaultInterval))
	if removed {
		fmt.Fprintf(&b, "; %s is removed then (--keep keeps it)", s.Dir)
	} else {
		fmt.Fprintf(&b, "; the files stay in %s", s.Dir)
	}
	b.WriteString(".\n")
	_, _ = io.WriteString(w, b.String())
}
