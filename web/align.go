package web

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/okrd/okrd/checkins"
	"github.com/okrd/okrd/snapshot"
	"github.com/okrd/okrd/store"
)

// boolParam reads a boolean query parameter: "1", "true", "0", "false" or
// empty (false).
func boolParam(v string) (bool, error) {
	switch v {
	case "", "0", "false":
		return false, nil
	case "1", "true":
		return true, nil
	}
	return false, fmt.Errorf("%q is not 1, true, 0 or false", v)
}

// treeJSON is the objectives of s as a tree: the objectives match keeps
// whose parent it does not keep (or that have none), each with its
// descendants nested in child_objectives, in the file's order.
func treeJSON(s *snapshot.Snapshot, match func(*snapshot.Objective) bool) []objectiveJSON {
	kept := make(map[string]bool, len(s.Objectives))
	for _, o := range s.Objectives {
		if match(o) {
			kept[o.Config.ID] = true
		}
	}
	var nest func(o *snapshot.Objective) objectiveJSON
	nest = func(o *snapshot.Objective) objectiveJSON {
		j := objJSON(o)
		for _, c := range o.Children {
			j.ChildObjectives = append(j.ChildObjectives, nest(c))
		}
		return j
	}
	out := []objectiveJSON{}
	for _, o := range s.Objectives {
		if kept[o.Config.ID] && (o.Config.Parent == "" || !kept[o.Config.Parent]) {
			out = append(out, nest(o))
		}
	}
	return out
}

type confidenceRecordJSON struct {
	ID        int64     `json:"id"`
	Objective string    `json:"objective"`
	KeyResult string    `json:"key_result"`
	At        time.Time `json:"at"`
	Value     int       `json:"value"`
	Level     string    `json:"level"`
	Author    string    `json:"author"`
	Note      string    `json:"note"`
	CreatedAt time.Time `json:"created_at"`
	// Checkin is the id of the check-in it was given with, null when it
	// was given on its own.
	Checkin *int64 `json:"checkin"`
}

func toConfidenceJSON(c store.Confidence) confidenceRecordJSON {
	j := confidenceRecordJSON{ID: c.ID, Objective: c.ObjectiveID, KeyResult: c.KeyResultID, At: c.At.UTC(), Value: c.Value,
		Level: checkins.ConfidenceName(c.Value), Author: c.Author, Note: c.Note, CreatedAt: c.CreatedAt.UTC()}
	if c.CheckinID != 0 {
		id := c.CheckinID
		j.Checkin = &id
	}
	return j
}

// confidence serves a key result's confidences: GET lists them newest
// first (?limit=N, default 100), POST records one.
func (h *Handler) confidence(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet, http.MethodPost) {
		return
	}
	if r.Method == http.MethodPost {
		h.postConfidence(w, r)
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
	cs, err := h.b.Store().Confidences(r.Context(), o.Config.ID, kr.Config.ID, limit)
	if err != nil {
		h.logger.Error("reading confidences failed", "err", err)
		writeError(w, http.StatusInternalServerError, "reading confidences failed")
		return
	}
	out := struct {
		Confidences []confidenceRecordJSON `json:"confidences"`
	}{Confidences: make([]confidenceRecordJSON, 0, len(cs))}
	for _, c := range cs {
		out.Confidences = append(out.Confidences, toConfidenceJSON(c))
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) postConfidence(w http.ResponseWriter, r *http.Request) {
	body, ok := h.readBody(w, r, "a confidence")
	if !ok {
		return
	}
	in, err := decodeConfidence(body, h.b.Config().Global.Location)
	if err != nil {
		writeError(w, http.StatusBadRequest, "body: "+err.Error())
		return
	}
	author := in.author
	if author == "" {
		author = "api"
	}
	c, err := h.b.AddConfidence(r.Context(), checkins.ConfidenceRequest{
		ObjectiveID: r.PathValue("objective"), KeyResultID: r.PathValue("key_result"),
		Value: in.confidence, At: in.at, Author: author, Note: in.note,
	})
	if err != nil {
		code := checkinStatus(err)
		var fe *checkins.FieldError
		switch {
		case code == http.StatusInternalServerError:
			h.logger.Error("recording a confidence failed", "err", err)
			writeError(w, code, "recording the confidence failed")
		case errors.As(err, &fe):
			writeError(w, code, fmt.Sprintf("body: %q: %s", fe.Field, fe.Msg))
		default:
			writeError(w, code, err.Error())
		}
		return
	}
	resp := struct {
		Confidence confidenceRecordJSON `json:"confidence"`
		KeyResult  *keyResultJSON       `json:"key_result,omitempty"`
	}{Confidence: toConfidenceJSON(c)}
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
