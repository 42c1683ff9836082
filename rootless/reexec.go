package rootless

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// stageEnv names the step of namespace entry a re-executed kist is in.
const stageEnv = "_KIST_NS_STAGE"

const (
	// stageWait: inside the new namespaces but not yet mapped. The process
	// waits for the parent to run newuidmap, then executes itself again,
	// because the kernel granted it no capabilities at its first exec while
	// its uid was still unmapped.
	stageWait = "wait"
	// stageReady: inside, mapped and holding full capabilities there.
	stageReady = "ready"
)

// ForwardedSignals are relayed from kist to the process it supervises, as
// docker run does with its signal proxy.
var ForwardedSignals = []os.Signal{
	unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT,
	unix.SIGUSR1, unix.SIGUSR2,
}

// Inside reports whether this process already runs in the namespaces
// that Reexec creates.
func Inside() bool {
	return os.Getenv(stageEnv) == stageReady
}

// Reexec runs args (normally os.Args) again in a new user and mount
// namespace, or a new mount namespace alone for real root, and returns the
// child's exit status. The caller then exits with that status.
func Reexec(args []string) (int, error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, fmt.Errorf("find the kist executable: %w", err)
	}

	cmd := exec.Command(exe, args[1:]...)
	cmd.Args[0] = args[0]
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// If kist is killed, the child must not go on alone: nothing would
	// relay its status. SIGTERM rather than SIGKILL lets the child stop
	// its container and clean up; see ParentGone.
	// TODO: if this child is killed as well, the container's process runs
	// on, since runc's init drops the parent-death signal. Making the
	// child the init of a new PID namespace would let the kernel end it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWNS, Pdeathsig: unix.SIGTERM}

	var release *pendingMap
	if os.Geteuid() == 0 {
		cmd.Env = withStage(os.Environ(), stageReady)
	} else {
		release, err = prepareUserNS(cmd)
		if err != nil {
			return 0, err
		}
	}

	cmd.Env = withVar(cmd.Env, parentEnv, strconv.Itoa(os.Getpid()))

	// Relay signals from the moment the child exists, so a SIGTERM that
	// lands during startup still reaches it.
	signals := make(chan os.Signal, 16)
	signal.Notify(signals, ForwardedSignals...)
	defer signal.Stop(signals)

	err = cmd.Start()
	if release != nil {
		// The child holds its own copy of the read end.
		cmd.ExtraFiles[0].Close()
	}
	if err != nil {
		return 0, userNSError(err)
	}
	if release != nil {
		if err := mapAndRelease(cmd.Process.Pid, release); err != nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			return 0, err
		}
	}

	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case sig := <-signals:
			logrus.Debugf("forward signal %v to pid %d", sig, cmd.Process.Pid)
			_ = cmd.Process.Signal(sig)
		case err := <-done:
			return exitStatus(cmd.ProcessState, err)
		}
	}
}

// pendingMap is a planned mapping that the parent still has to write with
// newuidmap and newgidmap, and the pipe whose read end the child blocks on.
type pendingMap struct {
	idmap   IDMap
	release *os.File
}

// prepareUserNS configures cmd to start in a new user namespace. When
// subordinate IDs are available it returns the map that mapAndRelease must
// write before the child may go on.
func prepareUserNS(cmd *exec.Cmd) (*pendingMap, error) {
	m, helpers := planMap(os.Getuid(), os.Getgid())
	cmd.SysProcAttr.Cloneflags |= unix.CLONE_NEWUSER
	if !helpers {
		logrus.Debug("no subordinate IDs or no newuidmap: mapping the calling user alone")
		cmd.SysProcAttr.UidMappings = toSyscallMap(m.UIDs)
		cmd.SysProcAttr.GidMappings = toSyscallMap(m.GIDs)
		cmd.SysProcAttr.GidMappingsEnableSetgroups = false
		cmd.Env = withStage(os.Environ(), stageReady)
		return nil, nil
	}

	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("create namespace sync pipe: %w", err)
	}
	cmd.ExtraFiles = []*os.File{r}
	cmd.Env = withStage(os.Environ(), stageWait)
	return &pendingMap{idmap: m, release: w}, nil
}

