package pull

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// httpPolicy enforces docker's rule for plain HTTP: allowed to loopback
// registries, and to any registry only when TLS verification is off.
// go-containerregistry would also fall back to HTTP for private (RFC 1918)
// addresses, which would let a network attacker downgrade the connection.
type httpPolicy struct {
	next     http.RoundTripper
	insecure bool
}

// RoundTrip implements http.RoundTripper.
func (p *httpPolicy) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && !p.insecure && !isLoopback(req.URL.Hostname()) {
		return nil, fmt.Errorf("plain HTTP to %s is not allowed; use HTTPS, or pass --tls-verify=false for a registry without TLS", req.URL.Host)
	}
	return p.next.RoundTrip(req)
}

// defaultHeaderTimeout bounds the wait for response headers. A registry
// that accepts the connection and never responds would hang a pull
// forever, and one minute is far above a normal response time. A blob
// download that stalls after its headers is resumeTransport's.
const defaultHeaderTimeout = time.Minute

// newTransport returns the HTTP transport for registry requests, which
// waits headerTimeout for the headers of each response.
func newTransport(opts Options, headerTimeout time.Duration) http.RoundTripper {
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.ResponseHeaderTimeout = headerTimeout
	trust := &trustTransport{
		base:     base,
		certDir:  opts.CertDir,
		insecure: opts.Insecure,
		hosts:    map[string]http.RoundTripper{},
		failed:   map[string]error{},
	}
	return &httpPolicy{next: trust, insecure: opts.Insecure}
}

// trustTransport verifies each host's TLS certificate against the trust
// that --cert-dir or the host's certs.d directory adds to the system
// roots. It keeps one transport per host, because each host may have a
// directory of its own.
type trustTransport struct {
	base     *http.Transport
	certDir  string
	insecure bool

	mu    sync.Mutex
	hosts map[string]http.RoundTripper
	// failed holds the error of each host whose HTTPS certificate failed
	// verification or whose trust directory could not be loaded.
	failed map[string]error
}

// RoundTrip implements http.RoundTripper.
func (t *trustTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	host := req.URL.Host
	if req.URL.Scheme == "http" {
		// go-containerregistry tries plain HTTP to a loopback registry
		// when HTTPS fails. A registry that speaks TLS with a certificate
		// kist cannot verify, or whose trust directory is broken, must
		// not be reached without TLS instead.
		if _, err := t.forHost(host); err != nil {
			return nil, err
		}
		return t.base.RoundTrip(req)
	}

	next, err := t.forHost(host)
	if err != nil {
		return nil, err
	}
	resp, err := next.RoundTrip(req)
	var verr *tls.CertificateVerificationError
	if err != nil && errors.As(err, &verr) {
		certErr := &CertificateError{Host: host, Err: verr}
		t.mu.Lock()
		t.failed[host] = certErr
		t.mu.Unlock()
		return nil, certErr
	}
	return resp, err
}

// forHost returns the transport for host, made on first use, or the
// error that made host fail before.
func (t *trustTransport) forHost(host string) (http.RoundTripper, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.failed[host]; err != nil {
		return nil, err
	}
	if rt, ok := t.hosts[host]; ok {
		return rt, nil
	}
	config, err := tlsConfig(host, t.certDir, t.insecure)
	if err != nil {
		t.failed[host] = err
		return nil, err
	}
	rt := t.base.Clone()
	rt.TLSClientConfig = config
	t.hosts[host] = rt
	return rt, nil
}

// isLoopback reports whether host names this machine: localhost,
// 127.0.0.0/8 or ::1.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}
