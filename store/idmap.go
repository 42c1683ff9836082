package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// storeConfig is the content of store.json.
type storeConfig struct {
	// IDMap is the user namespace ID map that the store's files were
	// written under, as "uid map;gid map".
	IDMap string `json:"idMap"`
}

// CheckIDMap makes sure the store is used under one ID map only. Layers
// unpacked with subordinate IDs have owners that a single-ID namespace
// cannot map, and the other way round, so files would silently change
// owners. The first call records idmap; later calls compare.
func (s *Store) CheckIDMap(idmap string) error {
	path := s.path("store.json")
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		l, err := s.lock("store")
		if errors.Is(err, ErrReadOnly) {
			// A store that cannot be written cannot get files of the
			// wrong owners either, so there is nothing to guard.
			return nil
		}
		if err != nil {
			return err
		}
		defer l.Unlock()
		if _, err := os.Stat(path); err == nil {
			return s.CheckIDMap(idmap)
		}
		data, err := json.Marshal(storeConfig{IDMap: idmap})
		if err != nil {
			return err
		}
		return s.writeFileAtomic(path, data, true)
	}
	if err != nil {
		return fmt.Errorf("read store settings: %w", err)
	}

	var cfg storeConfig
	if err := json.Unmarshal(data, &cfg); err != nil {
		return fmt.Errorf("read store settings %s: %w", path, err)
	}
	if cfg.IDMap != idmap {
		return fmt.Errorf("the store %s was filled under the user namespace ID map %q, but kist now runs under %q "+
			"(the subordinate IDs in /etc/subuid or KIST_USERNS changed), so file owners in its layers would be wrong; "+
			"use another store with --root, restore the earlier setting, or remove every image with kist system reset", s.root, cfg.IDMap, idmap)
	}
	return nil
}
