package unpack

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func checkWhiteout(t *testing.T, path string) {
	t.Helper()
	st := lstat(t, path)
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
		t.Errorf("%s: mode %#o rdev %#x, want the whiteout character device 0/0", path, st.Mode, st.Rdev)
	}
}

func checkOpaque(t *testing.T, path string) {
	t.Helper()
	if got, ok := getXattr(t, path, opaqueXattr); !ok || got != "y" {
		t.Errorf("%s: %s = %q (set %v), want y", path, opaqueXattr, got, ok)
	}
}

func TestLayerWhiteouts(t *testing.T) {
	requireRoot(t)
	dir, stats := unpackInto(t, Options{},
		fileEntry(".wh.deleted", "", 0o644),
		fileEntry("etc/.wh.passwd", "", 0o644),

		fileEntry("same-layer", "created, then deleted", 0o644),
		fileEntry(".wh.same-layer", "", 0o644),

		dirEntry("tree/", 0o555),
		dirEntry("tree/sub/", 0o555),
		fileEntry("tree/sub/ro", "x", 0o444),
		fileEntry(".wh.tree", "", 0o644),

		fileEntry("recreated", "", 0o644),
		fileEntry(".wh.recreated", "", 0o644),
		fileEntry("recreated", "again", 0o600),
	)
	for _, name := range []string{"deleted", "etc/passwd", "same-layer", "tree"} {
		checkWhiteout(t, filepath.Join(dir, name))
	}
	if got := readFile(t, filepath.Join(dir, "recreated")); got != "again" {
		t.Errorf("recreated content = %q, want again", got)
	}
	for _, name := range []string{".wh.deleted", "etc/.wh.passwd"} {
		if exists(filepath.Join(dir, name)) {
			t.Errorf("%s exists, want whiteout names turned into devices", name)
		}
	}
	if stats.Whiteouts != 5 {
		t.Errorf("Stats.Whiteouts = %d, want 5", stats.Whiteouts)
	}
}

func TestLayerOpaque(t *testing.T) {
	requireRoot(t)
	dir, stats := unpackInto(t, Options{},
		dirEntry("before/", 0o755),
		fileEntry("before/.wh..wh..opq", "", 0o644),
		fileEntry("before/kept", "x", 0o644),

		dirEntry("after/", 0o700),
		fileEntry("after/kept", "x", 0o644),
		fileEntry("after/.wh..wh..opq", "", 0o644),

		fileEntry("implicit/deep/.wh..wh..opq", "", 0o644),
	)
	for _, name := range []string{"before", "after", "implicit/deep"} {
		checkOpaque(t, filepath.Join(dir, name))
	}
	for _, name := range []string{"before/kept", "after/kept"} {
		if !exists(filepath.Join(dir, name)) {
			t.Errorf("%s missing: an opaque marker keeps the same layer's entries", name)
		}
	}
	if exists(filepath.Join(dir, "before", opaqueMarker)) {
		t.Errorf("the opaque marker file was created")
	}
	if st := lstat(t, filepath.Join(dir, "after")); st.Mode != unix.S_IFDIR|0o700 {
		t.Errorf("after mode = %#o, want 0700 from its entry", st.Mode)
	}
	if stats.Opaques != 3 || stats.OpaqueRoot {
		t.Errorf("Stats.Opaques = %d, OpaqueRoot = %v; want 3, false", stats.Opaques, stats.OpaqueRoot)
	}
}

func TestLayerOpaqueRoot(t *testing.T) {
	requireRoot(t)
	dir, stats := unpackInto(t, Options{}, fileEntry(".wh..wh..opq", "", 0o644))
	checkOpaque(t, dir)
	if !stats.OpaqueRoot {
		t.Errorf("Stats.OpaqueRoot = false, want true")
	}
}

func TestLayerAufsMetadata(t *testing.T) {
	requireRoot(t)
	dir, stats := unpackInto(t, Options{},
		dirEntry(".wh..wh.plnk/", 0o700),
		fileEntry(".wh..wh.plnk/1234.5678", "x", 0o644),
		fileEntry(".wh..wh.aufs", "", 0o644),
		fileEntry("etc/.wh..wh.orph", "", 0o644),
	)
	for _, name := range []string{".wh..wh.plnk", "plnk", ".wh..wh.aufs", "aufs", "etc/.wh..wh.orph", "etc/orph"} {
		if exists(filepath.Join(dir, name)) {
			t.Errorf("%s exists, want aufs metadata skipped", name)
		}
	}
	if stats.Skipped != 4 {
		t.Errorf("Stats.Skipped = %d, want 4", stats.Skipped)
	}
}

func TestLayerInvalidWhiteouts(t *testing.T) {
	requireRoot(t)
	tests := []struct {
		name  string
		entry entry
		want  string
	}{
		{"empty target", fileEntry(".wh.", "", 0o644), "whiteout names no file"},
		{"dot target", fileEntry("a/.wh..", "", 0o644), "whiteout names no file"},
		{"dotdot target", fileEntry("a/.wh...", "", 0o644), "whiteout names no file"},
		{"whiteout as directory", fileEntry(".wh.a/b", "", 0o644), "used as a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Layer(context.Background(), bytes.NewReader(buildTar(t, tt.entry)), t.TempDir(), Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Layer error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestLayerWhiteoutThenRecreate(t *testing.T) {
	requireRoot(t)
	dir, stats := unpackInto(t, Options{},
		fileEntry(".wh.explicit", "", 0o644),
		dirEntry("explicit/", 0o750),
		fileEntry("explicit/new", "x", 0o644),

		fileEntry(".wh.implicit", "", 0o644),
		fileEntry("implicit/sub/new", "x", 0o644),

		fileEntry("file/.wh.gone", "", 0o644),
		fileEntry(".wh.file", "", 0o644),
		fileEntry("file", "a file needs no opaque marker", 0o644),
	)
	for _, name := range []string{"explicit", "implicit"} {
		checkOpaque(t, filepath.Join(dir, name))
	}
	if _, ok := getXattr(t, filepath.Join(dir, "implicit/sub"), opaqueXattr); ok {
		t.Errorf("implicit/sub is opaque, want only the directory that replaced the whiteout")
	}
	tests := []struct {
		name string
		mode uint32
	}{
		{"explicit", unix.S_IFDIR | 0o750},
		{"explicit/new", unix.S_IFREG | 0o644},
		{"implicit", unix.S_IFDIR | 0o755},
		{"implicit/sub/new", unix.S_IFREG | 0o644},
		{"file", unix.S_IFREG | 0o644},
	}
	for _, tt := range tests {
		if got := lstat(t, filepath.Join(dir, tt.name)).Mode; got != tt.mode {
			t.Errorf("%s mode = %#o, want %#o", tt.name, got, tt.mode)
		}
	}
	if stats.Opaques != 2 {
		t.Errorf("Stats.Opaques = %d, want 2", stats.Opaques)
	}
}
