package alerting

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/okr"
	"github.com/okrd/okrd/report/format"
	"github.com/okrd/okrd/snapshot"
)

// quarter is 2026-Q4 in UTC.
var quarter = okr.Period{Name: "2026-Q4", Start: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}

func testSnapshot(now time.Time, r okr.Result, stale bool) *snapshot.Snapshot {
	oc := &config.Objective{ID: "grow", Title: "Grow", Owner: "growth", Team: "web", Resolved: quarter}
	kc := &config.KeyResult{ID: "nps", Title: "NPS at 40", Owner: "growth", Team: "web", Engine: okr.KeyResult{Tolerance: 0.1}}
	oc.KeyResults = []*config.KeyResult{kc}
	kr := &snapshot.KeyResult{Objective: oc, Config: kc, Result: r, Stale: stale}
	return &snapshot.Snapshot{EvaluatedAt: now, Objectives: []*snapshot.Objective{{Config: oc, KeyResults: []*snapshot.KeyResult{kr}}}}
}

func allEnabled() Policy {
	p := DefaultPolicy()
	for _, c := range Conditions {
		p.Enabled[c] = true
	}
	p.ExternalURL = "https://okrd.example.com/"
	return p
}

func TestObserveKeyResultConditions(t *testing.T) {
	mid := time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)
	after := quarter.End.Add(2 * 24 * time.Hour)
	value := func(progress, expected float64, st okr.Status) okr.Result {
		return okr.Result{HasValue: true, ValueAt: mid, Progress: progress, Expected: expected, Gap: progress - expected, Status: st}
	}
	withForecast := func(r okr.Result, fp float64) okr.Result {
		r.HasForecast, r.ForecastProgress = true, fp
		return r
	}
	tests := []struct {
		name   string
		now    time.Time
		result okr.Result
		stale  bool
		policy func(p *Policy)
		want   string // the conditions that hold, sorted, comma-separated
	}{
		{"on track: nothing", mid, value(0.5, 0.5, okr.StatusOnTrack), false, nil, ""},
		{"at risk: only at_risk", mid, value(0.35, 0.5, okr.StatusAtRisk), false, nil, "at_risk"},
		{"off track: off_track and at_risk (it is at least at risk)", mid, value(0.2, 0.5, okr.StatusOffTrack), false, nil, "at_risk,off_track"},
		{"off track with at_risk disabled (the default): off_track", mid, value(0.2, 0.5, okr.StatusOffTrack), false,
			func(p *Policy) { p.Enabled[AtRisk] = false }, "off_track"},
		// 0.85 < 1 - 0.1
		{"forecast below 1 - tolerance: forecast_miss", mid, withForecast(value(0.5, 0.5, okr.StatusOnTrack), 0.85), false, nil, "forecast_miss"},
		// 0.9 is not below 1 - 0.1 = 0.9
		{"forecast exactly 1 - tolerance: nothing", mid, withForecast(value(0.5, 0.5, okr.StatusOnTrack), 0.9), false, nil, ""},
		{"forecast low but already achieved: nothing", mid, withForecast(value(1, 0.5, okr.StatusAchieved), 0.5), false, nil, ""},
		{"no value yet: no_data", mid, okr.Result{Expected: 0.5, Status: okr.StatusNoData}, false, nil, "no_data"},
		{"stale value: stale only (the status is no_data, the forecast is not trusted)", mid,
			withForecast(value(0.2, 0.5, okr.StatusNoData), 0.3), true, nil, "stale"},
		{"before the period: nothing", quarter.Start.Add(-time.Hour), okr.Result{Status: okr.StatusNoData}, false, nil, ""},
		{"period ended short of the target: missed", after, value(0.4, 1, okr.StatusMissed), false, nil, "missed"},
		{"period ended with the target: achieved", after, value(1, 1, okr.StatusAchieved), false, nil, "achieved"},
		{"period ended longer ago than period_end_window: nothing", quarter.End.Add(8 * 24 * time.Hour), value(0.4, 1, okr.StatusMissed), false, nil, ""},
		{"the instant the period ends counts as ended", quarter.End, value(0.4, 1, okr.StatusMissed), false, nil, "missed"},
		{"a disabled condition is not observed", after, value(0.4, 1, okr.StatusMissed), false,
			func(p *Policy) { p.Enabled[Missed] = false }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := allEnabled()
			if tt.policy != nil {
				tt.policy(&p)
			}
			obs := Observe(Input{Snapshot: testSnapshot(tt.now, tt.result, tt.stale)}, &p)
			var got []string
			for _, o := range obs {
				got = append(got, string(o.Condition))
			}
			slices.Sort(got)
			if strings.Join(got, ",") != tt.want {
				t.Errorf("conditions = %v, want %q", got, tt.want)
			}
		})
	}
}

