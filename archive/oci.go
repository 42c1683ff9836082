package archive

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/kist-project/kist/blobimage"
	"github.com/kist-project/kist/platforms"
)

// Annotations that name an image in an OCI index. containerd writes the
// full name in its own annotation and the tag alone in the OCI one.
const (
	refNameAnnotation        = "org.opencontainers.image.ref.name"
	containerdNameAnnotation = "io.containerd.image.name"
)

func (a *Archive) ociImages(platform v1.Platform) ([]Entry, error) {
	data, err := a.idx.readDocument("index.json")
	if err != nil {
		return nil, err
	}
	index, err := v1.ParseIndexManifest(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("index.json is invalid: %w", err)
	}
	if len(index.Manifests) == 0 {
		return nil, fmt.Errorf("index.json: %w", errNoImages)
	}

	var entries []Entry
	for _, desc := range index.Manifests {
		img, err := a.ociImage(desc, platform)
		if err != nil {
			return nil, err
		}
		entry := Entry{Image: img, Ref: desc.Annotations[refNameAnnotation]}
		n, err := ociName(desc.Annotations)
		if err != nil {
			return nil, err
		}
		if n != "" {
			entry.Names = []string{n}
		}
		entries = append(entries, entry)
	}
	return entries, nil
}

// ociName returns the canonical name that annotations give an image, or
// "" when they name none. A ref.name that is a tag alone, such as
// "latest", is not a name. An invalid name is an error, as it is in a
// docker-archive, so that a crafted ref.name cannot become an image name
// and a name that fails to load is not dropped silently.
func ociName(annotations map[string]string) (string, error) {
	for _, key := range []string{containerdNameAnnotation, refNameAnnotation} {
		v := annotations[key]
		if !strings.ContainsAny(v, "/:") {
			continue
		}
		canonical, err := canonicalName(v)
		if err != nil {
			return "", fmt.Errorf("annotation %s %q is not a valid image name: %w", key, v, err)
		}
		return canonical, nil
	}
	return "", nil
}

// maxIndexDepth caps how deep indexes may nest in an archive.
const maxIndexDepth = 4

// ociImage returns the image desc names, picking platform from an index.
func (a *Archive) ociImage(desc v1.Descriptor, platform v1.Platform) (v1.Image, error) {
	data, err := a.readBlob(desc)
	if err != nil {
		return nil, err
	}
	switch {
	case desc.MediaType.IsImage():
		return a.ociManifest(data)
	case desc.MediaType.IsIndex():
		img, offered, err := a.findPlatform(desc, data, platform, 0)
		if err != nil {
			return nil, err
		}
		if img != nil {
			return img, nil
		}
		if len(offered) == 0 {
			return nil, fmt.Errorf("index %s lists no image for any platform", desc.Digest)
		}
		return nil, fmt.Errorf("index %s has no image for platform %s (the index offers: %s)", desc.Digest, platforms.Format(platform), offered)
	}
	return nil, fmt.Errorf("descriptor %s has media type %q, which is not an image manifest or index kist reads", desc.Digest, desc.MediaType)
}

// findPlatform walks the index desc, whose content is data, depth first
// and returns the first image for platform, or nil and the platforms it
// saw. An entry without a platform field is matched by its config's os
// and architecture, as containerd does.
func (a *Archive) findPlatform(desc v1.Descriptor, data []byte, platform v1.Platform, depth int) (v1.Image, platforms.Offered, error) {
	index, err := v1.ParseIndexManifest(bytes.NewReader(data))
	if err != nil {
		return nil, nil, fmt.Errorf("index %s is invalid: %w", desc.Digest, err)
	}

	var offered platforms.Offered
	for _, child := range index.Manifests {
		if child.Platform != nil && !platforms.Match(platform, *child.Platform) {
			offered.Add(child)
			continue
		}
		if !child.MediaType.IsIndex() && !child.MediaType.IsImage() {
			continue
		}
		childData, err := a.readBlob(child)
		if err != nil {
			return nil, nil, err
		}

		if child.MediaType.IsIndex() {
			if depth+1 >= maxIndexDepth {
				return nil, nil, fmt.Errorf("index %s nests indexes more than %d deep, which kist does not follow", desc.Digest, maxIndexDepth)
			}
			img, more, err := a.findPlatform(child, childData, platform, depth+1)
			if err != nil || img != nil {
				return img, nil, err
			}
			offered.Extend(more)
			continue
		}

		img, err := a.ociManifest(childData)
		if err != nil {
			return nil, nil, err
		}
		if child.Platform == nil {
			config, err := img.ConfigFile()
			if err != nil {
				return nil, nil, fmt.Errorf("read config of image %s: %w", child.Digest, err)
			}
			child.Platform = config.Platform()
			if child.Platform == nil || !platforms.Match(platform, *child.Platform) {
				offered.Add(child)
				continue
			}
		}
		return img, nil, nil
	}
	return nil, offered, nil
}

// ociManifest returns the image of a verified manifest, after checking
// that every blob it lists is in the archive with the listed size.
func (a *Archive) ociManifest(data []byte) (v1.Image, error) {
	m, err := v1.ParseManifest(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("manifest is invalid: %w", err)
	}
	config, err := a.readBlob(m.Config)
	if err != nil {
		return nil, err
	}
	layers := make([]blobimage.Layer, len(m.Layers))
	parsed, err := v1.ParseConfigFile(bytes.NewReader(config))
	if err != nil {
		return nil, fmt.Errorf("config %s is invalid: %w", m.Config.Digest, err)
	}
	if len(parsed.RootFS.DiffIDs) != len(m.Layers) {
		return nil, fmt.Errorf("manifest lists %d layers but config %s has %d diff IDs", len(m.Layers), m.Config.Digest, len(parsed.RootFS.DiffIDs))
	}
	for i, desc := range m.Layers {
		r, err := a.blob(desc)
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i+1, err)
		}
		layers[i] = blobimage.Layer{
			Descriptor: desc,
			DiffID:     parsed.RootFS.DiffIDs[i],
			Open: func() (io.ReadCloser, error) {
				return io.NopCloser(io.NewSectionReader(r, 0, r.Size())), nil
			},
		}
	}
	return blobimage.FromManifest(data, config, layers)
}

// blob returns the content of the blob desc names, after checking its
// size; the digest is checked as it is read.
func (a *Archive) blob(desc v1.Descriptor) (*io.SectionReader, error) {
	if desc.Digest.Algorithm != "sha256" || len(desc.Digest.Hex) != 64 {
		return nil, fmt.Errorf("blob %s: only sha256 digests are supported", desc.Digest)
	}
	file := path.Join("blobs", desc.Digest.Algorithm, desc.Digest.Hex)
	r, err := a.idx.open(file)
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", desc.Digest, err)
	}
	if r.Size() != desc.Size {
		return nil, fmt.Errorf("blob %s has %d bytes, but its descriptor lists %d", desc.Digest, r.Size(), desc.Size)
	}
	return r, nil
}

// readBlob reads a JSON blob and checks its digest.
func (a *Archive) readBlob(desc v1.Descriptor) ([]byte, error) {
	r, err := a.blob(desc)
	if err != nil {
		return nil, err
	}
	if r.Size() > maxDocument {
		return nil, fmt.Errorf("blob %s is %d bytes, more than the limit of %d for a JSON document", desc.Digest, r.Size(), maxDocument)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", desc.Digest, err)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != desc.Digest.Hex {
		return nil, fmt.Errorf("blob %s: %w: content has digest sha256:%s", desc.Digest, blobimage.ErrMismatch, got)
	}
	return data, nil
}
