package github

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
	mg "github.com/okrd/okrd/metrics/github"
	"github.com/okrd/okrd/sandbox/githubfake"
	"github.com/okrd/okrd/store"
)

// historyData is two repositories with four months of generated history
// (drafts marked ready and converted back among them), plus what generated
// data lacks: deployments that failed and were retried, one that failed
// and was marked inactive, and an incident that opens the second a
// deployment succeeds.
func historyData(d *githubfake.Data) {
	d.Generate(githubfake.GenOptions{Owner: "acme", Repos: 2, PullRequests: 90, Deployments: 40, Incidents: 10, Days: 120, Now: testNow, Seed: 11})
	st := func(state string, at time.Time) githubfake.DeploymentStatus {
		return githubfake.DeploymentStatus{State: state, CreatedAt: at}
	}
	r := d.Repo("acme/svc-00")
	for _, at := range []time.Time{tv("2026-01-12T10:00:00Z"), tv("2026-02-03T16:20:00Z"), tv("2026-02-27T09:00:00Z")} {
		r.Deployments = append(r.Deployments, &githubfake.Deployment{Environment: "production", CreatedAt: at.Add(-time.Minute),
			Statuses: []githubfake.DeploymentStatus{st("failure", at), st("in_progress", at.Add(time.Hour)), st("success", at.Add(90*time.Minute))}})
	}
	r.Deployments = append(r.Deployments, &githubfake.Deployment{Environment: "production", CreatedAt: tv("2026-02-10T08:00:00Z"),
		Statuses: []githubfake.DeploymentStatus{st("error", tv("2026-02-10T08:05:00Z")), st("inactive", tv("2026-02-12T08:00:00Z"))}})
	r.Issues = append(r.Issues, &githubfake.Issue{Number: 9000, Labels: []string{"incident"}, CreatedAt: tv("2026-02-03T17:50:00Z"),
		ClosedAt: tp("2026-02-04T01:00:00Z")})
}

// historyBindings are every metric of the source, for each repository and
// the whole source, over 7, 28 and 90 days and the period (2026-Q1), with
// the default quantile and p85 for distributions.
// historyInvestment is the investment balance of the history tests: the
// generated pull requests' bug and tech-debt labels.
func historyInvestment() *config.Investment {
	return &config.Investment{By: "count", Categories: []*config.InvestmentCategory{
		{Name: "bugs", Labels: []string{"bug"}}, {Name: "maintenance", Labels: []string{"TECH-DEBT"}}}}
}

func historyBindings() []collectors.Binding {
	var bs []collectors.Binding
	for _, m := range mg.Metrics {
		for _, scope := range []string{"", "acme/svc-00", "acme/svc-01"} {
			for _, w := range []string{"7d", "28d", "90d", "period"} {
				if m.Name == mg.MetricInvestmentShare {
					for _, cat := range []string{"bugs", "maintenance", "other"} {
						b := binding(m.Name, scope, w, nil)
						b.KeyResult.Category = cat
						bs = append(bs, b)
					}
					continue
				}
				bs = append(bs, binding(m.Name, scope, w, nil))
				if m.Distribution {
					bs = append(bs, binding(m.Name, scope, w, q(0.85)))
				}
			}
		}
	}
	return bs
}

func historyRequests(bs []collectors.Binding, ats []time.Time) []collectors.HistoryRequest {
	reqs := make([]collectors.HistoryRequest, len(bs))
	for i, b := range bs {
		reqs[i] = collectors.HistoryRequest{Binding: b, At: ats}
	}
	return reqs
}

func describe(b collectors.Binding) string {
	kr := b.KeyResult
	s := fmt.Sprintf("%s of %q over %s", kr.Metric, kr.Scope, kr.Window)
	if kr.Quantile != nil {
		s += fmt.Sprintf(" at q %v", *kr.Quantile)
	}
	return s
}

