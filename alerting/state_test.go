package alerting

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// obsAt is one evaluation in a scenario: at minute m the condition holds
// ('+'), does not hold ('-') or cannot be told ('?').
type obsAt struct {
	m    int
	what byte
}

// run feeds a scenario to Step and returns the notifications as
// "minute:kind" strings.
func run(t *testing.T, c Condition, p Policy, steps []obsAt, restartAt int) []string {
	t.Helper()
	var st *State
	var got []string
	for _, s := range steps {
		if restartAt > 0 && s.m == restartAt {
			// A restart: the state goes through its persisted form.
			st = roundTrip(t, st)
		}
		now := t0.Add(time.Duration(s.m) * time.Minute)
		var obs *Observation
		switch s.what {
		case '+':
			obs = &Observation{Key: Key(c, "o", "kr"), Condition: c, Labels: map[string]string{"alertname": c.AlertName()}}
		case '?':
			obs = &Observation{Key: Key(c, "o", "kr"), Condition: c, Unknown: true}
		}
		var n *Notification
		st, n = Step(st, obs, now, &p)
		if n != nil {
			got = append(got, fmt.Sprintf("%d:%s", s.m, n.Kind))
			if n.Kind == Resolve && !n.Alert.EndsAt.Equal(now) {
				t.Errorf("resolved at %d has endsAt %s", s.m, n.Alert.EndsAt)
			}
			if n.Kind != Resolve && !n.Alert.EndsAt.IsZero() {
				t.Errorf("%s at %d has endsAt %s", n.Kind, s.m, n.Alert.EndsAt)
			}
		}
	}
	return got
}

