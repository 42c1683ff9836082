package unpack

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/sys/unix"
)

// corpusDir holds the crafted layers that testdata/mklayers writes: a file
// per case of one layer, a directory of 0.tar, 1.tar, ... per case that
// stacks layers.
const corpusDir = "../testdata/layers"

// corpusEscapeDir is where the escape cases aim absolute names and long
// ".." chains, hostEscapeDir in testdata/mklayers. It must never appear.
const corpusEscapeDir = "/tmp/kist-corpus-escape"

// Environment of the test binary that TestCorpus re-executes.
const (
	// corpusModeEnv is "root" to run the corpus as root in a new mount
	// namespace, or "userns" as root of a new user namespace that maps a
	// single ID.
	corpusModeEnv = "KIST_UNPACK_TEST_CORPUS_MODE"
	// corpusCasesEnv, when set, is a regular expression that selects the
	// cases to run by name.
	corpusCasesEnv = "KIST_CORPUS_CASES"
)

// TestCorpus unpacks every case in testdata/layers, each layer into its
// own directory with the layers below as Options.Lower, mounts the layers
// as a read-only overlay with the userxattr option, and compares the
// mounted tree with the case's expected tree. Escape cases also check that
// nothing beside the layer directories, and nothing at corpusEscapeDir,
// changed.
//
// The corpus runs twice, each in a re-executed test binary: as root in a
// private mount namespace, and in a user namespace that maps only the
// caller's IDs, where owners fall back to 0:0 with user.kist.owner and
// devices are skipped. Set KIST_CORPUS_CASES to a regular expression to
// run some cases only.
func TestCorpus(t *testing.T) {
	switch mode := os.Getenv(corpusModeEnv); mode {
	case "":
	case "root", "userns":
		runCorpus(t, mode == "userns")
		return
	default:
		t.Fatalf("%s=%q, want root or userns", corpusModeEnv, mode)
	}

	t.Run("root", func(t *testing.T) {
		requireRoot(t)
		runCorpusChild(t, "root", &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWNS})
	})
	t.Run("single-id-userns", func(t *testing.T) {
		runCorpusChild(t, "userns", &syscall.SysProcAttr{
			Cloneflags:  unix.CLONE_NEWUSER | unix.CLONE_NEWNS,
			UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
			GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
		})
	})
}

// runCorpusChild re-executes the test binary to run TestCorpus in mode in
// the namespaces that attr creates.
func runCorpusChild(t *testing.T, mode string, attr *syscall.SysProcAttr) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestCorpus$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), corpusModeEnv+"="+mode)
	cmd.SysProcAttr = attr
	out, err := cmd.CombinedOutput()
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSPC) {
		t.Skipf("cannot create the namespaces: %v", err)
	}
	switch {
	case err != nil:
		t.Fatalf("corpus in %s mode failed: %v\n%s", mode, err, out)
	case strings.Contains(string(out), "--- SKIP: TestCorpus "):
		t.Skipf("corpus in %s mode skipped:\n%s", mode, out)
	case !strings.Contains(string(out), "--- PASS: TestCorpus "):
		t.Fatalf("corpus in %s mode did not pass:\n%s", mode, out)
	}
}

// runCorpus runs every selected case. It runs in a re-executed test
// binary, alone in its mount namespace.
func runCorpus(t *testing.T, userns bool) {
	// A new mount namespace shares mount events with its parent until its
	// mounts are made private, and the overlays must not appear outside.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		t.Fatalf("make mounts private: %v", err)
	}
	// A restrictive umask must not change any mode that a layer sets.
	unix.Umask(0o077)

	names := corpusNames(t)
	var filter *regexp.Regexp
	if expr := os.Getenv(corpusCasesEnv); expr != "" {
		filter = regexp.MustCompile(expr)
	}
	for _, name := range names {
		if filter != nil && !filter.MatchString(name) {
			continue
		}
		t.Run(name, func(t *testing.T) {
			runCorpusCase(t, name, corpusCases[name], userns)
		})
	}
}

