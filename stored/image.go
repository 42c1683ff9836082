// Package stored reads an image back out of the store as a
// go-containerregistry v1.Image, for save and push.
package stored

import (
	"bytes"
	"fmt"
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
	return PushImage(st, rec, PushOptions{Format: format})
}

// PushOptions selects how PushImage serves a stored image.
type PushOptions struct {
	// Format is the manifest format, as for Image.
	Format types.MediaType
	// Compression is the compression, "gzip" or "zstd", of the blob sent
	// for a layer that is stored as plain tar. "" sends it as stored.
	Compression blobimage.Compression
	// ForceCompression recompresses a layer that is stored in another
	// compression into Compression too.
	ForceCompression bool
	// OnCompress, if set, is called before a layer is compressed, which
	// reads the whole layer and may take a while.
	OnCompress func(diffID v1.Hash, c blobimage.Compression)
}

// PushImage returns the stored image rec as Image does, with the layers
// that opts selects compressed. A compressed layer is written to the
// store before PushImage returns, because the manifest needs its digest
// and size, and it is recorded for the layer, so a second push of the
// image sends the same manifest. The config and its diff IDs stay as they
// are. Without a demanded format, an image with a zstd layer gets an OCI
// manifest, because the Docker schema 2 format has no zstd media type.
func PushImage(st *store.Store, rec store.Image, opts PushOptions) (v1.Image, error) {
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

	layers, err := servedLayers(st, rec, opts)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", name, err)
	}

	format := opts.Format
	if format == "" {
		format = parsed.MediaType
		if hasZstd(layers) {
			format = types.OCIManifestSchema1
		}
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

func hasZstd(layers []blobimage.Layer) bool {
	for _, l := range layers {
		if blobimage.CompressionOf(l.Descriptor.MediaType) == "zstd" {
			return true
		}
	}
	return false
}

// rewrite builds a new manifest of format for layers. A Docker schema 2
// manifest cannot list a zstd layer, so rewrite returns an error then.
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

// servedLayers describes the blob that is served for each layer of rec.
func servedLayers(st *store.Store, rec store.Image, opts PushOptions) ([]blobimage.Layer, error) {
	stored, err := storedLayers(st, rec)
	if err != nil {
		return nil, err
	}
	layers := make([]blobimage.Layer, len(stored))
	for i, sl := range stored {
		if layers[i], err = pushLayer(st, sl, opts); err != nil {
			return nil, err
		}
	}
	return layers, nil
}

// storedLayer is the blob that one layer was unpacked from.
type storedLayer struct {
	Layer blobimage.Layer
	// Key names the layer's directory in the store.
	Key v1.Hash
}

// storedLayers describes the blob each layer of rec was unpacked from.
func storedLayers(st *store.Store, rec store.Image) ([]storedLayer, error) {
	keys := st.LayerKeys(rec.Layers)
	layers := make([]storedLayer, len(keys))
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
		mt := types.MediaType(info.MediaType)
		if mt == "" {
			mt = types.DockerLayer
		}
		d := v1.Descriptor{Digest: info.Digest, Size: fi.Size(), MediaType: mt}
		layers[i] = storedLayer{Layer: blobLayer(st, d, rec.Layers[i]), Key: key}
	}
	return layers, nil
}
