package commands

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"
)

// A process that has exited but is not yet reaped is a zombie, which
// kill(pid, 0) still finds.
func TestProcessAliveZombie(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Wait() }()
	pid := cmd.Process.Pid

	deadline := time.Now().Add(10 * time.Second)
	for processAlive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("processAlive(%d) is still true 10 s after the process exited unreaped", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err != nil {
		t.Fatalf("process %d was reaped, so the test saw no zombie: %v", pid, err)
	}
}

func TestProcessAliveSelf(t *testing.T) {
	if !processAlive(os.Getpid()) {
		t.Error("processAlive of the test process = false, want true")
	}
}
