package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"weak"

	"github.com/okrd/okrd/internal/retry/retrytest"
	"github.com/okrd/okrd/snapshot"
)

// safety bounds the waits of the tests below; none is reached unless the
// code under test is broken.
const safety = 30 * time.Second

func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(safety):
		t.Fatalf("%s did not happen within %s", what, safety)
		panic("unreachable")
	}
}

// countRequests returns a channel that receives the total number of
// evaluation requests after each one.
func countRequests(hooks *evalHooks) <-chan int {
	ch := make(chan int, 1000)
	var n atomic.Int64
	hooks.requested = func(bool) { ch <- int(n.Add(1)) }
	return ch
}

// waitRequests waits until n requests have been made.
func waitRequests(t *testing.T, ch <-chan int, n int) {
	t.Helper()
	for recv(t, ch, fmt.Sprintf("request %d", n)) < n {
	}
}

func TestEvaluationsAskedForWhileOneRunsShareTheNextOne(t *testing.T) {
	ta := startApp(t, "", baseConfig, fixedClock)
	settled(t, ta)
	entered, release := make(chan bool), make(chan struct{})
	var (
		mu    sync.Mutex
		kinds []bool
	)
	hooks := &evalHooks{evaluating: func(full bool) {
		mu.Lock()
		kinds = append(kinds, full)
		first := len(kinds) == 1
		mu.Unlock()
		if first {
			entered <- full
			<-release
		}
	}}
	requests := countRequests(hooks)
	ta.hooks.Store(hooks)

	// One evaluation runs and is held; 30 more are asked for meanwhile,
	// concurrently, a full one among check-ins' partial ones.
	first := ta.requestEvaluation(context.Background(), false)
	recv(t, entered, "the first evaluation")
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i == 17 {
				ta.Evaluate(context.Background())
			} else {
				<-ta.requestEvaluation(context.Background(), false)
			}
		}()
	}
	waitRequests(t, requests, 31)
	close(release)
	recv(t, first, "the end of the first evaluation")
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	recv(t, done, "the end of the evaluations asked for")

	mu.Lock()
	defer mu.Unlock()
	if len(kinds) != 2 || kinds[0] || !kinds[1] {
		t.Errorf("evaluations (true when full) = %v, want [false true]: the held one, then one full one for all 30 requests", kinds)
	}
}

type checkinAnswer struct {
	KeyResult struct {
		ID     string   `json:"id"`
		Value  *float64 `json:"value"`
		Points int      `json:"points_in_period"`
	} `json:"key_result"`
}

func postCheckin(t *testing.T, ta *testApp, obj, kr string, value float64) checkinAnswer {
	body := fmt.Sprintf(`{"value": %v, "at": "2026-11-15T11:00:00Z"}`, value)
	req, err := http.NewRequest("POST", ta.url+"/api/v1/objectives/"+obj+"/key_results/"+kr+"/checkins", strings.NewReader(body))
	if err != nil {
		t.Error(err)
		return checkinAnswer{}
	}
	req.Header.Set("Authorization", "Bearer s3cret-token")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return checkinAnswer{}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out checkinAnswer
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &out) != nil {
		t.Errorf("check-in %s/%s: %d %s", obj, kr, resp.StatusCode, b)
	}
	return out
}

