package testimage

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// LayerFromDir returns a layer containing the tree below root, in lexical
// order, without an entry for root itself. Entries keep their type,
// permission bits (setuid, setgid and sticky included), numeric owner and
// modification time to the second. Files that share an inode become
// hardlinks to the first path seen. Devices and FIFOs are stored as such;
// sockets are rejected. Extended attributes are not copied.
func LayerFromDir(root string, opts LayerOptions) (v1.Layer, error) {
	return writeLayer(opts, func(tw *tar.Writer) error {
		w := treeWriter{tw: tw, root: root, links: map[inode]string{}}
		return filepath.WalkDir(root, w.add)
	})
}

// inode identifies a file across the paths that link to it.
type inode struct {
	dev, ino uint64
}

// treeWriter writes the files of one directory tree to a tar stream.
type treeWriter struct {
	tw    *tar.Writer
	root  string
	links map[inode]string
}

func (w treeWriter) add(p string, d fs.DirEntry, err error) error {
	if err != nil {
		return err
	}
	rel, err := filepath.Rel(w.root, p)
	if err != nil {
		return err
	}
	if rel == "." {
		return nil
	}
	info, err := d.Info()
	if err != nil {
		return err
	}
	hdr, err := w.header(p, filepath.ToSlash(rel), info)
	if err != nil {
		return err
	}
	if err := w.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("write tar header %s: %w", rel, err)
	}
	if hdr.Typeflag != tar.TypeReg {
		return nil
	}
	return copyFile(w.tw, p)
}

// header returns the tar header for the file at p, named rel in the layer.
func (w treeWriter) header(p, rel string, info fs.FileInfo) (*tar.Header, error) {
	var target string
	if info.Mode()&fs.ModeSymlink != 0 {
		var err error
		if target, err = os.Readlink(p); err != nil {
			return nil, err
		}
	}
	hdr, err := tar.FileInfoHeader(info, target)
	if err != nil {
		return nil, fmt.Errorf("archive %s: %w", p, err)
	}
	hdr.Name = rel
	if info.IsDir() {
		hdr.Name += "/"
	}
	// Names from the host's user database would describe the host, not
	// the tree, so only the numeric IDs are kept.
	hdr.Uname, hdr.Gname = "", ""
	hdr.AccessTime, hdr.ChangeTime = time.Time{}, time.Time{}

	st, ok := info.Sys().(*syscall.Stat_t)
	if ok && info.Mode().IsRegular() && st.Nlink > 1 {
		id := inode{dev: uint64(st.Dev), ino: st.Ino}
		if first, seen := w.links[id]; seen {
			hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
		} else {
			w.links[id] = rel
		}
	}
	return hdr, nil
}

func copyFile(w io.Writer, p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := io.Copy(w, f); err != nil {
		return fmt.Errorf("archive %s: %w", p, err)
	}
	return nil
}
