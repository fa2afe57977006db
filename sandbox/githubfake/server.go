package githubfake

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Server is the fake GitHub, an http.Handler. Set its exported fields
// before it serves; change its data with Update and its behaviour with
// Inject while it serves.
type Server struct {
	// Now is the fake's clock (rate-limit windows, token expiry); default
	// time.Now.
	Now func() time.Time
	// Limits is the hourly budget per resource ("core", "graphql") of an
	// authenticated caller; defaults 5000 each. Unauthenticated callers
	// get 60 core requests.
	Limits map[string]int
	// Enterprise serves the API the way GitHub Enterprise Server does:
	// REST under /api/v3/ and GraphQL at /api/graphql.
	Enterprise bool
	// NoRateLimits answers without any x-ratelimit-* header and never
	// limits, like a GitHub Enterprise Server whose rate limits are off
	// (the default there).
	NoRateLimits bool
	// PrimaryLimitStatus is the status of a REST answer once the primary
	// budget is spent: 403 (default) or 429; GitHub sends either.
	PrimaryLimitStatus int

	mu      sync.Mutex
	data    Data
	tokens  map[string]tokenInfo
	apps    map[int64]*app
	buckets map[string]*bucket
	faults  []*Fault
	log     []Request
	reqID   int
}

type tokenInfo struct {
	login   string
	expires time.Time // zero: never
}

type app struct {
	id            int64
	key           *rsa.PublicKey
	installations map[int64]bool
}

// bucket is one rate-limit window of one caller and resource.
type bucket struct {
	limit, used int
	reset       time.Time
}

// Request is one request the fake answered, for tests to count.
type Request struct {
	Method   string
	Path     string // path and query, without the Enterprise prefix
	Status   int
	Resource string // "core", "graphql" or "" (not rate limited)
	// Cost is what the request took from the caller's budget: 1 for a
	// REST request, the query cost for GraphQL, 0 for an authorized 304.
	Cost          int
	Authenticated bool
}

// New returns an empty fake that accepts the given tokens (each acting as
// user "okrd-bot").
func New(tokens ...string) *Server {
	s := &Server{tokens: map[string]tokenInfo{}, apps: map[int64]*app{}, buckets: map[string]*bucket{}}
	for _, t := range tokens {
		s.tokens[t] = tokenInfo{login: "okrd-bot"}
	}
	return s
}

// AddToken accepts another token, acting as login.
func (s *Server) AddToken(token, login string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[token] = tokenInfo{login: login}
}

// AddApp registers a GitHub App by its id and public key, installed with
// the given installation ids: POST /app/installations/{id}/access_tokens
// with a JWT the app signed returns an installation token valid one hour.
func (s *Server) AddApp(appID int64, key *rsa.PublicKey, installations ...int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := &app{id: appID, key: key, installations: map[int64]bool{}}
	for _, i := range installations {
		a.installations[i] = true
	}
	s.apps[appID] = a
}

// Update changes the fake's data under its lock; ids and defaults of new
// objects are filled in afterwards.
func (s *Server) Update(fn func(d *Data)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(&s.data)
	s.data.Normalize()
}

// FaultKind is what an injected fault does.
type FaultKind int

// The kinds of faults.
const (
	// FaultStatus answers Status (500, 502, 503, 401, 404...) with GitHub's
	// error body, and Retry-After when RetryAfter > 0 (GitHub sends one
	// with some 503s).
	FaultStatus FaultKind = iota
	// FaultMalformed answers 200 with a truncated JSON body.
	FaultMalformed
	// FaultPrimaryLimit spends the caller's whole budget and answers as
	// GitHub does once it is spent: Status 403 or 429 with
	// x-ratelimit-remaining 0 (for GraphQL with Status 200: a RATE_LIMITED
	// error). Later requests fail the same way until the window resets.
	FaultPrimaryLimit
	// FaultSecondaryLimit answers Status 403 or 429 with the secondary
	// rate limit message, and Retry-After when RetryAfter > 0.
	FaultSecondaryLimit
)

