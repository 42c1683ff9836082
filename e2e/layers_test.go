package e2e

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRunLayeredDebian checks that whiteouts, opaque directories and
// replaced files in upper layers show in the container.
func TestRunLayeredDebian(t *testing.T) {
	need(t, needRegistry, needDebian)
	ref := env.debian.ref(tagLayered)
	forEachIdentity(t, func(t *testing.T, id *identity) {
		r := runKist(t, id, "pull", ref)
		expect(t, r, 0, env.debian.ids[tagLayered]+"\n")

		r = runKist(t, id, "run", "--rm", ref, "sh", "-c", layeredScript)
		expect(t, r, 0, layeredScriptOutput)
		expectQuiet(t, r)

		r = runKist(t, id, "run", "--rm", ref, "test", "-e", "/etc/issue.net")
		expect(t, r, 1, "")
		expectNoLeftovers(t, id.store())
	})
}

// TestRunDebianSetuidModes compares stat inside the container with the
// rootfs for every setuid and setgid file of the Debian image.
func TestRunDebianSetuidModes(t *testing.T) {
	need(t, needRegistry, needDebian)
	all, err := specialFiles(env.debian.rootfs)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) == 0 {
		t.Fatalf("no setuid or setgid file in %s", env.debian.rootfs)
	}
	ref := env.debian.ref(tagBookworm)
	forEachIdentity(t, func(t *testing.T, id *identity) {
		files := all
		if !id.subIDs {
			// Only uid and gid 0 exist for this user inside kist, so files
			// of other owners, such as group shadow, have no defined owner.
			files = rootOwned(all)
		}
		pulled(t, id, ref)
		args := []string{"run", "--rm", ref, "stat", "-c", "%a %u %g %n"}
		var want strings.Builder
		for _, f := range files {
			args = append(args, f.path)
			fmt.Fprintf(&want, "%s\n", f)
		}
		r := runKist(t, id, args...)
		expect(t, r, 0, want.String())
		expectQuiet(t, r)
	})
}

// statLine is one line of `stat -c '%a %u %g %n'`.
type statLine struct {
	mode     uint32
	uid, gid uint32
	path     string
}

func (s statLine) String() string {
	return fmt.Sprintf("%o %d %d %s", s.mode, s.uid, s.gid, s.path)
}

// specialFiles returns the setuid and setgid files in the bin and sbin
// directories of rootfs, sorted by path.
func specialFiles(rootfs string) ([]statLine, error) {
	var found []statLine
	for _, dir := range []string{"usr/bin", "usr/sbin"} {
		err := filepath.WalkDir(filepath.Join(rootfs, dir), func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			st := info.Sys().(*syscall.Stat_t)
			if st.Mode&(syscall.S_ISUID|syscall.S_ISGID) == 0 {
				return nil
			}
			rel, _ := filepath.Rel(rootfs, p)
			found = append(found, statLine{st.Mode & 0o7777, st.Uid, st.Gid, "/" + rel})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Slice(found, func(i, j int) bool { return found[i].path < found[j].path })
	return found, nil
}

func rootOwned(lines []statLine) []statLine {
	var kept []statLine
	for _, l := range lines {
		if l.uid == 0 && l.gid == 0 {
			kept = append(kept, l)
		}
	}
	return kept
}

// TestRunReusesUnpackedLayers runs an image twice in an empty store. The
// first run pulls and unpacks it. The second must leave every layer
// directory as it was and log no unpacking.
func TestRunReusesUnpackedLayers(t *testing.T) {
	need(t, needRegistry, needBusybox)
	ref := env.busybox.ref(tagConfig)
	forEachIdentity(t, func(t *testing.T, id *identity) {
		id = id.fresh(t)
		first := runKist(t, id, "--log-level", "debug", "run", "--rm", ref)
		expect(t, first, 0, "entry default\n")
		// Without this the check on the second run could pass only
		// because kist logs unpacking under another wording.
		if unpackLines(first.stderr) == nil {
			t.Errorf("first run's debug log has no line with %q:\n%s", "unpack layer", first.stderr)
		}
		layers := filepath.Join(id.store(), "layers", "sha256")
		before := snapshotDirs(t, layers)
		if len(before) < 3 {
			t.Fatalf("%s holds %d directories, want the two layers and their trees", layers, len(before))
		}

		second := runKist(t, id, "--log-level", "debug", "run", "--rm", ref)
		expect(t, second, 0, "entry default\n")
		if lines := unpackLines(second.stderr); lines != nil {
			t.Errorf("second run unpacked again:\n%s", strings.Join(lines, "\n"))
		}
		if diff := cmp.Diff(before, snapshotDirs(t, layers), cmp.AllowUnexported(dirState{})); diff != "" {
			t.Errorf("layer directories changed in the second run (-before +after):\n%s", diff)
		}
		expectNoLeftovers(t, id.store())
	})
}

// unpackLines returns the lines of a debug log that report unpacking.
func unpackLines(log string) []string {
	var found []string
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "unpack layer") {
			found = append(found, line)
		}
	}
	return found
}
