package oci

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"github.com/moby/sys/user"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// User is a container user resolved against the image's files.
type User struct {
	specs.User
	// Home is the user's home directory from /etc/passwd, or /.
	Home string
}

// ResolveUser resolves a docker --user value (name, uid, name:group or
// uid:gid; empty means root) with the /etc/passwd and /etc/group of the
// container's rootfs. The files are opened inside rootfs, so a symlink in
// the image cannot make kist read a file of the host.
func ResolveUser(rootfs, spec string) (User, error) {
	passwd, err := openInRoot(rootfs, "/etc/passwd")
	if err != nil {
		return User{}, err
	}
	if passwd != nil {
		defer passwd.Close()
	}
	group, err := openInRoot(rootfs, "/etc/group")
	if err != nil {
		return User{}, err
	}
	if group != nil {
		defer group.Close()
	}

	defaults := &user.ExecUser{Uid: 0, Gid: 0, Home: "/"}
	exec, err := user.GetExecUser(spec, defaults, readerOrNil(passwd), readerOrNil(group))
	if err != nil {
		return User{}, fmt.Errorf("resolve user %q in the image: %w; use a user from the image's /etc/passwd or a numeric uid[:gid]", spec, err)
	}

	u := User{Home: exec.Home}
	u.UID = uint32(exec.Uid)
	u.GID = uint32(exec.Gid)
	for _, g := range exec.Sgids {
		if uint32(g) != u.GID {
			u.AdditionalGids = append(u.AdditionalGids, uint32(g))
		}
	}
	return u, nil
}

// openInRoot opens a file of the rootfs for reading, or returns nil when
// it does not exist.
func openInRoot(rootfs, name string) (*os.File, error) {
	handle, err := pathrs.OpenInRoot(rootfs, name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open %s in the image: %w", name, err)
	}
	defer handle.Close()

	// Only a regular file is read: opening a FIFO would block, and a
	// device could be anything. runc likewise treats such files as absent.
	var st unix.Stat_t
	if err := unix.Fstat(int(handle.Fd()), &st); err != nil {
		return nil, fmt.Errorf("open %s in the image: %w", name, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		logrus.Warnf("ignoring %s in the image: it is not a regular file", name)
		return nil, nil
	}
	f, err := pathrs.Reopen(handle, unix.O_RDONLY|unix.O_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("open %s in the image: %w", name, err)
	}
	return f, nil
}

// readerOrNil avoids handing GetExecUser a non-nil interface that holds a
// nil *os.File.
func readerOrNil(f *os.File) io.Reader {
	if f == nil {
		return nil
	}
	return f
}
