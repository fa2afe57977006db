// Package promql owns the "prometheus" source type: key results whose
// values come from an instant PromQL query against Prometheus (or any
// server with its HTTP API: Thanos, Mimir, VictoriaMetrics), made with
// client_golang's api/prometheus/v1 client.
//
// A query must return a scalar or an instant vector of exactly one sample;
// an empty vector, several series, a range vector, a string or NaN is an
// error that says which. Authentication (bearer token, basic auth, secret
// headers) and TLS use Prometheus's own HTTP client configuration (see
// collectors/internal/httpconf). The queries run in Poll (see
// collectors/internal/livequery), so a failing query marks the source down
// and keeps the last good value. The key results' past values, for okrd's
// filled-in history, come from range queries (history.go).
package promql

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/collectors/internal/httpconf"
	"github.com/okrd/okrd/collectors/internal/livequery"
	"github.com/okrd/okrd/config"
)

// TypeName is the source type's name in the configuration.
const TypeName = "prometheus"

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

// Querier runs instant queries against one Prometheus, and range queries
// for the past (history.go). It implements livequery.HistoryQuerier.
type Querier struct {
	name    string
	spec    *Spec
	api     v1.API
	timeout time.Duration
	logger  *slog.Logger
}

// New builds the Prometheus API client of a source.
func New(name string, spec *Spec, deps collectors.Deps) (*Querier, error) {
	logger := deps.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	rt, err := spec.RoundTripper(name)
	if err != nil {
		return nil, fmt.Errorf("source %q: %w", name, err)
	}
	client, err := api.NewClient(api.Config{
		Address: spec.URL,
		Client:  httpconf.NewClient(deps.Metrics.Transport(name, rt)),
	})
	if err != nil {
		return nil, fmt.Errorf("source %q: %w", name, err)
	}
	return &Querier{name: name, spec: spec, api: v1.NewAPI(client), timeout: spec.QueryTimeout.Duration(), logger: logger}, nil
}

// Check runs the query "1", which every PromQL server answers with a
// scalar, to see that the server answers and accepts the credentials.
func (q *Querier) Check(ctx context.Context) error {
	_, err := q.Value(ctx, "1")
	return err
}

// Fingerprint is the PromQL expression.
func (q *Querier) Fingerprint(kr *config.KeyResult) string { return kr.Query }

// Query runs the key result's PromQL expression at the server's now.
func (q *Querier) Query(ctx context.Context, b collectors.Binding, _ time.Time) (float64, error) {
	return q.Value(ctx, b.KeyResult.Query)
}

// Value runs an instant query and returns its one value.
func (q *Querier) Value(ctx context.Context, expr string) (float64, error) {
	// The server stops evaluating at query_timeout; the client waits a
	// little longer so that the server's own, clearer error arrives.
	ctx, cancel := context.WithTimeout(ctx, q.timeout+5*time.Second)
	defer cancel()
	val, warnings, _, err := q.api.Query(ctx, expr, time.Time{}, v1.WithTimeout(q.timeout))
	if err != nil {
		return 0, q.apiError(ctx, err)
	}
	if len(warnings) > 0 {
		q.logger.Warn("Prometheus answered with warnings", "query", expr, "warnings", strings.Join(warnings, "; "))
	}
	return single(val)
}

// single extracts the one value of an instant query's result.
func single(val model.Value) (float64, error) {
	var v float64
	switch r := val.(type) {
	case *model.Scalar:
		v = float64(r.Value)
	case model.Vector:
		switch len(r) {
		case 0:
			return 0, errors.New("query returned an empty vector: no series matched (check the metric name and labels, or add `or vector(0)` if no data means zero)")
		case 1:
			v = float64(r[0].Value)
		default:
			return 0, fmt.Errorf("query returned %d series, want exactly 1 (aggregate them, e.g. with sum(), or select one with labels): %s", len(r), seriesList(r))
		}
	case model.Matrix:
		return 0, collectors.Permanent(fmt.Errorf("query returned a range vector (%d series), want a scalar or an instant vector: remove the [range] selector or wrap it in a function such as rate() or max_over_time()", len(r)))
	case *model.String:
		return 0, collectors.Permanent(errors.New("query returned a string, want a scalar or an instant vector"))
	case nil:
		return 0, errors.New("query returned no result")
	default:
		return 0, fmt.Errorf("query returned a %s, want a scalar or an instant vector", val.Type())
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("query returned %v, want a finite number (a division by zero?)", v)
	}
	return v, nil
}