// corpusNames returns the names of the cases in corpusDir, sorted, and
// fails the test unless each has an expectation in corpusCases and each
// expectation has a case.
func corpusNames(t *testing.T) []string {
	entries, err := os.ReadDir(corpusDir)
	if err != nil {
		t.Fatalf("read corpus: %v", err)
	}
	var names []string
	for _, e := range entries {
		if e.Name() == "README.md" {
			continue
		}
		names = append(names, e.Name())
		if _, ok := corpusCases[e.Name()]; !ok {
			t.Errorf("corpus case %s has no expectation in corpusCases", e.Name())
		}
	}
	for name := range corpusCases {
		if !slices.Contains(names, name) {
			t.Errorf("corpusCases has %s, which is not in %s: run go run ./testdata/mklayers", name, corpusDir)
		}
	}
	return names
}

// corpusResult is what a case produced, for its extra checks.
type corpusResult struct {
	layers []string // directory of each layer, bottom first
	stats  []Stats  // Stats of each layer
	merged string   // mount point of the overlay
	userns bool     // whether the case ran in a single-ID user namespace
}

func runCorpusCase(t *testing.T, name string, c corpusCase, userns bool) {
	checkNoEscapeDir(t)
	defer checkNoEscapeDir(t)

	// Layer N is unpacked into base/N, with base/outside beside it.
	base := t.TempDir()
	outside := filepath.Join(base, "outside")
	if err := os.MkdirAll(filepath.Join(outside, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	sentinel := filepath.Join(outside, "sentinel")
	if err := os.WriteFile(sentinel, []byte("original"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := snapshotOutside(t, base)

	r := corpusResult{userns: userns}
	var err error
	for i, blob := range corpusLayers(t, name) {
		dir := filepath.Join(base, strconv.Itoa(i))
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		var stats Stats
		stats, err = unpackCorpusLayer(blob, dir, r.layers)
		r.layers = append(r.layers, dir)
		r.stats = append(r.stats, stats)
		if err != nil {
			break
		}
	}

	if diff := cmp.Diff(before, snapshotOutside(t, base)); diff != "" {
		t.Errorf("files beside the layer directories changed (-before +after):\n%s", diff)
	}
	if c.wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), c.wantErr) {
			t.Fatalf("error = %v, want one containing %q", err, c.wantErr)
		}
		checkEmpty(t, r.layers[len(r.layers)-1])
		return
	}
	if err != nil {
		t.Fatalf("unpack layer %d: %v", len(r.layers)-1, err)
	}

	r.merged = mountCorpusOverlay(t, base, r)
	// Extra checks run first: reading the files for the tree would change
	// their access times.
	if c.check != nil {
		c.check(t, r)
	}
	want := c.want
	if userns {
		want = want.inSingleIDNamespace()
	}
	compareTree(t, want, describeTree(t, r.merged))
}

// corpusLayers returns the paths of a case's layer files, bottom first.
func corpusLayers(t *testing.T, name string) []string {
	path := filepath.Join(corpusDir, name)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !info.IsDir() {
		return []string{path}
	}
	var layers []string
	for i := 0; ; i++ {
		layer := filepath.Join(path, fmt.Sprintf("%d.tar", i))
		if _, err := os.Stat(layer); errors.Is(err, fs.ErrNotExist) {
			break
		}
		layers = append(layers, layer)
	}
	if len(layers) < 2 {
		t.Fatalf("%s holds %d layers named 0.tar, 1.tar, ..., want at least 2", path, len(layers))
	}
	return layers
}

// unpackCorpusLayer decompresses the blob at path and unpacks it into dir
// over the lower layers, given bottom first.
func unpackCorpusLayer(path, dir string, lower []string) (Stats, error) {
	f, err := os.Open(path)
	if err != nil {
		return Stats{}, err
	}
	defer f.Close()
	r, err := Decompress(f)
	if err != nil {
		return Stats{}, err
	}
	defer r.Close()
	topFirst := slices.Clone(lower)
	slices.Reverse(topFirst)
	return Layer(context.Background(), r, dir, Options{Lower: topFirst})
}

// mountCorpusOverlay mounts the layers of r read-only at base/merged, as
// kist stacks them: a layer with an opaque root hides every layer below
// it. Overlayfs needs two lower directories when there is no upper one,
// so an empty directory is the bottom layer.
func mountCorpusOverlay(t *testing.T, base string, r corpusResult) string {
	empty := filepath.Join(base, "empty")
	merged := filepath.Join(base, "merged")
	for _, dir := range []string{empty, merged} {
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var lower []string
	for i := len(r.layers) - 1; i >= 0; i-- {
		lower = append(lower, r.layers[i])
		if r.stats[i].OpaqueRoot {
			break
		}
	}
	lower = append(lower, empty)
	options := "userxattr,lowerdir=" + strings.Join(lower, ":")
	if err := unix.Mount("overlay", merged, "overlay", unix.MS_RDONLY, options); err != nil {
		t.Skipf("cannot mount overlayfs with %q here: %v", options, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(merged, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount overlay: %v", err)
		}
	})
	return merged
}

// checkNoEscapeDir fails the test if corpusEscapeDir exists on the host,
// and removes it so that later cases start clean.
func checkNoEscapeDir(t *testing.T) {
	t.Helper()
	if _, err := os.Lstat(corpusEscapeDir); errors.Is(err, fs.ErrNotExist) {
		return
	}
	t.Errorf("%s exists: an entry escaped a layer root, or an earlier run left it", corpusEscapeDir)
	if err := os.RemoveAll(corpusEscapeDir); err != nil {
		t.Errorf("remove %s: %v", corpusEscapeDir, err)
	}
}

// snapshotOutside records every path under base except the layer
// directories and the overlay, which are the only places a case may write.
func snapshotOutside(t *testing.T, base string) map[string]fileState {
	t.Helper()
	states := make(map[string]fileState)
	err := filepath.WalkDir(base, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch {
		case path == base:
			return nil // Its mtime changes as the layer directories are made.
		case filepath.Dir(path) == base && path != filepath.Join(base, "outside"):
			return filepath.SkipDir
		}
		states[path] = stateOf(t, path)
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", base, err)
	}
	return states
}

// treeEntry is the expected or actual state of one path in the merged tree.
type treeEntry struct {
	Type     string // file, dir, symlink, fifo, char or block
	Mode     string // permission bits with setuid, setgid and sticky, in octal
	UID, GID uint32
	Content  string // regular files: see contentOf
	Target   string // symlinks
	Rdev     string // devices, as MAJOR:MINOR
	Nlink    uint64 // non-directories only: overlayfs counts directories its own way
	// FirstLink is, for a non-directory that has more than one name in the
	// tree, the first of those names in byte order.
	FirstLink string
	Xattrs    map[string]string
	// Mtime is compared only where the expected treeEntry sets it, because
	// implicit parents get the time they were created.
	Mtime time.Time
}

// tree maps names relative to the root, "." for the root itself, to nodes.
type tree map[string]treeEntry

// octalMode returns the permission bits of mode, with setuid, setgid and
// sticky, as four octal digits.
func octalMode(mode uint32) string { return fmt.Sprintf("%04o", mode&0o7777) }

// contentOf returns the content of a regular file for a treeEntry: the bytes
// themselves when short, else their size and SHA-256 digest.
func contentOf(b []byte) string {
	if len(b) <= 64 {
		return string(b)
	}
	return fmt.Sprintf("%d bytes, sha256 %x", len(b), sha256.Sum256(b))
}

// describeTree returns the state of every path under root.
func describeTree(t *testing.T, root string) tree {
	t.Helper()
	got := make(tree)
	names := make(map[[2]uint64][]string) // names of each non-directory inode
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		n, st := describeNode(t, path)
		got[filepath.ToSlash(rel)] = n
		if n.Type != "dir" && n.Type != listedNotFound {
			key := [2]uint64{st.Dev, st.Ino}
			names[key] = append(names[key], filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	for _, group := range names {
		if len(group) < 2 {
			continue
		}
		slices.Sort(group)
		for _, name := range group {
			n := got[name]
			n.FirstLink = group[0]
			got[name] = n
		}
	}
	return got
}

// listedNotFound is the type of a name that readdir returns but lstat
// does not find. Overlayfs (seen on Linux 6.18) lists a whiteout that lies
// in a directory no other layer has, and hides it only from lookups.
const listedNotFound = "listed, not found"

func describeNode(t *testing.T, path string) (treeEntry, unix.Stat_t) {
	t.Helper()
	var st unix.Stat_t
	err := unix.Lstat(path, &st)
	if errors.Is(err, unix.ENOENT) {
		return treeEntry{Type: listedNotFound}, st
	}
	if err != nil {
		t.Fatalf("lstat %s: %v", path, err)
	}
	n := treeEntry{
		Mode:   octalMode(st.Mode),
		UID:    st.Uid,
		GID:    st.Gid,
		Xattrs: listXattrs(t, path),
		Mtime:  time.Unix(st.Mtim.Unix()).UTC(),
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("read %s: %v", path, err)
		}
		n.Type, n.Content = "file", contentOf(b)
	case unix.S_IFDIR:
		n.Type = "dir"
	case unix.S_IFLNK:
		target, err := os.Readlink(path)
		if err != nil {
			t.Fatal(err)
		}
		n.Type, n.Target = "symlink", target
	case unix.S_IFIFO:
		n.Type = "fifo"
	case unix.S_IFCHR, unix.S_IFBLK:
		n.Type = "char"
		if st.Mode&unix.S_IFMT == unix.S_IFBLK {
			n.Type = "block"
		}
		n.Rdev = fmt.Sprintf("%d:%d", unix.Major(st.Rdev), unix.Minor(st.Rdev))
	default:
		t.Fatalf("%s has unexpected type %#o", path, st.Mode&unix.S_IFMT)
	}
	if n.Type != "dir" {
		n.Nlink = st.Nlink
	}
	return n, st
}

// listXattrs returns every xattr of path, not following a symlink.
func listXattrs(t *testing.T, path string) map[string]string {
	t.Helper()
	buf := make([]byte, 64<<10)
	size, err := unix.Llistxattr(path, buf)
	if errors.Is(err, unix.ENOTSUP) {
		return nil
	}
	if err != nil {
		t.Fatalf("llistxattr %s: %v", path, err)
	}
	var xattrs map[string]string
	for _, name := range strings.Split(string(buf[:size]), "\x00") {
		if name == "" {
			continue
		}
		value, ok := getXattr(t, path, name)
		if !ok {
			continue
		}
		if xattrs == nil {
			xattrs = make(map[string]string)
		}
		xattrs[name] = value
	}
	return xattrs
}

// compareTree reports every difference between want and got, ignoring
// the root unless want names it and times that want leaves unset.
func compareTree(t *testing.T, want, got tree) {
	t.Helper()
	if _, ok := want["."]; !ok {
		delete(got, ".")
	}
	for name, n := range got {
		if want[name].Mtime.IsZero() {
			n.Mtime = time.Time{}
			got[name] = n
		}
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("merged tree mismatch (-want +got):\n%s", diff)
	}
}

// TestCorpusUpToDate regenerates the corpus with testdata/mklayers and
// fails if a file differs from testdata/layers, so that cases change only
// through the generator.
func TestCorpusUpToDate(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("go command not found, so the corpus cannot be regenerated: %v", err)
	}
	out := filepath.Join(t.TempDir(), "layers")
	cmd := exec.Command(goTool, "run", "./testdata/mklayers", "-o", out)
	cmd.Dir = ".."
	if output, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run ./testdata/mklayers: %v\n%s", err, output)
	}

	want, got := readFiles(t, out), readFiles(t, corpusDir)
	const fix = "run go run ./testdata/mklayers -o testdata/layers from the repository root"
	for name, content := range want {
		if _, ok := got[name]; !ok {
			t.Errorf("testdata/layers/%s is missing: %s", name, fix)
		} else if !bytes.Equal(got[name], content) {
			t.Errorf("testdata/layers/%s differs from what testdata/mklayers writes: %s", name, fix)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("testdata/layers/%s is not written by testdata/mklayers: %s", name, fix)
		}
	}
}

// readFiles returns the content of every regular file under dir, by name
// relative to dir.
func readFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := make(map[string][]byte)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(rel)], err = os.ReadFile(path)
		return err
	})
	if err != nil {
		t.Fatalf("read %s: %v", dir, err)
	}
	return files
}
