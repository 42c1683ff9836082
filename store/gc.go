package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/sirupsen/logrus"
)

// Reclaimed is the count and size of what garbage collection removed.
type Reclaimed struct {
	Layers int
	Blobs  int
	// Bytes counts the unpacked size of the removed layers plus the size
	// of the removed blobs.
	Bytes int64
}

// CollectGarbage removes every layer and blob that no image and no
// container refers to. It waits until no pull or run holds UseLayers,
// and holds the image index lock, so no new reference can appear while it
// decides.
func (s *Store) CollectGarbage() (Reclaimed, error) {
	gc, err := s.lock("gc")
	if err != nil {
		return Reclaimed{}, err
	}
	defer gc.Unlock()
	index, err := s.lock("images")
	if err != nil {
		return Reclaimed{}, err
	}
	defer index.Unlock()

	layers, blobs, err := s.references()
	if err != nil {
		return Reclaimed{}, err
	}

	var usage Reclaimed
	err = s.sweepDir(s.path("layers", "sha256"), func(hex string) bool { return layers[hex] }, func(hex string) {
		if info, err := s.Layer(v1.Hash{Algorithm: "sha256", Hex: hex}); err == nil {
			usage.Bytes += info.Size
		}
		usage.Layers++
	})
	if err != nil {
		return usage, err
	}
	err = s.sweepDir(s.path("blobs", "sha256"), func(hex string) bool { return blobs[hex] }, func(hex string) {
		if info, err := os.Stat(s.path("blobs", "sha256", hex)); err == nil {
			usage.Bytes += info.Size()
		}
		usage.Blobs++
	})
	if err != nil {
		return usage, err
	}
	s.removeLayerLocks()
	return usage, nil
}

// references returns the hex digests of the layers (by key) and blobs
// that images and containers use. Every kept layer keeps the blob it was
// unpacked from and its recorded variants.
func (s *Store) references() (layers, blobs map[string]bool, err error) {
	layers, blobs = map[string]bool{}, map[string]bool{}
	idx, err := s.readIndex()
	if err != nil {
		return nil, nil, err
	}
	for _, img := range idx.Images {
		blobs[img.ID.Hex] = true
		blobs[img.Manifest.Hex] = true
		for _, key := range s.LayerKeys(img.Layers) {
			layers[key.Hex] = true
			s.keepLayerBlobs(key, blobs)
		}
	}

	containers, err := s.Containers()
	if err != nil {
		return nil, nil, err
	}
	for _, c := range containers {
		for _, key := range s.LayerKeys(c.Layers) {
			layers[key.Hex] = true
			// A later pull of an image with this layer reuses it without
			// downloading, and saving or pushing that image needs the
			// blob the layer was unpacked from.
			s.keepLayerBlobs(key, blobs)
		}
	}
	return layers, blobs, nil
}

// keepLayerBlobs adds to blobs the blob that the layer with the given key
// was unpacked from and the variants recorded for it.
func (s *Store) keepLayerBlobs(key v1.Hash, blobs map[string]bool) {
	info, err := s.Layer(key)
	if err != nil {
		return
	}
	blobs[info.Digest.Hex] = true
	for _, v := range info.Variants {
		blobs[v.Digest.Hex] = true
	}
}

// sweepDir removes the entries of dir that keep does not want, calling
// removed for each before it goes.
func (s *Store) sweepDir(dir string, keep func(string) bool, removed func(string)) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("collect garbage: %w", err)
	}
	for _, e := range entries {
		if keep(e.Name()) {
			continue
		}
		removed(e.Name())
		logrus.Debugf("remove unused %s", filepath.Join(filepath.Base(dir), e.Name()))
		if err := removeAll(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("collect garbage: %w", err)
		}
	}
	return nil
}
