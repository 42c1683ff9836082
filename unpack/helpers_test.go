package unpack

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// testTime is the modification time of test entries that set none.
var testTime = time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)

// entry is one tar entry for a test stream.
type entry struct {
	hdr  tar.Header
	body string
}

func fileEntry(name, body string, mode int64) entry {
	return entry{hdr: tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode}, body: body}
}

func dirEntry(name string, mode int64) entry {
	return entry{hdr: tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: mode}}
}

func symlinkEntry(name, target string) entry {
	return entry{hdr: tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777}}
}

func hardlinkEntry(name, target string) entry {
	return entry{hdr: tar.Header{Typeflag: tar.TypeLink, Name: name, Linkname: target}}
}

// buildTar returns a tar stream of entries. Regular files get the size of
// their body, and entries without a time get testTime.
func buildTar(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := e.hdr
		if hdr.Typeflag == tar.TypeReg && hdr.Size == 0 {
			hdr.Size = int64(len(e.body))
		}
		if hdr.ModTime.IsZero() {
			hdr.ModTime = testTime
		}
		if err := tw.WriteHeader(&hdr); err != nil {
			t.Fatalf("write header %q: %v", hdr.Name, err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatalf("write body %q: %v", hdr.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatalf("close tar writer: %v", err)
	}
	return buf.Bytes()
}

func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("unpack tests need root: they chown, mknod and set trusted.* xattrs")
	}
}

// unpackInto unpacks entries into a new directory and returns it.
func unpackInto(t *testing.T, opts Options, entries ...entry) (string, Stats) {
	t.Helper()
	dir := t.TempDir()
	stats, err := Layer(context.Background(), bytes.NewReader(buildTar(t, entries...)), dir, opts)
	if err != nil {
		t.Fatalf("Layer: %v", err)
	}
	return dir, stats
}

func lstat(t testing.TB, path string) unix.Stat_t {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		t.Fatalf("lstat: %v", err)
	}
	return st
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// getXattr returns the value of an xattr of path, not following a symlink,
// and whether it is set.
func getXattr(t testing.TB, path, name string) (string, bool) {
	t.Helper()
	buf := make([]byte, 4096)
	n, err := unix.Lgetxattr(path, name, buf)
	if errors.Is(err, unix.ENODATA) {
		return "", false
	}
	if err != nil {
		t.Fatalf("lgetxattr %s %s: %v", path, name, err)
	}
	return string(buf[:n]), true
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read file: %v", err)
	}
	return string(b)
}

// sandbox is a temporary directory holding the layer root next to files an
// attack would aim at:
//
//	base/
//	  root/                  the layer directory
//	  outside/sentinel       a file
//	  outside/dir/           a directory
type sandbox struct {
	base, root, outside string
}

func newSandbox(t testing.TB) sandbox {
	t.Helper()
	base := t.TempDir()
	s := sandbox{
		base:    base,
		root:    filepath.Join(base, "root"),
		outside: filepath.Join(base, "outside"),
	}
	for _, dir := range []string{s.root, s.outside, filepath.Join(s.outside, "dir")} {
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	sentinel := filepath.Join(s.outside, "sentinel")
	if err := os.WriteFile(sentinel, []byte("original"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(sentinel, testTime, testTime); err != nil {
		t.Fatal(err)
	}
	return s
}

// fileState is what snapshot records of one path.
type fileState struct {
	Mode     fs.FileMode
	UID, GID uint32
	Nlink    uint64
	Mtime    int64
	Content  string // regular files only: devices are never opened
	Link     string
	Xattrs   string
}

// snapshot records every path under base except the layer root.
func (s sandbox) snapshot(t testing.TB) map[string]fileState {
	t.Helper()
	states := make(map[string]fileState)
	err := filepath.WalkDir(s.base, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path == s.root {
			return filepath.SkipDir
		}
		states[path] = stateOf(t, path)
		return nil
	})
	if err != nil {
		t.Fatalf("walk sandbox: %v", err)
	}
	return states
}

func stateOf(t testing.TB, path string) fileState {
	st := lstat(t, path)
	info, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	state := fileState{
		Mode:  info.Mode(),
		UID:   st.Uid,
		GID:   st.Gid,
		Nlink: st.Nlink,
		Mtime: st.Mtim.Nano(),
	}
	switch info.Mode().Type() {
	case 0:
		state.Content = readFile(t, path)
	case fs.ModeSymlink:
		state.Link, _ = os.Readlink(path)
	}
	buf := make([]byte, 64<<10)
	if n, err := unix.Llistxattr(path, buf); err == nil {
		state.Xattrs = strings.ReplaceAll(string(buf[:n]), "\x00", " ")
	}
	return state
}

// checkUntouched fails the test if anything outside the layer root differs
// from before.
func (s sandbox) checkUntouched(t testing.TB, before map[string]fileState) {
	t.Helper()
	if diff := cmp.Diff(before, s.snapshot(t)); diff != "" {
		t.Errorf("files outside the layer root changed (-before +after):\n%s", diff)
	}
}
