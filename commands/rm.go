package commands

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/kist-project/kist/container"
	"github.com/kist-project/kist/store"
)

func rmCommand() *cli.Command {
	return &cli.Command{
		Name:      "rm",
		Usage:     "remove stopped containers",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		// Files that the container wrote may belong to subordinate IDs,
		// which only the user namespace can delete.
		Action: inNamespace(userNamespace, removeContainers),
	}
}

func removeContainers(c *cli.Context) error {
	if c.NArg() == 0 {
		return fmt.Errorf("kist rm needs at least one container ID; list them with kist ps -a")
	}
	st, err := openStore(c)
	if err != nil {
		return err
	}

	var errs []error
	for _, arg := range c.Args().Slice() {
		if err := removeContainer(st, arg); err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintln(c.App.Writer, arg)
	}
	// The layers of an image that rmi --force removed stay only for the
	// containers that use them, so they go with the last of those.
	// A read-only store has been reported once already.
	if _, err := st.CollectGarbage(); err != nil && !readOnlyIn(errs) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func removeContainer(st *store.Store, idOrPrefix string) error {
	state, err := st.LookupContainer(idOrPrefix)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no such container %q; list containers with kist ps -a", idOrPrefix)
	}
	if err != nil {
		return err
	}
	state = refreshStatus(state)
	if state.Status != store.StatusExited {
		return fmt.Errorf("container %s is running in kist process %d; stop it first (Ctrl-C, or kill %d)",
			state.ID[:12], state.Pid, state.Pid)
	}
	return container.Remove(st, state.ID)
}

// readOnlyIn reports whether one of errs is store.ErrReadOnly, which means
// that the store cannot be written.
func readOnlyIn(errs []error) bool {
	for _, err := range errs {
		if errors.Is(err, store.ErrReadOnly) {
			return true
		}
	}
	return false
}
