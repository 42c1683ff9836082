package commands

import (
	"errors"
	"fmt"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	"github.com/kist-project/kist/container"
	"github.com/kist-project/kist/platforms"
	"github.com/kist-project/kist/pull"
	"github.com/kist-project/kist/store"
)

func pullCommand() *cli.Command {
	return &cli.Command{
		Name:      "pull",
		Usage:     "copy an image from a registry into the store",
		ArgsUsage: "IMAGE",
		Flags:     pullFlags(),
		Action: inNamespace(userNamespace, stopOnSignal("pull", func(c *cli.Context) error {
			if c.NArg() != 1 {
				return fmt.Errorf("kist pull takes one image reference, got %d arguments; usage: kist pull IMAGE", c.NArg())
			}
			st, err := openStore(c)
			if err != nil {
				return err
			}
			ref, err := pull.ParseReference(c.Args().First())
			if err != nil {
				return err
			}
			img, err := pullImage(c, st, ref)
			if err != nil {
				return err
			}
			fmt.Fprintln(c.App.Writer, img.ID)
			return nil
		})),
	}
}

// pullFlags are shared by pull and run.
func pullFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{
			Name:  "platform",
			Usage: "pull the image for this platform, as os/arch[/variant], os or arch (default: the host's)",
		},
		&cli.BoolFlag{
			Name:  "tls-verify",
			Usage: "verify the registry's TLS certificate, and use plain HTTP only for localhost (false: allow both for any registry)",
			Value: true,
		},
		&cli.BoolFlag{
			Name:    "quiet",
			Aliases: []string{"q"},
			Usage:   "print no pull progress",
		},
		authFileFlag(),
		certDirFlag(),
	}
}

// pullImage pulls ref into st, printing its progress on stderr.
func pullImage(c *cli.Context, st *store.Store, ref pull.Reference) (store.Image, error) {
	if err := st.Sweep(); err != nil {
		return store.Image{}, err
	}
	opts := pull.Options{
		Insecure: !c.Bool("tls-verify"),
		CertDir:  c.String("cert-dir"),
		AuthFile: c.String("authfile"),
	}
	platform, err := platformFlag(c)
	if err != nil {
		return store.Image{}, err
	}
	if platform != nil {
		opts.Platform, opts.RequirePlatform = *platform, true
	}
	if !c.Bool("quiet") {
		setProgress(&opts, os.Stderr, terminalWidth(os.Stderr.Fd()), ref.Name)
	}
	img, err := pull.Image(c.Context, st, ref, opts)
	if err != nil {
		return store.Image{}, err
	}
	warnLayerCount(st, ref.Name, img)
	return img, nil
}

// warnLayerCount warns that img cannot run because it has more layers
// than overlayfs stacks. The pull still succeeds, so that save and push
// can copy the image.
func warnLayerCount(st *store.Store, name string, img store.Image) {
	count, err := container.LowerLayerCount(st, img)
	if err != nil {
		logrus.Debugf("count layers of %s: %v", name, err)
		return
	}
	if count > container.MaxLowerLayers {
		logrus.Warnf("image %s has %d layers, more than the %d that overlayfs stacks, so kist cannot run it; "+
			"rebuild it with fewer layers, for example by squashing it", name, count, container.MaxLowerLayers)
	}
}

// findOrPullImage returns the stored image that ref names. The policy
// decides when to pull it first: "missing" (the default), "always" or
// "never".
func findOrPullImage(c *cli.Context, st *store.Store, ref pull.Reference, policy string) (store.Image, error) {
	if ref.Remote == nil && ref.LayoutPath == "" && ref.ArchivePath == "" {
		// An image ID: there is nowhere to pull it from.
		img, err := st.LookupImage(ref.Name)
		if err != nil {
			return store.Image{}, err
		}
		if err := checkStoredPlatform(c, st, ref.Name, img); err != nil {
			return store.Image{}, err
		}
		return img, nil
	}
	switch policy {
	case "always":
		return pullImage(c, st, ref)
	case "missing", "":
	case "never":
	default:
		return store.Image{}, fmt.Errorf("invalid --pull %q: use missing, always or never", policy)
	}

	if ref.LayoutPath != "" || ref.ArchivePath != "" {
		// The name of a layout image only echoes its directory, so the
		// stored image under that name may come from another layout or
		// an older build. Reading index.json again is cheap. An archive
		// costs at most one pass over its compressed layer files.
		return pullImage(c, st, ref)
	}
	img, err := st.LookupImage(ref.Name)
	if err == nil {
		if policy == "never" {
			if err := checkStoredPlatform(c, st, ref.Name, img); err != nil {
				return store.Image{}, err
			}
			return img, nil
		}
		match, err := matchesPlatform(c, st, img)
		if err != nil {
			return store.Image{}, err
		}
		if match {
			return img, nil
		}
		return pullImage(c, st, ref)
	}
	if !errors.Is(err, store.ErrNotFound) {
		return store.Image{}, err
	}
	if policy == "never" {
		return store.Image{}, fmt.Errorf("image %s is not in the store and --pull=never forbids pulling it; run kist pull %s first", ref.Name, ref.Name)
	}
	return pullImage(c, st, ref)
}

// platformFlag parses --platform as platforms.Parse does. It returns
// nil when the flag is not set.
func platformFlag(c *cli.Context) (*v1.Platform, error) {
	return parsePlatform(c.String("platform"))
}

func parsePlatform(value string) (*v1.Platform, error) {
	if value == "" {
		return nil, nil
	}
	p, err := platforms.Parse(value)
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// checkStoredPlatform rejects, in docker's words, a stored image that is
// not for the platform that --platform names. Without the flag any image
// passes.
func checkStoredPlatform(c *cli.Context, st *store.Store, ref string, img store.Image) error {
	match, err := matchesPlatform(c, st, img)
	if err != nil || match {
		return err
	}
	want, _ := platformFlag(c)
	config, err := readConfig(st, img)
	if err != nil {
		return err
	}
	return fmt.Errorf("image %s was found but does not match the specified platform: wanted %s, actual: %s; "+
		"run with --pull missing to pull the image for %s",
		ref, platforms.Format(*want), platforms.Format(configPlatform(config)), platforms.Format(*want))
}

// matchesPlatform reports whether a stored image was built for the
// platform that --platform names; without the flag any image matches.
func matchesPlatform(c *cli.Context, st *store.Store, img store.Image) (bool, error) {
	want, err := platformFlag(c)
	if err != nil || want == nil {
		return err == nil, err
	}
	config, err := readConfig(st, img)
	if err != nil {
		return false, err
	}
	return platforms.Match(*want, configPlatform(config)), nil
}

// configPlatform returns the platform that an image config names.
func configPlatform(config *v1.ConfigFile) v1.Platform {
	return v1.Platform{OS: config.OS, Architecture: config.Architecture, Variant: config.Variant}
}
