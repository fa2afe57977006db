package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/okrd/okrd/store"
)

// Tests of the leader election and of the term fencing that only
// PostgreSQL can show: concurrent sessions, a session ended by the server,
// a network that stops carrying packets.

// fastElection is short enough for tests and keeps the margin between a
// cut-off leader's step-down (Heartbeat + Timeout) and the server's release
// of its lock (SessionTimeout) wide, so that a loaded machine cannot
// reorder them.
var fastElection = ElectionOptions{Retry: 50 * time.Millisecond, Heartbeat: 100 * time.Millisecond, Timeout: 300 * time.Millisecond, SessionTimeout: 4 * time.Second}

func electing(t *testing.T, dsn string) *Store {
	t.Helper()
	s := openSchema(t, dsn)
	if err := s.SetElectionOptions(fastElection); err != nil {
		t.Fatal(err)
	}
	return s
}

// waitUntil polls cond until it holds, failing after a generous safety
// timeout: the tests wait on states they can observe, never on time.
func waitUntil(t *testing.T, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ok, err := cond()
		if err != nil {
			t.Fatalf("waiting until %s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen within 60s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func campaign(t *testing.T, s *Store) store.Lease {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	l, err := s.Campaign(ctx)
	if err != nil {
		t.Fatalf("Campaign: %v", err)
	}
	t.Cleanup(l.Release)
	return l
}

// campaignAsync campaigns in the background; the lease arrives on the
// channel.
func campaignAsync(t *testing.T, s *Store) <-chan store.Lease {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan store.Lease, 1)
	go func() {
		l, err := s.Campaign(ctx)
		if err == nil {
			ch <- l
		}
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case l := <-ch:
			l.Release()
		default:
		}
	})
	return ch
}

// leaderPID returns the server process of the session holding schema's
// leadership lock, 0 if none.
func leaderPID(t *testing.T, schema string) int {
	t.Helper()
	_, admin := baseDSN(t)
	defer admin.Close()
	var pid int
	err := admin.QueryRow(`SELECT COALESCE(max(pid), 0) FROM pg_locks WHERE locktype = 'advisory' AND classid = $1::oid
		AND objid = hashtext($2)::oid AND objsubid = 2 AND granted`, leaderLockClass, schema).Scan(&pid)
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func TestOneCampaignerLeadsAndAnotherTakesOverWhenItReleases(t *testing.T) {
	dsn, schema := freshSchema(t)
	a, b := electing(t, dsn), electing(t, dsn)
	la := campaign(t, a)
	first := leaderPID(t, schema)
	if first == 0 {
		t.Fatal("the leader's session holds no lock")
	}
	lb := campaignAsync(t, b)
	// A third session cannot take the lock either.
	var got bool
	if err := a.SQL().QueryRow(tryLockSQL).Scan(&got); err != nil || got {
		t.Fatalf("another session took the held leadership lock: %v, %v", got, err)
	}
	select {
	case <-lb:
		t.Fatal("a second campaigner leads while the first holds the lock")
	case <-la.Lost():
		t.Fatal("the leader lost the leadership without a reason")
	default:
	}
	la.Release()
	select {
	case l := <-lb:
		defer l.Release()
	case <-time.After(60 * time.Second):
		t.Fatal("the second campaigner did not lead within 60s of the release")
	}
	if second := leaderPID(t, schema); second == 0 || second == first {
		t.Fatalf("the lock is held by session %d after the release, want the second campaigner's (not %d)", second, first)
	}
}

func TestASessionEndedByTheServerLosesTheLeadership(t *testing.T) {
	dsn, schema := freshSchema(t)
	a, b := electing(t, dsn), electing(t, dsn)
	la := campaign(t, a)
	lb := campaignAsync(t, b)
	pid := leaderPID(t, schema)
	_, admin := baseDSN(t)
	defer admin.Close()
	if _, err := admin.Exec("SELECT pg_terminate_backend($1)", pid); err != nil {
		t.Fatal(err)
	}
	select {
	case <-la.Lost():
	case <-time.After(60 * time.Second):
		t.Fatal("the leader did not notice within 60s that its session ended")
	}
	select {
	case l := <-lb:
		l.Release()
	case <-time.After(60 * time.Second):
		t.Fatal("nobody led within 60s of the leader's session ending")
	}
}

func TestSchemasElectSeparately(t *testing.T) {
	dsn1, _ := freshSchema(t)
	dsn2, _ := freshSchema(t)
	campaign(t, electing(t, dsn1))
	campaign(t, electing(t, dsn2))
}

func TestCampaignEndsWithItsContext(t *testing.T) {
	dsn, _ := freshSchema(t)
	a, b := electing(t, dsn), electing(t, dsn)
	campaign(t, a)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := b.Campaign(ctx)
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Campaign after its context ended = %v, want context.Canceled", err)
	}
}

