package demo

import (
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestDemoHasACompanyObjectiveRollingUpTwoTeamObjectivesAndSeededConfidences(t *testing.T) {
	t.Parallel()
	s := startDemo(t, nil)
	waitForValues(t, s, 60*time.Second)

	type conf struct {
		Value    int    `json:"value"`
		Level    string `json:"level"`
		WeekHigh int    `json:"week_high"`
		Author   string `json:"author"`
	}
	type obj struct {
		ID               string  `json:"id"`
		Progress         float64 `json:"progress"`
		ExpectedProgress float64 `json:"expected_progress"`
		Status           string  `json:"status"`
		ProgressFrom     string  `json:"progress_from"`
		KeyResults       []struct {
			ID         string `json:"id"`
			Confidence *conf  `json:"confidence"`
		} `json:"key_results"`
		ChildObjectives []obj `json:"child_objectives"`
	}
	var tree struct{ Objectives []obj }
	getJSON(t, s.URL+"/api/v1/objectives?tree=1", &tree)
	var company *obj
	for i := range tree.Objectives {
		if tree.Objectives[i].ID == "company-growth" {
			company = &tree.Objectives[i]
		}
	}
	if company == nil || len(company.ChildObjectives) != 2 || company.ProgressFrom != "children" {
		t.Fatalf("tree roots %+v: want company-growth rolling up two children", tree.Objectives)
	}
	// checkout-conversion weighs 2, happy-shoppers 1.
	w := map[string]float64{"checkout-conversion": 2, "happy-shoppers": 1}
	var p, e float64
	for _, c := range company.ChildObjectives {
		p += w[c.ID] * c.Progress
		e += w[c.ID] * c.ExpectedProgress
	}
	if math.Abs(company.Progress-p/3) > 1e-9 || math.Abs(company.ExpectedProgress-e/3) > 1e-9 {
		t.Errorf("company progress %v expected %v, want the weighted means %v and %v", company.Progress, company.ExpectedProgress, p/3, e/3)
	}
	confs := map[string]*conf{}
	var walk func(o obj)
	walk = func(o obj) {
		for _, kr := range o.KeyResults {
			confs[o.ID+"/"+kr.ID] = kr.Confidence
		}
		for _, c := range o.ChildObjectives {
			walk(c)
		}
	}
	for _, o := range tree.Objectives {
		walk(o)
	}
	if c := confs["happy-shoppers/nps"]; c == nil || c.Value != 4 || c.WeekHigh < 7 || c.Author != "maria" {
		t.Errorf("nps confidence %+v, want 4 after 7 (or 8) within the week, by maria", c)
	}
	if c := confs["checkout-conversion/activation"]; c == nil || c.Value != 9 || c.Level != "high" {
		t.Errorf("activation confidence %+v, want 9 (high)", c)
	}
	if c := confs["ship-faster/lead-time"]; c == nil || c.Value != 6 {
		t.Errorf("lead-time confidence %+v, want 6", c)
	}
	if c := confs["ship-faster/deploy-frequency"]; c != nil {
		t.Errorf("deploy-frequency has a confidence %+v, want none", c)
	}
	// The page shows the tree.
	resp, body := getPage(t, s.URL+"/")
	if resp != 200 || !strings.Contains(body, `<section class="objective depth depth-1" aria-labelledby="obj-happy-shoppers">`) ||
		!strings.Contains(body, `Rolls up <a href="./objectives/checkout-conversion">`) {
		t.Errorf("the page does not show the company objective's tree")
	}
}

func getPage(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}
