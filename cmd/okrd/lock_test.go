package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A second daemon on a SQLite file is refused (docs/ha.md); the short
// commands keep working while the first one runs.
func TestASecondDaemonIsRefusedAndCheckinAndReportStillWork(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, cliConfig)
	done := make(chan int, 1)
	w := &syncBuffer{b: &bytes.Buffer{}}
	go func() { done <- run([]string{"run", "--config", p}, &bytes.Buffer{}, w) }()
	waitLog(t, w, "listening")
	db := filepath.Join(dir, "okrd.db")
	for _, cmd := range []string{"run", "sync"} {
		code, _, errs := runCLI(t, cmd, "--config", p)
		if code != exitFailure {
			t.Errorf("okrd %s beside a running daemon: exit %d, want %d", cmd, code, exitFailure)
		}
		for _, want := range []string{"okrd " + cmd + ": storage:", db + " is in use by another okrd daemon", "process " + strconv.Itoa(os.Getpid()), "PostgreSQL"} {
			if !strings.Contains(errs, want) {
				t.Errorf("okrd %s beside a running daemon says %q, want it to say %q", cmd, errs, want)
			}
		}
	}
	if code, out, errs := runCLI(t, "checkin", "--config", p, "grow/nps", "36", "--at", "2026-11-01"); code != 0 || !strings.Contains(out, "grow/nps = 36") {
		t.Errorf("okrd checkin beside a running daemon: exit %d %s %s", code, out, errs)
	}
	if code, out, errs := runCLI(t, "report", "--config", p, "--at", "2026-11-02"); code != 0 || !strings.Contains(out, "Grow") {
		t.Errorf("okrd report beside a running daemon: exit %d %s %s", code, out, errs)
	}
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("the daemon exited %d:\n%s", code, w.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("okrd run did not stop after SIGTERM")
	}
	// Once it stopped, another one may run.
	if code, _, errs := runCLI(t, "sync", "--config", p); code != 0 {
		t.Errorf("okrd sync after the daemon stopped: exit %d %s", code, errs)
	}
}
