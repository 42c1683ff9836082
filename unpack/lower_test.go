package unpack

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// lowerLayers unpacks two layers and returns their directories, topmost
// first, as Options.Lower lists them.
//
// bottom: usr/lib/libc.so, etc/passwd, etc/shadow, gone, hidden/old, link
// top:    lib -> usr/lib, whiteout for gone, hidden/ opaque, abs -> /usr
func lowerLayers(t *testing.T) []string {
	t.Helper()
	owned := fileEntry("usr/lib/libc.so", "libc", 0o4750)
	owned.hdr.Uid, owned.hdr.Gid = 10, 20
	owned.hdr.ModTime = time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC)
	owned.hdr.PAXRecords = map[string]string{"SCHILY.xattr.user.origin": "bottom"}
	bottom, _ := unpackInto(t, Options{},
		owned,
		fileEntry("etc/passwd", "root:x:0:0", 0o644),
		fileEntry("gone", "deleted above", 0o644),
		fileEntry("hidden/old", "hidden by an opaque directory above", 0o644),
		symlinkEntry("link", "etc/passwd"),
		fileEntry("shadowed", "bottom", 0o644),
	)
	top, _ := unpackInto(t, Options{Lower: []string{bottom}},
		symlinkEntry("lib", "usr/lib"),
		symlinkEntry("abs", "/usr"),
		fileEntry(".wh.gone", "", 0o644),
		dirEntry("hidden/", 0o755),
		fileEntry("hidden/.wh..wh..opq", "", 0o644),
		fileEntry("shadowed", "top", 0o644),
	)
	return []string{top, bottom}
}

func TestLayerHardlinkToLower(t *testing.T) {
	requireRoot(t)
	lower := lowerLayers(t)
	dir, stats := unpackInto(t, Options{Lower: lower},
		hardlinkEntry("copy", "usr/lib/libc.so"),
		hardlinkEntry("via-symlink", "lib/libc.so"),
		hardlinkEntry("via-absolute-symlink", "abs/lib/libc.so"),
		hardlinkEntry("symlink-copy", "link"),
		hardlinkEntry("top-wins", "shadowed"),
	)

	for _, name := range []string{"copy", "via-symlink", "via-absolute-symlink"} {
		path := filepath.Join(dir, name)
		if got := readFile(t, path); got != "libc" {
			t.Errorf("%s content = %q, want libc", name, got)
		}
		st := lstat(t, path)
		if st.Mode != unix.S_IFREG|0o4750 || st.Uid != 10 || st.Gid != 20 || st.Nlink != 3 {
			t.Errorf("%s: mode %#o owner %d:%d links %d, want the lower file's 04750 10:20 and three links, one copy for the three names",
				name, st.Mode, st.Uid, st.Gid, st.Nlink)
		}
		if got := time.Unix(st.Mtim.Unix()).UTC().Year(); got != 1999 {
			t.Errorf("%s mtime year = %d, want the lower file's 1999", name, got)
		}
		if got, _ := getXattr(t, path, "user.origin"); got != "bottom" {
			t.Errorf("%s user.origin = %q, want bottom", name, got)
		}
	}
	if got, _ := os.Readlink(filepath.Join(dir, "symlink-copy")); got != "etc/passwd" {
		t.Errorf("symlink-copy target = %q, want the lower symlink copied, not followed", got)
	}
	if got := readFile(t, filepath.Join(dir, "top-wins")); got != "top" {
		t.Errorf("top-wins content = %q, want the topmost layer's", got)
	}
	if stats.Hardlinks != 5 {
		t.Errorf("Stats.Hardlinks = %d, want 5", stats.Hardlinks)
	}
}

// A tiny layer of many hardlinks to one large lower file must not write
// the file once per name.
func TestLayerHardlinksToLowerShareOneCopy(t *testing.T) {
	requireRoot(t)
	const size, names = 1 << 20, 100
	lower, _ := unpackInto(t, Options{}, fileEntry("big", strings.Repeat("x", size), 0o644))
	var entries []entry
	for i := range names {
		entries = append(entries, hardlinkEntry(fmt.Sprintf("name%d", i), "big"))
	}
	dir, stats := unpackInto(t, Options{Lower: []string{lower}}, entries...)

	if stats.Bytes != size {
		t.Errorf("Stats.Bytes = %d, want %d: one copy for all %d names", stats.Bytes, size, names)
	}
	first := lstat(t, filepath.Join(dir, "name0"))
	last := lstat(t, filepath.Join(dir, fmt.Sprintf("name%d", names-1)))
	if first.Ino != last.Ino || first.Nlink != names {
		t.Errorf("name0 inode %d links %d, last name inode %d: want one inode with %d links",
			first.Ino, first.Nlink, last.Ino, names)
	}
}

