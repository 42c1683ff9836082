package unpack

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// apply creates the entry described by hdr, whose content is read from r.
func (u *unpacker) apply(ctx context.Context, hdr *tar.Header, r io.Reader) error {
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		return nil // PAX global records: nothing in them applies to a layer.
	}
	name, err := cleanName(hdr.Name)
	if err != nil {
		return err
	}
	if name != "" {
		handled, err := u.applyWhiteout(name)
		if handled || err != nil {
			return err
		}
	}
	if name == "" && hdr.Typeflag != tar.TypeDir {
		return errRootEntry
	}
	if hdr.Typeflag == tar.TypeLink {
		return u.hardlink(ctx, name, hdr.Linkname)
	}

	a, err := headerAttrs(hdr)
	if err != nil {
		return err
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		return u.mkdir(name, a)
	case tar.TypeReg, tar.TypeGNUSparse, tar.TypeCont:
		// POSIX reads a contiguous file (TypeCont) as a regular one.
		return u.createFile(ctx, name, r, a)
	case tar.TypeSymlink:
		return u.symlink(name, hdr.Linkname, a)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		return u.mknod(name, hdr, a)
	}
	return fmt.Errorf("unsupported entry type %q", hdr.Typeflag)
}

// mkdir creates the directory name, or updates the metadata of the directory
// already there: a directory entry over a directory merges into it.
func (u *unpacker) mkdir(name string, a attrs) error {
	n := node{entry: name, parent: u.root, base: ".", kind: unix.S_IFDIR}
	revived := false
	if name != "" {
		dir, base := splitName(name)
		parent, err := u.openDir(dir)
		if err != nil {
			return err
		}
		revived, err = u.makeDir(parent, name, base)
		if err != nil {
			return err
		}
		n.parent, n.base = parent, base
	}

	f, err := openDirectory(n.parent, n.base)
	if err != nil {
		return err
	}
	defer f.Close()
	n.file = f
	if revived {
		// The layer deleted the directory of this name before, so the new
		// one must hide what the lower layers have in it.
		if err := setOpaque(f); err != nil {
			return err
		}
		u.stats.Opaques++
	}
	if err := u.setAttrs(n, a); err != nil {
		return err
	}
	u.stats.Dirs++
	return nil
}

// makeDir makes sure base in parent is a directory, replacing anything else,
// and reports whether it replaced a whiteout.
func (u *unpacker) makeDir(parent *os.File, name, base string) (bool, error) {
	st, ok, err := lstatAt(parent, base)
	if err != nil {
		return false, err
	}
	if ok && isDir(&st) {
		return false, nil
	}
	if err := u.replace(parent, name, base); err != nil {
		return false, err
	}
	// Mode 0700 until setAttrs applies the real one.
	if err := unix.Mkdirat(fd(parent), base, 0o700); err != nil {
		return false, os.NewSyscallError("mkdirat", err)
	}
	return ok && isWhiteout(&st), nil
}

// createFile writes the regular file name with the content read from r.
func (u *unpacker) createFile(ctx context.Context, name string, r io.Reader, a attrs) error {
	dir, base := splitName(name)
	parent, err := u.openDir(dir)
	if err != nil {
		return err
	}
	f, err := u.createAt(parent, name, base)
	if err != nil {
		return err
	}
	defer f.Close()

	size, err := u.writeContent(ctx, f, r)
	if err != nil {
		return err
	}
	n := node{entry: name, parent: parent, base: base, kind: unix.S_IFREG, file: f}
	if err := u.setAttrs(n, a); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	u.stats.Files++
	u.stats.Bytes += size
	return nil
}

// createAt replaces base in parent with a new, empty regular file.
// O_EXCL|O_NOFOLLOW make the open fail, rather than write through, if
// anything appeared under that name in between.
func (u *unpacker) createAt(parent *os.File, name, base string) (*os.File, error) {
	flags := unix.O_WRONLY | unix.O_CREAT | unix.O_EXCL | unix.O_NOFOLLOW | unix.O_CLOEXEC
	var n int
	err := u.createNew(parent, name, base, func() (err error) {
		n, err = unix.Openat(fd(parent), base, flags, 0o600)
		return os.NewSyscallError("openat", err)
	})
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(n), name), nil
}

