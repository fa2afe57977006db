package demo

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"github.com/okrd/okrd/sandbox/jirafake"
)

// The demo's Jira: one Cloud site with the checkout team's project and its
// scrum board.
const (
	jiraProject = "CHK"
	jiraBoardID = 42
	jiraEmail   = "okrd-demo@shop.example"
	// jiraClosedSprints is how many closed sprints the history holds
	// before the active one.
	jiraClosedSprints = 6
	sprintLength      = 14 * day
)

// sprintAnchor is a Monday: sprints start every other Monday at 09:00 UTC
// counted from it, so that sprint numbers and dates do not move between
// two starts of the demo.
var sprintAnchor = time.Date(2024, 1, 1, 9, 0, 0, 0, time.UTC)

// jiraData is what the demo's Jira holds, for the configuration to refer to.
type jiraData struct {
	epicKey  string // the epic whose progress is a key result
	issues   int
	openBugs int
	sprints  []genSprint
}

// jiraIssue is one generated issue before it is handed to the fake: its
// fields at creation and the timed changes of its life.
type jiraIssue struct {
	key     string
	typ     string
	summary string
	created time.Time
	points  float64
	parent  string
	events  []jiraEvent
	sprints []int
	// plannedDone is when an issue carried over to the next sprint will
	// be done.
	plannedDone time.Time
	started     time.Time // zero: not started by now
	doneAt      time.Time // zero: not done by now
}

type jiraEvent struct {
	at      time.Time
	status  string // a status id, or "" for a sprint change
	sprints []int
}

// move records a transition; one after now does not happen.
func (is *jiraIssue) move(at time.Time, status string, now time.Time) {
	if at.After(now) {
		return
	}
	is.events = append(is.events, jiraEvent{at: at, status: status})
	switch status {
	case jirafake.StatusInProgress:
		if is.started.IsZero() {
			is.started = at
		}
	case jirafake.StatusDone:
		is.doneAt = at
	}
}

// join adds the issue to a sprint; like Jira, the Sprint field keeps the
// closed sprints an issue was carried over from.
func (is *jiraIssue) join(at time.Time, sprint int) {
	is.sprints = append(is.sprints, sprint)
	is.events = append(is.events, jiraEvent{at: at, sprints: slices.Clone(is.sprints)})
}

// genSprint is one generated sprint.
type genSprint struct {
	id               int
	number           int
	start, end, done time.Time // done: the completion (zero while active)
	state            string
}

