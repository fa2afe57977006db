package web

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/okrd/okrd/config"
)

// safety bounds every wait of these tests. The limits under test are a
// second; safety only keeps a broken limit from hanging the run, and is
// shorter than the default read timeout (30s) so that a limit that falls
// back to the default fails the test.
const safety = 20 * time.Second

// serve runs srv on a loopback port until the test ends and returns its
// address. closed receives each connection the server closes.
func serve(t *testing.T, srv *http.Server) (addr string, closed <-chan struct{}) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan struct{}, 16)
	srv.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateClosed {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(l)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return l.Addr().String(), ch
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.SetDeadline(time.Now().Add(safety)); err != nil {
		t.Fatal(err)
	}
	return conn
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestNewServerBoundsEveryPhaseOfAConnection(t *testing.T) {
	for _, tc := range []struct {
		name                      string
		in                        config.Server
		header, read, write, idle time.Duration
	}{
		{"Unset timeouts take the defaults.", config.Server{}, 10 * time.Second, 30 * time.Second, 2 * time.Minute, 2 * time.Minute},
		{"Configured timeouts are used.", config.Server{ReadTimeout: config.Duration(time.Minute), WriteTimeout: config.Duration(5 * time.Minute), IdleTimeout: config.Duration(time.Hour)},
			10 * time.Second, time.Minute, 5 * time.Minute, time.Hour},
		{"The headers get no longer than the whole request.", config.Server{ReadTimeout: config.Duration(3 * time.Second)},
			3 * time.Second, 3 * time.Second, 2 * time.Minute, 2 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := NewServer(http.NotFoundHandler(), tc.in, discardLogger())
			if srv.ReadHeaderTimeout != tc.header || srv.ReadTimeout != tc.read || srv.WriteTimeout != tc.write || srv.IdleTimeout != tc.idle {
				t.Errorf("header %s read %s write %s idle %s, want %s %s %s %s", srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout,
					tc.header, tc.read, tc.write, tc.idle)
			}
			if srv.MaxHeaderBytes != http.DefaultMaxHeaderBytes {
				t.Errorf("MaxHeaderBytes %d", srv.MaxHeaderBytes)
			}
		})
	}
}

func TestAClientThatTricklesABodyIsCutOffAtTheReadTimeout(t *testing.T) {
	h, b := newCheckinHandler(t)
	addr, _ := serve(t, NewServer(h, config.Server{ReadTimeout: config.Duration(time.Second)}, discardLogger()))
	conn := dial(t, addr)
	// The headers announce 1000 bytes; the client sends 11 and then nothing.
	if _, err := io.WriteString(conn, "POST /api/v1/objectives/grow/key_results/nps/checkins HTTP/1.1\r\nHost: okrd\r\n"+
		"Authorization: Bearer s3cret-token\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"+`{"value": 3`); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer within %s: %v", safety, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(body), "body: not received within server.read_timeout") {
		t.Errorf("got %d %s", resp.StatusCode, body)
	}
	// The server closes the connection: the rest of the body is not waited for.
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Errorf("after the answer the connection gave %v, want EOF", err)
	}
	if n := storedCheckins(t, b); n != 0 {
		t.Errorf("%d check-ins stored from a truncated body", n)
	}
}

func TestAnIdleConnectionIsClosedAtTheIdleTimeout(t *testing.T) {
	b := &fakeBackend{cfg: &config.Config{}, reg: prometheus.NewRegistry()}
	addr, _ := serve(t, NewServer(NewHandler(b, discardLogger()), config.Server{IdleTimeout: config.Duration(time.Second)}, discardLogger()))
	conn := dial(t, addr)
	if _, err := io.WriteString(conn, "GET /-/healthy HTTP/1.1\r\nHost: okrd\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Close {
		t.Fatalf("got %d, close %v; want a kept-alive 200", resp.StatusCode, resp.Close)
	}
	// The client keeps the connection open and sends nothing more.
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Errorf("the idle connection gave %v, want EOF from the server closing it", err)
	}
}

// scrapeBackend serves the exposition of about 20 MB that 11,200 key
// results make (10,000 make 17.97 MB), built once for the tests below. Its
// plain text is encoded ahead, as the daemon does after each evaluation, so
// that the write timeout of a second bounds only the writing.
var scrapeBackend = sync.OnceValue(func() *fakeBackend {
	s := bigSnapshot(11200)
	if _, err := s.Exposition(expfmt.NewFormat(expfmt.TypeTextPlain), false); err != nil {
		panic(err)
	}
	return &fakeBackend{cfg: &config.Config{}, snap: s, reg: prometheus.NewRegistry()}
})

func TestAClientThatStopsReadingIsCutOffAtTheWriteTimeout(t *testing.T) {
	srv := NewServer(NewHandler(scrapeBackend(), discardLogger()), config.Server{WriteTimeout: config.Duration(time.Second)}, discardLogger())
	addr, closed := serve(t, srv)
	conn := dial(t, addr)
	if _, err := io.WriteString(conn, "GET /metrics HTTP/1.1\r\nHost: okrd\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	// The client reads nothing until the server has given up on it.
	select {
	case <-closed:
	case <-time.After(safety):
		t.Fatalf("the server still holds the connection of a client that reads nothing after %s", safety)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	if !errors.Is(err, io.ErrUnexpectedEOF) || n >= 20_000_000 {
		t.Errorf("read %d bytes ending with %v; want a truncated body", n, err)
	}
}

func TestADefaultServerCompletesA20MBScrape(t *testing.T) {
	addr, _ := serve(t, NewServer(NewHandler(scrapeBackend(), discardLogger()), config.Server{}, discardLogger()))
	for _, enc := range []string{"identity", "gzip"} {
		t.Run(enc, func(t *testing.T) {
			req, _ := http.NewRequest("GET", "http://"+addr+"/metrics", nil)
			req.Header.Set("Accept-Encoding", enc) // gzip is then left to us
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			n, err := io.Copy(io.Discard, resp.Body)
			min := int64(20_000_000)
			if enc == "gzip" {
				min = 800_000
			}
			if err != nil || resp.StatusCode != 200 || n < min {
				t.Errorf("got %d, %d bytes, %v; want 200 and at least %d bytes", resp.StatusCode, n, err, min)
			}
		})
	}
}
