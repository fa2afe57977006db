package config

import (
	"reflect"
	"strings"
	"testing"
)

// fakeSource is a valid [sources.s] table of the fake type, three lines long.
const fakeSource = "[sources.s]\ntype = \"fake\"\nurl = \"https://fake.example\"\n"

var validationCases = []struct {
	name string
	doc  string
	want []string
}{
	// [global]
	{
		name: "An unknown time zone is rejected.",
		doc:  "[global]\ntime_zone = \"Mars/Olympus\"\n" + okObjective,
		want: []string{`okrd.toml:2: global.time_zone: unknown time zone "Mars/Olympus": use an IANA name like "Europe/Berlin" or "UTC"`},
	},
	{
		name: "The Local time zone is rejected so that periods do not depend on the host.",
		doc:  "[global]\ntime_zone = \"Local\"\n" + okObjective,
		want: []string{`okrd.toml:2: global.time_zone: unknown time zone "Local": use an IANA name like "Europe/Berlin" or "UTC"`},
	},
	{
		name: "An explicit fiscal year start month of 0 is rejected.",
		doc:  "[global]\nfiscal_year_start_month = 0\n" + okObjective,
		want: []string{`okrd.toml:2: global.fiscal_year_start_month: must be between 1 and 12 (1 = January), not 0`},
	},
	{
		name: "A fiscal year start month of 13 is rejected.",
		doc:  "[global]\nfiscal_year_start_month = 13\n" + okObjective,
		want: []string{`okrd.toml:2: global.fiscal_year_start_month: must be between 1 and 12 (1 = January), not 13`},
	},
	{
		name: "An evaluation interval under a second is rejected.",
		doc:  "[global]\nevaluation_interval = \"500ms\"\n" + okObjective,
		want: []string{`okrd.toml:2: global.evaluation_interval: must be at least 1s, not 500ms`},
	},
	{
		name: "A global tolerance of 0 is rejected.",
		doc:  "[global]\ntolerance = 0\n" + okObjective,
		want: []string{`okrd.toml:2: global.tolerance: must be between 0 and 1 (exclusive), like 0.1, not 0`},
	},
	{
		name: "A global tolerance of 1 is rejected.",
		doc:  "[global]\ntolerance = 1\n" + okObjective,
		want: []string{`okrd.toml:2: global.tolerance: must be between 0 and 1 (exclusive), like 0.1, not 1`},
	},

	// [history]
	{
		name: "A history step that does not divide a day is rejected.",
		doc:  "[history]\nstep = \"5h\"\n" + okObjective,
		want: []string{`okrd.toml:2: history.step: must be "1d" or a whole number of hours that divides a day ("12h", "6h", "1h"), not 5h`},
	},
	{
		name: "A history step under an hour is rejected.",
		doc:  "[history]\nstep = \"30m\"\n" + okObjective,
		want: []string{`okrd.toml:2: history.step: must be "1d" or a whole number of hours that divides a day ("12h", "6h", "1h"), not 30m`},
	},
	{
		name: "A history step over a day is rejected.",
		doc:  "[history]\nstep = \"2d\"\n" + okObjective,
		want: []string{`okrd.toml:2: history.step: must be "1d" or a whole number of hours that divides a day ("12h", "6h", "1h"), not 2d`},
	},

	// [server]
	{
		name: "A listen address without a port is rejected.",
		doc:  "[server]\nlisten_address = \"localhost\"\n" + okObjective,
		want: []string{`okrd.toml:2: server.listen_address: must be host:port like ":9184" or "127.0.0.1:9184", not "localhost"`},
	},
	{
		name: "A read timeout of 0s is rejected rather than meaning no limit.",
		doc:  "[server]\nread_timeout = \"0s\"\n" + okObjective,
		want: []string{`okrd.toml:2: server.read_timeout: must be at least 1s, not 0s`},
	},
	{
		name: "A write timeout under a second is rejected.",
		doc:  "[server]\nwrite_timeout = \"500ms\"\n" + okObjective,
		want: []string{`okrd.toml:2: server.write_timeout: must be at least 1s, not 500ms`},
	},
	{
		name: "An idle timeout of 0s is rejected.",
		doc:  "[server]\nidle_timeout = \"0s\"\n" + okObjective,
		want: []string{`okrd.toml:2: server.idle_timeout: must be at least 1s, not 0s`},
	},
	{
		name: "A listen address with a port out of range is rejected.",
		doc:  "[server]\nlisten_address = \":70000\"\n" + okObjective,
		want: []string{`okrd.toml:2: server.listen_address: port must be a number from 0 to 65535, not "70000"`},
	},
	{
		name: "An external URL without a scheme is rejected.",
		doc:  "[server]\nexternal_url = \"okrd.example.com\"\n" + okObjective,
		want: []string{`okrd.toml:2: server.external_url: must be an absolute http:// or https:// URL like "https://okrd.example.com/"`},
	},
	{
		name: "An external URL with another scheme is rejected.",
		doc:  "[server]\nexternal_url = \"ftp://okrd.example.com/\"\n" + okObjective,
		want: []string{`okrd.toml:2: server.external_url: must be an absolute http:// or https:// URL like "https://okrd.example.com/"`},
	},
	{
		name: "An API token given inline and as a file is rejected.",
		doc:  "[server]\napi_token = \"t\"\napi_token_file = \"token\"\n" + okObjective,
		want: []string{`okrd.toml:3: server.api_token_file: cannot be combined with api_token: set one of them`},
	},

	// [storage]
	{
		name: "An unknown storage driver is rejected.",
		doc:  "[storage]\ndriver = \"mysql\"\n" + okObjective,
		want: []string{`okrd.toml:2: storage.driver: must be "sqlite" or "postgres", not "mysql"`},
	},
	{
		name: "PostgreSQL needs a DSN, since there is no sensible default.",
		doc:  "[storage]\ndriver = \"postgres\"\n" + okObjective,
		want: []string{`okrd.toml:1: storage.dsn: required for driver "postgres" (or set dsn_file)`},
	},
	{
		name: "A DSN given inline and as a file is rejected.",
		doc:  "[storage]\ndsn = \"x.db\"\ndsn_file = \"dsn\"\n" + okObjective,
		want: []string{`okrd.toml:3: storage.dsn_file: cannot be combined with dsn: set one of them`},
	},

	// [sources.NAME]
	{
		name: "A source without a type lists the registered types.",
		doc:  "[sources.s]\nurl = \"https://fake.example\"\n" + okObjective,
		want: []string{`okrd.toml:1: sources.s.type: required; registered types: fake`},
	},
	{
		name: "An unknown source type lists the registered types.",
		doc:  "[sources.s]\ntype = \"jira\"\nurl = \"https://acme.atlassian.net\"\n" + okObjective,
		want: []string{`okrd.toml:2: sources.s.type: unknown source type "jira"; registered types: fake`},
	},
	{
		name: "A source name must be usable as a label value.",
		doc:  "[sources.Jira]\ntype = \"fake\"\nurl = \"https://fake.example\"\n" + okObjective,
		want: []string{`okrd.toml:1: sources.Jira: source name must match ^[a-z0-9][a-z0-9_-]*$ (it becomes a Prometheus label value)`},
	},
	{
		name: "A source that is not a table is rejected.",
		doc:  "sources.s = 1\n" + okObjective,
		want: []string{`okrd.toml:1: sources.s: must be a table, not an integer`},
	},
	{
		name: "A source interval under a second is rejected.",
		doc:  fakeSourceDoc(`interval = "0s"`),
		want: []string{`okrd.toml:4: sources.s.interval: must be at least 1s, not 0s`},
	},
	{
		name: "A timeout written as a number of seconds suggests the duration string.",
		doc:  fakeSourceDoc(`timeout = 30`),
		want: []string{`okrd.toml:4: sources.s.timeout: must be a duration string like "5m", not an integer (for 30 seconds write "30s")`},
	},
	{
		name: "The errors of a source type's Validate are reported at their fields.",
		doc:  "[sources.s]\ntype = \"fake\"\nprojects = [\"PAY\", \"web\"]\nflavor = \"cluod\"\npage_size = 500\n" + okObjective,
		want: []string{
			`okrd.toml:1: sources.s.url: required`,
			`okrd.toml:1: sources.s: page_size above 100 is refused by the fake API`,
			`okrd.toml:3: sources.s.projects[1]: must be an upper-case project key, not "web"`,
			`okrd.toml:4: sources.s.flavor: must be "cloud" or "server", not "cluod"`,
		},
	},
	{
		name: "A mistyped key of a source spec suggests the known key.",
		doc:  fakeSourceDoc(`projcts = ["PAY"]`),
		want: []string{`okrd.toml:4: sources.s.projcts: unknown key, did you mean "projects"?`},
	},
	{
		name: "A common key of a source is suggested too.",
		doc:  fakeSourceDoc(`intervall = "1m"`),
		want: []string{`okrd.toml:4: sources.s.intervall: unknown key, did you mean "interval"?`},
	},
	{
		name: "A wrong type in a source spec names the field.",
		doc:  fakeSourceDoc(`page_size = "50"`),
		want: []string{`okrd.toml:4: sources.s.page_size: must be an integer, not a string`},
	},
	{
		name: "An unknown key in a nested table of a source spec is found.",
		doc:  fakeSourceDoc(`[sources.s.options]`, `retires = 3`),
		want: []string{`okrd.toml:5: sources.s.options.retires: unknown key, did you mean "retries"?`},
	},

	// [[objectives]]
	{
		name: "An objective needs an id.",
		doc:  objDoc(`title = "O"`, `period = "2026-Q4"`),
		want: []string{`okrd.toml:1: objectives[0].id: required`},
	},
	{
		name: "An objective id must be usable as a label value.",
		doc:  objDoc(`id = "Growth"`, `title = "O"`, `period = "2026-Q4"`),
		want: []string{`okrd.toml:2: objectives[0].id: must match ^[a-z0-9][a-z0-9_-]*$ (it becomes a Prometheus label value and a URL path segment), not "Growth"`},
	},
	{
		name: "Objective ids are unique.",
		doc:  okObjective + okObjective,
		want: []string{`okrd.toml:13: objectives[1].id: duplicate objective id "o" (already used on line 3)`},
	},
	{
		name: "An objective needs a title.",
		doc:  objDoc(`id = "o"`, `period = "2026-Q4"`),
		want: []string{`okrd.toml:1: objectives[0].title: required`},
	},
	{
		name: "An objective needs a period or dates.",
		doc:  objDoc(`id = "o"`, `title = "O"`),
		want: []string{`okrd.toml:1: objectives[0].period: required: set period (like "2026-Q4") or both start and end`},
	},
	{
		name: "A period and dates together are ambiguous.",
		doc:  objDoc(`id = "o"`, `title = "O"`, `period = "2026-Q4"`, `start = 2026-10-01`, `end = 2026-12-31`),
		want: []string{`okrd.toml:5: objectives[0].start: cannot be combined with period: set either period or both start and end`},
	},
	{
		name: "A start needs an end.",
		doc:  objDoc(`id = "o"`, `title = "O"`, `start = 2026-10-01`),
		want: []string{`okrd.toml:1: objectives[0].end: required when start is set`},
	},
	{
		name: "An end needs a start.",
		doc:  objDoc(`id = "o"`, `title = "O"`, `end = 2026-12-31`),
		want: []string{`okrd.toml:1: objectives[0].start: required when end is set`},
	},
	{
		name: "An end before the start is rejected.",
		doc:  objDoc(`id = "o"`, `title = "O"`, `start = 2026-12-01`, `end = 2026-11-30`),
		want: []string{`okrd.toml:5: objectives[0].end: must not be before start (2026-12-01)`},
	},
	{
		name: "An unknown relative period lists every form, the relative ones too.",
		doc:  objDoc(`id = "o"`, `title = "O"`, `period = "this-quarter"`),
		want: []string{`okrd.toml:4: objectives[0].period: period "this-quarter": want YYYY, YYYY-Hn, YYYY-Qn, YYYY-MM or YYYY-Www, or one of current-year, current-half, current-quarter, current-month or current-week`},
	},
	{
		name: "Milestones need a fixed period: their dates would fall outside the next quarter.",
		doc: "[[objectives]]\nid = \"o\"\ntitle = \"O\"\nperiod = \"current-quarter\"\n" +
			"[[objectives.key_results]]\nid = \"k\"\ntitle = \"K\"\nbaseline = 1\ntarget = 2\nmilestones = [{ date = 2026-11-01, value = 1.5 }]\n",
		want: []string{`okrd.toml:10: objectives[0].key_results[0].milestones: need a fixed period: milestone dates do not move with current-quarter; name the period (like "` +
			currentQuarterName() + `") or set start and end`},
	},
	{
		name: "An objective's runbook_url must be an absolute http(s) URL.",
		doc:  objDoc(`id = "o"`, `title = "O"`, `period = "2026-Q4"`, `runbook_url = "wiki/runbooks/checkout"`),
		want: []string{`okrd.toml:5: objectives[0].runbook_url: must be an absolute http:// or https:// URL like "https://wiki.example.com/runbooks/checkout"`},
	},
	{
		name: "A key result's runbook_url may not use another scheme.",
		doc:  krDoc(`baseline = 1`, `target = 2`, `runbook_url = "javascript:alert(1)"`),
		want: []string{`okrd.toml:10: objectives[0].key_results[0].runbook_url: must be an absolute http:// or https:// URL like "https://wiki.example.com/runbooks/checkout"`},
	},
	{
		name: "A runbook_url needs a host.",
		doc:  krDoc(`baseline = 1`, `target = 2`, `runbook_url = "https:///runbooks"`),
		want: []string{`okrd.toml:10: objectives[0].key_results[0].runbook_url: must be an absolute http:// or https:// URL like "https://wiki.example.com/runbooks/checkout"`},
	},
	{
		name: "A period the okr package cannot parse carries its message.",
		doc:  objDoc(`id = "o"`, `title = "O"`, `period = "2026-Q5"`),
		want: []string{`okrd.toml:4: objectives[0].period: period "2026-Q5": quarter must be 1..4`},
	},
	{
		name: "An objective needs a key result.",
		doc:  "[[objectives]]\nid = \"o\"\ntitle = \"O\"\nperiod = \"2026-Q4\"\n",
		want: []string{`okrd.toml:1: objectives[0].key_results: at least one key result is required`},
	},
	{
		name: "An objective needs a key result with a weight above 0.",
		doc:  krDoc(`baseline = 1`, `target = 2`, `weight = 0`),
		want: []string{`okrd.toml:5: objectives[0].key_results: at least one key result must have a weight above 0`},
	},

	// [[objectives.key_results]]
	{
		name: "A key result needs an id.",
		doc:  "[[objectives]]\nid = \"o\"\ntitle = \"O\"\nperiod = \"2026-Q4\"\n[[objectives.key_results]]\ntitle = \"K\"\nbaseline = 1\ntarget = 2\n",
		want: []string{`okrd.toml:5: objectives[0].key_results[0].id: required`},
	},
	{
		name: "A key result id must be usable as a label value.",
		doc:  "[[objectives]]\nid = \"o\"\ntitle = \"O\"\nperiod = \"2026-Q4\"\n[[objectives.key_results]]\nid = \"my kr\"\ntitle = \"K\"\nbaseline = 1\ntarget = 2\n",
		want: []string{`okrd.toml:6: objectives[0].key_results[0].id: must match ^[a-z0-9][a-z0-9_-]*$ (it becomes a Prometheus label value and a URL path segment), not "my kr"`},
	},
	{
		name: "Key result ids are unique within their objective.",
		doc:  krDoc(`baseline = 1`, `target = 2`, `[[objectives.key_results]]`, `id = "k"`, `title = "K2"`, `baseline = 1`, `target = 2`),
		want: []string{`okrd.toml:11: objectives[0].key_results[1].id: duplicate key result id "k" in this objective (already used on line 6)`},
	},
	{
		name: "A key result needs a title.",
		doc:  "[[objectives]]\nid = \"o\"\ntitle = \"O\"\nperiod = \"2026-Q4\"\n[[objectives.key_results]]\nid = \"k\"\nbaseline = 1\ntarget = 2\n",
		want: []string{`okrd.toml:5: objectives[0].key_results[0].title: required`},
	},
	{
		name: "A source that is not configured lists the configured ones.",
		doc:  fakeSource + krDoc(`source = "jira"`, `metric = "throughput"`, `baseline = 1`, `target = 2`),
		want: []string{`okrd.toml:11: objectives[0].key_results[0].source: unknown source "jira"; configured sources: s`},
	},
	{
		name: "A source when none is configured says how to use check-ins.",
		doc:  krDoc(`source = "jira"`, `baseline = 1`, `target = 2`),
		want: []string{`okrd.toml:8: objectives[0].key_results[0].source: unknown source "jira"; no sources are configured (leave source out to record values by manual check-in)`},
	},
	{
		name: "Binding keys on a manual key result are a forgotten source.",
		doc:  krDoc(`metric = "nps"`, `quantile = 0.5`, `baseline = 1`, `target = 2`),
		want: []string{
			`okrd.toml:8: objectives[0].key_results[0].metric: applies only to a key result with a source (without one, values come from manual check-ins)`,
			`okrd.toml:9: objectives[0].key_results[0].quantile: applies only to a key result with a source (without one, values come from manual check-ins)`,
		},
	},
	{
		name: "Request keys of an http_json binding on a manual key result are a forgotten source too.",
		doc:  krDoc(`path = "/api/stats"`, `json_path = "$.value"`, `baseline = 1`, `target = 2`),
		want: []string{
			`okrd.toml:8: objectives[0].key_results[0].path: applies only to a key result with a source (without one, values come from manual check-ins)`,
			`okrd.toml:9: objectives[0].key_results[0].json_path: applies only to a key result with a source (without one, values come from manual check-ins)`,
		},
	},
	{
		name: "A quantile of 1 is rejected.",
		doc:  fakeSource + krDoc(`source = "s"`, `metric = "lead_time"`, `quantile = 1`, `baseline = 1`, `target = 2`),
		want: []string{`okrd.toml:13: objectives[0].key_results[0].quantile: must be between 0 and 1 (exclusive), like 0.5 or 0.95, not 1`},
	},
	{
		name: "The errors of a source type's ValidateKeyResult are reported at the key result's fields.",
		doc:  fakeSource + krDoc(`source = "s"`, `metric = "cycle_time"`, `baseline = 1`, `target = 2`),
		want: []string{`okrd.toml:12: objectives[0].key_results[0].metric: unknown metric "cycle_time" for a fake source; known: lead_time, throughput`},
	},
	{
		name: "A window must be whole days.",
		doc:  krDoc(`window = "36h"`, `baseline = 1`, `target = 2`),
		want: []string{`okrd.toml:8: objectives[0].key_results[0].window: must be "period" or a whole number of days like "7d", "28d" or "90d", not "36h"`},
	},
	{
		name: "A window of zero days is rejected.",
		doc:  krDoc(`window = "0d"`, `baseline = 1`, `target = 2`),
		want: []string{`okrd.toml:8: objectives[0].key_results[0].window: must be "period" or a whole number of days like "7d", "28d" or "90d", not "0d"`},
	},
	{
		name: "An unknown direction is rejected.",
		doc:  krDoc(`direction = "up"`, `baseline = 1`, `target = 2`),
		want: []string{`okrd.toml:8: objectives[0].key_results[0].direction: must be one of increase, decrease, maintain, not "up"`},
	},
	{
		name: "An increase must aim above its baseline.",
		doc:  krDoc(`direction = "increase"`, `baseline = 10`, `target = 5`),
		want: []string{`okrd.toml:10: objectives[0].key_results[0].target: must be above baseline (10) for direction "increase"`},
	},
	{
		name: "A decrease must aim below its baseline.",
		doc:  krDoc(`direction = "decrease"`, `baseline = 5`, `target = 10`),
		want: []string{`okrd.toml:10: objectives[0].key_results[0].target: must be below baseline (5) for direction "decrease"`},
	},
	{
		name: "A target equal to the baseline measures nothing.",
		doc:  krDoc(`baseline = 3`, `target = 3`),
		want: []string{`okrd.toml:9: objectives[0].key_results[0].target: must differ from baseline`},
	},
	{
		name: "A baseline without a target is incomplete.",
		doc:  krDoc(`baseline = 3`),
		want: []string{`okrd.toml:5: objectives[0].key_results[0].target: required (with baseline; or set min and max to maintain a band)`},
	},
	{
		name: "An increase needs a baseline.",
		doc:  krDoc(`direction = "increase"`, `target = 3`),
		want: []string{`okrd.toml:5: objectives[0].key_results[0].baseline: required for direction "increase"`},
	},
	{
		name: "A band needs a max.",
		doc:  krDoc(`min = 0`),
		want: []string{`okrd.toml:5: objectives[0].key_results[0].max: required for direction "maintain"`},
	},
	{
		name: "A band needs min at most max.",
		doc:  krDoc(`min = 5`, `max = 1`),
		want: []string{`okrd.toml:9: objectives[0].key_results[0].max: must not be below min (5)`},
	},
	{
		name: "A band on an increase is rejected rather than ignored.",
		doc:  krDoc(`direction = "increase"`, `baseline = 1`, `target = 2`, `max = 5`),
		want: []string{`okrd.toml:11: objectives[0].key_results[0].max: applies only to direction "maintain"`},
	},
	{
		name: "Milestones on a maintain key result are rejected.",
		doc:  krDoc(`min = 0`, `max = 1`, `milestones = [{ date = 2026-11-01, value = 1 }]`),
		want: []string{`okrd.toml:10: objectives[0].key_results[0].milestones: do not apply to direction "maintain" (it holds a band, it does not move towards a target)`},
	},
	{
		name: "An unknown unit is rejected.",
		doc:  krDoc(`baseline = 1`, `target = 2`, `unit = "hours"`),
		want: []string{`okrd.toml:10: objectives[0].key_results[0].unit: must be one of count, ratio, percent, duration, currency, not "hours"`},
	},
	{
		name: "A currency amount needs a currency.",
		doc:  krDoc(`baseline = 1`, `target = 2`, `unit = "currency"`),
		want: []string{`okrd.toml:5: objectives[0].key_results[0].currency: required for unit "currency" (an ISO 4217 code like "EUR")`},
	},
	{
		name: "A currency is an upper-case ISO 4217 code.",
		doc:  krDoc(`baseline = 1`, `target = 2`, `unit = "currency"`, `currency = "eur"`),
		want: []string{`okrd.toml:11: objectives[0].key_results[0].currency: must be an ISO 4217 code of three upper-case letters like "EUR", not "eur"`},
	},
	{
		name: "A currency on a count is rejected.",
		doc:  krDoc(`baseline = 1`, `target = 2`, `currency = "EUR"`),
		want: []string{`okrd.toml:10: objectives[0].key_results[0].currency: applies only to unit "currency"`},
	},
	{
		name: "Ratio values lie between 0 and 1.",
		doc:  krDoc(`baseline = 31`, `target = 40`, `unit = "ratio"`),
		want: []string{
			`okrd.toml:8: objectives[0].key_results[0].baseline: must be between 0 and 1 for unit "ratio" (write 40% as 0.4), not 31`,
			`okrd.toml:9: objectives[0].key_results[0].target: must be between 0 and 1 for unit "ratio" (write 40% as 0.4), not 40`,
		},
	},
	{
		name: "Percent values lie between 0 and 100.",
		doc:  krDoc(`baseline = 50`, `target = 120`, `unit = "percent"`),
		want: []string{`okrd.toml:9: objectives[0].key_results[0].target: must be between 0 and 100 for unit "percent", not 120`},
	},
	{
		name: "Duration values are not negative.",
		doc:  krDoc(`baseline = -1`, `target = 2`, `unit = "duration"`),
		want: []string{`okrd.toml:8: objectives[0].key_results[0].baseline: must not be negative for unit "duration" (seconds), not -1`},
	},
	{
		name: "A target of nan is rejected.",
		doc:  krDoc(`baseline = 1`, `target = nan`),
		want: []string{`okrd.toml:9: objectives[0].key_results[0].target: must be a finite number, not nan`},
	},
	{
		name: "A negative weight is rejected.",
		doc:  krDoc(`baseline = 1`, `target = 2`, `weight = -1`),
		want: []string{`okrd.toml:10: objectives[0].key_results[0].weight: must be a number of at least 0, not -1`},
	},
	{
		name: "A key result tolerance above 1 is rejected.",
		doc:  krDoc(`baseline = 1`, `target = 2`, `tolerance = 1.5`),
		want: []string{`okrd.toml:10: objectives[0].key_results[0].tolerance: must be between 0 and 1 (exclusive), like 0.1, not 1.5`},
	},
	{
		name: "A milestone outside the period is rejected.",
		doc:  krDoc(`baseline = 120`, `target = 80`, `milestones = [{ date = 2027-01-15, value = 90 }]`),
		want: []string{`okrd.toml:10: objectives[0].key_results[0].milestones[0].date: 2027-01-15 is outside the objective's period (2026-10-01 to 2026-12-31)`},
	},
	{
		name: "Milestones are in date order.",
		doc: krDoc(`baseline = 120`, `target = 80`,
			`[[objectives.key_results.milestones]]`, `date = 2026-11-30`, `value = 95`,
			`[[objectives.key_results.milestones]]`, `date = 2026-10-31`, `value = 110`),
		want: []string{`okrd.toml:14: objectives[0].key_results[0].milestones[1].date: must be after the previous milestone (2026-11-30)`},
	},
	{
		name: "A milestone needs a date.",
		doc:  krDoc(`baseline = 1`, `target = 2`, `milestones = [{ value = 1.5 }]`),
		want: []string{`okrd.toml:10: objectives[0].key_results[0].milestones[0].date: required`},
	},
	{
		name: "A milestone needs a value.",
		doc:  krDoc(`baseline = 1`, `target = 2`, `milestones = [{ date = 2026-11-01 }]`),
		want: []string{`okrd.toml:10: objectives[0].key_results[0].milestones[0].value: required`},
	},
	{
		name: "A milestone value respects the unit.",
		doc:  krDoc(`baseline = 0.1`, `target = 0.5`, `unit = "ratio"`, `milestones = [{ date = 2026-11-01, value = 30 }]`),
		want: []string{`okrd.toml:11: objectives[0].key_results[0].milestones[0].value: must be between 0 and 1 for unit "ratio" (write 40% as 0.4), not 30`},
	},
	{
		name: "A stale_after that is not a duration is rejected.",
		doc:  krDoc(`baseline = 1`, `target = 2`, `stale_after = "soon"`),
		want: []string{`okrd.toml:10: objectives[0].key_results[0].stale_after: invalid duration "soon": write a number and a unit (ms, s, m, h, d, w, y) like "30s", "5m" or "1h30m"`},
	},
}

