package dashboards

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/okrd/okrd/config"
)

var update = flag.Bool("update", false, "rewrite the dashboards generated from config.example.toml")

// exampleConfig loads the repository's config.example.toml, the config the
// committed dashboards are generated from.
func exampleConfig(t testing.TB) *config.Config {
	t.Helper()
	// The example's period is "current-quarter", which the overview shows
	// as Grafana's now/fQ whatever the day (cmd/okrd's test generates them
	// on today's); a fixed day keeps this test apart from the calendar all
	// the same.
	cfg, err := config.LoadAt(filepath.Join("..", "config.example.toml"), time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestCommittedDashboardsMatchTheGenerator keeps dashboards/*.json in step
// with the generator and config.example.toml. After a deliberate change,
// run `go test ./dashboards -run TestCommittedDashboardsMatchTheGenerator -update`
// and review the diff.
func TestCommittedDashboardsMatchTheGenerator(t *testing.T) {
	ds, err := Generate(exampleConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := Write(".", ds); err != nil {
			t.Fatal(err)
		}
	}
	var want []string
	for _, d := range ds {
		want = append(want, d.File)
		committed, err := os.ReadFile(d.File)
		if err != nil {
			t.Errorf("%s: %v (run go test ./dashboards -update)", d.File, err)
			continue
		}
		if !bytes.Equal(committed, d.JSON) {
			t.Errorf("%s differs from what the generator makes of config.example.toml; run go test ./dashboards -run TestCommittedDashboardsMatchTheGenerator -update and review the diff", d.File)
		}
	}
	// No stale dashboard lingers next to the generated ones.
	got, err := filepath.Glob("*.json")
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("dashboards/ holds %v, the generator makes %v", got, want)
	}
}
