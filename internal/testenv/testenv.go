// Package testenv decides, for every test that needs an external service
// or program (PostgreSQL, promtool, Prometheus, Alertmanager, Chromium),
// what its absence means: a skip that says why on a developer machine, a
// failure where OKRD_REQUIRE_INTEGRATION=1 (CI), so that a missing service
// never passes there silently.
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// Required reports whether external services are required
// (OKRD_REQUIRE_INTEGRATION=1).
func Required() bool { return os.Getenv("OKRD_REQUIRE_INTEGRATION") == "1" }

// Unavailable reports a missing service: the test fails when services are
// required and is skipped with the reason otherwise.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if Required() {
		t.Fatal(msg + " (OKRD_REQUIRE_INTEGRATION=1)")
	}
	t.Skip(msg)
}

// Program returns the path of a program the test needs, or reports it
// unavailable, naming the Debian package that provides it.
func Program(t testing.TB, name, debianPackage string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Unavailable(t, "%s is not installed (apt-get install %s, or scripts/install-test-deps.sh)", name, debianPackage)
	}
	return p
}
