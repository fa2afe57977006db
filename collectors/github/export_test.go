package github

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/okrd/okrd/internal/testenv"
)

// exposition registers the source and renders its series in the text
// format.
func exposition(t *testing.T, e *env) string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(e.src); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

func TestDeliverySeries(t *testing.T) {
	e := newEnv(t)
	e.fake.Update(fixture)
	e.spec.Repos = []string{"acme/web", "acme/api"}
	e.start()
	if out := exposition(t, e); out != "" {
		t.Fatalf("series before the first poll:\n%s", out)
	}
	e.mustPoll()
	out := exposition(t, e)
	// The values of TestFixtureMetricsEndToEnd, as series.
	for _, line := range []string{
		`okrd_github_deployments{repo="acme/web",source="gh",team="",window="28d"} 3`,
		`okrd_github_deployments{repo="all",source="gh",team="",window="28d"} 4`,
		`okrd_github_failed_deployments{repo="acme/web",source="gh",team="",window="28d"} 1`,
		`okrd_github_change_failures{repo="acme/web",source="gh",team="",window="28d"} 3`,
		`okrd_github_change_failure_ratio{repo="acme/web",source="gh",team="",window="28d"} 0.75`,
		`okrd_github_change_failure_ratio{repo="all",source="gh",team="",window="28d"} 0.6`,
		`okrd_github_deployment_frequency_per_day{repo="acme/web",source="gh",team="",window="7d"} 0`,
		`okrd_github_lead_time_for_changes_seconds{repo="acme/web",source="gh",team="",window="28d",quantile="0.5"} 266400`,
		`okrd_github_lead_time_for_changes_seconds{repo="acme/web",source="gh",team="",window="28d",quantile="0.85"} 452880`,
		`okrd_github_time_to_restore_seconds{repo="acme/web",source="gh",team="",window="28d",quantile="0.95"} 78840`,
		`okrd_github_dora_level{key="lead_time_for_changes",level="high",repo="acme/web",source="gh",team="",window="28d"} 1`,
		`okrd_github_dora_level{key="lead_time_for_changes",level="elite",repo="acme/web",source="gh",team="",window="28d"} 0`,
		`okrd_github_dora_level{key="deployment_frequency",level="medium",repo="acme/web",source="gh",team="",window="28d"} 1`,
		`okrd_github_lead_time_for_changes_seconds_count{repo="acme/web",source="gh",team="",window="28d"} 3`,
		`okrd_github_lead_time_for_changes_seconds_sum{repo="acme/web",source="gh",team="",window="28d"} 799200`,
		`okrd_github_pull_requests_merged{repo="acme/web",source="gh",team="",window="28d"} 5`,
		`okrd_github_pull_request_cycle_time_seconds{repo="acme/web",source="gh",team="",window="28d",quantile="0.5"} 86400`,
		`okrd_github_pull_request_size_lines{repo="acme/web",source="gh",team="",window="28d",quantile="0.5"} 42`,
		`okrd_github_time_to_first_review_seconds{repo="acme/web",source="gh",team="",window="28d",quantile="0.5"} 64800`,
		`okrd_github_open_pull_requests{repo="acme/web",source="gh",team=""} 2`,
		`okrd_github_open_pull_requests{repo="acme/api",source="gh",team=""} 0`,
		`okrd_github_open_draft_pull_requests{repo="acme/web",source="gh",team=""} 1`,
		`okrd_github_open_draft_pull_requests{repo="all",source="gh",team=""} 1`,
		`okrd_github_open_draft_pull_requests{repo="acme/api",source="gh",team=""} 0`,
		// #101, #102 and #103 closed in 28 days; none in 7; api has none:
		// a count is 0, never absent.
		`okrd_github_incidents_resolved{repo="acme/web",source="gh",team="",window="28d"} 3`,
		`okrd_github_incidents_resolved{repo="acme/web",source="gh",team="",window="90d"} 4`,
		`okrd_github_incidents_resolved{repo="acme/web",source="gh",team="",window="7d"} 0`,
		`okrd_github_incidents_resolved{repo="acme/api",source="gh",team="",window="28d"} 0`,
		`okrd_github_incidents_resolved{repo="all",source="gh",team="",window="28d"} 3`,
		`okrd_github_oldest_open_pull_request_age_seconds{repo="acme/web",source="gh",team=""} 4.32e+06`,
	} {
		if !strings.Contains(out, line+"\n") {
			t.Errorf("exposition lacks %s", line)
		}
	}
	// Values that do not exist are absent, never 0: api had no incident,
	// and nothing was deployed in the last 7 days. (The lead time sum is
	// 0 + 266400 + 532800.)
	for _, absent := range []string{
		`okrd_github_time_to_restore_seconds{repo="acme/api"`,
		`okrd_github_lead_time_for_changes_seconds{repo="acme/web",source="gh",window="7d"`,
		`okrd_github_lead_time_for_changes_seconds_count{repo="acme/web",source="gh",window="7d"`,
		`okrd_github_change_failure_ratio{repo="acme/web",source="gh",team="",window="7d"}`,
		`okrd_github_dora_level{key="time_to_restore",level="low",repo="acme/api"`,
		`okrd_github_oldest_open_pull_request_age_seconds{repo="acme/api"`,
	} {
		if strings.Contains(out, absent) {
			t.Errorf("exposition has %s", absent)
		}
	}

	promtool := testenv.Program(t, "promtool", "prometheus")
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(out)
	if lint, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(lint)) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, lint)
	}
}

func TestTwoSourcesRegisterSideBySide(t *testing.T) {
	a, b := newEnv(t), newEnv(t)
	a.start()
	b.src = nil
	b.start()
	b.src.name = "gh2"
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(a.src); err != nil {
		t.Fatal(err)
	}
	if err := reg.Register(b.src); err != nil {
		t.Fatalf("a second github source cannot register its series: %v", err)
	}
}
