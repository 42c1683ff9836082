package unpack

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// maxNameLen is Linux's PATH_MAX. A process in the container could not open
// a longer name by its absolute path, and the bound also limits how deep a
// tree one entry can create.
const maxNameLen = 4096

// Whiteout names, as defined by the OCI image specification (layer.md).
const (
	whiteoutPrefix     = ".wh."
	whiteoutMetaPrefix = ".wh..wh."
	opaqueMarker       = ".wh..wh..opq"
)

var errRootEntry = errors.New("entry would replace the layer root")

// cleanName returns name relative to the layer root, the way tar does it: a
// leading "/" is dropped and ".." cannot climb above the root, so "/etc/x"
// becomes "etc/x" and "a/../../x" becomes "x". The root itself is "".
func cleanName(name string) (string, error) {
	if len(name) > maxNameLen {
		return "", fmt.Errorf("name is %d bytes long, more than the %d allowed", len(name), maxNameLen)
	}
	if strings.IndexByte(name, 0) >= 0 {
		return "", errors.New("name contains a NUL byte")
	}
	return strings.TrimPrefix(path.Clean("/"+name), "/"), nil
}

// splitName splits a cleaned name into its parent directory ("." for the
// root) and final component.
func splitName(name string) (dir, base string) {
	i := strings.LastIndexByte(name, '/')
	if i < 0 {
		return ".", name
	}
	return name[:i], name[i+1:]
}

// joinName joins a cleaned directory name ("" or "." for the root) and a
// component.
func joinName(dir, base string) string {
	if dir == "" || dir == "." {
		return base
	}
	return dir + "/" + base
}

// parentName returns the cleaned name of the directory containing name, ""
// for the root.
func parentName(name string) string {
	i := strings.LastIndexByte(name, '/')
	if i < 0 {
		return ""
	}
	return name[:i]
}

// whiteoutKind classifies an entry by its final component.
type whiteoutKind int

const (
	notWhiteout whiteoutKind = iota
	whiteoutFile
	whiteoutOpaque
	whiteoutMeta // aufs metadata such as .wh..wh.plnk, with no meaning here
)

// classify returns the whiteout kind of a cleaned name. A whiteout name used
// as a parent directory is an error, except for aufs metadata directories,
// whose contents are metadata too.
func classify(name string) (whiteoutKind, error) {
	parts := strings.Split(name, "/")
	for _, part := range parts[:len(parts)-1] {
		if strings.HasPrefix(part, whiteoutMetaPrefix) {
			return whiteoutMeta, nil
		}
		if strings.HasPrefix(part, whiteoutPrefix) {
			return notWhiteout, fmt.Errorf("whiteout name %q used as a directory", part)
		}
	}
	base := parts[len(parts)-1]
	switch {
	case base == opaqueMarker:
		return whiteoutOpaque, nil
	case strings.HasPrefix(base, whiteoutMetaPrefix):
		return whiteoutMeta, nil
	case strings.HasPrefix(base, whiteoutPrefix):
		return whiteoutFile, nil
	}
	return notWhiteout, nil
}
