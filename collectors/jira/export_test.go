package jira

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/internal/testenv"
	"github.com/okrd/okrd/sandbox/jirafake"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// exposition returns the text exposition of a source's series.
func exposition(t *testing.T, src *Source) []byte {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(src); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// TestExportedSeries compares the fixture's series with a golden file
// (go test -update rewrites it). The figures are those of
// TestFullSyncOfBothFlavours: e.g. throughput 3 in 28 days, sprint 1 with
// 2 committed, 1 completed, 1 added and velocity 5.
func TestExportedSeries(t *testing.T) {
	e := fixtureEnv(t, jirafake.Cloud, nil)
	e.mustPoll()
	got := exposition(t, e.src)
	golden := filepath.Join("testdata", "metrics.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("exposition differs from %s (go test -update rewrites it):\n%s", golden, got)
	}
}

// TestExportedSeriesPassPromtool lints the exposition with promtool.
func TestExportedSeriesPassPromtool(t *testing.T) {
	promtool := testenv.Program(t, "promtool", "prometheus")
	e := fixtureEnv(t, jirafake.DataCenter, nil)
	e.mustPoll()
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(exposition(t, e.src))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// TestTwoJiraSourcesShareARegistry: every series carries the source as a
// constant label, so two Jira sources register side by side.
func TestTwoJiraSourcesShareARegistry(t *testing.T) {
	e := fixtureEnv(t, jirafake.Cloud, nil)
	reg := prometheus.NewRegistry()
	for _, name := range []string{"jira-a", "jira-b"} {
		src, err := New(&config.Source{Name: name, Type: "jira", Spec: e.spec}, collectors.Deps{Store: e.st}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := reg.Register(src); err != nil {
			t.Errorf("registering %s: %v", name, err)
		}
	}
}
