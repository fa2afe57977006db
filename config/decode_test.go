package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var decodingCases = []struct {
	name string
	doc  string
	want []string
}{
	{
		name: "An unknown top-level table suggests the known one.",
		doc:  "[servr]\nlisten_address = \":1\"\n" + okObjective,
		want: []string{`okrd.toml:1: servr: unknown key, did you mean "server"?`},
	},
	{
		name: "An unknown key in [server] suggests the known one.",
		doc:  "[server]\nlisten-address = \":1\"\n" + okObjective,
		want: []string{`okrd.toml:2: server.listen-address: unknown key, did you mean "listen_address"?`},
	},
	{
		name: "An unknown key far from every known key gets no suggestion.",
		doc:  "[global]\ncolour = \"blue\"\n" + okObjective,
		want: []string{`okrd.toml:2: global.colour: unknown key`},
	},
	{
		name: "A misspelt key is reported once, not also as the missing key it was meant to be.",
		doc:  objDoc(`id = "o"`, `titel = "O"`, `period = "2026-Q4"`),
		want: []string{`okrd.toml:3: objectives[0].titel: unknown key, did you mean "title"?`},
	},
	{
		name: "An unknown key in a key result is found on its line.",
		doc:  krDoc(`baseline = 1`, `target = 2`, `wieght = 2`),
		want: []string{`okrd.toml:10: objectives[0].key_results[0].wieght: unknown key, did you mean "weight"?`},
	},
	{
		name: "Arrays of tables are numbered per parent, as TOML nests them.",
		doc: okObjective + strings.Replace(okObjective, `id = "o"`, `id = "o2"`, 1) +
			"  [[objectives.key_results]]\n  id = \"k2\"\n  title = \"K2\"\n  baseline = 1\n  target = 2\n  taget = 3\n",
		want: []string{`okrd.toml:26: objectives[1].key_results[1].taget: unknown key, did you mean "target"?`},
	},
	{
		name: "An unknown key in an inline table is found.",
		doc:  krDoc(`baseline = 1`, `target = 2`, `milestones = [`, `  { date = 2026-11-01, value = 1.5 },`, `  { date = 2026-11-15, valeu = 1.7 },`, `]`),
		want: []string{
			`okrd.toml:12: objectives[0].key_results[0].milestones[1].valeu: unknown key, did you mean "value"?`,
		},
	},
	{
		name: "A syntax error stops with its line.",
		doc:  "[server]\nlisten_address = \":9184\n" + okObjective,
		want: []string{`okrd.toml:2: syntax error: basic strings cannot have new lines`},
	},
	{
		name: "A key defined twice is reported with its line.",
		doc:  "[server]\nlisten_address = \":9184\"\nlisten_address = \":1\"\n" + okObjective,
		want: []string{`okrd.toml:3: key listen_address is already defined`},
	},
	{
		name: "A string where a number belongs names the field without echoing the value.",
		doc:  krDoc(`baseline = 1`, `target = "high"`),
		want: []string{`okrd.toml:9: objectives[0].key_results[0].target: must be a number, not a string`},
	},
	{
		name: "A number where a string belongs names the field.",
		doc:  "[server]\napi_token = 12345\n" + okObjective,
		want: []string{`okrd.toml:2: server.api_token: must be a string, not an integer`},
	},
	{
		name: "A string where a list belongs names the field.",
		doc:  fakeSourceDoc(`projects = "PAY"`),
		want: []string{`okrd.toml:4: sources.s.projects: must be an array, not a string`},
	},
	{
		name: "A wrong element in a list names the element.",
		doc:  fakeSourceDoc(`projects = ["PAY", 7]`),
		want: []string{`okrd.toml:4: sources.s.projects[1]: must be a string, not an integer`},
	},
	{
		name: "A date with a time of day is not a date.",
		doc:  objDoc(`id = "o"`, `title = "O"`, `start = 2026-10-01T00:00:00`, `end = 2026-12-31`),
		want: []string{`okrd.toml:4: objectives[0].start: must be a date without a time of day, like 2026-10-01`},
	},
	{
		name: "A string that is not a date is rejected.",
		doc:  objDoc(`id = "o"`, `title = "O"`, `start = "October 1st"`, `end = 2026-12-31`),
		want: []string{`okrd.toml:4: objectives[0].start: must be a date like 2026-10-01, not "October 1st"`},
	},
	{
		name: "A table where a value belongs names the field.",
		doc:  "[global.time_zone]\nname = \"UTC\"\n" + okObjective,
		want: []string{`okrd.toml:1: global.time_zone: must be a string, not a table`},
	},
	{
		name: "An integer too large for its field is rejected.",
		doc:  fakeSourceDoc(`[sources.s.options]`, `retries = 300`),
		want: []string{`okrd.toml:5: sources.s.options.retries: must be between 0 and 255, not 300`},
	},
	{
		name: "An objective that is not a table is reported, and the rest checked without it.",
		doc:  "objectives = [\"\"]\n",
		want: []string{`okrd.toml:1: objectives[0]: must be a table, not a string`},
	},
	{
		name: "A receiver that is not a table is reported, and the rest checked without it.",
		doc:  "[alerting]\nreceivers = [1]\ndefault_receiver = \"x\"\n" + okObjective,
		want: []string{
			`okrd.toml:2: alerting.receivers[0]: must be a table, not an integer`,
			`okrd.toml:3: alerting.default_receiver: unknown receiver "x": no [[alerting.receivers]] is defined`,
		},
	},
	{
		name: "A route that is not a table is reported, and the rest checked without it.",
		doc:  "[alerting]\nroutes = [1]\n" + okObjective,
		want: []string{`okrd.toml:2: alerting.routes[0]: must be a table, not an integer`},
	},
	{
		name: "The report's receiver is looked up among the receivers that are tables.",
		doc:  "[alerting]\nreceivers = [1, {name = \"x\", type = \"webhook\", url = \"https://hooks.example\"}]\ndefault_receiver = \"x\"\n[report]\nreceiver = \"x\"\n" + okObjective,
		want: []string{`okrd.toml:2: alerting.receivers[0]: must be a table, not an integer`},
	},
	{
		name: "Every error is reported, in line order, whatever stage found it.",
		doc: "[global]\ntime_zone = \"Mars/Olympus\"\ncolour = 1\n" +
			"[server]\nlisten_address = \"nope\"\napi_token = \"${OKRD_MISSING}\"\n" +
			okObjective +
			"  [[objectives.key_results]]\n  id = \"k\"\n  title = \"K\"\n  target = \"high\"\n  baseline = 3\n",
		want: []string{
			`okrd.toml:2: global.time_zone: unknown time zone "Mars/Olympus": use an IANA name like "Europe/Berlin" or "UTC"`,
			`okrd.toml:3: global.colour: unknown key`,
			`okrd.toml:5: server.listen_address: must be host:port like ":9184" or "127.0.0.1:9184", not "nope"`,
			`okrd.toml:6: server.api_token: environment variable OKRD_MISSING is not set`,
			`okrd.toml:18: objectives[0].key_results[1].id: duplicate key result id "k" in this objective (already used on line 13)`,
			`okrd.toml:20: objectives[0].key_results[1].target: must be a number, not a string`,
		},
	},
}

