package promql

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/okrd/okrd/collectors"
	"github.com/okrd/okrd/internal/testenv"
)

// These tests run the real Prometheus (the Debian package `prometheus`,
// /usr/bin/prometheus) with TLS and basic auth, scraping an httptest
// target that exposes known series. Without the binary they skip, unless
// OKRD_REQUIRE_INTEGRATION=1 (CI) makes that a failure.

func skipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	testenv.Unavailable(t, format, args...)
}

// target is what the scraped test target exposes.
const target = `# HELP okrd_test_signups_total Sign-ups.
# TYPE okrd_test_signups_total counter
okrd_test_signups_total 42
# HELP okrd_test_conversion Checkout conversion by variant.
# TYPE okrd_test_conversion gauge
okrd_test_conversion{variant="a"} 0.25
okrd_test_conversion{variant="b"} 0.35
`

type realProm struct {
	url    string
	dir    string // holds ca.pem
	logs   *bytes.Buffer
	cancel context.CancelFunc
}

// selfSigned writes a CA-less self-signed certificate for 127.0.0.1 into
// dir as cert.pem and key.pem.
func selfSigned(t *testing.T, dir string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "okrd test prometheus"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"prometheus.test"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, typ string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("cert.pem", "CERTIFICATE", der)
	write("ca.pem", "CERTIFICATE", der)
	write("key.pem", "EC PRIVATE KEY", kder)
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startPrometheus runs Prometheus over TLS with the basic-auth user okrd
// (password "prom-pw"), scraping the test target every second, and waits
// until the target's series can be queried.
func startPrometheus(t *testing.T) *realProm { return startPrometheusWith(t, "") }

// startPrometheusWith is startPrometheus with the samples of an
// OpenMetrics text in its storage from the start, written into blocks by
// promtool tsdb create-blocks-from openmetrics (as a backfill is), and a
// retention that keeps them however old they are.
func startPrometheusWith(t *testing.T, openMetrics string) *realProm {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		skipOrFail(t, "the prometheus binary is not installed (apt-get install prometheus); it is needed to test the prometheus source against the real server")
	}
	tgt := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprint(w, target)
	}))
	t.Cleanup(tgt.Close)

	dir := t.TempDir()
	selfSigned(t, dir)
	hash, err := bcrypt.GenerateFromPassword([]byte("prom-pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"prometheus.yml": fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: okrd_test
    static_configs:
      - targets: [%q]
`, strings.TrimPrefix(tgt.URL, "http://")),
		"web.yml": fmt.Sprintf(`tls_server_config:
  cert_file: %s
  key_file: %s
basic_auth_users:
  okrd: %s
`, filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), hash),
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if openMetrics != "" {
		promtool := testenv.Program(t, "promtool", "prometheus")
		in := filepath.Join(dir, "backfill.om")
		if err := os.WriteFile(in, []byte(openMetrics), 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", "--quiet", in, filepath.Join(dir, "data")).CombinedOutput(); err != nil {
			t.Fatalf("promtool tsdb create-blocks-from openmetrics: %v\n%s", err, out)
		}
	}
	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	var logs bytes.Buffer
	cmd := exec.CommandContext(ctx, bin,
		"--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--web.config.file="+filepath.Join(dir, "web.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--storage.tsdb.retention.time=100y",
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port),
		"--log.level=warn",
	)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting prometheus: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("prometheus did not stop within 10s")
		}
	})
	p := &realProm{url: fmt.Sprintf("https://127.0.0.1:%d", port), dir: dir, logs: &logs, cancel: cancel}

	// Wait (at most 30s) until a scrape has stored the target's series.
	l := load(t, dir, sourceDoc(p.settings("prom-pw"), "okrd_test_signups_total"))
	deadline := time.Now().Add(30 * time.Second)
	for {
		m := l.src.Measure(context.Background(), l.bs, time.Now())[0]
		if m.OK && m.Value == 42 {
			return p
		}
		select {
		case <-done:
			t.Fatalf("prometheus exited:\n%s", logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus did not serve the scraped series within 30s (last: %v):\n%s", m.Err, logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (p *realProm) settings(password string) string {
	return fmt.Sprintf(`url = %q
query_timeout = "10s"
basic_auth = { username = "okrd", password = %q }
tls = { ca_file = "ca.pem" }`, p.url, password)
}

func TestRealPrometheus(t *testing.T) {
	p := startPrometheus(t)
	const prefix = `source "metrics": key result reliability/availability: `
	for _, tc := range []struct {
		name, query string
		want        float64
		err         string
		permanent   bool
	}{
		{name: "a one-sample vector is the value", query: `okrd_test_signups_total`, want: 42},
		{name: "a scalar is the value", query: `scalar(okrd_test_signups_total)`, want: 42},
		// 0.25 + 0.35 = 0.6
		{name: "an aggregate of several series is the value", query: `sum(okrd_test_conversion)`, want: 0.6},
		{name: "a series selected by label is the value", query: `okrd_test_conversion{variant="b"}`, want: 0.35},
		{name: "an empty vector is an error, not a zero", query: `okrd_test_conversion{variant="c"}`,
			err: "query returned an empty vector: no series matched (check the metric name and labels, or add `or vector(0)` if no data means zero)"},
		{name: "several series are named", query: `okrd_test_conversion`,
			err: `query returned 2 series, want exactly 1 (aggregate them, e.g. with sum(), or select one with labels): okrd_test_conversion{instance="` +
				"127.0.0.1:"},
		{name: "a range vector is refused", query: `okrd_test_signups_total[1m]`, permanent: true,
			err: "query returned a range vector (1 series), want a scalar or an instant vector: remove the [range] selector or wrap it in a function such as rate() or max_over_time()"},
		{name: "NaN is refused", query: `(okrd_test_signups_total - okrd_test_signups_total) / 0`,
			err: "query returned NaN, want a finite number (a division by zero?)"},
		{name: "a string is refused", query: `"hello"`, permanent: true,
			err: "query returned a string, want a scalar or an instant vector"},
		{name: "a bad query is Prometheus's 400 message", query: `sum(rate(okrd_test_signups_total[5m]`, permanent: true,
			err: `Prometheus rejected the query: invalid parameter "query": 1:37: parse error: unclosed left parenthesis`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := load(t, p.dir, sourceDoc(p.settings("prom-pw"), tc.query))
			got, err := l.measure(t)
			if tc.err == "" {
				if err != nil || got != tc.want {
					t.Fatalf("got %v, %v; want %v", got, err, tc.want)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), prefix+tc.err) {
				t.Fatalf("got %v, %v\nwant error %q", got, err, prefix+tc.err)
			}
			if perm := collectors.IsPermanent(l.src.Poll(context.Background())); perm != tc.permanent {
				t.Errorf("poll error permanent = %v, want %v", perm, tc.permanent)
			}
		})
	}

	t.Run("a wrong password is refused for good", func(t *testing.T) {
		l := load(t, p.dir, sourceDoc(p.settings("wrong-pw"), "okrd_test_signups_total"))
		err := l.src.Poll(context.Background())
		if err == nil || err.Error() != "Prometheus refused the credentials (HTTP 401): check bearer_token, basic_auth or secret_headers" || !collectors.IsPermanent(err) {
			t.Fatalf("got %v", err)
		}
		if strings.Contains(err.Error(), "wrong-pw") || strings.Contains(l.logs.String(), "wrong-pw") {
			t.Error("the password leaked")
		}
	})
	t.Run("an unknown CA is refused", func(t *testing.T) {
		l := load(t, p.dir, sourceDoc(fmt.Sprintf(`url = %q
basic_auth = { username = "okrd", password = "prom-pw" }`, p.url), "okrd_test_signups_total"))
		err := l.src.Poll(context.Background())
		if err == nil || !strings.Contains(err.Error(), "x509: certificate signed by unknown authority") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("plain HTTP to a TLS server fails clearly", func(t *testing.T) {
		l := load(t, p.dir, sourceDoc(fmt.Sprintf(`url = %q`, strings.Replace(p.url, "https", "http", 1)), "okrd_test_signups_total"))
		err := l.src.Poll(context.Background())
		if err == nil || err.Error() != "Prometheus refused the request (client error: 400): Client sent an HTTP request to an HTTPS server." {
			t.Fatalf("got %v", err)
		}
	})
	if testing.Verbose() {
		t.Logf("prometheus log:\n%s", p.logs)
	}
}
