package app

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/okrd/okrd/alerting"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/notify"
)

const receiversConfig = `
[global]
time_zone = "UTC"

[storage]
driver = "sqlite"
dsn = "{{DB}}"

[[objectives]]
id = "grow"
title = "Grow the product"
period = "2026-Q4"
  [[objectives.key_results]]
  id = "nps"
  title = "NPS from 31 to 40"
  baseline = 31
  target = 40

[alerting]
{{RECEIVERS}}
`

func loadReceivers(t *testing.T, receivers string) *config.Config {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Load(writeConfig(t, dir, strings.ReplaceAll(receiversConfig, "{{RECEIVERS}}", receivers)))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func testAlert() *notify.Alert {
	return &notify.Alert{Labels: map[string]string{"alertname": "OKRKeyResultOffTrack", "objective": "grow", "key_result": "nps"},
		StartsAt: fixedNow}
}

// recorder records the headers of every request it gets.
type recorder struct {
	mu      sync.Mutex
	headers []http.Header
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.headers = append(r.headers, req.Header.Clone())
	r.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.headers)
}

func TestNoReceiverFollowsARedirect(t *testing.T) {
	elsewhere := &recorder{}
	other := httptest.NewServer(elsewhere)
	defer other.Close()
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/steal?token=stolen-token", http.StatusTemporaryRedirect)
	}))
	defer redirector.Close()
	cfg := loadReceivers(t, `default_receiver = "hook"

[[alerting.receivers]]
name = "chat"
type = "slack"
url = "`+redirector.URL+`/services/T000/B000/slack-token"

[[alerting.receivers]]
name = "hook"
type = "webhook"
url = "`+redirector.URL+`/hook"
hmac_secret = "hmac-key"
headers = { Authorization = "Bearer hook-bearer" }

[[alerting.receivers]]
name = "am"
type = "alertmanager"
url = "`+redirector.URL+`"
headers = { Authorization = "Bearer am-bearer" }
`)
	a := &App{}
	ac := alertingConfig(a, cfg, &receiverClients{})
	if len(ac.Receivers) != 3 {
		t.Fatalf("%d receivers, want 3", len(ac.Receivers))
	}
	u, _ := url.Parse(other.URL)
	for _, rc := range ac.Receivers {
		t.Run(rc.Type, func(t *testing.T) {
			retry, err := rc.Notifier.Notify(context.Background(), testAlert())
			if err == nil || retry {
				t.Fatalf("Notify through a redirect: retry %v, err %v; want an error, not retried", retry, err)
			}
			if n := elsewhere.count(); n != 0 {
				t.Fatalf("the redirect was followed: the other server got %d requests", n)
			}
			msg := err.Error()
			if !strings.Contains(msg, "redirect to http://"+u.Host) {
				t.Errorf("the error does not name where the redirect pointed: %s", msg)
			}
			for _, secret := range []string{"stolen-token", "slack-token", "hmac-key", "hook-bearer", "am-bearer"} {
				if strings.Contains(msg, secret) {
					t.Errorf("the error shows %q: %s", secret, msg)
				}
			}
		})
	}
}

// connCounter is a server that counts the connections it accepted and
// reports each one it saw closed.
type connCounter struct {
	*httptest.Server
	mu     sync.Mutex
	opened int
	closed chan struct{}
}

func newConnCounter(t *testing.T) *connCounter {
	c := &connCounter{closed: make(chan struct{}, 16)}
	c.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
	}))
	c.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			c.mu.Lock()
			c.opened++
			c.mu.Unlock()
		case http.StateClosed:
			c.closed <- struct{}{}
		}
	}
	c.Start()
	t.Cleanup(c.Close)
	return c
}

func (c *connCounter) connections() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.opened
}

// waitClosed waits until the server saw a connection close.
func (c *connCounter) waitClosed(t *testing.T, why string) {
	t.Helper()
	select {
	case <-c.closed:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: the receiver's idle connection is still open after 10s", why)
	}
}

func webhookReceiver(url string) string {
	return `default_receiver = "hook"

[[alerting.receivers]]
name = "hook"
type = "webhook"
url = "` + url + `/hook"
`
}

func notifyAll(t *testing.T, ac []alerting.Receiver) {
	t.Helper()
	for _, rc := range ac {
		if _, err := rc.Notifier.Notify(context.Background(), testAlert()); err != nil {
			t.Fatalf("%s: %v", rc.Receiver, err)
		}
	}
}

func TestReloadReusesTheConnectionsOfAnUnchangedReceiverAndClosesTheOthers(t *testing.T) {
	first, second := newConnCounter(t), newConnCounter(t)
	a := &App{}
	clients := &receiverClients{}

	notifyAll(t, alertingConfig(a, loadReceivers(t, webhookReceiver(first.URL)), clients).Receivers)
	// A reload that leaves the receiver as it was keeps its connection.
	notifyAll(t, alertingConfig(a, loadReceivers(t, webhookReceiver(first.URL)), clients).Receivers)
	if n := first.connections(); n != 1 {
		t.Errorf("two notifications on either side of a reload opened %d connections, want 1", n)
	}

	// A reload that points the receiver elsewhere closes the old
	// connection.
	notifyAll(t, alertingConfig(a, loadReceivers(t, webhookReceiver(second.URL)), clients).Receivers)
	first.waitClosed(t, "after the receiver moved to another host")

	// A reload that removes the receiver closes its connection.
	alertingConfig(a, loadReceivers(t, ""), clients)
	second.waitClosed(t, "after the receiver was removed")
}
