package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lib/pq"

	"github.com/okrd/okrd/internal/dsnredact"
	"github.com/okrd/okrd/store"
)

// Leader election (docs/ha.md). The leader is the process whose session
// holds a PostgreSQL session advisory lock, on a connection of its own.
// PostgreSQL releases the lock the moment that session ends: when the
// process exits or is killed (its socket closes), and, because the session
// sets idle_session_timeout, when the process stops checking for longer
// than ElectionOptions.SessionTimeout (its host died, the network between
// failed, it hung). The leader checks every Heartbeat that its session
// still holds the lock and gives the leadership up (Lease.Lost) as soon as
// a check fails or takes longer than Timeout: that happens before the
// server can release the lock (Heartbeat + Timeout < SessionTimeout), so a
// leader cut off from the database stops acting before another can start.
// Writes are fenced by the leadership term anyway (store.Tx.HoldTerm), for
// a leader that was paused rather than cut off.

// leaderLockClass is the first key of the leadership lock: the ASCII bytes
// of "okrd", as the migration lock's (a single 64-bit key, which lives in a
// key space of its own). The second key is a hash of the schema, so that
// okrd installations in separate schemas of one database elect separately.
const leaderLockClass = 0x6f6b7264

var (
	lockKeys   = strconv.Itoa(leaderLockClass) + ", hashtext(current_schema())"
	tryLockSQL = `SELECT pg_try_advisory_lock(` + lockKeys + `)`
	unlockSQL  = `SELECT pg_advisory_unlock(` + lockKeys + `)`
	// A two-key advisory lock shows in pg_locks with the keys in classid
	// and objid and objsubid 2.
	holdsSQL = `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()
		AND classid = ` + strconv.Itoa(leaderLockClass) + `::oid AND objid = hashtext(current_schema())::oid AND objsubid = 2 AND granted`
)

// ElectionOptions bound the election. The defaults give a failover within
// about 2 s of the leader's exit and within about 22 s of its host or
// network failing (docs/ha.md).
type ElectionOptions struct {
	// Retry is how often a process that does not lead tries to.
	Retry time.Duration
	// Heartbeat is how often the leader checks that it still holds the
	// lock.
	Heartbeat time.Duration
	// Timeout bounds one check (and one attempt to take the lock).
	Timeout time.Duration
	// SessionTimeout is the idle_session_timeout of the lock's session:
	// the server ends the session of a leader that has not checked for
	// that long, which releases the lock. It must exceed Heartbeat +
	// Timeout.
	SessionTimeout time.Duration
}

// DefaultElectionOptions are the bounds documented in docs/ha.md.
var DefaultElectionOptions = ElectionOptions{
	Retry:          2 * time.Second,
	Heartbeat:      5 * time.Second,
	Timeout:        5 * time.Second,
	SessionTimeout: 20 * time.Second,
}

func (o ElectionOptions) withDefaults() ElectionOptions {
	d := DefaultElectionOptions
	if o.Retry <= 0 {
		o.Retry = d.Retry
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = d.Heartbeat
	}
	if o.Timeout <= 0 {
		o.Timeout = d.Timeout
	}
	if o.SessionTimeout <= 0 {
		o.SessionTimeout = d.SessionTimeout
	}
	return o
}

func (o ElectionOptions) validate() error {
	if o.SessionTimeout <= o.Heartbeat+o.Timeout {
		return fmt.Errorf("postgres: the session timeout (%s) must exceed the heartbeat (%s) plus its timeout (%s), or a leader cut off from the database could still act after the server released its lock",
			o.SessionTimeout, o.Heartbeat, o.Timeout)
	}
	return nil
}

var _ store.Elector = (*Store)(nil)

// SetElectionOptions replaces the election bounds (tests shorten them); it
// must be called before Campaign.
func (s *Store) SetElectionOptions(o ElectionOptions) error {
	o = o.withDefaults()
	if err := o.validate(); err != nil {
		return err
	}
	s.electMu.Lock()
	defer s.electMu.Unlock()
	s.election = o
	return nil
}

// electionPool returns the pool of the lock's connections, opening it the
// first time: a pool of its own, so that the connection holding the lock
// neither takes one of the store's nor gets recycled under it.
func (s *Store) electionPool() (*sql.DB, ElectionOptions) {
	s.electMu.Lock()
	defer s.electMu.Unlock()
	if s.lockDB == nil {
		s.lockDB = sql.OpenDB(s.connector)
		s.lockDB.SetMaxOpenConns(2)
		s.lockDB.SetMaxIdleConns(1)
	}
	return s.lockDB, s.election.withDefaults()
}

