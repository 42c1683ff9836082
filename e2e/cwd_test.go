package e2e

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRunFromDeletedCwd starts kist run in a working directory that was
// removed after the shell entered it.
func TestRunFromDeletedCwd(t *testing.T) {
	need(t, needRegistry, needBusybox)
	ref := env.busybox.ref(tagLatest)
	forEachIdentity(t, func(t *testing.T, id *identity) {
		pulled(t, id, ref)
		dir := filepath.Join(id.home, "deleted-cwd")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(dir, int(id.uid), int(id.gid)); err != nil && os.Geteuid() == 0 {
			t.Fatal(err)
		}

		// The shell runs as id, enters dir, removes it and then becomes
		// kist, so kist starts with a working directory that is gone.
		const script = `cd "$1" && rmdir "$1" && shift && exec "$@"`
		r := runWrapped(t, id, "", nil, func(cmd *exec.Cmd) {
			cmd.Path = "/bin/sh"
			cmd.Args = append([]string{"sh", "-c", script, "sh", dir}, cmd.Args...)
		}, "run", "--rm", ref, "pwd")
		expect(t, r, 0, "/\n")
		expectQuiet(t, r)
		expectNoLeftovers(t, id.store())
	})
}

// TestRunFromUnreadableCwd starts kist run, as each test user, in a
// root-owned directory of mode 0700 that the user cannot read or search.
func TestRunFromUnreadableCwd(t *testing.T) {
	need(t, needRoot, needUsers, needRegistry, needBusybox)
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Fatalf("%v; install util-linux, which provides setpriv", err)
	}
	dir, err := os.MkdirTemp(env.base, "unreadable-cwd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeTree(dir) })
	ref := env.busybox.ref(tagLatest)
	forEachIdentity(t, func(t *testing.T, id *identity) {
		if id.uid == 0 {
			t.Skip("root can read every directory")
		}
		pulled(t, id, ref)

		// A process that starts as the user cannot enter dir at all, so
		// setpriv starts as root in dir and then drops to the user's
		// uid, gid and no supplementary groups before it runs kist. PWD
		// is set as a shell or sudo sets it. Go's os.Getwd then stats
		// ".", which fails with EACCES here.
		r := runWrapped(t, id, dir, []string{"PWD=" + dir}, func(cmd *exec.Cmd) {
			cmd.SysProcAttr = nil
			cmd.Path = setpriv
			cmd.Args = append([]string{
				"setpriv",
				"--reuid=" + strconv.FormatUint(uint64(id.uid), 10),
				"--regid=" + strconv.FormatUint(uint64(id.gid), 10),
				"--clear-groups",
				"--",
			}, cmd.Args...)
		}, "run", "--rm", ref, "pwd")
		expect(t, r, 0, "/\n")
		expectQuiet(t, r)
		expectNoLeftovers(t, id.store())
	})
}

// runWrapped runs kist with args as id in dir, or in the test's own
// working directory when dir is empty, with extraEnv added to id's
// environment. Before the start, wrap rewrites the command so that
// another program runs first and then executes the original command
// line, which wrap finds in cmd.Args.
func runWrapped(t *testing.T, id *identity, dir string, extraEnv []string, wrap func(*exec.Cmd), args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := id.command(ctx, call{args: args, env: extraEnv})
	cmd.Args[0] = env.kist
	cmd.Dir = dir
	wrap(cmd)

	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%q timed out; stderr: %s", cmd.Args, stderr.String())
	}
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("%q: %v", cmd.Args, err)
	}
	r := result{stdout: stdout.String(), stderr: stderr.String(), code: cmd.ProcessState.ExitCode()}
	t.Logf("%s: %q: %s", id.name, cmd.Args, r)
	return r
}
