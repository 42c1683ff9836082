package blobimage

import (
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Compression is the compression format of a layer blob: "gzip", "zstd"
// or "" for a plain tar.
type Compression string

// CompressionOf returns the compression a layer media type names.
func CompressionOf(mt types.MediaType) Compression {
	s := string(mt)
	switch {
	case strings.HasSuffix(s, "gzip"):
		return "gzip"
	case strings.HasSuffix(s, "zstd"):
		return "zstd"
	}
	return ""
}

// MediaTypeFor returns the layer media type that a manifest of format
// manifestType uses for a blob of media type mt. The Docker schema 2
// format has no media type for zstd layers.
func MediaTypeFor(mt, manifestType types.MediaType) (types.MediaType, error) {
	return LayerMediaType(CompressionOf(mt), manifestType)
}

// LayerMediaType returns the layer media type for compression c in a
// manifest of format manifestType.
func LayerMediaType(c Compression, manifestType types.MediaType) (types.MediaType, error) {
	if manifestType == types.OCIManifestSchema1 {
		return ociLayerTypes[c], nil
	}
	if c == "zstd" {
		return "", fmt.Errorf("a zstd layer cannot be listed in a Docker schema 2 manifest; use the OCI format")
	}
	return dockerLayerTypes[c], nil
}

var ociLayerTypes = map[Compression]types.MediaType{
	"gzip": types.OCILayer, "zstd": types.OCILayerZStd, "": types.OCIUncompressedLayer,
}

var dockerLayerTypes = map[Compression]types.MediaType{
	"gzip": types.DockerLayer, "": types.DockerUncompressedLayer,
}
