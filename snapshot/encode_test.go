package snapshot

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"weak"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// manySnapshot repeats the objective of trickySnapshot n times under other
// ids, so that the snapshot spans several blocks. Every fifth copy has no
// score, so that sparse families have chunks that are empty.
func manySnapshot(n int) *Snapshot {
	tricky := trickySnapshot().Objectives[0]
	s := &Snapshot{Generation: 1}
	for i := range n {
		s.Objectives = append(s.Objectives, copyObjective(tricky, fmt.Sprintf("objective-%03d", i), i%5 != 0))
	}
	return s
}

func copyObjective(o *Objective, id string, scored bool) *Objective {
	oc := *o.Config
	oc.ID = id
	oc.KeyResults = nil
	c := &Objective{Config: &oc, Result: o.Result}
	c.Result.HasScore = scored
	for _, kr := range o.KeyResults {
		kc := *kr.Config
		oc.KeyResults = append(oc.KeyResults, &kc)
		k := *kr
		k.Objective, k.Config = &oc, &kc
		k.Result.HasScore = scored && k.Result.HasScore
		c.KeyResults = append(c.KeyResults, &k)
	}
	return c
}

// reevaluated returns o evaluated again with another value for its first
// key result, as an evaluation after a check-in would.
func reevaluated(o *Objective, value float64) *Objective {
	c := *o
	c.KeyResults = append([]*KeyResult(nil), o.KeyResults...)
	kr := *c.KeyResults[0]
	kr.Result.Value = value
	c.KeyResults[0] = &kr
	return &c
}

func gunzip(t *testing.T, b []byte) string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

var textFormat = expfmt.NewFormat(expfmt.TypeTextPlain)

func textOf(t *testing.T, s *Snapshot, gz bool) string {
	t.Helper()
	e, err := s.Exposition(textFormat, gz)
	if err != nil {
		t.Fatal(err)
	}
	if gz {
		return gunzip(t, e.Bytes())
	}
	return string(e.Bytes())
}

func TestTheExpositionIsTheWholeTextAssembledFromBlocks(t *testing.T) {
	s := manySnapshot(300)
	if n := len(s.partition()); n < 3 {
		t.Fatalf("the snapshot makes %d blocks; the test needs several", n)
	}
	want := string(s.AppendText(nil))
	if got := textOf(t, s, false); got != want {
		t.Errorf("the plain exposition differs from AppendText:\n%s", firstDifference(got, want))
	}
	if got := textOf(t, s, true); got != want {
		t.Errorf("the gzipped exposition differs from AppendText:\n%s", firstDifference(got, want))
	}
	// AppendText itself is what client_golang prints, family by family
	// (client_golang sorts the series of a family; okrd keeps the order of
	// the configuration).
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(Collector{Snapshot: s})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var golang bytes.Buffer
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&golang, mf); err != nil {
			t.Fatal(err)
		}
	}
	if g, w := sortedLines(want), sortedLines(golang.String()); strings.Join(g, "\n") != strings.Join(w, "\n") {
		t.Error("AppendText of a snapshot of several blocks differs from client_golang's encoder")
	}
	if strings.Count(want, "# HELP okr_objective_score ") != 1 || strings.Count(want, "okr_objective_score{") != 240 {
		t.Error("the sparse family okr_objective_score should have its header once and 240 series")
	}
}

func firstDifference(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) && i < len(w); i++ {
		if g[i] != w[i] {
			return fmt.Sprintf("line %d:\n got %s\nwant %s", i+1, g[i], w[i])
		}
	}
	return fmt.Sprintf("got %d lines, want %d", len(g), len(w))
}

func TestAnUpdateEncodesOnlyTheObjectiveItChangedAndCompressesOnlyItsBlock(t *testing.T) {
	s1 := manySnapshot(300)
	if !s1.Warm(context.Background()) {
		t.Fatal("Warm did not finish")
	}
	objs, blocks := objectivesEncoded.Load(), blocksCompressed.Load()
	s2 := s1.With(2, s1.EvaluatedAt, map[int]*Objective{57: reevaluated(s1.Objectives[57], 42)})
	got := textOf(t, s2, true)
	if n := objectivesEncoded.Load() - objs; n != 1 {
		t.Errorf("the update encoded %d objectives, want 1", n)
	}
	if n := blocksCompressed.Load() - blocks; n != 1 {
		t.Errorf("the update compressed %d blocks, want 1", n)
	}
	if want := string(s2.AppendText(nil)); got != want {
		t.Errorf("the updated exposition differs from AppendText:\n%s", firstDifference(got, want))
	}
	if got := textOf(t, s2, false); got != string(s2.AppendText(nil)) {
		t.Errorf("the updated plain exposition differs from AppendText:\n%s", firstDifference(got, string(s2.AppendText(nil))))
	}
	if !strings.Contains(got, `okr_key_result_value{key_result="b",objective="objective-057"} 42`) {
		t.Error("the updated exposition lacks the new value")
	}
	// The earlier snapshot is untouched.
	if got, want := textOf(t, s1, true), string(s1.AppendText(nil)); got != want || strings.Contains(got, "} 42\n") {
		t.Error("With changed the snapshot it was derived from")
	}
	same := 0
	for i := range s1.blocks {
		if s1.blocks[i] == s2.blocks[i] {
			same++
		}
	}
	if same != len(s1.blocks)-1 {
		t.Errorf("%d of %d blocks are shared, want all but one", same, len(s1.blocks))
	}
}

