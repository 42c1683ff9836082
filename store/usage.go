package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// DiskUsage is the space that the store's images and containers occupy.
type DiskUsage struct {
	Images       int
	ActiveImages int
	// ImageBytes counts each layer once, however many images share it:
	// the file content of the unpacked layers plus every stored blob.
	ImageBytes int64
	// ReclaimableImageBytes is the space that removing every image that
	// no container uses would free.
	ReclaimableImageBytes int64
	Containers            int
	// ContainerBytes is the file content that containers wrote, plus the
	// layers that only containers still use, because their image was
	// removed with rmi --force.
	ContainerBytes int64
	// StoppedContainerBytes is the part of ContainerBytes that only exited
	// containers hold, which kist rm (and a prune for the layers) would
	// free.
	StoppedContainerBytes int64
	// Temporaries counts the entries of tmp/, and ActiveTemporaries the
	// part of them that a running kist holds.
	Temporaries       int
	ActiveTemporaries int
	// TemporaryBytes is the file content below tmp/.
	TemporaryBytes int64
	// LeftoverTemporaryBytes is the part of TemporaryBytes that killed
	// commands left, which Sweep would free.
	LeftoverTemporaryBytes int64
}

// Usage measures the store. Sizes are file content in bytes, not
// allocated blocks.
func (s *Store) Usage() (DiskUsage, error) {
	var u DiskUsage
	images, err := s.Images()
	if err != nil {
		return u, err
	}
	containers, err := s.Containers()
	if err != nil {
		return u, err
	}

	used := map[string]bool{}
	activeLayers := map[string]bool{}
	for _, c := range containers {
		used[c.ImageID] = true
		for _, key := range s.LayerKeys(c.Layers) {
			activeLayers[key.Hex] = true
		}
		u.Containers++
		size := treeSize(filepath.Join(s.ContainerDir(c.ID), "upper"))
		u.ContainerBytes += size
		if c.Status == StatusExited {
			u.StoppedContainerBytes += size
		}
	}

	counted := map[string]bool{}
	for _, img := range images {
		u.Images++
		if used[img.ID.String()] {
			u.ActiveImages++
		}
		for _, key := range s.LayerKeys(img.Layers) {
			info, err := s.Layer(key)
			if err != nil || counted[key.Hex] {
				continue
			}
			counted[key.Hex] = true
			size := s.layerBytes(info)
			u.ImageBytes += size
			if !activeLayers[key.Hex] {
				u.ReclaimableImageBytes += size
			}
		}
		meta := fileSize(s.BlobPath(img.ID)) + fileSize(s.BlobPath(img.Manifest))
		u.ImageBytes += meta
		if !used[img.ID.String()] {
			u.ReclaimableImageBytes += meta
		}
	}

	// Running containers first, so that a layer that both a running and
	// an exited container use counts as not reclaimable.
	for _, exited := range []bool{false, true} {
		for _, c := range containers {
			if (c.Status == StatusExited) != exited {
				continue
			}
			size := s.uncountedLayerBytes(c.Layers, counted)
			u.ContainerBytes += size
			if exited {
				u.StoppedContainerBytes += size
			}
		}
	}
	return u, s.temporaryUsage(&u)
}

// temporaryUsage adds the entries of tmp/ to u. Those of killed commands
// are free to sweep, and those of running ones are not.
func (s *Store) temporaryUsage(u *DiskUsage) error {
	entries, err := os.ReadDir(s.path("tmp"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("measure temporary files: %w", err)
	}
	for _, e := range entries {
		size := treeSize(s.path("tmp", e.Name()))
		u.Temporaries++
		u.TemporaryBytes += size
		if s.lockHeld("tmp-" + e.Name()) {
			u.ActiveTemporaries++
		} else {
			u.LeftoverTemporaryBytes += size
		}
	}
	return nil
}

// uncountedLayerBytes returns the size of the layers among diffIDs that
// counted lacks, and adds them to it.
func (s *Store) uncountedLayerBytes(diffIDs []v1.Hash, counted map[string]bool) int64 {
	var total int64
	for _, key := range s.LayerKeys(diffIDs) {
		info, err := s.Layer(key)
		if err != nil || counted[key.Hex] {
			continue
		}
		counted[key.Hex] = true
		total += s.layerBytes(info)
	}
	return total
}

// layerBytes returns the size of an unpacked layer's files plus its blob
// and the variants recorded for it.
func (s *Store) layerBytes(info LayerInfo) int64 {
	size := info.Size + fileSize(s.BlobPath(info.Digest))
	for _, v := range info.Variants {
		size += fileSize(s.BlobPath(v.Digest))
	}
	return size
}

func fileSize(path string) int64 {
	info, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return info.Size()
}

// treeSize sums the sizes of the regular files below dir, counting a
// file with several hardlinks once per name.
func treeSize(dir string) int64 {
	var total int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		if info, err := d.Info(); err == nil {
			total += info.Size()
		}
		return nil
	})
	return total
}

// ContainerSize returns the bytes of the files in a container's
// directory: what it wrote, and its state.
func (s *Store) ContainerSize(id string) int64 {
	return treeSize(s.ContainerDir(id))
}
