package app

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestReloadOverHTTPNeedsTheLifecycleFlagOrTheAPIToken(t *testing.T) {
	ta := startApp(t, "", baseConfig, fixedClock)
	writeConfig(t, ta.dir, baseConfig+`
[[objectives]]
id = "learn"
title = "Learn"
period = "2026-Q4"
  [[objectives.key_results]]
  id = "interviews"
  title = "Customer interviews"
  baseline = 0
  target = 20
`)
	r := do(t, "POST", ta.url+"/-/reload", "", "")
	if r.code != 403 || !strings.Contains(r.body, "Lifecycle API is not enabled") {
		t.Errorf("reload without the flag or a token: %d %s", r.code, r.body)
	}
	if n := len(getObjectives(t, ta, "")); n != 2 {
		t.Errorf("objectives after a refused reload = %d, want 2", n)
	}
	if r := do(t, "POST", ta.url+"/-/reload", "s3cret-token", ""); r.code != 200 {
		t.Errorf("reload with the API token: %d %s", r.code, r.body)
	}
	if n := len(getObjectives(t, ta, "")); n != 3 {
		t.Errorf("objectives after the reload = %d, want 3", n)
	}
}

func TestTheHTTPServerTakesItsTimeoutsFromTheConfig(t *testing.T) {
	cfg := strings.Replace(baseConfig, `api_token = "s3cret-token"`, `api_token = "s3cret-token"
idle_timeout = "1s"`, 1)
	logger, logs := testLogger(t)
	ta := startApp(t, "", cfg, fixedClock, func(o *Options) { o.Logger = logger })
	conn, err := net.Dial("tcp", ta.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A safety net well under the 2m default idle timeout.
	conn.SetDeadline(time.Now().Add(20 * time.Second))
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
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Errorf("the idle connection gave %v, want EOF after server.idle_timeout", err)
	}

	// The server is built once: a reload says that new timeouts wait for a
	// restart.
	writeConfig(t, ta.dir, strings.Replace(cfg, `idle_timeout = "1s"`, `idle_timeout = "5m"`, 1))
	if err := ta.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	ta.stop() // the log is read once nothing writes to it
	if !strings.Contains(logs.String(), "server timeouts changed; they take effect after a restart") {
		t.Errorf("no warning about the changed timeouts in the log:\n%s", logs.String())
	}
}
