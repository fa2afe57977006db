package app

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/okrd/okrd/store"
	"github.com/okrd/okrd/store/postgres"
)

// In-process tests of replicas sharing one PostgreSQL database: two Apps
// in the test process, on one schema. The tests with killed processes are
// in failover_test.go.

// fastElection keeps the tests short; the cut-off margins of the defaults
// do not matter here (no network is cut).
var fastElection = postgres.ElectionOptions{Retry: 50 * time.Millisecond, Heartbeat: 200 * time.Millisecond, Timeout: time.Second, SessionTimeout: 5 * time.Second}

// followFast makes followers read the store every 50ms during a test.
func followFast(t *testing.T) {
	old := followInterval
	followInterval = 50 * time.Millisecond
	t.Cleanup(func() { followInterval = old })
}

// startReplica runs an App of the configuration in a directory of its own
// until the test ends.
func startReplica(t *testing.T, text string) *testApp {
	t.Helper()
	dir := t.TempDir()
	path := writeConfig(t, dir, text)
	logger, _ := testLogger(t)
	a, err := New(context.Background(), Options{ConfigFile: path, Logger: logger, ShutdownTimeout: 5 * time.Second, NoStartJitter: true})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if pg, ok := a.Store().(*postgres.Store); ok {
		if err := pg.SetElectionOptions(fastElection); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ta := &testApp{App: a, url: "http://" + a.Addr(), dir: dir, cfg: path, cancel: cancel, done: make(chan error, 1)}
	go func() { ta.done <- a.Run(ctx) }()
	waitFor(t, func() bool { return a.Ready() })
	t.Cleanup(ta.stop)
	return ta
}

// series renders the families of reg whose names start with prefix.
func series(t *testing.T, a *App, prefix string) string {
	t.Helper()
	mfs, err := a.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), prefix) {
			if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
				t.Fatal(err)
			}
		}
	}
	return b.String()
}

// timeless drops the values of the series that grow with the clock (the
// age of the work in progress), which each replica computes at its own
// moment.
func timeless(exposition string) string {
	lines := strings.Split(exposition, "\n")
	for i, l := range lines {
		if strings.Contains(l, "_age_") && !strings.HasPrefix(l, "#") {
			if j := strings.LastIndexByte(l, ' '); j > 0 {
				lines[i] = l[:j]
			}
		}
	}
	return strings.Join(lines, "\n")
}

func sourceHealth(a *App, name string) (polls int64, up bool, last time.Time) {
	for _, h := range a.Sources() {
		if h.Name == name {
			return h.Polls, h.Up, h.LastSuccess
		}
	}
	return 0, false, time.Time{}
}

func krValue(a *App, obj, kr string) (float64, bool) {
	s := a.Snapshot()
	if s == nil {
		return 0, false
	}
	for _, o := range s.Objectives {
		for _, k := range o.KeyResults {
			if o.Config.ID == obj && k.Config.ID == kr {
				return k.Result.Value, k.Result.HasValue
			}
		}
	}
	return 0, false
}

func TestAFollowerServesWhatTheLeaderStores(t *testing.T) {
	followFast(t)
	dsn := pgDSN(t)
	fakes := startHAFakes(t, 160)
	text := fakes.config(dsn)
	leader := startReplica(t, text)
	waitUntil(t, "the first replica leads and synced Jira", time.Minute, func() bool {
		polls, up, _ := sourceHealth(leader.App, "jira")
		return leader.Leading() && polls > 0 && up
	})
	follower := startReplica(t, text)
	waitUntil(t, "the follower exports the leader's okrd_jira_ series", time.Minute, func() bool {
		return timeless(series(t, follower.App, "okrd_jira_")) == timeless(series(t, leader.App, "okrd_jira_"))
	})
	if follower.Leading() {
		t.Fatal("both replicas lead")
	}
	if got := testutil.ToFloat64(leader.leaderGauge); got != 1 {
		t.Errorf("okrd_leader of the leader = %v, want 1", got)
	}
	if got := testutil.ToFloat64(follower.leaderGauge); got != 0 {
		t.Errorf("okrd_leader of the follower = %v, want 0", got)
	}
	if s := series(t, follower.App, "okrd_jira_"); !strings.Contains(s, "okrd_jira_") {
		t.Fatalf("the follower exports no okrd_jira_ series")
	}
	if n := testutil.ToFloat64(follower.metrics.polls.WithLabelValues("jira", "success")); n != 0 {
		t.Errorf("the follower polled Jira %v times, want never", n)
	}
	waitUntil(t, "the follower shows the leader's key result values and source health", time.Minute, func() bool {
		lv, lok := krValue(leader.App, "delivery", "throughput")
		fv, fok := krValue(follower.App, "delivery", "throughput")
		lp, lup, lls := sourceHealth(leader.App, "jira")
		fp, fup, fls := sourceHealth(follower.App, "jira")
		return lok && fok && lv == fv && lup == fup && lls.Equal(fls) && fp > 0 && fp <= lp
	})
	if got, want := series(t, follower.App, "okrd_source_up"), series(t, leader.App, "okrd_source_up"); got != want {
		t.Errorf("okrd_source_up of the follower:\n%s\nof the leader:\n%s", got, want)
	}
	waitUntil(t, "the follower shows the leader's firing alert", time.Minute, func() bool {
		return series(t, follower.App, "okrd_alerts") == series(t, leader.App, "okrd_alerts") &&
			strings.Contains(series(t, leader.App, "okrd_alerts"), `okrd_alerts{state="firing"} 1`)
	})

	// A check-in taken by the follower reaches the leader.
	checkin(t, follower, "delivery", "nps", 37, time.Now().UTC().Add(-time.Minute).Format(time.RFC3339))
	waitUntil(t, "the leader sees the check-in the follower took", time.Minute, func() bool {
		v, ok := krValue(leader.App, "delivery", "nps")
		return ok && v == 37
	})

	// Only the leader notified, once; only the leader sent the report.
	waitUntil(t, "the alert is delivered", time.Minute, func() bool { return len(fakes.hook.deliveries("/alerts")) > 0 })
	if got := fakes.hook.deliveries("/alerts"); len(got) != 1 || len(got[0].IDs) != 1 || got[0].IDs[0] == "" || got[0].Idempotency != got[0].IDs[0] {
		t.Errorf("alert deliveries = %+v, want one firing notice with its id as Idempotency-Key", got)
	}
	if got := fakes.hook.deliveries("/report"); len(got) != 1 || !strings.HasPrefix(got[0].Idempotency, "report:weekly:") {
		t.Errorf("report deliveries = %+v, want one with its Idempotency-Key", got)
	}
}

