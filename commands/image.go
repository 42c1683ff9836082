package commands

import (
	"errors"
	"fmt"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/urfave/cli/v2"

	"github.com/kist-project/kist/pull"
	"github.com/kist-project/kist/store"
)

func imageCommand() *cli.Command {
	ls := imagesCommand()
	ls.Name = "ls"
	ls.Aliases = []string{"list"}
	return &cli.Command{
		Name:  "image",
		Usage: "manage images",
		Subcommands: []*cli.Command{
			ls,
			rmiCommand("rm"),
			tagCommand(),
			inspectImageCommand(),
			pruneImagesCommand(),
		},
	}
}

func tagCommand() *cli.Command {
	return &cli.Command{
		Name:      "tag",
		Usage:     "give an image another name",
		ArgsUsage: "IMAGE NAME",
		Action: func(c *cli.Context) error {
			if c.NArg() != 2 {
				return fmt.Errorf("kist tag takes an image and a new name, got %d arguments", c.NArg())
			}
			st, err := openStore(c)
			if err != nil {
				return err
			}
			target, err := tagName(c.Args().Get(1))
			if err != nil {
				return err
			}
			err = st.TagImage(imageKey(c.Args().First()), target)
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("no such image %q; list images with kist images", c.Args().First())
			}
			return err
		},
	}
}

// tagName checks a new image name as docker tag does and returns its
// canonical form.
func tagName(arg string) (string, error) {
	if looksLikeID(arg) {
		return "", fmt.Errorf("invalid name %q: it looks like an image ID; use NAME[:TAG]", arg)
	}
	ref, err := pull.ParseReference(arg)
	if err != nil {
		return "", err
	}
	if _, ok := ref.Remote.(name.Tag); !ok {
		return "", fmt.Errorf("invalid name %q: a new name must be NAME[:TAG], such as registry.example.com/team/app:1.0", arg)
	}
	return ref.Name, nil
}

func inspectImageCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "print images' details as JSON",
		ArgsUsage: "IMAGE [IMAGE...]",
		Action:    inspectImages,
	}
}

// imageInspect is one image in kist image inspect, with docker's field
// names.
type imageInspect struct {
	ID           string         `json:"Id"`
	RepoTags     []string       `json:"RepoTags"`
	RepoDigests  []string       `json:"RepoDigests"`
	Created      time.Time      `json:"Created"`
	Architecture string         `json:"Architecture"`
	Variant      string         `json:"Variant,omitempty"`
	Os           string         `json:"Os"`
	Author       string         `json:"Author,omitempty"`
	Config       v1.Config      `json:"Config"`
	Size         int64          `json:"Size"`
	RootFS       inspectRootFS  `json:"RootFS"`
	Metadata     map[string]any `json:"Metadata,omitempty"`
}

type inspectRootFS struct {
	Type   string   `json:"Type"`
	Layers []string `json:"Layers"`
}

func inspectImages(c *cli.Context) error {
	if c.NArg() == 0 {
		return fmt.Errorf("kist image inspect needs at least one image")
	}
	st, err := openStore(c)
	if err != nil {
		return err
	}

	list := []imageInspect{}
	var errs []error
	for _, arg := range c.Args().Slice() {
		img, err := st.LookupImage(imageKey(arg))
		if errors.Is(err, store.ErrNotFound) {
			errs = append(errs, fmt.Errorf("no such image %q; list images with kist images", arg))
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		config, err := readConfig(st, img)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		list = append(list, describeImage(img, config))
	}
	if err := writeJSON(c.App.Writer, list); err != nil {
		return err
	}
	return errors.Join(errs...)
}

func describeImage(img store.Image, config *v1.ConfigFile) imageInspect {
	layers := make([]string, 0, len(img.Layers))
	for _, l := range img.Layers {
		layers = append(layers, l.String())
	}
	return imageInspect{
		ID: img.ID.String(), RepoTags: nonNil(img.Names), RepoDigests: nonNil(img.Digests),
		Created: img.Created, Architecture: config.Architecture, Variant: config.Variant, Os: config.OS,
		Author: config.Author, Config: config.Config, Size: img.Size,
		RootFS: inspectRootFS{Type: "layers", Layers: layers},
	}
}
