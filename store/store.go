// Package store defines okrd's storage interface: key result value history,
// manual check-ins, per-source sync cursors with their source records, and
// alert state. Implementations live in store/sqlite (the default) and
// store/postgres; store/storetest holds the conformance suite both pass.
package store

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned when a requested row does not exist.
var ErrNotFound = errors.New("not found")

// ErrFenced is returned by a write made under a leadership term that is
// over (another process leads now) or by a process that does not lead: it
// is refused and nothing of its transaction is written (docs/ha.md).
var ErrFenced = errors.New("this process does not lead")

// Value is one recorded value of a key result.
type Value struct {
	ID          int64 // assigned by the store, increasing in insertion order
	ObjectiveID string
	KeyResultID string
	At          time.Time // when the value was measured (UTC)
	Value       float64
	Origin      string // where it came from: "checkin:42", "source:github", ...
}

// Checkin is a manual check-in of a key result value.
type Checkin struct {
	ID          int64
	ObjectiveID string
	KeyResultID string
	At          time.Time // the time the value applies to
	Value       float64
	Author      string
	Note        string
	CreatedAt   time.Time // when it was recorded
	// Confidence, when 1..10, is stored with the check-in as a Confidence
	// of the same time, author and note; 0 records none.
	Confidence int
}

// Confidence is an owner's confidence that a key result will land, on a
// scale of 1 (it will not) to 10 (it will). It is not a key result value:
// it never enters the history of values.
type Confidence struct {
	ID          int64 // assigned by the store, increasing in insertion order
	ObjectiveID string
	KeyResultID string
	At          time.Time // when the confidence was given (UTC)
	Value       int       // 1..10
	Author      string
	Note        string
	CreatedAt   time.Time // when it was recorded
	// CheckinID is the check-in it was recorded with, 0 when it was
	// recorded on its own.
	CheckinID int64
}

// Cursor is the sync position of one source and scope (a repo, a project...).
type Cursor struct {
	Source    string
	Scope     string
	Value     string
	UpdatedAt time.Time
}

// Record is one raw record fetched from a source (an issue, a pull request,
// a deployment), stored as JSON. (Source, Kind, ID) is unique.
type Record struct {
	Source    string
	Scope     string
	Kind      string
	ID        string
	UpdatedAt time.Time
	Data      []byte
}

// AlertState is the persisted state of one alert (see notify/).
type AlertState struct {
	Key       string // unique alert identity
	State     string // "pending", "firing", "resolved"
	Since     time.Time
	LastSent  time.Time
	UpdatedAt time.Time
	Data      []byte // receiver-specific JSON
}

// RecordChange is the last write of one record key: the record as it is
// now, or, when Deleted, only its key.
type RecordChange struct {
	// Seq numbers the changes of one source, increasing in commit order.
	Seq     int64
	Deleted bool
	Record
}

// Term is one leadership term: the processes sharing a database lead one
// after the other, each under a greater term number (docs/ha.md).
type Term struct {
	Number int64
	// Holder names the process that leads (host and process id).
	Holder string
	// Started is when the term began; zero before the first term.
	Started time.Time
}

