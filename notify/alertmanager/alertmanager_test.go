package alertmanager

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/okrd/okrd/notify"
)

var (
	started = time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)
	now     = time.Date(2026, 11, 15, 13, 0, 0, 0, time.UTC)
)

// fakeAM accepts POST /api/v2/alerts like Alertmanager: a JSON array of
// postable alerts, each with at least one label, endsAt not before
// startsAt; 400 with a JSON string message otherwise.
type fakeAM struct {
	path     string
	received [][]PostableAlert
	status   int
}

func (f *fakeAM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.path = r.URL.Path
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/api/v2/alerts") {
		http.NotFound(w, r)
		return
	}
	if f.status != 0 {
		w.WriteHeader(f.status)
		io.WriteString(w, `"unavailable"`)
		return
	}
	var alerts []PostableAlert
	if err := json.NewDecoder(r.Body).Decode(&alerts); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(err.Error())
		return
	}
	for _, a := range alerts {
		if len(a.Labels) == 0 || (!a.EndsAt.IsZero() && a.EndsAt.Before(a.StartsAt)) {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `"start time must be before end time"`)
			return
		}
	}
	f.received = append(f.received, alerts)
	w.WriteHeader(http.StatusOK)
}

func TestNotifyPostsAlertsWithExpiry(t *testing.T) {
	am := &fakeAM{}
	srv := httptest.NewServer(am)
	defer srv.Close()
	n := New(Config{URL: srv.URL + "/", ExpireAfter: 4 * time.Minute, Now: func() time.Time { return now }}, srv.Client())
	labels := map[string]string{"alertname": "OKRKeyResultOffTrack", "objective": "grow", "key_result": "nps", "severity": "critical", "origin": "okrd"}
	ann := map[string]string{"summary": "s", "progress": "25%"}
	firing := &notify.Alert{Labels: labels, Annotations: ann, StartsAt: started, GeneratorURL: "https://okrd.example.com/#obj-grow"}
	resolved := &notify.Alert{Labels: labels, Annotations: ann, StartsAt: started, EndsAt: now.Add(-time.Minute)}
	if _, err := n.Notify(context.Background(), firing, resolved); err != nil {
		t.Fatal(err)
	}
	if am.path != "/api/v2/alerts" {
		t.Errorf("path = %s", am.path)
	}
	want := []PostableAlert{
		// A firing alert expires 4m after now unless posted again.
		{Labels: labels, Annotations: ann, StartsAt: started, EndsAt: now.Add(4 * time.Minute), GeneratorURL: "https://okrd.example.com/#obj-grow"},
		{Labels: labels, Annotations: ann, StartsAt: started, EndsAt: now.Add(-time.Minute)},
	}
	if len(am.received) != 1 || !reflect.DeepEqual(am.received[0], want) {
		t.Errorf("received %+v\nwant %+v", am.received, want)
	}
}

func TestPathPrefixIsKept(t *testing.T) {
	am := &fakeAM{}
	srv := httptest.NewServer(am)
	defer srv.Close()
	n := New(Config{URL: srv.URL + "/alertmanager", ExpireAfter: time.Minute}, srv.Client())
	if _, err := n.Notify(context.Background(), &notify.Alert{Labels: map[string]string{"alertname": "A"}, StartsAt: started}); err != nil {
		t.Fatal(err)
	}
	if am.path != "/alertmanager/api/v2/alerts" {
		t.Errorf("path = %s", am.path)
	}
}

func TestErrors(t *testing.T) {
	t.Run("an invalid alert (400) is not retried", func(t *testing.T) {
		am := &fakeAM{}
		srv := httptest.NewServer(am)
		defer srv.Close()
		n := New(Config{URL: srv.URL, Now: func() time.Time { return now }}, srv.Client())
		// Resolved before it started: Alertmanager refuses it.
		retry, err := n.Notify(context.Background(), &notify.Alert{Labels: map[string]string{"alertname": "A"}, StartsAt: now, EndsAt: started})
		if err == nil || retry || !strings.Contains(err.Error(), "HTTP 400") {
			t.Errorf("Notify = (%v, %v)", retry, err)
		}
	})
	t.Run("an unavailable Alertmanager (503) is retried", func(t *testing.T) {
		am := &fakeAM{status: http.StatusServiceUnavailable}
		srv := httptest.NewServer(am)
		defer srv.Close()
		retry, err := New(Config{URL: srv.URL}, srv.Client()).Notify(context.Background(), &notify.Alert{Labels: map[string]string{"alertname": "A"}})
		if err == nil || !retry || notify.ReasonOf(err) != notify.ReasonServerError {
			t.Errorf("Notify = (%v, %v)", retry, err)
		}
	})
}
