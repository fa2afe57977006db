package deploy

import (
	"bufio"
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/okrd/okrd/internal/testenv"
)

const unitFile = "systemd/okrd.service"

// maxExposure is the highest `systemd-analyze security` exposure the unit
// may have (0 is the most confined, 10 the least; docs/deploy.md gives the
// score).
const maxExposure = 1.5

// unit is a systemd unit file: for each section, each directive's values
// in order (a directive may be given more than once).
type unit map[string]map[string][]string

func parseUnit(t *testing.T, b []byte) unit {
	t.Helper()
	u := unit{}
	section := ""
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			u[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s:%d: %q is not a directive of a section", unitFile, i+1, line)
			}
			u[section][strings.TrimSpace(k)] = append(u[section][strings.TrimSpace(k)], strings.TrimSpace(v))
		}
	}
	return u
}

func readUnit(t *testing.T) ([]byte, unit) {
	t.Helper()
	b, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	return b, parseUnit(t, b)
}

// copyTree copies a directory tree, symbolic links as links.
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(target, dst)
		case d.IsDir():
			return os.MkdirAll(dst, 0o755)
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(dst, b, 0o644)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}

// verifyUnit runs `systemd-analyze verify` on a unit installed into a
// root directory of its own, which holds the system's own units (the
// targets a service is ordered against) and, since verify checks that
// every command of the unit is an executable file, a stub at the path of
// each command. It returns what verify printed; verify reports a directive
// it does not know or a value it cannot parse only by printing it.
func verifyUnit(t *testing.T, analyze string, content []byte) (string, error) {
	t.Helper()
	const systemUnits = "/usr/lib/systemd/system"
	if _, err := os.Stat(filepath.Join(systemUnits, "multi-user.target")); err != nil {
		testenv.Unavailable(t, "systemd's own units are not installed in %s (apt-get install systemd): %v", systemUnits, err)
	}
	root := t.TempDir()
	copyTree(t, systemUnits, filepath.Join(root, systemUnits))
	dir := filepath.Join(root, "etc/systemd/system")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "okrd.service"), content, 0o644); err != nil {
		t.Fatal(err)
	}
	u := parseUnit(t, content)
	for _, key := range []string{"ExecStart", "ExecReload", "ExecStartPre", "ExecStartPost", "ExecStop", "ExecStopPost"} {
		for _, cmd := range u["Service"][key] {
			bin := strings.Fields(strings.TrimLeft(cmd, "-@:+!"))[0]
			if !filepath.IsAbs(bin) {
				continue
			}
			stub := filepath.Join(root, bin)
			if err := os.MkdirAll(filepath.Dir(stub), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(stub, []byte("#!/bin/sh\n"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	out, err := exec.Command(analyze, "verify", "--root="+root, "--man=no", "okrd.service").CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// TestSystemdUnitVerifies runs `systemd-analyze verify` on the unit, which
// must pass without a word, and shows that it speaks up about a misspelt
// directive and a value it cannot parse, so that its silence means
// something.
func TestSystemdUnitVerifies(t *testing.T) {
	analyze := testenv.Program(t, "systemd-analyze", "systemd")
	content, _ := readUnit(t)
	if out, err := verifyUnit(t, analyze, content); err != nil || out != "" {
		t.Errorf("systemd-analyze verify %s: %v\n%s", unitFile, err, out)
	}
	for _, tc := range []struct{ name, old, new string }{
		{"a misspelt directive", "ProtectSystem=strict", "ProtectSystm=strict"},
		{"a value it cannot parse", "ProtectSystem=strict", "ProtectSystem=stric"},
		{"a directive in the wrong section", "[Install]\nWantedBy=multi-user.target", "[Install]\nWantedBy=multi-user.target\nRestart=always"},
	} {
		t.Run("verify reports "+tc.name, func(t *testing.T) {
			if !bytes.Contains(content, []byte(tc.old)) {
				t.Fatalf("%s no longer contains %q; update the test", unitFile, tc.old)
			}
			out, err := verifyUnit(t, analyze, bytes.Replace(content, []byte(tc.old), []byte(tc.new), 1))
			if err == nil && out == "" {
				t.Errorf("systemd-analyze verify said nothing of %s", tc.name)
			} else {
				t.Logf("reported: %v %s", err, out)
			}
		})
	}
}

var exposure = regexp.MustCompile(`Overall exposure level for okrd\.service: (\d+\.\d+)`)

// TestSystemdUnitIsHardened checks the confinement the unit promises, one
// directive at a time, and its overall exposure as `systemd-analyze
// security` rates it offline.
func TestSystemdUnitIsHardened(t *testing.T) {
	_, u := readUnit(t)
	s := u["Service"]
	for _, want := range []struct{ key, value string }{
		{"ExecStart", "/usr/local/bin/okrd run --config /etc/okrd/okrd.toml"},
		// okrd reloads its configuration on SIGHUP.
		{"ExecReload", "/bin/kill -HUP $MAINPID"},
		{"DynamicUser", "yes"},
		{"StateDirectory", "okrd"},
		{"WorkingDirectory", "/var/lib/okrd"},
		{"ProtectSystem", "strict"},
		{"ProtectHome", "yes"},
		{"PrivateTmp", "yes"},
		{"PrivateDevices", "yes"},
		{"NoNewPrivileges", "yes"},
		{"CapabilityBoundingSet", ""},
		{"AmbientCapabilities", ""},
		{"RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6"},
		{"SystemCallFilter", "@system-service"},
		{"SystemCallArchitectures", "native"},
		{"MemoryDenyWriteExecute", "yes"},
		{"RestrictNamespaces", "yes"},
		{"RestrictSUIDSGID", "yes"},
		{"LockPersonality", "yes"},
		{"ProtectKernelTunables", "yes"},
		{"ProtectKernelModules", "yes"},
		{"ProtectControlGroups", "yes"},
		{"PrivateUsers", "yes"},
		{"PrivateMounts", "yes"},
		{"ProtectHostname", "yes"},
		{"ProtectClock", "yes"},
		{"ProtectKernelLogs", "yes"},
		{"ProtectProc", "invisible"},
		{"ProcSubset", "pid"},
		{"RestrictRealtime", "yes"},
		{"DevicePolicy", "closed"},
		{"UMask", "0077"},
	} {
		if !slices.Contains(s[want.key], want.value) {
			t.Errorf("[Service] %s=%s missing (have %q)", want.key, want.value, s[want.key])
		}
	}
	if slices.Contains(s["User"], "root") || len(s["User"]) > 0 && len(s["DynamicUser"]) > 0 {
		t.Errorf("User=%v next to DynamicUser=%v", s["User"], s["DynamicUser"])
	}

	analyze := testenv.Program(t, "systemd-analyze", "systemd")
	out, err := exec.Command(analyze, "security", "--offline=yes", unitFile).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security --offline=yes %s: %v\n%s", unitFile, err, out)
	}
	m := exposure.FindSubmatch(out)
	if m == nil {
		t.Fatalf("systemd-analyze security printed no overall exposure:\n%s", out)
	}
	score, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("systemd-analyze security: overall exposure %.1f (at most %.1f allowed)", score, maxExposure)
	if score > maxExposure {
		t.Errorf("overall exposure %.1f, want at most %.1f:\n%s", score, maxExposure, out)
	}
}

// TestSystemdUnitCommandsStartAndReloadOkrd runs the unit's ExecStart
// (its configuration file mapped to a temporary one) and then its
// ExecReload with $MAINPID set as systemd sets it: okrd must reload its
// configuration, and stop cleanly on SIGTERM, as systemctl stop sends.
func TestSystemdUnitCommandsStartAndReloadOkrd(t *testing.T) {
	bin := okrdBinary(t)
	_, u := readUnit(t)
	dir := t.TempDir()
	config := filepath.Join(dir, "okrd.toml")
	if err := os.WriteFile(config, []byte(`[server]
listen_address = "127.0.0.1:0"

[[objectives]]
id     = "unit-test"
title  = "The unit starts okrd"
period = "2026-Q4"

  [[objectives.key_results]]
  id       = "reloads"
  title    = "okrd reloads on SIGHUP"
  baseline = 0
  target   = 1
`), 0o644); err != nil {
		t.Fatal(err)
	}

	start := strings.Fields(u["Service"]["ExecStart"][0])
	if start[0] != "/usr/local/bin/okrd" {
		t.Fatalf("ExecStart runs %s, not okrd", start[0])
	}
	args := slices.Clone(start[1:])
	for i, a := range args {
		if a == "/etc/okrd/okrd.toml" {
			args[i] = config
		}
	}
	cmd := exec.Command(bin, args...)
	// The unit's WorkingDirectory, where the relative default okrd.db lands.
	cmd.Dir = dir
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 100)
	done := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	})
	var log []string
	waitFor := func(msg string) {
		t.Helper()
		// A safety net only: each line comes within a second or two.
		timeout := time.After(2 * time.Minute)
		for {
			select {
			case line, ok := <-lines:
				if !ok {
					t.Fatalf("okrd exited before it logged %q:\n%s", msg, strings.Join(log, "\n"))
				}
				log = append(log, line)
				if strings.Contains(line, msg) {
					return
				}
			case <-timeout:
				t.Fatalf("okrd did not log %q:\n%s", msg, strings.Join(log, "\n"))
			}
		}
	}
	// okrd handles SIGHUP from before it listens.
	waitFor("msg=listening")

	reload := strings.ReplaceAll(u["Service"]["ExecReload"][0], "$MAINPID", strconv.Itoa(cmd.Process.Pid))
	f := strings.Fields(reload)
	if out, err := exec.Command(f[0], f[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("ExecReload %s: %v\n%s", reload, err, out)
	}
	waitFor(`msg="configuration reloaded"`)

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for line := range lines {
		log = append(log, line)
	}
	if err := <-done; err != nil || !strings.Contains(strings.Join(log, "\n"), `msg="okrd stopped"`) {
		t.Errorf("okrd did not stop cleanly on SIGTERM (%v):\n%s", err, strings.Join(log, "\n"))
	}
}
