package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBackfillWritesTheCheckinsOfEveryDay(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, cliConfig)
	for _, ci := range [][]string{{"grow/nps", "33", "--at", "2026-11-01T10:00:00Z"}, {"grow/nps", "36", "--at", "2026-11-02T12:00:00Z"}} {
		if code, _, errs := runCLI(t, append([]string{"checkin", "--config", p}, ci...)...); code != 0 {
			t.Fatalf("checkin: %s", errs)
		}
	}
	out := filepath.Join(dir, "okrd.om")
	code, stdout, stderr := runCLI(t, "backfill", "--config", p, "--out", out, "--from", "2026-11-01", "--to", "2026-11-04",
		"--label", "job=okrd", "--label", "instance=okrd.example:9184")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "at 3 instants from 2026-11-01T00:00:00Z to 2026-11-04T00:00:00Z into "+out) ||
		!strings.Contains(stdout, "promtool tsdb create-blocks-from openmetrics "+out) {
		t.Errorf("stdout: %s", stdout)
	}
	if strings.Contains(stderr, "level=WARN") {
		t.Errorf("a warning with job and instance given: %s", stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	// Midnight UTC of 1, 2 and 3 November: no value yet on the 1st (the
	// check-in is at 10:00), 33 on the 2nd, 36 on the 3rd.
	const series = `okr_key_result_value{instance="okrd.example:9184",job="okrd",key_result="nps",objective="grow"}`
	for _, want := range []string{series + " 33 1793577600\n", series + " 36 1793664000\n", "# EOF\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("the output lacks %q", want)
		}
	}
	if strings.Contains(text, series+" 33 1793491200") {
		t.Error("a value on 1 November, before the first check-in")
	}
	if !strings.HasSuffix(text, "# EOF\n") {
		t.Error("the output does not end with # EOF")
	}
}

func TestBackfillWarnsWithoutTheScrapeLabels(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, cliConfig)
	if code, _, errs := runCLI(t, "checkin", "--config", p, "grow/nps", "33", "--at", "2026-11-01"); code != 0 {
		t.Fatalf("checkin: %s", errs)
	}
	code, _, stderr := runCLI(t, "backfill", "--config", p, "--out", filepath.Join(dir, "okrd.om"), "--from", "2026-11-01", "--to", "2026-11-03",
		"--label", "job=okrd")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "level=WARN") || !strings.Contains(stderr, "missing=instance") || !strings.Contains(stderr, "--label instance=HOST:PORT") {
		t.Errorf("stderr lacks the warning about the instance label: %s", stderr)
	}
}

func TestBackfillRejectsBadArguments(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, cliConfig)
	noDB := filepath.Join(t.TempDir(), "okrd.toml")
	if err := os.WriteFile(noDB, []byte(strings.ReplaceAll(cliConfig, "{{DB}}", filepath.Join(filepath.Dir(noDB), "none.db"))), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCLI(t, "checkin", "--config", p, "grow/nps", "33", "--at", "2026-11-01"); code != 0 {
		t.Fatalf("checkin: %s", errs)
	}
	out := filepath.Join(dir, "okrd.om")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no output file", []string{"--config", p}, 2, "okrd backfill: --out FILE is required"},
		{"a label without a value", []string{"--config", p, "--out", out, "--label", "job"}, 2, `okrd backfill: --label: "job" is not NAME=VALUE`},
		{"a label okrd's series have", []string{"--config", p, "--out", out, "--label", "objective=x"}, 1, `okrd backfill: --label: label "objective": okrd's series already have a label of that name`},
		{"a reserved label", []string{"--config", p, "--out", out, "--label", "__name__=x"}, 1, "reserved for Prometheus"},
		{"a bad start", []string{"--config", p, "--out", out, "--from", "last week"}, 2, `okrd backfill: --from: "last week" is not an RFC 3339 time`},
		{"a bad end", []string{"--config", p, "--out", out, "--to", "2026-13-01"}, 2, `okrd backfill: --to: "2026-13-01" is not an RFC 3339 time`},
		{"an end before the start", []string{"--config", p, "--out", out, "--from", "2026-11-05", "--to", "2026-11-01"}, 1, "okrd backfill: --from 2026-11-05T00:00:00Z is not before --to 2026-11-01T00:00:00Z"},
		{"an argument", []string{"--config", p, "--out", out, "extra"}, 2, `okrd backfill: unexpected argument "extra"`},
		{"a database that does not exist", []string{"--config", noDB, "--out", out}, 1, "does not exist: run okrd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runCLI(t, append([]string{"backfill"}, tc.args...)...)
			if code != tc.code || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errs, tc.code, tc.want)
			}
		})
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed backfill wrote --out")
	}
}

func TestTheUsageListsBackfill(t *testing.T) {
	code, out, _ := runCLI(t, "help")
	if code != 0 || !strings.Contains(out, "okrd backfill [--config FILE] --out FILE [--from TIME] [--to TIME] [--label NAME=VALUE]...") {
		t.Errorf("usage: %s", out)
	}
}
