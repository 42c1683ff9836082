package stored

import (
	"context"
	"os"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	ti "github.com/kist-project/kist/internal/testimage"
	"github.com/kist-project/kist/pull"
	"github.com/kist-project/kist/store"
)

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("unpacking with image ownership needs root or a user namespace; run as root")
	}
}

var entries = []ti.Entry{ti.Dir("etc", 0o755), ti.File("etc/hostname", "kist\n", 0o644)}

func testImage(t *testing.T, format ti.Format, c ti.Compression, cmd string) v1.Image {
	t.Helper()
	layer, err := ti.LayerFromEntries(entries, ti.LayerOptions{Compression: c, Format: format, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	img, err := ti.Image(format, ti.HostPlatform(), v1.Config{Cmd: []string{cmd}}, layer)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func add(t *testing.T, st *store.Store, img v1.Image, tag string) store.Image {
	t.Helper()
	rec, err := pull.Add(context.Background(), st, img, pull.Target{Display: tag, Tag: tag}, pull.Options{})
	if err != nil {
		t.Fatalf("add %s: %v", tag, err)
	}
	return rec
}

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestImageKeepsOwnManifest(t *testing.T) {
	requireRoot(t)
	st := openStore(t)
	img := testImage(t, ti.Docker, ti.Gzip, "a")
	rec := add(t, st, img, "r/a:1")

	got, err := Image(st, rec, "")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := img.Digest()
	if d, _ := got.Digest(); d != want {
		t.Errorf("digest = %s, want the pulled manifest's %s", d, want)
	}
}

// TestImageSharedLayerOtherCompression stores two images whose layer has
// the same diff ID in gzip and in zstd. The second pull reuses the
// unpacked layer and never downloads its zstd blob, so the second image
// must be served with the gzip blob under a new manifest.
func TestImageSharedLayerOtherCompression(t *testing.T) {
	requireRoot(t)
	st := openStore(t)
	first := testImage(t, ti.Docker, ti.Gzip, "first")
	second := testImage(t, ti.OCI, ti.Zstd, "second")
	add(t, st, first, "r/first:1")
	rec := add(t, st, second, "r/second:1")
	firstLayers, _ := first.Layers()
	gzipDigest, _ := firstLayers[0].Digest()

	got, err := Image(st, rec, "")
	if err != nil {
		t.Fatal(err)
	}
	m, err := got.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.Layers[0].Digest != gzipDigest {
		t.Errorf("layer blob = %s, want the gzip blob %s", m.Layers[0].Digest, gzipDigest)
	}
	if m.Layers[0].MediaType != types.OCILayer {
		t.Errorf("layer media type = %s, want %s", m.Layers[0].MediaType, types.OCILayer)
	}
	if d, _ := got.Digest(); d == rec.Manifest {
		t.Errorf("manifest digest unchanged although the layer blob changed")
	}

	// The served image must load into a fresh store with the same ID.
	again := add(t, openStore(t), got, "r/copy:1")
	if again.ID != rec.ID {
		t.Errorf("copied image ID = %s, want %s", again.ID, rec.ID)
	}
}

func TestImageConvertsFormat(t *testing.T) {
	requireRoot(t)
	st := openStore(t)
	rec := add(t, st, testImage(t, ti.Docker, ti.Gzip, "a"), "r/a:1")

	got, err := Image(st, rec, types.OCIManifestSchema1)
	if err != nil {
		t.Fatal(err)
	}
	m, err := got.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.MediaType != types.OCIManifestSchema1 || m.Config.MediaType != types.OCIConfigJSON || m.Layers[0].MediaType != types.OCILayer {
		t.Errorf("media types = %s, %s, %s; want OCI ones", m.MediaType, m.Config.MediaType, m.Layers[0].MediaType)
	}
}

func TestImageZstdAsSchema2(t *testing.T) {
	requireRoot(t)
	st := openStore(t)
	rec := add(t, st, testImage(t, ti.OCI, ti.Zstd, "a"), "r/a:1")

	_, err := Image(st, rec, types.DockerManifestSchema2)
	if err == nil || !strings.Contains(err.Error(), "zstd") {
		t.Errorf("got %v, want an error about zstd layers", err)
	}
}

// TestImageAfterOtherRemoved removes the image whose pull downloaded the
// shared blob and collects garbage; the blob must stay for the other.
func TestImageAfterOtherRemoved(t *testing.T) {
	requireRoot(t)
	st := openStore(t)
	add(t, st, testImage(t, ti.Docker, ti.Gzip, "first"), "r/first:1")
	rec := add(t, st, testImage(t, ti.OCI, ti.Zstd, "second"), "r/second:1")
	if _, err := st.RemoveImage("r/first:1", false); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CollectGarbage(); err != nil {
		t.Fatal(err)
	}

	got, err := Image(st, rec, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pull.Add(context.Background(), openStore(t), got, pull.Target{Display: "copy"}, pull.Options{}); err != nil {
		t.Errorf("copy after garbage collection: %v", err)
	}
}

func TestImageMissingBlob(t *testing.T) {
	requireRoot(t)
	st := openStore(t)
	img := testImage(t, ti.Docker, ti.Gzip, "a")
	rec := add(t, st, img, "r/a:1")
	layers, _ := img.Layers()
	digest, _ := layers[0].Digest()
	if err := os.Remove(st.BlobPath(digest)); err != nil {
		t.Fatal(err)
	}

	_, err := Image(st, rec, "")
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("got %v, want an error about the missing blob", err)
	}
}

func TestImageCorruptBlob(t *testing.T) {
	requireRoot(t)
	st := openStore(t)
	img := testImage(t, ti.Docker, ti.Gzip, "a")
	rec := add(t, st, img, "r/a:1")
	layers, _ := img.Layers()
	digest, _ := layers[0].Digest()
	f, err := os.OpenFile(st.BlobPath(digest), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("x"))
	f.Close()

	got, err := Image(st, rec, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = pull.Add(context.Background(), openStore(t), got, pull.Target{Display: "copy"}, pull.Options{})
	if err == nil {
		t.Errorf("copying an image with a corrupt blob succeeded")
	}
}

// TestImageLayerKeptByContainer removes an image while a container still
// uses its layer. Another image with that layer reuses it without a
// download, so the layer's own blob must survive garbage collection.
func TestImageLayerKeptByContainer(t *testing.T) {
	requireRoot(t)
	st := openStore(t)
	first := add(t, st, testImage(t, ti.Docker, ti.Gzip, "first"), "r/first:1")
	if _, err := st.CreateContainer(store.ContainerState{ImageID: first.ID.String(), Layers: first.Layers}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RemoveImage("r/first:1", true); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CollectGarbage(); err != nil {
		t.Fatal(err)
	}
	rec := add(t, st, testImage(t, ti.OCI, ti.Zstd, "second"), "r/second:1")

	got, err := Image(st, rec, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pull.Add(context.Background(), openStore(t), got, pull.Target{Display: "copy"}, pull.Options{}); err != nil {
		t.Errorf("copy: %v", err)
	}
}