func TestEveryCheckinAnswersWithItsKeyResultAfterItEvenWhenAnEvaluationWasRunning(t *testing.T) {
	ta := startApp(t, "", baseConfig, fixedClock)
	settled(t, ta)
	entered, release := make(chan struct{}), make(chan struct{})
	var held atomic.Bool
	var published []*snapshot.Snapshot
	var mu sync.Mutex
	hooks := &evalHooks{
		evaluating: func(bool) {
			if held.CompareAndSwap(false, true) {
				close(entered)
				<-release
			}
		},
		published: func(s *snapshot.Snapshot) {
			mu.Lock()
			published = append(published, s)
			mu.Unlock()
		},
	}
	requests := countRequests(hooks)
	ta.hooks.Store(hooks)

	// An evaluation has read the values and is held; four check-ins are
	// stored meanwhile, so it cannot include them.
	go ta.Evaluate(context.Background())
	recv(t, entered, "the held evaluation")
	krs := []struct {
		obj, kr string
		value   float64
	}{{"grow", "nps", 38}, {"grow", "tickets", 101}, {"grow", "latency", 0.2}, {"ship", "deploys", 7}}
	answers := make([]checkinAnswer, len(krs))
	var wg sync.WaitGroup
	for i, c := range krs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = postCheckin(t, ta, c.obj, c.kr, c.value)
		}()
	}
	waitRequests(t, requests, 1+len(krs))
	close(release)
	wg.Wait()

	for i, c := range krs {
		if v := answers[i].KeyResult.Value; answers[i].KeyResult.ID != c.kr || v == nil || *v != c.value || answers[i].KeyResult.Points != 1 {
			t.Errorf("the check-in of %v to %s answered with %+v, want the key result with that value", c.value, c.kr, answers[i].KeyResult)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(published) == 0 || published[0].Objective("grow").KeyResult("nps").Result.HasValue {
		t.Error("the held evaluation should have been published without the check-ins (the test lost its point)")
	}
}

// settled waits until the evaluation that follows taking the lead is
// over: it is a full one, and may come after the app is ready.
func settled(t *testing.T, ta *testApp) {
	t.Helper()
	waitFor(t, func() bool { return ta.ledEvals.Load() > 0 })
}

func TestACheckinEvaluatesAgainOnlyItsObjectiveAndMatchesAFullEvaluation(t *testing.T) {
	ta := startApp(t, "", baseConfig, fixedClock)
	settled(t, ta)
	var kinds []bool
	var mu sync.Mutex
	ta.hooks.Store(&evalHooks{evaluating: func(full bool) {
		mu.Lock()
		kinds = append(kinds, full)
		mu.Unlock()
	}})
	before := ta.Snapshot()
	seed(t, ta) // check-ins of objective grow only
	after := ta.Snapshot()
	mu.Lock()
	for _, full := range kinds {
		if full {
			t.Error("a check-in made a full evaluation")
		}
	}
	mu.Unlock()
	if after.Objective("ship") != before.Objective("ship") {
		t.Error("the objective without check-ins was evaluated again instead of shared")
	}
	if after.Objective("grow") == before.Objective("grow") {
		t.Fatal("the objective with check-ins was not evaluated again")
	}
	full := ta.hist.evaluate(ta.Config(), fixedNow, 0)
	if got, want := string(after.AppendText(nil)), string(full.AppendText(nil)); got != want {
		t.Errorf("the snapshot after the check-ins differs from a full evaluation:\n%s", diffLines(want, got))
	}

	// A full evaluation whose results are all the same shares every
	// objective, and so everything encoded.
	ta.Evaluate(context.Background())
	again := ta.Snapshot()
	if again == after || again.Objective("grow") != after.Objective("grow") || again.Objective("ship") != after.Objective("ship") {
		t.Error("a full evaluation that changed nothing did not share the objectives of the snapshot before")
	}
}

// okrPart is what follows okrd's own series in an exposition.
func okrPart(t *testing.T, body string) string {
	t.Helper()
	i := strings.Index(body, "# HELP okr_")
	if i < 0 {
		t.Errorf("no okr_ series in the exposition")
		return ""
	}
	return body[i:]
}

func TestAScrapeWhileCheckinsArriveGetsOneWholeExposition(t *testing.T) {
	ta := startApp(t, "", baseConfig, fixedClock)
	settled(t, ta)
	var mu sync.Mutex
	texts := map[string]bool{}
	ta.hooks.Store(&evalHooks{published: func(s *snapshot.Snapshot) {
		text := string(s.AppendText(nil))
		mu.Lock()
		texts[text] = true
		mu.Unlock()
	}})
	mu.Lock()
	texts[string(ta.Snapshot().AppendText(nil))] = true
	mu.Unlock()

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 40 {
			postCheckin(t, ta, "grow", []string{"nps", "tickets"}[i%2], float64(30+i))
		}
	}()
	var bodies []string
	var bmu sync.Mutex
	for _, enc := range []string{"gzip", "identity"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 40 {
				req, _ := http.NewRequest("GET", ta.url+"/metrics", nil)
				if enc == "identity" {
					// Without this header Go's client asks for gzip and
					// decompresses the answer.
					req.Header.Set("Accept-Encoding", enc)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 {
					t.Errorf("scrape: %d %v", resp.StatusCode, err)
					return
				}
				bmu.Lock()
				bodies = append(bodies, string(b))
				bmu.Unlock()
			}
		}()
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(texts) < 10 {
		t.Fatalf("only %d snapshots were published during the scrapes", len(texts))
	}
	for _, b := range bodies {
		if part := okrPart(t, b); !texts[part] {
			t.Fatalf("a scrape got an exposition that no snapshot has:\n%s", part)
		}
	}
}

func TestOnlyTheNewestSnapshotStaysInMemory(t *testing.T) {
	ta := startApp(t, "", baseConfig, fixedClock)
	settled(t, ta)
	var mu sync.Mutex
	var olds []weak.Pointer[snapshot.Snapshot]
	ta.hooks.Store(&evalHooks{published: func(s *snapshot.Snapshot) {
		mu.Lock()
		olds = append(olds, weak.Make(s))
		mu.Unlock()
	}})
	for i := range 30 {
		postCheckin(t, ta, "grow", "nps", float64(30+i))
		// Scrapes encode each snapshot, as Prometheus would.
		do(t, "GET", ta.url+"/metrics", "", "")
	}
	newest := ta.Snapshot()
	runtime.GC()
	mu.Lock()
	defer mu.Unlock()
	kept := 0
	for _, w := range olds {
		if s := w.Value(); s != nil && s != newest {
			kept++
		}
	}
	if kept > 0 || len(olds) != 30 {
		t.Errorf("%d of the %d superseded snapshots are still in memory", kept, len(olds)-1)
	}
	runtime.KeepAlive(newest)
}

// fakeWarmClock makes the warmer of the test wait on a manual fake clock,
// which the test moves.
func fakeWarmClock(t *testing.T) *retrytest.Clock {
	clk := retrytest.NewClock(fixedNow)
	old := warmClock
	warmClock = clk
	// Registered before startApp's, so it runs after okrd stopped.
	t.Cleanup(func() { warmClock = old })
	return clk
}

// quietUntilWarming lets the warmer's wait for quiet run out (moving its
// clock by warmQuiet while it waits) until it takes on a snapshot. One
// move may not do: a wake still on its way when the quiet timer fires
// (an evaluation published just before) can win the warmer's select and
// restart the wait.
func quietUntilWarming(t *testing.T, clk *retrytest.Clock, entered chan warming, what string) warming {
	t.Helper()
	deadline := time.NewTimer(safety)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if len(clk.Pending()) >= 2 {
			clk.Advance(warmQuiet)
		}
		select {
		case w := <-entered:
			return w
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("%s did not happen within %s", what, safety)
		}
	}
}

