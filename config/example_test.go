package config

import (
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

const examplePath = "../config.example.toml"

func TestExampleConfigLoadsWithoutErrorsOrCredentials(t *testing.T) {
	// The example must run on a fresh machine: no environment variable and
	// no file besides itself may be needed.
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	c, err := parse(data, examplePath, envOf(nil))
	if err != nil {
		t.Fatalf("config.example.toml:\n%v", err)
	}

	if c.Global.Location.String() != "Europe/Berlin" || c.Server.ListenAddress != ":9184" ||
		c.Storage.Driver != "sqlite" || c.Storage.DSN.Value() != "okrd.db" || c.Server.APIToken != "" {
		t.Errorf("global/server/storage = %+v %+v %+v", c.Global, c.Server, c.Storage)
	}
	if len(c.Sources) != 0 {
		t.Errorf("the example has active sources %v; none exist in this build", c.Sources)
	}
	// The example covers the quarter it is loaded in, so that a newcomer
	// never meets a period that is over.
	var ids []string
	for _, o := range c.Objectives {
		ids = append(ids, o.ID)
		if o.Period != "current-quarter" {
			t.Errorf("objective %s period = %q, want current-quarter", o.ID, o.Period)
		}
	}
	if want := []string{"checkout-love", "fast-and-reliable", "self-serve-revenue"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("objectives = %v, want %v", ids, want)
	}

	love := c.Objective("checkout-love")
	berlin, _ := time.LoadLocation("Europe/Berlin")
	inSpring := time.Date(2026, 5, 20, 12, 0, 0, 0, berlin)
	spring, err := parseAt(data, examplePath, envOf(nil), inSpring)
	if err != nil {
		t.Fatal(err)
	}
	if p := spring.Objective("checkout-love").Resolved; p.Name != "2026-Q2" ||
		!p.Start.Equal(time.Date(2026, 4, 1, 0, 0, 0, 0, berlin)) || !p.End.Equal(time.Date(2026, 7, 1, 0, 0, 0, 0, berlin)) {
		t.Errorf("loaded on %s, checkout-love covers %+v, want 2026-Q2 in Berlin", inSpring, p)
	}
	if now := time.Now(); !love.Resolved.Contains(now) {
		t.Errorf("loaded now, checkout-love covers %+v, which does not contain %s", love.Resolved, now)
	}
	if love.RunbookURL != "https://wiki.example.com/okrs/checkout-love" ||
		love.KeyResult("nps").RunbookURL != "https://wiki.example.com/okrs/checkout-love#nps" ||
		love.KeyResult("support-tickets").RunbookURL != love.RunbookURL {
		t.Errorf("runbooks: objective %q, nps %q, support-tickets %q", love.RunbookURL,
			love.KeyResult("nps").RunbookURL, love.KeyResult("support-tickets").RunbookURL)
	}

	tickets := love.KeyResult("support-tickets")
	if tickets.Direction != "decrease" || tickets.Owner != "maria.keller" || tickets.Team != "payments" {
		t.Errorf("support-tickets = %+v", tickets)
	}
	if nps := love.KeyResult("nps"); nps.Engine.Baseline != 31 || nps.Engine.Target != 40 || nps.StaleAfter.String() != "45d" {
		t.Errorf("nps = %+v", nps)
	}
	latency := c.Objective("fast-and-reliable").KeyResult("checkout-latency-p95")
	if latency.Direction != "maintain" || latency.Engine.Min != 0 || latency.Engine.Max != 0.3 ||
		latency.Unit != "duration" || latency.Engine.Weight != 2 || latency.Engine.Tolerance != 0.05 {
		t.Errorf("checkout-latency-p95 = %+v", latency)
	}
	arr := c.Objective("self-serve-revenue").KeyResult("arr")
	if arr.Unit != "currency" || arr.Currency != "EUR" || arr.Engine.Target != 1_500_000 || arr.Engine.Weight != 3 {
		t.Errorf("arr = %+v", arr)
	}
	if c.Objective("nope") != nil || love.KeyResult("nope") != nil {
		t.Error("lookups of unknown ids must return nil")
	}

	// Every kind of key result the brief asks the example to show.
	kinds := map[string]bool{}
	for _, o := range c.Objectives {
		for _, kr := range o.KeyResults {
			kinds[kr.Direction] = true
			kinds[kr.Unit] = true
			if *kr.Weight != 1 {
				kinds["weighted"] = true
			}
		}
	}
	for _, k := range []string{"increase", "decrease", "maintain", "percent", "ratio", "duration", "currency", "weighted"} {
		if !kinds[k] {
			t.Errorf("the example has no %s key result", k)
		}
	}
	// Milestones need a fixed period, so the example shows them commented
	// out; uncommented under a named quarter they load.
	fixed := strings.Replace(string(data), `period = "current-quarter"`, `period = "2026-Q4"`, 1)
	fixed = strings.NewReplacer("  # milestones = [", "  milestones = [", "  #   { date", "    { date", "  # ]", "  ]").Replace(fixed)
	withMilestones, err := parse([]byte(fixed), examplePath, envOf(nil))
	if err != nil {
		t.Fatalf("the example with its milestones uncommented:\n%v", err)
	}
	ms := withMilestones.Objective("checkout-love").KeyResult("support-tickets").Engine.Milestones
	if len(ms) != 2 || ms[1].Value != 95 || !ms[1].At.Equal(time.Date(2026, 11, 30, 0, 0, 0, 0, berlin)) {
		t.Errorf("support-tickets milestones = %+v", ms)
	}
}

// tomlKeys returns every key of t's struct tree, as "table.key" pairs so
// that a missing key can be told apart from the same name elsewhere.
func tomlKeys(t reflect.Type, table string, seen map[reflect.Type]bool, out map[string]bool) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t == dateType || seen[t] {
		return
	}
	seen[t] = true
	for _, f := range structFields(t).list {
		out[table+"."+f.name] = true
		tomlKeys(f.typ, f.name, seen, out)
	}
}

