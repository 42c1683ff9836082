package unpack

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

func TestLayerEntryTypes(t *testing.T) {
	requireRoot(t)
	dir, stats := unpackInto(t, Options{},
		dirEntry("etc/", 0o755),
		fileEntry("etc/hostname", "box\n", 0o644),
		symlinkEntry("etc/alias", "hostname"),
		hardlinkEntry("etc/hardlink", "etc/hostname"),
		hardlinkEntry("etc/abslink", "/etc/hostname"),
		hardlinkEntry("etc/symlink-link", "etc/alias"),
		entry{hdr: tar.Header{Typeflag: tar.TypeFifo, Name: "run/fifo", Mode: 0o620}},
		entry{hdr: tar.Header{Typeflag: tar.TypeChar, Name: "dev/null", Mode: 0o666, Devmajor: 1, Devminor: 3}},
		entry{hdr: tar.Header{Typeflag: tar.TypeBlock, Name: "dev/loop9", Mode: 0o660, Devmajor: 7, Devminor: 9}},
	)

	if got := readFile(t, filepath.Join(dir, "etc/hostname")); got != "box\n" {
		t.Errorf("etc/hostname content = %q, want %q", got, "box\n")
	}
	if got, err := os.Readlink(filepath.Join(dir, "etc/alias")); err != nil || got != "hostname" {
		t.Errorf("etc/alias target = %q, %v; want hostname", got, err)
	}
	file := lstat(t, filepath.Join(dir, "etc/hostname"))
	if file.Nlink != 3 {
		t.Errorf("etc/hostname link count = %d, want 3", file.Nlink)
	}
	for _, name := range []string{"etc/hardlink", "etc/abslink"} {
		if st := lstat(t, filepath.Join(dir, name)); st.Ino != file.Ino {
			t.Errorf("%s inode = %d, want %d, that of etc/hostname", name, st.Ino, file.Ino)
		}
	}
	alias := lstat(t, filepath.Join(dir, "etc/alias"))
	symlinkLink := lstat(t, filepath.Join(dir, "etc/symlink-link"))
	if symlinkLink.Ino != alias.Ino || symlinkLink.Mode&unix.S_IFMT != unix.S_IFLNK {
		t.Errorf("etc/symlink-link is not a second link to the symlink etc/alias")
	}

	fifo := lstat(t, filepath.Join(dir, "run/fifo"))
	if fifo.Mode != unix.S_IFIFO|0o620 {
		t.Errorf("run/fifo mode = %#o, want %#o", fifo.Mode, unix.S_IFIFO|0o620)
	}
	null := lstat(t, filepath.Join(dir, "dev/null"))
	if null.Mode != unix.S_IFCHR|0o666 || null.Rdev != unix.Mkdev(1, 3) {
		t.Errorf("dev/null mode %#o rdev %#x, want char device 1:3 mode 0666", null.Mode, null.Rdev)
	}
	loop := lstat(t, filepath.Join(dir, "dev/loop9"))
	if loop.Mode != unix.S_IFBLK|0o660 || loop.Rdev != unix.Mkdev(7, 9) {
		t.Errorf("dev/loop9 mode %#o rdev %#x, want block device 7:9 mode 0660", loop.Mode, loop.Rdev)
	}

	want := Stats{Files: 1, Dirs: 1, Symlinks: 1, Hardlinks: 3, Specials: 3, Bytes: 4}
	if diff := cmp.Diff(want, stats); diff != "" {
		t.Errorf("Stats mismatch (-want +got):\n%s", diff)
	}
}

