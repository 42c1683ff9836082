package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// LayerInfo describes one unpacked layer; it is stored as layer.json next
// to the layer's diff directory.
type LayerInfo struct {
	// DiffID is the digest of the uncompressed layer tar.
	DiffID v1.Hash `json:"diffID"`
	// Digest is the digest of the blob the layer was unpacked from.
	Digest v1.Hash `json:"digest"`
	// MediaType is the media type of that blob.
	MediaType string `json:"mediaType,omitempty"`
	// Size is the number of bytes of file content in the layer.
	Size int64 `json:"size"`
	// Unpacked is when kist finished unpacking the layer.
	Unpacked time.Time `json:"unpacked"`
	// OpaqueRoot is set when the layer marks its root directory opaque,
	// which hides every layer below it. overlayfs ignores that marker on
	// the root of a lower directory, so the mount leaves those layers out.
	OpaqueRoot bool `json:"opaqueRoot,omitempty"`
	// DependsOnLower is set when unpacking copied content from the layers
	// below, as a hardlink to a lower file does. Such a layer is stored
	// under its chain ID, never shared with a stack of other layers.
	DependsOnLower bool `json:"dependsOnLower,omitempty"`
	// Key is the name of the layer's directory: DiffID, or the chain ID
	// when DependsOnLower is set.
	Key v1.Hash `json:"key"`
	// Variants are blobs of the same layer in another compression, which
	// kist made for a push. Recording them lets a later push send the
	// same blobs, and garbage collection keeps them with the layer.
	Variants []v1.Descriptor `json:"variants,omitempty"`
}

// LayerDir returns the directory of the unpacked layer with the given
// key, a diff ID or chain ID (see LayerKeys), whether or not it exists.
func (s *Store) LayerDir(key v1.Hash) string {
	return s.path("layers", key.Algorithm, key.Hex)
}

// LayersDir returns the directory that holds every unpacked layer.
func (s *Store) LayersDir() string {
	return s.path("layers")
}

// LayerDiffPath returns the overlayfs lower directory of a layer relative
// to LayersDir. Overlay mount options must fit in one page, and relative
// paths let about sixty layers fit where absolute ones would not.
func LayerDiffPath(diffID v1.Hash) string {
	return filepath.Join(diffID.Algorithm, diffID.Hex, "diff")
}

// Layer returns the information of the unpacked layer with the given
// key, or an error wrapping ErrNotFound if there is none.
func (s *Store) Layer(key v1.Hash) (LayerInfo, error) {
	diffID := key
	var info LayerInfo
	data, err := os.ReadFile(filepath.Join(s.LayerDir(key), "layer.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return info, fmt.Errorf("layer %s: %w", diffID, ErrNotFound)
	}
	if err != nil {
		return info, fmt.Errorf("read layer %s: %w", diffID, err)
	}
	if err := json.Unmarshal(data, &info); err != nil {
		return info, fmt.Errorf("read layer %s: %w", diffID, err)
	}
	info.Key = key
	return info, nil
}

// LockLayer takes the lock that serialises unpacking of one layer.
func (s *Store) LockLayer(diffID v1.Hash) (*Lock, error) {
	return s.lock("layer-" + diffID.Hex)
}

// CommitLayer moves a finished layer into place. The temporary directory
// t must contain the unpacked tree in diff/. It writes layer.json inside t
// first, so the renamed directory is complete the moment it appears.
func (s *Store) CommitLayer(t *Temp, info LayerInfo) error {
	if info.Key.Hex == "" {
		info.Key = info.DiffID
	}
	data, err := json.Marshal(info)
	if err != nil {
		return err
	}
	if err := writeFileSync(filepath.Join(t.Path, "layer.json"), data); err != nil {
		return fmt.Errorf("commit layer %s: %w", info.DiffID, err)
	}
	if err := os.Rename(t.Path, s.LayerDir(info.Key)); err != nil {
		return fmt.Errorf("commit layer %s: %w", info.DiffID, err)
	}
	t.release()
	return nil
}

// writeFileSync writes data to a new file and syncs it.
func writeFileSync(path string, data []byte) error {
	return writeNewFile(path, data, true)
}

func writeNewFile(path string, data []byte, sync bool) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if sync {
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

// writeFileAtomic replaces path with data through a temporary file in
// tmp/ and a rename. With sync set, the data reaches the disk before the
// rename, so a crash leaves the old or the new content. Without it, a
// crash may leave an empty file. That is acceptable for state that a
// crash makes stale anyway, such as a container's.
func (s *Store) writeFileAtomic(path string, data []byte, sync bool) error {
	t, err := s.newTemp(filepath.Base(path))
	if err != nil {
		return err
	}
	defer t.release()
	if err := writeNewFile(t.Path, data, sync); err != nil {
		_ = os.Remove(t.Path)
		return err
	}
	if err := os.Rename(t.Path, path); err != nil {
		_ = os.Remove(t.Path)
		return err
	}
	return nil
}
