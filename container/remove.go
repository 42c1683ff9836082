package container

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/sirupsen/logrus"

	"github.com/kist-project/kist/store"
)

// Remove deletes the directory of container id, whose kist process must
// have ended. A kist killed together with its namespace child never
// destroyed its libcontainer container, so Remove destroys it first: as
// root that removes the container's cgroups, which would otherwise stay
// behind, empty, for good.
func Remove(st *store.Store, id string) error {
	ctr, err := libcontainer.Load(filepath.Join(st.ContainerDir(id), "runtime"), id)
	switch {
	case errors.Is(err, libcontainer.ErrNotExist):
	case err != nil:
		// The directory goes anyway; only its cgroups may stay.
		logrus.Warnf("container %s: read the runtime state to remove its cgroups: %v", shortID(id), err)
	default:
		if err := checkStopped(ctr); err != nil {
			return err
		}
		if err := ctr.Destroy(); err != nil {
			return fmt.Errorf("remove container %s: %w", shortID(id), err)
		}
	}
	return st.RemoveContainerDir(id)
}

// checkStopped returns an error if the container's process still runs,
// which happens when its kist process was killed together with the
// namespace child that supervised it.
func checkStopped(ctr *libcontainer.Container) error {
	status, err := ctr.Status()
	if err != nil || status == libcontainer.Stopped {
		return nil
	}
	state, err := ctr.State()
	if err != nil {
		return fmt.Errorf("container %s is %s without its kist process; stop its processes, then remove it", shortID(ctr.ID()), status)
	}
	// The process is the init of the container's PID namespace, which
	// ignores SIGTERM unless it handles it, so only SIGKILL stops it
	// for sure.
	return fmt.Errorf("container %s still runs as process %d, though its kist process ended; stop it with kill -9 %d, then remove it",
		shortID(ctr.ID()), state.InitProcessPid, state.InitProcessPid)
}

// shortID returns the first 12 characters of a container ID, as ps shows.
func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
