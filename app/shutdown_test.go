package app

import (
	"context"
	"log/slog"
	"testing"
	"time"
)

func TestShutdownLetsAWriteInFlightFinish(t *testing.T) {
	fakes.reset()
	defer fakes.reset()
	started := make(chan struct{})
	fakes.mu.Lock()
	fakes.started["writer"] = started
	fakes.mu.Unlock()
	defer func() {
		fakes.mu.Lock()
		delete(fakes.started, "writer")
		fakes.mu.Unlock()
	}()
	ta := startApp(t, "", baseConfig+`
[sources.writer]
type = "fake"
interval = "1h"
write_pause = "300ms"
`, fixedClock)
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the source never started writing")
	}
	// SIGTERM arrives while the transaction is open, between the record
	// and the cursor.
	ta.stop()

	st, err := OpenStore(context.Background(), ta.Config().Storage, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cursor, ok, err := st.Cursor(context.Background(), "writer", "all")
	if err != nil || !ok || cursor == "" {
		t.Fatalf("the cursor of the write in flight was lost: %q %v %v", cursor, ok, err)
	}
	counts, err := st.CountRecords(context.Background())
	if err != nil || counts["writer"]["item"] != 1 {
		t.Fatalf("records after shutdown: %v %v", counts, err)
	}
}
