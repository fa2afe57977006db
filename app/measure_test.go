package app

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	// The http_json source type, as okrd's binary links it.
	_ "github.com/okrd/okrd/collectors/httpjson"
	"github.com/okrd/okrd/store"
)

func (c *mutableClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

const liveConfig = `
[global]
time_zone = "UTC"
evaluation_interval = "1h"

[server]
listen_address = "127.0.0.1:0"

[storage]
driver = "sqlite"
dsn = "{{DB}}"

[sources.api]
type = "http_json"
interval = "1h"
url = "{{API}}"

[[objectives]]
id = "growth"
title = "Grow"
period = "2026-Q4"

  [[objectives.key_results]]
  id = "signups"
  title = "Weekly sign-ups from 100 to 250"
  source = "api"
  path = "/signups"
  json_path = "$.count"
  baseline = 100
  target = 250
`

// TestALiveValueIsStoredAtTheInstantItWasMeasured runs okrd on a pinned
// clock against an analytics API that answers 90 seconds after the poll
// ended (it moves the clock as it answers): the value is stored at the
// instant the API answered, not at the end of the poll.
func TestALiveValueIsStoredAtTheInstantItWasMeasured(t *testing.T) {
	clock := &mutableClock{now: fixedNow}
	measured := fixedNow.Add(90 * time.Second)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		clock.Set(measured)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"count": 180}`))
	}))
	t.Cleanup(api.Close)

	ta := startApp(t, "", strings.ReplaceAll(liveConfig, "{{API}}", api.URL), clock.Now,
		func(o *Options) { o.NoStartJitter = true })
	var vals []store.Value
	waitFor(t, func() bool {
		var err error
		vals, err = ta.Store().History(context.Background(), "growth", "signups", time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		return len(vals) > 0
	})
	// The first poll of an http_json source only checks it, and ends at
	// fixedNow; the measurement after it asks the API, which answers at
	// fixedNow + 90s.
	if v := vals[0]; v.Value != 180 || !v.At.Equal(measured) || v.Origin != "source:api" {
		t.Errorf("stored %+v, want 180 at %v from source:api", v, measured)
	}
}