// The confidence conditions, judged from the owner's confidence in effect
// and its week's high (snapshot.ConfidenceAt) next to the status and the
// forecast.
func TestObserveConfidenceConditions(t *testing.T) {
	mid := time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)
	after := quarter.End.Add(2 * 24 * time.Hour)
	value := func(progress, expected float64, st okr.Status) okr.Result {
		return okr.Result{HasValue: true, ValueAt: mid, Progress: progress, Expected: expected, Gap: progress - expected, Status: st}
	}
	withForecast := func(r okr.Result, fp float64) okr.Result {
		r.HasForecast, r.ForecastProgress = true, fp
		return r
	}
	tests := []struct {
		name   string
		now    time.Time
		result okr.Result
		stale  bool
		policy func(p *Policy)
		want   string // the conditions that hold, sorted, comma-separated
		conf   *snapshot.Confidence
	}{
		{"no confidence given: nothing", mid, value(0.5, 0.5, okr.StatusOnTrack), false, nil, "", nil},
		{"confidence 3 points below the week's high: confidence_drop", mid, value(0.5, 0.5, okr.StatusOnTrack), false, nil,
			"confidence_drop", &snapshot.Confidence{Value: 6, WeekHigh: 9}},
		{"confidence 2 points below: nothing", mid, value(0.5, 0.5, okr.StatusOnTrack), false, nil,
			"", &snapshot.Confidence{Value: 7, WeekHigh: 9}},
		{"a drop of 2 with confidence_drop_points 2: confidence_drop", mid, value(0.5, 0.5, okr.StatusOnTrack), false,
			func(p *Policy) { p.ConfidenceDrop = 2 }, "confidence_drop", &snapshot.Confidence{Value: 7, WeekHigh: 9}},
		{"a drop after the period: nothing", after, value(1, 1, okr.StatusAchieved), false, func(p *Policy) { p.Enabled[Achieved] = false },
			"", &snapshot.Confidence{Value: 2, WeekHigh: 9}},
		// 8 is high; 0.85 < 0.9: the forecast misses.
		{"confidence 8 while forecast to miss: confidence_disagrees", mid, withForecast(value(0.5, 0.5, okr.StatusOnTrack), 0.85), false, nil,
			"confidence_disagrees,forecast_miss", &snapshot.Confidence{Value: 8, WeekHigh: 8}},
		{"confidence 7 while forecast to miss: no disagreement", mid, withForecast(value(0.5, 0.5, okr.StatusOnTrack), 0.85), false, nil,
			"forecast_miss", &snapshot.Confidence{Value: 7, WeekHigh: 7}},
		{"confidence 9 with a forecast that is enough: nothing", mid, withForecast(value(0.5, 0.5, okr.StatusOnTrack), 0.9), false, nil,
			"", &snapshot.Confidence{Value: 9, WeekHigh: 9}},
		{"confidence 9 and a low forecast of a stale value: no disagreement", mid, withForecast(value(0.2, 0.5, okr.StatusNoData), 0.3), true, nil,
			"stale", &snapshot.Confidence{Value: 9, WeekHigh: 9}},
		{"confidence 3 while on track: confidence_disagrees", mid, value(0.5, 0.5, okr.StatusOnTrack), false, nil,
			"confidence_disagrees", &snapshot.Confidence{Value: 3, WeekHigh: 3}},
		{"confidence 1 while achieved mid-period: confidence_disagrees", mid, value(1, 0.5, okr.StatusAchieved), false, nil,
			"confidence_disagrees", &snapshot.Confidence{Value: 1, WeekHigh: 1}},
		{"confidence 4 while on track: no disagreement", mid, value(0.5, 0.5, okr.StatusOnTrack), false, nil,
			"", &snapshot.Confidence{Value: 4, WeekHigh: 4}},
		{"confidence 2 while at risk: no disagreement", mid, value(0.35, 0.5, okr.StatusAtRisk), false, nil,
			"at_risk", &snapshot.Confidence{Value: 2, WeekHigh: 2}},
		{"a drop from 9 to 2 while on track: both", mid, value(0.5, 0.5, okr.StatusOnTrack), false, nil,
			"confidence_disagrees,confidence_drop", &snapshot.Confidence{Value: 2, WeekHigh: 9}},
		{"confidence conditions off (the default): nothing", mid, value(0.5, 0.5, okr.StatusOnTrack), false,
			func(p *Policy) { p.Enabled[ConfidenceDrop], p.Enabled[ConfidenceDisagrees] = false, false },
			"", &snapshot.Confidence{Value: 2, WeekHigh: 9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := allEnabled()
			if tt.policy != nil {
				tt.policy(&p)
			}
			snap := testSnapshot(tt.now, tt.result, tt.stale)
			snap.Objectives[0].KeyResults[0].Confidence = tt.conf
			var got []string
			for _, o := range Observe(Input{Snapshot: snap}, &p) {
				got = append(got, string(o.Condition))
			}
			slices.Sort(got)
			if strings.Join(got, ",") != tt.want {
				t.Errorf("conditions = %v, want %q", got, tt.want)
			}
		})
	}
}

