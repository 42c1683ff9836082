package commands

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/kist-project/kist/pull"
	"github.com/kist-project/kist/store"
)

func rmiCommand(name string) *cli.Command {
	return &cli.Command{
		Name:      name,
		Usage:     "remove images and the layers no other image uses",
		ArgsUsage: "IMAGE [IMAGE...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "remove images with several names or in use by containers"},
		},
		// Layers may hold files of subordinate IDs, which only the user
		// namespace can delete.
		Action: inNamespace(userNamespace, removeImages),
	}
}

func removeImages(c *cli.Context) error {
	if c.NArg() == 0 {
		return fmt.Errorf("kist %s needs at least one image; list them with kist images", c.Command.Name)
	}
	st, err := openStore(c)
	if err != nil {
		return err
	}

	var errs []error
	for _, arg := range c.Args().Slice() {
		removal, err := st.RemoveImage(imageKey(arg), c.Bool("force"))
		if errors.Is(err, store.ErrNotFound) {
			err = fmt.Errorf("no such image %q; list images with kist images", arg)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, name := range removal.Untagged {
			fmt.Fprintf(c.App.Writer, "Untagged: %s\n", name)
		}
		if removal.Deleted != nil {
			fmt.Fprintf(c.App.Writer, "Deleted: %s\n", removal.Deleted)
		}
	}

	// A read-only store has been reported once already.
	if _, err := st.CollectGarbage(); err != nil && !readOnlyIn(errs) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// imageKey returns the form the store records a reference under: the
// canonical name for a name, as given for an ID or ID prefix.
func imageKey(arg string) string {
	if ref, err := pull.ParseReference(arg); err == nil && !looksLikeID(arg) {
		return ref.Name
	}
	return arg
}

// looksLikeID reports whether s is an image ID or a prefix of one, which
// docker prefers over a repository of the same spelling.
func looksLikeID(s string) bool {
	hex := s
	if len(s) > 7 && s[:7] == "sha256:" {
		hex = s[7:]
	}
	if len(hex) < 4 || len(hex) > 64 {
		return false
	}
	for _, r := range hex {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f') {
			return false
		}
	}
	return true
}
