package web

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
)

// deliveryBackend is a fakeBackend with initiatives and an investment
// balance.
type deliveryBackend struct {
	fakeBackend
	reports map[string][]collectors.InitiativeReport // by "objective/key result"
	invest  []collectors.InvestmentReport
}

func (d *deliveryBackend) Initiatives(objective, keyResult string) []collectors.InitiativeReport {
	return d.reports[objective+"/"+keyResult]
}

func (d *deliveryBackend) Investment() []collectors.InvestmentReport { return d.invest }

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// newDeliveryHandler serves bigSnapshot(6) (objectives objective-0 and
// objective-1, key results kr-0 to kr-5) with two initiatives on kr-0 and
// one on kr-3.
func newDeliveryHandler() (*Handler, *deliveryBackend) {
	snap := bigSnapshot(6)
	cfg := &config.Config{Global: config.Global{Location: time.UTC}}
	for _, o := range snap.Objectives {
		cfg.Objectives = append(cfg.Objectives, o.Config)
	}
	kr0, kr3 := cfg.Objectives[0].KeyResults[0], cfg.Objectives[1].KeyResults[0]
	kr0.Initiatives = []*config.Initiative{
		{ID: "PAY-12", Title: "Epic PAY-12", Kind: config.InitiativeJiraEpic, JiraEpic: "PAY-12", Source: "jira", By: "count"},
		{ID: "label:checkout-v2", Title: "Checkout v2", Kind: config.InitiativeGitHubLabel, GitHubLabel: "checkout-v2", Source: "github", By: "count"},
	}
	kr3.Initiatives = []*config.Initiative{{ID: "jql-1", Title: "Refunds", Kind: config.InitiativeJQL, JQL: "labels = refunds", Source: "jira", By: "points"}}
	b := &deliveryBackend{fakeBackend: fakeBackend{cfg: cfg, snap: snap, reg: prometheus.NewRegistry()}, reports: map[string][]collectors.InitiativeReport{
		"objective-0/kr-0": {
			{Objective: "objective-0", KeyResult: "kr-0", Initiative: "PAY-12", Title: "Epic PAY-12", Kind: config.InitiativeJiraEpic, Source: "jira", By: "count",
				Done: 2, Total: 3, HasValue: true, At: benchNow, Events: []collectors.Event{
					{At: at("2026-10-20T10:00:00Z"), Kind: collectors.EventIssueDone, Ref: "PAY-13", Title: "PAY-13 done"},
					{At: at("2026-11-02T09:30:00Z"), Kind: collectors.EventIssueDone, Ref: "PAY-14", Title: "PAY-14 done"},
				}},
			{Objective: "objective-0", KeyResult: "kr-0", Initiative: "label:checkout-v2", Title: "Checkout v2", Kind: config.InitiativeGitHubLabel, Source: "github", By: "count",
				Done: 1, Total: 2, HasValue: true, Deployed: 1, HasDeployed: true, At: benchNow, Events: []collectors.Event{
					{At: at("2026-11-01T12:00:00Z"), Kind: collectors.EventPRMerged, Ref: "acme/web#7", Title: "acme/web#7 merged"},
					{At: at("2026-11-01T15:00:00Z"), Kind: collectors.EventDeployment, Ref: "acme/web#99", Title: "acme/web deployment shipped #7"},
				}},
		},
		"objective-1/kr-3": {
			{Objective: "objective-1", KeyResult: "kr-3", Initiative: "jql-1", Title: "Refunds", Kind: config.InitiativeJQL, Source: "jira", By: "points",
				Err: `jira source "jira": the JQL matches more than 2000 issues`, At: benchNow, Events: []collectors.Event{}},
		},
	}, invest: []collectors.InvestmentReport{
		{Source: "jira", Scope: "all", Window: "28d", By: "count", Total: 10, Shares: []collectors.CategoryShare{
			{Category: "bugs", Throughput: 3, Share: 0.3, HasShare: true}, {Category: "other", Throughput: 7, Share: 0.7, HasShare: true}}},
		{Source: "jira", Scope: "PAY", Window: "28d", By: "count", Total: 0, Shares: []collectors.CategoryShare{{Category: "bugs"}, {Category: "other"}}},
	}}
	return NewHandler(b, slog.New(slog.DiscardHandler)), b
}

func getPath(h http.Handler, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	return rec
}

type annotationsAnswer struct {
	Truncated   bool `json:"truncated"`
	Annotations []struct {
		Time       int64    `json:"time"`
		TimeEnd    int64    `json:"timeEnd"`
		Title      string   `json:"title"`
		Text       string   `json:"text"`
		Tags       []string `json:"tags"`
		Kind       string   `json:"kind"`
		Ref        string   `json:"ref"`
		Objective  string   `json:"objective"`
		KeyResult  string   `json:"key_result"`
		Initiative string   `json:"initiative"`
	} `json:"annotations"`
}

