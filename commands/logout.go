package commands

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/kist-project/kist/auth"
)

// logoutCommand, like login, runs without a user namespace.
func logoutCommand() *cli.Command {
	return &cli.Command{
		Name:      "logout",
		Usage:     "remove the saved credentials for a registry",
		ArgsUsage: "REGISTRY",
		Flags: []cli.Flag{
			authFileFlag(),
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "remove the credentials for every registry"},
		},
		Action: logout,
	}
}

func logout(c *cli.Context) error {
	authFile := c.String("authfile")
	if c.Bool("all") {
		if c.NArg() != 0 {
			return errors.New("kist logout --all takes no registry; usage: kist logout --all")
		}
		if _, err := auth.EraseAll(authFile); err != nil {
			return err
		}
		fmt.Fprintln(c.App.Writer, "Removed login credentials for all registries")
		return nil
	}

	if c.NArg() != 1 {
		return fmt.Errorf("kist logout takes one registry, got %d arguments; usage: kist logout REGISTRY or kist logout --all", c.NArg())
	}
	registry, err := auth.Registry(c.Args().First())
	if err != nil {
		return err
	}
	removed, err := auth.Erase(registry, authFile)
	if err != nil {
		return fmt.Errorf("remove credentials for %s: %w", registry, err)
	}
	if len(removed) == 0 {
		return fmt.Errorf("not logged in to %s", registry)
	}
	fmt.Fprintf(c.App.Writer, "Removed login credentials for %s\n", registry)
	return nil
}
