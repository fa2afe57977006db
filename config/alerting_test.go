package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// slackReceiver is a valid receiver, lines 2 to 5 of a document that starts
// with it.
const slackReceiver = `
[[alerting.receivers]]
name = "team"
type = "slack"
url = "https://hooks.slack.com/services/T0/B0/secret"
`

// defaultToTeam routes everything to it (line 7 after slackReceiver).
const defaultToTeam = "[alerting]\ndefault_receiver = \"team\"\n"

func TestAlertingValidation(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{
			name: "A route naming an unknown receiver is an error naming the field.",
			doc:  slackReceiver + "[[alerting.routes]]\nreceiver = \"pager\"\nteams = [\"web\"]\n" + okObjective,
			want: []string{`okrd.toml:7: alerting.routes[0].receiver: unknown receiver "pager" (defined: team)`},
		},
		{
			name: "A default receiver naming an unknown receiver is an error.",
			doc:  "[alerting]\ndefault_receiver = \"nobody\"\n" + okObjective,
			want: []string{`okrd.toml:2: alerting.default_receiver: unknown receiver "nobody": no [[alerting.receivers]] is defined`},
		},
		{
			name: "A webhook URL that is not http(s) is an error that does not echo the URL.",
			doc: defaultToTeam + "[[alerting.receivers]]\nname = \"team\"\ntype = \"webhook\"\nurl = \"ftp://files.example.com/hook?token=abc\"\n" +
				okObjective,
			want: []string{`okrd.toml:6: alerting.receivers[0].url: must be an absolute http:// or https:// URL`},
		},
		{
			name: "A relative URL is an error.",
			doc:  defaultToTeam + "[[alerting.receivers]]\nname = \"team\"\ntype = \"alertmanager\"\nurl = \"alertmanager:9093\"\n" + okObjective,
			want: []string{`okrd.toml:6: alerting.receivers[0].url: must be an absolute http:// or https:// URL`},
		},
		{
			name: "A confidence drop of 0 points is an error naming the field.",
			doc:  "[alerting]\nconfidence_drop_points = 0\n" + okObjective,
			want: []string{`okrd.toml:2: alerting.confidence_drop_points: must be a whole number of points from 1 to 9 (confidences run from 1 to 10), not 0`},
		},
		{
			name: "A confidence drop beyond the scale is an error.",
			doc:  "[alerting]\nconfidence_drop_points = 10\n" + okObjective,
			want: []string{`okrd.toml:2: alerting.confidence_drop_points: must be a whole number of points from 1 to 9 (confidences run from 1 to 10), not 10`},
		},
		{
			name: "A confidence drop that is not a whole number is an error naming the field.",
			doc:  "[alerting]\nconfidence_drop_points = 2.5\n" + okObjective,
			want: []string{`okrd.toml:2: alerting.confidence_drop_points: must be an integer, not a float`},
		},
		{
			name: "A `for` that is not a duration is an error naming the field.",
			doc:  "[alerting]\nfor = \"an hour\"\n" + okObjective,
			want: []string{`okrd.toml:2: alerting.for: invalid duration "an hour": write a number and a unit (ms, s, m, h, d, w, y) like "30s", "5m" or "1h30m"`},
		},
		{
			name: "Every duration of the section is checked.",
			doc:  "[alerting]\nrepeat_interval = 5\nsource_down_after = \"-1m\"\nperiod_end_window = \"0s\"\n" + okObjective,
			want: []string{
				`okrd.toml:2: alerting.repeat_interval: must be a duration string like "5m", not an integer (for 5 seconds write "5s")`,
				`okrd.toml:3: alerting.source_down_after: invalid duration "-1m": write a number and a unit (ms, s, m, h, d, w, y) like "30s", "5m" or "1h30m"`,
				`okrd.toml:4: alerting.period_end_window: must be at least 1s, not 0s`,
			},
		},
		{
			name: "Unknown and repeated conditions are errors.",
			doc:  "[alerting]\nconditions = [\"off_track\", \"late\", \"off_track\"]\n" + okObjective,
			want: []string{
				`okrd.toml:2: alerting.conditions[1]: unknown value "late" (one of off_track, at_risk, forecast_miss, missed, achieved, no_data, stale, confidence_drop, confidence_disagrees, source_down)`,
				`okrd.toml:2: alerting.conditions[2]: "off_track" is listed twice`,
			},
		},
		{
			name: "A receiver needs a name, a known type and a URL.",
			doc:  "[[alerting.receivers]]\ntype = \"email\"\n" + okObjective,
			want: []string{
				`okrd.toml:1: alerting.receivers[0].name: required: routes refer to the receiver by it`,
				`okrd.toml:1: alerting.receivers[0].url: required (or set url_file)`,
				`okrd.toml:1: alerting.default_receiver: required when no [[alerting.routes]] is defined: name the receiver that gets every alert`,
				`okrd.toml:2: alerting.receivers[0].type: unknown receiver type "email" (one of slack, webhook, alertmanager)`,
			},
		},
		{
			name: "Two receivers with one name are an error.",
			doc:  defaultToTeam + slackReceiver + slackReceiver + okObjective,
			// defaultToTeam is lines 1-2, each slackReceiver 5 lines from a
			// blank one: the second name is on line 2 + 5 + 3 = 10.
			want: []string{`okrd.toml:10: alerting.receivers[1].name: receiver "team" is defined twice`},
		},
		{
			name: "An HMAC secret applies only to webhooks, headers not to Slack.",
			doc:  defaultToTeam + slackReceiver + "hmac_secret = \"k\"\nheaders = { X-A = \"1\" }\n" + okObjective,
			want: []string{
				`okrd.toml:8: alerting.receivers[0].hmac_secret: applies only to receivers of type "webhook"`,
				`okrd.toml:9: alerting.receivers[0].headers: does not apply to Slack incoming webhooks`,
			},
		},
		{
			name: "Header names must be valid and not ones okrd sets.",
			doc: defaultToTeam + "[[alerting.receivers]]\nname = \"team\"\ntype = \"webhook\"\nurl = \"https://h.example\"\n" +
				"headers = { \"Bad Header\" = \"1\", content-type = \"text/plain\" }\n" + okObjective,
			want: []string{
				`okrd.toml:7: alerting.receivers[0].headers."Bad Header": "Bad Header" is not a valid HTTP header name`,
				`okrd.toml:7: alerting.receivers[0].headers.content-type: Content-Type is set by okrd and cannot be configured`,
			},
		},
		{
			name: "Route lists are checked against objectives, severities and conditions.",
			doc: defaultToTeam + slackReceiver + "[[alerting.routes]]\nreceiver = \"team\"\nobjectives = [\"o\", \"nope\"]\n" +
				"severities = [\"page\"]\nconditions = [\"down\"]\n" + okObjective,
			want: []string{
				`okrd.toml:10: alerting.routes[0].objectives[1]: no objective has id "nope"`,
				`okrd.toml:11: alerting.routes[0].severities[0]: unknown value "page" (one of critical, warning, info)`,
				`okrd.toml:12: alerting.routes[0].conditions[0]: unknown value "down" (one of off_track, at_risk, forecast_miss, missed, achieved, no_data, stale, confidence_drop, confidence_disagrees, source_down)`,
			},
		},
		{
			name: "A route needs a receiver.",
			doc:  slackReceiver + "[[alerting.routes]]\nteams = [\"web\"]\n" + okObjective,
			want: []string{`okrd.toml:6: alerting.routes[0].receiver: required: the name of the receiver that gets the matching alerts`},
		},
		{
			name: "A receiver timeout under a second is rejected.",
			doc:  defaultToTeam + slackReceiver + "timeout = \"10ms\"\n" + okObjective,
			want: []string{`okrd.toml:8: alerting.receivers[0].timeout: must be at least 1s, not 10ms`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse([]byte(tt.doc), "okrd.toml", envOf(nil))
			got := errorLines(t, err)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if strings.Contains(strings.Join(got, "\n"), "token=abc") {
				t.Error("an error repeats the URL")
			}
		})
	}
}

