// Package demo runs okrd against a built-in sandbox, for `okrd demo`: it
// generates a quarter of a product team's work relative to now (Jira issues
// with changelogs and sprints, GitHub pull requests, deployments and
// incidents, an analytics table, a quarter of manual check-ins), serves it
// from the fake Jira and GitHub of sandbox/jirafake and sandbox/githubfake
// and a fake Plausible API on 127.0.0.1, writes a configuration that binds
// every kind of key result to them, and runs okrd on it exactly as
// `okrd run` does. No credentials, no network.
package demo

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/okrd/okrd/app"
	// Every source type the demo configuration uses.
	_ "github.com/okrd/okrd/collectors/all"
	"github.com/okrd/okrd/okr"
	"github.com/okrd/okrd/sandbox/githubfake"
	"github.com/okrd/okrd/sandbox/jirafake"
)

// DefaultListenAddress is okrd's address in the demo, as for `okrd run`.
const DefaultListenAddress = ":9184"

// DefaultInterval is how often the demo's sources poll: often, so that the
// page looks alive.
const DefaultInterval = 30 * time.Second

// Options configure a demo.
type Options struct {
	// Dir receives the configuration, its secrets, okrd's store and the
	// analytics database; files of an earlier demo there are replaced.
	// Empty: a new temporary directory, removed by Close unless Keep.
	Dir string
	// Keep keeps the temporary directory at Close.
	Keep bool
	// ListenAddress is okrd's HTTP address (default DefaultListenAddress;
	// "127.0.0.1:0" picks a free port).
	ListenAddress string
	// Now is the clock of okrd and of the fakes (default time.Now). The
	// data is generated relative to its reading at Start.
	Now func() time.Time
	// Logger receives okrd's log lines; nil discards them.
	Logger *slog.Logger
	// Version is okrd's version, reported in okrd_build_info.
	Version string
	// Interval is the poll interval of every source (default 30s).
	Interval time.Duration
}

// Sandbox is a running demo.
type Sandbox struct {
	// Dir is the demo's directory and ConfigFile its configuration.
	Dir, ConfigFile string
	// Addr is okrd's address as a client reaches it, like
	// "localhost:9184" (a Prometheus scrape target), and URL its base URL,
	// like "http://localhost:9184".
	Addr, URL string
	// APIToken is the bearer token of okrd's write API.
	APIToken string
	// JiraURL, GitHubURL and AnalyticsURL are the fakes' base URLs.
	JiraURL, GitHubURL, AnalyticsURL string
	// Period is the quarter the demo's objectives cover.
	Period okr.Period
	// App is the running okrd.
	App *app.App

	// Jira and GitHub are the fakes, for tests that look inside.
	Jira   *jirafake.Server
	GitHub *githubfake.Server

	removeDir bool
	cancel    context.CancelFunc
	done      chan struct{}
	runErr    error
	servers   []*http.Server
	closeOnce sync.Once
	closeErr  error
}

