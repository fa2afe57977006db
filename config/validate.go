package config

import (
	"errors"
	"maps"
	"math"
	"net"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	// The tz database is embedded so that time_zone works in distroless
	// images, which have no /usr/share/zoneinfo.
	_ "time/tzdata"

	"github.com/prometheus/common/model"

	"github.com/okrd/okrd/okr"
)

// Defaults, named so that the documentation and the code cannot disagree.
const (
	DefaultTimeZone             = "UTC"
	DefaultFiscalYearStartMonth = 1
	DefaultEvaluationInterval   = Duration(time.Minute)
	DefaultTolerance            = 0.1
	DefaultListenAddress        = ":9184"
	DefaultReadTimeout          = Duration(30 * time.Second)
	DefaultWriteTimeout         = Duration(2 * time.Minute)
	DefaultIdleTimeout          = Duration(2 * time.Minute)
	DefaultStorageDriver        = "sqlite"
	DefaultSQLiteDSN            = "okrd.db"
	DefaultSourceInterval       = Duration(5 * time.Minute)
	DefaultSourceTimeout        = Duration(2 * time.Minute)
	DefaultWindow               = "28d"
	DefaultWeight               = 1.0
	DefaultUnit                 = "count"
)

// WindowPeriod is the window value that means "from the start of the
// objective's period".
const WindowPeriod = "period"

// Units and directions a key result may use.
var (
	units      = []string{"count", "ratio", "percent", "duration", "currency"}
	directions = []string{string(okr.Increase), string(okr.Decrease), string(okr.Maintain)}
)

// idPattern is the syntax of objective, key result and source ids: they
// become Prometheus label values and URL path segments, so they are kept
// to characters that need no escaping anywhere.
var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// currencyPattern is an ISO 4217 code.
var currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)

// validator applies defaults, checks every rule and fills the derived
// fields (Location, Resolved, Engine, WindowDuration). It keeps going after
// an error so that all errors are reported together.
type validator struct {
	*collector
	cfg    *Config
	fiscal time.Month
	// now is the time relative periods are resolved at.
	now time.Time
}

func validate(c *collector, cfg *Config, now time.Time) {
	v := &validator{collector: c, cfg: cfg, now: now}
	v.global()
	v.server()
	v.storage()
	v.sources()
	v.teams() // after sources, before objectives: key results may name a team
	v.objectives()
	v.alerting()      // after objectives: routes refer to objective ids
	v.reportSection() // after alerting: it names a receiver
	v.historySection()
}

func (v *validator) global() {
	g := &v.cfg.Global
	if g.TimeZone == "" {
		g.TimeZone = DefaultTimeZone
	}
	g.Location = time.UTC
	// "Local" is refused: period boundaries must not change with the
	// machine okrd happens to run on.
	if loc, err := time.LoadLocation(g.TimeZone); err != nil || g.TimeZone == "Local" {
		v.check("global.time_zone", "unknown time zone %q: use an IANA name like \"Europe/Berlin\" or \"UTC\"", g.TimeZone)
	} else {
		g.Location = loc
	}

	v.fiscal = time.January
	if !v.idx.has("global.fiscal_year_start_month") {
		g.FiscalYearStartMonth = DefaultFiscalYearStartMonth
	} else if g.FiscalYearStartMonth < 1 || g.FiscalYearStartMonth > 12 {
		v.check("global.fiscal_year_start_month", "must be between 1 and 12 (1 = January), not %d", g.FiscalYearStartMonth)
	} else {
		v.fiscal = time.Month(g.FiscalYearStartMonth)
	}

	if !v.idx.has("global.evaluation_interval") {
		g.EvaluationInterval = DefaultEvaluationInterval
	} else if g.EvaluationInterval < Duration(time.Second) {
		v.check("global.evaluation_interval", "must be at least 1s, not %s", g.EvaluationInterval)
	}

	if g.Tolerance == nil {
		g.Tolerance = ptr(DefaultTolerance)
	} else {
		v.tolerance("global.tolerance", *g.Tolerance)
	}
}

// tolerance checks a status tolerance, which is a share of progress.
func (v *validator) tolerance(path string, t float64) {
	if !(t > 0 && t < 1) {
		v.check(path, "must be between 0 and 1 (exclusive), like 0.1, not %s", formatFloat(t))
	}
}