func TestAlertingDefaults(t *testing.T) {
	c, err := parse([]byte(okObjective), "okrd.toml", envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	a := c.Alerting
	if a.For != Duration(time.Hour) || a.KeepFiringFor != Duration(time.Hour) || a.RepeatInterval != Duration(24*time.Hour) ||
		a.SourceDownAfter != Duration(30*time.Minute) || a.PeriodEndWindow != Duration(7*24*time.Hour) {
		t.Errorf("durations = %+v", a)
	}
	if !reflect.DeepEqual(a.Conditions, DefaultAlertConditions) {
		t.Errorf("conditions = %v", a.Conditions)
	}
	if a.ConfidenceDropPoints != 3 {
		t.Errorf("confidence_drop_points = %d, want 3", a.ConfidenceDropPoints)
	}
	c, err = parse([]byte("[alerting]\nconfidence_drop_points = 2\nconditions = [\"confidence_drop\", \"confidence_disagrees\"]\n"+okObjective), "okrd.toml", envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Alerting.ConfidenceDropPoints != 2 || !reflect.DeepEqual(c.Alerting.Conditions, []string{"confidence_drop", "confidence_disagrees"}) {
		t.Errorf("confidence_drop_points = %d, conditions %v", c.Alerting.ConfidenceDropPoints, c.Alerting.Conditions)
	}
	// "0s" is kept, not replaced by the default.
	c, err = parse([]byte("[alerting]\nrepeat_interval = \"0s\"\nkeep_firing_for = \"0s\"\nfor = \"0s\"\n"+okObjective), "okrd.toml", envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Alerting.RepeatInterval != 0 || c.Alerting.KeepFiringFor != 0 || c.Alerting.For != 0 {
		t.Errorf("explicit zeros = %+v", c.Alerting)
	}
}

func TestAlertingSecretsFromFilesAndEnvironment(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "slack_url"), []byte("https://hooks.slack.com/services/T0/B0/FILESECRET\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "hmac"), []byte("HMACFILESECRET\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	doc := `[alerting]
default_receiver = "team"
[[alerting.receivers]]
name = "team"
type = "slack"
url_file = "slack_url"
[[alerting.receivers]]
name = "hook"
type = "webhook"
url = "${HOOK_URL}"
hmac_secret_file = "hmac"
headers = { Authorization = "Bearer ${HOOK_TOKEN}" }
` + okObjective
	c, err := parse([]byte(doc), filepath.Join(dir, "okrd.toml"), envOf(map[string]string{
		"HOOK_URL": "https://hooks.example.com/x?token=ENVSECRET", "HOOK_TOKEN": "TOKENSECRET"}))
	if err != nil {
		t.Fatal(err)
	}
	rs := c.Alerting.Receivers
	if rs[0].URL.Value() != "https://hooks.slack.com/services/T0/B0/FILESECRET" || rs[1].HMACSecret.Value() != "HMACFILESECRET" ||
		rs[1].URL.Value() != "https://hooks.example.com/x?token=ENVSECRET" || rs[1].Headers["Authorization"].Value() != "Bearer TOKENSECRET" {
		t.Errorf("receivers = %+v %+v", rs[0], rs[1])
	}
	printed := c.String()
	for _, s := range []string{"FILESECRET", "ENVSECRET", "TOKENSECRET"} {
		if strings.Contains(printed, s) {
			t.Errorf("the printed config leaks %s:\n%s", s, printed)
		}
	}
	if !strings.Contains(printed, "url_file = 'slack_url'") || !strings.Contains(printed, "[[alerting.receivers]]") {
		t.Errorf("the printed config lost the receivers:\n%s", printed)
	}
}
