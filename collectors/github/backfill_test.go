package github

import (
	"context"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// collectFunc adapts a function that sends metrics to a prometheus
// Collector, so that a registry can gather what it sends.
type collectFunc func(ch chan<- prometheus.Metric)

func (f collectFunc) Describe(chan<- *prometheus.Desc)    {}
func (f collectFunc) Collect(ch chan<- prometheus.Metric) { f(ch) }

// seriesText gathers what collect sends as sorted exposition lines.
func seriesText(t *testing.T, collect func(ch chan<- prometheus.Metric)) []string {
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
	var lines []string
	for _, l := range strings.Split(b.String(), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	sort.Strings(lines)
	return lines
}

func TestCollectAtIsCollectRightAfterAPollAtThatInstant(t *testing.T) {
	ats := []time.Time{tv("2025-12-15T00:00:00Z"), tv("2026-02-03T17:00:00Z"), testNow}
	cases := []struct {
		name      string
		configure func(*Spec)
		jira      bool
	}{
		{"deployments", func(*Spec) {}, false},
		{"releases and the incidents of one repository", func(s *Spec) { s.Deployments, s.IncidentsRepo = SignalReleases, "acme/svc-01" }, false},
		{"a pattern of repositories and the incidents of a jira source", func(s *Spec) {
			s.Repos, s.IncidentsSource = []string{"acme/svc-*"}, "jira"
		}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			full := newEnv(t)
			full.fake.Update(historyData)
			full.spec.Repos = []string{"acme/svc-00", "acme/svc-01"}
			c.configure(full.spec)
			if c.jira {
				putJiraIncidents(t, full.st, testNow)
			}
			full.start()
			full.mustPoll()
			// A new process over the same store that never polls.
			rest, gql := full.requests()
			back := full.start()
			for _, at := range ats {
				live := newEnv(t)
				live.clock.Set(at)
				live.fake.Update(dataAsOf(historyData, at))
				live.spec.Repos = full.spec.Repos
				c.configure(live.spec)
				if c.jira {
					putJiraIncidents(t, live.st, at)
				}
				live.start()
				live.mustPoll()
				// The data-quality series are live only: CollectAt
				// leaves them out.
				want := slices.DeleteFunc(seriesText(t, live.src.Collect), func(l string) bool {
					return strings.HasPrefix(l, "okrd_data_quality_findings{")
				})
				got := seriesText(t, func(ch chan<- prometheus.Metric) {
					if err := back.CollectAt(context.Background(), at, ch); err != nil {
						t.Fatalf("CollectAt(%v): %v", at, err)
					}
				})
				if len(want) < 20 {
					t.Fatalf("at %v the live source exports only %d series", at, len(want))
				}
				if strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Fatalf("at %v CollectAt differs from a poll then:\n got %d series\nwant %d series\nfirst got:  %v\nfirst want: %v",
						at, len(got), len(want), firstDiff(got, want), firstDiff(want, got))
				}
			}
			if r, g := full.requests(); r != rest || g != gql {
				t.Errorf("CollectAt asked GitHub %d REST and %d GraphQL requests, want none", r-rest, g-gql)
			}
		})
	}
}

// firstDiff returns the first line of a that b lacks.
func firstDiff(a, b []string) string {
	in := map[string]bool{}
	for _, l := range b {
		in[l] = true
	}
	for _, l := range a {
		if !in[l] {
			return l
		}
	}
	return ""
}
