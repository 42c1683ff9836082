package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// Lock is a held flock on one lock file.
type Lock struct {
	f *os.File
}

// lock blocks until it holds the exclusive lock named name. The kernel
// drops a flock when its holder dies, so a killed kist never leaves a
// stale lock behind.
func (s *Store) lock(name string) (*Lock, error) {
	return s.flock(name, unix.LOCK_EX)
}

// flock blocks until it holds the lock named name in mode, LOCK_EX or
// LOCK_SH.
func (s *Store) flock(name string, mode int) (*Lock, error) {
	path := s.path("locks", name+".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil && mode == unix.LOCK_SH && cannotWrite(err) {
		return s.sharedReadOnly(path)
	}
	if err != nil {
		return nil, s.writeError(fmt.Errorf("open lock %s: %w", filepath.Base(path), err))
	}
	return lockFile(f, mode)
}

// sharedReadOnly takes a shared lock in a store that the caller cannot
// write, for a command that only reads the store. flock works on a file
// opened read-only. A lock file that is missing means that no writer ever
// took the lock, because a writer creates it first, and none can create
// it in this store now.
//
// NOTE: that holds for a read-only mount and for a store without write
// permission for anyone. Another user who can write the store could
// create the file later; kist expects one user per store.
func (s *Store) sharedReadOnly(path string) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_CLOEXEC, 0)
	if errors.Is(err, fs.ErrNotExist) {
		logrus.Debugf("store %s is read-only and has no %s, so no writer can hold it", s.root, filepath.Base(path))
		return &Lock{}, nil
	}
	if err != nil {
		return nil, s.writeError(fmt.Errorf("open lock %s: %w", filepath.Base(path), err))
	}
	return lockFile(f, unix.LOCK_SH)
}

// lockFile blocks until it holds the flock of f in mode, and closes f if
// that fails.
func lockFile(f *os.File, mode int) (*Lock, error) {
	var err error
	for {
		err = unix.Flock(int(f.Fd()), mode)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, &os.PathError{Op: "flock", Path: f.Name(), Err: err}
	}
	return &Lock{f: f}, nil
}

// tryLock takes the lock named name if it is free, and reports whether it
// did.
func (s *Store) tryLock(name string) (*Lock, bool, error) {
	path := s.path("locks", name+".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, false, s.writeError(fmt.Errorf("open lock %s: %w", filepath.Base(path), err))
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if err == unix.EWOULDBLOCK {
			return nil, false, nil
		}
		return nil, false, &os.PathError{Op: "flock", Path: path, Err: err}
	}
	return &Lock{f: f}, true, nil
}

// Unlock releases the lock.
func (l *Lock) Unlock() {
	if l == nil || l.f == nil {
		return
	}
	_ = unix.Flock(int(l.f.Fd()), unix.LOCK_UN)
	l.f.Close()
	l.f = nil
}

// UseLayers takes a shared hold on the store's layers: while any holder
// keeps it, garbage collection waits, so a pull or run can commit a layer
// and then record the image or container that uses it. Holders do not
// block each other.
func (s *Store) UseLayers() (*Lock, error) {
	return s.flock("gc", unix.LOCK_SH)
}

// lockHeld reports whether a live process holds the lock named name,
// without creating its lock file, so that it also works on a read-only
// store. A missing lock file counts as free.
func (s *Store) lockHeld(name string) bool {
	f, err := os.OpenFile(s.path("locks", name+".lock"), os.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	// A shared lock conflicts with the holder's exclusive one.
	return unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB) == unix.EWOULDBLOCK
}