func (v *validator) server() {
	s := &v.cfg.Server
	if s.ListenAddress == "" {
		s.ListenAddress = DefaultListenAddress
	}
	if _, port, err := net.SplitHostPort(s.ListenAddress); err != nil {
		v.check("server.listen_address", "must be host:port like \":9184\" or \"127.0.0.1:9184\", not %q", s.ListenAddress)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		v.check("server.listen_address", "port must be a number from 0 to 65535, not %q", port)
	}
	if s.ExternalURL != "" {
		// The URL is not echoed: it may carry credentials.
		if !absoluteHTTPURL(s.ExternalURL) {
			v.check("server.external_url", "must be an absolute http:// or https:// URL like \"https://okrd.example.com/\"")
		}
	}
	// "0s" is refused rather than meaning "no limit": an unbounded phase
	// lets a slow client hold a connection forever.
	s.ReadTimeout = v.positiveDuration("server.read_timeout", s.ReadTimeout, DefaultReadTimeout)
	s.WriteTimeout = v.positiveDuration("server.write_timeout", s.WriteTimeout, DefaultWriteTimeout)
	s.IdleTimeout = v.positiveDuration("server.idle_timeout", s.IdleTimeout, DefaultIdleTimeout)
}

func (v *validator) storage() {
	s := &v.cfg.Storage
	if s.Driver == "" {
		s.Driver = DefaultStorageDriver
	}
	switch s.Driver {
	case "sqlite":
		if s.DSN == "" && s.DSNFile == "" {
			s.DSN = DefaultSQLiteDSN
		}
	case "postgres":
		if s.DSN == "" && s.DSNFile == "" {
			v.check("storage.dsn", "required for driver \"postgres\" (or set dsn_file)")
		}
	default:
		v.check("storage.driver", "must be \"sqlite\" or \"postgres\", not %q", s.Driver)
	}
}

func (v *validator) sources() {
	names := make([]string, 0, len(v.cfg.Sources))
	for name := range v.cfg.Sources {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		src := v.cfg.Sources[name]
		sp := joinPath("sources", name)
		src.Interval = v.positiveDuration(joinPath(sp, "interval"), src.Interval, DefaultSourceInterval)
		src.Timeout = v.positiveDuration(joinPath(sp, "timeout"), src.Timeout, DefaultSourceTimeout)
		if sv, ok := src.Spec.(specValidator); ok {
			v.report(sp, sv.Validate())
		}
	}
}

// positiveDuration applies a default to an absent duration and checks that
// a present one is at least a second.
func (v *validator) positiveDuration(path string, d, def Duration) Duration {
	if !v.idx.has(path) {
		return def
	}
	if d < Duration(time.Second) {
		v.check(path, "must be at least 1s, not %s", d)
	}
	return d
}

// report records the errors of a Validate or ValidateKeyResult call: each
// *Invalid at its field under base, anything else at base itself.
func (v *validator) report(base string, err error) {
	for _, e := range flattenErrors(err) {
		var inv *Invalid
		if errors.As(e, &inv) {
			v.check(joinRel(base, inv.Field), "%s", inv.Msg)
			continue
		}
		v.check(base, "%v", e)
	}
}

// joinRel appends a relative field path ("url", "projects[1]") to base.
func joinRel(base, rel string) string {
	switch {
	case rel == "":
		return base
	case base == "":
		return rel
	case strings.HasPrefix(rel, "["):
		return base + rel
	}
	return base + "." + rel
}

