package blobimage

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Layer is one layer blob of an image.
type Layer struct {
	// Descriptor gives the blob's digest, size and media type.
	Descriptor v1.Descriptor
	// DiffID is the digest of the uncompressed layer tar.
	DiffID v1.Hash
	// Open returns the blob's content; the caller closes it.
	Open func() (io.ReadCloser, error)
}

// New returns the image with the given config and layers, bottom first,
// under a new manifest of mediaType: types.DockerManifestSchema2 or
// types.OCIManifestSchema1. The layers' media types must fit that
// format; see MediaTypeFor.
func New(config []byte, layers []Layer, mediaType types.MediaType) (v1.Image, error) {
	manifest, err := buildManifest(config, layers, mediaType)
	if err != nil {
		return nil, err
	}
	return FromManifest(manifest, config, layers)
}

// FromManifest returns the image with a given raw manifest. The manifest
// must list exactly the descriptors of layers, in order.
func FromManifest(manifest, config []byte, layers []Layer) (v1.Image, error) {
	parsed, err := v1.ParseManifest(bytes.NewReader(manifest))
	if err != nil {
		return nil, fmt.Errorf("parse manifest: %w", err)
	}
	if len(parsed.Layers) != len(layers) {
		return nil, fmt.Errorf("manifest lists %d layers, not %d", len(parsed.Layers), len(layers))
	}
	core := &core{manifest: manifest, config: config, mediaType: parsed.MediaType, byDigest: map[v1.Hash]Layer{}}
	for i, l := range layers {
		if parsed.Layers[i].Digest != l.Descriptor.Digest {
			return nil, fmt.Errorf("manifest lists layer %d as %s, not %s", i+1, parsed.Layers[i].Digest, l.Descriptor.Digest)
		}
		core.byDigest[l.Descriptor.Digest] = l
	}
	if core.mediaType == "" {
		core.mediaType = types.DockerManifestSchema2
	}
	return partial.CompressedToImage(core)
}

// buildManifest writes a manifest for config and layers.
func buildManifest(config []byte, layers []Layer, mediaType types.MediaType) ([]byte, error) {
	configDigest, configSize, err := v1.SHA256(bytes.NewReader(config))
	if err != nil {
		return nil, err
	}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     mediaType,
		Config:        v1.Descriptor{MediaType: types.DockerConfigJSON, Size: configSize, Digest: configDigest},
	}
	if mediaType == types.OCIManifestSchema1 {
		m.Config.MediaType = types.OCIConfigJSON
	}
	for _, l := range layers {
		d := l.Descriptor
		want, err := MediaTypeFor(d.MediaType, mediaType)
		if err != nil {
			return nil, err
		}
		if d.MediaType != want {
			return nil, fmt.Errorf("layer %s has media type %s, which a %s manifest cannot list", d.Digest, d.MediaType, mediaType)
		}
		m.Layers = append(m.Layers, v1.Descriptor{MediaType: d.MediaType, Size: d.Size, Digest: d.Digest, Annotations: d.Annotations})
	}
	return json.Marshal(m)
}

// core implements partial.CompressedImageCore.
type core struct {
	manifest  []byte
	config    []byte
	mediaType types.MediaType
	byDigest  map[v1.Hash]Layer
}

func (c *core) RawConfigFile() ([]byte, error)      { return c.config, nil }
func (c *core) MediaType() (types.MediaType, error) { return c.mediaType, nil }
func (c *core) RawManifest() ([]byte, error)        { return c.manifest, nil }
func (c *core) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	l, ok := c.byDigest[h]
	if !ok {
		return nil, fmt.Errorf("image has no layer blob %s", h)
	}
	return &layer{l}, nil
}

// layer implements partial.CompressedLayer and partial.WithDiffID.
type layer struct{ Layer }

func (l *layer) Digest() (v1.Hash, error)            { return l.Descriptor.Digest, nil }
func (l *layer) DiffID() (v1.Hash, error)            { return l.Layer.DiffID, nil }
func (l *layer) Size() (int64, error)                { return l.Descriptor.Size, nil }
func (l *layer) MediaType() (types.MediaType, error) { return l.Descriptor.MediaType, nil }

func (l *layer) Compressed() (io.ReadCloser, error) {
	rc, err := l.Open()
	if err != nil {
		return nil, err
	}
	return Verify(rc, l.Descriptor), nil
}

var (
	_ partial.CompressedImageCore = (*core)(nil)
	_ partial.WithDiffID          = (*layer)(nil)
)
