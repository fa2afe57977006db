package rules

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/okrd/okrd/alerting"
	"github.com/okrd/okrd/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// testPolicy is the policy of the golden rule file that
// testdata/rules_test.yml unit-tests: every condition on, durations short
// enough that promtool's evaluation stays quick.
func testPolicy() alerting.Policy {
	p := alerting.Policy{
		For:             10 * time.Minute,
		KeepFiringFor:   5 * time.Minute,
		SourceDownAfter: 15 * time.Minute,
		PeriodEndWindow: 24 * time.Hour,
		ConfidenceDrop:  3,
		ExternalURL:     "https://okrd.example.com",
		Enabled:         map[alerting.Condition]bool{},
		KeyResults: map[string]alerting.KeyResultInfo{
			"grow/nps": {RunbookURL: "https://wiki.example.com/runbooks/nps"},
			"grow/arr": {Currency: "EUR", RunbookURL: "https://wiki.example.com/runbooks/arr?team=growth&view=full"},
		},
	}
	for _, c := range alerting.Conditions {
		p.Enabled[c] = true
	}
	return p
}

func TestGenerateMatchesGolden(t *testing.T) {
	got, err := Generate(testPolicy()).Marshal("rules/testdata (testPolicy)")
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "rules.yml")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("generated rules differ from %s (run go test ./rules -update and review the diff):\n%s", golden, got)
	}
}

