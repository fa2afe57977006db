package app

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/okrd/okrd/store"
)

// The scale benchmarks run okrd as a large team would: a configuration of
// 10,000 manual key results (1,000 objectives of 10), each with a few weekly
// values, in a SQLite file, served over real HTTP. Everything is generated
// here; nothing is committed.
const (
	scaleObjectives   = 1000
	scalePerObjective = 10
	scaleWeeks        = 6
)

// scaleConfig is a configuration of scaleObjectives objectives with
// scalePerObjective key results each, none bound to a source.
func scaleConfig(dir string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `
[global]
time_zone = "UTC"
evaluation_interval = "1h"

[server]
listen_address = "127.0.0.1:0"
api_token = "s3cret-token"

[storage]
driver = "sqlite"
dsn = %q
`, filepath.ToSlash(filepath.Join(dir, "okrd.db")))
	for o := range scaleObjectives {
		fmt.Fprintf(&b, "\n[[objectives]]\nid = \"objective-%d\"\ntitle = \"Objective number %d\"\nowner = \"owner-%d\"\nteam = \"team-%d\"\nperiod = \"2026-Q4\"\n",
			o, o, o%37, o%11)
		for k := range scalePerObjective {
			fmt.Fprintf(&b, "  [[objectives.key_results]]\n  id = \"kr-%d\"\n  title = \"Key result %d of objective %d\"\n  baseline = %d\n  target = %d\n",
				k, k, o, 10+k, 100+k)
		}
	}
	return b.String()
}

// scaleApp is okrd running on the scale configuration.
type scaleApp struct {
	*App
	url    string
	cancel context.CancelFunc
	done   chan error
}

// startScaleApp starts okrd on the scale configuration with scaleWeeks
// weekly values per key result already stored, and waits for its first
// evaluation. The clock is the fixed clock of the tests.
func startScaleApp(b *testing.B) *scaleApp {
	b.Helper()
	dir := b.TempDir()
	path := filepath.Join(dir, "okrd.toml")
	if err := os.WriteFile(path, []byte(scaleConfig(dir)), 0o600); err != nil {
		b.Fatal(err)
	}
	a, err := New(context.Background(), Options{ConfigFile: path, Now: fixedClock, ShutdownTimeout: 5 * time.Second, ListenAddresses: []string{"127.0.0.1:0"}})
	if err != nil {
		b.Fatal(err)
	}
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	var vals []store.Value
	for o := range scaleObjectives {
		for k := range scalePerObjective {
			for w := range scaleWeeks {
				vals = append(vals, store.Value{ObjectiveID: fmt.Sprintf("objective-%d", o), KeyResultID: fmt.Sprintf("kr-%d", k),
					At: start.Add(time.Duration(w) * 7 * 24 * time.Hour), Value: float64(10 + k + 5*w + o%7), Origin: "checkin:0"})
			}
		}
		if len(vals) >= 5000 {
			if err := a.Store().AppendValues(context.Background(), vals...); err != nil {
				b.Fatal(err)
			}
			vals = vals[:0]
		}
	}
	if err := a.Store().AppendValues(context.Background(), vals...); err != nil {
		b.Fatal(err)
	}
	if err := a.Listen(); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	sa := &scaleApp{App: a, url: "http://" + a.Addr(), cancel: cancel, done: make(chan error, 1)}
	go func() { sa.done <- a.Run(ctx) }()
	deadline := time.Now().Add(2 * time.Minute)
	for !a.Ready() {
		if time.Now().After(deadline) {
			b.Fatal("okrd was not ready within 2 minutes")
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.Cleanup(func() {
		cancel()
		<-sa.done
	})
	return sa
}

// percentile returns the q-quantile (0 < q <= 1) of sorted durations, by
// the nearest-rank method.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*q+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// rssMiB reads the resident set size of the process.
func rssMiB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}

// cpuTime is the CPU time the process has used (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// settle waits until the newest snapshot is encoded whole, as it is once
// the warmer has caught up, so that memory is measured at rest.
func (sa *scaleApp) settle() {
	sa.Snapshot().Warm(context.Background())
}

// heapMiB is the live heap after a full collection.
func heapMiB() float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc) / (1 << 20)
}

// runClients runs n clients that together make total calls of do, and
// returns the latency of each call, sorted.
func runClients(b *testing.B, n, total int, do func(client, i int) error) []time.Duration {
	b.Helper()
	var (
		mu   sync.Mutex
		lats = make([]time.Duration, 0, total)
		wg   sync.WaitGroup
		errs = make(chan error, n)
	)
	for c := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; i < total; i += n {
				start := time.Now()
				if err := do(c, i); err != nil {
					errs <- err
					return
				}
				d := time.Since(start)
				mu.Lock()
				lats = append(lats, d)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	slices.Sort(lats)
	return lats
}

// postScaleCheckin posts the i-th check-in of a benchmark to a random key
// result.
func postScaleCheckin(client *http.Client, url string, i int) error {
	o, k := rand.IntN(scaleObjectives), rand.IntN(scalePerObjective)
	url = fmt.Sprintf("%s/api/v1/objectives/objective-%d/key_results/kr-%d/checkins", url, o, k)
	body := fmt.Sprintf(`{"value": %d, "at": "2026-11-15T11:00:00Z"}`, 20+i%50)
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer s3cret-token")
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("check-in %d: %d %s", i, resp.StatusCode, got)
	}
	return nil
}

