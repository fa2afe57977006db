package testenv

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The subprocess runs a test that finds nothing; the parent checks that it
// was skipped without OKRD_REQUIRE_INTEGRATION and failed with it.
func TestAMissingProgramSkipsOrFails(t *testing.T) {
	if os.Getenv("TESTENV_CHILD") == "1" {
		Program(t, "okrd-no-such-program", "nothing")
		t.Fatal("Program returned for a missing program")
	}
	for _, tc := range []struct {
		require string
		fails   bool
		want    string
	}{
		{"", false, "SKIP"},
		{"1", true, "okrd-no-such-program is not installed (apt-get install nothing, or scripts/install-test-deps.sh) (OKRD_REQUIRE_INTEGRATION=1)"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestAMissingProgramSkipsOrFails$", "-test.v")
		cmd.Env = append(os.Environ(), "TESTENV_CHILD=1", "OKRD_REQUIRE_INTEGRATION="+tc.require)
		out, err := cmd.CombinedOutput()
		if (err != nil) != tc.fails || !strings.Contains(string(out), tc.want) {
			t.Errorf("OKRD_REQUIRE_INTEGRATION=%q: err %v, output:\n%s", tc.require, err, out)
		}
	}
}
