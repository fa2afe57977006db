package web

import (
	"cmp"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/okrd/okrd/checkins"
	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
)

// Delivery is what a Backend may add about the delivery work behind the
// key results: their initiatives and the sources' investment balance. A
// Backend without it serves key results without initiatives.
type Delivery interface {
	Initiatives(objective, keyResult string) []collectors.InitiativeReport
	Investment() []collectors.InvestmentReport
}

func (h *Handler) delivery() Delivery {
	d, _ := h.b.(Delivery)
	return d
}

// initiativeJSON is an initiative in a key result's JSON: its progress,
// not its events (GET /api/v1/annotations serves those).
type initiativeJSON struct {
	ID        string     `json:"id"`
	Title     string     `json:"title"`
	Kind      string     `json:"kind"`
	Work      string     `json:"work"`
	Source    string     `json:"source"`
	By        string     `json:"by"`
	Done      *float64   `json:"done"`
	Total     *float64   `json:"total"`
	Progress  *float64   `json:"progress"`
	Deployed  *int       `json:"deployed,omitempty"`
	Events    int        `json:"events"`
	LastEvent *time.Time `json:"last_event"`
	Error     string     `json:"error,omitempty"`
	At        *time.Time `json:"measured_at"`
}

// initiativesJSON lists a key result's initiatives; an empty list when it
// has none.
func (h *Handler) initiativesJSON(kc *config.KeyResult, objective string) []initiativeJSON {
	out := []initiativeJSON{}
	d := h.delivery()
	if d == nil || len(kc.Initiatives) == 0 {
		return out
	}
	for i, r := range d.Initiatives(objective, kc.ID) {
		j := initiativeJSON{ID: r.Initiative, Title: r.Title, Kind: r.Kind, Source: r.Source, By: r.By, Events: len(r.Events) + r.EventsOmitted, Error: r.Err}
		if i < len(kc.Initiatives) {
			j.Work = kc.Initiatives[i].Name()
		}
		if r.HasValue {
			j.Done, j.Total = fp(r.Done), fp(r.Total)
			if p, ok := r.Progress(); ok {
				j.Progress = fp(p)
			}
		}
		if r.HasDeployed {
			n := r.Deployed
			j.Deployed = &n
		}
		if n := len(r.Events); n > 0 {
			at := r.Events[n-1].At.UTC()
			j.LastEvent = &at
		}
		if !r.At.IsZero() {
			at := r.At.UTC()
			j.At = &at
		}
		out = append(out, j)
	}
	return out
}

// annotationJSON is one event in the shape Grafana's annotation queries
// read (docs/dashboards.md, "Initiative annotations"): time and timeEnd
// in epoch milliseconds, a title, a text and tags.
type annotationJSON struct {
	Time       int64     `json:"time"`
	TimeEnd    int64     `json:"timeEnd"`
	At         time.Time `json:"at"`
	Title      string    `json:"title"`
	Text       string    `json:"text"`
	Tags       []string  `json:"tags"`
	Kind       string    `json:"kind"`
	Ref        string    `json:"ref"`
	Objective  string    `json:"objective"`
	KeyResult  string    `json:"key_result"`
	Initiative string    `json:"initiative"`
	Source     string    `json:"source"`
}

// Limits of GET /api/v1/annotations.
const (
	defaultAnnotations = 1000
	maxAnnotations     = 10000
)

var eventKinds = []string{collectors.EventIssueDone, collectors.EventPRMerged, collectors.EventDeployment}

// epochMillis is what Grafana's ${__from} and ${__to} expand to.
var epochMillis = regexp.MustCompile(`^[0-9]{1,15}$`)

