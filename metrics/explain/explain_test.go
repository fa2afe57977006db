package explain

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestQuantileRanksAreTheRanksQuantileSortedReads(t *testing.T) {
	for _, c := range []struct {
		n      int
		q      float64
		lo, hi int
		ok     bool
	}{
		{0, 0.5, 0, 0, false}, {1, 0.5, 0, 0, true}, {3, 0.5, 1, 1, true}, // rank 1
		{4, 0.5, 1, 2, true},  // rank 1.5
		{5, 0.85, 3, 4, true}, // rank 3.4
		{5, 1, 4, 4, true}, {5, 0, 0, 0, true}, {5, 1.2, 0, 0, false},
	} {
		lo, hi, ok := QuantileRanks(c.n, c.q)
		if lo != c.lo || hi != c.hi || ok != c.ok {
			t.Errorf("QuantileRanks(%d, %v) = %d, %d, %v; want %d, %d, %v", c.n, c.q, lo, hi, ok, c.lo, c.hi, c.ok)
		}
	}
}

func TestMarkQuantile(t *testing.T) {
	// Sorted: 10 (i=3), 20 (i=0), 30 (i=4), 40 (i=1), 50 (i=2). The median
	// is 30 (rank 2); its neighbours 20 and 40.
	got := MarkQuantile([]float64{20, 40, 50, 10, 30}, 0.5)
	want := []Mark{Neighbour, Neighbour, "", "", AtQuantile}
	if !slices.Equal(got, want) {
		t.Fatalf("%v, want %v", got, want)
	}
	// p85 of five: rank 3.4, between 40 and 50; 30 is the only neighbour.
	got = MarkQuantile([]float64{20, 40, 50, 10, 30}, 0.85)
	want = []Mark{"", AtQuantile, AtQuantile, "", Neighbour}
	if !slices.Equal(got, want) {
		t.Fatalf("%v, want %v", got, want)
	}
}

func TestRecompute(t *testing.T) {
	for _, c := range []struct {
		rule    Rule
		q, div  float64
		cs, ws  []float64
		want    float64
		wantOK  bool
		comment string
	}{
		{Quantile, 0.5, 0, []float64{4, 1, 3, 2}, nil, 2.5, true, "median of four"},
		{Quantile, 0.5, 0, nil, nil, 0, false, "no rows, no quantile"},
		{Max, 0, 0, []float64{3, 9, 1}, nil, 9, true, "max"},
		{Sum, 0, 28, []float64{1, 1, 1}, nil, 3.0 / 28, true, "3 deployments in 28 days"},
		{Sum, 0, 0, []float64{1}, nil, 0, false, "no sprint"},
		{Ratio, 0, 0, []float64{1, 0, 1, 0}, []float64{1, 1, 1, 1}, 0.5, true, "2 failed changes of 4"},
		{Ratio, 0, 0, []float64{0}, []float64{0}, 0, false, "no weight"},
		{Latest, 0, 0, []float64{36, 33}, nil, 36, true, "newest first"},
	} {
		got, ok := Recompute(c.rule, c.q, c.div, c.cs, c.ws)
		if got != c.want || ok != c.wantOK {
			t.Errorf("%s: %v, %v; want %v, %v", c.comment, got, ok, c.want, c.wantOK)
		}
	}
}

func TestCSVDefusesFormulas(t *testing.T) {
	r := &Result{Explanation: Explanation{Columns: []Column{{Key: "title", Kind: Text}, {Key: "n", Kind: Number}},
		Rows: []Row{{Values: []any{"=HYPERLINK(1)", -3.5}, Contribution: 1}, {Values: []any{"@cmd", 2}, Contribution: 1}, {Values: []any{"plain, \"quoted\"", 0.0}}}}}
	var b bytes.Buffer
	if err := r.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	want := "title,n,link,contribution,weight,mark\n'=HYPERLINK(1),-3.5,,1,,\n'@cmd,2,,1,,\n\"plain, \"\"quoted\"\"\",0,,0,,\n"
	if b.String() != want {
		t.Fatalf("%q\nwant %q", b.String(), want)
	}
	if !strings.HasPrefix(csvSafe("+1"), "+1") || csvSafe("-x") != "'-x" {
		t.Fatal("csvSafe")
	}
}
