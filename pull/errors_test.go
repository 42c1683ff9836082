package pull

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// tlsRegistry serves the in-memory registry over HTTPS on 127.0.0.1 and
// returns its host:port and its certificate in PEM.
func tlsRegistry(t *testing.T) (string, []byte) {
	host, ca, _ := countedTLSRegistry(t)
	return host, ca
}

// countedTLSRegistry is tlsRegistry that also returns the number of
// connections the server has accepted so far.
func countedTLSRegistry(t *testing.T) (string, []byte, func() int64) {
	t.Helper()
	var conns atomic.Int64
	server := httptest.NewUnstartedServer(registry.New(registry.Logger(nilLogger())))
	server.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			conns.Add(1)
		}
	}
	server.StartTLS()
	t.Cleanup(server.Close)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: server.Certificate().Raw})
	return strings.TrimPrefix(server.URL, "https://"), ca, conns.Load
}

func privateKeyPEM(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// expectOneLine checks that err is a single line that contains each of
// want and shows no sign of a plain-HTTP fallback.
func expectOneLine(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("got no error")
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") {
		t.Errorf("error %q spans several lines", msg)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not contain %q", msg, w)
		}
	}
	for _, bad := range []string{"http://", "HTTP 400", `Get "`} {
		if strings.Contains(msg, bad) {
			t.Errorf("error %q contains %q", msg, bad)
		}
	}
}

func TestBadCertDirNoPlainHTTP(t *testing.T) {
	isolate(t)
	host, ca, conns := countedTLSRegistry(t)
	tests := []struct {
		name  string
		setup func(dir string) string
		want  string
	}{
		{"cert without key", func(dir string) string {
			writeFile(t, filepath.Join(dir, "ca.crt"), ca)
			writeFile(t, filepath.Join(dir, "client.cert"), ca)
			return filepath.Join(dir, "client.cert")
		}, "has no key"},
		{"garbage ca.crt", func(dir string) string {
			writeFile(t, filepath.Join(dir, "ca.crt"), []byte("garbage"))
			return filepath.Join(dir, "ca.crt")
		}, "contains no PEM certificate"},
		{"key as ca.crt", func(dir string) string {
			writeFile(t, filepath.Join(dir, "ca.crt"), privateKeyPEM(t))
			return filepath.Join(dir, "ca.crt")
		}, "contains no PEM certificate"},
		{"missing directory", func(dir string) string {
			return filepath.Join(dir, "missing")
		}, "does not exist"},
		{"unreadable ca.crt", func(dir string) string {
			// Root reads any file whatever its mode, but no one reads a
			// directory as a file.
			if err := os.Mkdir(filepath.Join(dir, "ca.crt"), 0o700); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(dir, "ca.crt")
		}, "read CA certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			bad := tt.setup(dir)
			certDir := dir
			if tt.name == "missing directory" {
				certDir = bad
			}
			opts := Options{CertDir: certDir, Platform: HostPlatform()}
			_, err := fetchImage(context.Background(), mustParse(t, host+"/test/app:v1"), opts, fastResilience)
			expectOneLine(t, err, "pull "+host+"/test/app:v1", "registry "+host, bad, tt.want)
		})
	}
	// Neither HTTPS nor plain HTTP may reach a registry whose trust
	// directory is broken.
	if n := conns(); n != 0 {
		t.Errorf("the registry accepted %d connections, want none", n)
	}
}

func TestBadCertsDirEntry(t *testing.T) {
	config := isolate(t)
	host, _ := tlsRegistry(t)
	dir := filepath.Join(config, "kist", "certs.d", host)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "ca.crt"), []byte("garbage"))

	_, err := fetchImage(context.Background(), mustParse(t, host+"/test/app:v1"), Options{Platform: HostPlatform()}, fastResilience)
	expectOneLine(t, err, filepath.Join(dir, "ca.crt"), "contains no PEM certificate")
}

