package e2e

import (
	"context"
	"os"
	"testing"
)

// runWithClosedPipe runs kist as id with args and returns its exit
// status. Its stdout if closeStdout is set, else its stderr, is a pipe
// whose read end is already closed, as in `kist ... | head -c0`.
func runWithClosedPipe(t *testing.T, id *identity, closeStdout bool, args ...string) int {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	defer w.Close()

	ctx, cancel := context.WithTimeout(context.Background(), defaultTimeout)
	defer cancel()
	cmd := id.command(ctx, call{args: args})
	if closeStdout {
		cmd.Stdout = w
	} else {
		cmd.Stderr = w
	}
	err = cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("kist %q timed out", args)
	}
	if err != nil && cmd.ProcessState == nil {
		t.Fatalf("kist %q: %v", args, err)
	}
	return cmd.ProcessState.ExitCode()
}

// TestPullWithClosedStderr pulls with stderr a closed pipe: the lost
// progress lines must not stop the pull.
func TestPullWithClosedStderr(t *testing.T) {
	need(t, needRegistry, needBusybox)
	ref := env.busybox.ref(tagLatest)
	forEachIdentity(t, func(t *testing.T, id *identity) {
		id = id.fresh(t)
		if code := runWithClosedPipe(t, id, false, "pull", ref); code != 0 {
			t.Errorf("pull with stderr closed: exit %d, want 0", code)
		}
		r := runKist(t, id, "images", "-q")
		expect(t, r, 0, shortID(env.busybox.ids[tagLatest])+"\n")
		expectNoLeftovers(t, id.store())
	})
}

// TestSaveToClosedPipe saves to a closed stdout pipe: the save must fail
// and remove its temporary files.
func TestSaveToClosedPipe(t *testing.T) {
	need(t, needRegistry, needBusybox)
	ref := env.busybox.ref(tagLatest)
	forEachIdentity(t, func(t *testing.T, id *identity) {
		id = id.fresh(t)
		mustSucceed(t, id, "pull", "-q", ref)
		if code := runWithClosedPipe(t, id, true, "save", ref); code != 125 {
			t.Errorf("save to a closed pipe: exit %d, want 125", code)
		}
		expectNoLeftovers(t, id.store())
	})
}
