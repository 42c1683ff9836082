package container

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/specconv"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	// Registers the device cgroup manager; without it every start fails
	// with "cannot set devices limit".
	_ "github.com/opencontainers/cgroups/devices"

	"github.com/kist-project/kist/rootless"
)

// start creates the container with libcontainer, runs its process in the
// foreground with signals forwarded, and destroys it when it exits.
func (c *instance) start(ctx context.Context, spec *specs.Spec, userNS bool, opts RunOptions) (ExitStatus, error) {
	config, err := specconv.CreateLibcontainerConfig(&specconv.CreateOpts{
		CgroupName:      c.id,
		Spec:            spec,
		RootlessCgroups: userNS,
	})
	if err != nil {
		return 0, fmt.Errorf("configure container %s: %w", c.id, err)
	}

	// The container dies with the kist process that supervises it, as
	// nothing else would wait for it or clean up after it.
	config.ParentDeathSignal = int(unix.SIGKILL)
	ctr, err := libcontainer.Create(filepath.Join(c.dir, "runtime"), c.id, config)
	if err != nil {
		return 0, fmt.Errorf("create container %s: %w", c.id, err)
	}
	defer func() {
		if err := ctr.Destroy(); err != nil {
			logrus.Warnf("destroy container %s: %v", c.id, err)
		}
	}()

	process := newProcess(spec.Process, opts)
	signals := make(chan os.Signal, 16)
	signal.Notify(signals, rootless.ForwardedSignals...)
	defer signal.Stop(signals)

	if err := ctr.Run(process); err != nil {
		return 0, startError(spec.Process.Args[0], err)
	}
	go forwardSignals(ctx, signals, process)
	logrus.Debugf("started container %s", c.id)

	state, err := process.Wait()
	if state == nil {
		return 0, fmt.Errorf("wait for container %s: %w", c.id, err)
	}
	logrus.Debugf("container %s exited: %v", c.id, state)
	return exitStatus(state), nil
}

func newProcess(sp *specs.Process, opts RunOptions) *libcontainer.Process {
	p := &libcontainer.Process{
		Args:   sp.Args,
		Env:    sp.Env,
		UID:    int(sp.User.UID),
		GID:    int(sp.User.GID),
		Cwd:    sp.Cwd,
		Stdin:  opts.Stdin,
		Stdout: opts.Stdout,
		Stderr: opts.Stderr,
		Init:   true,
	}
	for _, g := range sp.User.AdditionalGids {
		p.AdditionalGroups = append(p.AdditionalGroups, int(g))
	}
	if p.Stdin == nil {
		if devNull, err := os.Open(os.DevNull); err == nil {
			p.Stdin = devNull
		}
	}
	return p
}

func forwardSignals(ctx context.Context, signals <-chan os.Signal, p *libcontainer.Process) {
	for {
		select {
		case <-ctx.Done():
			return
		case sig := <-signals:
			if rootless.ParentGone() {
				// The kist process the user started was killed, so no
				// process is left to receive the container's output or
				// status: stop it, and let Run clean up.
				logrus.Debugf("kist's parent process exited; killing the container")
				sig = unix.SIGKILL
			}
			logrus.Debugf("forward signal %v to the container", sig)
			if err := p.Signal(sig); err != nil {
				logrus.Debugf("forward signal %v: %v", sig, err)
			}
		}
	}
}

func exitStatus(state *os.ProcessState) ExitStatus {
	if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return ExitStatus(128 + int(ws.Signal()))
	}
	return ExitStatus(state.ExitCode())
}

// startError classifies libcontainer's failure to exec the command. The
// error crosses a pipe from the container's init as text, so only its
// wording is left to go by.
func startError(argv0 string, err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "executable file not found") || strings.Contains(msg, "no such file or directory") && strings.Contains(msg, "exec"):
		return fmt.Errorf("%w: %q: %v", ErrCommandNotFound, argv0, err)
	case strings.Contains(msg, "permission denied") && strings.Contains(msg, "exec"):
		return fmt.Errorf("%w: %q: %v", ErrCommandNotExecutable, argv0, err)
	}
	return fmt.Errorf("start container: %w", err)
}
