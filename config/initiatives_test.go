package config

import (
	"errors"
	"strings"
	"testing"
)

// trackerSpec is the spec of the "tracker" and "coder" test source types,
// which track initiatives the way jira and github sources do.
type trackerSpec struct {
	URL        string      `toml:"url"`
	Investment *Investment `toml:"investment"`
}

func (s *trackerSpec) Validate() error {
	return ValidateInvestment(s.Investment, true, "issue_types", "labels")
}

func registerTrackers(t *testing.T) {
	t.Helper()
	registerForTest(t, "tracker", SourceType{
		NewSpec:         func() any { return &trackerSpec{} },
		InitiativeKinds: []string{InitiativeJiraEpic, InitiativeJQL},
		ValidateInitiative: func(_ any, in *Initiative) error {
			if in.Kind == InitiativeJQL && strings.Contains(strings.ToLower(in.JQL), "order by") {
				return FieldErrorf("jql", "must not contain ORDER BY")
			}
			return nil
		},
	})
	registerForTest(t, "coder", SourceType{
		NewSpec:         func() any { return &trackerSpec{} },
		InitiativeKinds: []string{InitiativeGitHubLabel, InitiativeGitHubMilestone},
	})
}

func TestInitiativesAreResolvedWithDefaults(t *testing.T) {
	registerTrackers(t)
	doc := "[sources.j]\ntype = \"tracker\"\n[sources.g]\ntype = \"coder\"\n" + krDoc(
		`baseline = 1`, `target = 2`,
		`initiatives = [{ jira_epic = "PAY-12" }, { jql = "project = PAY AND labels = checkout", by = "points" },`,
		`  { github_label = "checkout-v2" }, { github_milestone = "v2.0", id = "ms", title = "Version 2" }]`)
	cfg, err := Parse([]byte(doc), "okrd.toml")
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.Objectives[0].KeyResults[0].Initiatives
	want := []Initiative{
		{ID: "PAY-12", Title: "Epic PAY-12", Source: "j", JiraEpic: "PAY-12", By: "count", Kind: InitiativeJiraEpic},
		{ID: "jql-2", Title: "Issues matching project = PAY AND labels = checkout", Source: "j", JQL: "project = PAY AND labels = checkout", By: "points", Kind: InitiativeJQL},
		{ID: "label:checkout-v2", Title: "Pull requests labelled checkout-v2", Source: "g", GitHubLabel: "checkout-v2", By: "count", Kind: InitiativeGitHubLabel},
		{ID: "ms", Title: "Version 2", Source: "g", GitHubMilestone: "v2.0", By: "count", Kind: InitiativeGitHubMilestone},
	}
	if len(got) != len(want) {
		t.Fatalf("%d initiatives, want %d", len(got), len(want))
	}
	for i := range want {
		g := *got[i]
		g.Repositories = nil
		if g.ID != want[i].ID || g.Title != want[i].Title || g.Source != want[i].Source || g.By != want[i].By || g.Kind != want[i].Kind || g.Name() != want[i].Name() {
			t.Errorf("initiatives[%d] = %+v, want %+v", i, g, want[i])
		}
	}
}