// Fault makes the next Times requests whose path starts with Path ("" for
// any; "/graphql" for GraphQL) fail.
type Fault struct {
	Kind       FaultKind
	Path       string
	Status     int
	RetryAfter int // seconds
	Times      int // default 1
}

// Inject adds a fault.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Times <= 0 {
		f.Times = 1
	}
	s.faults = append(s.faults, &f)
}

// ClearFaults removes every pending fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// ResetRateLimits starts a fresh rate-limit window for every caller, as if
// the reset time had passed.
func (s *Server) ResetRateLimits() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buckets = map[string]*bucket{}
}

// SetRemaining sets what is left of every authenticated caller's budget of
// a resource (creating the window if needed), to test how a client slows
// down near the end of its budget.
func (s *Server) SetRemaining(resource string, remaining int, resetIn time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tokens {
		b := s.bucketLocked("user:"+t.login, resource, true)
		b.used = b.limit - remaining
		b.reset = s.now().Add(resetIn).Truncate(time.Second)
	}
}

// Requests returns every request answered so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.log...)
}

// ResetRequests forgets the requests answered so far.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = nil
}

// Used returns the rate-limit points charged for resource since the last
// ResetRequests, summed over callers.
func (s *Server) Used(resource string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.log {
		if r.Resource == resource {
			n += r.Cost
		}
	}
	return n
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) limit(resource string, authenticated bool) int {
	if !authenticated {
		return 60
	}
	if n, ok := s.Limits[resource]; ok {
		return n
	}
	return 5000
}

func (s *Server) bucketLocked(who, resource string, authenticated bool) *bucket {
	key := who + "\x00" + resource
	b, ok := s.buckets[key]
	now := s.now()
	if !ok || !now.Before(b.reset) {
		b = &bucket{limit: s.limit(resource, authenticated), reset: now.Add(time.Hour).Truncate(time.Second)}
		s.buckets[key] = b
	}
	return b
}

// exchange is one request being answered.
type exchange struct {
	s        *Server
	w        http.ResponseWriter
	r        *http.Request
	path     string // without the Enterprise prefix
	who      string
	authed   bool
	login    string
	resource string
	bucket   *bucket
	cost     int
	status   int
}

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqID++
	h := w.Header()
	h.Set("Server", "GitHub.com")
	h.Set("Date", s.now().UTC().Format(http.TimeFormat))
	h.Set("X-GitHub-Request-Id", fmt.Sprintf("0683:13C7:%X:%X:62D63574", s.reqID, s.reqID*7))
	h.Set("X-GitHub-Media-Type", "github.v3; format=json")
	h.Set("Access-Control-Expose-Headers", "ETag, Link, Location, Retry-After, X-GitHub-OTP, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Used, X-RateLimit-Resource, X-RateLimit-Reset, X-OAuth-Scopes, X-Accepted-OAuth-Scopes, X-Poll-Interval, X-GitHub-Media-Type, X-GitHub-SSO, X-GitHub-Request-Id, Deprecation, Sunset")

	x := &exchange{s: s, w: w, r: r, path: r.URL.Path}
	graphqlPath := "/graphql"
	if s.Enterprise {
		graphqlPath = "/api/graphql"
		if x.path != graphqlPath {
			if !strings.HasPrefix(x.path, "/api/v3/") {
				x.notFound()
				s.record(x)
				return
			}
			x.path = strings.TrimPrefix(x.path, "/api/v3")
		}
	}
	isGraphQL := x.path == graphqlPath
	if isGraphQL {
		x.path = "/graphql"
	}
	x.resource = "core"
	if isGraphQL {
		x.resource = "graphql"
	}
	if x.path == "/rate_limit" || strings.HasPrefix(x.path, "/app/") {
		x.resource = ""
	}

	if strings.HasPrefix(x.path, "/app/") {
		s.appToken(x)
		s.record(x)
		return
	}
	if !s.authenticate(x) {
		s.record(x)
		return
	}
	if s.fault(x) {
		s.record(x)
		return
	}
	if isGraphQL {
		s.graphql(x)
	} else {
		s.rest(x)
	}
	s.record(x)
}