func TestHistoryIsMeasureAtEachInstant(t *testing.T) {
	e := newEnv(t)
	e.fake.Update(historyData)
	e.spec.Repos = []string{"acme/svc-00", "acme/svc-01"}
	e.spec.Investment = historyInvestment()
	e.start()
	e.mustPoll()

	// Every day at midnight from Nov 2025 to the sync, and instants at
	// which a retried deployment is failed, retried, and succeeded.
	var ats []time.Time
	for at := tv("2025-11-01T00:00:00Z"); !at.After(testNow); at = at.Add(24 * time.Hour) {
		ats = append(ats, at)
	}
	ats = append(ats, tv("2026-02-03T16:50:00Z"), tv("2026-02-03T17:30:00Z"), tv("2026-02-03T17:50:00Z"), tv("2026-02-03T17:50:01Z"))
	slices.SortFunc(ats, func(a, b time.Time) int { return a.Compare(b) })
	bs := historyBindings()
	hist := e.src.History(context.Background(), historyRequests(bs, ats))
	values := 0
	for j, at := range ats {
		ms := e.src.Measure(context.Background(), bs, at)
		for i, b := range bs {
			h, m := hist[i][j], ms[i]
			if m.Err != nil || h.Err != nil {
				t.Fatalf("%s at %v: %v, %v", describe(b), at, m.Err, h.Err)
			}
			if h.OK != m.OK || h.Value != m.Value {
				t.Fatalf("%s at %v: history %v (ok %v), Measure %v (ok %v)", describe(b), at, h.Value, h.OK, m.Value, m.OK)
			}
			if h.OK {
				values++
			}
		}
	}
	if values < len(bs)*len(ats)/2 {
		t.Fatalf("only %d of %d values exist", values, len(bs)*len(ats))
	}
	// The retried deployment of Feb 3 is a failed deployment at 16:50,
	// in progress (not counted) at 17:30, and a success from 17:50.
	at := func(s string) int { return slices.IndexFunc(ats, func(a time.Time) bool { return a.Equal(tv(s)) }) }
	failed := func(j int) float64 {
		return e.src.History(context.Background(), []collectors.HistoryRequest{{Binding: binding("change_failure_rate", "acme/svc-00", "7d", nil), At: ats[j : j+1]}})[0][0].Value
	}
	if a, b := failed(at("2026-02-03T16:50:00Z")), failed(at("2026-02-03T17:30:00Z")); !(a > b) {
		t.Errorf("change failure rate while failed %v, while retried %v: the failure should count only while it stood", a, b)
	}
}

