package app

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/okrd/okrd/config"
)

// TestReloadRefusesAConfigurationThatDefinesNothing replaces the running
// configuration with files that an interrupted or half-finished save
// leaves behind, and checks that each reload is refused with an error
// naming the file while okrd goes on serving the configuration it has.
func TestReloadRefusesAConfigurationThatDefinesNothing(t *testing.T) {
	ta := startApp(t, "", baseConfig, fixedClock)
	running := ta.Config()
	header := baseConfig[:strings.Index(baseConfig, "[[objectives]]")]
	tests := []struct {
		name string
		doc  string
		want string
	}{
		{"An empty file is refused.", "", "the file has no settings (it is empty or holds only comments)"},
		{"A file of comments only is refused.", "# objectives are being rewritten\n", "the file has no settings (it is empty or holds only comments)"},
		{"A file cut before its first objective is refused.", header, "objectives: at least one objective is required"},
		{"A file cut before an objective's key results is refused.", header + "[[objectives]]\nid = \"grow\"\ntitle = \"Grow\"\nperiod = \"2026-Q4\"\n", "objectives[0].key_results: at least one key result is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			writeConfig(t, ta.dir, tt.doc)

			err := ta.Reload(context.Background())
			var errs config.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Reload = %v, want config.Errors", err)
			}
			if !strings.Contains(err.Error(), ta.cfg) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Reload error %q does not name %s and say %q", err, ta.cfg, tt.want)
			}

			// The same through the endpoint. The API token goes along so
			// that the request is also allowed where reloading needs it.
			r := do(t, "POST", ta.url+"/-/reload", "s3cret-token", "")
			if r.code != 500 || !strings.Contains(r.body, "the running configuration is kept") ||
				!strings.Contains(r.body, ta.cfg) || !strings.Contains(r.body, tt.want) {
				t.Errorf("POST /-/reload = %d %s, want 500 naming %s and saying %q", r.code, r.body, ta.cfg, tt.want)
			}

			if ta.Config() != running {
				t.Fatal("the running configuration was replaced")
			}
			objs := getObjectives(t, ta, "")
			if len(objs) != 2 {
				t.Fatalf("objectives served after the refused reload = %d, want 2", len(objs))
			}
			m := do(t, "GET", ta.url+"/metrics", "", "")
			if !regexp.MustCompile(`(?m)^okrd_config_last_reload_successful 0$`).MatchString(m.body) {
				t.Errorf("okrd_config_last_reload_successful is not 0 after a refused reload")
			}
			if !strings.Contains(m.body, `okr_key_result_target{key_result="deploys",objective="ship"}`) {
				t.Errorf("/metrics lost the key results of the running configuration")
			}
		})
	}
}
