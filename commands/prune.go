package commands

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/kist-project/kist/container"
	"github.com/kist-project/kist/store"
)

// pruneFlags are docker's flags of image prune and system prune.
func pruneFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "remove every image no container uses, not only those without a name"},
		&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not ask for confirmation"},
	}
}

func pruneImagesCommand() *cli.Command {
	return &cli.Command{
		Name:   "prune",
		Usage:  "remove images without a name that no container uses, and unused layers",
		Flags:  pruneFlags(),
		Action: inNamespace(userNamespace, pruneImages),
	}
}

func pruneImages(c *cli.Context) error {
	warning := "This will remove all dangling images."
	if c.Bool("all") {
		warning = "This will remove all images without at least one container associated to them."
	}
	if ok, err := confirm(c, warning); !ok || err != nil {
		return err
	}
	st, err := openStore(c)
	if err != nil {
		return err
	}
	// What killed commands left in tmp/ goes too.
	swept, err := st.SweepReclaim()
	if err != nil {
		return err
	}
	if err := removeUnusedImages(c, st); err != nil {
		return err
	}
	return collectGarbage(c, st, swept)
}

func systemPruneCommand() *cli.Command {
	return &cli.Command{
		Name:  "prune",
		Usage: "remove stopped containers, images without a name and unused layers",
		Flags: pruneFlags(),
		// Stopped containers may hold files of subordinate IDs.
		Action: inNamespace(userNamespace, pruneSystem),
	}
}

func pruneSystem(c *cli.Context) error {
	images := "all dangling images"
	if c.Bool("all") {
		images = "all images without at least one container associated to them"
	}
	warning := "This will remove:\n  - all stopped containers\n  - " + images
	if ok, err := confirm(c, warning); !ok || err != nil {
		return err
	}
	st, err := openStore(c)
	if err != nil {
		return err
	}
	swept, err := st.SweepReclaim()
	if err != nil {
		return err
	}

	freed, err := removeStoppedContainers(c, st)
	if err != nil {
		return err
	}
	if err := removeUnusedImages(c, st); err != nil {
		return err
	}
	return collectGarbage(c, st, swept+freed)
}

// removeStoppedContainers removes every container whose kist process has
// ended, prints their IDs and returns the bytes that freed.
func removeStoppedContainers(c *cli.Context, st *store.Store) (int64, error) {
	states, err := st.Containers()
	if err != nil {
		return 0, err
	}
	var removed []string
	var freed int64
	var errs []error
	for _, s := range states {
		if refreshStatus(s).Status != store.StatusExited {
			continue
		}
		size := st.ContainerSize(s.ID)
		if err := container.Remove(st, s.ID); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, s.ID)
		freed += size
	}
	if len(removed) > 0 {
		fmt.Fprintln(c.App.Writer, "Deleted Containers:")
		for _, id := range removed {
			fmt.Fprintln(c.App.Writer, id)
		}
		fmt.Fprintln(c.App.Writer)
	}
	return freed, errors.Join(errs...)
}

// removeUnusedImages removes the images that --all selects and prints
// their IDs.
func removeUnusedImages(c *cli.Context, st *store.Store) error {
	pruned, err := st.PruneImages(c.Bool("all"))
	if err != nil {
		return err
	}
	if len(pruned) > 0 {
		fmt.Fprintln(c.App.Writer, "Deleted Images:")
		for _, id := range pruned {
			fmt.Fprintf(c.App.Writer, "deleted: %s\n", id)
		}
		fmt.Fprintln(c.App.Writer)
	}
	return nil
}

// collectGarbage removes layers and blobs that nothing uses any more and
// prints the space that freed, plus the bytes already freed.
func collectGarbage(c *cli.Context, st *store.Store, freed int64) error {
	usage, err := st.CollectGarbage()
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "Total reclaimed space: %s\n", humanSize(freed+usage.Bytes))
	return nil
}

func systemResetCommand() *cli.Command {
	return &cli.Command{
		Name:  "reset",
		Usage: "remove every image, container and layer: the whole store",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not ask for confirmation"},
		},
		// Layers hold files of subordinate IDs, which only the user
		// namespace that maps them can remove. The ID map check is
		// skipped: a reset is how a user starts over after a change.
		Action: inNamespace(anyIDMap, resetStore),
	}
}

func resetStore(c *cli.Context) error {
	st, err := openStore(c)
	if err != nil {
		return err
	}
	warning := fmt.Sprintf("This will remove every image, container and layer in the store %s.", st.Root())
	if ok, err := confirm(c, warning); !ok || err != nil {
		return err
	}

	states, err := st.Containers()
	if err != nil {
		return err
	}
	for _, s := range states {
		if s = refreshStatus(s); s.Status != store.StatusExited {
			return fmt.Errorf("container %s is running in kist process %d; stop it before kist system reset", s.ID[:12], s.Pid)
		}
	}
	return st.Reset()
}

// confirm prints warning on stderr and returns true only when stdin
// reads y or yes, as docker does. --force skips the question.
func confirm(c *cli.Context, warning string) (bool, error) {
	if c.Bool("force") {
		return true, nil
	}
	fmt.Fprintf(os.Stderr, "WARNING! %s\nAre you sure you want to continue? [y/N] ", warning)
	answer, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, fmt.Errorf("read confirmation from stdin: %w", err)
	}
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return true, nil
	}
	if errors.Is(err, io.EOF) {
		fmt.Fprintln(os.Stderr)
	}
	return false, nil
}