func TestParseReportsEveryValidationRule(t *testing.T) {
	tests := validationCases
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := parse([]byte(tt.doc), "okrd.toml", envOf(nil))
			if got := errorLines(t, err); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestParseAcceptsValidVariants(t *testing.T) {
	tests := []struct {
		name  string
		doc   string
		check func(t *testing.T, c *Config)
	}{
		{
			name: "Dates may be TOML dates or strings, and end is inclusive.",
			doc:  objDoc(`id = "o"`, `title = "O"`, `start = "2026-10-01"`, `end = 2026-10-31`),
			check: func(t *testing.T, c *Config) {
				p := c.Objectives[0].Resolved
				if got, want := p.Start.Format("2006-01-02 15:04"), "2026-10-01 00:00"; got != want {
					t.Errorf("start = %s, want %s", got, want)
				}
				if got, want := p.End.Format("2006-01-02 15:04"), "2026-11-01 00:00"; got != want {
					t.Errorf("end = %s, want %s", got, want)
				}
			},
		},
		{
			name: "An empty date string means the date is not set.",
			doc:  objDoc(`id = "o"`, `title = "O"`, `period = "2026-Q4"`, `start = ""`),
		},
		{
			name: "The direction is inferred from baseline and target.",
			doc:  krDoc(`baseline = 120`, `target = 80`),
			check: func(t *testing.T, c *Config) {
				if got := c.Objectives[0].KeyResults[0].Direction; got != "decrease" {
					t.Errorf("direction = %q, want decrease", got)
				}
			},
		},
		{
			name: "A band without a direction is a maintain key result.",
			doc:  krDoc(`min = 0`, `max = 0.3`, `unit = "duration"`),
			check: func(t *testing.T, c *Config) {
				kr := c.Objectives[0].KeyResults[0]
				if kr.Direction != "maintain" || kr.Engine.Min != 0 || kr.Engine.Max != 0.3 {
					t.Errorf("got direction %q band [%g, %g]", kr.Direction, kr.Engine.Min, kr.Engine.Max)
				}
			},
		},
		{
			name: "A window may be the period or whole days in any unit.",
			doc:  krDoc(`baseline = 1`, `target = 2`, `window = "period"`, `[[objectives.key_results]]`, `id = "k2"`, `title = "K2"`, `baseline = 1`, `target = 2`, `window = "2w"`),
			check: func(t *testing.T, c *Config) {
				if got := c.Objectives[0].KeyResults[0].WindowDuration; got != 0 {
					t.Errorf("period window = %v, want 0", got)
				}
				if got := c.Objectives[0].KeyResults[1].WindowDuration.Hours(); got != 14*24 {
					t.Errorf("2w window = %vh, want 336h", got)
				}
			},
		},
		{
			name: "The same key result id may be used in two objectives.",
			doc:  okObjective + strings.Replace(okObjective, `id = "o"`, `id = "o2"`, 1),
		},
		{
			name: "A fiscal year starting in July shifts quarters.",
			doc:  "[global]\nfiscal_year_start_month = 7\n" + okObjective,
			check: func(t *testing.T, c *Config) {
				// Fiscal 2026 runs from July 2025, so its Q4 is April-June 2026.
				if got := c.Objectives[0].Resolved.Start.Format("2006-01-02"); got != "2026-04-01" {
					t.Errorf("2026-Q4 starts %s, want 2026-04-01", got)
				}
			},
		},
		{
			name: "A source's defaults, spec values and key result binding are decoded.",
			doc:  fakeSourceDoc(`projects = ["PAY"]`, `[sources.s.options]`, `retries = 3`),
			check: func(t *testing.T, c *Config) {
				s := c.Sources["s"]
				spec, ok := s.Spec.(*fakeSpec)
				if !ok {
					t.Fatalf("spec is %T", s.Spec)
				}
				want := &fakeSpec{URL: "https://fake.example", Projects: []string{"PAY"}, Flavor: "cloud", PageSize: 50}
				want.Options.Retries = 3
				if !reflect.DeepEqual(spec, want) {
					t.Errorf("spec = %+v, want %+v", spec, want)
				}
				if s.Name != "s" || s.Type != "fake" || s.Interval.String() != "5m" || s.Timeout.String() != "2m" {
					t.Errorf("source = %+v", s)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := parse([]byte(tt.doc), "okrd.toml", envOf(nil))
			if err != nil {
				t.Fatalf("unexpected errors:\n%v", err)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

func TestParseAppliesDefaults(t *testing.T) {
	c, err := parse([]byte(okObjective), "okrd.toml", envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	g := c.Global
	if g.TimeZone != "UTC" || g.Location.String() != "UTC" || g.FiscalYearStartMonth != 1 ||
		g.EvaluationInterval.String() != "1m" || *g.Tolerance != 0.1 {
		t.Errorf("global = %+v", g)
	}
	if c.Server.ListenAddress != ":9184" {
		t.Errorf("listen_address = %q", c.Server.ListenAddress)
	}
	if s := c.Server; s.ReadTimeout.String() != "30s" || s.WriteTimeout.String() != "2m" || s.IdleTimeout.String() != "2m" {
		t.Errorf("server timeouts = read %s write %s idle %s", s.ReadTimeout, s.WriteTimeout, s.IdleTimeout)
	}
	if c.Storage.Driver != "sqlite" || c.Storage.DSN.Value() != "okrd.db" {
		t.Errorf("storage = %s %s", c.Storage.Driver, c.Storage.DSN.Value())
	}
	kr := c.Objectives[0].KeyResults[0]
	if kr.Window != "28d" || kr.WindowDuration.Hours() != 28*24 || *kr.Weight != 1 || *kr.Tolerance != 0.1 ||
		kr.Unit != "count" || kr.Direction != "increase" || kr.StaleAfter != 0 {
		t.Errorf("key result = %+v", kr)
	}
}

func TestKeyResultsInheritOwnerTeamAndTolerance(t *testing.T) {
	doc := "[global]\ntolerance = 0.2\n" + objDoc(`id = "o"`, `title = "O"`, `period = "2026-Q4"`, `owner = "ana"`, `team = "web"`) +
		"[[objectives.key_results]]\nid = \"k2\"\ntitle = \"K2\"\nbaseline = 1\ntarget = 2\nowner = \"bo\"\ntolerance = 0.05\n"
	c, err := parse([]byte(doc), "okrd.toml", envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	k1, k2 := c.Objectives[0].KeyResults[0], c.Objectives[0].KeyResults[1]
	if k1.Owner != "ana" || k1.Team != "web" || *k1.Tolerance != 0.2 || k1.Engine.Tolerance != 0.2 {
		t.Errorf("k1 owner=%q team=%q tolerance=%g", k1.Owner, k1.Team, *k1.Tolerance)
	}
	if k2.Owner != "bo" || k2.Team != "web" || *k2.Tolerance != 0.05 {
		t.Errorf("k2 owner=%q team=%q tolerance=%g", k2.Owner, k2.Team, *k2.Tolerance)
	}
}

func TestKeyResultsInheritTheObjectivesRunbookUnlessTheyHaveTheirOwn(t *testing.T) {
	doc := objDoc(`id = "o"`, `title = "O"`, `period = "2026-Q4"`, `runbook_url = "https://wiki.example.com/runbooks/o"`) +
		"[[objectives.key_results]]\nid = \"k2\"\ntitle = \"K2\"\nbaseline = 1\ntarget = 2\nrunbook_url = \"https://wiki.example.com/runbooks/k2#steps\"\n" +
		"[[objectives]]\nid = \"p\"\ntitle = \"P\"\nperiod = \"2026-Q4\"\n[[objectives.key_results]]\nid = \"k\"\ntitle = \"K\"\nbaseline = 1\ntarget = 2\n"
	c, err := parse([]byte(doc), "okrd.toml", envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ objective, keyResult, want string }{
		{"o", "k", "https://wiki.example.com/runbooks/o"},
		{"o", "k2", "https://wiki.example.com/runbooks/k2#steps"},
		{"p", "k", ""},
	} {
		if got := c.Objective(tc.objective).KeyResult(tc.keyResult).RunbookURL; got != tc.want {
			t.Errorf("%s/%s runbook_url = %q, want %q", tc.objective, tc.keyResult, got, tc.want)
		}
	}
}

func TestEngineMilestonesAreLocalMidnights(t *testing.T) {
	doc := "[global]\ntime_zone = \"America/New_York\"\n" +
		krDoc(`baseline = 120`, `target = 80`, `milestones = [{ date = 2026-11-30, value = 95 }]`)
	c, err := parse([]byte(doc), "okrd.toml", envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	kr := c.Objectives[0].KeyResults[0]
	want := "2026-11-30T00:00:00-05:00"
	if got := kr.Engine.Milestones[0].At.Format("2006-01-02T15:04:05Z07:00"); got != want {
		t.Errorf("milestone at %s, want %s", got, want)
	}
	if kr.Engine.Direction != "decrease" || kr.Engine.Baseline != 120 || kr.Engine.Target != 80 || kr.Engine.Weight != 1 {
		t.Errorf("engine = %+v", kr.Engine)
	}
}
