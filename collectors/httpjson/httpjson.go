// Package httpjson owns the "http_json" source type: key results whose
// values come from an analytics product's HTTP API (PostHog, Plausible,
// Mixpanel, Amplitude, or any JSON API), read at an RFC 9535 JSONPath.
//
// Each key result sends one request: GET or POST, to the source's url plus
// the key result's path, with an optional body; path and body are Go
// templates that see the dates of the key result's window, because most
// analytics APIs take absolute dates. The JSONPath must select exactly one
// node, a JSON number or a string holding one; a non-2xx answer, a body
// that is not JSON, a path that selects nothing or several nodes, null or
// another type is an error that says which. Credentials (bearer token,
// basic auth, secret headers from the environment or files) and TLS are
// shared with the prometheus source (collectors/internal/httpconf). The
// requests run in Poll (see collectors/internal/livequery), so a failing
// request marks the source down and keeps the last good value. A request
// whose templates depend on the instant is also sent for past instants,
// to fill in the key result's history (instant.go).
//
// Why RFC 9535 (github.com/theory/jsonpath) rather than gjson's own
// syntax: the expression a user writes is the standard one that every
// JSONPath tool and the API vendors' examples use ($.results[0].metrics[0]),
// it can be tried in any online evaluator, and the library tells how many
// nodes a path selected, which is how a path that matches several values
// is reported instead of silently taking the first.
package httpjson

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/collectors/internal/httpconf"
	"github.com/okrd/okrd/collectors/internal/livequery"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/internal/retry"
)

// TypeName is the source type's name in the configuration.
const TypeName = "http_json"

func init() {
	config.RegisterSourceType(TypeName, config.SourceType{
		NewSpec:           func() any { return &Spec{} },
		ValidateKeyResult: validateKeyResult,
	})
	collectors.Register(TypeName, func(src *config.Source, deps collectors.Deps) (collectors.Source, error) {
		q, err := New(src.Name, src.Spec.(*Spec), deps)
		if err != nil {
			return nil, err
		}
		return livequery.New(q, livequery.Options{Name: src.Name, Now: deps.Now, Logger: deps.Logger}), nil
	})
}

// Querier sends the requests of one http_json source, for now and for
// past instants. It implements livequery.HistoryQuerier.
type Querier struct {
	name    string
	spec    *Spec
	client  *http.Client
	secrets []string
	logger  *slog.Logger

	mu       sync.Mutex
	requests map[string]*request // by fingerprint
}

// New builds the HTTP client of a source.
func New(name string, spec *Spec, deps collectors.Deps) (*Querier, error) {
	logger := deps.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	rt, err := spec.RoundTripper(name)
	if err != nil {
		return nil, fmt.Errorf("source %q: %w", name, err)
	}
	return &Querier{
		name: name, spec: spec, logger: logger,
		client:   httpconf.NewClient(deps.Metrics.Transport(name, rt)),
		secrets:  spec.Secrets(),
		requests: map[string]*request{},
	}, nil
}

// Check does nothing: an arbitrary API has no health endpoint, and its
// base URL may well answer 404. Until a key result is known, a poll of an
// http_json source succeeds; the first Measure sends the requests.
func (q *Querier) Check(context.Context) error { return nil }

// Fingerprint is everything that shapes the request and its reading.
func (q *Querier) Fingerprint(kr *config.KeyResult) string {
	return strings.Join([]string{kr.Method, kr.Path, kr.Body, kr.JSONPath, kr.Window}, "\x00")
}

// request returns the compiled binding of kr.
func (q *Querier) request(kr *config.KeyResult) (*request, error) {
	fp := q.Fingerprint(kr)
	q.mu.Lock()
	r, ok := q.requests[fp]
	q.mu.Unlock()
	if ok {
		return r, nil
	}
	r, err := parseRequest(q.spec, kr)
	if err != nil {
		// The loader validated the key result; this is a bug if reached.
		return nil, collectors.Permanent(err)
	}
	q.mu.Lock()
	q.requests[fp] = r
	q.mu.Unlock()
	return r, nil
}

// Query sends the key result's request and reads the number at its
// JSONPath.
func (q *Querier) Query(ctx context.Context, b collectors.Binding, now time.Time) (float64, error) {
	r, err := q.request(b.KeyResult)
	if err != nil {
		return 0, err
	}
	data := dataFor(now, b.Period(), b.KeyResult)
	path, err := render(r.path, data)
	if err != nil {
		return 0, collectors.Permanent(fmt.Errorf("path: %v", err))
	}
	var body io.Reader
	if r.body != nil {
		text, err := render(r.body, data)
		if err != nil {
			return 0, collectors.Permanent(fmt.Errorf("body: %v", err))
		}
		body = strings.NewReader(text)
	}
	ctx, cancel := context.WithTimeout(ctx, q.spec.RequestTimeout.Duration())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, r.method, strings.TrimSuffix(q.spec.URL, "/")+path, body)
	if err != nil {
		return 0, collectors.Permanent(fmt.Errorf("cannot build the request: %v", err))
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		// The source's headers may set another Content-Type.
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := q.client.Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return 0, fmt.Errorf("%s %s: no answer within request_timeout (%s)", r.method, req.URL.Path, q.spec.RequestTimeout)
		}
		return 0, fmt.Errorf("%s %s: %w", r.method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseSize+1))
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return 0, fmt.Errorf("%s %s: the answer did not arrive within request_timeout (%s)", r.method, req.URL.Path, q.spec.RequestTimeout)
		}
		return 0, fmt.Errorf("%s %s: reading the answer: %w", r.method, req.URL.Path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return 0, q.statusError(r.method, req.URL.Path, resp, raw)
	}
	if len(raw) > MaxResponseSize {
		return 0, collectors.Permanent(fmt.Errorf("%s %s: the answer is larger than %d MiB; ask the API for the number only", r.method, req.URL.Path, MaxResponseSize>>20))
	}
	doc, err := decode(raw)
	if err != nil {
		ct := resp.Header.Get("Content-Type")
		if ct == "" {
			ct = "none"
		}
		return 0, fmt.Errorf("%s %s: the answer is not JSON (HTTP %d, Content-Type %s, %d bytes): %v", r.method, req.URL.Path, resp.StatusCode, ct, len(raw), err)
	}
	return extract(r.jsonText, r.json.Select(doc))
}