func (v *validator) objectives() {
	// A configuration without objectives is never what anyone meant: it is
	// an empty file, a file an editor has only begun to write, or one cut
	// short before its first [[objectives]]. Accepting it would make a
	// reload silently stop every poll and empty every page.
	if len(v.cfg.Objectives) == 0 {
		if len(v.idx.lines) == 0 {
			v.add("", "the file has no settings (it is empty or holds only comments); "+
				"a configuration needs at least one [[objectives]] table with a [[objectives.key_results]] table")
		} else {
			v.check("objectives", "at least one objective is required "+
				"(an [[objectives]] table with a [[objectives.key_results]] table)")
		}
		return
	}
	// The objectives some other objective names as its parent: one that
	// rolls its children up may have no key results of its own.
	parents := map[string]bool{}
	for _, o := range v.cfg.Objectives {
		if o != nil && o.Parent != "" && o.Parent != o.ID {
			parents[o.Parent] = true
		}
	}
	seen := map[string]int{}
	for i, o := range v.cfg.Objectives {
		op := indexPath("objectives", i)
		if o == nil {
			continue
		}
		o.Children, o.Depth = nil, 0
		switch o.ProgressFrom {
		case "":
			o.ProgressFrom = ProgressFromKeyResults
		case ProgressFromKeyResults:
		case ProgressFromChildren:
			if !parents[o.ID] {
				v.check(op+".progress_from", "%q needs child objectives, but no objective names %q as its parent", o.ProgressFrom, o.ID)
			}
		default:
			v.check(op+".progress_from", "unknown value %q (one of %s, %s)", o.ProgressFrom, ProgressFromKeyResults, ProgressFromChildren)
		}
		if o.Weight == nil {
			o.Weight = ptr(DefaultWeight)
		} else if !finite(*o.Weight) || *o.Weight < 0 {
			v.check(op+".weight", "must be a number of at least 0, not %s", formatFloat(*o.Weight))
		}
		if o.Tolerance == nil {
			o.Tolerance = ptr(*v.cfg.Global.Tolerance)
		} else {
			v.tolerance(op+".tolerance", *o.Tolerance)
		}
		if v.id(op+".id", o.ID) {
			if first, dup := seen[o.ID]; dup {
				v.check(op+".id", "duplicate objective id %q (already used on line %d)", o.ID, v.idx.line(indexPath("objectives", first)+".id"))
			} else {
				seen[o.ID] = i
			}
		}
		if strings.TrimSpace(o.Title) == "" {
			v.check(op+".title", "required")
		}
		v.runbook(op+".runbook_url", o.RunbookURL)
		periodOK := v.period(op, o)
		v.keyResults(op, o, periodOK, o.ProgressFrom == ProgressFromChildren && parents[o.ID])
	}
	v.alignment()
}

// alignment resolves each objective's parent into the parent's Children
// and each objective's Depth, and rejects an unknown parent and a cycle of
// parents, naming the cycle's path.
func (v *validator) alignment() {
	byID := map[string]*Objective{}
	ids := make([]string, 0, len(v.cfg.Objectives))
	for _, o := range v.cfg.Objectives {
		if o != nil && o.ID != "" {
			if _, dup := byID[o.ID]; !dup {
				byID[o.ID] = o
				ids = append(ids, o.ID)
			}
		}
	}
	sort.Strings(ids)
	pathOf := map[*Objective]string{}
	for i, o := range v.cfg.Objectives {
		if o != nil {
			pathOf[o] = indexPath("objectives", i)
		}
	}
	// broken holds the objectives whose chain of parents does not reach a
	// root: an unknown parent or a cycle on the way.
	broken := map[*Objective]bool{}
	for _, o := range v.cfg.Objectives {
		if o == nil || o.Parent == "" {
			continue
		}
		op := pathOf[o]
		p := byID[o.Parent]
		switch {
		case v.failed[op+".parent"]:
			broken[o] = true
		case p == nil:
			v.check(op+".parent", "unknown objective %q (objectives: %s)", o.Parent, strings.Join(ids, ", "))
			broken[o] = true
		case p == o:
			v.check(op+".parent", "an objective cannot be its own parent: %s -> %s", o.ID, o.ID)
			broken[o] = true
		}
	}
	// Walk up from every objective; a walk that comes back to an objective
	// it passed is a cycle, reported once, at its first objective in the
	// file.
	reported := map[*Objective]bool{}
	for _, o := range v.cfg.Objectives {
		if o == nil || broken[o] {
			continue
		}
		var chain []*Objective
		at := map[*Objective]int{}
		for cur := o; cur != nil && cur.Parent != ""; cur = byID[cur.Parent] {
			if broken[cur] {
				break
			}
			if i, ok := at[cur]; ok {
				cycle := chain[i:]
				if !reported[cycle[0]] {
					first := cycle[0]
					for _, c := range cycle {
						if indexOf(v.cfg.Objectives, c) < indexOf(v.cfg.Objectives, first) {
							first = c
						}
					}
					// Rotate the cycle to start at its first objective.
					k := slices.Index(cycle, first)
					names := make([]string, 0, len(cycle)+1)
					for j := range cycle {
						names = append(names, cycle[(k+j)%len(cycle)].ID)
						reported[cycle[j]] = true
					}
					names = append(names, first.ID)
					v.check(pathOf[first]+".parent", "objectives form a cycle of parents: %s", strings.Join(names, " -> "))
				}
				for _, c := range chain {
					broken[c] = true
				}
				break
			}
			at[cur] = len(chain)
			chain = append(chain, cur)
		}
	}
	for _, o := range v.cfg.Objectives {
		if o == nil || o.Parent == "" || broken[o] {
			continue
		}
		p := byID[o.Parent]
		p.Children = append(p.Children, o)
	}
	var depth func(o *Objective, d int)
	depth = func(o *Objective, d int) {
		o.Depth = d
		for _, c := range o.Children {
			depth(c, d+1)
		}
	}
	for _, o := range v.cfg.Objectives {
		if o != nil && (o.Parent == "" || broken[o]) {
			depth(o, 0)
		}
	}
}

