package pull

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strings"
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

// newTransport returns the HTTP transport for registry requests.
func newTransport(insecure bool) http.RoundTripper {
	base := http.DefaultTransport.(*http.Transport).Clone()
	// A registry that accepts the connection and never responds would
	// hang a pull forever. One minute is far above a normal response time.
	// A blob download that stalls after its headers is resumeTransport's.
	base.ResponseHeaderTimeout = time.Minute
	if insecure {
		base.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the user turned verification off with --tls-verify=false
	}
	return &httpPolicy{next: base, insecure: insecure}
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
