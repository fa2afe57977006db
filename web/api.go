package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/okrd/okrd/checkins"
	"github.com/okrd/okrd/okr"
	"github.com/okrd/okrd/report/format"
	"github.com/okrd/okrd/snapshot"
	"github.com/okrd/okrd/store"
)

// The JSON shapes of the API (docs/api.md). Optional numbers are pointers so
// that "no value" is null, never a misleading 0.

type periodJSON struct {
	Name  string    `json:"name"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

type forecastJSON struct {
	Value    float64 `json:"value"`
	Progress float64 `json:"progress"`
}

type keyResultJSON struct {
	ID               string        `json:"id"`
	Objective        string        `json:"objective"`
	Title            string        `json:"title"`
	Description      string        `json:"description,omitempty"`
	Owner            string        `json:"owner,omitempty"`
	Team             string        `json:"team,omitempty"`
	Source           string        `json:"source"`
	Metric           string        `json:"metric,omitempty"`
	Unit             string        `json:"unit"`
	Currency         string        `json:"currency,omitempty"`
	Direction        string        `json:"direction"`
	Baseline         *float64      `json:"baseline,omitempty"`
	Target           *float64      `json:"target,omitempty"`
	Min              *float64      `json:"min,omitempty"`
	Max              *float64      `json:"max,omitempty"`
	Weight           float64       `json:"weight"`
	Tolerance        float64       `json:"tolerance"`
	Value            *float64      `json:"value"`
	ValueAt          *time.Time    `json:"value_at"`
	Stale            bool          `json:"stale"`
	Progress         *float64      `json:"progress"`
	ExpectedProgress float64       `json:"expected_progress"`
	Gap              *float64      `json:"gap"`
	Status           okr.Status    `json:"status"`
	Forecast         *forecastJSON `json:"forecast"`
	Score            *float64      `json:"score"`
	Points           int           `json:"points_in_period"`
	// Confidence is the owner's latest confidence, null when none was
	// given.
	Confidence *confidenceJSON `json:"confidence"`
	// Initiatives are the delivery work linked to the key result, with
	// their progress; always a list.
	Initiatives []initiativeJSON `json:"initiatives"`
}

// confidenceJSON is the confidence in effect: its value on the 1..10
// scale, its level in words, when and by whom it was given, the one
// before it and the highest of the week (docs/api.md).
type confidenceJSON struct {
	Value    int       `json:"value"`
	Level    string    `json:"level"`
	At       time.Time `json:"at"`
	Author   string    `json:"author"`
	Note     string    `json:"note"`
	Previous *int      `json:"previous"`
	WeekHigh int       `json:"week_high"`
}

type objectiveJSON struct {
	ID          string     `json:"id"`
	Title       string     `json:"title"`
	Description string     `json:"description,omitempty"`
	Owner       string     `json:"owner,omitempty"`
	Team        string     `json:"team,omitempty"`
	Period      periodJSON `json:"period"`
	Progress    float64    `json:"progress"`
	Status      okr.Status `json:"status"`
	Score       *float64   `json:"score"`
	// ExpectedProgress is the weighted mean expected progress of the
	// parts the progress is made of.
	ExpectedProgress float64 `json:"expected_progress"`
	// Parent is the id of the parent objective, null for a root;
	// Children the ids of the child objectives, in the file's order.
	Parent       *string         `json:"parent"`
	Children     []string        `json:"children"`
	ProgressFrom string          `json:"progress_from"`
	Weight       float64         `json:"weight"`
	KeyResults   []keyResultJSON `json:"key_results"`
	// ChildObjectives holds the child objectives themselves, nested, in
	// the tree form of the list (?tree=1) only.
	ChildObjectives []objectiveJSON `json:"child_objectives,omitempty"`
}

func fp(v float64) *float64 { return &v }

func krJSON(kr *snapshot.KeyResult) keyResultJSON {
	c, r := kr.Config, kr.Result
	source := c.Source
	if source == "" {
		source = "manual"
	}
	out := keyResultJSON{
		ID: c.ID, Objective: kr.Objective.ID, Title: c.Title, Description: c.Description, Owner: c.Owner, Team: c.Team,
		Source: source, Metric: c.Metric, Unit: c.Unit, Currency: c.Currency, Direction: string(c.Engine.Direction),
		Weight: c.Engine.Weight, Tolerance: c.Engine.Tolerance, Stale: kr.Stale,
		ExpectedProgress: r.Expected, Status: r.Status, Points: kr.Points, Initiatives: []initiativeJSON{},
	}
	if c.Engine.Direction == okr.Maintain {
		out.Min, out.Max = fp(c.Engine.Min), fp(c.Engine.Max)
	} else {
		out.Baseline, out.Target = fp(c.Engine.Baseline), fp(c.Engine.Target)
	}
	if r.HasValue {
		at := r.ValueAt.UTC()
		out.Value, out.ValueAt, out.Progress, out.Gap = fp(r.Value), &at, fp(r.Progress), fp(r.Gap)
	}
	if r.HasForecast {
		out.Forecast = &forecastJSON{Value: r.Forecast, Progress: r.ForecastProgress}
	}
	if r.HasScore {
		out.Score = fp(r.Score)
	}
	if c := kr.Confidence; c != nil {
		out.Confidence = &confidenceJSON{Value: c.Value, Level: checkins.ConfidenceName(c.Value), At: c.At.UTC(),
			Author: c.Author, Note: c.Note, WeekHigh: c.WeekHigh}
		if c.Previous != 0 {
			out.Confidence.Previous = &c.Previous
		}
	}
	return out
}

func objJSON(o *snapshot.Objective) objectiveJSON {
	c := o.Config
	out := objectiveJSON{
		ID: c.ID, Title: c.Title, Description: c.Description, Owner: c.Owner, Team: c.Team,
		Period:   periodJSON{Name: c.Resolved.Name, Start: c.Resolved.Start.UTC(), End: c.Resolved.End.UTC()},
		Progress: o.Result.Progress, Status: o.Result.Status, KeyResults: make([]keyResultJSON, 0, len(o.KeyResults)),
		ExpectedProgress: o.Result.Expected, Children: make([]string, 0, len(c.Children)), ProgressFrom: c.ProgressFrom,
		Weight: 1,
	}
	if c.Parent != "" {
		p := c.Parent
		out.Parent = &p
	}
	if c.Weight != nil {
		out.Weight = *c.Weight
	}
	for _, ch := range c.Children {
		out.Children = append(out.Children, ch.ID)
	}
	if o.Result.HasScore {
		out.Score = fp(o.Result.Score)
	}
	for _, kr := range o.KeyResults {
		out.KeyResults = append(out.KeyResults, krJSON(kr))
	}
	return out
}

// withInitiatives adds the initiatives to an objective's key results.
func (h *Handler) withInitiatives(j objectiveJSON, o *snapshot.Objective) objectiveJSON {
	for i, kr := range o.KeyResults {
		if i < len(j.KeyResults) {
			j.KeyResults[i].Initiatives = h.initiativesJSON(kr.Config, o.Config.ID)
		}
	}
	return j
}

// snapshotOr503 returns the current snapshot, or answers 503 before the
// first evaluation.
func (h *Handler) snapshotOr503(w http.ResponseWriter) *snapshot.Snapshot {
	s := h.b.Snapshot()
	if s == nil {
		writeError(w, http.StatusServiceUnavailable, "not ready: the first evaluation has not finished")
	}
	return s
}

// lookup finds the objective and key result named in the path, answering 404
// with the ids that do exist when they do not.
func (h *Handler) lookup(w http.ResponseWriter, r *http.Request, wantKR bool) (*snapshot.Snapshot, *snapshot.Objective, *snapshot.KeyResult) {
	s := h.snapshotOr503(w)
	if s == nil {
		return nil, nil, nil
	}
	oid := r.PathValue("objective")
	o := s.Objective(oid)
	if o == nil {
		ids := make([]string, 0, len(s.Objectives))
		for _, o := range s.Objectives {
			ids = append(ids, o.Config.ID)
		}
		writeError(w, http.StatusNotFound, fmt.Sprintf("objective %q does not exist (objectives: %s)", oid, strings.Join(ids, ", ")))
		return nil, nil, nil
	}
	if !wantKR {
		return s, o, nil
	}
	kid := r.PathValue("key_result")
	kr := o.KeyResult(kid)
	if kr == nil {
		ids := make([]string, 0, len(o.KeyResults))
		for _, k := range o.KeyResults {
			ids = append(ids, k.Config.ID)
		}
		writeError(w, http.StatusNotFound, fmt.Sprintf("key result %q does not exist in objective %q (key results: %s)", kid, oid, strings.Join(ids, ", ")))
		return nil, nil, nil
	}
	return s, o, kr
}

func (h *Handler) objectives(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet) {
		return
	}
	s := h.snapshotOr503(w)
	if s == nil {
		return
	}
	q := r.URL.Query()
	team, owner := q.Get("team"), q.Get("owner")
	tree, err := boolParam(q.Get("tree"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "tree: "+err.Error())
		return
	}
	out := struct {
		EvaluatedAt time.Time       `json:"evaluated_at"`
		Objectives  []objectiveJSON `json:"objectives"`
	}{EvaluatedAt: s.EvaluatedAt.UTC(), Objectives: []objectiveJSON{}}
	match := func(o *snapshot.Objective) bool {
		return (team == "" || o.Config.Team == team) && (owner == "" || o.Config.Owner == owner)
	}
	if tree {
		out.Objectives = treeJSON(s, match)
		writeJSON(w, http.StatusOK, out)
		return
	}
	for _, o := range s.Objectives {
		if !match(o) {
			continue
		}
		out.Objectives = append(out.Objectives, h.withInitiatives(objJSON(o), o))
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) objective(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet) {
		return
	}
	if _, o, _ := h.lookup(w, r, false); o != nil {
		writeJSON(w, http.StatusOK, h.withInitiatives(objJSON(o), o))
	}
}

func (h *Handler) keyResult(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet) {
		return
	}
	if _, _, kr := h.lookup(w, r, true); kr != nil {
		j := krJSON(kr)
		j.Initiatives = h.initiativesJSON(kr.Config, kr.Objective.ID)
		writeJSON(w, http.StatusOK, j)
	}
}

// valueJSON is one value of a key result's history. Kind tells a client
// what the value is without parsing the origin: "live" (measured by a
// source when okrd polled it), "checkin", or "filled" (computed afterwards
// from the source's records for an instant okrd did not measure,
// docs/history.md).
type valueJSON struct {
	At     time.Time   `json:"at"`
	Value  float64     `json:"value"`
	Origin string      `json:"origin"`
	Kind   format.Kind `json:"kind"`
}

// parseTimeParam reads an RFC 3339 time or a YYYY-MM-DD date (midnight in
// loc) from the query.
func parseTimeParam(q, name string, loc *time.Location) (time.Time, error) {
	if q == "" {
		return time.Time{}, nil
	}
	t, err := checkins.ParseTime(q, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %w", name, err)
	}
	return t, nil
}

func (h *Handler) history(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet) {
		return
	}
	s, o, kr := h.lookup(w, r, true)
	if kr == nil {
		return
	}
	loc := h.b.Config().Global.Location
	q := r.URL.Query()
	from, err := parseTimeParam(q.Get("from"), "from", loc)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	to, err := parseTimeParam(q.Get("to"), "to", loc)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if from.IsZero() {
		from = o.Config.Resolved.Start
	}
	if to.IsZero() {
		to = s.EvaluatedAt
	}
	if to.Before(from) {
		writeError(w, http.StatusBadRequest, "to is before from")
		return
	}
	vals, err := h.b.Store().History(r.Context(), o.Config.ID, kr.Config.ID, from, to)
	if err != nil {
		h.logger.Error("reading history failed", "err", err)
		writeError(w, http.StatusInternalServerError, "reading history failed")
		return
	}
	out := struct {
		Objective string      `json:"objective"`
		KeyResult string      `json:"key_result"`
		From      time.Time   `json:"from"`
		To        time.Time   `json:"to"`
		Values    []valueJSON `json:"values"`
	}{Objective: o.Config.ID, KeyResult: kr.Config.ID, From: from.UTC(), To: to.UTC(), Values: make([]valueJSON, 0, len(vals))}
	for _, v := range vals {
		out.Values = append(out.Values, valueJSON{At: v.At.UTC(), Value: v.Value, Origin: v.Origin, Kind: format.KindOf(v.Origin)})
	}
	writeJSON(w, http.StatusOK, out)
}

type checkinJSON struct {
	ID        int64     `json:"id"`
	Objective string    `json:"objective"`
	KeyResult string    `json:"key_result"`
	At        time.Time `json:"at"`
	Value     float64   `json:"value"`
	Author    string    `json:"author"`
	Note      string    `json:"note"`
	CreatedAt time.Time `json:"created_at"`
}

func toCheckinJSON(c store.Checkin) checkinJSON {
	return checkinJSON{ID: c.ID, Objective: c.ObjectiveID, KeyResult: c.KeyResultID, At: c.At.UTC(), Value: c.Value,
		Author: c.Author, Note: c.Note, CreatedAt: c.CreatedAt.UTC()}
}

func (h *Handler) checkins(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet, http.MethodPost) {
		return
	}
	if r.Method == http.MethodPost {
		h.postCheckin(w, r)
		return
	}
	_, o, kr := h.lookup(w, r, true)
	if kr == nil {
		return
	}
	limit, ok := limitParam(w, r.URL.Query(), 100, 10000, "")
	if !ok {
		return
	}
	cs, err := h.b.Store().Checkins(r.Context(), o.Config.ID, kr.Config.ID, limit)
	if err != nil {
		h.logger.Error("reading check-ins failed", "err", err)
		writeError(w, http.StatusInternalServerError, "reading check-ins failed")
		return
	}
	out := struct {
		Checkins []checkinJSON `json:"checkins"`
	}{Checkins: make([]checkinJSON, 0, len(cs))}
	for _, c := range cs {
		out.Checkins = append(out.Checkins, toCheckinJSON(c))
	}
	writeJSON(w, http.StatusOK, out)
}

// limitParam reads the query's limit parameter: def when absent, else a
// whole number from 1 to max (hint, when not empty, follows the error).
// On a bad value it answers 400 naming the parameter and returns false.
func limitParam(w http.ResponseWriter, q url.Values, def, max int, hint string) (int, bool) {
	l := q.Get("limit")
	if l == "" {
		return def, true
	}
	n, err := strconv.Atoi(l)
	if err != nil || n < 1 || n > max {
		msg := fmt.Sprintf("limit: %q is not a whole number from 1 to %d", l, max)
		if hint != "" {
			msg += " (" + hint + ")"
		}
		writeError(w, http.StatusBadRequest, msg)
		return 0, false
	}
	return n, true
}

// readBody authorizes a write and reads its JSON body (what names what the
// body holds, for the errors); it answers the request itself and returns
// false when it cannot go on.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request, what string) ([]byte, bool) {
	if !h.authorized(w, r) {
		return nil, false
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			writeError(w, http.StatusUnsupportedMediaType, "Content-Type must be application/json")
			return nil, false
		}
	}
	tooLarge := fmt.Sprintf("body: larger than %d bytes; %s is a small JSON object (a note has at most %d bytes)", maxBody, what, checkins.MaxNote)
	if r.ContentLength > maxBody {
		writeError(w, http.StatusRequestEntityTooLarge, tooLarge)
		return nil, false
	}
	// ServeHTTP caps the body at maxBody; a chunked body that goes past
	// it fails here.
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var big *http.MaxBytesError
		var ne net.Error
		switch {
		case errors.As(err, &big):
			writeError(w, http.StatusRequestEntityTooLarge, tooLarge)
		case errors.As(err, &ne) && ne.Timeout():
			writeError(w, http.StatusRequestTimeout, "body: not received within server.read_timeout")
		default:
			writeError(w, http.StatusBadRequest, "body: reading it failed: "+err.Error())
		}
		return nil, false
	}
	return body, true
}

func (h *Handler) postCheckin(w http.ResponseWriter, r *http.Request) {
	body, ok := h.readBody(w, r, "a check-in")
	if !ok {
		return
	}
	in, err := decodeCheckin(body, h.b.Config().Global.Location)
	if err != nil {
		writeError(w, http.StatusBadRequest, "body: "+err.Error())
		return
	}
	author := in.author
	if author == "" {
		author = "api"
	}
	c, err := h.b.AddCheckin(r.Context(), checkins.Request{
		ObjectiveID: r.PathValue("objective"), KeyResultID: r.PathValue("key_result"),
		Value: in.value, At: in.at, Author: author, Note: in.note, Confidence: in.confidence,
	})
	if err != nil {
		code := checkinStatus(err)
		var fe *checkins.FieldError
		switch {
		case code == http.StatusInternalServerError:
			h.logger.Error("recording a check-in failed", "err", err)
			writeError(w, code, "recording the check-in failed")
		case errors.As(err, &fe):
			writeError(w, code, fmt.Sprintf("body: %q: %s", fe.Field, fe.Msg))
		default:
			writeError(w, code, err.Error())
		}
		return
	}
	resp := struct {
		Checkin   checkinJSON    `json:"checkin"`
		KeyResult *keyResultJSON `json:"key_result,omitempty"`
	}{Checkin: toCheckinJSON(c)}
	if s := h.b.Snapshot(); s != nil {
		if o := s.Objective(c.ObjectiveID); o != nil {
			if kr := o.KeyResult(c.KeyResultID); kr != nil {
				j := krJSON(kr)
				resp.KeyResult = &j
			}
		}
	}
	writeJSON(w, http.StatusCreated, resp)
}

// checkinInput is a decoded check-in body.
type checkinInput struct {
	value        float64
	at           *time.Time
	author, note string
	// confidence is 1..10, 0 when not given.
	confidence int
}

// checkinFields are the fields of a check-in body, in the order of
// docs/api.md; confidenceFields those of a confidence's.
var (
	checkinFields    = []string{checkins.FieldValue, checkins.FieldAt, checkins.FieldAuthor, checkins.FieldNote, checkins.FieldConfidence}
	confidenceFields = []string{checkins.FieldConfidence, checkins.FieldAt, checkins.FieldAuthor, checkins.FieldNote}
)

func decodeCheckin(body []byte, loc *time.Location) (checkinInput, error) {
	return decodeBody(body, loc, checkinFields, checkins.FieldValue, `{"value": 42}`)
}

func decodeConfidence(body []byte, loc *time.Location) (checkinInput, error) {
	return decodeBody(body, loc, confidenceFields, checkins.FieldConfidence, `{"confidence": 7}`)
}

// decodeBody reads a check-in or confidence body: one JSON object with the
// fields given, each at most once, the required one among them, and
// nothing after it (example is a minimal body, for the errors). It walks the tokens itself
// rather than decoding into a struct so that every error names the JSON
// field and the JSON type, never a Go type (encoding/json would say "cannot
// unmarshal string into Go struct field .value of type float64"). A null
// field counts as absent.
func decodeBody(body []byte, loc *time.Location, fields []string, required, example string) (checkinInput, error) {
	var in checkinInput
	// A first pass checks that the body is one JSON object and nothing
	// more, with encoding/json's own syntax errors and their offsets.
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber() // a number too large for a float64 is reported at its field below
	var top any
	if err := dec.Decode(&top); err != nil {
		if errors.Is(err, io.EOF) {
			return in, errors.New("empty; want a JSON object such as " + example)
		}
		return in, syntaxError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return in, errors.New("unexpected data after the JSON object")
	}
	if _, ok := top.(map[string]any); !ok {
		return in, fmt.Errorf("must be a JSON object such as %s, not %s", example, valueKind(top))
	}
	// The second pass walks the valid object field by field.
	dec = json.NewDecoder(bytes.NewReader(body))
	if _, err := dec.Token(); err != nil { // the opening brace
		return in, syntaxError(err)
	}
	seen := map[string]bool{}
	// present holds the fields given with a value other than null.
	present := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return in, syntaxError(err)
		}
		key, _ := tok.(string) // the decoder allows only strings as keys
		if !slices.Contains(fields, key) {
			return in, fmt.Errorf("unknown field %q (the fields are %s)", key, strings.Join(fields, ", "))
		}
		if seen[key] {
			return in, fmt.Errorf("%q: given twice", key)
		}
		seen[key] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return in, syntaxError(err)
		}
		if string(raw) == "null" {
			continue // null counts as absent
		}
		present[key] = true
		switch key {
		case checkins.FieldConfidence:
			kind := rawKind(raw)
			var text string
			switch kind {
			case "number":
				text = string(raw)
			case "string":
				if err := json.Unmarshal(raw, &text); err != nil {
					return in, fmt.Errorf("%q: not a valid JSON string", key)
				}
			default:
				return in, fmt.Errorf(`%q: must be a whole number from 1 to 10 or one of "low", "medium", "high", not a JSON %s`, key, kind)
			}
			c, err := checkins.ParseConfidence(text)
			if err != nil {
				var fe *checkins.FieldError
				if errors.As(err, &fe) {
					return in, fmt.Errorf("%q: %s", key, fe.Msg)
				}
				return in, err
			}
			in.confidence = c
		case checkins.FieldValue:
			if kind := rawKind(raw); kind != "number" {
				return in, fmt.Errorf("%q: must be a number, not a JSON %s", key, kind)
			}
			v, err := strconv.ParseFloat(string(raw), 64)
			if err != nil {
				return in, fmt.Errorf("%q: must be a finite number, not %s", key, raw)
			}
			in.value = v
		default:
			if kind := rawKind(raw); kind != "string" {
				if key == checkins.FieldAt {
					return in, fmt.Errorf(`%q: must be a string such as "2026-11-25T10:00:00Z" or "2026-11-25", not a JSON %s`, key, kind)
				}
				return in, fmt.Errorf("%q: must be a string, not a JSON %s", key, kind)
			}
			var str string
			if err := json.Unmarshal(raw, &str); err != nil {
				return in, fmt.Errorf("%q: not a valid JSON string", key)
			}
			switch key {
			case checkins.FieldAt:
				if str == "" {
					continue
				}
				t, err := checkins.ParseTime(str, loc)
				if err != nil {
					return in, fmt.Errorf("%q: %w", key, err)
				}
				in.at = &t
			case checkins.FieldAuthor:
				in.author = str
			case checkins.FieldNote:
				in.note = str
			}
		}
	}
	if !present[required] {
		if required == checkins.FieldValue {
			return in, fmt.Errorf(`%q: required (a number, such as {"value": 42})`, checkins.FieldValue)
		}
		return in, fmt.Errorf(`%q: required (1 to 10, or "low", "medium", "high", such as {"confidence": 7})`, required)
	}
	return in, nil
}

// syntaxError says where a body stops being JSON.
func syntaxError(err error) error {
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("invalid JSON at byte %d: %v", syn.Offset, syn)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return errors.New("invalid JSON: the body ends before the JSON value does")
	default:
		return fmt.Errorf("invalid JSON: %v", err)
	}
}

// valueKind names the JSON type of a value decoded into an any.
func valueKind(v any) string {
	switch v.(type) {
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	default:
		return "null"
	}
}

// rawKind names the JSON type of a valid JSON value.
func rawKind(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	default:
		return "number"
	}
}

func (h *Handler) sources(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"sources": h.b.Sources()})
}
