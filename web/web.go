// Package web owns okrd's HTTP interface: /metrics, the health and reload
// endpoints, the JSON API under /api/v1 and the read-only page at /, and
// the limits of the HTTP server that serves them.
package web

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/okrd/okrd/checkins"
	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/config"
	"github.com/okrd/okrd/snapshot"
	"github.com/okrd/okrd/store"
)

// Backend is what the handlers need from the running okrd.
type Backend interface {
	Config() *config.Config
	Snapshot() *snapshot.Snapshot
	Store() store.Store
	Ready() bool
	Reload(ctx context.Context) error
	AddCheckin(ctx context.Context, req checkins.Request) (store.Checkin, error)
	// AddConfidence records an owner's confidence in a key result and
	// returns once an evaluation includes it (or it has waited long
	// enough), like AddCheckin.
	AddConfidence(ctx context.Context, req checkins.ConfidenceRequest) (store.Confidence, error)
	Sources() []collectors.Health
	Registry() *prometheus.Registry
}

// Handler serves every okrd endpoint.
type Handler struct {
	b         Backend
	logger    *slog.Logger
	mux       *http.ServeMux
	lifecycle bool
}

// An Option changes how a Handler behaves.
type Option func(*Handler)

// WithLifecycle turns the lifecycle endpoint POST /-/reload on for every
// client (--web.enable-lifecycle), as Prometheus does. Without it only a
// request that carries the API token may reload.
func WithLifecycle(enabled bool) Option { return func(h *Handler) { h.lifecycle = enabled } }

// NewHandler builds the HTTP handler.
func NewHandler(b Backend, logger *slog.Logger, opts ...Option) *Handler {
	h := &Handler{b: b, logger: logger, mux: http.NewServeMux()}
	for _, o := range opts {
		o(h)
	}
	h.mux.HandleFunc("/metrics", h.metrics)
	h.mux.HandleFunc("/-/healthy", h.healthy)
	h.mux.HandleFunc("/-/ready", h.readyz)
	h.mux.HandleFunc("/-/reload", h.reload)
	h.mux.HandleFunc("/api/v1/objectives", h.objectives)
	h.mux.HandleFunc("/api/v1/objectives/{objective}", h.objective)
	h.mux.HandleFunc("/api/v1/objectives/{objective}/key_results/{key_result}", h.keyResult)
	h.mux.HandleFunc("/api/v1/objectives/{objective}/key_results/{key_result}/history", h.history)
	h.mux.HandleFunc("/api/v1/objectives/{objective}/key_results/{key_result}/checkins", h.checkins)
	h.mux.HandleFunc("/api/v1/objectives/{objective}/key_results/{key_result}/confidence", h.confidence)
	h.mux.HandleFunc("/api/v1/objectives/{objective}/key_results/{key_result}/explain", h.explain)
	h.mux.HandleFunc("/api/v1/sources", h.sources)
	h.mux.HandleFunc("/api/v1/annotations", h.annotations)
	h.mux.HandleFunc("/api/v1/investment", h.investment)
	h.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no API endpoint at "+r.URL.Path)
	})
	h.mux.HandleFunc("/{$}", h.page)
	h.mux.HandleFunc("/objectives/{objective}", h.objectivePage)
	h.mux.HandleFunc("/objectives/{objective}/key_results/{key_result}", h.keyResultPage)
	h.mux.HandleFunc("/static/{file}", h.static)
	h.mux.HandleFunc("/", h.unknownPage) // an HTML 404 that lists what exists
	return h
}

// maxBody bounds the body of every request. Only a check-in has a body, a
// small JSON object; anything longer is refused with 413 rather than read
// into memory.
const maxBody = 64 << 10

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Capping every body here, not in each handler that reads one, keeps a
	// handler added later from reading an unbounded body by mistake.
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	h.mux.ServeHTTP(w, r)
}

// readHeaderTimeout bounds reading the request line and headers (or
// read_timeout when that is shorter): a client that opens connections and
// sends nothing holds each for this long at most.
const readHeaderTimeout = 10 * time.Second