func TestAPeriodOkrdOnlyFilledInRaisesNoFinalResult(t *testing.T) {
	after := quarter.End.Add(2 * 24 * time.Hour)
	mid := time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)
	missed := okr.Result{HasValue: true, ValueAt: quarter.End, Progress: 0.4, Expected: 1, Gap: -0.6, Status: okr.StatusMissed}
	achieved := okr.Result{HasValue: true, ValueAt: quarter.End, Progress: 1, Expected: 1, Status: okr.StatusAchieved}
	offTrack := okr.Result{HasValue: true, ValueAt: mid, Progress: 0.2, Expected: 0.5, Gap: -0.3, Status: okr.StatusOffTrack}
	for _, tc := range []struct {
		name       string
		now        time.Time
		result     okr.Result
		filledOnly bool
		want       string
	}{
		{"missed, measured while the period ran: missed", after, missed, false, "missed"},
		{"missed, every value filled in: nothing", after, missed, true, ""},
		{"achieved, every value filled in: nothing", after, achieved, true, ""},
		// While the period runs the present is judged, whatever made it.
		{"off track now, every value filled in: off_track", mid, offTrack, true, "off_track"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := DefaultPolicy()
			asked := 0
			in := Input{Snapshot: testSnapshot(tc.now, tc.result, false), FilledInOnly: func(kr *snapshot.KeyResult) bool {
				asked++
				if kr.Config.ID != "nps" {
					t.Errorf("asked about %s", kr.Config.ID)
				}
				return tc.filledOnly
			}}
			var got []string
			for _, o := range Observe(in, &p) {
				got = append(got, string(o.Condition))
			}
			slices.Sort(got)
			if strings.Join(got, ",") != tc.want {
				t.Errorf("conditions = %v, want %q", got, tc.want)
			}
			if tc.now.Before(quarter.End) && asked > 0 {
				t.Errorf("FilledInOnly was asked %d times while the period runs", asked)
			}
		})
	}
}

