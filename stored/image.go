// Package stored reads an image back out of the store as a
// go-containerregistry v1.Image, for save and push.
package stored

import (
	"bytes"
	"fmt"
	"io"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/kist-project/kist/blobimage"
	"github.com/kist-project/kist/store"
)

// Image returns the stored image rec with a manifest of format, which is
// types.DockerManifestSchema2, types.OCIManifestSchema1 or "" to keep the
// manifest's own format.
//
// Each layer is served from the blob it was unpacked from, because that
// is the blob whose diff ID kist checked. A pull does not download a
// layer that is already unpacked, so the blob that the image's manifest
// names may be missing, or it may hold the layer with another
// compression. When a layer's blob differs from the manifest's, or the
// format changes, Image writes a new manifest, and the image then has
// another manifest digest than the one it was pulled with.
//
// The caller holds st.UseLayers while it reads the image, so garbage
// collection cannot remove a blob in the meantime.
func Image(st *store.Store, rec store.Image, format types.MediaType) (v1.Image, error) {
	name := rec.ID.Hex[:12]
	manifest, err := st.ReadBlob(rec.Manifest)
	if err != nil {
		return nil, fmt.Errorf("read manifest of image %s: %w; pull the image again", name, err)
	}
	config, err := st.ReadBlob(rec.ID)
	if err != nil {
		return nil, fmt.Errorf("read config of image %s: %w; pull the image again", name, err)
	}
	parsed, err := v1.ParseManifest(bytes.NewReader(manifest))
	if err != nil {
		return nil, fmt.Errorf("read manifest of image %s: %w", name, err)
	}
	if len(parsed.Layers) != len(rec.Layers) {
		return nil, fmt.Errorf("image %s: its manifest lists %d layers but the store records %d", name, len(parsed.Layers), len(rec.Layers))
	}

	layers, err := storedLayers(st, rec)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", name, err)
	}

	if format == "" {
		format = parsed.MediaType
	}
	same := format == parsed.MediaType
	for i, l := range layers {
		if l.Descriptor.Digest != parsed.Layers[i].Digest {
			same = false
		}
	}
	if same {
		return blobimage.FromManifest(manifest, config, layers)
	}

	return rewrite(name, config, layers, format)
}

// rewrite builds a new manifest of format for layers. Keeping a Docker
// schema 2 manifest is impossible when a layer is zstd-compressed, so
// the image then becomes an OCI image unless the caller demanded schema 2.
func rewrite(name string, config []byte, layers []blobimage.Layer, format types.MediaType) (v1.Image, error) {
	for i := range layers {
		d := &layers[i].Descriptor
		mt, err := blobimage.MediaTypeFor(d.MediaType, format)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", name, err)
		}
		d.MediaType = mt
	}
	return blobimage.New(config, layers, format)
}

// storedLayers describes the blob each layer of rec was unpacked from.
func storedLayers(st *store.Store, rec store.Image) ([]blobimage.Layer, error) {
	keys := st.LayerKeys(rec.Layers)
	layers := make([]blobimage.Layer, len(keys))
	for i, key := range keys {
		info, err := st.Layer(key)
		if err != nil {
			return nil, fmt.Errorf("layer %s: %w; pull the image again", rec.Layers[i], err)
		}
		path := st.BlobPath(info.Digest)
		fi, err := os.Stat(path)
		if err != nil {
			// A pull reuses an unpacked layer without its blob, so pulling
			// again restores the blob only once no container keeps the layer.
			return nil, fmt.Errorf("blob %s of layer %s is missing from the store; "+
				"remove the image and the containers that use the layer, then pull the image again: %w",
				info.Digest, rec.Layers[i], err)
		}
		// TODO: compress plain tar blobs, which a docker-archive load
		// stores, before a push; they are sent uncompressed now.
		mt := types.MediaType(info.MediaType)
		if mt == "" {
			mt = types.DockerLayer
		}
		layers[i] = blobimage.Layer{
			Descriptor: v1.Descriptor{Digest: info.Digest, Size: fi.Size(), MediaType: mt},
			DiffID:     rec.Layers[i],
			Open:       func() (io.ReadCloser, error) { return os.Open(path) },
		}
	}
	return layers, nil
}
