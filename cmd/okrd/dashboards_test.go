package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDashboardsWritesTheCommittedDashboardsForTheExampleConfig(t *testing.T) {
	out := filepath.Join(t.TempDir(), "grafana", "okrd") // created by the command
	// The example's period is "current-quarter": the overview starts at
	// Grafana's now/fQ and names no period, so the command writes the
	// committed dashboards whatever the day.
	cfgPath := filepath.Join("..", "..", "config.example.toml")
	code, stdout, stderr := runCLI(t, "dashboards", "--config", cfgPath, "--out", out)
	if code != exitOK {
		t.Fatalf("exit %d\nstderr: %s", code, stderr)
	}
	for _, name := range []string{"okrd-okr-overview.json", "okrd-delivery.json", "okrd-health.json"} {
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join("..", "..", "dashboards", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from dashboards/%s", name, name)
		}
		if !strings.Contains(stdout, "wrote "+filepath.Join(out, name)+": ") {
			t.Errorf("stdout does not name %s:\n%s", name, stdout)
		}
	}
}

func TestDashboardsRefusesBadInvocations(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(bad, []byte("[server]\nlisten_adress = \":9184\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"without --out", []string{"dashboards", "--config", "../../config.example.toml"}, exitUsage, "--out DIR is required"},
		{"with a positional argument", []string{"dashboards", "--out", dir, "extra"}, exitUsage, `unexpected argument "extra"`},
		{"with an invalid config", []string{"dashboards", "--config", bad, "--out", dir}, exitFailure, "bad.toml:2: server.listen_adress"},
		{"with a missing config", []string{"dashboards", "--config", filepath.Join(dir, "none.toml"), "--out", dir}, exitFailure, "none.toml: no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tt.code, tt.stderr)
			}
		})
	}
}
