package snapshot

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/okr"
)

func trickySnapshot() *Snapshot {
	p := okr.Period{Name: "2026-Q4", Start: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}
	oc := &config.Objective{ID: "grow", Title: `Grow "fast" \ now` + "\nreally", Owner: "ana", Team: "zeta", Resolved: p,
		Parent: "company", ProgressFrom: "key_results"}
	kcs := []*config.KeyResult{
		{ID: "b", Title: "Ünïcode ✓", Unit: "ratio", Engine: okr.KeyResult{Direction: okr.Increase, Baseline: 0.31, Target: 0.4, Tolerance: 0.1}},
		{ID: "a", Title: "Band", Unit: "duration", Source: "prom", Engine: okr.KeyResult{Direction: okr.Maintain, Min: 0, Max: 0.3, Tolerance: 0.25}},
		{ID: "c", Title: "Nothing yet", Engine: okr.KeyResult{Direction: okr.Decrease, Baseline: 120, Target: 80, Tolerance: 0.1}},
	}
	oc.KeyResults = kcs
	o := &Objective{Config: oc, Result: okr.ObjectiveResult{Progress: 1.0 / 3, Status: okr.StatusAtRisk, HasScore: true, Score: 0.3}}
	o.KeyResults = []*KeyResult{
		{Objective: oc, Config: kcs[0], Result: okr.Result{HasValue: true, Value: 0.355, ValueAt: time.Date(2026, 11, 1, 0, 0, 0, 123e6, time.UTC),
			Progress: 0.5, Expected: 0.7, Gap: -0.2, Status: okr.StatusAtRisk, HasForecast: true, Forecast: 1e-7, ForecastProgress: 0, HasScore: true, Score: 0.5},
			Confidence: &Confidence{Value: 7, At: time.Date(2026, 11, 3, 10, 0, 0, 500e6, time.UTC), WeekHigh: 9, Previous: 9}},
		{Objective: oc, Config: kcs[1], Stale: true, Result: okr.Result{HasValue: true, Value: 12345678912345, ValueAt: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC),
			Progress: 1, Expected: 1, Status: okr.StatusNoData}},
		{Objective: oc, Config: kcs[2], Result: okr.Result{Expected: 0.7, Status: okr.StatusNoData}},
	}
	return &Snapshot{Objectives: []*Objective{o}}
}

func sortedLines(s string) []string {
	ls := strings.Split(strings.TrimSpace(s), "\n")
	sort.Strings(ls)
	return ls
}

func TestTheFastTextEncoderPrintsWhatClientGolangPrints(t *testing.T) {
	s := trickySnapshot()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(Collector{Snapshot: s})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&want, mf); err != nil {
			t.Fatal(err)
		}
	}
	got := string(s.AppendText(nil))
	g, w := sortedLines(got), sortedLines(want.String())
	if strings.Join(g, "\n") != strings.Join(w, "\n") {
		t.Errorf("fast encoder differs:\n--- got\n%s\n--- want\n%s", got, want.String())
	}
	// The escaping was exercised.
	if !strings.Contains(got, `title="Grow \"fast\" \\ now\nreally"`) {
		t.Errorf("label escaping missing:\n%s", got)
	}
}

func TestSeriesThatHaveNoValueAreAbsentNotZero(t *testing.T) {
	s := trickySnapshot()
	got := string(s.AppendText(nil))
	for _, absent := range []string{
		`okr_key_result_value{key_result="c"`, `okr_key_result_progress_ratio{key_result="c"`,
		`okr_key_result_forecast_value{key_result="a"`, `okr_key_result_baseline{key_result="a"`,
		`okr_key_result_band_min{key_result="b"`, `okr_key_result_stale{key_result="c"`,
	} {
		if strings.Contains(got, absent) {
			t.Errorf("%s... should be absent", absent)
		}
	}
	for _, present := range []string{
		`okr_key_result_expected_progress_ratio{key_result="c",objective="grow"} 0.7`,
		`okr_key_result_status{key_result="c",objective="grow",status="no_data"} 1`,
		`okr_key_result_stale{key_result="a",objective="grow"} 1`,
		`okr_key_result_value{key_result="a",objective="grow"} 1.2345678912345e+13`,
		`okr_key_result_last_updated_timestamp_seconds{key_result="b",objective="grow"} 1.793491200123e+09`,
		`okr_key_result_info{direction="maintain",key_result="a",objective="grow",owner="",source="prom",team="",title="Band",unit="duration"} 1`,
		`okr_objective_score{objective="grow"} 0.3`,
	} {
		if !strings.Contains(got, present) {
			t.Errorf("missing %s", present)
		}
	}
}

