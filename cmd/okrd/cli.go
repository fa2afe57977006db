package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/common/version"

	"github.com/okrd/okrd/app"
	"github.com/okrd/okrd/checkins"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/report/format"
	"github.com/okrd/okrd/store"
)

const usage = `okrd turns objectives and key results into live, measured numbers.

Usage:
  okrd run      [--config FILE] [--web.listen-address ADDR]... [--web.config.file FILE] [--web.enable-lifecycle]
  okrd check    [--config FILE]
  okrd sync     [--config FILE] [--resync]
  okrd checkin  [--config FILE] OBJECTIVE/KEY_RESULT VALUE [--note TEXT] [--at TIME] [--author NAME] [--confidence 1-10|low|medium|high]
  okrd confidence [--config FILE] OBJECTIVE/KEY_RESULT 1-10|low|medium|high [--note TEXT] [--at TIME] [--author NAME]
  okrd report   [--config FILE] [--format markdown|html] [--period PERIOD] [--at TIME] [--out FILE]
  okrd explain  [--config FILE | --url URL] OBJECTIVE/KEY_RESULT [--at TIME] [--format table|json|csv]
  okrd rules    [--config FILE] [--out FILE]
  okrd dashboards [--config FILE] --out DIR
  okrd backfill [--config FILE] --out FILE [--from TIME] [--to TIME] [--label NAME=VALUE]...
  okrd demo     [--web.listen-address ADDR] [--dir DIR] [--keep]
  okrd version

Common flags:
  --config FILE        configuration file (default okrd.toml)
  --log.level LEVEL    debug, info, warn or error (default info)
  --log.format FORMAT  logfmt or json (default logfmt)

Run "okrd COMMAND --help" for the flags of a command.
`

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "run":
		return cmdRun(rest, stdout, stderr)
	case "check":
		return cmdCheck(rest, stdout, stderr)
	case "sync":
		return cmdSync(rest, stdout, stderr)
	case "checkin":
		return cmdCheckin(rest, stdout, stderr)
	case "confidence":
		return cmdConfidence(rest, stdout, stderr)
	case "report":
		return cmdReport(rest, stdout, stderr)
	case "explain":
		return cmdExplain(rest, stdout, stderr)
	case "rules":
		return cmdRules(rest, stdout, stderr)
	case "dashboards":
		return cmdDashboards(rest, stdout, stderr)
	case "backfill":
		return cmdBackfill(rest, stdout, stderr)
	case "demo":
		return cmdDemo(rest, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, version.Print("okrd"))
		return exitOK
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "okrd: unknown command %q\n\n%s", cmd, usage)
		return exitUsage
	}
}

// common holds the flags every command has.
type common struct {
	config    string
	logLevel  string
	logFormat string
}

func newFlagSet(name string, stderr io.Writer, c *common) *flag.FlagSet {
	fs := flag.NewFlagSet("okrd "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.config, "config", "okrd.toml", "configuration file")
	fs.StringVar(&c.config, "config.file", "okrd.toml", "configuration file (alias of --config)")
	fs.StringVar(&c.logLevel, "log.level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&c.logFormat, "log.format", "logfmt", "log format: logfmt or json")
	return fs
}

// parseInterleaved parses flags that may come before, between or after the
// positional arguments (`okrd checkin obj/kr 42 --note "..."`). A
// negative number is a positional argument, not a flag.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
		for len(args) > 0 && isNumber(args[0]) {
			pos = append(pos, args[0])
			args = args[1:]
		}
	}
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

func newLogger(c *common, stderr io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, fmt.Errorf("--log.level: %q is not one of debug, info, warn, error", c.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch c.logFormat {
	case "logfmt", "text":
		return slog.New(slog.NewTextHandler(stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(stderr, opts)), nil
	default:
		return nil, fmt.Errorf("--log.format: %q is not logfmt or json", c.logFormat)
	}
}

// signalContext is cancelled on SIGINT or SIGTERM.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func cmdRun(args []string, stdout, stderr io.Writer) int {
	var c common
	var listen stringList
	var webConfig string
	var lifecycle bool
	fs := newFlagSet("run", stderr, &c)
	fs.Var(&listen, "web.listen-address", "address to listen on (repeatable; default server.listen_address of the config)")
	fs.StringVar(&webConfig, "web.config.file", "", "exporter-toolkit web configuration file for TLS and basic auth")
	fs.BoolVar(&lifecycle, "web.enable-lifecycle", false, "let any client reload the configuration with POST /-/reload (without it, the request needs server.api_token as a bearer token; SIGHUP always reloads)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "okrd run: unexpected argument %q\n", pos[0])
		return exitUsage
	}
	logger, err := newLogger(&c, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "okrd run:", err)
		return exitUsage
	}
	ctx, stop := signalContext()
	defer stop()

	logger.Info("starting okrd", "version", version.Info(), "config", c.config)
	a, err := app.New(ctx, app.Options{
		ConfigFile: c.config, ListenAddresses: listen, WebConfigFile: webConfig, EnableLifecycle: lifecycle,
		Logger: logger, Version: version.Version,
	})
	if err != nil {
		printError(stderr, "okrd run", err)
		return exitFailure
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				logger.Info("SIGHUP received, reloading the configuration")
				_ = a.Reload(ctx)
			}
		}
	}()
	if err := a.Run(ctx); err != nil {
		logger.Error("okrd stopped", "err", err)
		return exitFailure
	}
	logger.Info("okrd stopped")
	return exitOK
}