// createNew calls create, which makes base in parent and fails with EEXIST
// if the name is taken. In that case it removes what has the name and
// calls create again. Trying first saves a stat for each new name, the
// common case.
func (u *unpacker) createNew(parent *os.File, name, base string, create func() error) error {
	err := create()
	if !errors.Is(err, unix.EEXIST) {
		return err
	}
	if err := u.replace(parent, name, base); err != nil {
		return err
	}
	return create()
}

// writeContent copies r into f and returns the size written. Chunks of zero
// bytes are skipped and become holes, so a sparse entry, or a header that
// declares a huge zero-filled file, takes no disk space for its zeros.
// ctx is checked between chunks, since such a file can take long to read.
func (u *unpacker) writeContent(ctx context.Context, f *os.File, r io.Reader) (int64, error) {
	var off, end int64 // end is where the data written so far ends
	for {
		if err := ctx.Err(); err != nil {
			return off, err
		}
		n, err := r.Read(u.buf)
		if n > 0 && !bytes.Equal(u.buf[:n], u.zero[:n]) {
			if _, werr := f.WriteAt(u.buf[:n], off); werr != nil {
				return off, werr
			}
			end = off + int64(n)
		}
		off += int64(n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return off, fmt.Errorf("read content: %w", err)
		}
	}
	// Truncate sets the size when the file ends in a hole.
	if end < off {
		if err := f.Truncate(off); err != nil {
			return off, err
		}
	}
	return off, nil
}

// symlink creates the symlink name pointing to target. The target is stored
// as written: only the container resolves it, except when kist resolves it
// inside the root for a later entry.
func (u *unpacker) symlink(name, target string, a attrs) error {
	if len(target) > maxNameLen {
		return fmt.Errorf("symlink target is %d bytes long, more than the %d allowed", len(target), maxNameLen)
	}
	dir, base := splitName(name)
	parent, err := u.openDir(dir)
	if err != nil {
		return err
	}
	err = u.createNew(parent, name, base, func() error {
		return os.NewSyscallError("symlinkat", unix.Symlinkat(target, fd(parent), base))
	})
	if err != nil {
		return err
	}
	n := node{entry: name, parent: parent, base: base, kind: unix.S_IFLNK}
	if err := u.setAttrs(n, a); err != nil {
		return err
	}
	u.stats.Symlinks++
	return nil
}

// mknod creates a FIFO or device node.
func (u *unpacker) mknod(name string, hdr *tar.Header, a attrs) error {
	kind := map[byte]uint32{
		tar.TypeChar:  unix.S_IFCHR,
		tar.TypeBlock: unix.S_IFBLK,
		tar.TypeFifo:  unix.S_IFIFO,
	}[hdr.Typeflag]
	var dev uint64
	if kind != unix.S_IFIFO {
		// Linux device numbers have 12 bits of major and 20 bits of minor,
		// and mknodat would silently truncate larger ones to another device.
		if hdr.Devmajor < 0 || hdr.Devmajor >= 1<<12 || hdr.Devminor < 0 || hdr.Devminor >= 1<<20 {
			return fmt.Errorf("invalid device number %d:%d", hdr.Devmajor, hdr.Devminor)
		}
		dev = unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor))
	}

	dir, base := splitName(name)
	parent, err := u.openDir(dir)
	if err != nil {
		return err
	}
	return u.mknodAt(node{entry: name, parent: parent, base: base, kind: kind}, dev, a)
}

// mknodAt replaces n.base in n.parent with a node of type n.kind. A device
// that mknod may not create (EPERM, as in a user namespace) is skipped and
// listed in Stats.SkippedDevices.
func (u *unpacker) mknodAt(n node, dev uint64, a attrs) error {
	// Mode 0600 until setAttrs applies the real one.
	err := u.createNew(n.parent, n.entry, n.base, func() error {
		return os.NewSyscallError("mknodat", unix.Mknodat(fd(n.parent), n.base, n.kind|0o600, int(dev)))
	})
	if errors.Is(err, unix.EPERM) && n.kind != unix.S_IFIFO {
		logrus.WithField("entry", n.entry).Debug("skip device node: mknod not permitted")
		u.stats.SkippedDevices = append(u.stats.SkippedDevices, n.entry)
		u.stats.Skipped++
		return nil
	}
	if err != nil {
		return err
	}
	if err := u.setAttrs(n, a); err != nil {
		return err
	}
	u.stats.Specials++
	return nil
}
