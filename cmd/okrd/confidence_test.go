package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/okrd/okrd/store/sqlite"
)

func TestConfidenceIsRecordedByCLIAloneOrWithACheckin(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, cliConfig)
	code, out, errs := runCLI(t, "confidence", "--config", p, "grow/nps", "high", "--note", "survey on time", "--author", "lena", "--at", "2026-11-10")
	if code != 0 || !strings.Contains(out, "grow/nps = 9/10 (high) at 2026-11-10T00:00:00Z by lena") {
		t.Fatalf("confidence: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	code, out, errs = runCLI(t, "checkin", "--config", p, "grow/nps", "36", "--confidence", "5", "--author", "lena", "--at", "2026-11-11")
	if code != 0 || !strings.Contains(out, ", confidence 5/10 (medium)") {
		t.Fatalf("checkin --confidence: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"confidence", "--config", p, "grow/nps", "11"}, 2,
			"okrd confidence: CONFIDENCE: must be a whole number from 1 to 10 or one of low (3), medium (6), high (9), not 11"},
		{[]string{"confidence", "--config", p, "grow/nps", "sure"}, 2, `okrd confidence: CONFIDENCE: must be a whole number`},
		{[]string{"confidence", "--config", p, "grow/none", "5"}, 1, `key result "none" does not exist in objective "grow"`},
		{[]string{"checkin", "--config", p, "grow/nps", "36", "--confidence", "0"}, 2, "okrd checkin: --confidence: must be a whole number from 1 to 10"},
		{[]string{"confidence", "--config", p, "grow/nps"}, 2, "okrd confidence: want OBJECTIVE/KEY_RESULT CONFIDENCE"},
	} {
		code, out, errs := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.msg) {
			t.Errorf("%v: exit %d\nstdout: %s\nstderr: %s\nwant exit %d with %q", tc.args, code, out, errs, tc.code, tc.msg)
		}
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "okrd.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cs, err := st.Confidences(context.Background(), "grow", "nps", 0)
	if err != nil || len(cs) != 2 || cs[0].Value != 5 || cs[0].CheckinID == 0 || cs[1].Value != 9 || cs[1].Note != "survey on time" {
		t.Errorf("stored confidences = %+v, %v; want 5 (with the check-in) then 9", cs, err)
	}
	if ci, _ := st.Checkins(context.Background(), "grow", "nps", 0); len(ci) != 1 {
		t.Errorf("check-ins = %+v, want the one with confidence 5 only", ci)
	}
}
