package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/okrd/okrd/store/sqlite"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

const cliConfig = `
[server]
listen_address = "127.0.0.1:0"

[storage]
dsn = "{{DB}}"

[[objectives]]
id = "grow"
title = "Grow"
period = "2026-Q4"

  [[objectives.key_results]]
  id = "nps"
  title = "NPS"
  baseline = 31
  target = 40
`

func writeFile(t *testing.T, dir, text string) string {
	t.Helper()
	p := filepath.Join(dir, "okrd.toml")
	text = strings.ReplaceAll(text, "{{DB}}", filepath.Join(dir, "okrd.db"))
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheckAcceptsTheExampleConfig(t *testing.T) {
	code, out, errs := runCLI(t, "check", "--config", "../../config.example.toml")
	if code != 0 || !strings.Contains(out, "config.example.toml: OK:") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
}

func TestCheckListsEveryErrorWithFileLineAndPath(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, `
[server]
listen_adress = ":9184"

[[objectives]]
id = "grow"
title = "Grow"
period = "2026-Q5"

  [[objectives.key_results]]
  id = "nps"
  title = "NPS"
  baseline = 31
  target = 31
`)
	code, _, errs := runCLI(t, "check", "--config", p)
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr: %s", code, errs)
	}
	for _, want := range []string{
		"the configuration has 3 error(s):",
		p + ":3: server.listen_adress: unknown key",
		p + ":8: objectives[0].period:",
		p + ":14: objectives[0].key_results[0].target: must differ from baseline",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
}

func TestCheckinRecordsAValueThatTheDaemonServes(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, cliConfig)
	code, out, errs := runCLI(t, "checkin", "--config", p, "grow/nps", "36", "--note", "October survey", "--at", "2026-11-01", "--author", "ana")
	if code != 0 || !strings.Contains(out, "grow/nps = 36 at 2026-11-01T00:00:00Z by ana") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	// A negative value is a value, not a flag.
	if code, out, errs := runCLI(t, "checkin", "--config", p, "grow/nps", "-3", "--at", "2026-11-02"); code != 0 || !strings.Contains(out, "grow/nps = -3") {
		t.Fatalf("negative value: exit %d %s %s", code, out, errs)
	}
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"grow/nope", "1"}, 1, `key result "nope" does not exist in objective "grow" (key results: nps)`},
		{[]string{"nope/nps", "1"}, 1, `objective "nope" does not exist (objectives: grow)`},
		{[]string{"grow-nps", "1"}, 2, `"grow-nps" is not OBJECTIVE/KEY_RESULT`},
		{[]string{"grow/nps", "many"}, 2, `value "many" is not a number`},
		{[]string{"grow/nps"}, 2, "want OBJECTIVE/KEY_RESULT VALUE"},
		{[]string{"grow/nps", "1", "--at", "tomorrow"}, 2, `--at: "tomorrow" is not an RFC 3339 time`},
	} {
		code, _, errs := runCLI(t, append([]string{"checkin", "--config", p}, tc.args...)...)
		if code != tc.code || !strings.Contains(errs, tc.msg) {
			t.Errorf("%v: exit %d %q, want %d %q", tc.args, code, errs, tc.code, tc.msg)
		}
	}
}

func TestUnknownCommandsAndVersion(t *testing.T) {
	if code, _, errs := runCLI(t, "frobnicate"); code != 2 || !strings.Contains(errs, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: %d %s", code, errs)
	}
	if code, out, _ := runCLI(t, "version"); code != 0 || !strings.HasPrefix(out, "okrd, version") {
		t.Errorf("version: %d %s", code, out)
	}
	if code, _, _ := runCLI(t); code != 2 {
		t.Errorf("no command: %d", code)
	}
}

