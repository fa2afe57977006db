package config

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
)

// Defaults of the [alerting] section, named so that the documentation and
// the code cannot disagree (the alerting package has the same values for
// its own callers; a test keeps them equal).
const (
	DefaultAlertFor             = Duration(time.Hour)
	DefaultAlertKeepFiringFor   = Duration(time.Hour)
	DefaultAlertRepeatInterval  = Duration(24 * time.Hour)
	DefaultAlertSourceDownAfter = Duration(30 * time.Minute)
	DefaultAlertPeriodEndWindow = Duration(7 * 24 * time.Hour)
	DefaultReceiverTimeout      = Duration(10 * time.Second)
	// DefaultAlertConfidenceDropPoints is how far below the week's high an
	// owner's confidence must fall for confidence_drop.
	DefaultAlertConfidenceDropPoints = 3
)

// Alert conditions, receiver types and severities as the configuration
// names them. (The alerting package defines the conditions; config cannot
// import it, so a test there checks that both lists agree.)
var (
	AlertConditions        = []string{"off_track", "at_risk", "forecast_miss", "missed", "achieved", "no_data", "stale", "confidence_drop", "confidence_disagrees", "source_down"}
	DefaultAlertConditions = []string{"off_track", "forecast_miss", "missed", "achieved", "no_data", "stale", "source_down"}
	ReceiverTypes          = []string{"slack", "webhook", "alertmanager"}
	AlertSeverities        = []string{"critical", "warning", "info"}
)

// receiverNamePattern keeps receiver names usable as metric label values
// and readable in logs.
var receiverNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// reservedHeaders are set by okrd itself on every notification request.
var reservedHeaders = []string{"Content-Type", "Content-Length", "Host", "User-Agent", "X-Okrd-Signature-256"}

// alerting applies the defaults of [alerting] and validates it.
func (v *validator) alerting() {
	a := &v.cfg.Alerting
	a.For = v.alertDuration("alerting.for", a.For, DefaultAlertFor, 0)
	a.KeepFiringFor = v.alertDuration("alerting.keep_firing_for", a.KeepFiringFor, DefaultAlertKeepFiringFor, 0)
	a.RepeatInterval = v.alertDuration("alerting.repeat_interval", a.RepeatInterval, DefaultAlertRepeatInterval, 0)
	a.SourceDownAfter = v.alertDuration("alerting.source_down_after", a.SourceDownAfter, DefaultAlertSourceDownAfter, 0)
	a.PeriodEndWindow = v.alertDuration("alerting.period_end_window", a.PeriodEndWindow, DefaultAlertPeriodEndWindow, Duration(time.Second))

	if !v.idx.has("alerting.confidence_drop_points") {
		a.ConfidenceDropPoints = DefaultAlertConfidenceDropPoints
	} else if a.ConfidenceDropPoints < 1 || a.ConfidenceDropPoints > 9 {
		// Confidences run from 1 to 10: a drop is 1 to 9 points.
		v.check("alerting.confidence_drop_points", "must be a whole number of points from 1 to 9 (confidences run from 1 to 10), not %d", a.ConfidenceDropPoints)
	}

	if !v.idx.has("alerting.conditions") {
		a.Conditions = slices.Clone(DefaultAlertConditions)
	} else {
		v.oneOfEach("alerting.conditions", a.Conditions, AlertConditions)
	}

	names := map[string]bool{}
	for i, r := range a.Receivers {
		if r == nil {
			continue // Not a table: already reported by the decoder.
		}
		p := indexPath("alerting.receivers", i)
		v.receiver(p, r)
		if r.Name == "" {
			continue
		}
		if names[r.Name] {
			v.check(p+".name", "receiver %q is defined twice", r.Name)
		}
		names[r.Name] = true
	}
	known := make([]string, 0, len(names))
	for n := range names {
		known = append(known, n)
	}
	sort.Strings(known)
	receiverRef := func(path, name string) {
		if name != "" && !names[name] {
			if len(known) == 0 {
				v.check(path, "unknown receiver %q: no [[alerting.receivers]] is defined", name)
			} else {
				v.check(path, "unknown receiver %q (defined: %s)", name, strings.Join(known, ", "))
			}
		}
	}
	receiverRef("alerting.default_receiver", a.DefaultReceiver)

	objectives := map[string]bool{}
	for _, o := range v.cfg.Objectives {
		if o != nil {
			objectives[o.ID] = true
		}
	}
	for i, r := range a.Routes {
		if r == nil {
			continue // Not a table: already reported by the decoder.
		}
		p := indexPath("alerting.routes", i)
		if r.Receiver == "" {
			v.check(p+".receiver", "required: the name of the receiver that gets the matching alerts")
		}
		receiverRef(p+".receiver", r.Receiver)
		for j, id := range r.Objectives {
			if !objectives[id] {
				v.check(indexPath(p+".objectives", j), "no objective has id %q", id)
			}
		}
		v.oneOfEach(p+".severities", r.Severities, AlertSeverities)
		v.oneOfEach(p+".conditions", r.Conditions, AlertConditions)
	}
	if len(a.Receivers) > 0 && len(a.Routes) == 0 && a.DefaultReceiver == "" {
		v.check("alerting.default_receiver", "required when no [[alerting.routes]] is defined: name the receiver that gets every alert")
	}
}

