package pull

import (
	"crypto/tls"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// tlsServer starts an HTTPS server on 127.0.0.1 whose certificate no
// system trusts, and writes its certificate as ca.crt into a new
// directory, which it returns.
func tlsServer(t *testing.T) (*httptest.Server, string) {
	t.Helper()
	server := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(server.Close)
	dir := t.TempDir()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: server.Certificate().Raw})
	if err := os.WriteFile(filepath.Join(dir, "ca.crt"), ca, 0o600); err != nil {
		t.Fatal(err)
	}
	return server, dir
}

// isolate points the user's config directory at an empty one, so that no
// certs.d directory of the machine's user is read.
func isolate(t *testing.T) string {
	t.Helper()
	config := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", config)
	return config
}

func roundTrip(rt http.RoundTripper, t *testing.T, url string) error {
	t.Helper()
	resp, err := rt.RoundTrip(mustRequest(t, url))
	if err == nil {
		resp.Body.Close()
	}
	return err
}

func TestCertificateError(t *testing.T) {
	isolate(t)
	server, _ := tlsServer(t)
	host := strings.TrimPrefix(server.URL, "https://")

	rt := newTransport(Options{}, defaultHeaderTimeout)
	err := roundTrip(rt, t, server.URL+"/v2/")
	var certErr *CertificateError
	if !errors.As(err, &certErr) {
		t.Fatalf("HTTPS to an untrusted server: error %v, want a CertificateError", err)
	}
	for _, want := range []string{"registry " + host, "--cert-dir DIR", "certs.d/" + host, "--tls-verify=false"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}

	// go-containerregistry falls back to plain HTTP on loopback; after a
	// certificate error that must fail too instead of dropping TLS.
	err = roundTrip(rt, t, "http://"+host+"/v2/")
	if !errors.As(err, &certErr) {
		t.Errorf("plain HTTP after a certificate error: error %v, want the CertificateError", err)
	}
}

func TestCertDirFlag(t *testing.T) {
	isolate(t)
	server, dir := tlsServer(t)
	if err := roundTrip(newTransport(Options{CertDir: dir}, defaultHeaderTimeout), t, server.URL+"/v2/"); err != nil {
		t.Errorf("HTTPS with the CA in --cert-dir: %v", err)
	}
	if err := roundTrip(newTransport(Options{Insecure: true}, defaultHeaderTimeout), t, server.URL+"/v2/"); err != nil {
		t.Errorf("HTTPS with verification off: %v", err)
	}
	err := roundTrip(newTransport(Options{CertDir: filepath.Join(dir, "missing")}, defaultHeaderTimeout), t, server.URL+"/v2/")
	if err == nil || !strings.Contains(err.Error(), "does not exist; check --cert-dir") {
		t.Errorf("missing --cert-dir: error %v, want one naming the flag", err)
	}
}

func TestCertsDirectory(t *testing.T) {
	config := isolate(t)
	server, dir := tlsServer(t)
	host := strings.TrimPrefix(server.URL, "https://")
	certsd := filepath.Join(config, "kist", "certs.d", host)
	if err := os.MkdirAll(filepath.Dir(certsd), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(dir, certsd); err != nil {
		t.Fatal(err)
	}
	if err := roundTrip(newTransport(Options{}, defaultHeaderTimeout), t, server.URL+"/v2/"); err != nil {
		t.Errorf("HTTPS with the CA in %s: %v", certsd, err)
	}
}

func TestLoadCertDirErrors(t *testing.T) {
	tests := map[string]map[string]string{
		"no PEM certificate": {"ca.crt": "not a certificate"},
		"has no key":         {"client.cert": "x"},
		"has no certificate": {"client.key": "x"},
	}
	for want, files := range tests {
		dir := t.TempDir()
		for name, content := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		err := loadCertDir(&tls.Config{}, dir)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("files %v: error %v, want one containing %q", files, err, want)
		}
	}
}

// TestLoadCertDirFIFO puts a FIFO among the certificates, which a read
// would wait on forever.
func TestLoadCertDirFIFO(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "zz.crt")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- loadCertDir(&tls.Config{}, dir) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), fifo+" is not a regular file") {
			t.Errorf("loadCertDir = %v, want an error naming %s", err, fifo)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("loadCertDir still reads the FIFO after 10 s")
	}
}
