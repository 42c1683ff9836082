package store

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestPruneImages(t *testing.T) {
	st := openTest(t)
	layer := commitSizedLayer(t, st, "l", 1)
	named := Image{ID: digestOf([]byte("named")), Manifest: digestOf([]byte("m1")), Layers: []v1.Hash{layer}, Created: time.Unix(1, 0)}
	dangling := Image{ID: digestOf([]byte("dangling")), Manifest: digestOf([]byte("m2")), Layers: []v1.Hash{layer}, Created: time.Unix(2, 0)}
	used := Image{ID: digestOf([]byte("used")), Manifest: digestOf([]byte("m3")), Layers: []v1.Hash{layer}, Created: time.Unix(3, 0)}
	for _, img := range []Image{named, dangling, used} {
		if err := st.AddImage(img, "", ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.TagImage(named.ID.String(), "r/named:1"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateContainer(ContainerState{ImageID: used.ID.String(), Layers: used.Layers, Status: StatusExited}); err != nil {
		t.Fatal(err)
	}

	pruned, err := st.PruneImages(false)
	if err != nil {
		t.Fatalf("PruneImages(false): %v", err)
	}
	if len(pruned) != 1 || pruned[0] != dangling.ID {
		t.Errorf("PruneImages(false) = %v, want only the dangling image %s", pruned, dangling.ID)
	}

	pruned, err = st.PruneImages(true)
	if err != nil {
		t.Fatalf("PruneImages(true): %v", err)
	}
	if len(pruned) != 1 || pruned[0] != named.ID {
		t.Errorf("PruneImages(true) = %v, want the named image %s, which no container uses", pruned, named.ID)
	}
	images, err := st.Images()
	if err != nil {
		t.Fatal(err)
	}
	if len(images) != 1 || images[0].ID != used.ID {
		t.Errorf("images left = %v, want the image the container uses", images)
	}
}

func TestResetEmptiesTheStore(t *testing.T) {
	st := openTest(t)
	layer := commitSizedLayer(t, st, "l", 1)
	if err := st.AddImage(Image{ID: digestOf([]byte("i")), Manifest: digestOf([]byte("mi")), Layers: []v1.Hash{layer}}, "r/i:1", ""); err != nil {
		t.Fatal(err)
	}
	// A read-only directory inside a layer, as images often have.
	ro := filepath.Join(st.LayerDir(layer), "diff", "ro")
	if err := os.MkdirAll(filepath.Join(ro, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(ro, 0o555); err != nil {
		t.Fatal(err)
	}

	if err := st.Reset(); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	entries, err := os.ReadDir(st.Root())
	if err != nil {
		t.Fatalf("the store root must stay: %v", err)
	}
	if len(entries) != 0 {
		t.Errorf("store root holds %d entries after Reset, want none", len(entries))
	}

	// The store opens again, empty.
	again, err := Open(st.Root())
	if err != nil {
		t.Fatal(err)
	}
	if images, err := again.Images(); err != nil || len(images) != 0 {
		t.Errorf("images after Reset = %v, %v; want none", images, err)
	}
}
