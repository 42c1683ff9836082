package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/kist-project/kist/archive"
	"github.com/kist-project/kist/store"
	"github.com/kist-project/kist/stored"
)

func saveCommand() *cli.Command {
	return &cli.Command{
		Name:      "save",
		Usage:     "write images to an archive file or OCI layout directory",
		ArgsUsage: "IMAGE [IMAGE...]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to this file (a directory for oci-dir) instead of stdout"},
			&cli.StringFlag{Name: "format", Usage: "archive format: docker-archive, oci-archive or oci-dir", Value: string(archive.DockerArchive)},
		},
		Action: saveImages,
	}
}

func saveImages(c *cli.Context) error {
	if c.NArg() == 0 {
		return errors.New("kist save needs at least one image; usage: kist save [-o FILE] IMAGE [IMAGE...]")
	}
	format := archive.Format(c.String("format"))
	output := c.String("output")
	switch format {
	case archive.DockerArchive, archive.OCIArchive:
	case archive.OCIDir:
		if output == "" {
			return errors.New("kist save --format oci-dir needs -o DIRECTORY")
		}
	default:
		return fmt.Errorf("invalid --format %q: use docker-archive, oci-archive or oci-dir", format)
	}
	if output == "" && isTerminal(os.Stdout) {
		return errors.New("kist save will not write an archive to a terminal; use -o FILE or redirect stdout")
	}

	st, err := openStore(c)
	if err != nil {
		return err
	}
	// Garbage collection must not remove a blob while it is written out.
	hold, err := st.UseLayers()
	if err != nil {
		return err
	}
	defer hold.Unlock()

	manifestType := types.MediaType("")
	if format != archive.DockerArchive {
		manifestType = types.OCIManifestSchema1
	}
	entries, err := savedEntries(st, c.Args().Slice(), manifestType)
	if err != nil {
		return err
	}

	if format == archive.OCIDir {
		// NOTE: an oci-dir save does not catch SIGINT or SIGTERM, so
		// either ends kist at once and leaves the hidden temporary
		// directory that WriteOCIDir renames into place when it finishes.
		return archive.WriteOCIDir(output, entries)
	}
	return interruptible(c, "save", func(ctx context.Context) error {
		return writeArchive(ctx, c, st, output, func(w io.Writer, tmp string) error {
			if format == archive.OCIArchive {
				return archive.WriteOCIArchive(w, entries)
			}
			return archive.WriteDocker(w, entries, tmp)
		})
	})
}

// savedEntries looks up each argument. An image named by name keeps that
// name in the archive, and one named by ID is saved untagged.
func savedEntries(st *store.Store, args []string, manifestType types.MediaType) ([]archive.Entry, error) {
	var entries []archive.Entry
	seen := map[v1.Hash]int{}
	for _, arg := range args {
		rec, err := st.LookupImage(imageKey(arg))
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("no such image %q; list images with kist images", arg)
		}
		if err != nil {
			return nil, err
		}
		var names []string
		if !looksLikeID(arg) {
			names = []string{imageKey(arg)}
		}
		// One image named twice is one entry with both names.
		if i, ok := seen[rec.ID]; ok {
			entries[i].Names = append(entries[i].Names, names...)
			continue
		}
		img, err := stored.Image(st, rec, manifestType)
		if err != nil {
			return nil, err
		}
		seen[rec.ID] = len(entries)
		entries = append(entries, archive.Entry{Image: img, Names: names})
	}
	return entries, nil
}

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
