package unpack

import (
	"archive/tar"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// ownerXattr records the image's owner of an entry, as "UID:GID", when the
// user namespace has no mapping for it and the entry is owned by 0:0 instead.
const ownerXattr = "user.kist.owner"

// maxID is the largest valid uid or gid: (uid_t)-1 means "unchanged" to chown.
const maxID = 1<<32 - 2

// attrs is the metadata applied to an entry after it is created.
type attrs struct {
	uid, gid     int
	mode         uint32 // permission bits, with setuid, setgid and sticky
	atime, mtime time.Time
	xattrs       []xattr
}

// headerAttrs returns the metadata recorded in a tar header.
func headerAttrs(hdr *tar.Header) (attrs, error) {
	if hdr.Uid < 0 || hdr.Uid > maxID || hdr.Gid < 0 || hdr.Gid > maxID {
		return attrs{}, fmt.Errorf("invalid owner %d:%d", hdr.Uid, hdr.Gid)
	}
	xattrs, err := paxXattrs(hdr.PAXRecords)
	if err != nil {
		return attrs{}, err
	}
	a := attrs{
		uid:    hdr.Uid,
		gid:    hdr.Gid,
		mode:   uint32(hdr.Mode) & 0o7777,
		atime:  hdr.AccessTime,
		mtime:  hdr.ModTime,
		xattrs: xattrs,
	}
	if a.atime.IsZero() {
		a.atime = a.mtime
	}
	return a, nil
}

// statAttrs returns the metadata of an existing entry.
func statAttrs(st *unix.Stat_t, xattrs []xattr) attrs {
	return attrs{
		uid:    int(st.Uid),
		gid:    int(st.Gid),
		mode:   st.Mode & 0o7777,
		atime:  time.Unix(st.Atim.Unix()),
		mtime:  time.Unix(st.Mtim.Unix()),
		xattrs: xattrs,
	}
}

// times returns the access and modification times for utimensat.
func (a attrs) times() [2]unix.Timespec {
	return [2]unix.Timespec{
		{Sec: a.atime.Unix(), Nsec: int64(a.atime.Nanosecond())},
		{Sec: a.mtime.Unix(), Nsec: int64(a.mtime.Nanosecond())},
	}
}

// node is an entry just created inside the root. Every operation on it goes
// through its own handle or its parent's, never through a path on the host.
type node struct {
	entry  string   // cleaned name, for messages
	parent *os.File // directory that contains the entry
	base   string   // final component, "." for the root
	kind   uint32   // file type, unix.S_IFREG and so on
	file   *os.File // open handle for regular files and directories, else nil
}

func (n node) chown(uid, gid int) error {
	if n.file != nil {
		return os.NewSyscallError("fchown", unix.Fchown(fd(n.file), uid, gid))
	}
	err := unix.Fchownat(fd(n.parent), n.base, uid, gid, unix.AT_SYMLINK_NOFOLLOW)
	return os.NewSyscallError("fchownat", err)
}

func (n node) chmod(mode uint32) error {
	switch {
	case n.kind == unix.S_IFLNK:
		return nil // Linux ignores the mode of a symlink and cannot change it.
	case n.file != nil:
		return os.NewSyscallError("fchmod", unix.Fchmod(fd(n.file), mode))
	}
	err := unix.Fchmodat(fd(n.parent), n.base, mode, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.EOPNOTSUPP) {
		// Linux before 6.6 has no fchmodat2, so the flag is not supported.
		// NOTE: plain fchmodat follows a symlink, but the entry was just
		// created as a FIFO or device in a directory only kist writes to.
		err = unix.Fchmodat(fd(n.parent), n.base, mode, 0)
	}
	return os.NewSyscallError("fchmodat", err)
}

func (n node) setxattr(name string, value []byte) error {
	if n.file != nil {
		return os.NewSyscallError("fsetxattr", unix.Fsetxattr(fd(n.file), name, value, 0))
	}
	return os.NewSyscallError("lsetxattr", unix.Lsetxattr(n.procPath(), name, value, 0))
}

// procPath names the entry through the parent's descriptor in /proc, for
// the xattr calls, which have no *at form before Linux 6.13. The l* calls do
// not follow the final component, so the path cannot lead outside the parent.
func (n node) procPath() string {
	return fmt.Sprintf("/proc/self/fd/%d/%s", fd(n.parent), n.base)
}

func (n node) setTimes(ts [2]unix.Timespec) error {
	err := unix.UtimesNanoAt(fd(n.parent), n.base, ts[:], unix.AT_SYMLINK_NOFOLLOW)
	return os.NewSyscallError("utimensat", err)
}

// setAttrs applies a to n. Order matters: chown clears setuid, setgid and
// security.capability, so the mode and xattrs come after it. Directory
// times are recorded and set once the whole layer is unpacked.
func (u *unpacker) setAttrs(n node, a attrs) error {
	if err := u.chown(n, a.uid, a.gid); err != nil {
		return err
	}
	if err := n.chmod(a.mode); err != nil {
		return err
	}
	for _, x := range a.xattrs {
		if err := setXattr(n, x); err != nil {
			return err
		}
	}
	if n.kind == unix.S_IFDIR {
		u.dirTimes[n.entry] = a.times()
		return nil
	}
	return n.setTimes(a.times())
}

// chown sets the owner of n. In a user namespace the kernel rejects an ID
// with no mapping with EINVAL; the entry is then owned by 0:0 and the image's
// owner is kept in the ownerXattr xattr.
func (u *unpacker) chown(n node, uid, gid int) error {
	err := n.chown(uid, gid)
	if !errors.Is(err, unix.EINVAL) {
		return err
	}
	if err := n.chown(0, 0); err != nil {
		return err
	}
	if n.kind != unix.S_IFREG && n.kind != unix.S_IFDIR {
		// Linux allows user.* xattrs only on regular files and directories.
		logrus.WithFields(logrus.Fields{"entry": n.entry, "uid": uid, "gid": gid}).
			Debug("owner has no mapping in this user namespace and cannot be recorded")
		return nil
	}
	value := fmt.Sprintf("%d:%d", uid, gid)
	if err := n.setxattr(ownerXattr, []byte(value)); err != nil {
		return fmt.Errorf("record owner %s: %w", value, err)
	}
	return nil
}

// setDirTimes sets the times of every directory entry, deepest first, so
// that setting a directory's times does not disturb its parent's. Names of
// the same depth are sorted, which puts siblings together, so their parent
// is resolved once.
func (u *unpacker) setDirTimes() error {
	names := make([]string, 0, len(u.dirTimes))
	for name := range u.dirTimes {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool {
		di, dj := depth(names[i]), depth(names[j])
		if di != dj {
			return di > dj
		}
		return names[i] < names[j]
	})
	for _, name := range names {
		if err := u.setDirTime(name, u.dirTimes[name]); err != nil {
			return fmt.Errorf("set times of directory %q: %w", name, err)
		}
	}
	return nil
}

func depth(name string) int {
	if name == "" {
		return 0
	}
	return strings.Count(name, "/") + 1
}

func (u *unpacker) setDirTime(name string, ts [2]unix.Timespec) error {
	if name == "" {
		return node{parent: u.root, base: "."}.setTimes(ts)
	}
	dir, base := splitName(name)
	parent := u.dirs.get(dir)
	if parent == nil {
		var err error
		parent, err = pathrs.OpenatInRoot(u.root, dir)
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
			return nil // A later entry removed the directory by another name.
		}
		if err != nil {
			return err
		}
		u.dirs.put(dir, parent)
	}
	err := node{parent: parent, base: base}.setTimes(ts)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	return err
}
