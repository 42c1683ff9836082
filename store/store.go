package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Store is an open kist store rooted at a directory.
type Store struct {
	root string
}

// DefaultRoot returns the store directory for the calling user:
// $KIST_ROOT, else $XDG_DATA_HOME/kist, else ~/.local/share/kist.
func DefaultRoot() (string, error) {
	if dir := os.Getenv("KIST_ROOT"); dir != "" {
		return filepath.Abs(dir)
	}
	if dir := os.Getenv("XDG_DATA_HOME"); dir != "" && filepath.IsAbs(dir) {
		return filepath.Join(dir, "kist"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find the store directory: %w; set KIST_ROOT or pass --root", err)
	}
	return filepath.Join(home, ".local", "share", "kist"), nil
}

// Open creates the store's directories under root if needed and returns
// the store. A store that exists but cannot be written opens too, for
// commands that only read it, and writes to it fail with ErrReadOnly.
func Open(root string) (*Store, error) {
	if !filepath.IsAbs(root) {
		return nil, fmt.Errorf("open store %q: the path must be absolute", root)
	}
	s := &Store{root: root}
	for _, dir := range []string{"blobs/sha256", "layers/sha256", "containers", "tmp", "locks"} {
		err := os.MkdirAll(filepath.Join(root, dir), 0o700)
		switch {
		case err == nil:
		case cannotWrite(err) && isDir(root):
			return s, nil
		case cannotWrite(err):
			return nil, s.writeError(err)
		default:
			return nil, fmt.Errorf("open store %s: %w", root, err)
		}
	}
	return s, nil
}

func isDir(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.IsDir()
}

// Root returns the store's directory.
func (s *Store) Root() string { return s.root }

func (s *Store) path(elem ...string) string {
	return filepath.Join(append([]string{s.root}, elem...)...)
}

// ErrNotFound is returned when an image, layer or container is not in the store.
var ErrNotFound = errors.New("not found")
