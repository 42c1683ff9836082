package auth

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"

	"github.com/sirupsen/logrus"
)

// readRegular reads the credential file at path. It opens the file
// without blocking and checks its type before reading, because opening
// a named pipe for reading waits until a writer appears, which would hang
// kist. An error other than a missing file names the file and the fix.
//
// A file in a directory that the user may not search counts as missing,
// because it cannot be the user's. /run/containers may be root's with
// mode 0700, and other users look inside it when XDG_RUNTIME_DIR is
// unset.
func readRegular(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if errors.Is(err, fs.ErrPermission) {
		if _, statErr := os.Lstat(path); errors.Is(statErr, fs.ErrPermission) {
			logrus.WithField("file", path).Debug("credential file is in a directory this user cannot search; skipping it")
			return nil, fs.ErrNotExist
		}
	}
	if err != nil {
		return nil, unreadableError(path, err)
	}
	defer f.Close()

	info, err := f.Stat()
	if err != nil {
		return nil, unreadableError(path, err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("credential file %s is %s, not a regular file; remove it or replace it with a JSON file",
			path, describeType(info.Mode()))
	}
	if info.Size() > maxCredentialFileSize {
		return nil, tooLargeError(path, info.Size())
	}
	// The file may grow after the check, so the read stops past the limit.
	data, err := io.ReadAll(io.LimitReader(f, maxCredentialFileSize+1))
	if err != nil {
		return nil, unreadableError(path, err)
	}
	if len(data) > maxCredentialFileSize {
		return nil, tooLargeError(path, int64(len(data)))
	}
	return data, nil
}

// maxCredentialFileSize bounds the memory that reading one credential
// file takes. A file of 300,000 registries is about 12 MiB.
const maxCredentialFileSize = 64 << 20

func tooLargeError(path string, size int64) error {
	return fmt.Errorf("credential file %s is %d bytes, more than the %d MiB that kist reads; remove it or replace it with a smaller JSON file",
		path, size, maxCredentialFileSize>>20)
}

// unreadableError explains why the credential file path cannot be read.
func unreadableError(path string, err error) error {
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("credential file %s cannot be read (permission denied); make it readable for your user with chmod u+r %s as its owner, or remove it",
			path, path)
	}
	return fmt.Errorf("read credential file %s: %w; check the file or remove it", path, err)
}

// describeType names the type of a file that is not a regular file.
func describeType(mode fs.FileMode) string {
	switch {
	case mode.IsDir():
		return "a directory"
	case mode&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case mode&fs.ModeSocket != 0:
		return "a socket"
	case mode&fs.ModeDevice != 0:
		return "a device"
	}
	return "a special file"
}
