package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

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
	l, _, err := s.lockFile(name, mode)
	return l, err
}

// tryLock takes the lock named name if it is free, and reports whether it
// did.
func (s *Store) tryLock(name string) (*Lock, bool, error) {
	return s.lockFile(name, unix.LOCK_EX|unix.LOCK_NB)
}

// lockFile takes the flock of the lock file for name in mode. With
// LOCK_NB it returns false if another process holds the lock.
//
// Garbage collection removes lock files (see removeLayerLocks), so a
// process may be granted the flock of a file that has just been unlinked,
// while a later process creates a new file at the same path and locks
// that one. lockFile therefore checks that the locked file is still the
// one at the path, and opens the path again if it is not.
func (s *Store) lockFile(name string, mode int) (*Lock, bool, error) {
	path := s.path("locks", name+".lock")
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
		if err != nil && mode == unix.LOCK_SH && cannotWrite(err) {
			l, err := s.sharedReadOnly(path)
			return l, err == nil, err
		}
		if err != nil {
			return nil, false, s.writeError(fmt.Errorf("open lock %s: %w", filepath.Base(path), err))
		}
		err = flockRetry(f, mode)
		if err == unix.EWOULDBLOCK {
			f.Close()
			return nil, false, nil
		}
		if err != nil {
			f.Close()
			return nil, false, &os.PathError{Op: "flock", Path: path, Err: err}
		}
		current, err := isFileAt(f, path)
		if err != nil {
			f.Close()
			return nil, false, err
		}
		if current {
			return &Lock{f: f}, true, nil
		}
		f.Close()
	}
}

// flockRetry calls flock(2) on f in mode, again when a signal interrupts it.
func flockRetry(f *os.File, mode int) error {
	for {
		err := unix.Flock(int(f.Fd()), mode)
		if err != unix.EINTR {
			return err
		}
	}
}

// isFileAt reports whether path still names the open file f.
func isFileAt(f *os.File, path string) (bool, error) {
	held, err := f.Stat()
	if err != nil {
		return false, err
	}
	named, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return os.SameFile(held, named), nil
}

// sharedReadOnly takes a shared lock in a store that the caller cannot
// write, for a command that only reads the store. flock works on a file
// opened read-only. A lock file that is missing means that no writer ever
// took the lock, because a writer creates it first, and none can create
// it in this store now. Garbage collection cannot remove lock files here
// either, so the file locked is the one at the path.
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
	if err := flockRetry(f, unix.LOCK_SH); err != nil {
		f.Close()
		return nil, &os.PathError{Op: "flock", Path: path, Err: err}
	}
	return &Lock{f: f}, nil
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

// removeLayerLocks removes the lock files of layers that no process
// holds or waits for. The files contain no data, and the next pull of a
// layer creates its lock file again. A process that opened a lock file
// before it was removed finds out in lockFile and opens the new one, so
// mutual exclusion holds.
func (s *Store) removeLayerLocks() {
	entries, err := os.ReadDir(s.path("locks"))
	if err != nil {
		logrus.Debugf("list lock files: %v", err)
		return
	}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".lock")
		if !ok || !strings.HasPrefix(name, "layer-") {
			continue
		}
		l, free, err := s.tryLock(name)
		if err != nil || !free {
			continue
		}
		// Unlink while holding the flock, so a process that is granted
		// the flock afterwards finds the path changed and opens it again.
		if err := os.Remove(s.path("locks", e.Name())); err != nil {
			logrus.Debugf("remove lock file %s: %v", e.Name(), err)
		}
		l.Unlock()
	}
}
