package sqlite

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/okrd/okrd/store"
	"github.com/okrd/okrd/store/storetest"
)

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func openPath(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, testLogger(t))
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func tempPath(t testing.TB) string {
	return filepath.Join(t.TempDir(), "okrd.db")
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openPath(t, tempPath(t)) })
}

func TestConformanceInMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openPath(t, ":memory:") })
}

var t0 = time.Date(2026, 10, 1, 9, 30, 0, 0, time.UTC)

func TestReopeningTheFileKeepsTheData(t *testing.T) {
	ctx := context.Background()
	path := tempPath(t)
	s, err := Open(ctx, path, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.AddCheckin(ctx, store.Checkin{ObjectiveID: "o", KeyResultID: "nps", At: t0, Value: 41, Author: "ana"})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, func(tx store.Tx) error {
		if err := tx.PutRecords(ctx, store.Record{Source: "jira", Kind: "issue", ID: "PAY-1", UpdatedAt: t0, Data: []byte(`{}`)}); err != nil {
			return err
		}
		return tx.SetCursor(ctx, "jira", "PAY", "42")
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutAlertState(ctx, store.AlertState{Key: "a", State: "firing", Since: t0, UpdatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openPath(t, path)
	cs, err := s.Checkins(ctx, "o", "nps", 0)
	if err != nil || len(cs) != 1 || cs[0] != c {
		t.Fatalf("Checkins after reopening = %+v, %v; want [%+v]", cs, err, c)
	}
	if v, ok, err := s.Cursor(ctx, "jira", "PAY"); err != nil || !ok || v != "42" {
		t.Fatalf("Cursor after reopening = %q, %v, %v; want 42", v, ok, err)
	}
	if n, err := s.CountRecords(ctx); err != nil || n["jira"]["issue"] != 1 {
		t.Fatalf("CountRecords after reopening = %v, %v; want 1 issue", n, err)
	}
	if as, err := s.AlertStates(ctx); err != nil || len(as) != 1 || as[0].State != "firing" {
		t.Fatalf("AlertStates after reopening = %+v, %v", as, err)
	}
	// New IDs continue after the old ones.
	if err := s.AppendValues(ctx, store.Value{ObjectiveID: "o", KeyResultID: "nps", At: t0, Value: 42}); err != nil {
		t.Fatal(err)
	}
	vals, err := s.ValuesAfter(ctx, 0, 0)
	if err != nil || len(vals) != 2 || vals[1].ID <= vals[0].ID {
		t.Fatalf("values after reopening = %+v, %v", vals, err)
	}
}

func migrationCount(t *testing.T) int {
	t.Helper()
	files, err := fs.Glob(Migrations(), "*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no migrations embedded: %v", err)
	}
	return len(files)
}

// appliedVersions returns the versions goose recorded, ignoring its version 0.
func appliedVersions(t *testing.T, s *Store) []int64 {
	t.Helper()
	var versions []int64
	err := s.SQL().Select(&versions, "SELECT version_id FROM goose_db_version WHERE version_id > 0 AND is_applied ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	return versions
}

func TestMigrationsAreIdempotent(t *testing.T) {
	path := tempPath(t)
	for i := range 3 {
		s, err := Open(context.Background(), path, testLogger(t))
		if err != nil {
			t.Fatalf("Open #%d: %v", i+1, err)
		}
		if got := appliedVersions(t, s); len(got) != migrationCount(t) {
			t.Fatalf("after Open #%d goose recorded versions %v, want each of the %d migrations once", i+1, got, migrationCount(t))
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOpeningANewFileFromManyProcessesAtOnceSucceeds(t *testing.T) {
	// Separate pools on one file lock like separate processes do.
	path := tempPath(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			s, err := Open(context.Background(), path, testLogger(t))
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open #%d: %v", i, err)
		}
	}
	s := openPath(t, path)
	if got := appliedVersions(t, s); len(got) != migrationCount(t) {
		t.Fatalf("goose recorded versions %v, want each migration once", got)
	}
}

func TestEveryPooledConnectionGetsThePragmas(t *testing.T) {
	ctx := context.Background()
	s := openPath(t, tempPath(t))
	// Hold several connections at once so the pool must open new ones.
	for i := range 4 {
		conn, err := s.SQL().Connx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		for _, p := range []struct{ pragma, want string }{
			{"journal_mode", "wal"},
			{"busy_timeout", "5000"},
			{"foreign_keys", "1"},
			{"synchronous", "1"}, // NORMAL
			{"temp_store", "2"},  // MEMORY
		} {
			var got string
			if err := conn.QueryRowContext(ctx, "PRAGMA "+p.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if !strings.EqualFold(got, p.want) {
				t.Errorf("connection %d: PRAGMA %s = %s, want %s", i, p.pragma, got, p.want)
			}
		}
	}
}

func TestHistoryUsesTheIndexWithoutSorting(t *testing.T) {
	s := openPath(t, tempPath(t))
	rows, err := s.SQL().Query("EXPLAIN QUERY PLAN "+s.HistorySQL(), "o", "k", 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	text := strings.Join(plan, "\n")
	if !strings.Contains(text, "USING INDEX kr_values_kr_at") || strings.Contains(text, "TEMP B-TREE") {
		t.Fatalf("History's plan does not use kr_values_kr_at for both filter and order:\n%s", text)
	}
}

func TestOpenCreatesTheDirectoryAndAcceptsAnyFileName(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nested", "dir", "okrd 50%?#.db")
	s := openPath(t, path)
	if err := s.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the database is not at %q: %v", path, err)
	}
}

func TestOpenRejectsAnEmptyPath(t *testing.T) {
	if _, err := Open(context.Background(), "", nil); err == nil {
		t.Fatal("Open(\"\"): no error")
	}
}

func TestBackupWritesAConsistentCopy(t *testing.T) {
	ctx := context.Background()
	s := openPath(t, tempPath(t))
	if err := s.AppendValues(ctx, store.Value{ObjectiveID: "o", KeyResultID: "k", At: t0, Value: 1}); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(t.TempDir(), "backup.db")
	if err := s.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	if err := s.Backup(ctx, backup); err == nil {
		t.Fatal("a second Backup over an existing file: no error")
	}
	b := openPath(t, backup)
	vals, err := b.History(ctx, "o", "k", time.Time{}, time.Time{})
	if err != nil || len(vals) != 1 {
		t.Fatalf("History of the backup = %+v, %v; want one value", vals, err)
	}
}

// ---- Tests that need a second process.

const (
	helperEnv     = "OKRD_SQLITE_TEST_HELPER"
	helperPathEnv = "OKRD_SQLITE_TEST_PATH"
)

// runHelper re-executes the test binary as a separate process running
// TestHelperProcess in the given mode against path.
func helperCommand(t *testing.T, mode, path string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, helperPathEnv+"="+path)
	return cmd
}

// TestHelperProcess is not a test: the tests below start it as a second
// process. It exits with status 1 on purpose in "crash" mode.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		t.Skip("not a test: the helper process of the crash and second-process tests")
	}
	ctx := context.Background()
	if mode == "lock" {
		// Hold the daemon lock until killed.
		if _, err := LockDaemon(os.Getenv(helperPathEnv)); err != nil {
			fmt.Println("lock:", err)
			os.Exit(2)
		}
		fmt.Println("locked")
		select {}
	}
	s, err := Open(ctx, os.Getenv(helperPathEnv), nil)
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	switch mode {
	case "crash":
		_ = s.Update(ctx, func(tx store.Tx) error {
			// Enough data that SQLite spills uncommitted pages to the
			// WAL before the crash, which must still not count.
			big := make([]byte, 2048)
			var recs []store.Record
			for i := range 4000 {
				recs = append(recs, store.Record{Source: "jira", Kind: "issue", ID: fmt.Sprintf("NEW-%d", i), Data: big})
			}
			if err := tx.PutRecords(ctx, recs...); err != nil {
				return err
			}
			if err := tx.DeleteRecords(ctx, "jira", "issue", "PAY-1"); err != nil {
				return err
			}
			if err := tx.SetCursor(ctx, "jira", "PAY", "half-written"); err != nil {
				return err
			}
			if err := tx.AppendValues(ctx, store.Value{ObjectiveID: "o", KeyResultID: "k", At: t0, Value: 99}); err != nil {
				return err
			}
			fmt.Println("crashing inside Update")
			os.Exit(1)
			return nil
		})
		fmt.Println("Update returned before the crash")
		os.Exit(3)
	case "checkin":
		start := time.Now()
		// The driver consults a call's context while it waits for a lock
		// only when the context can end.
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		wctx := &lockWaitContext{Context: cctx, waiting: func() { fmt.Println(waitingForTheLock) }}
		c, err := s.AddCheckin(wctx, store.Checkin{ObjectiveID: "o", KeyResultID: "nps", At: t0, Value: 37, Author: "cli"})
		if err != nil {
			fmt.Println("checkin:", err)
			os.Exit(2)
		}
		fmt.Printf("checkin %d after %s\n", c.ID, time.Since(start).Round(time.Millisecond))
		if err := s.Close(); err != nil {
			fmt.Println("close:", err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(4)
}

func TestACrashInsideUpdateLeavesThePreviousStateIntact(t *testing.T) {
	ctx := context.Background()
	path := tempPath(t)
	s, err := Open(ctx, path, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(ctx, func(tx store.Tx) error {
		if err := tx.PutRecords(ctx, store.Record{Source: "jira", Kind: "issue", ID: "PAY-1", Data: []byte("v1")}); err != nil {
			return err
		}
		if err := tx.AppendValues(ctx, store.Value{ObjectiveID: "o", KeyResultID: "k", At: t0, Value: 1}); err != nil {
			return err
		}
		return tx.SetCursor(ctx, "jira", "PAY", "v1")
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	out, err := helperCommand(t, "crash", path).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "crashing inside Update") {
		t.Fatalf("the helper did not crash inside Update (err %v):\n%s", err, out)
	}

	s = openPath(t, path)
	if v, ok, err := s.Cursor(ctx, "jira", "PAY"); err != nil || !ok || v != "v1" {
		t.Fatalf("cursor after the crash = %q, %v, %v; want the previous v1", v, ok, err)
	}
	var ids []string
	err = s.Records(ctx, "jira", "", func(r store.Record) error {
		ids = append(ids, r.ID+"="+string(r.Data))
		return nil
	})
	if err != nil || len(ids) != 1 || ids[0] != "PAY-1=v1" {
		t.Fatalf("records after the crash = %v, %v; want only PAY-1=v1", ids, err)
	}
	vals, err := s.ValuesAfter(ctx, 0, 0)
	if err != nil || len(vals) != 1 || vals[0].Value != 1 {
		t.Fatalf("values after the crash = %+v, %v; want only the first", vals, err)
	}
	var check string
	if err := s.SQL().QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check after the crash = %q, %v", check, err)
	}
}

// waitingForTheLock is the line the "checkin" helper prints when its write
// waits for the lock another process holds.
const waitingForTheLock = "waiting for the write lock"

// lockWaitContext calls waiting, once, when SQLite's busy handler consults
// it: modernc.org/sqlite's handler reads the context of the call it waits
// for, between its retries of a lock held elsewhere, and nothing else reads
// it from there. This is how a test knows, without a sleep, that a write is
// waiting for the lock.
type lockWaitContext struct {
	context.Context
	once    sync.Once
	waiting func()
}

func (c *lockWaitContext) Done() <-chan struct{} {
	pcs := make([]uintptr, 1)
	if runtime.Callers(2, pcs) == 1 {
		if f, _ := runtime.CallersFrames(pcs).Next(); strings.HasPrefix(f.Function, "modernc.org/sqlite.") && strings.HasSuffix(f.Function, ".busyHandler") {
			c.once.Do(c.waiting)
		}
	}
	return c.Context.Done()
}

func TestASecondProcessCanWriteACheckinWhileTheDaemonWrites(t *testing.T) {
	ctx := context.Background()
	path := tempPath(t)
	daemon := openPath(t, path)

	cmd := helperCommand(t, "checkin", path)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 16)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var out []string
	// The daemon holds the write lock while the CLI starts and tries to
	// write, and until the CLI says it is waiting for the lock; the CLI
	// must wait for it (busy_timeout), not fail.
	err = daemon.Update(ctx, func(tx store.Tx) error {
		if err := tx.PutRecords(ctx, store.Record{Source: "jira", Kind: "issue", ID: "PAY-1"}); err != nil {
			return err
		}
		if err := cmd.Start(); err != nil {
			return err
		}
		safety := time.NewTimer(time.Minute)
		defer safety.Stop()
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					return fmt.Errorf("the CLI ended without waiting for the lock: %q %s", out, stderr.String())
				}
				out = append(out, l)
				if l == waitingForTheLock {
					return tx.SetCursor(ctx, "jira", "PAY", "1")
				}
			case <-safety.C:
				return fmt.Errorf("the CLI did not wait for the lock within a minute: %q %s", out, stderr.String())
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	// Meanwhile the daemon keeps reading and writing.
	for i := range 20 {
		if err := daemon.AppendValues(ctx, store.Value{ObjectiveID: "o", KeyResultID: "k", At: t0, Value: float64(i)}); err != nil {
			t.Fatal(err)
		}
		if _, err := daemon.History(ctx, "o", "nps", time.Time{}, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	for l := range lines {
		out = append(out, l)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the CLI process failed: %v\n%q %s", err, out, stderr.String())
	}
	t.Logf("CLI: %q", out)

	var fields []string
	if len(out) > 0 {
		fields = strings.Fields(out[len(out)-1])
	}
	if len(fields) < 2 || fields[0] != "checkin" {
		t.Fatalf("unexpected CLI output %q", out)
	}
	id, _ := strconv.ParseInt(fields[1], 10, 64)
	vals, err := daemon.History(ctx, "o", "nps", time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(vals) != 1 || vals[0].Origin != "checkin:"+strconv.FormatInt(id, 10) || vals[0].Value != 37 {
		t.Fatalf("the daemon sees %+v, want the CLI's check-in %d", vals, id)
	}
	if v, ok, err := daemon.Cursor(ctx, "jira", "PAY"); err != nil || !ok || v != "1" {
		t.Fatalf("the daemon's own write was lost: cursor %q, %v, %v", v, ok, err)
	}
}
