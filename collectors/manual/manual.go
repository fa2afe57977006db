// Package manual owns the "manual" source type: a named source for key
// results that take their values from check-ins only. A key result without
// a source is manual too; a named manual source lets a config say so
// explicitly and group such key results (for example a quarterly survey).
package manual

import (
	"context"
	"time"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
)

// Spec is the configuration of a manual source: it has no settings.
type Spec struct{}

type source struct{}

// Poll has nothing to fetch.
func (source) Poll(context.Context) error { return nil }

// Measure reports no value: the values of manual key results are check-ins.
func (source) Measure(_ context.Context, bs []collectors.Binding, _ time.Time) []collectors.Measurement {
	return make([]collectors.Measurement, len(bs))
}

func init() {
	config.RegisterSourceType("manual", config.SourceType{NewSpec: func() any { return &Spec{} }})
	collectors.Register("manual", func(*config.Source, collectors.Deps) (collectors.Source, error) { return source{}, nil })
}
