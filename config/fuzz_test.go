package config

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// FuzzParse checks that no input makes the loader panic or hang, and that
// whatever it accepts satisfies the invariants the rest of okrd relies on.
func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile(examplePath); err == nil {
		f.Add(data)
	}
	for _, tt := range validationCases {
		f.Add([]byte(tt.doc))
	}
	for _, tt := range decodingCases {
		f.Add([]byte(tt.doc))
	}
	f.Add([]byte(fakeSourceDoc(`projects = ["${OKRD_FUZZ}", "$$1"]`, `[sources.s.options]`, `retries = 3`)))
	f.Add([]byte("a.b.c = [[1], {x = 2026-10-01}]\n'q.k' = 1\n"))

	env := envOf(map[string]string{"OKRD_FUZZ": "PAY"})
	f.Fuzz(func(t *testing.T, data []byte) {
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				panic(fmt.Sprintf("parse hangs on %q", data))
			}
		}()
		c, err := parse(data, "fuzz.toml", env)
		if err != nil {
			errs, ok := err.(Errors)
			if !ok || len(errs) == 0 {
				t.Fatalf("error is %T %v, want non-empty Errors", err, err)
			}
			for i, e := range errs {
				if e.Line < 0 || (i > 0 && e.Line < errs[i-1].Line) {
					t.Fatalf("errors not sorted by line: %v", errs)
				}
				if e.Msg == "" {
					t.Fatalf("error without a message: %+v", e)
				}
			}
			return
		}
		if c == nil {
			t.Fatal("nil config without error")
		}
		if c.Global.Location == nil || c.Global.Tolerance == nil {
			t.Fatal("defaults not applied")
		}
		if len(c.Objectives) == 0 {
			t.Fatal("accepted without objectives")
		}
		for _, o := range c.Objectives {
			if len(o.KeyResults) == 0 {
				t.Fatalf("objective %q accepted without key results", o.ID)
			}
			if !o.Resolved.End.After(o.Resolved.Start) {
				t.Fatalf("objective %q has an empty period %v", o.ID, o.Resolved)
			}
			for _, kr := range o.KeyResults {
				if kr.Weight == nil || kr.Tolerance == nil || kr.Engine.Direction == "" {
					t.Fatalf("key result %q not resolved: %+v", kr.ID, kr)
				}
			}
		}
		// An accepted config prints, and the print is accepted again
		// (unless a value holds a literal "${", which the print does not
		// escape).
		printed := c.String()
		if strings.HasPrefix(printed, "# cannot print config") {
			t.Fatalf("print failed: %s", printed)
		}
		if strings.Contains(printed, "${") {
			return
		}
		if _, err := parse([]byte(printed), "printed.toml", env); err != nil {
			t.Fatalf("printed config does not parse: %v\n--- input:\n%s\n--- printed:\n%s", err, data, printed)
		}
	})
}
