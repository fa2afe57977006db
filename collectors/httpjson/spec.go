package httpjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"text/template"
	"time"

	"github.com/theory/jsonpath"

	"github.com/okrd/okrd/collectors/internal/httpconf"
	"github.com/okrd/okrd/collectors/internal/livequery"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/okr"
)

// Defaults, named so that the documentation and the code cannot disagree.
const (
	DefaultMethod         = http.MethodGet
	DefaultRequestTimeout = config.Duration(30 * time.Second)
	// MaxResponseSize bounds the answer read into memory: an analytics
	// number never needs more, and a mistaken endpoint (an export) must not
	// fill the memory.
	MaxResponseSize = 16 << 20
)

// Spec is the configuration of a [sources.NAME] table with
// type = "http_json".
type Spec struct {
	// URL is the API's base URL; each key result's path is appended.
	URL string `toml:"url"`
	// Method is the default method of the key results: GET or POST.
	Method string `toml:"method"`
	// RequestTimeout bounds each request, reading the answer included.
	RequestTimeout config.Duration `toml:"request_timeout"`
	// Client holds headers, secret_headers, bearer_token, basic_auth, tls.
	httpconf.Client
}

// Defaults implements the loader's defaulter.
func (s *Spec) Defaults() {
	s.Method = DefaultMethod
	s.RequestTimeout = DefaultRequestTimeout
}

// Validate implements the loader's validator.
func (s *Spec) Validate() error {
	errs := []error{httpconf.CheckURL("url", s.URL)}
	if m := strings.ToUpper(s.Method); m != http.MethodGet && m != http.MethodPost {
		errs = append(errs, config.FieldErrorf("method", "must be \"GET\" or \"POST\", not %q", s.Method))
	}
	if s.RequestTimeout < config.Duration(time.Millisecond) {
		errs = append(errs, config.FieldErrorf("request_timeout", "must be at least 1ms, not %s", s.RequestTimeout))
	}
	errs = append(errs, s.Client.Validate())
	return errors.Join(errs...)
}

// jsonBody reports whether request bodies are JSON: unless the headers
// set another Content-Type, they are sent as application/json.
func (s *Spec) jsonBody() bool {
	for k, v := range s.Headers {
		if strings.EqualFold(k, "Content-Type") {
			return strings.Contains(strings.ToLower(v), "json")
		}
	}
	return true
}

// request is what a key result asks: parsed once, rendered per query.
type request struct {
	method string
	path   *template.Template
	body   *template.Template // nil without a body
	json   *jsonpath.Path
	// jsonText is the JSONPath as written, for messages (the library
	// prints its normalized form).
	jsonText string
	// instant is whether the path or the body depends on the instant
	// (instant.go): only then can the request be sent for a past one.
	instant bool
}