func TestAFollowerLeadsWhenTheLeaderStopsAndContinuesFromTheStore(t *testing.T) {
	followFast(t)
	dsn := pgDSN(t)
	fakes := startHAFakes(t, 120)
	text := fakes.config(dsn)
	first := startReplica(t, text)
	waitUntil(t, "the first replica leads and synced Jira", time.Minute, func() bool {
		polls, up, _ := sourceHealth(first.App, "jira")
		return first.Leading() && polls > 0 && up
	})
	second := startReplica(t, text)
	waitUntil(t, "the alert is delivered", time.Minute, func() bool { return len(fakes.hook.deliveries("/alerts")) > 0 })
	searches := fakes.searches.count()
	first.stop()
	waitUntil(t, "the second replica leads", time.Minute, second.Leading)
	if got := testutil.ToFloat64(second.leaderGauge); got != 1 {
		t.Errorf("okrd_leader of the new leader = %v, want 1", got)
	}
	waitUntil(t, "the new leader polls Jira", time.Minute, func() bool {
		return testutil.ToFloat64(second.metrics.polls.WithLabelValues("jira", "success")) > 0
	})
	for _, jql := range fakes.searches.searchesSince(searches) {
		if strings.Contains(jql, "statusCategory") {
			t.Errorf("the new leader runs a full pass instead of continuing from the cursor: %s", jql)
		}
	}
	// Its source continued from the stored health: never in a first sync.
	if got := testutil.ToFloat64(second.metrics.initialSync.WithLabelValues("jira")); got != 0 {
		t.Errorf("okrd_source_initial_sync_in_progress of the new leader = %v, want 0", got)
	}
	if got := fakes.hook.deliveries("/alerts"); len(got) != 1 {
		t.Errorf("alert deliveries = %+v, want the first leader's one only: the firing alert continues", got)
	}
	if got := fakes.hook.deliveries("/report"); len(got) != 1 {
		t.Errorf("report deliveries = %d, want 1", len(got))
	}
}

