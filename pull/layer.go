package pull

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/sirupsen/logrus"

	"github.com/kist-project/kist/store"
	"github.com/kist-project/kist/unpack"
)

// ensureLayer unpacks one layer unless it is already in the store. The
// caller holds the layer's lock, so parallel pulls of the same layer wait
// for the first. waitLower returns the diff directories of the layers
// below once they are complete.
func ensureLayer(ctx context.Context, st *store.Store, layer v1.Layer, diffID, chainID v1.Hash, waitLower func(context.Context) ([]string, error), opts Options) (store.LayerInfo, error) {
	if info, ok := presentLayer(st, diffID, chainID); ok {
		opts.OnLayer(LayerEvent{DiffID: diffID, Present: true, Size: info.Size})
		return info, nil
	}

	opts.OnFetch(diffID)
	start := time.Now()
	info, err := unpackLayer(ctx, st, layer, diffID, chainID, waitLower, opts)
	if err != nil {
		return store.LayerInfo{}, err
	}
	opts.OnLayer(LayerEvent{DiffID: diffID, Size: info.Size, Duration: time.Since(start)})
	return info, nil
}

// presentLayer finds an unpacked layer: under its diff ID when its
// content is self-contained, or under its chain ID when it copied content
// from the layers below.
func presentLayer(st *store.Store, diffID, chainID v1.Hash) (store.LayerInfo, bool) {
	if info, err := st.Layer(diffID); err == nil && !info.DependsOnLower {
		return info, true
	}
	if info, err := st.Layer(chainID); err == nil {
		return info, true
	}
	return store.LayerInfo{}, false
}

// unpackLayer streams a layer blob once: into the blob store, through the
// decompressor and the diff ID hash, into the unpacker. Nothing becomes
// visible in the store unless both digests match.
func unpackLayer(ctx context.Context, st *store.Store, layer v1.Layer, diffID, chainID v1.Hash, waitLower func(context.Context) ([]string, error), opts Options) (info store.LayerInfo, err error) {
	digest, err := layer.Digest()
	if err != nil {
		return info, fmt.Errorf("layer %s: %w", diffID, err)
	}
	mediaType, err := layer.MediaType()
	if err != nil {
		return info, fmt.Errorf("layer %s: %w", digest, err)
	}
	logrus.Debugf("unpack layer %s (blob %s, %s)", diffID, digest, mediaType)

	compressed, err := layer.Compressed()
	if err != nil {
		return info, downloadFailure(err, fmt.Errorf("download layer %s: %w", digest, mismatch("layer "+digest.String(), err)))
	}
	compressed = newProgressReader(compressed, layer, diffID, opts.OnProgress)
	blob, err := st.NewBlobWriter(digest)
	if err != nil {
		compressed.Close()
		return info, err
	}
	tmp, err := st.TempDir("layer-" + diffID.Hex[:12])
	if err != nil {
		compressed.Close()
		blob.Abort()
		return info, err
	}
	defer func() {
		if err != nil {
			blob.Abort()
			_ = tmp.Remove()
		}
	}()

	stats, err := extract(ctx, compressed, blob, filepath.Join(tmp.Path, "diff"), diffID, waitLower)
	if err != nil {
		return info, downloadFailure(err, fmt.Errorf("unpack layer %s: %w", digest, mismatch("layer "+digest.String(), err)))
	}
	if err := blob.Commit(); err != nil {
		return info, fmt.Errorf("download layer %s: %w", digest, err)
	}

	info = store.LayerInfo{
		DiffID: diffID, Digest: digest, MediaType: string(mediaType),
		Size: stats.Bytes, Unpacked: time.Now().UTC(), OpaqueRoot: stats.OpaqueRoot,
		DependsOnLower: stats.LowerCopies > 0, Key: diffID,
	}
	if info.DependsOnLower {
		// The copies came from this image's lower layers; another image
		// with the same layer over other layers must get its own.
		info.Key = chainID
	}
	if err := st.CommitLayer(tmp, info); err != nil {
		return info, err
	}
	logrus.Debugf("committed layer %s as %s", diffID, info.Key)
	warnSkippedDevices(diffID, stats.SkippedDevices)
	return info, nil
}