func TestInitiativeErrorsNameTheField(t *testing.T) {
	registerTrackers(t)
	twoTrackers := "[sources.j]\ntype = \"tracker\"\n[sources.k]\ntype = \"tracker\"\n[sources.g]\ntype = \"coder\"\n"
	for _, tc := range []struct {
		name, doc string
		want      []string
	}{
		{"no work named", twoTrackers + krDoc(`baseline = 1`, `target = 2`, `initiatives = [{ title = "x" }]`),
			[]string{`okrd.toml:16: objectives[0].key_results[0].initiatives[0]: name the work with one of jira_epic, jql, github_label, github_milestone`}},
		{"two kinds at once", twoTrackers + krDoc(`baseline = 1`, `target = 2`, `initiatives = [{ jira_epic = "PAY-1", github_label = "x", source = "g" }]`),
			[]string{`okrd.toml:16: objectives[0].key_results[0].initiatives[0].github_label: cannot be combined with jira_epic: an initiative names one piece of work (list several initiatives instead)`}},
		{"an ambiguous default source", twoTrackers + krDoc(`baseline = 1`, `target = 2`, `initiatives = [{ jira_epic = "PAY-1" }]`),
			[]string{`okrd.toml:16: objectives[0].key_results[0].initiatives[0].source: required: several sources can track jira_epic initiatives (j, k); name one`}},
		{"a source of the wrong type", twoTrackers + krDoc(`baseline = 1`, `target = 2`, `initiatives = [{ jira_epic = "PAY-1", source = "g" }]`),
			[]string{`okrd.toml:16: objectives[0].key_results[0].initiatives[0].source: source "g" is a coder source, which does not track jira_epic initiatives (a tracker source does)`}},
		{"an unknown source", twoTrackers + krDoc(`baseline = 1`, `target = 2`, `initiatives = [{ jira_epic = "PAY-1", source = "nope" }]`),
			[]string{`okrd.toml:16: objectives[0].key_results[0].initiatives[0].source: unknown source "nope"; configured sources: g, j, k`}},
		{"no source tracks the kind", krDoc(`baseline = 1`, `target = 2`, `initiatives = [{ github_label = "x" }]`),
			[]string{`okrd.toml:10: objectives[0].key_results[0].initiatives[0].github_label: no configured source tracks github_label initiatives (a coder source does)`}},
		{"a bad by and repositories on a jira kind", twoTrackers + krDoc(`baseline = 1`, `target = 2`,
			`[[objectives.key_results.initiatives]]`, `jira_epic = "PAY-1"`, `source = "j"`, `by = "hours"`, `repositories = ["a/b"]`),
			[]string{
				`okrd.toml:19: objectives[0].key_results[0].initiatives[0].by: must be "count" or "points", not "hours"`,
				`okrd.toml:20: objectives[0].key_results[0].initiatives[0].repositories: applies only to github_label and github_milestone initiatives`,
			}},
		{"duplicate ids", twoTrackers + krDoc(`baseline = 1`, `target = 2`, `initiatives = [{ github_label = "a", id = "x" }, { github_milestone = "b", id = "x" }]`),
			[]string{`okrd.toml:16: objectives[0].key_results[0].initiatives[1].id: duplicate initiative id "x" in this key result (initiatives[0] has it; set id to tell them apart)`}},
		{"the source type's own check", twoTrackers + krDoc(`baseline = 1`, `target = 2`, `initiatives = [{ jql = "project = PAY ORDER BY key", source = "j" }]`),
			[]string{`okrd.toml:16: objectives[0].key_results[0].initiatives[0].jql: must not contain ORDER BY`}},
		{"an unknown key", twoTrackers + krDoc(`baseline = 1`, `target = 2`, `initiatives = [{ jira_epci = "PAY-1" }]`),
			nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc), "okrd.toml")
			got := errorLines(t, err)
			if tc.want == nil {
				// Only that the misspelt key is refused, with a suggestion.
				if len(got) == 0 || !strings.Contains(strings.Join(got, "\n"), "initiatives[0].jira_epci") {
					t.Fatalf("errors %q do not name the unknown key", got)
				}
				return
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestTooManyInitiativesAreRefused(t *testing.T) {
	registerTrackers(t)
	var list []string
	for i := 0; i <= MaxInitiatives; i++ {
		list = append(list, `{ github_label = "l`+strings.Repeat("x", i)+`" }`)
	}
	doc := "[sources.g]\ntype = \"coder\"\n" + krDoc(`baseline = 1`, `target = 2`, `initiatives = [`+strings.Join(list, ", ")+`]`)
	_, err := Parse([]byte(doc), "okrd.toml")
	if got := strings.Join(errorLines(t, err), "\n"); !strings.Contains(got, "initiatives: at most 20 initiatives per key result, not 21") {
		t.Errorf("errors: %s", got)
	}
}

func TestInvestmentErrorsNameTheField(t *testing.T) {
	registerTrackers(t)
	doc := "[sources.j]\ntype = \"tracker\"\n" +
		"[sources.j.investment]\nby = \"hours\"\ncategories = [{ name = \"Bugs\", issue_types = [\"Bug\"] }, { name = \"other\", labels = [\"x\"] },\n" +
		"  { name = \"new\", epics = [\"PAY-1\"] }, { name = \"new\", labels = [\" \"] }, { name = \"empty\" }]\n" + okObjective
	_, err := Parse([]byte(doc), "okrd.toml")
	want := []string{
		`okrd.toml:4: sources.j.investment.by: must be "count" or "points", not "hours"`,
		`okrd.toml:5: sources.j.investment.categories[0].name: must match ^[a-z0-9][a-z0-9_-]*$ (it becomes a label value), not "Bugs"`,
		`okrd.toml:5: sources.j.investment.categories[1].name: "other" is the category of the work no category matches; name this one differently`,
		`okrd.toml:6: sources.j.investment.categories[2].epics: does not apply to this source (it matches by issue_types, labels)`,
		`okrd.toml:6: sources.j.investment.categories[3].name: duplicate category "new" (categories[2] has it)`,
		`okrd.toml:6: sources.j.investment.categories[3].labels[0]: must not be blank`,
		`okrd.toml:6: sources.j.investment.categories[4]: match some work: set issue_types or labels`,
	}
	if got := errorLines(t, err); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestInvestmentCategoryIsTheFirstMatch(t *testing.T) {
	inv := &Investment{Categories: []*InvestmentCategory{
		{Name: "bugs", IssueTypes: []string{"Bug"}},
		{Name: "maintenance", Labels: []string{"tech-debt"}},
		{Name: "new", Epics: []string{"PAY-1"}},
	}}
	for _, tc := range []struct {
		typ    string
		labels []string
		epic   string
		want   string
	}{
		{"bug", []string{"tech-debt"}, "PAY-1", "bugs"}, // first match wins, case-insensitively
		{"Story", []string{"x", "Tech-Debt"}, "PAY-1", "maintenance"},
		{"Story", nil, "pay-1", "new"},
		{"Story", nil, "", "other"},
		{"", nil, "", "other"},
	} {
		if got := inv.Category(tc.typ, tc.labels, tc.epic); got != tc.want {
			t.Errorf("Category(%q, %q, %q) = %q, want %q", tc.typ, tc.labels, tc.epic, got, tc.want)
		}
	}
	if got := strings.Join(inv.CategoryNames(), ","); got != "bugs,maintenance,new,other" {
		t.Errorf("CategoryNames = %s", got)
	}
}

func TestACategoryOnAManualKeyResultIsRefused(t *testing.T) {
	_, err := Parse([]byte(krDoc(`category = "bugs"`, `baseline = 1`, `target = 2`)), "okrd.toml")
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 1 || !strings.Contains(errs[0].Error(), "key_results[0].category: applies only to a key result with a source") {
		t.Errorf("err = %v", err)
	}
}
