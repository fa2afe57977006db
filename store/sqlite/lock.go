package sqlite

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
)

// ErrLocked is returned by LockDaemon when another process holds the lock.
var ErrLocked = errors.New("in use by another okrd daemon")

// DaemonLock keeps a second okrd daemon (okrd run, okrd demo, okrd sync) off
// a SQLite file: SQLite lets several processes write one file, but two
// daemons would poll every source twice and notify twice. It is an
// exclusive lock on PATH.lock, next to the database, which the operating
// system releases when the process ends, however it ends. Short-lived
// commands that do not poll (okrd checkin, okrd report) do not take it and
// work while a daemon runs, through SQLite's own locking.
type DaemonLock struct {
	f    *os.File
	path string
}

// LockPath returns the lock file of the database at path (a file name or a
// "file:" URI), "" for an in-memory database, which no other process can
// open.
func LockPath(path string) string {
	if path == ":memory:" || strings.HasPrefix(path, "file::memory:") || strings.Contains(path, "mode=memory") {
		return ""
	}
	if rest, ok := strings.CutPrefix(path, "file:"); ok {
		rest, _, _ = strings.Cut(rest, "?")
		if u, err := url.PathUnescape(rest); err == nil {
			rest = u
		}
		path = rest
	}
	if path == "" {
		return ""
	}
	return path + ".lock"
}

// LockDaemon takes the daemon lock of the database at path, creating the
// lock file (and its directory) if needed; it fails with ErrLocked, naming
// the process that holds it, when another one does. An in-memory database
// needs no lock: LockDaemon returns nil, nil.
func LockDaemon(path string) (*DaemonLock, error) {
	lp := LockPath(path)
	if lp == "" {
		return nil, nil
	}
	if err := os.MkdirAll(dirOf(lp), 0o750); err != nil {
		return nil, fmt.Errorf("sqlite: create the directory of %s: %w", lp, err)
	}
	f, err := os.OpenFile(lp, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open the lock file %s: %w", lp, err)
	}
	if err := lockFile(f); err != nil {
		holder := ""
		if b, rerr := os.ReadFile(lp); rerr == nil {
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil {
				holder = fmt.Sprintf(" (process %d)", pid)
			}
		}
		f.Close()
		if errors.Is(err, errWouldBlock) {
			return nil, fmt.Errorf("sqlite: %s is %w%s, which holds %s: one daemon per SQLite file; stop the other one, or run several on PostgreSQL (docs/ha.md)",
				path, ErrLocked, holder, lp)
		}
		return nil, fmt.Errorf("sqlite: lock %s: %w", lp, err)
	}
	// The process id helps whoever finds the file, and the message above.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &DaemonLock{f: f, path: lp}, nil
}

// Close releases the lock. The file stays: removing it could let a third
// process lock a new file while a second one still holds the old one.
func (l *DaemonLock) Close() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

func dirOf(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		if i == 0 {
			return p[:1]
		}
		return p[:i]
	}
	return "."
}