func TestAFollowerReadsAgainAKeyResultWhoseFilledInHistoryWasReplaced(t *testing.T) {
	followFast(t)
	dsn := pgDSN(t)
	ctx := context.Background()
	// The test plays the leader: it holds the leadership and writes as a
	// leader's fill does.
	lead, err := postgres.Open(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer lead.Close()
	lease, err := lead.Campaign(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lease.Release()
	term, err := lead.NewTerm(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	day := func(n int) time.Time { return time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -n) }
	fill := func(values ...float64) {
		t.Helper()
		err := lead.Update(ctx, func(tx store.Tx) error {
			if err := tx.HoldTerm(ctx, term.Number); err != nil {
				return err
			}
			if _, err := tx.DeleteValues(ctx, "delivery", "throughput", filledOrigin); err != nil {
				return err
			}
			var vals []store.Value
			for i, v := range values {
				vals = append(vals, store.Value{ObjectiveID: "delivery", KeyResultID: "throughput", At: day(len(values) - i), Value: v, Origin: filledOrigin + "jira"})
			}
			if err := tx.AppendValues(ctx, vals...); err != nil {
				return err
			}
			return tx.SetCursor(ctx, fillCursorSource, "delivery/throughput", string(mustJSON(fillState{Fingerprint: "fp", Through: day(1).Add(time.Duration(len(values)))})))
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	fill(1, 2, 3)
	fakes := startHAFakes(t, 10)
	follower := startReplica(t, fakes.config(dsn))
	points := func() string {
		pts := follower.Points("delivery", "throughput", time.Time{}, time.Now())
		var b strings.Builder
		for _, p := range pts {
			b.WriteString(p.At.Format(time.DateOnly) + "=" + formatFloat(p.Value) + " ")
		}
		return b.String()
	}
	want := func(values ...float64) string {
		var b strings.Builder
		for i, v := range values {
			b.WriteString(day(len(values)-i).Format(time.DateOnly) + "=" + formatFloat(v) + " ")
		}
		return b.String()
	}
	waitUntil(t, "the follower holds the first filled-in values", time.Minute, func() bool { return points() == want(1, 2, 3) })
	fill(10, 20, 30, 40)
	waitUntil(t, "the follower holds only the replacement", time.Minute, func() bool { return points() == want(10, 20, 30, 40) })
}

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func TestOkrdSyncIsRefusedWhileAReplicaLeads(t *testing.T) {
	followFast(t)
	dsn := pgDSN(t)
	fakes := startHAFakes(t, 10)
	text := fakes.config(dsn)
	leader := startReplica(t, text)
	waitUntil(t, "the replica leads", time.Minute, leader.Leading)
	dir := t.TempDir()
	path := writeConfig(t, dir, text)
	a, err := New(context.Background(), Options{ConfigFile: path})
	if err != nil {
		t.Fatal(err)
	}
	err = a.SyncOnce(context.Background(), nil)
	if err == nil || !strings.Contains(err.Error(), "leads this database") || !strings.Contains(err.Error(), "okrd sync") {
		t.Fatalf("okrd sync while a replica leads = %v, want a refusal naming the leader", err)
	}
	if !leader.Leading() {
		t.Error("the replica no longer leads after the refused sync")
	}
}

func TestASecondDaemonOnTheSameSQLiteFileIsRefused(t *testing.T) {
	dir := t.TempDir()
	path := writeConfig(t, dir, baseConfig)
	first, err := New(context.Background(), Options{ConfigFile: path})
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(context.Background(), Options{ConfigFile: path})
	if err == nil || !strings.Contains(err.Error(), "in use by another okrd daemon") || !strings.Contains(err.Error(), "storage:") {
		t.Fatalf("a second daemon on the file = %v, want a refusal", err)
	}
	// A short-lived command (okrd checkin, okrd report) opens it all the
	// same.
	cfg := first.Config()
	st, err := OpenStore(context.Background(), cfg.Storage, nil)
	if err != nil {
		t.Fatalf("OpenStore while a daemon holds the file: %v", err)
	}
	if _, err := st.AddCheckin(context.Background(), storeCheckin("grow", "nps", 35)); err != nil {
		t.Fatalf("a check-in while a daemon holds the file: %v", err)
	}
	st.Close()
	if err := first.Store().Close(); err != nil {
		t.Fatal(err)
	}
	again, err := New(context.Background(), Options{ConfigFile: path})
	if err != nil {
		t.Fatalf("a daemon after the first one closed: %v", err)
	}
	again.Store().Close()
	if _, err := filepath.Abs(path); err != nil {
		t.Fatal(err)
	}
}

func TestWritesOfAProcessThatDoesNotLeadAreRefused(t *testing.T) {
	dir := t.TempDir()
	a, err := New(context.Background(), Options{ConfigFile: writeConfig(t, dir, baseConfig)})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Store().Close()
	ctx := context.Background()
	v := store.Value{ObjectiveID: "grow", KeyResultID: "nps", At: fixedNow, Value: 1}
	writes := map[string]func() error{
		"AppendValues":     func() error { return a.writes().AppendValues(ctx, v) },
		"Update":           func() error { return a.writes().Update(ctx, func(store.Tx) error { return nil }) },
		"PutAlertState":    func() error { return a.writes().PutAlertState(ctx, store.AlertState{Key: "k", State: "firing"}) },
		"DeleteAlertState": func() error { return a.writes().DeleteAlertState(ctx, "k") },
	}
	for name, w := range writes {
		if err := w(); !errors.Is(err, store.ErrFenced) {
			t.Errorf("%s while following = %v, want ErrFenced", name, err)
		}
	}
	term, err := a.store.NewTerm(ctx, a.holder)
	if err != nil {
		t.Fatal(err)
	}
	a.term.Store(term.Number)
	for name, w := range writes {
		if err := w(); err != nil {
			t.Errorf("%s while leading: %v", name, err)
		}
	}
	// Another process starts a term: this one's writes are refused,
	// although it has not noticed.
	if _, err := a.store.NewTerm(ctx, "elsewhere:1"); err != nil {
		t.Fatal(err)
	}
	for name, w := range writes {
		if err := w(); !errors.Is(err, store.ErrFenced) {
			t.Errorf("%s under an old term = %v, want ErrFenced", name, err)
		}
	}
	// Check-ins are anyone's.
	if _, err := a.writes().AddCheckin(ctx, storeCheckin("grow", "nps", 35)); err != nil {
		t.Errorf("a check-in of a process that does not lead: %v", err)
	}
	vals, err := a.store.ValuesAfter(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(vals) != 2 {
		t.Errorf("%d values stored, want 2 (the one written while leading and the check-in)", len(vals))
	}
}
