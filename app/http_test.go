package app

import (
	"strings"
	"testing"
)

func TestReloadOverHTTPNeedsTheLifecycleFlagOrTheAPIToken(t *testing.T) {
	ta := startApp(t, "", baseConfig, fixedClock)
	writeConfig(t, ta.dir, baseConfig+`
[[objectives]]
id = "learn"
title = "Learn"
period = "2026-Q4"
  [[objectives.key_results]]
  id = "interviews"
  title = "Customer interviews"
  baseline = 0
  target = 20
`)
	r := do(t, "POST", ta.url+"/-/reload", "", "")
	if r.code != 403 || !strings.Contains(r.body, "Lifecycle API is not enabled") {
		t.Errorf("reload without the flag or a token: %d %s", r.code, r.body)
	}
	if n := len(getObjectives(t, ta, "")); n != 2 {
		t.Errorf("objectives after a refused reload = %d, want 2", n)
	}
	if r := do(t, "POST", ta.url+"/-/reload", "s3cret-token", ""); r.code != 200 {
		t.Errorf("reload with the API token: %d %s", r.code, r.body)
	}
	if n := len(getObjectives(t, ta, "")); n != 3 {
		t.Errorf("objectives after the reload = %d, want 3", n)
	}
}
