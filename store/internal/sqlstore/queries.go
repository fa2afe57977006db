package sqlstore

import (
	"strings"

	"github.com/jmoiron/sqlx"
)

// queries holds every statement, already rebound for the dialect, so the
// per-call cost is one map-free field read.
type queries struct {
	bindType int

	history          string
	deleteValues     string
	valuesAfter      string
	valuesAfterAll   string
	insertCheckin    string
	checkins         string
	checkinsAll      string
	insertConfidence string
	confidences      string
	confidencesAll   string
	confAfter        string
	confAfterAll     string
	cursor           string
	cursors          string
	setCursor        string
	recordsPage      string
	recordsKindPage  string
	countRecords     string
	alertStates      string
	putAlertState    string
	deleteAlertState string
	bumpRecordSeq    string
	recordSeq        string
	recordChanges    string
	recordChangesAll string
	newTerm          string
	currentTerm      string
	holdTerm         string

	// The full-batch forms of the multi-row statements are built once;
	// only the last, shorter batch of a call builds its own.
	insertValuesBatch  string
	putRecordsBatch    string
	deleteRecordsBatch string
	putChangesBatch    string
}

const valueColumns = "id, objective_id, key_result_id, at, value, origin"

const confidenceColumns = "id, objective_id, key_result_id, at, value, author, note, created_at, checkin_id"

const recordColumns = "source, scope, kind, id, updated_at, data"

