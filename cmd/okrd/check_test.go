package main

import (
	"strings"
	"testing"
)

// TestCheckRefusesAConfigurationThatDefinesNothing runs `okrd check` on the
// files an interrupted or half-finished save leaves behind: each is an
// error naming the file, never "OK: 0 objective(s)".
func TestCheckRefusesAConfigurationThatDefinesNothing(t *testing.T) {
	header := cliConfig[:strings.Index(cliConfig, "[[objectives]]")]
	tests := []struct {
		name string
		doc  string
		want string
	}{
		{"An empty file is refused.", "", "FILE: the file has no settings (it is empty or holds only comments); a configuration needs at least one [[objectives]] table with a [[objectives.key_results]] table"},
		{"A file of comments only is refused.", "# okrd\n\n# objectives follow\n", "FILE: the file has no settings (it is empty or holds only comments)"},
		{"A file cut before its first objective is refused.", header, "FILE: objectives: at least one objective is required (an [[objectives]] table with a [[objectives.key_results]] table)"},
		{"A file cut before an objective's key results is refused.", header + "[[objectives]]\nid = \"grow\"\ntitle = \"Grow\"\nperiod = \"2026-Q4\"\n", "FILE:8: objectives[0].key_results: at least one key result is required"},
		{"A file cut inside a string is a syntax error.", header + "[[objectives]]\nid = \"gr", "FILE:9: syntax error: unterminated basic string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, t.TempDir(), tt.doc)
			code, out, errs := runCLI(t, "check", p)
			if code != 1 || out != "" {
				t.Fatalf("exit %d, want 1\nstdout: %s\nstderr: %s", code, out, errs)
			}
			want := "okrd check: the configuration has 1 error(s):\n  " + strings.Replace(tt.want, "FILE", p, 1)
			if !strings.HasPrefix(errs, want) {
				t.Errorf("stderr:\n%s\nwant it to start with:\n%s", errs, want)
			}
		})
	}
}