func roundTrip(t *testing.T, st *State) *State {
	t.Helper()
	if st == nil {
		return nil
	}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var out State
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

// every returns one observation per minute from a to b inclusive.
func every(a, b int, what byte) []obsAt {
	var out []obsAt
	for m := a; m <= b; m++ {
		out = append(out, obsAt{m, what})
	}
	return out
}

func seq(parts ...[]obsAt) []obsAt {
	var out []obsAt
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestStep(t *testing.T) {
	// for 10m, keep_firing_for 5m, repeat every 60m unless a case says
	// otherwise.
	base := Policy{For: 10 * time.Minute, KeepFiringFor: 5 * time.Minute, RepeatInterval: time.Hour,
		SourceDownAfter: 30 * time.Minute, PeriodEndWindow: 7 * 24 * time.Hour}
	tests := []struct {
		name      string
		cond      Condition
		policy    func(p *Policy)
		steps     []obsAt
		restartAt int
		want      []string
	}{
		{
			name:  "a condition fires once it has held for `for`, not before",
			cond:  OffTrack,
			steps: every(0, 12, '+'),
			// Held since 0; 9 - 0 < 10m, 10 - 0 >= 10m.
			want: []string{"10:firing"},
		},
		{
			name:  "a condition that clears before `for` never fires, and its clock restarts",
			cond:  OffTrack,
			steps: seq(every(0, 8, '+'), every(9, 9, '-'), every(10, 19, '+')),
			// Pending again from 10: 19 - 10 < 10m.
			want: nil,
		},
		{
			name:  "flapping faster than `for` never notifies",
			cond:  OffTrack,
			steps: seq(every(0, 5, '+'), every(6, 6, '-'), every(7, 12, '+'), every(13, 13, '-'), every(14, 20, '+'), every(21, 21, '-')),
			want:  nil,
		},
		{
			name:  "a firing alert resolves once its condition has been clear for keep_firing_for",
			cond:  OffTrack,
			steps: seq(every(0, 20, '+'), every(21, 30, '-')),
			// Fired at 10; clear since 21; 25 - 21 < 5m, 26 - 21 >= 5m.
			want: []string{"10:firing", "26:resolved"},
		},
		{
			name:  "flapping while firing neither resolves nor fires again",
			cond:  OffTrack,
			steps: seq(every(0, 20, '+'), every(21, 23, '-'), every(24, 30, '+'), every(31, 34, '-'), every(35, 40, '+')),
			want:  []string{"10:firing"},
		},
		{
			name:   "without keep_firing_for an alert resolves at the first clear evaluation",
			cond:   OffTrack,
			policy: func(p *Policy) { p.KeepFiringFor = 0 },
			steps:  seq(every(0, 12, '+'), every(13, 13, '-')),
			want:   []string{"10:firing", "13:resolved"},
		},
		{
			name:  "a firing alert repeats every repeat_interval while it holds",
			cond:  OffTrack,
			steps: every(0, 140, '+'),
			// Fired at 10; repeats at 70 and 130.
			want: []string{"10:firing", "70:repeat", "130:repeat"},
		},
		{
			name:   "repeat_interval 0 never repeats",
			cond:   OffTrack,
			policy: func(p *Policy) { p.RepeatInterval = 0 },
			steps:  every(0, 140, '+'),
			want:   []string{"10:firing"},
		},
		{
			name:  "a condition with `for` 0 fires at the first evaluation",
			cond:  OffTrack,
			steps: every(0, 1, '+'),
			policy: func(p *Policy) {
				p.For = 0
			},
			want: []string{"0:firing"},
		},
		{
			name:  "a source is down only after source_down_after, not `for`",
			cond:  SourceDown,
			steps: every(0, 31, '+'),
			// 29 - 0 < 30m.
			want: []string{"30:firing"},
		},
		{
			name:  "missed at period end fires at once and only once, however long it holds",
			cond:  Missed,
			steps: seq(every(0, 3, '+'), []obsAt{{60 * 24 * 3, '+'}}),
			want:  []string{"0:firing"},
		},
		{
			name:  "achieved at period end ends silently when it stops holding (no resolved notice)",
			cond:  Achieved,
			steps: seq(every(0, 2, '+'), every(3, 20, '-')),
			want:  []string{"0:firing"},
		},
		{
			name:  "an unknown observation keeps a firing alert as it is: no resolve, no repeat",
			cond:  SourceDown,
			steps: seq(every(0, 30, '+'), every(31, 200, '?'), every(201, 202, '+')),
			// Fired at 30 (LastSent 30); at 201 the repeat is overdue (201 - 30 >= 60m).
			want: []string{"30:firing", "201:repeat"},
		},
		{
			name:  "an unknown observation keeps a pending alert's clock",
			cond:  SourceDown,
			steps: seq(every(0, 10, '+'), every(11, 25, '?'), every(26, 30, '+')),
			want:  []string{"30:firing"},
		},
		{
			name:      "a restart while firing neither repeats nor loses the alert",
			cond:      OffTrack,
			steps:     every(0, 75, '+'),
			restartAt: 40,
			// Fired at 10, restart at 40, the repeat still comes at 70.
			want: []string{"10:firing", "70:repeat"},
		},
		{
			name:      "a restart while pending keeps the `for` clock",
			cond:      OffTrack,
			steps:     every(0, 12, '+'),
			restartAt: 5,
			want:      []string{"10:firing"},
		},
		{
			name:      "a restart while clearing keeps the keep_firing_for clock",
			cond:      OffTrack,
			steps:     seq(every(0, 20, '+'), every(21, 30, '-')),
			restartAt: 23,
			want:      []string{"10:firing", "26:resolved"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := base
			if tt.policy != nil {
				tt.policy(&p)
			}
			got := run(t, tt.cond, p, tt.steps, tt.restartAt)
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("notifications = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestStepDoesNotModifyThePreviousState(t *testing.T) {
	p := Policy{For: 0, RepeatInterval: time.Hour}
	obs := &Observation{Key: "off_track/o/kr", Condition: OffTrack, Labels: map[string]string{"a": "1"}}
	st, _ := Step(nil, obs, t0, &p)
	before := *st
	next, n := Step(st, obs, t0.Add(2*time.Hour), &p)
	if n == nil || n.Kind != Repeat {
		t.Fatalf("notification = %+v, want a repeat", n)
	}
	if st.LastSent != before.LastSent || next.LastSent.Equal(st.LastSent) {
		t.Errorf("Step changed its input: LastSent %s, was %s; next %s", st.LastSent, before.LastSent, next.LastSent)
	}
}

func TestFiringNotificationCarriesTheFiringTime(t *testing.T) {
	p := Policy{For: 10 * time.Minute}
	obs := &Observation{Key: "off_track/o/kr", Condition: OffTrack, Labels: map[string]string{"alertname": "OKRKeyResultOffTrack"}}
	st, _ := Step(nil, obs, t0, &p)
	st, n := Step(st, obs, t0.Add(10*time.Minute), &p)
	if n == nil || !n.Alert.StartsAt.Equal(t0.Add(10*time.Minute)) {
		t.Fatalf("notification %+v: startsAt should be the firing time", n)
	}
	_, n = Step(st, nil, t0.Add(20*time.Minute), &p)
	if n == nil || n.Kind != Resolve || !n.Alert.StartsAt.Equal(t0.Add(10*time.Minute)) || !n.Alert.EndsAt.Equal(t0.Add(20*time.Minute)) {
		t.Fatalf("resolved notification %+v: want startsAt 10m, endsAt 20m", n)
	}
	if n.Alert.Labels["alertname"] != "OKRKeyResultOffTrack" {
		t.Errorf("resolved notice lost the labels: %v", n.Alert.Labels)
	}
}
