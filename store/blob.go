package store

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sys/unix"
)

// BlobPath returns where the blob with digest d lives, whether or not it
// is present.
func (s *Store) BlobPath(d v1.Hash) string {
	return s.path("blobs", d.Algorithm, d.Hex)
}

// HasBlob reports whether the blob with digest d is in the store.
func (s *Store) HasBlob(d v1.Hash) bool {
	_, err := os.Stat(s.BlobPath(d))
	return err == nil
}

// ReadBlob returns the content of a small blob such as a manifest or
// config.
func (s *Store) ReadBlob(d v1.Hash) ([]byte, error) {
	data, err := os.ReadFile(s.BlobPath(d))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("blob %s: %w", d, ErrNotFound)
	}
	return data, err
}

// PutBlob stores data as a blob after checking that it has digest d.
func (s *Store) PutBlob(d v1.Hash, data []byte) error {
	if got := sha256.Sum256(data); d.Algorithm != "sha256" || hex.EncodeToString(got[:]) != d.Hex {
		return fmt.Errorf("store blob %s: content has digest sha256:%x", d, got)
	}
	if s.HasBlob(d) {
		return nil
	}
	w, err := s.NewBlobWriter(d)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		w.Abort()
		return err
	}
	return w.Commit()
}

// BlobWriter writes one blob to a temporary file and hashes it; Commit
// renames it into place only if the digest matches.
type BlobWriter struct {
	store  *Store
	digest v1.Hash
	temp   *Temp
	f      *os.File
	hash   hash.Hash
	n      int64
	// started is how many bytes writeback has been started for.
	started int64
}

// writebackChunk is how many written bytes Write lets accumulate before
// it starts their writeback, so that Commit's fsync waits for little
// more than the last chunk.
const writebackChunk = 8 << 20

// NewBlobWriter starts writing the blob with digest d.
func (s *Store) NewBlobWriter(d v1.Hash) (*BlobWriter, error) {
	if d.Algorithm != "sha256" {
		return nil, fmt.Errorf("store blob %s: unsupported digest algorithm %q", d, d.Algorithm)
	}
	return s.newBlobWriter(d, "blob-"+d.Hex[:12])
}

// NewDerivedBlobWriter starts writing a blob whose digest is not known
// in advance, such as a layer that kist compresses itself. Commit stores
// it under the digest of what was written, and Digest then returns it.
func (s *Store) NewDerivedBlobWriter() (*BlobWriter, error) {
	return s.newBlobWriter(v1.Hash{}, "blob-derived")
}

func (s *Store) newBlobWriter(d v1.Hash, prefix string) (*BlobWriter, error) {
	t, err := s.newTemp(prefix)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(t.Path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.release()
		return nil, fmt.Errorf("store blob %s: %w", prefix, err)
	}
	return &BlobWriter{store: s, digest: d, temp: t, f: f, hash: sha256.New()}, nil
}

// Write implements io.Writer.
func (w *BlobWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.hash.Write(p[:n])
	w.n += int64(n)
	if w.n-w.started >= writebackChunk {
		// SYNC_FILE_RANGE_WRITE starts writeback without waiting for it.
		// A write error there is reported again by Commit's fsync.
		_ = unix.SyncFileRange(int(w.f.Fd()), w.started, w.n-w.started, unix.SYNC_FILE_RANGE_WRITE)
		w.started = w.n
	}
	return n, err
}

// Size returns the number of bytes written so far.
func (w *BlobWriter) Size() int64 { return w.n }

// Digest returns the blob's digest: the one given to NewBlobWriter, or
// for a NewDerivedBlobWriter the digest of the content once Commit has
// succeeded.
func (w *BlobWriter) Digest() v1.Hash { return w.digest }

// Commit verifies the digest, syncs the file and renames it into the
// blob directory. A blob of NewDerivedBlobWriter takes the digest of its
// content. If a blob with that digest is already stored, the rename
// replaces it with identical content.
func (w *BlobWriter) Commit() error {
	got := hex.EncodeToString(w.hash.Sum(nil))
	if w.digest.Hex == "" {
		w.digest = v1.Hash{Algorithm: "sha256", Hex: got}
	}
	if got != w.digest.Hex {
		w.Abort()
		return fmt.Errorf("blob %s: %w: content has digest sha256:%s", w.digest, ErrDigestMismatch, got)
	}
	if err := w.f.Sync(); err != nil {
		w.Abort()
		return fmt.Errorf("store blob %s: %w", w.digest, err)
	}
	if err := w.f.Close(); err != nil {
		w.Abort()
		return fmt.Errorf("store blob %s: %w", w.digest, err)
	}
	if err := os.Rename(w.temp.Path, w.store.BlobPath(w.digest)); err != nil {
		_ = w.temp.Remove()
		return fmt.Errorf("store blob %s: %w", w.digest, err)
	}
	w.temp.release()
	return nil
}

// Abort discards the partly written blob.
func (w *BlobWriter) Abort() {
	w.f.Close()
	_ = w.temp.Remove()
}

// ErrDigestMismatch is returned when content does not hash to the digest
// that names it.
var ErrDigestMismatch = errors.New("digest mismatch")

var _ io.Writer = (*BlobWriter)(nil)
