package httpconf

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/okrd/okrd/config"
)

func TestSnippetIsOneShortLineWithoutSecrets(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		secrets    []string
		want       string
	}{
		{"whitespace collapses", "{\n  \"error\":\t\"bad\"\n}\n", nil, `{ "error": "bad" }`},
		{"secrets are masked", `invalid token Bearer abc123 for user`, []string{"abc123", ""}, `invalid token Bearer <secret> for user`},
		{"an empty body says so", "  \n", nil, "empty body"},
		// 199 ASCII bytes then "é" (2 bytes): the cut at 200 would split it.
		{"long bodies are cut at a rune boundary", strings.Repeat("a", 199) + "é" + strings.Repeat("b", 50), nil, strings.Repeat("a", 199) + "..."},
		{"invalid UTF-8 is replaced", "bad \xff byte", nil, "bad ? byte"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Snippet([]byte(tc.body), tc.secrets); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestHeadersAreAddedWithoutChangingTheCallersRequest(t *testing.T) {
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Header.Clone() }))
	defer srv.Close()
	c := &Client{
		Headers:       map[string]string{"X-Team": "growth", "Content-Type": "text/csv"},
		SecretHeaders: []SecretHeader{{Name: "X-Api-Key", Value: config.Secret("k3y")}},
		BasicAuth:     &BasicAuth{Username: "u", Password: config.Secret("p")},
	}
	rt, err := c.RoundTripper("test")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", srv.URL, strings.NewReader("a,b"))
	req.Header.Set("Content-Type", "application/json")
	resp, err := NewClient(rt).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got.Get("X-Team") != "growth" || got.Get("X-Api-Key") != "k3y" || got.Get("Content-Type") != "text/csv" ||
		!strings.HasPrefix(got.Get("Authorization"), "Basic ") || !strings.HasPrefix(got.Get("User-Agent"), "okrd/") {
		t.Errorf("server saw %v", got)
	}
	if req.Header.Get("X-Api-Key") != "" || req.Header.Get("Content-Type") != "application/json" {
		t.Errorf("the caller's request was modified: %v", req.Header)
	}
}

func TestSecretsListsEveryCredential(t *testing.T) {
	c := &Client{
		BearerToken:   "t",
		BasicAuth:     &BasicAuth{Username: "u", Password: "p"},
		SecretHeaders: []SecretHeader{{Name: "X", Value: "h"}},
	}
	if got := strings.Join(c.Secrets(), ","); got != "t,p,h" {
		t.Errorf("got %s", got)
	}
}