// Campaign blocks until this process holds the leadership lock, trying
// every Retry, or until ctx is done.
func (s *Store) Campaign(ctx context.Context) (store.Lease, error) {
	warned := false
	for {
		db, o := s.electionPool()
		l, err := s.tryLead(ctx, db, o)
		if l != nil {
			return l, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil && !warned {
			// Said once per campaign: a database that is down is
			// reported by every other part of okrd too.
			s.logger.Warn("cannot try to take the leadership; trying again", "err", dsnredact.Error(err, s.hide), "retry_in", o.Retry.String())
			warned = true
		}
		t := time.NewTimer(o.Retry)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// sessionSettings are set on every session that tries to take the lock.
// The keepalives let the server notice a peer whose host is gone even
// where idle_session_timeout does not exist (before PostgreSQL 14).
func sessionSettings(o ElectionOptions, withIdle bool) string {
	set := []string{
		fmt.Sprintf("SET statement_timeout = %d", o.Timeout.Milliseconds()),
		"SET tcp_keepalives_idle = 5", "SET tcp_keepalives_interval = 5", "SET tcp_keepalives_count = 3",
	}
	if withIdle {
		set = append(set, fmt.Sprintf("SET idle_session_timeout = %d", o.SessionTimeout.Milliseconds()))
	}
	return strings.Join(set, "; ")
}

// tryLead tries once to take the lock; it returns a nil lease and no
// error when another process holds it.
func (s *Store) tryLead(ctx context.Context, db *sql.DB, o ElectionOptions) (*lease, error) {
	actx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	conn, err := db.Conn(actx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(actx, sessionSettings(o, true)); err != nil {
		var pe *pq.Error
		if !errors.As(err, &pe) || pe.Code != "42704" { // undefined_object: no idle_session_timeout
			_ = conn.Close()
			return nil, err
		}
		s.warnNoIdleTimeout.Do(func() {
			s.logger.Warn("this PostgreSQL has no idle_session_timeout (it came in 14): a leader whose host fails is replaced once the server's TCP keepalives give up on it, not within the documented bound")
		})
		if _, err := conn.ExecContext(actx, sessionSettings(o, false)); err != nil {
			_ = conn.Close()
			return nil, err
		}
	}
	var got bool
	if err := conn.QueryRowContext(actx, tryLockSQL).Scan(&got); err != nil {
		_ = conn.Close()
		return nil, err
	}
	if !got {
		// The session goes back to the pool for the next try.
		_ = conn.Close()
		return nil, nil
	}
	l := &lease{s: s, conn: conn, opts: o, logger: s.logger, lost: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	go l.monitor()
	return l, nil
}

// lease is a held leadership lock.
type lease struct {
	s      *Store
	conn   *sql.Conn
	opts   ElectionOptions
	logger *slog.Logger

	lost     chan struct{}
	lostOnce sync.Once
	stop     chan struct{}
	done     chan struct{}
	release  sync.Once
}

func (l *lease) Lost() <-chan struct{} { return l.lost }

// monitor checks every Heartbeat that the session still holds the lock.
// A check runs in a goroutine of its own and is waited for at most
// Timeout: a query on a connection whose network is gone may not return
// for minutes, and the leader must stop acting long before that.
func (l *lease) monitor() {
	defer close(l.done)
	t := time.NewTicker(l.opts.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		if err := l.check(); err != nil {
			l.logger.Warn("the leadership check failed; giving the leadership up", "err", dsnredact.Error(err, l.s.hide))
			l.lostOnce.Do(func() { close(l.lost) })
			return
		}
	}
}

func (l *lease) check() error {
	ctx, cancel := context.WithTimeout(context.Background(), l.opts.Timeout)
	defer cancel()
	res := make(chan error, 1)
	go func() {
		var n int
		err := l.conn.QueryRowContext(ctx, holdsSQL).Scan(&n)
		if err == nil && n != 1 {
			err = errors.New("the session no longer holds the leadership lock")
		}
		res <- err
	}()
	t := time.NewTimer(l.opts.Timeout)
	defer t.Stop()
	select {
	case err := <-res:
		return err
	case <-t.C:
		return fmt.Errorf("the database did not answer within %s", l.opts.Timeout)
	}
}

// Release unlocks and returns the lock's session. After a lost lease the
// session is discarded instead: the server has ended it or will, and a
// query on it may hang.
func (l *lease) Release() {
	l.release.Do(func() {
		close(l.stop)
		<-l.done
		select {
		case <-l.lost:
			l.discard()
			return
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), l.opts.Timeout)
		defer cancel()
		done := make(chan struct{})
		go func() {
			defer close(done)
			var ok bool
			if err := l.conn.QueryRowContext(ctx, unlockSQL).Scan(&ok); err != nil || !ok {
				// Closing the session releases the lock all the same.
				l.discard()
				return
			}
			_ = l.conn.Close()
		}()
		select {
		case <-done:
		case <-ctx.Done():
			l.discard()
		}
	})
}

// discard closes the lock's pool in the background (a close may wait for a
// query stuck on a dead network) and lets the next campaign open a fresh
// one.
func (l *lease) discard() {
	l.s.electMu.Lock()
	db := l.s.lockDB
	l.s.lockDB = nil
	l.s.electMu.Unlock()
	go func() {
		_ = l.conn.Raw(func(any) error { return driver.ErrBadConn })
		_ = l.conn.Close()
		if db != nil {
			_ = db.Close()
		}
	}()
}
