package testimage

import (
	"archive/tar"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// makeTree creates a small tree under dir and returns the members that a
// layer of it must hold. Ownership other than the caller's needs root.
func makeTree(t *testing.T, dir string) []member {
	t.Helper()
	mustDo := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	mustDo(os.MkdirAll(filepath.Join(dir, "bin"), 0o755))
	mustDo(os.WriteFile(filepath.Join(dir, "bin/suid"), []byte("binary"), 0o755))
	mustDo(os.Chmod(filepath.Join(dir, "bin/suid"), os.ModeSetuid|0o755))
	mustDo(os.Link(filepath.Join(dir, "bin/suid"), filepath.Join(dir, "bin/zlink")))
	mustDo(os.Symlink("suid", filepath.Join(dir, "bin/sh")))
	mustDo(os.Mkdir(filepath.Join(dir, "ro"), 0o755))
	mustDo(os.WriteFile(filepath.Join(dir, "ro/file"), []byte("read only\n"), 0o444))
	mustDo(os.Chmod(filepath.Join(dir, "ro"), 0o555))
	mustDo(os.Mkdir(filepath.Join(dir, "tmp"), 0o755))
	mustDo(os.Chmod(filepath.Join(dir, "tmp"), os.ModeSticky|0o777))

	uid, gid := os.Getuid(), os.Getgid()
	owned := filepath.Join(dir, "owned")
	mustDo(os.WriteFile(owned, []byte("x"), 0o640))
	if uid == 0 {
		uid, gid = 1234, 5678
		mustDo(os.Chown(owned, uid, gid))
	}
	mtime := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	mustDo(os.Chtimes(owned, mtime, mtime))

	me, mygid := os.Getuid(), os.Getgid()
	return []member{
		{Name: "bin/", Type: tar.TypeDir, Mode: 0o755, UID: me, GID: mygid},
		{Name: "bin/sh", Type: tar.TypeSymlink, Mode: 0o777, UID: me, GID: mygid, Linkname: "suid"},
		{Name: "bin/suid", Type: tar.TypeReg, Mode: 0o4755, UID: me, GID: mygid, Content: "binary"},
		{Name: "bin/zlink", Type: tar.TypeLink, Mode: 0o4755, UID: me, GID: mygid, Linkname: "bin/suid"},
		{Name: "owned", Type: tar.TypeReg, Mode: 0o640, UID: uid, GID: gid, Content: "x"},
		{Name: "ro/", Type: tar.TypeDir, Mode: 0o555, UID: me, GID: mygid},
		{Name: "ro/file", Type: tar.TypeReg, Mode: 0o444, UID: me, GID: mygid, Content: "read only\n"},
		{Name: "tmp/", Type: tar.TypeDir, Mode: 0o1777, UID: me, GID: mygid},
	}
}

func TestLayerFromDirKeepsMetadata(t *testing.T) {
	dir := t.TempDir()
	want := makeTree(t, dir)
	t.Cleanup(func() { os.Chmod(filepath.Join(dir, "ro"), 0o755) })

	l, err := LayerFromDir(dir, LayerOptions{Format: OCI, Compression: Zstd, Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("LayerFromDir: %v", err)
	}
	if diff := cmp.Diff(want, readMembers(t, l)); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	checkLayerHashes(t, l)
}

func TestLayerFromDirModTime(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	mtime := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	if err := os.Chtimes(p, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	l, err := LayerFromDir(dir, LayerOptions{Format: Docker, Compression: Uncompressed, Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("LayerFromDir: %v", err)
	}
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	hdr, err := tar.NewReader(rc).Next()
	if err != nil {
		t.Fatal(err)
	}
	if !hdr.ModTime.Equal(mtime) {
		t.Errorf("ModTime = %v, want %v", hdr.ModTime, mtime)
	}
}

func TestLayerFromDirMissing(t *testing.T) {
	_, err := LayerFromDir(filepath.Join(t.TempDir(), "absent"), LayerOptions{Dir: t.TempDir()})
	if err == nil {
		t.Fatal("LayerFromDir accepted a missing directory")
	}
}
