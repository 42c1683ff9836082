package pull

import (
	"context"
	"fmt"
	"runtime"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
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
// when it names an index, and the registry or mirror that served it.
func resolveImage(ctx context.Context, ref Reference, opts Options) (v1.Image, sender, error) {
	if ref.LayoutPath != "" {
		img, err := layoutImage(ref, opts.Platform)
		return img, sender{}, err
	}

	return remoteImage(ctx, ref, opts)
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
