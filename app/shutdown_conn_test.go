package app

import (
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"
)

func TestAConnectionThatSentNothingDoesNotOutliveOkrd(t *testing.T) {
	ta := startApp(t, "", baseConfig, fixedClock, func(o *Options) { o.ShutdownTimeout = 100 * time.Millisecond })
	// A client's spare keep-alive connection: open, and no request yet.
	conn, err := net.Dial("tcp", ta.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ta.stop()
	// Left open, the connection would be closed only when the server's
	// wait for its request headers ends, after 10 s; closed by okrd, it
	// ends at once. Half of that wait tells the two apart on any machine.
	if err := conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	// Closed, the read ends with EOF, or with a reset when the kernel
	// closed a connection the server had not accepted yet; left open, it
	// times out.
	if _, err := conn.Read(make([]byte, 1)); !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("reading the connection after okrd stopped gave %v, want EOF or a reset: okrd left it open", err)
	}
}