// named reports whether some objective names id as its parent.
func (v *validator) named(id string) bool {
	for _, o := range v.cfg.Objectives {
		if o != nil && o.Parent == id && o.ID != id {
			return true
		}
	}
	return false
}

func indexOf(objs []*Objective, o *Objective) int { return slices.Index(objs, o) }

// id checks an id and reports whether it is usable for duplicate checks.
func (v *validator) id(path, id string) bool {
	if id == "" {
		v.check(path, "required")
		return false
	}
	if !idPattern.MatchString(id) {
		v.check(path, "must match %s (it becomes a Prometheus label value and a URL path segment), not %q", idPattern, id)
	}
	return true
}

// period resolves an objective's period and reports whether it is usable.
func (v *validator) period(op string, o *Objective) bool {
	pp, sp, ep := op+".period", op+".start", op+".end"
	if v.anyFailed(pp, sp, ep) {
		return false
	}
	loc := v.cfg.Global.Location
	var (
		p   okr.Period
		err error
	)
	switch {
	case o.Period != "" && !o.Start.IsZero():
		v.check(sp, "cannot be combined with period: set either period or both start and end")
		return false
	case o.Period != "" && !o.End.IsZero():
		v.check(ep, "cannot be combined with period: set either period or both start and end")
		return false
	case o.Period != "":
		p, err = okr.ResolvePeriod(o.Period, v.now, loc, v.fiscal)
		if err != nil {
			v.check(pp, "%v", err)
			return false
		}
	case o.Start.IsZero() && o.End.IsZero():
		v.check(pp, "required: set period (like \"2026-Q4\") or both start and end")
		return false
	case o.Start.IsZero():
		v.check(sp, "required when end is set")
		return false
	case o.End.IsZero():
		v.check(ep, "required when start is set")
		return false
	case o.End.Before(o.Start):
		v.check(ep, "must not be before start (%s)", o.Start)
		return false
	default:
		p, err = okr.DatesPeriod(o.Start.Time(loc), o.End.Time(loc), loc)
		if err != nil {
			v.check(ep, "%v", err)
			return false
		}
	}
	o.Resolved = p
	return true
}

