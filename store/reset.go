package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Reset removes every file of the store and leaves its root directory
// empty. It waits until no pull or run holds UseLayers. The caller must
// make sure no container is running. Files that belong to subordinate
// IDs can be removed only inside the user namespace that maps them.
func (s *Store) Reset() error {
	gc, err := s.lock("gc")
	if err != nil {
		return err
	}
	defer gc.Unlock()

	entries, err := os.ReadDir(s.root)
	if err != nil {
		return fmt.Errorf("reset store %s: %w", s.root, err)
	}
	var errs []error
	for _, e := range entries {
		if e.Name() == "locks" || e.Name() == "store.json" {
			continue
		}
		if err := s.removeEntry(e.Name()); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		// store.json stays, so the ID map check still guards the files
		// that are left.
		return errors.Join(errs...)
	}
	// The lock directory goes last: the gc lock above lives there.
	for _, name := range []string{"store.json", "locks"} {
		if err := s.removeEntry(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// removeEntry removes one top-level entry of the store.
func (s *Store) removeEntry(name string) error {
	path := s.path(name)
	err := removeAll(path)
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("remove %s: %w; its files belong to IDs outside kist's current user namespace, "+
			"as happens when /etc/subuid or KIST_USERNS changed since they were written: "+
			"restore the earlier setting and run kist system reset again, or have root remove %s",
			path, err, filepath.Clean(s.root))
	}
	if err != nil {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	return nil
}
