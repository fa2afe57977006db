package jira

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/okrd/okrd/config"
	jm "github.com/okrd/okrd/metrics/jira"
	"github.com/okrd/okrd/sandbox/jirafake"
	"github.com/okrd/okrd/store"
)

// rawRecord returns the stored data of an issue record.
func (e *env) rawRecord(key string) []byte {
	e.t.Helper()
	var data []byte
	err := e.st.Records(context.Background(), "jira", KindIssue, func(r store.Record) error {
		if r.ID == key {
			data = r.Data
		}
		return nil
	})
	if err != nil || data == nil {
		e.t.Fatalf("no record of %s (%v)", key, err)
	}
	return data
}

// putRawRecord replaces an issue record's data as is.
func (e *env) putRawRecord(key string, data []byte) {
	e.t.Helper()
	ctx := context.Background()
	err := e.st.Update(ctx, func(tx store.Tx) error {
		return tx.PutRecords(ctx, store.Record{Source: "jira", Scope: "PAY", Kind: KindIssue, ID: key, UpdatedAt: now, Data: data})
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// TestIssueRecordsAreBinaryAndJSONOnesStillLoad: the sync writes issue
// records in the binary format; records written as JSON by an earlier
// okrd load as before and give the same figures, until the issue is
// synced again and its record rewritten; a record of a format this okrd
// does not know is skipped with a warning, not fatal.
func TestIssueRecordsAreBinaryAndJSONOnesStillLoad(t *testing.T) {
	e := fixtureEnv(t, jirafake.Cloud, nil)
	e.mustPoll()
	for _, key := range []string{"PAY-1", "PAY-2", "PAY-6"} {
		if data := e.rawRecord(key); !jm.IsRecord(data) {
			t.Fatalf("%s is stored as %q..., want the binary format", key, data[:min(len(data), 10)])
		}
	}
	want := exposition(t, e.src)

	// An earlier okrd wrote PAY-1 and PAY-2 as JSON.
	for _, key := range []string{"PAY-1", "PAY-2"} {
		is := e.issue(key)
		data, err := json.Marshal(is)
		if err != nil {
			t.Fatal(err)
		}
		e.putRawRecord(key, data)
	}
	e.src = e.newSource()
	e.fake.ResetRequests()
	if m := e.value(&config.KeyResult{Metric: "velocity"}); !m.OK || m.Value != 5 {
		t.Errorf("velocity from JSON records = %+v, want 5", m)
	}
	e.src.mu.Lock()
	e.src.exp.Update(e.src.model, e.src.now(), e.src.exportOptions())
	e.src.mu.Unlock()
	if got := exposition(t, e.src); !bytes.Equal(got, want) {
		t.Errorf("series from JSON records differ:\n%s\nwant\n%s", got, want)
	}

	// PAY-2 is updated in Jira: its record is rewritten in binary.
	e.clk.Set(now.Add(time.Hour))
	must(e.fake.Transition("PAY-2", jirafake.StatusInReview, now.Add(30*time.Minute)))
	e.mustPoll()
	if data := e.rawRecord("PAY-2"); !jm.IsRecord(data) {
		t.Errorf("PAY-2 synced again is stored as %q..., want the binary format", data[:10])
	}
	if data := e.rawRecord("PAY-1"); data[0] != '{' {
		t.Errorf("PAY-1, not synced again, is stored as %q..., want its JSON kept", data[:10])
	}

	// A record from a newer okrd, and one cut short.
	e.putRawRecord("PAY-3", []byte{jm.RecordVersion + 1, 1, 2, 3})
	pay4 := e.rawRecord("PAY-4")
	e.putRawRecord("PAY-4", pay4[:len(pay4)/2])
	e.logs.Reset()
	e.src = e.newSource()
	if m := e.value(&config.KeyResult{Metric: "velocity"}); !m.OK || m.Value != 5 {
		t.Errorf("velocity with unreadable records = %+v, want 5", m)
	}
	if got := e.logs.String(); !strings.Contains(got, "do not decode were skipped") || !strings.Contains(got, "count=2") {
		t.Errorf("logs = %s, want a warning about the two skipped records", got)
	}
	if e.src.model.Has("PAY-3") || e.src.model.Has("PAY-4") {
		t.Error("an unreadable record was loaded")
	}
}

// TestTheLoadKeepsTheStoresOrder loads more issues than the workers take
// in a few batches and finds them in the model in the store's order,
// with the exported series those of the issues put one by one.
func TestTheLoadKeepsTheStoresOrder(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 6,000 issues")
	}
	e := generatedEnv(t, jirafake.Cloud, 6000)
	e.quiet = true
	e.mustPoll()
	var keys []string
	serial := jm.NewModel(e.src.cats)
	err := e.st.Records(context.Background(), "jira", "", func(r store.Record) error {
		switch r.Kind {
		case KindIssue:
			keys = append(keys, r.ID)
			var is jm.Issue
			if err := decodeIssue(r.Data, &is); err != nil {
				return err
			}
			serial.PutIssue(&is)
		case KindBoard:
			var b jm.Board
			if err := json.Unmarshal(r.Data, &b); err != nil {
				return err
			}
			serial.PutBoard(&b)
		case KindSprint:
			var sp jm.Sprint
			if err := json.Unmarshal(r.Data, &sp); err != nil {
				return err
			}
			serial.PutSprint(&sp)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	m, skipped, err := loadRecords(context.Background(), e.st, "jira", e.src.cats)
	if err != nil || skipped != 0 {
		t.Fatalf("loadRecords: %d skipped, %v", skipped, err)
	}
	i := 0
	m.Each(func(is *jm.Issue) {
		if i < len(keys) && is.Key != keys[i] {
			t.Fatalf("issue %d is %s, want %s", i, is.Key, keys[i])
		}
		i++
	})
	if i != len(keys) || len(keys) != 6000 {
		t.Fatalf("loaded %d issues of %d stored, want 6000", i, len(keys))
	}
	a, b := jm.NewExporter("jira"), jm.NewExporter("jira")
	a.Update(m, now, e.src.exportOptions())
	b.Update(serial, now, e.src.exportOptions())
	if got, want := gatherText(t, a), gatherText(t, b); got != want {
		t.Errorf("the loaded model's series differ from the serial one's")
	}
}

// gatherText is the text exposition of a collector's series.
func gatherText(t *testing.T, c prometheus.Collector) string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	return buf.String()
}