func (v *validator) keyResults(op string, o *Objective, periodOK, rollsUp bool) {
	krsPath := op + ".key_results"
	if len(o.KeyResults) == 0 {
		switch {
		case rollsUp:
		case o.ID != "" && v.named(o.ID):
			v.check(krsPath, "at least one key result is required (or progress_from = \"children\", since other objectives name %q as their parent)", o.ID)
		default:
			v.check(krsPath, "at least one key result is required")
		}
		return
	}
	seen := map[string]int{}
	weighted, weightsOK := false, true
	for j, kr := range o.KeyResults {
		kp := indexPath(krsPath, j)
		if kr == nil {
			continue
		}
		if v.id(kp+".id", kr.ID) {
			if first, dup := seen[kr.ID]; dup {
				v.check(kp+".id", "duplicate key result id %q in this objective (already used on line %d)", kr.ID, v.idx.line(indexPath(krsPath, first)+".id"))
			} else {
				seen[kr.ID] = j
			}
		}
		if strings.TrimSpace(kr.Title) == "" {
			v.check(kp+".title", "required")
		}
		if kr.Owner == "" {
			kr.Owner = o.Owner
		}
		if kr.Team == "" {
			kr.Team = o.Team
		}
		v.runbook(kp+".runbook_url", kr.RunbookURL)
		if kr.RunbookURL == "" {
			kr.RunbookURL = o.RunbookURL
		}
		v.binding(kp, kr)
		v.target(kp, kr)
		v.milestones(kp, kr, o, periodOK)

		if kr.Weight == nil {
			kr.Weight = ptr(DefaultWeight)
		} else if !finite(*kr.Weight) || *kr.Weight < 0 {
			v.check(kp+".weight", "must be a number of at least 0, not %s", formatFloat(*kr.Weight))
			weightsOK = false
		}
		if v.failed[kp+".weight"] {
			weightsOK = false
		}
		if *kr.Weight > 0 {
			weighted = true
		}
		if kr.Tolerance == nil {
			kr.Tolerance = ptr(*v.cfg.Global.Tolerance)
		} else {
			v.tolerance(kp+".tolerance", *kr.Tolerance)
		}
		if kr.StaleAfter < 0 {
			v.check(kp+".stale_after", "must not be negative")
		}
		v.teamScope(kp, kr)
		v.sourceKeyResult(kp, kr)
		v.initiatives(kp, kr)
		kr.Engine = engine(kr, v.cfg.Global.Location)
	}
	if weightsOK && !weighted {
		v.check(krsPath, "at least one key result must have a weight above 0")
	}
}

// binding checks how a key result gets its values: from a configured source
// (with metric, query, window, ...) or from manual check-ins.
func (v *validator) binding(kp string, kr *KeyResult) {
	if kr.Source != "" {
		if _, ok := v.cfg.Sources[kr.Source]; !ok {
			v.check(kp+".source", "unknown source %q; %s", kr.Source, v.configuredSources())
		}
	} else {
		// A manual key result has nothing to query; a binding key here is a
		// forgotten `source`, not something to ignore.
		set := map[string]bool{
			"metric":        kr.Metric != "",
			"query":         kr.Query != "",
			"history_query": kr.HistoryQuery != "",
			"quantile":      kr.Quantile != nil,
			"scope":         kr.Scope != "",
			"issue_types":   len(kr.IssueTypes) > 0,
			"by":            kr.By != "",
			"epic":          kr.Epic != "",
			"sprints":       kr.Sprints != 0,
			"path":          kr.Path != "",
			"method":        kr.Method != "",
			"body":          kr.Body != "",
			"json_path":     kr.JSONPath != "",
			"category":      kr.Category != "",
		}
		for _, k := range []string{"metric", "query", "history_query", "quantile", "scope", "issue_types", "by", "epic", "sprints", "path", "method", "body", "json_path", "category"} {
			if set[k] {
				v.check(kp+"."+k, "applies only to a key result with a source (without one, values come from manual check-ins)")
			}
		}
	}
	if kr.Quantile != nil && !(*kr.Quantile > 0 && *kr.Quantile < 1) {
		v.check(kp+".quantile", "must be between 0 and 1 (exclusive), like 0.5 or 0.95, not %s", formatFloat(*kr.Quantile))
	}
	if kr.Window == "" {
		kr.Window = DefaultWindow
	}
	if d, ok := parseWindow(kr.Window); ok {
		kr.WindowDuration = d
	} else {
		v.check(kp+".window", "must be %q or a whole number of days like \"7d\", \"28d\" or \"90d\", not %q", WindowPeriod, kr.Window)
	}
}

// parseWindow parses a key result window: "period" (0) or a positive
// duration that is a whole number of days.
func parseWindow(s string) (time.Duration, bool) {
	if s == WindowPeriod {
		return 0, true
	}
	d, err := model.ParseDuration(s)
	if err != nil || d <= 0 || time.Duration(d)%(24*time.Hour) != 0 {
		return 0, false
	}
	return time.Duration(d), true
}

// configuredSources lists the source names a key result may bind to.
func (v *validator) configuredSources() string {
	if len(v.cfg.Sources) == 0 {
		return "no sources are configured (leave source out to record values by manual check-in)"
	}
	names := slices.Sorted(maps.Keys(v.cfg.Sources))
	return "configured sources: " + strings.Join(names, ", ")
}

