package pull

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strings"
	"syscall"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// HostPlatform returns the platform this kist runs on, which picks the
// image from a multi-platform index unless the user names another.
func HostPlatform() v1.Platform {
	p := v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
	if runtime.GOARCH == "arm64" {
		p.Variant = "v8"
	}
	return p
}

// resolveImage returns the image that ref names, resolved to platform
// when it names an index.
func resolveImage(ctx context.Context, ref Reference, opts Options) (v1.Image, error) {
	if ref.LayoutPath != "" {
		return layoutImage(ref, opts.Platform)
	}

	remoteOpts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(authn.DefaultKeychain),
		remote.WithTransport(newTransport(opts.Insecure)),
		remote.WithPlatform(opts.Platform),
	}
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

// imageFromIndex picks the platform's image from an index and names the
// platforms on offer when none matches.
func imageFromIndex(ref Reference, desc *remote.Descriptor, platform v1.Platform) (v1.Image, error) {
	idx, err := desc.ImageIndex()
	if err != nil {
		return nil, registryError(ref, err)
	}
	return pickPlatform(ref.Name, idx, platform)
}

func pickPlatform(refName string, idx v1.ImageIndex, platform v1.Platform) (v1.Image, error) {
	manifest, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("read index of %s: %w", refName, err)
	}
	var offered []string
	for _, m := range manifest.Manifests {
		if m.Platform == nil {
			continue
		}
		offered = append(offered, m.Platform.String())
		if m.Platform.Satisfies(platform) && m.MediaType.IsImage() {
			img, err := idx.Image(m.Digest)
			if err != nil {
				return nil, fmt.Errorf("read image %s of %s: %w", m.Digest, refName, err)
			}
			return img, nil
		}
	}
	return nil, fmt.Errorf("image %s has no variant for platform %s (it has: %s); pass --platform with one of those",
		refName, platform.String(), strings.Join(offered, ", "))
}

// layoutImage reads an image from an OCI image layout: the manifest whose
// org.opencontainers.image.ref.name annotation equals the tag, or the only
// manifest when no tag is given.
func layoutImage(ref Reference, platform v1.Platform) (v1.Image, error) {
	idx, err := layout.ImageIndexFromPath(ref.LayoutPath)
	if err != nil {
		return nil, fmt.Errorf("open OCI layout %s: %w; check the path, it must be a directory with index.json and oci-layout", ref.LayoutPath, err)
	}
	manifest, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("read OCI layout %s: %w", ref.LayoutPath, err)
	}

	var chosen *v1.Descriptor
	for i, m := range manifest.Manifests {
		if ref.LayoutTag == "" && len(manifest.Manifests) == 1 ||
			ref.LayoutTag != "" && m.Annotations["org.opencontainers.image.ref.name"] == ref.LayoutTag {
			chosen = &manifest.Manifests[i]
			break
		}
	}
	if chosen == nil {
		return nil, fmt.Errorf("OCI layout %s has no image tagged %q among its %d manifests; use oci:PATH:TAG",
			ref.LayoutPath, ref.LayoutTag, len(manifest.Manifests))
	}
	if chosen.MediaType.IsIndex() {
		child, err := idx.ImageIndex(chosen.Digest)
		if err != nil {
			return nil, fmt.Errorf("read OCI layout %s: %w", ref.LayoutPath, err)
		}
		return pickPlatform(ref.Name, child, platform)
	}
	img, err := idx.Image(chosen.Digest)
	if err != nil {
		return nil, fmt.Errorf("read OCI layout %s: %w", ref.LayoutPath, err)
	}
	return img, nil
}

// registryError turns a registry failure into one line that names the
// image or registry and what to do about it.
func registryError(ref Reference, err error) error {
	registry := ref.Remote.Context().RegistryStr()

	var terr *transport.Error
	if errors.As(err, &terr) {
		switch {
		case terr.StatusCode == http.StatusNotFound || hasCode(terr, transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode):
			return fmt.Errorf("image %s not found in registry %s; check the name and tag", ref.Name, registry)
		case terr.StatusCode == http.StatusUnauthorized || terr.StatusCode == http.StatusForbidden:
			return fmt.Errorf("pull %s: registry %s denied access (HTTP %d); log in with docker login or check the name",
				ref.Name, registry, terr.StatusCode)
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
