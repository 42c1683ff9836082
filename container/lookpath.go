package container

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
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

// checkCommand finds argv0 in the container's rootfs as execvp in the
// container would, so that kist can report a missing command before
// starting anything. It searches PATH unless the name contains a slash.
// It skips entries that exist but cannot be executed, and reports one if
// nothing else matches. It follows a script's #! line to its interpreter.
func checkCommand(rootfs, argv0, cwd, pathEnv string) error {
	if argv0 == "" {
		return fmt.Errorf("%w: the command is empty", ErrCommandNotFound)
	}
	if strings.Contains(argv0, "/") {
		return checkExecutable(rootfs, argv0, resolve(cwd, argv0))
	}

	var notExecutable error
	for _, dir := range strings.Split(pathEnv, ":") {
		if dir == "" {
			dir = "."
		}
		err := checkExecutable(rootfs, argv0, resolve(cwd, path.Join(dir, argv0)))
		switch {
		case err == nil:
			return nil
		case errors.Is(err, ErrCommandNotExecutable) && notExecutable == nil:
			notExecutable = err
		case !errors.Is(err, ErrCommandNotFound) && !errors.Is(err, ErrCommandNotExecutable):
			return err
		}
	}
	if notExecutable != nil {
		return notExecutable
	}
	return fmt.Errorf("%w: %q in $PATH of the container (%s); check the command or install it in the image",
		ErrCommandNotFound, argv0, pathEnv)
}

func resolve(cwd, p string) string {
	if path.IsAbs(p) {
		return p
	}
	return path.Join(cwd, p)
}

// checkExecutable checks one candidate path for argv0, and the
// interpreter that its #! line names.
func checkExecutable(rootfs, argv0, p string) error {
	handle, err := pathrs.OpenInRoot(rootfs, p)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP) {
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
	return checkInterpreter(rootfs, argv0, handle)
}

// checkInterpreter reports a script whose #! interpreter is missing as
// not found, as the shell does, instead of a bare exit status 255 from
// the container's init.
func checkInterpreter(rootfs, argv0 string, handle *os.File) error {
	f, err := pathrs.Reopen(handle, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK)
	if err != nil {
		// Execute permission without read permission is allowed for
		// binaries; the kernel will decide.
		return nil
	}
	defer f.Close()
	head := make([]byte, 256)
	n, _ := f.Read(head)
	head = head[:n]
	if !bytes.HasPrefix(head, []byte("#!")) {
		return nil
	}
	line, _, _ := bytes.Cut(head[2:], []byte("\n"))
	fields := strings.Fields(string(line))
	if len(fields) == 0 || !path.IsAbs(fields[0]) {
		return nil
	}
	interpreter := fields[0]
	ih, err := pathrs.OpenInRoot(rootfs, interpreter)
	if err != nil {
		return fmt.Errorf("%w: the interpreter %s of %q does not exist in the image", ErrCommandNotFound, interpreter, argv0)
	}
	ih.Close()
	return nil
}
