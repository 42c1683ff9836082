package testimage

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// member is the part of a tar header and body that the tests compare.
type member struct {
	Name     string
	Type     byte
	Mode     int64
	UID, GID int
	Linkname string
	Content  string
}

// readMembers returns the members of a layer's uncompressed tar stream.
func readMembers(t *testing.T, l v1.Layer) []member {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatalf("Uncompressed: %v", err)
	}
	defer rc.Close()
	var got []member
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return got
		}
		if err != nil {
			t.Fatalf("read tar: %v", err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("read %s: %v", hdr.Name, err)
		}
		got = append(got, member{
			Name: hdr.Name, Type: hdr.Typeflag, Mode: hdr.Mode,
			UID: hdr.Uid, GID: hdr.Gid, Linkname: hdr.Linkname,
			Content: string(body),
		})
	}
}

// sha256Of returns the digest of everything open returns.
func sha256Of(t *testing.T, open func() (io.ReadCloser, error)) (v1.Hash, int64) {
	t.Helper()
	rc, err := open()
	if err != nil {
		t.Fatalf("open layer: %v", err)
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		t.Fatalf("read layer: %v", err)
	}
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}, n
}

func TestLayerFromEntriesEncodings(t *testing.T) {
	entries := []Entry{
		Dir("bin", 0o755),
		File("bin/suid", "binary", 0o4755),
		Hardlink("bin/link", "bin/suid"),
		Symlink("bin/sh", "suid"),
		{Name: "home/user/", Type: tar.TypeDir, Mode: 0o700, UID: 1000, GID: 1000},
		Whiteout("etc/old"),
		Whiteout("usr/share/doc/"),
		Opaque("var/cache"),
	}
	want := []member{
		{Name: "bin/", Type: tar.TypeDir, Mode: 0o755},
		{Name: "bin/suid", Type: tar.TypeReg, Mode: 0o4755, Content: "binary"},
		{Name: "bin/link", Type: tar.TypeLink, Mode: 0o644, Linkname: "bin/suid"},
		{Name: "bin/sh", Type: tar.TypeSymlink, Mode: 0o777, Linkname: "suid"},
		{Name: "home/user/", Type: tar.TypeDir, Mode: 0o700, UID: 1000, GID: 1000},
		{Name: "etc/.wh.old", Type: tar.TypeReg, Mode: 0o644},
		{Name: "usr/share/.wh.doc", Type: tar.TypeReg, Mode: 0o644},
		{Name: "var/cache/.wh..wh..opq", Type: tar.TypeReg, Mode: 0o644},
	}
	tests := []struct {
		format      Format
		compression Compression
		mediaType   types.MediaType
		magic       []byte
	}{
		{Docker, Gzip, types.DockerLayer, []byte{0x1f, 0x8b}},
		{Docker, Uncompressed, types.DockerUncompressedLayer, []byte("bin/")},
		{OCI, Gzip, types.OCILayer, []byte{0x1f, 0x8b}},
		{OCI, Zstd, types.OCILayerZStd, []byte{0x28, 0xb5, 0x2f, 0xfd}},
		{OCI, Uncompressed, types.OCIUncompressedLayer, []byte("bin/")},
	}
	for _, tt := range tests {
		t.Run(tt.format.String()+"-"+tt.compression.String(), func(t *testing.T) {
			l, err := LayerFromEntries(entries, LayerOptions{
				Format: tt.format, Compression: tt.compression, Dir: t.TempDir(),
			})
			if err != nil {
				t.Fatalf("LayerFromEntries: %v", err)
			}
			if diff := cmp.Diff(want, readMembers(t, l)); diff != "" {
				t.Errorf("members (-want +got):\n%s", diff)
			}
			checkLayerHashes(t, l)
			mt, _ := l.MediaType()
			if mt != tt.mediaType {
				t.Errorf("media type = %s, want %s", mt, tt.mediaType)
			}
			rc, _ := l.Compressed()
			head := make([]byte, len(tt.magic))
			_, _ = io.ReadFull(rc, head)
			rc.Close()
			if !bytes.Equal(head, tt.magic) {
				t.Errorf("blob starts with %x, want %x", head, tt.magic)
			}
		})
	}
}

// checkLayerHashes compares the digest, size and diff ID that l reports
// with hashes of its blob and tar stream.
func checkLayerHashes(t *testing.T, l v1.Layer) {
	t.Helper()
	digest, size := sha256Of(t, l.Compressed)
	diffID, _ := sha256Of(t, l.Uncompressed)
	if got, _ := l.Digest(); got != digest {
		t.Errorf("Digest() = %s, want %s", got, digest)
	}
	if got, _ := l.Size(); got != size {
		t.Errorf("Size() = %d, want %d", got, size)
	}
	if got, _ := l.DiffID(); got != diffID {
		t.Errorf("DiffID() = %s, want %s", got, diffID)
	}
}

func TestLayerFromEntriesDockerZstdRejected(t *testing.T) {
	_, err := LayerFromEntries(nil, LayerOptions{Format: Docker, Compression: Zstd, Dir: t.TempDir()})
	if err == nil {
		t.Fatal("LayerFromEntries accepted zstd for a Docker layer")
	}
}

func TestLayerFromEntriesStableDigest(t *testing.T) {
	entries := []Entry{File("a", "same", 0o644)}
	opts := LayerOptions{Format: OCI, Compression: Gzip, Dir: t.TempDir()}
	first, err := LayerFromEntries(entries, opts)
	if err != nil {
		t.Fatal(err)
	}
	second, err := LayerFromEntries(entries, opts)
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := first.Digest()
	d2, _ := second.Digest()
	if d1 != d2 {
		t.Errorf("digests differ for the same entries: %s and %s", d1, d2)
	}
}
