package config

import (
	"strings"
	"time"
)

// Defaults of the [report] section.
const (
	DefaultReportWeekday = "monday"
	DefaultReportTime    = "09:00"
	DefaultReportFormat  = "markdown"
)

// Report schedules the weekly stakeholder report (`okrd report`) to a
// receiver of [[alerting.receivers]]. Without a receiver nothing is sent.
type Report struct {
	// Receiver names a receiver of type slack or webhook.
	Receiver string `toml:"receiver"`
	// Weekday is the day the report goes out, "monday" to "sunday".
	Weekday string `toml:"weekday"`
	// Time is the local time of day (in global.time_zone), "HH:MM".
	Time string `toml:"time"`
	// Format is "markdown" (default) or "html" (webhook receivers only).
	Format string `toml:"format"`

	// Day and Clock are Weekday and Time resolved (set by Load).
	Day   time.Weekday  `toml:"-"`
	Clock time.Duration `toml:"-"`
}

var weekdays = map[string]time.Weekday{
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

// reportSection applies the defaults of [report] and validates it. It runs after
// alerting, whose receivers it refers to.
func (v *validator) reportSection() {
	r := &v.cfg.Report
	if r.Weekday == "" {
		r.Weekday = DefaultReportWeekday
	}
	if r.Time == "" {
		r.Time = DefaultReportTime
	}
	if r.Format == "" {
		r.Format = DefaultReportFormat
	}
	if d, ok := weekdays[strings.ToLower(r.Weekday)]; ok {
		r.Day = d
	} else {
		v.check("report.weekday", "must be a day of the week such as \"monday\", not %q", r.Weekday)
	}
	if t, err := time.Parse("15:04", r.Time); err == nil {
		r.Clock = time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute
	} else {
		v.check("report.time", "must be a time of day \"HH:MM\" such as \"09:00\", not %q", r.Time)
	}
	if r.Format != "markdown" && r.Format != "html" {
		v.check("report.format", "must be \"markdown\" or \"html\", not %q", r.Format)
	}
	if r.Receiver == "" {
		return
	}
	var recv *Receiver
	var names []string
	for _, rc := range v.cfg.Alerting.Receivers {
		if rc == nil {
			continue // Not a table: already reported by the decoder.
		}
		names = append(names, rc.Name)
		if rc.Name == r.Receiver {
			recv = rc
		}
	}
	switch {
	case recv == nil && len(names) == 0:
		v.check("report.receiver", "unknown receiver %q: no [[alerting.receivers]] is defined", r.Receiver)
	case recv == nil:
		v.check("report.receiver", "unknown receiver %q (defined: %s)", r.Receiver, strings.Join(names, ", "))
	case recv.Type != "slack" && recv.Type != "webhook":
		v.check("report.receiver", "receiver %q is of type %q; the report goes to a slack or webhook receiver", r.Receiver, recv.Type)
	case recv.Type == "slack" && r.Format == "html":
		v.check("report.format", "\"html\" cannot be posted to Slack; use \"markdown\" with receiver %q", r.Receiver)
	}
}
