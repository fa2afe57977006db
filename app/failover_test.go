package app

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/okrd/okrd/store"
	"github.com/okrd/okrd/store/postgres"
)

// The failover test runs three okrd replicas as processes of their own (the
// test binary started again in TestHAReplicaProcess) on one PostgreSQL
// schema, with the production election bounds, and kills the leader with
// SIGKILL twice: first in the middle of its first Jira sync (a search the
// fake holds), then in the middle of a notification (a request the
// receiver holds). Afterwards every record, value, alert transition,
// notification and the weekly report must be there exactly once, and each
// failover must have taken less than failoverBound.

// failoverBound is the documented bound of a failover after the leader's
// process dies (docs/ha.md).
const failoverBound = 30 * time.Second

const replicaConfigEnv = "OKRD_HA_REPLICA_CONFIG"

// TestHAReplicaProcess is not a test: the failover test starts it as a
// replica. It runs okrd until it is killed.
func TestHAReplicaProcess(t *testing.T) {
	path := os.Getenv(replicaConfigEnv)
	if path == "" {
		t.Skip("not a test: a replica process of the failover test")
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	a, err := New(context.Background(), Options{ConfigFile: path, Logger: logger, NoStartJitter: true,
		ShutdownTimeout: 5 * time.Second, ListenAddresses: []string{"127.0.0.1:0"}})
	if err != nil {
		fmt.Println("new:", err)
		os.Exit(2)
	}
	if err := a.Listen(); err != nil {
		fmt.Println("listen:", err)
		os.Exit(2)
	}
	fmt.Println("listening", a.Addr())
	if err := a.Run(context.Background()); err != nil {
		fmt.Println("run:", err)
		os.Exit(2)
	}
	os.Exit(0)
}

// replicaProc is one replica process.
type replicaProc struct {
	name string
	cmd  *exec.Cmd
	url  string
	logs *lockedBuffer
	dead bool
}

func startReplicaProcess(t *testing.T, name, configPath string) *replicaProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHAReplicaProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), replicaConfigEnv+"="+configPath)
	r := &replicaProc{name: name, cmd: cmd, logs: &lockedBuffer{}}
	cmd.Stderr = r.logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !r.dead {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		if t.Failed() {
			t.Logf("log of replica %s (pid %d):\n%s", name, cmd.Process.Pid, r.logs.String())
		}
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if a, ok := strings.CutPrefix(line, "listening "); ok {
				addr <- a
			} else {
				fmt.Fprintln(r.logs, "stdout:", line)
			}
		}
	}()
	select {
	case a := <-addr:
		r.url = "http://" + a
	case <-time.After(time.Minute):
		t.Fatalf("replica %s did not listen within a minute:\n%s", name, r.logs.String())
	}
	return r
}

// kill ends the replica with SIGKILL: nothing of it runs on the way out.
func (r *replicaProc) kill(t *testing.T) {
	t.Helper()
	if err := r.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = r.cmd.Wait()
	r.dead = true
}

var gaugeLine = regexp.MustCompile(`(?m)^(okrd_leader|okrd_notifications_queued) (\S+)$`)

