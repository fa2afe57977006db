package app

import (
	"io"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/okrd/okrd/store"
)

// lockedWriter serializes writes of concurrent loggers into one buffer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func storeCheckin(obj, kr string, v float64) store.Checkin {
	return store.Checkin{ObjectiveID: obj, KeyResultID: kr, Value: v, At: fixedNow.Add(-time.Hour), Author: "cli"}
}

func TestMain(m *testing.M) {
	// Sources start polling at once in tests.
	startJitter = 10 * time.Millisecond
	os.Exit(m.Run())
}
