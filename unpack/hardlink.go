package unpack

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// hardlink creates name as a hardlink to linkname, a name inside the layer
// root. A target in this layer is linked. A target only in a lower layer is
// copied with that layer's metadata, because a link cannot cross layers;
// further hardlinks to the same lower entry link to that copy.
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
		err = u.linkLower(ctx, n, loc)
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

// lowerCopy is the copy that this layer made of a lower entry.
type lowerCopy struct {
	name string // cleaned name in this layer
	// file is an O_PATH handle on the copy. Holding it keeps the copy's
	// inode number from being reused, so an entry at name with the same
	// device and inode is the copy and not a later entry that replaced it.
	file *os.File
}

// fileID identifies an inode.
type fileID struct{ dev, ino uint64 }

// linkLower creates n as a hardlink to loc, an entry of a lower layer. The
// first name of loc gets a copy, and each further name links to that copy
// while the copy is still at its name. So a tiny layer of many hardlinks
// to one large lower file writes the file once, and the names share an
// inode as they would in one filesystem.
func (u *unpacker) linkLower(ctx context.Context, n node, loc location) error {
	id := fileID{dev: loc.stat.Dev, ino: loc.stat.Ino}
	if c, ok := u.lowerCopies[id]; ok {
		if copyLoc, ok := u.findCopy(ctx, c); ok {
			return u.linkInLayer(n, copyLoc)
		}
	}

	if err := u.copyFromLower(ctx, n, loc); err != nil {
		return err
	}
	u.trackCopy(id, n)
	return nil
}

// findCopy returns the location of c if c's name still holds the copy.
func (u *unpacker) findCopy(ctx context.Context, c lowerCopy) (location, bool) {
	var copyStat unix.Stat_t
	if err := unix.Fstat(fd(c.file), &copyStat); err != nil {
		return location{}, false
	}
	loc, err := u.stack.resolve(ctx, c.name)
	if err != nil || loc.layer != 0 {
		return location{}, false
	}
	return loc, loc.stat.Dev == copyStat.Dev && loc.stat.Ino == copyStat.Ino
}

// trackCopy records n as the copy of the lower entry id. Without a handle
// (too many open files, for one) the next hardlink copies again, which is
// slower but still correct.
func (u *unpacker) trackCopy(id fileID, n node) {
	cfd, err := unix.Openat(fd(n.parent), n.base, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		logrus.WithError(err).WithField("entry", n.entry).Debug("hold the copy of a lower entry for further hardlinks")
		return
	}
	if old, ok := u.lowerCopies[id]; ok {
		old.file.Close()
	}
	u.lowerCopies[id] = lowerCopy{name: n.entry, file: os.NewFile(uintptr(cfd), n.entry)}
}

// copyFromLower creates n as a copy of loc, an entry of a lower layer.
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
