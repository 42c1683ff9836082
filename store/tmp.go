package store

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/sirupsen/logrus"
)

// Temp is a file or directory in tmp/ that belongs to one running kist.
// Its lock marks it as in use; Sweep removes temporaries whose owner died.
type Temp struct {
	// Path is the temporary's location; it does not exist until the
	// caller creates it, except for TempDir.
	Path  string
	name  string
	lock  *Lock
	store *Store
}

// newTemp reserves and locks a fresh name in tmp/ that starts with prefix.
func (s *Store) newTemp(prefix string) (*Temp, error) {
	name := prefix + "-" + randomHex(8)
	l, _, err := s.tryLock("tmp-" + name)
	if err != nil {
		return nil, err
	}
	return &Temp{Path: s.path("tmp", name), name: name, lock: l, store: s}, nil
}

// TempDir creates a new, locked temporary directory whose name starts
// with prefix.
func (s *Store) TempDir(prefix string) (*Temp, error) {
	t, err := s.newTemp(prefix)
	if err != nil {
		return nil, err
	}
	if err := os.Mkdir(t.Path, 0o700); err != nil {
		t.release()
		return nil, s.writeError(fmt.Errorf("create temporary directory: %w", err))
	}
	return t, nil
}

// Remove deletes the temporary, if it still exists, and releases its lock.
func (t *Temp) Remove() error {
	err := removeAll(t.Path)
	t.release()
	return err
}

func (t *Temp) release() {
	t.lock.Unlock()
	_ = os.Remove(t.store.path("locks", "tmp-"+t.name+".lock"))
}

// Sweep removes what interrupted invocations left in tmp/: every entry
// whose lock is free.
func (s *Store) Sweep() error {
	_, err := s.SweepReclaim()
	return err
}

// SweepReclaim is Sweep that also returns the bytes of file content it
// removed.
func (s *Store) SweepReclaim() (int64, error) {
	entries, err := os.ReadDir(s.path("tmp"))
	if err != nil {
		return 0, fmt.Errorf("sweep temporary files: %w", err)
	}
	var freed int64
	for _, e := range entries {
		l, free, err := s.tryLock("tmp-" + e.Name())
		if err != nil || !free {
			continue
		}
		logrus.Debugf("remove leftover temporary %s", e.Name())
		size := treeSize(s.path("tmp", e.Name()))
		if err := removeAll(s.path("tmp", e.Name())); err != nil {
			logrus.Warnf("remove leftover temporary %s: %v", e.Name(), err)
		} else {
			freed += size
		}
		l.Unlock()
		_ = os.Remove(s.path("locks", "tmp-"+e.Name()+".lock"))
	}
	return freed, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("read random bytes: %v", err))
	}
	return hex.EncodeToString(b)
}

// removeAll is os.RemoveAll that first makes directories writable, so
// that a layer's 0555 and 0000 directories do not stop it when the caller
// lacks CAP_DAC_OVERRIDE.
func removeAll(path string) error {
	err := os.RemoveAll(path)
	if !errors.Is(err, fs.ErrPermission) {
		return err
	}
	_ = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o700)
		}
		return nil
	})
	return os.RemoveAll(path)
}