func TestObserveLabelsAndAnnotations(t *testing.T) {
	mid := time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)
	r := okr.Result{HasValue: true, ValueAt: mid, Value: 33.25, Progress: 0.25, Expected: 0.5, Gap: -0.25, Status: okr.StatusOffTrack,
		HasForecast: true, Forecast: 35.5, ForecastProgress: 0.625}
	p := DefaultPolicy()
	p.ExternalURL = "https://okrd.example.com"
	snap := testSnapshot(mid, r, false)
	kc := snap.Objectives[0].KeyResults[0].Config
	kc.Engine.Direction, kc.Engine.Baseline, kc.Engine.Target = okr.Increase, 31, 40
	kc.RunbookURL = "https://wiki.example.com/runbooks/nps"
	obs := Observe(Input{Snapshot: snap}, &p)
	o := obs["off_track/grow/nps"]
	if o == nil {
		t.Fatalf("no off_track observation in %v", slices.Collect(maps.Keys(obs)))
	}
	wantLabels := map[string]string{"alertname": "OKRKeyResultOffTrack", "objective": "grow", "key_result": "nps",
		"owner": "growth", "team": "web", "severity": "critical", "origin": "okrd"}
	if !maps.Equal(o.Labels, wantLabels) {
		t.Errorf("labels = %v, want %v", o.Labels, wantLabels)
	}
	// Expected by now: 31 + 0.5 × (40 - 31) = 35.5; the gap, 0.25 - 0.5, is
	// 25 points; 0.625 is 63% as the page rounds it.
	wantAnn := map[string]string{
		"title": "NPS at 40", "summary": `Key result "NPS at 40" is off track`, "status": "off_track",
		"progress": "25%", "expected": "50%", "forecast": "63%",
		"description": "Progress is 25% where 50% was expected by now (-25 pts). " +
			"Value 33.25, expected by now 35.5, target 40, forecast at period end 35.5.",
		"dashboard":   "https://okrd.example.com/objectives/grow/key_results/nps",
		"runbook_url": "https://wiki.example.com/runbooks/nps",
	}
	if !maps.Equal(o.Annotations, wantAnn) {
		t.Errorf("annotations =\n%v, want\n%v", o.Annotations, wantAnn)
	}
	if o.GeneratorURL != "https://okrd.example.com/objectives/grow/key_results/nps" {
		t.Errorf("generator URL = %q, want the key result's page", o.GeneratorURL)
	}
	// forecast_miss: 0.625 < 0.9 also holds.
	if f := obs["forecast_miss/grow/nps"]; f == nil ||
		f.Annotations["description"] != "At its current pace the key result ends the period at 63% progress; 90% is needed. "+
			"Value 33.25, expected by now 35.5, target 40, forecast at period end 35.5." {
		t.Errorf("forecast_miss observation = %+v", f)
	}
	kc.RunbookURL = ""
	p.ExternalURL = ""
	o = Observe(Input{Snapshot: snap}, &p)["off_track/grow/nps"]
	if _, ok := o.Annotations["runbook_url"]; ok || o.Annotations["dashboard"] != "" || o.GeneratorURL != "" {
		t.Errorf("without a runbook and an external URL: annotations %v, generator URL %q", o.Annotations, o.GeneratorURL)
	}
}

