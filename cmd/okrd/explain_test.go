package main

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/okrd/okrd/metrics/explain"
	"github.com/okrd/okrd/sandbox/githubfake"
)

// okrd explain reads the store (a manual key result's check-ins, a
// github source's records after okrd sync) in the three formats.
func TestExplainFromTheStore(t *testing.T) {
	const token = "ghp_explain"
	fake := githubfake.New(token)
	ts := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	tp := func(s string) *time.Time { v := ts(s); return &v }
	// Two pull requests deployed by one deployment: lead times 3 d and 1 d.
	fake.Update(func(d *githubfake.Data) {
		d.AddRepo(&githubfake.Repo{Owner: "acme", Name: "web",
			Deployments: []*githubfake.Deployment{{Environment: "production", CreatedAt: ts("2026-11-10T11:50:00Z"),
				Statuses: []githubfake.DeploymentStatus{{State: "success", CreatedAt: ts("2026-11-10T12:00:00Z")}}}},
			PullRequests: []*githubfake.PullRequest{
				{Number: 7, Title: "Faster checkout", Author: "ann", CreatedAt: ts("2026-11-07T12:00:00Z"), MergedAt: tp("2026-11-09T12:00:00Z")},
				{Number: 8, Title: "=SUM(A1) fix", Author: "ann", CreatedAt: ts("2026-11-09T12:00:00Z"), MergedAt: tp("2026-11-10T10:00:00Z")},
			}})
	})
	srv := httptest.NewServer(http.StripPrefix("/gh", fake))
	defer srv.Close()
	dir := t.TempDir()
	p := writeFile(t, dir, cliConfig+`
  [[objectives.key_results]]
  id = "lead"
  title = "Lead time"
  source = "gh"
  metric = "lead_time_for_changes"
  scope = "acme/web"
  window = "90d"
  unit = "duration"
  baseline = 604800
  target = 86400

  [[objectives.key_results]]
  id = "sql"
  title = "Signups"
  source = "db"
  query = "SELECT 1"
  baseline = 0
  target = 10

[sources.gh]
type = "github"
url = "`+srv.URL+`/gh/"
token = "`+token+`"
repos = ["acme/web"]

[sources.db]
type = "sql"
driver = "sqlite"
dsn = "`+dir+`/analytics.db"
`)
	for _, ci := range [][]string{{"grow/nps", "33", "--at", "2026-11-01"}, {"grow/nps", "36", "--at", "2026-11-12", "--note", "November survey"}} {
		if code, _, errs := runCLI(t, append([]string{"checkin", "--config", p, "--author", "ana"}, ci...)...); code != 0 {
			t.Fatalf("checkin: %s", errs)
		}
	}
	// The sql source cannot sync (its database does not exist): the
	// github source does.
	if _, _, errs := runCLI(t, "sync", "--config", p); !strings.Contains(errs, `msg="source synced" source=gh`) {
		t.Fatalf("sync: %s", errs)
	}

	// The lead time: (3 d + 1 d)/2 at p50; both rows at the quantile.
	code, out, errs := runCLI(t, "explain", "--config", p, "grow/lead", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var r explain.ResultJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	// No first commit known: from creation to the deployment.
	lead7, lead8 := 3*86400.0, 86400.0
	if r.Value == nil || *r.Value != (lead7+lead8)/2 || len(r.Rows) != 2 || r.Rows[0]["number"] != 7.0 || r.Rows[0]["contribution"] != lead7 ||
		r.Rows[0]["link"] != srv.URL+"/acme/web/pull/7" || r.Rows[0]["title"] != "Faster checkout" || r.Rows[1]["mark"] != "quantile" {
		t.Fatalf("lead time: %s", out)
	}
	code, out, _ = runCLI(t, "explain", "--config", p, "grow/lead")
	if code != 0 || !strings.Contains(out, "3 d") || !strings.Contains(out, "24 h") || !strings.Contains(out, "Faster checkout") {
		t.Fatalf("table: %s", out)
	}
	code, out, _ = runCLI(t, "explain", "--config", p, "grow/lead", "--format", "csv")
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != 0 || err != nil || len(recs) != 3 || recs[0][0] != "repository" || recs[2][2] != "'=SUM(A1) fix" {
		t.Fatalf("csv: %v %q", err, out)
	}
	// Before the deployment nothing was deployed: no value, no rows.
	code, out, _ = runCLI(t, "explain", "--config", p, "grow/lead", "--at", "2026-11-10T11:00:00Z", "--format", "json")
	if code != 0 || !strings.Contains(out, `"value": null`) || !strings.Contains(out, `"rows": []`) {
		t.Fatalf("before the deployment: %s", out)
	}

	// The manual key result: its check-ins, the value the latest one's.
	code, out, _ = runCLI(t, "explain", "--config", p, "grow/nps", "--format", "json", "--at", "2026-11-05")
	if err := json.Unmarshal([]byte(out), &r); code != 0 || err != nil || *r.Value != 33 || len(r.Rows) != 1 || r.Rule != explain.Latest {
		t.Fatalf("nps at 2026-11-05: %s", out)
	}
	code, out, _ = runCLI(t, "explain", "--config", p, "grow/nps")
	if code != 0 || !strings.Contains(out, "November survey") || !strings.Contains(out, "36") {
		t.Fatalf("nps: %s", out)
	}
	// An analytics key result has no records, and says so.
	code, out, _ = runCLI(t, "explain", "--config", p, "grow/sql")
	if code != 0 || !strings.Contains(out, "sql query") {
		t.Fatalf("sql: %d %s", code, out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"grow/nope"}, `key result "nope" does not exist in objective "grow"`},
		{[]string{"grow"}, `"grow" is not OBJECTIVE/KEY_RESULT`},
		{[]string{"grow/nps", "--at", "soon"}, "--at: "},
		{[]string{"grow/nps", "--at", "2999-01-01"}, "at: "},
		{[]string{"grow/nps", "--format", "xml"}, `--format "xml"`},
	} {
		code, _, errs := runCLI(t, append([]string{"explain", "--config", p}, c.args...)...)
		if code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, %s", c.args, code, errs)
		}
	}
}