func TestGenerate(t *testing.T) {
	tests := []struct {
		name   string
		policy func(p *alerting.Policy)
		check  func(t *testing.T, f *File)
	}{
		{
			name: "only the enabled conditions get a rule, in the order of alerting.Conditions",
			policy: func(p *alerting.Policy) {
				p.Enabled = map[alerting.Condition]bool{alerting.SourceDown: true, alerting.OffTrack: true}
			},
			check: func(t *testing.T, f *File) {
				var names []string
				for _, r := range alertRules(f) {
					names = append(names, r.Alert)
				}
				if got := strings.Join(names, ","); got != "OKRKeyResultOffTrack,OKRSourceDown" {
					t.Errorf("alerts = %s", got)
				}
			},
		},
		{
			name:   "the gap is recorded first, in the one group of the alerts that read it",
			policy: func(p *alerting.Policy) {},
			check: func(t *testing.T, f *File) {
				// Prometheus runs the rules of a group in order and groups
				// independently: in another group, an alert would read the
				// gap of this evaluation or of the previous one, depending
				// on which group ran first.
				if len(f.Groups) != 1 {
					t.Fatalf("%d groups, want 1", len(f.Groups))
				}
				rs := f.Groups[0].Rules
				if len(rs) == 0 || rs[0].Record != GapRecord {
					t.Fatalf("the first rule is %+v, want the record %s", rs[0], GapRecord)
				}
				for _, r := range rs[1:] {
					if r.Record != "" {
						t.Errorf("another recording rule after the alerts: %s", r.Record)
					}
				}
			},
		},
		{
			name:   "source_down waits source_down_after, key results wait for, period-end alerts fire at once",
			policy: func(p *alerting.Policy) {},
			check: func(t *testing.T, f *File) {
				want := map[string]string{
					"OKRSourceDown": "15m", "OKRKeyResultOffTrack": "10m", "OKRKeyResultStale": "10m",
					"OKRKeyResultMissed": "", "OKRKeyResultAchieved": "",
				}
				for _, r := range alertRules(f) {
					if w, ok := want[r.Alert]; ok && r.For != w {
						t.Errorf("%s: for = %q, want %q", r.Alert, r.For, w)
					}
					once := r.Alert == "OKRKeyResultMissed" || r.Alert == "OKRKeyResultAchieved"
					if once != (r.KeepFiringFor == "") {
						t.Errorf("%s: keep_firing_for = %q", r.Alert, r.KeepFiringFor)
					}
				}
			},
		},
		{
			name:   "a zero keep_firing_for is left out and no external URL means no dashboard annotation",
			policy: func(p *alerting.Policy) { p.KeepFiringFor = 0; p.ExternalURL = "" },
			check: func(t *testing.T, f *File) {
				for _, r := range alertRules(f) {
					if r.KeepFiringFor != "" {
						t.Errorf("%s: keep_firing_for = %q", r.Alert, r.KeepFiringFor)
					}
					if _, ok := r.Annotations["dashboard"]; ok {
						t.Errorf("%s: has a dashboard annotation", r.Alert)
					}
				}
			},
		},
		{
			name:   "without a runbook in the configuration the alerts have no runbook_url annotation",
			policy: func(p *alerting.Policy) { p.KeyResults = nil },
			check: func(t *testing.T, f *File) {
				for _, r := range alertRules(f) {
					if _, ok := r.Annotations["runbook_url"]; ok {
						t.Errorf("%s: has a runbook_url annotation", r.Alert)
					}
				}
			},
		},
		{
			name:   "the key results' runbooks are written into every key-result alert, not into source alerts",
			policy: func(p *alerting.Policy) {},
			check: func(t *testing.T, f *File) {
				want := `{{ if and (eq $labels.objective "grow") (eq $labels.key_result "arr") }}{{ "https://wiki.example.com/runbooks/arr?team=growth&view=full" }}` +
					`{{ else if and (eq $labels.objective "grow") (eq $labels.key_result "nps") }}{{ "https://wiki.example.com/runbooks/nps" }}{{ end }}`
				for _, r := range alertRules(f) {
					got, ok := r.Annotations["runbook_url"]
					if r.Alert == "OKRSourceDown" {
						if ok {
							t.Errorf("%s: runbook_url %q", r.Alert, got)
						}
					} else if got != want {
						t.Errorf("%s: runbook_url\n%s\nwant\n%s", r.Alert, got, want)
					}
				}
			},
		},
		{
			name:   "the period-end window is written in seconds",
			policy: func(p *alerting.Policy) { p.PeriodEndWindow = 7 * 24 * time.Hour },
			check: func(t *testing.T, f *File) {
				for _, r := range alertRules(f) {
					// 7 × 86400 = 604800
					if r.Alert == "OKRKeyResultMissed" && !strings.Contains(r.Expr, "okr_objective_period_end_timestamp_seconds < 604800") {
						t.Errorf("missed expr = %s", r.Expr)
					}
				}
			},
		},
		{
			name:   "every alert carries the severity of its condition and origin prometheus",
			policy: func(p *alerting.Policy) {},
			check: func(t *testing.T, f *File) {
				for _, c := range alerting.Conditions {
					found := false
					for _, r := range alertRules(f) {
						if r.Alert == c.AlertName() {
							found = true
							if r.Labels["severity"] != string(c.Severity()) || r.Labels["origin"] != "prometheus" {
								t.Errorf("%s: labels %v", r.Alert, r.Labels)
							}
						}
					}
					if !found {
						t.Errorf("no rule for %s", c)
					}
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testPolicy()
			tt.policy(&p)
			tt.check(t, Generate(p))
		})
	}
}

// alertRules returns the alerting rules of f, in order.
func alertRules(f *File) []Rule {
	var out []Rule
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				out = append(out, r)
			}
		}
	}
	return out
}

// promtool finds the promtool binary, or skips (fails in CI).
func promtool(t *testing.T) string {
	t.Helper()
	return testenv.Program(t, "promtool", "prometheus")
}

func TestPromtoolCheckRules(t *testing.T) {
	bin := promtool(t)
	out, err := exec.Command(bin, "check", "rules", filepath.Join("testdata", "rules.yml")).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
}

// unitTestFiles are the promtool unit tests of testdata/rules.yml:
// rules_test.yml, evaluated every minute, and confidence_test.yml, evaluated
// every hour over the seven days of a confidence's week's high.
var unitTestFiles = []string{"rules_test.yml", "confidence_test.yml"}

// TestPromtoolUnitTests runs the unit test files: for every rule, cases
// where it must fire (after its `for`, with its labels and annotations) and
// where it must not.
func TestPromtoolUnitTests(t *testing.T) {
	bin := promtool(t)
	for _, f := range unitTestFiles {
		cmd := exec.Command(bin, "test", "rules", f)
		cmd.Dir = "testdata"
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("promtool test rules %s: %v\n%s", f, err, out)
		} else if !strings.Contains(string(out), "SUCCESS") {
			t.Errorf("promtool test rules %s did not report success:\n%s", f, out)
		}
	}
}

