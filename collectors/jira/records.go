package jira

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sync"

	jm "github.com/okrd/okrd/metrics/jira"
	"github.com/okrd/okrd/store"
)

// Issue records are written in the binary form of metrics/jira
// (Issue.AppendBinary), whose first byte is its version; records written
// before okrd stored issues in binary are JSON, and are read as such
// until the issue is synced again (or `okrd sync --resync` rewrites them
// all). See docs/sources/jira.md, "Records".

// encodeIssue returns the record data of an issue.
func encodeIssue(is *jm.Issue) ([]byte, error) { return is.MarshalBinary() }

// decodeIssue reads an issue record of either format into is.
func decodeIssue(data []byte, is *jm.Issue) error {
	switch {
	case len(data) == 0:
		return errors.New("empty issue record")
	case binaryRecord(data):
		return is.UnmarshalBinary(data)
	case data[0] == '{':
		*is = jm.Issue{}
		return json.Unmarshal(data, is)
	}
	return fmt.Errorf("issue record of unknown format %d (written by a newer okrd?)", data[0])
}

// loadBatch is how many issue records one decoding job takes.
const loadBatch = 512

// loadJob is one batch of issue records: the JSON ones are decoded by a
// worker, the binary ones are put into the model as they are.
type loadJob struct {
	data []byte // the records, one after the other
	ends []int  // where each ends in data
	out  []jm.Issue
	ok   []bool
	done chan struct{}
}

// loadRecords reads every record of the source into a new model. The
// binary issue records go straight into the model (Model.PutRecord) on a
// goroutine of their own while the store goes on reading; records still
// in JSON are decoded on worker goroutines first, a batch at a time.
// Either way the issues are put in the store's order: the order of the
// model is the order in which sprint reports add up story points, which
// must not depend on the goroutines. It returns the model and the number
// of records that do not decode.
func loadRecords(ctx context.Context, st store.Store, source string, cats jm.Categories) (*jm.Model, int, error) {
	m := jm.NewModel(cats)
	// Knowing how many issues come lets the model take the room for them
	// at once. Without the count the load only takes longer.
	if counts, err := st.CountRecords(ctx); err == nil {
		m.Grow(int(counts[source][KindIssue]))
	}
	workers := max(1, runtime.GOMAXPROCS(0))
	jobs := make(chan *loadJob, 2*workers)
	ordered := make(chan *loadJob, 4*workers)
	free := make(chan *loadJob, 6*workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for j := range jobs {
				start := 0
				for i, end := range j.ends {
					if rec := j.data[start:end]; !binaryRecord(rec) {
						j.ok[i] = decodeIssue(rec, &j.out[i]) == nil
					}
					start = end
				}
				close(j.done)
			}
		})
	}
	skipped := 0
	put := make(chan struct{})
	go func() {
		defer close(put)
		for j := range ordered {
			<-j.done
			start := 0
			for i, end := range j.ends {
				rec := j.data[start:end]
				start = end
				switch {
				case binaryRecord(rec):
					if m.PutRecord(rec) != nil {
						skipped++
					}
				case j.ok[i]:
					m.PutIssue(&j.out[i])
					j.out[i] = jm.Issue{}
				default:
					skipped++
				}
			}
			select {
			case free <- j:
			default:
			}
		}
	}()

	var cur *loadJob
	send := func() {
		if cur == nil || len(cur.ends) == 0 {
			return
		}
		cur.done = make(chan struct{})
		ordered <- cur
		jobs <- cur
		cur = nil
	}
	var boards []*jm.Board
	var sprints []*jm.Sprint
	otherSkipped := 0
	err := st.Records(ctx, source, "", func(r store.Record) error {
		switch r.Kind {
		case KindIssue:
			if cur == nil {
				select {
				case cur = <-free:
					cur.data, cur.ends = cur.data[:0], cur.ends[:0]
					clear(cur.ok)
				default:
					cur = &loadJob{out: make([]jm.Issue, loadBatch), ok: make([]bool, loadBatch)}
				}
			}
			// A copy: the store may reuse what it handed over.
			cur.data = append(cur.data, r.Data...)
			cur.ends = append(cur.ends, len(cur.data))
			if len(cur.ends) == loadBatch {
				send()
			}
		case KindBoard:
			var b jm.Board
			if err := json.Unmarshal(r.Data, &b); err != nil {
				otherSkipped++
			} else {
				boards = append(boards, &b)
			}
		case KindSprint:
			var sp jm.Sprint
			if err := json.Unmarshal(r.Data, &sp); err != nil {
				otherSkipped++
			} else {
				sprints = append(sprints, &sp)
			}
		}
		return nil
	})
	send()
	close(jobs)
	close(ordered)
	wg.Wait()
	<-put
	if err != nil {
		return nil, 0, err
	}
	for _, b := range boards {
		m.PutBoard(b)
	}
	for _, sp := range sprints {
		m.PutSprint(sp)
	}
	return m, skipped + otherSkipped, nil
}

// binaryRecord reports whether an issue record is in the binary format
// (see decodeIssue).
func binaryRecord(data []byte) bool { return jm.IsRecord(data) }
