package unpack

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"golang.org/x/sys/unix"
)

// implicitDirMode is the mode of a parent directory that has no entry of its
// own in the layer and no directory under its name in the lower layers, as
// tar implementations create them.
const implicitDirMode = 0o755

// fd returns the descriptor of f for use in *at system calls.
func fd(f *os.File) int { return int(f.Fd()) }

// openDir returns a handle on the directory dir (a cleaned name, "." for the
// root), resolving symlinks in this layer as if the layer root were "/".
// Missing directories are created with the metadata of the lower layers'
// directory of the same name, or else with mode 0755 and owner 0:0.
//
// The handle belongs to u.dirs and stays valid until the next call: callers
// must not close it.
func (u *unpacker) openDir(dir string) (*os.File, error) {
	if f := u.dirs.get(dir); f != nil {
		return f, nil
	}
	f, err := u.resolveDir(dir)
	if err != nil {
		return nil, err
	}
	u.dirs.put(dir, f)
	return f, nil
}

func (u *unpacker) resolveDir(dir string) (*os.File, error) {
	f, err := pathrs.OpenatInRoot(u.root, dir)
	if err == nil && !isWhiteoutFile(f) {
		return f, nil
	}
	if err == nil {
		f.Close()
	}
	if err == nil || errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ENOTDIR) {
		f, err = u.createDirs(dir)
	}
	if err != nil {
		return nil, fmt.Errorf("open parent directory %q: %w", dir, err)
	}
	return f, nil
}

// createDirs opens dir one component at a time and creates each missing
// directory, so that each gets the metadata of an implicit parent.
// MkdirAllHandle alone would apply the umask and inherit the group of a
// setgid parent.
func (u *unpacker) createDirs(dir string) (*os.File, error) {
	parent, err := pathrs.OpenatInRoot(u.root, ".")
	if err != nil {
		return nil, err
	}
	parts := strings.Split(dir, "/")
	for i, part := range parts {
		f, err := u.openOrCreateDir(parent, strings.Join(parts[:i+1], "/"), part)
		parent.Close()
		if err != nil {
			return nil, err
		}
		parent = f
	}
	return parent, nil
}

