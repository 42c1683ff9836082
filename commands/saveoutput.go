package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/kist-project/kist/store"
)

// writeArchive runs write with stdout or with the file output names. tmp
// is a scratch directory in the store.
//
// Like docker save -o, it follows a symlink at output and writes straight
// into an existing file that is not a regular file, such as /dev/null, a
// FIFO or /dev/stdout. A regular file, or a new one, is written through a
// temporary file that replaces it only when write succeeds, so a failed
// or interrupted save leaves no partial archive behind. Every write fails
// once ctx is done.
func writeArchive(ctx context.Context, c *cli.Context, st *store.Store, output string, write func(w io.Writer, tmp string) error) error {
	tmp, err := saveTempDir(st)
	if err != nil {
		return err
	}
	defer tmp.remove()
	writeTo := func(w io.Writer) error { return write(contextWriter{ctx, w}, tmp.path) }

	if output == "" {
		return writeTo(c.App.Writer)
	}
	if fd, ok := ownDescriptor(output); ok {
		// Reopening the descriptor's pipe by its /proc path would need
		// permission on the pipe, which one made by another user lacks.
		f := os.NewFile(uintptr(fd), output)
		if isTerminal(f) {
			return fmt.Errorf("kist save will not write an archive to a terminal, which %s is; name a file or redirect it", output)
		}
		return writeTo(f)
	}
	target, info, err := resolveOutput(output)
	if err != nil {
		return fmt.Errorf("write %s: %w", output, err)
	}
	switch {
	case info == nil || info.Mode().IsRegular():
		return replaceFile(target, writeTo)
	case info.IsDir():
		return fmt.Errorf("write %s: it is a directory, so name a file or use --format oci-dir", output)
	}
	if err := writeInto(target, writeTo); err != nil {
		return fmt.Errorf("write %s: %w", output, err)
	}
	return nil
}

// scratchDir is a temporary directory that save writes layers to.
type scratchDir struct {
	path   string
	remove func()
}

// saveTempDir creates a scratch directory in the store's tmp/, or in the
// system's temporary directory ($TMPDIR or /tmp) when the store cannot be
// written, so that a read-only store can still be saved from.
func saveTempDir(st *store.Store) (scratchDir, error) {
	tmp, err := st.TempDir("save")
	if err == nil {
		return scratchDir{path: tmp.Path, remove: func() { _ = tmp.Remove() }}, nil
	}
	if !errors.Is(err, store.ErrReadOnly) {
		return scratchDir{}, err
	}
	dir, err := os.MkdirTemp("", "kist-save-")
	if err != nil {
		return scratchDir{}, fmt.Errorf("create temporary directory for save: %w", err)
	}
	return scratchDir{path: dir, remove: func() { _ = os.RemoveAll(dir) }}, nil
}

// ownDescriptor reports whether output, or a symlink it leads to, names
// one of kist's own open file descriptors, as /dev/stdout, /dev/fd/N and
// /proc/self/fd/N do, and returns its number.
func ownDescriptor(output string) (int, bool) {
	path := output
	// 40 is the limit on symlinks in one lookup in Linux
	// (MAXSYMLINKS in include/linux/namei.h).
	for range 40 {
		for _, dir := range []string{"/proc/self/fd/", "/dev/fd/"} {
			if n, err := strconv.Atoi(strings.TrimPrefix(path, dir)); err == nil && strings.HasPrefix(path, dir) && n >= 0 {
				_, err := unix.FcntlInt(uintptr(n), unix.F_GETFD, 0)
				return n, err == nil
			}
		}
		link, err := os.Readlink(path)
		if err != nil {
			return 0, false
		}
		if !filepath.IsAbs(link) {
			link = filepath.Join(filepath.Dir(path), link)
		}
		path = link
	}
	return 0, false
}

// resolveOutput follows symlinks at output and returns the path they
// lead to and its file info, or nil info when nothing exists there yet.
func resolveOutput(output string) (string, fs.FileInfo, error) {
	// A link of /proc/PID/fd of another process names a pipe or socket
	// that no path reaches. The kernel follows it when output is opened,
	// so an existing file that is not a regular one is used as named.
	if info, err := os.Stat(output); err == nil && !info.Mode().IsRegular() && !info.IsDir() {
		return output, info, nil
	}
	target, err := filepath.EvalSymlinks(output)
	if errors.Is(err, fs.ErrNotExist) {
		return danglingTarget(output)
	}
	if err != nil {
		return "", nil, err
	}
	info, err := os.Stat(target)
	if err != nil {
		return "", nil, err
	}
	return target, info, nil
}

// danglingTarget returns the path that output's chain of symlinks ends
// at, for an output that does not exist yet.
func danglingTarget(output string) (string, fs.FileInfo, error) {
	path := output
	// 40 is the limit on symlinks in one lookup in Linux
	// (MAXSYMLINKS in include/linux/namei.h).
	for range 40 {
		link, err := os.Readlink(path)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.EINVAL) {
			return path, nil, nil
		}
		if err != nil {
			return "", nil, err
		}
		if !filepath.IsAbs(link) {
			link = filepath.Join(filepath.Dir(path), link)
		}
		path = link
	}
	return "", nil, &fs.PathError{Op: "open", Path: output, Err: unix.ELOOP}
}

// writeInto runs write with the existing file at path, such as a device
// or a FIFO, opened for writing without truncation or creation.
func writeInto(path string, write func(w io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// replaceFile writes the regular file at path through a temporary file
// in its directory, renamed over path once write succeeds.
func replaceFile(path string, write func(w io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(f.Name())

	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}

	// CreateTemp makes the file 0600, so give it the mode that creating
	// it with the umask would.
	umask := unix.Umask(0)
	unix.Umask(umask)
	if err := os.Chmod(f.Name(), os.FileMode(0o666&^umask)); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