// parseInstant reads an instant from a query parameter: epoch
// milliseconds, RFC 3339 or a date.
func parseInstant(q, name string, loc *time.Location) (time.Time, error) {
	if epochMillis.MatchString(q) {
		ms, err := strconv.ParseInt(q, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("%s: %w", name, err)
		}
		return time.UnixMilli(ms).UTC(), nil
	}
	if q == "" {
		return time.Time{}, nil
	}
	t, err := checkins.ParseTime(q, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: must be epoch milliseconds (Grafana's ${__from}), an RFC 3339 time or a date like 2026-10-01: %w", name, err)
	}
	return t, nil
}

// annotations serves GET /api/v1/annotations: the events of the
// initiatives of every key result, or of one objective, key result or
// initiative, between from and to, oldest first; at most limit of them,
// the newest.
func (h *Handler) annotations(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet) {
		return
	}
	s := h.snapshotOr503(w)
	if s == nil {
		return
	}
	cfg := h.b.Config()
	q := r.URL.Query()
	for k := range q {
		if !slices.Contains([]string{"objective", "key_result", "initiative", "kind", "from", "to", "limit"}, k) {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("unknown parameter %q (parameters: objective, key_result, initiative, kind, from, to, limit)", k))
			return
		}
	}
	oid, kid, iid := q.Get("objective"), q.Get("key_result"), q.Get("initiative")
	if kid != "" && oid == "" {
		writeError(w, http.StatusBadRequest, "key_result: needs objective (key result ids are unique within an objective)")
		return
	}
	if iid != "" && kid == "" {
		writeError(w, http.StatusBadRequest, "initiative: needs objective and key_result")
		return
	}
	var objs []*config.Objective
	if oid != "" {
		o := cfg.Objective(oid)
		if o == nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("objective: %q does not exist", oid))
			return
		}
		if kid != "" && o.KeyResult(kid) == nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("key_result: objective %q has no key result %q", oid, kid))
			return
		}
		objs = []*config.Objective{o}
	} else {
		objs = cfg.Objectives
	}
	var kinds []string
	if k := q.Get("kind"); k != "" {
		for _, x := range strings.Split(k, ",") {
			if !slices.Contains(eventKinds, x) {
				writeError(w, http.StatusBadRequest, fmt.Sprintf("kind: %q is not an event kind (%s)", x, strings.Join(eventKinds, ", ")))
				return
			}
			kinds = append(kinds, x)
		}
	}
	loc := cfg.Global.Location
	from, err := parseInstant(q.Get("from"), "from", loc)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	to, err := parseInstant(q.Get("to"), "to", loc)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if to.IsZero() {
		to = s.EvaluatedAt
	}
	if to.Before(from) {
		writeError(w, http.StatusBadRequest, "to: is before from")
		return
	}
	limit, ok := limitParam(w, q, defaultAnnotations, maxAnnotations, "")
	if !ok {
		return
	}
	out := []annotationJSON{}
	found := iid == ""
	if d := h.delivery(); d != nil {
		for _, o := range objs {
			for _, kc := range o.KeyResults {
				if (kid != "" && kc.ID != kid) || len(kc.Initiatives) == 0 {
					continue
				}
				for _, rep := range d.Initiatives(o.ID, kc.ID) {
					if iid != "" && rep.Initiative != iid {
						continue
					}
					found = true
					for _, ev := range rep.Events {
						if ev.At.Before(from) || ev.At.After(to) || (kinds != nil && !slices.Contains(kinds, ev.Kind)) {
							continue
						}
						ms := ev.At.UnixMilli()
						out = append(out, annotationJSON{Time: ms, TimeEnd: ms, At: ev.At.UTC(), Title: ev.Title,
							Text: fmt.Sprintf("%s: %s (%s, key result %s)", rep.Title, ev.Title, o.Title, kc.Title),
							Tags: []string{"okrd", ev.Kind, o.ID, kc.ID, rep.Initiative},
							Kind: ev.Kind, Ref: ev.Ref, Objective: o.ID, KeyResult: kc.ID, Initiative: rep.Initiative, Source: rep.Source})
					}
				}
			}
		}
	}
	if !found {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("initiative: key result %s/%s has no initiative %q", oid, kid, iid))
		return
	}
	slices.SortStableFunc(out, func(a, b annotationJSON) int {
		if a.Time != b.Time {
			return cmp.Compare(a.Time, b.Time)
		}
		return strings.Compare(a.Ref, b.Ref)
	})
	truncated := false
	if len(out) > limit {
		out, truncated = out[len(out)-limit:], true
	}
	// Without a from, the range has no start: null rather than year 1.
	var fromJSON *time.Time
	if !from.IsZero() {
		f := from.UTC()
		fromJSON = &f
	}
	writeJSON(w, http.StatusOK, struct {
		From        *time.Time       `json:"from"`
		To          time.Time        `json:"to"`
		Truncated   bool             `json:"truncated"`
		Annotations []annotationJSON `json:"annotations"`
	}{fromJSON, to.UTC(), truncated, out})
}

// investment serves GET /api/v1/investment: the investment balance of
// every source that has one, or of one source, scope or window.
func (h *Handler) investment(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet) {
		return
	}
	q := r.URL.Query()
	for k := range q {
		if !slices.Contains([]string{"source", "scope", "window"}, k) {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("unknown parameter %q (parameters: source, scope, window)", k))
			return
		}
	}
	src := q.Get("source")
	if src != "" {
		if _, ok := h.b.Config().Sources[src]; !ok {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("source: %q is not a configured source", src))
			return
		}
	}
	out := []collectors.InvestmentReport{}
	if d := h.delivery(); d != nil {
		for _, rep := range d.Investment() {
			if (src != "" && rep.Source != src) || (q.Get("scope") != "" && rep.Scope != q.Get("scope")) || (q.Get("window") != "" && rep.Window != q.Get("window")) {
				continue
			}
			out = append(out, rep)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"investment": out})
}
