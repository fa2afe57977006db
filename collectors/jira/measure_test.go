package jira

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/sandbox/jirafake"
)

// TestLiveValuesAreStampedWhenJiraAnswered measures a JQL count and the
// progress of a JQL scope while the clock moves on during Jira's answer:
// each value carries the instant its query returned, while values computed
// from the stored issues carry none (they are the values at the time
// Measure was given).
func TestLiveValuesAreStampedWhenJiraAnswered(t *testing.T) {
	for _, flavor := range []jirafake.Flavor{jirafake.Cloud, jirafake.DataCenter} {
		t.Run(string(flavor), func(t *testing.T) {
			e := fixtureEnv(t, flavor, nil)
			e.mustPoll()
			answered := now.Add(90 * time.Second)
			e.mu.Lock()
			e.onRequest = func(r *http.Request) {
				if strings.Contains(r.URL.Path, "/search") {
					e.clk.Set(answered)
				}
			}
			e.mu.Unlock()
			tests := []struct {
				name string
				kr   *config.KeyResult
				want time.Time
			}{
				{"a JQL count is stamped when Jira answered", &config.KeyResult{Metric: "jql_count", Query: "project = PAY AND issuetype = Bug"}, answered},
				{"the progress of a JQL scope is stamped when Jira answered", &config.KeyResult{Metric: "epic_progress", Query: "project = PAY"}, answered},
				{"a value computed from stored issues has no stamp of its own", &config.KeyResult{Metric: "throughput"}, time.Time{}},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					e.clk.Set(now)
					m := e.value(tt.kr)
					if m.Err != nil || !m.OK {
						t.Fatalf("measurement = %+v", m)
					}
					if !m.At.Equal(tt.want) {
						t.Errorf("measured at %v, want %v", m.At, tt.want)
					}
				})
			}
		})
	}
}
