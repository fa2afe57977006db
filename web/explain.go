package web

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/metrics/explain"
	"github.com/okrd/okrd/report/format"
)

// explainer is the part of the backend that lists the records behind a
// key result's value (the App implements it).
type explainer interface {
	Explain(ctx context.Context, objectiveID, keyResultID string, at time.Time) (*explain.Result, error)
}

// The row limit of the JSON answer: a default, and at most.
const (
	explainDefaultLimit = 100
	explainMaxLimit     = 5000
)

// explain answers GET .../explain[?at=TIME][&limit=N][&format=csv]:
// the records behind the value, as JSON (at most limit rows) or, with
// format=csv or Accept: text/csv, every row as CSV.
func (h *Handler) explain(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet) {
		return
	}
	_, o, kr := h.lookup(w, r, true)
	if kr == nil {
		return
	}
	q := r.URL.Query()
	at, err := parseTimeParam(q.Get("at"), "at", h.location())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error()+` (give an RFC 3339 time such as 2026-11-25T10:00:00Z or a date such as 2026-11-25)`)
		return
	}
	csvOut := false
	switch f := q.Get("format"); f {
	case "", "json":
		csvOut = f == "" && wantsCSV(r)
	case "csv":
		csvOut = true
	default:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("format: %q is not json or csv", f))
		return
	}
	limit, ok := limitParam(w, q, explainDefaultLimit, explainMaxLimit, "the CSV, format=csv, has every row")
	if !ok {
		return
	}
	res, code, msg := h.explainResult(r.Context(), o.Config.ID, kr.Config.ID, at)
	if res == nil {
		writeError(w, code, msg)
		return
	}
	if csvOut {
		name := safeFileName(o.Config.ID + "-" + kr.Config.ID + "-explain.csv")
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
		w.Header().Set("Cache-Control", "no-store")
		if err := res.WriteCSV(w); err != nil {
			h.logger.Warn("writing the explain CSV failed", "err", err)
		}
		return
	}
	writeJSON(w, http.StatusOK, res.JSON(limit))
}

// explainResult asks the backend, mapping its errors to a status and a
// message for the client.
func (h *Handler) explainResult(ctx context.Context, objectiveID, keyResultID string, at time.Time) (*explain.Result, int, string) {
	ex, ok := h.b.(explainer)
	if !ok {
		return nil, http.StatusNotFound, "explain is not available"
	}
	res, err := ex.Explain(ctx, objectiveID, keyResultID, at)
	if err == nil {
		return res, http.StatusOK, ""
	}
	var pe *explain.ParamError
	var nf *explain.NotFoundError
	switch {
	case errors.As(err, &pe):
		return nil, http.StatusBadRequest, pe.Error()
	case errors.As(err, &nf):
		return nil, http.StatusNotFound, nf.Error()
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return nil, http.StatusServiceUnavailable, "explain did not finish in time"
	}
	h.logger.Warn("explain failed", "objective", objectiveID, "key_result", keyResultID, "err", err)
	return nil, http.StatusServiceUnavailable, "explain failed: " + err.Error()
}

// wantsCSV reports whether the Accept header prefers text/csv.
func wantsCSV(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err == nil && mt == "text/csv" {
			return true
		}
		if err == nil && (mt == "application/json" || mt == "*/*") {
			return false
		}
	}
	return false
}

// safeFileName keeps letters, digits, '-', '_' and '.'.
func safeFileName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, s)
}

// The page's section "What makes this number".

// explainPageRows is how many rows the page shows inline.
const explainPageRows = 10

type explainCell struct {
	Text string
	Link string
}

type explainRowView struct {
	Cells []explainCell
	Mark  string // "quantile", "neighbour" or ""
	Gap   bool   // rows were left out before this one
}

type explainView struct {
	How, Note, Message string
	Failed             string
	Headers            []string
	Rows               []explainRowView
	Total              int
	Shown              int
	Top                int // rows shown by contribution, before any the quantile reads
	CSVURL             string
	Value              string
}

// humanValue shows a value of a column for people: durations with the
// shared formatter, times in the page's zone, a key result's value in its
// unit.
func humanValue(k explain.Kind, v any, tf timeFormatter, kr *config.KeyResult) string {
	switch x := v.(type) {
	case time.Time:
		if x.IsZero() {
			return ""
		}
		return tf.at(x)
	case float64:
		if k == explain.Duration {
			return format.Duration(x)
		}
		if k == explain.Value && kr != nil {
			return format.Value(kr, x)
		}
	case bool:
		if x {
			return "yes"
		}
		return ""
	}
	return explain.Plain(v)
}

// explainSection builds the section from the backend's answer now: the
// top rows by contribution and the rows a quantile reads.
func (h *Handler) explainSection(ctx context.Context, kr *config.KeyResult, objectiveID, keyResultID, csvURL string, tf timeFormatter) *explainView {
	if _, ok := h.b.(explainer); !ok {
		return nil
	}
	res, _, msg := h.explainResult(ctx, objectiveID, keyResultID, time.Time{})
	v := &explainView{CSVURL: csvURL}
	if res == nil {
		v.Failed = msg
		return v
	}
	v.How, v.Note, v.Message, v.Total = res.How, res.Note, res.Message, len(res.Rows)
	linkCol := -1
	for i, c := range res.Columns {
		v.Headers = append(v.Headers, c.Title)
		if linkCol < 0 && (c.Key == "number" || c.Key == "key" || c.Key == "deployment" || c.Key == "incident") {
			linkCol = i
		}
	}
	prev := -1
	for i, row := range res.Rows {
		if i >= explainPageRows && row.Mark == "" {
			continue
		}
		rv := explainRowView{Mark: string(row.Mark), Gap: prev >= 0 && i != prev+1}
		for ci, c := range res.Columns {
			cell := explainCell{Text: humanValue(c.Kind, row.Values[ci], tf, kr)}
			if ci == linkCol {
				cell.Link = row.Link
			}
			rv.Cells = append(rv.Cells, cell)
		}
		v.Rows = append(v.Rows, rv)
		prev = i
	}
	v.Shown, v.Top = len(v.Rows), min(explainPageRows, len(res.Rows))
	return v
}
