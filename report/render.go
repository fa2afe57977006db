package report

import (
	"embed"
	htmltemplate "html/template"
	"io"
	"strings"
	"text/template"
)

//go:embed templates
var templateFS embed.FS

var (
	mdTmpl = template.Must(template.New("report.md.tmpl").Funcs(template.FuncMap{
		"md":      Escape,
		"cell":    func(s string) string { return Escape(oneline(s)) },
		"oneline": oneline,
		"status":  StatusText,
		"join":    strings.Join,
	}).ParseFS(templateFS, "templates/report.md.tmpl"))
	htmlTmpl = htmltemplate.Must(htmltemplate.New("report.html").Funcs(htmltemplate.FuncMap{
		"status": StatusText,
		"join":   strings.Join,
	}).ParseFS(templateFS, "templates/report.html"))
)

// Formats are the output formats of WriteTo.
var Formats = []string{"markdown", "html"}

// Markdown writes the report as Markdown (GitHub flavoured: tables).
func (r *Report) Markdown(w io.Writer) error { return mdTmpl.Execute(w, r) }

// HTML writes the report as one self-contained HTML page (styles inline,
// no external resource), which mail clients and wikis accept as it is.
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
