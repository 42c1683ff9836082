package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// result is the outcome of one kist command.
type result struct {
	stdout, stderr string
	// code is the exit status, or -1 when a signal ended kist.
	code int
}

// String summarises r for failure messages, with long output cut short.
func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout: %q\nstderr: %q", r.code, clip(r.stdout), clip(r.stderr))
}

func clip(s string) string {
	const max = 2000
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}

// call is one kist command line and what it runs with.
type call struct {
	args []string
	// stdin is the command's standard input. Empty means /dev/null.
	stdin string
	// env is added to the identity's environment.
	env []string
	// timeout bounds the command. Zero means defaultTimeout.
	timeout time.Duration
}

// defaultTimeout bounds one kist command. A cold pull and unpack of the
// Debian image took a few seconds on a 2-core machine, so this only
// catches a hung command.
const defaultTimeout = 3 * time.Minute

// runKist runs kist with args as id, with no standard input.
func runKist(t testing.TB, id *identity, args ...string) result {
	t.Helper()
	return id.run(t, call{args: args})
}

// run runs one kist command as id and returns its outcome. A command that
// cannot start or outlives its timeout fails the test.
func (id *identity) run(t testing.TB, c call) result {
	t.Helper()
	timeout := c.timeout
	if timeout == 0 {
		timeout = defaultTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	cmd := id.command(ctx, c)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String(), code: cmd.ProcessState.ExitCode()}
	t.Logf("%s: kist %q: %s", id.name, c.args, r)

	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("kist %q timed out after %v", c.args, timeout)
	case err != nil && !errors.As(err, &exitErr):
		t.Fatalf("kist %q: %v", c.args, err)
	}
	return r
}

// command returns the exec.Cmd for c, started as id in id's home.
func (id *identity) command(ctx context.Context, c call) *exec.Cmd {
	cmd := exec.CommandContext(ctx, env.kist, c.args...)
	cmd.Env = id.environ(c.env...)
	cmd.Dir = id.home
	if c.stdin != "" {
		cmd.Stdin = strings.NewReader(c.stdin)
	}
	// A container process that outlives kist would hold the output pipes
	// open, so give up on them after a while instead of hanging.
	cmd.WaitDelay = 10 * time.Second
	if id.uid != uint32(syscall.Geteuid()) || id.gid != uint32(syscall.Getegid()) {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{
			Uid: id.uid, Gid: id.gid, Groups: []uint32{},
		}}
	}
	return cmd
}

// expect checks the exit status and the exact standard output of r.
func expect(t *testing.T, r result, code int, stdout string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit status = %d, want %d\n%s", r.code, code, r)
	}
	if r.stdout != stdout {
		t.Errorf("stdout = %q, want %q\n%s", r.stdout, stdout, r)
	}
}

// expectQuiet checks that r wrote nothing to standard error.
func expectQuiet(t *testing.T, r result) {
	t.Helper()
	if r.stderr != "" {
		t.Errorf("stderr = %q, want it empty", r.stderr)
	}
}

// expectOneLine checks that r wrote exactly one line to standard error
// and that the line contains substr.
func expectOneLine(t *testing.T, r result, substr string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	if len(lines) != 1 || !strings.HasSuffix(r.stderr, "\n") {
		t.Errorf("stderr has %d lines, want one line ending in a newline: %q", len(lines), r.stderr)
	}
	if !strings.Contains(r.stderr, substr) {
		t.Errorf("stderr %q does not contain %q", r.stderr, substr)
	}
}

// mustSucceed runs kist and fails the test unless it exits 0.
func mustSucceed(t testing.TB, id *identity, args ...string) result {
	t.Helper()
	r := runKist(t, id, args...)
	if r.code != 0 {
		t.Fatalf("kist %q: exit status %d, want 0\n%s", args, r.code, r)
	}
	return r
}