// generateJira fills the fake with a quarter of the checkout team's
// sprints and the issues around them: six closed two-week sprints and the
// active one (and the next, not started), each planned a few minutes before
// it starts with what the team expects to finish (and what the previous
// sprint left over), a few bugs added mid-sprint, work that moves through
// In Progress and In Review to Done, unfinished issues carried over to the
// next sprint, three epics, and a backlog of stories, tasks and open bugs.
// The trajectories of plan.go shape it: sprints grow, say/do ratios rise,
// cycle times fall, and the open bug count and the epic's progress are
// exactly what their key results are designed to show.
func generateJira(f *jirafake.Server, p plan) jiraData {
	rng := newRand(1)
	now := p.now

	// The sprints: the active one contains now.
	k := int(now.Sub(sprintAnchor) / sprintLength)
	activeStart := sprintAnchor.Add(time.Duration(k) * sprintLength)
	var sprints []genSprint
	for i := 0; i <= jiraClosedSprints+1; i++ {
		start := activeStart.Add(time.Duration(i-jiraClosedSprints) * sprintLength)
		sp := genSprint{id: 100 + i, number: k + 1 + i - jiraClosedSprints, start: start, end: start.Add(sprintLength)}
		switch {
		case i < jiraClosedSprints:
			// Closed in the last half hour of the last day, before the
			// next sprint's planning.
			sp.state, sp.done = "closed", sp.end.Add(-30*time.Minute)
		case i == jiraClosedSprints:
			sp.state = "active"
		default:
			sp.state = "future"
		}
		sprints = append(sprints, sp)
	}

	names := newTitles(rng)
	var issues []*jiraIssue
	newIssue := func(typ string, created time.Time) *jiraIssue {
		is := &jiraIssue{typ: typ, created: created.Truncate(time.Second), summary: names.next(typ)}
		if typ == "Story" || typ == "Task" {
			is.points = []float64{1, 2, 3, 3, 5, 5, 8}[rng.IntN(7)]
		}
		issues = append(issues, is)
		return is
	}
	// finish records the work on an issue from start (unless it started
	// before) to done: In Progress, often In Review, then Done; what would
	// happen after now does not happen yet.
	finish := func(is *jiraIssue, start, done time.Time) {
		if is.started.IsZero() {
			is.move(start, jirafake.StatusInProgress, now)
			if is.started.IsZero() {
				return // not started yet
			}
		}
		if done.Before(is.started) {
			done = is.started.Add(time.Hour)
		}
		if rng.Float64() < 0.7 {
			review := is.started.Add(time.Duration(float64(done.Sub(is.started)) * (0.5 + 0.4*rng.Float64())))
			is.move(review, jirafake.StatusInReview, now)
		}
		is.move(done, jirafake.StatusDone, now)
	}
	cycle := func(at time.Time) time.Duration {
		// cycle_time's key result is the 85th percentile, which for this
		// spread is 1.68 times the median; but most issues cannot start
		// before their sprint, which trims the tail, so the median is set
		// at the designed value divided by 1.3 (found by running the demo
		// at several points of a quarter).
		return logNormal(rng, time.Duration(cycleTimeTrack.lagged(p, 28*day).at(p, at)/1.3*float64(time.Second)), 0.5)
	}
	typ := func() string {
		switch x := rng.Float64(); {
		case x < 0.62:
			return "Story"
		case x < 0.82:
			return "Bug"
		default:
			return "Task"
		}
	}

	var carried []*jiraIssue // left over by the previous sprint
	var sayDo float64        // error diffusion of completed counts
	for i, sp := range sprints[:jiraClosedSprints+1] {
		active := sp.state == "active"
		planning := sp.start.Add(-10 * time.Minute)
		mid := sp.start.Add(sprintLength / 2)
		// Per sprint the team finishes about half the 28-day throughput,
		// some of it bugs added on the way.
		added := 2 + rng.IntN(2)
		fresh := int(throughputTrack.lagged(p, 28*day).at(p, mid)/2+0.5) - added
		var committed []*jiraIssue
		committed = append(committed, carried...)
		for range fresh {
			is := newIssue(typ(), planning.Add(-between(rng, 12*time.Hour, 40*day)))
			committed = append(committed, is)
		}
		for _, is := range committed[len(carried):] {
			is.join(planning, sp.id)
		}
		// How many committed issues are done at the completion: the
		// designed say/do ratio of the sprint, rounded by error diffusion
		// so that the ratio over several sprints is exact.
		ratio := sayDoTrack.lagged(p, 3*sprintLength).at(p, sp.end)
		sayDo += ratio * float64(len(committed))
		completed := int(sayDo)
		sayDo -= float64(completed)
		completed = min(completed, len(committed))

		startFor := func(done time.Time) time.Time {
			start := done.Add(-cycle(done))
			if earliest := planning.Add(10 * time.Minute); start.Before(earliest) {
				start = earliest.Add(time.Duration(rng.IntN(120)) * time.Minute)
			}
			return start
		}
		var next []*jiraIssue
		freshDone := max(0, completed-len(carried))
		slot := sprintLength - 18*time.Hour
		if freshDone > 0 {
			slot /= time.Duration(freshDone)
		}
		for j, is := range committed {
			if j < completed {
				var done time.Time
				if !is.plannedDone.IsZero() {
					// Carried over: finished early in this sprint, as
					// planned when it was carried.
					done = is.plannedDone
				} else {
					// Spread over the sprint, one per slot, so that a
					// window holds its share of the sprint's work.
					done = sp.start.Add(12*time.Hour + slot*time.Duration(j-len(carried)) + between(rng, 0, slot))
				}
				finish(is, startFor(done), done)
				continue
			}
			switch {
			case !active:
				// Not finished in this sprint: it will be early in the
				// next one, after a cycle time that may start in this one.
				is.plannedDone = sprints[i+1].start.Add(between(rng, 12*time.Hour, 6*day))
				if is.started.IsZero() {
					is.move(startFor(is.plannedDone), jirafake.StatusInProgress, now)
				}
			case is.started.IsZero() && rng.Float64() < 0.75:
				is.move(sp.start.Add(between(rng, 2*day, sprintLength-2*day)), jirafake.StatusInProgress, now)
			}
			next = append(next, is)
		}
		// Bugs (and the odd task) added during the sprint, mostly fixed
		// within it.
		for range added {
			t := "Bug"
			if rng.Float64() < 0.25 {
				t = "Task"
			}
			joined := sp.start.Add(between(rng, 2*day, 10*day))
			if active && !joined.Before(now) {
				continue
			}
			is := newIssue(t, joined.Add(-between(rng, time.Hour, 3*day)))
			is.join(joined, sp.id)
			if rng.Float64() < 0.8 {
				start := joined.Add(between(rng, 30*time.Minute, day))
				done := start.Add(between(rng, 4*time.Hour, 3*day))
				if !active && done.After(sp.done) {
					done = sp.done.Add(-time.Hour)
				}
				finish(is, start, done)
				if is.doneAt.IsZero() && !active {
					next = append(next, is)
				}
			} else if !active {
				next = append(next, is)
			}
		}
		if active {
			break
		}
		// Carry the unfinished work over to the next sprint, as Jira's
		// "complete sprint" dialog does.
		for _, is := range next {
			if is.plannedDone.Before(sprints[i+1].start) {
				is.plannedDone = sprints[i+1].start.Add(between(rng, 12*time.Hour, 6*day))
			}
			is.join(sp.done.Add(time.Second), sprints[i+1].id)
		}
		carried = next
	}
	// The backlog: stories and tasks not planned yet.
	for i := range 100 {
		t := "Story"
		if i%5 == 0 {
			t = "Task"
		}
		newIssue(t, now.Add(-between(rng, 2*time.Hour, 120*day)))
	}

	// The open bugs follow their key result's trajectory day by day: at
	// every midnight of the quarter so far (the instants of the history
	// okrd fills in) and now, the bugs created and not done are the
	// designed count. The sprints open and close bugs of their own; a
	// backlog of reported bugs makes up the rest: reported before the
	// quarter, or in the day before an instant that needs more, and fixed,
	// the oldest first, in the day before one that needs fewer.
	openAt := func(is *jiraIssue, t time.Time) bool {
		return !is.created.After(t) && (is.doneAt.IsZero() || is.doneAt.After(t))
	}
	var instants []time.Time
	for t := p.period.Start; !t.After(now); t = t.Add(day) {
		instants = append(instants, t)
	}
	if n := len(instants); n == 0 || now.Sub(instants[n-1]) >= time.Minute {
		instants = append(instants, now)
	}
	var reported []*jiraIssue // open, oldest first
	from := p.period.Start.Add(-80 * day)
	for _, t := range instants {
		want := int(openBugsTrack.at(p, t) + 0.5)
		open := 0
		for _, is := range issues {
			if is.typ == "Bug" && openAt(is, t) {
				open++
			}
		}
		span := t.Sub(from)
		for ; open < want; open++ {
			is := newIssue("Bug", t.Add(-time.Duration(rng.Float64()*0.8*float64(span))))
			if !is.created.After(from) {
				is.created = t.Truncate(time.Second)
			}
			reported = append(reported, is)
		}
		for ; open > want && len(reported) > 0; open-- {
			is := reported[0]
			reported = reported[1:]
			start := from.Add(time.Duration((0.1 + 0.3*rng.Float64()) * float64(span)))
			if start.Before(is.created) {
				start = is.created
			}
			finish(is, start, from.Add(time.Duration((0.6+0.35*rng.Float64())*float64(span))))
		}
		from = t
	}

	// The epics, created before everything else so that they get the
	// first keys; the first one's progress is a key result.
	epicStart := sprints[0].start.Add(-45 * day)
	epics := []*jiraIssue{
		{typ: "Epic", summary: "One-click payments", created: epicStart},
		{typ: "Epic", summary: "Guest checkout", created: epicStart.Add(time.Hour)},
		{typ: "Epic", summary: "Address autocomplete", created: epicStart.Add(2 * time.Hour)},
	}
	issues = append(epics, issues...)
	sort.SliceStable(issues, func(a, b int) bool { return issues[a].created.Before(issues[b].created) })
	for i, is := range issues {
		is.key = fmt.Sprintf("%s-%d", jiraProject, i+1)
	}

	// The epic's children: the designed share of them done (the most
	// recently finished stories), the rest open (in the active sprint or
	// the backlog). Other stories go to the other epics now and then.
	var doneStories, openStories []*jiraIssue
	for _, is := range issues {
		if is.typ != "Story" {
			continue
		}
		if is.doneAt.IsZero() {
			openStories = append(openStories, is)
		} else {
			doneStories = append(doneStories, is)
		}
	}
	sort.SliceStable(doneStories, func(a, b int) bool { return doneStories[a].doneAt.After(doneStories[b].doneAt) })
	doneChildren := int(float64(epicChildren)*epicTrack.now(p) + 0.5)
	doneChildren = min(doneChildren, len(doneStories))
	openChildren := min(epicChildren-doneChildren, len(openStories))
	for _, is := range doneStories[:doneChildren] {
		is.parent = epics[0].key
	}
	for _, is := range openStories[len(openStories)-openChildren:] {
		is.parent = epics[0].key
	}
	for _, is := range issues {
		if is.typ == "Story" && is.parent == "" && rng.Float64() < 0.3 {
			is.parent = epics[1+rng.IntN(2)].key
		}
	}

	// Hand everything to the fake.
	f.AddProject(jiraProject, "Checkout")
	f.AddBoard(jirafake.Board{ID: jiraBoardID, Name: "Checkout board", Type: "scrum", Project: jiraProject,
		EstimationField: jirafake.FieldStoryPoints}, "project = "+jiraProject+" ORDER BY Rank ASC")
	for _, sp := range sprints {
		s := jirafake.Sprint{ID: sp.id, Board: jiraBoardID, Name: fmt.Sprintf("Checkout Sprint %d", sp.number), State: sp.state}
		if sp.state != "future" {
			st, en := sp.start, sp.end
			s.Start, s.End = &st, &en
			s.Goal = sprintGoals[sp.number%len(sprintGoals)]
		}
		if sp.state == "closed" {
			done := sp.done
			s.CompleteDate = &done
		}
		f.AddSprint(s)
	}
	for i, is := range issues {
		fi := &jirafake.Issue{Key: is.key, Project: jiraProject, Type: is.typ, Summary: is.summary, Created: is.created, Parent: is.parent}
		// Two tasks in three are maintenance (by position, so that the
		// random draws stay the designed ones).
		if is.typ == "Task" && i%3 != 0 {
			fi.Labels = []string{"tech-debt"}
		}
		if is.points > 0 {
			fi.Custom = map[string]any{jirafake.FieldStoryPoints: is.points}
		}
		f.AddIssue(fi)
		sort.SliceStable(is.events, func(a, b int) bool { return is.events[a].at.Before(is.events[b].at) })
		for _, e := range is.events {
			if e.at.After(now) {
				continue
			}
			at := e.at.Truncate(time.Second)
			if e.status != "" {
				_ = f.Transition(is.key, e.status, at)
			} else {
				_ = f.SetSprints(is.key, e.sprints, at)
			}
		}
	}
	openBugs := 0
	for _, is := range issues {
		if is.typ == "Bug" && openAt(is, now) {
			openBugs++
		}
	}
	return jiraData{epicKey: epics[0].key, issues: len(issues), openBugs: openBugs, sprints: sprints}
}

