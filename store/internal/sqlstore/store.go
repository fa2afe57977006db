package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/okrd/okrd/store"
)

// Times are stored as INTEGER (BIGINT) unix milliseconds in UTC in both
// databases: one code path, exact millisecond round trips, no driver or
// session time zone in the way. Optional times are NULL when zero.

func millis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func nullMillis(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

func fromNullMillis(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromMillis(n.Int64)
}

// blob turns nil into an empty slice for the NOT NULL data columns, and
// unblob turns an empty column back into nil, so "no data" reads the same
// from both drivers.
func blob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func unblob(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// nowMillis is the store's clock truncated to what it can persist, so a
// time the store sets reads back exactly as it was returned.
func (s *DB) nowMillis() time.Time {
	return s.now().UTC().Truncate(time.Millisecond)
}

// acquireWrite queues this goroutine behind the process's other writers
// when the dialect serializes writes; the returned func releases the turn.
func (s *DB) acquireWrite(ctx context.Context) (func(), error) {
	if s.writeSem == nil {
		return func() {}, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case s.writeSem <- struct{}{}:
		return func() { <-s.writeSem }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// withTx runs fn in one write transaction: commit on nil, rollback on an
// error or a panic (re-raised after the rollback). fn's error is returned
// unwrapped so callers can match their own sentinel errors.
func (s *DB) withTx(ctx context.Context, fn func(*txn) error) error {
	release, err := s.acquireWrite(ctx)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer release()
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	t := &txn{s: s, tx: tx}
	committed := false
	defer func() {
		if committed {
			return
		}
		// This runs for an error and for a panic alike; a panic keeps
		// unwinding after the rollback because nothing recovers it.
		if rbErr := tx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			s.logger.Warn("rolling back a transaction failed; the database discards it when the connection closes",
				"db", s.dialect.Name, "err", rbErr)
		}
	}()
	if err := fn(t); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	committed = true
	return nil
}

// Update runs fn in one transaction. fn must write only through tx: on
// SQLite a call to the Store's own write methods from inside fn would wait
// for the transaction fn is part of.
func (s *DB) Update(ctx context.Context, fn func(store.Tx) error) error {
	return s.withTx(ctx, func(t *txn) error { return fn(t) })
}

// txn is the store.Tx handed to Update's fn. It is not safe for concurrent
// use, like the database/sql transaction under it.
type txn struct {
	s            *DB
	tx           *sqlx.Tx
	valuesLocked bool
}

var _ store.Tx = (*txn)(nil)

// lockValues takes the dialect's kr_values lock once per transaction.
func (t *txn) lockValues(ctx context.Context) error {
	if t.valuesLocked || t.s.dialect.LockValues == "" {
		return nil
	}
	if _, err := t.tx.ExecContext(ctx, t.s.dialect.LockValues); err != nil {
		return err
	}
	t.valuesLocked = true
	return nil
}

// ---- Values

// checkValue rejects what the store cannot keep or find again: a value
// without its key result, without a time (History could never place it), or
// NaN (SQLite would store it as NULL).
func checkValue(v store.Value) error {
	switch {
	case v.ObjectiveID == "" || v.KeyResultID == "":
		return errors.New("objective and key result ids are required")
	case v.At.IsZero():
		return fmt.Errorf("%s/%s: time is required", v.ObjectiveID, v.KeyResultID)
	case math.IsNaN(v.Value):
		return fmt.Errorf("%s/%s: NaN cannot be stored", v.ObjectiveID, v.KeyResultID)
	}
	return nil
}

func checkValues(vals []store.Value) error {
	for i, v := range vals {
		if err := checkValue(v); err != nil {
			return fmt.Errorf("append values: value %d: %w", i, err)
		}
	}
	return nil
}

// AppendValues records key result values in one transaction. Every value
// needs an objective id, a key result id and a time, and must not be NaN;
// one invalid value rejects the whole call. ID is ignored and assigned by
// the store.
func (s *DB) AppendValues(ctx context.Context, vals ...store.Value) error {
	if len(vals) == 0 {
		return nil
	}
	if err := checkValues(vals); err != nil {
		return err
	}
	return s.withTx(ctx, func(t *txn) error { return t.appendValues(ctx, vals) })
}

// AppendValues records key result values as part of the transaction.
func (t *txn) AppendValues(ctx context.Context, vals ...store.Value) error {
	if len(vals) == 0 {
		return nil
	}
	if err := checkValues(vals); err != nil {
		return err
	}
	return t.appendValues(ctx, vals)
}

func (t *txn) appendValues(ctx context.Context, vals []store.Value) error {
	if err := t.lockValues(ctx); err != nil {
		return fmt.Errorf("append values: lock: %w", err)
	}
	args := make([]any, 0, 5*min(len(vals), batchRows))
	for start := 0; start < len(vals); start += batchRows {
		batch := vals[start:min(start+batchRows, len(vals))]
		args = args[:0]
		for _, v := range batch {
			args = append(args, v.ObjectiveID, v.KeyResultID, millis(v.At), v.Value, v.Origin)
		}
		if _, err := t.tx.ExecContext(ctx, t.s.q.insertValues(len(batch)), args...); err != nil {
			return fmt.Errorf("append values: %w", err)
		}
	}
	return nil
}

// DeleteValues removes one key result's values whose origin starts with
// originPrefix.
func (t *txn) DeleteValues(ctx context.Context, objectiveID, keyResultID, originPrefix string) (int64, error) {
	if originPrefix == "" {
		return 0, errors.New("delete values: an origin prefix is required")
	}
	if objectiveID == "" || keyResultID == "" {
		return 0, errors.New("delete values: objective and key result ids are required")
	}
	if err := t.lockValues(ctx); err != nil {
		return 0, fmt.Errorf("delete values: lock: %w", err)
	}
	res, err := t.tx.ExecContext(ctx, t.s.q.deleteValues, objectiveID, keyResultID, len(originPrefix), originPrefix)
	if err != nil {
		return 0, fmt.Errorf("delete values of %s/%s: %w", objectiveID, keyResultID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete values of %s/%s: %w", objectiveID, keyResultID, err)
	}
	return n, nil
}

// History returns one key result's values with from <= At <= to, oldest
// first, ties by ID; a zero bound is unbounded. The result is never nil.
func (s *DB) History(ctx context.Context, objectiveID, keyResultID string, from, to time.Time) ([]store.Value, error) {
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if !from.IsZero() {
		lo = millis(from)
	}
	if !to.IsZero() {
		hi = millis(to)
	}
	rows, err := s.db.QueryContext(ctx, s.q.history, objectiveID, keyResultID, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("history of %s/%s: %w", objectiveID, keyResultID, err)
	}
	vals, err := scanValues(rows)
	if err != nil {
		return nil, fmt.Errorf("history of %s/%s: %w", objectiveID, keyResultID, err)
	}
	return vals, nil
}

// ValuesAfter returns up to limit values with ID > afterID in ID order
// (limit <= 0 means no limit). IDs become visible in increasing order, so
// a reader that remembers the last ID it saw never skips a value.
func (s *DB) ValuesAfter(ctx context.Context, afterID int64, limit int) ([]store.Value, error) {
	var (
		rows *sql.Rows
		err  error
	)
	if limit > 0 {
		rows, err = s.db.QueryContext(ctx, s.q.valuesAfter, afterID, limit)
	} else {
		rows, err = s.db.QueryContext(ctx, s.q.valuesAfterAll, afterID)
	}
	if err != nil {
		return nil, fmt.Errorf("values after %d: %w", afterID, err)
	}
	vals, err := scanValues(rows)
	if err != nil {
		return nil, fmt.Errorf("values after %d: %w", afterID, err)
	}
	return vals, nil
}

func scanValues(rows *sql.Rows) ([]store.Value, error) {
	defer rows.Close()
	vals := make([]store.Value, 0)
	for rows.Next() {
		var (
			v  store.Value
			at int64
		)
		if err := rows.Scan(&v.ID, &v.ObjectiveID, &v.KeyResultID, &at, &v.Value, &v.Origin); err != nil {
			return nil, err
		}
		v.At = fromMillis(at)
		vals = append(vals, v)
	}
	return vals, rows.Err()
}

// ---- Check-ins

// AddCheckin stores a check-in and its value (Origin "checkin:<id>") in one
// transaction and returns it with ID and CreatedAt set. A zero At means the
// check-in applies now. ID and CreatedAt on input are ignored.
func (s *DB) AddCheckin(ctx context.Context, c store.Checkin) (store.Checkin, error) {
	c.CreatedAt = s.nowMillis()
	if c.At.IsZero() {
		c.At = c.CreatedAt
	}
	c.At = fromMillis(millis(c.At))
	v := store.Value{ObjectiveID: c.ObjectiveID, KeyResultID: c.KeyResultID, At: c.At, Value: c.Value}
	if err := checkValue(v); err != nil {
		return store.Checkin{}, fmt.Errorf("add check-in: %w", err)
	}
	if c.Confidence != 0 {
		if err := checkConfidence(c.Confidence); err != nil {
			return store.Checkin{}, fmt.Errorf("add check-in: %w", err)
		}
	}
	err := s.withTx(ctx, func(t *txn) error {
		// The values lock is taken first, as every writer of kr_values
		// does, so this transaction cannot deadlock with another one.
		if err := t.lockValues(ctx); err != nil {
			return err
		}
		row := t.tx.QueryRowContext(ctx, s.q.insertCheckin, c.ObjectiveID, c.KeyResultID,
			millis(c.At), c.Value, c.Author, c.Note, millis(c.CreatedAt))
		if err := row.Scan(&c.ID); err != nil {
			return err
		}
		v.Origin = "checkin:" + strconv.FormatInt(c.ID, 10)
		if err := t.appendValues(ctx, []store.Value{v}); err != nil {
			return err
		}
		if c.Confidence == 0 {
			return nil
		}
		_, err := t.insertConfidence(ctx, store.Confidence{ObjectiveID: c.ObjectiveID, KeyResultID: c.KeyResultID,
			At: c.At, Value: c.Confidence, Author: c.Author, Note: c.Note, CreatedAt: c.CreatedAt, CheckinID: c.ID})
		return err
	})
	if err != nil {
		return store.Checkin{}, fmt.Errorf("add check-in for %s/%s: %w", c.ObjectiveID, c.KeyResultID, err)
	}
	return c, nil
}

// Checkins returns a key result's check-ins, newest (by At, then ID) first,
// at most limit (limit <= 0 means all). The result is never nil.
func (s *DB) Checkins(ctx context.Context, objectiveID, keyResultID string, limit int) ([]store.Checkin, error) {
	var (
		rows *sql.Rows
		err  error
	)
	if limit > 0 {
		rows, err = s.db.QueryContext(ctx, s.q.checkins, objectiveID, keyResultID, limit)
	} else {
		rows, err = s.db.QueryContext(ctx, s.q.checkinsAll, objectiveID, keyResultID)
	}
	if err != nil {
		return nil, fmt.Errorf("check-ins of %s/%s: %w", objectiveID, keyResultID, err)
	}
	defer rows.Close()
	out := make([]store.Checkin, 0)
	for rows.Next() {
		var (
			c             store.Checkin
			at, createdAt int64
		)
		if err := rows.Scan(&c.ID, &c.ObjectiveID, &c.KeyResultID, &at, &c.Value, &c.Author, &c.Note, &createdAt); err != nil {
			return nil, fmt.Errorf("check-ins of %s/%s: %w", objectiveID, keyResultID, err)
		}
		c.At, c.CreatedAt = fromMillis(at), fromMillis(createdAt)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("check-ins of %s/%s: %w", objectiveID, keyResultID, err)
	}
	return out, nil
}

// ---- Confidences

func checkConfidence(v int) error {
	if v < 1 || v > 10 {
		return fmt.Errorf("confidence %d is not between 1 and 10", v)
	}
	return nil
}

// insertConfidence inserts c (CreatedAt and At set) and returns its id.
// It takes the values lock first, as every writer of kr_values does: the
// lock serialises the writers of confidences too, so that their ids
// become visible in order.
func (t *txn) insertConfidence(ctx context.Context, c store.Confidence) (int64, error) {
	if err := t.lockValues(ctx); err != nil {
		return 0, err
	}
	var checkin any
	if c.CheckinID != 0 {
		checkin = c.CheckinID
	}
	var id int64
	err := t.tx.QueryRowContext(ctx, t.s.q.insertConfidence, c.ObjectiveID, c.KeyResultID, millis(c.At), c.Value,
		c.Author, c.Note, millis(c.CreatedAt), checkin).Scan(&id)
	return id, err
}

// AddConfidence stores a confidence and returns it with ID and CreatedAt
// set. A zero At means now. ID and CreatedAt on input are ignored.
func (s *DB) AddConfidence(ctx context.Context, c store.Confidence) (store.Confidence, error) {
	c.CreatedAt = s.nowMillis()
	if c.At.IsZero() {
		c.At = c.CreatedAt
	}
	c.At = fromMillis(millis(c.At))
	switch {
	case c.ObjectiveID == "" || c.KeyResultID == "":
		return store.Confidence{}, errors.New("add confidence: objective and key result ids are required")
	case checkConfidence(c.Value) != nil:
		return store.Confidence{}, fmt.Errorf("add confidence for %s/%s: %w", c.ObjectiveID, c.KeyResultID, checkConfidence(c.Value))
	}
	err := s.withTx(ctx, func(t *txn) error {
		id, err := t.insertConfidence(ctx, c)
		c.ID = id
		return err
	})
	if err != nil {
		return store.Confidence{}, fmt.Errorf("add confidence for %s/%s: %w", c.ObjectiveID, c.KeyResultID, err)
	}
	return c, nil
}

// Confidences returns a key result's confidences, newest (by At, then ID)
// first, at most limit (limit <= 0 means all). The result is never nil.
func (s *DB) Confidences(ctx context.Context, objectiveID, keyResultID string, limit int) ([]store.Confidence, error) {
	var (
		rows *sql.Rows
		err  error
	)
	if limit > 0 {
		rows, err = s.db.QueryContext(ctx, s.q.confidences, objectiveID, keyResultID, limit)
	} else {
		rows, err = s.db.QueryContext(ctx, s.q.confidencesAll, objectiveID, keyResultID)
	}
	if err != nil {
		return nil, fmt.Errorf("confidences of %s/%s: %w", objectiveID, keyResultID, err)
	}
	out, err := scanConfidences(rows)
	if err != nil {
		return nil, fmt.Errorf("confidences of %s/%s: %w", objectiveID, keyResultID, err)
	}
	return out, nil
}

// ConfidencesAfter returns up to limit confidences with ID > afterID in ID
// order (limit <= 0 means no limit).
func (s *DB) ConfidencesAfter(ctx context.Context, afterID int64, limit int) ([]store.Confidence, error) {
	var (
		rows *sql.Rows
		err  error
	)
	if limit > 0 {
		rows, err = s.db.QueryContext(ctx, s.q.confAfter, afterID, limit)
	} else {
		rows, err = s.db.QueryContext(ctx, s.q.confAfterAll, afterID)
	}
	if err != nil {
		return nil, fmt.Errorf("confidences after %d: %w", afterID, err)
	}
	out, err := scanConfidences(rows)
	if err != nil {
		return nil, fmt.Errorf("confidences after %d: %w", afterID, err)
	}
	return out, nil
}

func scanConfidences(rows *sql.Rows) ([]store.Confidence, error) {
	defer rows.Close()
	out := make([]store.Confidence, 0)
	for rows.Next() {
		var (
			c             store.Confidence
			at, createdAt int64
			checkin       sql.NullInt64
		)
		if err := rows.Scan(&c.ID, &c.ObjectiveID, &c.KeyResultID, &at, &c.Value, &c.Author, &c.Note, &createdAt, &checkin); err != nil {
			return nil, err
		}
		c.At, c.CreatedAt, c.CheckinID = fromMillis(at), fromMillis(createdAt), checkin.Int64
		out = append(out, c)
	}
	return out, rows.Err()
}

// ---- Cursors

// Cursor returns the cursor of a source and scope; ok is false if none.
func (s *DB) Cursor(ctx context.Context, source, scope string) (string, bool, error) {
	var v string
	err := s.db.QueryRowContext(ctx, s.q.cursor, source, scope).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("cursor of %s/%s: %w", source, scope, err)
	}
	return v, true, nil
}

// Cursors returns every cursor of a source in scope order; never nil.
func (s *DB) Cursors(ctx context.Context, source string) ([]store.Cursor, error) {
	rows, err := s.db.QueryContext(ctx, s.q.cursors, source)
	if err != nil {
		return nil, fmt.Errorf("cursors of %s: %w", source, err)
	}
	defer rows.Close()
	out := make([]store.Cursor, 0)
	for rows.Next() {
		var (
			c  store.Cursor
			at int64
		)
		if err := rows.Scan(&c.Source, &c.Scope, &c.Value, &at); err != nil {
			return nil, fmt.Errorf("cursors of %s: %w", source, err)
		}
		c.UpdatedAt = fromMillis(at)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cursors of %s: %w", source, err)
	}
	return out, nil
}

// SetCursor inserts or replaces the cursor of a source and scope and stamps
// it with the current time. The scope may be empty for a source-wide cursor.
func (t *txn) SetCursor(ctx context.Context, source, scope, value string) error {
	if source == "" {
		return errors.New("set cursor: source is required")
	}
	if _, err := t.tx.ExecContext(ctx, t.s.q.setCursor, source, scope, value, millis(t.s.nowMillis())); err != nil {
		return fmt.Errorf("set cursor of %s/%s: %w", source, scope, err)
	}
	return nil
}

// ---- Records

type recordKey struct{ source, kind, id string }

// PutRecords inserts or replaces records by (Source, Kind, ID). When one
// call holds the same key twice, the later record wins, as if they had been
// written one after the other.
func (t *txn) PutRecords(ctx context.Context, recs ...store.Record) error {
	if len(recs) == 0 {
		return nil
	}
	for i, r := range recs {
		if r.Source == "" || r.Kind == "" || r.ID == "" {
			return fmt.Errorf("put records: record %d: source, kind and id are required", i)
		}
	}
	recs = lastOfEachKey(recs)
	changes, err := t.numberChanges(ctx, len(recs), func(i int) recordKey {
		return recordKey{recs[i].Source, recs[i].Kind, recs[i].ID}
	})
	if err != nil {
		return fmt.Errorf("put records: %w", err)
	}
	args := make([]any, 0, 6*min(len(recs), batchRows))
	for start := 0; start < len(recs); start += batchRows {
		batch := recs[start:min(start+batchRows, len(recs))]
		args = args[:0]
		for _, r := range batch {
			args = append(args, r.Source, r.Scope, r.Kind, r.ID, nullMillis(r.UpdatedAt), blob(r.Data))
		}
		if _, err := t.tx.ExecContext(ctx, t.s.q.putRecords(len(batch)), args...); err != nil {
			return fmt.Errorf("put records: %w", err)
		}
	}
	if err := t.putChanges(ctx, changes, false); err != nil {
		return fmt.Errorf("put records: %w", err)
	}
	return nil
}

// lastOfEachKey drops every record that a later one with the same key
// replaces. It returns recs itself when there is nothing to drop.
func lastOfEachKey(recs []store.Record) []store.Record {
	seen := make(map[recordKey]struct{}, len(recs))
	dups := false
	for _, r := range recs {
		k := recordKey{r.Source, r.Kind, r.ID}
		if _, ok := seen[k]; ok {
			dups = true
			break
		}
		seen[k] = struct{}{}
	}
	if !dups {
		return recs
	}
	clear(seen)
	out := make([]store.Record, 0, len(recs))
	for i := len(recs) - 1; i >= 0; i-- {
		k := recordKey{recs[i].Source, recs[i].Kind, recs[i].ID}
		if _, ok := seen[k]; ok {
			continue
		}
		seen[k] = struct{}{}
		out = append(out, recs[i])
	}
	return out
}

// DeleteRecords removes records of a source and kind by ID; ids that do not
// exist are ignored.
func (t *txn) DeleteRecords(ctx context.Context, source, kind string, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	changes, err := t.numberChanges(ctx, len(ids), func(i int) recordKey { return recordKey{source, kind, ids[i]} })
	if err != nil {
		return fmt.Errorf("delete records of %s/%s: %w", source, kind, err)
	}
	if err := t.putChanges(ctx, changes, true); err != nil {
		return fmt.Errorf("delete records of %s/%s: %w", source, kind, err)
	}
	args := make([]any, 0, 2+min(len(ids), batchRows))
	for start := 0; start < len(ids); start += batchRows {
		batch := ids[start:min(start+batchRows, len(ids))]
		args = append(args[:0], source, kind)
		for _, id := range batch {
			args = append(args, id)
		}
		if _, err := t.tx.ExecContext(ctx, t.s.q.deleteRecords(len(batch)), args...); err != nil {
			return fmt.Errorf("delete records of %s/%s: %w", source, kind, err)
		}
	}
	return nil
}

// Records calls fn for every record of a source and kind (kind "" = all
// kinds) in (Kind, ID) byte order. Records are read in pages and no
// connection is held while fn runs, so fn may use the store; a record
// written during the iteration is seen if its key sorts after the current
// position. An error from fn stops the iteration and is returned as is.
func (s *DB) Records(ctx context.Context, source, kind string, fn func(store.Record) error) error {
	// The keyset position: the last (kind, id) returned so far.
	var lastKind, lastID string
	for {
		var (
			rows *sql.Rows
			err  error
		)
		if kind != "" {
			rows, err = s.db.QueryContext(ctx, s.q.recordsKindPage, source, kind, lastID, batchRows)
		} else {
			rows, err = s.db.QueryContext(ctx, s.q.recordsPage, source, lastKind, lastID, batchRows)
		}
		if err != nil {
			return fmt.Errorf("records of %s: %w", source, err)
		}
		page, err := scanRecords(rows)
		if err != nil {
			return fmt.Errorf("records of %s: %w", source, err)
		}
		for _, r := range page {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(page) < batchRows {
			return nil
		}
		lastKind, lastID = page[len(page)-1].Kind, page[len(page)-1].ID
	}
}

func scanRecords(rows *sql.Rows) ([]store.Record, error) {
	defer rows.Close()
	var out []store.Record
	for rows.Next() {
		var (
			r  store.Record
			at sql.NullInt64
		)
		if err := rows.Scan(&r.Source, &r.Scope, &r.Kind, &r.ID, &at, &r.Data); err != nil {
			return nil, err
		}
		r.UpdatedAt = fromNullMillis(at)
		r.Data = unblob(r.Data)
		out = append(out, r)
	}
	return out, rows.Err()
}

// CountRecords returns the number of records per source and kind; the map
// is empty, not nil, when there are none.
func (s *DB) CountRecords(ctx context.Context) (map[string]map[string]int64, error) {
	rows, err := s.db.QueryContext(ctx, s.q.countRecords)
	if err != nil {
		return nil, fmt.Errorf("count records: %w", err)
	}
	defer rows.Close()
	out := make(map[string]map[string]int64)
	for rows.Next() {
		var (
			source, kind string
			n            int64
		)
		if err := rows.Scan(&source, &kind, &n); err != nil {
			return nil, fmt.Errorf("count records: %w", err)
		}
		if out[source] == nil {
			out[source] = make(map[string]int64)
		}
		out[source][kind] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count records: %w", err)
	}
	return out, nil
}

// ---- Alert states

// AlertStates returns every persisted alert state in key order; never nil.
func (s *DB) AlertStates(ctx context.Context) ([]store.AlertState, error) {
	rows, err := s.db.QueryContext(ctx, s.q.alertStates)
	if err != nil {
		return nil, fmt.Errorf("alert states: %w", err)
	}
	defer rows.Close()
	out := make([]store.AlertState, 0)
	for rows.Next() {
		var (
			a               store.AlertState
			since, lastSent sql.NullInt64
			updatedAt       int64
		)
		if err := rows.Scan(&a.Key, &a.State, &since, &lastSent, &updatedAt, &a.Data); err != nil {
			return nil, fmt.Errorf("alert states: %w", err)
		}
		a.Since, a.LastSent, a.UpdatedAt = fromNullMillis(since), fromNullMillis(lastSent), fromMillis(updatedAt)
		a.Data = unblob(a.Data)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("alert states: %w", err)
	}
	return out, nil
}

// PutAlertState inserts or replaces an alert state by Key. Zero Since and
// LastSent stay zero; a zero UpdatedAt is set to the current time.
func (s *DB) PutAlertState(ctx context.Context, a store.AlertState) error {
	if a.Key == "" {
		return errors.New("put alert state: key is required")
	}
	if a.UpdatedAt.IsZero() {
		a.UpdatedAt = s.nowMillis()
	}
	return s.withTx(ctx, func(t *txn) error { return t.PutAlertState(ctx, a) })
}

// PutAlertState inserts or replaces an alert state as part of the
// transaction.
func (t *txn) PutAlertState(ctx context.Context, a store.AlertState) error {
	if a.Key == "" {
		return errors.New("put alert state: key is required")
	}
	if a.UpdatedAt.IsZero() {
		a.UpdatedAt = t.s.nowMillis()
	}
	if _, err := t.tx.ExecContext(ctx, t.s.q.putAlertState, a.Key, a.State, nullMillis(a.Since),
		nullMillis(a.LastSent), millis(a.UpdatedAt), blob(a.Data)); err != nil {
		return fmt.Errorf("put alert state %q: %w", a.Key, err)
	}
	return nil
}

// DeleteAlertState removes an alert state; no error if absent.
func (s *DB) DeleteAlertState(ctx context.Context, key string) error {
	return s.withTx(ctx, func(t *txn) error { return t.DeleteAlertState(ctx, key) })
}

// DeleteAlertState removes an alert state as part of the transaction.
func (t *txn) DeleteAlertState(ctx context.Context, key string) error {
	if _, err := t.tx.ExecContext(ctx, t.s.q.deleteAlertState, key); err != nil {
		return fmt.Errorf("delete alert state %q: %w", key, err)
	}
	return nil
}
