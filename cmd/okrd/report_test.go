package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReportPrintsTheWeekFromTheStoredCheckins(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, cliConfig)
	for _, ci := range [][]string{
		{"grow/nps", "33", "--at", "2026-11-01"},
		{"grow/nps", "36", "--at", "2026-11-12", "--note", "November survey"},
	} {
		if code, _, errs := runCLI(t, append([]string{"checkin", "--config", p, "--author", "ana"}, ci...)...); code != 0 {
			t.Fatalf("checkin: %s", errs)
		}
	}
	// At 2026-11-15 23:59:59 (the end of the day --at names), 2026-Q4 is
	// (45 days + 86399 s)/92 days = 0.49999 elapsed (expected value 31 +
	// 0.49999*9 = 35.5); nps 36 has progress (36-31)/9 = 0.556 (56%, gap
	// +0.06: on track). A week before, 33 had
	// (33-31)/9 = 0.222 against 38.99999/92 = 0.4239, gap -0.2017: off track.
	code, out, errs := runCLI(t, "report", "--config", p, "--at", "2026-11-15")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{
		"# OKR report, week to 2026-11-15",
		"| NPS | 36 | +3 (from 33) | on track (was off track) | 36 where 35.5 was expected by now: 56% of the way, 6 pts ahead | – | – | ▃▅▅ |",
		"- 2026-11-12, NPS: 36 by ana: “November survey”",
		"No delivery sources configured",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q:\n%s", want, out)
		}
	}

	html := filepath.Join(dir, "report.html")
	if code, _, errs := runCLI(t, "report", "--config", p, "--format", "html", "--period", "2026-q4", "--out", html, "--at", "2026-11-15"); code != 0 {
		t.Fatalf("html: %s", errs)
	}
	b, err := os.ReadFile(html)
	if err != nil || !strings.Contains(string(b), ">OKR report, week to 2026-11-15</h1>") || !strings.Contains(string(b), "the objectives of 2026-Q4") {
		t.Errorf("html report: %v\n%s", err, b)
	}
}

func TestReportRejectsBadArguments(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, cliConfig)
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"an unknown format", []string{"--format", "pdf"}, 2, `okrd report: --format "pdf" is not one of markdown, html`},
		{"a bad instant", []string{"--at", "yesterday"}, 2, `okrd report: --at "yesterday" is not an RFC 3339 time`},
		{"a database that does not exist", nil, 1, "okrd report: the SQLite database " + filepath.Join(dir, "okrd.db") + " does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runCLI(t, append([]string{"report", "--config", p}, tc.args...)...)
			if code != tc.code || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errs, tc.code, tc.want)
			}
		})
	}
}
