package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/okrd/okrd/config"
)

type apiKR struct {
	ID       string   `json:"id"`
	Source   string   `json:"source"`
	Value    *float64 `json:"value"`
	Progress *float64 `json:"progress"`
	Expected float64  `json:"expected_progress"`
	Status   string   `json:"status"`
}

type apiObjectives struct {
	Objectives []struct {
		ID         string  `json:"id"`
		KeyResults []apiKR `json:"key_results"`
	} `json:"objectives"`
}

type apiSources struct {
	Sources []struct {
		Name      string `json:"name"`
		Up        bool   `json:"up"`
		Polls     int    `json:"polls"`
		LastError string `json:"last_error"`
	} `json:"sources"`
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// startDemo starts a demo on a free port and stops it at the end of the
// test.
func startDemo(t *testing.T, now func() time.Time) *Sandbox {
	t.Helper()
	s, err := Start(context.Background(), Options{Dir: t.TempDir(), ListenAddress: "127.0.0.1:0", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// waitForValues polls the API until every source has polled successfully
// and every key result has a value, and returns the key results.
func waitForValues(t *testing.T, s *Sandbox, timeout time.Duration) []apiKR {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var srcs apiSources
		getJSON(t, s.URL+"/api/v1/sources", &srcs)
		up := len(srcs.Sources) > 0
		var down []string
		for _, src := range srcs.Sources {
			if !src.Up || src.Polls == 0 {
				up = false
				down = append(down, fmt.Sprintf("%s (polls %d, error %q)", src.Name, src.Polls, src.LastError))
			}
		}
		var objs apiObjectives
		getJSON(t, s.URL+"/api/v1/objectives", &objs)
		var krs []apiKR
		var missing []string
		for _, o := range objs.Objectives {
			for _, kr := range o.KeyResults {
				kr.ID = o.ID + "/" + kr.ID
				krs = append(krs, kr)
				if kr.Value == nil || kr.Status == "no_data" {
					missing = append(missing, kr.ID)
				}
			}
		}
		if up && len(missing) == 0 {
			return krs
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: sources not up: %v; key results without a value: %v", timeout, down, missing)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestDemoEveryKeyResultHasAValueAndTheStatusesVary(t *testing.T) {
	t.Parallel()
	s := startDemo(t, nil)
	krs := waitForValues(t, s, 60*time.Second)
	statuses := map[string]int{}
	sources := map[string]int{}
	for _, kr := range krs {
		statuses[kr.Status]++
		sources[kr.Source]++
		t.Logf("%-45s %-10s value %-14.6g progress %.3f expected %.3f %s", kr.ID, kr.Source, *kr.Value, *kr.Progress, kr.Expected, kr.Status)
	}
	if len(statuses) < 3 {
		t.Errorf("statuses %v: want at least three different ones", statuses)
	}
	if want := map[string]int{"manual": 2, "warehouse": 1, "plausible": 1, "github": 5, "jira": 6}; !reflect.DeepEqual(sources, want) {
		t.Errorf("key results per source %v, want %v", sources, want)
	}

	// The /metrics exposition has the OKRs and every source up.
	resp, err := http.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`okr_key_result_value{key_result="nps",objective="happy-shoppers"} `,
		`okrd_source_up{source="jira",type="jira"} 1`, `okrd_source_up{source="github",type="github"} 1`,
		`okrd_source_up{source="warehouse",type="sql"} 1`, `okrd_source_up{source="plausible",type="http_json"} 1`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

type apiCheckins struct {
	Checkins []struct {
		Value  float64 `json:"value"`
		Author string  `json:"author"`
		Note   string  `json:"note"`
	} `json:"checkins"`
}

// A quarter of weekly check-ins is seeded, and the printed token records
// a new one through the API.
func TestDemoSeedsCheckinsAndTheTokenRecordsMore(t *testing.T) {
	s := startDemo(t, nil)
	url := s.URL + "/api/v1/objectives/happy-shoppers/key_results/nps/checkins"
	var got apiCheckins
	getJSON(t, url, &got)
	if len(got.Checkins) != 13 || got.Checkins[0].Author != "maria" || !strings.HasPrefix(got.Checkins[0].Note, "Weekly in-app survey, ") {
		t.Fatalf("check-ins %+v, want 13 weekly ones by maria", got.Checkins)
	}
	var support apiCheckins
	getJSON(t, s.URL+"/api/v1/objectives/happy-shoppers/key_results/support-tickets/checkins", &support)
	if len(support.Checkins) != 13 || support.Checkins[0].Value != 4.6 {
		t.Errorf("support check-ins %+v, want 13, the latest 4.6", support.Checkins)
	}

	post := func(token string) int {
		req, _ := http.NewRequest("POST", url, strings.NewReader(`{"value": 44, "note": "from the test"}`))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("wrong"); code != http.StatusUnauthorized {
		t.Errorf("a wrong token: %d, want 401", code)
	}
	if code := post(s.APIToken); code != http.StatusCreated {
		t.Fatalf("the demo's token: %d, want 201", code)
	}
	getJSON(t, url, &got)
	if len(got.Checkins) != 14 || got.Checkins[0].Value != 44 {
		t.Errorf("after the POST: %+v", got.Checkins[:1])
	}
}

func TestDemoConfigurationLoads(t *testing.T) {
	s := startDemo(t, nil)
	cfg, err := config.Load(s.ConfigFile)
	if err != nil {
		t.Fatal(err)
	}
	// The links of alerts and reports, and the page's API examples, lead to
	// this okrd: the port 0 it was asked for is the port it listens on.
	if cfg.Server.ExternalURL != s.URL+"/" {
		t.Errorf("external_url %q, want okrd's own address %s/", cfg.Server.ExternalURL, s.URL)
	}
	kinds := map[string]bool{}
	for _, o := range cfg.Objectives {
		// The file says current-quarter, so that it does not go stale
		// when kept (--keep, --dir) and run again later.
		if o.Period != "current-quarter" || o.Resolved != s.Period {
			t.Errorf("objective %s: period %q = %v, want current-quarter = %v", o.ID, o.Period, o.Resolved, s.Period)
		}
		for _, kr := range o.KeyResults {
			typ := "manual"
			if kr.Source != "" {
				typ = cfg.Sources[kr.Source].Type
			}
			kinds[typ] = true
		}
	}
	var got []string
	for k := range kinds {
		got = append(got, k)
	}
	sort.Strings(got)
	if want := "github http_json jira manual sql"; strings.Join(got, " ") != want {
		t.Errorf("key result kinds %v, want %s", got, want)
	}
	b, err := os.ReadFile(filepath.Join(s.Dir, apiTokenFile))
	if err != nil || strings.TrimSpace(string(b)) != s.APIToken {
		t.Errorf("api token file %q (%v), want the printed token", b, err)
	}
}

// At either end of a quarter every key result still has a value: the
// windows reach back into the previous quarter, or up to its last hour.
// (The clock is pinned for okrd and the fakes; the sources' own cursors
// still read the real clock, which is within the same quarter.)
func TestDemoHasEveryValueAtTheStartAndTheEndOfTheQuarter(t *testing.T) {
	t.Parallel()
	p := mustPlan(t, time.Now())
	for name, now := range map[string]time.Time{
		"the first hour": p.period.Start.Add(time.Hour + 17*time.Minute),
		"the last hour":  p.period.End.Add(-time.Hour + 17*time.Minute),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := startDemo(t, func() time.Time { return now })
			statuses := map[string]bool{}
			for _, kr := range waitForValues(t, s, 60*time.Second) {
				statuses[kr.Status] = true
			}
			if len(statuses) < 3 {
				t.Errorf("statuses %v: want at least three different ones", statuses)
			}
		})
	}
}

// The conversion key result lists the one-click payments epic and the
// checkout-v2 label as initiatives, with their progress and events; the
// investment balance is on the page, in the series and bound by the bug
// work key result.
func TestDemoShowsInitiativesAndTheInvestmentBalance(t *testing.T) {
	t.Parallel()
	s := startDemo(t, nil)
	krs := waitForValues(t, s, 60*time.Second)
	var bugWork *apiKR
	for i := range krs {
		if krs[i].ID == "predictable-delivery/bug-work" {
			bugWork = &krs[i]
		}
	}
	if bugWork == nil || bugWork.Source != "jira" || *bugWork.Value <= 0 || *bugWork.Value >= 1 {
		t.Fatalf("bug work key result %+v: want a share strictly between 0 and 1", bugWork)
	}
	var kr struct {
		Initiatives []struct {
			ID       string   `json:"id"`
			Kind     string   `json:"kind"`
			Done     *float64 `json:"done"`
			Total    *float64 `json:"total"`
			Progress *float64 `json:"progress"`
			Deployed *int     `json:"deployed"`
			Events   int      `json:"events"`
			Error    string   `json:"error"`
		} `json:"initiatives"`
	}
	// The initiatives are measured after each poll: wait for them.
	deadline := time.Now().Add(30 * time.Second)
	for {
		getJSON(t, s.URL+"/api/v1/objectives/checkout-conversion/key_results/conversion", &kr)
		if len(kr.Initiatives) == 2 && kr.Initiatives[0].Progress != nil && kr.Initiatives[1].Progress != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("initiatives not measured: %+v", kr.Initiatives)
		}
		time.Sleep(100 * time.Millisecond)
	}
	epic, label := kr.Initiatives[0], kr.Initiatives[1]
	if epic.Kind != "jira_epic" || *epic.Total < 2 || *epic.Done < 1 || *epic.Done >= *epic.Total || epic.Events != int(*epic.Done) || epic.Error != "" {
		t.Errorf("epic initiative %+v: want some but not all children done, one event per done child", epic)
	}
	if label.Kind != "github_label" || *label.Done < 5 || label.Deployed == nil || *label.Deployed < 1 || label.Events <= int(*label.Done) {
		t.Errorf("label initiative %+v: want merged and deployed pull requests, with merge and deployment events", label)
	}
	var ann struct {
		Annotations []struct {
			Time int64    `json:"time"`
			Kind string   `json:"kind"`
			Tags []string `json:"tags"`
		} `json:"annotations"`
	}
	getJSON(t, s.URL+"/api/v1/annotations?objective=checkout-conversion&key_result=conversion", &ann)
	kinds := map[string]int{}
	for i, a := range ann.Annotations {
		kinds[a.Kind]++
		if i > 0 && a.Time < ann.Annotations[i-1].Time {
			t.Fatalf("annotations out of order at %d", i)
		}
	}
	if kinds["issue_done"] != int(*epic.Done) || kinds["pr_merged"] != int(*label.Done) || kinds["deployment"] < 1 {
		t.Errorf("annotations by kind %v", kinds)
	}
	resp, err := http.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`okr_initiative_progress_ratio{initiative="label:checkout-v2",key_result="conversion",objective="checkout-conversion"} `,
		`okr_initiative_info{by="count",initiative="` + "label:checkout-v2" + `",key_result="conversion",kind="github_label",objective="checkout-conversion",source="github",title="Checkout v2 redesign"} 1`,
		`okrd_jira_investment_share_ratio{category="bugs",scope="all",source="jira",team="",window="28d"} `,
		`okrd_github_investment_share_ratio{category="maintenance",repo="all",source="github",window="28d"} `,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	resp, err = http.Get(s.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`<h2 id="investment">Investment balance</h2>`, `Source jira: the share`, `Source github: the share`, `<li>One-click payments: `} {
		if !strings.Contains(string(page), want) {
			t.Errorf("the page lacks %s", want)
		}
	}
}
