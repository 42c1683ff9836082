package store

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func commitSizedLayer(t *testing.T, st *Store, name string, size int64) v1.Hash {
	t.Helper()
	diffID := digestOf([]byte(name))
	tmp, err := st.TempDir("layer")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(tmp.Path, "diff"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := st.CommitLayer(tmp, LayerInfo{DiffID: diffID, Digest: digestOf([]byte(name + " blob")), Size: size}); err != nil {
		t.Fatal(err)
	}
	return diffID
}

func TestUsageCountsSharedLayersOnce(t *testing.T) {
	st := openTest(t)
	shared := commitSizedLayer(t, st, "shared", 1000)
	own := commitSizedLayer(t, st, "own", 10)
	a := Image{ID: digestOf([]byte("a")), Manifest: digestOf([]byte("ma")), Layers: []v1.Hash{shared}, Created: time.Unix(1, 0)}
	b := Image{ID: digestOf([]byte("b")), Manifest: digestOf([]byte("mb")), Layers: []v1.Hash{shared, own}, Created: time.Unix(2, 0)}
	if err := st.AddImage(a, "r/a:1", ""); err != nil {
		t.Fatal(err)
	}
	if err := st.AddImage(b, "r/b:1", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateContainer(ContainerState{ImageID: a.ID.String(), Layers: a.Layers, Status: StatusExited}); err != nil {
		t.Fatal(err)
	}

	u, err := st.Usage()
	if err != nil {
		t.Fatalf("Usage: %v", err)
	}
	if u.Images != 2 {
		t.Errorf("images = %d, want 2", u.Images)
	}
	if u.ActiveImages != 1 {
		t.Errorf("active images = %d, want 1", u.ActiveImages)
	}
	if u.ImageBytes != 1010 {
		t.Errorf("image bytes = %d, want 1010: the shared layer once plus the other", u.ImageBytes)
	}
	if u.ReclaimableImageBytes != 10 {
		t.Errorf("reclaimable = %d, want 10: the layer no container uses", u.ReclaimableImageBytes)
	}
	if u.Containers != 1 {
		t.Errorf("containers = %d, want 1", u.Containers)
	}
}

// rmi --force removes the record of an image that a container uses, but
// its layers stay for the container, so they must still be counted.
func TestUsageCountsLayersOnlyContainersUse(t *testing.T) {
	st := openTest(t)
	stopped := commitSizedLayer(t, st, "stopped", 500)
	running := commitSizedLayer(t, st, "running", 70)
	a := Image{ID: digestOf([]byte("a")), Manifest: digestOf([]byte("ma")), Layers: []v1.Hash{stopped}, Created: time.Unix(1, 0)}
	b := Image{ID: digestOf([]byte("b")), Manifest: digestOf([]byte("mb")), Layers: []v1.Hash{running}, Created: time.Unix(2, 0)}
	for name, img := range map[string]Image{"r/a:1": a, "r/b:1": b} {
		if err := st.AddImage(img, name, ""); err != nil {
			t.Fatal(err)
		}
	}
	containers := []ContainerState{
		{ImageID: a.ID.String(), Layers: a.Layers, Status: StatusExited},
		{ImageID: b.ID.String(), Layers: b.Layers, Status: StatusRunning},
	}
	for _, c := range containers {
		if _, err := st.CreateContainer(c); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"r/a:1", "r/b:1"} {
		if _, err := st.RemoveImage(name, true); err != nil {
			t.Fatalf("RemoveImage %s: %v", name, err)
		}
	}

	u, err := st.Usage()
	if err != nil {
		t.Fatalf("Usage: %v", err)
	}
	if u.Images != 0 || u.ImageBytes != 0 {
		t.Errorf("images = %d using %d bytes, want none", u.Images, u.ImageBytes)
	}
	if u.ContainerBytes != 570 {
		t.Errorf("container bytes = %d, want 570: both layers, once each", u.ContainerBytes)
	}
	if u.StoppedContainerBytes != 500 {
		t.Errorf("stopped container bytes = %d, want 500: the layer only the exited container uses", u.StoppedContainerBytes)
	}
}

// TestUsageCountsTemporaries checks that Usage counts the entries of
// tmp/, in use and left over, and that SweepReclaim frees only the
// leftovers and reports their size.
func TestUsageCountsTemporaries(t *testing.T) {
	st := openTest(t)
	inUse, err := st.TempDir("in-use")
	if err != nil {
		t.Fatal(err)
	}
	defer inUse.Remove()
	if err := os.WriteFile(filepath.Join(inUse.Path, "data"), make([]byte, 100), 0o600); err != nil {
		t.Fatal(err)
	}
	// A temporary whose lock is released without removing it is what a
	// killed command leaves.
	leftover, err := st.TempDir("leftover")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(leftover.Path, "data"), make([]byte, 30), 0o600); err != nil {
		t.Fatal(err)
	}
	leftover.lock.Unlock()

	u, err := st.Usage()
	if err != nil {
		t.Fatalf("Usage: %v", err)
	}
	if u.Temporaries != 2 {
		t.Errorf("temporaries = %d, want 2", u.Temporaries)
	}
	if u.ActiveTemporaries != 1 {
		t.Errorf("active temporaries = %d, want 1: the one still locked", u.ActiveTemporaries)
	}
	if u.TemporaryBytes != 130 {
		t.Errorf("temporary bytes = %d, want 130", u.TemporaryBytes)
	}
	if u.LeftoverTemporaryBytes != 30 {
		t.Errorf("leftover temporary bytes = %d, want 30", u.LeftoverTemporaryBytes)
	}

	freed, err := st.SweepReclaim()
	if err != nil {
		t.Fatalf("SweepReclaim: %v", err)
	}
	if freed != 30 {
		t.Errorf("SweepReclaim freed %d bytes, want 30", freed)
	}
	if names := tmpEntries(t, st); len(names) != 1 || names[0] != filepath.Base(inUse.Path) {
		t.Errorf("tmp/ holds %q after the sweep, want only %s", names, filepath.Base(inUse.Path))
	}
}