func TestCheckLoginBadCertDir(t *testing.T) {
	isolate(t)
	host, _, conns := countedTLSRegistry(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "ca.crt"), []byte("garbage"))

	err := CheckLogin(context.Background(), host, nil, Options{CertDir: dir})
	expectOneLine(t, err, "log in to "+host, filepath.Join(dir, "ca.crt"))
	if n := conns(); n != 0 {
		t.Errorf("the registry accepted %d connections, want none", n)
	}
}

// pushTo pushes a random image to ref through RemoteOptions with the
// resilience r, and returns PushError's description of the failure.
func pushTo(t *testing.T, ref string, opts Options, r resilience) error {
	t.Helper()
	parsed, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := remote.Write(parsed, randomImage(t, 1), remoteOptions(ctx, opts, r)...); err != nil {
		return PushError("local:v1", parsed, err)
	}
	return nil
}

func TestPushErrorUntrustedCertificate(t *testing.T) {
	isolate(t)
	host, _ := tlsRegistry(t)

	err := pushTo(t, host+"/test/app:v1", Options{}, fastResilience)
	expectOneLine(t, err, "push local:v1 to "+host+"/test/app:v1", "failed TLS certificate verification")
	if n := strings.Count(err.Error(), "--tls-verify=false"); n != 1 {
		t.Errorf("error %q names --tls-verify=false %d times, want once", err, n)
	}
}

func TestPushErrorBadCertDir(t *testing.T) {
	isolate(t)
	host, _, conns := countedTLSRegistry(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "client.cert"), []byte("x"))

	err := pushTo(t, host+"/test/app:v1", Options{CertDir: dir}, fastResilience)
	expectOneLine(t, err, "push local:v1", filepath.Join(dir, "client.cert"), "has no key")
	if n := conns(); n != 0 {
		t.Errorf("the registry accepted %d connections, want none", n)
	}
}

func TestPushErrorServiceUnavailable(t *testing.T) {
	host := startRegistry(t, func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusServiceUnavailable)
		})
	})

	err := pushTo(t, host+"/test/app:v1", Options{}, fastResilience)
	if err == nil {
		t.Fatal("push to a registry that always returns 503 succeeded")
	}
	msg := err.Error()
	for _, want := range []string{"push local:v1 to " + host + "/test/app:v1", "registry " + host, "HTTP 503 on every attempt", "push again"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not contain %q", msg, want)
		}
	}
	if strings.Contains(msg, "https://") || strings.Contains(msg, "\n") {
		t.Errorf("error %q shows the failed HTTPS attempt or spans lines", msg)
	}
}

// holdHeaders accepts a request and sends nothing until the client gives
// up or the test ends.
func holdHeaders(p *faultProxy, w http.ResponseWriter, r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-p.release:
	}
}

func TestRetryNoResponseHeaders(t *testing.T) {
	requireRoot(t)
	proxy, ref, img, layer := faultImage(t)
	proxy.add(layer, 1, holdHeaders)
	st := openStore(t)

	got, err := pullVia(t, st, ref, fastResilience)
	if err != nil {
		t.Fatalf("pull: %v", err)
	}
	expectPulled(t, st, got, img)
	if n := len(proxy.gets(layer)); n != 2 {
		t.Errorf("layer was requested %d times, want 2", n)
	}
}

func TestNoResponseHeadersSpent(t *testing.T) {
	proxy, ref, _, _ := faultImage(t)
	proxy.add("/manifests/v1", -1, holdHeaders)
	r := fastResilience
	r.headers = 100 * time.Millisecond

	_, err := fetchImage(context.Background(), mustParse(t, ref), Options{Platform: HostPlatform()}, r)
	host := strings.Split(ref, "/")[0]
	expectOneLine(t, err, "pull "+ref, "registry "+host, "no response headers", "4 attempts")
	if n := len(proxy.gets("/manifests/v1")); n != 4 {
		t.Errorf("manifest was requested %d times, want 4", n)
	}
}
