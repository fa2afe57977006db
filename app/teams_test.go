package app

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/okrd/okrd/sandbox/jirafake"
)

const teamsConfig = `
[storage]
dsn = "{{DB}}"

[sources.jira]
type = "jira"
url = "{{JIRA}}"
flavor = "cloud"
email = "teams@example.com"
token = "teams-jira-token"
projects = ["PAY", "WEB"]

[teams.pay]
jira_projects = ["PAY"]

[teams.both]
jira_projects = ["PAY", "WEB"]

[[objectives]]
id = "o"
title = "Deliver"
start = {{START}}
end = {{END}}

  [[objectives.key_results]]
  id = "team-cycle"
  title = "Cycle time of team pay"
  source = "jira"
  metric = "cycle_time"
  scope = "team:pay"
  baseline = 864000
  target = 86400

  [[objectives.key_results]]
  id = "project-cycle"
  title = "Cycle time of project PAY"
  source = "jira"
  metric = "cycle_time"
  scope = "PAY"
  baseline = 864000
  target = 86400

  [[objectives.key_results]]
  id = "team-throughput"
  title = "Throughput of team both"
  source = "jira"
  metric = "throughput"
  window = "7d"
  scope = "team:both"
  baseline = 0
  target = 100

  [[objectives.key_results]]
  id = "source-throughput"
  title = "Throughput of the whole source"
  source = "jira"
  metric = "throughput"
  window = "7d"
  baseline = 0
  target = 100
`

// A key result on a team scope is filled in for its whole period from the
// stored records, like any other: its values, filled in and live, are
// those of the scope its team equals (a team of one project is the
// project; a team of every project is the whole source).
func TestAKeyResultOfATeamIsFilledInAndMeasuredLikeItsRecords(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	fake := jirafake.New(jirafake.Cloud)
	fake.Email, fake.Token = "teams@example.com", "teams-jira-token"
	fake.Generate(jirafake.GenOptions{Projects: []string{"PAY", "WEB"}, Issues: 300, Days: 90, Seed: 7, Now: now})
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	date := func(t time.Time) string { return t.Format(time.DateOnly) }
	dir := t.TempDir()
	text := strings.NewReplacer("{{DB}}", dir+"/okrd.db", "{{JIRA}}", srv.URL,
		"{{START}}", date(now.Add(-40*24*time.Hour)), "{{END}}", date(now.Add(30*24*time.Hour))).Replace(teamsConfig)
	syncApp(t, dir, text, now, false)

	for _, pair := range [][2]string{{"team-cycle", "project-cycle"}, {"team-throughput", "source-throughput"}} {
		team, same := storedValues(t, dir, pair[0]), storedValues(t, dir, pair[1])
		filled := byOrigin(team, "history:")
		if len(filled) < 30 {
			t.Fatalf("%s has %d filled-in values, want one per day of the period so far", pair[0], len(filled))
		}
		if len(team) != len(same) {
			t.Fatalf("%s has %d values, %s %d", pair[0], len(team), pair[1], len(same))
		}
		nonzero := 0
		for i := range team {
			a, b := team[i], same[i]
			if !a.At.Equal(b.At) || a.Value != b.Value || strings.Split(a.Origin, ":")[0] != strings.Split(b.Origin, ":")[0] {
				t.Fatalf("%s at %s: %v (%s); %s at %s: %v (%s)", pair[0], a.At, a.Value, a.Origin, pair[1], b.At, b.Value, b.Origin)
			}
			if a.Value != 0 {
				nonzero++
			}
		}
		if nonzero < len(team)/2 {
			t.Fatalf("%s: only %d of %d values are other than 0", pair[0], nonzero, len(team))
		}
	}
}
