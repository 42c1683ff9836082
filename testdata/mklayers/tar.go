package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"path"
	"time"
)

// corpusTime is the modification time of every entry that sets none.
var corpusTime = time.Date(2021, 2, 3, 4, 5, 6, 0, time.UTC)

// entry is one tar entry, or, when raw is set, blocks written into the
// stream as they are, for formats that archive/tar cannot write.
type entry struct {
	hdr  tar.Header
	body string
	raw  []byte
}

func file(name, body string, mode int64) entry {
	return entry{hdr: tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode}, body: body}
}

func dir(name string, mode int64) entry {
	return entry{hdr: tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: mode}}
}

func symlink(name, target string) entry {
	return entry{hdr: tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777}}
}

func hardlink(name, target string) entry {
	return entry{hdr: tar.Header{Typeflag: tar.TypeLink, Name: name, Linkname: target}}
}

func fifo(name string, mode int64) entry {
	return entry{hdr: tar.Header{Typeflag: tar.TypeFifo, Name: name, Mode: mode}}
}

func device(name string, typeflag byte, major, minor, mode int64) entry {
	return entry{hdr: tar.Header{Typeflag: typeflag, Name: name, Mode: mode, Devmajor: major, Devminor: minor}}
}

// whiteout returns the entry that deletes name, a path in the layers below,
// as the OCI image specification defines it: an empty file ".wh.BASE" in
// the same directory.
func whiteout(name string) entry {
	dir, base := path.Split(name)
	return file(dir+".wh."+base, "", 0o644)
}

// opaque returns the entry that hides everything the layers below have in
// dir.
func opaque(dir string) entry {
	return file(path.Join(dir, ".wh..wh..opq"), "", 0o644)
}

func owned(e entry, uid, gid int) entry {
	e.hdr.Uid, e.hdr.Gid = uid, gid
	return e
}

func modified(e entry, mtime time.Time) entry {
	e.hdr.ModTime = mtime
	return e
}

func inFormat(e entry, format tar.Format) entry {
	e.hdr.Format = format
	return e
}

// withPAX adds PAX records, such as SCHILY.xattr.NAME for an xattr.
func withPAX(e entry, records map[string]string) entry {
	e.hdr.PAXRecords = records
	return e
}

func rawBlocks(b []byte) entry { return entry{raw: b} }

// tarStream returns the tar stream of entries. Regular files get the size
// of their body, and entries without a time get corpusTime, except a pax
// global header, which archive/tar writes only without one.
func tarStream(entries []entry) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		if e.raw != nil {
			// Flush pads the previous entry, so the raw blocks start on a
			// header boundary.
			if err := tw.Flush(); err != nil {
				return nil, err
			}
			buf.Write(e.raw)
			continue
		}
		hdr := e.hdr
		if hdr.Typeflag == tar.TypeReg {
			hdr.Size = int64(len(e.body))
		}
		if hdr.ModTime.IsZero() && hdr.Typeflag != tar.TypeXGlobalHeader {
			hdr.ModTime = corpusTime
		}
		if err := tw.WriteHeader(&hdr); err != nil {
			return nil, fmt.Errorf("write header %q: %w", hdr.Name, err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			return nil, fmt.Errorf("write content %q: %w", hdr.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