// gauges scrapes the replica's okrd_leader and okrd_notifications_queued;
// ok is false when it does not answer.
func (r *replicaProc) gauges() (leader, queued float64, ok bool) {
	client := http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get(r.url + "/metrics")
	if err != nil {
		return 0, 0, false
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	found := 0
	for _, m := range gaugeLine.FindAllStringSubmatch(string(body), -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		if m[1] == "okrd_leader" {
			leader = v
		} else {
			queued = v
		}
		found++
	}
	return leader, queued, found == 2
}

// waitForLeader waits until exactly one live replica says it leads and
// returns it, failing when two do at once.
func waitForLeader(t *testing.T, rs []*replicaProc, timeout time.Duration) *replicaProc {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var leaders []*replicaProc
		for _, r := range rs {
			if r.dead {
				continue
			}
			if l, _, ok := r.gauges(); ok && l == 1 {
				leaders = append(leaders, r)
			}
		}
		switch {
		case len(leaders) > 1:
			t.Fatalf("replicas %s and %s lead at once", leaders[0].name, leaders[1].name)
		case len(leaders) == 1:
			return leaders[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no replica led within %s", timeout)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func TestFailoverAfterKillingTheLeaderLosesAndRepeatsNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three okrd processes; not in -short mode")
	}
	ctx := context.Background()
	dsn := pgDSN(t)
	fakes := startHAFakes(t, 300)
	// The first leader's backfill stops in its third page of 50.
	searchHeld := fakes.searches.closeAfter(2)
	dir := t.TempDir()
	path := filepath.Join(dir, "okrd.toml")
	if err := os.WriteFile(path, []byte(fakes.config(dsn)), 0o600); err != nil {
		t.Fatal(err)
	}
	var rs []*replicaProc
	for _, name := range []string{"a", "b", "c"} {
		rs = append(rs, startReplicaProcess(t, name, path))
	}
	st, err := postgres.Open(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	countIssues := func() int {
		n, err := st.CountRecords(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return int(n["jira"]["issue"])
	}

	first := waitForLeader(t, rs, time.Minute)
	waitUntil(t, "the weekly report is sent", time.Minute, func() bool { return len(fakes.hook.deliveries("/report")) > 0 })
	select {
	case <-searchHeld:
	case <-time.After(2 * time.Minute):
		t.Fatal("the first leader's backfill did not reach its third page within 2 minutes")
	}
	// The pages before the held one are committed (the last issues of a
	// page may wait for the next one when they share its created minute,
	// so the count is not exactly two pages).
	waitUntil(t, "the pages before the held one are stored", 2*time.Minute, func() bool { return countIssues() >= 90 })
	resumeFrom := fakes.searches.count()

	// Kill the leader mid-backfill.
	first.kill(t)
	killed := time.Now()
	second := waitForLeader(t, rs, 2*failoverBound)
	failover1 := time.Since(killed)
	notificationHeld := fakes.hook.holdFirstAlert()
	fakes.searches.release()
	select {
	case <-notificationHeld:
	case <-time.After(3 * time.Minute):
		t.Fatal("no notification reached the receiver within 3 minutes of the second leader's start")
	}
	if n := countIssues(); n != fakes.jira.NumIssues() {
		t.Fatalf("the backfill stored %d issues before notifying, want all %d", n, fakes.jira.NumIssues())
	}
	resumed := fakes.searches.searchesSince(resumeFrom)
	if len(resumed) == 0 || !strings.Contains(resumed[0], "created >=") {
		t.Errorf("the second leader's first search = %q, want it to resume after the stored pages (created >= ...)", resumed)
	}

	// Kill the leader mid-notification: the receiver holds its request.
	held := fakes.hook.deliveries("/alerts")
	second.kill(t)
	killed = time.Now()
	third := waitForLeader(t, rs, 2*failoverBound)
	failover2 := time.Since(killed)
	fakes.hook.release()
	waitUntil(t, "the third leader delivers the notification and nothing is queued", 3*time.Minute, func() bool {
		answered := 0
		for _, d := range fakes.hook.deliveries("/alerts") {
			if d.Answered {
				answered++
			}
		}
		_, queued, ok := third.gauges()
		return answered > 0 && ok && queued == 0
	})

	t.Run("each failover is within the bound", func(t *testing.T) {
		t.Logf("failover after kill -9: mid-backfill %s, mid-notification %s (bound %s)",
			failover1.Round(time.Millisecond), failover2.Round(time.Millisecond), failoverBound)
		for _, d := range []time.Duration{failover1, failover2} {
			if d > failoverBound {
				t.Errorf("a failover took %s, more than %s", d, failoverBound)
			}
		}
	})
	t.Run("every issue is stored once", func(t *testing.T) {
		seen := map[string]bool{}
		err := st.Records(ctx, "jira", "issue", func(r store.Record) error {
			if seen[r.ID] {
				t.Errorf("issue %s is stored twice", r.ID)
			}
			seen[r.ID] = true
			if _, ok := fakes.jira.Issue(r.ID); !ok {
				t.Errorf("issue %s is stored but not in Jira", r.ID)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(seen) != fakes.jira.NumIssues() {
			t.Errorf("%d issues stored, want %d", len(seen), fakes.jira.NumIssues())
		}
	})
	t.Run("every value is stored once", func(t *testing.T) {
		vals, err := st.ValuesAfter(ctx, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		type point struct {
			kr, origin string
			at         time.Time
		}
		seen := map[point]int{}
		filled := 0
		for _, v := range vals {
			p := point{v.ObjectiveID + "/" + v.KeyResultID, v.Origin, v.At}
			seen[p]++
			if seen[p] == 2 {
				t.Errorf("%s has two values at %s from %s", p.kr, p.at.Format(time.RFC3339), p.origin)
			}
			if isFilled(v.Origin) {
				filled++
			}
		}
		if filled == 0 {
			t.Error("no history was filled in")
		}
	})
	t.Run("the alert fired once and its notification was delivered once, sent again with its id", func(t *testing.T) {
		ds := fakes.hook.deliveries("/alerts")
		if len(held) != 1 || len(held[0].IDs) != 1 || held[0].Answered {
			t.Fatalf("the held delivery = %+v, want one unanswered firing notice", held)
		}
		ids := map[string]int{}
		answered := 0
		for _, d := range ds {
			for i, id := range d.IDs {
				if d.Statuses[i] != "firing" {
					t.Errorf("a %s notice was sent: %+v", d.Statuses[i], d)
				}
				ids[id]++
			}
			if d.Answered {
				answered++
				if d.Idempotency != held[0].Idempotency {
					t.Errorf("the delivery after the failover has Idempotency-Key %q, the held one %q", d.Idempotency, held[0].Idempotency)
				}
			}
		}
		if len(ids) != 1 || ids[held[0].IDs[0]] != 2 || answered != 1 {
			t.Errorf("notification ids %v in %d deliveries (%d answered); want the held one sent again once and answered once", ids, len(ds), answered)
		}
		states, err := st.AlertStates(ctx)
		if err != nil {
			t.Fatal(err)
		}
		firing := 0
		for _, s := range states {
			if s.Key == reportStateKey {
				continue
			}
			var rec struct {
				State  *struct{ Phase string } `json:"state"`
				Outbox map[string]any          `json:"outbox"`
			}
			if err := json.Unmarshal(s.Data, &rec); err != nil {
				t.Fatal(err)
			}
			if rec.State != nil && rec.State.Phase == "firing" {
				firing++
			}
			if len(rec.Outbox) != 0 {
				t.Errorf("alert %s still has queued notifications: %v", s.Key, rec.Outbox)
			}
		}
		if firing != 1 {
			t.Errorf("%d firing alerts stored, want 1", firing)
		}
	})
	t.Run("the weekly report was sent once", func(t *testing.T) {
		if got := fakes.hook.deliveries("/report"); len(got) != 1 {
			t.Errorf("%d reports delivered, want 1: %+v", len(got), got)
		}
	})
}
