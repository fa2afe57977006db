package web

import (
	"embed"
	"html/template"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/okrd/okrd/okr"
	"github.com/okrd/okrd/snapshot"
)

//go:embed templates/*.html
var templateFS embed.FS

var pageTmpl = template.Must(template.New("index.html").Funcs(template.FuncMap{
	"pct":    func(f float64) string { return strconv.FormatFloat(math.Round(f*100), 'f', 0, 64) + "%" },
	"width":  func(f float64) string { return strconv.FormatFloat(math.Max(0, math.Min(100, f*100)), 'f', 1, 64) },
	"status": func(s okr.Status) string { return strings.ReplaceAll(string(s), "_", " ") },
	"value":  formatValue,
	"time":   func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
}).ParseFS(templateFS, "templates/index.html"))

// formatValue shows a key result value in its unit.
func formatValue(kr *snapshot.KeyResult, v float64) string {
	switch kr.Config.Unit {
	case "ratio":
		return strconv.FormatFloat(v*100, 'f', 1, 64) + "%"
	case "percent":
		return strconv.FormatFloat(v, 'f', 1, 64) + "%"
	case "duration":
		d := time.Duration(v * float64(time.Second))
		switch {
		case d >= 48*time.Hour:
			return strconv.FormatFloat(d.Hours()/24, 'f', 1, 64) + " d"
		case d >= 2*time.Hour:
			return strconv.FormatFloat(d.Hours(), 'f', 1, 64) + " h"
		case d >= time.Second:
			return d.Round(time.Second / 10).String()
		default:
			return strconv.FormatFloat(v*1000, 'f', 0, 64) + " ms"
		}
	case "currency":
		return strconv.FormatFloat(v, 'f', 0, 64) + " " + kr.Config.Currency
	default:
		return strconv.FormatFloat(v, 'g', 6, 64)
	}
}

func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet) {
		return
	}
	s := h.b.Snapshot()
	if s == nil {
		w.Header().Set("Retry-After", "5")
		http.Error(w, "okrd is starting: the first evaluation has not finished.", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	data := struct {
		Snapshot *snapshot.Snapshot
		Sources  any
	}{s, h.b.Sources()}
	if err := pageTmpl.Execute(w, data); err != nil {
		h.logger.Warn("rendering the page failed", "err", err)
	}
}
