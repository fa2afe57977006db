package config

import (
	"strings"
	"testing"
	"time"
)

func TestReportSection(t *testing.T) {
	const head = `[[objectives]]
id = "o"
title = "O"
period = "2026-Q4"
[[objectives.key_results]]
id = "k"
title = "K"
baseline = 1
target = 2

[alerting]
default_receiver = "slack"
[[alerting.receivers]]
name = "slack"
type = "slack"
url = "https://hooks.slack.test/x"
[[alerting.receivers]]
name = "am"
type = "alertmanager"
url = "http://127.0.0.1:9093"

`
	for _, tc := range []struct {
		name, doc string
		want      []string
	}{
		{"An unknown receiver lists the defined ones.", "[report]\nreceiver = \"nope\"\n",
			[]string{`okrd.toml:23: report.receiver: unknown receiver "nope" (defined: slack, am)`}},
		{"An alertmanager receiver cannot take a report.", "[report]\nreceiver = \"am\"\n",
			[]string{`okrd.toml:23: report.receiver: receiver "am" is of type "alertmanager"; the report goes to a slack or webhook receiver`}},
		{"HTML is not posted to Slack.", "[report]\nreceiver = \"slack\"\nformat = \"html\"\n",
			[]string{`okrd.toml:24: report.format: "html" cannot be posted to Slack; use "markdown" with receiver "slack"`}},
		{"A bad day and time are named.", "[report]\nreceiver = \"slack\"\nweekday = \"someday\"\ntime = \"9am\"\n",
			[]string{`okrd.toml:24: report.weekday: must be a day of the week such as "monday", not "someday"`,
				`okrd.toml:25: report.time: must be a time of day "HH:MM" such as "09:00", not "9am"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(head+tc.doc), "okrd.toml")
			if err == nil {
				t.Fatal("no error")
			}
			if got := strings.Split(err.Error(), "\n"); strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", err, strings.Join(tc.want, "\n"))
			}
		})
	}
	cfg, err := Parse([]byte(head+"[report]\nreceiver = \"slack\"\nweekday = \"Friday\"\ntime = \"16:30\"\n"), "okrd.toml")
	if err != nil {
		t.Fatal(err)
	}
	if r := cfg.Report; r.Day != time.Friday || r.Clock != 16*time.Hour+30*time.Minute || r.Format != "markdown" {
		t.Errorf("resolved %+v", r)
	}
}
