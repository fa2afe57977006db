package report

import (
	"embed"
	htmltemplate "html/template"
	"io"
	"strings"
	"text/template"

	"github.com/okrd/okrd/okr"
	"github.com/okrd/okrd/report/format"
)

//go:embed templates
var templateFS embed.FS

var (
	mdTmpl = template.Must(template.New("report.md.tmpl").Funcs(template.FuncMap{
		"md":       Escape,
		"cell":     func(s string) string { return Escape(oneline(s)) },
		"oneline":  oneline,
		"status":   StatusText,
		"join":     strings.Join,
		"green":    green,
		"sentence": format.Sentence,
		"indent":   indent,
	}).ParseFS(templateFS, "templates/report.md.tmpl"))
	htmlTmpl = htmltemplate.Must(htmltemplate.New("report.html").Funcs(htmltemplate.FuncMap{
		"status":   StatusText,
		"join":     strings.Join,
		"green":    green,
		"sentence": format.Sentence,
		"badge":    badge,
		"rule":     rule,
		"indent":   indent,
	}).ParseFS(templateFS, "templates/report.html"))
)

// indent marks a child objective's heading with its depth in the tree:
// "↳ " under its parent, "↳↳ " under a child.
func indent(depth int) string { return strings.Repeat("↳", depth) + " " }

// The colours of the statuses, as on the web page (web/static/style.css,
// whose test checks their contrast): text on a background for the badge,
// and a rule beside the reasons.
var statusColours = map[okr.Status]struct{ fg, bg, rule string }{
	okr.StatusOnTrack:  {"#0b4d1c", "#d7f0dc", "#1e7a34"},
	okr.StatusAchieved: {"#0b3a75", "#d6e6fb", "#1f5fbf"},
	okr.StatusAtRisk:   {"#5c3d00", "#fcecc4", "#8f5b00"},
	okr.StatusOffTrack: {"#6b0f07", "#f8d3d0", "#b3261e"},
	okr.StatusMissed:   {"#6b0f07", "#f8d3d0", "#b3261e"},
	okr.StatusNoData:   {"#333333", "#e6e6e6", "#6b6b6b"},
}

// badge is the inline style of a status badge. Mail clients ignore class
// names and style blocks, so every badge carries its colours.
func badge(s okr.Status) htmltemplate.CSS {
	c, ok := statusColours[s]
	if !ok {
		c = statusColours[okr.StatusNoData]
	}
	return htmltemplate.CSS("display:inline-block;padding:1px 6px;border-radius:3px;font-weight:bold;font-size:13px;line-height:1.4;white-space:nowrap;color:" +
		c.fg + ";background-color:" + c.bg + ";")
}

// rule is the inline style of the rule beside a reason.
func rule(s okr.Status) htmltemplate.CSS {
	c, ok := statusColours[s]
	if !ok {
		c = statusColours[okr.StatusNoData]
	}
	return htmltemplate.CSS("border-left:4px solid " + c.rule + ";")
}

// Formats are the output formats of WriteTo.
var Formats = []string{"markdown", "html"}

// Markdown writes the report as Markdown (GitHub flavoured: tables).
func (r *Report) Markdown(w io.Writer) error { return mdTmpl.Execute(w, r) }

// HTML writes the report as one self-contained HTML page for mail
// clients and wikis as they are: every style inline, tables for the
// layout, no class, style block, script or external resource; the trend
// images are PNGs in data: URIs with their trend in words as alt text.
func (r *Report) HTML(w io.Writer) error { return htmlTmpl.Execute(w, r) }

// markdownEscaper escapes with a backslash wherever text from the
// configuration or a check-in lands in the Markdown: a title with a "|"
// must not split a table cell, and a note must not turn into a link, an
// emphasis or raw HTML.
var markdownEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", `*`, `\*`, `_`, `\_`, `[`, `\[`, `]`, `\]`,
	`<`, `\<`, `>`, `\>`, `|`, `\|`, `~`, `\~`,
)

// Escape makes text safe to place in Markdown.
func Escape(s string) string { return markdownEscaper.Replace(s) }

// oneline folds line breaks into spaces, for table cells and list items.
func oneline(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
