// Package httpconf owns the HTTP client settings that the prometheus and
// http_json source types share: extra headers, secret headers, bearer
// token, basic auth and TLS. The keys mirror Prometheus's own
// HTTPClientConfig (github.com/prometheus/common/config), whose round
// trippers build the client, so an operator who has configured a
// Prometheus scrape or remote read already knows them; the secrets follow
// okrd's rules instead (config.Secret, a `_file` twin read at load time
// relative to the configuration file).
package httpconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"unicode/utf8"

	promcfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/version"

	"github.com/okrd/okrd/config"
)

// Client is embedded (untagged) in a source type's spec, so its keys sit
// directly in the [sources.NAME] table.
type Client struct {
	// Headers are sent with every request. Their values are not secret
	// (they are printed with the configuration); use SecretHeaders,
	// BearerToken or BasicAuth for credentials.
	Headers map[string]string `toml:"headers"`
	// SecretHeaders are headers whose values are credentials, such as an
	// API key header.
	SecretHeaders []SecretHeader `toml:"secret_headers"`
	// BearerToken is sent as "Authorization: Bearer <token>". Exclusive
	// with BearerTokenFile and BasicAuth.
	BearerToken     config.Secret `toml:"bearer_token"`
	BearerTokenFile string        `toml:"bearer_token_file"`
	// BasicAuth sends HTTP basic authentication.
	BasicAuth *BasicAuth `toml:"basic_auth"`
	// TLS configures the server's certificate check and a client
	// certificate.
	TLS TLS `toml:"tls"`
}

// SecretHeader is one header with a secret value.
type SecretHeader struct {
	Name      string        `toml:"name"`
	Value     config.Secret `toml:"value"`
	ValueFile string        `toml:"value_file"`
}

// BasicAuth is HTTP basic authentication.
type BasicAuth struct {
	Username     string        `toml:"username"`
	Password     config.Secret `toml:"password"`
	PasswordFile string        `toml:"password_file"`
}

// TLS holds PEM material. Each of ca, cert and key may be given inline
// (usually as "${ENV}") or, more commonly, as a file through its `_file`
// twin, which the loader reads relative to the configuration file, so a
// missing or unreadable file is reported by `okrd check`. A certificate
// that is rotated on disk takes effect at the next reload.
type TLS struct {
	// CA verifies the server's certificate instead of the system roots.
	CA     config.Secret `toml:"ca"`
	CAFile string        `toml:"ca_file"`
	// Cert and Key are a client certificate (mutual TLS).
	Cert     config.Secret `toml:"cert"`
	CertFile string        `toml:"cert_file"`
	Key      config.Secret `toml:"key"`
	KeyFile  string        `toml:"key_file"`
	// ServerName overrides the name the certificate is checked against.
	ServerName string `toml:"server_name"`
	// InsecureSkipVerify disables the certificate check (tests only).
	InsecureSkipVerify bool `toml:"insecure_skip_verify"`
}

// forbiddenHeaders are headers that okrd or net/http set, or that would
// carry a credential in the clear.
var forbiddenHeaders = map[string]string{
	"Authorization":     "use bearer_token, basic_auth or secret_headers for credentials",
	"Host":              "it is taken from the URL",
	"Content-Length":    "it is computed from the body",
	"Transfer-Encoding": "it is chosen by the HTTP client",
	"Connection":        "it is managed by the HTTP client",
}

// Validate checks the settings; field paths are relative to the source
// table. Secret values are never part of a message.
func (c *Client) Validate() error {
	var errs []error
	for name := range c.Headers {
		if err := checkHeaderName(name, false); err != nil {
			errs = append(errs, config.FieldErrorf("headers."+name, "%v", err))
		}
	}
	for i, h := range c.SecretHeaders {
		p := fmt.Sprintf("secret_headers[%d]", i)
		if h.Name == "" {
			errs = append(errs, config.FieldErrorf(p+".name", "required"))
		} else if err := checkHeaderName(h.Name, true); err != nil {
			errs = append(errs, config.FieldErrorf(p+".name", "%v", err))
		}
		if h.Value == "" && h.ValueFile == "" {
			errs = append(errs, config.FieldErrorf(p+".value", "required (or set value_file)"))
		}
		if textproto.CanonicalMIMEHeaderKey(h.Name) == "Authorization" && (c.BearerToken != "" || c.BearerTokenFile != "" || c.BasicAuth != nil) {
			errs = append(errs, config.FieldErrorf(p+".name", "an Authorization header cannot be combined with bearer_token or basic_auth"))
		}
	}
	if (c.BearerToken != "" || c.BearerTokenFile != "") && c.BasicAuth != nil {
		errs = append(errs, config.FieldErrorf("bearer_token", "cannot be combined with basic_auth: set one of them"))
	}
	if c.BasicAuth != nil {
		if c.BasicAuth.Username == "" {
			errs = append(errs, config.FieldErrorf("basic_auth.username", "required"))
		}
	}
	t := c.TLS
	if t.CA != "" && !x509.NewCertPool().AppendCertsFromPEM([]byte(t.CA.Value())) {
		errs = append(errs, config.FieldErrorf(tlsField("ca", t.CAFile), "holds no PEM certificate"))
	}
	certSet, keySet := t.Cert != "" || t.CertFile != "", t.Key != "" || t.KeyFile != ""
	switch {
	case certSet && !keySet:
		errs = append(errs, config.FieldErrorf("tls.key", "required with tls.cert (or set key_file)"))
	case keySet && !certSet:
		errs = append(errs, config.FieldErrorf("tls.cert", "required with tls.key (or set cert_file)"))
	case t.Cert != "" && t.Key != "":
		if _, err := tls.X509KeyPair([]byte(t.Cert.Value()), []byte(t.Key.Value())); err != nil {
			// The parser's messages name no key material.
			errs = append(errs, config.FieldErrorf(tlsField("cert", t.CertFile), "not a usable certificate and key pair: %v", err))
		}
	}
	return errors.Join(errs...)
}

