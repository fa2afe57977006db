package jira

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
	jm "github.com/okrd/okrd/metrics/jira"
	"github.com/okrd/okrd/store"
	"github.com/okrd/okrd/store/sqlite"
)

// The scale benchmarks run the source over a store of generated records
// as a large team's would be: 10 projects, a scrum board on each, issues
// created over 180 days with the lives sandbox/jirafake gives them (To
// Do, In Progress, In Review, Done, a few reopened; planned into a
// sprint, carried over when unfinished; story points, sometimes
// re-estimated; half of them in an epic). Nothing is committed: the
// store is generated in a temporary directory, once per size and
// process.

var scaleProjects = []string{"PAY", "WEB", "API", "OPS", "APP", "DATA", "INFRA", "MOB", "SEC", "CORE"}

const scalePoints = "customfield_10016"

var (
	scaleToDo       = jm.Status{ID: "10000", Name: "To Do", Category: jm.CategoryToDo}
	scaleInProgress = jm.Status{ID: "3", Name: "In Progress", Category: jm.CategoryInProgress}
	scaleInReview   = jm.Status{ID: "10001", Name: "In Review", Category: jm.CategoryInProgress}
	scaleDone       = jm.Status{ID: "10002", Name: "Done", Category: jm.CategoryDone}
)

// scaleWorld is the generated source: its boards, sprints and issues.
type scaleWorld struct {
	boards  []*jm.Board
	sprints []*jm.Sprint
	issues  func(yield func(*jm.Issue) bool)
}