// alertDuration applies a default to an absent duration and checks that a
// present one is at least lowest.
func (v *validator) alertDuration(path string, d, def, lowest Duration) Duration {
	if !v.idx.has(path) {
		return def
	}
	if d < lowest {
		v.check(path, "must be at least %s, not %s", lowest, d)
	}
	return d
}

// oneOfEach checks that every element of list is one of allowed, once.
func (v *validator) oneOfEach(path string, list, allowed []string) {
	seen := map[string]bool{}
	for i, s := range list {
		p := indexPath(path, i)
		switch {
		case !slices.Contains(allowed, s):
			v.check(p, "unknown value %q (one of %s)", s, strings.Join(allowed, ", "))
		case seen[s]:
			v.check(p, "%q is listed twice", s)
		}
		seen[s] = true
	}
}

func (v *validator) receiver(p string, r *Receiver) {
	switch {
	case r.Name == "":
		v.check(p+".name", "required: routes refer to the receiver by it")
	case !receiverNamePattern.MatchString(r.Name):
		v.check(p+".name", "%q must start with a letter or digit and contain only letters, digits, '_', '-' and '.'", r.Name)
	}
	if !slices.Contains(ReceiverTypes, r.Type) {
		if r.Type == "" {
			v.check(p+".type", "required: one of %s", strings.Join(ReceiverTypes, ", "))
		} else {
			v.check(p+".type", "unknown receiver type %q (one of %s)", r.Type, strings.Join(ReceiverTypes, ", "))
		}
	}

	urlPath := p + ".url"
	if r.URLFile != "" {
		urlPath = p + ".url_file"
	}
	if r.URL == "" {
		if r.URLFile == "" && !v.anyFailed(p+".url") {
			v.check(urlPath, "required (or set url_file)")
		}
	} else {
		// The URL is never echoed: a Slack webhook URL is a credential.
		u, err := url.Parse(r.URL.Value())
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.check(urlPath, "must be an absolute http:// or https:// URL")
		}
	}

	if (r.HMACSecret != "" || r.HMACSecretFile != "") && r.Type != "webhook" {
		field := p + ".hmac_secret"
		if r.HMACSecretFile != "" {
			field = p + ".hmac_secret_file"
		}
		v.check(field, "applies only to receivers of type \"webhook\"")
	}
	if len(r.Headers) > 0 && r.Type == "slack" {
		v.check(p+".headers", "does not apply to Slack incoming webhooks")
	}
	names := make([]string, 0, len(r.Headers))
	for k := range r.Headers {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		hp := joinPath(p+".headers", k)
		switch {
		case !validHeaderName(k):
			v.check(hp, "%q is not a valid HTTP header name", k)
		case slices.Contains(reservedHeaders, http.CanonicalHeaderKey(k)):
			v.check(hp, "%s is set by okrd and cannot be configured", http.CanonicalHeaderKey(k))
		}
	}
	r.Timeout = v.positiveDuration(p+".timeout", r.Timeout, DefaultReceiverTimeout)
}

// validHeaderName reports whether s is an RFC 9110 field name (a token).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}
