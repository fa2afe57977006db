package notify

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// headerRecorder is a server that records the headers of every request it
// gets: the other host a redirect points to.
type headerRecorder struct {
	mu      sync.Mutex
	headers []http.Header
}

func (h *headerRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.headers = append(h.headers, r.Header.Clone())
	h.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (h *headerRecorder) got() []http.Header {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.headers
}

func TestPostJSONDoesNotFollowRedirects(t *testing.T) {
	for _, code := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(http.StatusText(code), func(t *testing.T) {
			elsewhere := &headerRecorder{}
			other := httptest.NewServer(elsewhere)
			defer other.Close()
			target := other.URL + "/collect?token=leaked-token"
			receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, target, code)
			}))
			defer receiver.Close()

			header := http.Header{}
			header.Set("Authorization", "Bearer s3cret-bearer")
			header.Set("X-Okrd-Signature-256", "sha256=0123456789abcdef")
			header.Set("X-Api-Key", "s3cret-key")
			// The default client follows redirects; PostJSON must not.
			retry, err := PostJSON(context.Background(), http.DefaultClient, receiver.URL+"/hook", RedactURL(receiver.URL),
				[]byte(`{}`), header)

			if n := len(elsewhere.got()); n != 0 {
				t.Fatalf("the redirect was followed: the other server got %d requests with headers %v", n, elsewhere.got())
			}
			var e *Error
			if !errors.As(err, &e) || e.Reason != ReasonClientError || e.StatusCode != code || retry {
				t.Fatalf("got retry %v, err %#v; want a client error with status %d, not retried", retry, err, code)
			}
			u, _ := url.Parse(other.URL)
			msg := err.Error()
			if !strings.Contains(msg, "redirect to http://"+u.Host) || !strings.Contains(msg, "not followed") {
				t.Errorf("the error does not say where the redirect pointed: %s", msg)
			}
			for _, secret := range []string{"leaked-token", "/collect", "s3cret-bearer", "s3cret-key", "0123456789abcdef"} {
				if strings.Contains(msg, secret) {
					t.Errorf("the error shows %q: %s", secret, msg)
				}
			}
		})
	}
}

func TestPostJSONLeavesTheCallersClientAlone(t *testing.T) {
	client := &http.Client{}
	s, _ := server(t, []int{http.StatusOK}, nil, "")
	if _, err := PostJSON(context.Background(), client, s.URL, RedactURL(s.URL), []byte(`{}`), nil); err != nil {
		t.Fatal(err)
	}
	if client.CheckRedirect != nil {
		t.Error("PostJSON changed the redirect policy of the client it was given")
	}
}
