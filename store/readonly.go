package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrReadOnly is returned when a command has to write to a store that
// the caller cannot write to, such as one on a read-only mount.
var ErrReadOnly = errors.New("read-only store")

// readOnlyError is a failed write to the store: its text names the store
// and how to use another one, and it matches both ErrReadOnly and the
// underlying error.
type readOnlyError struct {
	root string
	err  error
}

func (e *readOnlyError) Error() string {
	// Paths inside the store are shown relative to it, which the message
	// names once.
	cause := strings.ReplaceAll(e.err.Error(), e.root+string(filepath.Separator), "")
	return fmt.Sprintf("the store %s cannot be written (%s); name a writable store with --root DIR or KIST_ROOT=DIR", e.root, cause)
}

func (e *readOnlyError) Unwrap() []error { return []error{ErrReadOnly, e.err} }

// cannotWrite reports whether err is a failure to write to the store
// because of a read-only file system or missing write permission.
func cannotWrite(err error) bool {
	return errors.Is(err, unix.EROFS) || errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM)
}

// writeError returns err as a readOnlyError when cannotWrite matches it,
// and unchanged otherwise.
func (s *Store) writeError(err error) error {
	if err == nil || !cannotWrite(err) {
		return err
	}
	return &readOnlyError{root: s.root, err: err}
}
