package store

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// LockLayerVariants takes the lock that serialises the making and
// recording of the variants of the layer with the given key, so that two
// pushes do not compress the same layer at once.
func (s *Store) LockLayerVariants(key v1.Hash) (*Lock, error) {
	return s.lock("variants-" + key.Hex)
}

// AddLayerVariant records d, a stored blob of the layer with the given
// key in another compression, in the layer's layer.json. The caller
// holds LockLayerVariants for the key and must have committed the blob.
func (s *Store) AddLayerVariant(key v1.Hash, d v1.Descriptor) error {
	info, err := s.Layer(key)
	if err != nil {
		return err
	}
	if d.Digest == info.Digest || slices.ContainsFunc(info.Variants, func(v v1.Descriptor) bool { return v.Digest == d.Digest }) {
		return nil
	}
	info.Variants = append(info.Variants, v1.Descriptor{MediaType: d.MediaType, Size: d.Size, Digest: d.Digest})

	data, err := json.Marshal(info)
	if err != nil {
		return err
	}
	if err := s.writeFileAtomic(filepath.Join(s.LayerDir(key), "layer.json"), data, true); err != nil {
		return fmt.Errorf("record blob %s of layer %s: %w", d.Digest, info.DiffID, err)
	}
	return nil
}
