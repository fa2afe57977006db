package jira

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/sandbox/jirafake"
)

// safety bounds the waits of these tests for an event that a correct
// implementation sends at once; it only keeps a broken one from hanging.
const safety = 30 * time.Second

func TestNextPageIsFetchedWhileAPageIsStored(t *testing.T) {
	for _, flavor := range []jirafake.Flavor{jirafake.Cloud, jirafake.DataCenter} {
		t.Run(string(flavor), func(t *testing.T) {
			e := fixtureEnv(t, flavor, nil)
			h := hook(e)
			searchPath := "/" + pathSearchCloud
			if flavor == jirafake.DataCenter {
				searchPath = "/" + pathSearchDC
			}
			// Events: each search asked for (its number), each fetched
			// page waiting for the consumer.
			asked := make(chan int, 10)
			var mu sync.Mutex
			searches := 0
			e.onRequest = func(r *http.Request) {
				if strings.HasSuffix(r.URL.Path, searchPath) {
					mu.Lock()
					searches++
					asked <- searches
					mu.Unlock()
				}
			}
			ready := make(chan struct{}, 10)
			e.src.pipe.ready = func() { ready <- struct{}{} }

			// While page 1 is being stored (inside its transaction), page
			// 2 must be asked for and fetched, and no page after it
			// asked for by the time it waits for the consumer.
			h.beforePage = func(scope string, n int) {
				if scope != cursorIssues || n != 1 {
					return
				}
				wait := time.NewTimer(safety)
				defer wait.Stop()
				readies := 0
				for got2 := false; ; {
					select {
					case k := <-asked:
						if k == 2 {
							got2 = true
						} else if k > 2 {
							t.Errorf("page %d was asked for while page 1 was still being stored: more than one page ahead", k)
							return
						}
					case <-ready:
						readies++
						// The first is page 1's, handed over before it was
						// stored; the second is page 2 waiting. Its request
						// was seen before its answer came back.
						if readies == 2 {
							for drained := false; !drained; {
								select {
								case k := <-asked:
									got2 = got2 || k == 2
									if k > 2 {
										t.Errorf("page %d was asked for while page 1 was still being stored: more than one page ahead", k)
									}
								default:
									drained = true
								}
							}
							if !got2 {
								t.Errorf("a second page waits without a second request")
							}
							return
						}
					case <-wait.C:
						t.Errorf("page 2 was not fetched while page 1 was being stored (asked for: %v, pages fetched: %d)", got2, readies)
						return
					}
				}
			}
			e.mustPoll()
			if n := e.countRecords(KindIssue); n != 6 {
				t.Errorf("stored %d issues, want 6", n)
			}
		})
	}
}

func TestCancellingAPollStopsItsPrefetch(t *testing.T) {
	e := fixtureEnv(t, jirafake.Cloud, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	exited := make(chan struct{}, 10)
	e.src.pipe.exited = func() { exited <- struct{}{} }
	// The poll is cancelled while the second page is in flight; the
	// server answers only once the client has given it up.
	var once sync.Once
	e.onRequest = func(r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/search/jql") && e.fake.Requests()["search/jql"] == 1 {
			once.Do(cancel)
			select {
			case <-r.Context().Done():
			case <-time.After(safety):
				t.Errorf("the request in flight was not given up")
			}
		}
	}
	err := e.src.Poll(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("poll = %v, want it cancelled", err)
	}
	// The prefetching goroutine has ended by the time the poll returns.
	select {
	case <-exited:
	default:
		t.Error("the prefetch still runs after the poll returned")
	}
	// What was stored is consistent: the next poll completes the pass.
	e.onRequest = nil
	e.mustPoll()
	if n := e.countRecords(KindIssue); n != 6 {
		t.Errorf("stored %d issues, want 6", n)
	}
}

func TestARateLimitHoldsBackTheSourcesOtherRequests(t *testing.T) {
	var mu sync.Mutex
	var served []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		served = append(served, r.URL.Path)
		mu.Unlock()
		if strings.HasSuffix(r.URL.Path, "/limited") {
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	spec := &Spec{}
	spec.Defaults()
	spec.URL, spec.Email, spec.Token = srv.URL, testEmail, testToken
	spec.MaxRetries = 0
	c, err := newClient("jira", spec, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	clk := newClock(now)
	c.clock = clk
	// One request meets the limit and gives up (no retries left)...
	var ra *collectors.RetryAfterError
	if err := c.get(context.Background(), "rest/api/2/limited", nil, &struct{}{}); !errors.As(err, &ra) || !ra.Until.Equal(now.Add(30*time.Second)) {
		t.Fatalf("limited request = %v, want a RetryAfterError until +30s", err)
	}
	// ...and the next one (a prefetch beside it, say) waits for the limit
	// to pass before it goes out, instead of meeting it too.
	if err := c.get(context.Background(), "rest/api/2/other", nil, &struct{}{}); err != nil {
		t.Fatal(err)
	}
	if waits := clk.Waits(); !slices.Equal(waits, []time.Duration{30 * time.Second}) {
		t.Errorf("waits = %v, want 30s before the second request", waits)
	}
	// A pause longer than a poll may wait ends the request at once, with
	// the time to come back.
	c.pause(time.Hour)
	err = c.get(context.Background(), "rest/api/2/other", nil, &struct{}{})
	if !errors.As(err, &ra) || !ra.Until.Equal(clk.Now().Add(time.Hour)) {
		t.Errorf("request during a long pause = %v, want a RetryAfterError until +1h", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"/rest/api/2/limited", "/rest/api/2/other"}; !slices.Equal(served, want) {
		t.Errorf("served %v, want %v", served, want)
	}
}
