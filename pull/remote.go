package pull

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"syscall"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/kist-project/kist/auth"
)

// remoteImage fetches the manifest that a registry reference names and
// resolves an index to opts.Platform.
func remoteImage(ctx context.Context, ref Reference, opts Options) (v1.Image, error) {
	remoteOpts := append(RemoteOptions(ctx, opts), remote.WithPlatform(opts.Platform))
	desc, err := remote.Get(ref.Remote, remoteOpts...)
	if err != nil {
		return nil, registryError(ref, err)
	}
	if desc.MediaType.IsIndex() {
		return imageFromIndex(ref, desc, opts.Platform)
	}
	img, err := desc.Image()
	if err != nil {
		return nil, registryError(ref, err)
	}
	return img, nil
}

// RemoteOptions returns what every request to a registry needs: the
// context, credentials from the files of package auth and the HTTP
// transport with the registry's TLS trust. Push uses them too.
func RemoteOptions(ctx context.Context, opts Options) []remote.Option {
	return []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(auth.Keychain{AuthFile: opts.AuthFile}),
		remote.WithTransport(newTransport(opts)),
	}
}

// imageFromIndex picks the platform's image from an index and names the
// platforms on offer when none matches.
func imageFromIndex(ref Reference, desc *remote.Descriptor, platform v1.Platform) (v1.Image, error) {
	idx, err := desc.ImageIndex()
	if err != nil {
		return nil, registryError(ref, err)
	}
	return pickPlatform(ref.Name, idx, platform)
}

// registryError turns a registry failure into one line that names the
// image or registry and what to do about it.
func registryError(ref Reference, err error) error {
	registry := ref.Remote.Context().RegistryStr()

	var certErr *CertificateError
	if errors.As(err, &certErr) {
		return fmt.Errorf("pull %s: %w", ref.Name, certErr)
	}
	var terr *transport.Error
	if errors.As(err, &terr) {
		switch {
		case terr.StatusCode == http.StatusNotFound || hasCode(terr, transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode):
			return fmt.Errorf("image %s not found in registry %s; check the name and tag", ref.Name, registry)
		case terr.StatusCode == http.StatusUnauthorized || terr.StatusCode == http.StatusForbidden:
			return fmt.Errorf("pull %s: registry %s denied access (HTTP %d); log in with kist login %s or check the name",
				ref.Name, registry, terr.StatusCode, loginName(registry))
		default:
			return fmt.Errorf("pull %s: registry %s returned HTTP %d: %v", ref.Name, registry, terr.StatusCode, terr)
		}
	}

	var dnsErr *net.DNSError
	var opErr *net.OpError
	switch {
	case errors.As(err, &dnsErr):
		return fmt.Errorf("pull %s: cannot resolve registry host %s; check the registry name and your DNS", ref.Name, dnsErr.Name)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("pull %s: registry %s is unreachable (connection refused); check the address and that the registry is running",
			ref.Name, registry)
	case errors.As(err, &opErr):
		return fmt.Errorf("pull %s: registry %s is unreachable (%v); check the address and that the registry is running",
			ref.Name, registry, opErr.Err)
	}
	return fmt.Errorf("pull %s: %w", ref.Name, err)
}

// loginName spells registry as kist login takes it, with Docker Hub as
// docker.io.
func loginName(registry string) string {
	if registry == name.DefaultRegistry {
		return auth.DockerHub
	}
	return registry
}

func hasCode(terr *transport.Error, codes ...transport.ErrorCode) bool {
	for _, d := range terr.Errors {
		for _, c := range codes {
			if d.Code == c {
				return true
			}
		}
	}
	return false
}