// NewServer returns the HTTP server of handler with the limits of s (the
// [server] table; zero durations take their defaults). Every phase of a
// connection is bounded, so that a slow or idle client holds it for a
// bounded time: the headers by readHeaderTimeout, the whole request by
// read_timeout, the response by write_timeout and the wait for the next
// request on a kept-alive connection by idle_timeout. The request body is
// bounded by maxBody and the headers by Go's http.DefaultMaxHeaderBytes
// (1 MiB).
func NewServer(handler http.Handler, s config.Server, logger *slog.Logger) *http.Server {
	or := func(d, def config.Duration) time.Duration {
		if d <= 0 {
			return time.Duration(def)
		}
		return time.Duration(d)
	}
	read := or(s.ReadTimeout, config.DefaultReadTimeout)
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: min(readHeaderTimeout, read),
		ReadTimeout:       read,
		WriteTimeout:      or(s.WriteTimeout, config.DefaultWriteTimeout),
		IdleTimeout:       or(s.IdleTimeout, config.DefaultIdleTimeout),
		MaxHeaderBytes:    http.DefaultMaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// allow answers 405 unless r uses one of methods.
func allow(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m || (m == http.MethodGet && r.Method == http.MethodHead) {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed; use "+strings.Join(methods, " or "))
	return false
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

func (h *Handler) healthy(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet) {
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("okrd is Healthy.\n"))
}

func (h *Handler) readyz(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet) {
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if !h.b.Ready() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("okrd is not ready: the first evaluation has not finished.\n"))
		return
	}
	_, _ = w.Write([]byte("okrd is Ready.\n"))
}

func (h *Handler) reload(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodPost, http.MethodPut) {
		return
	}
	if !h.lifecycleAllowed(w, r) {
		return
	}
	if err := h.b.Reload(r.Context()); err != nil {
		writeError(w, http.StatusInternalServerError, "reload failed, the running configuration is kept: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "reloaded"})
}

// metrics writes okrd's own series from its registry followed by the okr_*
// series of the current snapshot. Those are encoded once per snapshot and
// format, mostly from pieces shared with earlier snapshots, and then only
// copied, so a scrape costs almost nothing even with tens of thousands of
// key results. A scrape reads one snapshot, so an evaluation published
// meanwhile never mixes into its answer.
func (h *Handler) metrics(w http.ResponseWriter, r *http.Request) {
	if !allow(w, r, http.MethodGet) {
		return
	}
	format := expfmt.NegotiateAccept(r.Header, expfmt.NewFormat(expfmt.TypeProtoDelim), expfmt.NewFormat(expfmt.TypeTextPlain))
	gz := acceptsGzip(r)
	mfs, err := h.b.Registry().Gather()
	if err != nil {
		h.logger.Error("gathering okrd's own metrics failed", "err", err)
		writeError(w, http.StatusInternalServerError, "gathering metrics: "+err.Error())
		return
	}
	var okrPart *snapshot.Exposition
	if snap := h.b.Snapshot(); snap != nil {
		if okrPart, err = snap.Exposition(format, gz); err != nil {
			h.logger.Error("encoding the OKR series failed", "err", err)
			writeError(w, http.StatusInternalServerError, "encoding metrics: "+err.Error())
			return
		}
	}
	// okrd's own series are encoded before anything is sent, so that the
	// response has a length and a failure can still be answered with 500.
	// The response is two gzip members when compressed: okrd's own series,
	// then the OKR series (themselves several members; RFC 1952 allows it).
	own := ownBuffers.Get().(*bytes.Buffer)
	defer ownBuffers.Put(own)
	own.Reset()
	var out io.Writer = own
	var zw *gzip.Writer
	if gz {
		zw = gzipWriters.Get().(*gzip.Writer)
		defer gzipWriters.Put(zw)
		zw.Reset(own)
		out = zw
	}
	enc := expfmt.NewEncoder(out, format)
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			h.logger.Error("encoding okrd's own metrics failed", "err", err)
			writeError(w, http.StatusInternalServerError, "encoding metrics: "+err.Error())
			return
		}
	}
	if zw != nil {
		// Closing a gzip.Writer on a bytes.Buffer does not fail.
		_ = zw.Close()
	}
	size := own.Len()
	if okrPart != nil {
		size += okrPart.Len()
	}
	w.Header().Set("Content-Type", string(format))
	if gz {
		w.Header().Set("Content-Encoding", "gzip")
	}
	w.Header().Set("Vary", "Accept-Encoding")
	w.Header().Set("Content-Length", strconv.Itoa(size))
	if r.Method == http.MethodHead {
		return
	}
	if _, err := w.Write(own.Bytes()); err != nil || okrPart == nil {
		return
	}
	// The OKR series are many small pieces: they go out in large writes
	// rather than one system call per 4 KB.
	bw := responseBuffers.Get().(*bufio.Writer)
	defer responseBuffers.Put(bw)
	bw.Reset(w)
	if _, err := okrPart.WriteTo(bw); err == nil {
		_ = bw.Flush()
	}
	bw.Reset(io.Discard)
}

