package testimage

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"

	"github.com/klauspost/compress/zstd"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Compression is the encoding of a layer blob.
type Compression int

// The layer encodings that registries and the OCI image spec accept.
const (
	Gzip Compression = iota
	Zstd
	Uncompressed
)

// String returns the name used in media types and test names.
func (c Compression) String() string {
	switch c {
	case Gzip:
		return "gzip"
	case Zstd:
		return "zstd"
	case Uncompressed:
		return "uncompressed"
	}
	return fmt.Sprintf("Compression(%d)", int(c))
}

// Format is a family of manifest, config and layer media types.
type Format int

// The two manifest formats that registries serve today.
const (
	// Docker is the Docker image manifest v2, schema 2.
	Docker Format = iota
	// OCI is the OCI image manifest.
	OCI
)

// String returns "docker" or "oci".
func (f Format) String() string {
	if f == OCI {
		return "oci"
	}
	return "docker"
}

// LayerOptions selects how a layer blob is encoded and where it is stored.
type LayerOptions struct {
	Compression Compression
	// Format picks the layer media type family.
	Format Format
	// Dir is the directory for the blob file. Empty means os.TempDir().
	// The caller removes the files when it no longer needs the layers.
	Dir string
}

// layerMediaType returns the media type of a layer with format and
// compression. Docker's schema 2 defines no zstd layer type.
func layerMediaType(f Format, c Compression) (types.MediaType, error) {
	switch {
	case f == Docker && c == Gzip:
		return types.DockerLayer, nil
	case f == Docker && c == Uncompressed:
		return types.DockerUncompressedLayer, nil
	case f == OCI && c == Gzip:
		return types.OCILayer, nil
	case f == OCI && c == Zstd:
		return types.OCILayerZStd, nil
	case f == OCI && c == Uncompressed:
		return types.OCIUncompressedLayer, nil
	}
	return "", fmt.Errorf("no %s layer media type for %s compression", f, c)
}

// fileLayer is a layer whose blob, compressed as stored in a registry,
// lives in a file.
type fileLayer struct {
	path        string
	digest      v1.Hash
	diffID      v1.Hash
	size        int64
	mediaType   types.MediaType
	compression Compression
}

var _ v1.Layer = (*fileLayer)(nil)

// Digest returns the SHA-256 of the blob as stored.
func (l *fileLayer) Digest() (v1.Hash, error) { return l.digest, nil }

// DiffID returns the SHA-256 of the uncompressed tar stream.
func (l *fileLayer) DiffID() (v1.Hash, error) { return l.diffID, nil }

// Size returns the size of the blob as stored, in bytes.
func (l *fileLayer) Size() (int64, error) { return l.size, nil }

// MediaType returns the layer's media type.
func (l *fileLayer) MediaType() (types.MediaType, error) { return l.mediaType, nil }

// Compressed opens the blob as stored.
func (l *fileLayer) Compressed() (io.ReadCloser, error) { return os.Open(l.path) }

// Uncompressed opens the blob and decodes it to the tar stream.
func (l *fileLayer) Uncompressed() (io.ReadCloser, error) {
	f, err := os.Open(l.path)
	if err != nil {
		return nil, err
	}
	switch l.compression {
	case Gzip:
		zr, err := gzip.NewReader(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("read gzip layer %s: %w", l.path, err)
		}
		return decodedReader{Reader: zr, closers: []io.Closer{zr, f}}, nil
	case Zstd:
		zr, err := zstd.NewReader(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("read zstd layer %s: %w", l.path, err)
		}
		rc := zr.IOReadCloser()
		return decodedReader{Reader: rc, closers: []io.Closer{rc, f}}, nil
	}
	return f, nil
}

// decodedReader reads through a decoder and closes it and the file below.
type decodedReader struct {
	io.Reader
	closers []io.Closer
}

func (d decodedReader) Close() error {
	var first error
	for _, c := range d.closers {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// writeLayer runs write to fill a tar stream, encodes it as opts selects
// into a new file and returns the layer with its digest and diff ID.
func writeLayer(opts LayerOptions, write func(*tar.Writer) error) (_ v1.Layer, err error) {
	mediaType, err := layerMediaType(opts.Format, opts.Compression)
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(opts.Dir, "layer-*."+opts.Compression.String())
	if err != nil {
		return nil, fmt.Errorf("create layer file: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()

	blob := &countingHash{Hash: sha256.New()}
	encoder, err := newEncoder(io.MultiWriter(f, blob), opts.Compression)
	if err != nil {
		return nil, err
	}
	tarHash := sha256.New()
	tw := tar.NewWriter(io.MultiWriter(encoder, tarHash))
	if err := write(tw); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("finish tar stream: %w", err)
	}
	if err := encoder.Close(); err != nil {
		return nil, fmt.Errorf("finish %s stream: %w", opts.Compression, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("close layer file: %w", err)
	}

	return &fileLayer{
		path:        f.Name(),
		digest:      sha256Hash(blob.Hash),
		diffID:      sha256Hash(tarHash),
		size:        blob.n,
		mediaType:   mediaType,
		compression: opts.Compression,
	}, nil
}

// newEncoder returns a writer that encodes to w. Both compressors run at
// their fastest level, because test layers are written once and read on
// loopback.
func newEncoder(w io.Writer, c Compression) (io.WriteCloser, error) {
	switch c {
	case Gzip:
		return gzip.NewWriterLevel(w, gzip.BestSpeed)
	case Zstd:
		return zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedFastest))
	case Uncompressed:
		return nopWriteCloser{w}, nil
	}
	return nil, fmt.Errorf("unknown compression %s", c)
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

// countingHash hashes what is written and counts the bytes.
type countingHash struct {
	hash.Hash
	n int64
}

func (c *countingHash) Write(p []byte) (int, error) {
	n, err := c.Hash.Write(p)
	c.n += int64(n)
	return n, err
}

func sha256Hash(h hash.Hash) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}
}
