package testimage

import (
	"archive/tar"
	"fmt"
	"path"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// The OCI image spec marks deletions in a layer with files of these names.
const (
	// WhiteoutPrefix starts the name of a file that deletes its namesake
	// from the layers below.
	WhiteoutPrefix = ".wh."
	// OpaqueWhiteout is the name of a file that hides every child of its
	// directory that the layers below contain.
	OpaqueWhiteout = ".wh..wh..opq"
)

// Entry is one member of a layer's tar stream.
type Entry struct {
	// Name is the path inside the layer without a leading slash, such as
	// "etc/passwd".
	Name string
	// Type is a tar type flag. Zero means tar.TypeReg.
	Type byte
	// Mode is the permission bits with the setuid, setgid and sticky bits,
	// as tar.Header.Mode stores them (04755 for a setuid binary).
	Mode     int64
	UID, GID int
	// Linkname is the target of a symlink, or the path inside the layer
	// that a hardlink refers to.
	Linkname string
	Content  []byte
	// ModTime is the modification time. Zero means FixedTime.
	ModTime time.Time
}

// FixedTime is the modification time of entries that set none and the
// creation time of images, so that content built twice has one digest.
func FixedTime() time.Time {
	return time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
}

// File returns a regular file owned by root.
func File(name, content string, mode int64) Entry {
	return Entry{Name: name, Type: tar.TypeReg, Mode: mode, Content: []byte(content)}
}

// Dir returns a directory owned by root.
func Dir(name string, mode int64) Entry {
	return Entry{Name: name, Type: tar.TypeDir, Mode: mode}
}

// Symlink returns a symbolic link to target.
func Symlink(name, target string) Entry {
	return Entry{Name: name, Type: tar.TypeSymlink, Mode: 0o777, Linkname: target}
}

// Hardlink returns a hardlink to target, an earlier entry of the same layer.
func Hardlink(name, target string) Entry {
	return Entry{Name: name, Type: tar.TypeLink, Mode: 0o644, Linkname: target}
}

// Whiteout returns the entry that deletes p, and everything below it,
// from the layers underneath.
func Whiteout(p string) Entry {
	dir, base := path.Split(strings.TrimSuffix(p, "/"))
	return File(dir+WhiteoutPrefix+base, "", 0o644)
}

// Opaque returns the entry that makes dir opaque: the directory keeps
// only the children that this layer and the layers above it add.
func Opaque(dir string) Entry {
	return File(path.Join(dir, OpaqueWhiteout), "", 0o644)
}

// header returns the tar header of e.
func (e Entry) header() *tar.Header {
	h := &tar.Header{
		Typeflag: e.Type,
		Name:     e.Name,
		Mode:     e.Mode,
		Uid:      e.UID,
		Gid:      e.GID,
		Linkname: e.Linkname,
		ModTime:  e.ModTime,
	}
	if h.Typeflag == 0 {
		h.Typeflag = tar.TypeReg
	}
	if h.ModTime.IsZero() {
		h.ModTime = FixedTime()
	}
	if h.Typeflag == tar.TypeReg {
		h.Size = int64(len(e.Content))
	}
	if h.Typeflag == tar.TypeDir && !strings.HasSuffix(h.Name, "/") {
		h.Name += "/"
	}
	return h
}

// LayerFromEntries returns a layer containing entries in the order given.
// Entries are written as they are: a whiteout is an ordinary empty file
// and a parent directory is only present if the list contains it.
func LayerFromEntries(entries []Entry, opts LayerOptions) (v1.Layer, error) {
	return writeLayer(opts, func(tw *tar.Writer) error {
		for _, e := range entries {
			if err := tw.WriteHeader(e.header()); err != nil {
				return fmt.Errorf("write tar header %s: %w", e.Name, err)
			}
			if _, err := tw.Write(e.Content); err != nil {
				return fmt.Errorf("write tar entry %s: %w", e.Name, err)
			}
		}
		return nil
	})
}