// openOrCreateDir opens prefix, whose final component part lies in parent,
// creating it if it is missing.
func (u *unpacker) openOrCreateDir(parent *os.File, prefix, part string) (*os.File, error) {
	f, err := pathrs.OpenatInRoot(u.root, prefix)
	if err == nil && !isWhiteoutFile(f) {
		return f, nil
	}
	if err == nil {
		f.Close()
		return u.reviveDir(parent, part)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}

	// Look in the lower layers first, since the new directory would hide
	// theirs from the lookup.
	lower, found, err := u.lowerDirAttrs(prefix)
	if err != nil {
		return nil, err
	}
	f, err = pathrs.MkdirAllHandle(u.root, prefix, implicitDirMode)
	if err != nil {
		return nil, err
	}

	if found {
		n := node{entry: prefix, parent: parent, base: part, kind: unix.S_IFDIR, file: f}
		err = u.setAttrs(n, lower)
		u.stats.LowerCopies++
	} else {
		err = setImplicitAttrs(f)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// lowerDirAttrs returns the metadata of the directory that the lower layers
// show under name, and whether there is one. An implicit parent over such a
// directory takes its mode, owner, xattrs and times, as overlayfs's copy-up
// would, rather than changing what the stacked view shows for it.
func (u *unpacker) lowerDirAttrs(name string) (attrs, bool, error) {
	if !u.stack.hasLower() {
		return attrs{}, false, nil
	}
	if err := u.stack.openLower(u.ctx); err != nil {
		return attrs{}, false, err
	}
	loc, err := u.stack.lookup(u.ctx, name)
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
		return attrs{}, false, nil
	}
	if err != nil {
		return attrs{}, false, fmt.Errorf("look up %q in the lower layers: %w", name, err)
	}
	if loc.layer == 0 || !isDir(&loc.stat) {
		return attrs{}, false, nil
	}
	src, base, err := u.stack.openParent(loc)
	if err != nil {
		return attrs{}, false, err
	}
	defer src.Close()
	a, err := u.lowerAttrs(nil, node{entry: loc.name, parent: src, base: base}, loc)
	return a, err == nil, err
}

// reviveDir replaces the whiteout part in parent with an implicit directory.
// The layer deleted the directory of that name and then created entries in
// it, so the new directory is opaque to keep the old contents hidden.
func (u *unpacker) reviveDir(parent *os.File, part string) (*os.File, error) {
	u.dirs.invalidate()
	if err := unix.Unlinkat(fd(parent), part, 0); err != nil {
		return nil, os.NewSyscallError("unlinkat", err)
	}
	if err := unix.Mkdirat(fd(parent), part, 0o700); err != nil {
		return nil, os.NewSyscallError("mkdirat", err)
	}
	f, err := openDirectory(parent, part)
	if err != nil {
		return nil, err
	}
	if err := setImplicitAttrs(f); err != nil {
		f.Close()
		return nil, err
	}
	if err := setOpaque(f); err != nil {
		f.Close()
		return nil, err
	}
	u.stats.Opaques++
	return f, nil
}

// isWhiteoutFile reports whether f is a whiteout device.
func isWhiteoutFile(f *os.File) bool {
	var st unix.Stat_t
	return unix.Fstat(fd(f), &st) == nil && isWhiteout(&st)
}

func setImplicitAttrs(f *os.File) error {
	if err := unix.Fchown(fd(f), 0, 0); err != nil {
		return os.NewSyscallError("fchown", err)
	}
	if err := unix.Fchmod(fd(f), implicitDirMode); err != nil {
		return os.NewSyscallError("fchmod", err)
	}
	return nil
}

// openDirectory opens the directory name inside parent for reading, without
// following a symlink in its place.
func openDirectory(parent *os.File, name string) (*os.File, error) {
	flags := unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC
	n, err := unix.Openat(fd(parent), name, flags, 0)
	if err != nil {
		return nil, os.NewSyscallError("openat", err)
	}
	return os.NewFile(uintptr(n), name), nil
}

// lstatAt returns the status of name inside parent without following a
// symlink. The bool is false if nothing has that name.
func lstatAt(parent *os.File, name string) (unix.Stat_t, bool, error) {
	var st unix.Stat_t
	err := unix.Fstatat(fd(parent), name, &st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		return st, false, nil
	}
	if err != nil {
		return st, false, os.NewSyscallError("fstatat", err)
	}
	return st, true, nil
}

func isDir(st *unix.Stat_t) bool { return st.Mode&unix.S_IFMT == unix.S_IFDIR }

// removeEntry removes whatever has the name name inside parent, with all its
// contents if it is a directory. It never follows symlinks. Root's
// CAP_DAC_OVERRIDE lets it empty directories of mode 0555 or 0000.
func removeEntry(parent *os.File, name string) error {
	st, ok, err := lstatAt(parent, name)
	if err != nil || !ok {
		return err
	}
	flags := 0
	if isDir(&st) {
		if err := removeContents(parent, name); err != nil {
			return err
		}
		flags = unix.AT_REMOVEDIR
	}
	if err := unix.Unlinkat(fd(parent), name, flags); err != nil {
		return os.NewSyscallError("unlinkat", err)
	}
	return nil
}

// removeContents removes everything inside the directory name of parent.
func removeContents(parent *os.File, name string) error {
	dir, err := openDirectory(parent, name)
	if err != nil {
		return err
	}
	defer dir.Close()
	names, err := dir.Readdirnames(-1)
	if err != nil {
		return fmt.Errorf("read directory: %w", err)
	}
	for _, child := range names {
		if err := removeEntry(dir, child); err != nil {
			return err
		}
	}
	return nil
}

// replace removes the entry called base in parent, whose cleaned name is
// name, to make room for a new one. It drops the recorded times of any
// directory removed with it.
func (u *unpacker) replace(parent *os.File, name, base string) error {
	st, ok, err := lstatAt(parent, base)
	if err != nil || !ok {
		return err
	}
	u.dirs.invalidate()
	if err := removeEntry(parent, base); err != nil {
		return fmt.Errorf("remove existing entry: %w", err)
	}
	if !isDir(&st) {
		return nil
	}
	for recorded := range u.dirTimes {
		if recorded == name || strings.HasPrefix(recorded, name+"/") {
			delete(u.dirTimes, recorded)
		}
	}
	return nil
}
