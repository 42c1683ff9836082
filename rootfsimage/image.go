// Package rootfsimage turns a tarball of a root filesystem into a
// one-layer image, as docker import does.
package rootfsimage

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"

	"github.com/kist-project/kist/blobimage"
	"github.com/kist-project/kist/unpack"
)

// ErrEmpty is returned for an input that holds no data once
// decompressed, which docker import rejects too.
var ErrEmpty = errors.New("the input is empty, but kist import needs a tarball of a root filesystem, such as one that tar -C DIR -c . writes")

// Options describe the image to build.
type Options struct {
	// Changes are Dockerfile instructions applied to the config, such as
	// "CMD /bin/sh" or `ENV A=1`; see Apply.
	Changes []string
	// Message is the comment of the image's history entry.
	Message string
	// Platform is the image's os and architecture.
	Platform v1.Platform
	// Created is the image's creation time.
	Created time.Time
}

// Build reads a plain, gzip or zstd tar of a root filesystem from r and
// returns a one-layer OCI image of it. The layer is compressed with gzip
// into a file in dir, which must outlive the use of the image.
func Build(r io.Reader, dir string, opts Options) (v1.Image, error) {
	var cfg v1.Config
	for _, change := range opts.Changes {
		if err := Apply(&cfg, change); err != nil {
			return nil, err
		}
	}

	blob := filepath.Join(dir, "layer.tar.gz")
	desc, diffID, err := compressLayer(r, blob)
	if err != nil {
		return nil, err
	}

	config := v1.ConfigFile{
		Architecture: opts.Platform.Architecture,
		OS:           opts.Platform.OS,
		Variant:      opts.Platform.Variant,
		Created:      v1.Time{Time: opts.Created.UTC()},
		Config:       cfg,
		RootFS:       v1.RootFS{Type: "layers", DiffIDs: []v1.Hash{diffID}},
		History:      []v1.History{{Created: v1.Time{Time: opts.Created.UTC()}, CreatedBy: "kist import", Comment: opts.Message}},
	}
	raw, err := json.Marshal(config)
	if err != nil {
		return nil, err
	}
	layer := blobimage.Layer{
		Descriptor: desc,
		DiffID:     diffID,
		Open:       func() (io.ReadCloser, error) { return os.Open(blob) },
	}
	return blobimage.New(raw, []blobimage.Layer{layer}, types.OCIManifestSchema1)
}

// compressLayer decompresses r and writes it to file with gzip, hashing
// both forms on the way, so one pass yields the diff ID and the blob.
func compressLayer(r io.Reader, file string) (v1.Descriptor, v1.Hash, error) {
	uncompressed, err := unpack.Decompress(r)
	var unsupported *unpack.UnsupportedCompressionError
	if errors.As(err, &unsupported) {
		return v1.Descriptor{}, v1.Hash{}, fmt.Errorf("read rootfs tarball: it is compressed with %s, but kist import reads only plain, gzip and zstd tarballs; "+
			"decompress it first, for example with %s -dc FILE | kist import - NAME", unsupported.Format, unsupported.Format)
	}
	if err != nil {
		return v1.Descriptor{}, v1.Hash{}, fmt.Errorf("read rootfs tarball: %w", err)
	}
	defer uncompressed.Close()

	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return v1.Descriptor{}, v1.Hash{}, err
	}
	defer f.Close()
	blobHash := sha256.New()
	counter := &countingWriter{w: io.MultiWriter(f, blobHash)}
	gz := gzip.NewWriter(counter)
	diffHash := sha256.New()
	n, err := io.Copy(io.MultiWriter(gz, diffHash), uncompressed)
	if err != nil {
		return v1.Descriptor{}, v1.Hash{}, fmt.Errorf("read rootfs tarball: %w", err)
	}
	if n == 0 {
		return v1.Descriptor{}, v1.Hash{}, ErrEmpty
	}
	if err := gz.Close(); err != nil {
		return v1.Descriptor{}, v1.Hash{}, err
	}
	if err := f.Close(); err != nil {
		return v1.Descriptor{}, v1.Hash{}, err
	}
	desc := v1.Descriptor{MediaType: types.OCILayer, Size: counter.n, Digest: sha256Hash(blobHash)}
	return desc, sha256Hash(diffHash), nil
}

func sha256Hash(h hash.Hash) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