func TestAnnotationsAreTheInitiativesEventsInTime(t *testing.T) {
	h, _ := newDeliveryHandler()
	ms := func(s string) int64 { return at(s).UnixMilli() }
	for _, tc := range []struct {
		name, query string
		want        []string // ref@time in ms
		truncated   bool
	}{
		{"every event, oldest first", "", []string{"PAY-13", "acme/web#7", "acme/web#99", "PAY-14"}, false},
		{"one initiative", "?objective=objective-0&key_result=kr-0&initiative=PAY-12", []string{"PAY-13", "PAY-14"}, false},
		{"Grafana's epoch milliseconds bound both ends, inclusive", "?objective=objective-0&from=" +
			itoa(ms("2026-11-01T12:00:00Z")) + "&to=" + itoa(ms("2026-11-01T15:00:00Z")), []string{"acme/web#7", "acme/web#99"}, false},
		{"RFC 3339 and dates", "?from=2026-11-01&to=2026-11-02T09:30:00Z", []string{"acme/web#7", "acme/web#99", "PAY-14"}, false},
		{"by kind", "?kind=deployment,issue_done", []string{"PAY-13", "acme/web#99", "PAY-14"}, false},
		{"the newest within the limit", "?limit=2", []string{"acme/web#99", "PAY-14"}, true},
		{"an objective without initiatives", "?objective=objective-1&key_result=kr-4", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := getPath(h, "/api/v1/annotations"+tc.query)
			if rec.Code != 200 {
				t.Fatalf("code %d: %s", rec.Code, rec.Body)
			}
			var a annotationsAnswer
			if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, x := range a.Annotations {
				got = append(got, x.Ref)
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") || a.Truncated != tc.truncated {
				t.Errorf("refs %v truncated %v, want %v %v", got, a.Truncated, tc.want, tc.truncated)
			}
		})
	}
	// Without from the range has no start: null, not year 1.
	var raw map[string]any
	if err := json.Unmarshal(getPath(h, "/api/v1/annotations").Body.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	if v, ok := raw["from"]; !ok || v != nil {
		t.Errorf("from without a from parameter = %v (present %v), want null", v, ok)
	}
	if err := json.Unmarshal(getPath(h, "/api/v1/annotations?from=2026-11-01").Body.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	if raw["from"] != "2026-11-01T00:00:00Z" {
		t.Errorf("from = %v, want the parameter's instant", raw["from"])
	}
	// One annotation in full.
	var a annotationsAnswer
	_ = json.Unmarshal(getPath(h, "/api/v1/annotations?kind=deployment").Body.Bytes(), &a)
	if len(a.Annotations) != 1 {
		t.Fatalf("%d deployment annotations", len(a.Annotations))
	}
	x := a.Annotations[0]
	if x.Time != ms("2026-11-01T15:00:00Z") || x.TimeEnd != x.Time || x.Title != "acme/web deployment shipped #7" ||
		x.Text != "Checkout v2: acme/web deployment shipped #7 (Objective title, key result A key result title)" ||
		strings.Join(x.Tags, ",") != "okrd,deployment,objective-0,kr-0,label:checkout-v2" || x.Objective != "objective-0" || x.KeyResult != "kr-0" || x.Initiative != "label:checkout-v2" {
		t.Errorf("annotation %+v", x)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestAnnotationsRefuseBadParametersNamingThem(t *testing.T) {
	h, _ := newDeliveryHandler()
	for _, tc := range []struct{ query, want string }{
		{"?key_result=kr-0", "key_result: needs objective"},
		{"?objective=objective-0&initiative=PAY-12", "initiative: needs objective and key_result"},
		{"?objective=nope", `objective: "nope" does not exist`},
		{"?objective=objective-0&key_result=nope", `key_result: objective "objective-0" has no key result "nope"`},
		{"?objective=objective-0&key_result=kr-0&initiative=nope", `initiative: key result objective-0/kr-0 has no initiative "nope"`},
		{"?from=yesterday", "from: must be epoch milliseconds"},
		{"?to=2026-13-01", "to: must be epoch milliseconds"},
		{"?from=2026-11-02&to=2026-11-01", "to: is before from"},
		{"?kind=merged", `kind: "merged" is not an event kind (issue_done, pr_merged, deployment)`},
		{"?limit=0", `limit: "0" is not a whole number from 1 to 10000`},
		{"?limit=10001", `limit: "10001" is not a whole number from 1 to 10000`},
		{"?dashboard=1", `unknown parameter "dashboard"`},
	} {
		rec := getPath(h, "/api/v1/annotations"+tc.query)
		if rec.Code != 400 || !strings.Contains(errorOf(t, rec), tc.want) {
			t.Errorf("%s: %d %s, want 400 %q", tc.query, rec.Code, rec.Body, tc.want)
		}
	}
	if rec := httptest.NewRecorder(); true {
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/api/v1/annotations", nil))
		if rec.Code != 405 {
			t.Errorf("POST = %d, want 405", rec.Code)
		}
	}
}

func TestKeyResultJSONListsItsInitiatives(t *testing.T) {
	h, _ := newDeliveryHandler()
	var kr struct {
		Initiatives []struct {
			ID        string     `json:"id"`
			Work      string     `json:"work"`
			Done      *float64   `json:"done"`
			Total     *float64   `json:"total"`
			Progress  *float64   `json:"progress"`
			Deployed  *int       `json:"deployed"`
			Events    int        `json:"events"`
			LastEvent *time.Time `json:"last_event"`
			Error     string     `json:"error"`
		} `json:"initiatives"`
	}
	if err := json.Unmarshal(getPath(h, "/api/v1/objectives/objective-0/key_results/kr-0").Body.Bytes(), &kr); err != nil {
		t.Fatal(err)
	}
	if len(kr.Initiatives) != 2 {
		t.Fatalf("%d initiatives", len(kr.Initiatives))
	}
	e, g := kr.Initiatives[0], kr.Initiatives[1]
	if e.ID != "PAY-12" || e.Work != "PAY-12" || *e.Done != 2 || *e.Total != 3 || *e.Progress != 2.0/3 || e.Deployed != nil || e.Events != 2 || !e.LastEvent.Equal(at("2026-11-02T09:30:00Z")) {
		t.Errorf("epic initiative %+v", e)
	}
	if g.Work != "checkout-v2" || *g.Progress != 0.5 || *g.Deployed != 1 {
		t.Errorf("label initiative %+v", g)
	}
	var obj struct {
		KeyResults []struct {
			ID          string `json:"id"`
			Initiatives []struct {
				Progress *float64 `json:"progress"`
				Error    string   `json:"error"`
			} `json:"initiatives"`
		} `json:"key_results"`
	}
	if err := json.Unmarshal(getPath(h, "/api/v1/objectives/objective-1").Body.Bytes(), &obj); err != nil {
		t.Fatal(err)
	}
	if in := obj.KeyResults[0].Initiatives; len(in) != 1 || in[0].Progress != nil || !strings.Contains(in[0].Error, "more than 2000 issues") {
		t.Errorf("kr-3 initiatives %+v", in)
	}
	if in := obj.KeyResults[1].Initiatives; in == nil || len(in) != 0 {
		t.Errorf("a key result without initiatives lists %v, want []", in)
	}
}

func TestThePagesShowInitiativesMarksAndTheInvestmentBalance(t *testing.T) {
	h, _ := newDeliveryHandler()
	page := getPath(h, "/objectives/objective-0/key_results/kr-0").Body.String()
	for _, want := range []string{
		`<h2 id="initiatives-heading">Initiatives</h2>`,
		`<th scope="row">Epic PAY-12</th><td data-label="Work">epic PAY-12 <span class="muted">(jira)</span></td>`,
		`2 of 3 issues done`,
		`1 of 2 pull requests merged, 1 deployed`,
		`<title>Nov 1 15:00: acme/web deployment shipped #7 (Checkout v2)</title>`,
		`class="chart-mark chart-mark-issue_done"`,
		`href="../../../api/v1/annotations?objective=objective-0&amp;key_result=kr-0"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("key result page lacks %s", want)
		}
	}
	if n := strings.Count(page, `<line class="chart-mark `); n != 4+2 { // four ticks, two in the legend
		t.Errorf("%d mark lines, want 4 ticks and 2 in the legend", n)
	}
	index := getPath(h, "/").Body.String()
	for _, want := range []string{
		`<li>Epic PAY-12: <span class="num">67%</span> <span class="muted">(2 of 3 issues done)</span></li>`,
		`<li>Refunds: <span class="error">not measured</span></li>`,
		`<h2 id="investment">Investment balance</h2>`,
		`Source jira: the share of each category of work in the throughput of the last 28 days (10 issues done).`,
		`<th scope="row">bugs</th>`,
		`<span class="num">30%</span>`,
	} {
		if !strings.Contains(index, want) {
			t.Errorf("index lacks %s", want)
		}
	}
	var inv struct {
		Investment []collectors.InvestmentReport `json:"investment"`
	}
	if err := json.Unmarshal(getPath(h, "/api/v1/investment?scope=PAY").Body.Bytes(), &inv); err != nil || len(inv.Investment) != 1 || inv.Investment[0].Shares[0].HasShare {
		t.Errorf("investment of PAY: %+v, %v", inv, err)
	}
	if rec := getPath(h, "/api/v1/investment?source=nope"); rec.Code != 400 || !strings.Contains(errorOf(t, rec), `source: "nope" is not a configured source`) {
		t.Errorf("unknown source: %d %s", rec.Code, rec.Body)
	}
}