// dataAsOf is the fake's data as GitHub held it at t: what was created
// after t does not exist, what closed, merged, was reviewed, was marked
// ready or got a status after t had not yet.
func dataAsOf(fill func(*githubfake.Data), t time.Time) func(*githubfake.Data) {
	after := func(p *time.Time) bool { return p != nil && p.After(t) }
	return func(d *githubfake.Data) {
		fill(d)
		for _, r := range d.Repos {
			var prs []*githubfake.PullRequest
			for _, p := range r.PullRequests {
				if p.CreatedAt.After(t) {
					continue
				}
				if after(p.MergedAt) {
					p.MergedAt, p.ClosedAt, p.State = nil, nil, "open"
				}
				if after(p.ClosedAt) {
					p.ClosedAt, p.State = nil, "open"
				}
				p.Reviews = slices.DeleteFunc(p.Reviews, func(rv githubfake.Review) bool { return after(rv.SubmittedAt) })
				// The draft state at creation, then the changes made by t.
				draft := p.Draft != (len(p.DraftEvents)%2 == 1)
				p.DraftEvents = slices.DeleteFunc(p.DraftEvents, func(ev githubfake.DraftEvent) bool { return ev.At.After(t) })
				for _, ev := range p.DraftEvents {
					draft = ev.Draft
				}
				p.Draft = draft
				p.UpdatedAt = time.Time{}
				prs = append(prs, p)
			}
			r.PullRequests = prs
			var deps []*githubfake.Deployment
			for _, dep := range r.Deployments {
				if dep.CreatedAt.After(t) {
					continue
				}
				dep.Statuses = slices.DeleteFunc(dep.Statuses, func(s githubfake.DeploymentStatus) bool { return s.CreatedAt.After(t) })
				dep.UpdatedAt = time.Time{}
				deps = append(deps, dep)
			}
			r.Deployments = deps
			var rels []*githubfake.Release
			for _, rel := range r.Releases {
				if rel.CreatedAt.After(t) {
					continue
				}
				if after(rel.PublishedAt) {
					rel.PublishedAt, rel.Draft = nil, true
				}
				rels = append(rels, rel)
			}
			r.Releases = rels
			for _, wf := range r.Workflows {
				var runs []*githubfake.WorkflowRun
				for _, run := range wf.Runs {
					if run.CreatedAt.After(t) {
						continue
					}
					if run.UpdatedAt.After(t) {
						run.Status, run.Conclusion, run.UpdatedAt = "in_progress", "", run.CreatedAt
					}
					runs = append(runs, run)
				}
				wf.Runs = runs
			}
			var issues []*githubfake.Issue
			for _, is := range r.Issues {
				if is.CreatedAt.After(t) {
					continue
				}
				if after(is.ClosedAt) {
					is.ClosedAt, is.State = nil, "open"
				}
				is.UpdatedAt = time.Time{}
				issues = append(issues, is)
			}
			r.Issues = issues
		}
	}
}

func TestHistoryIsALiveMeasurementOverTheRecordsThen(t *testing.T) {
	ats := []time.Time{tv("2025-12-15T00:00:00Z"), tv("2026-01-12T10:30:00Z"), tv("2026-02-01T00:00:00Z"),
		tv("2026-02-03T17:00:00Z"), tv("2026-02-11T00:00:00Z"), tv("2026-02-20T12:34:56Z"), testNow}
	bs := historyBindings()
	cases := []struct {
		name      string
		configure func(*Spec)
		jira      bool // the incidents come from a jira source's records
	}{
		{"deployments and each repository's incidents", func(*Spec) {}, false},
		{"releases and the incidents of one repository", func(s *Spec) { s.Deployments, s.IncidentsRepo = SignalReleases, "acme/svc-01" }, false},
		{"workflow runs", func(s *Spec) { s.Deployments, s.Workflow = SignalWorkflowRuns, "deploy.yml" }, false},
		{"deployments and the incidents of a jira source", func(s *Spec) { s.IncidentsSource = "jira" }, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			full := newEnv(t)
			full.fake.Update(historyData)
			full.spec.Repos = []string{"acme/svc-00", "acme/svc-01"}
			c.configure(full.spec)
			full.spec.Investment = historyInvestment()
			if c.jira {
				putJiraIncidents(t, full.st, testNow)
			}
			full.start()
			full.mustPoll()
			hist := full.src.History(context.Background(), historyRequests(bs, ats))
			values := 0
			for j, at := range ats {
				// A source that synced at t, from GitHub as it was then.
				live := newEnv(t)
				live.clock.Set(at)
				live.fake.Update(dataAsOf(historyData, at))
				live.spec.Repos = full.spec.Repos
				c.configure(live.spec)
				live.spec.Investment = historyInvestment()
				if c.jira {
					putJiraIncidents(t, live.st, at)
				}
				live.start()
				live.mustPoll()
				ms := live.src.Measure(context.Background(), bs, at)
				for i, b := range bs {
					h, m := hist[i][j], ms[i]
					if m.Err != nil || h.Err != nil {
						t.Fatalf("%s at %v: %v, %v", describe(b), at, m.Err, h.Err)
					}
					if h.OK != m.OK || h.Value != m.Value {
						t.Fatalf("%s at %v: filled in %v (ok %v), measured live then %v (ok %v)", describe(b), at, h.Value, h.OK, m.Value, m.OK)
					}
					if h.OK {
						values++
					}
				}
			}
			if values < len(bs)*len(ats)/2 {
				t.Fatalf("only %d of %d values exist", values, len(bs)*len(ats))
			}
		})
	}
}

