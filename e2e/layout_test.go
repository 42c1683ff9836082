package e2e

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	ti "github.com/kist-project/kist/internal/testimage"
)

// TestRunLayoutSameBasename runs two OCI layouts whose directories share
// the basename "app". Each must run its own image, although kist derives
// the image name of a layout from that basename.
func TestRunLayoutSameBasename(t *testing.T) {
	need(t, needBusybox)
	dir := layoutParent(t)
	base := busyboxLayer(t)
	first := filepath.Join(dir, "a", "app")
	second := filepath.Join(dir, "b", "app")
	writeLayout(t, first, markedImage(t, base, "a"))
	writeLayout(t, second, markedImage(t, base, "b"))

	forEachIdentity(t, func(t *testing.T, id *identity) {
		id = id.fresh(t)
		r := runKist(t, id, "run", "--rm", "oci:"+first)
		expect(t, r, 0, "a\n")
		r = runKist(t, id, "run", "--rm", "oci:"+second)
		expect(t, r, 0, "b\n")
		r = runKist(t, id, "run", "--rm", "oci:"+first)
		expect(t, r, 0, "a\n")
		expectNoLeftovers(t, id.store())
	})
}

// TestRunLayoutRebuilt runs a layout, writes another image to the same
// directory and runs it again. The second run must see the new image,
// not the one that the first run stored.
func TestRunLayoutRebuilt(t *testing.T) {
	need(t, needBusybox)
	dir := layoutParent(t)
	base := busyboxLayer(t)
	before := markedImage(t, base, "old")
	after := markedImage(t, base, "new")
	app := filepath.Join(dir, "app")

	forEachIdentity(t, func(t *testing.T, id *identity) {
		id = id.fresh(t)
		writeLayout(t, app, before)
		r := runKist(t, id, "run", "--rm", "oci:"+app)
		expect(t, r, 0, "old\n")

		writeLayout(t, app, after)
		r = runKist(t, id, "run", "--rm", "oci:"+app)
		expect(t, r, 0, "new\n")
		expectNoLeftovers(t, id.store())
	})
}

// TestRunLayoutMissing runs an OCI layout reference whose directory does
// not exist.
func TestRunLayoutMissing(t *testing.T) {
	const missing = "/nonexistent/app"
	if _, err := os.Lstat(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("%s must not exist for this test: %v", missing, err)
	}
	forEachIdentity(t, func(t *testing.T, id *identity) {
		id = id.fresh(t)
		r := runKist(t, id, "run", "--rm", "oci:"+missing)
		expect(t, r, 125, "")
		expectOneLine(t, r, missing)
		expectNoLeftovers(t, id.store())
	})
}

// markedImage returns an image of base plus a file /marker containing
// marker, whose Cmd prints that file.
func markedImage(t *testing.T, base v1.Layer, marker string) v1.Image {
	t.Helper()
	cfg := busyboxConfig()
	cfg.Cmd = []string{"cat", "/marker"}
	top := newLayer(t, ti.File("marker", marker+"\n", 0o644))
	return newImage(t, cfg, base, top)
}

// layoutParent returns a new directory, removed when t ends, that every
// test user can read.
func layoutParent(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp(env.base, "layouts-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeTree(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// writeLayout replaces dir with an OCI image layout containing only img,
// creating its parents. The layout package creates blobs with mode 0600,
// so every directory becomes 0755 and every file 0644 for the test users
// to read.
func writeLayout(t *testing.T, dir string, img v1.Image) {
	t.Helper()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatalf("create layout %s: %v", dir, err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatalf("write image to layout %s: %v", dir, err)
	}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		mode := fs.FileMode(0o644)
		if d.IsDir() {
			mode = 0o755
		}
		return os.Chmod(p, mode)
	})
	if err != nil {
		t.Fatalf("make layout %s readable: %v", dir, err)
	}
}
