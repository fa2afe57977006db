package jira

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	jm "github.com/okrd/okrd/metrics/jira"
	"github.com/okrd/okrd/sandbox/jirafake"
)

type collectFunc func(ch chan<- prometheus.Metric)

func (f collectFunc) Describe(chan<- *prometheus.Desc)    {}
func (f collectFunc) Collect(ch chan<- prometheus.Metric) { f(ch) }

func seriesText(t *testing.T, collect func(ch chan<- prometheus.Metric)) string {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectFunc(collect))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
			t.Fatal(err)
		}
	}
	lines := strings.Split(b.String(), "\n")
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func TestCollectAtIsTheExportAtThatInstantWithoutAPollOrARequest(t *testing.T) {
	e := fixtureEnv(t, jirafake.Cloud, nil)
	e.mustPoll()
	polled := e.src
	// A new process over the same store, which never polls.
	e.src = e.newSource()
	e.requestURLs()
	for _, at := range []time.Time{d(-25), d(-12.5), d(-3), now} {
		want := seriesText(t, func(ch chan<- prometheus.Metric) {
			ex := jm.NewExporter("jira")
			polled.mu.RLock()
			ex.Update(polled.model, at, polled.exportOptions())
			polled.mu.RUnlock()
			ex.Collect(ch)
		})
		got := seriesText(t, func(ch chan<- prometheus.Metric) {
			if err := e.src.CollectAt(context.Background(), at, ch); err != nil {
				t.Fatalf("CollectAt(%v): %v", at, err)
			}
		})
		if strings.Count(want, "\n") < 10 {
			t.Fatalf("at %v the export has only %d lines", at, strings.Count(want, "\n"))
		}
		if got != want {
			t.Fatalf("at %v CollectAt differs from the export at that instant:\n got %s\nwant %s", at, got, want)
		}
	}
	if urls := e.requestURLs(); len(urls) != 0 {
		t.Errorf("CollectAt asked Jira: %v", urls)
	}
	// The live series of the source that polled are left as they were
	// (besides them it sends its data-quality series, which are live
	// only).
	live := seriesText(t, polled.Collect)
	if !strings.Contains(live, `okrd_data_quality_findings{check="done_issues_without_start",source="jira"} 0`) {
		t.Errorf("the live series lack the data-quality series:\n%s", live)
	}
	if got, want := withoutQuality(live), seriesText(t, func(ch chan<- prometheus.Metric) {
		ex := jm.NewExporter("jira")
		ex.Update(polled.model, now, polled.exportOptions())
		ex.Collect(ch)
	}); got != want {
		t.Errorf("the live series changed")
	}
}

// withoutQuality leaves out the data-quality series of an exposition.
func withoutQuality(s string) string {
	var keep []string
	for _, l := range strings.SplitAfter(s, "\n") {
		if !strings.Contains(l, "okrd_data_quality_findings") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "")
}