func TestLayerModes(t *testing.T) {
	requireRoot(t)
	// A restrictive umask must not change any mode.
	old := unix.Umask(0o077)
	defer unix.Umask(old)

	setuid := fileEntry("bin/su", "x", 0o4755)
	setuid.hdr.Uid, setuid.hdr.Gid = 1000, 1000
	dir, _ := unpackInto(t, Options{},
		setuid,
		fileEntry("bin/wall", "x", 0o2755),
		dirEntry("tmp/", 0o1777),
		dirEntry("shared/", 0o2775),
		dirEntry("ro/", 0o555),
		fileEntry("ro/later", "written after its parent became 0555", 0o444),
		dirEntry("locked/", 0o000),
		dirEntry("locked/inner/", 0o700),
		fileEntry("locked/inner/file", "x", 0o000),
		fileEntry("zero", "first", 0o000),
		fileEntry("zero", "second", 0o000),
	)

	tests := []struct {
		name string
		want uint32
	}{
		{"bin", unix.S_IFDIR | 0o755},
		{"bin/su", unix.S_IFREG | 0o4755},
		{"bin/wall", unix.S_IFREG | 0o2755},
		{"tmp", unix.S_IFDIR | 0o1777},
		{"shared", unix.S_IFDIR | 0o2775},
		{"ro", unix.S_IFDIR | 0o555},
		{"ro/later", unix.S_IFREG | 0o444},
		{"locked", unix.S_IFDIR},
		{"locked/inner/file", unix.S_IFREG},
		{"zero", unix.S_IFREG},
	}
	for _, tt := range tests {
		if got := lstat(t, filepath.Join(dir, tt.name)).Mode; got != tt.want {
			t.Errorf("%s mode = %#o, want %#o", tt.name, got, tt.want)
		}
	}
	if got := readFile(t, filepath.Join(dir, "zero")); got != "second" {
		t.Errorf("zero content = %q, want the last entry's %q", got, "second")
	}
	if st := lstat(t, filepath.Join(dir, "bin/su")); st.Uid != 1000 || st.Gid != 1000 {
		t.Errorf("bin/su owner = %d:%d, want 1000:1000", st.Uid, st.Gid)
	}
}

func TestLayerOwners(t *testing.T) {
	requireRoot(t)
	owned := func(e entry, uid, gid int) entry {
		e.hdr.Uid, e.hdr.Gid = uid, gid
		return e
	}
	dir, _ := unpackInto(t, Options{},
		owned(dirEntry("home/user/", 0o750), 1000, 100),
		owned(fileEntry("home/user/notes", "x", 0o600), 1000, 1001),
		owned(symlinkEntry("home/user/link", "notes"), 1002, 1003),
		owned(fileEntry("big-ids", "x", 0o644), 1<<31, 1<<32-2),
	)
	tests := []struct {
		name     string
		uid, gid uint32
	}{
		{"home", 0, 0},
		{"home/user", 1000, 100},
		{"home/user/notes", 1000, 1001},
		{"home/user/link", 1002, 1003},
		{"big-ids", 1 << 31, 1<<32 - 2},
	}
	for _, tt := range tests {
		st := lstat(t, filepath.Join(dir, tt.name))
		if st.Uid != tt.uid || st.Gid != tt.gid {
			t.Errorf("%s owner = %d:%d, want %d:%d", tt.name, st.Uid, st.Gid, tt.uid, tt.gid)
		}
	}
	if _, ok := getXattr(t, filepath.Join(dir, "home/user/notes"), ownerXattr); ok {
		t.Errorf("%s set although chown succeeded", ownerXattr)
	}
}

func TestLayerInvalidOwner(t *testing.T) {
	requireRoot(t)
	e := fileEntry("f", "x", 0o644)
	e.hdr.Uid = -1
	_, err := Layer(context.Background(), bytes.NewReader(buildTar(t, e)), t.TempDir(), Options{})
	if err == nil || !strings.Contains(err.Error(), "invalid owner") {
		t.Errorf("Layer error = %v, want invalid owner", err)
	}
}

func TestLayerTimes(t *testing.T) {
	requireRoot(t)
	dirTime := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	fileTime := time.Date(2002, 3, 4, 5, 6, 7, 0, time.UTC)
	linkTime := time.Date(2003, 4, 5, 6, 7, 8, 0, time.UTC)
	atime := time.Date(2004, 5, 6, 7, 8, 9, 0, time.UTC)
	at := func(e entry, mtime time.Time) entry {
		e.hdr.ModTime = mtime
		return e
	}
	file := at(fileEntry("a/b/file", "x", 0o644), fileTime)
	file.hdr.AccessTime = atime
	file.hdr.Format = tar.FormatPAX
	dir, _ := unpackInto(t, Options{},
		at(dirEntry("./", 0o755), dirTime),
		at(dirEntry("a/", 0o755), dirTime),
		at(dirEntry("a/b/", 0o555), dirTime),
		file,
		at(symlinkEntry("a/b/link", "file"), linkTime),
		at(fileEntry("a/later", "changes a's mtime when created", 0o644), fileTime),
	)

	tests := []struct {
		name string
		want time.Time
	}{
		{".", dirTime},
		{"a", dirTime},
		{"a/b", dirTime},
		{"a/b/file", fileTime},
		{"a/b/link", linkTime},
	}
	for _, tt := range tests {
		st := lstat(t, filepath.Join(dir, tt.name))
		if got := time.Unix(st.Mtim.Unix()); !got.Equal(tt.want) {
			t.Errorf("%s mtime = %v, want %v", tt.name, got.UTC(), tt.want)
		}
	}
	st := lstat(t, filepath.Join(dir, "a/b/file"))
	if got := time.Unix(st.Atim.Unix()); !got.Equal(atime) {
		t.Errorf("a/b/file atime = %v, want %v", got.UTC(), atime)
	}
}

