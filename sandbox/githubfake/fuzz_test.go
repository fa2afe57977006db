package githubfake

import "testing"

// FuzzParseQuery feeds the fake's GraphQL parser arbitrary documents: it
// must answer every one with a query or an error, never a panic.
func FuzzParseQuery(f *testing.F) {
	for _, seed := range []string{
		`query PullRequests($owner: String!, $first: Int = 10) { repository(owner: $owner, name: "x") { pullRequests(first: $first, orderBy: {field: UPDATED_AT, direction: DESC}, states: [MERGED]) { nodes { number } } } }`,
		`{ a: rateLimit { cost } node(id: "x") { ... on Deployment { id } } }`,
		`{ x(s: "a\"b\u00e9", f: -1.5e3, l: [1, 2, [3]], n: null, b: true) }`,
		`query($a: [String!]!) { x }`,
		`{ x(`, `{`, `"`, `query`, `mutation { x }`, `{ x } { y }`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		sel, err := parseQuery(doc, map[string]any{"owner": "acme", "a": []any{"x"}})
		if err == nil && len(sel) == 0 {
			t.Fatalf("%q parsed to an empty selection without an error", doc)
		}
		if err == nil {
			queryCost(sel)
		}
	})
}