// The description of each condition, for every kind of key result: the
// sentence is checked word for word; each number is the quantity worked out
// by hand, printed in the key result's unit by report/format (whose own tests
// pin how it prints them).
func TestDescriptionsStateTheNumbersInTheKeyResultsUnit(t *testing.T) {
	const day = 86400.0
	mid := time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)
	after := quarter.End.Add(24 * time.Hour)
	kr := func(id string, dir okr.Direction, unit, currency string, baseline, target, lo, hi float64) *config.KeyResult {
		return &config.KeyResult{ID: id, Title: id, Unit: unit, Currency: currency,
			Engine: okr.KeyResult{Direction: dir, Baseline: baseline, Target: target, Min: lo, Max: hi, Tolerance: 0.1}}
	}
	leadTime := kr("lead-time", okr.Decrease, "duration", "", 4*day, 2*day, 0, 0)
	latency := kr("latency", okr.Maintain, "duration", "", 0, 0, 0, 0.3)
	arr := kr("arr", okr.Increase, "currency", "EUR", 1_200_000, 1_500_000, 0, 0)
	v := func(kc *config.KeyResult, x float64) string { return format.Value(kc, x) }
	tests := []struct {
		name string
		kc   *config.KeyResult
		now  time.Time
		r    okr.Result
		cond Condition
		want string
	}{
		{
			// Expected by now: 4 d + 0.4 × (2 d - 4 d) = 3.2 d; progress
			// (4 - 3.5) / 2 = 0.25.
			name: "a duration at risk without a forecast", kc: leadTime, now: mid, cond: AtRisk,
			r: okr.Result{HasValue: true, Value: 3.5 * day, Progress: 0.25, Expected: 0.4, Status: okr.StatusAtRisk},
			want: "Progress is 25% where 40% was expected by now (-15 pts). Value " + v(leadTime, 3.5*day) +
				", expected by now " + v(leadTime, 3.2*day) + ", target " + v(leadTime, 2*day) + ".",
		},
		{
			name: "a maintain band left: the band instead of expected and target", kc: latency, now: mid, cond: OffTrack,
			r: okr.Result{HasValue: true, Value: 0.42, Progress: 0, Expected: 1, Status: okr.StatusOffTrack,
				HasForecast: true, Forecast: 0.5, ForecastProgress: 0},
			want: "The value is outside the band it must stay in. Value " + v(latency, 0.42) + ", band " + v(latency, 0) +
				" to " + v(latency, 0.3) + ", forecast at period end " + v(latency, 0.5) + ".",
		},
		{
			// Expected by now: 1.2M + 0.5 × 0.3M = 1.35M.
			name: "a currency without a value yet", kc: arr, now: mid, cond: NoData,
			r: okr.Result{Expected: 0.5, Status: okr.StatusNoData},
			want: "No value has been recorded for this key result yet. No value yet, expected by now " + v(arr, 1_350_000) +
				", target " + v(arr, 1_500_000) + ".",
		},
		{
			name: "a missed period: the final value and the target, nothing expected by now", kc: arr, now: after, cond: Missed,
			r: okr.Result{HasValue: true, Value: 1_380_000, Progress: 0.6, Expected: 1, Status: okr.StatusMissed,
				HasForecast: true, Forecast: 1_390_000, ForecastProgress: 0.63},
			want: "The period ended with progress 60%. Value " + v(arr, 1_380_000) + ", target " + v(arr, 1_500_000) + ".",
		},
		{
			name: "an achieved band", kc: latency, now: after, cond: Achieved,
			r: okr.Result{HasValue: true, Value: 0.2, Progress: 1, Expected: 1, Status: okr.StatusAchieved},
			want: "The period ended with the value inside its band. Value " + v(latency, 0.2) + ", band " + v(latency, 0) +
				" to " + v(latency, 0.3) + ".",
		},
		{
			name: "a stale value is still shown", kc: leadTime, now: mid, cond: Stale,
			r: okr.Result{HasValue: true, Value: 3 * day, Progress: 0.5, Expected: 0.4, Status: okr.StatusNoData},
			want: "The latest value is older than the key result's stale_after; its status is no_data until a new value arrives. Value " +
				v(leadTime, 3*day) + ", expected by now " + v(leadTime, 3.2*day) + ", target " + v(leadTime, 2*day) + ".",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			oc := &config.Objective{ID: "o", Title: "O", Resolved: quarter, KeyResults: []*config.KeyResult{tt.kc}}
			k := &snapshot.KeyResult{Objective: oc, Config: tt.kc, Result: tt.r, Stale: tt.cond == Stale}
			snap := &snapshot.Snapshot{EvaluatedAt: tt.now, Objectives: []*snapshot.Objective{{Config: oc, KeyResults: []*snapshot.KeyResult{k}}}}
			p := allEnabled()
			o := Observe(Input{Snapshot: snap}, &p)[Key(tt.cond, "o", tt.kc.ID)]
			if o == nil {
				t.Fatalf("%s does not hold", tt.cond)
			}
			if got := o.Annotations["description"]; got != tt.want {
				t.Errorf("description\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestObserveSources(t *testing.T) {
	p := DefaultPolicy()
	in := Input{Sources: []collectors.Health{
		{Name: "github", Type: "github", Up: true, Polls: 3},
		{Name: "jira", Type: "jira", Up: false, Polls: 4, ConsecutiveFailures: 2},
		{Name: "warehouse", Type: "sql", Polls: 0}, // not polled since the start
	}}
	obs := Observe(in, &p)
	if len(obs) != 2 {
		t.Fatalf("observations = %v, want jira (down) and warehouse (unknown)", slices.Collect(maps.Keys(obs)))
	}
	j := obs["source_down/jira"]
	if j == nil || j.Unknown || j.Labels["source"] != "jira" || j.Labels["type"] != "jira" || j.Labels["alertname"] != "OKRSourceDown" ||
		j.Annotations["description"] != "Polls of source jira (jira) have failed for longer than 30 min." {
		t.Errorf("jira observation = %+v", j)
	}
	if w := obs["source_down/warehouse"]; w == nil || !w.Unknown {
		t.Errorf("warehouse observation = %+v, want unknown", w)
	}
	p.Enabled[SourceDown] = false
	if obs := Observe(in, &p); len(obs) != 0 {
		t.Errorf("source_down disabled, observations = %v", obs)
	}
}

func TestReceivers(t *testing.T) {
	routes := []Route{
		{Receiver: "payments-slack", Owners: []string{"payments"}},
		{Receiver: "pager", Severities: []Severity{Critical}, Continue: true},
		{Receiver: "web-team", Teams: []string{"web"}},
		{Receiver: "ops", Conditions: []Condition{SourceDown}},
		{Receiver: "growth-okrs", Objectives: []string{"grow"}},
	}
	kr := func(obj, owner, team string, sev Severity) map[string]string {
		return map[string]string{"objective": obj, "owner": owner, "team": team, "severity": string(sev)}
	}
	tests := []struct {
		name   string
		cond   Condition
		labels map[string]string
		def    string
		want   string
	}{
		{"the first matching route decides", OffTrack, kr("pay", "payments", "web", Critical), "", "payments-slack"},
		{"continue lets later routes match too", OffTrack, kr("grow", "growth", "web", Critical), "", "pager,web-team"},
		{"a route that does not continue stops", ForecastMiss, kr("grow", "growth", "web", Warning), "", "web-team"},
		{"a condition route takes source alerts, which have no owner", SourceDown,
			map[string]string{"source": "jira", "severity": "warning"}, "", "ops"},
		{"an objective route", NoData, kr("grow", "growth", "", Warning), "", "growth-okrs"},
		{"no match goes to the default receiver", NoData, kr("other", "x", "", Warning), "fallback", "fallback"},
		{"no match and no default receiver: nobody", NoData, kr("other", "x", "", Warning), "", ""},
		{"a route list that names an absent label does not match it", Stale, map[string]string{"severity": "warning"}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(Receivers(routes, tt.def, tt.cond, tt.labels), ",")
			if got != tt.want {
				t.Errorf("receivers = %q, want %q", got, tt.want)
			}
		})
	}
}

// The config package names the conditions and defaults without importing
// this package; they must agree.
func TestConfigAgreesWithTheConditions(t *testing.T) {
	var names, defaults []string
	for _, c := range Conditions {
		names = append(names, string(c))
	}
	for _, c := range DefaultConditions {
		defaults = append(defaults, string(c))
	}
	if !slices.Equal(names, config.AlertConditions) || !slices.Equal(defaults, config.DefaultAlertConditions) {
		t.Errorf("config lists %v (default %v); alerting has %v (default %v)", config.AlertConditions, config.DefaultAlertConditions, names, defaults)
	}
	var sev []string
	for _, s := range Severities {
		sev = append(sev, string(s))
	}
	if !slices.Equal(sev, config.AlertSeverities) {
		t.Errorf("severities: config %v, alerting %v", config.AlertSeverities, sev)
	}
	d := DefaultPolicy()
	if time.Duration(config.DefaultAlertFor) != d.For || time.Duration(config.DefaultAlertKeepFiringFor) != d.KeepFiringFor ||
		time.Duration(config.DefaultAlertRepeatInterval) != d.RepeatInterval || time.Duration(config.DefaultAlertSourceDownAfter) != d.SourceDownAfter ||
		time.Duration(config.DefaultAlertPeriodEndWindow) != d.PeriodEndWindow || config.DefaultAlertConfidenceDropPoints != d.ConfidenceDrop {
		t.Errorf("default durations differ: config %v %v %v %v %v, alerting %+v", config.DefaultAlertFor, config.DefaultAlertKeepFiringFor,
			config.DefaultAlertRepeatInterval, config.DefaultAlertSourceDownAfter, config.DefaultAlertPeriodEndWindow, d)
	}
}

func TestPolicyOfAConfig(t *testing.T) {
	cfg, err := config.Parse([]byte(`
[server]
external_url = "https://okrd.example.com/"
[alerting]
for = "2h"
keep_firing_for = "0s"
conditions = ["off_track", "at_risk"]
[[objectives]]
id = "o"
title = "O"
period = "2026-Q4"
  [[objectives.key_results]]
  id = "k"
  title = "K"
  baseline = 1
  target = 2
`), "")
	if err != nil {
		t.Fatal(err)
	}
	p := PolicyOf(cfg)
	if p.For != 2*time.Hour || p.KeepFiringFor != 0 || p.RepeatInterval != 24*time.Hour || p.ExternalURL != "https://okrd.example.com/" ||
		len(p.Enabled) != 2 || !p.Enabled[OffTrack] || !p.Enabled[AtRisk] || p.ConfidenceDrop != 3 {
		t.Errorf("policy = %+v", p)
	}
}

// The texts of the confidence alerts, worked out by hand for NPS at 40 (from
// 31, tolerance 0.1): 35.5 expected by now, a forecast of 35.5 (progress
// 0.5, 50%).
func TestConfidenceAlertTexts(t *testing.T) {
	mid := time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)
	r := okr.Result{HasValue: true, ValueAt: mid, Value: 35.5, Progress: 0.5, Expected: 0.5, Status: okr.StatusOnTrack,
		HasForecast: true, Forecast: 35.5, ForecastProgress: 0.5}
	facts := " Value 35.5, expected by now 35.5, target 40, forecast at period end 35.5."
	for _, tc := range []struct {
		name     string
		conf     snapshot.Confidence
		status   okr.Status
		key      string
		severity string
		summary  string
		desc     string
	}{
		{"a drop", snapshot.Confidence{Value: 5, WeekHigh: 9}, okr.StatusOnTrack, "confidence_drop/grow/nps", "warning",
			`Confidence in key result "NPS at 40" dropped this week`,
			"The owner's confidence is 5 (medium), down from 9 (high) within the past seven days." + facts},
		{"high against the forecast", snapshot.Confidence{Value: 9, WeekHigh: 9}, okr.StatusOnTrack, "confidence_disagrees/grow/nps", "info",
			`Confidence in key result "NPS at 40" disagrees with its numbers`,
			"The owner's confidence is 9 (high), but at its current pace the key result ends the period at 50% progress; 90% is needed." + facts},
		{"low against the status", snapshot.Confidence{Value: 3, WeekHigh: 3}, okr.StatusAchieved, "confidence_disagrees/grow/nps", "info",
			`Confidence in key result "NPS at 40" disagrees with its numbers`,
			"The owner's confidence is 3 (low), but the key result is achieved." + facts},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rr := r
			rr.Status = tc.status
			if tc.status == okr.StatusAchieved {
				rr.HasForecast = false // an achieved result is not forecast to miss; the facts leave the forecast out
			}
			snap := testSnapshot(mid, rr, false)
			kr := snap.Objectives[0].KeyResults[0]
			kr.Config.Engine.Baseline, kr.Config.Engine.Target = 31, 40
			conf := tc.conf
			kr.Confidence = &conf
			p := allEnabled()
			o := Observe(Input{Snapshot: snap}, &p)[tc.key]
			if o == nil {
				t.Fatalf("%s is not observed", tc.key)
			}
			want := tc.desc
			if tc.status == okr.StatusAchieved {
				want = strings.TrimSuffix(want, ", forecast at period end 35.5.") + "."
			}
			if o.Labels["severity"] != tc.severity || o.Annotations["summary"] != tc.summary || o.Annotations["description"] != want ||
				o.Annotations["dashboard"] != "https://okrd.example.com/objectives/grow/key_results/nps" {
				t.Errorf("labels %v\nannotations %v\nwant severity %s, summary %q, description %q", o.Labels, o.Annotations, tc.severity, tc.summary, want)
			}
		})
	}
}