// BenchmarkCheckins10kKeyResults posts b.N check-ins from 10 clients at
// once to okrd with 10,000 key results, through the HTTP API, and reports
// the latency percentiles, the CPU time and evaluations per check-in, and
// the memory before and after, each measured once the newest snapshot is
// encoded.
//
//	go test -run '^$' -bench Checkins10k -benchtime 2000x ./app/
func BenchmarkCheckins10kKeyResults(b *testing.B) {
	const clients = 10
	sa := startScaleApp(b)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	// Run before okrd stops, so that no spare connection holds it up.
	b.Cleanup(client.CloseIdleConnections)
	post := func(_, i int) error { return postScaleCheckin(client, sa.url, i) }
	// A warm-up lets the connections, the caches and the heap settle.
	runClients(b, clients, 20, post)
	sa.settle()
	heapBefore, rssBefore := heapMiB(), rssMiB()
	var evaluations atomic.Int64
	sa.hooks.Store(&evalHooks{evaluating: func(bool) { evaluations.Add(1) }})
	b.ResetTimer()
	start, cpu := time.Now(), cpuTime()
	lats := runClients(b, clients, b.N, post)
	elapsed, cpu := time.Since(start), cpuTime()-cpu
	b.StopTimer()
	sa.settle()
	heapAfter, rssAfter := heapMiB(), rssMiB()
	b.ReportMetric(ms(cpu)/float64(b.N), "cpu-ms/checkin")
	b.ReportMetric(float64(evaluations.Load())/float64(b.N), "evaluations/checkin")
	b.ReportMetric(ms(percentile(lats, 0.5)), "p50-ms")
	b.ReportMetric(ms(percentile(lats, 0.99)), "p99-ms")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "checkins/s")
	b.ReportMetric(heapBefore, "heap-MiB-before")
	b.ReportMetric(heapAfter, "heap-MiB-after")
	b.ReportMetric(rssBefore, "rss-MiB-before")
	b.ReportMetric(rssAfter, "rss-MiB-after")
}

// BenchmarkScrapes10kKeyResults makes b.N scrapes of /metrics from 4
// clients at once, as Prometheus would (asking for gzip), of okrd with
// 10,000 key results, and reports the latency percentiles and CPU time of
// a scrape; then b.N more while one client posts check-ins all along, so
// that most scrapes find a snapshot newer than the last one (the "-checkins"
// metrics). A scrape is timed until its whole body has been read. It also
// reports the size of the exposition, gzipped and plain, and the live heap
// with both encoded.
//
//	go test -run '^$' -bench Scrapes10k -benchtime 1000x ./app/
func BenchmarkScrapes10kKeyResults(b *testing.B) {
	const clients = 4
	sa := startScaleApp(b)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, DisableCompression: true}}
	b.Cleanup(client.CloseIdleConnections)
	checkinClient := &http.Client{Transport: &http.Transport{}}
	b.Cleanup(checkinClient.CloseIdleConnections)
	var size atomic.Int64
	scrape := func(_, i int) error {
		req, _ := http.NewRequest("GET", sa.url+"/metrics", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		n, err := io.Copy(io.Discard, resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			return fmt.Errorf("scrape %d: %d %v", i, resp.StatusCode, err)
		}
		size.Store(n)
		return nil
	}
	runClients(b, clients, 8, scrape)
	b.ResetTimer()
	cpu := cpuTime()
	lats := runClients(b, clients, b.N, scrape)
	cpu = cpuTime() - cpu
	b.StopTimer()
	b.ReportMetric(ms(cpu)/float64(b.N), "cpu-ms/scrape")
	b.ReportMetric(ms(percentile(lats, 0.5)), "p50-ms")
	b.ReportMetric(ms(percentile(lats, 0.99)), "p99-ms")
	b.ReportMetric(float64(size.Load())/(1<<20), "gzip-MiB")

	stop := make(chan struct{})
	var checkins sync.WaitGroup
	var posted atomic.Int64
	checkins.Add(1)
	go func() {
		defer checkins.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := postScaleCheckin(checkinClient, sa.url, i); err != nil {
				b.Error(err)
				return
			}
			posted.Add(1)
		}
	}()
	b.StartTimer()
	lats = runClients(b, clients, b.N, scrape)
	b.StopTimer()
	close(stop)
	checkins.Wait()
	b.ReportMetric(ms(percentile(lats, 0.5)), "p50-ms-checkins")
	b.ReportMetric(ms(percentile(lats, 0.99)), "p99-ms-checkins")
	b.ReportMetric(float64(posted.Load())/float64(b.N), "checkins/scrape")

	req, _ := http.NewRequest("GET", sa.url+"/metrics", nil)
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	plain, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	b.ReportMetric(float64(plain)/(1<<20), "text-MiB")
	sa.settle()
	b.ReportMetric(heapMiB(), "heap-MiB")
}
