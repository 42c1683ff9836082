package commands

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/urfave/cli/v2"

	"github.com/kist-project/kist/pull"
	"github.com/kist-project/kist/rootfsimage"
)

func importCommand() *cli.Command {
	return &cli.Command{
		Name:      "import",
		Usage:     "create a one-layer image from a tarball of a root filesystem",
		ArgsUsage: "FILE|- [REFERENCE]",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "change", Aliases: []string{"c"}, Usage: "apply a Dockerfile instruction to the image config: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME or WORKDIR"},
			&cli.StringFlag{Name: "message", Aliases: []string{"m"}, Usage: "set the comment of the image's history entry"},
		},
		Action: inNamespace(userNamespace, stopOnSignal("import", importImage)),
	}
}

func importImage(c *cli.Context) error {
	if c.NArg() < 1 || c.NArg() > 2 {
		return fmt.Errorf("kist import takes a file and an optional reference, got %d arguments; usage: kist import FILE|- [REFERENCE]", c.NArg())
	}
	source := c.Args().Get(0)
	var ref pull.Reference
	if c.NArg() == 2 {
		var err error
		if ref, err = pull.ParseReference(c.Args().Get(1)); err != nil {
			return err
		}
		if _, tagged := ref.Remote.(name.Tag); !tagged {
			return fmt.Errorf("invalid reference %q for kist import: use NAME[:TAG]", c.Args().Get(1))
		}
	}

	st, err := openStore(c)
	if err != nil {
		return err
	}
	if err := st.Sweep(); err != nil {
		return err
	}
	in, err := openImportSource(source)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := st.TempDir("import")
	if err != nil {
		return err
	}
	defer tmp.Remove()

	message := c.String("message")
	if message == "" {
		message = "Imported from " + source
	}
	img, err := rootfsimage.Build(contextReader{c.Context, in}, tmp.Path, rootfsimage.Options{
		Changes:  c.StringSlice("change"),
		Message:  message,
		Platform: pull.HostPlatform(),
		Created:  time.Now(),
	})
	if err != nil {
		return fmt.Errorf("import %s: %w", source, err)
	}
	target := pull.Target{Action: "import", Display: source, Tag: ref.Name}
	if ref.Name != "" {
		target.Display = ref.Name + " from " + source
	}
	stored, err := pull.Add(c.Context, st, img, target, pull.Options{})
	if err != nil {
		return err
	}
	fmt.Fprintln(c.App.Writer, stored.ID)
	return nil
}

// openImportSource opens the tarball, or stdin for "-".
func openImportSource(source string) (io.ReadCloser, error) {
	if source == "-" {
		if isTerminal(os.Stdin) {
			return nil, fmt.Errorf("kist import - reads a tarball from stdin, which is a terminal; redirect stdin or name a file")
		}
		return io.NopCloser(os.Stdin), nil
	}
	f, err := os.Open(source)
	if errors.Is(err, fs.ErrNotExist) && isURL(source) {
		return nil, fmt.Errorf("import %s: kist import reads a file or stdin, not a URL; download it first, for example with curl -fsSL %s | kist import - NAME", source, source)
	}
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		f.Close()
		return nil, fmt.Errorf("import: %s is a directory; kist import needs a tarball, such as one written by tar -C %s -c . > rootfs.tar", source, source)
	}
	return f, nil
}

// isURL reports whether source starts like an HTTP URL, which docker
// import downloads.
func isURL(source string) bool {
	lower := strings.ToLower(source)
	return strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://")
}
