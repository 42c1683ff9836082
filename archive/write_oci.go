package archive

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ociLayoutFile is the content of an OCI layout's oci-layout file.
const ociLayoutFile = `{"imageLayoutVersion":"1.0.0"}`

// WriteOCIArchive writes images as an oci-archive to w. Each image must
// have an OCI manifest. Each name of an image becomes an index entry with
// the name in the org.opencontainers.image.ref.name annotation.
func WriteOCIArchive(w io.Writer, images []Entry) error {
	tw := tar.NewWriter(w)
	if err := writeLayout(&tarSink{tw: tw, written: map[string]bool{}}, images); err != nil {
		return err
	}
	return tw.Close()
}

// WriteOCIDir writes images as an OCI layout into dir, which must not
// exist yet or be empty. The layout is written next to dir and renamed
// into place, so a failure leaves no partial layout behind.
func WriteOCIDir(dir string, images []Entry) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("write OCI layout: %w", err)
	case len(entries) > 0:
		return fmt.Errorf("directory %s is not empty; name a new directory for the OCI layout", dir)
	}

	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return fmt.Errorf("write OCI layout: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := os.MkdirAll(filepath.Join(tmp, "blobs", "sha256"), 0o755); err != nil {
		return fmt.Errorf("write OCI layout: %w", err)
	}
	if err := writeLayout(&dirSink{dir: tmp}, images); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("write OCI layout: %w", err)
	}
	// rename(2) replaces an empty directory.
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("write OCI layout: %w", err)
	}
	return nil
}

// sink receives the files of an OCI layout.
type sink interface {
	// put stores a file of size bytes from r, unless it already has it.
	put(name string, r io.Reader, size int64) error
}

func writeLayout(s sink, images []Entry) error {
	if err := s.put("oci-layout", bytes.NewReader([]byte(ociLayoutFile)), int64(len(ociLayoutFile))); err != nil {
		return err
	}
	index := v1.IndexManifest{SchemaVersion: 2, MediaType: "application/vnd.oci.image.index.v1+json"}
	for _, e := range images {
		desc, err := writeImageBlobs(s, e.Image)
		if err != nil {
			return err
		}
		if len(e.Names) == 0 {
			index.Manifests = append(index.Manifests, desc)
		}
		for _, n := range e.Names {
			named := desc
			named.Annotations = map[string]string{refNameAnnotation: n}
			index.Manifests = append(index.Manifests, named)
		}
	}
	data, err := json.Marshal(index)
	if err != nil {
		return err
	}
	return s.put("index.json", bytes.NewReader(data), int64(len(data)))
}

// writeImageBlobs writes the layers, config and manifest of img and
// returns the manifest's descriptor.
func writeImageBlobs(s sink, img v1.Image) (v1.Descriptor, error) {
	layers, err := img.Layers()
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("read layers: %w", err)
	}
	for _, l := range layers {
		if err := writeLayerBlob(s, l); err != nil {
			return v1.Descriptor{}, err
		}
	}

	config, err := img.RawConfigFile()
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("read config: %w", err)
	}
	configDigest, err := img.ConfigName()
	if err != nil {
		return v1.Descriptor{}, err
	}
	if err := putBytes(s, configDigest, config); err != nil {
		return v1.Descriptor{}, err
	}

	manifest, err := img.RawManifest()
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("read manifest: %w", err)
	}
	digest, err := img.Digest()
	if err != nil {
		return v1.Descriptor{}, err
	}
	mediaType, err := img.MediaType()
	if err != nil {
		return v1.Descriptor{}, err
	}
	if err := putBytes(s, digest, manifest); err != nil {
		return v1.Descriptor{}, err
	}
	return v1.Descriptor{MediaType: mediaType, Digest: digest, Size: int64(len(manifest))}, nil
}

func writeLayerBlob(s sink, l v1.Layer) error {
	digest, err := l.Digest()
	if err != nil {
		return err
	}
	size, err := l.Size()
	if err != nil {
		return err
	}
	rc, err := l.Compressed()
	if err != nil {
		return fmt.Errorf("read layer %s: %w", digest, err)
	}
	defer rc.Close()
	if err := s.put(blobPath(digest), rc, size); err != nil {
		return fmt.Errorf("write layer %s: %w", digest, err)
	}
	return nil
}

func putBytes(s sink, digest v1.Hash, data []byte) error {
	return s.put(blobPath(digest), bytes.NewReader(data), int64(len(data)))
}

func blobPath(d v1.Hash) string {
	return path.Join("blobs", d.Algorithm, d.Hex)
}

// tarSink writes layout files into a tar stream.
type tarSink struct {
	tw      *tar.Writer
	written map[string]bool
}

func (t *tarSink) put(name string, r io.Reader, size int64) error {
	if t.written[name] {
		return nil
	}
	t.written[name] = true
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: size, ModTime: time.Unix(0, 0)}
	if err := t.tw.WriteHeader(hdr); err != nil {
		return err
	}
	// Read to the end even past size, so a verifying reader reports a
	// blob that is longer than its descriptor.
	n, err := io.Copy(t.tw, r)
	if err == nil && n != size {
		err = fmt.Errorf("%s has %d bytes, not %d", name, n, size)
	}
	return err
}

// dirSink writes layout files into a directory.
type dirSink struct {
	dir string
}

func (d *dirSink) put(name string, r io.Reader, size int64) error {
	target := filepath.Join(d.dir, filepath.FromSlash(name))
	if _, err := os.Stat(target); err == nil {
		return nil
	}
	f, err := os.CreateTemp(filepath.Dir(target), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	n, err := io.Copy(f, r)
	if err == nil && n != size {
		err = fmt.Errorf("%s has %d bytes, not %d", name, n, size)
	}
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), target)
}
