package stored

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/kist-project/kist/blobimage"
	ti "github.com/kist-project/kist/internal/testimage"
	"github.com/kist-project/kist/pull"
	"github.com/kist-project/kist/store"
)

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// pushImage calls PushImage and counts the layers it compresses.
func pushImage(t *testing.T, st *store.Store, rec store.Image, opts PushOptions) (v1.Image, int) {
	t.Helper()
	compressed := 0
	opts.OnCompress = func(v1.Hash, blobimage.Compression) { compressed++ }
	img, err := PushImage(st, rec, opts)
	if err != nil {
		t.Fatalf("PushImage: %v", err)
	}
	return img, compressed
}

// layerBlob returns the media type and the content of the image's only
// layer blob.
func layerBlob(t *testing.T, img v1.Image) (types.MediaType, []byte) {
	t.Helper()
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("Layers = %d layers, %v; want one", len(layers), err)
	}
	mt, err := layers[0].MediaType()
	if err != nil {
		t.Fatal(err)
	}
	rc, err := layers[0].Compressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read layer blob: %v", err)
	}
	return mt, data
}

// expectCopies checks that img loads into a fresh store with the image
// ID and so the diff IDs of rec.
func expectCopies(t *testing.T, img v1.Image, rec store.Image) {
	t.Helper()
	copied, err := pull.Add(context.Background(), openStore(t), img, pull.Target{Display: "copy"}, pull.Options{})
	if err != nil {
		t.Fatalf("copy pushed image: %v", err)
	}
	if copied.ID != rec.ID {
		t.Errorf("copied image ID = %s, want %s", copied.ID, rec.ID)
	}
}

func TestPushImageCompressesPlainLayer(t *testing.T) {
	requireRoot(t)
	st := openStore(t)
	rec := add(t, st, testImage(t, ti.Docker, ti.Uncompressed, "a"), "r/a:1")

	img, compressed := pushImage(t, st, rec, PushOptions{Compression: "gzip"})
	if compressed != 1 {
		t.Errorf("compressed %d layers, want 1", compressed)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.MediaType != types.DockerManifestSchema2 {
		t.Errorf("manifest media type = %s, want the image's own %s", m.MediaType, types.DockerManifestSchema2)
	}
	mt, data := layerBlob(t, img)
	if mt != types.DockerLayer {
		t.Errorf("layer media type = %s, want %s", mt, types.DockerLayer)
	}
	if !bytes.HasPrefix(data, gzipMagic) {
		t.Errorf("layer blob starts with % x, want the gzip magic", data[:min(len(data), 4)])
	}
	expectCopies(t, img, rec)

	// The second push finds the recorded blob, even after garbage
	// collection, and sends the same manifest.
	if _, err := st.CollectGarbage(); err != nil {
		t.Fatal(err)
	}
	again, compressed := pushImage(t, st, rec, PushOptions{Compression: "gzip"})
	if compressed != 0 {
		t.Errorf("second push compressed %d layers, want 0", compressed)
	}
	first, _ := img.Digest()
	if d, _ := again.Digest(); d != first {
		t.Errorf("second push has manifest %s, want %s", d, first)
	}
}

func TestPushImageZstdMakesOCI(t *testing.T) {
	requireRoot(t)
	st := openStore(t)
	rec := add(t, st, testImage(t, ti.Docker, ti.Uncompressed, "a"), "r/a:1")

	img, _ := pushImage(t, st, rec, PushOptions{Compression: "zstd"})
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.MediaType != types.OCIManifestSchema1 {
		t.Errorf("manifest media type = %s, want %s for a zstd layer", m.MediaType, types.OCIManifestSchema1)
	}
	mt, data := layerBlob(t, img)
	if mt != types.OCILayerZStd {
		t.Errorf("layer media type = %s, want %s", mt, types.OCILayerZStd)
	}
	if !bytes.HasPrefix(data, zstdMagic) {
		t.Errorf("layer blob starts with % x, want the zstd magic", data[:min(len(data), 4)])
	}
	expectCopies(t, img, rec)

	if _, err := PushImage(st, rec, PushOptions{Compression: "zstd", Format: types.DockerManifestSchema2}); err == nil {
		t.Errorf("PushImage put a zstd layer in a Docker schema 2 manifest")
	}
}

// TestPushImageKeepsCompressedLayer pushes layers that are stored
// compressed: without ForceCompression they go as they are.
func TestPushImageKeepsCompressedLayer(t *testing.T) {
	requireRoot(t)
	cases := []struct {
		name        string
		format      ti.Format
		stored      ti.Compression
		wantMagic   []byte
		compression blobimage.Compression
	}{
		{"gzip as gzip", ti.Docker, ti.Gzip, gzipMagic, "gzip"},
		{"zstd as gzip", ti.OCI, ti.Zstd, zstdMagic, "gzip"},
		{"gzip as zstd", ti.Docker, ti.Gzip, gzipMagic, "zstd"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := openStore(t)
			rec := add(t, st, testImage(t, tc.format, tc.stored, "a"), "r/a:1")

			img, compressed := pushImage(t, st, rec, PushOptions{Compression: tc.compression})
			if compressed != 0 {
				t.Errorf("compressed %d layers, want 0", compressed)
			}
			if d, _ := img.Digest(); d != rec.Manifest {
				t.Errorf("manifest = %s, want the pulled %s", d, rec.Manifest)
			}
			if _, data := layerBlob(t, img); !bytes.HasPrefix(data, tc.wantMagic) {
				t.Errorf("layer blob starts with % x, want % x", data[:min(len(data), 4)], tc.wantMagic)
			}
		})
	}
}

