package container

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"golang.org/x/sys/unix"
)

// ErrCommandNotFound means the container's command does not exist in the
// image; docker exits 127 for it.
var ErrCommandNotFound = errors.New("executable file not found")

// ErrCommandNotExecutable means the command exists but cannot be
// executed; docker exits 126 for it.
var ErrCommandNotExecutable = errors.New("not executable")

// checkCommand finds argv0 in the container's rootfs as execve in the
// container would, through PATH unless it contains a slash, so that kist
// can report a missing command before starting anything.
func checkCommand(rootfs, argv0, cwd, pathEnv string) error {
	if strings.Contains(argv0, "/") {
		p := argv0
		if !path.IsAbs(p) {
			p = path.Join(cwd, p)
		}
		return checkExecutable(rootfs, argv0, p)
	}

	for _, dir := range strings.Split(pathEnv, ":") {
		if dir == "" {
			dir = "."
		}
		if !path.IsAbs(dir) {
			dir = path.Join(cwd, dir)
		}
		err := checkExecutable(rootfs, argv0, path.Join(dir, argv0))
		if errors.Is(err, ErrCommandNotFound) {
			continue
		}
		return err
	}
	return fmt.Errorf("%w: %q in $PATH of the container (%s); check the command or install it in the image",
		ErrCommandNotFound, argv0, pathEnv)
}

func checkExecutable(rootfs, argv0, p string) error {
	handle, err := pathrs.OpenInRoot(rootfs, p)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ENOTDIR) {
		return fmt.Errorf("%w: %q does not exist in the image", ErrCommandNotFound, argv0)
	}
	if err != nil {
		return fmt.Errorf("look up command %q in the image: %w", argv0, err)
	}
	defer handle.Close()

	var st unix.Stat_t
	if err := unix.Fstat(int(handle.Fd()), &st); err != nil {
		return fmt.Errorf("look up command %q in the image: %w", argv0, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return fmt.Errorf("%w: %q is not a regular file", ErrCommandNotExecutable, argv0)
	}
	if st.Mode&0o111 == 0 {
		return fmt.Errorf("%w: %q has no execute permission (mode %04o)", ErrCommandNotExecutable, argv0, st.Mode&0o7777)
	}
	return nil
}