func TestParseReportsDecodingErrors(t *testing.T) {
	tests := decodingCases
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

func TestEnvironmentExpansion(t *testing.T) {
	env := map[string]string{
		"OKRD_URL":   "https://okrd.example.com",
		"OKRD_PORT":  "9999",
		"OKRD_PROJ":  "PAY",
		"OKRD_EMPTY": "",
	}
	tests := []struct {
		name  string
		doc   string
		want  []string
		check func(t *testing.T, c *Config)
	}{
		{
			name: "A set variable is substituted, also inside a longer string.",
			doc:  "[server]\nexternal_url = \"${OKRD_URL}/okr\"\nlisten_address = \":${OKRD_PORT}\"\n" + okObjective,
			check: func(t *testing.T, c *Config) {
				if c.Server.ExternalURL != "https://okrd.example.com/okr" || c.Server.ListenAddress != ":9999" {
					t.Errorf("server = %+v", c.Server)
				}
			},
		},
		{
			name: "Variables are substituted inside arrays.",
			doc:  fakeSourceDoc(`projects = ["${OKRD_PROJ}", "WEB"]`),
			check: func(t *testing.T, c *Config) {
				if got := c.Sources["s"].Spec.(*fakeSpec).Projects; !reflect.DeepEqual(got, []string{"PAY", "WEB"}) {
					t.Errorf("projects = %q", got)
				}
			},
		},
		{
			name: "$$ is a literal $ and a lone $ stays as it is.",
			doc:  fakeSourceDoc(`projects = ["$${OKRD_PROJ}", "A$$B", "$1", "END$"]`),
			check: func(t *testing.T, c *Config) {
				want := []string{"${OKRD_PROJ}", "A$B", "$1", "END$"}
				if got := c.Sources["s"].Spec.(*fakeSpec).Projects; !reflect.DeepEqual(got, want) {
					t.Errorf("projects = %q, want %q", got, want)
				}
			},
		},
		{
			name: "A variable set to the empty string is set.",
			doc:  "[server]\nexternal_url = \"${OKRD_EMPTY}\"\n" + okObjective,
			check: func(t *testing.T, c *Config) {
				if c.Server.ExternalURL != "" {
					t.Errorf("external_url = %q", c.Server.ExternalURL)
				}
			},
		},
		{
			name: "Variables are substituted before typed decoding.",
			doc:  fakeSourceDoc(`interval = "${OKRD_PORT}s"`),
			check: func(t *testing.T, c *Config) {
				if got := c.Sources["s"].Interval.String(); got != "2h46m39s" {
					t.Errorf("interval = %s", got)
				}
			},
		},
		{
			name: "Every unset variable is named, and nothing else is reported for the field.",
			doc:  "[[objectives]]\nid = \"o\"\ntitle = \"${OKRD_A}${OKRD_B}\"\nperiod = \"2026-Q4\"\n[[objectives.key_results]]\nid = \"k\"\ntitle = \"K\"\nbaseline = 1\ntarget = 2\n",
			want: []string{
				`okrd.toml:3: objectives[0].title: environment variable OKRD_A is not set`,
				`okrd.toml:3: objectives[0].title: environment variable OKRD_B is not set`,
			},
		},
		{
			name: "An unset variable inside an array names the element.",
			doc:  fakeSourceDoc(`projects = ["PAY", "${OKRD_NOPE}"]`),
			want: []string{`okrd.toml:4: sources.s.projects[1]: environment variable OKRD_NOPE is not set`},
		},
		{
			name: "An invalid variable name is rejected.",
			doc:  "[server]\nexternal_url = \"${1X}\"\n" + okObjective,
			want: []string{`okrd.toml:2: server.external_url: invalid environment variable name "1X" in "${...}" (write "$$" for a literal "$")`},
		},
		{
			name: "An unterminated reference is rejected.",
			doc:  "[server]\nexternal_url = \"${OKRD_URL\"\n" + okObjective,
			want: []string{`okrd.toml:2: server.external_url: unterminated "${" (write "$$" for a literal "$")`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := parse([]byte(tt.doc), "okrd.toml", envOf(env))
			if got := errorLines(t, err); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

func TestParseReadsTheProcessEnvironment(t *testing.T) {
	t.Setenv("OKRD_TEST_LISTEN", ":7777")
	c, err := Parse([]byte("[server]\nlisten_address = \"${OKRD_TEST_LISTEN}\"\n"+okObjective), "okrd.toml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.ListenAddress != ":7777" {
		t.Errorf("listen_address = %q", c.Server.ListenAddress)
	}
}

// writeFile writes a file under dir and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSecretFiles(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "secrets/api_token", "from-file-token\n")
	writeFile(t, dir, "secrets/crlf", "crlf-token\r\n")
	writeFile(t, dir, "secrets/empty", "\n")
	abs := writeFile(t, dir, "abs/dsn", "postgres://okrd:pw@db/okrd")
	if err := os.Mkdir(filepath.Join(dir, "adir"), 0o755); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		doc   string
		want  []string
		check func(t *testing.T, c *Config)
	}{
		{
			name: "A relative file is read next to the config, without its trailing newline.",
			doc:  "[server]\napi_token_file = \"secrets/api_token\"\n" + okObjective,
			check: func(t *testing.T, c *Config) {
				if got := c.Server.APIToken.Value(); got != "from-file-token" {
					t.Errorf("api_token = %q", got)
				}
			},
		},
		{
			name: "A CRLF line ending is removed too.",
			doc:  "[server]\napi_token_file = \"secrets/crlf\"\n" + okObjective,
			check: func(t *testing.T, c *Config) {
				if got := c.Server.APIToken.Value(); got != "crlf-token" {
					t.Errorf("api_token = %q", got)
				}
			},
		},
		{
			name: "An absolute file is read as it is.",
			doc:  "[storage]\ndriver = \"postgres\"\ndsn_file = \"" + filepath.ToSlash(abs) + "\"\n" + okObjective,
			check: func(t *testing.T, c *Config) {
				if got := c.Storage.DSN.Value(); got != "postgres://okrd:pw@db/okrd" {
					t.Errorf("dsn = %q", got)
				}
			},
		},
		{
			name: "A source spec's Secret is read from its _file twin.",
			doc:  fakeSourceDoc(`token_file = "secrets/api_token"`),
			check: func(t *testing.T, c *Config) {
				if got := c.Sources["s"].Spec.(*fakeSpec).Token.Value(); got != "from-file-token" {
					t.Errorf("token = %q", got)
				}
			},
		},
		{
			name: "A missing file names the field and the path.",
			doc:  "[server]\napi_token_file = \"secrets/nope\"\n" + okObjective,
			want: []string{dir + `/okrd.toml:2: server.api_token_file: cannot read "` + filepath.Join(dir, "secrets/nope") + `": no such file or directory`},
		},
		{
			name: "An empty file is an error, not an empty secret.",
			doc:  fakeSourceDoc(`token_file = "secrets/empty"`),
			want: []string{dir + `/okrd.toml:4: sources.s.token_file: file "` + filepath.Join(dir, "secrets/empty") + `" is empty`},
		},
		{
			name: "A directory is not a secret file.",
			doc:  "[server]\napi_token_file = \"adir\"\n" + okObjective,
			want: []string{dir + `/okrd.toml:2: server.api_token_file: cannot read "` + filepath.Join(dir, "adir") + `": not a regular file`},
		},
		{
			name: "A spec secret given inline and as a file is rejected.",
			doc:  fakeSourceDoc(`token = "x"`, `token_file = "secrets/api_token"`),
			want: []string{dir + `/okrd.toml:5: sources.s.token_file: cannot be combined with token: set one of them`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, dir, "okrd.toml", tt.doc)
			c, err := Load(path)
			if got := errorLines(t, err); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

func TestLoadReturnsTheFileSystemErrorForAMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.toml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want fs.ErrNotExist", err)
	}
	var errs Errors
	if errors.As(err, &errs) {
		t.Errorf("a missing file is not a config error, got Errors")
	}
}

func TestSecretsNeverAppearInErrorsOrPrintedConfig(t *testing.T) {
	const (
		inline   = "inline-secret-8c1f"
		fromEnv  = "env-secret-5d2e"
		fromFile = "file-secret-77ab"
		dsnPass  = "dsn-password-19c4"
	)
	dir := t.TempDir()
	writeFile(t, dir, "token", fromFile+"\n")
	env := envOf(map[string]string{
		"OKRD_TEST_DSN":   "postgres://okrd:" + dsnPass + "@db/okrd",
		"OKRD_TEST_TOKEN": fromEnv,
	})
	valid := "[server]\napi_token = \"" + inline + "\"\n" +
		"[storage]\ndriver = \"postgres\"\ndsn = \"${OKRD_TEST_DSN}\"\n" +
		"[sources.s]\ntype = \"fake\"\nurl = \"https://fake.example\"\ntoken = \"${OKRD_TEST_TOKEN}\"\n" +
		"[sources.t]\ntype = \"fake\"\nurl = \"https://fake.example\"\ntoken_file = \"token\"\n" +
		okObjective
	// The same secrets, in a config with errors in and around the secret
	// fields: wrong types, both value and file, and failures elsewhere.
	invalid := "[server]\napi_token = \"" + inline + "\"\napi_token_file = \"token\"\n" +
		"[storage]\ndriver = \"postgres\"\ndsn = \"${OKRD_TEST_DSN}\"\ndsn_file = \"token\"\n" +
		"[sources.s]\ntype = \"fake\"\ntoken = \"${OKRD_TEST_TOKEN}\"\ntoken_file = \"token\"\n" +
		"[sources.t]\ntype = \"fake\"\nurl = \"https://fake.example\"\ntoken = [\"" + inline + "\"]\n" +
		"[sources.u]\ntype = \"fake\"\nurl = \"https://fake.example\"\ntoken_file = \"token\"\npage_size = \"" + fromEnv + "\"\n" +
		krDoc(`baseline = "${OKRD_TEST_TOKEN}"`, `target = 2`)
	secrets := []string{inline, fromEnv, fromFile, dsnPass}

	cfg, err := parse([]byte(valid), filepath.Join(dir, "okrd.toml"), env)
	if err != nil {
		t.Fatalf("valid config: %v", err)
	}
	// The secrets did arrive, so their absence below is redaction, not loss.
	if cfg.Server.APIToken.Value() != inline || !strings.Contains(cfg.Storage.DSN.Value(), dsnPass) ||
		cfg.Sources["s"].Spec.(*fakeSpec).Token.Value() != fromEnv || cfg.Sources["t"].Spec.(*fakeSpec).Token.Value() != fromFile {
		t.Fatal("secrets were not decoded")
	}
	_, invalidErr := parse([]byte(invalid), filepath.Join(dir, "okrd.toml"), env)
	if invalidErr == nil {
		t.Fatal("invalid config: no errors")
	}
	outputs := map[string]string{
		"String()":     cfg.String(),
		"%v":           fmt.Sprintf("%v", cfg),
		"%+v":          fmt.Sprintf("%+v", cfg),
		"%#v server":   fmt.Sprintf("%#v", cfg.Server),
		"%+v storage":  fmt.Sprintf("%+v", cfg.Storage),
		"%+v spec s":   fmt.Sprintf("%+v", cfg.Sources["s"].Spec),
		"%+v spec t":   fmt.Sprintf("%+v", cfg.Sources["t"].Spec),
		"%s token":     fmt.Sprintf("%s %q %x %d", cfg.Server.APIToken, cfg.Server.APIToken, cfg.Server.APIToken, cfg.Server.APIToken),
		"JSON":         jsonString(t, cfg),
		"errors":       invalidErr.Error(),
		"errors lines": strings.Join(errorLines(t, invalidErr), "\n"),
	}
	for name, out := range outputs {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("%s contains the secret %q:\n%s", name, s, out)
			}
		}
	}
	if !strings.Contains(outputs["String()"], `api_token = '<secret>'`) {
		t.Errorf("printed config does not show the redacted token:\n%s", outputs["String()"])
	}
}

func TestPrintedConfigParsesAgain(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "token", "file-token\n")
	doc := "[server]\napi_token_file = \"token\"\n" +
		"[sources.s]\ntype = \"fake\"\nurl = \"https://fake.example\"\ntoken_file = \"token\"\nprojects = [\"PAY\"]\n" +
		fakeSourceDoc()[len(fakeSource):]
	c, err := parse([]byte(doc), filepath.Join(dir, "okrd.toml"), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	printed := c.String()
	c2, err := parse([]byte(printed), filepath.Join(dir, "printed.toml"), envOf(nil))
	if err != nil {
		t.Fatalf("printed config does not parse:\n%v\n%s", err, printed)
	}
	if again := c2.String(); again != printed {
		t.Errorf("printing is not stable:\n%s\nthen:\n%s", printed, again)
	}
	if strings.Contains(printed, "api_token = ") {
		t.Errorf("a secret read from a file is printed as its value:\n%s", printed)
	}
}

func jsonString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPrintingIsSafeToCallConcurrently(t *testing.T) {
	type nested struct {
		Password Secret `toml:"password"`
	}
	type spec struct {
		Accounts []nested `toml:"accounts"`
	}
	registerForTest(t, "nested", SourceType{NewSpec: func() any { return &spec{} }})
	c, err := parse([]byte("[sources.n]\ntype = \"nested\"\naccounts = [{ password = \"pw-6a1b\" }]\n"+okObjective), "okrd.toml", envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan string, 8)
	for range cap(out) {
		go func() { out <- c.String() }()
	}
	for range cap(out) {
		if s := <-out; strings.Contains(s, "pw-6a1b") || !strings.Contains(s, "password = '<secret>'") {
			t.Fatalf("printed:\n%s", s)
		}
	}
	// Printing redacts a copy: the config itself keeps the secret.
	if got := c.Sources["n"].Spec.(*spec).Accounts[0].Password.Value(); got != "pw-6a1b" {
		t.Errorf("password = %q after printing", got)
	}
}

func TestNestedSpecSecretsAreReadFromFilesAndRedacted(t *testing.T) {
	type header struct {
		Name      string `toml:"name"`
		Value     Secret `toml:"value"`
		ValueFile string `toml:"value_file"`
	}
	type auth struct {
		Username     string `toml:"username"`
		Password     Secret `toml:"password"`
		PasswordFile string `toml:"password_file"`
	}
	type client struct {
		Headers   []header `toml:"secret_headers"`
		BasicAuth *auth    `toml:"basic_auth"`
	}
	type spec struct {
		client        // embedded without a tag: its keys sit in the source table
		URL    string `toml:"url"`
	}
	registerForTest(t, "http", SourceType{NewSpec: func() any { return &spec{} }})
	dir := t.TempDir()
	writeFile(t, dir, "h", "header-secret-41\n")
	writeFile(t, dir, "p", "password-secret-42\n")
	doc := "[sources.h]\ntype = \"http\"\nurl = \"https://x.example\"\n" +
		"secret_headers = [{ name = \"X-Key\", value_file = \"h\" }, { name = \"X-Other\", value = \"inline-secret-43\" }]\n" +
		"basic_auth = { username = \"u\", password_file = \"p\" }\n" + okObjective
	c, err := parse([]byte(doc), filepath.Join(dir, "okrd.toml"), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	s := c.Sources["h"].Spec.(*spec)
	if s.Headers[0].Value.Value() != "header-secret-41" || s.Headers[1].Value.Value() != "inline-secret-43" ||
		s.BasicAuth.Password.Value() != "password-secret-42" || s.URL != "https://x.example" {
		t.Errorf("spec = %+v", s)
	}
	printed := c.String()
	for _, secret := range []string{"header-secret-41", "inline-secret-43", "password-secret-42"} {
		if strings.Contains(printed, secret) {
			t.Errorf("printed config contains %q:\n%s", secret, printed)
		}
	}
	if !strings.Contains(printed, "value_file = 'h'") || !strings.Contains(printed, "value = '<secret>'") {
		t.Errorf("printed config:\n%s", printed)
	}

	// A missing nested file is reported at its full path and line.
	_, err = parse([]byte(strings.Replace(doc, `value_file = "h"`, `value_file = "nope"`, 1)), filepath.Join(dir, "okrd.toml"), envOf(nil))
	want := []string{dir + `/okrd.toml:4: sources.h.secret_headers[0].value_file: cannot read "` + filepath.Join(dir, "nope") + `": no such file or directory`}
	if got := errorLines(t, err); !reflect.DeepEqual(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestRedactedCopyLooksIntoUnexportedEmbeddedStructs(t *testing.T) {
	type creds struct {
		Token Secret
	}
	type outer struct {
		creds
		Name string
	}
	in := outer{creds{"tok-secret-44"}, "n"}
	out := redactedCopy(reflect.ValueOf(in)).Interface().(outer)
	if out.Token != redacted || out.Name != "n" || in.Token != "tok-secret-44" {
		t.Errorf("copy = %+v, original = %+v", out.Token.Value(), in.Token.Value())
	}
}
