package pull

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"syscall"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// CheckLogin verifies credentials against a registry (host[:port]) before
// login saves them. It runs the registry's authentication handshake,
// which for a token server fetches a token, and then requests /v2/,
// where a registry with basic authentication returns 401 unless the
// credentials are right.
func CheckLogin(ctx context.Context, registry string, cred authn.Authenticator, opts Options) error {
	reg, err := name.NewRegistry(registry)
	if err != nil {
		return fmt.Errorf("invalid registry %q: %w", registry, err)
	}
	rt, err := transport.NewWithContext(ctx, reg, cred, newTransport(opts, defaultHeaderTimeout), nil)
	if err != nil {
		return loginError(registry, err)
	}

	// The transport replaces the scheme with the one its handshake
	// found, so https here also reaches a plain-HTTP loopback registry.
	url := fmt.Sprintf("https://%s/v2/", reg.RegistryStr())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return loginError(registry, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return loginError(registry, transport.CheckError(resp, http.StatusOK))
	}
	return nil
}

// loginError turns a failed login into one line that names the registry,
// the HTTP status when there is one, and what to do about it.
func loginError(registry string, err error) error {
	var certErr *CertificateError
	var trustErr *TrustConfigError
	switch {
	case errors.As(err, &certErr):
		return fmt.Errorf("log in to %s: %w", registry, certErr)
	case errors.As(err, &trustErr):
		return fmt.Errorf("log in to %s: %w", registry, trustErr)
	}
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr):
		return fmt.Errorf("log in to %s: cannot resolve registry host %s; check the registry name and your DNS", registry, dnsErr.Name)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("log in to %s: the registry is unreachable (connection refused); check the address and that the registry is running", registry)
	}
	var terr *transport.Error
	if !errors.As(err, &terr) {
		return fmt.Errorf("log in to %s: %w", registry, err)
	}
	status := fmt.Sprintf("HTTP %d %s", terr.StatusCode, http.StatusText(terr.StatusCode))
	switch terr.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Errorf("log in to %s: the registry rejected the user name or password (%s); check them and try again", registry, status)
	default:
		return fmt.Errorf("log in to %s: the registry returned %s: %v", registry, status, terr)
	}
}
