package container

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/kist-project/kist/store"
)

func commitTestLayer(t *testing.T, st *store.Store, name string, opaqueRoot bool) v1.Hash {
	t.Helper()
	sum := sha256.Sum256([]byte(name))
	diffID := v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
	tmp, err := st.TempDir("layer")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(tmp.Path, "diff"), 0o755); err != nil {
		t.Fatal(err)
	}
	info := store.LayerInfo{DiffID: diffID, Digest: diffID, OpaqueRoot: opaqueRoot}
	if err := st.CommitLayer(tmp, info); err != nil {
		t.Fatal(err)
	}
	return diffID
}

func TestVisibleLayers(t *testing.T) {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a := commitTestLayer(t, st, "a", false)
	b := commitTestLayer(t, st, "b", true)
	c := commitTestLayer(t, st, "c", false)

	got, err := visibleLayers(st, store.Image{Layers: []v1.Hash{a, b, c}})
	if err != nil {
		t.Fatalf("visibleLayers: %v", err)
	}
	if diff := cmp.Diff([]v1.Hash{b, c}, got); diff != "" {
		t.Errorf("layers below an opaque root stay visible (-want +got):\n%s", diff)
	}

	got, err = visibleLayers(st, store.Image{Layers: []v1.Hash{a, c}})
	if err != nil {
		t.Fatalf("visibleLayers: %v", err)
	}
	if diff := cmp.Diff([]v1.Hash{a, c}, got); diff != "" {
		t.Errorf("layers (-want +got):\n%s", diff)
	}
}

func TestVisibleLayersMissing(t *testing.T) {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	missing := v1.Hash{Algorithm: "sha256", Hex: "00"}
	img := store.Image{ID: v1.Hash{Algorithm: "sha256", Hex: "0123456789abcdef"}, Layers: []v1.Hash{missing}}
	if _, err := visibleLayers(st, img); err == nil {
		t.Fatal("visibleLayers accepted an image whose layer is not unpacked")
	}
}

func TestLowerDirsDeduplicates(t *testing.T) {
	a := v1.Hash{Algorithm: "sha256", Hex: "aa"}
	b := v1.Hash{Algorithm: "sha256", Hex: "bb"}
	got := lowerDirs([]v1.Hash{a, b, a, a})
	want := []string{"sha256/aa/diff", "sha256/bb/diff"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("lower directories (-want +got):\n%s", diff)
	}
}