func (s *Server) record(x *exchange) {
	p := x.path
	if x.r.URL.RawQuery != "" {
		p += "?" + x.r.URL.RawQuery
	}
	s.log = append(s.log, Request{Method: x.r.Method, Path: p, Status: x.status, Resource: x.resource, Cost: x.cost, Authenticated: x.authed})
}

// authenticate finds the caller: a valid token, or nobody (the
// unauthenticated budget of the client's address). A token that is not
// valid is refused with 401.
func (s *Server) authenticate(x *exchange) bool {
	auth := x.r.Header.Get("Authorization")
	if auth == "" {
		host, _, _ := net.SplitHostPort(x.r.RemoteAddr)
		x.who = "ip:" + host
	} else {
		tok := auth
		for _, p := range []string{"Bearer ", "bearer ", "token ", "Token "} {
			tok = strings.TrimPrefix(tok, p)
		}
		t, ok := s.tokens[tok]
		if !ok || (!t.expires.IsZero() && !s.now().Before(t.expires)) {
			x.who = "ip:bad-credentials"
			x.setRateHeaders()
			x.errorJSON(http.StatusUnauthorized, "Bad credentials", "https://docs.github.com/rest")
			return false
		}
		x.who, x.login, x.authed = "user:"+t.login, t.login, true
	}
	if x.resource != "" && !s.NoRateLimits {
		x.bucket = s.bucketLocked(x.who, x.resource, x.authed)
	}
	return true
}

// fault applies the first pending fault matching the request.
func (s *Server) fault(x *exchange) bool {
	for i, f := range s.faults {
		if f.Path != "" && !strings.HasPrefix(x.path, f.Path) {
			continue
		}
		f.Times--
		if f.Times <= 0 {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
		}
		switch f.Kind {
		case FaultStatus:
			x.charge(1)
			x.setRateHeaders()
			if f.RetryAfter > 0 {
				x.w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
			}
			msg := http.StatusText(f.Status)
			if f.Status == http.StatusUnauthorized {
				msg = "Bad credentials"
			}
			x.errorJSON(f.Status, msg, "https://docs.github.com/rest")
		case FaultMalformed:
			x.charge(1)
			x.setRateHeaders()
			x.w.Header().Set("Content-Type", "application/json; charset=utf-8")
			x.status = http.StatusOK
			x.w.WriteHeader(http.StatusOK)
			io.WriteString(x.w, `{"data": {"repository": {"pullRequests": {"nodes": [{"number": 1, "createdAt": "2026-`)
		case FaultPrimaryLimit:
			if x.bucket != nil {
				x.bucket.used = x.bucket.limit
			}
			x.primaryLimit(f.Status)
		case FaultSecondaryLimit:
			x.setRateHeaders()
			if f.RetryAfter > 0 {
				x.w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
			}
			status := f.Status
			if status == 0 {
				status = http.StatusForbidden
			}
			x.errorJSON(status, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID "+x.w.Header().Get("X-GitHub-Request-Id")+".",
				"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits")
		}
		return true
	}
	return false
}

// charge takes cost points from the caller's budget.
func (x *exchange) charge(cost int) {
	if x.bucket == nil {
		return
	}
	x.cost = cost
	x.bucket.used += cost
	if x.bucket.used > x.bucket.limit {
		x.bucket.used = x.bucket.limit
	}
}

// setRateHeaders writes the x-ratelimit-* headers of the caller's window.
func (x *exchange) setRateHeaders() {
	if x.bucket == nil {
		return
	}
	h := x.w.Header()
	b := x.bucket
	h.Set("X-RateLimit-Limit", strconv.Itoa(b.limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(b.limit-b.used))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(b.reset.Unix(), 10))
	h.Set("X-RateLimit-Used", strconv.Itoa(b.used))
	h.Set("X-RateLimit-Resource", x.resource)
}

// spent reports whether the caller cannot afford cost points.
func (x *exchange) spent(cost int) bool {
	return x.bucket != nil && x.bucket.limit-x.bucket.used < cost
}

