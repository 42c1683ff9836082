package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRunSIGKILLStopsContainer kills `kist run --rm` with SIGKILL while
// its container runs `sleep 60`. kist cannot catch SIGKILL, so the
// namespace child that kist started must notice its death, stop the
// container and remove the container directory.
func TestRunSIGKILLStopsContainer(t *testing.T) {
	need(t, needRegistry, needBusybox)
	ref := env.busybox.ref(tagLatest)
	forEachIdentity(t, func(t *testing.T, id *identity) {
		id = id.fresh(t)
		pulled(t, id, ref)
		marker := newMarker(t)
		cmd, stderr := startSleepContainer(t, id, marker, "run", "--rm", "-e", marker, ref, "sleep", "60")
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()

		containers := filepath.Join(id.store(), "containers")
		cleanedUp := waitFor(10*time.Second, func() bool {
			return len(markedProcesses(marker)) == 0 && len(listDir(t, containers)) == 0
		})
		if !cleanedUp {
			for _, pid := range markedProcesses(marker) {
				t.Errorf("process %d (%s) still runs 10 s after kist was killed", pid, cmdline(pid))
			}
			if names := listDir(t, containers); len(names) > 0 {
				t.Errorf("%s contains %q 10 s after kist was killed, want it empty", containers, names)
			}
			t.Logf("kist's output:\n%s", readAll(t, stderr.Name()))
		}
		expectNoLeftovers(t, id.store())
	})
}

// startSleepContainer starts kist as id with args, which must run
// `sleep 60` in a container with marker in its environment, and waits
// until the container process runs. kist's output goes to the returned
// file. Every marked process is killed when t ends.
func startSleepContainer(t *testing.T, id *identity, marker string, args ...string) (*exec.Cmd, *os.File) {
	t.Helper()
	t.Cleanup(func() { killMarked(t, marker) })

	// stdout and stderr are files, not pipes, so that Wait returns
	// when kist dies even if a child that still holds them lives on.
	stderr, err := os.CreateTemp(t.TempDir(), "stderr-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stderr.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	cmd := id.command(ctx, call{args: args})
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	started := waitFor(30*time.Second, func() bool { return len(markedSleeps(marker)) > 0 })
	if !started {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("no container process ran sleep 60 within 30 s; kist's output:\n%s", readAll(t, stderr.Name()))
	}
	return cmd, stderr
}

// newMarker returns a NAME=VALUE environment variable that is unique to
// this test run. Passed to the container with -e, it identifies kist's
// namespace child by its arguments and the container process by its
// environment, whatever uid they run as on the host.
func newMarker(t *testing.T) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "KIST_E2E_MARKER=" + hex.EncodeToString(b)
}

// markedProcesses returns the PIDs of the processes whose arguments or
// environment contain marker. Zombies have neither, so they do not count.
func markedProcesses(marker string) []int {
	var pids []int
	for _, pid := range allPIDs() {
		if pid == os.Getpid() {
			continue
		}
		if hasProcEntry(pid, "cmdline", marker) || hasProcEntry(pid, "environ", marker) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// markedSleeps returns the PIDs of the container processes that run
// `sleep 60` with marker in their environment.
func markedSleeps(marker string) []int {
	var pids []int
	for _, pid := range allPIDs() {
		args, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err == nil && string(args) == "sleep\x0060\x00" && hasProcEntry(pid, "environ", marker) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func allPIDs() []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// hasProcEntry reports whether /proc/PID/file, a NUL-separated list,
// contains entry. A process that has exited has no such entry.
func hasProcEntry(pid int, file, entry string) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, file))
	if err != nil {
		return false
	}
	for _, field := range bytes.Split(data, []byte{0}) {
		if string(field) == entry {
			return true
		}
	}
	return false
}

func cmdline(pid int) string {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return strings.Join(strings.Split(strings.TrimSuffix(string(data), "\x00"), "\x00"), " ")
}

// killMarked sends SIGKILL to every process that this test started and
// that is still running, so that a failing run leaves none behind.
func killMarked(t *testing.T, marker string) {
	for _, pid := range markedProcesses(marker) {
		t.Logf("killing leftover process %d (%s)", pid, cmdline(pid))
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// waitFor polls done every 100 ms until it returns true or timeout has
// passed, and returns its last result.
func waitFor(timeout time.Duration, done func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if done() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func readAll(t *testing.T, path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("read %s: %v", path, err)
	}
	return string(data)
}