func mapAndRelease(pid int, p *pendingMap) error {
	defer p.release.Close()
	m := p.idmap

	if err := runMapHelper("newuidmap", pid, m.UIDs, "/etc/subuid"); err != nil {
		return err
	}
	if err := runMapHelper("newgidmap", pid, m.GIDs, "/etc/subgid"); err != nil {
		return err
	}
	if _, err := p.release.Write([]byte{1}); err != nil {
		return fmt.Errorf("release namespace child: %w", err)
	}
	return nil
}

// runMapHelper writes a child's ID map with the setuid helper, which
// checks the ranges against the given file of subordinate IDs.
func runMapHelper(helper string, pid int, ranges []specs.LinuxIDMapping, file string) error {
	args := formatMapArgs(pid, ranges)
	out, err := exec.Command(helper, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s; check the ranges in %s, or set KIST_USERNS=single to map your own ID alone",
			helper, strings.Join(args, " "), err, strings.TrimSpace(string(out)), file)
	}
	return nil
}

// Continue finishes namespace entry in a child that Reexec started. A
// child in the wait stage blocks until its maps are written and then
// executes itself again. A ready child makes its mounts private, so that
// nothing it mounts propagates to the host. Outside Reexec's children
// Continue does nothing.
func Continue() error {
	switch os.Getenv(stageEnv) {
	case stageWait:
		return awaitMapAndExec()
	case stageReady:
		// An exec that gains capabilities clears the parent-death signal,
		// as the second exec of the wait stage does. Set it again, and
		// stop if the parent already died in between.
		if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGTERM), 0, 0, 0); err != nil {
			return fmt.Errorf("set parent-death signal: %w", err)
		}
		if ParentGone() {
			return errors.New("the kist process that started this one has exited")
		}
		// A ready child runs this once before its command; rprivate on an
		// already private tree is harmless if it runs again.
		if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
			return &os.PathError{Op: "make mounts private", Path: "/", Err: err}
		}
	}
	return nil
}

// ParentGone reports, in a child that Reexec started, whether the kist
// process that started it has exited. The child then gets SIGTERM, which
// it must tell apart from a SIGTERM that the parent relays.
func ParentGone() bool {
	ppid := os.Getenv(parentEnv)
	return ppid != "" && ppid != strconv.Itoa(os.Getppid())
}

// parentEnv holds the PID of the kist process that ran Reexec.
const parentEnv = "_KIST_NS_PARENT"

func awaitMapAndExec() error {
	sync := os.NewFile(3, "namespace sync pipe")
	buf := make([]byte, 1)
	if n, err := sync.Read(buf); n != 1 {
		return fmt.Errorf("wait for user namespace maps: parent exited: %v", err)
	}
	sync.Close()

	exe, err := os.Executable()
	if err != nil {
		return err
	}
	env := withStage(os.Environ(), stageReady)
	return syscall.Exec(exe, os.Args, env)
}

func withStage(env []string, stage string) []string {
	return withVar(env, stageEnv, stage)
}

// withVar returns env with key set to value, replacing an earlier value.
func withVar(env []string, key, value string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, key+"=") {
			out = append(out, kv)
		}
	}
	return append(out, key+"="+value)
}

func toSyscallMap(ranges []specs.LinuxIDMapping) []syscall.SysProcIDMap {
	out := make([]syscall.SysProcIDMap, 0, len(ranges))
	for _, r := range ranges {
		out = append(out, syscall.SysProcIDMap{ContainerID: int(r.ContainerID), HostID: int(r.HostID), Size: int(r.Size)})
	}
	return out
}

// exitStatus converts a finished child into the status kist exits with:
// its own code, or 128 plus the signal number when a signal killed it.
func exitStatus(state *os.ProcessState, waitErr error) (int, error) {
	if state == nil {
		return 0, fmt.Errorf("wait for namespace child: %w", waitErr)
	}
	if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal()), nil
	}
	var exitErr *exec.ExitError
	if waitErr != nil && !errors.As(waitErr, &exitErr) {
		return 0, fmt.Errorf("wait for namespace child: %w", waitErr)
	}
	return state.ExitCode(), nil
}

// userNSError explains the usual reasons a user namespace cannot be made.
func userNSError(err error) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.ENOSPC) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EACCES) {
		return fmt.Errorf("create a user namespace: %w; unprivileged user namespaces may be disabled: "+
			"check that sysctl user.max_user_namespaces is above 0, "+
			"kernel.unprivileged_userns_clone is 1 where it exists, "+
			"and kernel.apparmor_restrict_unprivileged_userns is 0 where it exists", err)
	}
	return fmt.Errorf("start kist in a user namespace: %w", err)
}