// primaryLimit answers as GitHub does when the primary budget is spent.
func (x *exchange) primaryLimit(status int) {
	x.setRateHeaders()
	who := "user ID 1"
	if !x.authed {
		who = strings.TrimPrefix(x.who, "ip:")
	}
	if x.resource == "graphql" && (status == 0 || status == http.StatusOK) {
		x.writeJSON(http.StatusOK, map[string]any{"errors": []any{map[string]any{
			"type": "RATE_LIMITED", "code": "graphql_rate_limit",
			"message": "API rate limit already exceeded for " + who + ".",
		}}})
		return
	}
	if status == 0 {
		status = x.s.PrimaryLimitStatus
	}
	if status == 0 {
		status = http.StatusForbidden
	}
	x.errorJSON(status, "API rate limit exceeded for "+who+". (But here's the good news: Authenticated requests get a higher rate limit. Check out the documentation for more details.)",
		"https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting")
}

func (x *exchange) writeJSON(status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"message":"fake: cannot encode"}`)
	}
	x.w.Header().Set("Content-Type", "application/json; charset=utf-8")
	x.w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	x.status = status
	x.w.WriteHeader(status)
	x.w.Write(b)
}

func (x *exchange) errorJSON(status int, msg, doc string) {
	x.writeJSON(status, map[string]any{"message": msg, "documentation_url": doc, "status": strconv.Itoa(status)})
}

func (x *exchange) notFound() {
	x.errorJSON(http.StatusNotFound, "Not Found", "https://docs.github.com/rest")
}

// etag is GitHub's strong ETag of a body.
func etag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

// matches reports whether an If-None-Match header names tag (weak or
// strong, in a list, or *).
func matches(header, tag string) bool {
	if header == "" {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == tag {
			return true
		}
	}
	return false
}

// answer sends a REST 200 with ETag, or a 304 when the client's
// If-None-Match names the same ETag; a 304 to an authenticated caller
// costs nothing, as GitHub documents.
func (x *exchange) answer(v any) {
	body, err := json.Marshal(v)
	if err != nil {
		x.errorJSON(http.StatusInternalServerError, "fake: cannot encode", "")
		return
	}
	tag := etag(body)
	h := x.w.Header()
	h.Set("Cache-Control", "private, max-age=60, s-maxage=60")
	h.Set("Vary", "Accept, Authorization, Cookie, X-GitHub-OTP")
	h.Set("ETag", tag)
	if matches(x.r.Header.Get("If-None-Match"), tag) {
		if !x.authed {
			x.charge(1)
		}
		x.setRateHeaders()
		x.status = http.StatusNotModified
		x.w.WriteHeader(http.StatusNotModified)
		return
	}
	x.charge(1)
	x.setRateHeaders()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	x.status = http.StatusOK
	x.w.WriteHeader(http.StatusOK)
	x.w.Write(body)
}

// appToken serves POST /app/installations/{id}/access_tokens: a JWT signed
// by a registered app buys a one-hour installation token.
func (s *Server) appToken(x *exchange) {
	parts := strings.Split(strings.Trim(x.path, "/"), "/")
	if x.r.Method != http.MethodPost || len(parts) != 4 || parts[1] != "installations" || parts[3] != "access_tokens" {
		x.notFound()
		return
	}
	inst, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		x.notFound()
		return
	}
	jwt := strings.TrimPrefix(x.r.Header.Get("Authorization"), "Bearer ")
	a, err := s.verifyJWT(jwt)
	if err != nil {
		x.errorJSON(http.StatusUnauthorized, err.Error(), "https://docs.github.com/rest")
		return
	}
	if !a.installations[inst] {
		x.notFound()
		return
	}
	buf := make([]byte, 18)
	rand.Read(buf)
	tok := "ghs_" + base64.RawURLEncoding.EncodeToString(buf)
	expires := s.now().Add(time.Hour).Truncate(time.Second)
	s.tokens[tok] = tokenInfo{login: fmt.Sprintf("app-%d[bot]", a.id), expires: expires}
	x.writeJSON(http.StatusCreated, map[string]any{
		"token": tok, "expires_at": expires.UTC().Format(time.RFC3339),
		"permissions":          map[string]string{"contents": "read", "deployments": "read", "issues": "read", "pull_requests": "read", "actions": "read", "metadata": "read"},
		"repository_selection": "all",
	})
}

// verifyJWT checks an app's RS256 JWT the way GitHub does: signed by a
// registered app's key, issued by its id, not expired, and valid for at
// most ten minutes.
func (s *Server) verifyJWT(jwt string) (*app, error) {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("A JSON web token could not be decoded")
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	var claims struct {
		Iss any   `json:"iss"`
		Iat int64 `json:"iat"`
		Exp int64 `json:"exp"`
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	cb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || json.Unmarshal(hb, &hdr) != nil || json.Unmarshal(cb, &claims) != nil || hdr.Alg != "RS256" {
		return nil, fmt.Errorf("A JSON web token could not be decoded")
	}
	var id int64
	switch v := claims.Iss.(type) {
	case float64:
		id = int64(v)
	case string:
		id, _ = strconv.ParseInt(v, 10, 64)
	}
	a, ok := s.apps[id]
	if !ok {
		return nil, fmt.Errorf("Integration not found")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(a.key, crypto.SHA256, sum[:], sig) != nil {
		return nil, fmt.Errorf("A JSON web token could not be decoded")
	}
	now := s.now().Unix()
	if claims.Exp <= now || claims.Iat > now+60 || claims.Exp-claims.Iat > 600 {
		return nil, fmt.Errorf("'Expiration time' claim ('exp') is too far in the future")
	}
	return a, nil
}

// graphql serves POST /graphql.
func (s *Server) graphql(x *exchange) {
	if x.r.Method != http.MethodPost {
		x.errorJSON(http.StatusNotFound, "Not Found", "https://docs.github.com/graphql")
		return
	}
	var req struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables"`
	}
	body, _ := io.ReadAll(io.LimitReader(x.r.Body, 1<<20))
	if err := json.Unmarshal(body, &req); err != nil || req.Query == "" {
		x.charge(1)
		x.setRateHeaders()
		x.writeJSON(http.StatusBadRequest, map[string]any{"message": "Problems parsing JSON", "documentation_url": "https://docs.github.com/graphql"})
		return
	}
	if req.Variables == nil {
		req.Variables = map[string]any{}
	}
	sel, err := parseQuery(req.Query, req.Variables)
	if err != nil {
		ge, ok := err.(*gqlError)
		if !ok {
			ge = &gqlError{Message: err.Error()}
		}
		x.charge(1)
		x.setRateHeaders()
		x.writeJSON(http.StatusOK, map[string]any{"errors": []*gqlError{ge}})
		return
	}
	cost, nodes := queryCost(sel)
	if nodes > 500000 {
		x.charge(1)
		x.setRateHeaders()
		x.writeJSON(http.StatusOK, map[string]any{"errors": []*gqlError{{Type: "MAX_NODE_LIMIT_EXCEEDED",
			Message: fmt.Sprintf("This query requests up to %d possible nodes which exceeds the maximum limit of 500,000.", nodes)}}})
		return
	}
	if x.spent(cost) {
		x.primaryLimit(http.StatusOK)
		return
	}
	x.charge(cost)
	x.setRateHeaders()
	ri := &rateInfo{cost: cost, nodeCount: nodes, limit: 5000, remaining: 5000}
	if x.bucket != nil {
		ri.limit, ri.remaining, ri.used, ri.resetAt = x.bucket.limit, x.bucket.limit-x.bucket.used, x.bucket.used, x.bucket.reset
	}
	var errs []*gqlError
	data := execute(&queryRoot{data: &s.data, login: x.login, rate: ri}, sel, nil, &errs)
	resp := map[string]any{"data": data}
	for _, e := range errs {
		if e.Extensions != nil && e.Type == "" {
			// Schema errors (undefined fields, bad arguments) reject the
			// whole query, as GitHub validates before it executes.
			resp = map[string]any{"errors": errs}
			break
		}
	}
	if len(errs) > 0 {
		resp["errors"] = errs
	}
	x.writeJSON(http.StatusOK, resp)
}