// genScale generates n issues ending at now.
func genScale(n int, now time.Time) *scaleWorld {
	w := &scaleWorld{}
	origin := now.Add(-180 * day).Truncate(day)
	const sprintLen = 14 * day
	type project struct {
		key     string
		sprints []*jm.Sprint
		next    int
		epics   []string
	}
	projects := make([]*project, len(scaleProjects))
	for pi, key := range scaleProjects {
		p := &project{key: key}
		b := &jm.Board{ID: 100 + pi, Name: key + " board", Type: "scrum", Projects: []string{key}, FilterID: 200 + pi, PointsField: scalePoints}
		w.boards = append(w.boards, b)
		for k := 0; ; k++ {
			start := origin.Add(time.Duration(k) * sprintLen)
			if start.After(now.Add(sprintLen)) {
				break
			}
			end := start.Add(sprintLen)
			sp := &jm.Sprint{ID: (pi+1)*1000 + k, Board: b.ID, Name: fmt.Sprintf("%s Sprint %d", key, k+1)}
			switch {
			case !end.After(now):
				st, en, done := start, end, end.Add(time.Hour)
				if done.After(now) {
					done = now
				}
				sp.State, sp.Start, sp.End, sp.Complete = "closed", &st, &en, &done
			case !start.After(now):
				st, en := start, end
				sp.State, sp.Start, sp.End = "active", &st, &en
			default:
				sp.State = "future"
			}
			w.sprints = append(w.sprints, sp)
			p.sprints = append(p.sprints, sp)
		}
		projects[pi] = p
	}
	sprintAt := func(p *project, t time.Time) int {
		for i, sp := range p.sprints {
			if sp.Start != nil && !t.Before(*sp.Start) && t.Before(*sp.End) {
				return i
			}
		}
		return -1
	}
	// A kanban board by filter (label = customer) across the projects.
	w.boards = append(w.boards, &jm.Board{ID: 99, Name: "Customer requests", Type: "kanban", ByFilter: true, FilterID: 299})
	points := []float64{1, 2, 3, 5, 8}
	labels := [][]string{{"backend"}, {"frontend"}, {"customer", "backend"}}
	w.issues = func(yield func(*jm.Issue) bool) {
		rng := rand.New(rand.NewPCG(13, 1300))
		for i := range n {
			p := projects[i%len(projects)]
			p.next++
			// Jira's times have millisecond precision.
			created := origin.Add(time.Duration(rng.Float64() * float64(now.Sub(origin)))).Truncate(time.Millisecond)
			is := &jm.Issue{Key: fmt.Sprintf("%s-%d", p.key, p.next), Project: p.key, Created: created, Status: scaleToDo}
			switch r := rng.Float64(); {
			case i%40 == 0:
				is.Type = "Epic"
			case r < 0.6:
				is.Type = "Story"
			case r < 0.85:
				is.Type = "Bug"
			default:
				is.Type = "Task"
			}
			if is.Type != "Epic" && len(p.epics) > 0 && rng.Float64() < 0.5 {
				is.Parent = p.epics[len(p.epics)-1-rng.IntN(min(3, len(p.epics)))]
			}
			if rng.Float64() < 0.2 {
				is.Labels = labels[rng.IntN(len(labels))]
				if len(is.Labels) == 2 {
					is.Boards = []int{99}
				}
			}
			if (is.Type == "Story" || is.Type == "Task") && rng.Float64() < 0.9 {
				is.Points = map[string]float64{scalePoints: points[rng.IntN(len(points))]}
			}
			if is.Type == "Epic" {
				p.epics = append(p.epics, is.Key)
			}
			jitter := func(minDays, maxDays float64) time.Duration {
				return time.Duration((minDays + rng.Float64()*(maxDays-minDays)) * float64(day)).Truncate(time.Millisecond)
			}
			last := created
			happens := func(at time.Time) bool {
				if at.After(now) || !at.After(created) {
					return false
				}
				if at.After(last) {
					last = at
				}
				return true
			}
			move := func(to jm.Status, at time.Time) {
				if happens(at) {
					is.Transitions = append(is.Transitions, jm.Transition{At: at, From: is.Status, To: to})
					is.Status = to
					if to == scaleDone {
						is.Resolved = &at
					} else {
						is.Resolved = nil
					}
				}
			}
			var doneAt time.Time
			if is.Type != "Epic" && rng.Float64() < 0.85 {
				t1 := created.Add(jitter(0.1, 6))
				move(scaleInProgress, t1)
				t2 := t1.Add(jitter(0.5, 5))
				if rng.Float64() < 0.7 {
					move(scaleInReview, t2)
				}
				t3 := t2.Add(jitter(0.3, 4))
				move(scaleDone, t3)
				doneAt = t3
				if rng.Float64() < 0.05 {
					t4 := t3.Add(jitter(0.5, 3))
					move(scaleInProgress, t4)
					t5 := t4.Add(jitter(0.5, 3))
					move(scaleDone, t5)
					doneAt = t5
				}
			}
			if is.Type != "Epic" && rng.Float64() < 0.8 {
				si := sprintAt(p, created.Add(day))
				if si >= 0 && si+1 < len(p.sprints) && p.sprints[si+1].Start != nil && rng.Float64() < 0.5 {
					si++
				}
				if si >= 0 {
					sp := p.sprints[si]
					join := sp.Start.Add(-day)
					if join.Before(created) {
						join = created.Add(time.Hour)
					}
					if happens(join) {
						is.SprintChanges = append(is.SprintChanges, jm.SprintChange{At: join, To: []int{sp.ID}})
						is.Sprints = []int{sp.ID}
					}
					if sp.Complete != nil && (doneAt.IsZero() || doneAt.After(*sp.Complete)) && si+1 < len(p.sprints) {
						carried := []int{sp.ID, p.sprints[si+1].ID}
						if at := sp.Complete.Add(time.Second); happens(at) {
							is.SprintChanges = append(is.SprintChanges, jm.SprintChange{At: at, From: is.Sprints, To: carried})
							is.Sprints = carried
						}
					}
				}
			}
			if is.Points != nil && rng.Float64() < 0.1 {
				v := points[rng.IntN(len(points))]
				if at := created.Add(jitter(0.05, 1)); happens(at) {
					old := is.Points[scalePoints]
					is.PointChanges = append(is.PointChanges, jm.PointChange{At: at, Field: scalePoints, From: &old, To: &v})
					is.Points[scalePoints] = v
				}
			}
			is.Updated = last
			is.Normalize()
			if !yield(is) {
				return
			}
		}
	}
	return w
}

