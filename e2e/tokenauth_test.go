package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// tokenLifetime is how long a token of tokenServer is valid. It is
// short so that a token expires during a test's download.
const tokenLifetime = 3 * time.Second

// registryLeeway is the clock skew that distribution's registry allows
// past a token's exp claim: the Leeway constant of its token package, 60
// seconds in distribution 2.8.2 (Debian's docker-registry). With a
// smaller leeway the tokens of tokenServer would be expired when issued,
// and the push in the test would fail.
const registryLeeway = 60 * time.Second

// tokenServer issues JSON Web Tokens for a registry with token
// authentication, to anyone, for every action requested, signed with a
// key whose self-signed certificate the registry trusts.
type tokenServer struct {
	key     *ecdsa.PrivateKey
	certDER []byte

	mu     sync.Mutex
	issued int
}

const (
	tokenService = "kist-e2e"
	tokenIssuer  = "kist-e2e-token-server"
)

// newTokenServer returns a tokenServer and writes its certificate to
// certFile.
func newTokenServer(t *testing.T, certFile string) *tokenServer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: tokenIssuer},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}

	return &tokenServer{key: key, certDER: der}
}

// serve serves h on a free 127.0.0.1 port until t ends and returns the
// address.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	server := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = server.Serve(l) }()
	t.Cleanup(func() { _ = server.Close() })
	return l.Addr().String()
}

// serveToken responds to GET /token?service=S&scope=repository:NAME:ACTIONS
// as docker's token protocol defines it.
func (s *tokenServer) serveToken(w http.ResponseWriter, r *http.Request) {
	var access []map[string]any
	for _, scope := range r.URL.Query()["scope"] {
		parts := strings.Split(scope, ":")
		if len(parts) != 3 {
			http.Error(w, "invalid scope "+scope, http.StatusBadRequest)
			return
		}
		access = append(access, map[string]any{"type": parts[0], "name": parts[1], "actions": strings.Split(parts[2], ",")})
	}
	token, err := s.sign(access)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"token": token, "access_token": token, "expires_in": int(tokenLifetime.Seconds()),
	})
}

// sign returns a token for access that the registry accepts for
// tokenLifetime: its exp claim lies registryLeeway before that moment.
func (s *tokenServer) sign(access []map[string]any) (string, error) {
	s.mu.Lock()
	s.issued++
	id := s.issued
	s.mu.Unlock()

	now := time.Now()
	header := map[string]any{"typ": "JWT", "alg": "ES256", "x5c": []string{base64.StdEncoding.EncodeToString(s.certDER)}}
	claims := map[string]any{
		"iss": tokenIssuer, "sub": "", "aud": tokenService, "jti": fmt.Sprint(id),
		"iat": now.Unix(), "nbf": now.Add(-10 * time.Second).Unix(),
		"exp":    now.Add(tokenLifetime - registryLeeway).Unix(),
		"access": access,
	}
	var parts []string
	for _, part := range []any{header, claims} {
		data, err := json.Marshal(part)
		if err != nil {
			return "", err
		}
		parts = append(parts, base64.RawURLEncoding.EncodeToString(data))
	}
	digest := sha256.Sum256([]byte(strings.Join(parts, ".")))
	r, sig, err := ecdsa.Sign(rand.Reader, s.key, digest[:])
	if err != nil {
		return "", err
	}
	// ES256 signatures are r and s as two 32-byte big-endian numbers.
	signature := make([]byte, 64)
	r.FillBytes(signature[:32])
	sig.FillBytes(signature[32:])
	return strings.Join(parts, ".") + "." + base64.RawURLEncoding.EncodeToString(signature), nil
}

func (s *tokenServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued
}

// tokenExpiry returns the moment from which the registry rejects the
// bearer token of r, read from its exp claim.
func tokenExpiry(r *http.Request) (time.Time, bool) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	parts := strings.Split(token, ".")
	if !ok || len(parts) != 3 {
		return time.Time{}, false
	}
	data, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}, false
	}
	var claims struct {
		Exp int64 `json:"exp"`
	}
	if err := json.Unmarshal(data, &claims); err != nil {
		return time.Time{}, false
	}
	return time.Unix(claims.Exp, 0).Add(registryLeeway), true
}

// breakingProxy forwards requests to a registry, and those for /token
// to a token server, because go-containerregistry accepts a token realm
// on a loopback address only on the registry's own host and port. The
// first download of blob that the registry sends in full breaks after
// 1000 bytes, once the token of its request has expired. The proxy
// records the status of each later request for the blob with a Range
// header.
type breakingProxy struct {
	registry string
	forward  *httputil.ReverseProxy
	tokens   *tokenServer
	blob     string

	mu          sync.Mutex
	broken      bool
	rangeStatus []int
}

// connect sets the registry that p forwards to.
func (p *breakingProxy) connect(registry string) {
	p.registry = registry
	p.forward = httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: registry})
}