// downloadFailure returns the downloadError or resumeError in err, which
// names the blob and how far the download got, in place of the chain of
// readers and requests that wrapped it. Any other error is returned as
// wrapped.
func downloadFailure(err, wrapped error) error {
	var download *downloadError
	if errors.As(err, &download) {
		return download
	}
	var resume *resumeError
	if errors.As(err, &resume) {
		return resume
	}
	return wrapped
}

// warnSkippedDevices names at most ten of the device nodes that a layer
// lacks because mknod rejected them.
func warnSkippedDevices(diffID v1.Hash, devices []string) {
	if len(devices) == 0 {
		return
	}
	const maxNames = 10
	names := devices
	if len(names) > maxNames {
		names = names[:maxNames]
	}
	logrus.WithFields(logrus.Fields{
		"layer":   diffID,
		"count":   len(devices),
		"devices": names,
	}).Warn("skipped device nodes: mknod is not permitted here, as in a user namespace")
}

// readAheadDepth is how many 32 KiB chunks of uncompressed layer may wait
// for the unpacker: 4 MiB, enough to ride out a burst of small files. A
// pull of three layers at once holds three such buffers; that pull of
// about 1 GiB peaked at 40 MiB resident (BenchmarkPullLargeMemory).
const readAheadDepth = 128

// extract unpacks one compressed layer stream into dir and checks its diff
// ID. A producer goroutine copies the stream into blob and decompresses
// it, reading to the very end, so every byte is verified. The unpacker
// hashes and consumes its output. extract closes compressed.
func extract(ctx context.Context, compressed io.ReadCloser, blob io.Writer, dir string, diffID v1.Hash, waitLower func(context.Context) ([]string, error)) (unpack.Stats, error) {
	hasher := sha256.New()
	ra := newReadAhead(readAheadDepth, func(w io.Writer) error {
		source := io.TeeReader(compressed, blob)
		uncompressed, err := unpack.Decompress(source)
		if err != nil {
			return err
		}
		defer uncompressed.Close()
		if _, err := io.Copy(w, uncompressed); err != nil {
			return err
		}
		// Compressed formats may end before their source does, as gzip
		// with trailing padding does; the blob digest covers it all.
		_, err = io.Copy(io.Discard, source)
		return err
	})

	// The unpacker, which waits for the decompressor more often than
	// not, hashes the stream it reads.
	stats, err := unpackStream(ctx, io.TeeReader(ra, hasher), dir, unpack.Options{WaitLower: waitLower})
	// Closing the stream unblocks a producer waiting on the network.
	compressed.Close()
	if stopErr := ra.Stop(); err == nil {
		err = stopErr
	}
	if err != nil {
		return stats, err
	}

	if got := hex.EncodeToString(hasher.Sum(nil)); diffID.Algorithm != "sha256" || got != diffID.Hex {
		return stats, fmt.Errorf("%w: uncompressed content has digest sha256:%s, but the image config lists diff ID %s",
			store.ErrDigestMismatch, got, diffID)
	}
	return stats, nil
}

// unpackStream unpacks r into dir and reads r to its end.
func unpackStream(ctx context.Context, r io.Reader, dir string, opts unpack.Options) (unpack.Stats, error) {
	if err := mkdirLayerRoot(dir); err != nil {
		return unpack.Stats{}, err
	}
	stats, err := unpack.Layer(ctx, r, dir, opts)
	if err != nil {
		return stats, err
	}
	_, err = io.Copy(io.Discard, r)
	return stats, err
}

// mkdirLayerRoot creates a layer's root directory with the mode a root
// filesystem directory conventionally has.
func mkdirLayerRoot(dir string) error {
	return os.Mkdir(dir, 0o755)
}