// TestUnitTestsCoverEveryRule guards the point of the unit tests: a rule
// added to the generator without a promtool test fails here.
func TestUnitTestsCoverEveryRule(t *testing.T) {
	var all []byte
	for _, f := range unitTestFiles {
		b, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	for _, g := range Generate(testPolicy()).Groups {
		for _, r := range g.Rules {
			name := r.Alert
			key := "alertname: " + name
			if r.Record != "" {
				name, key = r.Record, "expr: "+r.Record
			}
			if !strings.Contains(string(all), key) {
				t.Errorf("the unit tests (%s) have no test for %s", strings.Join(unitTestFiles, ", "), name)
			}
		}
	}
}

// A runbook URL is configuration text; in the annotation it is a string
// literal, so nothing in it runs as template code. The annotation uses only
// text/template's own functions, so Go's package can run it as Prometheus
// does (Prometheus binds $labels to the alert's labels first).
func TestARunbookURLIsNeverTemplateCode(t *testing.T) {
	p := testPolicy()
	hostile := `https://wiki.example.com/{{ query "up" }}/"quoted"/\back?q={{.}}`
	p.KeyResults = map[string]alerting.KeyResultInfo{"grow/nps": {RunbookURL: hostile}}
	a := alertRules(Generate(p))[0].Annotations["runbook_url"]
	tmpl, err := template.New("runbook_url").Parse(`{{ $labels := .Labels }}` + a)
	if err != nil {
		t.Fatalf("the annotation does not parse: %v\n%s", err, a)
	}
	for labels, want := range map[[2]string]string{{"grow", "nps"}: hostile, {"grow", "arr"}: "", {"other", "nps"}: ""} {
		var b strings.Builder
		err := tmpl.Execute(&b, map[string]any{"Labels": map[string]string{"objective": labels[0], "key_result": labels[1]}})
		if err != nil || b.String() != want {
			t.Errorf("for %s/%s the annotation is %q (%v), want %q", labels[0], labels[1], b.String(), err, want)
		}
	}
}

func TestInhibitRules(t *testing.T) {
	got, err := MarshalInhibitRules()
	if err != nil {
		t.Fatal(err)
	}
	want := `inhibit_rules:
- source_matchers:
  - alertname="OKRKeyResultOffTrack"
  target_matchers:
  - alertname=~"OKRKeyResultAtRisk|OKRKeyResultForecastMiss|OKRKeyResultConfidenceDrop"
  equal:
  - objective
  - key_result
- source_matchers:
  - alertname="OKRKeyResultAtRisk"
  target_matchers:
  - alertname="OKRKeyResultForecastMiss"
  equal:
  - objective
  - key_result
- source_matchers:
  - alertname="OKRKeyResultConfidenceDrop"
  target_matchers:
  - alertname="OKRKeyResultConfidenceDisagrees"
  equal:
  - objective
  - key_result
`
	if string(got) != want {
		t.Errorf("inhibit rules:\n%s\nwant:\n%s", got, want)
	}
	// docs/alerting.md shows them for copying into alertmanager.yml.
	doc, err := os.ReadFile(filepath.Join("..", "docs", "alerting.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "```yaml\n"+string(got)+"```") {
		t.Errorf("docs/alerting.md does not show the inhibit rules as MarshalInhibitRules writes them:\n%s", got)
	}
}

// TestInhibitRulesPassAmtool checks the inhibit rules as Alertmanager reads
// them: in a configuration amtool accepts.
func TestInhibitRulesPassAmtool(t *testing.T) {
	amtool := testenv.Program(t, "amtool", "prometheus-alertmanager")
	rules, err := MarshalInhibitRules()
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "alertmanager.yml")
	if err := os.WriteFile(cfg, append([]byte("route:\n  receiver: r\nreceivers:\n  - name: r\n"), rules...), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(amtool, "check-config", cfg).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "3 inhibit rules") {
		t.Errorf("amtool check-config: %v\n%s", err, out)
	}
}
