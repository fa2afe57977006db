package promql

import (
	"errors"
	"strings"
	"time"

	"github.com/okrd/okrd/collectors/internal/httpconf"
	"github.com/okrd/okrd/collectors/internal/livequery"
	"github.com/okrd/okrd/config"
)

// DefaultQueryTimeout bounds each query, in Prometheus and in okrd.
const DefaultQueryTimeout = config.Duration(30 * time.Second)

// Spec is the configuration of a [sources.NAME] table with
// type = "prometheus".
type Spec struct {
	// URL is the server's base URL, e.g. "http://prometheus:9090" (the
	// client appends /api/v1/query).
	URL string `toml:"url"`
	// QueryTimeout is sent as the query's timeout parameter and bounds the
	// request.
	QueryTimeout config.Duration `toml:"query_timeout"`
	// Client holds headers, secret_headers, bearer_token, basic_auth, tls.
	httpconf.Client
}

// Defaults implements the loader's defaulter.
func (s *Spec) Defaults() { s.QueryTimeout = DefaultQueryTimeout }

// Validate implements the loader's validator.
func (s *Spec) Validate() error {
	errs := []error{httpconf.CheckURL("url", s.URL)}
	if strings.Contains(s.URL, "/api/v1") {
		errs = append(errs, config.FieldErrorf("url", "must be the server's base URL, without /api/v1"))
	}
	if s.QueryTimeout < config.Duration(time.Millisecond) {
		errs = append(errs, config.FieldErrorf("query_timeout", "must be at least 1ms, not %s", s.QueryTimeout))
	}
	errs = append(errs, s.Client.Validate())
	return errors.Join(errs...)
}

// validateKeyResult checks a key result bound to a prometheus source: it
// needs a PromQL query and none of the keys of other source types.
func validateKeyResult(_ any, kr *config.KeyResult) error {
	var errs []error
	if strings.TrimSpace(kr.Query) == "" {
		errs = append(errs, config.FieldErrorf("query", "required for a prometheus source: a PromQL expression returning a scalar or one series"))
	}
	for _, k := range livequery.BindingKeys(kr) {
		if k != "query" {
			errs = append(errs, config.FieldErrorf(k, "does not apply to a prometheus source (its value comes from query)"))
		}
	}
	return errors.Join(errs...)
}
