package stored

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/kist-project/kist/blobimage"
	"github.com/kist-project/kist/store"
	"github.com/kist-project/kist/unpack"
)

// pushLayer returns the blob that a push sends for one layer: the stored
// blob, or a variant of it in opts.Compression. A variant is made once,
// kept in the store and recorded for the layer, so that every later push
// sends the same digest and the registry finds it already present.
func pushLayer(st *store.Store, sl storedLayer, opts PushOptions) (blobimage.Layer, error) {
	have := blobimage.CompressionOf(sl.Layer.Descriptor.MediaType)
	want := opts.Compression
	if want == "" || have == want || have != "" && !opts.ForceCompression {
		return sl.Layer, nil
	}

	lock, err := st.LockLayerVariants(sl.Key)
	if errors.Is(err, store.ErrReadOnly) {
		return pushUnrecorded(sl.Layer, want, opts)
	}
	if err != nil {
		return blobimage.Layer{}, err
	}
	defer lock.Unlock()

	// Another push may have recorded the variant while this one waited.
	info, err := st.Layer(sl.Key)
	if err != nil {
		return blobimage.Layer{}, fmt.Errorf("layer %s: %w", sl.Layer.DiffID, err)
	}
	if l, ok := recordedVariant(st, info, sl.Layer.DiffID, want); ok {
		return l, nil
	}

	if opts.OnCompress != nil {
		opts.OnCompress(sl.Layer.DiffID, want)
	}
	d, err := compressLayer(st, sl.Layer, want)
	if err != nil {
		return blobimage.Layer{}, fmt.Errorf("compress layer %s with %s: %w", sl.Layer.DiffID, want, err)
	}
	if err := st.AddLayerVariant(sl.Key, d); err != nil {
		return blobimage.Layer{}, err
	}
	return blobLayer(st, d, sl.Layer.DiffID), nil
}

// recordedVariant finds a variant of the layer in compression c whose
// blob is still in the store with its recorded size.
func recordedVariant(st *store.Store, info store.LayerInfo, diffID v1.Hash, c blobimage.Compression) (blobimage.Layer, bool) {
	for _, v := range info.Variants {
		if blobimage.CompressionOf(v.MediaType) != c {
			continue
		}
		fi, err := os.Stat(st.BlobPath(v.Digest))
		if err != nil || fi.Size() != v.Size {
			continue
		}
		return blobLayer(st, v, diffID), true
	}
	return blobimage.Layer{}, false
}

// blobLayer describes the stored blob d as a layer with diffID.
func blobLayer(st *store.Store, d v1.Descriptor, diffID v1.Hash) blobimage.Layer {
	path := st.BlobPath(d.Digest)
	return blobimage.Layer{
		Descriptor: d,
		DiffID:     diffID,
		Open:       func() (io.ReadCloser, error) { return os.Open(path) },
	}
}

// compressLayer writes src in compression c into a new blob in the
// store; see transcode.
func compressLayer(st *store.Store, src blobimage.Layer, c blobimage.Compression) (v1.Descriptor, error) {
	mediaType, err := blobimage.LayerMediaType(c, types.OCIManifestSchema1)
	if err != nil {
		return v1.Descriptor{}, err
	}
	blob, err := st.NewDerivedBlobWriter()
	if err != nil {
		return v1.Descriptor{}, err
	}
	if err := transcode(blob, src, c); err != nil {
		blob.Abort()
		return v1.Descriptor{}, err
	}
	if err := blob.Commit(); err != nil {
		return v1.Descriptor{}, err
	}
	return v1.Descriptor{MediaType: mediaType, Size: blob.Size(), Digest: blob.Digest()}, nil
}

// pushUnrecorded compresses src in c for a push from a store that cannot
// be written, so that no variant can be kept. The result goes to a
// temporary file that is unlinked at once and read through its open
// descriptor, so it disappears when kist exits. Each such push compresses
// again.
func pushUnrecorded(src blobimage.Layer, c blobimage.Compression, opts PushOptions) (blobimage.Layer, error) {
	mediaType, err := blobimage.LayerMediaType(c, types.OCIManifestSchema1)
	if err != nil {
		return blobimage.Layer{}, err
	}
	f, err := os.CreateTemp("", "kist-push-")
	if err != nil {
		return blobimage.Layer{}, fmt.Errorf("compress layer %s: %w", src.DiffID, err)
	}
	_ = os.Remove(f.Name())

	if opts.OnCompress != nil {
		opts.OnCompress(src.DiffID, c)
	}
	digest := sha256.New()
	if err := transcode(io.MultiWriter(f, digest), src, c); err != nil {
		f.Close()
		return blobimage.Layer{}, fmt.Errorf("compress layer %s with %s: %w", src.DiffID, c, err)
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		f.Close()
		return blobimage.Layer{}, err
	}
	d := v1.Descriptor{
		MediaType: mediaType,
		Size:      size,
		Digest:    v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(digest.Sum(nil))},
	}
	return blobimage.Layer{
		Descriptor: d,
		DiffID:     src.DiffID,
		Open:       func() (io.ReadCloser, error) { return io.NopCloser(io.NewSectionReader(f, 0, size)), nil },
	}, nil
}

// transcode streams the blob of src through a decompressor, when it is
// compressed, and a compressor for c into w. It checks the source blob's
// digest and the layer's diff ID on the way, so a corrupt stored blob is
// never passed on in another form.
func transcode(w io.Writer, src blobimage.Layer, c blobimage.Compression) error {
	rc, err := src.Open()
	if err != nil {
		return err
	}
	verified := blobimage.Verify(rc, src.Descriptor)
	defer verified.Close()
	uncompressed, err := unpack.Decompress(verified)
	if err != nil {
		return err
	}
	defer uncompressed.Close()

	diffHash := sha256.New()
	if err := encode(w, io.TeeReader(uncompressed, diffHash), c); err != nil {
		return err
	}
	// A compressed source may end before its blob does, as gzip with
	// trailing padding does, and Verify checks the digest only at the end.
	if _, err := io.Copy(io.Discard, verified); err != nil {
		return err
	}
	if got := hex.EncodeToString(diffHash.Sum(nil)); src.DiffID.Algorithm != "sha256" || got != src.DiffID.Hex {
		return fmt.Errorf("%w: blob %s decompresses to content with digest sha256:%s, not diff ID %s",
			store.ErrDigestMismatch, src.Descriptor.Digest, got, src.DiffID)
	}
	return nil
}

// encode compresses r into w with c at the format's default level.
func encode(w io.Writer, r io.Reader, c blobimage.Compression) error {
	var enc io.WriteCloser
	switch c {
	case "gzip":
		enc = gzip.NewWriter(w)
	case "zstd":
		zw, err := zstd.NewWriter(w)
		if err != nil {
			return fmt.Errorf("start zstd encoder: %w", err)
		}
		enc = zw
	default:
		return fmt.Errorf("unsupported compression %q", c)
	}
	if _, err := io.Copy(enc, r); err != nil {
		enc.Close()
		return err
	}
	return enc.Close()
}