func TestPushImageForceCompression(t *testing.T) {
	requireRoot(t)
	cases := []struct {
		name         string
		format       ti.Format
		stored       ti.Compression
		compression  blobimage.Compression
		wantMagic    []byte
		wantManifest types.MediaType
	}{
		{"zstd to gzip", ti.OCI, ti.Zstd, "gzip", gzipMagic, types.OCIManifestSchema1},
		{"gzip to zstd", ti.Docker, ti.Gzip, "zstd", zstdMagic, types.OCIManifestSchema1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := openStore(t)
			rec := add(t, st, testImage(t, tc.format, tc.stored, "a"), "r/a:1")

			img, compressed := pushImage(t, st, rec, PushOptions{Compression: tc.compression, ForceCompression: true})
			if compressed != 1 {
				t.Errorf("compressed %d layers, want 1", compressed)
			}
			if m, err := img.Manifest(); err != nil || m.MediaType != tc.wantManifest {
				t.Errorf("manifest = %v, %v; want media type %s", m, err, tc.wantManifest)
			}
			if _, data := layerBlob(t, img); !bytes.HasPrefix(data, tc.wantMagic) {
				t.Errorf("layer blob starts with % x, want % x", data[:min(len(data), 4)], tc.wantMagic)
			}
			expectCopies(t, img, rec)
		})
	}
}

// TestPushImageCorruptPlainBlob changes the stored plain tar blob: the
// push must fail, and no compressed blob may be recorded or left over.
func TestPushImageCorruptPlainBlob(t *testing.T) {
	requireRoot(t)
	st := openStore(t)
	rec := add(t, st, testImage(t, ti.Docker, ti.Uncompressed, "a"), "r/a:1")
	info, err := st.Layer(rec.Layers[0])
	if err != nil {
		t.Fatal(err)
	}
	path := st.BlobPath(info.Digest)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)-1] ^= 0xff
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}

	if _, err := PushImage(st, rec, PushOptions{Compression: "gzip"}); err == nil {
		t.Fatalf("PushImage compressed a blob that does not match its digest")
	}
	if info, err := st.Layer(rec.Layers[0]); err != nil || len(info.Variants) != 0 {
		t.Errorf("layer variants = %v, %v; want none", info.Variants, err)
	}
	tmp, err := os.ReadDir(filepath.Join(st.Root(), "tmp"))
	if err != nil || len(tmp) != 0 {
		t.Errorf("tmp/ holds %v, %v; want it empty", tmp, err)
	}
}

// TestImageKeepsPlainLayer checks that Image, which save uses, serves a
// plain tar layer as stored.
func TestImageKeepsPlainLayer(t *testing.T) {
	requireRoot(t)
	st := openStore(t)
	rec := add(t, st, testImage(t, ti.Docker, ti.Uncompressed, "a"), "r/a:1")

	img, err := Image(st, rec, "")
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := img.Digest(); d != rec.Manifest {
		t.Errorf("manifest = %s, want the loaded %s", d, rec.Manifest)
	}
	if mt, _ := layerBlob(t, img); mt != types.DockerUncompressedLayer {
		t.Errorf("layer media type = %s, want %s", mt, types.DockerUncompressedLayer)
	}
}

// TestImageSharedZstdLayerMakesOCI stores a Docker image whose layer a
// zstd image brought first. Its own format cannot list the zstd blob, so
// Image without a demanded format must write an OCI manifest.
func TestImageSharedZstdLayerMakesOCI(t *testing.T) {
	requireRoot(t)
	st := openStore(t)
	add(t, st, testImage(t, ti.OCI, ti.Zstd, "first"), "r/first:1")
	rec := add(t, st, testImage(t, ti.Docker, ti.Gzip, "second"), "r/second:1")

	img, err := Image(st, rec, "")
	if err != nil {
		t.Fatal(err)
	}
	if m, err := img.Manifest(); err != nil || m.MediaType != types.OCIManifestSchema1 {
		t.Errorf("manifest = %v, %v; want media type %s", m, err, types.OCIManifestSchema1)
	}
	if mt, _ := layerBlob(t, img); mt != types.OCILayerZStd {
		t.Errorf("layer media type = %s, want %s", mt, types.OCILayerZStd)
	}
	expectCopies(t, img, rec)
}