// Start generates the data, starts the fakes, writes the configuration and
// the analytics database, seeds the check-ins and starts okrd. It returns
// once okrd listens; okrd runs until ctx is cancelled or Close is called.
func Start(ctx context.Context, opts Options) (_ *Sandbox, err error) {
	if opts.ListenAddress == "" {
		opts.ListenAddress = DefaultListenAddress
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	clock := opts.Now
	if clock == nil {
		clock = time.Now
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	p, err := newPlan(clock())
	if err != nil {
		return nil, err
	}
	// The configuration names okrd's own address as its external URL, so
	// it needs the port before okrd listens.
	if opts.ListenAddress, err = choosePort(opts.ListenAddress); err != nil {
		return nil, err
	}
	s := &Sandbox{Dir: opts.Dir, Period: p.period, done: make(chan struct{})}
	defer func() {
		if err != nil {
			s.cleanup()
		}
	}()
	if s.Dir == "" {
		if s.Dir, err = os.MkdirTemp("", "okrd-demo-"); err != nil {
			return nil, fmt.Errorf("creating the demo directory: %w", err)
		}
		s.removeDir = !opts.Keep
	} else if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating the demo directory: %w", err)
	}
	if s.Dir, err = filepath.Abs(s.Dir); err != nil {
		return nil, err
	}
	// A fresh start: the data is relative to now, so an earlier demo's
	// store and analytics would not fit it.
	for _, name := range []string{storeName, storeName + "-wal", storeName + "-shm", analyticsName, analyticsName + "-journal"} {
		if err := os.Remove(filepath.Join(s.Dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("removing the previous demo's %s: %w", name, err)
		}
	}

	// Credentials of the fakes and of okrd's API: made up for this run.
	secrets := map[string]string{apiTokenFile: rand.Text(), jiraTokenFile: rand.Text(), githubTokenFile: "ghp_" + rand.Text(),
		plausibleKeyFile: rand.Text()}
	if err := os.MkdirAll(filepath.Join(s.Dir, secretsDir), 0o700); err != nil {
		return nil, err
	}
	for name, v := range secrets {
		if err := os.WriteFile(filepath.Join(s.Dir, name), []byte(v+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("writing %s: %w", name, err)
		}
	}
	s.APIToken = secrets[apiTokenFile]

	// The fakes, with their data.
	s.Jira = jirafake.New(jirafake.Cloud)
	s.Jira.Email, s.Jira.Token, s.Jira.Now = jiraEmail, secrets[jiraTokenFile], clock
	jd := generateJira(s.Jira, p)
	s.GitHub = githubfake.New(secrets[githubTokenFile])
	s.GitHub.Enterprise, s.GitHub.Now = true, clock
	var gd githubData
	s.GitHub.Update(func(d *githubfake.Data) { gd = generateGitHub(d, p) })
	if s.JiraURL, err = s.serve(s.Jira); err != nil {
		return nil, err
	}
	if s.GitHubURL, err = s.serve(s.GitHub); err != nil {
		return nil, err
	}
	if s.AnalyticsURL, err = s.serve(&plausible{key: secrets[plausibleKeyFile], now: clock}); err != nil {
		return nil, err
	}
	analytics := filepath.Join(s.Dir, analyticsName)
	if err := writeAnalytics(ctx, analytics, p); err != nil {
		return nil, err
	}
	logger.Info("demo data generated", "period", p.period.Name, "jira_issues", jd.issues, "open_bugs", jd.openBugs,
		"pull_requests", gd.pullRequests, "merged", gd.merged, "deployments", gd.deployments,
		"failed_deployments", gd.failedDeployments, "incidents", gd.incidents)

	// The configuration.
	cfg, err := renderConfig(configData{
		Written: p.now.Format(time.RFC3339), Period: p.period.Name, ListenAddress: opts.ListenAddress,
		ExternalURL: "http://" + browsable(opts.ListenAddress) + "/",
		StoreDSN:    filepath.Join(s.Dir, storeName), JiraURL: s.JiraURL, GitHubURL: s.GitHubURL + "/api/v3/",
		AnalyticsDSN: analytics, PlausibleURL: s.AnalyticsURL, Interval: opts.Interval.String(), EpicKey: jd.epicKey,
	})
	if err != nil {
		return nil, err
	}
	s.ConfigFile = filepath.Join(s.Dir, configName)
	if err := os.WriteFile(s.ConfigFile, cfg, 0o644); err != nil {
		return nil, fmt.Errorf("writing the demo configuration: %w", err)
	}

	// okrd, exactly as `okrd run` builds it, with a quarter of check-ins
	// in its store before it starts.
	a, err := app.New(ctx, app.Options{ConfigFile: s.ConfigFile, ListenAddresses: []string{opts.ListenAddress},
		Logger: logger, Now: opts.Now, Version: opts.Version, NoStartJitter: true})
	if err != nil {
		return nil, err
	}
	started := false
	defer func() {
		if !started {
			a.Store().Close()
		}
	}()
	if err := seedCheckins(ctx, a.Config(), a.Store(), p); err != nil {
		return nil, err
	}
	if err := a.Listen(); err != nil {
		return nil, err
	}
	s.App = a
	s.Addr = browsable(a.Addr())
	s.URL = "http://" + s.Addr
	runCtx, cancel := context.WithCancel(ctx)
	s.cancel = cancel
	started = true
	go func() {
		defer close(s.done)
		s.runErr = a.Run(runCtx)
		if errors.Is(s.runErr, context.Canceled) {
			// Stopped while it was still starting: a stop, not a failure.
			s.runErr = nil
		}
	}()
	return s, nil
}

// serve starts a fake on a free port of 127.0.0.1 and returns its URL.
func (s *Sandbox) serve(h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("starting a fake server: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.servers = append(s.servers, srv)
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), nil
}

// choosePort replaces port 0 of a listen address by a port that is free
// now. Something else may take the port before okrd listens on it; okrd
// then fails to start with "address already in use", as it would on a
// taken fixed port.
func choosePort(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port != "0" {
		return addr, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("finding a free port for okrd: %w", err)
	}
	defer ln.Close()
	_, port, _ = net.SplitHostPort(ln.Addr().String())
	return net.JoinHostPort(host, port), nil
}

// browsable turns a listener address into one a browser can open: an
// unspecified host (":9184", "[::]:9184") becomes localhost.
func browsable(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// Wait blocks until okrd has stopped (its context was cancelled, or Close
// was called) and returns what it stopped with.
func (s *Sandbox) Wait() error {
	<-s.done
	return s.runErr
}

// Close stops okrd (waiting for it to finish its writes) and the fakes,
// and removes the temporary directory unless it is to be kept. It returns
// okrd's error, if it stopped with one.
func (s *Sandbox) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		<-s.done
		s.closeErr = errors.Join(s.runErr, s.cleanup())
	})
	return s.closeErr
}

// cleanup stops the fakes and removes the temporary directory.
func (s *Sandbox) cleanup() error {
	for _, srv := range s.servers {
		_ = srv.Close()
	}
	if s.removeDir && s.Dir != "" {
		return os.RemoveAll(s.Dir)
	}
	return nil
}
