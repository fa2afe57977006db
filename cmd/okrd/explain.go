package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/okrd/okrd/app"
	"github.com/okrd/okrd/checkins"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/metrics/explain"
	"github.com/okrd/okrd/report/format"
)

// cmdExplain lists the records behind a key result's value. By default
// it reads the configuration and the store, as okrd report does (a
// daemon may run at the same time); with --url it asks a running okrd's
// API instead.
func cmdExplain(args []string, stdout, stderr io.Writer) int {
	var c common
	var at, formatName, base string
	flags := newFlagSet("explain", stderr, &c)
	flags.StringVar(&at, "at", "", "as the records stood at this instant: RFC 3339 time or YYYY-MM-DD, midnight in global.time_zone (default now)")
	flags.StringVar(&formatName, "format", "table", "output format: table, json or csv")
	flags.StringVar(&base, "url", "", "ask the okrd running at this address (http://host:9182) instead of reading the store")
	pos, err := parseInterleaved(flags, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "okrd explain: give one OBJECTIVE/KEY_RESULT, e.g. okrd explain fast-delivery/lead-time")
		return exitUsage
	}
	obj, kr, ok := strings.Cut(pos[0], "/")
	if !ok || obj == "" || kr == "" {
		fmt.Fprintf(stderr, "okrd explain: %q is not OBJECTIVE/KEY_RESULT\n", pos[0])
		return exitUsage
	}
	switch formatName {
	case "table", "json", "csv":
	default:
		fmt.Fprintf(stderr, "okrd explain: --format %q is not one of table, json, csv\n", formatName)
		return exitUsage
	}
	if base != "" {
		return explainRemote(base, obj, kr, at, formatName, stdout, stderr)
	}
	cfg, err := config.Load(c.config)
	if err != nil {
		printError(stderr, "okrd explain", err)
		return exitFailure
	}
	var atT time.Time
	if at != "" {
		if atT, err = checkins.ParseTime(at, cfg.Global.Location); err != nil {
			fmt.Fprintf(stderr, "okrd explain: --at: %v\n", err)
			return exitUsage
		}
	}
	logger, err := newLogger(&c, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "okrd explain:", err)
		return exitUsage
	}
	if err := sqliteExists(cfg.Storage); err != nil {
		fmt.Fprintln(stderr, "okrd explain:", err)
		return exitFailure
	}
	ctx, stop := signalContext()
	defer stop()
	a, err := app.OpenReader(ctx, app.Options{ConfigFile: c.config, Logger: logger})
	if err != nil {
		printError(stderr, "okrd explain", err)
		return exitFailure
	}
	defer a.Store().Close()
	res, err := a.Explain(ctx, obj, kr, atT)
	if err != nil {
		var pe *explain.ParamError
		var nf *explain.NotFoundError
		fmt.Fprintln(stderr, "okrd explain:", err)
		if errors.As(err, &pe) || errors.As(err, &nf) {
			return exitUsage
		}
		return exitFailure
	}
	switch formatName {
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(res.JSON(0))
	case "csv":
		err = res.WriteCSV(stdout)
	default:
		err = res.WriteTable(stdout, func(k explain.Kind, v any) string { return humanCell(k, v, cfg.Global.Location) })
	}
	if err != nil {
		fmt.Fprintln(stderr, "okrd explain: writing:", err)
		return exitFailure
	}
	return exitOK
}

// humanCell shows a value for the terminal: durations with the shared
// formatter, times in the configured zone.
func humanCell(k explain.Kind, v any, loc *time.Location) string {
	switch x := v.(type) {
	case time.Time:
		if x.IsZero() {
			return ""
		}
		return x.In(loc).Format("2006-01-02 15:04")
	case float64:
		if k == explain.Duration {
			return format.Duration(x)
		}
	case bool:
		if x {
			return "yes"
		}
		return ""
	}
	return explain.Plain(v)
}

// explainRemote asks a running okrd's API: JSON and CSV as it answers,
// the table from its JSON.
func explainRemote(base, obj, kr, at, formatName string, stdout, stderr io.Writer) int {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		fmt.Fprintf(stderr, "okrd explain: --url %q is not an http(s) address such as http://localhost:9182\n", base)
		return exitUsage
	}
	if u.User != nil {
		fmt.Fprintln(stderr, "okrd explain: --url must not carry credentials")
		return exitUsage
	}
	u.Path = strings.TrimRight(u.Path, "/") + "/api/v1/objectives/" + url.PathEscape(obj) + "/key_results/" + url.PathEscape(kr) + "/explain"
	q := url.Values{}
	if at != "" {
		q.Set("at", at)
	}
	if formatName == "csv" {
		q.Set("format", "csv")
	} else {
		q.Set("limit", "5000")
	}
	u.RawQuery = q.Encode()
	client := &http.Client{Timeout: 2 * time.Minute}
	resp, err := client.Get(u.String())
	if err != nil {
		fmt.Fprintln(stderr, "okrd explain:", err)
		return exitFailure
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&e)
		fmt.Fprintf(stderr, "okrd explain: %s: %s\n", resp.Status, e.Error)
		if resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusNotFound {
			return exitUsage
		}
		return exitFailure
	}
	if formatName != "table" {
		if _, err := io.Copy(stdout, resp.Body); err != nil {
			fmt.Fprintln(stderr, "okrd explain: reading the answer:", err)
			return exitFailure
		}
		return exitOK
	}
	var r explain.ResultJSON
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		fmt.Fprintln(stderr, "okrd explain: reading the answer:", err)
		return exitFailure
	}
	writeRemoteTable(stdout, &r)
	return exitOK
}

// writeRemoteTable prints the JSON answer as okrd explain's table.
func writeRemoteTable(w io.Writer, r *explain.ResultJSON) {
	value := "no value"
	if r.Value != nil {
		value = fmt.Sprint(*r.Value)
		if r.Unit != "" {
			value += " " + r.Unit
		}
	}
	fmt.Fprintf(w, "%s/%s (%s, %s): %s at %s\n", r.Objective, r.KeyResult, r.Source, r.Metric, value, r.At.UTC().Format(time.RFC3339))
	if r.How != "" {
		fmt.Fprintf(w, "value: %s\n", r.How)
	}
	if r.Message != "" {
		fmt.Fprintln(w, r.Message)
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range r.Columns {
		fmt.Fprintf(tw, "%s\t", strings.ToUpper(c.Title))
	}
	fmt.Fprint(tw, "MARK\tLINK\n")
	for _, row := range r.Rows {
		for _, c := range r.Columns {
			v := row[c.Key]
			s := ""
			switch x := v.(type) {
			case nil:
			case float64:
				if c.Kind == explain.Duration {
					s = format.Duration(x)
				} else {
					s = fmt.Sprint(x)
				}
			case bool:
				if x {
					s = "yes"
				}
			default:
				s = fmt.Sprint(x)
			}
			fmt.Fprintf(tw, "%s\t", strings.NewReplacer("\n", " ", "\t", " ").Replace(s))
		}
		fmt.Fprintf(tw, "%v\t%v\n", orEmpty(row["mark"]), orEmpty(row["link"]))
	}
	tw.Flush()
	if r.Truncated {
		fmt.Fprintf(w, "(%d of %d rows; --format csv gives all)\n", len(r.Rows), r.TotalRows)
	}
}

func orEmpty(v any) any {
	if v == nil {
		return ""
	}
	return v
}
