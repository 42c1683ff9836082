package commands

import (
	"errors"
	"fmt"
	"os"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/urfave/cli/v2"

	"github.com/kist-project/kist/blobimage"
	"github.com/kist-project/kist/pull"
	"github.com/kist-project/kist/store"
	"github.com/kist-project/kist/stored"
)

func pushCommand() *cli.Command {
	return &cli.Command{
		Name:      "push",
		Usage:     "copy an image from the store to a registry",
		ArgsUsage: "IMAGE [DESTINATION]",
		Flags: []cli.Flag{
			&cli.BoolFlag{
				Name:  "tls-verify",
				Usage: "verify the registry's TLS certificate, and use plain HTTP only for localhost (false: allow both for any registry)",
				Value: true,
			},
			authFileFlag(),
			certDirFlag(),
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print no progress"},
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "manifest format: oci or v2s2 (default: the image's own)"},
			&cli.StringFlag{
				Name:  "compression-format",
				Usage: "compress layers stored as plain tar with gzip or zstd; a zstd layer makes the manifest OCI unless --format is set",
				Value: "gzip",
			},
			&cli.BoolFlag{
				Name:        "force-compression",
				Usage:       "also recompress layers stored in another compression than --compression-format",
				DefaultText: "true if --compression-format is set",
			},
		},
		Action: stopOnSignal("push", pushImage),
	}
}

func pushImage(c *cli.Context) error {
	if c.NArg() < 1 || c.NArg() > 2 {
		return fmt.Errorf("kist push takes an image and an optional destination, got %d arguments; usage: kist push IMAGE [DESTINATION]", c.NArg())
	}
	var format types.MediaType
	switch c.String("format") {
	case "":
	case "oci":
		format = types.OCIManifestSchema1
	case "v2s2":
		format = types.DockerManifestSchema2
	default:
		return fmt.Errorf("invalid --format %q: use oci or v2s2", c.String("format"))
	}
	compression, err := pushCompression(c)
	if err != nil {
		return err
	}
	if compression.Compression == "zstd" && format == types.DockerManifestSchema2 {
		return fmt.Errorf("--compression-format zstd needs an OCI manifest, but --format is v2s2; use --format oci or leave --format unset")
	}
	source := c.Args().Get(0)
	destination := c.Args().Get(1)
	if destination == "" && looksLikeID(source) {
		return fmt.Errorf("%s is an image ID, which names no repository; usage: kist push IMAGE REGISTRY/REPOSITORY[:TAG]", source)
	}
	if destination == "" {
		destination = source
	}
	ref, err := name.ParseReference(destination)
	if err != nil {
		return fmt.Errorf("invalid destination %q: %w; use REGISTRY/REPOSITORY[:TAG]", destination, err)
	}
	insecure := !c.Bool("tls-verify")
	if !insecure {
		if insecure, err = pull.PushInsecure(ref); err != nil {
			return err
		}
	}
	if insecure {
		// Lets go-containerregistry fall back to plain HTTP for any host.
		if ref, err = name.ParseReference(destination, name.Insecure); err != nil {
			return fmt.Errorf("invalid destination %q: %w; use REGISTRY/REPOSITORY[:TAG]", destination, err)
		}
	}

	st, err := openStore(c)
	if err != nil {
		return err
	}
	hold, err := st.UseLayers()
	if err != nil {
		return err
	}
	defer hold.Unlock()
	rec, err := st.LookupImage(imageKey(source))
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no such image %q; list images with kist images", source)
	}
	if err != nil {
		return err
	}
	if !c.Bool("quiet") {
		fmt.Fprintf(os.Stderr, "Pushing %s to %s\n", source, ref.Name())
		compression.OnCompress = func(diffID v1.Hash, c blobimage.Compression) {
			fmt.Fprintf(os.Stderr, "Compressing layer %s with %s\n", diffID.Hex[:12], c)
		}
	}
	compression.Format = format
	img, err := stored.PushImage(st, rec, compression)
	if err != nil {
		return err
	}

	opts := pull.RemoteOptions(c.Context, pull.Options{
		Insecure: insecure,
		CertDir:  c.String("cert-dir"),
		AuthFile: c.String("authfile"),
	})
	if err := remote.Write(ref, img, opts...); err != nil {
		return pull.PushError(source, ref, err)
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "%s@%s\n", ref.Context().Name(), digest)
	return nil
}

// pushCompression reads --compression-format and --force-compression.
// As in podman, setting --compression-format turns --force-compression
// on unless it is given too.
func pushCompression(c *cli.Context) (stored.PushOptions, error) {
	opts := stored.PushOptions{
		Compression:      blobimage.Compression(c.String("compression-format")),
		ForceCompression: c.IsSet("compression-format"),
	}
	if c.IsSet("force-compression") {
		opts.ForceCompression = c.Bool("force-compression")
	}
	switch opts.Compression {
	case "gzip", "zstd":
		return opts, nil
	}
	return opts, fmt.Errorf("invalid --compression-format %q: use gzip or zstd", opts.Compression)
}
