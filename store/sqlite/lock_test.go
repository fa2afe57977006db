package sqlite

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/okrd/okrd/store"
)

func TestLockPath(t *testing.T) {
	for _, tc := range []struct{ name, path, want string }{
		{"a file name", "data/okrd.db", "data/okrd.db.lock"},
		{"a file URI with parameters", "file:/var/lib/okrd/okrd.db?cache=shared", "/var/lib/okrd/okrd.db.lock"},
		{"a file URI with an escaped character", "file:/tmp/a%3fb.db", "/tmp/a?b.db.lock"},
		{"the in-memory database", ":memory:", ""},
		{"an in-memory file URI", "file::memory:?cache=shared", ""},
		{"a file URI in memory mode", "file:x.db?mode=memory", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := LockPath(tc.path); got != tc.want {
				t.Errorf("LockPath(%q) = %q, want %q", tc.path, got, tc.want)
			}
		})
	}
}

func TestASecondDaemonLockIsRefusedNamingTheHolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "okrd.db")
	first, err := LockDaemon(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = LockDaemon(path)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("a second lock = %v, want ErrLocked", err)
	}
	for _, want := range []string{path, fmt.Sprintf("process %d", os.Getpid()), "PostgreSQL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal %q does not say %q", err, want)
		}
	}
	// The database itself stays open to other processes' short commands.
	s, err := Open(context.Background(), path, nil)
	if err != nil {
		t.Fatalf("opening the database while a daemon holds the lock: %v", err)
	}
	if _, err := s.AddCheckin(context.Background(), store.Checkin{ObjectiveID: "o", KeyResultID: "k", Value: 1}); err != nil {
		t.Fatalf("a check-in while a daemon holds the lock: %v", err)
	}
	s.Close()
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := LockDaemon(path)
	if err != nil {
		t.Fatalf("locking after the holder released the lock: %v", err)
	}
	again.Close()
}

func TestAnInMemoryDatabaseNeedsNoLock(t *testing.T) {
	l, err := LockDaemon(":memory:")
	if err != nil || l != nil {
		t.Fatalf("LockDaemon(:memory:) = %v, %v; want nil, nil", l, err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestTheLockOfAKilledDaemonIsReleased(t *testing.T) {
	path := tempPath(t)
	cmd := helperCommand(t, "lock", path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != "locked" {
		_ = cmd.Process.Kill()
		t.Fatalf("the helper did not take the lock: %q", line)
	}
	if _, err := LockDaemon(path); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), fmt.Sprintf("process %d", cmd.Process.Pid)) {
		t.Fatalf("locking while the helper holds the lock = %v, want ErrLocked naming process %d", err, cmd.Process.Pid)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: nothing runs on the way out
		t.Fatal(err)
	}
	_ = cmd.Wait()
	l, err := LockDaemon(path)
	if err != nil {
		t.Fatalf("locking after the holder was killed: %v", err)
	}
	l.Close()
}
