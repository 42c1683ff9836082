package unpack

import (
	"context"
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// hardlink creates name as a hardlink to linkname, a name inside the layer
// root. A target in this layer is linked. A target only in a lower layer is
// copied with that layer's metadata, because a link cannot cross layers.
func (u *unpacker) hardlink(ctx context.Context, name, linkname string) error {
	target, err := cleanName(linkname)
	if err != nil {
		return fmt.Errorf("hardlink target: %w", err)
	}
	if target == "" {
		return errors.New("hardlink target is the layer root")
	}
	loc, err := u.stack.resolve(ctx, target)
	if err != nil {
		return fmt.Errorf("resolve hardlink target %q: %w", linkname, err)
	}
	if isDir(&loc.stat) {
		return fmt.Errorf("hardlink target %q is a directory", linkname)
	}

	dir, base := splitName(name)
	parent, err := u.openDir(dir)
	if err != nil {
		return err
	}
	n := node{entry: name, parent: parent, base: base, kind: loc.stat.Mode & unix.S_IFMT}
	if loc.layer == 0 {
		err = u.linkInLayer(n, loc)
	} else {
		err = u.copyFromLower(ctx, n, loc)
		u.stats.LowerCopies++
	}
	if err != nil {
		return err
	}
	u.stats.Hardlinks++
	return nil
}

// linkInLayer links n to loc, an entry of the layer being unpacked. With
// flags 0, linkat links a symlink itself rather than its target.
func (u *unpacker) linkInLayer(n node, loc location) error {
	src, srcBase, err := u.stack.openParent(loc)
	if err != nil {
		return err
	}
	defer src.Close()

	// A hardlink to its own name (some tar writers emit one for a file
	// listed twice) must not remove its target.
	st, ok, err := lstatAt(n.parent, n.base)
	if err != nil {
		return err
	}
	if ok && st.Dev == loc.stat.Dev && st.Ino == loc.stat.Ino {
		return nil
	}
	if err := u.replace(n.parent, n.entry, n.base); err != nil {
		return err
	}
	if err := unix.Linkat(fd(src), srcBase, fd(n.parent), n.base, 0); err != nil {
		return os.NewSyscallError("linkat", err)
	}
	return nil
}

// copyFromLower creates n as a copy of loc, an entry of a lower layer.
// TODO: link further names of the same lower file to the first copy.
// Each is a full copy now, so a tiny layer can write a lot of data.
func (u *unpacker) copyFromLower(ctx context.Context, n node, loc location) error {
	src, srcBase, err := u.stack.openParent(loc)
	if err != nil {
		return err
	}
	defer src.Close()
	srcNode := node{entry: loc.name, parent: src, base: srcBase}

	switch n.kind {
	case unix.S_IFREG:
		return u.copyFile(ctx, n, srcNode, loc)
	case unix.S_IFLNK:
		return u.copySymlink(n, srcNode, loc)
	case unix.S_IFIFO, unix.S_IFCHR, unix.S_IFBLK:
		a, err := u.lowerAttrs(nil, srcNode, loc)
		if err != nil {
			return err
		}
		return u.mknodAt(n, loc.stat.Rdev, a)
	}
	return fmt.Errorf("hardlink target %q has unsupported type %#o", loc.name, n.kind)
}

func (u *unpacker) copyFile(ctx context.Context, n node, src node, loc location) error {
	// O_NONBLOCK keeps the open from hanging if a FIFO took the file's place;
	// the fstat below then rejects it.
	flags := unix.O_RDONLY | unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_CLOEXEC
	rfd, err := unix.Openat(fd(src.parent), src.base, flags, 0)
	if err != nil {
		return os.NewSyscallError("openat", err)
	}
	in := os.NewFile(uintptr(rfd), loc.name)
	defer in.Close()
	var st unix.Stat_t
	if err := unix.Fstat(rfd, &st); err != nil {
		return os.NewSyscallError("fstat", err)
	}
	if st.Dev != loc.stat.Dev || st.Ino != loc.stat.Ino {
		return fmt.Errorf("%q changed during lookup", loc.name)
	}
	a, err := u.lowerAttrs(in, src, loc)
	if err != nil {
		return err
	}

	out, err := u.createAt(n.parent, n.entry, n.base)
	if err != nil {
		return err
	}
	defer out.Close()
	size, err := u.writeContent(ctx, out, in)
	if err != nil {
		return err
	}
	n.file = out
	if err := u.setAttrs(n, a); err != nil {
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	u.stats.Files++
	u.stats.Bytes += size
	return nil
}

func (u *unpacker) copySymlink(n node, src node, loc location) error {
	target, err := u.stack.readlink(loc)
	if err != nil {
		return err
	}
	a, err := u.lowerAttrs(nil, src, loc)
	if err != nil {
		return err
	}
	if err := u.replace(n.parent, n.entry, n.base); err != nil {
		return err
	}
	if err := unix.Symlinkat(target, fd(n.parent), n.base); err != nil {
		return os.NewSyscallError("symlinkat", err)
	}
	if err := u.setAttrs(n, a); err != nil {
		return err
	}
	u.stats.Symlinks++
	return nil
}

// lowerAttrs returns the metadata of a lower entry, read through f if it is
// open, else through its parent.
func (u *unpacker) lowerAttrs(f *os.File, src node, loc location) (attrs, error) {
	xattrs, err := readXattrs(f, src.procPath())
	if err != nil {
		return attrs{}, fmt.Errorf("read xattrs of %q: %w", loc.name, err)
	}
	return statAttrs(&loc.stat, xattrs), nil
}