// target checks direction, baseline, target, min, max, unit and currency,
// and infers the direction when it is not given.
func (v *validator) target(kp string, kr *KeyResult) {
	bp, tp, minp, maxp, dp := kp+".baseline", kp+".target", kp+".min", kp+".max", kp+".direction"

	if kr.Unit == "" {
		kr.Unit = DefaultUnit
	}
	unitOK := contains(units, kr.Unit)
	if !unitOK {
		v.check(kp+".unit", "must be one of %s, not %q", strings.Join(units, ", "), kr.Unit)
	}
	switch {
	case kr.Unit == "currency" && kr.Currency == "":
		v.check(kp+".currency", "required for unit \"currency\" (an ISO 4217 code like \"EUR\")")
	case kr.Unit == "currency" && !currencyPattern.MatchString(kr.Currency):
		v.check(kp+".currency", "must be an ISO 4217 code of three upper-case letters like \"EUR\", not %q", kr.Currency)
	case kr.Unit != "currency" && kr.Currency != "" && unitOK:
		v.check(kp+".currency", "applies only to unit \"currency\"")
	}

	values := []struct {
		path string
		val  *float64
	}{{bp, kr.Baseline}, {tp, kr.Target}, {minp, kr.Min}, {maxp, kr.Max}}
	valuesOK := true
	for _, x := range values {
		if x.val != nil && !v.value(x.path, *x.val, kr.Unit) {
			valuesOK = false
		}
	}
	if !valuesOK || v.anyFailed(bp, tp, minp, maxp, dp) {
		return
	}

	dir := kr.Direction
	switch {
	case dir == "":
		dir = v.inferDirection(kp, kr)
		if dir == "" {
			return
		}
	case !contains(directions, dir):
		v.check(dp, "must be one of %s, not %q", strings.Join(directions, ", "), dir)
		return
	}
	switch okr.Direction(dir) {
	case okr.Increase, okr.Decrease:
		if kr.Baseline == nil {
			v.check(bp, "required for direction %q", dir)
		}
		if kr.Target == nil {
			v.check(tp, "required for direction %q", dir)
		}
		if kr.Min != nil {
			v.check(minp, "applies only to direction \"maintain\"")
		}
		if kr.Max != nil {
			v.check(maxp, "applies only to direction \"maintain\"")
		}
		if kr.Baseline == nil || kr.Target == nil {
			return
		}
		b, t := *kr.Baseline, *kr.Target
		switch {
		case t == b:
			v.check(tp, "must differ from baseline")
		case dir == string(okr.Increase) && t < b:
			v.check(tp, "must be above baseline (%s) for direction \"increase\"", formatFloat(b))
		case dir == string(okr.Decrease) && t > b:
			v.check(tp, "must be below baseline (%s) for direction \"decrease\"", formatFloat(b))
		}
	case okr.Maintain:
		if kr.Min == nil {
			v.check(minp, "required for direction \"maintain\"")
		}
		if kr.Max == nil {
			v.check(maxp, "required for direction \"maintain\"")
		}
		if kr.Min != nil && kr.Max != nil && *kr.Min > *kr.Max {
			v.check(maxp, "must not be below min (%s)", formatFloat(*kr.Min))
		}
		if len(kr.Milestones) > 0 {
			v.check(kp+".milestones", "do not apply to direction \"maintain\" (it holds a band, it does not move towards a target)")
		}
	}
	kr.Direction = dir
}

// inferDirection derives the direction from the values given: a band
// means maintain, otherwise the sign of target - baseline decides.
func (v *validator) inferDirection(kp string, kr *KeyResult) string {
	switch {
	case kr.Min != nil || kr.Max != nil:
		return string(okr.Maintain)
	case kr.Baseline != nil && kr.Target != nil:
		switch {
		case *kr.Target > *kr.Baseline:
			return string(okr.Increase)
		case *kr.Target < *kr.Baseline:
			return string(okr.Decrease)
		}
		v.check(kp+".target", "must differ from baseline")
		return ""
	}
	if kr.Baseline == nil {
		v.check(kp+".baseline", "required (with target; or set min and max to maintain a band)")
	}
	if kr.Target == nil {
		v.check(kp+".target", "required (with baseline; or set min and max to maintain a band)")
	}
	return ""
}

