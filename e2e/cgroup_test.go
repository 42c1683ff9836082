package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRmAfterNamespaceChildKilled kills the namespace child of a root
// `kist run` with SIGKILL, as killing kist's whole process group does.
// Nothing then destroys the container, so its process and cgroups
// outlive kist. `kist rm` must refuse while the process runs, naming it,
// and once it has ended must remove the container's cgroups along with
// its directory.
func TestRmAfterNamespaceChildKilled(t *testing.T) {
	need(t, needRegistry, needBusybox)
	root := env.identities[0].fresh(t)
	ref := env.busybox.ref(tagLatest)
	pulled(t, root, ref)
	marker := newMarker(t)
	cmd, stderr := startSleepContainer(t, root, marker, "run", "-e", marker, ref, "sleep", "60")

	child := childOf(cmd.Process.Pid)
	if child == 0 {
		t.Fatalf("kist process %d has no namespace child", cmd.Process.Pid)
	}
	if err := syscall.Kill(child, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	containers := listDir(t, filepath.Join(root.store(), "containers"))
	if len(containers) != 1 {
		t.Fatalf("containers/ holds %q, want the one container; kist's output:\n%s", containers, readAll(t, stderr.Name()))
	}
	id := containers[0]
	if len(cgroupDirs(id)) == 0 {
		t.Fatalf("container %s has no cgroup directory before kist rm", id)
	}

	sleeps := markedSleeps(marker)
	if len(sleeps) != 1 {
		t.Fatalf("%d container processes run sleep 60 after the namespace child died, want the 1 nothing stopped", len(sleeps))
	}
	r := runKist(t, root, "rm", id[:12])
	want := fmt.Sprintf("still runs as process %d, though its kist process ended; stop it with kill -9 %d", sleeps[0], sleeps[0])
	if r.code != 125 || !strings.Contains(r.stderr, want) {
		t.Errorf("kist rm of a container whose process runs: exit %d, stderr %q; want 125 and %q", r.code, r.stderr, want)
	}

	// The process is an orphan, so it stays a zombie until the host's
	// init reaps it, and until then libcontainer counts it as running.
	killMarked(t, marker)
	reaped := func() bool {
		_, err := os.Stat(fmt.Sprintf("/proc/%d", sleeps[0]))
		return os.IsNotExist(err)
	}
	if !waitFor(30*time.Second, reaped) {
		t.Fatalf("process %d was not reaped within 30 s of SIGKILL", sleeps[0])
	}
	r = runKist(t, root, "rm", id[:12])
	expect(t, r, 0, id[:12]+"\n")
	if dirs := cgroupDirs(id); len(dirs) > 0 {
		t.Errorf("kist rm left the container's cgroups: %q", dirs)
	}
	if names := listDir(t, filepath.Join(root.store(), "containers")); len(names) > 0 {
		t.Errorf("containers/ holds %q after kist rm, want it empty", names)
	}
}

// childOf returns the PID of a child process of pid, or 0 if it has none.
func childOf(pid int) int {
	for _, p := range allPIDs() {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
		if err != nil {
			continue
		}
		// The fields after the command name, which is in parentheses and
		// may hold spaces, start with the state and then the parent PID.
		_, rest, ok := strings.Cut(string(stat), ") ")
		fields := strings.Fields(rest)
		if ok && len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			return p
		}
	}
	return 0
}

// cgroupDirs returns the cgroup directories named after container id,
// in every cgroup v1 hierarchy and in the v2 one.
func cgroupDirs(id string) []string {
	v1, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", "kist", id))
	v2, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "kist", id))
	return append(v1, v2...)
}
