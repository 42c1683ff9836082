package store

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func openTest(t *testing.T) *Store {
	t.Helper()
	st, err := Open(t.TempDir())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return st
}

func digestOf(data []byte) v1.Hash {
	sum := sha256.Sum256(data)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
}

func tmpEntries(t *testing.T, st *Store) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(st.Root(), "tmp"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestPutBlob(t *testing.T) {
	st := openTest(t)
	data := []byte("config")
	d := digestOf(data)
	if err := st.PutBlob(d, data); err != nil {
		t.Fatalf("PutBlob: %v", err)
	}
	got, err := st.ReadBlob(d)
	if err != nil {
		t.Fatalf("ReadBlob: %v", err)
	}
	if string(got) != "config" {
		t.Errorf("ReadBlob = %q", got)
	}
}

func TestBlobDigestMismatch(t *testing.T) {
	st := openTest(t)
	d := digestOf([]byte("expected"))
	w, err := st.NewBlobWriter(d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("tampered")); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("Commit of tampered content: got %v, want ErrDigestMismatch", err)
	}
	if st.HasBlob(d) {
		t.Error("tampered blob is in the store")
	}
	if left := tmpEntries(t, st); len(left) != 0 {
		t.Errorf("tmp/ holds %v after a failed commit", left)
	}
}

func TestReadBlobMissing(t *testing.T) {
	st := openTest(t)
	if _, err := st.ReadBlob(digestOf([]byte("x"))); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ReadBlob of a missing blob: got %v, want ErrNotFound", err)
	}
}

func TestSweepRemovesOnlyAbandoned(t *testing.T) {
	st := openTest(t)
	live, err := st.TempDir("live")
	if err != nil {
		t.Fatal(err)
	}
	defer live.Remove()

	// A directory that no lock protects is what a killed kist leaves.
	abandoned := filepath.Join(st.Root(), "tmp", "layer-dead")
	if err := os.MkdirAll(filepath.Join(abandoned, "diff", "ro"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(abandoned, "diff", "ro"), 0o555); err != nil {
		t.Fatal(err)
	}

	if err := st.Sweep(); err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	if _, err := os.Stat(abandoned); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("abandoned temporary still exists: %v", err)
	}
	if _, err := os.Stat(live.Path); err != nil {
		t.Errorf("live temporary was removed: %v", err)
	}
}

func TestCommitLayer(t *testing.T) {
	st := openTest(t)
	diffID := digestOf([]byte("layer"))
	if _, err := st.Layer(diffID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Layer before commit: got %v, want ErrNotFound", err)
	}

	tmp, err := st.TempDir("layer")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(tmp.Path, "diff"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := st.CommitLayer(tmp, LayerInfo{DiffID: diffID, Digest: digestOf([]byte("blob")), Size: 42}); err != nil {
		t.Fatalf("CommitLayer: %v", err)
	}

	info, err := st.Layer(diffID)
	if err != nil {
		t.Fatalf("Layer after commit: %v", err)
	}
	if info.Size != 42 {
		t.Errorf("size = %d, want 42", info.Size)
	}
	if _, err := os.Stat(filepath.Join(st.LayersDir(), LayerDiffPath(diffID))); err != nil {
		t.Errorf("diff directory: %v", err)
	}
	if left := tmpEntries(t, st); len(left) != 0 {
		t.Errorf("tmp/ holds %v after commit", left)
	}
}

func TestContainersCorruptState(t *testing.T) {
	st := openTest(t)
	id, err := st.CreateContainer(ContainerState{Status: StatusCreated})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(st.ContainerDir(id), "state.json"), nil, 0o600); err != nil {
		t.Fatal(err)
	}

	states, err := st.Containers()
	if err != nil {
		t.Fatalf("Containers with an empty state.json: %v", err)
	}
	if len(states) != 1 {
		t.Fatalf("Containers returned %d states, want 1", len(states))
	}
	if states[0].ID != id {
		t.Errorf("ID = %q, want %q", states[0].ID, id)
	}
	if states[0].Status != StatusExited {
		t.Errorf("status = %q, want %q", states[0].Status, StatusExited)
	}
	if _, err := st.LookupContainer(id[:12]); err != nil {
		t.Errorf("LookupContainer: %v", err)
	}
}

func TestCheckIDMap(t *testing.T) {
	st := openTest(t)
	if err := st.CheckIDMap("0 1000 1;0 1000 1"); err != nil {
		t.Fatalf("first CheckIDMap: %v", err)
	}
	if err := st.CheckIDMap("0 1000 1;0 1000 1"); err != nil {
		t.Errorf("CheckIDMap with the same map: %v", err)
	}
	err := st.CheckIDMap("0 1000 1,1 100000 65536;0 1000 1,1 100000 65536")
	if err == nil {
		t.Fatal("CheckIDMap accepted a different map")
	}
	if !strings.Contains(err.Error(), "--root") {
		t.Errorf("error %q does not name the fix --root", err)
	}
}