// printError prints an error; a configuration error prints one line per
// problem.
func printError(w io.Writer, prefix string, err error) {
	var errs config.Errors
	if errors.As(err, &errs) {
		fmt.Fprintf(w, "%s: the configuration has %d error(s):\n", prefix, len(errs))
		for _, e := range errs {
			fmt.Fprintln(w, "  "+e.Error())
		}
		return
	}
	fmt.Fprintf(w, "%s: %v\n", prefix, err)
}

func cmdCheck(args []string, stdout, stderr io.Writer) int {
	var c common
	fs := newFlagSet("check", stderr, &c)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) == 1 {
		c.config = pos[0] // `okrd check FILE` reads as expected too
	} else if len(pos) > 1 {
		fmt.Fprintf(stderr, "okrd check: unexpected argument %q\n", pos[1])
		return exitUsage
	}
	cfg, err := config.Load(c.config)
	if err != nil {
		printError(stderr, "okrd check", err)
		return exitFailure
	}
	krs := 0
	for _, o := range cfg.Objectives {
		krs += len(o.KeyResults)
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintf(stderr, "okrd check: warning: %s\n", w)
	}
	fmt.Fprintf(stdout, "%s: OK: %d objective(s), %d key result(s), %d source(s), %d team(s)\n", c.config, len(cfg.Objectives), krs, len(cfg.Sources), len(cfg.Teams))
	return exitOK
}

// checkinArgs names the fields of a check-in the way `okrd checkin` takes
// them, for its errors.
var checkinArgs = map[string]string{
	checkins.FieldValue: "VALUE", checkins.FieldAt: "--at", checkins.FieldAuthor: "--author", checkins.FieldNote: "--note",
	checkins.FieldConfidence: "--confidence",
}

func cmdCheckin(args []string, stdout, stderr io.Writer) int {
	var c common
	var note, at, author, confidence string
	fs := newFlagSet("checkin", stderr, &c)
	fs.StringVar(&note, "note", "", "a note saying where the number comes from")
	fs.StringVar(&confidence, "confidence", "", "how confident the owner is that the key result will land: 1 to 10, or low (3), medium (6), high (9)")
	fs.StringVar(&at, "at", "", "when the value applies: RFC 3339 time or YYYY-MM-DD (default now)")
	fs.StringVar(&author, "author", "", "who records it (default $USER)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) != 2 {
		fmt.Fprintln(stderr, "okrd checkin: want OBJECTIVE/KEY_RESULT VALUE, e.g. okrd checkin grow-revenue/nps 37 --note \"October survey\"")
		return exitUsage
	}
	objID, krID, ok := strings.Cut(pos[0], "/")
	if !ok || objID == "" || krID == "" {
		fmt.Fprintf(stderr, "okrd checkin: %q is not OBJECTIVE/KEY_RESULT\n", pos[0])
		return exitUsage
	}
	value, err := strconv.ParseFloat(pos[1], 64)
	if err != nil {
		fmt.Fprintf(stderr, "okrd checkin: value %q is not a number\n", pos[1])
		return exitUsage
	}
	conf := 0
	if confidence != "" {
		n, err := checkins.ParseConfidence(confidence)
		var fe *checkins.FieldError
		if errors.As(err, &fe) {
			fmt.Fprintf(stderr, "okrd checkin: --confidence: %s\n", fe.Msg)
			return exitUsage
		}
		conf = n
	}
	rec, code := openRecording(&c, "okrd checkin", at, author, stderr)
	if rec == nil {
		return code
	}
	defer rec.close()
	cfg, ctx, st, when, author := rec.cfg, rec.ctx, rec.st, rec.when, rec.author
	ci, err := checkins.Record(ctx, cfg, st, checkins.Request{
		ObjectiveID: objID, KeyResultID: krID, Value: value, At: when, Author: author, Note: note, Confidence: conf,
	}, time.Now())
	var fe *checkins.FieldError
	if errors.As(err, &fe) {
		fmt.Fprintf(stderr, "okrd checkin: %s: %s\n", checkinArgs[fe.Field], fe.Msg)
		return exitFailure
	}
	if err != nil {
		printError(stderr, "okrd checkin", err)
		return exitFailure
	}
	shown := strconv.FormatFloat(ci.Value, 'g', -1, 64)
	if o := cfg.Objective(objID); o != nil {
		if kr := o.KeyResult(krID); kr != nil {
			shown = format.Value(kr, ci.Value)
		}
	}
	fmt.Fprintf(stdout, "recorded check-in %d: %s/%s = %s at %s by %s", ci.ID, objID, krID,
		shown, ci.At.Format(time.RFC3339), ci.Author)
	if ci.Confidence != 0 {
		fmt.Fprintf(stdout, ", confidence %d/10 (%s)", ci.Confidence, checkins.ConfidenceName(ci.Confidence))
	}
	fmt.Fprintln(stdout)
	return exitOK
}

