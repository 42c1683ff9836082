package unpack

import (
	"errors"
	"os"
	"strings"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// opaqueXattr marks a directory whose lower-layer contents overlayfs hides,
// in the user.* namespace that the userxattr mount option reads.
const opaqueXattr = "user.overlay.opaque"

// applyWhiteout handles name if it is a whiteout, opaque marker or aufs
// metadata entry, and reports whether it did. The type and metadata of such
// an entry carry no meaning.
func (u *unpacker) applyWhiteout(name string) (bool, error) {
	kind, err := classify(name)
	if err != nil {
		return true, err
	}
	dir, base := splitName(name)
	switch kind {
	case whiteoutFile:
		return true, u.whiteout(dir, strings.TrimPrefix(base, whiteoutPrefix))
	case whiteoutOpaque:
		return true, u.markOpaque(dir)
	case whiteoutMeta:
		logrus.WithField("entry", name).Debug("skip aufs metadata entry")
		u.stats.Skipped++
		return true, nil
	}
	return false, nil
}

// whiteout replaces target in dir, and whatever this layer created under
// that name, with the character device 0/0 that overlayfs reads as a
// whiteout.
func (u *unpacker) whiteout(dir, target string) error {
	if target == "" || target == "." || target == ".." {
		return errors.New("whiteout names no file")
	}
	parent, err := u.openDir(dir)
	if err != nil {
		return err
	}
	if err := u.replace(parent, joinName(dir, target), target); err != nil {
		return err
	}
	if err := unix.Mknodat(fd(parent), target, unix.S_IFCHR, 0); err != nil {
		return os.NewSyscallError("mknodat", err)
	}
	u.stats.Whiteouts++
	return nil
}

// markOpaque sets the opaque xattr on dir, creating it if needed. Entries of
// dir from this layer stay, wherever the marker sits in the tar stream.
func (u *unpacker) markOpaque(dir string) error {
	var d *os.File
	var err error
	if dir == "." {
		d, err = openDirectory(u.root, ".")
		u.stats.OpaqueRoot = true
		logrus.Debug("layer marks its root opaque")
	} else {
		d, err = u.openOpaqueDir(dir)
	}
	if err != nil {
		return err
	}
	defer d.Close()
	if err := setOpaque(d); err != nil {
		return err
	}
	u.stats.Opaques++
	return nil
}

func setOpaque(dir *os.File) error {
	err := unix.Fsetxattr(fd(dir), opaqueXattr, []byte("y"), 0)
	return os.NewSyscallError("fsetxattr", err)
}

// openOpaqueDir opens dir for reading. openDir returns an O_PATH handle
// when the directory already exists, and fsetxattr needs a real one.
func (u *unpacker) openOpaqueDir(dir string) (*os.File, error) {
	h, err := u.openDir(dir)
	if err != nil {
		return nil, err
	}
	return openDirectory(h, ".")
}