// putJiraIncidents stores the incidents a jira source would have stored
// by t: one every nine days from November on, each resolved after a few
// hours (the last ones still open at t).
func putJiraIncidents(t *testing.T, st store.Store, at time.Time) {
	t.Helper()
	var recs []store.Record
	for i := range 14 {
		in := collectors.Incident{ID: fmt.Sprintf("OPS-%d", i+1), Scope: "OPS",
			OpenedAt: tv("2025-11-02T03:00:00Z").Add(time.Duration(i) * (9*24*time.Hour + 7*time.Hour))}
		if in.OpenedAt.After(at) {
			continue
		}
		if closed := in.OpenedAt.Add(time.Duration(1+i%5) * 3 * time.Hour); !closed.After(at) {
			in.ClosedAt = &closed
		}
		data, _ := json.Marshal(in)
		recs = append(recs, store.Record{Source: "jira", Scope: "OPS", Kind: collectors.IncidentKind, ID: in.ID, Data: data})
	}
	if err := st.Update(context.Background(), func(tx store.Tx) error { return tx.PutRecords(context.Background(), recs...) }); err != nil {
		t.Fatal(err)
	}
}

func TestHistoryHasNoValueBeforeTheFirstSyncFinished(t *testing.T) {
	e := newEnv(t)
	e.fake.Limits = map[string]int{"graphql": 6, "core": 5000}
	e.fake.Update(func(d *githubfake.Data) {
		d.Generate(githubfake.GenOptions{Owner: "acme", Repos: 1, PullRequests: 250, Deployments: 5, Now: testNow, Days: 90, Seed: 7})
	})
	e.spec.Repos = []string{"acme/svc-00"}
	e.spec.RateLimitReserve = 0
	e.start()
	ats := []time.Time{tv("2026-01-15T00:00:00Z"), tv("2026-02-15T00:00:00Z"), testNow}
	bs := []collectors.Binding{binding("pr_throughput", "acme/svc-00", "28d", nil), binding("open_prs", "", "28d", nil)}
	none := func(when string) {
		t.Helper()
		for i, ms := range e.src.History(context.Background(), historyRequests(bs, ats)) {
			for j, m := range ms {
				if m.OK || m.Err != nil {
					t.Errorf("%s: %s at %v = %v (ok %v, err %v), want no value", when, describe(bs[i]), ats[j], m.Value, m.OK, m.Err)
				}
			}
		}
	}
	none("before any poll")
	// The first sync stops after 200 of 250 pull requests: the records
	// cover no instant yet, though Measure has a (partial) value.
	if err := e.poll(); err == nil {
		t.Fatal("the first poll was not rate limited")
	}
	if m := e.src.Measure(context.Background(), bs[:1], testNow)[0]; !m.OK {
		t.Fatalf("Measure during the first sync = %+v", m)
	}
	none("during the first sync")
	e.clock.advance(time.Hour + 2*time.Second)
	e.mustPoll()
	for i, ms := range e.src.History(context.Background(), historyRequests(bs, ats)) {
		for j, m := range ms {
			if !m.OK {
				t.Errorf("after the first sync: %s at %v has no value", describe(bs[i]), ats[j])
			}
		}
	}
}