// recording is what okrd checkin and okrd confidence need to record:
// the configuration, the instant of --at read in its time zone (nil for
// now), the author (--author, else $USER, else "cli") and the store.
type recording struct {
	cfg    *config.Config
	ctx    context.Context
	st     store.Store
	when   *time.Time
	author string
	close  func()
}

// openRecording loads the configuration and opens the store for a command
// that records something; on failure it says why under the command's name
// and returns nil and the exit code.
func openRecording(c *common, cmd, at, author string, stderr io.Writer) (*recording, int) {
	cfg, err := config.Load(c.config)
	if err != nil {
		printError(stderr, cmd, err)
		return nil, exitFailure
	}
	r := &recording{cfg: cfg, author: author}
	if at != "" {
		t, err := checkins.ParseTime(at, cfg.Global.Location)
		if err != nil {
			fmt.Fprintf(stderr, "%s: --at: %v\n", cmd, err)
			return nil, exitUsage
		}
		r.when = &t
	}
	if r.author == "" {
		r.author = os.Getenv("USER")
	}
	if r.author == "" {
		r.author = "cli"
	}
	logger, err := newLogger(c, stderr)
	if err != nil {
		fmt.Fprintln(stderr, cmd+":", err)
		return nil, exitUsage
	}
	ctx, stop := signalContext()
	st, err := app.OpenStore(ctx, cfg.Storage, logger)
	if err != nil {
		stop()
		printError(stderr, cmd, err)
		return nil, exitFailure
	}
	r.ctx, r.st = ctx, st
	r.close = func() {
		st.Close()
		stop()
	}
	return r, 0
}

// confidenceArgs names the fields of a confidence the way `okrd
// confidence` takes them, for its errors.
var confidenceArgs = map[string]string{
	checkins.FieldConfidence: "CONFIDENCE", checkins.FieldAt: "--at", checkins.FieldAuthor: "--author", checkins.FieldNote: "--note",
}

func cmdConfidence(args []string, stdout, stderr io.Writer) int {
	var c common
	var note, at, author string
	fs := newFlagSet("confidence", stderr, &c)
	fs.StringVar(&note, "note", "", "why the owner is as confident as that")
	fs.StringVar(&at, "at", "", "when the confidence was given: RFC 3339 time or YYYY-MM-DD (default now)")
	fs.StringVar(&author, "author", "", "who gives it (default $USER)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return exitUsage
	}
	const want = "okrd confidence: want OBJECTIVE/KEY_RESULT CONFIDENCE (1 to 10, or low, medium, high), e.g. okrd confidence grow-revenue/nps 7 --note \"survey vendor late\""
	if len(pos) != 2 {
		fmt.Fprintln(stderr, want)
		return exitUsage
	}
	objID, krID, ok := strings.Cut(pos[0], "/")
	if !ok || objID == "" || krID == "" {
		fmt.Fprintf(stderr, "okrd confidence: %q is not OBJECTIVE/KEY_RESULT\n", pos[0])
		return exitUsage
	}
	value, err := checkins.ParseConfidence(pos[1])
	var fe *checkins.FieldError
	if errors.As(err, &fe) {
		fmt.Fprintf(stderr, "okrd confidence: CONFIDENCE: %s\n", fe.Msg)
		return exitUsage
	}
	rec, code := openRecording(&c, "okrd confidence", at, author, stderr)
	if rec == nil {
		return code
	}
	defer rec.close()
	cfg, ctx, st, when, author := rec.cfg, rec.ctx, rec.st, rec.when, rec.author
	cc, err := checkins.RecordConfidence(ctx, cfg, st, checkins.ConfidenceRequest{
		ObjectiveID: objID, KeyResultID: krID, Value: value, At: when, Author: author, Note: note,
	}, time.Now())
	if errors.As(err, &fe) {
		fmt.Fprintf(stderr, "okrd confidence: %s: %s\n", confidenceArgs[fe.Field], fe.Msg)
		return exitFailure
	}
	if err != nil {
		printError(stderr, "okrd confidence", err)
		return exitFailure
	}
	fmt.Fprintf(stdout, "recorded confidence %d: %s/%s = %d/10 (%s) at %s by %s\n", cc.ID, objID, krID, cc.Value,
		checkins.ConfidenceName(cc.Value), cc.At.Format(time.RFC3339), cc.Author)
	return exitOK
}