func buildQueries(bindType int, termLock string) queries {
	r := func(q string) string { return sqlx.Rebind(bindType, q) }
	q := queries{
		bindType: bindType,
		// History filters on the (objective_id, key_result_id, at) index
		// with an inclusive range; the caller turns zero bounds into the
		// extreme int64 values so one statement serves every case.
		history: r(`SELECT ` + valueColumns + ` FROM kr_values
			WHERE objective_id = ? AND key_result_id = ? AND at >= ? AND at <= ?
			ORDER BY at, id`),
		// The prefix is matched with substr, not LIKE, so that '%' and '_'
		// in an origin are not wildcards.
		deleteValues: r(`DELETE FROM kr_values WHERE objective_id = ? AND key_result_id = ?
			AND substr(origin, 1, ?) = ?`),
		valuesAfter:    r(`SELECT ` + valueColumns + ` FROM kr_values WHERE id > ? ORDER BY id LIMIT ?`),
		valuesAfterAll: r(`SELECT ` + valueColumns + ` FROM kr_values WHERE id > ? ORDER BY id`),
		insertCheckin: r(`INSERT INTO checkins
			(objective_id, key_result_id, at, value, author, note, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		checkins: r(`SELECT id, objective_id, key_result_id, at, value, author, note, created_at
			FROM checkins WHERE objective_id = ? AND key_result_id = ?
			ORDER BY at DESC, id DESC LIMIT ?`),
		checkinsAll: r(`SELECT id, objective_id, key_result_id, at, value, author, note, created_at
			FROM checkins WHERE objective_id = ? AND key_result_id = ?
			ORDER BY at DESC, id DESC`),
		insertConfidence: r(`INSERT INTO confidences
			(objective_id, key_result_id, at, value, author, note, created_at, checkin_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		confidences: r(`SELECT ` + confidenceColumns + ` FROM confidences
			WHERE objective_id = ? AND key_result_id = ? ORDER BY at DESC, id DESC LIMIT ?`),
		confidencesAll: r(`SELECT ` + confidenceColumns + ` FROM confidences
			WHERE objective_id = ? AND key_result_id = ? ORDER BY at DESC, id DESC`),
		confAfter:    r(`SELECT ` + confidenceColumns + ` FROM confidences WHERE id > ? ORDER BY id LIMIT ?`),
		confAfterAll: r(`SELECT ` + confidenceColumns + ` FROM confidences WHERE id > ? ORDER BY id`),
		cursor:       r(`SELECT value FROM sync_cursors WHERE source = ? AND scope = ?`),
		cursors:      r(`SELECT source, scope, value, updated_at FROM sync_cursors WHERE source = ? ORDER BY scope`),
		setCursor: r(`INSERT INTO sync_cursors (source, scope, value, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (source, scope) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`),
		// Records are read in keyset pages over the primary key, so a
		// long iteration holds no connection while the callback runs.
		recordsPage: r(`SELECT ` + recordColumns + ` FROM source_records
			WHERE source = ? AND (kind, id) > (?, ?) ORDER BY kind, id LIMIT ?`),
		recordsKindPage: r(`SELECT ` + recordColumns + ` FROM source_records
			WHERE source = ? AND kind = ? AND id > ? ORDER BY id LIMIT ?`),
		countRecords: `SELECT source, kind, COUNT(*) FROM source_records GROUP BY source, kind`,
		alertStates:  `SELECT key, state, since, last_sent, updated_at, data FROM alert_states ORDER BY key`,
		putAlertState: r(`INSERT INTO alert_states (key, state, since, last_sent, updated_at, data)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET state = excluded.state, since = excluded.since,
			last_sent = excluded.last_sent, updated_at = excluded.updated_at, data = excluded.data`),
		deleteAlertState: r(`DELETE FROM alert_states WHERE key = ?`),
		// The upsert raises a source's change number by the number of
		// changes and returns the new greatest one; the row stays locked
		// until the transaction ends, so writers of one source take
		// turns and their numbers become visible in commit order.
		bumpRecordSeq: r(`INSERT INTO record_seqs (source, seq) VALUES (?, ?)
			ON CONFLICT (source) DO UPDATE SET seq = record_seqs.seq + excluded.seq RETURNING seq`),
		recordSeq: r(`SELECT seq FROM record_seqs WHERE source = ?`),
		// A change whose record is missing reads as a deletion (the LEFT
		// JOIN leaves its columns NULL).
		recordChanges: r(`SELECT c.seq, c.kind, c.id, c.deleted, r.scope, r.updated_at, r.data
			FROM record_changes c LEFT JOIN source_records r ON r.source = c.source AND r.kind = c.kind AND r.id = c.id
			WHERE c.source = ? AND c.seq > ? ORDER BY c.seq LIMIT ?`),
		recordChangesAll: r(`SELECT c.seq, c.kind, c.id, c.deleted, r.scope, r.updated_at, r.data
			FROM record_changes c LEFT JOIN source_records r ON r.source = c.source AND r.kind = c.kind AND r.id = c.id
			WHERE c.source = ? AND c.seq > ? ORDER BY c.seq`),
		newTerm: r(`UPDATE leadership SET term = term + 1, holder = ?, started_at = ? WHERE id = 1
			RETURNING term, holder, started_at`),
		currentTerm: `SELECT term, holder, started_at FROM leadership WHERE id = 1`,
		holdTerm:    `SELECT term, holder FROM leadership WHERE id = 1` + termLock,
	}
	q.insertValuesBatch = q.insertValues(batchRows)
	q.putRecordsBatch = q.putRecords(batchRows)
	q.deleteRecordsBatch = q.deleteRecords(batchRows)
	q.putChangesBatch = q.putChanges(batchRows)
	return q
}

// insertValues returns a multi-row INSERT of n values.
func (q *queries) insertValues(n int) string {
	if n == batchRows && q.insertValuesBatch != "" {
		return q.insertValuesBatch
	}
	return sqlx.Rebind(q.bindType, `INSERT INTO kr_values (objective_id, key_result_id, at, value, origin) VALUES `+
		rows(n, "(?, ?, ?, ?, ?)"))
}

// putRecords returns a multi-row upsert of n records. The rows of one
// statement must have distinct keys: PostgreSQL refuses to update the same
// row twice in one INSERT ... ON CONFLICT.
func (q *queries) putRecords(n int) string {
	if n == batchRows && q.putRecordsBatch != "" {
		return q.putRecordsBatch
	}
	return sqlx.Rebind(q.bindType, `INSERT INTO source_records (source, scope, kind, id, updated_at, data) VALUES `+
		rows(n, "(?, ?, ?, ?, ?, ?)")+
		` ON CONFLICT (source, kind, id) DO UPDATE SET scope = excluded.scope,
		updated_at = excluded.updated_at, data = excluded.data`)
}

// putChanges returns a multi-row upsert of n record changes.
func (q *queries) putChanges(n int) string {
	if n == batchRows && q.putChangesBatch != "" {
		return q.putChangesBatch
	}
	return sqlx.Rebind(q.bindType, `INSERT INTO record_changes (source, kind, id, seq, deleted) VALUES `+
		rows(n, "(?, ?, ?, ?, ?)")+
		` ON CONFLICT (source, kind, id) DO UPDATE SET seq = excluded.seq, deleted = excluded.deleted`)
}

// deleteRecords returns a DELETE of n record ids of one source and kind.
func (q *queries) deleteRecords(n int) string {
	if n == batchRows && q.deleteRecordsBatch != "" {
		return q.deleteRecordsBatch
	}
	return sqlx.Rebind(q.bindType, `DELETE FROM source_records WHERE source = ? AND kind = ? AND id IN (`+
		rows(n, "?")+`)`)
}

// rows repeats one row of placeholders n times, comma separated.
func rows(n int, row string) string {
	var b strings.Builder
	b.Grow(n * (len(row) + 2))
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	return b.String()
}
