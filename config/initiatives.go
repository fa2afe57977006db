package config

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// MaxInitiatives bounds the initiatives of one key result: each is a few
// series and a search or a scan per poll.
const MaxInitiatives = 20

// MaxInvestmentCategories bounds the categories of an investment balance
// (each is a series per scope and window).
const MaxInvestmentCategories = 12

// initiatives checks a key result's initiatives, resolves the source each
// one names (or the only source that tracks its kind) and sets its Kind,
// ID and Title.
func (v *validator) initiatives(kp string, kr *KeyResult) {
	ip := kp + ".initiatives"
	if len(kr.Initiatives) > MaxInitiatives {
		v.check(ip, "at most %d initiatives per key result, not %d", MaxInitiatives, len(kr.Initiatives))
	}
	seen := map[string]int{}
	for i, in := range kr.Initiatives {
		p := indexPath(ip, i)
		if in == nil {
			continue
		}
		var kinds []string
		for _, k := range InitiativeKinds {
			if in.nameOf(k) != "" {
				kinds = append(kinds, k)
			}
		}
		switch len(kinds) {
		case 0:
			v.check(p, "name the work with one of %s", strings.Join(InitiativeKinds, ", "))
			continue
		case 1:
			in.Kind = kinds[0]
		default:
			v.check(p+"."+kinds[1], "cannot be combined with %s: an initiative names one piece of work (list several initiatives instead)", kinds[0])
			continue
		}
		if strings.TrimSpace(in.Name()) == "" {
			v.check(p+"."+in.Kind, "must not be blank")
		}
		switch in.By {
		case "", "count":
			in.By = "count"
		case "points":
		default:
			v.check(p+".by", "must be \"count\" or \"points\", not %q", in.By)
		}
		if len(in.Repositories) > 0 && in.Kind != InitiativeGitHubLabel && in.Kind != InitiativeGitHubMilestone {
			v.check(p+".repositories", "applies only to github_label and github_milestone initiatives")
		}
		if in.ID == "" {
			in.ID = defaultInitiativeID(in, i)
		} else if msg := initiativeIDProblem(in.ID); msg != "" {
			v.check(p+".id", "%s", msg)
		}
		if first, dup := seen[in.ID]; dup {
			v.check(p+".id", "duplicate initiative id %q in this key result (initiatives[%d] has it; set id to tell them apart)", in.ID, first)
		} else {
			seen[in.ID] = i
		}
		if in.Title == "" {
			in.Title = defaultInitiativeTitle(in)
		}
		v.initiativeSource(p, in)
	}
}

// nameOf returns the value of the initiative's key kind.
func (in *Initiative) nameOf(kind string) string {
	saved := in.Kind
	in.Kind = kind
	n := in.Name()
	in.Kind = saved
	return n
}

func defaultInitiativeID(in *Initiative, i int) string {
	switch in.Kind {
	case InitiativeJiraEpic:
		return strings.TrimSpace(in.JiraEpic)
	case InitiativeGitHubLabel:
		return "label:" + in.GitHubLabel
	case InitiativeGitHubMilestone:
		return "milestone:" + in.GitHubMilestone
	}
	return "jql-" + strconv.Itoa(i+1)
}

func defaultInitiativeTitle(in *Initiative) string {
	switch in.Kind {
	case InitiativeJiraEpic:
		return "Epic " + strings.TrimSpace(in.JiraEpic)
	case InitiativeGitHubLabel:
		return "Pull requests labelled " + in.GitHubLabel
	case InitiativeGitHubMilestone:
		return "Milestone " + in.GitHubMilestone
	}
	return "Issues matching " + in.JQL
}

// initiativeIDProblem says what is wrong with an initiative id, if
// anything: it becomes a label value and a query parameter, so it is kept
// short and printable.
func initiativeIDProblem(id string) string {
	if len(id) > 100 {
		return "must be at most 100 characters long"
	}
	if strings.TrimSpace(id) != id {
		return fmt.Sprintf("must not start or end with a space, not %q", id)
	}
	for _, r := range id {
		if unicode.IsControl(r) {
			return fmt.Sprintf("must not contain control characters, not %q", id)
		}
	}
	return ""
}

