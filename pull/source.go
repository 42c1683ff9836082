package pull

import (
	"context"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/kist-project/kist/platforms"
)

// HostPlatform returns the platform this kist runs on, which picks the
// image from a multi-platform index unless the user names another.
func HostPlatform() v1.Platform {
	return platforms.Host()
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

// indexedImage is an image picked from a multi-platform index. Docker
// records the index digest in RepoDigests, because that is the digest a
// user pulls and copies.
type indexedImage struct {
	v1.Image
	index v1.Hash
}

// indexDigest returns the digest of the index img was picked from, if
// any.
func indexDigest(img v1.Image) (v1.Hash, bool) {
	if picked, ok := img.(indexedImage); ok {
		return picked.index, true
	}
	return v1.Hash{}, false
}

// maxIndexDepth caps how deep indexes may nest, so that a registry
// cannot keep kist following index entries.
const maxIndexDepth = 4

// pickPlatform returns the image for platform from idx and the indexes
// nested in it, and names the platforms on offer when none matches.
func pickPlatform(refName string, idx v1.ImageIndex, platform v1.Platform) (v1.Image, error) {
	img, offered, err := findPlatform(refName, idx, platform, 0)
	if err != nil {
		return nil, err
	}
	if img == nil {
		return nil, noPlatformError(refName, platform, offered)
	}

	digest, err := idx.Digest()
	if err != nil {
		return nil, fmt.Errorf("read index of %s: %w", refName, err)
	}
	return indexedImage{Image: img, index: digest}, nil
}

// findPlatform walks idx depth first and returns the first image for
// platform, or nil and the platforms it saw. An entry without a platform
// field is matched by its config's os and architecture, as containerd
// does.
func findPlatform(refName string, idx v1.ImageIndex, platform v1.Platform, depth int) (v1.Image, platforms.Offered, error) {
	manifest, err := idx.IndexManifest()
	if err != nil {
		return nil, nil, fmt.Errorf("read index of %s: %w", refName, err)
	}

	var offered platforms.Offered
	for _, m := range manifest.Manifests {
		if m.Platform != nil && !platforms.Match(platform, *m.Platform) {
			offered.Add(m)
			continue
		}
		switch {
		case m.MediaType.IsIndex():
			if depth+1 >= maxIndexDepth {
				return nil, nil, fmt.Errorf("image %s nests indexes more than %d deep, which kist does not follow", refName, maxIndexDepth)
			}
			child, err := idx.ImageIndex(m.Digest)
			if err != nil {
				return nil, nil, fmt.Errorf("read index %s of %s: %w", m.Digest, refName, err)
			}
			img, childOffered, err := findPlatform(refName, child, platform, depth+1)
			if err != nil || img != nil {
				return img, nil, err
			}
			offered.Extend(childOffered)
		case m.MediaType.IsImage():
			img, err := idx.Image(m.Digest)
			if err != nil {
				return nil, nil, fmt.Errorf("read image %s of %s: %w", m.Digest, refName, err)
			}
			if m.Platform == nil {
				config, err := img.ConfigFile()
				if err != nil {
					return nil, nil, fmt.Errorf("read config of image %s of %s: %w", m.Digest, refName, err)
				}
				m.Platform = config.Platform()
				if m.Platform == nil || !platforms.Match(platform, *m.Platform) {
					offered.Add(m)
					continue
				}
			}
			return img, nil, nil
		}
	}
	return nil, offered, nil
}

// noPlatformError describes an index without an image for platform.
func noPlatformError(refName string, platform v1.Platform, offered platforms.Offered) error {
	if len(offered) == 0 {
		return fmt.Errorf("image %s is an index that lists no image for any platform; check the name and tag", refName)
	}
	return fmt.Errorf("image %s has no image for platform %s (the index offers: %s); pass --platform with one of those",
		refName, platforms.Format(platform), offered)
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
