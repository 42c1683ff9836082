package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/crypto/bcrypt"
)

// authRegistry is a Debian docker-registry that requires a user name and
// password (htpasswd basic authentication) and serves HTTPS only, with a
// certificate from a test CA that the system does not trust.
type authRegistry struct {
	// addr is the host:port, on 127.0.0.1.
	addr     string
	user     string
	password string
	// caPEM is the CA certificate that signed the registry's certificate.
	caPEM []byte
	// certDir contains the CA alone, as ca.crt, for --cert-dir. Every
	// test user can read it.
	certDir string
	// client trusts the CA, for requests that the test makes itself.
	client *http.Client
}

// authRegistryConfig continues the http section of registryConfig with
// TLS and adds htpasswd authentication.
const authRegistryConfig = `  tls:
    certificate: %s
    key: %s
auth:
  htpasswd:
    realm: kist-e2e
    path: %s
`

// startAuthRegistry starts an authRegistry that runs until t ends.
func startAuthRegistry(t *testing.T) *authRegistry {
	t.Helper()
	need(t, needRegistry)
	dir, err := os.MkdirTemp(env.base, "auth-registry-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeTree(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}

	r := &authRegistry{user: "kist-e2e", password: "Pw-9f3b2c71-never-printed"}
	certFile, keyFile := filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	if r.caPEM, err = writeCertificates(certFile, keyFile); err != nil {
		t.Fatalf("create certificates: %v", err)
	}
	r.certDir = filepath.Join(dir, "certs")
	if err := os.Mkdir(r.certDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.certDir, "ca.crt"), r.caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	htpasswd := filepath.Join(dir, "htpasswd")
	if err := writeHtpasswd(htpasswd, r.user, r.password); err != nil {
		t.Fatalf("write htpasswd: %v", err)
	}

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(r.caPEM)
	r.client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	extra := fmt.Sprintf(authRegistryConfig, certFile, keyFile, htpasswd)
	stop, addr, err := startConfiguredRegistry(filepath.Join(dir, "registry"), extra, "https", r.client)
	if err != nil {
		t.Fatalf("start registry with authentication: %v", err)
	}
	t.Cleanup(stop)
	r.addr = addr
	return r
}

// remoteOptions reach r as its user, for go-containerregistry.
func (r *authRegistry) remoteOptions(ctx context.Context) []remote.Option {
	return []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuth(&authn.Basic{Username: r.user, Password: r.password}),
		remote.WithTransport(r.client.Transport),
	}
}

// pushBusybox copies busybox:latest from the suite's registry to r as
// repo:latest and returns the reference.
func (r *authRegistry) pushBusybox(t *testing.T, repo string) string {
	t.Helper()
	need(t, needBusybox)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	src, err := name.ParseReference(env.busybox.ref(tagLatest))
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(src, remote.WithContext(ctx))
	if err != nil {
		t.Fatalf("read %s: %v", src, err)
	}
	ref := r.addr + "/" + repo + ":latest"
	dst, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(dst, img, r.remoteOptions(ctx)...); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	return ref
}

// writeCertificates creates a CA and a certificate for 127.0.0.1 and
// localhost that it signs, writes the certificate and its key to
// certFile and keyFile, and returns the CA certificate as PEM.
func writeCertificates(certFile, keyFile string) ([]byte, error) {
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTemplate := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "kist e2e test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	template := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}

	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), nil
}

// writeHtpasswd writes an htpasswd file with one bcrypt entry, the only
// hash that distribution's htpasswd authentication accepts.
func writeHtpasswd(path, user, password string) error {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	return os.WriteFile(path, []byte(user+":"+string(hash)+"\n"), 0o600)
}
