package commands

import (
	"encoding/json"
	"fmt"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	"github.com/kist-project/kist/container"
	"github.com/kist-project/kist/oci"
	"github.com/kist-project/kist/platforms"
	"github.com/kist-project/kist/pull"
	"github.com/kist-project/kist/store"
)

func runCommand() *cli.Command {
	flags := []cli.Flag{
		&cli.BoolFlag{Name: "rm", Usage: "remove the container when it exits"},
		&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "connect kist's standard input to the container"},
		&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "set an environment variable, as NAME=VALUE, or NAME to copy it from kist's environment"},
		&cli.StringFlag{Name: "workdir", Aliases: []string{"w"}, Usage: "working directory inside the container (absolute path)"},
		&cli.StringFlag{Name: "entrypoint", Usage: "replace the image's entrypoint with this executable"},
		&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "run as this user: name, uid, name:group or uid:gid"},
		&cli.StringFlag{Name: "network", Aliases: []string{"net"}, Value: oci.NetworkHost,
			Usage: "network mode: host shares kist's network, none gives the container only a loopback interface"},
		&cli.StringFlag{Name: "pull", Value: "missing", Usage: "pull the image: missing, always or never"},
	}
	return &cli.Command{
		Name:                   "run",
		Usage:                  "run a command in a new container",
		ArgsUsage:              "IMAGE [COMMAND [ARG...]]",
		Flags:                  append(flags, pullFlags()...),
		UseShortOptionHandling: true,
		Action:                 inNamespace(mountNamespace, runContainer),
	}
}

func runContainer(c *cli.Context) error {
	if c.NArg() < 1 {
		return fmt.Errorf("kist run needs an image; usage: kist run [OPTIONS] IMAGE [COMMAND [ARG...]]")
	}
	network := c.String("network")
	if network != oci.NetworkHost && network != oci.NetworkNone {
		// TODO: an isolated network with port publishing, through
		// rootlesskit's in-process network driver.
		return fmt.Errorf("invalid --network %q: use host or none", network)
	}
	st, err := openStore(c)
	if err != nil {
		return err
	}
	ref, err := runReference(st, c.Args().First())
	if err != nil {
		return err
	}

	// Keep garbage collection away until the container has recorded the
	// layers it uses.
	hold, err := st.UseLayers()
	if err != nil {
		return err
	}
	defer hold.Unlock()
	// A pull stops on SIGINT or SIGTERM as kist pull does. Once the
	// container starts, kist relays those signals to it instead.
	var img store.Image
	err = stopOnSignal("run", func(c *cli.Context) error {
		var err error
		img, err = findOrPullImage(c, st, ref, c.String("pull"))
		return err
	})(c)
	if err != nil {
		return err
	}
	config, err := readConfig(st, img)
	if err != nil {
		return err
	}
	if !c.IsSet("platform") {
		warnForeignPlatform(ref.Name, config)
	}

	opts := container.RunOptions{
		ImageName: ref.Name,
		Image:     img,
		Config:    config,
		Args:      c.Args().Tail(),
		Env:       c.StringSlice("env"),
		Workdir:   c.String("workdir"),
		User:      c.String("user"),
		Network:   network,
		Remove:    c.Bool("rm"),
		Stdout:    os.Stdout,
		Stderr:    os.Stderr,
	}
	if c.IsSet("entrypoint") {
		ep := c.String("entrypoint")
		opts.Entrypoint = &ep
	}
	if c.Bool("interactive") {
		opts.Stdin = os.Stdin
	}

	// Once the container's record names its layers, garbage collection
	// keeps them without the hold, and rmi or prune need not wait for
	// the container to end.
	opts.OnCreate = hold.Unlock
	status, err := container.Run(c.Context, st, opts)
	if err != nil {
		return err
	}
	if status != 0 {
		return StatusError(status)
	}
	return nil
}

// readConfig loads an image's config blob from the store.
func readConfig(st *store.Store, img store.Image) (*v1.ConfigFile, error) {
	data, err := st.ReadBlob(img.ID)
	if err != nil {
		return nil, fmt.Errorf("read config of image %s: %w; pull the image again", img.ID.Hex[:12], err)
	}
	var config v1.ConfigFile
	if err := json.Unmarshal(data, &config); err != nil {
		return nil, fmt.Errorf("read config of image %s: %w", img.ID.Hex[:12], err)
	}
	return &config, nil
}

// warnForeignPlatform warns, as docker does, when no --platform was
// given and the image is for another platform than the host's, because
// its programs may then fail with "exec format error".
func warnForeignPlatform(refName string, config *v1.ConfigFile) {
	image := configPlatform(config)
	if image.OS == "" || image.Architecture == "" {
		return
	}
	host := platforms.Host()
	if !platforms.Match(host, image) {
		logrus.Warnf("the platform of image %s (%s) does not match the host platform (%s) and no --platform was given",
			refName, platforms.Format(image), platforms.Format(host))
	}
}

// runReference parses the image argument of run. An image ID or unique ID
// prefix of a stored image names that image, as in docker.
func runReference(st *store.Store, arg string) (pull.Reference, error) {
	if looksLikeID(arg) {
		if img, err := st.LookupImage(arg); err == nil {
			return pull.Reference{Name: img.ID.String()}, nil
		}
	}
	return pull.ParseReference(arg)
}
