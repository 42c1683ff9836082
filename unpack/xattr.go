package unpack

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sort"
	"strings"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// PAX record prefixes for extended attributes. Star and GNU tar write the
// value as is; libarchive (bsdtar) percent-encodes the name and writes the
// value in base64.
const (
	schilyXattrPrefix     = "SCHILY.xattr."
	libarchiveXattrPrefix = "LIBARCHIVE.xattr."
)

// reservedXattrPrefixes are xattrs that a layer must not set: overlayfs
// reads its metadata (opaque, redirect, metacopy) from the overlay ones, and
// kist's own record of an entry's owner is under user.kist.
var reservedXattrPrefixes = []string{"user.overlay.", "trusted.overlay.", "user.kist."}

// xattr is one extended attribute.
type xattr struct {
	name  string
	value []byte
}

// paxXattrs returns the xattrs in a header's PAX records, sorted by name.
// When both forms name the same xattr, the SCHILY record wins.
func paxXattrs(records map[string]string) ([]xattr, error) {
	values := make(map[string][]byte)
	for key, value := range records {
		if name, ok := strings.CutPrefix(key, schilyXattrPrefix); ok {
			values[name] = []byte(value)
		}
	}
	for key, value := range records {
		encoded, ok := strings.CutPrefix(key, libarchiveXattrPrefix)
		if !ok {
			continue
		}
		name, decoded, err := decodeLibarchiveXattr(encoded, value)
		if err != nil {
			return nil, fmt.Errorf("decode PAX record %q: %w", key, err)
		}
		if _, ok := values[name]; !ok {
			values[name] = decoded
		}
	}

	xattrs := make([]xattr, 0, len(values))
	for name, value := range values {
		if isReservedXattr(name) {
			logrus.WithField("xattr", name).Warn("skip xattr reserved for overlayfs and kist")
			continue
		}
		xattrs = append(xattrs, xattr{name: name, value: value})
	}
	sort.Slice(xattrs, func(i, j int) bool { return xattrs[i].name < xattrs[j].name })
	return xattrs, nil
}

func decodeLibarchiveXattr(encodedName, encodedValue string) (string, []byte, error) {
	name, err := url.PathUnescape(encodedName)
	if err != nil {
		return "", nil, err
	}
	value, err := base64.StdEncoding.DecodeString(encodedValue)
	if err != nil {
		value, err = base64.RawStdEncoding.DecodeString(encodedValue)
	}
	return name, value, err
}

func isReservedXattr(name string) bool {
	for _, prefix := range reservedXattrPrefixes {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return false
}

// setXattr sets one xattr on n. An xattr that the filesystem or the user
// namespace rejects (trusted.* needs CAP_SYS_ADMIN in the initial
// namespace, user.* is not allowed on symlinks) is skipped.
func setXattr(n node, x xattr) error {
	err := n.setxattr(x.name, x.value)
	if err == nil {
		return nil
	}
	if !errors.Is(err, unix.EPERM) && !errors.Is(err, unix.ENOTSUP) {
		return fmt.Errorf("set xattr %q: %w", x.name, err)
	}
	log := logrus.WithFields(logrus.Fields{"entry": n.entry, "xattr": x.name}).WithError(err)
	if x.name == "security.capability" {
		log.Warn("skip file capabilities that cannot be set here")
	} else {
		log.Debug("skip xattr that cannot be set here")
	}
	return nil
}

// readXattrs returns the xattrs of an entry in a lower layer, through its
// open handle f if it has one, else through procPath without following a
// symlink. The overlay xattrs describe the layer, not the entry, and are
// left out.
func readXattrs(f *os.File, procPath string) ([]xattr, error) {
	list := func(dest []byte) (int, error) { return unix.Llistxattr(procPath, dest) }
	get := func(name string, dest []byte) (int, error) { return unix.Lgetxattr(procPath, name, dest) }
	if f != nil {
		list = func(dest []byte) (int, error) { return unix.Flistxattr(fd(f), dest) }
		get = func(name string, dest []byte) (int, error) { return unix.Fgetxattr(fd(f), name, dest) }
	}

	names, err := readSized(list)
	if errors.Is(err, unix.ENOTSUP) {
		return nil, nil
	}
	if err != nil {
		return nil, os.NewSyscallError("listxattr", err)
	}
	var xattrs []xattr
	for _, name := range strings.Split(string(names), "\x00") {
		if name == "" || strings.HasPrefix(name, "user.overlay.") || strings.HasPrefix(name, "trusted.overlay.") {
			continue
		}
		value, err := readSized(func(dest []byte) (int, error) { return get(name, dest) })
		if err != nil {
			return nil, fmt.Errorf("getxattr %q: %w", name, err)
		}
		xattrs = append(xattrs, xattr{name: name, value: value})
	}
	return xattrs, nil
}

// readSized calls a list or get xattr call twice, first for the size and
// then for the data, retrying if the data grew in between.
func readSized(call func(dest []byte) (int, error)) ([]byte, error) {
	for {
		size, err := call(nil)
		if err != nil || size == 0 {
			return nil, err
		}
		buf := make([]byte, size)
		n, err := call(buf)
		if errors.Is(err, unix.ERANGE) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return buf[:n], nil
	}
}
