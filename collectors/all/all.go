// Package all links every built-in source type into the binary: importing
// it runs each type's registration (config.RegisterSourceType and
// collectors.Register) from its init function.
package all

import (
	// Each source type registers itself; add new ones here.
	_ "github.com/okrd/okrd/collectors/github"
	_ "github.com/okrd/okrd/collectors/httpjson"
	_ "github.com/okrd/okrd/collectors/jira"
	_ "github.com/okrd/okrd/collectors/manual"
	_ "github.com/okrd/okrd/collectors/promql"
	_ "github.com/okrd/okrd/collectors/sql"
)
