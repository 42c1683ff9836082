package store

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestDerivedBlobWriter(t *testing.T) {
	st := openTest(t)
	w, err := st.NewDerivedBlobWriter()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("derived")); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatalf("Commit: %v", err)
	}

	want := digestOf([]byte("derived"))
	if w.Digest() != want {
		t.Errorf("Digest = %s, want %s", w.Digest(), want)
	}
	data, err := st.ReadBlob(want)
	if err != nil || string(data) != "derived" {
		t.Errorf("ReadBlob = %q, %v; want the written content", data, err)
	}
	if left := tmpEntries(t, st); len(left) != 0 {
		t.Errorf("tmp/ holds %v after commit", left)
	}
}

func commitTestLayer(t *testing.T, st *Store, diffID v1.Hash) {
	t.Helper()
	tmp, err := st.TempDir("layer")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(tmp.Path, "diff"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := st.CommitLayer(tmp, LayerInfo{DiffID: diffID, Digest: diffID, MediaType: "application/vnd.oci.image.layer.v1.tar"}); err != nil {
		t.Fatal(err)
	}
}

func TestAddLayerVariant(t *testing.T) {
	st := openTest(t)
	diffID := digestOf([]byte("layer"))
	commitTestLayer(t, st, diffID)
	variant := v1.Descriptor{MediaType: "application/vnd.oci.image.layer.v1.tar+gzip", Size: 7, Digest: digestOf([]byte("variant"))}

	// Recording a variant twice, or the layer's own blob, adds nothing.
	for range 2 {
		if err := st.AddLayerVariant(diffID, variant); err != nil {
			t.Fatalf("AddLayerVariant: %v", err)
		}
	}
	if err := st.AddLayerVariant(diffID, v1.Descriptor{Digest: diffID}); err != nil {
		t.Fatalf("AddLayerVariant of the layer's own blob: %v", err)
	}

	info, err := st.Layer(diffID)
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Variants) != 1 || info.Variants[0].Digest != variant.Digest || info.Variants[0].Size != 7 {
		t.Errorf("Variants = %+v, want only %+v", info.Variants, variant)
	}
	if info.Digest != diffID {
		t.Errorf("Digest = %s, want the original blob %s", info.Digest, diffID)
	}
	if left := tmpEntries(t, st); len(left) != 0 {
		t.Errorf("tmp/ holds %v after recording", left)
	}
}

func TestAddLayerVariantMissingLayer(t *testing.T) {
	st := openTest(t)
	err := st.AddLayerVariant(digestOf([]byte("absent")), v1.Descriptor{Digest: digestOf([]byte("variant"))})
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("got %v, want ErrNotFound", err)
	}
}

// A recorded variant is a blob of the layer, so system df counts it, and
// garbage collection keeps it while an image uses the layer.
func TestLayerVariantCountedAndKept(t *testing.T) {
	st := openTest(t)
	diffID := commitSizedLayer(t, st, "layer", 100)
	img := Image{ID: digestOf([]byte("a")), Manifest: digestOf([]byte("ma")), Layers: []v1.Hash{diffID}, Created: time.Unix(1, 0)}
	if err := st.AddImage(img, "r/a:1", ""); err != nil {
		t.Fatal(err)
	}
	content := []byte("compressed layer")
	variant := v1.Descriptor{MediaType: "application/vnd.oci.image.layer.v1.tar+gzip", Size: int64(len(content)), Digest: digestOf(content)}
	if err := st.PutBlob(variant.Digest, content); err != nil {
		t.Fatal(err)
	}
	if err := st.AddLayerVariant(diffID, variant); err != nil {
		t.Fatal(err)
	}

	u, err := st.Usage()
	if err != nil {
		t.Fatalf("Usage: %v", err)
	}
	if want := int64(100 + len(content)); u.ImageBytes != want {
		t.Errorf("image bytes = %d, want %d: the layer plus its variant", u.ImageBytes, want)
	}
	if _, err := st.CollectGarbage(); err != nil {
		t.Fatal(err)
	}
	if !st.HasBlob(variant.Digest) {
		t.Errorf("garbage collection removed the variant of a used layer")
	}

	if _, err := st.RemoveImage("r/a:1", false); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CollectGarbage(); err != nil {
		t.Fatal(err)
	}
	if st.HasBlob(variant.Digest) {
		t.Errorf("garbage collection kept the variant of a removed layer")
	}
}
