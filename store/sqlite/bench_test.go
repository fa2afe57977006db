package sqlite

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/okrd/okrd/store"
)

// BenchmarkAppendValues measures one AppendValues call of 1,000 values, the
// size of an evaluator pass over a large config.
func BenchmarkAppendValues(b *testing.B) {
	ctx := context.Background()
	s := openPath(b, tempPath(b))
	batch := make([]store.Value, 1000)
	for i := range batch {
		batch[i] = store.Value{ObjectiveID: "o" + strconv.Itoa(i%10), KeyResultID: "kr" + strconv.Itoa(i%100),
			At: t0.Add(time.Duration(i) * time.Second), Value: float64(i), Origin: "source:bench"}
	}
	for b.Loop() {
		if err := s.AppendValues(ctx, batch...); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "values/s")
}

// BenchmarkHistory reads the 1,000 points of one key result out of 100,000
// rows spread over 100 key results, as a dashboard's history panel does.
func BenchmarkHistory(b *testing.B) {
	ctx := context.Background()
	s := openPath(b, tempPath(b))
	const keyResults, points = 100, 1000
	batch := make([]store.Value, 0, keyResults)
	for p := range points {
		batch = batch[:0]
		for k := range keyResults {
			batch = append(batch, store.Value{ObjectiveID: "o", KeyResultID: "kr" + strconv.Itoa(k),
				At: t0.Add(time.Duration(p) * time.Hour), Value: float64(p)})
		}
		if err := s.AppendValues(ctx, batch...); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		vals, err := s.History(ctx, "o", "kr42", time.Time{}, time.Time{})
		if err != nil {
			b.Fatal(err)
		}
		if len(vals) != points {
			b.Fatalf("got %d points, want %d", len(vals), points)
		}
	}
}

// BenchmarkPutRecords upserts 1,000 records of 1 KiB in one transaction,
// with their change numbers (record_changes), over a source that already
// holds them: the write of one page of a sync.
func BenchmarkPutRecords(b *testing.B) {
	ctx := context.Background()
	s := benchStore(b)
	recs := make([]store.Record, 1000)
	data := make([]byte, 1024)
	for i := range recs {
		recs[i] = store.Record{Source: "jira", Scope: "PAY", Kind: "issue", ID: "PAY-" + strconv.Itoa(i), UpdatedAt: t0, Data: data}
	}
	for b.Loop() {
		if err := s.Update(ctx, func(tx store.Tx) error { return tx.PutRecords(ctx, recs...) }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(recs))/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkRecordChanges reads the 1,000 records changed last among
// 100,000 of a source, as a follower does after a poll of the leader.
func BenchmarkRecordChanges(b *testing.B) {
	ctx := context.Background()
	s := benchStore(b)
	data := make([]byte, 1024)
	recs := make([]store.Record, 1000)
	for page := range 100 {
		for i := range recs {
			recs[i] = store.Record{Source: "jira", Kind: "issue", ID: "PAY-" + strconv.Itoa(page*1000+i), Data: data}
		}
		if err := s.Update(ctx, func(tx store.Tx) error { return tx.PutRecords(ctx, recs...) }); err != nil {
			b.Fatal(err)
		}
	}
	seq, err := s.RecordSeq(ctx, "jira")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		cs, err := s.RecordChanges(ctx, "jira", seq-1000, 0)
		if err != nil {
			b.Fatal(err)
		}
		if len(cs) != 1000 {
			b.Fatalf("%d changes, want 1000", len(cs))
		}
	}
}

func benchStore(b *testing.B) *Store { return openPath(b, tempPath(b)) }