func TestLayerXattrs(t *testing.T) {
	requireRoot(t)
	capability := string([]byte{0x00, 0x00, 0x00, 0x02, 0x00, 0x04, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	file := fileEntry("bin/ping", "x", 0o755)
	file.hdr.PAXRecords = map[string]string{
		"SCHILY.xattr.user.plain":              "value",
		"SCHILY.xattr.trusted.root-only":       "t",
		"SCHILY.xattr.security.capability":     capability,
		"LIBARCHIVE.xattr.user.encoded%3Dname": "YmluYXJ5AAE=", // "binary\x00\x01"
		"LIBARCHIVE.xattr.user.plain":          "b3RoZXI=",     // "other": SCHILY wins
		"SCHILY.xattr.user.overlay.opaque":     "y",
		"SCHILY.xattr.user.kist.owner":         "1:1",
	}
	dir := dirEntry("data/", 0o755)
	dir.hdr.PAXRecords = map[string]string{"SCHILY.xattr.user.dir": "d"}
	root, _ := unpackInto(t, Options{}, file, dir)

	path := filepath.Join(root, "bin/ping")
	tests := []struct {
		path, name, want string
		set              bool
	}{
		{path, "user.plain", "value", true},
		{path, "trusted.root-only", "t", true},
		{path, "security.capability", capability, true},
		{path, "user.encoded=name", "binary\x00\x01", true},
		{path, "user.overlay.opaque", "", false},
		{path, ownerXattr, "", false},
		{filepath.Join(root, "data"), "user.dir", "d", true},
	}
	for _, tt := range tests {
		got, ok := getXattr(t, tt.path, tt.name)
		if ok != tt.set || got != tt.want {
			t.Errorf("xattr %s = %q (set %v), want %q (set %v)", tt.name, got, ok, tt.want, tt.set)
		}
	}
	if st := lstat(t, path); st.Mode != unix.S_IFREG|0o755 {
		t.Errorf("bin/ping mode = %#o, want 0755", st.Mode)
	}
}

func TestLayerImplicitParents(t *testing.T) {
	requireRoot(t)
	old := unix.Umask(0o077)
	defer unix.Umask(old)
	setgid := dirEntry("sg/", 0o2775)
	setgid.hdr.Gid = 50
	dir, stats := unpackInto(t, Options{},
		setgid,
		fileEntry("a/b/c/file", "x", 0o644),
		fileEntry("sg/x/y/file", "x", 0o644),
	)
	for _, name := range []string{"a", "a/b", "a/b/c", "sg/x", "sg/x/y"} {
		st := lstat(t, filepath.Join(dir, name))
		if st.Mode != unix.S_IFDIR|0o755 || st.Uid != 0 || st.Gid != 0 {
			t.Errorf("%s: mode %#o owner %d:%d, want directory 0755 owned by 0:0", name, st.Mode, st.Uid, st.Gid)
		}
	}
	if stats.Dirs != 1 {
		t.Errorf("Stats.Dirs = %d, want 1: implicit parents are not counted", stats.Dirs)
	}
}

func TestLayerDuplicates(t *testing.T) {
	requireRoot(t)
	later := dirEntry("merged/", 0o700)
	later.hdr.Uid = 7
	dir, _ := unpackInto(t, Options{},
		dirEntry("merged/", 0o755),
		fileEntry("merged/kept", "x", 0o644),
		later,

		dirEntry("tree/", 0o555),
		dirEntry("tree/sub/", 0o555),
		fileEntry("tree/sub/ro", "x", 0o444),
		fileEntry("tree", "file replaced a populated read-only tree", 0o644),

		fileEntry("was-file", "x", 0o644),
		dirEntry("was-file/", 0o711),

		fileEntry("was-file-2", "x", 0o644),
		symlinkEntry("was-file-2", "target"),

		symlinkEntry("was-link", "target"),
		fileEntry("was-link", "y", 0o600),
	)

	merged := lstat(t, filepath.Join(dir, "merged"))
	if merged.Mode != unix.S_IFDIR|0o700 || merged.Uid != 7 {
		t.Errorf("merged: mode %#o uid %d, want the later entry's 0700 and uid 7", merged.Mode, merged.Uid)
	}
	if !exists(filepath.Join(dir, "merged/kept")) {
		t.Errorf("merged/kept missing: a directory over a directory must merge")
	}
	if got := readFile(t, filepath.Join(dir, "tree")); got != "file replaced a populated read-only tree" {
		t.Errorf("tree content = %q", got)
	}
	if st := lstat(t, filepath.Join(dir, "was-file")); st.Mode != unix.S_IFDIR|0o711 {
		t.Errorf("was-file mode = %#o, want directory 0711", st.Mode)
	}
	if got, _ := os.Readlink(filepath.Join(dir, "was-file-2")); got != "target" {
		t.Errorf("was-file-2 link = %q, want target", got)
	}
	if st := lstat(t, filepath.Join(dir, "was-link")); st.Mode != unix.S_IFREG|0o600 {
		t.Errorf("was-link mode = %#o, want regular file 0600", st.Mode)
	}
}

func TestLayerRootEntry(t *testing.T) {
	requireRoot(t)
	root := dirEntry("./", 0o750)
	root.hdr.Uid, root.hdr.Gid = 3, 4
	dir, _ := unpackInto(t, Options{}, root, fileEntry("./f", "x", 0o644))
	st := lstat(t, dir)
	if st.Mode != unix.S_IFDIR|0o750 || st.Uid != 3 || st.Gid != 4 {
		t.Errorf("root: mode %#o owner %d:%d, want 0750 3:4", st.Mode, st.Uid, st.Gid)
	}
}

func TestLayerLongNames(t *testing.T) {
	requireRoot(t)
	long := strings.Repeat("d", 120) + "/" + strings.Repeat("f", 150)
	target := strings.Repeat("t", 200)
	pax := fileEntry(long, "pax", 0o644)
	pax.hdr.Format = tar.FormatPAX
	gnu := fileEntry(long+"-gnu", "gnu", 0o644)
	gnu.hdr.Format = tar.FormatGNU
	link := symlinkEntry("long-link", target)
	link.hdr.Format = tar.FormatGNU
	dir, _ := unpackInto(t, Options{}, pax, gnu, link, hardlinkEntry("hard", long))

	if got := readFile(t, filepath.Join(dir, long)); got != "pax" {
		t.Errorf("PAX long name content = %q, want pax", got)
	}
	if got := readFile(t, filepath.Join(dir, long+"-gnu")); got != "gnu" {
		t.Errorf("GNU long name content = %q, want gnu", got)
	}
	if got, _ := os.Readlink(filepath.Join(dir, "long-link")); got != target {
		t.Errorf("long link target has %d bytes, want %d", len(got), len(target))
	}
	if got := readFile(t, filepath.Join(dir, "hard")); got != "pax" {
		t.Errorf("hardlink to long name content = %q, want pax", got)
	}
}

func TestLayerNameTooLong(t *testing.T) {
	requireRoot(t)
	e := fileEntry(strings.Repeat("a/", maxNameLen/2)+"f", "x", 0o644)
	dir := t.TempDir()
	_, err := Layer(context.Background(), bytes.NewReader(buildTar(t, e)), dir, Options{})
	if err == nil || !strings.Contains(err.Error(), "more than the 4096 allowed") {
		t.Errorf("Layer error = %v, want name too long", err)
	}
}

func TestLayerZeroRunsBecomeHoles(t *testing.T) {
	requireRoot(t)
	const size = 32 << 20
	e := entry{hdr: tar.Header{Typeflag: tar.TypeReg, Name: "zeros", Mode: 0o644, Size: size}}
	e.body = string(make([]byte, size-3)) + "end"
	dir, stats := unpackInto(t, Options{}, e)

	st := lstat(t, filepath.Join(dir, "zeros"))
	if st.Size != size {
		t.Errorf("zeros size = %d, want %d", st.Size, size)
	}
	if used := st.Blocks * 512; used > 1<<20 {
		t.Errorf("zeros uses %d bytes of disk, want the zero run to be a hole", used)
	}
	if stats.Bytes != size {
		t.Errorf("Stats.Bytes = %d, want %d", stats.Bytes, size)
	}
	f, err := os.Open(filepath.Join(dir, "zeros"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tail := make([]byte, 4)
	if _, err := f.ReadAt(tail, size-4); err != nil || string(tail) != "\x00end" {
		t.Errorf("zeros tail = %q, %v; want %q", tail, err, "\x00end")
	}
}
