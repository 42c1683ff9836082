package e2e

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// commitAttempts bounds the pulls that TestPullKilledAtLayerCommit kills;
// each kill is timed by an inotify event, so one normally suffices.
const commitAttempts = 5

// TestPullKilledAtLayerCommit sends SIGKILL to every process of a kist
// pull the moment the layer's blob is renamed into blobs/, which is after
// the layer is unpacked and before its directory is renamed into
// layers/. The next pull must find the blob, treat the layer as absent,
// and leave a store whose layer runs.
func TestPullKilledAtLayerCommit(t *testing.T) {
	need(t, needRegistry, needDebian)
	wantVersion, err := os.ReadFile(filepath.Join(env.debian.rootfs, "etc/debian_version"))
	if err != nil {
		t.Fatal(err)
	}
	ref := env.debian.ref(tagBookworm)
	forEachIdentity(t, func(t *testing.T, id *identity) {
		hit := false
		for attempt := 0; attempt < commitAttempts && !hit; attempt++ {
			fresh := id.fresh(t)
			store := fresh.store()
			// Opening the store creates blobs/sha256 for the watch.
			mustSucceed(t, fresh, "--root", store, "images", "-q")
			hit = killAtBlobCommit(t, fresh, ref)

			r := runKist(t, fresh, "--root", store, "pull", "-q", ref)
			expect(t, r, 0, env.debian.ids[tagBookworm]+"\n")
			r = runKist(t, fresh, "--root", store, "run", "--rm", ref, "cat", "/etc/debian_version")
			expect(t, r, 0, string(wantVersion))
			expectNoLeftovers(t, store)
			expectBlobsMatchDigests(t, filepath.Join(store, "blobs", "sha256"))
			expectOneLayerDirEach(t, fresh, ref)
		}
		if !hit {
			t.Errorf("in %d attempts no kill landed between the blob's commit and the layer's", commitAttempts)
		}
	})
}

// killAtBlobCommit starts kist pull and kills all its processes when a
// blob larger than a megabyte, the layer, appears in blobs/sha256. It
// reports whether the layer directory was still missing after the kill.
func killAtBlobCommit(t *testing.T, id *identity, ref string) bool {
	t.Helper()
	store := id.store()
	blobs := filepath.Join(store, "blobs", "sha256")
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC)
	if err != nil {
		t.Fatalf("inotify: %v", err)
	}
	defer unix.Close(fd)
	if _, err := unix.InotifyAddWatch(fd, blobs, unix.IN_MOVED_TO); err != nil {
		t.Fatalf("watch %s: %v", blobs, err)
	}

	output, err := os.CreateTemp(t.TempDir(), "output-")
	if err != nil {
		t.Fatal(err)
	}
	defer output.Close()
	ctx, cancel := context.WithTimeout(context.Background(), defaultTimeout)
	defer cancel()
	cmd := id.command(ctx, call{args: []string{"--root", store, "pull", "-q", ref}})
	cmd.Stdout, cmd.Stderr = output, output
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Wait() }()

	// The processes are known before the event, so the kill follows it
	// within microseconds.
	var pids []int
	waitFor(30*time.Second, func() bool {
		pids = storeProcesses(store)
		return len(listDir(t, filepath.Join(store, "tmp"))) > 0
	})
	pids = storeProcesses(store)

	if !waitForLargeBlob(t, fd, blobs) {
		t.Fatalf("no layer blob appeared in %s; kist's output:\n%s", blobs, readAll(t, output.Name()))
	}
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	waitFor(10*time.Second, func() bool { return len(storeProcesses(store)) == 0 })

	layers := listDir(t, filepath.Join(store, "layers", "sha256"))
	t.Logf("killed %d processes; store then holds %d layer directories and %d entries in tmp/",
		len(pids), len(layers), len(listDir(t, filepath.Join(store, "tmp"))))
	return len(layers) == 0
}

// waitForLargeBlob reads inotify events from fd until a file larger
// than a megabyte is moved into dir, or a minute passes.
func waitForLargeBlob(t *testing.T, fd int, dir string) bool {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	buf := make([]byte, 64*1024)
	for time.Now().Before(deadline) {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if n, err := unix.Poll(fds, 1000); err != nil || n == 0 {
			continue
		}
		n, err := unix.Read(fd, buf)
		if err != nil {
			t.Fatalf("read inotify events: %v", err)
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			name := buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+int(ev.Len)]
			off += unix.SizeofInotifyEvent + int(ev.Len)
			info, err := os.Stat(filepath.Join(dir, trimNUL(name)))
			if err == nil && info.Size() > 1<<20 {
				return true
			}
		}
	}
	return false
}

func trimNUL(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