func TestExampleConfigShowsEveryKey(t *testing.T) {
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	keys := map[string]bool{}
	tomlKeys(reflect.TypeOf(Config{}), "", map[reflect.Type]bool{}, keys)
	var names []string
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	if len(names) < 50 {
		t.Fatalf("found only %d keys in the schema: %v", len(names), names)
	}
	for _, k := range names {
		key := k[strings.LastIndexByte(k, '.')+1:]
		// A key appears as `key =` (possibly commented out or inside an
		// inline table) or as a table header.
		assign := regexp.MustCompile(`(?m)(^|[\s{,#])` + regexp.QuoteMeta(key) + `\s*=`)
		header := regexp.MustCompile(`(?m)^[#\s]*\[\[?([a-z_]+\.)*` + regexp.QuoteMeta(key) + `(\.[a-z_]+)?\]\]?`)
		if !assign.MatchString(text) && !header.MatchString(text) {
			t.Errorf("config.example.toml does not show %s (commented out or not)", k)
		}
	}
}

func TestExampleConfigIsDocumented(t *testing.T) {
	data, err := os.ReadFile("../docs/configuration.md")
	if err != nil {
		t.Skipf("docs/configuration.md: %v", err)
	}
	keys := map[string]bool{}
	tomlKeys(reflect.TypeOf(Config{}), "", map[reflect.Type]bool{}, keys)
	for k := range keys {
		key := k[strings.LastIndexByte(k, '.')+1:]
		// A key is documented as `key`, or as a table header like `[global]`.
		documented := regexp.MustCompile("`\\[*([a-z_]+\\.)*" + regexp.QuoteMeta(key) + "(\\.[A-Za-z_]+)*\\]*`")
		if !documented.MatchString(string(data)) {
			t.Errorf("docs/configuration.md does not document `%s`", key)
		}
	}
}
