package auth

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// lockDir takes an exclusive flock(2) on the directory of the credential
// file path, so that concurrent logins and logouts run their read, change
// and rename of the file one at a time and none drops another's entry.
// The directory is locked, not the file, because each write replaces the
// file by a rename. With create unset, a missing directory is not made
// and nothing is locked, since it holds no file to change. Nor is a
// directory that the user may not open, such as one below a root-only
// /run/containers. The returned function releases the lock.
//
// NOTE: only kist takes this lock. A docker or podman login that writes
// the same file at the same moment can still drop an entry.
func lockDir(path string, create bool) (func(), error) {
	if resolved, err := filepath.EvalSymlinks(path); err == nil {
		path = resolved
	}
	dir := filepath.Dir(path)
	if create {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create directory of credential file: %w", err)
		}
	}

	f, err := os.Open(dir)
	if !create && (errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission)) {
		return func() {}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lock directory of credential file: %w", err)
	}
	if err := flock(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock directory of credential file %s: %w", dir, err)
	}
	// Closing the descriptor releases the lock.
	return func() { f.Close() }, nil
}

// flock waits for an exclusive lock on f, trying again when a signal
// interrupts the wait.
func flock(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
