package commands

import (
	"errors"
	"fmt"
	"os"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	"github.com/kist-project/kist/container"
	"github.com/kist-project/kist/pull"
	"github.com/kist-project/kist/store"
)

func pullCommand() *cli.Command {
	return &cli.Command{
		Name:      "pull",
		Usage:     "copy an image from a registry into the store",
		ArgsUsage: "IMAGE",
		Flags:     pullFlags(),
		Action: inNamespace(userNamespace, func(c *cli.Context) error {
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
		}),
	}
}

// pullFlags are shared by pull and run.
func pullFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{
			Name:  "platform",
			Usage: "pull the image for this platform, as os/arch[/variant] (default: the host's)",
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
		return st.LookupImage(ref.Name)
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
		match, err := matchesPlatform(c, st, img)
		if err != nil {
			return store.Image{}, err
		}
		if match || policy == "never" {
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

// platformFlag parses --platform: os/arch[/variant], or os alone for the
// host's architecture. It returns nil when the flag is not set.
func platformFlag(c *cli.Context) (*v1.Platform, error) {
	return parsePlatform(c.String("platform"))
}

func parsePlatform(value string) (*v1.Platform, error) {
	if value == "" {
		return nil, nil
	}
	parts := strings.Split(value, "/")
	if len(parts) == 1 && parts[0] != "" {
		host := pull.HostPlatform()
		host.OS = parts[0]
		return &host, nil
	}
	if len(parts) > 3 || parts[0] == "" || parts[1] == "" || (len(parts) == 3 && parts[2] == "") {
		return nil, fmt.Errorf("invalid --platform %q: use os/arch[/variant], such as linux/arm64", value)
	}
	p := &v1.Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	return p, nil
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
	got := v1.Platform{OS: config.OS, Architecture: config.Architecture, Variant: config.Variant}
	return got.Satisfies(*want), nil
}