// CanHistory reports whether kr's request depends on the instant (see
// usesInstant): a request that asks the same at every instant would give
// today's number for every past one.
func (q *Querier) CanHistory(kr *config.KeyResult) bool {
	r, err := q.request(kr)
	return err == nil && r.instant
}

// QueryHistory sends the key result's request once per instant, rendered
// with .Now at that instant: exactly the request a live measurement at
// that instant sends. A null (or a non-finite number) at the JSONPath is
// no value there; any other error stops the request.
func (q *Querier) QueryHistory(ctx context.Context, b collectors.Binding, at []time.Time) ([]livequery.Answer, error) {
	out := make([]livequery.Answer, 0, len(at))
	for _, t := range at {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		v, err := q.Query(ctx, b, t)
		if err != nil {
			err = fmt.Errorf("at %s: %w", t.Format(time.RFC3339), err)
			if !livequery.IsNoValue(err) {
				return out, err
			}
			out = append(out, livequery.Answer{Err: err})
			continue
		}
		out = append(out, livequery.Answer{OK: true, Value: v})
	}
	return out, nil
}

// decode parses exactly one JSON value, keeping numbers exact.
func decode(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			return nil, errors.New("the body is empty")
		}
		return nil, jsonError(raw)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("unexpected data after the JSON value")
	}
	return doc, nil
}

// extract returns the number that the JSONPath selected.
func extract(path string, nodes []any) (float64, error) {
	switch len(nodes) {
	case 0:
		return 0, fmt.Errorf("json_path %s matches nothing in the answer", path)
	case 1:
	default:
		return 0, fmt.Errorf("json_path %s matches %d values, want exactly 1", path, len(nodes))
	}
	var v float64
	switch x := nodes[0].(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return 0, fmt.Errorf("json_path %s: the number %s does not fit a float64", path, x)
		}
		v = f
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if errors.Is(err, strconv.ErrRange) {
			return 0, fmt.Errorf("json_path %s: the number %q does not fit a float64", path, short(x))
		}
		if err != nil {
			return 0, fmt.Errorf("json_path %s is the string %q, which is not a number", path, short(x))
		}
		v = f
	case nil:
		return 0, livequery.NoValue(fmt.Errorf("json_path %s is null, want a number", path))
	case bool:
		return 0, fmt.Errorf("json_path %s is a boolean, want a number", path)
	case map[string]any:
		return 0, fmt.Errorf("json_path %s is an object, want a number (select one of its members)", path)
	case []any:
		return 0, fmt.Errorf("json_path %s is an array, want a number (select one of its elements, e.g. [0])", path)
	default:
		return 0, fmt.Errorf("json_path %s is a %T, want a number", path, x)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, livequery.NoValue(fmt.Errorf("json_path %s is %v, want a finite number", path, v))
	}
	return v, nil
}

func short(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// statusError explains a non-2xx answer. What retrying cannot fix
// (credentials, a wrong path, a request the API rejects) is permanent; a
// rate limit carries its Retry-After.
func (q *Querier) statusError(method, path string, resp *http.Response, raw []byte) error {
	msg := fmt.Sprintf("%s %s: HTTP %d %s", method, path, resp.StatusCode, http.StatusText(resp.StatusCode))
	detail := ""
	if len(raw) > 0 {
		detail = ": " + httpconf.Snippet(raw, q.secrets)
	}
	switch code := resp.StatusCode; {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return collectors.Permanent(fmt.Errorf("%s (check bearer_token, basic_auth or secret_headers)%s", msg, detail))
	case code == http.StatusTooManyRequests:
		err := fmt.Errorf("%s (rate limited)%s", msg, detail)
		now := time.Now()
		if wait, ok := retry.ParseRetryAfter(resp.Header.Get("Retry-After"), now); ok {
			return &collectors.RetryAfterError{Until: now.Add(wait), Err: err}
		}
		return err
	case code >= 300 && code < 400:
		loc := resp.Header.Get("Location")
		if i := strings.IndexAny(loc, "?#"); i >= 0 {
			loc = loc[:i]
		}
		return collectors.Permanent(fmt.Errorf("%s: redirects are not followed (credentials would follow them); set url or path to the final address %s", msg, loc))
	case code == http.StatusRequestTimeout || code >= 500:
		return fmt.Errorf("%s%s", msg, detail)
	}
	// 400, 404, 405, 422, ...: the request itself is wrong.
	return collectors.Permanent(fmt.Errorf("%s%s", msg, detail))
}
