package demo

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/okrd/okrd/okr"
)

const day = 24 * time.Hour

// seed makes the generated data the same on every start, apart from where
// "now" falls.
const seed = 20261001

// plan is the quarter the demo tells a story about: the current quarter
// (UTC) as of the demo's start, and the trajectory each key result follows
// through it.
type plan struct {
	now    time.Time
	period okr.Period
}

func newPlan(now time.Time) (plan, error) {
	now = now.UTC()
	// The quarter the configuration's period = "current-quarter" resolves
	// to when okrd loads it, on the same clock.
	p, err := okr.ResolvePeriod(okr.CurrentQuarter, now, time.UTC, time.January)
	if err != nil {
		return plan{}, err
	}
	return plan{now: now, period: p}, nil
}

// frac is the elapsed fraction of the period at t: below 0 before the
// period, above 1 after it.
func (p plan) frac(t time.Time) float64 {
	return float64(t.Sub(p.period.Start)) / float64(p.period.End.Sub(p.period.Start))
}

// f is the elapsed fraction now: the expected progress of every increase or
// decrease key result without milestones.
func (p plan) f() float64 { return p.frac(p.now) }

// track is the designed trajectory of one key result: at time t its
// progress is the elapsed fraction of the period plus lead (clamped to
// [0, 1]), so a lead of +0.05 stays on track, -0.15 is at risk (the gap is
// between one and two tolerances of 0.1) and -0.35 off track. A positive
// lead below 1 never reaches the target before the period ends (it stays
// on track rather than turning achieved). Until the elapsed fraction plus
// the lead turns positive (before the period starts, for a lead of 0 or
// less), progress is 0: the value sits at the baseline, as last quarter.
//
// For a metric computed over a trailing window the measured value lags the
// trajectory by about half the window; the generators add that lag to the
// lead (see lagged).
type track struct {
	baseline, target float64
	lead             float64
}

func (k track) progress(p plan, t time.Time) float64 {
	f := p.frac(t)
	if k.lead >= 0 && k.lead < 1 && f < 1 {
		// Ahead of plan, but not at the target before the period ends:
		// near the end the lead shrinks to half of what is left.
		return clamp01(f + min(k.lead, (1-f)/2))
	}
	return clamp01(f + k.lead)
}

// at is the designed value at t.
func (k track) at(p plan, t time.Time) float64 {
	return k.baseline + (k.target-k.baseline)*k.progress(p, t)
}

// now is the designed value at the plan's now.
func (k track) now(p plan) float64 { return k.at(p, p.now) }

// lagged returns the track shifted so that a trailing window of w centred
// half a window back still measures the designed progress now.
func (k track) lagged(p plan, w time.Duration) track {
	k.lead += float64(w/2) / float64(p.period.End.Sub(p.period.Start))
	return k
}

func clamp01(x float64) float64 { return math.Max(0, math.Min(1, x)) }

// The key results of the demo and their trajectories. The statuses they
// are designed to show in the middle of a quarter are in the comments; the
// ones measured from generated Jira and GitHub records are approximate
// (they come from medians and counts over windows), the others are exact.
var (
	// checkout-conversion/activation (sql): on track.
	activationTrack = track{baseline: 0.31, target: 0.40, lead: 0.06}
	// (checkout-conversion/conversion, http_json, is achieved: the fake
	// analytics API answers a little above the target; see analytics.go.)

	// happy-shoppers/nps (manual): at risk.
	npsTrack = track{baseline: 30, target: 50, lead: -0.15}
	// happy-shoppers/support-tickets (manual, maintain 2..4 per 1,000
	// orders): off track, the latest check-in is above the band.
	supportMin, supportMax = 2.0, 4.0

	// ship-faster (github).
	deployFrequencyTrack = track{baseline: 0.5, target: 1.0, lead: 0.1}              // per day, on track
	leadTimeTrack        = track{baseline: 4 * 86400, target: 2 * 86400, lead: 0.05} // seconds, p50
	failureRateTrack     = track{baseline: 0.25, target: 0.10, lead: 0.0}            // ratio
	restoreTrack         = track{baseline: 4 * 3600, target: 1 * 3600, lead: -0.35}  // seconds, p50, off track
	firstReviewTrack     = track{baseline: 8 * 3600, target: 2 * 3600, lead: 0.05}   // seconds, p50

	// predictable-delivery (jira).
	throughputTrack = track{baseline: 36, target: 50, lead: 0.05}               // issues per 28 days
	cycleTimeTrack  = track{baseline: 10 * 86400, target: 6 * 86400, lead: 0.0} // seconds, p85
	sayDoTrack      = track{baseline: 0.65, target: 0.85, lead: 0.05}           // ratio over 3 sprints
	openBugsTrack   = track{baseline: 40, target: 12, lead: 0.05}               // open bugs now: on track
	epicTrack       = track{baseline: 0, target: 1, lead: -0.15}                // epic progress: at risk
)

// epicChildren is the size of the epic whose progress is a key result.
const epicChildren = 20

// newRand returns a deterministic generator for one part of the data, so
// that changing one generator does not reshuffle the others.
func newRand(stream uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, stream)) }

// logNormal draws a duration whose median is median, spread by sigma.
func logNormal(rng *rand.Rand, median time.Duration, sigma float64) time.Duration {
	return time.Duration(float64(median) * math.Exp(sigma*rng.NormFloat64()))
}

// between draws a duration uniformly in [lo, hi).
func between(rng *rand.Rand, lo, hi time.Duration) time.Duration {
	return lo + time.Duration(rng.Float64()*float64(hi-lo))
}