// reset makes p break the next download of blob, and clears the
// recorded range requests.
func (p *breakingProxy) reset(blob string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.blob, p.broken, p.rangeStatus = blob, false, nil
}

func (p *breakingProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/token" {
		p.tokens.serveToken(w, r)
		return
	}
	p.mu.Lock()
	blob := p.blob
	p.mu.Unlock()
	if r.Method != http.MethodGet || blob == "" || !strings.HasSuffix(r.URL.Path, "/blobs/"+blob) {
		p.forward.ServeHTTP(w, r)
		return
	}
	if r.Header.Get("Range") != "" {
		recorder := &statusRecorder{ResponseWriter: w}
		p.forward.ServeHTTP(recorder, r)
		p.mu.Lock()
		p.rangeStatus = append(p.rangeStatus, recorder.status)
		p.mu.Unlock()
		return
	}
	p.mu.Lock()
	broken := p.broken
	p.mu.Unlock()
	if broken {
		p.forward.ServeHTTP(w, r)
		return
	}
	p.breakAfterExpiry(w, r)
}

// breakAfterExpiry sends the registry's response headers and 1000 bytes
// of the blob, waits until the request's token has expired, then aborts
// the response. A response other than 200 passes unchanged.
func (p *breakingProxy) breakAfterExpiry(w http.ResponseWriter, r *http.Request) {
	out, err := http.NewRequestWithContext(r.Context(), http.MethodGet, "http://"+p.registry+r.URL.RequestURI(), nil)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	out.Header = r.Header.Clone()
	resp, err := http.DefaultTransport.RoundTrip(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for key, values := range resp.Header {
		w.Header()[key] = values
	}
	expiry, ok := tokenExpiry(r)
	if resp.StatusCode != http.StatusOK || !ok {
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
		return
	}

	p.mu.Lock()
	p.broken = true
	p.mu.Unlock()
	w.WriteHeader(resp.StatusCode)
	_, _ = io.CopyN(w, resp.Body, 1000)
	w.(http.Flusher).Flush()
	select {
	case <-time.After(time.Until(expiry) + time.Second):
	case <-r.Context().Done():
	}
	panic(http.ErrAbortHandler)
}

func (p *breakingProxy) rangeStatuses() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]int(nil), p.rangeStatus...)
}

// statusRecorder records the status of a response it passes on.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// tokenRegistryConfig adds token authentication to registryConfig.
const tokenRegistryConfig = `auth:
  token:
    realm: http://%s/token
    service: %s
    issuer: %s
    rootcertbundle: %s
`

// TestPullResumesAfterTokenExpired pulls from Debian's registry with
// token authentication through a proxy that breaks the layer download
// once the pull's token has expired. The resumed request must fetch a
// fresh token, as a first request does.
func TestPullResumesAfterTokenExpired(t *testing.T) {
	need(t, needRegistry)
	need(t, needBusybox)
	dir, err := os.MkdirTemp(env.base, "token-registry-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeTree(dir) })
	certFile := filepath.Join(dir, "token.crt")
	proxy := &breakingProxy{tokens: newTokenServer(t, certFile)}
	proxyAddr := serve(t, proxy)
	extra := fmt.Sprintf(tokenRegistryConfig, proxyAddr, tokenService, tokenIssuer, certFile)
	stop, registry, err := startConfiguredRegistry(filepath.Join(dir, "registry"), extra, "http", http.DefaultClient)
	if err != nil {
		t.Fatalf("start registry with token authentication: %v", err)
	}
	t.Cleanup(stop)
	proxy.connect(registry)
	ref := proxyAddr + "/tokens/busybox:latest"
	layer := pushBusyboxTo(t, ref)
	tokens := proxy.tokens

	forEachIdentity(t, func(t *testing.T, id *identity) {
		proxy.reset(layer)
		id = id.fresh(t)
		before := tokens.count()

		r := id.run(t, call{args: []string{"pull", ref}})
		if r.code != 0 {
			t.Fatalf("pull: exit %d, want 0\n%s", r.code, r)
		}
		if want := "rejected the credentials of the resumed request (HTTP 401); authenticating again"; !strings.Contains(r.stderr, want) {
			t.Errorf("stderr %q does not contain %q", r.stderr, want)
		}
		if got, want := fmt.Sprint(proxy.rangeStatuses()), "[401 206]"; got != want {
			t.Errorf("statuses of the range requests for the layer = %s, want %s", got, want)
		}
		if issued := tokens.count() - before; issued < 2 {
			t.Errorf("the pull fetched %d tokens, want at least 2: the first and one after the break", issued)
		}
	})
}

// pushBusyboxTo copies busybox:latest from the suite's registry to ref,
// anonymously, and returns the digest of its layer.
func pushBusyboxTo(t *testing.T, ref string) string {
	t.Helper()
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
	dst, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(dst, img, remote.WithContext(ctx)); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("busybox has %d layers (%v), want 1", len(layers), err)
	}
	digest, err := layers[0].Digest()
	if err != nil {
		t.Fatal(err)
	}
	return digest.String()
}