var sprintGoals = []string{
	"Ship one-click payments to 10% of shoppers",
	"Guest checkout behind a flag",
	"Cut checkout errors in half",
	"Address autocomplete in the EU",
	"Faster cart page",
}

// titles hands out realistic issue summaries.
type titles struct {
	rng  *rand.Rand
	used map[string]int
}

func newTitles(rng *rand.Rand) *titles { return &titles{rng: rng, used: map[string]int{}} }

var (
	storyVerbs   = []string{"Show", "Remember", "Validate", "Prefill", "Offer", "Explain", "Speed up", "Simplify", "Localise", "Track"}
	storyObjects = []string{"the delivery estimate", "saved cards", "the billing address", "promo codes", "Apple Pay", "shipping options",
		"the order summary", "gift messages", "tax totals", "the payment step", "store pickup", "the cart badge"}
	bugTitles = []string{"Promo code field clears on back navigation", "Double charge when the pay button is tapped twice",
		"Address autocomplete misses Irish Eircodes", "Cart total rounds wrongly in CHF", "Apple Pay sheet shows the wrong shipping fee",
		"Order confirmation email sent twice", "Spinner never stops after a declined card", "Tax missing on gift cards",
		"Guest checkout loses the email on refresh", "3-D Secure popup blocked on Safari"}
	taskTitles = []string{"Upgrade the payments SDK", "Rotate the PSP webhook secret", "Add checkout funnel dashboard",
		"Load test the payment service", "Clean up old feature flags", "Document the refund flow"}
)

func (t *titles) next(typ string) string {
	var s string
	switch typ {
	case "Bug":
		s = bugTitles[t.rng.IntN(len(bugTitles))]
	case "Task":
		s = taskTitles[t.rng.IntN(len(taskTitles))]
	default:
		s = storyVerbs[t.rng.IntN(len(storyVerbs))] + " " + storyObjects[t.rng.IntN(len(storyObjects))]
	}
	t.used[s]++
	if n := t.used[s]; n > 1 {
		s = fmt.Sprintf("%s (%d)", s, n)
	}
	return s
}
