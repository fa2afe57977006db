package github

import (
	"cmp"
	"slices"
	"sort"
	"strconv"
	"time"
)

// The data-quality checks of a GitHub source (docs/metrics.md, "Data
// quality") look at the records dated in the last QualityWindow, except
// the most recent ones, which may still be waiting for what they lack: a
// merge for the next deployment (UndeployedGrace), a deployment for its
// first status (StatuslessGrace).
const (
	QualityWindow   = 90 * 24 * time.Hour
	UndeployedGrace = 24 * time.Hour
	StatuslessGrace = time.Hour
)

// qualityExamples is how many records of each check Quality names.
const qualityExamples = 3

// finding is a record that fails a data-quality check, dated t: id, and
// for a pull request its number (the id is then its repository), so that
// the index builds no string per finding.
type finding struct {
	t   int64
	id  string
	num int
}

func (f finding) name() string {
	if f.num == 0 {
		return f.id
	}
	return f.id + "#" + strconv.Itoa(f.num)
}

// findings are the records of one check, by date once the index is built.
type findings []finding

func (fs findings) sort() {
	slices.SortFunc(fs, func(a, b finding) int {
		return cmp.Or(cmp.Compare(a.t, b.t), cmp.Compare(a.id, b.id), cmp.Compare(a.num, b.num))
	})
}

// QualityCount is what one check finds: how many records, and the ids of
// the latest few ("owner/name#N" for a pull request, the record id for a
// deployment or an incident), newest first.
type QualityCount struct {
	Count    int
	Examples []string
}

// count returns the findings dated in (from, to].
func (fs findings) count(from, to time.Time) QualityCount {
	lo, hi := bounds(len(fs), func(i int) int64 { return fs[i].t }, Window{From: from, To: to})
	q := QualityCount{Count: hi - lo}
	for i := hi - 1; i >= lo && len(q.Examples) < qualityExamples; i-- {
		q.Examples = append(q.Examples, fs[i].name())
	}
	return q
}

// Quality is what the data-quality checks find over the whole source.
type Quality struct {
	// UndeployedPRs are the pull requests merged into the default branch
	// in (now - QualityWindow, now - UndeployedGrace] that no successful
	// deployment of their repository at or after their merge deployed:
	// the ones without a lead time for changes.
	UndeployedPRs QualityCount
	// StatuslessDeployments are the GitHub deployments (of the deployment
	// signal: the production environment) created in (now -
	// QualityWindow, now - StatuslessGrace] without any status.
	StatuslessDeployments QualityCount
	// UnattributedIncidents are the incidents opened in (now -
	// QualityWindow, now] that blame no deployment: no successful
	// deployment of their repository (of any, for an incident of the
	// whole source) within the attribution window before their opening.
	UnattributedIncidents QualityCount
}

// qualityIndex holds the findings of the checks by date, so that Quality
// at any now is a few binary searches.
type qualityIndex struct {
	undeployed, statusless, unattributed findings
}

// Quality runs the data-quality checks at now over the records the index
// holds (as they stand, not as they stood at now).
func (ix *Index) Quality(now time.Time) Quality {
	from := now.Add(-QualityWindow)
	q := &ix.quality
	return Quality{
		UndeployedPRs:         q.undeployed.count(from, now.Add(-UndeployedGrace)),
		StatuslessDeployments: q.statusless.count(from, now.Add(-StatuslessGrace)),
		UnattributedIncidents: q.unattributed.count(from, now),
	}
}

// attributed reports whether an incident opened at opened blames one of
// the successful deployments cands (by time): the latest strictly before
// it, if it is within the attribution window.
func attributed(cands []*deployPoint, opened, attribution int64) (*deployPoint, bool) {
	i := sort.Search(len(cands), func(i int) bool { return cands[i].t >= opened })
	if i == 0 || opened-cands[i-1].t > attribution {
		return nil, false
	}
	return cands[i-1], true
}