// parseRequest checks and compiles a key result's binding. Errors name
// the key result's field.
func parseRequest(spec *Spec, kr *config.KeyResult) (*request, error) {
	var errs []error
	r := &request{jsonText: kr.JSONPath}
	r.method = strings.ToUpper(kr.Method)
	switch {
	case r.method == "" && kr.Body != "":
		r.method = http.MethodPost
	case r.method == "":
		r.method = strings.ToUpper(spec.Method)
	case r.method != http.MethodGet && r.method != http.MethodPost:
		errs = append(errs, config.FieldErrorf("method", "must be \"GET\" or \"POST\", not %q", kr.Method))
	}
	if r.method == http.MethodGet && kr.Body != "" {
		errs = append(errs, config.FieldErrorf("body", "needs method \"POST\" (a GET request has no body)"))
	}
	if kr.Path != "" && !strings.HasPrefix(kr.Path, "/") && !strings.HasPrefix(kr.Path, "?") {
		errs = append(errs, config.FieldErrorf("path", "must start with \"/\" or \"?\": it is appended to the source's url"))
	}
	var err error
	if r.path, err = parseTemplate("path", kr.Path); err != nil {
		errs = append(errs, err)
	}
	if kr.Body != "" {
		if r.body, err = parseTemplate("body", kr.Body); err != nil {
			errs = append(errs, err)
		}
	}
	if strings.TrimSpace(kr.JSONPath) == "" {
		errs = append(errs, config.FieldErrorf("json_path", "required for an http_json source: the JSONPath of the number in the answer, like \"$.results[0][0]\""))
	} else if r.json, err = jsonpath.Parse(kr.JSONPath); err != nil {
		errs = append(errs, config.FieldErrorf("json_path", "not an RFC 9535 JSONPath: %v", err))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	r.instant = usesInstant(r.path) || usesInstant(r.body)
	// Render once with sample dates, so that a template that cannot run
	// (an unknown field, a bad argument) or a body that is not JSON is a
	// configuration error, not a poll error.
	data := sampleData()
	if _, err := render(r.path, data); err != nil {
		errs = append(errs, config.FieldErrorf("path", "%v", err))
	}
	if r.body != nil {
		body, err := render(r.body, data)
		switch {
		case err != nil:
			errs = append(errs, config.FieldErrorf("body", "%v", err))
		case spec.jsonBody() && !json.Valid([]byte(body)):
			errs = append(errs, config.FieldErrorf("body", "is not valid JSON: %v", jsonError([]byte(body))))
		}
	}
	return r, errors.Join(errs...)
}

// validateKeyResult checks a key result bound to an http_json source.
func validateKeyResult(spec any, kr *config.KeyResult) error {
	s, ok := spec.(*Spec)
	if !ok {
		return fmt.Errorf("http_json: spec is %T", spec)
	}
	var errs []error
	for _, k := range livequery.BindingKeys(kr) {
		switch k {
		case "path", "method", "body", "json_path":
		default:
			errs = append(errs, config.FieldErrorf(k, "does not apply to an http_json source (its value comes from path, method, body and json_path)"))
		}
	}
	if _, err := parseRequest(s, kr); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// templateData is what the path and body templates see.
type templateData struct {
	// Now is the time of the measurement, in the configured time zone.
	Now time.Time
	// WindowStart is the start of the key result's window: Now minus the
	// window, or the period's start for window = "period".
	WindowStart time.Time
	// PeriodStart and PeriodEnd bound the objective's period (PeriodEnd is
	// the first instant after it).
	PeriodStart, PeriodEnd time.Time
}

func dataFor(now time.Time, p okr.Period, kr *config.KeyResult) templateData {
	if p.Start.Location() != nil {
		now = now.In(p.Start.Location())
	}
	d := templateData{Now: now, PeriodStart: p.Start, PeriodEnd: p.End, WindowStart: now.Add(-kr.WindowDuration)}
	if kr.WindowDuration == 0 {
		d.WindowStart = p.Start
	}
	return d
}

func sampleData() templateData {
	now := time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)
	return templateData{Now: now, WindowStart: now.AddDate(0, 0, -28),
		PeriodStart: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), PeriodEnd: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}
}

// funcs are the template functions besides text/template's own (such as
// urlquery, printf, js).
var funcs = template.FuncMap{
	// date formats t with a Go layout: {{ date "2006-01-02" .Now }}.
	"date": func(layout string, t time.Time) string { return t.Format(layout) },
	// unix is t in seconds since 1970: {{ unix .WindowStart }}.
	"unix": func(t time.Time) int64 { return t.Unix() },
	// json quotes a string for a JSON body: {"q": {{ json "it's \"x\"" }}}.
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
}

func parseTemplate(field, text string) (*template.Template, error) {
	t, err := template.New(field).Funcs(funcs).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, config.FieldErrorf(field, "not a valid template: %v", strings.TrimPrefix(err.Error(), "template: "))
	}
	return t, nil
}

func render(t *template.Template, d templateData) (string, error) {
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return "", fmt.Errorf("template failed: %v", strings.TrimPrefix(err.Error(), "template: "))
	}
	return b.String(), nil
}

// jsonError describes why b is not JSON, with the offset.
func jsonError(b []byte) error {
	var v any
	err := json.Unmarshal(b, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("%v (at byte %d)", se, se.Offset)
	}
	if err == nil {
		return errors.New("unknown error")
	}
	return err
}
