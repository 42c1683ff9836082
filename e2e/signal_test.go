package e2e

import (
	"bufio"
	"context"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRunForwardsSIGTERM sends SIGTERM to the kist process and checks that
// the container's trap handler ran and its status became kist's.
func TestRunForwardsSIGTERM(t *testing.T) {
	need(t, needRegistry, needBusybox)
	ref := env.busybox.ref(tagLatest)
	script := `trap "exit 7" TERM; echo ready; while :; do sleep 0.1; done`
	forEachIdentity(t, func(t *testing.T, id *identity) {
		pulled(t, id, ref)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := id.command(ctx, call{args: []string{"run", "--rm", ref, "sh", "-c", script}})
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}

		// The trap is set once the script prints "ready".
		reader := bufio.NewReader(stdout)
		line, err := reader.ReadString('\n')
		if line != "ready\n" {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("first line = %q (%v), want %q; stderr: %s", line, err, "ready\n", stderr.String())
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		rest, _ := io.ReadAll(reader)
		_ = cmd.Wait()
		if ctx.Err() != nil {
			t.Fatalf("kist did not exit within a minute of SIGTERM; stderr: %s", stderr.String())
		}
		r := result{stdout: line + string(rest), stderr: stderr.String(), code: cmd.ProcessState.ExitCode()}
		expect(t, r, 7, "ready\n")
		expectQuiet(t, r)
		expectNoLeftovers(t, id.store())
	})
}

// TestRunStdin checks that -i passes kist's standard input to the
// container and that without -i the container reads an empty one.
func TestRunStdin(t *testing.T) {
	need(t, needRegistry, needBusybox)
	ref := env.busybox.ref(tagLatest)
	forEachIdentity(t, func(t *testing.T, id *identity) {
		pulled(t, id, ref)

		r := id.run(t, call{args: []string{"run", "-i", "--rm", ref, "cat"}, stdin: "hi\n"})
		expect(t, r, 0, "hi\n")
		expectQuiet(t, r)

		r = id.run(t, call{args: []string{"run", "--rm", ref, "cat"}, stdin: "hi\n"})
		expect(t, r, 0, "")
		expectQuiet(t, r)
		expectNoLeftovers(t, id.store())
	})
}