// Store is okrd's persistence. Every method is safe for concurrent use.
// Times are stored and returned in UTC with at least millisecond precision.
type Store interface {
	// AppendValues records key result values (history) in one transaction.
	// Every value needs ObjectiveID, KeyResultID and a non-zero At, and must
	// not be NaN; one invalid value rejects the whole call. ID is ignored.
	AppendValues(ctx context.Context, vals ...Value) error
	// History returns one key result's values with from <= At <= to,
	// oldest first (ties by ID). A zero from or to means unbounded.
	History(ctx context.Context, objectiveID, keyResultID string, from, to time.Time) ([]Value, error)
	// ValuesAfter returns up to limit values with ID > afterID in ID order,
	// so a reader can tail the history incrementally (limit <= 0 means no
	// limit). IDs become visible in increasing order, even with concurrent
	// writers, so a reader that remembers the last ID it saw skips nothing.
	ValuesAfter(ctx context.Context, afterID int64, limit int) ([]Value, error)

	// AddCheckin stores a check-in and its value (Origin "checkin:<id>"),
	// and its Confidence when set, in one transaction and returns it with
	// ID and CreatedAt set. A zero At means the check-in applies now.
	AddCheckin(ctx context.Context, c Checkin) (Checkin, error)
	// Checkins returns a key result's check-ins, newest (by At) first, at
	// most limit (limit <= 0 means all).
	Checkins(ctx context.Context, objectiveID, keyResultID string, limit int) ([]Checkin, error)

	// AddConfidence stores a confidence (Value 1..10, ObjectiveID and
	// KeyResultID required) and returns it with ID and CreatedAt set. A
	// zero At means now.
	AddConfidence(ctx context.Context, c Confidence) (Confidence, error)
	// Confidences returns a key result's confidences, newest (by At, then
	// ID) first, at most limit (limit <= 0 means all).
	Confidences(ctx context.Context, objectiveID, keyResultID string, limit int) ([]Confidence, error)
	// ConfidencesAfter returns up to limit confidences with ID > afterID in
	// ID order (limit <= 0 means no limit), for a reader that follows them
	// as ValuesAfter follows the values: IDs become visible in increasing
	// order.
	ConfidencesAfter(ctx context.Context, afterID int64, limit int) ([]Confidence, error)

	// Cursor returns the cursor of a source and scope; ok is false if none.
	Cursor(ctx context.Context, source, scope string) (value string, ok bool, err error)
	// Cursors returns every cursor of a source.
	Cursors(ctx context.Context, source string) ([]Cursor, error)
	// Update runs fn in one transaction: everything fn wrote is committed
	// together if fn returns nil, and nothing is if it returns an error or
	// panics (the panic is re-raised after the rollback). fn must write
	// only through tx: with SQLite, a call to the Store's own write methods
	// from inside fn waits for the transaction it is part of.
	Update(ctx context.Context, fn func(Tx) error) error
	// Records calls fn for every record of a source and kind (kind "" = all
	// kinds), in (Kind, ID) byte order; an error from fn stops the
	// iteration and is returned as is. fn may use the Store.
	Records(ctx context.Context, source, kind string, fn func(Record) error) error
	// CountRecords returns the number of records per source and kind.
	CountRecords(ctx context.Context) (map[string]map[string]int64, error)
	// RecordChanges returns up to limit changes of a source's records with
	// Seq > afterSeq, in Seq order (limit <= 0 means no limit): every
	// record put or deleted since, once, as it is now. Change numbers
	// become visible in increasing order, even with concurrent writers,
	// so a reader that remembers the last Seq it saw skips nothing.
	RecordChanges(ctx context.Context, source string, afterSeq int64, limit int) ([]RecordChange, error)
	// RecordSeq returns the greatest change number of a source (0 if its
	// records never changed): a reader that loads every record with
	// Records after asking then follows RecordChanges from it.
	RecordSeq(ctx context.Context, source string) (int64, error)

	// NewTerm starts a new leadership term held by holder and returns it.
	// It waits for the transactions that hold the current term
	// (Tx.HoldTerm) to end; once it returns, every write under an older
	// term fails with ErrFenced.
	NewTerm(ctx context.Context, holder string) (Term, error)
	// CurrentTerm returns the newest leadership term.
	CurrentTerm(ctx context.Context) (Term, error)

	// AlertStates returns every persisted alert state.
	AlertStates(ctx context.Context) ([]AlertState, error)
	// PutAlertState inserts or replaces an alert state by Key. Zero Since
	// and LastSent read back as zero; a zero UpdatedAt is set to now.
	PutAlertState(ctx context.Context, s AlertState) error
	// DeleteAlertState removes an alert state; no error if absent.
	DeleteAlertState(ctx context.Context, key string) error

	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error
}

// Tx is the write side of one transaction opened by Store.Update.
type Tx interface {
	// PutRecords inserts or replaces records by (Source, Kind, ID), which
	// must not be empty; of two records with one key in a call, the later
	// wins. Data is stored byte for byte (empty Data reads back as nil).
	PutRecords(ctx context.Context, recs ...Record) error
	// DeleteRecords removes records of a source and kind by ID.
	DeleteRecords(ctx context.Context, source, kind string, ids ...string) error
	// SetCursor inserts or replaces the cursor of a source and scope, and
	// sets its UpdatedAt to now.
	SetCursor(ctx context.Context, source, scope, value string) error
	// AppendValues records key result values.
	AppendValues(ctx context.Context, vals ...Value) error
	// DeleteValues removes one key result's values whose Origin starts
	// with originPrefix (which must not be empty, so that a caller cannot
	// delete check-ins and live values by accident) and returns how many
	// it removed. IDs are never reused, so a reader tailing with
	// ValuesAfter skips nothing; it does not learn of the deletion, and
	// must re-read the key result's History.
	DeleteValues(ctx context.Context, objectiveID, keyResultID, originPrefix string) (int64, error)
	// PutAlertState and DeleteAlertState are Store's, as part of the
	// transaction.
	PutAlertState(ctx context.Context, s AlertState) error
	DeleteAlertState(ctx context.Context, key string) error
	// HoldTerm fails with ErrFenced unless term is the newest leadership
	// term, and keeps a new term from starting until the transaction ends:
	// nothing written after it commits once a newer term has begun. Call
	// it first in the transaction.
	HoldTerm(ctx context.Context, term int64) error
}

// Elector is implemented by a store that several okrd processes can share
// (PostgreSQL): it elects the one that leads (docs/ha.md).
type Elector interface {
	// Campaign blocks until this process leads, or ctx is done (then it
	// returns ctx's error).
	Campaign(ctx context.Context) (Lease, error)
}

// Lease is a process's leadership, won by Elector.Campaign.
type Lease interface {
	// Lost is closed once the process may no longer lead: the database
	// stopped answering, or the session holding the leadership ended.
	Lost() <-chan struct{}
	// Release gives the leadership up (at shutdown, or after Lost).
	Release()
}