func TestTheElectionBoundsMustLetALeaderStepDownFirst(t *testing.T) {
	s := &Store{}
	err := s.SetElectionOptions(ElectionOptions{Heartbeat: 5 * time.Second, Timeout: 5 * time.Second, SessionTimeout: 10 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "must exceed the heartbeat") {
		t.Fatalf("SetElectionOptions with a session timeout of heartbeat + timeout = %v, want a refusal", err)
	}
	if err := s.SetElectionOptions(ElectionOptions{}); err != nil {
		t.Fatalf("the defaults are refused: %v", err)
	}
}

// freezer is a TCP proxy in front of PostgreSQL whose connections can be
// frozen: they stay open but carry nothing, as across a network partition
// (nothing tells either side that the other is gone).
type freezer struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	frozen chan struct{} // closed while not frozen
	conns  []net.Conn
}

func newFreezer(t *testing.T, target string) *freezer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &freezer{ln: ln, target: target, frozen: make(chan struct{})}
	close(f.frozen)
	go f.serve()
	t.Cleanup(f.close)
	return f
}

func (f *freezer) serve() {
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		u, err := net.Dial("tcp", f.target)
		if err != nil {
			c.Close()
			continue
		}
		f.mu.Lock()
		f.conns = append(f.conns, c, u)
		f.mu.Unlock()
		go f.pipe(u, c)
		go f.pipe(c, u)
	}
}

func (f *freezer) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			f.mu.Lock()
			open := f.frozen
			f.mu.Unlock()
			<-open
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				dst.Close()
			}
			_ = dst.(*net.TCPConn).CloseWrite()
			return
		}
	}
}

func (f *freezer) freeze() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.frozen = make(chan struct{})
}

func (f *freezer) close() {
	f.ln.Close()
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case <-f.frozen:
	default:
		close(f.frozen)
	}
	for _, c := range f.conns {
		c.Close()
	}
}

// through returns dsn pointed at the proxy.
func (f *freezer) through(t *testing.T, dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		t.Skip("the partition test needs OKRD_TEST_POSTGRES_DSN as a postgres:// URL")
	}
	u.Host = f.ln.Addr().String()
	return u.String()
}

func TestALeaderCutOffFromTheDatabaseStepsDownBeforeAnotherLeads(t *testing.T) {
	dsn, _ := freshSchema(t)
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		t.Skip("the partition test needs OKRD_TEST_POSTGRES_DSN as a postgres:// URL")
	}
	host := u.Host
	if !strings.Contains(host, ":") {
		host += ":5432"
	}
	proxy := newFreezer(t, host)
	cut := electing(t, proxy.through(t, dsn))
	other := electing(t, dsn)
	la := campaign(t, cut)
	lb := campaignAsync(t, other)

	proxy.freeze()
	frozen := time.Now()
	select {
	case <-la.Lost():
	case l := <-lb:
		l.Release()
		t.Fatal("another process led before the cut-off leader gave the leadership up")
	case <-time.After(60 * time.Second):
		t.Fatal("the cut-off leader did not give the leadership up within 60s")
	}
	steppedDown := time.Since(frozen)
	// The server releases the lock only once the cut-off session has been
	// idle for SessionTimeout.
	select {
	case l := <-lb:
		l.Release()
		t.Fatal("another process led before the server could have released the cut-off leader's lock")
	default:
	}
	select {
	case l := <-lb:
		defer l.Release()
	case <-time.After(60 * time.Second):
		t.Fatal("nobody led within 60s of the partition")
	}
	t.Logf("the cut-off leader stepped down %s after the partition; another led %s after it (bounds: %s and %s)",
		steppedDown.Round(time.Millisecond), time.Since(frozen).Round(time.Millisecond),
		fastElection.Heartbeat+fastElection.Timeout, fastElection.SessionTimeout+fastElection.Retry)
}

