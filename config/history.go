package config

import (
	"time"
)

// DefaultHistoryStep is the default grid of filled-in history: one value a
// day, at midnight in global.time_zone.
const DefaultHistoryStep = Duration(24 * time.Hour)

// History configures the filled-in history of key results bound to a
// source that can measure the past (docs/history.md): okrd computes each
// such key result's value at every instant of a grid over its period from
// the records the source holds, so that its trend and forecast exist from
// the first sync on.
type History struct {
	// Fill turns filling in on or off. Default true.
	Fill *bool `toml:"fill"`
	// Step is the grid: "1d" (default: every midnight in
	// global.time_zone), or a whole number of hours that divides a day
	// ("12h", "6h", "1h"), counted from each midnight.
	Step Duration `toml:"step"`
}

// Enabled reports whether history is filled in.
func (h History) Enabled() bool { return h.Fill == nil || *h.Fill }

// historySection applies the defaults of [history] and validates it.
func (v *validator) historySection() {
	h := &v.cfg.History
	if !v.idx.has("history.step") {
		h.Step = DefaultHistoryStep
		return
	}
	d := time.Duration(h.Step)
	if d < time.Hour || d > 24*time.Hour || d%time.Hour != 0 || (24*time.Hour)%d != 0 {
		v.check("history.step", "must be \"1d\" or a whole number of hours that divides a day (\"12h\", \"6h\", \"1h\"), not %s", h.Step)
	}
}
