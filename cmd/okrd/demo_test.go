package main

import (
	"bytes"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestDemoRejectsBadInvocations(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"an unknown flag", []string{"--config", "okrd.toml"}, 2, "flag provided but not defined: -config"},
		{"an argument", []string{"now"}, 2, `okrd demo: unexpected argument "now"`},
		{"an empty listen address", []string{"--web.listen-address", ""}, 2, `okrd demo: --web.listen-address "" is not host:port, like :9184 or 127.0.0.1:9184`},
		{"a port out of range", []string{"--web.listen-address", "127.0.0.1:99999"}, 2, `okrd demo: --web.listen-address "127.0.0.1:99999": the port must be a number from 0 to 65535`},
		{"a bad log level", []string{"--log.level", "loud"}, 2, `okrd demo: --log.level: "loud" is not one of debug, info, warn, error`},
		{"a directory that is a file", []string{"--dir", file}, 1, "okrd demo: creating the demo directory: mkdir " + file + ": not a directory"},
		{"an address in use", []string{"--dir", t.TempDir(), "--web.listen-address", busy.Addr().String()}, 1,
			"okrd demo: listening on " + busy.Addr().String() + ": listen tcp " + busy.Addr().String() + ": bind: address already in use"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCLI(t, append([]string{"demo"}, tc.args...)...)
			if code != tc.code || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errs, tc.code, tc.want)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
		})
	}
}

func TestDemoPrintsTheURLsAndStopsOnSIGTERM(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	stdout, stderr := &syncBuffer{b: &out}, &syncBuffer{b: &errb}
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"demo", "--web.listen-address", "127.0.0.1:0", "--dir", dir}, stdout, stderr)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(stdout.String(), "Press Ctrl-C to stop") {
		if time.Now().After(deadline) {
			t.Fatalf("no URLs printed; stderr:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	printed := stdout.String()
	page := regexp.MustCompile(`The OKR page +(http://127\.0\.0\.1:\d+/)\n`).FindStringSubmatch(printed)
	if page == nil {
		t.Fatalf("no page URL in:\n%s", printed)
	}
	for _, want := range []string{page[1] + "metrics\n", page[1] + "api/v1/objectives\n", "Fake Jira Cloud        http://127.0.0.1:",
		"Fake GitHub            http://127.0.0.1:", "Fake Plausible API     http://127.0.0.1:", "Configuration          " + filepath.Join(dir, "okrd.toml"),
		"API token              ", "Authorization: Bearer ", "The sources poll every 30 s."} {
		if !strings.Contains(printed, want) {
			t.Errorf("stdout lacks %q:\n%s", want, printed)
		}
	}
	if strings.Contains(printed, "is removed then") {
		t.Errorf("a --dir is not removed, but stdout says so:\n%s", printed)
	}
	resp, err := http.Get(page[1])
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s: %s", page[1], resp.Status)
	}

	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d after SIGTERM; stderr:\n%s", code, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("okrd demo did not stop after SIGTERM")
	}
	if !strings.Contains(stderr.String(), "okrd demo stopped") {
		t.Errorf("no clean stop in the log:\n%s", stderr.String())
	}
	// A given directory stays, with the configuration in it.
	if _, err := os.Stat(filepath.Join(dir, "okrd.toml")); err != nil {
		t.Error(err)
	}
}
