package app

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	// The sql source type, as okrd's binary links it.
	_ "github.com/okrd/okrd/collectors/sql"
)

// mutableClock is a test clock that the test moves forward.
type mutableClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *mutableClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *mutableClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

const analyticsConfig = `
[global]
time_zone = "UTC"
evaluation_interval = "1h"

[server]
listen_address = "127.0.0.1:0"

[storage]
driver = "sqlite"
dsn = "{{DB}}"

[sources.warehouse]
type = "sql"
interval = "1s"
driver = "sqlite"
dsn = "{{WAREHOUSE}}"
statement_timeout = "2s"

[[objectives]]
id = "grow"
title = "Grow the product"
period = "2026-Q4"

  [[objectives.key_results]]
  id = "activation"
  title = "Week-1 activation from 31% to 40%"
  source = "warehouse"
  query = "select activated * 1.0 / signed_up from weekly_activation"
  baseline = 0.31
  target = 0.40
  unit = "ratio"
  stale_after = "1h"
`

// metricLine returns the /metrics line that starts with prefix.
func metricLine(t *testing.T, ta *testApp, prefix string) string {
	t.Helper()
	r := do(t, "GET", ta.url+"/metrics", "", "")
	for _, line := range strings.Split(r.body, "\n") {
		if strings.HasPrefix(line, prefix) {
			return line
		}
	}
	return ""
}

// TestAFailingQueryMarksTheSourceDownAndKeepsTheLastValueUntilStale runs
// okrd with a real SQLite warehouse: a query that starts returning two
// rows fails the poll (okrd_source_up 0, the error names the key result),
// the key result keeps its last value, and once that value is older than
// stale_after it is stale (okr_key_result_stale 1, status no_data) until
// the query works again.
func TestAFailingQueryMarksTheSourceDownAndKeepsTheLastValueUntilStale(t *testing.T) {
	old := minBackoff
	minBackoff = 50 * time.Millisecond
	t.Cleanup(func() { minBackoff = old })

	dir := t.TempDir()
	warehouse := filepath.Join(dir, "warehouse.db")
	db, err := sql.Open("sqlite", warehouse)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	exec := func(stmt string) {
		t.Helper()
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	exec(`create table weekly_activation (week text, activated integer, signed_up integer)`)
	exec(`insert into weekly_activation values ('2026-W46', 36, 100)`)

	clock := &mutableClock{now: fixedNow}
	ta := startApp(t, dir, strings.ReplaceAll(analyticsConfig, "{{WAREHOUSE}}", filepath.ToSlash(warehouse)), clock.Now)
	activation := func() apiKR {
		for _, o := range getObjectives(t, ta, "") {
			for _, kr := range o.KeyResults {
				if kr.ID == "activation" {
					return kr
				}
			}
		}
		t.Fatal("no activation key result")
		return apiKR{}
	}
	// 36 / 100 = 0.36; progress (0.36 - 0.31) / (0.40 - 0.31) = 5/9.
	waitFor(t, func() bool { kr := activation(); return kr.Value != nil && near(*kr.Value, 0.36) })
	if kr := activation(); kr.Status == "no_data" || !near(*kr.Progress, 5.0/9) {
		t.Fatalf("fresh value: %+v", kr)
	}
	if line := metricLine(t, ta, `okrd_source_up{source="warehouse",type="sql"}`); !strings.HasSuffix(line, " 1") {
		t.Fatalf("source up: %q", line)
	}
	if line := metricLine(t, ta, `okr_key_result_stale{key_result="activation",objective="grow"}`); !strings.HasSuffix(line, " 0") {
		t.Fatalf("stale: %q", line)
	}

	// The query now returns two rows: the next poll fails.
	exec(`insert into weekly_activation values ('2026-W47', 41, 100)`)
	waitFor(t, func() bool {
		return strings.HasSuffix(metricLine(t, ta, `okrd_source_up{source="warehouse",type="sql"}`), " 0")
	})
	var health string
	for _, h := range ta.Sources() {
		if h.Name == "warehouse" {
			health = h.LastError
		}
	}
	if health != "key result grow/activation: query returned 2 rows, want exactly 1" {
		t.Errorf("last error %q", health)
	}
	// The last good value is kept, and still trusted.
	if kr := activation(); kr.Value == nil || !near(*kr.Value, 0.36) || kr.Status == "no_data" {
		t.Fatalf("after the failure: %+v", kr)
	}

	// Two hours later the value is older than stale_after (1h).
	clock.Add(2 * time.Hour)
	ta.Evaluate(context.Background())
	if kr := activation(); kr.Value == nil || !near(*kr.Value, 0.36) || kr.Status != "no_data" {
		t.Fatalf("stale value: %+v", kr)
	}
	if line := metricLine(t, ta, `okr_key_result_stale{key_result="activation",objective="grow"}`); !strings.HasSuffix(line, " 1") {
		t.Fatalf("stale: %q", line)
	}

	// The query works again: the source is up and the value fresh.
	exec(`delete from weekly_activation where week = '2026-W46'`)
	// 41 / 100 = 0.41, above the target: progress 1, achieved.
	waitFor(t, func() bool { kr := activation(); return kr.Value != nil && near(*kr.Value, 0.41) })
	if kr := activation(); kr.Status != "achieved" {
		t.Errorf("after the fix: %+v", kr)
	}
	if line := metricLine(t, ta, `okr_key_result_stale{key_result="activation",objective="grow"}`); !strings.HasSuffix(line, " 0") {
		t.Errorf("stale after the fix: %q", line)
	}
	if line := metricLine(t, ta, `okrd_source_up{source="warehouse",type="sql"}`); !strings.HasSuffix(line, " 1") {
		t.Errorf("source up after the fix: %q", line)
	}
	// The values are stored as history with their origin.
	r := do(t, "GET", ta.url+"/api/v1/objectives/grow/key_results/activation/history", "", "")
	if !strings.Contains(r.body, `"origin": "source:warehouse"`) || !strings.Contains(r.body, `"value": 0.36`) || !strings.Contains(r.body, `"value": 0.41`) {
		t.Errorf("history: %s", r.body)
	}
}