// appName returns dsn with a unique application_name, to find its
// sessions in pg_stat_activity among those of other tests.
func appName(t *testing.T, dsn string) (string, string) {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "okrd_test_" + hex.EncodeToString(b)
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return dsn + " application_name=" + name, name
	}
	q := u.Query()
	q.Set("application_name", name)
	u.RawQuery = q.Encode()
	return u.String(), name
}

func TestANewTermWaitsForTheTransactionsOfTheOldTerm(t *testing.T) {
	dsn, _ := freshSchema(t)
	dsn, app := appName(t, dsn)
	s := openSchema(t, dsn)
	ctx := context.Background()
	one, err := s.NewTerm(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	holding, release := make(chan struct{}), make(chan struct{})
	oldWrite := make(chan error, 1)
	go func() {
		oldWrite <- s.Update(ctx, func(tx store.Tx) error {
			if err := tx.HoldTerm(ctx, one.Number); err != nil {
				return err
			}
			close(holding)
			<-release
			return tx.PutRecords(ctx, store.Record{Source: "jira", Kind: "issue", ID: "OLD"})
		})
	}()
	<-holding
	next := make(chan store.Term, 1)
	go func() {
		term, err := s.NewTerm(ctx, "b")
		if err != nil {
			t.Error(err)
		}
		next <- term
	}()
	_, admin := baseDSN(t)
	defer admin.Close()
	waitUntil(t, "the new term's UPDATE waits for a lock", func() (bool, error) {
		var n int
		err := admin.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE application_name = $1
			AND wait_event_type = 'Lock' AND query LIKE 'UPDATE leadership%'`, app).Scan(&n)
		return n > 0, err
	})
	select {
	case <-next:
		t.Fatal("NewTerm returned while a transaction held the old term")
	default:
	}
	close(release)
	if err := <-oldWrite; err != nil {
		t.Fatalf("the transaction that held the old term before the new one began: %v", err)
	}
	if two := <-next; two.Number != one.Number+1 {
		t.Fatalf("new term = %d, want %d", two.Number, one.Number+1)
	}
	err = s.Update(ctx, func(tx store.Tx) error { return tx.HoldTerm(ctx, one.Number) })
	if !errors.Is(err, store.ErrFenced) {
		t.Fatalf("a transaction of the old term after the new one began = %v, want ErrFenced", err)
	}
}

func TestPooledSessionsEndATransactionLeftOpen(t *testing.T) {
	dsn, _ := freshSchema(t)
	s := openSchema(t, dsn)
	var got string
	if err := s.SQL().QueryRow("SHOW idle_in_transaction_session_timeout").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != idleInTransactionTimeout {
		t.Fatalf("idle_in_transaction_session_timeout = %q, want %q", got, idleInTransactionTimeout)
	}
	// A DSN that sets it keeps its value.
	own := openSchema(t, withParam(t, dsn, "idle_in_transaction_session_timeout", "7s"))
	if err := own.SQL().QueryRow("SHOW idle_in_transaction_session_timeout").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != "7s" {
		t.Fatalf("idle_in_transaction_session_timeout set by the DSN = %q, want 7s", got)
	}
}

func withParam(t *testing.T, dsn, key, value string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return dsn + " " + key + "=" + value
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}