func TestDraftHistoryIsCoveredFromTheLastUpdateOfARecordStoredWithoutIt(t *testing.T) {
	e := newEnv(t)
	e.fake.Update(fixture)
	e.spec.Repos = []string{"acme/web", "acme/api"}
	e.start()
	e.mustPoll()
	// Rewrite the pull request records as an okrd that did not read the
	// timelines stored them: no draft history.
	var old []store.Record
	err := e.st.Records(context.Background(), "gh", KindPullRequest, func(r store.Record) error {
		var raw map[string]any
		if err := json.Unmarshal(r.Data, &raw); err != nil {
			return err
		}
		delete(raw, "draft_tracked")
		delete(raw, "draft_changes")
		r.Data, _ = json.Marshal(raw)
		old = append(old, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.Update(context.Background(), func(tx store.Tx) error { return tx.PutRecords(context.Background(), old...) }); err != nil {
		t.Fatal(err)
	}
	e.start()
	e.mustPoll() // nothing changed: the old records stay
	// The latest update of a pull request of web is P5's review on Feb 26
	// (P3 merged Feb 22, P9 Feb 20); api's only one merged Feb 17.
	drafts := func(scope string, ats ...time.Time) []collectors.Measurement {
		return e.src.History(context.Background(), []collectors.HistoryRequest{{Binding: binding("open_draft_prs", scope, "28d", nil), At: ats}})[0]
	}
	ms := drafts("acme/web", tv("2026-02-25T23:59:59Z"), tv("2026-02-26T00:00:00Z"), testNow)
	if ms[0].OK || !ms[1].OK || ms[1].Value != 1 || !ms[2].OK || ms[2].Value != 1 {
		t.Errorf("web's open drafts before, at and after the latest untracked update = %+v", ms)
	}
	if ms := drafts("acme/api", tv("2026-02-16T23:59:59Z"), tv("2026-02-17T00:00:00Z")); ms[0].OK || !ms[1].OK || ms[1].Value != 0 {
		t.Errorf("api's open drafts around its latest untracked update = %+v", ms)
	}
	if ms := drafts("", tv("2026-02-25T00:00:00Z")); ms[0].OK {
		t.Errorf("the whole source's open drafts before web's latest untracked update = %+v", ms)
	}
	// The other metrics do not depend on the draft state.
	if m := e.src.History(context.Background(), []collectors.HistoryRequest{{Binding: binding("open_prs", "acme/web", "28d", nil),
		At: []time.Time{tv("2026-01-15T00:00:00Z")}}})[0][0]; !m.OK || m.Value != 1 {
		t.Errorf("web's open pull requests on Jan 15 (P6) = %+v", m)
	}

	// P5 is marked ready on Feb 28: synced again, its record has its draft
	// history, and web is covered from P3's merge (Feb 22) on.
	e.clock.advance(time.Hour)
	e.fake.Update(func(d *githubfake.Data) {
		for _, p := range d.Repo("acme/web").PullRequests {
			if p.Number == 5 {
				p.SetDraft(false, tv("2026-02-28T12:00:00Z"))
			}
		}
	})
	e.mustPoll()
	ms = drafts("acme/web", tv("2026-02-21T23:59:59Z"), tv("2026-02-22T09:00:00Z"), tv("2026-02-26T00:00:00Z"), tv("2026-02-28T12:00:00Z"))
	want := []collectors.Measurement{{}, {OK: true, Value: 0}, {OK: true, Value: 1}, {OK: true, Value: 0}}
	if !slices.Equal(ms, want) {
		t.Errorf("web's open drafts after P5 was synced again = %+v, want %+v", ms, want)
	}
}

func TestHistoryOfACancelledContextAndAnUnknownMetric(t *testing.T) {
	e := newEnv(t)
	e.fake.Update(fixture)
	e.start()
	e.mustPoll()
	ats := []time.Time{tv("2026-02-01T00:00:00Z"), testNow}
	ms := e.src.History(context.Background(), []collectors.HistoryRequest{{Binding: binding("velocity", "", "28d", nil), At: ats}})[0]
	for _, m := range ms {
		if m.Err == nil || m.OK {
			t.Errorf("unknown metric: %+v", m)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, m := range e.src.History(ctx, historyRequests([]collectors.Binding{binding("open_prs", "", "28d", nil)}, ats))[0] {
		if m.Err != context.Canceled {
			t.Errorf("cancelled: %+v", m)
		}
	}
}

func TestALongTimelineIsReadToItsEnd(t *testing.T) {
	e := newEnv(t)
	e.fake.Update(func(d *githubfake.Data) {
		p := &githubfake.PullRequest{Number: 1, Author: "ann", CreatedAt: tv("2026-02-01T00:00:00Z"), Draft: true}
		// 60 comments by the author, then a review by ben, then the
		// draft marked ready and converted back: items 61 to 63.
		for i := range 60 {
			p.Reviews = append(p.Reviews, githubfake.Review{Author: "ann", State: "COMMENTED", SubmittedAt: tp(fmt.Sprintf("2026-02-01T01:%02d:00Z", i))})
		}
		p.Reviews = append(p.Reviews, githubfake.Review{Author: "ben", State: "APPROVED", SubmittedAt: tp("2026-02-02T00:00:00Z")})
		p.SetDraft(false, tv("2026-02-03T00:00:00Z"))
		p.SetDraft(true, tv("2026-02-04T00:00:00Z"))
		d.AddRepo(&githubfake.Repo{Owner: "acme", Name: "web", PullRequests: []*githubfake.PullRequest{p}})
	})
	e.start()
	e.mustPoll()
	if _, gql := e.requests(); gql != 3 {
		t.Errorf("GraphQL requests = %d, want 3 (pull requests, the rest of one timeline, deployments): %v", gql, e.paths())
	}
	ats := []time.Time{tv("2026-02-02T12:00:00Z"), tv("2026-02-03T12:00:00Z"), tv("2026-02-04T12:00:00Z")}
	ms := e.src.History(context.Background(), historyRequests([]collectors.Binding{binding("open_draft_prs", "acme/web", "28d", nil),
		binding("time_to_first_review", "acme/web", "28d", nil)}, ats))
	if got := []float64{ms[0][0].Value, ms[0][1].Value, ms[0][2].Value}; !slices.Equal(got, []float64{1, 0, 1}) {
		t.Errorf("open drafts on Feb 2, 3, 4 = %v, want 1, 0, 1", got)
	}
	if m := ms[1][2]; !m.OK || m.Value != 86400 {
		t.Errorf("time to first review = %+v, want ben's after a day", m)
	}
}

func TestDraftFlips(t *testing.T) {
	ev := func(at string, draft bool) draftChange { return draftChange{at: tv(at), draft: draft} }
	updated := tv("2026-02-10T00:00:00Z")
	tests := []struct {
		name    string
		changes []draftChange
		isDraft bool
		want    []string
	}{
		{"no change, no flip", nil, true, nil},
		{"opened as a draft and marked ready", []draftChange{ev("2026-02-02T00:00:00Z", false)}, false, []string{"2026-02-02T00:00:00Z"}},
		{"ready, draft again, ready again", []draftChange{ev("2026-02-02T00:00:00Z", false), ev("2026-02-03T00:00:00Z", true),
			ev("2026-02-04T00:00:00Z", false)}, false, []string{"2026-02-02T00:00:00Z", "2026-02-03T00:00:00Z", "2026-02-04T00:00:00Z"}},
		{"a repeated event changes nothing", []draftChange{ev("2026-02-02T00:00:00Z", false), ev("2026-02-03T00:00:00Z", false)}, false,
			[]string{"2026-02-02T00:00:00Z"}},
		{"events out of order are sorted", []draftChange{ev("2026-02-04T00:00:00Z", true), ev("2026-02-02T00:00:00Z", false)}, true,
			[]string{"2026-02-02T00:00:00Z", "2026-02-04T00:00:00Z"}},
		{"a lost last event is taken at the last update", []draftChange{ev("2026-02-02T00:00:00Z", false)}, true,
			[]string{"2026-02-02T00:00:00Z", "2026-02-10T00:00:00Z"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, f := range draftFlips(tc.changes, tc.isDraft, updated) {
				got = append(got, f.Format(time.RFC3339))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("flips = %v, want %v", got, tc.want)
			}
		})
	}
}
