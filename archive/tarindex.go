package archive

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
)

// maxMembers caps the number of members an archive may have, so a hostile
// archive of empty members cannot make the index use unbounded memory.
const maxMembers = 1 << 20

// maxLinkHops is how many symlinks and hardlinks a member lookup
// follows before it reports a loop.
const maxLinkHops = 16

// member is one entry of a tar file.
type member struct {
	typeflag byte
	linkname string
	offset   int64
	size     int64
}

// tarIndex lists the members of a tar file by their cleaned names.
type tarIndex struct {
	file    string
	r       io.ReaderAt
	members map[string]member
}

// indexTar reads the headers of the tar file f, whose size is size, and
// checks every member name and type. f must be seekable, so the data of
// each member is skipped, not read.
func indexTar(file string, f *os.File, size int64) (*tarIndex, error) {
	idx := &tarIndex{file: file, r: f, members: map[string]member{}}
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s is not a valid tar file: %w", file, err)
		}
		offset, err := f.Seek(0, io.SeekCurrent)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", file, err)
		}
		if err := idx.add(hdr, offset, size); err != nil {
			return nil, err
		}
	}
	if len(idx.members) == 0 {
		return nil, fmt.Errorf("%s is not an image archive: it contains no files", file)
	}
	return idx, nil
}

func (idx *tarIndex) add(hdr *tar.Header, offset, fileSize int64) error {
	name, err := cleanMemberName(hdr.Name)
	if errors.Is(err, errArchiveRoot) && hdr.Typeflag == tar.TypeDir {
		// tar -C DIR -cf x.tar . writes DIR itself as the member "./".
		return nil
	}
	if err != nil {
		return fmt.Errorf("archive %s: member %q: %w", idx.file, hdr.Name, err)
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		return nil
	case tar.TypeReg, tar.TypeSymlink, tar.TypeLink:
	default:
		return fmt.Errorf("archive %s: member %q has tar type %q, but an image archive contains only files, directories and links",
			idx.file, hdr.Name, hdr.Typeflag)
	}
	if _, dup := idx.members[name]; dup {
		return fmt.Errorf("archive %s: member %q appears twice", idx.file, name)
	}
	if len(idx.members) >= maxMembers {
		return fmt.Errorf("archive %s has more than %d members", idx.file, maxMembers)
	}
	if hdr.Typeflag == tar.TypeReg && offset+hdr.Size > fileSize {
		return fmt.Errorf("archive %s is truncated: member %q needs %d bytes, but the file ends %d bytes into it",
			idx.file, name, hdr.Size, fileSize-offset)
	}
	idx.members[name] = member{typeflag: hdr.Typeflag, linkname: hdr.Linkname, offset: offset, size: hdr.Size}
	return nil
}

// errArchiveRoot is the error of cleanMemberName for a name, such as
// "./", that cleans to the archive root.
var errArchiveRoot = errors.New("the name refers to the archive's root directory, not a file")

// cleanMemberName returns a member name relative to the archive root, so
// "./index.json" becomes "index.json". It rejects absolute names and names
// with "..", which no image archive needs and which would point outside
// the archive if extracted.
func cleanMemberName(name string) (string, error) {
	if name == "" {
		return "", errors.New("the member name is empty")
	}
	if strings.HasPrefix(name, "/") {
		return "", errors.New("absolute member names are not allowed")
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", errors.New("member names with .. are not allowed")
		}
	}
	clean := path.Clean(name)
	if clean == "." {
		return "", errArchiveRoot
	}
	return clean, nil
}

// lookup returns the regular file that name refers to, following links
// among the members.
func (idx *tarIndex) lookup(name string) (member, error) {
	start := name
	for range maxLinkHops {
		clean, err := cleanMemberName(name)
		if err != nil {
			return member{}, fmt.Errorf("%s refers to %q: %w", start, name, err)
		}
		m, ok := idx.members[clean]
		if !ok {
			return member{}, fmt.Errorf("file %s is missing", clean)
		}
		switch m.typeflag {
		case tar.TypeReg:
			return m, nil
		case tar.TypeLink:
			name = m.linkname
		case tar.TypeSymlink:
			if strings.HasPrefix(m.linkname, "/") {
				return member{}, fmt.Errorf("%s is a symlink to the absolute path %s, outside the archive", clean, m.linkname)
			}
			name = path.Join(path.Dir(clean), m.linkname)
		}
	}
	return member{}, fmt.Errorf("%s: more than %d links in a row, probably a loop", start, maxLinkHops)
}

// has reports whether name is a member of any type.
func (idx *tarIndex) has(name string) bool {
	_, ok := idx.members[name]
	return ok
}

// open returns the content of the file name refers to.
func (idx *tarIndex) open(name string) (*io.SectionReader, error) {
	m, err := idx.lookup(name)
	if err != nil {
		return nil, err
	}
	return io.NewSectionReader(idx.r, m.offset, m.size), nil
}

// maxDocument caps the size of a JSON document in an archive: manifests,
// configs and index files. Registries cap manifests at 4 MiB; configs
// with long histories can be larger.
const maxDocument = 16 << 20

// readDocument reads the JSON document name, at most maxDocument bytes.
func (idx *tarIndex) readDocument(name string) ([]byte, error) {
	r, err := idx.open(name)
	if err != nil {
		return nil, err
	}
	if r.Size() > maxDocument {
		return nil, fmt.Errorf("%s is %d bytes, more than the limit of %d for a JSON document", name, r.Size(), maxDocument)
	}
	return io.ReadAll(r)
}