// tlsField names the key the user wrote: the inline one or its file twin.
func tlsField(name, file string) string {
	if file != "" {
		return "tls." + name + "_file"
	}
	return "tls." + name
}

func checkHeaderName(name string, secret bool) error {
	if name == "" || strings.ContainsAny(name, " \t\r\n:") {
		return fmt.Errorf("%q is not a valid header name", name)
	}
	canon := textproto.CanonicalMIMEHeaderKey(name)
	if why, bad := forbiddenHeaders[canon]; bad && !(secret && canon == "Authorization") {
		return fmt.Errorf("header %s cannot be set here: %s", canon, why)
	}
	return nil
}

// Secrets returns every credential of c, so that a caller can make sure
// none of them appears in an error (a server that echoes a request).
func (c *Client) Secrets() []string {
	var out []string
	add := func(s config.Secret) {
		if s != "" {
			out = append(out, s.Value())
		}
	}
	add(c.BearerToken)
	if c.BasicAuth != nil {
		add(c.BasicAuth.Password)
	}
	for _, h := range c.SecretHeaders {
		add(h.Value)
	}
	return out
}

// CheckURL validates a source URL: absolute http(s) without credentials
// (they belong in basic_auth, where they are kept secret). The URL is not
// echoed, in case it holds a credential after all.
func CheckURL(field, raw string) error {
	if raw == "" {
		return config.FieldErrorf(field, "required")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return config.FieldErrorf(field, "must be an absolute http:// or https:// URL")
	}
	if u.User != nil {
		return config.FieldErrorf(field, "must not contain credentials; use basic_auth")
	}
	if u.Fragment != "" {
		return config.FieldErrorf(field, "must not contain a #fragment")
	}
	return nil
}

// RoundTripper builds the transport for a source named name: Prometheus's
// round trippers for TLS, bearer token and basic auth, then the headers.
// Redirects are not followed by the client built on it (see NewClient).
func (c *Client) RoundTripper(name string) (http.RoundTripper, error) {
	hc := promcfg.HTTPClientConfig{
		BearerToken: promcfg.Secret(c.BearerToken.Value()),
		TLSConfig: promcfg.TLSConfig{
			CA:                 c.TLS.CA.Value(),
			Cert:               c.TLS.Cert.Value(),
			Key:                promcfg.Secret(c.TLS.Key.Value()),
			ServerName:         c.TLS.ServerName,
			InsecureSkipVerify: c.TLS.InsecureSkipVerify,
		},
		EnableHTTP2: true,
	}
	if c.BasicAuth != nil {
		hc.BasicAuth = &promcfg.BasicAuth{Username: c.BasicAuth.Username, Password: promcfg.Secret(c.BasicAuth.Password.Value())}
	}
	if err := hc.Validate(); err != nil {
		return nil, err
	}
	rt, err := promcfg.NewRoundTripperFromConfig(hc, "okrd_source_"+name, promcfg.WithUserAgent("okrd/"+version.Version))
	if err != nil {
		return nil, err
	}
	if len(c.Headers) == 0 && len(c.SecretHeaders) == 0 {
		return rt, nil
	}
	h := http.Header{}
	for k, v := range c.Headers {
		h.Set(k, v)
	}
	for _, s := range c.SecretHeaders {
		h.Set(s.Name, s.Value.Value())
	}
	return &headerRT{next: rt, headers: h}, nil
}

// NewClient returns a client over rt that does not follow redirects: the
// credentials of every request would follow a redirect to another host,
// so a 3xx answer is reported instead, naming the URL to configure.
func NewClient(rt http.RoundTripper) *http.Client {
	return &http.Client{
		Transport: rt,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

type headerRT struct {
	next    http.RoundTripper
	headers http.Header
}

func (t *headerRT) RoundTrip(r *http.Request) (*http.Response, error) {
	// A RoundTripper must not modify the caller's request.
	r = r.Clone(r.Context())
	for k, vs := range t.headers {
		r.Header[k] = vs
	}
	return t.next.RoundTrip(r)
}

// Snippet shortens an answer body for an error message: one line of at
// most 200 bytes (cut at a rune boundary), with every secret masked in
// case the server echoes the request.
func Snippet(body []byte, secrets []string) string {
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(body), "?")), " ")
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "<secret>")
		}
	}
	if len(s) > 200 {
		cut := 200
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	if s == "" {
		return "empty body"
	}
	return s
}