// initiativeSource resolves the source of an initiative and lets its type
// check the rest.
func (v *validator) initiativeSource(p string, in *Initiative) {
	if in.Source != "" {
		src, ok := v.cfg.Sources[in.Source]
		if !ok {
			v.check(p+".source", "unknown source %q; %s", in.Source, v.configuredSources())
			return
		}
		st, _ := lookupSourceType(src.Type)
		if !contains(st.InitiativeKinds, in.Kind) {
			v.check(p+".source", "source %q is a %s source, which does not track %s initiatives (%s)", in.Source, src.Type, in.Kind, v.trackers(in.Kind))
			return
		}
	} else {
		var names []string
		for name, src := range v.cfg.Sources {
			if st, ok := lookupSourceType(src.Type); ok && contains(st.InitiativeKinds, in.Kind) {
				names = append(names, name)
			}
		}
		sort.Strings(names)
		switch len(names) {
		case 0:
			v.check(p+"."+in.Kind, "no configured source tracks %s initiatives (%s)", in.Kind, v.trackers(in.Kind))
			return
		case 1:
			in.Source = names[0]
		default:
			v.check(p+".source", "required: several sources can track %s initiatives (%s); name one", in.Kind, strings.Join(names, ", "))
			return
		}
	}
	src := v.cfg.Sources[in.Source]
	st, _ := lookupSourceType(src.Type)
	if st.ValidateInitiative != nil && src.Spec != nil {
		v.report(p, st.ValidateInitiative(src.Spec, in))
	}
}

// trackers names the source types that track an initiative kind.
func (v *validator) trackers(kind string) string {
	var types []string
	for _, typ := range RegisteredSourceTypes() {
		if st, _ := lookupSourceType(typ); contains(st.InitiativeKinds, kind) {
			types = append(types, typ)
		}
	}
	if len(types) == 0 {
		return "no source type does"
	}
	return "a " + strings.Join(types, " or ") + " source does"
}

// ValidateInvestment checks the investment balance of a source spec;
// points says whether the source can weigh its work in story points, and
// keys are the category keys its items have (issue_types, labels, epics).
// Errors name fields under "investment".
func ValidateInvestment(inv *Investment, points bool, keys ...string) error {
	if inv == nil {
		return nil
	}
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, FieldErrorf("investment"+field, format, args...))
	}
	switch inv.By {
	case "", "count":
		inv.By = "count"
	case "points":
		if !points {
			bad(".by", "must be \"count\": this source has no story points")
		}
	default:
		bad(".by", "must be \"count\" or \"points\", not %q", inv.By)
	}
	if len(inv.Categories) == 0 {
		bad(".categories", "name at least one category, like { name = \"bugs\", issue_types = [\"Bug\"] }")
	}
	if len(inv.Categories) > MaxInvestmentCategories {
		bad(".categories", "at most %d categories, not %d", MaxInvestmentCategories, len(inv.Categories))
	}
	seen := map[string]int{}
	for i, c := range inv.Categories {
		cp := fmt.Sprintf(".categories[%d]", i)
		if c == nil {
			continue
		}
		switch {
		case c.Name == "":
			bad(cp+".name", "required (like \"bugs\", \"maintenance\" or \"new\")")
		case !idPattern.MatchString(c.Name):
			bad(cp+".name", "must match %s (it becomes a label value), not %q", idPattern, c.Name)
		case c.Name == InvestmentOther:
			bad(cp+".name", "%q is the category of the work no category matches; name this one differently", InvestmentOther)
		default:
			if first, dup := seen[c.Name]; dup {
				bad(cp+".name", "duplicate category %q (categories[%d] has it)", c.Name, first)
			}
			seen[c.Name] = i
		}
		lists := map[string][]string{"issue_types": c.IssueTypes, "labels": c.Labels, "epics": c.Epics}
		any := false
		for _, k := range []string{"issue_types", "labels", "epics"} {
			l := lists[k]
			if len(l) == 0 {
				continue
			}
			any = true
			if !contains(keys, k) {
				bad(cp+"."+k, "does not apply to this source (it matches by %s)", strings.Join(keys, ", "))
				continue
			}
			for j, x := range l {
				if strings.TrimSpace(x) == "" {
					bad(fmt.Sprintf("%s.%s[%d]", cp, k, j), "must not be blank")
				}
			}
		}
		if !any {
			bad(cp, "match some work: set %s", strings.Join(keys, " or "))
		}
	}
	return errors.Join(errs...)
}

// Category returns the category of an item with the given issue type,
// labels and epic (empty when it has none): the first category that lists
// any of them, else InvestmentOther. Names compare case-insensitively.
func (inv *Investment) Category(issueType string, labels []string, epic string) string {
	for _, c := range inv.Categories {
		if c.Matches(issueType, labels, epic) {
			return c.Name
		}
	}
	return InvestmentOther
}

// Matches reports whether the category lists the issue type, one of the
// labels or the epic.
func (c *InvestmentCategory) Matches(issueType string, labels []string, epic string) bool {
	for _, t := range c.IssueTypes {
		if issueType != "" && strings.EqualFold(t, issueType) {
			return true
		}
	}
	for _, l := range c.Labels {
		for _, x := range labels {
			if strings.EqualFold(l, x) {
				return true
			}
		}
	}
	for _, e := range c.Epics {
		if epic != "" && strings.EqualFold(e, epic) {
			return true
		}
	}
	return false
}