func TestCollectorLintsClean(t *testing.T) {
	problems, err := testutil.CollectAndLint(Collector{Snapshot: trickySnapshot()})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

func TestTheExpositionIsComputedOncePerSnapshotAndFormat(t *testing.T) {
	s := trickySnapshot()
	text := expfmt.NewFormat(expfmt.TypeTextPlain)
	for _, f := range []expfmt.Format{text, expfmt.NewFormat(expfmt.TypeProtoDelim)} {
		for _, gz := range []bool{false, true} {
			a, err := s.Exposition(f, gz)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := s.Exposition(f, gz)
			if a != b {
				t.Errorf("%s gzip=%v: the second call encoded again instead of using the cache", f, gz)
			}
		}
	}
	plain, _ := s.Exposition(text, false)
	proto, err := s.Exposition(expfmt.NewFormat(expfmt.TypeProtoDelim), false)
	if err != nil || proto.Len() == 0 || bytes.Equal(proto.Bytes(), plain.Bytes()) {
		t.Errorf("protobuf encoding: %v %d bytes", err, proto.Len())
	}
}

func TestEachSeriesGivesTheSeriesOfTheCollector(t *testing.T) {
	s := trickySnapshot()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(Collector{Snapshot: s})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			sort.Strings(ls)
			want = append(want, fmt.Sprintf("%s{%s} %v", mf.GetName(), strings.Join(ls, ","), m.GetGauge().GetValue()))
		}
	}
	var got []string
	for i, f := range Families() {
		s.EachSeries(i, func(lv []string, v float64) {
			if len(lv) != len(f.Labels) {
				t.Fatalf("%s: %d label values for %d labels", f.Name, len(lv), len(f.Labels))
			}
			var ls []string
			for j, name := range f.Labels {
				ls = append(ls, name+"="+lv[j])
			}
			sort.Strings(ls)
			got = append(got, fmt.Sprintf("%s{%s} %v", f.Name, strings.Join(ls, ","), v))
		})
	}
	sort.Strings(want)
	sort.Strings(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("EachSeries:\n%s\nCollector:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(got) < 20 {
		t.Fatalf("only %d series: the snapshot should give many", len(got))
	}
}

func TestFamiliesCarryTheHelpOfTheExposition(t *testing.T) {
	text := string(trickySnapshot().AppendText(nil))
	for _, f := range Families() {
		if !strings.Contains(text, "# HELP "+f.Name+" "+f.Help+"\n") {
			t.Errorf("%s: help %q is not the exposition's", f.Name, f.Help)
		}
	}
}

func TestConfidenceAndParentAreExposed(t *testing.T) {
	text := string(trickySnapshot().AppendText(nil))
	for _, want := range []string{
		`okr_key_result_confidence{key_result="b",objective="grow"} 7` + "\n",
		// 2026-11-03T10:00:00.5Z
		`okr_key_result_confidence_timestamp_seconds{key_result="b",objective="grow"} 1.7937000005e+09` + "\n",
		`,parent="company",period="2026-Q4",progress_from="key_results",`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("exposition lacks %q:\n%s", want, text)
		}
	}
	// Key results without a confidence have no confidence series.
	if n := strings.Count(text, "okr_key_result_confidence{"); n != 1 {
		t.Errorf("%d confidence series, want 1 (only b has one)", n)
	}
}