func TestUpdatesInARowThatWereNotEncodedKeepTheTextOfTheObjectivesTheyShare(t *testing.T) {
	s1 := manySnapshot(300)
	s1.Warm(context.Background())
	objs := objectivesEncoded.Load()
	// Three updates of objectives of the same block, the first two
	// replaced before anything encoded them.
	s2 := s1.With(2, s1.EvaluatedAt, map[int]*Objective{1: reevaluated(s1.Objectives[1], 1)})
	s3 := s2.With(3, s1.EvaluatedAt, map[int]*Objective{2: reevaluated(s2.Objectives[2], 2)})
	s4 := s3.With(4, s1.EvaluatedAt, map[int]*Objective{3: reevaluated(s3.Objectives[3], 3)})
	got := textOf(t, s4, true)
	if n := objectivesEncoded.Load() - objs; n != 3 {
		t.Errorf("encoding the last update encoded %d objectives, want the 3 that changed", n)
	}
	if want := string(s4.AppendText(nil)); got != want {
		t.Errorf("the exposition differs from AppendText:\n%s", firstDifference(got, want))
	}
}

// cancelAfter is a context whose Err is nil for its first n calls and
// context.Canceled after them: a newer snapshot that arrives at a known
// point of the warming.
type cancelAfter struct {
	context.Context
	n int
}

func (c *cancelAfter) Err() error {
	if c.n > 0 {
		c.n--
		return nil
	}
	return context.Canceled
}

func TestWarmingASupersededSnapshotStopsAndKeepsNoExposition(t *testing.T) {
	s := manySnapshot(300)
	blocks := s.partition()
	if s.Warm(&cancelAfter{Context: context.Background(), n: 2}) {
		t.Fatal("Warm reported it finished though it was cancelled")
	}
	for i, bl := range blocks {
		if done := bl.gzipDone.Load(); done != (i < 2) {
			t.Errorf("block %d encoded = %v, want %v", i, done, i < 2)
		}
	}
	for k := range numKinds {
		if s.exps[k].e.Load() != nil {
			t.Errorf("the exposition of kind %d was assembled", k)
		}
	}
	// The blocks already encoded are not encoded again by a scrape.
	before := blocksCompressed.Load()
	textOf(t, s, true)
	if n, want := blocksCompressed.Load()-before, int64(len(blocks)-2); n != want {
		t.Errorf("the scrape after the cancelled warming compressed %d blocks, want %d", n, want)
	}
}

func TestASupersededSnapshotAndTheBlocksItAloneHeldAreReleased(t *testing.T) {
	s1 := manySnapshot(300)
	s1.Warm(context.Background())
	s2 := s1.With(2, s1.EvaluatedAt, map[int]*Objective{0: reevaluated(s1.Objectives[0], 7)})
	s2.Warm(context.Background())
	replaced, shared := weak.Make(s1.blocks[0]), weak.Make(s1.blocks[1])
	old := weak.Make(s1)
	s1 = nil
	runtime.GC()
	if old.Value() != nil || replaced.Value() != nil {
		t.Error("the superseded snapshot or the block only it held is still in memory")
	}
	if shared.Value() == nil || shared.Value() != s2.blocks[1] {
		t.Error("a block the newest snapshot shares was released")
	}
	runtime.KeepAlive(s2)
}

func TestAScrapeHelpsEncodeBlocksOthersAreNotEncoding(t *testing.T) {
	s := manySnapshot(300)
	blocks := s.partition()
	// Another goroutine is encoding the first block: the scrape encodes
	// the others meanwhile, then waits for it.
	blocks[0].mu.Lock()
	done := make(chan *Exposition)
	go func() {
		e, _ := s.Exposition(textFormat, false)
		done <- e
	}()
	for i := 1; i < len(blocks); i++ {
		for !blocks[i].textDone.Load() {
			runtime.Gosched()
		}
	}
	select {
	case <-done:
		t.Fatal("the scrape finished before the block being encoded elsewhere")
	default:
	}
	blocks[0].encodeLocked(kindText)
	blocks[0].mu.Unlock()
	if e := <-done; string(e.Bytes()) != string(s.AppendText(nil)) {
		t.Error("the exposition differs from AppendText")
	}
}
