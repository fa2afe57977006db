package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/okrd/okrd/store"
)

// What several okrd processes sharing one database need (docs/ha.md): the
// change numbers that let a replica follow the records the leader writes,
// and the leadership term that fences the writes of a process that no
// longer leads.

// change is one record key with the change number its write gets.
type change struct {
	recordKey
	seq int64
}

// numberChanges gives the n record keys that key(i) returns their change
// numbers: each source's counter is raised by its number of keys, in
// source order (so that two transactions writing the same sources cannot
// deadlock on the counters), and its keys get the numbers below the new
// value, in their order.
func (t *txn) numberChanges(ctx context.Context, n int, key func(i int) recordKey) ([]change, error) {
	out := make([]change, n)
	count := map[string]int64{}
	for i := range n {
		out[i].recordKey = key(i)
		count[out[i].source]++
	}
	sources := make([]string, 0, len(count))
	for s := range count {
		sources = append(sources, s)
	}
	slices.Sort(sources)
	next := make(map[string]int64, len(sources))
	for _, src := range sources {
		var hi int64
		if err := t.tx.QueryRowContext(ctx, t.s.q.bumpRecordSeq, src, count[src]).Scan(&hi); err != nil {
			return nil, fmt.Errorf("numbering the changes of %s: %w", src, err)
		}
		next[src] = hi - count[src] + 1
	}
	for i := range out {
		out[i].seq = next[out[i].source]
		next[out[i].source]++
	}
	return out, nil
}

// putChanges records the last write of each key: a put, or a deletion.
func (t *txn) putChanges(ctx context.Context, cs []change, deleted bool) error {
	args := make([]any, 0, 5*min(len(cs), batchRows))
	for start := 0; start < len(cs); start += batchRows {
		batch := cs[start:min(start+batchRows, len(cs))]
		args = args[:0]
		for _, c := range batch {
			args = append(args, c.source, c.kind, c.id, c.seq, deleted)
		}
		if _, err := t.tx.ExecContext(ctx, t.s.q.putChanges(len(batch)), args...); err != nil {
			return fmt.Errorf("recording the changes: %w", err)
		}
	}
	return nil
}

// RecordChanges returns up to limit changes of a source's records after
// afterSeq, in change order (limit <= 0: all of them); never nil.
func (s *DB) RecordChanges(ctx context.Context, source string, afterSeq int64, limit int) ([]store.RecordChange, error) {
	var (
		rows *sql.Rows
		err  error
	)
	if limit > 0 {
		rows, err = s.db.QueryContext(ctx, s.q.recordChanges, source, afterSeq, limit)
	} else {
		rows, err = s.db.QueryContext(ctx, s.q.recordChangesAll, source, afterSeq)
	}
	if err != nil {
		return nil, fmt.Errorf("record changes of %s: %w", source, err)
	}
	defer rows.Close()
	out := make([]store.RecordChange, 0)
	for rows.Next() {
		var (
			c     store.RecordChange
			scope sql.NullString
			at    sql.NullInt64
			data  []byte
		)
		if err := rows.Scan(&c.Seq, &c.Kind, &c.ID, &c.Deleted, &scope, &at, &data); err != nil {
			return nil, fmt.Errorf("record changes of %s: %w", source, err)
		}
		c.Source = source
		if !scope.Valid {
			// The record is gone, whatever the change says.
			c.Deleted = true
		}
		if !c.Deleted {
			c.Scope, c.UpdatedAt, c.Data = scope.String, fromNullMillis(at), unblob(data)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("record changes of %s: %w", source, err)
	}
	return out, nil
}

// RecordSeq returns the greatest change number of a source, 0 if none.
func (s *DB) RecordSeq(ctx context.Context, source string) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, s.q.recordSeq, source).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("change number of %s: %w", source, err)
	}
	return n, nil
}

// NewTerm starts the next leadership term. Its UPDATE waits for the
// transactions that hold the current term (HoldTerm) to end.
func (s *DB) NewTerm(ctx context.Context, holder string) (store.Term, error) {
	var term store.Term
	err := s.withTx(ctx, func(t *txn) error {
		var started sql.NullInt64
		if err := t.tx.QueryRowContext(ctx, s.q.newTerm, holder, millis(s.nowMillis())).Scan(&term.Number, &term.Holder, &started); err != nil {
			return err
		}
		term.Started = fromNullMillis(started)
		return nil
	})
	if err != nil {
		return store.Term{}, fmt.Errorf("starting a leadership term: %w", err)
	}
	return term, nil
}

// CurrentTerm returns the newest leadership term.
func (s *DB) CurrentTerm(ctx context.Context) (store.Term, error) {
	var (
		term    store.Term
		started sql.NullInt64
	)
	if err := s.db.QueryRowContext(ctx, s.q.currentTerm).Scan(&term.Number, &term.Holder, &started); err != nil {
		return store.Term{}, fmt.Errorf("reading the leadership term: %w", err)
	}
	term.Started = fromNullMillis(started)
	return term, nil
}

// HoldTerm fails with store.ErrFenced unless term is the newest one; on
// PostgreSQL the row stays locked FOR SHARE until the transaction ends.
func (t *txn) HoldTerm(ctx context.Context, term int64) error {
	if term <= 0 {
		return store.ErrFenced
	}
	var (
		current int64
		holder  string
	)
	if err := t.tx.QueryRowContext(ctx, t.s.q.holdTerm).Scan(&current, &holder); err != nil {
		return fmt.Errorf("checking the leadership term: %w", err)
	}
	if current != term {
		return fmt.Errorf("leadership term %d is over, term %d (%s) leads: %w", term, current, holder, store.ErrFenced)
	}
	return nil
}