type warming struct {
	snap *snapshot.Snapshot
	ctx  context.Context
}

type warmResult struct {
	snap     *snapshot.Snapshot
	finished bool
}

// watchWarmer reports each snapshot after start that the warmer takes on
// entered, holding it until release receives, and what came of it on
// results.
func watchWarmer(ta *testApp, start uint64) (entered chan warming, release chan struct{}, results chan warmResult, restarted chan struct{}) {
	entered, release, results, restarted = make(chan warming), make(chan struct{}), make(chan warmResult, 10), make(chan struct{}, 100)
	ta.hooks.Store(&evalHooks{
		waitRestarted: func() { restarted <- struct{}{} },
		warming: func(s *snapshot.Snapshot, ctx context.Context) {
			if s.Generation > start {
				entered <- warming{s, ctx}
				<-release
			}
		},
		warmed: func(s *snapshot.Snapshot, finished bool) {
			if s.Generation > start {
				results <- warmResult{s, finished}
			}
		},
	})
	return entered, release, results, restarted
}

func TestTheWarmerGivesUpOnASnapshotANewerOneReplaced(t *testing.T) {
	clk := fakeWarmClock(t)
	ta := startApp(t, "", baseConfig, fixedClock)
	settled(t, ta)
	entered, release, results, _ := watchWarmer(ta, ta.Snapshot().Generation)

	postCheckin(t, ta, "grow", "nps", 33)
	first := quietUntilWarming(t, clk, entered, "warming the snapshot of the first check-in")
	if first.snap != ta.Snapshot() || first.ctx.Err() != nil {
		t.Fatal("the warmer took another snapshot than the newest, or one cancelled already")
	}
	// A newer snapshot arrives while the warmer holds the first.
	postCheckin(t, ta, "grow", "nps", 34)
	if first.ctx.Err() == nil {
		t.Error("publishing a newer snapshot did not cancel warming the older one")
	}
	release <- struct{}{}
	if r := recv(t, results, "the end of warming the first"); r.snap != first.snap || r.finished {
		t.Error("the warmer finished a snapshot a newer one had replaced")
	}
	second := quietUntilWarming(t, clk, entered, "warming the newer snapshot")
	release <- struct{}{}
	if r := recv(t, results, "the end of warming the newer"); r.snap != second.snap || r.snap != ta.Snapshot() || !r.finished {
		t.Error("the warmer did not encode the newest snapshot whole")
	}
}

func TestTheWarmerEncodesABurstOfCheckinsOnceAtItsNewestSnapshot(t *testing.T) {
	clk := fakeWarmClock(t)
	ta := startApp(t, "", baseConfig, fixedClock)
	settled(t, ta)
	entered, release, results, restarted := watchWarmer(ta, ta.Snapshot().Generation)
	noWarming := func() {
		t.Helper()
		select {
		case w := <-entered:
			t.Fatalf("the warmer took snapshot %d during the burst", w.snap.Generation)
		default:
		}
	}

	// A check-in every 90 ms, each restarting the wait for 100 ms of
	// quiet, for most of a second.
	postCheckin(t, ta, "grow", "nps", 30)
	clk.AwaitTimers(t, 2)
	step := warmQuiet * 9 / 10
	elapsed := time.Duration(0)
	for i := 0; elapsed+step < warmMax; i++ {
		clk.Advance(step)
		elapsed += step
		postCheckin(t, ta, "grow", "nps", float64(31+i))
		recv(t, restarted, "the warmer's wait restarting")
		noWarming()
	}
	// However long a burst goes on, the warmer warms warmMax after it
	// began, once, the newest snapshot.
	clk.Advance(warmMax - elapsed)
	w := recv(t, entered, "warming after the burst")
	release <- struct{}{}
	if r := recv(t, results, "the end of warming"); w.snap != ta.Snapshot() || !r.finished {
		t.Errorf("the warmer warmed snapshot %d, not the newest (%d), or did not finish it", w.snap.Generation, ta.Snapshot().Generation)
	}
	noWarming()
}
