//go:build !unix && !windows

package sqlite

import (
	"errors"
	"os"
)

var errWouldBlock = errors.New("the lock is held")

// lockFile does nothing where the operating system offers no file lock
// (wasm, plan9): a second daemon is not refused there.
func lockFile(*os.File) error { return nil }