// Once an entry replaces the copy, a further hardlink to the lower file
// gets the lower content, not the replacement.
func TestLayerHardlinkToLowerAfterCopyReplaced(t *testing.T) {
	requireRoot(t)
	dir, _ := unpackInto(t, Options{Lower: lowerLayers(t)},
		hardlinkEntry("copy", "usr/lib/libc.so"),
		fileEntry("copy", "replaced", 0o644),
		hardlinkEntry("again", "usr/lib/libc.so"),
	)

	if got := readFile(t, filepath.Join(dir, "copy")); got != "replaced" {
		t.Errorf("copy content = %q, want replaced", got)
	}
	if got := readFile(t, filepath.Join(dir, "again")); got != "libc" {
		t.Errorf("again content = %q, want the lower file's libc", got)
	}
	if st := lstat(t, filepath.Join(dir, "again")); st.Nlink != 1 {
		t.Errorf("again has %d links, want 1", st.Nlink)
	}
}

func TestLayerHardlinkHonoursLowerWhiteouts(t *testing.T) {
	requireRoot(t)
	tests := []struct {
		name, target string
	}{
		{"whiteout", "gone"},
		{"opaque directory", "hidden/old"},
		{"missing", "nowhere"},
	}
	lower := lowerLayers(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stream := buildTar(t, hardlinkEntry("h", tt.target))
			_, err := Layer(context.Background(), bytes.NewReader(stream), t.TempDir(), Options{Lower: lower})
			if err == nil || !strings.Contains(err.Error(), "no such file or directory") {
				t.Errorf("Layer error = %v, want the target not found", err)
			}
		})
	}
}

func TestLayerHardlinkPrefersThisLayer(t *testing.T) {
	requireRoot(t)
	lower := lowerLayers(t)
	dir, _ := unpackInto(t, Options{Lower: lower},
		fileEntry("etc/passwd", "new", 0o600),
		hardlinkEntry("h", "etc/passwd"),
		fileEntry("gone", "recreated", 0o644),
		hardlinkEntry("g", "gone"),
	)
	for _, name := range []string{"h", "g"} {
		if st := lstat(t, filepath.Join(dir, name)); st.Nlink != 2 {
			t.Errorf("%s link count = %d, want 2: a target in this layer is linked", name, st.Nlink)
		}
	}
	if got := readFile(t, filepath.Join(dir, "h")); got != "new" {
		t.Errorf("h content = %q, want new", got)
	}
}

func TestLayerHardlinkToItself(t *testing.T) {
	requireRoot(t)
	dir, _ := unpackInto(t, Options{},
		fileEntry("f", "x", 0o644),
		hardlinkEntry("f", "f"),
	)
	if got := readFile(t, filepath.Join(dir, "f")); got != "x" {
		t.Errorf("f content = %q, want x", got)
	}
}

func TestLayerHardlinkLeavesLowerUntouched(t *testing.T) {
	requireRoot(t)
	lower := lowerLayers(t)
	var views []sandbox
	var before []map[string]fileState
	for _, dir := range lower {
		views = append(views, sandbox{base: dir})
		before = append(before, views[len(views)-1].snapshot(t))
	}
	unpackInto(t, Options{Lower: lower},
		hardlinkEntry("copy", "usr/lib/libc.so"),
		fileEntry("copy", "overwritten copy", 0o644),
	)
	for i, view := range views {
		view.checkUntouched(t, before[i])
	}
}

func TestLayerMissingLower(t *testing.T) {
	requireRoot(t)
	_, err := Layer(context.Background(), bytes.NewReader(buildTar(t)), t.TempDir(),
		Options{Lower: []string{filepath.Join(t.TempDir(), "missing")}})
	if err == nil || !strings.Contains(err.Error(), "open lower layer") {
		t.Errorf("Layer error = %v, want open lower layer", err)
	}
}