func TestRunReloadsOnSIGHUPAndStopsOnSIGTERM(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, cliConfig)
	done := make(chan int, 1)
	var errb bytes.Buffer
	w := &syncBuffer{b: &errb}
	go func() { done <- run([]string{"run", "--config", p, "--log.level", "debug"}, &bytes.Buffer{}, w) }()
	waitLog(t, w, "listening")
	// A config with a second key result: SIGHUP picks it up.
	os.WriteFile(p, []byte(strings.ReplaceAll(cliConfig, "{{DB}}", filepath.Join(dir, "okrd.db"))+`
  [[objectives.key_results]]
  id = "activation"
  title = "Activation"
  baseline = 0.3
  target = 0.4
  unit = "ratio"
`), 0o600)
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	waitLog(t, w, "configuration reloaded")
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d after SIGTERM; log:\n%s", code, w.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("okrd run did not stop after SIGTERM")
	}
	if !strings.Contains(w.String(), "okrd stopped") {
		t.Errorf("no clean stop in the log:\n%s", w.String())
	}
}

func waitLog(t *testing.T, w *syncBuffer, s string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(w.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("log never said %q:\n%s", s, w.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestCheckinRefusesInvalidValuesNamingTheArgumentAndStoresNothing(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, cliConfig+`
  [[objectives.key_results]]
  id = "activation"
  title = "Activation"
  baseline = 0.3
  target = 0.4
  unit = "ratio"

  [[objectives.key_results]]
  id = "uptime"
  title = "Uptime"
  baseline = 99
  target = 99.9
  unit = "percent"
`)
	future := time.Now().Add(25 * time.Hour).UTC().Format(time.RFC3339)
	for _, tc := range []struct {
		name string
		args []string
		msg  string
	}{
		{"The zero time is not taken as now.", []string{"grow/nps", "36", "--at", "0001-01-01T00:00:00Z"},
			"okrd checkin: --at: 0001-01-01T00:00:00Z is the zero time, not a real instant"},
		{"A time before 1970 is refused.", []string{"grow/nps", "36", "--at", "1969-07-20"},
			"okrd checkin: --at: 1969-07-20T00:00:00Z is before 1970-01-01T00:00:00Z"},
		{"A time more than a day ahead is refused.", []string{"grow/nps", "36", "--at", future},
			"okrd checkin: --at: " + future + " is more than a day in the future"},
		{"A ratio above 1 is refused.", []string{"grow/activation", "35"},
			`okrd checkin: VALUE: must be between 0 and 1 for a key result with unit "ratio" (write 40% as 0.4), not 35`},
		{"A percentage above 100 is refused.", []string{"grow/uptime", "101"},
			`okrd checkin: VALUE: must be between 0 and 100 for a key result with unit "percent", not 101`},
		{"A note that is too long names the flag.", []string{"grow/nps", "36", "--note", strings.Repeat("n", 4001)},
			"okrd checkin: --note: longer than 4000 bytes"},
		{"An infinite value is refused.", []string{"grow/nps", "+Inf"},
			"okrd checkin: VALUE: must be a finite number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCLI(t, append([]string{"checkin", "--config", p}, tc.args...)...)
			if code != 1 || !strings.Contains(errs, tc.msg) {
				t.Errorf("exit %d\nstdout: %s\nstderr: %s\nwant exit 1 with %q", code, out, errs, tc.msg)
			}
		})
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "okrd.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, kr := range []string{"nps", "activation", "uptime"} {
		if cs, err := st.Checkins(context.Background(), "grow", kr, 0); err != nil || len(cs) != 0 {
			t.Errorf("grow/%s: refused check-ins were stored: %v %v", kr, cs, err)
		}
	}
}

func TestRunEnablesReloadOverHTTPWithTheLifecycleFlag(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, cliConfig)
	done := make(chan int, 1)
	w := &syncBuffer{b: &bytes.Buffer{}}
	go func() { done <- run([]string{"run", "--config", p, "--web.enable-lifecycle"}, &bytes.Buffer{}, w) }()
	waitLog(t, w, "msg=listening")
	m := regexp.MustCompile(`msg=listening address=(\S+)`).FindStringSubmatch(w.String())
	if m == nil {
		t.Fatalf("no address in the log:\n%s", w.String())
	}
	// Reloading needs no token with the flag (cliConfig has none).
	resp, err := http.Post("http://"+m[1]+"/-/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"status": "reloaded"`) {
		t.Errorf("POST /-/reload: %d %s", resp.StatusCode, body)
	}
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d after SIGTERM; log:\n%s", code, w.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("okrd run did not stop after SIGTERM")
	}
}