// value checks that a key result value is finite and within its unit's
// range, and reports whether it is.
func (v *validator) value(path string, x float64, unit string) bool {
	switch {
	case !finite(x):
		v.check(path, "must be a finite number, not %s", formatFloat(x))
	case unit == "ratio" && (x < 0 || x > 1):
		v.check(path, "must be between 0 and 1 for unit \"ratio\" (write 40%% as 0.4), not %s", formatFloat(x))
	case unit == "percent" && (x < 0 || x > 100):
		v.check(path, "must be between 0 and 100 for unit \"percent\", not %s", formatFloat(x))
	case unit == "duration" && x < 0:
		v.check(path, "must not be negative for unit \"duration\" (seconds), not %s", formatFloat(x))
	default:
		return true
	}
	return false
}

// runbook checks a runbook_url: alerts carry it as a link, so it must be
// one a browser opens.
func (v *validator) runbook(path, u string) {
	if u != "" && !absoluteHTTPURL(u) {
		v.check(path, "must be an absolute http:// or https:// URL like \"https://wiki.example.com/runbooks/checkout\"")
	}
}

// absoluteHTTPURL reports whether s is an absolute http or https URL with a
// host.
func absoluteHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// milestones checks that milestones lie in the period, in date order.
func (v *validator) milestones(kp string, kr *KeyResult, o *Objective, periodOK bool) {
	if len(kr.Milestones) > 0 && okr.IsRelativePeriod(o.Period) {
		// The period moves on at every quarter while the dates stay: the
		// file would stop loading when the next quarter begins.
		name := "2026-Q4"
		if periodOK {
			name = o.Resolved.Name
		}
		v.check(kp+".milestones", "need a fixed period: milestone dates do not move with %s; name the period (like %q) or set start and end",
			o.Period, name)
		return
	}
	var prev Date
	for k, m := range kr.Milestones {
		mp := indexPath(kp+".milestones", k)
		if !v.idx.has(mp + ".value") {
			v.check(mp+".value", "required")
		} else {
			v.value(mp+".value", m.Value, kr.Unit)
		}
		if m.Date.IsZero() {
			v.check(mp+".date", "required")
			continue
		}
		if periodOK && !o.Resolved.Contains(m.Date.Time(v.cfg.Global.Location)) {
			last := DateOf(o.Resolved.End.Add(-time.Nanosecond))
			v.check(mp+".date", "%s is outside the objective's period (%s to %s)", m.Date, DateOf(o.Resolved.Start), last)
		}
		if !prev.IsZero() && !prev.Before(m.Date) {
			v.check(mp+".date", "must be after the previous milestone (%s)", prev)
		}
		prev = m.Date
	}
}

// sourceKeyResult lets the source type check the key result's binding.
func (v *validator) sourceKeyResult(kp string, kr *KeyResult) {
	src, ok := v.cfg.Sources[kr.Source]
	if !ok || src.Spec == nil {
		return
	}
	readers := keyResultKeyTypes()
	keys := make([]string, 0, len(readers))
	for k := range readers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if types := readers[k]; !slices.Contains(types, src.Type) && keyResultKeySet(kr, k) {
			v.check(kp+"."+k, "applies only to a key result bound to a %s source, not to a %s source", strings.Join(types, " or "), src.Type)
		}
	}
	st, ok := lookupSourceType(src.Type)
	if !ok || st.ValidateKeyResult == nil {
		return
	}
	v.report(kp, st.ValidateKeyResult(src.Spec, kr))
}

// engine builds the okr package's view of a validated key result.
func engine(kr *KeyResult, loc *time.Location) okr.KeyResult {
	e := okr.KeyResult{
		Direction: okr.Direction(kr.Direction),
		Baseline:  deref(kr.Baseline),
		Target:    deref(kr.Target),
		Min:       deref(kr.Min),
		Max:       deref(kr.Max),
		Tolerance: deref(kr.Tolerance),
		Weight:    deref(kr.Weight),
	}
	for _, m := range kr.Milestones {
		e.Milestones = append(e.Milestones, okr.Milestone{At: m.Date.Time(loc), Value: m.Value})
	}
	return e
}

func ptr[T any](v T) *T { return &v }

func deref(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// formatFloat prints a number the way a user would write it in TOML.
func formatFloat(x float64) string {
	switch {
	case math.IsNaN(x):
		return "nan"
	case math.IsInf(x, 1):
		return "inf"
	case math.IsInf(x, -1):
		return "-inf"
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