// scaleStore is a SQLite store in a temporary directory holding a
// generated source's records, as the sync writes them.
type scaleStore struct {
	path string
	st   store.Store
	n    int
}

// newScaleStore writes the records of n generated issues (and the boards
// and sprints) into a new SQLite file under the benchmark's temporary
// directory.
func newScaleStore(b *testing.B, n int) *scaleStore {
	b.Helper()
	path := filepath.Join(b.TempDir(), "okrd.db")
	ctx := context.Background()
	st, err := sqlite.Open(ctx, path, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	w := genScale(n, now)
	batch := make([]store.Record, 0, 5000)
	flush := func() {
		if err := st.Update(ctx, func(tx store.Tx) error { return tx.PutRecords(ctx, batch...) }); err != nil {
			b.Fatal(err)
		}
		batch = batch[:0]
	}
	for is := range w.issues {
		rec, err := issueRecord("jira", is)
		if err != nil {
			b.Fatal(err)
		}
		if batch = append(batch, rec); len(batch) == cap(batch) {
			flush()
		}
	}
	for _, bd := range w.boards {
		data, err := json.Marshal(bd)
		if err != nil {
			b.Fatal(err)
		}
		batch = append(batch, store.Record{Source: "jira", Scope: jm.BoardScope(bd.ID), Kind: KindBoard, ID: strconv.Itoa(bd.ID), UpdatedAt: now, Data: data})
	}
	for _, sp := range w.sprints {
		data, err := json.Marshal(sp)
		if err != nil {
			b.Fatal(err)
		}
		batch = append(batch, store.Record{Source: "jira", Scope: jm.BoardScope(sp.Board), Kind: KindSprint, ID: strconv.Itoa(sp.ID), UpdatedAt: now, Data: data})
	}
	flush()
	return &scaleStore{path: path, st: st, n: n}
}

// scaleTeams are the teams of the recompute-teams benchmark: five teams of
// two projects each, two of them with a project board and the board by
// filter too (their issues are selected twice and counted once), and one
// by components (the generated issues have none, so it selects nothing
// but still keys the one pass by component lists).
var scaleTeams = []*config.Team{
	{Name: "t1", JiraProjects: []string{"PAY", "WEB"}, JiraBoards: []int{100, 99}},
	{Name: "t2", JiraProjects: []string{"API", "OPS"}},
	{Name: "t3", JiraProjects: []string{"APP", "DATA"}, JiraBoards: []int{99}},
	{Name: "t4", JiraProjects: []string{"INFRA", "MOB"}},
	{Name: "t5", JiraProjects: []string{"SEC", "CORE"}, JiraComponents: []string{"Payments"}},
}

// scaleSource is a source over a scale store, not loaded yet.
func scaleSource(b *testing.B, s *scaleStore, teams ...*config.Team) *Source {
	b.Helper()
	spec := &Spec{}
	spec.Defaults()
	spec.URL = "http://127.0.0.1:1"
	spec.Token = testToken
	spec.Projects = scaleProjects
	if err := spec.Validate(); err != nil {
		b.Fatal(err)
	}
	src, err := New(&config.Source{Name: "jira", Type: "jira", Spec: spec, Teams: teams}, collectors.Deps{Store: s.st}, nil)
	if err != nil {
		b.Fatal(err)
	}
	src.now = func() time.Time { return now }
	return src
}

func BenchmarkScale100k(b *testing.B) { benchScale(b, 100_000) }
func BenchmarkScale300k(b *testing.B) { benchScale(b, 300_000) }

func BenchmarkScale1M(b *testing.B) {
	if testing.Short() {
		b.Skip("a million issues take minutes to generate; skipped under -short")
	}
	benchScale(b, 1_000_000)
}

// benchScale measures, over n stored issues: reading their rows (the
// sqlite3 shell, then database/sql with the driver okrd uses), loading
// them at start, the bytes the model holds per issue, and recomputing
// every exported series. cpu-ns/op is the process's CPU time per
// operation (for the shell, the shell's), which the load of a shared
// machine does not inflate as it does the wall time.
func benchScale(b *testing.B, n int) {
	s := newScaleStore(b, n)
	ctx := context.Background()
	b.Run("read-rows-sqlite3", func(b *testing.B) {
		shell, err := exec.LookPath("sqlite3")
		if err != nil {
			b.Skip("no sqlite3 shell installed")
		}
		var cpu time.Duration
		for b.Loop() {
			cmd := exec.Command(shell, s.path, "SELECT data FROM source_records WHERE source = 'jira' AND kind = 'issue'")
			cmd.Stdout = io.Discard
			if err := cmd.Run(); err != nil {
				b.Fatal(err)
			}
			cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		}
		b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
	})
	b.Run("read-rows", func(b *testing.B) {
		db, err := sql.Open("sqlite", "file:"+s.path+"?mode=ro")
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		cpu := cpuTime()
		for b.Loop() {
			rows, err := db.QueryContext(ctx, "SELECT data FROM source_records WHERE source = ? AND kind = ?", "jira", KindIssue)
			if err != nil {
				b.Fatal(err)
			}
			got, size := 0, 0
			for rows.Next() {
				var data sql.RawBytes
				if err := rows.Scan(&data); err != nil {
					b.Fatal(err)
				}
				got++
				size += len(data)
			}
			if err := rows.Err(); err != nil {
				b.Fatal(err)
			}
			rows.Close()
			if got != n {
				b.Fatalf("read %d rows, want %d", got, n)
			}
			b.ReportMetric(float64(size)/float64(n), "bytes/row")
		}
		b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
	})
	b.Run("load", func(b *testing.B) {
		cpu := cpuTime()
		var perIssue float64
		for b.Loop() {
			b.StopTimer()
			src := scaleSource(b, s)
			before := heapInuse()
			b.StartTimer()
			if err := src.load(ctx); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if got := src.model.Len(); got != n {
				b.Fatalf("loaded %d issues, want %d", got, n)
			}
			perIssue = float64(heapInuse()-before) / float64(n)
			runtime.KeepAlive(src)
			b.StartTimer()
		}
		b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
		b.ReportMetric(perIssue, "heap-bytes/issue")
	})
	b.Run("load-from-memory", func(b *testing.B) {
		// The same load with the records already read, to tell okrd's
		// part of the load from the store's.
		ms := &memoryStore{Store: s.st}
		if err := s.st.Records(ctx, "jira", "", func(r store.Record) error { ms.recs = append(ms.recs, r); return nil }); err != nil {
			b.Fatal(err)
		}
		cpu := cpuTime()
		for b.Loop() {
			m, skipped, err := loadRecords(ctx, ms, "jira", jm.Categories{})
			if err != nil || skipped != 0 || m.Len() != n {
				b.Fatalf("loaded %d issues (%d skipped), want %d: %v", m.Len(), skipped, n, err)
			}
		}
		b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
	})
	b.Run("recompute", func(b *testing.B) {
		src := scaleSource(b, s)
		if err := src.load(ctx); err != nil {
			b.Fatal(err)
		}
		opts := src.exportOptions()
		cpu := cpuTime()
		for b.Loop() {
			src.exp.Update(src.model, now, opts)
		}
		b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
		b.ReportMetric(float64(src.exp.Len()), "series")
	})
	// The same with five teams: each is one more scope of the one pass.
	b.Run("recompute-teams", func(b *testing.B) {
		src := scaleSource(b, s, scaleTeams...)
		if err := src.load(ctx); err != nil {
			b.Fatal(err)
		}
		opts := src.exportOptions()
		cpu := cpuTime()
		for b.Loop() {
			src.exp.Update(src.model, now, opts)
		}
		b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
		b.ReportMetric(float64(src.exp.Len()), "series")
	})
}

// memoryStore serves records from memory.
type memoryStore struct {
	store.Store
	recs []store.Record
}

func (m *memoryStore) Records(ctx context.Context, source, kind string, fn func(store.Record) error) error {
	for _, r := range m.recs {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// heapInuse is the heap in use after a full collection.
func heapInuse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
