package github

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/okrd/okrd/collectors"
)

// tokenSource gives the bearer token of a request.
type tokenSource interface {
	token(req *http.Request) (string, error)
}

// staticToken is a personal access or OAuth token.
type staticToken string

func (t staticToken) token(*http.Request) (string, error) { return string(t), nil }

// authTransport sets the Authorization header. It sits above the rate
// limiter, so every request, REST or GraphQL, is authorized: GitHub only
// waives the cost of a 304 for an authorized request.
type authTransport struct {
	src  tokenSource
	base http.RoundTripper
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	tok, err := t.src.token(req)
	if err != nil {
		return nil, err
	}
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+tok)
	return t.base.RoundTrip(r)
}

// appToken authenticates as a GitHub App installation: a JWT signed with
// the app's private key buys an installation token (valid one hour), kept
// until five minutes before it expires.
type appToken struct {
	appID, installationID int64
	key                   *rsa.PrivateKey
	// tokenURL is POST {api}/app/installations/{id}/access_tokens.
	tokenURL string
	// client sends the token request through the rate limiter and the
	// request counter, but not through authTransport.
	client *http.Client
	now    func() time.Time
	source string

	mu      sync.Mutex
	tok     string
	expires time.Time
}

func (a *appToken) token(req *http.Request) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.tok != "" && a.now().Add(5*time.Minute).Before(a.expires) {
		return a.tok, nil
	}
	jwt, err := a.jwt()
	if err != nil {
		return "", collectors.Permanent(fmt.Errorf("github source %q: cannot sign the GitHub App token request: %w", a.source, err))
	}
	r, err := http.NewRequestWithContext(req.Context(), http.MethodPost, a.tokenURL, nil)
	if err != nil {
		return "", err
	}
	r.Header.Set("Authorization", "Bearer "+jwt)
	r.Header.Set("Accept", "application/vnd.github+json")
	r.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	resp, err := a.client.Do(r)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		var m struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(body, &m)
		err := fmt.Errorf("github source %q: GitHub App installation token request failed: %d %s (check app_id %d, installation_id %d and the private key)",
			a.source, resp.StatusCode, firstLine(m.Message), a.appID, a.installationID)
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusForbidden {
			return "", collectors.Permanent(err)
		}
		return "", &httpStatusError{status: resp.StatusCode, err: err}
	}
	var t struct {
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	if err := json.Unmarshal(body, &t); err != nil || t.Token == "" {
		return "", fmt.Errorf("github source %q: malformed GitHub App installation token answer", a.source)
	}
	a.tok, a.expires = t.Token, t.ExpiresAt
	return a.tok, nil
}

// jwt signs the app's JSON web token: RS256, issued by the app id, valid
// ten minutes minus a minute of clock-skew allowance at each end, as
// GitHub's documentation recommends.
func (a *appToken) jwt() (string, error) {
	now := a.now().Unix()
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	claims := enc.EncodeToString([]byte(`{"iat":` + strconv.FormatInt(now-60, 10) + `,"exp":` + strconv.FormatInt(now+540, 10) + `,"iss":"` + strconv.FormatInt(a.appID, 10) + `"}`))
	sum := sha256.Sum256([]byte(header + "." + claims))
	sig, err := rsa.SignPKCS1v15(rand.Reader, a.key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return header + "." + claims + "." + enc.EncodeToString(sig), nil
}

// httpStatusError is a non-2xx answer outside go-github (GraphQL, app
// tokens), kept with its status so that 5xx can be retried.
type httpStatusError struct {
	status int
	err    error
}

func (e *httpStatusError) Error() string { return e.err.Error() }
func (e *httpStatusError) Unwrap() error { return e.err }