// seriesList names up to three series of a vector, sorted.
func seriesList(vec model.Vector) string {
	names := make([]string, len(vec))
	for i, s := range vec {
		names[i] = s.Metric.String()
	}
	sort.Strings(names)
	if len(names) > 3 {
		names = append(names[:3], fmt.Sprintf("and %d more", len(vec)-3))
	}
	return strings.Join(names, ", ")
}

// apiError says what went wrong in terms of the configuration. Errors
// that retrying cannot fix (an invalid query, refused credentials, a URL
// that is not a Prometheus API) are permanent.
func (q *Querier) apiError(ctx context.Context, err error) error {
	var ae *v1.Error
	if !errors.As(err, &ae) {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("no answer within query_timeout (%s) + 5s", q.spec.QueryTimeout)
		}
		return fmt.Errorf("cannot query Prometheus: %w", err)
	}
	code := statusCode(ae.Msg)
	// client_golang decodes Prometheus's JSON error body only for 400 and
	// 422; a query timeout comes as 503 with the same body, kept in
	// Detail.
	var body struct{ Status, ErrorType, Error string }
	if (ae.Type == v1.ErrServer || ae.Type == v1.ErrClient) && json.Unmarshal([]byte(ae.Detail), &body) == nil &&
		body.Status == "error" && body.ErrorType != "" {
		ae = &v1.Error{Type: v1.ErrorType(body.ErrorType), Msg: body.Error}
	}
	switch ae.Type {
	case v1.ErrBadData:
		return collectors.Permanent(fmt.Errorf("Prometheus rejected the query: %s", ae.Msg))
	case v1.ErrTimeout, v1.ErrCanceled:
		return fmt.Errorf("query exceeded query_timeout (%s) in Prometheus: %s", q.spec.QueryTimeout, ae.Msg)
	case v1.ErrExec:
		return fmt.Errorf("Prometheus could not run the query: %s", ae.Msg)
	case v1.ErrClient:
		switch code {
		case 401, 403:
			return collectors.Permanent(fmt.Errorf("Prometheus refused the credentials (HTTP %d): check bearer_token, basic_auth or secret_headers", code))
		case 404:
			return collectors.Permanent(errors.New("Prometheus answered 404 Not Found: url must be the server's base URL, without /api/v1"))
		case 429:
			return fmt.Errorf("Prometheus answered 429 Too Many Requests")
		}
		return collectors.Permanent(fmt.Errorf("Prometheus refused the request (%s): %s", ae.Msg, httpconf.Snippet([]byte(ae.Detail), q.spec.Secrets())))
	case v1.ErrBadResponse:
		if strings.Contains(ae.Msg, `unexpected value type "string"`) {
			return collectors.Permanent(errors.New("query returned a string, want a scalar or an instant vector"))
		}
		if code >= 300 && code < 400 {
			return collectors.Permanent(fmt.Errorf("Prometheus answered a redirect (HTTP %d), which is not followed: set url to the final address", code))
		}
		return fmt.Errorf("not a Prometheus API answer: %s", ae.Msg)
	}
	return fmt.Errorf("Prometheus: %s", ae.Error())
}

// statusCode reads the HTTP status client_golang puts in its messages
// ("client error: 401", "bad response code 302"), or 0.
func statusCode(msg string) int {
	i := strings.LastIndexByte(msg, ' ')
	n, err := strconv.Atoi(msg[i+1:])
	if err != nil {
		return 0
	}
	return n
}
