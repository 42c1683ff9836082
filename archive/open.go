package archive

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/kist-project/kist/blobimage"
)

// Format names an archive format by its transport name.
type Format string

// The formats kist reads and writes.
const (
	DockerArchive Format = "docker-archive"
	OCIArchive    Format = "oci-archive"
	OCIDir        Format = "oci-dir"
)

// Archive is an open image archive file.
type Archive struct {
	// Format is DockerArchive or OCIArchive.
	Format Format
	file   string
	f      *os.File
	idx    *tarIndex
	// layers caches the docker-archive layers already described.
	layers map[string]blobimage.Layer
}

// Entry is one image of an archive.
type Entry struct {
	Image v1.Image
	// Names are the image's names in canonical form, such as
	// docker.io/library/busybox:latest; an untagged image has none.
	Names []string
	// Ref is the name the archive itself gives the image: a RepoTag of a
	// docker-archive or the org.opencontainers.image.ref.name annotation
	// of an oci-archive.
	Ref string
}

// Open opens the archive file and detects its format: a docker-archive
// has manifest.json, an oci-archive has index.json and oci-layout.
func Open(file string) (*Archive, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("open archive: %w", err)
	}
	a, err := open(file, f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return a, nil
}

// OpenFile reads the archive in f, an open regular file, which name
// names in errors. Close closes f.
func OpenFile(f *os.File, name string) (*Archive, error) {
	return open(name, f)
}

func open(file string, f *os.File) (*Archive, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("open archive: %w", err)
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("%s is a directory, not an archive file; an OCI layout directory is read as oci:%s", file, file)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w; kist reads archives from files, so save a stream to a file first", file, ErrNotRegular)
	}
	if fi.Size() == 0 {
		return nil, fmt.Errorf("%s is empty, not an image archive", file)
	}
	if err := checkUncompressed(file, f); err != nil {
		return nil, err
	}

	idx, err := indexTar(file, f, fi.Size())
	if err != nil {
		return nil, err
	}
	a := &Archive{file: file, f: f, idx: idx}
	switch {
	case idx.has("manifest.json"):
		a.Format = DockerArchive
	case idx.has("index.json") && idx.has("oci-layout"):
		a.Format = OCIArchive
	default:
		return nil, fmt.Errorf("%s is neither a docker-archive (it has no manifest.json) nor an oci-archive (it has no index.json and oci-layout)", file)
	}
	return a, nil
}

// checkUncompressed rejects a compressed archive with advice, because
// the reader needs random access to the tar file.
func checkUncompressed(file string, f *os.File) error {
	magic, _ := bufio.NewReader(f).Peek(4)
	if _, err := f.Seek(0, 0); err != nil {
		return fmt.Errorf("read %s: %w", file, err)
	}
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		return fmt.Errorf("%s is %w with gzip; decompress it first, for example with gunzip", file, ErrCompressed)
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return fmt.Errorf("%s is %w with zstd; decompress it first, for example with unzstd", file, ErrCompressed)
	}
	return nil
}

// Errors of Open and OpenFile for input that a caller can copy into a
// plain, uncompressed file and open again.
var (
	ErrNotRegular = errors.New("not a regular file")
	ErrCompressed = errors.New("compressed")
)

// Close closes the archive file.
func (a *Archive) Close() error { return a.f.Close() }

// Images returns every image in the archive. From an index of several
// platforms it picks platform.
func (a *Archive) Images(platform v1.Platform) ([]Entry, error) {
	var entries []Entry
	var err error
	if a.Format == DockerArchive {
		entries, err = a.dockerImages()
	} else {
		entries, err = a.ociImages(platform)
	}
	if err != nil {
		return nil, fmt.Errorf("archive %s: %w", a.file, err)
	}
	return entries, nil
}

// errNoImages is wrapped by the error of an archive that lists no image.
var errNoImages = errors.New("the archive lists no image")