// ownBuffers, gzipWriters and responseBuffers are reused between scrapes:
// a gzip.Writer allocates most of a megabyte.
var (
	ownBuffers      = sync.Pool{New: func() any { return new(bytes.Buffer) }}
	gzipWriters     = sync.Pool{New: func() any { return gzip.NewWriter(io.Discard) }}
	responseBuffers = sync.Pool{New: func() any { return bufio.NewWriterSize(io.Discard, 64<<10) }}
)

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(enc), "gzip") {
			continue
		}
		if qs, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q="); ok {
			if q, err := strconv.ParseFloat(qs, 64); err == nil && q <= 0 {
				return false
			}
		}
		return true
	}
	return false
}

// bearerToken returns the credentials of an Authorization header that uses
// the Bearer scheme. The scheme name is case-insensitive and separated from
// the token by one or more spaces (RFC 7235 section 2.1, RFC 6750).
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimLeft(token, " ")
	return token, token != ""
}

// tokenMatches compares two tokens in constant time. Comparing hashes keeps
// it constant-time whatever the lengths of the two tokens.
func tokenMatches(got, want string) bool {
	gh, wh := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(gh[:], wh[:]) == 1
}

func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="okrd"`)
	writeError(w, http.StatusUnauthorized, "missing or wrong bearer token")
}

// authorized checks the bearer token of a write request in constant time.
// The write API is off when no token is configured.
func (h *Handler) authorized(w http.ResponseWriter, r *http.Request) bool {
	want := h.b.Config().Server.APIToken.Value()
	if want == "" {
		writeError(w, http.StatusForbidden, "the write API is disabled: set server.api_token or server.api_token_file in the configuration")
		return false
	}
	got, ok := bearerToken(r.Header.Get("Authorization"))
	if !ok || !tokenMatches(got, want) {
		unauthorized(w)
		return false
	}
	return true
}

// lifecycleAllowed decides whether a request may use a lifecycle endpoint.
// As in Prometheus they are off unless --web.enable-lifecycle is given: a
// reload re-reads the file on disk, so anyone who can reach the port could
// otherwise make okrd drop sources mid-poll at will. A request carrying the
// API token is trusted as well, since that token already lets its holder
// change what okrd reports. SIGHUP reloads in every case.
func (h *Handler) lifecycleAllowed(w http.ResponseWriter, r *http.Request) bool {
	if h.lifecycle {
		return true
	}
	got, presented := bearerToken(r.Header.Get("Authorization"))
	want := h.b.Config().Server.APIToken.Value()
	if !presented || want == "" {
		writeError(w, http.StatusForbidden, "Lifecycle API is not enabled: start okrd with --web.enable-lifecycle, "+
			"or send server.api_token as a bearer token (SIGHUP reloads in any case)")
		return false
	}
	if !tokenMatches(got, want) {
		unauthorized(w)
		return false
	}
	return true
}

// checkinError maps a check-in error to its status code.
func checkinStatus(err error) int {
	switch {
	case errors.Is(err, checkins.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, checkins.ErrNotManual):
		return http.StatusConflict
	case errors.Is(err, checkins.ErrBadCheckin):
		return http.StatusBadRequest
	default:
		return http.StatusInternalServerError
	}
}
