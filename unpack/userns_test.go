package unpack

import (
	"archive/tar"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// userNSChildEnv is set in the environment of the test binary re-executed
// inside a user namespace.
const userNSChildEnv = "KIST_UNPACK_TEST_USERNS_CHILD"

// TestLayerSingleIDNamespace re-executes the test binary in a new user
// namespace that maps only the caller's uid and gid to 0, as kist does
// without subordinate IDs, and runs singleIDChild there.
func TestLayerSingleIDNamespace(t *testing.T) {
	if os.Getenv(userNSChildEnv) == "1" {
		singleIDChild(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestLayerSingleIDNamespace$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), userNSChildEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:                 unix.CLONE_NEWUSER | unix.CLONE_NEWNS,
		UidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
		GidMappingsEnableSetgroups: false,
	}
	out, err := cmd.CombinedOutput()
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSPC) {
		t.Skipf("cannot create a user namespace here: %v", err)
	}
	if err != nil {
		t.Fatalf("test in user namespace failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS: TestLayerSingleIDNamespace") {
		t.Fatalf("test in user namespace did not pass:\n%s", out)
	}
}

func singleIDChild(t *testing.T) {
	uidMap, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		t.Fatal(err)
	}
	if fields := strings.Fields(string(uidMap)); len(fields) != 3 || fields[0] != "0" || fields[2] != "1" {
		t.Fatalf("uid_map = %q, want a single ID mapped to 0", uidMap)
	}

	owned := func(e entry, uid, gid int) entry {
		e.hdr.Uid, e.hdr.Gid = uid, gid
		return e
	}
	withXattrs := fileEntry("xattrs", "x", 0o644)
	withXattrs.hdr.PAXRecords = map[string]string{
		"SCHILY.xattr.user.kept":       "u",
		"SCHILY.xattr.trusted.dropped": "t",
	}
	dir, stats := unpackInto(t, Options{},
		owned(fileEntry("setuid", "x", 0o4755), 1000, 1000),
		owned(dirEntry("home/user/", 0o700), 1000, 100),
		owned(fileEntry("home/user/file", "x", 0o600), 1000, 100),
		owned(symlinkEntry("link", "setuid"), 1000, 1000),
		owned(entry{hdr: tar.Header{Typeflag: tar.TypeFifo, Name: "fifo", Mode: 0o644}}, 1000, 1000),
		fileEntry("root-owned", "x", 0o644),
		entry{hdr: tar.Header{Typeflag: tar.TypeChar, Name: "dev/null", Mode: 0o666, Devmajor: 1, Devminor: 3}},
		entry{hdr: tar.Header{Typeflag: tar.TypeBlock, Name: "dev/sda", Mode: 0o660, Devmajor: 8}},
		fileEntry(".wh.gone", "", 0o644),
		fileEntry("opaque/.wh..wh..opq", "", 0o644),
		withXattrs,
	)

	owners := []struct {
		name   string
		mode   uint32
		record string // ownerXattr value, "" for none
	}{
		{"setuid", unix.S_IFREG | 0o4755, "1000:1000"},
		{"home/user", unix.S_IFDIR | 0o700, "1000:100"},
		{"home/user/file", unix.S_IFREG | 0o600, "1000:100"},
		{"link", unix.S_IFLNK | 0o777, ""},
		{"fifo", unix.S_IFIFO | 0o644, ""},
		{"root-owned", unix.S_IFREG | 0o644, ""},
	}
	for _, tt := range owners {
		path := filepath.Join(dir, tt.name)
		st := lstat(t, path)
		if st.Uid != 0 || st.Gid != 0 || st.Mode != tt.mode {
			t.Errorf("%s: owner %d:%d mode %#o, want 0:0 mode %#o", tt.name, st.Uid, st.Gid, st.Mode, tt.mode)
		}
		got, _ := getXattrQuiet(path, ownerXattr)
		if got != tt.record {
			t.Errorf("%s: %s = %q, want %q", tt.name, ownerXattr, got, tt.record)
		}
	}

	for _, name := range []string{"dev/null", "dev/sda"} {
		if exists(filepath.Join(dir, name)) {
			t.Errorf("%s exists, want it skipped: mknod of a device needs CAP_MKNOD in the initial namespace", name)
		}
	}
	checkWhiteout(t, filepath.Join(dir, "gone"))
	checkOpaque(t, filepath.Join(dir, "opaque"))
	if got, _ := getXattrQuiet(filepath.Join(dir, "xattrs"), "user.kept"); got != "u" {
		t.Errorf("user.kept = %q, want u", got)
	}
	if _, ok := getXattrQuiet(filepath.Join(dir, "xattrs"), "trusted.dropped"); ok {
		t.Errorf("trusted.dropped set in a user namespace")
	}
	if stats.Skipped != 2 || stats.Specials != 1 || stats.Whiteouts != 1 {
		t.Errorf("Stats = %+v, want 2 skipped devices, 1 FIFO, 1 whiteout", stats)
	}

	if diff := cmp.Diff([]string{"dev/null", "dev/sda"}, stats.SkippedDevices); diff != "" {
		t.Errorf("SkippedDevices (-want +got):\n%s", diff)
	}
}

// getXattrQuiet is getXattr for paths where the xattr may be unsupported,
// as user.* is on symlinks and FIFOs.
func getXattrQuiet(path, name string) (string, bool) {
	buf := make([]byte, 256)
	n, err := unix.Lgetxattr(path, name, buf)
	if err != nil {
		return "", false
	}
	return string(buf[:n]), true
}
