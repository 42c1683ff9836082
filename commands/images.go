package commands

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/kist-project/kist/store"
)

func imagesCommand() *cli.Command {
	return &cli.Command{
		Name:  "images",
		Usage: "list the images in the store",
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
