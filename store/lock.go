package store

import (
	"fmt"
	"os"
	"path/filepath"

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
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", filepath.Base(path), err)
	}
	for {
		err = unix.Flock(int(f.Fd()), mode)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, &os.PathError{Op: "flock", Path: path, Err: err}
	}
	return &Lock{f: f}, nil
}

// tryLock takes the lock named name if it is free, and reports whether it
// did.
func (s *Store) tryLock(name string) (*Lock, bool, error) {
	path := s.path("locks", name+".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("open lock %s: %w", filepath.Base(path), err)
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
