package store

import (
	"crypto/sha256"
	"encoding/hex"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ChainIDs returns the chain ID of each layer of a stack, as the OCI
// image spec defines it: the first layer's diff ID, then the digest of
// the previous chain ID, a space and the layer's diff ID. A chain ID names
// a layer together with everything below it.
func ChainIDs(diffIDs []v1.Hash) []v1.Hash {
	chain := make([]v1.Hash, len(diffIDs))
	for i, diffID := range diffIDs {
		if i == 0 {
			chain[i] = diffID
			continue
		}
		sum := sha256.Sum256([]byte(chain[i-1].String() + " " + diffID.String()))
		chain[i] = v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
	}
	return chain
}

// LayerKeys returns the directory key of each layer of a stack. The key
// is the diff ID of a self-contained layer, or the chain ID of a layer
// whose content depends on the layers below it, for example through a
// hardlink copied from a lower layer. A layer that is not unpacked gets
// its diff ID.
func (s *Store) LayerKeys(diffIDs []v1.Hash) []v1.Hash {
	chain := ChainIDs(diffIDs)
	keys := make([]v1.Hash, len(diffIDs))
	for i, diffID := range diffIDs {
		keys[i] = diffID
		if info, err := s.Layer(diffID); err == nil && !info.DependsOnLower {
			continue
		}
		if _, err := s.Layer(chain[i]); err == nil {
			keys[i] = chain[i]
		}
	}
	return keys
}
