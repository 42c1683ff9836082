package commands

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/kist-project/kist/pull"
	"github.com/kist-project/kist/store"
)

func imagesCommand() *cli.Command {
	return &cli.Command{
		Name:      "images",
		Usage:     "list the images in the store",
		ArgsUsage: "[REPOSITORY[:TAG]]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print image IDs only"},
			&cli.StringFlag{Name: "format", Usage: "output format: table or json"},
		},
		Action: listImages,
	}
}

// imageJSON is one image in the --format json output; the field names
// follow docker's and podman's.
type imageJSON struct {
	ID          string    `json:"Id"`
	RepoTags    []string  `json:"RepoTags"`
	RepoDigests []string  `json:"RepoDigests"`
	Created     time.Time `json:"Created"`
	Size        int64     `json:"Size"`
}

func listImages(c *cli.Context) error {
	if err := checkFormat(c.String("format")); err != nil {
		return err
	}
	st, err := openStore(c)
	if err != nil {
		return err
	}
	images, err := st.Images()
	if err != nil {
		return err
	}
	if c.NArg() > 1 {
		return fmt.Errorf("kist images takes at most one REPOSITORY[:TAG], got %d arguments", c.NArg())
	}
	if c.NArg() == 1 {
		match, err := repositoryFilter(c.Args().First())
		if err != nil {
			return err
		}
		images = filterNames(images, match)
	}

	out := c.App.Writer
	switch {
	case c.String("format") == "json":
		list := make([]imageJSON, 0, len(images))
		for _, img := range images {
			list = append(list, imageJSON{
				ID: img.ID.String(), RepoTags: nonNil(img.Names), RepoDigests: nonNil(img.Digests),
				Created: img.Created, Size: img.Size,
			})
		}
		return writeJSON(out, list)
	case c.Bool("quiet"):
		for _, img := range images {
			fmt.Fprintln(out, img.ID.Hex[:12])
		}
		return nil
	}

	w := tabwriter.NewWriter(out, 0, 8, 3, ' ', 0)
	fmt.Fprintln(w, "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE")
	now := time.Now()
	for _, img := range images {
		for _, name := range namesOrNone(img) {
			repo, tag := splitName(name)
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", repo, tag, img.ID.Hex[:12], humanAgo(img.Created, now), humanSize(img.Size))
		}
	}
	return w.Flush()
}

// repositoryFilter returns a test of image names for kist images
// REPOSITORY[:TAG]: without a tag, every tag of the repository matches.
func repositoryFilter(arg string) (func(string) bool, error) {
	ref, err := pull.ParseReference(arg)
	if err != nil || ref.Remote == nil {
		return nil, fmt.Errorf("invalid repository %q: use REPOSITORY[:TAG], such as busybox or docker.io/library/busybox:latest", arg)
	}
	if _, tag := splitName(arg); tag != "<none>" {
		return func(name string) bool { return name == ref.Name }, nil
	}
	repo, _ := splitName(ref.Name)
	return func(name string) bool {
		r, _ := splitName(name)
		return r == repo
	}, nil
}

// filterNames keeps the images with a name that match accepts, and of
// those names only the matching ones.
func filterNames(images []store.Image, match func(string) bool) []store.Image {
	var matched []store.Image
	for _, img := range images {
		var names []string
		for _, n := range img.Names {
			if match(n) {
				names = append(names, n)
			}
		}
		if len(names) > 0 {
			img.Names = names
			matched = append(matched, img)
		}
	}
	return matched
}

func namesOrNone(img store.Image) []string {
	if len(img.Names) == 0 {
		return []string{""}
	}
	return img.Names
}

// splitName splits registry/repository:tag at the tag's colon; a name
// without a tag, or none at all, shows <none> as docker does.
func splitName(name string) (repo, tag string) {
	if name == "" {
		return "<none>", "<none>"
	}
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		return name[:i], name[i+1:]
	}
	return name, "<none>"
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
