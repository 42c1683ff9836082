package e2e

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// listDir returns the names in dir, or nil when dir does not exist.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatalf("read %s: %v", dir, err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// expectNoLeftovers checks that no container and no temporary file is
// left in the store at root: containers/ and tmp/ are empty or absent.
func expectNoLeftovers(t *testing.T, root string) {
	t.Helper()
	for _, sub := range []string{"containers", "tmp"} {
		if names := listDir(t, filepath.Join(root, sub)); len(names) > 0 {
			t.Errorf("%s/%s/ holds %q, want it empty or absent", root, sub, names)
		}
	}
}

// dirState is what a directory's unpacking would change.
type dirState struct {
	inode   uint64
	modTime time.Time
}

// snapshotDirs returns the state of every directory below root, keyed by
// the path relative to root.
func snapshotDirs(t *testing.T, root string) map[string]dirState {
	t.Helper()
	states := map[string]dirState{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		states[rel] = dirState{
			inode:   info.Sys().(*syscall.Stat_t).Ino,
			modTime: info.ModTime(),
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	return states
}
