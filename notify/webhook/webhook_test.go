package webhook

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/okrd/okrd/notify"
)

var (
	started = time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)
	sentAt  = time.Date(2026, 11, 15, 13, 0, 0, 0, time.UTC)
)

func alerts() []*notify.Alert {
	return []*notify.Alert{
		{
			Labels:       map[string]string{"alertname": "OKRKeyResultOffTrack", "objective": "grow", "key_result": "nps", "severity": "critical"},
			Annotations:  map[string]string{"summary": `Key result "NPS at 40" is off track`, "progress": "25%"},
			StartsAt:     started,
			GeneratorURL: "https://okrd.example.com/#obj-grow",
		},
		{
			Labels:   map[string]string{"alertname": "OKRSourceDown", "source": "jira", "type": "jira", "severity": "warning"},
			StartsAt: started, EndsAt: sentAt,
		},
	}
}

// capture is an httptest receiver that records one request.
type capture struct {
	header http.Header
	body   []byte
	status int
}

func (c *capture) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.header = r.Header.Clone()
	c.body, _ = io.ReadAll(r.Body)
	if c.status != 0 {
		w.WriteHeader(c.status)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func TestPayloadIsTheDocumentedJSON(t *testing.T) {
	c := &capture{}
	srv := httptest.NewServer(c)
	defer srv.Close()
	n := New(Config{Receiver: "ops", URL: srv.URL + "/hooks/okrd", ExternalURL: "https://okrd.example.com/",
		Now: func() time.Time { return sentAt }}, srv.Client())
	if _, err := n.Notify(context.Background(), alerts()...); err != nil {
		t.Fatal(err)
	}
	// The fingerprints are Alertmanager's, computed from the labels.
	fp0, fp1 := alerts()[0].Fingerprint(), alerts()[1].Fingerprint()
	want := `{
  "version": "1",
  "receiver": "ops",
  "status": "firing",
  "alerts": [
    {
      "status": "firing",
      "labels": {"alertname": "OKRKeyResultOffTrack", "key_result": "nps", "objective": "grow", "severity": "critical"},
      "annotations": {"progress": "25%", "summary": "Key result \"NPS at 40\" is off track"},
      "startsAt": "2026-11-15T12:00:00Z",
      "generatorURL": "https://okrd.example.com/#obj-grow",
      "fingerprint": "` + fp0 + `"
    },
    {
      "status": "resolved",
      "labels": {"alertname": "OKRSourceDown", "severity": "warning", "source": "jira", "type": "jira"},
      "annotations": {},
      "startsAt": "2026-11-15T12:00:00Z",
      "endsAt": "2026-11-15T13:00:00Z",
      "fingerprint": "` + fp1 + `"
    }
  ],
  "externalURL": "https://okrd.example.com/",
  "timestamp": "2026-11-15T13:00:00Z"
}`
	var got, exp any
	if err := json.Unmarshal(c.body, &got); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, c.body)
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatal(err)
	}
	gb, _ := json.Marshal(got)
	eb, _ := json.Marshal(exp)
	if string(gb) != string(eb) {
		t.Errorf("payload:\n%s\nwant:\n%s", gb, eb)
	}
	if c.header.Get("Content-Type") != "application/json" || !strings.HasPrefix(c.header.Get("User-Agent"), "okrd/") {
		t.Errorf("headers: %v", c.header)
	}
	if c.header.Get(SignatureHeader) != "" {
		t.Errorf("unsigned receiver sent a signature")
	}
}

func TestStatusIsResolvedWhenEveryAlertIs(t *testing.T) {
	n := New(Config{Now: func() time.Time { return sentAt }}, nil)
	if p := n.Build(alerts()[1:]); p.Status != "resolved" {
		t.Errorf("status = %s", p.Status)
	}
}

func TestSignatureAndHeaders(t *testing.T) {
	c := &capture{}
	srv := httptest.NewServer(c)
	defer srv.Close()
	secret := []byte("s3cr3t")
	n := New(Config{Receiver: "ops", URL: srv.URL, Secret: secret,
		Header: http.Header{"Authorization": {"Bearer tok"}, "X-Team": {"web"}}}, srv.Client())
	if _, err := n.Notify(context.Background(), alerts()...); err != nil {
		t.Fatal(err)
	}
	// What a receiver does: recompute the HMAC of the raw body and compare
	// in constant time.
	want := Sign(secret, c.body)
	got := c.header.Get(SignatureHeader)
	if !hmac.Equal([]byte(got), []byte(want)) || !strings.HasPrefix(got, "sha256=") || len(got) != len("sha256=")+64 {
		t.Errorf("signature %q, want %q", got, want)
	}
	if c.header.Get("Authorization") != "Bearer tok" || c.header.Get("X-Team") != "web" {
		t.Errorf("configured headers missing: %v", c.header)
	}
	// A known vector: HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog").
	if s := Sign([]byte("key"), []byte("The quick brown fox jumps over the lazy dog")); s != "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8" {
		t.Errorf("Sign = %s", s)
	}
}

func TestErrors(t *testing.T) {
	for _, tt := range []struct {
		status    int
		wantRetry bool
	}{{400, false}, {401, false}, {403, false}, {404, false}, {429, true}, {500, true}, {503, true}} {
		c := &capture{status: tt.status}
		srv := httptest.NewServer(c)
		retry, err := New(Config{URL: srv.URL + "/hook?token=SECRET"}, srv.Client()).Notify(context.Background(), alerts()...)
		srv.Close()
		if err == nil || retry != tt.wantRetry {
			t.Errorf("HTTP %d: Notify = (%v, %v), want retry %v", tt.status, retry, err, tt.wantRetry)
			continue
		}
		if strings.Contains(err.Error(), "SECRET") {
			t.Errorf("HTTP %d: error leaks the URL: %v", tt.status, err)
		}
	}
}
