package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
)

// trackerSource is a source that tracks jira_epic initiatives: each epic
// has as many issues done as its key's number, of ten.
type trackerSource struct{ fakeSource }

func (s *trackerSource) Initiatives(_ context.Context, reqs []collectors.InitiativeRequest, now time.Time) []collectors.InitiativeReport {
	out := make([]collectors.InitiativeReport, len(reqs))
	for i, r := range reqs {
		rep := collectors.NewReport(r, now)
		rep.Total, rep.HasValue = 10, true
		switch r.Initiative.JiraEpic {
		case "PAY-3":
			rep.Done = 3
			rep.SetEvents([]collectors.Event{{At: fixedNow.Add(-time.Hour), Kind: collectors.EventIssueDone, Ref: "PAY-31", Title: "PAY-31 done"}})
		case "PAY-7":
			rep.Done = 7
		default:
			rep.HasValue, rep.Err = false, "no such epic"
		}
		out[i] = rep
	}
	return out
}

func init() {
	config.RegisterSourceType("tracker", config.SourceType{NewSpec: func() any { return &fakeSpec{} }, InitiativeKinds: []string{config.InitiativeJiraEpic}})
	collectors.Register("tracker", func(src *config.Source, deps collectors.Deps) (collectors.Source, error) {
		return &trackerSource{fakeSource{name: src.Name, spec: src.Spec.(*fakeSpec), st: deps.Store}}, nil
	})
}

const trackerConfig = `
[storage]
driver = "sqlite"
dsn = "{{DB}}"

[sources.work]
type = "tracker"

[[objectives]]
id = "grow"
title = "Grow the product"
period = "2026-Q4"

  [[objectives.key_results]]
  id = "nps"
  title = "NPS from 31 to 40"
  baseline = 31
  target = 40
  initiatives = [{ jira_epic = "PAY-3", title = "Surveys" }, { jira_epic = "PAY-7" }, { jira_epic = "PAY-9" }]
`

// After a poll, the initiatives of the source's key results are reported,
// exported and stored; another process on the same store serves the
// same reports without polling.
func TestInitiativesAreTrackedAfterAPollAndFollowed(t *testing.T) {
	dir := t.TempDir()
	path := writeConfig(t, dir, trackerConfig)
	logger, _ := testLogger(t)
	a, err := New(context.Background(), Options{ConfigFile: path, Logger: logger, Now: fixedClock, ShutdownTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.SyncOnce(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	check := func(who string, a *App) {
		t.Helper()
		got := a.Initiatives("grow", "nps")
		if len(got) != 3 {
			t.Fatalf("%s: %d reports", who, len(got))
		}
		if r := got[0]; r.Title != "Surveys" || r.Done != 3 || r.Total != 10 || len(r.Events) != 1 || r.Events[0].Ref != "PAY-31" || r.Source != "work" {
			t.Errorf("%s: PAY-3 = %+v", who, r)
		}
		if r := got[1]; r.Initiative != "PAY-7" || r.Title != "Epic PAY-7" || r.Done != 7 {
			t.Errorf("%s: PAY-7 = %+v", who, r)
		}
		if r := got[2]; r.HasValue || r.Err != "no such epic" {
			t.Errorf("%s: PAY-9 = %+v", who, r)
		}
		want := `
# HELP okr_initiative_progress_ratio Done over all work of a key result's initiative: issues (or story points) done, or pull requests merged (absent without work).
# TYPE okr_initiative_progress_ratio gauge
okr_initiative_progress_ratio{initiative="PAY-3",key_result="nps",objective="grow"} 0.3
okr_initiative_progress_ratio{initiative="PAY-7",key_result="nps",objective="grow"} 0.7
# HELP okr_initiative_total All work of the initiative: issues (or story points), or open and merged pull requests.
# TYPE okr_initiative_total gauge
okr_initiative_total{initiative="PAY-3",key_result="nps",objective="grow"} 10
okr_initiative_total{initiative="PAY-7",key_result="nps",objective="grow"} 10
`
		if err := testutil.GatherAndCompare(a.Registry(), strings.NewReader(want), "okr_initiative_progress_ratio", "okr_initiative_total"); err != nil {
			t.Errorf("%s: %v", who, err)
		}
		if n, err := testutil.GatherAndCount(a.Registry(), "okr_initiative_info"); err != nil || n != 3 {
			t.Errorf("%s: %d okr_initiative_info series (%v), want 3", who, n, err)
		}
	}
	check("after the sync", a)

	// A second process reads what the first stored (SyncOnce closed the
	// store, and with it the daemon lock).
	b, err := New(context.Background(), Options{ConfigFile: path, Logger: logger, Now: fixedClock, ShutdownTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer b.store.Close()
	if r := b.Initiatives("grow", "nps"); len(r) != 3 || r[0].HasValue {
		t.Fatalf("before following: %+v, want three reports without values", r)
	}
	if err := b.followInitiatives(context.Background()); err != nil {
		t.Fatal(err)
	}
	check("following", b)

	// A key result without initiatives, an unknown one: none.
	if r := b.Initiatives("grow", "nope"); r != nil {
		t.Errorf("unknown key result: %+v", r)
	}
}
