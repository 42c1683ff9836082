package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/kist-project/kist/archive"
	"github.com/kist-project/kist/pull"
	"github.com/kist-project/kist/store"
	"github.com/kist-project/kist/unpack"
)

func loadCommand() *cli.Command {
	return &cli.Command{
		Name:  "load",
		Usage: "copy the images of a docker-archive or oci-archive into the store",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "input", Aliases: []string{"i"}, Usage: "read the archive from this file instead of stdin"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "accepted for docker compatibility; kist load prints no progress either way"},
		},
		Action: inNamespace(userNamespace, stopOnSignal("load", loadImages)),
	}
}

func loadImages(c *cli.Context) error {
	if c.NArg() > 0 {
		return fmt.Errorf("kist load takes no arguments, got %q; use -i FILE or stdin", c.Args().First())
	}
	st, err := openStore(c)
	if err != nil {
		return err
	}
	if err := st.Sweep(); err != nil {
		return err
	}
	input := c.String("input")
	a, cleanup, err := openLoadInput(c.Context, st, input)
	if err != nil {
		return err
	}
	defer cleanup()

	entries, err := a.Images(pull.HostPlatform())
	if err != nil {
		return err
	}
	if input == "" {
		input = "stdin"
	}
	for _, e := range entries {
		if err := loadEntry(c, st, e, input); err != nil {
			return err
		}
	}
	return nil
}

// loadEntry adds one image of an archive with all its names, through the
// same verifying path as a pull.
func loadEntry(c *cli.Context, st *store.Store, e archive.Entry, input string) error {
	target := pull.Target{Action: "load", Display: "image from " + input}
	if len(e.Names) > 0 {
		target.Display, target.Tag = e.Names[0]+" from "+input, e.Names[0]
	}
	img, err := pull.Add(c.Context, st, e.Image, target, pull.Options{})
	if err != nil {
		return err
	}
	for _, name := range e.Names[min(1, len(e.Names)):] {
		if err := st.TagImage(img.ID.String(), name); err != nil {
			return err
		}
	}

	if len(e.Names) == 0 {
		fmt.Fprintf(c.App.Writer, "Loaded image ID: %s\n", img.ID)
	}
	for _, name := range e.Names {
		fmt.Fprintf(c.App.Writer, "Loaded image: %s\n", name)
	}
	return nil
}

// openLoadInput opens the archive in file, or on stdin when file is "".
// A stream or a compressed archive is first copied, decompressed, into
// the store's tmp/, because the archive reader needs random access. The
// copy stops when ctx is done.
func openLoadInput(ctx context.Context, st *store.Store, file string) (*archive.Archive, func(), error) {
	name, in := file, os.Stdin
	if file == "" {
		if isTerminal(os.Stdin) {
			return nil, nil, errors.New("kist load reads an archive from stdin, which is a terminal; use -i FILE or redirect stdin")
		}
		name = "stdin"
	} else {
		f, err := os.Open(file)
		if err != nil {
			return nil, nil, fmt.Errorf("open archive: %w", err)
		}
		in = f
	}

	a, err := archive.OpenFile(in, name)
	if err == nil {
		return a, func() { a.Close() }, nil
	}
	if !errors.Is(err, archive.ErrNotRegular) && !errors.Is(err, archive.ErrCompressed) {
		in.Close()
		return nil, nil, err
	}
	// OpenFile has read nothing of a stream, and it rewinds a compressed
	// file after looking at its first bytes.
	defer in.Close()
	return spoolArchive(st, contextReader{ctx, in}, name)
}

// spoolArchive copies the archive in r, decompressing it, into a file in
// the store's tmp/ and opens that file.
func spoolArchive(st *store.Store, r io.Reader, name string) (*archive.Archive, func(), error) {
	tmp, err := st.TempDir("load")
	if err != nil {
		return nil, nil, err
	}
	f, err := copyDecompressed(filepath.Join(tmp.Path, "archive.tar"), r)
	if err != nil {
		_ = tmp.Remove()
		return nil, nil, fmt.Errorf("read archive from %s: %w", name, err)
	}
	a, err := archive.OpenFile(f, name)
	if err != nil {
		f.Close()
		_ = tmp.Remove()
		return nil, nil, err
	}
	return a, func() { a.Close(); _ = tmp.Remove() }, nil
}

// copyDecompressed writes r, decompressed if it is gzip or zstd, to a new
// file at path and returns the file, rewound.
func copyDecompressed(path string, r io.Reader) (*os.File, error) {
	plain, err := unpack.Decompress(r)
	if err != nil {
		return nil, err
	}
	defer plain.Close()
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(f, plain); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