// With --url, okrd explain asks a running okrd's API.
func TestExplainAsksARunningOkrd(t *testing.T) {
	var asked []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked = append(asked, r.URL.RequestURI())
		switch {
		case strings.Contains(r.URL.Path, "/nope/"):
			w.WriteHeader(404)
			_, _ = w.Write([]byte(`{"error": "key result \"nope\" does not exist in objective \"grow\""}`))
		case r.URL.Query().Get("format") == "csv":
			_, _ = w.Write([]byte("key,value\nPAY-1,3600\n"))
		default:
			_, _ = w.Write([]byte(`{"objective": "grow", "key_result": "cycle", "source": "jira", "metric": "cycle_time", "at": "2026-11-15T00:00:00Z",
				"value": 3600, "unit": "seconds", "rule": "quantile", "quantile": 0.5, "how": "the p50",
				"columns": [{"key": "key", "title": "issue", "kind": "text"}, {"key": "value", "title": "cycle time", "kind": "duration"}],
				"rows": [{"key": "PAY-1", "value": 3600, "contribution": 3600, "mark": "quantile", "link": "https://acme.atlassian.net/browse/PAY-1"}],
				"total_rows": 1}`))
		}
	}))
	defer srv.Close()
	code, out, errs := runCLI(t, "explain", "--url", srv.URL, "grow/cycle", "--at", "2026-11-15")
	if code != 0 || !strings.Contains(out, "PAY-1") || !strings.Contains(out, "1 h") || !strings.Contains(out, "https://acme.atlassian.net/browse/PAY-1") {
		t.Fatalf("table: %d %s %s", code, out, errs)
	}
	if asked[0] != "/api/v1/objectives/grow/key_results/cycle/explain?at=2026-11-15&limit=5000" {
		t.Fatalf("asked %v", asked)
	}
	if code, out, _ = runCLI(t, "explain", "--url", srv.URL+"/", "grow/cycle", "--format", "csv"); code != 0 || out != "key,value\nPAY-1,3600\n" {
		t.Fatalf("csv: %d %q", code, out)
	}
	if code, _, errs = runCLI(t, "explain", "--url", srv.URL, "grow/nope"); code != 2 || !strings.Contains(errs, `key result \"nope\"`) && !strings.Contains(errs, `key result "nope"`) {
		t.Fatalf("404: %d %s", code, errs)
	}
	if code, _, errs = runCLI(t, "explain", "--url", "ftp://x", "grow/cycle"); code != 2 || !strings.Contains(errs, "--url") {
		t.Fatalf("bad url: %d %s", code, errs)
	}
}
