package demo

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/okrd/okrd/sandbox/githubfake"
	"github.com/okrd/okrd/sandbox/jirafake"
)

// BenchmarkGenerate measures what `okrd demo` does before okrd starts:
// the Jira and GitHub data and the analytics database.
func BenchmarkGenerate(b *testing.B) {
	dir := b.TempDir()
	p, err := newPlan(midQuarter)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; b.Loop(); i++ {
		generateJira(jirafake.New(jirafake.Cloud), p)
		var d githubfake.Data
		generateGitHub(&d, p)
		if err := writeAnalytics(context.Background(), filepath.Join(dir, strconv.Itoa(i)+".db"), p); err != nil {
			b.Fatal(err)
		}
	}
}
